//! Network registration, signal quality, operator and SMS centre (3GPP TS 27.007 §7.2, §7.3,
//! §8.5; TS 27.005 §3.3.1), parsed from the modem's information lines.

use std::fmt;

use super::fields::{self, Field, Fields, ParseError};

/// `<stat>` of `+CREG` (TS 27.007 §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationStatus {
    /// 0: not registered, not searching for an operator.
    NotSearching,
    /// 1: registered on the home network.
    Home,
    /// 2: not registered, searching.
    Searching,
    /// 3: registration denied by the network.
    Denied,
    /// 4: unknown (e.g. out of coverage).
    Unknown,
    /// 5: registered, roaming.
    Roaming,
    /// 6..: the later values (SMS-only, emergency-only, CSFB not preferred), kept as numbers.
    Other(u8),
}

impl RegistrationStatus {
    /// From the numeric `<stat>`.
    pub fn from_code(code: u8) -> Self {
        match code {
            0 => RegistrationStatus::NotSearching,
            1 => RegistrationStatus::Home,
            2 => RegistrationStatus::Searching,
            3 => RegistrationStatus::Denied,
            4 => RegistrationStatus::Unknown,
            5 => RegistrationStatus::Roaming,
            other => RegistrationStatus::Other(other),
        }
    }

    /// Whether SMS can be sent and received: home or roaming, and 6/7 ("SMS only", TS 27.007
    /// §7.2 values for E-UTRAN) count too.
    pub fn is_registered(self) -> bool {
        matches!(
            self,
            RegistrationStatus::Home
                | RegistrationStatus::Roaming
                | RegistrationStatus::Other(6 | 7)
        )
    }
}

impl fmt::Display for RegistrationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistrationStatus::NotSearching => f.write_str("not registered, not searching"),
            RegistrationStatus::Home => f.write_str("registered (home network)"),
            RegistrationStatus::Searching => f.write_str("searching for a network"),
            RegistrationStatus::Denied => f.write_str("registration denied"),
            RegistrationStatus::Unknown => f.write_str("unknown (out of coverage?)"),
            RegistrationStatus::Roaming => f.write_str("registered (roaming)"),
            RegistrationStatus::Other(n) => write!(f, "status {n}"),
        }
    }
}

/// Registration as reported by `+CREG` (solicited or unsolicited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Registration {
    /// Where the modem stands.
    pub status: RegistrationStatus,
    /// Location area code, when the modem reports it (`+CREG=2`).
    pub lac: Option<u32>,
    /// Cell id, when the modem reports it.
    pub cell_id: Option<u32>,
}

const MAX_STAT: u64 = u8::MAX as u64;
const MAX_LAC: u64 = 0xFFFF_FFFF;

/// The answer to `AT+CREG?`: `+CREG: <n>,<stat>[,<lac>,<ci>[,<AcT>]]`.
pub fn parse_creg_query(line: &str) -> Result<Registration, ParseError> {
    let p = fields::params(line, "+CREG:")?;
    let err = |e| ParseError::new(line, e);
    let status = p.number(1, MAX_STAT).map_err(err)?;
    Ok(Registration {
        status: RegistrationStatus::from_code(status as u8),
        lac: location(&p, 2),
        cell_id: location(&p, 3),
    })
}

/// An unsolicited `+CREG:` (parameters after the prefix).
///
/// With `AT+CREG=1` it is `<stat>`; with `=2` `<stat>,<lac>,<ci>[,<AcT>]`. Some modems send
/// the solicited shape (`<n>,<stat>,...`) unsolicited (ModemManager's Sony-Ericsson MD400
/// vector `+CREG: 2,5,"0502","0404736D"`): two values, or four or more whose second is a
/// small unquoted number (a location code is quoted or four hex digits), are read that way.
pub fn parse_creg_unsolicited(line: &str) -> Result<Registration, ParseError> {
    let p = fields::params(line, "+CREG:")?;
    let err = |e| ParseError::new(line, e);
    let solicited_shape = match p.len() {
        2 => true,
        n if n >= 4 => {
            matches!(&p[1], Field::Bare(s) if s.len() <= 2 && fields::decimal(s, 10).is_some())
        }
        _ => false,
    };
    let first = usize::from(solicited_shape);
    let status = p.number(first, MAX_STAT).map_err(err)?;
    Ok(Registration {
        status: RegistrationStatus::from_code(status as u8),
        lac: location(&p, first + 1),
        cell_id: location(&p, first + 2),
    })
}

