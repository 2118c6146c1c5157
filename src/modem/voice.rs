//! Voice calls: dialling, caller id, the list of current calls and call hold/multiparty
//! (3GPP TS 27.007 §6.2 `+CLIP`... §7.6, §7.13 `+CHLD`, §7.18 `+CLCC`; V.250 §6.3.1 `ATD`).

use std::fmt;

use super::fields::{self, Field, Fields, ParseError};

/// A number that can be put after `ATD`: an optional leading `+`, then digits, `*` and `#`
/// (the dial-string characters of TS 27.007 §6.2 that a GSM call uses), 1 to 40 of them.
///
/// Validated when built so nothing else (`;`, a second command, a line end) can reach the
/// modem inside a dial string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DialNumber(String);

/// Why a text is not a dialable number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a dialable number (an optional '+' then 1 to 40 of 0-9 * #)")]
pub struct DialNumberError {
    text: String,
}

impl DialNumber {
    /// Checks `text`.
    pub fn new(text: &str) -> Result<Self, DialNumberError> {
        let digits = text.strip_prefix('+').unwrap_or(text);
        let ok = (1..=40).contains(&digits.len())
            && digits
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'*' || b == b'#');
        if ok {
            Ok(DialNumber(text.to_owned()))
        } else {
            Err(DialNumberError {
                text: text.to_owned(),
            })
        }
    }

    /// The number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DialNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What `ATD<number>;` ended with (V.250 §6.3.1, TS 27.007 §6.2).
///
/// Most modems answer `OK` as soon as the call is being set up and report its end later with
/// an unsolicited `NO CARRIER`/`BUSY`/`NO ANSWER`; older ones answer only once it is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialOutcome {
    /// `OK`: the call is being set up; follow it with [`calls`](crate::modem::ModemHandle::calls)
    /// and the call-ended events.
    Dialling,
    /// `CONNECT`: connected.
    Connected,
    /// `BUSY`: the callee is busy.
    Busy,
    /// `NO ANSWER`: nobody answered.
    NoAnswer,
    /// `NO CARRIER`: the call could not be set up or was released.
    NoCarrier,
    /// `NO DIALTONE`: no network.
    NoDialtone,
}

/// Why a call ended, from a result code that arrived outside a dial command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallEnd {
    /// `NO CARRIER`: released (by either side) or failed.
    NoCarrier,
    /// `BUSY`.
    Busy,
    /// `NO ANSWER`.
    NoAnswer,
    /// `NO DIALTONE`.
    NoDialtone,
}

impl fmt::Display for CallEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CallEnd::NoCarrier => "NO CARRIER",
            CallEnd::Busy => "BUSY",
            CallEnd::NoAnswer => "NO ANSWER",
            CallEnd::NoDialtone => "NO DIALTONE",
        })
    }
}

/// Who is calling, from `+CLIP` (TS 27.007 §7.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerId {
    /// The number, `None` when withheld or unavailable.
    pub number: Option<String>,
    /// Type of address (145 international, 129 national/unknown).
    pub number_type: Option<u8>,
    /// The phonebook name, if the modem sends one.
    pub name: Option<String>,
    /// `<CLI validity>`: 0 valid, 1 withheld by the caller, 2 unavailable.
    pub validity: Option<u8>,
}

/// `+CLIP: <number>,<type>[,<subaddr>,<satype>[,<alpha>[,<CLI validity>]]]`.
pub fn parse_clip(line: &str) -> Result<CallerId, ParseError> {
    let p = fields::params(line, "+CLIP:")?;
    let err = |e| ParseError::new(line, e);
    if p.is_empty() {
        return Err(ParseError::new(line, "no number field"));
    }
    Ok(CallerId {
        number: p.optional_text(0),
        number_type: p.optional_number(1, 255).map_err(err)?.map(|n| n as u8),
        name: p.optional_text(4),
        validity: p.optional_number(5, 255).map_err(err)?.map(|n| n as u8),
    })
}

/// `<dir>` of `+CLCC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// 0: we placed the call.
    Outgoing,
    /// 1: we are being called.
    Incoming,
}

/// `<stat>` of `+CLCC` (TS 27.007 §7.18).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    /// 0: connected.
    Active,
    /// 1: on hold.
    Held,
    /// 2: outgoing, being set up.
    Dialing,
    /// 3: outgoing, ringing at the other end.
    Alerting,
    /// 4: incoming, ringing here.
    Incoming,
    /// 5: incoming while another call is up (call waiting).
    Waiting,
    /// Any later value (6 = released, on some modems).
    Other(u8),
}

impl CallState {
    /// From the numeric `<stat>`.
    pub fn from_code(code: u8) -> Self {
        match code {
            0 => CallState::Active,
            1 => CallState::Held,
            2 => CallState::Dialing,
            3 => CallState::Alerting,
            4 => CallState::Incoming,
            5 => CallState::Waiting,
            other => CallState::Other(other),
        }
    }
}

