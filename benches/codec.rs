//! Micro-benchmarks of the pure edges: the SMS PDU codec, the AT framer over a long modem
//! transcript, the multipart assembler, and the employee-text parser with its reply.
//!
//! `cargo bench --bench codec` (criterion; figures and the machine are in BENCHMARKS.md).
//! Each case names what a real message of that kind costs, to set against the one to several
//! seconds a GSM modem needs to send one SMS.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use shiftsms::modem::frame::{BareLines, Expect, Framer};
use shiftsms::modem::pdu::{
    Address, Assembler, Incoming, Part, SubmitOptions, Timestamp, decode_incoming, encode_deliver,
    encode_submit, from_hex,
};
use shiftsms::service::booking::{self, ShiftState};
use shiftsms::service::command::{self, Command};
use shiftsms::service::phone::{AddressKind, DefaultCountry, E164, classify_sender, normalise};
use shiftsms::service::reply::{Offer, Replies, ReplyOptions};
use shiftsms::service::shift_code::ShiftCode;

const GSM7_TEXT: &str = "You secured XYZ123 (Mon 06:00-14:00 Line 3). Already taken: XYZ222.";
const UCS2_TEXT: &str = "Смена XYZ123 забронирована для вас: пн 06:00-14:00, линия 3 ✅";

/// 3 parts of GSM 7-bit: what a REQUEST reply with a few shifts looks like.
fn three_part_text() -> String {
    let line = "ABC123 Mon 06:00-14:00 Line 3; ";
    let mut text = String::from("Available shifts: ");
    while text.len() < 153 * 2 + 100 {
        text.push_str(line);
    }
    text
}

fn employee() -> Address {
    Address::international("447400123456")
}

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

fn deliver_hex(text: &str, reference: u16) -> Vec<String> {
    encode_deliver(&employee(), text, scts(), reference)
        .expect("encodes")
        .iter()
        .map(|pdu| pdu.to_hex())
        .collect()
}

fn pdu(c: &mut Criterion) {
    let three = three_part_text();
    let mut group = c.benchmark_group("pdu");
    for (name, text) in [
        ("gsm7", GSM7_TEXT),
        ("ucs2", UCS2_TEXT),
        ("gsm7_3_parts", three.as_str()),
    ] {
        let parts = encode_submit(&employee(), text, &SubmitOptions::default())
            .expect("encodes")
            .len();
        assert_eq!(parts, if name == "gsm7_3_parts" { 3 } else { 1 });
        group.bench_function(format!("encode_submit/{name}"), |b| {
            b.iter(|| encode_submit(&employee(), black_box(text), &SubmitOptions::default()))
        });
        // Decoding starts from the hex line the modem lists, as the daemon's does.
        let hex = deliver_hex(text, 7);
        group.bench_function(format!("decode_deliver/{name}"), |b| {
            b.iter(|| {
                for line in &hex {
                    let bytes = from_hex(black_box(line)).expect("hex");
                    black_box(decode_incoming(&bytes).expect("decodes"));
                }
            })
        });
    }
    // The three parts decoded and joined by the assembler, last part first.
    let hex = deliver_hex(&three, 300);
    group.bench_function("decode_and_assemble/gsm7_3_parts", |b| {
        b.iter(|| {
            let mut assembler = Assembler::new(Duration::from_secs(3600));
            let mut whole = None;
            for (id, line) in hex.iter().enumerate().rev() {
                let bytes = from_hex(line).expect("hex");
                let Ok(Incoming::Deliver(d)) = decode_incoming(&bytes) else {
                    panic!("not a DELIVER");
                };
                let received = jiff::Timestamp::UNIX_EPOCH;
                let part = Part {
                    id,
                    sender: d.sender,
                    concat: d.concat,
                    text: d.text,
                    received,
                };
                if let Some(message) = assembler.push(part).expect("accepted") {
                    whole = Some(message);
                }
            }
            black_box(whole.expect("assembled"))
        })
    });
    group.finish();
}

/// What a modem says over a day of traffic, one exchange per inbound SMS: the `+CMTI`, the
/// read, the reply's prompt and `+CMGS`, the delete, and vendor noise between them.
fn transcript(lines: usize) -> (Vec<u8>, usize) {
    let hex = deliver_hex(GSM7_TEXT, 7).remove(0);
    let mut out = String::new();
    let mut count = 0;
    let mut index = 0u32;
    while count < lines {
        index = index % 30 + 1;
        let exchange = [
            format!("+CMTI: \"SM\",{index}"),
            format!("AT+CMGR={index}"),
            format!("+CMGR: 0,,{}", hex.len() / 2 - 1),
            hex.clone(),
            "OK".to_owned(),
            "^RSSI: 17".to_owned(),
            "AT+CMGS=23".to_owned(),
            "> ".to_owned(),
            format!("+CMGS: {}", index + 100),
            "OK".to_owned(),
            format!("AT+CMGD={index}"),
            "OK".to_owned(),
        ];
        for line in exchange {
            if line == "> " {
                out.push_str("\r\n> ");
            } else {
                out.push_str("\r\n");
                out.push_str(&line);
                out.push_str("\r\n");
            }
            count += 1;
        }
    }
    (out.into_bytes(), count)
}

