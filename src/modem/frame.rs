//! AT framing, pure and without I/O: bytes from the modem in, [`Frame`]s out.
//!
//! One function, [`digest`], looks at the front of the receive buffer and says what is there:
//! a final result code, an information line of the command in flight, the `> ` prompt of
//! `AT+CMGS`, the modem echoing what we sent, an unsolicited code, or "not enough bytes yet"
//! (a normal answer, not an error). It is modelled on atat's `digest.rs`; the difference is that
//! it is told about the command in flight ([`Expect`]), because in AT the same line can be
//! either: `+CREG: 0,1` answers `AT+CREG?`, `+CREG: 1` arrives on its own; `NO CARRIER` ends
//! `ATD` but, during any other command, reports that a call was released.
//!
//! Why not the `at-commands` crate's parser: it parses parameters of a response already cut
//! out, and does no framing (no line ends, no prompt, no final result, no separation of
//! unsolicited codes); its number parsing panics in debug builds on `+CMGS: 9999999999` and
//! wraps in release builds. Lines from the modem are untrusted input, so they are framed here
//! and parsed with checked arithmetic in [`super::fields`].
//!
//! Rules, in order, for a complete line (V.250 §5.7.1; TS 27.005 §3.4.1; TS 27.007 §9.2):
//! 1. a line equal to what we last sent is echo (`ATE1`, or a modem that rebooted into it);
//! 2. `OK`, `ERROR`, `+CME ERROR: n`, `+CMS ERROR: n` (and, for dial commands only, `CONNECT`,
//!    `NO CARRIER`, `BUSY`, `NO ANSWER`, `NO DIALTONE`) end the command in flight;
//! 3. a line starting with a prefix the command declared is one of its information lines;
//! 4. a known unsolicited code is an unsolicited code, wherever it falls: before, inside or
//!    after a response (`+CMT:`/`+CDS:` take the following PDU line with them);
//! 5. commands with bare answers take other lines (`AT+CGMI`: any; `AT+CMGL`: hex PDU lines);
//! 6. anything else is kept as [`Urc::Unknown`].
//!
//! Noise bytes (NUL, 0xFF, other control bytes) before a line are skipped.

use super::fields;
use super::urc::{self, PduUrc, Urc};

/// A final result code: the command in flight is over (V.250 §5.7.1, TS 27.007 §9.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Final {
    /// `OK`.
    Ok,
    /// `CONNECT [<text>]` (dial commands only).
    Connect(String),
    /// `ERROR`.
    Error,
    /// A vendor's wording of `ERROR` (Huawei's `COMMAND NOT SUPPORT`, ZTE's `TOO MANY
    /// PARAMETERS`), kept so logs show what the modem said.
    VendorError(String),
    /// `+CME ERROR: <err>`: equipment/network error (TS 27.007 §9.2).
    Cme(ErrorCode),
    /// `+CMS ERROR: <err>`: SMS error (TS 27.005 §3.2.5).
    Cms(ErrorCode),
    /// `NO CARRIER` (dial commands only).
    NoCarrier,
    /// `BUSY` (dial commands only).
    Busy,
    /// `NO ANSWER` (dial commands only).
    NoAnswer,
    /// `NO DIALTONE` (dial commands only).
    NoDialtone,
}

impl Final {
    /// Whether the command succeeded (`OK` or `CONNECT`).
    pub fn is_success(&self) -> bool {
        matches!(self, Final::Ok | Final::Connect(_))
    }
}

impl std::fmt::Display for Final {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Final::Ok => f.write_str("OK"),
            Final::Connect(t) if t.is_empty() => f.write_str("CONNECT"),
            Final::Connect(t) => write!(f, "CONNECT {t}"),
            Final::Error => f.write_str("ERROR"),
            Final::VendorError(words) => f.write_str(words),
            Final::Cme(c) => write!(f, "+CME ERROR: {c}"),
            Final::Cms(c) => write!(f, "+CMS ERROR: {c}"),
            Final::NoCarrier => f.write_str("NO CARRIER"),
            Final::Busy => f.write_str("BUSY"),
            Final::NoAnswer => f.write_str("NO ANSWER"),
            Final::NoDialtone => f.write_str("NO DIALTONE"),
        }
    }
}