/// `<mode>` of `+CLCC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallMode {
    /// 0: voice.
    Voice,
    /// 1: data.
    Data,
    /// 2: fax.
    Fax,
    /// Other modes (alternating voice/data ...), as numbers.
    Other(u8),
}

/// One call from `AT+CLCC`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// `<id>`: the index `AT+CHLD=1x/2x` uses.
    pub index: u8,
    /// Who placed it.
    pub direction: Direction,
    /// Where it stands.
    pub state: CallState,
    /// Voice, data, ...
    pub mode: CallMode,
    /// Part of a conference (`<mpty>` = 1).
    pub multiparty: bool,
    /// The other party's number, when known.
    pub number: Option<String>,
    /// Type of address of the number.
    pub number_type: Option<u8>,
}

/// The information lines of `AT+CLCC`:
/// `+CLCC: <id>,<dir>,<stat>,<mode>,<mpty>[,<number>,<type>[,<alpha>[,<priority>[,<CLI validity>]]]]`.
/// No lines: no call.
pub fn parse_clcc(lines: &[String]) -> Result<Vec<Call>, ParseError> {
    lines
        .iter()
        .map(|line| {
            let p = fields::params(line, "+CLCC:")?;
            let err = |e| ParseError::new(line, e);
            let index = p.number(0, 255).map_err(err)? as u8;
            let direction = match p.number(1, 1).map_err(err)? {
                0 => Direction::Outgoing,
                _ => Direction::Incoming,
            };
            let state = CallState::from_code(p.number(2, 255).map_err(err)? as u8);
            let mode = match p.number(3, 255).map_err(err)? {
                0 => CallMode::Voice,
                1 => CallMode::Data,
                2 => CallMode::Fax,
                n => CallMode::Other(n as u8),
            };
            let multiparty = p.number(4, 1).map_err(err)? == 1;
            Ok(Call {
                index,
                direction,
                state,
                mode,
                multiparty,
                number: p.optional_text(5),
                number_type: p.optional_number(6, 255).map_err(err)?.map(|n| n as u8),
            })
        })
        .collect()
}

/// A call-related supplementary service of `AT+CHLD=<n>` (TS 27.007 §7.13, TS 22.030 §6.5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldAction {
    /// `0`: release all held calls, or reject the waiting call (UDUB).
    ReleaseHeldOrReject,
    /// `1`: release all active calls and accept the held or waiting one.
    ReleaseActiveAcceptOther,
    /// `1x`: release call `x`.
    Release(u8),
    /// `2`: put active calls on hold and accept the held or waiting one (swap).
    HoldActiveAcceptOther,
    /// `2x`: hold all calls except `x`, with which to talk privately.
    PrivateWith(u8),
    /// `3`: add the held call to the conversation (conference).
    Conference,
    /// `4`: connect the two calls and leave (explicit call transfer).
    Transfer,
    /// `5`: activate completion of calls to a busy subscriber.
    CompleteToBusy,
}

impl HoldAction {
    /// The `<n>` parameter.
    pub fn code(self) -> String {
        match self {
            HoldAction::ReleaseHeldOrReject => "0".into(),
            HoldAction::ReleaseActiveAcceptOther => "1".into(),
            HoldAction::Release(x) => format!("1{x}"),
            HoldAction::HoldActiveAcceptOther => "2".into(),
            HoldAction::PrivateWith(x) => format!("2{x}"),
            HoldAction::Conference => "3".into(),
            HoldAction::Transfer => "4".into(),
            HoldAction::CompleteToBusy => "5".into(),
        }
    }
}

/// What the network offers, from `AT+CHLD=?`: `+CHLD: (0,1,1x,2,2x,3,4)`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HoldOptions {
    /// `0` offered.
    pub release_held_or_reject: bool,
    /// `1` offered.
    pub release_active_accept_other: bool,
    /// `1x` offered.
    pub release_one: bool,
    /// `2` offered.
    pub hold_active_accept_other: bool,
    /// `2x` offered.
    pub private_with_one: bool,
    /// `3` offered.
    pub conference: bool,
    /// `4` offered.
    pub transfer: bool,
    /// `5` offered.
    pub complete_to_busy: bool,
}

