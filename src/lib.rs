//! shiftsms: text open overtime shifts to employees and let them book by replying, through a
//! USB GSM modem and SQLite, with no cloud.
//!
//! # Layout
//!
//! | module | what it holds | talks to |
//! |---|---|---|
//! | [`config`] | `config.toml` read into typed settings, every key and template checked, errors naming file, key and line | the config file |
//! | [`modem`] | everything that speaks AT: serial transport, line framing, typed commands, the init sequence, the SMS PDU codec, voice calls | the serial port; knows nothing of shifts |
//! | [`admin`] | the admin subcommands (shifts, employees, campaigns, queues) over the store, with aligned tables | the store |
//! | [`store`] | SQLite: schema and migrations, one module per table family, every query; typed rows in and out | the database file; knows nothing of modems |
//! | [`drop`] | the CSV drop folder and `shiftsms import`: decode, parse and check a file, import it all or nothing, watch the folder | the drop folder, the store |
//! | [`daemon`] | `shiftsms run`: the tasks (inbound pipeline, outbox sender, campaign watcher, ...) joined under one shutdown signal, and `shiftsms demo` | the modem, the store, the rules |
//! | [`service`] | the rules: parse an employee's text, decide bookings and replies, render templates, phone numbers | nothing: pure functions |
//! | [`logging`] | where log lines go (the journal under systemd, else stderr) and phone numbers masked in them | journald, stderr |
//! | [`virtual_modem`] | a GSM modem emulator on a pseudo-terminal, with the quirks of real families, driven by tests and the demo | a pty it creates |
//!
//! The binary (`src/main.rs`) only parses arguments, loads the config and calls in here.

#![forbid(unsafe_code)]

pub mod admin;
pub mod config;
pub mod daemon;
pub mod drop;
pub mod logging;
pub mod modem;
pub mod service;
pub mod store;
pub mod virtual_modem;
