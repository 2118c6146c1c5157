//! The parameters of one AT information line, split and converted with checked arithmetic.
//!
//! V.250 §5.7 and 3GPP TS 27.007 §4.1 give the shape: `+NAME: value,value,...`, where a value
//! is a number, a `"quoted string"`, empty, or (in test-command answers) a parenthesised list.
//! Modems add spaces where they like (ModemManager keeps a Gobi answer `+CREG: 2,1,  0 5, 2715`
//! and an Alcatel one `+CGREG: 2,1, 81ED, 1A9CEB` as test vectors), so every value is trimmed.
//!
//! Every number that comes from the modem is parsed here digit by digit with checked
//! arithmetic: an answer such as `+CMGS: 9999999999` is an error value, never a panic or a
//! wrapped number (the `at-commands` parser does both, which is why it never sees modem lines).

use std::fmt;

/// One parameter of an information line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// Nothing between two commas (an omitted optional value).
    Empty,
    /// A value between double quotes, quotes removed.
    Quoted(String),
    /// A parenthesised list, parentheses removed, e.g. `(0,1,1x,2)`.
    List(String),
    /// Anything else (numbers, bare words), trimmed.
    Bare(String),
}

impl Field {
    /// The text of the value whether it was quoted or not; `None` when empty.
    pub fn text(&self) -> Option<&str> {
        match self {
            Field::Empty => None,
            Field::Quoted(s) | Field::List(s) | Field::Bare(s) => Some(s.as_str()),
        }
    }
}

/// Why a value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// Fewer parameters than the command's answer always has.
    #[error("parameter {index} is missing")]
    Missing {
        /// Zero-based position of the parameter.
        index: usize,
    },
    /// A parameter that must be a number is not one, or does not fit.
    #[error("parameter {index} is not a number in 0..={max}: {text:?}")]
    NotANumber {
        /// Zero-based position of the parameter.
        index: usize,
        /// What the modem sent.
        text: String,
        /// The largest value accepted there.
        max: u64,
    },
    /// A quote opened and never closed.
    #[error("unterminated quoted string")]
    Unterminated,
}

/// The parameters after `prefix` (e.g. `+CSQ:`), or `None` when the line does not start with it.
///
/// The prefix is matched without regard to ASCII case; a missing space after the colon is
/// accepted (`+CREG:002,001,...` from an Iridium modem, kept in ModemManager's tests).
pub fn after_prefix<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    let head = line.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        line.get(prefix.len()..).map(str::trim_start)
    } else {
        None
    }
}

/// An information line the modem sent that does not have the shape the standard gives.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unexpected answer {line:?}: {reason}")]
pub struct ParseError {
    /// The line as received.
    pub line: String,
    /// What was wrong with it.
    pub reason: String,
}

impl ParseError {
    /// An error about `line`.
    pub fn new(line: &str, reason: impl fmt::Display) -> Self {
        ParseError {
            line: line.to_owned(),
            reason: reason.to_string(),
        }
    }
}

/// Splits the parameters of `line` after `prefix`, with errors that quote the line.
pub fn params(line: &str, prefix: &str) -> Result<Vec<Field>, ParseError> {
    let rest = after_prefix(line, prefix)
        .ok_or_else(|| ParseError::new(line, format_args!("expected {prefix}")))?;
    split(rest).map_err(|e| ParseError::new(line, e))
}

/// Splits a parameter list on the commas that are outside quotes and parentheses.
pub fn split(params: &str) -> Result<Vec<Field>, FieldError> {
    let mut fields = Vec::new();
    let mut rest = params.trim();
    if rest.is_empty() {
        return Ok(fields);
    }
    loop {
        rest = rest.trim_start();
        let (field, after) = if let Some(inner) = rest.strip_prefix('"') {
            let end = inner.find('"').ok_or(FieldError::Unterminated)?;
            let field = Field::Quoted(inner[..end].to_owned());
            (field, &inner[end + 1..])
        } else if let Some(inner) = rest.strip_prefix('(') {
            let end = closing_paren(inner).ok_or(FieldError::Unterminated)?;
            let field = Field::List(inner[..end].trim().to_owned());
            (field, &inner[end + 1..])
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            let text = rest[..end].trim();
            let field = if text.is_empty() {
                Field::Empty
            } else {
                Field::Bare(text.to_owned())
            };
            (field, &rest[end..])
        };
        fields.push(field);
        // Whatever follows a quoted value up to the next comma is ignored (modems pad).
        match after.find(',') {
            Some(comma) => rest = &after[comma + 1..],
            None => return Ok(fields),
        }
    }
}

/// Position of the parenthesis closing the one just consumed, skipping quoted text.
fn closing_paren(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth = depth.checked_add(1)?,
            ')' if !quoted => {
                if depth == 0 {
                    return Some(i);
                }
                depth -= 1;
            }
            _ => {}
        }
    }
    None
}

/// A decimal number of at most `max`, digit by digit with checked arithmetic.
///
/// Leading zeros (`002`) and surrounding spaces are accepted; signs, hex and empty text are not.
pub fn decimal(text: &str, max: u64) -> Option<u64> {
    let digits = text.trim();
    if digits.is_empty() {
        return None;
    }
    let mut value: u64 = 0;
    for b in digits.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        if value > max {
            return None;
        }
    }
    Some(value)
}

/// A hexadecimal number of at most `max` (location area codes, cell ids), quotes already removed.
pub fn hexadecimal(text: &str, max: u64) -> Option<u64> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.is_empty() {
        return None;
    }
    let mut value: u64 = 0;
    for c in digits.chars() {
        let d = c.to_digit(16)?;
        value = value.checked_mul(16)?.checked_add(u64::from(d))?;
        if value > max {
            return None;
        }
    }
    Some(value)
}

