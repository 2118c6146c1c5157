//! SIM lock state and the PIN (3GPP TS 27.007 §8.3 `+CPIN`, §9.2 error codes).

use std::fmt;

use super::fields::{self, ParseError};

/// `<code>` of `+CPIN?` (TS 27.007 §8.3): what the SIM or phone is waiting for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinState {
    /// Nothing: the SIM is unlocked.
    Ready,
    /// The SIM PIN is needed.
    SimPin,
    /// The SIM is blocked: the PUK is needed (three wrong PINs).
    SimPuk,
    /// SIM PIN2 is needed (only for PIN2-protected commands; SMS still works).
    SimPin2,
    /// SIM PUK2 is needed.
    SimPuk2,
    /// A phone-side lock (`PH-SIM PIN`, `PH-NET PIN`, ...): the modem is locked to a network
    /// or SIM. shiftsms never tries to unlock these.
    PhoneLock(String),
    /// `NOT INSERTED` (SIMCom, Quectel): no SIM card.
    NotInserted,
    /// `NOT READY` (SIMCom, Quectel): the SIM is missing or still starting.
    NotReady,
}

impl PinState {
    /// From the text after `+CPIN: `.
    pub fn from_code(code: &str) -> Self {
        let code = code.trim().trim_matches('"');
        match code.to_ascii_uppercase().as_str() {
            "READY" => PinState::Ready,
            "SIM PIN" => PinState::SimPin,
            "SIM PUK" => PinState::SimPuk,
            // PIN2/PUK2 do not stop SMS: some modems report them after boot.
            "SIM PIN2" => PinState::SimPin2,
            "SIM PUK2" => PinState::SimPuk2,
            "NOT INSERTED" => PinState::NotInserted,
            "NOT READY" => PinState::NotReady,
            _ => PinState::PhoneLock(code.to_owned()),
        }
    }

    /// Whether SMS and calls can be used in this state.
    pub fn is_usable(&self) -> bool {
        matches!(
            self,
            PinState::Ready | PinState::SimPin2 | PinState::SimPuk2
        )
    }
}

impl fmt::Display for PinState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PinState::Ready => f.write_str("ready"),
            PinState::SimPin => f.write_str("waiting for the SIM PIN"),
            PinState::SimPuk => f.write_str("blocked: waiting for the PUK"),
            PinState::SimPin2 => f.write_str("ready (PIN2 requested)"),
            PinState::SimPuk2 => f.write_str("ready (PUK2 requested)"),
            PinState::PhoneLock(what) => write!(f, "locked by the phone: {what}"),
            PinState::NotInserted => f.write_str("no SIM card"),
            PinState::NotReady => f.write_str("SIM not ready"),
        }
    }
}

/// `+CPIN: <code>`.
pub fn parse_cpin(line: &str) -> Result<PinState, ParseError> {
    let rest = fields::after_prefix(line, "+CPIN:")
        .ok_or_else(|| ParseError::new(line, "expected +CPIN:"))?;
    if rest.trim().is_empty() {
        return Err(ParseError::new(line, "empty +CPIN code"));
    }
    Ok(PinState::from_code(rest))
}

/// A SIM PIN: 4 to 8 decimal digits (TS 31.101 §9.9 / TS 11.11 §9.3).
///
/// Validated when built, so it can be put between quotes in `AT+CPIN="..."` without escaping,
/// and never printed: `Debug` shows only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(String);

/// Why a configured PIN is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a SIM PIN is 4 to 8 digits; the configured one has {len} characters{}", if *.digits_only { "" } else { ", not all digits" })]
pub struct PinError {
    len: usize,
    digits_only: bool,
}

impl Pin {
    /// Checks `text` is 4 to 8 ASCII digits.
    pub fn new(text: &str) -> Result<Self, PinError> {
        let digits_only = text.bytes().all(|b| b.is_ascii_digit());
        let len = text.chars().count();
        if digits_only && (4..=8).contains(&len) {
            Ok(Pin(text.to_owned()))
        } else {
            Err(PinError { len, digits_only })
        }
    }

    /// The digits, for the command line only.
    pub(crate) fn digits(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pin(<{} digits>)", self.0.len())
    }
}

/// `+CME ERROR` codes about the SIM (TS 27.007 §9.2.1), named where shiftsms reacts to them.
pub mod cme {
    /// SIM not inserted.
    pub const SIM_NOT_INSERTED: u16 = 10;
    /// SIM PIN required.
    pub const SIM_PIN_REQUIRED: u16 = 11;
    /// SIM PUK required.
    pub const SIM_PUK_REQUIRED: u16 = 12;
    /// SIM failure.
    pub const SIM_FAILURE: u16 = 13;
    /// SIM busy: try again shortly (the SIM is still reading its files after boot or PIN).
    pub const SIM_BUSY: u16 = 14;
    /// SIM wrong.
    pub const SIM_WRONG: u16 = 15;
    /// Incorrect password (a wrong PIN).
    pub const INCORRECT_PASSWORD: u16 = 16;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpin_table() {
        let table: &[(&str, PinState)] = &[
            ("+CPIN: READY", PinState::Ready),
            ("+CPIN:READY", PinState::Ready),
            ("+CPIN: SIM PIN", PinState::SimPin),
            ("+CPIN: SIM PUK", PinState::SimPuk),
            ("+CPIN: SIM PIN2", PinState::SimPin2),
            ("+CPIN: \"READY\"", PinState::Ready),
            ("+cpin: ready", PinState::Ready),
            (
                "+CPIN: PH-NET PIN",
                PinState::PhoneLock("PH-NET PIN".into()),
            ),
        ];
        for (line, want) in table {
            assert_eq!(&parse_cpin(line).unwrap(), want, "{line}");
        }
        assert!(parse_cpin("+CPIN: ").is_err());
        assert!(parse_cpin("+CSQ: 1,1").is_err());
    }

    #[test]
    fn pin_validation() {
        assert!(Pin::new("1234").is_ok());
        assert!(Pin::new("12345678").is_ok());
        assert!(Pin::new("123").is_err());
        assert!(Pin::new("123456789").is_err());
        assert!(Pin::new("12a4").is_err());
        assert!(Pin::new("12\"4").is_err());
        assert_eq!(
            format!("{:?}", Pin::new("1234").unwrap()),
            "Pin(<4 digits>)"
        );
    }
}
