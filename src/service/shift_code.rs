//! What a shift code is: the one rule shared by the SMS parser, the CSV import and the admin
//! commands, so a shift can only be created with a code an employee is able to text back.
//!
//! **A shift code is 2 to 16 ASCII letters and digits with at least one digit**
//! (`XYZ123`, `A7`, `0612L3`, `2024061501`). Case does not matter: codes are stored and
//! compared in upper case, so `xyz123` books `XYZ123`.
//!
//! Why this shape:
//! - *At least one digit* keeps every ordinary word out: `CAN I WORK SATURDAY` has no code in
//!   it, so a sentence gets the not-understood reply instead of "CAN, I, WORK, SATURDAY do not
//!   exist". It also keeps every keyword (`STOP`, `REQUEST`, `AGENT`...) from ever being a code.
//! - *Letters and digits only* survives every phone keypad and autocorrect, and lets the
//!   parser treat all punctuation as separators or decoration (`#XYZ123.`, `"xyz123"`).
//! - *2 to 16* fits a code the original solution suggests (`XYZ123`) and a date-based one
//!   (`2024061501`) and still leaves room for the code at the start of each listed shift.

use std::fmt;
use std::str::FromStr;

/// Fewest characters in a shift code.
pub const MIN_LEN: usize = 2;
/// Most characters in a shift code.
pub const MAX_LEN: usize = 16;

/// A valid, normalised (upper-case ASCII) shift code. The only ways to get one are
/// [`ShiftCode::from_str`] (strict, for CSV and admin input) and the SMS parser
/// ([`crate::service::command::parse`]), which both apply the rule of this module.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShiftCode(String);

impl ShiftCode {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The code if `token` (already stripped of separators and decoration) follows the rule,
    /// upper-cased.
    pub(crate) fn from_token(token: &str) -> Option<ShiftCode> {
        check(token).ok()?;
        Some(ShiftCode(token.to_ascii_uppercase()))
    }
}

impl fmt::Display for ShiftCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for ShiftCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Strict parsing for codes typed by a scheduler (CSV cell, admin command, `shift_id` read
/// back from the database): surrounding spaces are ignored, case is normalised, anything
/// else that breaks the rule is an error saying which part of the rule.
impl FromStr for ShiftCode {
    type Err = ShiftCodeError;

    fn from_str(input: &str) -> Result<ShiftCode, ShiftCodeError> {
        let trimmed = input.trim();
        check(trimmed).map_err(|problem| ShiftCodeError {
            input: input.to_string(),
            problem,
        })?;
        Ok(ShiftCode(trimmed.to_ascii_uppercase()))
    }
}

/// Why a text is not a shift code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{input:?} is not a valid shift code: {problem} (a shift code is {MIN_LEN} to {MAX_LEN} letters A-Z and digits 0-9 with at least one digit, e.g. XYZ123)"
)]
pub struct ShiftCodeError {
    pub input: String,
    pub problem: CodeProblem,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodeProblem {
    #[error("it is empty")]
    Empty,
    #[error("it has {0} characters")]
    Length(usize),
    #[error("it contains {0:?}")]
    Character(char),
    #[error("it has no digit")]
    NoDigit,
}

fn check(token: &str) -> Result<(), CodeProblem> {
    if token.is_empty() {
        return Err(CodeProblem::Empty);
    }
    if let Some(bad) = token.chars().find(|c| !c.is_ascii_alphanumeric()) {
        return Err(CodeProblem::Character(bad));
    }
    // ASCII only from here, so bytes are characters.
    if !(MIN_LEN..=MAX_LEN).contains(&token.len()) {
        return Err(CodeProblem::Length(token.len()));
    }
    if !token.bytes().any(|b| b.is_ascii_digit()) {
        return Err(CodeProblem::NoDigit);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_codes_are_normalised() {
        for (input, want) in [
            ("XYZ123", "XYZ123"),
            ("xyz123", "XYZ123"),
            ("  Xyz123 ", "XYZ123"),
            ("A7", "A7"),
            ("12", "12"),
            ("2024061501", "2024061501"),
            ("ABCDEFGHIJKLMNO1", "ABCDEFGHIJKLMNO1"),
        ] {
            assert_eq!(
                input.parse::<ShiftCode>().map(|c| c.to_string()),
                Ok(want.to_string()),
                "{input:?}"
            );
        }
    }

    #[test]
    fn invalid_codes_say_why() {
        let cases = [
            ("", CodeProblem::Empty),
            ("   ", CodeProblem::Empty),
            ("7", CodeProblem::Length(1)),
            ("ABCDEFGHIJKLMNOP1", CodeProblem::Length(17)),
            ("XYZ-123", CodeProblem::Character('-')),
            ("XYZ 123", CodeProblem::Character(' ')),
            ("ÉCOLE1", CodeProblem::Character('É')),
            ("SATURDAY", CodeProblem::NoDigit),
            ("STOP", CodeProblem::NoDigit),
        ];
        for (input, problem) in cases {
            let err = input.parse::<ShiftCode>().unwrap_err();
            assert_eq!(err.problem, problem, "{input:?}");
            assert!(err.to_string().contains("e.g. XYZ123"), "{err}");
        }
    }
}