/// `+CHLD: (<n>,...)`, also accepting ranges such as `(0-4)`.
pub fn parse_chld_test(line: &str) -> Result<HoldOptions, ParseError> {
    let p = fields::params(line, "+CHLD:")?;
    let list = match p.first() {
        Some(Field::List(list)) => list.clone(),
        Some(Field::Bare(one)) => one.clone(),
        _ => return Err(ParseError::new(line, "expected a list such as (0,1,2)")),
    };
    let mut o = HoldOptions::default();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let item = item.to_ascii_lowercase();
        let codes: Vec<String> = match item.split_once('-') {
            Some((lo, hi)) => {
                let lo =
                    fields::decimal(lo, 9).ok_or_else(|| ParseError::new(line, "bad range"))?;
                let hi =
                    fields::decimal(hi, 9).ok_or_else(|| ParseError::new(line, "bad range"))?;
                (lo..=hi).map(|n| n.to_string()).collect()
            }
            None => vec![item],
        };
        for code in codes {
            match code.as_str() {
                "0" => o.release_held_or_reject = true,
                "1" => o.release_active_accept_other = true,
                "1x" => o.release_one = true,
                "2" => o.hold_active_accept_other = true,
                "2x" => o.private_with_one = true,
                "3" => o.conference = true,
                "4" => o.transfer = true,
                "5" => o.complete_to_busy = true,
                _ => {}
            }
        }
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &[&str]) -> Vec<String> {
        s.iter().map(|l| (*l).to_owned()).collect()
    }

    #[test]
    fn dial_number_validation() {
        assert!(DialNumber::new("+447400123456").is_ok());
        assert!(DialNumber::new("*100#").is_ok());
        assert!(DialNumber::new("").is_err());
        assert!(DialNumber::new("+").is_err());
        assert!(DialNumber::new("123;ATH").is_err());
        assert!(DialNumber::new("12 34").is_err());
        assert!(DialNumber::new("1\r\nAT").is_err());
        assert!(DialNumber::new(&"1".repeat(41)).is_err());
    }

    #[test]
    fn clip_table() {
        let c = parse_clip("+CLIP: \"+447400123456\",145,\"\",,\"\",0").unwrap();
        assert_eq!(c.number.as_deref(), Some("+447400123456"));
        assert_eq!(c.number_type, Some(145));
        assert_eq!(c.validity, Some(0));
        let c = parse_clip("+CLIP: \"07400123456\",129").unwrap();
        assert_eq!(c.number.as_deref(), Some("07400123456"));
        assert_eq!(c.validity, None);
        let c = parse_clip("+CLIP: \"\",128,,,,1").unwrap();
        assert_eq!(c.number, None);
        assert_eq!(c.validity, Some(1));
        let c = parse_clip("+CLIP: \"+447400123456\",145,,,\"Alice\"").unwrap();
        assert_eq!(c.name.as_deref(), Some("Alice"));
        assert!(parse_clip("+CLIP: \"+44\",999").is_err());
        assert!(parse_clip("+CLIP:").is_err());
    }

    #[test]
    fn clcc_table() {
        // Shapes seen in the wild: with and without the alpha field, empty list.
        let calls = parse_clcc(&lines(&[
            "+CLCC: 1,1,4,0,0,\"+917041196959\",145,\"\"",
            "+CLCC: 2,0,0,0,0,\"13700000000\",129",
            "+CLCC: 3,0,2,0,1",
        ]))
        .unwrap();
        assert_eq!(calls.len(), 3);
        assert_eq!(calls[0].direction, Direction::Incoming);
        assert_eq!(calls[0].state, CallState::Incoming);
        assert_eq!(calls[0].number.as_deref(), Some("+917041196959"));
        assert_eq!(calls[0].number_type, Some(145));
        assert_eq!(calls[1].state, CallState::Active);
        assert_eq!(calls[1].direction, Direction::Outgoing);
        assert_eq!(calls[2].state, CallState::Dialing);
        assert!(calls[2].multiparty);
        assert_eq!(calls[2].number, None);
        assert!(parse_clcc(&[]).unwrap().is_empty());
        assert!(parse_clcc(&lines(&["+CLCC: 1,7,0,0,0"])).is_err());
        assert!(parse_clcc(&lines(&["+CLCC: x,0,0,0,0"])).is_err());
        assert_eq!(
            parse_clcc(&lines(&["+CLCC: 1,0,9,0,0"])).unwrap()[0].state,
            CallState::Other(9)
        );
    }

    #[test]
    fn chld_table() {
        let o = parse_chld_test("+CHLD: (0,1,1x,2,2x,3,4)").unwrap();
        assert!(o.release_one && o.private_with_one && o.transfer && o.conference);
        assert!(!o.complete_to_busy);
        let o = parse_chld_test("+CHLD: (0-4)").unwrap();
        assert!(o.release_held_or_reject && o.transfer && !o.release_one);
        let o = parse_chld_test("+CHLD: (0,1,2)").unwrap();
        assert!(!o.conference);
        assert!(parse_chld_test("+CHLD: \"x\"").is_err());
        assert_eq!(HoldAction::Release(2).code(), "12");
        assert_eq!(HoldAction::Conference.code(), "3");
    }
}
