//! The GSM 7-bit default alphabet and its extension table (3GPP TS 23.038 §6.2.1), and the
//! one rule that decides how a text is split into SMS parts.
//!
//! Both the PDU encoder (which must split) and the service rules (which want to know what a
//! reply will cost before it is queued) call [`plan`], so the two can never disagree.

use std::ops::Range;

/// Escape to the extension table (TS 23.038 §6.2.1.1).
pub const ESCAPE: u8 = 0x1B;

/// The default alphabet, indexed by septet value. Index 0x1B is the escape, never a character.
pub const DEFAULT_ALPHABET: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u{1b}', 'Æ', 'æ', 'ß', 'É', //
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

/// The extension table: (septet after the escape, character). Form feed is listed because
/// the spec lists it; everything else here is what phones actually send.
pub const EXTENSION_TABLE: [(u8, char); 10] = [
    (0x0A, '\u{0c}'),
    (0x14, '^'),
    (0x28, '{'),
    (0x29, '}'),
    (0x2F, '\\'),
    (0x3C, '['),
    (0x3D, '~'),
    (0x3E, ']'),
    (0x40, '|'),
    (0x65, '€'),
];

/// One character as GSM 7-bit septets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Septets {
    /// One septet from the default alphabet.
    Basic(u8),
    /// The escape followed by this septet from the extension table (costs two septets).
    Extended(u8),
}

impl Septets {
    /// How many septets the character costs on the air.
    pub fn septet_count(self) -> usize {
        match self {
            Septets::Basic(_) => 1,
            Septets::Extended(_) => 2,
        }
    }
}

const NOT_IN_ALPHABET: u8 = 0xFF;

/// ASCII → septet, built at compile time from [`DEFAULT_ALPHABET`] so the two cannot drift.
const ASCII_TO_SEPTET: [u8; 128] = {
    let mut table = [NOT_IN_ALPHABET; 128];
    let mut septet = 0;
    while septet < 128 {
        let c = DEFAULT_ALPHABET[septet] as u32;
        if c < 128 && septet != ESCAPE as usize {
            table[c as usize] = septet as u8;
        }
        septet += 1;
    }
    table
};

/// The septets for `c`, or `None` when the character needs UCS-2.
pub fn encode_char(c: char) -> Option<Septets> {
    let code = c as u32;
    if code < 128 && ASCII_TO_SEPTET[code as usize] != NOT_IN_ALPHABET {
        return Some(Septets::Basic(ASCII_TO_SEPTET[code as usize]));
    }
    if let Some(&(septet, _)) = EXTENSION_TABLE.iter().find(|&&(_, ext)| ext == c) {
        return Some(Septets::Extended(septet));
    }
    if code < 128 {
        return None;
    }
    DEFAULT_ALPHABET
        .iter()
        .position(|&d| d == c)
        .map(|septet| Septets::Basic(septet as u8))
}

/// The character of a default-alphabet septet (`septet` is masked to 7 bits).
pub fn decode_basic(septet: u8) -> char {
    DEFAULT_ALPHABET[usize::from(septet & 0x7F)]
}

/// The character of an extension-table septet. TS 23.038 §6.2.1.1: a receiver that does not
/// know an extension code shows the default-alphabet character of that code instead.
pub fn decode_extended(septet: u8) -> char {
    EXTENSION_TABLE
        .iter()
        .find(|&&(code, _)| code == septet)
        .map(|&(_, c)| c)
        .unwrap_or_else(|| decode_basic(septet))
}

/// `text` as unpacked septets (escape pairs included), or `None` if any character needs UCS-2.
pub fn to_septets(text: &str) -> Option<Vec<u8>> {
    let mut septets = Vec::with_capacity(text.len());
    for c in text.chars() {
        match encode_char(c)? {
            Septets::Basic(septet) => septets.push(septet),
            Septets::Extended(septet) => septets.extend([ESCAPE, septet]),
        }
    }
    Some(septets)
}

