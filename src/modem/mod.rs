//! Everything that speaks AT to a GSM modem. Knows nothing of shifts.

pub mod pdu;
