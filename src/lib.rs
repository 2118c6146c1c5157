//! shiftsms: text open overtime shifts to employees and let them book by replying, through a
//! USB GSM modem and SQLite, with no cloud.
//!
//! # Layout
//!
//! | module | what it holds | talks to |
//! |---|---|---|
//! | [`modem`] | everything that speaks AT: serial transport, line framing, typed commands, the init sequence, the SMS PDU codec, voice calls | the serial port; knows nothing of shifts |
//! | [`service`] | the rules: parse an employee's text, decide bookings and replies, render templates, phone numbers | nothing: pure functions |
//! | [`virtual_modem`] | a GSM modem emulator on a pseudo-terminal, with the quirks of real families, driven by tests and the demo | a pty it creates |
//!
//! The binary (`src/main.rs`) only parses arguments, loads the config and calls in here.

#![forbid(unsafe_code)]

pub mod modem;
pub mod service;
pub mod virtual_modem;
