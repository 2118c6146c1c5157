//! Phone numbers: what a person typed (admin CLI, CSV) normalised to E.164, and who an SMS
//! came from (a person, a short code, or an alphanumeric sender such as an operator robot).
//!
//! Two spellings of one person (`07400 123456`, `+44 7400 123456`) must become the same
//! [`E164`], or the whitelist and the booking record disagree about who someone is.

use std::fmt;
use std::str::FromStr;

use phonenumber::country;
use phonenumber::{Mode, PhoneNumber};

/// A phone number in E.164 form: `+`, country code, subscriber number, 8 to 15 digits in all
/// (ITU-T E.164 §6). The only way to build one is through this module's checks.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct E164(String);

impl E164 {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits without the leading `+`, as an SMS address of type international carries them.
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }

    /// Accept a number already in E.164 form (`+` and 8–15 digits), as stored in the database
    /// or given by the network as an international address. No country rules are applied:
    /// the network knows its own numbers better than our copy of the numbering plan.
    pub fn from_international(text: &str) -> Option<E164> {
        let digits = text.strip_prefix('+').unwrap_or(text);
        let ok = (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        ok.then(|| E164(format!("+{digits}")))
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The country assumed for numbers written without an international prefix (`[phone]
/// default_country` in config.toml), as an ISO 3166-1 alpha-2 code such as `GB`; or none, in
/// which case only numbers with their country code (`+44...`, `0044...`) are accepted. Guessing
/// a country would silently misread every national number, so "none" is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DefaultCountry(Option<country::Id>);

impl FromStr for DefaultCountry {
    type Err = PhoneError;

    fn from_str(code: &str) -> Result<Self, PhoneError> {
        code.trim()
            .to_ascii_uppercase()
            .parse::<country::Id>()
            .map(|id| DefaultCountry(Some(id)))
            .map_err(|_| PhoneError::UnknownCountry(code.to_string()))
    }
}

impl DefaultCountry {
    /// No default country: national numbers are refused.
    pub const NONE: DefaultCountry = DefaultCountry(None);

    /// The ISO code, as it was configured (`GB`), or `None` when numbers must be international.
    pub fn iso_code(&self) -> Option<&str> {
        self.0.as_ref().map(|id| id.as_ref())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("{0:?} is not a country code; use a two-letter ISO 3166 code such as GB, FR or IN")]
    UnknownCountry(String),
    #[error("{input:?} is not a phone number{}", hint(.input))]
    NotANumber { input: String },
    #[error(
        "{input:?} has no country code: write it as +<country code><number> (e.g. +447400123456), \
         or set [phone] default_country in config.toml"
    )]
    NoCountryCode { input: String },
    #[error("{input:?} is not a valid {country} phone number (wrong length or unused range)")]
    Invalid { input: String, country: String },
}

fn hint(input: &str) -> &'static str {
    if input.trim().is_empty() {
        " (it is empty)"
    } else {
        ""
    }
}

/// Normalise a number a person typed (admin CLI, CSV, config) to E.164, checking it is a
/// number that can exist: the `phonenumber` crate parses junk such as `12345` into `+4412345`
/// unless validity is checked (FIELD-NOTES.md).
pub fn normalise(input: &str, country: DefaultCountry) -> Result<E164, PhoneError> {
    let trimmed = input.trim();
    // Excel turns `+44...` into `44...` or keeps a leading `00`; both mean international.
    let candidate = match trimmed.strip_prefix("00") {
        Some(rest) if rest.bytes().next().is_some_and(|b| b.is_ascii_digit()) => {
            format!("+{rest}")
        }
        _ => trimmed.to_string(),
    };
    let has_digits = candidate.bytes().any(|b| b.is_ascii_digit());
    if country.0.is_none() && has_digits && !candidate.starts_with('+') {
        return Err(PhoneError::NoCountryCode {
            input: input.to_string(),
        });
    }
    let parsed: PhoneNumber =
        phonenumber::parse(country.0, &candidate).map_err(|_| PhoneError::NotANumber {
            input: input.to_string(),
        })?;
    if !parsed.is_valid() {
        let country = parsed
            .country()
            .id()
            .map(|id| id.as_ref().to_string())
            .or_else(|| country.iso_code().map(str::to_string))
            .unwrap_or_default();
        return Err(PhoneError::Invalid {
            input: input.to_string(),
            country,
        });
    }
    let formatted = parsed.format().mode(Mode::E164).to_string();
    E164::from_international(&formatted).ok_or_else(|| PhoneError::Invalid {
        input: input.to_string(),
        country: country.iso_code().unwrap_or_default().to_string(),
    })
}

/// How the network labelled the originating address (TS 23.040 §9.1.2.5, type of number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressKind {
    International,
    National,
    Alphanumeric,
    /// Unknown, network-specific, subscriber or abbreviated: judge by the digits.
    Other,
}

/// Who sent an SMS, as far as replying is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// A person's phone: may be on the whitelist, may get a reply.
    Phone(E164),
    /// A short code (operator services, marketing): never auto-reply, it may be a robot that
    /// answers back, and some short codes charge per message.
    ShortCode(String),
    /// An alphanumeric sender (`Vodafone`, `BANK`): cannot be replied to at all.
    Alphanumeric(String),
    /// Digits we cannot turn into a number: never auto-reply.
    Unrecognised(String),
}

impl Sender {
    /// Whether shiftsms may ever send an automatic reply to this sender.
    pub fn may_auto_reply(&self) -> bool {
        matches!(self, Sender::Phone(_))
    }
}

