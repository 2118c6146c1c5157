//! SMS in PDU mode (3GPP TS 27.005 §3–4): storage, listing, reading, deleting, sending, and
//! the network delivering messages to the SIM.

use std::time::{Duration, Instant};

use super::command::{Arg, Command, Op, split_args};
use super::core::{Emission, Exec, Final, Modem, Step};
use super::exec::one_number;
use super::profile::{AlphaField, Cnmi, EmptySlotRead};
use super::sim::{MessageStatus, SimLock, StoredMessage, tpdu_len};
use super::tpdu;
use crate::modem::pdu;

/// A message the network accepted from the DTE (`AT+CMGS` answered `+CMGS: <mr>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentPdu {
    /// Message reference the modem reported.
    pub mr: u8,
    /// TP-DA of the SMS-SUBMIT, `+` prefixed when international.
    pub destination: String,
    /// The PDU as the DTE typed it: SMSC address (usually `00`) then the TPDU.
    pub pdu: Vec<u8>,
}

impl SentPdu {
    /// The TPDU alone, without the SMSC address.
    pub fn tpdu(&self) -> &[u8] {
        let sca = self.pdu.first().map_or(0, |n| usize::from(*n));
        self.pdu.get(1 + sca..).unwrap_or(&[])
    }
}

/// What became of one `AT+CMGS` attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitOutcome {
    Sent {
        mr: u8,
    },
    /// Answered `+CMS ERROR: <code>` (304 for a malformed PDU, 500 for a flaky send...).
    Refused {
        code: u16,
        reason: String,
    },
    /// Never answered (flaky profile); `delivered` says whether the network got it anyway.
    Unanswered {
        delivered: bool,
    },
    /// The DTE sent ESC instead of Ctrl-Z.
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The hex the DTE typed after the prompt.
    pub hex: String,
    pub declared_length: usize,
    pub outcome: SubmitOutcome,
}

/// Where a message from the network went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Stored on the SIM at this index (`+CMTI` printed if `+CNMI` asks for it).
    Stored { index: u16 },
    /// Routed straight to the DTE as `+CMT` (not stored).
    Direct,
    /// The network keeps it and retries later: the modem is off or unregistered, or the SIM
    /// is full (`sim_full`).
    HeldByNetwork { sim_full: bool },
}

impl Modem {
    /// SIM state check for SMS commands (`+CMS ERROR`, TS 27.005 §3.2.5).
    fn need_sim_sms(&self, now: Instant) -> Result<(), Final> {
        if now < self.sim_busy_until {
            return Err(Final::Cms(314));
        }
        match self.sim_lock {
            SimLock::Ready => Ok(()),
            SimLock::PinRequired => Err(Final::Cms(311)),
            SimLock::PukRequired => Err(Final::Cms(316)),
            SimLock::Blocked => Err(Final::Cms(313)),
            SimLock::NotInserted => Err(Final::Cms(310)),
        }
    }

