//! The rules: what an employee's text means, what is booked, what is replied. Pure functions,
//! no I/O and no clock of their own (the caller passes `now`).
//!
//! | file | question it answers |
//! |---|---|
//! | [`shift_code`] | what is a shift code? |
//! | [`command`] | what did the employee ask for? |
//! | [`booking`] | which requested shifts are booked, taken, theirs already, unknown? |
//! | [`access`] | may this sender be served, and may we answer (whitelist, robots, rate limits)? |
//! | [`reply`] | what do we text back (templates, REQUEST pages, SMS cost)? |
//! | [`template`] | how is a `{placeholder}` text checked and filled? |
//! | [`phone`] | who is this number, in E.164? |
//! | [`hours`] | may an agent be phoned now, and if not, from when (business hours, local time)? |

pub mod access;
pub mod booking;
pub mod command;
pub mod hours;
pub mod phone;
pub mod reply;
pub mod shift_code;
pub mod template;

pub use shift_code::ShiftCode;
