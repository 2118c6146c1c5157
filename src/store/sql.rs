//! Value mapping between Rust types and SQLite columns, shared by the table modules.
//!
//! Timestamps are stored as UTC text `YYYY-MM-DD HH:MM:SS`, the form SQLite's
//! `CURRENT_TIMESTAMP` writes, so rows inserted by a person (column defaults) and rows written
//! by the daemon (the clock passed in) sort and compare alike. Sub-second precision is dropped.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::Offset;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};

use crate::service::phone::E164;

const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// A timestamp as stored.
pub(crate) fn time_text(at: Timestamp) -> String {
    at.strftime(TIME_FORMAT).to_string()
}

/// Parse a stored timestamp back.
pub(crate) fn parse_time(text: &str) -> Option<Timestamp> {
    let civil = DateTime::strptime(TIME_FORMAT, text).ok()?;
    Offset::UTC.to_timestamp(civil).ok()
}

/// SQLite counts are signed; a count is never negative.
pub(crate) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A timestamp column.
pub(crate) struct Time(pub Timestamp);

impl FromSql for Time {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        parse_time(text).map(Time).ok_or_else(|| {
            bad(format!(
                "{text:?} is not a UTC time like 2024-05-01 14:30:00"
            ))
        })
    }
}

/// A phone-number column (E.164 text).
pub(crate) struct Phone(pub E164);

impl FromSql for Phone {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        E164::from_international(text)
            .filter(|number| number.as_str() == text)
            .map(Phone)
            .ok_or_else(|| {
                bad(format!(
                    "{text:?} is not an E.164 number like +447400123456"
                ))
            })
    }
}

/// Enums stored as a word (`'queued'`, `'taken'`): see [`labels!`].
pub(crate) trait Label: Sized {
    fn from_label(label: &str) -> Option<Self>;
}

/// An enum column.
pub(crate) struct Labelled<T>(pub T);

impl<T: Label> FromSql for Labelled<T> {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        T::from_label(text).map(Labelled).ok_or_else(|| {
            bad(format!(
                "{text:?} is not a known {}",
                std::any::type_name::<T>()
                    .rsplit("::")
                    .next()
                    .unwrap_or("value")
            ))
        })
    }
}

fn bad(message: String) -> FromSqlError {
    FromSqlError::Other(message.into())
}

/// Give a field-less enum its database word both ways, and `Display` as that word (the
/// admin CLI shows exactly what `sqlite3` would show).
macro_rules! labels {
    ($ty:ident { $($variant:ident => $label:literal),+ $(,)? }) => {
        impl $ty {
            /// The word stored in the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $label),+
                }
            }
        }

        impl $crate::store::sql::Label for $ty {
            fn from_label(label: &str) -> Option<Self> {
                match label {
                    $($label => Some($ty::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use labels;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_at_second_precision() {
        let at: Timestamp = "2024-05-01T14:30:09.75Z".parse().unwrap();
        assert_eq!(time_text(at), "2024-05-01 14:30:09");
        assert_eq!(
            parse_time("2024-05-01 14:30:09"),
            Some("2024-05-01T14:30:09Z".parse().unwrap())
        );
        // Written in UTC whatever the offset it was made with.
        let later: Timestamp = "2024-05-01T16:30:09+02:00".parse().unwrap();
        assert_eq!(time_text(later), "2024-05-01 14:30:09");
        for junk in [
            "",
            "tomorrow",
            "2024-05-01",
            "2024-05-01T14:30:09Z",
            "2024-13-01 00:00:00",
        ] {
            assert_eq!(parse_time(junk), None, "{junk:?}");
        }
    }
}
