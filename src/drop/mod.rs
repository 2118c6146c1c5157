//! The CSV drop folder: schedulers add shifts, employees and campaigns by saving a sheet from
//! Excel into a folder (`[drop] dir`), and `shiftsms import FILE` does the same by hand.
//!
//! A file is read whole, checked whole, then applied in one short transaction, or not at all:
//! a file with any bad row changes nothing and is answered with every problem by line and
//! column.
//!
//! # Layout
//!
//! | file | what it holds |
//! |---|---|
//! | [`command`] | `shiftsms import FILE [--dry-run]` |
//! | [`decode`] | bytes to text: UTF-8 with or without BOM, UTF-16 (Excel "Unicode Text"); code-page files refused with how to save as CSV UTF-8 |
//! | [`csv`] | the pure row parser: records with line numbers, quoting, delimiters |
//! | [`rows`] | header recognition (kind, delimiter) and typed, checked rows, or line-numbered problems |
//! | [`files`] | which names are looked at, reading a file safely, moving it without overwriting |
//! | [`import`] | the plan against what the database holds (outside the write lock), then the one short write transaction |
//! | [`report`] | the `<name>.errors.txt` text, the log summary, moving files to `processed/` and `failed/` |
//! | [`watcher`] | the folder watcher the daemon runs as a task: inotify events, a start-up scan and a periodic rescan |
//!
//! The SQL lives in [`crate::store::import`].

pub mod command;
pub mod csv;
pub mod decode;
pub mod files;
pub mod import;
pub mod report;
pub mod rows;
pub mod watcher;
