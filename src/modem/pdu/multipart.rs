//! Multipart assembly: parts in, whole messages out. Pure and clock-free, on the model of
//! ModemManager's SMS list: a part joins the group keyed by (sender, reference, total), a
//! duplicate or out-of-range part is refused with a reason, a group is emitted once every
//! part is in, and a group still incomplete `timeout` after its latest part is released
//! with what it has, flagged, so a lost part never holds a message back forever.
//!
//! Each part carries an opaque `Id` (the daemon passes inbox row ids) that comes back out
//! exactly once: in the [`Assembled`] message it ended up in, or in the [`Rejected`] that
//! refused it. Time comes in with each part (`received`) and with [`Assembler::expire`];
//! nothing here reads a clock, so re-pushing stored parts after a restart rebuilds the same
//! state and gives the same results.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::address::Address;
use super::udh::Concat;

/// One received part, as the caller stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<Id> {
    pub id: Id,
    pub sender: Address,
    /// `None` (or a total of 1) for a message that is not concatenated.
    pub concat: Option<Concat>,
    pub text: String,
    /// When the caller received it (its own clock, stored with the part).
    pub received: jiff::Timestamp,
}

/// A message ready for the rules: whole, or released incomplete by [`Assembler::expire`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assembled<Id> {
    pub sender: Address,
    /// The parts' texts joined in sequence order (missing parts simply absent).
    pub text: String,
    /// The ids of the parts it was built from, in sequence order.
    pub ids: Vec<Id>,
    /// `(reference, total)` of a concatenated message, `None` for a single SMS.
    pub concat: Option<(u16, u8)>,
    /// Set when released by timeout without every part.
    pub incomplete: bool,
    /// Sequence numbers that never arrived (empty unless `incomplete`).
    pub missing: Vec<u8>,
    /// When its earliest part was received.
    pub received: jiff::Timestamp,
}

/// Why a part was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// A part with this sequence number is already waiting in its group (the network or
    /// the modem delivered it twice).
    Duplicate { seq: u8 },
    /// Sequence number 0, or beyond the total (TS 23.040 §9.2.3.24.1).
    SeqOutOfRange { seq: u8, total: u8 },
}

/// A refused part, with its id so the caller can record what happened to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected<Id> {
    pub id: Id,
    pub sender: Address,
    pub reason: RejectReason,
}

impl<Id> fmt::Display for Rejected<Id> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            RejectReason::Duplicate { seq } => {
                write!(f, "part {seq} from {} is a duplicate", self.sender)
            }
            RejectReason::SeqOutOfRange { seq, total } => {
                write!(
                    f,
                    "part {seq} of {total} from {} is out of range",
                    self.sender
                )
            }
        }
    }
}

impl<Id: fmt::Debug> std::error::Error for Rejected<Id> {}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    sender: Address,
    reference: u16,
    total: u8,
}

#[derive(Debug)]
struct Group<Id> {
    parts: BTreeMap<u8, (Id, String)>,
    first_received: jiff::Timestamp,
    last_received: jiff::Timestamp,
}

/// Collects parts until their message is whole. See the module documentation.
#[derive(Debug)]
pub struct Assembler<Id> {
    timeout: Duration,
    groups: BTreeMap<Key, Group<Id>>,
}

impl<Id> Assembler<Id> {
    /// `timeout`: how long after a group's latest part [`expire`](Self::expire) releases it
    /// incomplete.
    pub fn new(timeout: Duration) -> Self {
        Assembler {
            timeout,
            groups: BTreeMap::new(),
        }
    }

