//! TP-UDL and TP-UD (TS 23.040 §9.2.3.16, §9.2.3.24): the text of one part, possibly behind a
//! user data header. The one place that turns user data into text and back, shared by
//! SMS-SUBMIT and SMS-DELIVER.
//!
//! TP-UDL counts septets for GSM 7-bit (header and fill bits included) and octets
//! otherwise. Text is read by that count and never by the number of octets present, so
//! the spare bits at the end of a GSM 7-bit part never become a trailing '@'.

use super::dcs::{Alphabet, DataCoding};
use super::error::{DecodeError, EncodeError};
use super::gsm7::{self, Encoding};
use super::reader::Reader;
use super::septets;
use super::udh::{self, Concat};

/// Read TP-UDL and TP-UD from the rest of a TPDU.
pub(crate) fn decode(
    reader: &mut Reader<'_>,
    coding: &DataCoding,
    has_header: bool,
) -> Result<(Option<Concat>, String), DecodeError> {
    let udl = reader.octet("TP-UDL")?;
    if coding.compressed {
        return Err(DecodeError::Compressed { dcs: coding.raw });
    }
    let ud = reader.rest();
    let (unit, needed) = match coding.alphabet {
        Alphabet::Gsm7 => ("septet(s)", septets::octets_for(usize::from(udl))),
        Alphabet::EightBit | Alphabet::Ucs2 => ("octet(s)", usize::from(udl)),
    };
    if needed > ud.len() {
        return Err(DecodeError::UserDataLength {
            udl,
            unit,
            needed,
            available: ud.len(),
        });
    }
    let ud = &ud[..needed];
    // Octets the header occupies, UDHL octet included.
    let (concat, header_octets) = match (has_header, ud.first()) {
        (false, _) => (None, 0),
        (true, None) => {
            return Err(DecodeError::MalformedHeader {
                reason: "TP-UDHI is set but the user data is empty".to_owned(),
            });
        }
        (true, Some(&udhl)) => {
            let header_octets = usize::from(udhl) + 1;
            if header_octets > ud.len() {
                return Err(DecodeError::MalformedHeader {
                    reason: format!(
                        "UDHL {udhl} is longer than the {} octet(s) of user data",
                        ud.len()
                    ),
                });
            }
            (udh::parse(&ud[1..header_octets])?, header_octets)
        }
    };
    let text = match coding.alphabet {
        Alphabet::Gsm7 => {
            let start = septets::header_septets(header_octets);
            let count = usize::from(udl).checked_sub(start).ok_or_else(|| {
                DecodeError::MalformedHeader {
                    reason: format!(
                        "a {header_octets}-octet header needs {start} septets; TP-UDL is {udl}"
                    ),
                }
            })?;
            // In range: `needed` octets hold `udl` septets.
            let text = septets::unpack(ud, start, count).unwrap_or_default();
            gsm7::from_septets(&text)
        }
        Alphabet::EightBit => latin1(&ud[header_octets..]),
        Alphabet::Ucs2 => ucs2(&ud[header_octets..]),
    };
    Ok((concat, text))
}

/// 8-bit data has no character set (TS 23.038 §4). Each octet becomes the character with
/// that code point (ISO 8859-1): total, lossless (the octets can be recovered exactly), and
/// right for the Western European text that phones sending 8-bit "text" actually carry.
fn latin1(octets: &[u8]) -> String {
    octets.iter().map(|&octet| char::from(octet)).collect()
}

