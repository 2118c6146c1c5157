//! The AT framer fed arbitrary bytes from a modem, in arbitrary reads.
//!
//! Properties: it never panics; every frame consumes at least one byte (no loop without
//! progress); and however the bytes are cut into reads, the same frames come out (the
//! serial port decides the cuts, not the modem).

#![no_main]

use libfuzzer_sys::fuzz_target;
use shiftsms::modem::frame::{Frame, Framer};

#[path = "../shared/frame_expect.rs"]
mod frame_expect;
use frame_expect::expect;

/// Input layout, so seeds can be written by hand: byte 0 picks the command in flight, byte 1
/// seeds the read sizes, the rest is what the modem sent.
struct Input<'a> {
    expect: u8,
    cuts: u8,
    bytes: &'a [u8],
}

impl<'a> Input<'a> {
    fn new(data: &'a [u8]) -> Option<Input<'a>> {
        match data {
            [expect, cuts, bytes @ ..] => Some(Input {
                expect: *expect,
                cuts: *cuts,
                bytes,
            }),
            _ => None,
        }
    }
}

/// Read sizes from 1 to 64, a fixed sequence for a given seed.
fn read_sizes(seed: u8) -> impl Iterator<Item = usize> {
    let mut state = u32::from(seed) | 1;
    std::iter::repeat_with(move || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state % 64) as usize + 1
    })
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::new(data) else {
        return;
    };
    let expect = expect(input.expect);
    let expect = expect.as_ref();

    let mut whole = Framer::new();
    whole.push(input.bytes);
    let mut at_once: Vec<Frame> = Vec::new();
    while let Some(frame) = whole.next_frame(expect) {
        at_once.push(frame);
        assert!(at_once.len() <= input.bytes.len(), "more frames than bytes");
    }

    // Past MAX_LINE bytes without a line end the framer drops what it holds, and where that
    // happens depends on the cuts: compare only below it.
    if input.bytes.len() >= Framer::MAX_LINE {
        return;
    }
    let mut chunked = Framer::new();
    let mut in_reads = Vec::new();
    let mut rest = input.bytes;
    let mut sizes = read_sizes(input.cuts);
    while !rest.is_empty() {
        let n = sizes.next().unwrap_or(1).min(rest.len());
        chunked.push(&rest[..n]);
        rest = &rest[n..];
        while let Some(frame) = chunked.next_frame(expect) {
            in_reads.push(frame);
        }
    }
    assert_eq!(in_reads, at_once);
    assert_eq!(chunked.pending(), whole.pending());
});