/// Short codes are at most 6 digits in every numbering plan we know of (UK 5, US 5–6, FR 5,
/// IN 5–6); no subscriber number is that short.
const SHORT_CODE_MAX_DIGITS: usize = 6;

/// Classify the originating address of an inbound SMS.
pub fn classify_sender(address: &str, kind: AddressKind, country: DefaultCountry) -> Sender {
    let address = address.trim();
    if kind == AddressKind::Alphanumeric {
        return Sender::Alphanumeric(address.to_string());
    }
    let plus = address.starts_with('+');
    let digits = address.trim_start_matches('+');
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        // Some modems hand over an alphanumeric sender without the type of number.
        return if digits.bytes().any(|b| b.is_ascii_alphabetic()) {
            Sender::Alphanumeric(address.to_string())
        } else {
            Sender::Unrecognised(address.to_string())
        };
    }
    if !plus && kind != AddressKind::International && digits.len() <= SHORT_CODE_MAX_DIGITS {
        return Sender::ShortCode(digits.to_string());
    }
    let number = if plus || kind == AddressKind::International {
        E164::from_international(digits)
    } else {
        normalise(digits, country).ok()
    };
    number.map_or_else(|| Sender::Unrecognised(address.to_string()), Sender::Phone)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gb() -> DefaultCountry {
        "GB".parse().unwrap()
    }

    #[test]
    fn spellings_of_one_person_agree() {
        for input in [
            "07400 123456",
            "07400123456",
            "+44 7400 123456",
            "+447400123456",
            "0044 7400 123456",
            " (07400) 123-456 ",
        ] {
            assert_eq!(
                normalise(input, gb()).map(|n| n.to_string()),
                Ok("+447400123456".to_string()),
                "{input:?}"
            );
        }
    }

    #[test]
    fn other_countries_keep_their_own_code() {
        let fr: DefaultCountry = "fr".parse().unwrap();
        assert_eq!(
            normalise("06 12 34 56 78", fr).unwrap().as_str(),
            "+33612345678"
        );
        // An international number is not bent to the default country.
        assert_eq!(
            normalise("+33 6 12 34 56 78", gb()).unwrap().as_str(),
            "+33612345678"
        );
    }

    #[test]
    fn junk_is_rejected_with_a_reason() {
        assert!(matches!(
            normalise("12345", gb()),
            Err(PhoneError::Invalid { .. })
        ));
        assert!(matches!(
            normalise("call me", gb()),
            Err(PhoneError::NotANumber { .. })
        ));
        assert!(matches!(
            normalise("", gb()),
            Err(PhoneError::NotANumber { .. })
        ));
        let err = normalise("", gb()).unwrap_err().to_string();
        assert!(err.contains("empty"), "{err}");
    }

    #[test]
    fn unknown_default_country() {
        assert!(matches!(
            "XX".parse::<DefaultCountry>(),
            Err(PhoneError::UnknownCountry(_))
        ));
        assert_eq!(gb().iso_code(), Some("GB"));
        assert_eq!(DefaultCountry::default(), DefaultCountry::NONE);
    }

    #[test]
    fn without_a_default_country_only_international_numbers_pass() {
        let none = DefaultCountry::NONE;
        assert_eq!(
            normalise("+44 7400 123456", none).unwrap().as_str(),
            "+447400123456"
        );
        assert_eq!(
            normalise("0044 7400 123456", none).unwrap().as_str(),
            "+447400123456"
        );
        let err = normalise("07400 123456", none).unwrap_err();
        assert!(matches!(err, PhoneError::NoCountryCode { .. }));
        assert!(err.to_string().contains("default_country"), "{err}");
        // A national sender cannot be read without a country: never auto-replied to.
        assert_eq!(
            classify_sender("07400123456", AddressKind::National, none),
            Sender::Unrecognised("07400123456".into())
        );
        assert_eq!(
            classify_sender("447400123456", AddressKind::International, none),
            Sender::Phone(E164::from_international("+447400123456").unwrap())
        );
    }

    #[test]
    fn senders() {
        let phone = |s: &str| Sender::Phone(E164::from_international(s).unwrap());
        let cases = [
            (
                "447400123456",
                AddressKind::International,
                phone("+447400123456"),
            ),
            ("+447400123456", AddressKind::Other, phone("+447400123456")),
            ("07400123456", AddressKind::National, phone("+447400123456")),
            ("07400123456", AddressKind::Other, phone("+447400123456")),
            (
                "Vodafone",
                AddressKind::Alphanumeric,
                Sender::Alphanumeric("Vodafone".into()),
            ),
            (
                "BANK",
                AddressKind::Other,
                Sender::Alphanumeric("BANK".into()),
            ),
            (
                "40404",
                AddressKind::Other,
                Sender::ShortCode("40404".into()),
            ),
            (
                "150",
                AddressKind::National,
                Sender::ShortCode("150".into()),
            ),
            ("", AddressKind::Other, Sender::Unrecognised("".into())),
            (
                "0123",
                AddressKind::International,
                Sender::Unrecognised("0123".into()),
            ),
        ];
        for (address, kind, want) in cases {
            assert_eq!(classify_sender(address, kind, gb()), want, "{address:?}");
        }
        assert!(phone("+447400123456").may_auto_reply());
        assert!(!Sender::ShortCode("40404".into()).may_auto_reply());
    }

    #[test]
    fn e164_shape() {
        assert!(E164::from_international("+4474").is_none());
        assert!(E164::from_international("+1234567890123456").is_none());
        assert!(E164::from_international("+0447400123456").is_none());
        assert_eq!(
            E164::from_international("447400123456").unwrap().digits(),
            "447400123456"
        );
    }
}