    /// Add a part. A single SMS comes straight back out; the last missing part of a group
    /// brings the whole message out; other parts wait (`Ok(None)`).
    pub fn push(&mut self, part: Part<Id>) -> Result<Option<Assembled<Id>>, Rejected<Id>> {
        let concat = match part.concat {
            None
            | Some(Concat {
                total: 1, seq: 1, ..
            }) => {
                return Ok(Some(Assembled {
                    sender: part.sender,
                    text: part.text,
                    ids: vec![part.id],
                    concat: None,
                    incomplete: false,
                    missing: Vec::new(),
                    received: part.received,
                }));
            }
            Some(Concat { seq, total, .. }) if seq == 0 || seq > total => {
                return Err(Rejected {
                    id: part.id,
                    sender: part.sender,
                    reason: RejectReason::SeqOutOfRange { seq, total },
                });
            }
            Some(concat) => concat,
        };
        let key = Key {
            sender: part.sender,
            reference: concat.reference,
            total: concat.total,
        };
        let group = self.groups.entry(key.clone()).or_insert_with(|| Group {
            parts: BTreeMap::new(),
            first_received: part.received,
            last_received: part.received,
        });
        if group.parts.contains_key(&concat.seq) {
            return Err(Rejected {
                id: part.id,
                sender: key.sender,
                reason: RejectReason::Duplicate { seq: concat.seq },
            });
        }
        group.first_received = group.first_received.min(part.received);
        group.last_received = group.last_received.max(part.received);
        group.parts.insert(concat.seq, (part.id, part.text));
        if group.parts.len() < usize::from(concat.total) {
            return Ok(None);
        }
        Ok(self
            .groups
            .remove_entry(&key)
            .map(|(key, group)| assemble(key, group)))
    }

    /// Release every group whose latest part was received `timeout` or longer before `now`,
    /// incomplete, oldest first.
    pub fn expire(&mut self, now: jiff::Timestamp) -> Vec<Assembled<Id>> {
        let timeout = self.timeout;
        let due = |group: &Group<Id>| {
            group
                .last_received
                .saturating_add(timeout)
                .is_ok_and(|at| at <= now)
        };
        let keys: Vec<Key> = self
            .groups
            .iter()
            .filter(|(_, group)| due(group))
            .map(|(key, _)| key.clone())
            .collect();
        let mut released: Vec<Assembled<Id>> = keys
            .into_iter()
            .filter_map(|key| self.groups.remove_entry(&key))
            .map(|(key, group)| assemble(key, group))
            .collect();
        // Stable: equal times keep the key order of the map.
        released.sort_by_key(|message| message.received);
        released
    }

    /// When the next incomplete group falls due, for the caller's timer.
    pub fn next_deadline(&self) -> Option<jiff::Timestamp> {
        self.groups
            .values()
            .filter_map(|group| group.last_received.saturating_add(self.timeout).ok())
            .min()
    }

    /// Number of incomplete messages waiting for parts.
    pub fn pending(&self) -> usize {
        self.groups.len()
    }
}

