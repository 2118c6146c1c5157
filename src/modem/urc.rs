//! Unsolicited result codes: the lines a modem sends on its own (3GPP TS 27.005 §3.4.1,
//! TS 27.007 §6-§8, and the vendor noise met in the field).
//!
//! Every line the framer cannot attribute to the command in flight ends up here as some
//! [`Urc`]; a line nobody recognises is kept as [`Urc::Unknown`], never dropped, so a field
//! engineer can see it in the log.

use super::fields;
use super::network::{self, Registration};
use super::sim::{self, PinState};
use super::sms::{self, RawPdu, Storage};
use super::voice::{self, CallEnd, CallerId};

/// Start-up announcements (SIMCom, Quectel, u-blox): the modem has (re)booted or finished
/// loading something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// `RDY`: the module has just booted; its settings (echo, `+CNMI`, PDU mode) are back to
    /// defaults, so the init sequence must run again.
    Rebooted,
    /// `Call Ready`.
    CallReady,
    /// `SMS Ready`: the SMS stack has loaded the SIM's messages.
    SmsReady,
    /// `PB DONE`: phonebook loaded.
    PhonebookReady,
    /// `+CFUN: <fun>` (TS 27.007 §8.2): functionality level announced (1 = full).
    Functionality(u8),
}

/// An unsolicited result code, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Urc {
    /// `+CMTI: <mem>,<index>`: a new message was stored there (store-and-notify).
    MessageStored {
        /// Storage area.
        storage: Storage,
        /// Slot.
        index: u32,
    },
    /// `+CMT: [<alpha>],<length>` and its PDU line: a message delivered straight to us, not
    /// stored anywhere. Whoever receives this must keep it: it cannot be read again.
    MessageDelivered {
        /// `<length>`: TPDU octets.
        tpdu_len: u16,
        /// The PDU (SMSC address first).
        pdu: RawPdu,
    },
    /// `+CDS: <length>` and its PDU line: an SMS-STATUS-REPORT delivered directly.
    StatusReport {
        /// `<length>`: TPDU octets.
        tpdu_len: u16,
        /// The PDU.
        pdu: RawPdu,
    },
    /// `+CDSI: <mem>,<index>`: a status report was stored there.
    StatusReportStored {
        /// Storage area.
        storage: Storage,
        /// Slot.
        index: u32,
    },
    /// `RING` or `+CRING: <type>`: an incoming call is ringing (repeats while it rings).
    Ring,
    /// `+CLIP: ...`: the caller id of the ringing call (follows each `RING` once `+CLIP=1`).
    CallerId(CallerId),
    /// `NO CARRIER`, `BUSY`, `NO ANSWER` or `NO DIALTONE` outside a dial command: a call ended.
    CallEnded(CallEnd),
    /// `+CREG: ...`: registration changed.
    Registration(Registration),
    /// `+CPIN: <code>` sent unsolicited (after boot or after the PIN was entered).
    Sim(PinState),
    /// A start-up announcement.
    Notice(Notice),
    /// A vendor code such as `^RSSI:18`, `^MODE:5,4`, `^BOOT:...` (Huawei), kept whole.
    Vendor(String),
    /// A known code whose parameters did not parse.
    Malformed {
        /// The line(s) as received.
        line: String,
        /// What was wrong.
        reason: String,
    },
    /// Anything else, kept whole.
    Unknown(String),
}

/// The two codes whose PDU comes on the next line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PduUrc {
    /// `+CMT:`
    Deliver,
    /// `+CDS:`
    StatusReport,
}

impl PduUrc {
    /// Whether `line` is the header of a two-line code.
    pub fn from_header(line: &str) -> Option<Self> {
        if fields::after_prefix(line, "+CMT:").is_some() {
            Some(PduUrc::Deliver)
        } else if fields::after_prefix(line, "+CDS:").is_some() {
            Some(PduUrc::StatusReport)
        } else {
            None
        }
    }