    pub(crate) fn exec_sms(&mut self, now: Instant, cmd: &Command) -> Option<Exec> {
        Some(match (cmd.name.as_str(), &cmd.op) {
            ("+CMGF", Op::Read) => Ok(Step::Info(vec!["+CMGF: 0".into()])),
            ("+CMGF", Op::Test) => Ok(Step::Info(vec!["+CMGF: (0)".into()])),
            // PDU mode only, like many USB sticks: text mode is refused.
            ("+CMGF", Op::Set(v)) => match one_number(v, 1) {
                Ok(0) => Ok(Step::Info(Vec::new())),
                _ => Err(Final::Cms(303)),
            },
            ("+CSMS", Op::Read) => Ok(Step::Info(vec!["+CSMS: 0,1,1,1".into()])),
            ("+CSMS", Op::Test) => Ok(Step::Info(vec!["+CSMS: (0)".into()])),
            ("+CSMS", Op::Set(v)) => match one_number(v, 0) {
                Ok(_) => Ok(Step::Info(vec!["+CSMS: 1,1,1".into()])),
                Err(_) => Err(Final::Cms(303)),
            },
            ("+CNMA", _) => Err(Final::Cms(340)),
            ("+CSCA", Op::Read) => self.need_sim_sms(now).map(|_| {
                let smsc = &self.net.smsc;
                Step::Info(vec![format!(
                    "+CSCA: \"{smsc}\",{}",
                    super::calls::number_type(smsc)
                )])
            }),
            ("+CSCA", Op::Set(v)) => self.need_sim_sms(now).and_then(|_| {
                match split_args(v).first().and_then(Arg::text) {
                    Some(number) if !number.is_empty() => {
                        self.net.smsc = number.to_string();
                        Ok(Step::Info(Vec::new()))
                    }
                    _ => Err(Final::Cms(304)),
                }
            }),
            ("+CPMS", op) => self.need_sim_sms(now).and_then(|_| self.cpms(op)),
            ("+CNMI", Op::Read) => {
                let c = self.st.cnmi;
                let line = format!("+CNMI: {},{},{},{},{}", c.mode, c.mt, c.bm, c.ds, c.bfr);
                Ok(Step::Info(vec![line]))
            }
            ("+CNMI", Op::Test) => {
                let s = self.profile.cnmi_supported;
                let line = format!("+CNMI: {},{},{},{},{}", s.mode, s.mt, s.bm, s.ds, s.bfr);
                Ok(Step::Info(vec![line]))
            }
            ("+CNMI", Op::Set(v)) => self.cnmi_set(now, v),
            ("+CMGS", Op::Test) => Ok(Step::Info(Vec::new())),
            ("+CMGS", Op::Set(v)) => {
                self.need_sim_sms(now)
                    .and_then(|_| match split_args(v).as_slice() {
                        [arg] => match arg.number() {
                            Some(n) if (7..=164).contains(&n) => Ok(Step::Prompt(n as usize)),
                            _ => Err(Final::Cms(304)),
                        },
                        _ => Err(Final::Cms(304)),
                    })
            }
            ("+CMGL", Op::Test) => Ok(Step::Info(vec!["+CMGL: (0-4)".into()])),
            ("+CMGL", Op::Exec) => self.need_sim_sms(now).map(|_| self.cmgl(0)),
            ("+CMGL", Op::Set(v)) => {
                self.need_sim_sms(now)
                    .and_then(|_| match split_args(v).as_slice() {
                        [arg] => match arg.number() {
                            Some(stat @ 0..=4) => Ok(self.cmgl(stat)),
                            _ => Err(Final::Cms(304)),
                        },
                        _ => Err(Final::Cms(304)),
                    })
            }
            ("+CMGR", Op::Set(v)) => self.need_sim_sms(now).and_then(|_| self.cmgr(v)),
            ("+CMGR", Op::Test) => Ok(Step::Info(Vec::new())),
            ("+CMGD", Op::Test) => self.need_sim_sms(now).map(|_| {
                let used: Vec<String> = self
                    .storage()
                    .all()
                    .iter()
                    .map(|m| m.index.to_string())
                    .collect();
                Step::Info(vec![format!("+CMGD: ({}),(0-4)", used.join(","))])
            }),
            ("+CMGD", Op::Set(v)) => self.need_sim_sms(now).and_then(|_| self.cmgd(now, v)),
            _ => return None,
        })
    }

    fn cpms(&mut self, op: &Op) -> Exec {
        let s = self.storage();
        let (used, total) = (s.used(), s.capacity());
        match op {
            Op::Read => Ok(Step::Info(vec![format!(
                "+CPMS: \"SM\",{used},{total},\"SM\",{used},{total},\"SM\",{used},{total}"
            )])),
            Op::Test => Ok(Step::Info(vec!["+CPMS: (\"SM\"),(\"SM\"),(\"SM\")".into()])),
            Op::Set(v) => {
                let args = split_args(v);
                let all_sm = args.len() <= 3
                    && args
                        .iter()
                        .all(|a| matches!(a.text(), Some(m) if m.eq_ignore_ascii_case("SM")));
                if all_sm {
                    Ok(Step::Info(vec![format!(
                        "+CPMS: {used},{total},{used},{total},{used},{total}"
                    )]))
                } else {
                    Err(Final::Cms(302))
                }
            }
            Op::Exec => Err(Final::Cms(302)),
        }
    }

    fn cnmi_set(&mut self, now: Instant, raw: &str) -> Exec {
        let supported = self.profile.cnmi_supported;
        let sets = [
            supported.mode,
            supported.mt,
            supported.bm,
            supported.ds,
            supported.bfr,
        ];
        let mut values = [0u8; 5];
        let args = split_args(raw);
        if args.len() > 5 {
            return Err(Final::Cms(303));
        }
        let current = self.st.cnmi;
        let defaults = [
            current.mode,
            current.mt,
            current.bm,
            current.ds,
            current.bfr,
        ];
        for (i, value) in values.iter_mut().enumerate() {
            *value = match args.get(i) {
                None | Some(Arg::Empty) => {
                    if i == 0 {
                        defaults[0]
                    } else {
                        0
                    }
                }
                Some(arg) => match arg.number() {
                    Some(n) if sets[i].contains(n) => n as u8,
                    _ => return Err(Final::Cms(303)),
                },
            };
        }
        self.st.cnmi = Cnmi {
            mode: values[0],
            mt: values[1],
            bm: values[2],
            ds: values[3],
            bfr: values[4],
        };
        self.cnmi_changed(now);
        Ok(Step::Info(Vec::new()))
    }

