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
//! [`ModemHandle`], and reads [`ModemEvent`]s:
//!
//! ```no_run
//! use shiftsms::modem::{self, ModemEvent, ModemSettings, SubmitPdu, Urc};
//! use shiftsms::modem::pdu::{self, Address, SubmitOptions};
//!
//! # async fn example(shutdown: tokio::sync::oneshot::Receiver<()>) -> anyhow::Result<()> {
//! let settings = ModemSettings::new("/dev/serial/by-id/usb-HUAWEI_Mobile-if00-port0", 115_200, None);
//! let mut m = modem::spawn(settings, async move { let _ = shutdown.await; });
//! while let Some(event) = m.events.recv().await {
//!     match event {
//!         // At start and after every reconnect: catch up with what arrived meanwhile.
//!         ModemEvent::Ready(_) => {
//!             for stored in m.handle.list_stored().await? {
//!                 let _message = stored.decode(); // keep it (even if undecodable), then:
//!                 m.handle.delete_stored(stored.storage, stored.index).await?;
//!             }
//!         }
//!         ModemEvent::Unsolicited(Urc::MessageStored { storage, index }) => {
//!             if let Some(stored) = m.handle.read_stored(storage, index).await? {
//!                 // keep stored.decode() durably, then delete (storage, index)
//!                 m.handle.delete_stored(stored.storage, stored.index).await?;
//!             }
//!         }
//!         _ => {}
//!     }
//!     // Sending, one part at a time so each part's outcome can be recorded:
//!     let to = Address::international("+447400123456");
//!     for part in pdu::encode_submit(&to, "Shift XYZ123 is yours", &SubmitOptions::default())? {
//!         match m.handle.send_pdu(SubmitPdu::from_pdu(part)?).await {
//!             Ok(_reference) => {}                                 // record: sent
//!             Err(e) if e.may_have_been_sent() => {}                // record: unknown, no resend
//!             Err(_e) => {}                                        // record: failed, may resend
//!         }
//!     }
//! }
//! # Ok(())
//! # }
//! ```

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
pub use urc::Urc;
pub use voice::{Call, CallEnd, CallerId, DialNumber, DialOutcome, HoldAction, HoldOptions};
