//! Business hours: when agents may be phoned, as weekly windows in the SITE's local time
//! (`[agent] hours = ["Mon-Fri 08:00-18:00", "Sat 09:00-12:00"]`).
//!
//! Local time, because that is how a site writes its opening hours and how an employee reads
//! "we will call you from Mon 08:00"; the time zone is passed in (the system's on a site PC,
//! a fixed one in tests), and so is the instant: nothing here reads a clock. Daylight-saving
//! changes follow jiff's "compatible" rule: an opening time that falls in the hour skipped in
//! spring opens at the first instant after it; one in the hour repeated in autumn opens the
//! first time round.
//!
//! No window means "any time". A window never crosses midnight (a night desk is written as
//! two windows, `"Mon-Sun 20:00-24:00"` and `"Mon-Sun 00:00-08:00"`), so each window belongs
//! to one calendar day and the arithmetic stays on civil dates.

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// Days, Monday first, as in ISO 8601.
const DAYS: [(Weekday, &str, &str); 7] = [
    (Weekday::Monday, "Mon", "monday"),
    (Weekday::Tuesday, "Tue", "tuesday"),
    (Weekday::Wednesday, "Wed", "wednesday"),
    (Weekday::Thursday, "Thu", "thursday"),
    (Weekday::Friday, "Fri", "friday"),
    (Weekday::Saturday, "Sat", "saturday"),
    (Weekday::Sunday, "Sun", "sunday"),
];

/// Minutes in a day: `24:00` closes a window at midnight.
const DAY_MINUTES: u16 = 24 * 60;

/// One weekly window: on each of `days`, from `start` to `end` (minutes after midnight).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    /// Indexed like [`DAYS`].
    days: [bool; 7],
    start: u16,
    end: u16,
}

/// When agents may be phoned. [`BusinessHours::always`] (no window) is any time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BusinessHours {
    windows: Vec<Window>,
    /// As written, for messages and logs.
    written: Vec<String>,
}

/// Why a window is not understood; the message says what is expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    #[error("expected days then times, like \"Mon-Fri 08:00-18:00\" or \"Sat,Sun 09:00-12:00\"")]
    Shape,
    #[error("{0:?} is not a day (Mon, Tue, Wed, Thu, Fri, Sat, Sun, or the full name)")]
    Day(String),
    #[error("{0:?} is not a time of day like 08:00 (00:00 to 24:00)")]
    Time(String),
    #[error(
        "the window must end after it starts; a window crossing midnight is written as two, \
         like \"Mon-Sun 20:00-24:00\" and \"Mon-Sun 00:00-08:00\""
    )]
    Backwards,
}

fn day(text: &str) -> Result<usize, HoursError> {
    let lower = text.trim().to_ascii_lowercase();
    DAYS.iter()
        .position(|(_, short, long)| lower == short.to_ascii_lowercase() || lower == *long)
        .ok_or_else(|| HoursError::Day(text.trim().to_string()))
}

fn minutes(text: &str) -> Result<u16, HoursError> {
    let bad = || HoursError::Time(text.to_string());
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || m.len() != 2 || !digits(m) {
        return Err(bad());
    }
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    let total = h * 60 + m;
    if m >= 60 || total > DAY_MINUTES {
        return Err(bad());
    }
    Ok(total)
}

impl FromStr for Window {
    type Err = HoursError;

    /// `DAYS TIMES`: DAYS is a comma-separated list of days or day ranges (`Mon-Fri`,
    /// `Fri-Mon` wraps over the weekend), TIMES is `HH:MM-HH:MM`.
    fn from_str(text: &str) -> Result<Window, HoursError> {
        let mut words = text.split_whitespace();
        let (Some(days_text), Some(times), None) = (words.next(), words.next(), words.next())
        else {
            return Err(HoursError::Shape);
        };
        let mut days = [false; 7];
        for item in days_text.split(',') {
            match item.split_once('-') {
                Some((from, to)) => {
                    let (from, to) = (day(from)?, day(to)?);
                    let mut d = from;
                    loop {
                        days[d] = true;
                        if d == to {
                            break;
                        }
                        d = (d + 1) % 7;
                    }
                }
                None => days[day(item)?] = true,
            }
        }
        let (start, end) = times.split_once('-').ok_or(HoursError::Shape)?;
        let (start, end) = (minutes(start)?, minutes(end)?);
        if end <= start {
            return Err(HoursError::Backwards);
        }
        Ok(Window { days, start, end })
    }
}

