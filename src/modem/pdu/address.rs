//! Address fields (TS 23.040 §9.1.2.5) and the SMSC address that prefixes PDUs in PDU mode
//! (TS 27.005 §3.1, encoded as in TS 24.011 §8.2.5.1).
//!
//! The two share the type-of-address octet and the digit coding but count their length
//! differently: TP-OA/TP-DA give the number of useful semi-octets (digits, or for
//! alphanumeric addresses the semi-octets the packed GSM 7-bit text occupies), the SMSC
//! field gives octets (type octet included), where 0 means "use the SMSC stored on the SIM".

use std::fmt;

use super::error::{DecodeError, EncodeError};
use super::gsm7;
use super::reader::Reader;
use super::septets;

/// Type of number, bits 6..4 of the type-of-address octet (TS 23.040 §9.1.2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TypeOfNumber {
    /// 000: the network did not say; usually a national number or a short code.
    Unknown,
    /// 001: the value is a full E.164 number without its '+'.
    International,
    /// 010: a number in the national format.
    National,
    /// 101: a sender name such as "InfoSMS", packed GSM 7-bit; never a number to reply to.
    Alphanumeric,
    /// Network-specific (011), subscriber (100), abbreviated (110) or reserved (111): the
    /// three-bit value, kept so nothing is lost. The value holds the digits.
    Other(u8),
}

impl TypeOfNumber {
    fn from_bits(bits: u8) -> Self {
        match bits & 0x07 {
            0b000 => TypeOfNumber::Unknown,
            0b001 => TypeOfNumber::International,
            0b010 => TypeOfNumber::National,
            0b101 => TypeOfNumber::Alphanumeric,
            other => TypeOfNumber::Other(other),
        }
    }

    fn bits(self) -> u8 {
        match self {
            TypeOfNumber::Unknown => 0b000,
            TypeOfNumber::International => 0b001,
            TypeOfNumber::National => 0b010,
            TypeOfNumber::Alphanumeric => 0b101,
            TypeOfNumber::Other(bits) => bits & 0x07,
        }
    }
}

/// A phone number or sender name as it travels in a PDU.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address {
    pub kind: TypeOfNumber,
    /// The digits without '+' (which `kind` = International stands for), possibly with the
    /// other semi-octet symbols `*`, `#`, `a`, `b`, `c` (TS 23.040 §9.1.2.3); or, for an
    /// alphanumeric address, the sender name.
    pub value: String,
}

/// Longest address: 10 octets of digits (TS 23.040 §9.1.2.5: the field is at most 12 octets).
const MAX_DIGITS: usize = 20;
/// Longest sender name: 10 octets hold 11 septets.
const MAX_ALPHANUMERIC_SEPTETS: usize = 11;
/// Numbering plan "ISDN/telephone" (E.164), what every phone number here uses.
const NPI_ISDN: u8 = 0b0001;

impl Address {
    /// An E.164 number; a leading '+' is accepted and dropped.
    pub fn international(digits: &str) -> Self {
        Address {
            kind: TypeOfNumber::International,
            value: digits.strip_prefix('+').unwrap_or(digits).to_owned(),
        }
    }

    /// A number in national format (e.g. a leading 0).
    pub fn national(digits: &str) -> Self {
        Address {
            kind: TypeOfNumber::National,
            value: digits.to_owned(),
        }
    }

    /// A number of unknown type: short codes, or whatever the network did not classify.
    pub fn unknown(digits: &str) -> Self {
        Address {
            kind: TypeOfNumber::Unknown,
            value: digits.to_owned(),
        }
    }

    /// A sender name (at most 11 GSM 7-bit septets).
    pub fn alphanumeric(name: &str) -> Self {
        Address {
            kind: TypeOfNumber::Alphanumeric,
            value: name.to_owned(),
        }
    }