/// Unpacked septets → text. Total: every septet sequence decodes to something.
///
/// TS 23.038 §6.2.1.1: an escape followed by a code the extension table does not define shows
/// the default-alphabet character ([`decode_extended`]); an escape followed by another escape
/// (reserved for a further extension table) and an escape with nothing after it are shown as
/// a space, the display the spec gives the escape code itself. No control character U+001B
/// ever reaches the text.
pub fn from_septets(septets: &[u8]) -> String {
    let mut text = String::with_capacity(septets.len());
    let mut iter = septets.iter().map(|&septet| septet & 0x7F);
    while let Some(septet) = iter.next() {
        if septet != ESCAPE {
            text.push(decode_basic(septet));
            continue;
        }
        match iter.next() {
            Some(ESCAPE) | None => text.push(' '),
            Some(extended) => text.push(decode_extended(extended)),
        }
    }
    text
}

/// Septets needed for `text` in GSM 7-bit, or `None` if any character needs UCS-2.
pub fn septet_len(text: &str) -> Option<usize> {
    text.chars()
        .map(|c| encode_char(c).map(Septets::septet_count))
        .sum()
}

/// The character set a text will be sent in (TS 23.038 §4, data coding scheme).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// GSM 7-bit default alphabet with the extension table: 160 septets in one SMS.
    Gsm7,
    /// UCS-2 (UTF-16 code units on the wire, so emoji travel as surrogate pairs): 70 per SMS.
    Ucs2,
}

/// Capacity of one SMS in the encoding's units (septets or UTF-16 code units).
pub const GSM7_SINGLE: usize = 160;
/// Capacity of one part of a concatenated message: 140 octets minus a 6-octet UDH
/// (TS 23.040 §9.2.3.24.1, 8-bit reference) leaves 1072 bits = 153 septets.
pub const GSM7_PART: usize = 153;
/// UCS-2 capacity of a single SMS (140 octets / 2).
pub const UCS2_SINGLE: usize = 70;
/// UCS-2 capacity of one concatenated part ((140 - 6) / 2).
pub const UCS2_PART: usize = 67;
/// Concatenation counts parts in one octet (TS 23.040 §9.2.3.24.1).
pub const MAX_PARTS: usize = 255;
/// GSM 7-bit capacity of one part carrying a 16-bit reference (TS 23.040 §9.2.3.24.8): the
/// 7-octet header leaves 133 octets = 1064 bits = 152 septets.
pub const GSM7_PART_16BIT_REF: usize = 152;
/// UCS-2 capacity of one part carrying a 16-bit reference ((140 - 7) / 2, rounded down).
pub const UCS2_PART_16BIT_REF: usize = 66;

/// Which concatenation header a multipart message carries; it decides the part capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConcatHeader {
    /// IEI 0x00, 8-bit reference, 6-octet header: what phones and this daemon send.
    #[default]
    EightBitRef,
    /// IEI 0x08, 16-bit reference, 7-octet header: one unit less per part.
    SixteenBitRef,
}

/// How a text will travel: its encoding and the byte ranges of `text` that go in each part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsPlan {
    pub encoding: Encoding,
    /// Byte ranges into the planned text, one per SMS part, in order. Never empty: an empty
    /// text is one empty part. Never splits a character, an escape pair or a surrogate pair.
    pub parts: Vec<Range<usize>>,
}

impl SmsPlan {
    pub fn part_count(&self) -> usize {
        self.parts.len()
    }
}

/// Decide the encoding and the split of `text`: GSM 7-bit whenever every character is in
/// the default alphabet or its extension table, otherwise UCS-2. A text that needs more than
/// [`MAX_PARTS`] parts still gets a plan; callers that send must refuse it.
pub fn plan(text: &str) -> SmsPlan {
    plan_for(text, ConcatHeader::EightBitRef)
}