impl BusinessHours {
    /// Any time.
    pub fn always() -> BusinessHours {
        BusinessHours::default()
    }

    /// Windows as written in the config; the error gives the index of the one not understood.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<BusinessHours, (usize, HoursError)> {
        let mut hours = BusinessHours::default();
        for (i, entry) in entries.iter().enumerate() {
            hours
                .windows
                .push(entry.as_ref().parse().map_err(|e| (i, e))?);
            hours.written.push(
                entry
                    .as_ref()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
        Ok(hours)
    }

    /// No window: agents may be phoned at any time.
    pub fn is_always(&self) -> bool {
        self.windows.is_empty()
    }

    /// Whether `at` is inside a window, in `tz`.
    pub fn is_open(&self, at: Timestamp, tz: &TimeZone) -> bool {
        self.next_open(at, tz) == at
    }

    /// The first instant from `at` on that is inside a window (`at` itself when open).
    pub fn next_open(&self, at: Timestamp, tz: &TimeZone) -> Timestamp {
        if self.windows.is_empty() {
            return at;
        }
        let today = at.to_zoned_datetime(tz.clone()).date();
        let mut best: Option<Timestamp> = None;
        // A window opens at least once a week: today and the next seven days hold one.
        for ahead in 0..=7i64 {
            let Ok(date) = today.checked_add(ahead.days()) else {
                break;
            };
            let weekday = DAYS
                .iter()
                .position(|(d, _, _)| *d == date.weekday())
                .unwrap_or(0);
            for window in self.windows.iter().filter(|w| w.days[weekday]) {
                let (Some(start), Some(end)) = (
                    instant(date, window.start, tz),
                    instant(date, window.end, tz),
                ) else {
                    continue;
                };
                if at < end {
                    let opens = start.max(at);
                    best = Some(best.map_or(opens, |b| b.min(opens)));
                }
            }
            if best.is_some() {
                break;
            }
        }
        // Every window lies within a week, so one was found; an arithmetic overflow at the
        // end of time leaves the callback waiting a week rather than calling out of hours.
        best.unwrap_or_else(|| at.checked_add(168.hours()).unwrap_or(at))
    }
}

/// `minutes` after midnight on `date`, in `tz` (24:00 is the next midnight).
fn instant(date: Date, minutes: u16, tz: &TimeZone) -> Option<Timestamp> {
    let (date, minutes) = if minutes >= DAY_MINUTES {
        (date.checked_add(1.day()).ok()?, minutes - DAY_MINUTES)
    } else {
        (date, minutes)
    };
    let time = Time::new((minutes / 60) as i8, (minutes % 60) as i8, 0, 0).ok()?;
    tz.to_timestamp(date.to_datetime(time)).ok()
}

impl fmt::Display for BusinessHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.written.is_empty() {
            return f.write_str("any time");
        }
        f.write_str(&self.written.join(", "))
    }
}

