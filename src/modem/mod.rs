//! Everything that speaks AT to a GSM modem. Knows nothing of shifts.

pub mod command;
pub mod fields;
pub mod frame;
pub mod network;
pub mod pdu;
pub mod sim;
pub mod sms;
pub mod urc;
pub mod voice;
