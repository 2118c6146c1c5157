//! TP-Service-Centre-Time-Stamp and the other 7-octet times (TP-DT, absolute TP-VP),
//! TS 23.040 §9.2.3.11: year, month, day, hour, minute, second, time zone, each two decimal
//! digits in swapped semi-octets (units in the high nibble). The time zone counts quarter
//! hours; bit 3 of its octet (in the tens nibble) is the sign.

use std::fmt;

use super::error::{DecodeError, EncodeError};
use super::reader::Reader;

/// A service-centre time, as the network wrote it: local time plus its offset from UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timestamp {
    /// Full year. The PDU carries two digits: 90..=99 are read as 1990s (GSM did not carry
    /// SMS before then), everything else as 20xx.
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    /// Offset from UTC in quarters of an hour, -79..=79.
    pub tz_quarter_hours: i8,
}

impl Timestamp {
    /// Read the 7 octets. Every digit must be decimal; values are reported as sent (a
    /// network's odd clock is worth logging, not worth losing the message over), and
    /// [`Timestamp::to_jiff`] says whether they form a real instant.
    pub(crate) fn decode(
        reader: &mut Reader<'_>,
        field: &'static str,
    ) -> Result<Self, DecodeError> {
        let octets = reader.take(7, field)?;
        let digits = |octet: u8| -> Result<u8, DecodeError> {
            let (tens, units) = (octet & 0x0F, octet >> 4);
            for nibble in [tens, units] {
                if nibble > 9 {
                    return Err(DecodeError::BadSemiOctet { field, nibble });
                }
            }
            Ok(tens * 10 + units)
        };
        let year = digits(octets[0])?;
        let tz = octets[6];
        // The sign bit sits in the tens nibble, leaving it three bits (0..=7).
        let quarters = digits(tz & !0x08)? as i8;
        let century = if year >= 90 { 1900 } else { 2000 };
        Ok(Timestamp {
            year: century + u16::from(year),
            month: digits(octets[1])?,
            day: digits(octets[2])?,
            hour: digits(octets[3])?,
            minute: digits(octets[4])?,
            second: digits(octets[5])?,
            tz_quarter_hours: if tz & 0x08 != 0 { -quarters } else { quarters },
        })
    }

