//! Who is served and who may be answered: the whitelist, the no-robots rule and the per-number
//! rate limits (DESIGN.md, "No auto-reply loops and no bill shock").
//!
//! Every reply costs money and an automatic reply to an automatic sender can loop for ever,
//! so the rules are, in order:
//! 1. never answer anything that is not a person's phone number: alphanumeric senders,
//!    short codes, addresses we cannot read ([`Sender::may_auto_reply`]);
//! 2. a number not in `employees` is served nothing; it is told "access denied" at most once
//!    per `limits.access_denied_interval`, and never after it texted STOP (replying to an
//!    opt-out from a stranger is exactly what STOP asks us not to do);
//! 3. an employee's command is always acted on (a booking is a booking), but its reply is
//!    suppressed once the number has had `limits.replies_per_hour` replies in the past hour
//!    or `limits.replies_per_day` in the past 24 hours.
//!
//! The daemon gathers the facts from the store (counts of replies queued to the number since
//! [`windows`] and the time of its last access-denied reply) and passes `now` in.

use jiff::{SignedDuration, Timestamp};

use crate::service::command::Command;
use crate::service::phone::Sender;

/// The limits from `[limits]` in config.toml.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyLimits {
    /// Replies (of any kind) to one number in any one hour.
    pub per_hour: u32,
    /// Replies (of any kind) to one number in any 24 hours.
    pub per_day: u32,
    /// Least time between two access-denied replies to one unknown number.
    pub access_denied_interval: SignedDuration,
}

impl Default for ReplyLimits {
    fn default() -> Self {
        ReplyLimits {
            per_hour: 10,
            per_day: 30,
            access_denied_interval: SignedDuration::from_hours(24),
        }
    }
}

/// The windows the reply counts in [`Facts`] cover: replies queued at or after `hour` and at
/// or after `day`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    pub hour: Timestamp,
    pub day: Timestamp,
}

pub fn windows(now: Timestamp) -> Windows {
    // Timestamp arithmetic saturates rather than fails only near year -9999; `now` is real.
    let back = |d: SignedDuration| now.checked_sub(d).unwrap_or(Timestamp::MIN);
    Windows {
        hour: back(SignedDuration::from_hours(1)),
        day: back(SignedDuration::from_hours(24)),
    }
}

/// What the daemon knows about an inbound message when deciding whether to answer it.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub sender: &'a Sender,
    /// The sender is a phone number present in `employees`.
    pub is_employee: bool,
    pub command: &'a Command,
    /// When this number last got the access-denied reply, if ever.
    pub last_denied: Option<Timestamp>,
    /// Replies queued to this number in [`Windows::hour`] and [`Windows::day`].
    pub replies_last_hour: u32,
    pub replies_last_day: u32,
}

/// What to do with an inbound message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// An employee: act on the command, and send its reply if `reply` is [`Reply::Send`].
    Serve(Reply),
    /// A phone number not in `employees`: act on nothing; send the access-denied text if
    /// `reply` is [`Reply::Send`] (and record when, for the next decision).
    Deny(Reply),
    /// Not a person: act on nothing, answer nothing.
    Ignore(NotAPerson),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    Send,
    Suppress(Suppressed),
}

/// Why a reply is not sent (for the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Suppressed {
    #[error("{sent} replies to this number in the past hour (limit {limit})")]
    HourlyLimit { sent: u32, limit: u32 },
    #[error("{sent} replies to this number in the past 24 hours (limit {limit})")]
    DailyLimit { sent: u32, limit: u32 },
    #[error("access denied already sent at {last}; next possible at {next}")]
    DeniedRecently { last: Timestamp, next: Timestamp },
    #[error("an unknown number texted STOP: it asked not to be texted")]
    StrangerOptedOut,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotAPerson {
    #[error("short code")]
    ShortCode,
    #[error("alphanumeric sender")]
    Alphanumeric,
    #[error("unrecognised address")]
    Unrecognised,
}

