//! The commands the framer is fed bytes for, shared by the fuzz target `frame` and
//! tests/properties.rs (included by `#[path]` in both) so the two check the same cases.

use shiftsms::modem::frame::{BareLines, Expect};

/// The command in flight, picked by one input byte: none, a plain query, a listing with bare
/// PDU lines, `AT+CMGS` waiting for its prompt, identification with bare text lines, a dial.
pub fn expect(which: u8) -> Option<Expect> {
    let cmd = |line: &str, prefixes: &[&'static str]| Expect {
        echo: vec![line.to_owned()],
        prefixes: prefixes.to_vec(),
        ..Expect::default()
    };
    match which % 6 {
        0 => None,
        1 => Some(cmd("AT+CSQ", &["+CSQ:"])),
        2 => Some(Expect {
            bare_lines: BareLines::Hex,
            ..cmd("AT+CMGL=4", &["+CMGL:"])
        }),
        3 => Some(Expect {
            prompt: true,
            ..cmd("AT+CMGS=23", &["+CMGS:"])
        }),
        4 => Some(Expect {
            bare_lines: BareLines::Any,
            ..cmd("AT+CGMI", &["+CGMI:"])
        }),
        _ => Some(Expect {
            dial: true,
            ..cmd("ATD+447400123456;", &[])
        }),
    }
}
