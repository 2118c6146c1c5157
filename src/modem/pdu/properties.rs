//! Property tests across the whole codec: any text survives encode → hex → decode →
//! assembly, lengths are what the modem is told, and no byte string makes a decoder panic.

use std::time::Duration;

use proptest::prelude::*;

use super::gsm7::tests::{gsm7_chars, gsm7_text};
use super::*;

/// Characters of every kind a reply or an employee's text may hold: mostly GSM 7-bit (with
/// extension characters), then Cyrillic, CJK, Latin letters GSM lacks, emoji, and anything.
fn any_char() -> impl Strategy<Value = char> {
    prop_oneof![
        8 => proptest::sample::select(gsm7_chars()),
        2 => proptest::char::range('А', 'я'),
        1 => proptest::char::range('一', '龥'),
        1 => proptest::sample::select(vec!['ï', 'ê', 'ő', 'ş', '`', '’', '\u{a0}']),
        2 => proptest::char::range('\u{1F300}', '\u{1FAFF}'),
        1 => any::<char>(),
    ]
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        gsm7_text(1600),
        proptest::collection::vec(any_char(), 0..=1600).prop_map(String::from_iter),
    ]
}

fn recipient() -> Address {
    Address::international("447400123456")
}

fn scts() -> Timestamp {
    Timestamp {
        year: 2025,
        month: 3,
        day: 30,
        hour: 1,
        minute: 59,
        second: 59,
        tz_quarter_hours: -14,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn submit_round_trips(text in any_text(), reference in any::<u8>(), status_report in any::<bool>()) {
        let opts = SubmitOptions { status_report, validity: None, concat_reference: reference };
        let pdus = encode_submit(&recipient(), &text, &opts).unwrap();
        prop_assert_eq!(pdus.len(), gsm7::plan(&text).part_count());
        // first octet, TP-MR, TP-DA, TP-PID, TP-DCS, TP-UDL come before the user data.
        let fixed = 1 + 1 + recipient().encode().unwrap().len() + 1 + 1 + 1;
        let mut joined = String::new();
        for (i, pdu) in pdus.iter().enumerate() {
            prop_assert_eq!(pdu.bytes[0], 0x00);
            prop_assert_eq!(pdu.tpdu_len, pdu.bytes.len() - 1);
            prop_assert!(pdu.tpdu_len - fixed <= 140, "user data over 140 octets");
            let submit = decode_submit(&from_hex(&pdu.to_hex()).unwrap()).unwrap();
            prop_assert_eq!(submit.coding.class, None);
            prop_assert_eq!(submit.status_report, status_report);
            prop_assert_eq!(&submit.recipient, &recipient());
            if pdus.len() > 1 {
                prop_assert_eq!(submit.concat, Some(Concat {
                    reference: u16::from(reference),
                    total: pdus.len() as u8,
                    seq: i as u8 + 1,
                }));
            } else {
                prop_assert_eq!(submit.concat, None);
            }
            joined += &submit.text;
        }
        prop_assert_eq!(joined, text);
    }

    #[test]
    fn deliver_round_trips_through_the_assembler(text in any_text(), reference in any::<u16>()) {
        let pdus = encode_deliver(&recipient(), &text, scts(), reference).unwrap();
        let mut assembler = Assembler::new(Duration::from_secs(60));
        let mut out = Vec::new();
        // Last part first: the network does not promise order.
        for (id, pdu) in pdus.iter().enumerate().rev() {
            prop_assert_eq!(pdu.tpdu_len, pdu.bytes.len() - 1);
            let Incoming::Deliver(d) = decode_incoming(&from_hex(&pdu.to_hex()).unwrap()).unwrap() else {
                return Err(TestCaseError::fail("not a DELIVER"));
            };
            prop_assert_eq!(d.timestamp, scts());
            prop_assert_eq!(d.coding.class, None);
            let received = d.timestamp.to_jiff().unwrap();
            let pushed = assembler.push(Part { id, sender: d.sender, concat: d.concat, text: d.text, received });
            out.extend(pushed.unwrap());
        }
        prop_assert_eq!(out.len(), 1);
        prop_assert_eq!(&out[0].text, &text);
        prop_assert_eq!(out[0].ids.clone(), (0..pdus.len()).collect::<Vec<_>>());
        prop_assert_eq!(assembler.pending(), 0);
    }

    #[test]
    fn long_texts_are_refused_not_truncated(extra in 1usize..200) {
        let text = "€".repeat(76 * 255 + extra);
        prop_assert_eq!(
            encode_submit(&recipient(), &text, &SubmitOptions::default()),
            Err(EncodeError::TooManyParts { parts: gsm7::plan(&text).part_count() })
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode_incoming(&bytes);
        let _ = decode_submit(&bytes);
        let _ = split_smsc(&bytes);
    }

    #[test]
    fn decoding_damaged_pdus_never_panics(
        text in gsm7_text(200),
        reference in any::<u16>(),
        cut in any::<prop::sample::Index>(),
        at in any::<prop::sample::Index>(),
        value in any::<u8>(),
    ) {
        for pdu in encode_deliver(&recipient(), &text, scts(), reference).unwrap() {
            let mut bytes = pdu.bytes.clone();
            let at = at.index(bytes.len());
            bytes[at] = value;
            let _ = decode_incoming(&bytes);
            let _ = decode_submit(&bytes);
            let _ = decode_incoming(&pdu.bytes[..cut.index(pdu.bytes.len())]);
        }
    }
}

#[test]
fn every_truncation_of_a_valid_pdu_is_a_typed_error() {
    for text in ["", "hello", "😀 ж", &"x".repeat(300)] {
        for reference in [7, 700] {
            for pdu in encode_deliver(&recipient(), text, scts(), reference).unwrap() {
                assert!(decode_incoming(&pdu.bytes).is_ok());
                for cut in 0..pdu.bytes.len() {
                    let result = decode_incoming(&pdu.bytes[..cut]);
                    assert!(result.is_err(), "{text:?} cut at {cut} decoded: {result:?}");
                }
            }
        }
    }
}