/// How an opening time is shown to an employee: the local weekday and time, "Mon 08:00".
pub fn show_opening(at: Timestamp, tz: &TimeZone) -> String {
    at.to_zoned_datetime(tz.clone())
        .strftime("%a %H:%M")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(entries: &[&str]) -> BusinessHours {
        BusinessHours::parse(entries).unwrap()
    }

    /// A local civil time in `tz` as an instant.
    fn local(text: &str, tz: &TimeZone) -> Timestamp {
        let civil: jiff::civil::DateTime = text.parse().unwrap();
        tz.to_timestamp(civil).unwrap()
    }

    #[test]
    fn windows_parse_or_say_what_is_wrong() {
        let ok = [
            "Mon-Fri 08:00-18:00",
            "  sat   9:00-12:30 ",
            "Mon,Wed,Fri 08:00-12:00",
            "Fri-Mon 00:00-24:00",
            "sunday 10:00-11:00",
        ];
        assert!(BusinessHours::parse(&ok).is_ok());
        let bad = [
            ("Mon-Fri", HoursError::Shape),
            ("Mon-Fri 08:00-18:00 extra", HoursError::Shape),
            ("Mon-Fri 08:00", HoursError::Shape),
            ("Mun-Fri 08:00-18:00", HoursError::Day("Mun".into())),
            ("Mon 8-18", HoursError::Time("8".into())),
            ("Mon 08:00-24:01", HoursError::Time("24:01".into())),
            ("Mon 08:60-09:00", HoursError::Time("08:60".into())),
            ("Mon 18:00-08:00", HoursError::Backwards),
            ("Mon 08:00-08:00", HoursError::Backwards),
        ];
        for (text, want) in bad {
            assert_eq!(
                BusinessHours::parse(&["Sat 09:00-12:00", text]),
                Err((1, want)),
                "{text}"
            );
        }
        assert_eq!(
            hours(&["Mon-Fri  08:00-18:00", "Sat 09:00-12:00"]).to_string(),
            "Mon-Fri 08:00-18:00, Sat 09:00-12:00"
        );
        assert_eq!(BusinessHours::always().to_string(), "any time");
    }

    #[test]
    fn open_and_next_opening_in_local_time() {
        // 2025-03-07 is a Friday. Paris is UTC+1 in March before the 30th.
        let tz = TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3").unwrap();
        let week = hours(&["Mon-Fri 08:00-18:00", "Sat 09:00-12:00"]);
        let cases = [
            // (local now, open?, next opening local)
            ("2025-03-07T07:59:59", false, "2025-03-07T08:00:00"),
            ("2025-03-07T08:00:00", true, "2025-03-07T08:00:00"),
            ("2025-03-07T17:59:59", true, "2025-03-07T17:59:59"),
            ("2025-03-07T18:00:00", false, "2025-03-08T09:00:00"),
            ("2025-03-08T12:00:00", false, "2025-03-10T08:00:00"),
            ("2025-03-09T23:00:00", false, "2025-03-10T08:00:00"),
        ];
        for (now, open, next) in cases {
            let at = local(now, &tz);
            assert_eq!(week.is_open(at, &tz), open, "{now}");
            assert_eq!(week.next_open(at, &tz), local(next, &tz), "{now}");
        }
        assert_eq!(
            show_opening(local("2025-03-10T08:00:00", &tz), &tz),
            "Mon 08:00"
        );
        // Any time.
        let at = local("2025-03-09T03:00:00", &tz);
        assert!(BusinessHours::always().is_open(at, &tz));
        assert_eq!(BusinessHours::always().next_open(at, &tz), at);
    }

    #[test]
    fn a_window_ending_at_midnight_and_one_only_next_week() {
        let tz = TimeZone::UTC;
        let late = hours(&["Wed 20:00-24:00"]);
        // Wednesday 2025-03-05.
        assert!(late.is_open(local("2025-03-05T23:59:59", &tz), &tz));
        assert_eq!(
            late.next_open(local("2025-03-06T00:00:00", &tz), &tz),
            local("2025-03-12T20:00:00", &tz)
        );
        // Later the same weekday, after the window: a week on.
        assert_eq!(
            hours(&["Wed 08:00-09:00"]).next_open(local("2025-03-05T10:00:00", &tz), &tz),
            local("2025-03-12T08:00:00", &tz)
        );
    }

    #[test]
    fn daylight_saving_changes_follow_the_wall_clock() {
        let tz = TimeZone::posix("GMT0BST,M3.5.0/1,M10.5.0").unwrap();
        // Sunday 2025-03-30: clocks go from 01:00 to 02:00. A window opening at 01:30 opens
        // at 02:30 BST (the first wall-clock time after the gap, one hour on).
        let night = hours(&["Sun 01:30-03:00"]);
        let before = "2025-03-30T00:00:00Z".parse().unwrap();
        let opens = night.next_open(before, &tz);
        assert_eq!(opens, "2025-03-30T01:30:00Z".parse().unwrap());
        // An ordinary day after the change: 08:00 BST is 07:00 UTC.
        let day = hours(&["Mon-Fri 08:00-18:00"]);
        let monday = "2025-03-31T06:00:00Z".parse().unwrap();
        assert_eq!(
            day.next_open(monday, &tz),
            "2025-03-31T07:00:00Z".parse().unwrap()
        );
    }
}