/// Decide whether to serve and whether to answer.
pub fn judge(facts: &Facts<'_>, now: Timestamp, limits: &ReplyLimits) -> Verdict {
    match facts.sender {
        Sender::Phone(_) => {}
        Sender::ShortCode(_) => return Verdict::Ignore(NotAPerson::ShortCode),
        Sender::Alphanumeric(_) => return Verdict::Ignore(NotAPerson::Alphanumeric),
        Sender::Unrecognised(_) => return Verdict::Ignore(NotAPerson::Unrecognised),
    }
    debug_assert!(facts.sender.may_auto_reply());
    let within_limits = || {
        if facts.replies_last_hour >= limits.per_hour {
            Reply::Suppress(Suppressed::HourlyLimit {
                sent: facts.replies_last_hour,
                limit: limits.per_hour,
            })
        } else if facts.replies_last_day >= limits.per_day {
            Reply::Suppress(Suppressed::DailyLimit {
                sent: facts.replies_last_day,
                limit: limits.per_day,
            })
        } else {
            Reply::Send
        }
    };
    if facts.is_employee {
        return Verdict::Serve(within_limits());
    }
    if *facts.command == Command::Stop {
        return Verdict::Deny(Reply::Suppress(Suppressed::StrangerOptedOut));
    }
    if let Some(last) = facts.last_denied {
        let next = last
            .checked_add(limits.access_denied_interval)
            .unwrap_or(Timestamp::MAX);
        if now < next {
            return Verdict::Deny(Reply::Suppress(Suppressed::DeniedRecently { last, next }));
        }
    }
    Verdict::Deny(within_limits())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::phone::E164;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn decisions() {
        let phone = Sender::Phone(E164::from_international("+447400123456").unwrap());
        let short = Sender::ShortCode("40404".into());
        let alpha = Sender::Alphanumeric("Vodafone".into());
        let unreadable = Sender::Unrecognised("0123".into());
        let (help, stop) = (Command::Help, Command::Stop);
        let now = at("2025-03-01T12:00:00Z");
        let limits = ReplyLimits::default();
        let denied = |last: &str| {
            let last = at(last);
            Reply::Suppress(Suppressed::DeniedRecently {
                last,
                next: last + SignedDuration::from_hours(24),
            })
        };
        let hourly = |sent| Reply::Suppress(Suppressed::HourlyLimit { sent, limit: 10 });
        let daily = |sent| Reply::Suppress(Suppressed::DailyLimit { sent, limit: 30 });
        // (sender, employee, command, last denied, last hour, last day) -> verdict
        type Case<'a> = (
            &'a Sender,
            bool,
            &'a Command,
            Option<&'a str>,
            u32,
            u32,
            Verdict,
        );
        #[rustfmt::skip]
        let cases: Vec<Case> = vec![
            (&short, false, &help, None, 0, 0, Verdict::Ignore(NotAPerson::ShortCode)),
            (&short, true, &help, None, 0, 0, Verdict::Ignore(NotAPerson::ShortCode)),
            (&alpha, false, &help, None, 0, 0, Verdict::Ignore(NotAPerson::Alphanumeric)),
            (&unreadable, false, &stop, None, 0, 0, Verdict::Ignore(NotAPerson::Unrecognised)),
            // Employees: served, replies limited per hour then per day.
            (&phone, true, &help, None, 0, 0, Verdict::Serve(Reply::Send)),
            (&phone, true, &stop, None, 0, 0, Verdict::Serve(Reply::Send)),
            (&phone, true, &help, None, 9, 29, Verdict::Serve(Reply::Send)),
            (&phone, true, &help, None, 10, 10, Verdict::Serve(hourly(10))),
            (&phone, true, &help, None, 11, 40, Verdict::Serve(hourly(11))),
            (&phone, true, &help, None, 3, 30, Verdict::Serve(daily(30))),
            // An employee never gets access denied, whatever an old record says.
            (&phone, true, &help, Some("2025-03-01T11:00:00Z"), 0, 0, Verdict::Serve(Reply::Send)),
            // Strangers: denied once per interval, never after STOP.
            (&phone, false, &help, None, 0, 0, Verdict::Deny(Reply::Send)),
            (&phone, false, &stop, None, 0, 0, Verdict::Deny(Reply::Suppress(Suppressed::StrangerOptedOut))),
            (&phone, false, &help, Some("2025-03-01T11:59:59Z"), 1, 1, Verdict::Deny(denied("2025-03-01T11:59:59Z"))),
            (&phone, false, &help, Some("2025-02-28T12:00:01Z"), 1, 1, Verdict::Deny(denied("2025-02-28T12:00:01Z"))),
            (&phone, false, &help, Some("2025-02-28T12:00:00Z"), 1, 1, Verdict::Deny(Reply::Send)),
            (&phone, false, &help, Some("2024-01-01T00:00:00Z"), 0, 0, Verdict::Deny(Reply::Send)),
            // ...and still inside the general limits.
            (&phone, false, &help, None, 10, 10, Verdict::Deny(hourly(10))),
            (&phone, false, &help, None, 0, 30, Verdict::Deny(daily(30))),
        ];
        for (i, (sender, is_employee, command, last, hour, day, want)) in
            cases.into_iter().enumerate()
        {
            let facts = Facts {
                sender,
                is_employee,
                command,
                last_denied: last.map(at),
                replies_last_hour: hour,
                replies_last_day: day,
            };
            assert_eq!(judge(&facts, now, &limits), want, "case {i}: {facts:?}");
        }
    }

    #[test]
    fn custom_interval() {
        let phone = Sender::Phone(E164::from_international("+447400123456").unwrap());
        let limits = ReplyLimits {
            access_denied_interval: SignedDuration::from_mins(10),
            ..ReplyLimits::default()
        };
        let facts = Facts {
            sender: &phone,
            is_employee: false,
            command: &Command::Unrecognised,
            last_denied: Some(at("2025-03-01T11:50:00Z")),
            replies_last_hour: 1,
            replies_last_day: 1,
        };
        assert_eq!(
            judge(&facts, at("2025-03-01T12:00:00Z"), &limits),
            Verdict::Deny(Reply::Send)
        );
        assert!(matches!(
            judge(&facts, at("2025-03-01T11:59:59Z"), &limits),
            Verdict::Deny(Reply::Suppress(Suppressed::DeniedRecently { .. }))
        ));
    }

    #[test]
    fn count_windows() {
        let w = windows(at("2025-03-01T12:00:00Z"));
        assert_eq!(w.hour, at("2025-03-01T11:00:00Z"));
        assert_eq!(w.day, at("2025-02-28T12:00:00Z"));
    }
}