/// The `<err>` of `+CME ERROR`/`+CMS ERROR`: numeric after `AT+CMEE=1`, text after `=2` or on
/// modems that ignore `+CMEE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorCode {
    /// A number.
    Code(u16),
    /// Words, as sent.
    Text(String),
}

impl ErrorCode {
    fn parse(text: &str) -> Self {
        match fields::decimal(text, u64::from(u16::MAX)) {
            Some(n) => ErrorCode::Code(n as u16),
            None => ErrorCode::Text(text.trim().to_owned()),
        }
    }

    /// The number, if numeric.
    pub fn code(&self) -> Option<u16> {
        match self {
            ErrorCode::Code(n) => Some(*n),
            ErrorCode::Text(_) => None,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ErrorCode::Code(n) => write!(f, "{n}"),
            ErrorCode::Text(t) => f.write_str(t),
        }
    }
}

/// What the framer needs to know about the command in flight.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expect {
    /// Lines that are echo if they come back: the command line; the PDU after the prompt.
    pub echo: Vec<String>,
    /// Prefixes of the command's information lines, e.g. `+CREG:`. They win over the
    /// unsolicited reading of the same prefix.
    pub prefixes: Vec<&'static str>,
    /// Which lines without a declared prefix belong to the command.
    pub bare_lines: BareLines,
    /// Waiting for `> ` (after `AT+CMGS=<n>`, before the PDU is written).
    pub prompt: bool,
    /// A dial command: `CONNECT`, `NO CARRIER`, `BUSY`, `NO ANSWER`, `NO DIALTONE` are its
    /// final result rather than the end of some other call.
    pub dial: bool,
}

/// Which unprefixed lines a command answers with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BareLines {
    /// None: an unprefixed line is unsolicited.
    #[default]
    None,
    /// Any (`AT+CGMI` answers `SIMCOM_Ltd`).
    Any,
    /// Only hexadecimal PDU lines (`AT+CMGL`, `AT+CMGR`): anything else that turns up among
    /// them is unsolicited, so a stray line can never be paired with a header as its PDU.
    Hex,
}

/// One thing found at the front of the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// The command in flight is over.
    Final(Final),
    /// An information line of the command in flight.
    Info(String),
    /// `> `: the modem waits for the PDU.
    Prompt,
    /// The modem repeated what we sent.
    Echo(String),
    /// An unsolicited code (or a line nobody claims).
    Urc(Urc),
}

/// The outcome of one look at the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Digested {
    /// Not a complete frame yet: wait for more bytes.
    NeedMore,
    /// Drop this many bytes of line ends or noise, then look again.
    Skip(usize),
    /// A frame, made of this many bytes.
    Frame(Frame, usize),
}

/// Bytes that cannot start a line: line ends, spaces, control bytes, and non-ASCII noise
/// (USB modems emit NUL and 0xFF when they power up).
fn is_filler(b: u8) -> bool {
    b <= b' ' || b >= 0x7F
}

fn line_end(buf: &[u8]) -> Option<usize> {
    buf.iter().position(|&b| b == b'\r' || b == b'\n')
}

/// A line as text: invalid UTF-8 replaced, trailing spaces and control bytes (the Ctrl-Z of an
/// echoed PDU) removed.
fn text(line: &[u8]) -> String {
    String::from_utf8_lossy(line)
        .trim_end_matches(|c: char| c.is_whitespace() || c.is_control())
        .to_owned()
}