    /// The code from its header and PDU lines.
    pub fn parse(self, header: &str, pdu_line: &str) -> Urc {
        let prefix = match self {
            PduUrc::Deliver => "+CMT:",
            PduUrc::StatusReport => "+CDS:",
        };
        match sms::parse_pdu_header_length(header, prefix) {
            Ok(tpdu_len) => {
                let pdu = RawPdu::from_hex_line(pdu_line);
                match self {
                    PduUrc::Deliver => Urc::MessageDelivered { tpdu_len, pdu },
                    PduUrc::StatusReport => Urc::StatusReport { tpdu_len, pdu },
                }
            }
            Err(e) => Urc::Malformed {
                line: format!("{header}\n{pdu_line}"),
                reason: e.reason,
            },
        }
    }
}

/// Whether a line can be the PDU line of a `+CMT`/`+CDS`: hexadecimal only.
pub fn is_pdu_line(line: &str) -> bool {
    !line.is_empty() && line.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The result codes that end a call when they arrive outside a dial command.
pub fn call_end(line: &str) -> Option<CallEnd> {
    match line.to_ascii_uppercase().as_str() {
        "NO CARRIER" => Some(CallEnd::NoCarrier),
        "BUSY" => Some(CallEnd::Busy),
        "NO ANSWER" => Some(CallEnd::NoAnswer),
        "NO DIALTONE" | "NO DIAL TONE" => Some(CallEnd::NoDialtone),
        _ => None,
    }
}

/// A one-line unsolicited code, or `None` when the line is not a code this module knows
/// (the framer then decides between "information line of the command" and [`Urc::Unknown`]).
pub fn parse_known(line: &str) -> Option<Urc> {
    fn or_malformed<T>(
        line: &str,
        r: Result<T, fields::ParseError>,
        f: impl FnOnce(T) -> Urc,
    ) -> Urc {
        match r {
            Ok(v) => f(v),
            Err(e) => Urc::Malformed {
                line: line.to_owned(),
                reason: e.reason,
            },
        }
    }

    if let Some(end) = call_end(line) {
        return Some(Urc::CallEnded(end));
    }
    let upper = line.to_ascii_uppercase();
    match upper.as_str() {
        "RING" => return Some(Urc::Ring),
        "RDY" => return Some(Urc::Notice(Notice::Rebooted)),
        "CALL READY" => return Some(Urc::Notice(Notice::CallReady)),
        "SMS READY" => return Some(Urc::Notice(Notice::SmsReady)),
        "PB DONE" => return Some(Urc::Notice(Notice::PhonebookReady)),
        _ => {}
    }
    if line.starts_with('^') {
        return Some(Urc::Vendor(line.to_owned()));
    }
    let urc = if fields::after_prefix(line, "+CMTI:").is_some() {
        or_malformed(
            line,
            sms::parse_stored_at(line, "+CMTI:"),
            |(storage, index)| Urc::MessageStored { storage, index },
        )
    } else if fields::after_prefix(line, "+CDSI:").is_some() {
        or_malformed(
            line,
            sms::parse_stored_at(line, "+CDSI:"),
            |(storage, index)| Urc::StatusReportStored { storage, index },
        )
    } else if fields::after_prefix(line, "+CRING:").is_some() {
        Urc::Ring
    } else if fields::after_prefix(line, "+CLIP:").is_some() {
        or_malformed(line, voice::parse_clip(line), Urc::CallerId)
    } else if fields::after_prefix(line, "+CREG:").is_some() {
        or_malformed(
            line,
            network::parse_creg_unsolicited(line),
            Urc::Registration,
        )
    } else if fields::after_prefix(line, "+CPIN:").is_some() {
        or_malformed(line, sim::parse_cpin(line), Urc::Sim)
    } else if let Some(rest) = fields::after_prefix(line, "+CFUN:") {
        match fields::decimal(rest, 255) {
            Some(fun) => Urc::Notice(Notice::Functionality(fun as u8)),
            None => Urc::Malformed {
                line: line.to_owned(),
                reason: "expected +CFUN: <number>".into(),
            },
        }
    } else {
        return None;
    };
    Some(urc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modem::network::RegistrationStatus;

    #[test]
    fn known_codes_table() {
        let table: &[(&str, Urc)] = &[
            (
                "+CMTI: \"SM\",3",
                Urc::MessageStored {
                    storage: Storage::Sim,
                    index: 3,
                },
            ),
            (
                "+CMTI: \"ME\",12",
                Urc::MessageStored {
                    storage: Storage::Modem,
                    index: 12,
                },
            ),
            (
                "+CDSI: \"SR\",1",
                Urc::StatusReportStored {
                    storage: Storage::StatusReports,
                    index: 1,
                },
            ),
            ("RING", Urc::Ring),
            ("+CRING: VOICE", Urc::Ring),
            ("NO CARRIER", Urc::CallEnded(CallEnd::NoCarrier)),
            ("BUSY", Urc::CallEnded(CallEnd::Busy)),
            ("NO ANSWER", Urc::CallEnded(CallEnd::NoAnswer)),
            ("RDY", Urc::Notice(Notice::Rebooted)),
            ("Call Ready", Urc::Notice(Notice::CallReady)),
            ("SMS Ready", Urc::Notice(Notice::SmsReady)),
            ("+CFUN: 1", Urc::Notice(Notice::Functionality(1))),
            ("+CPIN: READY", Urc::Sim(PinState::Ready)),
            ("^RSSI:18", Urc::Vendor("^RSSI:18".into())),
            (
                "^BOOT:12345,0,0,0,72",
                Urc::Vendor("^BOOT:12345,0,0,0,72".into()),
            ),
            ("^MODE:5,4", Urc::Vendor("^MODE:5,4".into())),
        ];
        for (line, want) in table {
            assert_eq!(parse_known(line).as_ref(), Some(want), "{line}");
        }
    }

    #[test]
    fn clip_and_creg() {
        match parse_known("+CLIP: \"+447400123456\",145,\"\",,\"\",0") {
            Some(Urc::CallerId(c)) => assert_eq!(c.number.as_deref(), Some("+447400123456")),
            other => panic!("{other:?}"),
        }
        match parse_known("+CREG: 5") {
            Some(Urc::Registration(r)) => assert_eq!(r.status, RegistrationStatus::Roaming),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_and_unknown() {
        assert!(matches!(
            parse_known("+CMTI: \"SM\",99999999999"),
            Some(Urc::Malformed { .. })
        ));
        assert!(matches!(
            parse_known("+CFUN: x"),
            Some(Urc::Malformed { .. })
        ));
        assert_eq!(parse_known("+QIND: SMS DONE"), None);
        assert_eq!(parse_known("hello"), None);
    }

    #[test]
    fn pdu_codes() {
        assert_eq!(PduUrc::from_header("+CMT: ,23"), Some(PduUrc::Deliver));
        assert_eq!(PduUrc::from_header("+CMTI: \"SM\",1"), None);
        assert_eq!(PduUrc::from_header("+CDS: 24"), Some(PduUrc::StatusReport));
        // ModemManager's +CDS vector.
        let pdu = "07914356060013F1065A098136395339F6219011700463802190117004638030";
        match PduUrc::StatusReport.parse("+CDS: 24", pdu) {
            Urc::StatusReport { tpdu_len, pdu } => {
                assert_eq!(tpdu_len, 24);
                assert_eq!(pdu.bytes().map(<[u8]>::len), Some(32));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            PduUrc::Deliver.parse("+CMT: ,x", "00"),
            Urc::Malformed { .. }
        ));
        assert!(is_pdu_line("0791AB"));
        assert!(!is_pdu_line("OK"));
        assert!(!is_pdu_line(""));
    }
}
