//! User data header (TS 23.040 §9.2.3.24): a list of information elements at the start of
//! the user data. The codec acts on concatenation (IEI 0x00, 8-bit reference, §9.2.3.24.1;
//! IEI 0x08, 16-bit reference, §9.2.3.24.8) and steps over every other element.

use super::error::DecodeError;

/// Where a part belongs in a concatenated message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Concat {
    /// Same for every part of one message from one sender (8- or 16-bit on the wire).
    pub reference: u16,
    /// Number of parts, 1..=255.
    pub total: u8,
    /// This part's position, 1..=total.
    pub seq: u8,
}

pub(crate) const IEI_CONCAT_8BIT: u8 = 0x00;
pub(crate) const IEI_CONCAT_16BIT: u8 = 0x08;

/// Read the information elements of `header` (the octets after the UDHL octet) and return
/// the concatenation element, if any.
///
/// TS 23.040 §9.2.3.24: when an element that may not be repeated is, the last one counts.
/// §9.2.3.24.1: a concatenation element whose total is 0, or whose sequence number is 0 or
/// beyond the total, is ignored as a whole, so such a part reads as a message of its own.
/// An element whose declared length runs past the header, or a concatenation element of the
/// wrong length, makes the header unreadable: an error, never a guess.
pub(crate) fn parse(header: &[u8]) -> Result<Option<Concat>, DecodeError> {
    let malformed = |reason: String| DecodeError::MalformedHeader { reason };
    let mut concat = None;
    let mut rest = header;
    while let [iei, rest_after_iei @ ..] = rest {
        let [length, body @ ..] = rest_after_iei else {
            return Err(malformed(format!(
                "information element {iei:#04x} has no length octet"
            )));
        };
        let length = usize::from(*length);
        if length > body.len() {
            return Err(malformed(format!(
                "information element {iei:#04x} declares {length} octet(s), {} left in the header",
                body.len()
            )));
        }
        let (data, after) = body.split_at(length);
        rest = after;
        let found = match (*iei, data) {
            (IEI_CONCAT_8BIT, &[reference, total, seq]) => Concat {
                reference: u16::from(reference),
                total,
                seq,
            },
            (IEI_CONCAT_16BIT, &[high, low, total, seq]) => Concat {
                reference: u16::from_be_bytes([high, low]),
                total,
                seq,
            },
            (IEI_CONCAT_8BIT | IEI_CONCAT_16BIT, _) => {
                return Err(malformed(format!(
                    "concatenation element {iei:#04x} has {length} octet(s), expected {}",
                    if *iei == IEI_CONCAT_8BIT { 3 } else { 4 }
                )));
            }
            _ => continue,
        };
        concat = (found.total != 0 && found.seq != 0 && found.seq <= found.total).then_some(found);
    }
    Ok(concat)
}

/// The whole user data header (UDHL octet included) for one part of a concatenated
/// message: the 8-bit-reference form when `wide` is false (then `reference` must be ≤ 255).
pub(crate) fn concat_header(concat: Concat, wide: bool) -> Vec<u8> {
    let [high, low] = concat.reference.to_be_bytes();
    if wide {
        vec![6, IEI_CONCAT_16BIT, 4, high, low, concat.total, concat.seq]
    } else {
        vec![5, IEI_CONCAT_8BIT, 3, low, concat.total, concat.seq]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn concatenation_elements() {
        // python-gsmmodem test_pdu.py TestUdhConcatenation: (23, 1 of 3) and (384, 2 of 4).
        assert_eq!(
            parse(&[0x00, 0x03, 0x17, 0x03, 0x01]),
            Ok(Some(Concat {
                reference: 23,
                total: 3,
                seq: 1
            }))
        );
        assert_eq!(
            parse(&[0x08, 0x04, 0x01, 0x80, 0x04, 0x02]),
            Ok(Some(Concat {
                reference: 384,
                total: 4,
                seq: 2
            }))
        );
        let c = Concat {
            reference: 384,
            total: 4,
            seq: 2,
        };
        assert_eq!(
            concat_header(c, true),
            [6, 0x08, 0x04, 0x01, 0x80, 0x04, 0x02]
        );
        let c = Concat {
            reference: 23,
            total: 3,
            seq: 1,
        };
        assert_eq!(concat_header(c, false), [5, 0x00, 0x03, 0x17, 0x03, 0x01]);
    }

    #[test]
    fn other_elements_are_skipped() {
        // Application port addressing (IEI 0x05, python-gsmmodem TestUdhPortAddress), then
        // concatenation; an empty header; a zero-length unknown element.
        let header = [
            0x05, 0x04, 0x04, 0xD2, 0x14, 0x66, 0x00, 0x03, 0x09, 0x02, 0x02,
        ];
        assert_eq!(parse(&header).unwrap().map(|c| c.seq), Some(2));
        assert_eq!(parse(&[]), Ok(None));
        assert_eq!(parse(&[0x70, 0x00]), Ok(None));
    }

    #[test]
    fn the_last_repeated_concatenation_counts() {
        let header = [0x00, 0x03, 0x01, 0x02, 0x01, 0x00, 0x03, 0x07, 0x03, 0x02];
        assert_eq!(parse(&header).unwrap().map(|c| c.reference), Some(7));
    }

    #[test]
    fn out_of_range_concatenation_is_ignored() {
        for (total, seq) in [(0, 0), (0, 1), (3, 0), (3, 4)] {
            assert_eq!(
                parse(&[0x00, 0x03, 0x01, total, seq]),
                Ok(None),
                "{seq}/{total}"
            );
        }
    }

    #[test]
    fn malformed_headers_are_errors() {
        let cases: &[&[u8]] = &[
            &[0x00],                         // no length octet
            &[0x00, 0x03, 0x01, 0x02],       // element runs past the header
            &[0x00, 0x02, 0x01, 0x02],       // 8-bit concatenation of the wrong length
            &[0x08, 0x03, 0x01, 0x02, 0x01], // 16-bit concatenation of the wrong length
            &[0x05, 0xFF],
        ];
        for header in cases {
            assert!(
                matches!(parse(header), Err(DecodeError::MalformedHeader { .. })),
                "{header:02X?}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn never_panics(header in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = parse(&header);
        }

        #[test]
        fn round_trips(reference in any::<u16>(), total in 1u8..=255, seq in 1u8..=255) {
            let concat = Concat { reference, total, seq: seq.min(total) };
            let wide = concat_header(concat, true);
            prop_assert_eq!(parse(&wide[1..]), Ok(Some(concat)));
            let narrow = Concat { reference: reference & 0xFF, ..concat };
            let header = concat_header(narrow, false);
            prop_assert_eq!(parse(&header[1..]), Ok(Some(narrow)));
        }
    }
}