/// Sorts the front of `buf`; see the module documentation for the rules.
pub fn digest(buf: &[u8], expect: Option<&Expect>) -> Digested {
    let skip = buf.iter().take_while(|&&b| is_filler(b)).count();
    if skip > 0 {
        return Digested::Skip(skip);
    }
    let Some(&first) = buf.first() else {
        return Digested::NeedMore;
    };
    if first == b'>' && expect.is_some_and(|e| e.prompt) {
        let len = if buf.get(1) == Some(&b' ') { 2 } else { 1 };
        return Digested::Frame(Frame::Prompt, len);
    }
    let Some(end) = line_end(buf) else {
        return Digested::NeedMore;
    };
    let line = text(&buf[..end]);
    let consumed = end + 1;

    if let Some(kind) = PduUrc::from_header(&line) {
        let rest = &buf[consumed..];
        let gap = rest.iter().take_while(|&&b| is_filler(b)).count();
        let Some(pdu_end) = line_end(&rest[gap..]) else {
            return Digested::NeedMore;
        };
        let pdu_line = text(&rest[gap..gap + pdu_end]);
        if urc::is_pdu_line(&pdu_line) {
            let urc = kind.parse(&line, &pdu_line);
            return Digested::Frame(Frame::Urc(urc), consumed + gap + pdu_end + 1);
        }
        // The PDU line never came: report the header alone, leave the next line alone.
        let urc = Urc::Malformed {
            line,
            reason: "no PDU line followed".into(),
        };
        return Digested::Frame(Frame::Urc(urc), consumed);
    }
    Digested::Frame(classify(line, expect), consumed)
}

fn classify(line: String, expect: Option<&Expect>) -> Frame {
    if let Some(e) = expect {
        if e.echo.iter().any(|sent| sent.eq_ignore_ascii_case(&line)) {
            return Frame::Echo(line);
        }
        if let Some(done) = final_result(&line, e.dial) {
            return Frame::Final(done);
        }
        if e.prefixes
            .iter()
            .any(|p| fields::after_prefix(&line, p).is_some())
        {
            return Frame::Info(line);
        }
    }
    if let Some(urc) = urc::parse_known(&line) {
        return Frame::Urc(urc);
    }
    match expect.map(|e| e.bare_lines) {
        Some(BareLines::Any) => return Frame::Info(line),
        Some(BareLines::Hex) if urc::is_pdu_line(&line) => return Frame::Info(line),
        _ => {}
    }
    Frame::Urc(Urc::Unknown(line))
}

fn final_result(line: &str, dial: bool) -> Option<Final> {
    let upper = line.to_ascii_uppercase();
    match upper.as_str() {
        "OK" => return Some(Final::Ok),
        "ERROR" => return Some(Final::Error),
        // ModemManager's serial parser lists the Huawei/ZTE wordings.
        "COMMAND NOT SUPPORT" | "TOO MANY PARAMETERS" => {
            return Some(Final::VendorError(line.to_owned()));
        }
        _ => {}
    }
    if let Some(rest) = fields::after_prefix(line, "+CME ERROR:") {
        return Some(Final::Cme(ErrorCode::parse(rest)));
    }
    if let Some(rest) = fields::after_prefix(line, "+CMS ERROR:") {
        return Some(Final::Cms(ErrorCode::parse(rest)));
    }
    if !dial {
        return None;
    }
    if let Some(end) = urc::call_end(line) {
        return Some(match end {
            super::voice::CallEnd::NoCarrier => Final::NoCarrier,
            super::voice::CallEnd::Busy => Final::Busy,
            super::voice::CallEnd::NoAnswer => Final::NoAnswer,
            super::voice::CallEnd::NoDialtone => Final::NoDialtone,
        });
    }
    if upper == "CONNECT" || upper.starts_with("CONNECT ") {
        return Some(Final::Connect(line[7..].trim().to_owned()));
    }
    None
}

/// A receive buffer with [`digest`] applied: push bytes as they arrive, pull frames.
#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
}

impl Framer {
    /// More than this without a line end is noise, not a line (the longest real line, a
    /// `+CMGL` PDU, is under 400 bytes).
    pub const MAX_LINE: usize = 8 * 1024;

    /// An empty framer.
    pub fn new() -> Self {
        Framer::default()
    }