/// UCS-2 as UTF-16 big-endian, so surrogate pairs (emoji) decode. An unpaired surrogate or a
/// dangling odd octet becomes U+FFFD: a text with one bad character is still worth reading.
fn ucs2(octets: &[u8]) -> String {
    let units = octets
        .chunks_exact(2)
        .map(|pair| u16::from_be_bytes([pair[0], pair[1]]));
    let mut text: String = char::decode_utf16(units)
        .map(|unit| unit.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect();
    if !octets.len().is_multiple_of(2) {
        text.push(char::REPLACEMENT_CHARACTER);
    }
    text
}

/// TP-UDL followed by TP-UD for `text` in `encoding`, behind `header` (a whole user data
/// header, UDHL octet included, or empty). The caller has sized `text` with
/// [`gsm7::plan_for`], so it fits; a character outside GSM 7-bit in a GSM 7-bit plan cannot
/// happen, because the plan chose GSM 7-bit only when every character has septets.
pub(crate) fn encode(encoding: Encoding, header: &[u8], text: &str) -> Vec<u8> {
    match encoding {
        Encoding::Gsm7 => {
            let text = gsm7::to_septets(text).unwrap_or_default();
            let start = septets::header_septets(header.len());
            let mut ud = septets::pack(&text, start);
            ud[..header.len()].copy_from_slice(header);
            let mut field = vec![(start + text.len()) as u8];
            field.extend(ud);
            field
        }
        Encoding::Ucs2 => {
            let mut ud = header.to_vec();
            ud.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
            let mut field = vec![ud.len() as u8];
            field.extend(ud);
            field
        }
    }
}

/// One part of a text, ready to go behind a TPDU's fixed fields.
pub(crate) struct Part {
    /// Whether it carries a user data header (TP-UDHI must then be set, §9.2.3.23).
    pub has_header: bool,
    /// TP-DCS: GSM 7-bit or UCS-2, no message class (TS 23.038 §4).
    pub dcs: u8,
    /// TP-UDL and TP-UD.
    pub user_data: Vec<u8>,
}

/// `text` split by the one split rule ([`gsm7::plan_for`]), each part of a multipart text
/// behind a concatenation header (§9.2.3.24.1, or §9.2.3.24.8 with a 16-bit `reference`
/// when `header` says so). Shared by SMS-SUBMIT and SMS-DELIVER, which differ only in the
/// fields before the user data.
pub(crate) fn split(
    text: &str,
    header: gsm7::ConcatHeader,
    reference: u16,
) -> Result<Vec<Part>, EncodeError> {
    let plan = gsm7::plan_for(text, header);
    let total = u8::try_from(plan.part_count())
        .ok()
        .filter(|&total| usize::from(total) <= gsm7::MAX_PARTS)
        .ok_or(EncodeError::TooManyParts {
            parts: plan.part_count(),
        })?;
    let dcs = match plan.encoding {
        Encoding::Gsm7 => Alphabet::Gsm7,
        Encoding::Ucs2 => Alphabet::Ucs2,
    }
    .plain_dcs();
    let wide = header == gsm7::ConcatHeader::SixteenBitRef;
    Ok(plan
        .parts
        .iter()
        .zip(1..=total)
        .map(|(range, seq)| {
            let header = if total > 1 {
                udh::concat_header(
                    Concat {
                        reference,
                        total,
                        seq,
                    },
                    wide,
                )
            } else {
                Vec::new()
            };
            Part {
                has_header: !header.is_empty(),
                dcs,
                user_data: encode(plan.encoding, &header, &text[range.clone()]),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_bytes(
        dcs: u8,
        udhi: bool,
        bytes: &[u8],
    ) -> Result<(Option<Concat>, String), DecodeError> {
        decode(&mut Reader::new(bytes), &DataCoding::decode(dcs), udhi)
    }

    #[test]
    fn ucs2_surrogates() {
        // "A😀" then an unpaired high surrogate, then a lone low surrogate.
        let bytes = [
            0x00, 0x41, 0xD8, 0x3D, 0xDE, 0x00, 0xD8, 0x3D, 0x00, 0x42, 0xDC, 0x00,
        ];
        assert_eq!(ucs2(&bytes), "A😀\u{FFFD}B\u{FFFD}");
        assert_eq!(ucs2(&[0x00, 0x41, 0x00]), "A\u{FFFD}");
    }

    #[test]
    fn eight_bit_is_latin1() {
        assert_eq!(latin1(&[0x48, 0x69, 0xE9, 0x00]), "Hié\0");
    }

    #[test]
    fn lengths_that_lie() {
        // UDL 11 septets need 10 octets; 9 given (ModemManager test_pdu_insufficient_data).
        let mut bytes = vec![0x0B];
        bytes.extend([0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37]);
        assert!(matches!(
            decode_bytes(0x00, false, &bytes),
            Err(DecodeError::UserDataLength {
                udl: 11,
                needed: 10,
                available: 9,
                ..
            })
        ));
        bytes[0] = 0x0A;
        assert_eq!(decode_bytes(0x00, false, &bytes).unwrap().1, "hellohello");
        // UCS-2 UDL beyond the data.
        assert!(matches!(
            decode_bytes(0x08, false, &[0x04, 0x00, 0x41]),
            Err(DecodeError::UserDataLength { .. })
        ));
        // UDHL longer than the user data (8-bit and 7-bit).
        assert!(matches!(
            decode_bytes(0x08, true, &[0x04, 0x07, 0x00, 0x03, 0x01]),
            Err(DecodeError::MalformedHeader { .. })
        ));
        assert!(matches!(
            decode_bytes(0x00, true, &[0x03, 0x05, 0x00, 0x03]),
            Err(DecodeError::MalformedHeader { .. })
        ));
        // UDHI with no user data at all.
        assert!(matches!(
            decode_bytes(0x00, true, &[0x00]),
            Err(DecodeError::MalformedHeader { .. })
        ));
        // UDL fits the octets but not the header's septets: 6-octet header = 7 septets.
        assert!(matches!(
            decode_bytes(0x00, true, &[0x06, 0x05, 0x00, 0x03, 0x01, 0x02, 0x01]),
            Err(DecodeError::MalformedHeader { .. })
        ));
        // Missing UDL octet.
        assert!(matches!(
            decode_bytes(0x00, false, &[]),
            Err(DecodeError::Truncated {
                field: "TP-UDL",
                ..
            })
        ));
        // Compressed text.
        assert_eq!(
            decode_bytes(0x20, false, &[0x00]),
            Err(DecodeError::Compressed { dcs: 0x20 })
        );
    }

    #[test]
    fn empty_user_data() {
        assert_eq!(
            decode_bytes(0x00, false, &[0x00]),
            Ok((None, String::new()))
        );
        assert_eq!(
            decode_bytes(0x08, false, &[0x00]),
            Ok((None, String::new()))
        );
        assert_eq!(encode(Encoding::Gsm7, &[], ""), [0x00]);
    }

    #[test]
    fn extra_octets_after_the_data_are_ignored() {
        let bytes = [0x02, 0x41, 0x42, 0xFF, 0xFF];
        assert_eq!(decode_bytes(0x04, false, &bytes).unwrap().1, "AB");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn decode_never_panics(dcs in any::<u8>(), udhi in any::<bool>(),
                               bytes in proptest::collection::vec(any::<u8>(), 0..160)) {
            let _ = decode_bytes(dcs, udhi, &bytes);
        }
    }
}