/// Typed access to split parameters, with errors naming the position.
pub trait Fields {
    /// The parameter at `index`, or [`FieldError::Missing`].
    fn at(&self, index: usize) -> Result<&Field, FieldError>;

    /// A required decimal number of at most `max`.
    fn number(&self, index: usize, max: u64) -> Result<u64, FieldError> {
        let field = self.at(index)?;
        let text = field.text().unwrap_or("");
        decimal(text, max).ok_or_else(|| FieldError::NotANumber {
            index,
            text: text.to_owned(),
            max,
        })
    }

    /// An optional decimal number: `None` when absent or empty, an error when malformed.
    fn optional_number(&self, index: usize, max: u64) -> Result<Option<u64>, FieldError> {
        match self.at(index) {
            Err(_) | Ok(Field::Empty) => Ok(None),
            Ok(_) => self.number(index, max).map(Some),
        }
    }

    /// An optional text value: `None` when absent or empty.
    fn optional_text(&self, index: usize) -> Option<String> {
        self.at(index)
            .ok()
            .and_then(Field::text)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }
}

impl Fields for [Field] {
    fn at(&self, index: usize) -> Result<&Field, FieldError> {
        self.get(index).ok_or(FieldError::Missing { index })
    }
}

impl Fields for Vec<Field> {
    fn at(&self, index: usize) -> Result<&Field, FieldError> {
        self.as_slice().at(index)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Empty => Ok(()),
            Field::Quoted(s) => write!(f, "\"{s}\""),
            Field::List(s) => write!(f, "({s})"),
            Field::Bare(s) => f.write_str(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn q(s: &str) -> Field {
        Field::Quoted(s.to_owned())
    }
    fn b(s: &str) -> Field {
        Field::Bare(s.to_owned())
    }

    #[test]
    fn splits_real_answers() {
        let table: &[(&str, Vec<Field>)] = &[
            ("20,99", vec![b("20"), b("99")]),
            ("\"SM\",3", vec![q("SM"), b("3")]),
            ("2,1,  0 5, 2715", vec![b("2"), b("1"), b("0 5"), b("2715")]),
            (
                "1,\"CE00\",\"00005449\"",
                vec![b("1"), q("CE00"), q("00005449")],
            ),
            ("2,,", vec![b("2"), Field::Empty, Field::Empty]),
            (
                "1,1,4,0,0,\"+447400123456\",145,\"\"",
                vec![
                    b("1"),
                    b("1"),
                    b("4"),
                    b("0"),
                    b("0"),
                    q("+447400123456"),
                    b("145"),
                    q(""),
                ],
            ),
            (
                "(\"ME\",\"MT\"),\"ME\",(\"SM\")",
                vec![
                    Field::List("\"ME\",\"MT\"".into()),
                    q("ME"),
                    Field::List("\"SM\"".into()),
                ],
            ),
            (
                "(0,1,1x,2,2x,3,4)",
                vec![Field::List("0,1,1x,2,2x,3,4".into())],
            ),
            ("\"a,b\",7", vec![q("a,b"), b("7")]),
            ("", vec![]),
        ];
        for (input, want) in table {
            assert_eq!(&split(input).unwrap(), want, "input {input:?}");
        }
    }

    #[test]
    fn unterminated_quote_is_an_error() {
        assert_eq!(split("\"SM,3"), Err(FieldError::Unterminated));
        assert_eq!(split("(1,2"), Err(FieldError::Unterminated));
    }

    #[test]
    fn decimal_is_checked() {
        assert_eq!(decimal("002", 255), Some(2));
        assert_eq!(decimal(" 31 ", 255), Some(31));
        assert_eq!(decimal("256", 255), None);
        assert_eq!(decimal("9999999999", 255), None);
        assert_eq!(decimal("99999999999999999999999999", u64::MAX), None);
        assert_eq!(decimal("-1", 255), None);
        assert_eq!(decimal("", 255), None);
        assert_eq!(decimal("1x", 255), None);
    }

    #[test]
    fn hexadecimal_is_checked() {
        assert_eq!(hexadecimal("84CD", 0xFFFF), Some(0x84cd));
        assert_eq!(hexadecimal("00D30173", 0xFFFF_FFFF), Some(0xd30173));
        assert_eq!(hexadecimal("1FFFF", 0xFFFF), None);
        assert_eq!(hexadecimal("XYZ", 0xFFFF), None);
    }

    #[test]
    fn prefix_is_case_insensitive_and_space_tolerant() {
        assert_eq!(after_prefix("+CSQ: 20,99", "+CSQ:"), Some("20,99"));
        assert_eq!(after_prefix("+creg:002,001", "+CREG:"), Some("002,001"));
        assert_eq!(after_prefix("+CSQN: 1", "+CSQ:"), None);
        assert_eq!(after_prefix("+C", "+CSQ:"), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn split_never_panics(s in "\\PC{0,80}") {
            let _ = split(&s);
        }

        #[test]
        fn decimal_never_panics_and_respects_max(s in "[0-9 ]{0,30}", max in any::<u64>()) {
            if let Some(v) = decimal(&s, max) {
                prop_assert!(v <= max);
            }
        }

        #[test]
        fn decimal_round_trips(v in any::<u32>()) {
            prop_assert_eq!(decimal(&v.to_string(), u64::from(u32::MAX)), Some(u64::from(v)));
        }
    }
}