/// [`plan`] for parts that will carry `header`: the same rule, with the capacity of a part
/// reduced by one unit for the longer 16-bit-reference header.
pub fn plan_for(text: &str, header: ConcatHeader) -> SmsPlan {
    let (gsm7_part, ucs2_part) = match header {
        ConcatHeader::EightBitRef => (GSM7_PART, UCS2_PART),
        ConcatHeader::SixteenBitRef => (GSM7_PART_16BIT_REF, UCS2_PART_16BIT_REF),
    };
    match septet_len(text) {
        Some(len) if len <= GSM7_SINGLE => single(text, Encoding::Gsm7),
        Some(_) => SmsPlan {
            encoding: Encoding::Gsm7,
            parts: split(text, gsm7_part, |c| {
                encode_char(c).map_or(1, Septets::septet_count)
            }),
        },
        None if text.encode_utf16().count() <= UCS2_SINGLE => single(text, Encoding::Ucs2),
        None => SmsPlan {
            encoding: Encoding::Ucs2,
            parts: split(text, ucs2_part, char::len_utf16),
        },
    }
}

fn single(text: &str, encoding: Encoding) -> SmsPlan {
    SmsPlan {
        encoding,
        parts: std::iter::once(0..text.len()).collect(),
    }
}

/// Greedy split: fill each part with whole characters until the next would not fit.
fn split(text: &str, capacity: usize, cost: impl Fn(char) -> usize) -> Vec<Range<usize>> {
    let mut parts = Vec::new();
    let (mut start, mut used) = (0, 0);
    for (at, c) in text.char_indices() {
        let units = cost(c);
        if used + units > capacity {
            parts.push(start..at);
            start = at;
            used = 0;
        }
        used += units;
    }
    parts.push(start..text.len());
    parts
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_basic_septet_round_trips() {
        for septet in 0u8..128 {
            if septet == ESCAPE {
                continue;
            }
            let c = decode_basic(septet);
            assert_eq!(encode_char(c), Some(Septets::Basic(septet)), "{c:?}");
        }
    }

    #[test]
    fn every_extension_character_round_trips() {
        for &(septet, c) in &EXTENSION_TABLE {
            assert_eq!(encode_char(c), Some(Septets::Extended(septet)));
            assert_eq!(decode_extended(septet), c);
        }
    }

    #[test]
    fn unknown_extension_falls_back_to_default_table() {
        assert_eq!(decode_extended(0x41), 'A');
    }

    #[test]
    fn septet_lengths() {
        let cases: &[(&str, Option<usize>)] = &[
            ("", Some(0)),
            ("XYZ123, XYZ222", Some(14)),
            ("€5 [x]", Some(9)),
            ("Müller à Ørsted", Some(15)),
            ("café", Some(4)),
            ("naïve", None),
            ("Zoë 😀", None),
            ("`", None),
        ];
        for &(text, want) in cases {
            assert_eq!(septet_len(text), want, "{text:?}");
        }
    }

    #[test]
    fn plan_boundaries() {
        let gsm = |n| "a".repeat(n);
        assert_eq!(plan(&gsm(160)).part_count(), 1);
        assert_eq!(plan(&gsm(161)).part_count(), 2);
        assert_eq!(plan(&gsm(306)).part_count(), 2);
        assert_eq!(plan(&gsm(307)).part_count(), 3);
        assert_eq!(plan("").parts.len(), 1);
        assert!(plan("").parts[0].is_empty());
        let ucs = |n| "ж".repeat(n);
        assert_eq!(plan(&ucs(70)).encoding, Encoding::Ucs2);
        assert_eq!(plan(&ucs(70)).part_count(), 1);
        assert_eq!(plan(&ucs(71)).part_count(), 2);
        assert_eq!(plan(&ucs(134)).part_count(), 2);
        assert_eq!(plan(&ucs(135)).part_count(), 3);
    }

    #[test]
    fn escape_pair_is_never_split() {
        // 152 plain septets then '€' (2 septets) would straddle the 153-septet boundary.
        let text = format!("{}€{}", "a".repeat(152), "b".repeat(20));
        let plan = plan(&text);
        assert_eq!(plan.encoding, Encoding::Gsm7);
        assert_eq!(&text[plan.parts[0].clone()], "a".repeat(152));
        assert!(text[plan.parts[1].clone()].starts_with('€'));
    }

    #[test]
    fn surrogate_pair_is_never_split() {
        let text = format!("{}😀{}", "ж".repeat(66), "ж".repeat(10));
        let plan = plan(&text);
        assert_eq!(plan.encoding, Encoding::Ucs2);
        assert_eq!(&text[plan.parts[0].clone()], "ж".repeat(66));
        assert!(text[plan.parts[1].clone()].starts_with('😀'));
    }

    /// Every character GSM 7-bit can carry, extension table included.
    pub(crate) fn gsm7_chars() -> Vec<char> {
        DEFAULT_ALPHABET
            .iter()
            .copied()
            .filter(|&c| c != '\u{1b}')
            .chain(EXTENSION_TABLE.iter().map(|&(_, c)| c))
            .collect()
    }

    /// Texts of up to `max` characters drawn from [`gsm7_chars`].
    pub(crate) fn gsm7_text(max: usize) -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(gsm7_chars()), 0..=max)
            .prop_map(String::from_iter)
    }

    #[test]
    fn septet_text_conversion() {
        assert_eq!(to_septets("A€@"), Some(vec![0x41, ESCAPE, 0x65, 0x00]));
        assert_eq!(to_septets("ж"), None);
        assert_eq!(from_septets(&[0x41, ESCAPE, 0x65, 0x00]), "A€@");
        // Reserved double escape and a dangling escape show as spaces, never as U+001B.
        assert_eq!(from_septets(&[ESCAPE, ESCAPE, 0x41]), " A");
        assert_eq!(from_septets(&[0x41, ESCAPE]), "A ");
        // Unknown extension code falls back to the default table.
        assert_eq!(from_septets(&[ESCAPE, 0x41]), "A");
    }

    #[test]
    fn sixteen_bit_reference_parts_are_one_unit_shorter() {
        let text = "a".repeat(305);
        assert_eq!(plan_for(&text, ConcatHeader::EightBitRef).part_count(), 2);
        let wide = plan_for(&text, ConcatHeader::SixteenBitRef);
        assert_eq!(wide.part_count(), 3);
        assert_eq!(wide.parts[0], 0..152);
        let ucs = "ж".repeat(133);
        assert_eq!(plan_for(&ucs, ConcatHeader::EightBitRef).part_count(), 2);
        assert_eq!(plan_for(&ucs, ConcatHeader::SixteenBitRef).part_count(), 3);
        // A single part has no header, so the header choice does not matter.
        assert_eq!(
            plan_for(&"a".repeat(160), ConcatHeader::SixteenBitRef).part_count(),
            1
        );
    }

    proptest! {
        #[test]
        fn septets_round_trip(text in gsm7_text(200)) {
            let septets = to_septets(&text).unwrap();
            prop_assert_eq!(septets.len(), septet_len(&text).unwrap());
            prop_assert_eq!(from_septets(&septets), text);
        }

        #[test]
        fn from_septets_is_total(septets in proptest::collection::vec(any::<u8>(), 0..200)) {
            let escape_free = !from_septets(&septets).contains('\u{1b}');
            prop_assert!(escape_free);
        }

        #[test]
        fn plan_covers_text_exactly_and_respects_capacity(text in "\\PC{0,800}") {
            let plan = plan(&text);
            let mut next = 0;
            for part in &plan.parts {
                prop_assert_eq!(part.start, next);
                next = part.end;
                let piece = &text[part.clone()];
                match plan.encoding {
                    Encoding::Gsm7 => {
                        let cap = if plan.part_count() == 1 { GSM7_SINGLE } else { GSM7_PART };
                        prop_assert!(septet_len(piece).unwrap() <= cap);
                    }
                    Encoding::Ucs2 => {
                        let cap = if plan.part_count() == 1 { UCS2_SINGLE } else { UCS2_PART };
                        prop_assert!(piece.encode_utf16().count() <= cap);
                    }
                }
            }
            prop_assert_eq!(next, text.len());
        }
    }
}