    /// TP-OA / TP-DA form: length in semi-octets, type of address, value.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let (semi_octets, data) = self.encode_value()?;
        let mut field = vec![semi_octets, self.type_octet()];
        field.extend(data);
        Ok(field)
    }

    /// SMSC form (TS 24.011 §8.2.5.1 as used by TS 27.005 §3.1): length in octets.
    pub fn encode_smsc(&self) -> Result<Vec<u8>, EncodeError> {
        let (_, data) = self.encode_value()?;
        let mut field = vec![(data.len() + 1) as u8, self.type_octet()];
        field.extend(data);
        Ok(field)
    }

    fn type_octet(&self) -> u8 {
        let plan = match self.kind {
            // TS 23.040 §9.1.2.5: alphanumeric addresses carry numbering plan 0000.
            TypeOfNumber::Alphanumeric => 0,
            _ => NPI_ISDN,
        };
        0x80 | self.kind.bits() << 4 | plan
    }

    /// (useful semi-octets, value octets)
    fn encode_value(&self) -> Result<(u8, Vec<u8>), EncodeError> {
        let invalid = |reason| EncodeError::InvalidAddress {
            value: self.value.clone(),
            reason,
        };
        if self.value.is_empty() {
            return Err(invalid("empty"));
        }
        if self.kind == TypeOfNumber::Alphanumeric {
            let text = gsm7::to_septets(&self.value)
                .ok_or_else(|| invalid("a sender name must be GSM 7-bit text"))?;
            if text.len() > MAX_ALPHANUMERIC_SEPTETS {
                return Err(invalid("a sender name is at most 11 GSM 7-bit septets"));
            }
            let semi_octets = (text.len() * 7).div_ceil(4);
            return Ok((semi_octets as u8, septets::pack(&text, 0)));
        }
        let nibbles = self
            .value
            .chars()
            .map(digit_nibble)
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| invalid("only digits and * # a b c are allowed"))?;
        if nibbles.len() > MAX_DIGITS {
            return Err(invalid("an address is at most 20 digits"));
        }
        let octets = nibbles
            .chunks(2)
            .map(|pair| pair[0] | pair.get(1).copied().unwrap_or(0x0F) << 4)
            .collect();
        Ok((nibbles.len() as u8, octets))
    }

    /// Read a TP-OA / TP-DA / TP-RA field.
    pub(crate) fn decode(
        reader: &mut Reader<'_>,
        field: &'static str,
    ) -> Result<Self, DecodeError> {
        let semi_octets = usize::from(reader.octet(field)?);
        let type_octet = reader.octet(field)?;
        let data = reader.take(semi_octets.div_ceil(2), field)?;
        Ok(Self::from_parts(type_octet, data, semi_octets))
    }

    /// Read the SMSC prefix of a PDU-mode PDU: `None` when its length is 0.
    pub(crate) fn decode_smsc(reader: &mut Reader<'_>) -> Result<Option<Self>, DecodeError> {
        const FIELD: &str = "SMSC address";
        let octets = usize::from(reader.octet(FIELD)?);
        if octets == 0 {
            return Ok(None);
        }
        let type_octet = reader.octet(FIELD)?;
        let data = reader.take(octets - 1, FIELD)?;
        Ok(Some(Self::from_parts(type_octet, data, data.len() * 2)))
    }

    fn from_parts(type_octet: u8, data: &[u8], semi_octets: usize) -> Self {
        let kind = TypeOfNumber::from_bits(type_octet >> 4);
        let value = if kind == TypeOfNumber::Alphanumeric {
            decode_alphanumeric(data, semi_octets)
        } else {
            decode_digits(data, semi_octets)
        };
        Address { kind, value }
    }
}

impl fmt::Display for Address {
    /// International numbers with their '+', everything else as it came.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind == TypeOfNumber::International {
            f.write_str("+")?;
        }
        f.write_str(&self.value)
    }
}

/// TS 23.040 §9.1.2.3: digits 0-9, then `*`, `#`, `a`, `b`, `c` for 1010..1110.
fn digit_nibble(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        '*' => Some(0x0A),
        '#' => Some(0x0B),
        'a' | 'A' => Some(0x0C),
        'b' | 'B' => Some(0x0D),
        'c' | 'C' => Some(0x0E),
        _ => None,
    }
}

fn nibble_digit(nibble: u8) -> Option<char> {
    match nibble {
        0..=9 => Some(char::from(b'0' + nibble)),
        0x0A => Some('*'),
        0x0B => Some('#'),
        0x0C => Some('a'),
        0x0D => Some('b'),
        0x0E => Some('c'),
        // 1111 is the filler (TS 23.040 §9.1.2.3). Only the last one is legal, but a filler
        // elsewhere carries no digit either, so it is skipped rather than failing the PDU.
        _ => None,
    }
}