/// A hexadecimal location value (`"84CD"` or `84CD`); absent or unreadable is `None`, since
/// it is informative only.
fn location(p: &[Field], index: usize) -> Option<u32> {
    let text = p.get(index)?.text()?;
    fields::hexadecimal(text, MAX_LAC).map(|v| v as u32)
}

/// Signal quality from `+CSQ` (TS 27.007 §8.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signal {
    /// `<rssi>` as sent: 0..=31, 100..=191 (TD-SCDMA), or 99 for "not known".
    pub rssi: u8,
    /// `<ber>` 0..=7, or 99 for "not known".
    pub ber: u8,
}

impl Signal {
    /// Received signal strength in dBm, or `None` when the modem does not know.
    ///
    /// TS 27.007 §8.5: 0 is -113 dBm or less, each step 2 dB, 31 is -51 dBm or more;
    /// 100 is -116 dBm or less, each step 1 dB, 191 is -25 dBm or more.
    pub fn dbm(self) -> Option<i16> {
        match self.rssi {
            0..=31 => Some(-113 + 2 * i16::from(self.rssi)),
            100..=191 => Some(-116 + (i16::from(self.rssi) - 100)),
            _ => None,
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.dbm() {
            Some(dbm) => write!(f, "{dbm} dBm (rssi {})", self.rssi),
            None => write!(f, "unknown (rssi {})", self.rssi),
        }
    }
}

/// `+CSQ: <rssi>,<ber>`.
pub fn parse_csq(line: &str) -> Result<Signal, ParseError> {
    let p = fields::params(line, "+CSQ:")?;
    let err = |e| ParseError::new(line, e);
    let rssi = p.number(0, 255).map_err(err)? as u8;
    let ber = p.optional_number(1, 255).map_err(err)?.unwrap_or(99) as u8;
    Ok(Signal { rssi, ber })
}

/// `+COPS: <mode>[,<format>,<oper>[,<AcT>]]` (TS 27.007 §7.3): the operator's name, or
/// `None` when not registered.
pub fn parse_cops(line: &str) -> Result<Option<String>, ParseError> {
    let p = fields::params(line, "+COPS:")?;
    let err = |e| ParseError::new(line, e);
    p.number(0, 255).map_err(err)?;
    Ok(p.optional_text(2))
}

/// `+CSCA: <sca>,<tosca>` (TS 27.005 §3.3.1): the SMS centre address, or `None` when unset.
pub fn parse_csca(line: &str) -> Result<Option<String>, ParseError> {
    let p = fields::params(line, "+CSCA:")?;
    Ok(p.optional_text(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use RegistrationStatus::*;

    /// Solicited answers, most from ModemManager's `test-modem-helpers.c`.
    #[test]
    fn creg_query_table() {
        let table: &[(&str, RegistrationStatus, Option<u32>, Option<u32>)] = &[
            ("+CREG: 0,1", Home, None, None),
            ("+CREG: 1,3", Denied, None, None),
            ("+CREG: 0,5", Roaming, None, None),
            (
                "+CREG: 1,1,84CD,00D30173",
                Home,
                Some(0x84cd),
                Some(0xd30173),
            ),
            ("+CREG: 2,0,00,0", NotSearching, Some(0), Some(0)),
            ("+CREG: 2,1,8BE3,2BAF", Home, Some(0x8be3), Some(0x2baf)),
            (
                "+CREG: 2,1,\"8BE3\",\"00002BAF\"",
                Home,
                Some(0x8be3),
                Some(0x2baf),
            ),
            (
                "+CREG:002,001,\"18d8\",\"ffff\"",
                Home,
                Some(0x18d8),
                Some(0xffff),
            ),
            ("+CREG: 2,1,  0 5, 2715", Home, Some(0x05), Some(0x2715)),
            ("+CREG: 0,2", Searching, None, None),
            ("+CREG: 0,4", Unknown, None, None),
            ("+CREG: 0,6", Other(6), None, None),
        ];
        for &(line, status, lac, cell_id) in table {
            let r = parse_creg_query(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(
                (r.status, r.lac, r.cell_id),
                (status, lac, cell_id),
                "{line}"
            );
        }
    }

    #[test]
    fn creg_unsolicited_table() {
        let table: &[(&str, RegistrationStatus, Option<u32>)] = &[
            ("+CREG: 3", Denied, None),
            ("+CREG: 1", Home, None),
            ("+CREG: 1,84CD,00D30156", Home, Some(0x84cd)),
            ("+CREG: 1,\"CE00\",\"00005449\"", Home, Some(0xce00)),
            ("+CREG: 2,8BE3,2BAF", Searching, Some(0x8be3)),
            ("+CREG: 2,,", Searching, None),
            ("+CREG: 1,0001,0010,0", Home, Some(1)),
            ("+CREG: 001,\"0001\",\"0010\",000", Home, Some(1)),
            ("+CREG: 2,5,\"0502\",\"0404736D\"", Roaming, Some(0x0502)),
            ("+CREG: 2,1,000B,2816, B, C2816", Home, Some(0x000b)),
        ];
        for &(line, status, lac) in table {
            let r = parse_creg_unsolicited(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!((r.status, r.lac), (status, lac), "{line}");
        }
    }

    #[test]
    fn creg_rejects_garbage() {
        assert!(parse_creg_query("+CREG: 0").is_err());
        assert!(parse_creg_query("+CREG: 0,9999").is_err());
        assert!(parse_creg_unsolicited("+CREG: x").is_err());
        assert!(parse_creg_query("+CSQ: 1,2").is_err());
    }

    #[test]
    fn csq_table() {
        let table: &[(&str, u8, Option<i16>)] = &[
            ("+CSQ: 20,99", 20, Some(-73)),
            ("+CSQ: 0,0", 0, Some(-113)),
            ("+CSQ: 31,0", 31, Some(-51)),
            ("+CSQ: 99,99", 99, None),
            ("+CSQ: 14,", 14, Some(-85)),
            ("+CSQ: 100,99", 100, Some(-116)),
            ("+CSQ: 191,99", 191, Some(-25)),
            ("+CSQ: 50,99", 50, None),
        ];
        for &(line, rssi, dbm) in table {
            let s = parse_csq(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!((s.rssi, s.dbm()), (rssi, dbm), "{line}");
        }
        assert!(parse_csq("+CSQ: 9999999999,99").is_err());
        assert!(parse_csq("+CSQ:").is_err());
    }

    #[test]
    fn cops_and_csca() {
        assert_eq!(
            parse_cops("+COPS: 0,0,\"vodafone UK\",2").unwrap(),
            Some("vodafone UK".to_owned())
        );
        assert_eq!(parse_cops("+COPS: 0").unwrap(), None);
        assert_eq!(
            parse_cops("+COPS: 0,2,\"23415\",7").unwrap(),
            Some("23415".to_owned())
        );
        assert!(parse_cops("+COPS: x").is_err());
        assert_eq!(
            parse_csca("+CSCA: \"+447785016005\",145").unwrap(),
            Some("+447785016005".to_owned())
        );
        assert_eq!(parse_csca("+CSCA: \"\",129").unwrap(), None);
    }
}
