//! What the modem hands over for a received message (`+CMGL`, `+CMGR`, `+CMT`, `+CDS` in PDU
//! mode): SMSC prefix plus a TPDU whose TP-MTI says what it is (TS 23.040 §9.2.3.1).

use super::address::Address;
use super::deliver::{self, Deliver};
use super::envelope::split_smsc;
use super::error::DecodeError;
use super::status_report::{self, StatusReport};

/// A message from the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    Deliver(Deliver),
    StatusReport(StatusReport),
}

impl Incoming {
    pub fn smsc(&self) -> Option<&Address> {
        match self {
            Incoming::Deliver(deliver) => deliver.smsc.as_ref(),
            Incoming::StatusReport(report) => report.smsc.as_ref(),
        }
    }
}

/// Decode PDU-mode bytes (SMSC prefix included) from the modem.
///
/// TP-MTI 00 is an SMS-DELIVER and 10 an SMS-STATUS-REPORT. 11 is reserved, and TS 23.040
/// §9.2.3.1 tells a phone to treat it as an SMS-DELIVER, so this does too. 01 is an
/// SMS-SUBMIT: `AT+CMGL=4` also lists messages stored on the SIM for sending, which are
/// not incoming; that is [`DecodeError::UnexpectedMessageType`], so the caller can skip them.
pub fn decode_incoming(bytes: &[u8]) -> Result<Incoming, DecodeError> {
    let (smsc, tpdu) = split_smsc(bytes)?;
    let Some(&first) = tpdu.first() else {
        return Err(DecodeError::Truncated {
            field: "first octet",
            needed: 1,
            available: 0,
        });
    };
    match first & 0x03 {
        0b00 | 0b11 => deliver::decode(smsc, tpdu).map(Incoming::Deliver),
        0b10 => status_report::decode(smsc, tpdu).map(Incoming::StatusReport),
        mti => Err(DecodeError::UnexpectedMessageType {
            mti,
            kind: "SMS-SUBMIT (stored for sending, not received)",
        }),
    }
}
