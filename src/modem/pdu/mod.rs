//! SMS PDU codec (pure, no I/O): 3GPP TS 23.040 layouts, TS 23.038 alphabets, and the
//! assembly of multipart messages.
//!
//! | file | concern |
//! |---|---|
//! | `gsm7` | GSM 7-bit alphabet, extension table, the one rule that splits a text into parts |
//! | `septets` | packing septets into octets, fill bits after a header |
//! | `address` | TP-OA / TP-DA / TP-RA and the SMSC prefix |
//! | `dcs` | TP-DCS: alphabet, class, compression, message waiting |
//! | `timestamp` | TP-SCTS / TP-DT / absolute TP-VP |
//! | `udh` | user data header: concatenation, other elements skipped |
//! | `user_data` | TP-UDL + TP-UD ⇄ text, for every alphabet |
//! | `envelope` | [`Pdu`]: SMSC prefix + TPDU, and the TPDU length `AT+CMGS` wants |
//! | `submit`, `deliver`, `status_report` | the three message types |
//! | `incoming` | [`decode_incoming`]: whatever `+CMGL`/`+CMGR`/`+CMT`/`+CDS` gave |
//! | `multipart` | [`Assembler`]: parts in, whole messages out |
//!
//! Decoding never panics and never guesses: every malformed input is a [`DecodeError`].

pub mod address;
pub mod dcs;
pub mod deliver;
pub mod envelope;
pub mod error;
pub mod gsm7;
pub mod hex;
pub mod incoming;
pub mod multipart;
mod reader;
pub mod septets;
pub mod status_report;
pub mod submit;
pub mod timestamp;
pub mod udh;
mod user_data;

#[cfg(test)]
mod properties;
#[cfg(test)]
mod vectors;

pub use address::{Address, TypeOfNumber};
pub use dcs::{Alphabet, DataCoding, MessageClass, MessageWaiting, WaitingKind};
pub use deliver::{Deliver, encode_deliver};
pub use envelope::{Pdu, split_smsc};
pub use error::{DecodeError, EncodeError};
pub use hex::{from_hex, to_hex};
pub use incoming::{Incoming, decode_incoming};
pub use multipart::{Assembled, Assembler, Part, RejectReason, Rejected};
pub use status_report::{DeliveryOutcome, DeliveryStatus, StatusReport, encode_status_report};
pub use submit::{Submit, SubmitOptions, Validity, decode_submit, encode_submit};
pub use timestamp::Timestamp;
pub use udh::Concat;
