//! Everything that speaks AT to a GSM modem. Knows nothing of shifts.

pub mod command;
pub mod engine;
pub mod fields;
pub mod frame;
pub mod init;
pub mod network;
pub mod pdu;
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