    fn alpha(&self) -> &'static str {
        match self.profile.alpha_field {
            AlphaField::Empty => "",
            AlphaField::EmptyQuotes => "\"\"",
        }
    }

    /// `+CMGL: <index>,<stat>,[<alpha>],<length>` then the PDU; unread become read.
    fn cmgl(&mut self, stat: u32) -> Step {
        let alpha = self.alpha();
        let mut lines = Vec::new();
        for message in self.storage().all() {
            if stat != 4 && u32::from(message.status.code()) != stat {
                continue;
            }
            lines.push(format!(
                "+CMGL: {},{},{alpha},{}",
                message.index,
                message.status.code(),
                message.tpdu_len()
            ));
            lines.push(tpdu::encode_hex(&message.pdu));
            if message.status == MessageStatus::ReceivedUnread {
                self.sim
                    .storage
                    .set_status(message.index, MessageStatus::ReceivedRead);
            }
        }
        Step::Info(lines)
    }

    fn cmgr(&mut self, raw: &str) -> Exec {
        let index = match split_args(raw).as_slice() {
            [arg] => arg.number().ok_or(Final::Cms(321))?,
            _ => return Err(Final::Cms(304)),
        };
        if !self.storage().in_range(index) {
            return Err(Final::Cms(321));
        }
        let Some(message) = self.storage().get(index as u16) else {
            return match self.profile.empty_slot_read {
                EmptySlotRead::Ok => Ok(Step::Info(Vec::new())),
                EmptySlotRead::InvalidIndex => Err(Final::Cms(321)),
            };
        };
        if message.status == MessageStatus::ReceivedUnread {
            self.sim
                .storage
                .set_status(message.index, MessageStatus::ReceivedRead);
        }
        let alpha = self.alpha();
        Ok(Step::Info(vec![
            format!(
                "+CMGR: {},{alpha},{}",
                message.status.code(),
                message.tpdu_len()
            ),
            tpdu::encode_hex(&message.pdu),
        ]))
    }

    /// `AT+CMGD=<index>[,<delflag>]` (TS 27.005 §3.5.4).
    fn cmgd(&mut self, now: Instant, raw: &str) -> Exec {
        let args = split_args(raw);
        let index = args.first().and_then(Arg::number).ok_or(Final::Cms(304))?;
        let flag = match args.get(1) {
            None | Some(Arg::Empty) => 0,
            Some(arg) => arg.number().filter(|f| *f <= 4).ok_or(Final::Cms(304))?,
        };
        let freed = if flag == 0 {
            if !self.storage().in_range(index) {
                return Err(Final::Cms(321));
            }
            usize::from(self.sim.storage.remove(index as u16))
        } else {
            use MessageStatus::*;
            self.sim.storage.remove_where(|status| match flag {
                1 => status == ReceivedRead,
                2 => matches!(status, ReceivedRead | StoredSent),
                3 => matches!(status, ReceivedRead | StoredSent | StoredUnsent),
                _ => true,
            })
        };
        if freed > 0 && !self.network_queue.is_empty() {
            // The modem tells the network it has room again (TS 23.040 §10.3 SMMA); the
            // network retries what it held.
            self.full_reported = false;
            self.schedule(
                now + Duration::from_millis(500),
                super::core::Timer::Redeliver,
            );
        }
        Ok(Step::Info(Vec::new()))
    }

    /// Ctrl-Z after the prompt: check the PDU, then the network's answer.
    pub(crate) fn submit(&mut self, now: Instant, declared: usize, hex: &str) {
        let refuse = |code: u16, reason: String| SubmitOutcome::Refused { code, reason };
        let outcome = match tpdu::check_submit(hex, declared) {
            Err(fault) => refuse(304, fault.to_string()),
            Ok(_) if !self.reg.is_registered() => refuse(331, "not registered".into()),
            Ok(submit) => {
                if self.rng.percent(self.profile.send_failure_percent) {
                    refuse(500, "network failure (flaky profile)".into())
                } else if self.rng.percent(self.profile.send_timeout_percent) {
                    let delivered = self.profile.timed_out_sends_delivered;
                    if delivered {
                        self.record_sent(now, submit.destination, submit.pdu);
                    }
                    SubmitOutcome::Unanswered { delivered }
                } else {
                    let mr = self.record_sent(now, submit.destination, submit.pdu);
                    SubmitOutcome::Sent { mr }
                }
            }
        };
        self.submissions.push(Submission {
            hex: hex.to_string(),
            declared_length: declared,
            outcome: outcome.clone(),
        });
        match outcome {
            SubmitOutcome::Sent { mr } => {
                let answer = self.answer(&[vec![format!("+CMGS: {mr}")]], Some(Final::Ok));
                let range = self.profile.cmgs_delay;
                let delay = self.rng.between(range.min, range.max);
                self.respond_after(now, delay, answer);
            }
            SubmitOutcome::Refused { code, reason } => {
                self.note(now, format!("send refused: {reason}"));
                let answer = self.answer(&[], Some(Final::Cms(code)));
                self.respond(now, answer);
            }
            SubmitOutcome::Unanswered { .. } => {
                self.note(now, "send left unanswered (flaky profile)".into());
                self.respond_after(now, Duration::ZERO, Emission::default());
            }
            SubmitOutcome::Cancelled => {}
        }
    }

    fn record_sent(&mut self, now: Instant, destination: String, pdu: Vec<u8>) -> u8 {
        let mr = self.next_mr;
        self.next_mr = self.next_mr.wrapping_add(1);
        // The text too, decoded by the codec, so a person reading the transcript (the
        // standalone console, a failed test's dump) sees the reply rather than its PDU.
        let text = match pdu::decode_submit(&pdu) {
            Ok(submit) => match submit.concat {
                Some(c) => format!(", part {} of {}: {:?}", c.seq, c.total, submit.text),
                None => format!(": {:?}", submit.text),
            },
            Err(e) => format!(" (text not decodable: {e})"),
        };
        self.note(
            now,
            format!("network accepted SMS to {destination} (mr {mr}){text}"),
        );
        self.sent.push(SentPdu {
            mr,
            destination,
            pdu,
        });
        mr
    }

    /// A message from the network. `pdu` is SMSC address + SMS-DELIVER TPDU.
    pub(crate) fn deliver(&mut self, now: Instant, pdu: Vec<u8>) -> Delivery {
        if !self.powered || !self.reg.is_registered() {
            self.network_queue.push_back(pdu);
            self.note(now, "network holds an SMS: modem not registered".into());
            return Delivery::HeldByNetwork { sim_full: false };
        }
        let class = tpdu::deliver_class(&pdu);
        let direct = match self.st.cnmi.mt {
            2 => class != Some(2),
            3 => class == Some(3),
            _ => false,
        };
        if direct {
            let len = tpdu_len(&pdu).unwrap_or(0);
            let header = format!("+CMT: {},{len}", self.alpha());
            let body = tpdu::encode_hex(&pdu);
            self.note(now, "network delivers an SMS directly (+CMT)".into());
            self.sms_indication(now, vec![header, body]);
            return Delivery::Direct;
        }
        match self
            .sim
            .storage
            .insert(MessageStatus::ReceivedUnread, pdu.clone())
        {
            Some(index) => {
                self.note(
                    now,
                    format!("network delivers an SMS, stored at index {index}"),
                );
                if self.st.cnmi.mt != 0 {
                    self.sms_indication(now, vec![format!("+CMTI: \"SM\",{index}")]);
                }
                Delivery::Stored { index }
            }
            None => {
                self.network_queue.push_back(pdu);
                self.note(
                    now,
                    "SIM full: the network keeps the SMS and will retry".into(),
                );
                if !self.full_reported {
                    self.full_reported = true;
                    if let Some(line) = self.profile.storage_full_line.clone() {
                        self.unsolicited_line(now, &line);
                    }
                }
                Delivery::HeldByNetwork { sim_full: true }
            }
        }
    }

    /// The network retries what it held, oldest first, while the SIM takes them.
    pub(crate) fn redeliver(&mut self, now: Instant) {
        while let Some(pdu) = self.network_queue.pop_front() {
            if let Delivery::HeldByNetwork { .. } = self.deliver(now, pdu) {
                // `deliver` queued it again at the back; keep the original order.
                if let Some(last) = self.network_queue.pop_back() {
                    self.network_queue.push_front(last);
                }
                break;
            }
        }
    }

    pub(crate) fn stored_messages(&self) -> Vec<StoredMessage> {
        self.storage().all()
    }
}