fn framing(c: &mut Criterion) {
    let (bytes, lines) = transcript(10_000);
    // One expectation covering every command of the exchange: the framer is told about the
    // command in flight, and this is the widest it is ever told.
    let expect = Expect {
        echo: vec!["AT+CMGR=1".into(), "AT+CMGS=23".into()],
        prefixes: vec!["+CMGR:", "+CMGS:"],
        bare_lines: BareLines::Hex,
        prompt: true,
        dial: false,
    };
    let mut group = c.benchmark_group("frame");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    // Serial reads return what arrived since the last read: tens of bytes at 115,200 baud.
    for chunk in [64usize, 4096] {
        group.bench_function(format!("transcript_{lines}_lines/reads_of_{chunk}"), |b| {
            b.iter(|| {
                let mut framer = Framer::new();
                let mut frames = 0usize;
                for piece in bytes.chunks(chunk) {
                    framer.push(piece);
                    while let Some(frame) = framer.next_frame(Some(&expect)) {
                        black_box(&frame);
                        frames += 1;
                    }
                }
                assert!(frames >= lines);
                frames
            })
        });
    }
    group.finish();
}

fn parsing(c: &mut Criterion) {
    let mut group = c.benchmark_group("employee_text");
    let cases = [
        ("book_two", "xyz123, XYZ222"),
        ("request", "  Request "),
        (
            "agent",
            "AGENT I cannot open the booking for Monday, please call me",
        ),
        (
            "noise",
            "Hi!! can I have the monday one?? 🙂 thanks, see you then — Anna",
        ),
    ];
    for (name, text) in cases {
        group.bench_function(format!("parse/{name}"), |b| {
            b.iter(|| command::parse(black_box(text)))
        });
    }
    let long = "XYZ123, ".repeat(200);
    group.bench_function("parse/1600_chars", |b| {
        b.iter(|| command::parse(black_box(&long)))
    });

    // Parse, decide and word the reply: the pure part of one booking.
    let replies = Replies::defaults(ReplyOptions::default());
    let sender = E164::from_international("+447400123456").expect("valid");
    let other = E164::from_international("+447400654321").expect("valid");
    group.bench_function("parse_decide_reply/book_three", |b| {
        b.iter(|| {
            let Command::Book(codes) = command::parse(black_box("abc123, XYZ222 nope99")) else {
                panic!("not a booking");
            };
            let states = codes.into_iter().map(|code: ShiftCode| {
                let state = match code.as_str() {
                    "ABC123" => ShiftState::Available,
                    "XYZ222" => ShiftState::Taken {
                        by: Some(other.clone()),
                    },
                    _ => ShiftState::Missing,
                };
                (code, state)
            });
            let plan = booking::decide(&sender, states);
            let won: Vec<ShiftCode> = plan.claims().cloned().collect();
            replies.booking(&plan.settle(&won))
        })
    });
    // Who sent it: every inbound text's sender is judged, every CSV phone normalised.
    let gb: DefaultCountry = "GB".parse().expect("known country");
    group.bench_function("classify_sender/international", |b| {
        b.iter(|| classify_sender(black_box("447400123456"), AddressKind::International, gb))
    });
    group.bench_function("normalise/national", |b| {
        b.iter(|| normalise(black_box("07400 123456"), gb))
    });

    // The REQUEST reply: every available shift, paged to 3 SMS parts a page.
    for shifts in [20usize, 300, 5_000] {
        let offers: Vec<Offer> = (0..shifts)
            .map(|n| Offer {
                code: format!("S{n:05}").parse().expect("valid code"),
                info: format!("Mon {:02}:00-{:02}:00 Line {}", n % 24, (n + 8) % 24, n % 9),
            })
            .collect();
        group.bench_function(format!("request_listing/{shifts}_shifts"), |b| {
            b.iter(|| replies.listing(black_box(&offers), 1))
        });
    }
    group.finish();
}

fn assembler_churn(c: &mut Criterion) {
    // 200 employees each sending a 3-part message, parts interleaved across senders.
    let parts: Vec<Part<u32>> = (0..3u8)
        .flat_map(|seq| {
            (0..200u32).map(move |who| Part {
                id: who * 3 + u32::from(seq),
                sender: Address::international(&format!("4474001{who:05}")),
                concat: Some(shiftsms::modem::pdu::Concat {
                    reference: (who % 256) as u16,
                    total: 3,
                    seq: seq + 1,
                }),
                text: "part of a longer text ".repeat(6),
                received: jiff::Timestamp::UNIX_EPOCH,
            })
        })
        .collect();
    c.bench_function("assembler/600_parts_200_senders", |b| {
        b.iter_batched(
            || parts.clone(),
            |parts| {
                let mut assembler = Assembler::new(Duration::from_secs(3600));
                let mut whole = 0;
                for part in parts {
                    whole += usize::from(assembler.push(part).expect("accepted").is_some());
                }
                assert_eq!(whole, 200);
            },
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, pdu, framing, parsing, assembler_churn);
criterion_main!(benches);