    /// The 7 octets of this time. Fields are checked only for fitting two digits; the
    /// virtual modem may want to send a network's odd clock.
    pub fn encode(&self) -> Result<[u8; 7], EncodeError> {
        let swapped = |field: &'static str, value: i32| -> Result<u8, EncodeError> {
            if !(0..=99).contains(&value) {
                return Err(EncodeError::InvalidTimestamp { field, value });
            }
            let value = value as u8;
            Ok(((value % 10) << 4) | (value / 10))
        };
        let tz = i32::from(self.tz_quarter_hours);
        if tz.abs() > 79 {
            return Err(EncodeError::InvalidTimestamp {
                field: "time zone",
                value: tz,
            });
        }
        Ok([
            swapped("year", i32::from(self.year) % 100)?,
            swapped("month", i32::from(self.month))?,
            swapped("day", i32::from(self.day))?,
            swapped("hour", i32::from(self.hour))?,
            swapped("minute", i32::from(self.minute))?,
            swapped("second", i32::from(self.second))?,
            swapped("time zone", tz.abs())? | if tz < 0 { 0x08 } else { 0 },
        ])
    }

    /// The time a network in time zone `offset` would stamp on `instant` (the virtual modem
    /// stamps injected messages with it). The offset is truncated to whole quarter hours;
    /// the year, like the PDU's, is meaningful from 1990 to 2089.
    pub fn from_jiff(instant: jiff::Timestamp, offset: jiff::tz::Offset) -> Self {
        let civil = offset.to_datetime(instant);
        let quarters = (offset.seconds() / (15 * 60)).clamp(-79, 79);
        Timestamp {
            year: u16::try_from(civil.year()).unwrap_or(0),
            month: civil.month().unsigned_abs(),
            day: civil.day().unsigned_abs(),
            hour: civil.hour().unsigned_abs(),
            minute: civil.minute().unsigned_abs(),
            second: civil.second().unsigned_abs(),
            tz_quarter_hours: quarters as i8,
        }
    }

    /// The instant this names, or `None` when the fields are not a real date and time.
    pub fn to_jiff(&self) -> Option<jiff::Timestamp> {
        let civil = jiff::civil::DateTime::new(
            i16::try_from(self.year).ok()?,
            i8::try_from(self.month).ok()?,
            i8::try_from(self.day).ok()?,
            i8::try_from(self.hour).ok()?,
            i8::try_from(self.minute).ok()?,
            i8::try_from(self.second).ok()?,
            0,
        )
        .ok()?;
        let offset =
            jiff::tz::Offset::from_seconds(i32::from(self.tz_quarter_hours) * 15 * 60).ok()?;
        offset.to_timestamp(civil).ok()
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 layout, with the network's own offset.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let minutes = i32::from(self.tz_quarter_hours) * 15;
        let sign = if minutes < 0 { '-' } else { '+' };
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}{:02}:{:02}",
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            sign,
            minutes.abs() / 60,
            minutes.abs() % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modem::pdu::hex::from_hex;
    use proptest::prelude::*;

    fn decode_hex(hex: &str) -> Result<Timestamp, DecodeError> {
        let bytes = from_hex(hex).unwrap();
        Timestamp::decode(&mut Reader::new(&bytes), "TP-SCTS")
    }

    #[test]
    fn published_timestamps() {
        // Sources: python-gsmmodem test/test_pdu.py (TestTimestamp), the classic DELIVER
        // example (dreamfabric.com/sms: 99309251619580 = 29/03/99 16:59:08 GMT+2, here
        // in the quarter-hour reading), ModemManager test-sms-part-3gpp.c (test_pdu1: -05:00).
        let table: &[(&str, &str)] = &[
            ("51117200000000", "2015-11-27T00:00:00+00:00"),
            ("51117200000080", "2015-11-27T00:00:00+02:00"),
            ("70402132522423", "2007-04-12T23:25:42+08:00"),
            ("7040213252242B", "2007-04-12T23:25:42-08:00"),
            ("99309251619580", "1999-03-29T15:16:59+02:00"),
            ("11208211050502", "2011-02-28T11:50:50+05:00"),
            ("1120821105050A", "2011-02-28T11:50:50-05:00"),
        ];
        for &(hex, want) in table {
            let timestamp = decode_hex(hex).unwrap();
            assert_eq!(timestamp.to_string(), want, "{hex}");
            assert_eq!(timestamp.encode().unwrap().to_vec(), from_hex(hex).unwrap());
            assert!(timestamp.to_jiff().is_some());
        }
    }

    #[test]
    fn jiff_instant_applies_the_offset() {
        let ts = decode_hex("51117200000080").unwrap();
        assert_eq!(ts.to_jiff().unwrap().to_string(), "2015-11-26T22:00:00Z");
        let nonsense = Timestamp { month: 13, ..ts };
        assert_eq!(nonsense.to_jiff(), None);
    }

    #[test]
    fn from_jiff_is_the_inverse_of_to_jiff() {
        let instant: jiff::Timestamp = "2025-03-30T00:59:59Z".parse().unwrap();
        for hours in [-12i8, -3, 0, 1, 2, 14] {
            let ts = Timestamp::from_jiff(instant, jiff::tz::Offset::constant(hours));
            assert_eq!(ts.tz_quarter_hours, hours * 4);
            assert_eq!(ts.to_jiff(), Some(instant), "{ts}");
            assert!(ts.encode().is_ok());
        }
        let india = jiff::tz::Offset::from_seconds(5 * 3600 + 1800).unwrap();
        assert_eq!(
            Timestamp::from_jiff(instant, india).to_string(),
            "2025-03-30T06:29:59+05:30"
        );
    }

    #[test]
    fn rejects_non_decimal_and_short() {
        assert_eq!(
            decode_hex("5111720000F000"),
            Err(DecodeError::BadSemiOctet {
                field: "TP-SCTS",
                nibble: 0x0F
            })
        );
        assert!(matches!(
            decode_hex("511172000000"),
            Err(DecodeError::Truncated {
                field: "TP-SCTS",
                needed: 7,
                available: 6
            })
        ));
        let bad = Timestamp {
            tz_quarter_hours: -80,
            ..decode_hex("51117200000000").unwrap()
        };
        assert!(bad.encode().is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn round_trips(year in 1990u16..2090, month in 0u8..100, day in 0u8..100, hour in 0u8..100,
                       minute in 0u8..100, second in 0u8..100, tz in -79i8..=79) {
            let ts = Timestamp { year, month, day, hour, minute, second, tz_quarter_hours: tz };
            let octets = ts.encode().unwrap();
            prop_assert_eq!(Timestamp::decode(&mut Reader::new(&octets), "TP-SCTS"), Ok(ts));
        }
    }
}
