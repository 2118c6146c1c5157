//! The SIM card: its PIN/PUK counters and its SMS storage. Both survive a power cycle or an
//! unplug, exactly like the card in a real USB stick.

use std::collections::BTreeMap;

/// `<stat>` of a stored message in PDU mode (3GPP TS 27.005 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageStatus {
    ReceivedUnread = 0,
    ReceivedRead = 1,
    StoredUnsent = 2,
    StoredSent = 3,
}

impl MessageStatus {
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u32) -> Option<MessageStatus> {
        match code {
            0 => Some(MessageStatus::ReceivedUnread),
            1 => Some(MessageStatus::ReceivedRead),
            2 => Some(MessageStatus::StoredUnsent),
            3 => Some(MessageStatus::StoredSent),
            _ => None,
        }
    }
}

/// A message in a SIM slot. `pdu` is what `+CMGR` prints: the SMSC address then the TPDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub index: u16,
    pub status: MessageStatus,
    pub pdu: Vec<u8>,
}

impl StoredMessage {
    /// `<length>` of `+CMGL`/`+CMGR`: the TPDU's octets, without the SMSC address.
    pub fn tpdu_len(&self) -> usize {
        tpdu_len(&self.pdu).unwrap_or(0)
    }
}

/// Octets after the SMSC address of an on-the-wire PDU, if its first octet is consistent.
pub(crate) fn tpdu_len(pdu: &[u8]) -> Option<usize> {
    let sca = usize::from(*pdu.first()?);
    pdu.len().checked_sub(1 + sca).filter(|n| *n > 0)
}

/// SMS storage "SM" with a fixed number of slots.
#[derive(Debug, Clone)]
pub(crate) struct Storage {
    first_index: u16,
    capacity: u16,
    slots: BTreeMap<u16, (MessageStatus, Vec<u8>)>,
}

impl Storage {
    pub(crate) fn new(first_index: u16, capacity: u16) -> Storage {
        Storage {
            first_index,
            capacity,
            slots: BTreeMap::new(),
        }
    }

    pub(crate) fn capacity(&self) -> u16 {
        self.capacity
    }

    pub(crate) fn used(&self) -> u16 {
        self.slots.len() as u16
    }

    pub(crate) fn in_range(&self, index: u32) -> bool {
        let first = u32::from(self.first_index);
        index >= first && index < first + u32::from(self.capacity)
    }

    /// Stores in the lowest free slot; `None` when full.
    pub(crate) fn insert(&mut self, status: MessageStatus, pdu: Vec<u8>) -> Option<u16> {
        let index = (self.first_index..self.first_index + self.capacity)
            .find(|i| !self.slots.contains_key(i))?;
        self.slots.insert(index, (status, pdu));
        Some(index)
    }

    pub(crate) fn get(&self, index: u16) -> Option<StoredMessage> {
        self.slots.get(&index).map(|(status, pdu)| StoredMessage {
            index,
            status: *status,
            pdu: pdu.clone(),
        })
    }

    pub(crate) fn set_status(&mut self, index: u16, status: MessageStatus) {
        if let Some(slot) = self.slots.get_mut(&index) {
            slot.0 = status;
        }
    }

    pub(crate) fn remove(&mut self, index: u16) -> bool {
        self.slots.remove(&index).is_some()
    }

    /// Removes every message `doomed` selects (`+CMGD` delete flags); returns how many.
    pub(crate) fn remove_where(&mut self, doomed: impl Fn(MessageStatus) -> bool) -> usize {
        let before = self.slots.len();
        self.slots.retain(|_, (status, _)| !doomed(*status));
        before - self.slots.len()
    }

    pub(crate) fn all(&self) -> Vec<StoredMessage> {
        self.slots
            .iter()
            .map(|(index, (status, pdu))| StoredMessage {
                index: *index,
                status: *status,
                pdu: pdu.clone(),
            })
            .collect()
    }
}

/// What `+CPIN?` would say right now (TS 27.007 §8.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimLock {
    Ready,
    PinRequired,
    PukRequired,
    /// Ten wrong PUKs: the card is dead.
    Blocked,
    /// No SIM in the slot (`+CME ERROR: 10`).
    NotInserted,
}

/// Result of one `AT+CPIN=` attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unlock {
    Accepted,
    /// Wrong code (one try used).
    Wrong,
    NotExpected,
}

pub(crate) const PIN_TRIES: u8 = 3;
pub(crate) const PUK_TRIES: u8 = 10;

#[derive(Debug, Clone)]
pub(crate) struct Sim {
    pin: Option<String>,
    puk: String,
    pub(crate) pin_tries_left: u8,
    pub(crate) puk_tries_left: u8,
    /// Every code the DTE ever sent with `AT+CPIN=` (right or wrong).
    pub(crate) attempts: u32,
    pub(crate) storage: Storage,
    /// Whether the card is in the slot; a change is seen at the next power-up, as most USB
    /// sticks do not notice a SIM swapped while running.
    pub(crate) inserted: bool,
}

impl Sim {
    pub(crate) fn new(pin: Option<String>, puk: String, storage: Storage) -> Sim {
        Sim {
            pin: pin.filter(|p| !p.is_empty()),
            puk,
            pin_tries_left: PIN_TRIES,
            puk_tries_left: PUK_TRIES,
            attempts: 0,
            storage,
            inserted: true,
        }
    }

    pub(crate) fn pin_enabled(&self) -> bool {
        self.pin.is_some()
    }