    /// Appends bytes read from the modem.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete frame, if any.
    pub fn next_frame(&mut self, expect: Option<&Expect>) -> Option<Frame> {
        loop {
            match digest(&self.buf, expect) {
                Digested::Skip(n) => {
                    self.buf.drain(..n);
                }
                Digested::Frame(frame, n) => {
                    self.buf.drain(..n);
                    return Some(frame);
                }
                Digested::NeedMore if self.buf.len() > Self::MAX_LINE => {
                    let head = String::from_utf8_lossy(&self.buf[..80]).into_owned();
                    let dropped = self.buf.len();
                    self.buf.clear();
                    return Some(Frame::Urc(Urc::Malformed {
                        line: head,
                        reason: format!("{dropped} bytes without a line end, dropped"),
                    }));
                }
                Digested::NeedMore => return None,
            }
        }
    }

    /// Bytes waiting for the rest of their line.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Forgets everything buffered (a new port was opened).
    pub fn clear(&mut self) {
        self.buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modem::sim::PinState;
    use crate::modem::sms::{RawPdu, Storage};
    use crate::modem::urc::Notice;
    use crate::modem::voice::CallEnd;
    use proptest::prelude::*;

    fn cmd(line: &str, prefixes: &[&'static str]) -> Expect {
        Expect {
            echo: vec![line.to_owned()],
            prefixes: prefixes.to_vec(),
            ..Expect::default()
        }
    }

    /// Feeds `bytes` one at a time, collecting every frame.
    fn bytewise(bytes: &[u8], expect: Option<&Expect>) -> Vec<Frame> {
        let mut f = Framer::new();
        let mut out = Vec::new();
        for &b in bytes {
            f.push(&[b]);
            while let Some(frame) = f.next_frame(expect) {
                out.push(frame);
            }
        }
        out
    }

    fn at_once(bytes: &[u8], expect: Option<&Expect>) -> Vec<Frame> {
        let mut f = Framer::new();
        f.push(bytes);
        std::iter::from_fn(|| f.next_frame(expect)).collect()
    }

    fn info(s: &str) -> Frame {
        Frame::Info(s.to_owned())
    }

    const DELIVER_PDU: &str =
        "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07";

    /// (name, bytes, command in flight, expected frames).
    type Case = (&'static str, Vec<u8>, Option<Expect>, Vec<Frame>);

    fn table() -> Vec<Case> {
        let csq = cmd("AT+CSQ", &["+CSQ:"]);
        let stored = |index| {
            Frame::Urc(Urc::MessageStored {
                storage: Storage::Sim,
                index,
            })
        };
        vec![
            (
                "plain OK",
                b"\r\nOK\r\n".to_vec(),
                Some(cmd("AT", &[])),
                vec![Frame::Final(Final::Ok)],
            ),
            (
                "echo then answer",
                b"AT+CSQ\r\r\n+CSQ: 20,99\r\n\r\nOK\r\n".to_vec(),
                Some(csq.clone()),
                vec![
                    Frame::Echo("AT+CSQ".into()),
                    info("+CSQ: 20,99"),
                    Frame::Final(Final::Ok),
                ],
            ),
            (
                "URC between the information line and OK",
                b"\r\n+CSQ: 20,99\r\n\r\n+CMTI: \"SM\",3\r\n\r\nOK\r\n".to_vec(),
                Some(csq.clone()),
                vec![info("+CSQ: 20,99"), stored(3), Frame::Final(Final::Ok)],
            ),
            (
                "Huawei noise before the answer",
                b"\r\n^RSSI:18\r\n\r\n+CSQ: 18,99\r\n\r\nOK\r\n".to_vec(),
                Some(csq.clone()),
                vec![
                    Frame::Urc(Urc::Vendor("^RSSI:18".into())),
                    info("+CSQ: 18,99"),
                    Frame::Final(Final::Ok),
                ],
            ),
            (
                "garbage bytes before a code",
                b"\x00\xff\xfe\x1b\r\n+CMTI: \"SM\",1\r\n".to_vec(),
                None,
                vec![stored(1)],
            ),
            (
                "+CMT with its PDU line",
                format!("\r\n+CMT: ,30\r\n{DELIVER_PDU}\r\n").into_bytes(),
                None,
                vec![Frame::Urc(Urc::MessageDelivered {
                    tpdu_len: 30,
                    pdu: RawPdu::from_hex_line(DELIVER_PDU),
                })],
            ),
            (
                "+CMT inside a response",
                format!("\r\n+CSQ: 20,99\r\n\r\n+CMT: \"\",30\r\n{DELIVER_PDU}\r\n\r\nOK\r\n")
                    .into_bytes(),
                Some(csq.clone()),
                vec![
                    info("+CSQ: 20,99"),
                    Frame::Urc(Urc::MessageDelivered {
                        tpdu_len: 30,
                        pdu: RawPdu::from_hex_line(DELIVER_PDU),
                    }),
                    Frame::Final(Final::Ok),
                ],
            ),
            (
                "+CMT header without its PDU does not swallow the next line",
                b"\r\n+CMT: ,23\r\n\r\nOK\r\n".to_vec(),
                Some(cmd("AT", &[])),
                vec![
                    Frame::Urc(Urc::Malformed {
                        line: "+CMT: ,23".into(),
                        reason: "no PDU line followed".into(),
                    }),
                    Frame::Final(Final::Ok),
                ],
            ),
            (
                "prompt without a line end",
                b"AT+CMGS=23\r\r\n> ".to_vec(),
                Some(Expect {
                    prompt: true,
                    ..cmd("AT+CMGS=23", &["+CMGS:"])
                }),
                vec![Frame::Echo("AT+CMGS=23".into()), Frame::Prompt],
            ),
            (
                "error instead of a prompt",
                b"\r\n+CMS ERROR: 304\r\n".to_vec(),
                Some(Expect {
                    prompt: true,
                    ..cmd("AT+CMGS=23", &["+CMGS:"])
                }),
                vec![Frame::Final(Final::Cms(ErrorCode::Code(304)))],
            ),
            (
                "echoed PDU with Ctrl-Z, then the reference",
                b"0011000B914477040032F60000AA01C8\x1a\r\n+CMGS: 5\r\n\r\nOK\r\n".to_vec(),
                Some(cmd("0011000B914477040032F60000AA01C8", &["+CMGS:"])),
                vec![
                    Frame::Echo("0011000B914477040032F60000AA01C8".into()),
                    info("+CMGS: 5"),
                    Frame::Final(Final::Ok),
                ],
            ),
            (
                "verbose CME error",
                b"\r\n+CME ERROR: SIM PIN required\r\n".to_vec(),
                Some(cmd("AT+CIMI", &[])),
                vec![Frame::Final(Final::Cme(ErrorCode::Text(
                    "SIM PIN required".into(),
                )))],
            ),
            (
                "numeric CME error too large for a code stays text",
                b"\r\n+CME ERROR: 9999999\r\n".to_vec(),
                Some(cmd("AT", &[])),
                vec![Frame::Final(Final::Cme(ErrorCode::Text("9999999".into())))],
            ),
            (
                "Huawei's COMMAND NOT SUPPORT",
                b"\r\nCOMMAND NOT SUPPORT\r\n".to_vec(),
                Some(cmd("AT+CMEE=1", &[])),
                vec![Frame::Final(Final::VendorError("COMMAND NOT SUPPORT".into()))],
            ),
            (
                "BUSY ends a dial",
                b"\r\nBUSY\r\n".to_vec(),
                Some(Expect {
                    dial: true,
                    ..cmd("ATD+447400123456;", &[])
                }),
                vec![Frame::Final(Final::Busy)],
            ),
            (
                "NO CARRIER during another command is a call ending",
                b"\r\nNO CARRIER\r\n\r\n+CSQ: 20,99\r\n\r\nOK\r\n".to_vec(),
                Some(csq.clone()),
                vec![
                    Frame::Urc(Urc::CallEnded(CallEnd::NoCarrier)),
                    info("+CSQ: 20,99"),
                    Frame::Final(Final::Ok),
                ],
            ),
            (
                "CONNECT with a rate ends a dial",
                b"\r\nCONNECT 9600\r\n".to_vec(),
                Some(Expect {
                    dial: true,
                    ..cmd("ATD123;", &[])
                }),
                vec![Frame::Final(Final::Connect("9600".into()))],
            ),
            (
                "stray OK with nothing in flight is kept",
                b"\r\nOK\r\n".to_vec(),
                None,
                vec![Frame::Urc(Urc::Unknown("OK".into()))],
            ),
            (
                "SIMCom boot chatter",
                b"\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\nCall Ready\r\n\r\nSMS Ready\r\n"
                    .to_vec(),
                None,
                vec![
                    Frame::Urc(Urc::Notice(Notice::Rebooted)),
                    Frame::Urc(Urc::Notice(Notice::Functionality(1))),
                    Frame::Urc(Urc::Sim(PinState::Ready)),
                    Frame::Urc(Urc::Notice(Notice::CallReady)),
                    Frame::Urc(Urc::Notice(Notice::SmsReady)),
                ],
            ),
            (
                "+CPIN: answers AT+CPIN?",
                b"\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n".to_vec(),
                Some(cmd("AT+CPIN?", &["+CPIN:"])),
                vec![info("+CPIN: SIM PIN"), Frame::Final(Final::Ok)],
            ),
            (
                "+CREG: answers AT+CREG? but a lone +CREG: elsewhere is a change",
                b"\r\n+CREG: 5\r\n\r\n+CSQ: 20,99\r\n\r\nOK\r\n".to_vec(),
                Some(csq.clone()),
                vec![
                    Frame::Urc(Urc::Registration(crate::modem::network::Registration {
                        status: crate::modem::network::RegistrationStatus::Roaming,
                        lac: None,
                        cell_id: None,
                    })),
                    info("+CSQ: 20,99"),
                    Frame::Final(Final::Ok),
                ],
            ),
            (
                "bare answer lines with a URC among them",
                b"\r\nSIMCOM_Ltd\r\n\r\nRING\r\n\r\nOK\r\n".to_vec(),
                Some(Expect {
                    bare_lines: BareLines::Any,
                    ..cmd("AT+CGMI", &["+CGMI:"])
                }),
                vec![
                    info("SIMCOM_Ltd"),
                    Frame::Urc(Urc::Ring),
                    Frame::Final(Final::Ok),
                ],
            ),
            (
                "listing with a URC between entries",
                format!(
                    "\r\n+CMGL: 1,0,,30\r\n{DELIVER_PDU}\r\n+CMTI: \"SM\",2\r\n+CMGL: 2,0,,30\r\n{DELIVER_PDU}\r\n\r\nOK\r\n"
                )
                .into_bytes(),
                Some(Expect {
                    bare_lines: BareLines::Hex,
                    ..cmd("AT+CMGL=4", &["+CMGL:"])
                }),
                vec![
                    info("+CMGL: 1,0,,30"),
                    info(DELIVER_PDU),
                    stored(2),
                    info("+CMGL: 2,0,,30"),
                    info(DELIVER_PDU),
                    Frame::Final(Final::Ok),
                ],
            ),
            (
                "an unknown line inside a listing is not taken for a PDU",
                format!(
                    "\r\n+CMGL: 1,0,,30\r\n+QIND: SMS DONE\r\n{DELIVER_PDU}\r\n\r\nOK\r\n"
                )
                .into_bytes(),
                Some(Expect {
                    bare_lines: BareLines::Hex,
                    ..cmd("AT+CMGL=4", &["+CMGL:"])
                }),
                vec![
                    info("+CMGL: 1,0,,30"),
                    Frame::Urc(Urc::Unknown("+QIND: SMS DONE".into())),
                    info(DELIVER_PDU),
                    Frame::Final(Final::Ok),
                ],
            ),
            (
                "unknown lines are kept, LF-only endings work",
                b"+QIND: SMS DONE\nOK\n".to_vec(),
                Some(cmd("AT", &[])),
                vec![
                    Frame::Urc(Urc::Unknown("+QIND: SMS DONE".into())),
                    Frame::Final(Final::Ok),
                ],
            ),
        ]
    }

    #[test]
    fn byte_tables_one_byte_at_a_time() {
        for (name, bytes, expect, want) in table() {
            assert_eq!(bytewise(&bytes, expect.as_ref()), want, "{name}");
            assert_eq!(at_once(&bytes, expect.as_ref()), want, "{name} (at once)");
        }
    }

    #[test]
    fn need_more_is_a_normal_answer() {
        assert_eq!(digest(b"", None), Digested::NeedMore);
        assert_eq!(digest(b"+CSQ: 2", None), Digested::NeedMore);
        assert_eq!(digest(b"\r\n", None), Digested::Skip(2));
        // A +CMT header waits for its PDU line.
        assert_eq!(digest(b"+CMT: ,23\r\n0791", None), Digested::NeedMore);
        // '>' is only a prompt when one is awaited.
        assert_eq!(digest(b"> ", None), Digested::NeedMore);
    }

    #[test]
    fn endless_noise_is_reported_and_dropped() {
        let mut f = Framer::new();
        f.push(&vec![b'A'; Framer::MAX_LINE + 10]);
        match f.next_frame(None) {
            Some(Frame::Urc(Urc::Malformed { reason, .. })) => {
                assert!(reason.contains("without a line end"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(f.pending(), 0);
        f.push(b"\r\nRING\r\n");
        assert_eq!(f.next_frame(None), Some(Frame::Urc(Urc::Ring)));
    }

    fn any_expect() -> impl Strategy<Value = Option<Expect>> {
        prop_oneof![
            Just(None),
            Just(Some(cmd("AT+CSQ", &["+CSQ:"]))),
            Just(Some(Expect {
                prompt: true,
                ..cmd("AT+CMGS=9", &["+CMGS:"])
            })),
            Just(Some(Expect {
                bare_lines: BareLines::Hex,
                ..cmd("AT+CMGL=4", &["+CMGL:"])
            })),
            Just(Some(Expect {
                bare_lines: BareLines::Any,
                ..cmd("AT+CGMI", &["+CGMI:"])
            })),
            Just(Some(Expect {
                dial: true,
                ..cmd("ATD1;", &[])
            })),
        ]
    }

    fn modemish() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(b"\r\n".to_vec()),
            Just(b"OK".to_vec()),
            Just(b"ERROR".to_vec()),
            Just(b"+CMS ERROR: 500".to_vec()),
            Just(b"+CSQ: 20,99".to_vec()),
            Just(b"+CMTI: \"SM\",1".to_vec()),
            Just(b"+CMT: ,5".to_vec()),
            Just(b"0791AB".to_vec()),
            Just(b"> ".to_vec()),
            Just(b"RING".to_vec()),
            Just(b"NO CARRIER".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..8),
        ];
        proptest::collection::vec(piece, 0..24).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// However the bytes are cut into reads, the same frames come out.
        #[test]
        fn chunking_does_not_change_frames(
            bytes in modemish(),
            expect in any_expect(),
            cuts in proptest::collection::vec(1usize..7, 1..40),
        ) {
            let whole = at_once(&bytes, expect.as_ref());
            let mut f = Framer::new();
            let mut got = Vec::new();
            let mut rest = &bytes[..];
            let mut i = 0;
            while !rest.is_empty() {
                let n = cuts[i % cuts.len()].min(rest.len());
                f.push(&rest[..n]);
                rest = &rest[n..];
                i += 1;
                while let Some(frame) = f.next_frame(expect.as_ref()) {
                    got.push(frame);
                }
            }
            prop_assert_eq!(got, whole);
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..600),
            expect in any_expect(),
        ) {
            let frames = bytewise(&bytes, expect.as_ref());
            prop_assert!(frames.len() <= bytes.len());
        }
    }
}
