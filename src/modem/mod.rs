//! Everything that speaks AT to a GSM modem. Knows nothing of shifts.
//!
//! # Layout
//!
//! From the bytes up:
//!
//! | module | what it holds | I/O |
//! |---|---|---|
//! | [`frame`] | the framer: bytes → final result / information line / `> ` prompt / echo / unsolicited code | none |
//! | [`urc`] | unsolicited codes, parsed (`+CMTI`, `+CMT` + PDU, `+CDS`, `RING`, `+CLIP`, `+CREG`, vendor noise) | none |
//! | [`fields`] | parameters of an information line, numbers with checked arithmetic | none |
//! | [`network`], [`sim`], [`sms`], [`voice`] | typed values and their parsers, tested on real modem output | none |
//! | [`command`] | typed commands: line, timeout, information-line prefixes, result type | none |
//! | [`quirks`] | what differs between modem families, as data | none |
//! | [`pdu`] | the SMS PDU codec (TS 23.040/23.038) | none |
//! | [`transport`] | opening the serial port, with errors that say what to do | the port |
//! | [`session`] | one open port: one command in flight, the `AT+CMGS` prompt exchange | the port |
//! | [`init`] | the init sequence as named steps | via a session |
//! | [`state`] | the modem's lifecycle enum and its one transition function | none |
//! | [`engine`] | the task that owns the port: [`ModemHandle`] for requests, [`ModemEvent`]s out, reconnects | the port |
//! | [`probe`], [`ports`] | `shiftsms modem probe` and `shiftsms modem list` | the port, sysfs |
//!
//! A daemon calls [`spawn`] with [`ModemSettings`] and a shutdown future, keeps the
//! [`ModemHandle`], and reads [`ModemEvent`]s.

pub mod command;
pub mod engine;
pub mod fields;
pub mod frame;
pub mod init;
pub mod network;
pub mod pdu;
pub mod ports;
pub mod probe;
pub mod quirks;
pub mod session;
pub mod sim;
pub mod sms;
pub mod state;
pub mod transport;
pub mod urc;
pub mod voice;

#[cfg(test)]
pub(crate) mod testing;

pub use engine::{Modem, ModemError, ModemEvent, ModemHandle, ModemSettings, SendSmsError, spawn};
pub use init::{InitReport, ModemInfo, Step, StepOutcome};
pub use session::SendError;
pub use sim::Pin;
pub use sms::{MessageReference, RawPdu, Storage, StoredPdu, SubmitPdu};
pub use state::{ModemState, SimLock};
pub use voice::{Call, CallEnd, CallerId, DialNumber, DialOutcome, HoldAction, HoldOptions};
