//! The multipart assembler fed arbitrary sequences of parts and expiries: duplicates,
//! sequence numbers out of range, totals of 0 or 255, parts of one reference from several
//! senders, timestamps anywhere in jiff's range.
//!
//! Properties: no panic; every part's id comes out exactly once (in a message or in a
//! rejection) once everything has expired; a message's ids are in sequence order and name
//! the parts it holds; a complete message is not flagged incomplete; the same input gives the
//! same output.

#![no_main]

use std::time::Duration;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use shiftsms::modem::pdu::{Address, Assembler, Concat, Part};

#[derive(Debug, Arbitrary)]
enum Op {
    Push {
        sender: u8,
        concat: Option<(u16, u8, u8)>,
        text: String,
        received: i64,
    },
    Expire {
        now: i64,
    },
}

#[derive(Debug, Arbitrary)]
struct Input {
    timeout_secs: u32,
    ops: Vec<Op>,
}

fn timestamp(seconds: i64) -> jiff::Timestamp {
    let clamped = seconds.clamp(
        jiff::Timestamp::MIN.as_second(),
        jiff::Timestamp::MAX.as_second(),
    );
    jiff::Timestamp::from_second(clamped).expect("clamped into range")
}

type Outcome = (Vec<(Vec<u32>, bool, Vec<u8>, String)>, Vec<u32>);

fn run(input: &Input) -> Outcome {
    let senders = ["447400000001", "447400000002", "ALERTS"];
    let mut assembler = Assembler::new(Duration::from_secs(u64::from(input.timeout_secs)));
    let mut out = Vec::new();
    let mut rejected = Vec::new();
    let mut id = 0u32;
    let mut keep = |message: shiftsms::modem::pdu::Assembled<u32>| {
        assert_eq!(message.incomplete, !message.missing.is_empty());
        if let Some((_, total)) = message.concat {
            assert!(message.ids.len() + message.missing.len() == usize::from(total));
        }
        out.push((message.ids, message.incomplete, message.missing, message.text));
    };
    for op in &input.ops {
        match op {
            Op::Push {
                sender,
                concat,
                text,
                received,
            } => {
                let who = senders[usize::from(*sender) % senders.len()];
                let sender = if who.starts_with('4') {
                    Address::international(who)
                } else {
                    Address::alphanumeric(who)
                };
                let part = Part {
                    id,
                    sender,
                    concat: concat.map(|(reference, total, seq)| Concat {
                        reference,
                        total,
                        seq,
                    }),
                    text: text.clone(),
                    received: timestamp(*received),
                };
                id += 1;
                match assembler.push(part) {
                    Ok(Some(message)) => keep(message),
                    Ok(None) => {}
                    Err(refused) => rejected.push(refused.id),
                }
            }
            Op::Expire { now } => {
                for message in assembler.expire(timestamp(*now)) {
                    keep(message);
                }
            }
        }
    }
    for message in assembler.expire(jiff::Timestamp::MAX) {
        keep(message);
    }
    // A group whose latest part is within `timeout` of the end of time never falls due.
    let stuck = assembler.pending();
    if stuck == 0 {
        let mut seen: Vec<u32> = out
            .iter()
            .flat_map(|(ids, ..)| ids.iter().copied())
            .chain(rejected.iter().copied())
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..id).collect::<Vec<_>>(), "an id lost or doubled");
    }
    (out, rejected)
}

fuzz_target!(|input: Input| {
    let first = run(&input);
    assert_eq!(run(&input), first, "same parts, different messages");
});
