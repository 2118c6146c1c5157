//! The fuzz targets' properties (fuzz/fuzz_targets/), as bounded property tests so every CI
//! run keeps checking them without nightly or libFuzzer. The properties already covered next
//! to the code (codec round-trips, framer chunking of modem-like bytes, parser no-panic, the
//! assembler's ids over small ranges) are not repeated here; these are what the fuzzers
//! check beyond them. Crashes the fuzzers found are pinned as plain tests at the end.

use std::time::Duration;

use proptest::prelude::*;
use shiftsms::drop::rows;
use shiftsms::modem::frame::{Expect, Frame, Framer};
use shiftsms::modem::pdu::{
    Address, Assembled, Assembler, Concat, Incoming, Part, Timestamp, decode_incoming,
    encode_deliver, from_hex, to_hex,
};
use shiftsms::service::booking::{self, ShiftState};
use shiftsms::service::command::{self, Command, MAX_CODES};
use shiftsms::service::phone::{DefaultCountry, E164};
use shiftsms::service::reply::{Offer, Replies, ReplyOptions};
use shiftsms::service::shift_code::ShiftCode;

// ---------------------------------------------------------------------------------------
// AT framer (fuzz target `frame`)

#[path = "../fuzz/shared/frame_expect.rs"]
mod frame_expect;
use frame_expect::expect;

fn frames_in_reads(bytes: &[u8], cuts: &[usize], expect: Option<&Expect>) -> (Vec<Frame>, usize) {
    let mut framer = Framer::new();
    let mut frames = Vec::new();
    let mut rest = bytes;
    let mut i = 0;
    while !rest.is_empty() {
        let n = cuts[i % cuts.len()].clamp(1, rest.len());
        framer.push(&rest[..n]);
        rest = &rest[n..];
        i += 1;
        while let Some(frame) = framer.next_frame(expect) {
            frames.push(frame);
        }
    }
    (frames, framer.pending())
}

/// Bytes skewed towards what makes the framer branch: line ends, the prompt, PDU-URC headers
/// (`+CMT:`/`+CDS:` take the next line), hex, noise.
fn framer_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        3 => proptest::collection::vec(any::<u8>(), 0..12),
        1 => Just(b"\r\n".to_vec()),
        1 => Just(b"\r".to_vec()),
        1 => Just(b"> ".to_vec()),
        1 => Just(b"+CMT: ,12\r\n".to_vec()),
        1 => Just(b"+CDS: 6\r\n".to_vec()),
        1 => Just(b"0791447".to_vec()),
        1 => Just(b"AT+CMGS=23".to_vec()),
        1 => Just(b"+CME ERROR: ".to_vec()),
        1 => Just(b"CONNECT".to_vec()),
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any bytes, any reads: the same frames as one read, and never more frames than bytes.
    #[test]
    fn framer_any_bytes_any_reads_same_frames(
        bytes in framer_bytes(),
        which in any::<u8>(),
        cuts in proptest::collection::vec(1usize..20, 1..16),
    ) {
        let expect = expect(which);
        let (whole, whole_pending) = frames_in_reads(&bytes, &[usize::MAX], expect.as_ref());
        prop_assert!(whole.len() <= bytes.len());
        let (chunked, pending) = frames_in_reads(&bytes, &cuts, expect.as_ref());
        prop_assert_eq!(chunked, whole);
        prop_assert_eq!(pending, whole_pending);
    }
}

// ---------------------------------------------------------------------------------------
// PDU decoder (fuzz target `pdu_decode`)

fn scts() -> Timestamp {
    Timestamp {
        year: 2025,
        month: 3,
        day: 30,
        hour: 9,
        minute: 15,
        second: 0,
        tz_quarter_hours: 4,
    }
}

