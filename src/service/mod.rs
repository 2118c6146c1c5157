//! The rules: what an employee's text means, what is booked, what is replied. Pure functions,
//! no I/O and no clock of their own (the caller passes `now`).

pub mod phone;