    /// The lock state right after power-up.
    pub(crate) fn state_at_power_up(&self) -> SimLock {
        if !self.inserted {
            SimLock::NotInserted
        } else if self.puk_tries_left == 0 {
            SimLock::Blocked
        } else if self.pin_tries_left == 0 {
            SimLock::PukRequired
        } else if self.pin.is_some() {
            SimLock::PinRequired
        } else {
            SimLock::Ready
        }
    }

    /// `AT+CPIN=<code>[,<newpin>]` in `state`; returns the outcome and the new state.
    pub(crate) fn enter(
        &mut self,
        state: SimLock,
        code: &str,
        new_pin: Option<&str>,
    ) -> (Unlock, SimLock) {
        match state {
            SimLock::PinRequired => {
                self.attempts += 1;
                if self.pin.as_deref() == Some(code) {
                    self.pin_tries_left = PIN_TRIES;
                    (Unlock::Accepted, SimLock::Ready)
                } else {
                    self.pin_tries_left = self.pin_tries_left.saturating_sub(1);
                    let next = if self.pin_tries_left == 0 {
                        SimLock::PukRequired
                    } else {
                        SimLock::PinRequired
                    };
                    (Unlock::Wrong, next)
                }
            }
            SimLock::PukRequired => {
                self.attempts += 1;
                match new_pin {
                    Some(new_pin) if code == self.puk && !new_pin.is_empty() => {
                        self.pin = Some(new_pin.to_string());
                        self.pin_tries_left = PIN_TRIES;
                        self.puk_tries_left = PUK_TRIES;
                        (Unlock::Accepted, SimLock::Ready)
                    }
                    _ => {
                        self.puk_tries_left = self.puk_tries_left.saturating_sub(1);
                        let next = if self.puk_tries_left == 0 {
                            SimLock::Blocked
                        } else {
                            SimLock::PukRequired
                        };
                        (Unlock::Wrong, next)
                    }
                }
            }
            SimLock::Ready | SimLock::Blocked | SimLock::NotInserted => {
                (Unlock::NotExpected, state)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_fills_lowest_free_slot_first() {
        let mut s = Storage::new(1, 3);
        assert_eq!(s.insert(MessageStatus::ReceivedUnread, vec![0, 1]), Some(1));
        assert_eq!(s.insert(MessageStatus::ReceivedUnread, vec![0, 2]), Some(2));
        assert!(s.remove(1));
        assert_eq!(s.insert(MessageStatus::ReceivedUnread, vec![0, 3]), Some(1));
        assert_eq!(s.insert(MessageStatus::ReceivedRead, vec![0, 4]), Some(3));
        assert_eq!(s.used(), s.capacity());
        assert_eq!(s.insert(MessageStatus::ReceivedRead, vec![0, 5]), None);
        assert!(s.in_range(3) && !s.in_range(0) && !s.in_range(4));
        assert_eq!(s.remove_where(|st| st == MessageStatus::ReceivedRead), 1);
        assert_eq!(s.used(), 2);
    }

    #[test]
    fn three_wrong_pins_need_the_puk_and_ten_wrong_puks_block() {
        let mut sim = Sim::new(Some("1234".into()), "12345678".into(), Storage::new(1, 1));
        let mut state = sim.state_at_power_up();
        assert_eq!(state, SimLock::PinRequired);
        for expected in [
            SimLock::PinRequired,
            SimLock::PinRequired,
            SimLock::PukRequired,
        ] {
            let (outcome, next) = sim.enter(state, "0000", None);
            assert_eq!(outcome, Unlock::Wrong);
            assert_eq!(next, expected);
            state = next;
        }
        // The right PIN no longer helps, and the lock survives a power cycle.
        assert_eq!(sim.enter(state, "1234", None).0, Unlock::Wrong);
        assert_eq!(sim.state_at_power_up(), SimLock::PukRequired);
        let (outcome, state) = sim.enter(SimLock::PukRequired, "12345678", Some("4321"));
        assert_eq!((outcome, state), (Unlock::Accepted, SimLock::Ready));
        assert_eq!(sim.attempts, 5);
        assert_eq!(sim.state_at_power_up(), SimLock::PinRequired);
        assert_eq!(
            sim.enter(SimLock::PinRequired, "4321", None).0,
            Unlock::Accepted
        );

        let mut state = SimLock::PukRequired;
        for _ in 0..PUK_TRIES {
            state = sim.enter(state, "99999999", Some("1111")).1;
        }
        assert_eq!(state, SimLock::Blocked);
        assert_eq!(sim.state_at_power_up(), SimLock::Blocked);
    }

    #[test]
    fn no_pin_means_ready_and_codes_are_unexpected() {
        let mut sim = Sim::new(Some(String::new()), "1".into(), Storage::new(0, 1));
        assert_eq!(sim.state_at_power_up(), SimLock::Ready);
        assert_eq!(
            sim.enter(SimLock::Ready, "1234", None).0,
            Unlock::NotExpected
        );
        assert_eq!(sim.attempts, 0);
    }

    #[test]
    fn tpdu_length_excludes_the_smsc_address() {
        assert_eq!(tpdu_len(&[0x00, 0x11, 0x00]), Some(2));
        assert_eq!(
            tpdu_len(&[0x07, 0x91, 0x44, 0x77, 0x58, 0x10, 0x06, 0x50, 0x04]),
            Some(1)
        );
        assert_eq!(tpdu_len(&[0x07, 0x91]), None);
        assert_eq!(tpdu_len(&[]), None);
    }
}