/// Valid DELIVER PDUs with a few octets overwritten: most still decode, to something odd.
fn damaged_deliver() -> impl Strategy<Value = Vec<u8>> {
    (
        "[ -~]{0,200}|\\PC{0,100}",
        any::<u16>(),
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
    )
        .prop_map(|(text, reference, damage)| {
            let pdus = encode_deliver(
                &Address::international("447400123456"),
                &text,
                scts(),
                reference,
            )
            .expect("encodes");
            let mut bytes = pdus[0].bytes.clone();
            for (at, value) in damage {
                let at = at.index(bytes.len());
                bytes[at] = value;
            }
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Whatever a DELIVER decodes to, its text survives being encoded and decoded again, and
    /// the hex line the modem gives decodes the same as the bytes.
    #[test]
    fn decoded_deliver_text_round_trips(bytes in damaged_deliver()) {
        let decoded = decode_incoming(&bytes);
        prop_assert_eq!(&from_hex(&to_hex(&bytes)).unwrap(), &bytes);
        if let Ok(Incoming::Deliver(deliver)) = decoded {
            let reference = deliver.concat.map_or(0, |c| c.reference);
            if let Ok(pdus) = encode_deliver(&deliver.sender, &deliver.text, deliver.timestamp, reference) {
                let mut joined = String::new();
                for pdu in pdus {
                    match decode_incoming(&pdu.bytes) {
                        Ok(Incoming::Deliver(again)) => joined.push_str(&again.text),
                        other => prop_assert!(false, "re-encoded DELIVER decodes as {:?}", other),
                    }
                }
                prop_assert_eq!(joined, deliver.text);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Multipart assembler (fuzz target `assembler`), over the full ranges of the header fields

#[derive(Debug, Clone)]
enum Op {
    Push {
        sender: u8,
        concat: Option<(u16, u8, u8)>,
        received: i64,
    },
    Expire(i64),
}

fn timestamp(seconds: i64) -> jiff::Timestamp {
    let clamped = seconds.clamp(
        jiff::Timestamp::MIN.as_second(),
        jiff::Timestamp::MAX.as_second(),
    );
    jiff::Timestamp::from_second(clamped).unwrap()
}

fn op() -> impl Strategy<Value = Op> {
    let seconds = prop_oneof![
        4 => 0i64..5000,
        1 => any::<i64>(),
    ];
    let concat = prop_oneof![
        1 => Just(None),
        4 => (0u16..3, 0u8..5, 0u8..6).prop_map(Some),
        1 => any::<(u16, u8, u8)>().prop_map(Some),
    ];
    prop_oneof![
        5 => (0u8..3, concat, seconds.clone())
            .prop_map(|(sender, concat, received)| Op::Push { sender, concat, received }),
        1 => seconds.prop_map(Op::Expire),
    ]
}

type Outcome = (Vec<(Vec<u32>, bool, Vec<u8>, String)>, Vec<u32>, usize);

fn assemble(timeout: u32, ops: &[Op]) -> Outcome {
    let senders = ["447400000001", "447400000002", "447400000003"];
    let mut assembler = Assembler::new(Duration::from_secs(u64::from(timeout)));
    let mut out = Vec::new();
    let mut rejected = Vec::new();
    let mut keep = |message: Assembled<u32>| {
        assert_eq!(message.incomplete, !message.missing.is_empty());
        if let Some((_, total)) = message.concat {
            assert_eq!(
                message.ids.len() + message.missing.len(),
                usize::from(total)
            );
        }
        out.push((
            message.ids,
            message.incomplete,
            message.missing,
            message.text,
        ));
    };
    let mut id = 0u32;
    for op in ops {
        match *op {
            Op::Push {
                sender,
                concat,
                received,
            } => {
                let part = Part {
                    id,
                    sender: Address::international(senders[usize::from(sender)]),
                    concat: concat.map(|(reference, total, seq)| Concat {
                        reference,
                        total,
                        seq,
                    }),
                    text: format!("<{id}>"),
                    received: timestamp(received),
                };
                id += 1;
                match assembler.push(part) {
                    Ok(Some(message)) => keep(message),
                    Ok(None) => {}
                    Err(refused) => rejected.push(refused.id),
                }
            }
            Op::Expire(now) => assembler
                .expire(timestamp(now))
                .into_iter()
                .for_each(&mut keep),
        }
    }
    assembler
        .expire(jiff::Timestamp::MAX)
        .into_iter()
        .for_each(&mut keep);
    (out, rejected, assembler.pending())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Every id comes out once (unless its group's deadline lies past the end of time), a
    /// message's texts are its parts' texts in sequence order, and the same pushes give the
    /// same messages.
    #[test]
    fn assembler_any_parts_any_times(
        timeout in prop_oneof![Just(0u32), 1u32..100, Just(u32::MAX)],
        ops in proptest::collection::vec(op(), 0..80),
    ) {
        let (out, rejected, pending) = assemble(timeout, &ops);
        for (ids, _, _, text) in &out {
            let expected: String = ids.iter().map(|id| format!("<{id}>")).collect();
            prop_assert_eq!(text, &expected);
        }
        if pending == 0 {
            let mut seen: Vec<u32> = out
                .iter()
                .flat_map(|(ids, ..)| ids.iter().copied())
                .chain(rejected.iter().copied())
                .collect();
            seen.sort_unstable();
            let pushed = ops.iter().filter(|op| matches!(op, Op::Push { .. })).count() as u32;
            prop_assert_eq!(seen, (0..pushed).collect::<Vec<_>>());
        }
        prop_assert_eq!(assemble(timeout, &ops), (out, rejected, pending));
    }
}

// ---------------------------------------------------------------------------------------
// Employee text (fuzz target `employee_text`)

/// Texts near the grammar: codes, keywords, separators, decoration, other scripts, numbers.
fn employee_text() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        3 => "[A-Za-z]{1,4}[0-9]{1,4}",
        1 => prop::sample::select(vec![
            "REQUEST", "request 2", "STOP", "start", "AGENT", "agent:", "help", "and", "page",
            "#", "😀", "ＸＹＺ１２３", "\u{200B}", "Смена", "-", "--", "0", "99999999999",
        ]).prop_map(str::to_owned),
        2 => "\\PC{1,6}",
    ];
    let separator = prop::sample::select(vec![
        ",", ", ", " ", "\n", "\r\n", ";", ".", " and ", "\u{2028}", "\u{00A0}", "",
    ]);
    proptest::collection::vec((token, separator), 0..70).prop_map(|pairs| {
        pairs
            .into_iter()
            .flat_map(|(t, s)| [t, s.to_owned()])
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// What the parser promises of a command, and that its reply can be worded.
    #[test]
    fn employee_text_commands_keep_their_promises(text in employee_text()) {
        let command = command::parse(&text);
        prop_assert_eq!(&command::parse(&text), &command);
        let replies = Replies::defaults(ReplyOptions::default());
        match &command {
            Command::Book(codes) => {
                prop_assert!(!codes.is_empty() && codes.len() <= MAX_CODES);
                for (i, code) in codes.iter().enumerate() {
                    prop_assert!(!codes[..i].contains(code));
                    prop_assert_eq!(&code.as_str().parse::<ShiftCode>().unwrap(), code);
                }
                let me = E164::from_international("+447400123456").unwrap();
                let states = codes.iter().enumerate().map(|(i, code)| {
                    let state = [ShiftState::Available, ShiftState::Missing, ShiftState::Taken { by: None }][i % 3].clone();
                    (code.clone(), state)
                });
                let plan = booking::decide(&me, states);
                let won: Vec<ShiftCode> = plan.claims().cloned().collect();
                prop_assert!(!replies.booking(&plan.settle(&won)).is_empty());
            }
            Command::Request { page } => prop_assert!(*page >= 1),
            Command::Agent { note } => prop_assert!(!note.contains(['\n', '\r'])),
            Command::Stop | Command::Start | Command::Help | Command::Unrecognised => {}
        }
    }

}

proptest! {
    // Paging renders every page: the slowest property here in a debug build.
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The REQUEST listing with any shift_info a person typed, any page asked for.
    #[test]
    fn listing_takes_any_shift_info(
        infos in proptest::collection::vec("\\PC{0,200}", 0..20),
        page in any::<u32>(),
    ) {
        let replies = Replies::defaults(ReplyOptions::default());
        let offers: Vec<Offer> = infos
            .into_iter()
            .enumerate()
            .map(|(n, info)| Offer { code: format!("S{n:03}").parse().unwrap(), info })
            .collect();
        let listing = replies.listing(&offers, page);
        prop_assert!(listing.page >= 1 && listing.page <= listing.pages);
        prop_assert!(!listing.text.is_empty());
    }
}

// ---------------------------------------------------------------------------------------
// CSV drop folder (fuzz target `csv_rows`)

/// Files near the formats: headers of each kind, BOMs, quotes, delimiters, line ends.
fn csvish() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"shift_id,shift_info,shift_status\r\n".to_vec()),
        Just(b"phone;name;subscribed\n".to_vec()),
        Just(b"campaign_id\tshifts\n".to_vec()),
        Just(b"\xEF\xBB\xBF".to_vec()),
        Just(b"\"".to_vec()),
        Just(b",".to_vec()),
        Just(b";".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        "[A-Za-z0-9 +]{0,12}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..6),
    ];
    proptest::collection::vec(piece, 0..30).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A rejected file names at least one problem, each on a line the file has (a person
    /// must be able to find it).
    #[test]
    fn csv_problems_point_at_lines_that_exist(bytes in csvish()) {
        let lines = bytes.iter().filter(|&&b| b == b'\n' || b == b'\r').count() + 1;
        for country in [DefaultCountry::NONE, "GB".parse().unwrap()] {
            match rows::parse(&bytes, country) {
                Ok(parsed) => prop_assert!(!parsed.drafts.is_empty()),
                Err(rejected) => {
                    prop_assert!(!rejected.problems.is_empty());
                    for problem in &rejected.problems {
                        if let Some(line) = problem.line {
                            prop_assert!(line >= 1 && line <= lines + 1, "line {} of {}", line, lines);
                        }
                    }
                }
            }
        }
    }
}