fn assemble<Id>(key: Key, group: Group<Id>) -> Assembled<Id> {
    let missing: Vec<u8> = (1..=key.total)
        .filter(|seq| !group.parts.contains_key(seq))
        .collect();
    let (ids, texts): (Vec<Id>, Vec<String>) = group.parts.into_values().unzip();
    Assembled {
        sender: key.sender,
        text: texts.concat(),
        ids,
        concat: Some((key.reference, key.total)),
        incomplete: !missing.is_empty(),
        missing,
        received: group.first_received,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(second: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(1_700_000_000 + second).unwrap()
    }

    fn part(
        id: u32,
        sender: &str,
        reference: u16,
        total: u8,
        seq: u8,
        text: &str,
        second: i64,
    ) -> Part<u32> {
        Part {
            id,
            sender: Address::international(sender),
            concat: Some(Concat {
                reference,
                total,
                seq,
            }),
            text: text.to_owned(),
            received: at(second),
        }
    }

    const ALICE: &str = "447400123456";
    const BOB: &str = "447400654321";

    fn assembler() -> Assembler<u32> {
        Assembler::new(Duration::from_secs(600))
    }

    #[test]
    fn single_part_passes_straight_through() {
        let mut asm = assembler();
        let single = Part {
            concat: None,
            ..part(1, ALICE, 0, 1, 1, "REQUEST", 0)
        };
        let message = asm.push(single).unwrap().unwrap();
        assert_eq!(message.text, "REQUEST");
        assert_eq!(message.ids, [1]);
        assert_eq!(message.concat, None);
        assert!(!message.incomplete);
        // A concatenation header claiming one part of one is a single SMS too.
        let one_of_one = asm
            .push(part(2, ALICE, 9, 1, 1, "STOP", 0))
            .unwrap()
            .unwrap();
        assert_eq!(one_of_one.text, "STOP");
        assert_eq!(asm.pending(), 0);
    }

    #[test]
    fn out_of_order_parts() {
        let mut asm = assembler();
        assert_eq!(asm.push(part(3, ALICE, 7, 3, 3, "C", 0)), Ok(None));
        assert_eq!(asm.push(part(1, ALICE, 7, 3, 1, "A", 1)), Ok(None));
        assert_eq!(asm.pending(), 1);
        let message = asm.push(part(2, ALICE, 7, 3, 2, "B", 2)).unwrap().unwrap();
        assert_eq!(message.text, "ABC");
        assert_eq!(message.ids, [1, 2, 3]);
        assert_eq!(message.concat, Some((7, 3)));
        assert!(!message.incomplete);
        assert!(message.missing.is_empty());
        assert_eq!(message.received, at(0));
        assert_eq!(asm.pending(), 0);
    }

    #[test]
    fn duplicate_part_is_rejected_with_its_id() {
        let mut asm = assembler();
        asm.push(part(1, ALICE, 7, 2, 1, "A", 0)).unwrap();
        let rejected = asm.push(part(9, ALICE, 7, 2, 1, "A", 1)).unwrap_err();
        assert_eq!(rejected.id, 9);
        assert_eq!(rejected.reason, RejectReason::Duplicate { seq: 1 });
        assert_eq!(
            rejected.to_string(),
            "part 1 from +447400123456 is a duplicate"
        );
        let message = asm.push(part(2, ALICE, 7, 2, 2, "B", 2)).unwrap().unwrap();
        assert_eq!(message.text, "AB");
        assert_eq!(message.ids, [1, 2]);
    }

    #[test]
    fn out_of_range_seq_is_rejected() {
        let mut asm = assembler();
        for (id, total, seq) in [(1, 3, 0), (2, 3, 4), (3, 1, 2), (4, 0, 1), (5, 0, 0)] {
            let rejected = asm
                .push(part(id, ALICE, 7, total, seq, "x", 0))
                .unwrap_err();
            assert_eq!(rejected.id, id);
            assert_eq!(rejected.reason, RejectReason::SeqOutOfRange { seq, total });
        }
        assert_eq!(asm.pending(), 0);
    }

    #[test]
    fn two_senders_with_the_same_reference_stay_apart() {
        let mut asm = assembler();
        asm.push(part(1, ALICE, 7, 2, 1, "Alice-1 ", 0)).unwrap();
        asm.push(part(2, BOB, 7, 2, 1, "Bob-1 ", 0)).unwrap();
        // Same sender and reference but a different total is a different message too.
        asm.push(part(3, ALICE, 7, 3, 1, "Other-1 ", 0)).unwrap();
        let bob = asm
            .push(part(4, BOB, 7, 2, 2, "Bob-2", 1))
            .unwrap()
            .unwrap();
        assert_eq!(bob.text, "Bob-1 Bob-2");
        assert_eq!(bob.sender, Address::international(BOB));
        let alice = asm
            .push(part(5, ALICE, 7, 2, 2, "Alice-2", 1))
            .unwrap()
            .unwrap();
        assert_eq!(alice.text, "Alice-1 Alice-2");
        assert_eq!(alice.ids, [1, 5]);
        assert_eq!(asm.pending(), 1);
    }

    #[test]
    fn timeout_releases_incomplete_groups_never_loses_them() {
        let mut asm = assembler();
        asm.push(part(1, ALICE, 7, 3, 1, "A", 0)).unwrap();
        asm.push(part(3, ALICE, 7, 3, 3, "C", 100)).unwrap();
        asm.push(part(4, BOB, 1, 2, 2, "Y", 50)).unwrap();
        assert_eq!(asm.next_deadline(), Some(at(650)));
        // The clock is measured from each group's latest part.
        assert!(asm.expire(at(649)).is_empty());
        let released = asm.expire(at(650));
        assert_eq!(released.len(), 1);
        assert_eq!(released[0].text, "Y");
        assert_eq!(released[0].missing, [1]);
        assert!(released[0].incomplete);
        assert_eq!(asm.next_deadline(), Some(at(700)));
        let released = asm.expire(at(10_000));
        assert_eq!(released.len(), 1);
        let alice = &released[0];
        assert_eq!(alice.text, "AC");
        assert_eq!(alice.ids, [1, 3]);
        assert_eq!(alice.missing, [2]);
        assert!(alice.incomplete);
        assert_eq!(alice.received, at(0));
        assert_eq!(asm.pending(), 0);
        assert_eq!(asm.next_deadline(), None);
        // A part arriving after its group was released starts over; nothing is doubled.
        assert_eq!(asm.push(part(2, ALICE, 7, 3, 2, "B", 10_001)), Ok(None));
        let late = asm.expire(at(20_000));
        assert_eq!(late[0].ids, [2]);
        assert_eq!(late[0].missing, [1, 3]);
    }

    #[test]
    fn expire_is_ordered_by_first_arrival() {
        let mut asm = assembler();
        asm.push(part(1, BOB, 1, 2, 1, "b", 5)).unwrap();
        asm.push(part(2, ALICE, 1, 2, 1, "a", 3)).unwrap();
        let released = asm.expire(at(1000));
        let ids: Vec<u32> = released.iter().flat_map(|m| m.ids.clone()).collect();
        assert_eq!(ids, [2, 1]);
    }

    fn arbitrary_part() -> impl Strategy<Value = (u8, u8, u8, u8, i64)> {
        // (sender index, reference, total, seq, received) over small ranges so groups collide.
        (0u8..3, 0u8..3, 0u8..5, 0u8..6, 0i64..2000)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn every_id_comes_out_exactly_once(
            parts in proptest::collection::vec(arbitrary_part(), 0..60),
            expiries in proptest::collection::vec(0i64..3000, 0..5),
        ) {
            let run = || {
                let mut asm = assembler();
                let mut out: Vec<(Vec<u32>, bool)> = Vec::new();
                let mut rejected = Vec::new();
                let mut expiries = expiries.clone();
                expiries.sort();
                for (id, &(sender, reference, total, seq, second)) in parts.iter().enumerate() {
                    let sender = ["447400000001", "447400000002", "447400000003"][usize::from(sender)];
                    let concat = (total > 0).then_some(Concat { reference: u16::from(reference), total, seq });
                    let p = Part { concat, ..part(id as u32, sender, 0, 1, 1, &format!("<{id}>"), second) };
                    match asm.push(p) {
                        Ok(Some(message)) => out.push((message.ids, message.incomplete)),
                        Ok(None) => {}
                        Err(r) => rejected.push(r.id),
                    }
                    if let Some(&first) = expiries.first()
                        && id % 7 == 6
                    {
                        expiries.remove(0);
                        out.extend(asm.expire(at(first)).into_iter().map(|m| (m.ids, m.incomplete)));
                    }
                }
                out.extend(asm.expire(at(i64::from(u32::MAX))).into_iter().map(|m| (m.ids, m.incomplete)));
                assert_eq!(asm.pending(), 0);
                (out, rejected)
            };
            let (out, rejected) = run();
            let mut seen: Vec<u32> = out.iter().flat_map(|(ids, _)| ids.clone()).chain(rejected.iter().copied()).collect();
            seen.sort();
            let all: Vec<u32> = (0..parts.len() as u32).collect();
            prop_assert_eq!(seen, all);
            // Deterministic: the same pushes give the same results.
            prop_assert_eq!(run(), (out, rejected));
        }
    }
}