fn decode_digits(data: &[u8], semi_octets: usize) -> String {
    data.iter()
        .flat_map(|&octet| [octet & 0x0F, octet >> 4])
        .take(semi_octets)
        .filter_map(nibble_digit)
        .collect()
}

/// TS 23.040 §9.1.2.5: the length counts the semi-octets the packed septets occupy, so the
/// septet count is `semi_octets * 4 / 7`, rounded down.
///
/// Some networks round the length up to whole octets; for a name of 8n-1 characters that
/// exposes the 7 spare bits as one more septet, read as '@' (0x00), or as CR where the
/// network padded as TS 23.038 §6.1.2.3.1 does for USSD. When the septets end exactly on an
/// octet boundary and the last one is 0x00 or CR, it is such padding and is dropped.
fn decode_alphanumeric(data: &[u8], semi_octets: usize) -> String {
    let count = (semi_octets * 4 / 7).min(data.len() * 8 / 7);
    let mut text = septets::unpack(data, 0, count).unwrap_or_default();
    if count > 0 && count.is_multiple_of(8) && matches!(text.last(), Some(0x00 | 0x0D)) {
        text.pop();
    }
    gsm7::from_septets(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modem::pdu::hex::from_hex;
    use proptest::prelude::*;

    fn decode_hex(hex: &str) -> Address {
        let bytes = from_hex(hex).unwrap();
        let mut reader = Reader::new(&bytes);
        let address = Address::decode(&mut reader, "TP-OA").unwrap();
        assert!(reader.rest().is_empty(), "{hex} not fully read");
        address
    }

    #[test]
    fn published_address_fields() {
        // (value, kind, TP-OA/TP-DA hex). Sources: python-gsmmodem test/test_pdu.py
        // (TestSmsPduAddressFields), ModemManager src/tests/test-sms-part-3gpp.c
        // (test_address_encode_*), ruby pdu_sms README ("Tele2").
        let table: &[(&str, TypeOfNumber, &str)] = &[
            ("9876543210", TypeOfNumber::International, "0A918967452301"),
            ("987654321", TypeOfNumber::International, "099189674523F1"),
            (
                "27829135934",
                TypeOfNumber::International,
                "0B917228195339F4",
            ),
            (
                "19037029920",
                TypeOfNumber::International,
                "0B919130079229F0",
            ),
            ("9037029920", TypeOfNumber::Unknown, "0A810973209902"),
            ("abc", TypeOfNumber::Alphanumeric, "06D061F118"),
            ("FRANCOIS", TypeOfNumber::Alphanumeric, "0ED04669D0397C26A7"),
            (
                "a[]{}€",
                TypeOfNumber::Alphanumeric,
                "14D0E10D6FE3DBA036A94D19",
            ),
            ("Tele2", TypeOfNumber::Alphanumeric, "09D0D432BB2C03"),
        ];
        for &(value, kind, hex) in table {
            let address = Address {
                kind,
                value: value.to_owned(),
            };
            assert_eq!(decode_hex(hex), address, "{hex}");
            assert_eq!(address.encode().unwrap(), from_hex(hex).unwrap(), "{value}");
        }
        // A national number with numbering plan "national" (0xA1) decodes its digits.
        assert_eq!(
            decode_hex("0AA11092997856"),
            Address::national("0129998765")
        );
    }

    #[test]
    fn published_smsc_fields() {
        // python-gsmmodem TestSmsPduSmscFields and ModemManager test_address_encode_smsc_*.
        let table: &[(&str, Address)] = &[
            ("06918967452301", Address::international("9876543210")),
            ("069189674523F1", Address::international("987654321")),
            ("07919130079229F0", Address::international("+19037029920")),
            ("06810973209902", Address::unknown("9037029920")),
        ];
        for (hex, address) in table {
            let bytes = from_hex(hex).unwrap();
            let mut reader = Reader::new(&bytes);
            assert_eq!(
                Address::decode_smsc(&mut reader).unwrap().as_ref(),
                Some(address)
            );
            assert_eq!(&address.encode_smsc().unwrap(), &bytes);
        }
        let mut none = Reader::new(&[0x00, 0x11]);
        assert_eq!(Address::decode_smsc(&mut none), Ok(None));
        assert_eq!(none.rest(), [0x11]);
    }

    #[test]
    fn semi_octet_symbols_and_fillers() {
        assert_eq!(decode_hex("05A1A1CBFD").value, "1*#ab");
        // A filler in the middle is skipped, not an error.
        assert_eq!(decode_hex("0481F1F2").value, "12");
        assert_eq!(
            Address::unknown("*100#").encode().unwrap(),
            [0x05, 0x81, 0x1A, 0x00, 0xFB]
        );
    }

    #[test]
    fn alphanumeric_padding_is_not_a_character() {
        // "Vodafon" is 7 characters: 13 semi-octets by the spec. A network that rounds the
        // length up to 14 exposes the 7 zero spare bits as an eighth septet ('@').
        let exact = Address::alphanumeric("Vodafon").encode().unwrap();
        assert_eq!(exact[0], 13);
        let mut rounded = exact.clone();
        rounded[0] = 14;
        assert_eq!(
            decode_hex(&crate::modem::pdu::hex::to_hex(&rounded)).value,
            "Vodafon"
        );
        // Same with CR padding in the spare bits.
        let mut cr = rounded.clone();
        let last = cr.len() - 1;
        cr[last] |= 0x0D << 1;
        assert_eq!(
            decode_hex(&crate::modem::pdu::hex::to_hex(&cr)).value,
            "Vodafon"
        );
    }

    #[test]
    fn encode_rejects() {
        let cases = [
            Address::international(""),
            Address::international("+44 7400"),
            Address::international("123456789012345678901"),
            Address::alphanumeric("TwelveChars!"),
            Address::alphanumeric("Zoë"),
        ];
        for address in cases {
            assert!(
                matches!(address.encode(), Err(EncodeError::InvalidAddress { .. })),
                "{address:?}"
            );
        }
        assert!(Address::alphanumeric("ElevenChars").encode().is_ok());
    }

    #[test]
    fn display() {
        assert_eq!(
            Address::international("+447400123456").to_string(),
            "+447400123456"
        );
        assert_eq!(Address::unknown("1002").to_string(), "1002");
        assert_eq!(Address::alphanumeric("InfoSMS").to_string(), "InfoSMS");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn digits_round_trip(digits in "[0-9*#abc]{1,20}", kind in 0u8..8) {
            let kind = TypeOfNumber::from_bits(kind);
            prop_assume!(kind != TypeOfNumber::Alphanumeric);
            let address = Address { kind, value: digits };
            let encoded = address.encode().unwrap();
            let mut reader = Reader::new(&encoded);
            prop_assert_eq!(Address::decode(&mut reader, "TP-DA").unwrap(), address.clone());
            let smsc = address.encode_smsc().unwrap();
            let mut reader = Reader::new(&smsc);
            prop_assert_eq!(Address::decode_smsc(&mut reader).unwrap(), Some(address));
        }

        #[test]
        fn names_round_trip(name in crate::modem::pdu::gsm7::tests::gsm7_text(11)) {
            let address = Address::alphanumeric(&name);
            match address.encode() {
                Ok(encoded) => {
                    let mut reader = Reader::new(&encoded);
                    let decoded = Address::decode(&mut reader, "TP-OA").unwrap();
                    // The one documented loss: a trailing '@' or CR in the 8th septet
                    // position is indistinguishable from padding.
                    let septets = gsm7::septet_len(&name).unwrap();
                    if septets.is_multiple_of(8) && (name.ends_with('@') || name.ends_with('\r')) {
                        prop_assert_eq!(decoded.value.as_str(), &name[..name.len() - 1]);
                    } else {
                        prop_assert_eq!(decoded, address);
                    }
                }
                Err(_) => prop_assert!(name.is_empty() || gsm7::septet_len(&name).unwrap() > 11),
            }
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..30)) {
            let _ = Address::decode(&mut Reader::new(&bytes), "TP-OA");
            let _ = Address::decode_smsc(&mut Reader::new(&bytes));
        }
    }
}
