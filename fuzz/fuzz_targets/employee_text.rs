//! The employee-text parser (and the replies it leads to) fed arbitrary texts: whatever a
//! phone sends, in any script, of any length a concatenated SMS can carry.
//!
//! Properties: no panic; a booking names 1 to MAX_CODES distinct valid codes; a REQUEST
//! page is at least 1; an AGENT note is one line; parsing the same text twice gives the same
//! command; the reply words it without panicking.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shiftsms::service::booking::{self, ShiftState};
use shiftsms::service::command::{self, Command, MAX_CODES};
use shiftsms::service::phone::{AddressKind, DefaultCountry, E164, classify_sender, normalise};
use shiftsms::service::reply::{Offer, ReplyOptions, Replies};
use shiftsms::service::shift_code::ShiftCode;

fuzz_target!(|bytes: &[u8]| {
    let text = String::from_utf8_lossy(bytes);
    let command = command::parse(&text);
    assert_eq!(command::parse(&text), command);
    let replies = Replies::defaults(ReplyOptions::default());
    let me = E164::from_international("+447400123456").expect("valid");
    match &command {
        Command::Book(codes) => {
            assert!(!codes.is_empty() && codes.len() <= MAX_CODES);
            for (i, code) in codes.iter().enumerate() {
                assert!(!codes[..i].contains(code), "duplicate {code:?}");
                // A code reads back as itself.
                assert_eq!(&code.as_str().parse::<ShiftCode>().expect("valid"), code);
            }
            let states = codes.iter().enumerate().map(|(i, code)| {
                let state = match i % 3 {
                    0 => ShiftState::Available,
                    1 => ShiftState::Missing,
                    _ => ShiftState::Taken { by: None },
                };
                (code.clone(), state)
            });
            let plan = booking::decide(&me, states);
            let won: Vec<ShiftCode> = plan.claims().cloned().collect();
            let _ = replies.booking(&plan.settle(&won));
        }
        Command::Request { page } => {
            assert!(*page >= 1);
            let offers: Vec<Offer> = (0..40)
                .map(|n| Offer {
                    code: format!("S{n:03}").parse().expect("valid code"),
                    // shift_info is anybody's text too (sqlite3, a CSV).
                    info: text.chars().skip(n * 7).take(200).collect(),
                })
                .collect();
            let _ = replies.listing(&offers, *page);
        }
        Command::Agent { note } => {
            assert!(!note.contains(['\n', '\r']), "note on several lines: {note:?}");
        }
        Command::Stop | Command::Start | Command::Help | Command::Unrecognised => {}
    }

    // The sender's address is untrusted too (TP-OA as the modem reported it).
    let gb: DefaultCountry = "GB".parse().expect("known country");
    for kind in [
        AddressKind::International,
        AddressKind::National,
        AddressKind::Alphanumeric,
        AddressKind::Other,
    ] {
        let _ = classify_sender(&text, kind, DefaultCountry::NONE);
        let _ = classify_sender(&text, kind, gb);
    }
    let _ = normalise(&text, DefaultCountry::NONE);
    let _ = normalise(&text, gb);
});
