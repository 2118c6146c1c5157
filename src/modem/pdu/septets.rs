//! Septet packing (TS 23.038 §6.1.2.1.1): GSM 7-bit characters are laid end to end as a bit
//! stream, least significant bit first, so 8 septets fill 7 octets.
//!
//! Both functions count in *septet positions from the start of the user data*. When a user
//! data header is present, the text starts at the first septet boundary after it (TS 23.040
//! §9.2.3.24: the "fill bits"), which is position `ceil(header_octets * 8 / 7)`. Working in
//! positions makes the fill bits fall out of the arithmetic instead of being a special case:
//! 1 fill bit after the 6-octet header of an 8-bit concatenation reference, none after the
//! 7-octet header of a 16-bit one (the "first character lost" bug of naive decoders).

/// How many septet positions a user data header of `header_octets` (UDHL octet included)
/// occupies, fill bits included.
pub fn header_septets(header_octets: usize) -> usize {
    (header_octets * 8).div_ceil(7)
}

/// Octets needed to carry `septet_count` septet positions.
pub fn octets_for(septet_count: usize) -> usize {
    (septet_count * 7).div_ceil(8)
}

/// Pack `septets` (each < 0x80) starting at septet position `start`. The octets before the
/// text, and every unused bit after it, are zero (TS 23.040 §9.2.3.16); the caller writes
/// the header over the leading octets.
pub fn pack(septets: &[u8], start: usize) -> Vec<u8> {
    let mut octets = vec![0u8; octets_for(start + septets.len())];
    for (i, &septet) in septets.iter().enumerate() {
        let bit = (start + i) * 7;
        let (index, shift) = (bit / 8, bit % 8);
        let value = u16::from(septet & 0x7F) << shift;
        octets[index] |= value as u8;
        if shift > 1 {
            // The septet spills into the next octet, which exists by construction.
            octets[index + 1] |= (value >> 8) as u8;
        }
    }
    octets
}

/// Read `count` septets starting at septet position `start`, or `None` if `octets` is too
/// short to hold them. Never reads past the last septet asked for, so the spare bits of the
/// last octet are never mistaken for a character (the trailing '@' bug).
pub fn unpack(octets: &[u8], start: usize, count: usize) -> Option<Vec<u8>> {
    if octets_for(start.checked_add(count)?) > octets.len() {
        return None;
    }
    let septets = (start..start + count)
        .map(|position| {
            let bit = position * 7;
            let (index, shift) = (bit / 8, bit % 8);
            let low = u16::from(octets[index]);
            let high = if shift > 1 {
                u16::from(octets[index + 1])
            } else {
                0
            };
            (((high << 8 | low) >> shift) & 0x7F) as u8
        })
        .collect();
    Some(septets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_packings() {
        // "hellohello" from the classic SMS-SUBMIT example (dreamfabric.com/sms, TS 23.038 layout).
        let hello: Vec<u8> = b"hellohello".to_vec();
        assert_eq!(
            pack(&hello, 0),
            [0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37]
        );
        // python-gsmmodem test_pdu.py TestGsm7: "123" and "12345678" (8 septets, 7 octets).
        assert_eq!(pack(b"123", 0), [49, 217, 12]);
        assert_eq!(pack(b"12345678", 0), [49, 217, 140, 86, 179, 221, 112]);
    }

    #[test]
    fn header_positions() {
        assert_eq!(header_septets(6), 7); // 8-bit reference: 48 bits + 1 fill bit
        assert_eq!(header_septets(7), 8); // 16-bit reference: 56 bits, no fill
        assert_eq!(header_septets(0), 0);
        assert_eq!(octets_for(160), 140);
        assert_eq!(octets_for(7), 7); // 49 bits: 7 spare bits in the last octet
    }

    #[test]
    fn spare_bits_are_not_a_character() {
        // 7 septets leave 7 zero bits, which a decoder counting octets reads as '@' (0x00).
        let packed = pack(b"abcdefg", 0);
        assert_eq!(packed.len(), 7);
        assert_eq!(unpack(&packed, 0, 7).unwrap(), b"abcdefg");
        assert_eq!(unpack(&packed, 0, 8).unwrap().last(), Some(&0));
        assert_eq!(unpack(&packed, 0, 9), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn round_trips(septets in proptest::collection::vec(0u8..0x80, 0..200), start in 0usize..10) {
            let packed = pack(&septets, start);
            prop_assert_eq!(packed.len(), octets_for(start + septets.len()));
            prop_assert_eq!(unpack(&packed, start, septets.len()), Some(septets));
        }

        #[test]
        fn unpack_never_panics(octets in proptest::collection::vec(any::<u8>(), 0..50), start in 0usize..80, count in 0usize..80) {
            let _ = unpack(&octets, start, count);
        }
    }
}
