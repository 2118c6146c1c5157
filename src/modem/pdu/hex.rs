//! PDUs travel over AT as hexadecimal text (TS 27.005 §3.1: "hexadecimal format, two IRA
//! characters per octet"). Modems print them in upper case; some echo lower case back.

use super::error::DecodeError;

/// Hex text → octets. Surrounding whitespace (the CR LF a line reader may leave) is ignored;
/// upper and lower case are accepted; anything else, or an odd digit count, is an error.
pub fn from_hex(text: &str) -> Result<Vec<u8>, DecodeError> {
    let text = text.trim();
    // A stray character is reported in preference to the odd length it may cause.
    first_non_hex(text)?;
    if !text.len().is_multiple_of(2) {
        return Err(DecodeError::OddHexLength { digits: text.len() });
    }
    let digits = text.as_bytes();
    let mut octets = Vec::with_capacity(digits.len() / 2);
    for (pair_index, pair) in digits.chunks_exact(2).enumerate() {
        let high = nibble(pair[0], pair_index * 2)?;
        let low = nibble(pair[1], pair_index * 2 + 1)?;
        octets.push(high << 4 | low);
    }
    Ok(octets)
}

/// Octets → upper-case hex, the form modems print and expect after `AT+CMGS`.
pub fn to_hex(octets: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut text = String::with_capacity(octets.len() * 2);
    for &octet in octets {
        text.push(char::from(DIGITS[usize::from(octet >> 4)]));
        text.push(char::from(DIGITS[usize::from(octet & 0x0F)]));
    }
    text
}

fn first_non_hex(text: &str) -> Result<(), DecodeError> {
    match text.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        Some((position, found)) => Err(DecodeError::InvalidHex { position, found }),
        None => Ok(()),
    }
}

fn nibble(digit: u8, position: usize) -> Result<u8, DecodeError> {
    match digit {
        b'0'..=b'9' => Ok(digit - b'0'),
        b'a'..=b'f' => Ok(digit - b'a' + 10),
        b'A'..=b'F' => Ok(digit - b'A' + 10),
        _ => Err(DecodeError::InvalidHex {
            position,
            found: char::from(digit),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn table() {
        let ok: &[(&str, &[u8])] = &[
            ("", &[]),
            ("00", &[0x00]),
            ("0aFf", &[0x0A, 0xFF]),
            ("  07917283\r\n", &[0x07, 0x91, 0x72, 0x83]),
            ("\t00\t", &[0x00]),
        ];
        for &(text, want) in ok {
            assert_eq!(from_hex(text).as_deref(), Ok(want), "{text:?}");
        }
        assert_eq!(
            from_hex("ABC"),
            Err(DecodeError::OddHexLength { digits: 3 })
        );
        assert_eq!(
            from_hex("0G"),
            Err(DecodeError::InvalidHex {
                position: 1,
                found: 'G'
            })
        );
        assert_eq!(
            from_hex("0 1"),
            Err(DecodeError::InvalidHex {
                position: 1,
                found: ' '
            })
        );
        assert_eq!(
            from_hex("é0"),
            Err(DecodeError::InvalidHex {
                position: 0,
                found: 'é'
            })
        );
        assert_eq!(to_hex(&[0x00, 0xAB, 0x0F]), "00AB0F");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn round_trips(octets in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(from_hex(&to_hex(&octets)), Ok(octets.clone()));
            prop_assert_eq!(from_hex(&to_hex(&octets).to_lowercase()), Ok(octets));
        }

        #[test]
        fn never_panics(text in "\\PC{0,64}") {
            let _ = from_hex(&text);
        }
    }
}
