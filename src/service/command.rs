//! What an employee's text means: the one place where the raw text of an inbound SMS is
//! inspected (DESIGN.md, "What an employee can text"). Everything after this works on
//! [`Command`].
//!
//! # The rules, as an employee experiences them
//!
//! The text is cleaned first: full-width letters, digits and punctuation (Chinese and
//! Japanese keyboards) become their ASCII forms, zero-width characters and soft hyphens are
//! dropped, and every Unicode space (non-breaking, ideographic...) counts as a space. Then the
//! text is cut into lines and empty lines are dropped.
//!
//! **Keywords** decide on the first line alone, whatever follows it (a signature, or an
//! explanation after `STOP`). The line must be the keyword by itself, in any case, with any
//! punctuation or emoji around it: `Stop.`, `"stop"`, `STOP!! 😡`.
//!
//! | first line | command |
//! |---|---|
//! | `STOP`, `STOP ALL`, `STOPALL`, `UNSUBSCRIBE`, `QUIT`, `END`, `CANCEL`, `OPTOUT`, `OPT OUT`, `REVOKE` | [`Command::Stop`] |
//! | `START`, `UNSTOP`, `SUBSCRIBE` | [`Command::Start`] |
//! | `HELP`, `INFO` | [`Command::Help`] |
//! | `REQUEST`, `REQUEST 2`, `REQUEST2`, `REQUEST PAGE 2`, `REQUEST #2` | [`Command::Request`] |
//! | `AGENT` followed by anything (also on the next lines) | [`Command::Agent`] with that text |
//!
//! `CANCEL XYZ123` is *not* `STOP`: the keyword must stand alone.
//!
//! **Shift codes** (see [`crate::service::shift_code`]: 2 to 16 letters and digits with at
//! least one digit) are separated by commas, semicolons, full stops, spaces, new lines, `&`,
//! `+`, `/`, `|` or the word `and`. Punctuation around a code is ignored (`#XYZ123.`,
//! `"xyz123"`, `(XYZ123)`), case is ignored, duplicates are collapsed and the order is kept.
//! A booking is understood only when it is unambiguous, because the one thing that must never
//! happen is booking a shift someone did not ask for:
//! - the first lines must hold codes and nothing else: `can I have XYZ123 please` and
//!   `not XYZ123` are not bookings (they get the not-understood reply, which says to send the
//!   codes alone), and neither is a range such as `XYZ123-XYZ130`;
//! - lines after the codes are ignored only if they contain no digit at all, which lets a
//!   signature (`Sent from my phone`, `-- John`) through, but not `John 07400 123456` nor a
//!   second thought such as `not XYZ222`;
//! - more than [`MAX_CODES`] different codes in one text is not a booking either.
//!
//! Anything else, including an empty text, is [`Command::Unrecognised`].

use crate::service::shift_code::ShiftCode;

/// Most different shift codes one text may book. Nobody books 50 shifts by SMS; a text that
/// long is a paste or a robot, and answering it would cost several SMS.
pub const MAX_CODES: usize = 50;

/// What an employee asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Book these shifts: never empty, no duplicates, in the order they were written.
    Book(Vec<ShiftCode>),
    /// List the available shifts; `page` counts from 1 (`REQUEST 2` asks for the second page).
    Request {
        page: u32,
    },
    /// Stop receiving shift offers (broadcasts).
    Stop,
    /// Receive shift offers again.
    Start,
    /// Ask to be called by an agent; `note` is what they wrote after `AGENT`, on one line,
    /// possibly empty.
    Agent {
        note: String,
    },
    Help,
    Unrecognised,
}

/// Understand an employee's text. Never fails and never panics: anything it cannot read is
/// [`Command::Unrecognised`].
pub fn parse(text: &str) -> Command {
    let cleaned = clean(text);
    let lines: Vec<&str> = cleaned
        .split(is_line_break)
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    let Some((first, rest)) = lines.split_first() else {
        return Command::Unrecognised;
    };
    keyword(first, rest)
        .or_else(|| booking(&lines))
        .unwrap_or(Command::Unrecognised)
}

/// Full-width forms to ASCII, invisible characters dropped, Unicode spaces to plain spaces.
fn clean(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            // Full-width ASCII variants (U+FF01..U+FF5E) sit at a fixed offset from ASCII.
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0),
            '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' => None,
            c if is_line_break(c) => Some('\n'),
            c if c.is_whitespace() => Some(' '),
            c => Some(c),
        })
        .collect()
}

fn is_line_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{0085}' | '\u{2028}' | '\u{2029}')
}

/// Neither a letter nor a digit: punctuation, quotes, symbols, emoji, spaces.
fn is_decoration(c: char) -> bool {
    !c.is_alphanumeric()
}

/// The line upper-cased, without surrounding decoration, with single spaces inside.
fn bare(line: &str) -> String {
    line.trim_matches(is_decoration)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_uppercase()
}

const STOP_WORDS: &[&str] = &[
    "STOP",
    "STOP ALL",
    "STOPALL",
    "UNSUBSCRIBE",
    "QUIT",
    "END",
    "CANCEL",
    "OPTOUT",
    "OPT OUT",
    "REVOKE",
];
const START_WORDS: &[&str] = &["START", "UNSTOP", "SUBSCRIBE"];
const HELP_WORDS: &[&str] = &["HELP", "INFO"];

fn keyword(first: &str, rest: &[&str]) -> Option<Command> {
    if let Some(note) = agent_note(first, rest) {
        return Some(Command::Agent { note });
    }
    let word = bare(first);
    if STOP_WORDS.contains(&word.as_str()) {
        return Some(Command::Stop);
    }
    if START_WORDS.contains(&word.as_str()) {
        return Some(Command::Start);
    }
    if HELP_WORDS.contains(&word.as_str()) {
        return Some(Command::Help);
    }
    request_page(&word).map(|page| Command::Request { page })
}

/// `REQUEST`, `REQUEST 2`, `REQUEST2`, `REQUEST PAGE 2`, `REQUEST #2` (already bare).
/// Page 0 is read as page 1; a page past the end is the renderer's business.
fn request_page(word: &str) -> Option<u32> {
    let rest = word.strip_prefix("REQUEST")?.trim_start();
    if rest.is_empty() {
        return Some(1);
    }
    let rest = rest.strip_prefix("PAGE").unwrap_or(rest).trim_start();
    let digits = rest.strip_prefix('#').unwrap_or(rest).trim_start();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // More digits than a u32 holds is still "a page past the end".
    let page = digits.parse::<u32>().unwrap_or(u32::MAX);
    Some(page.max(1))
}

/// The note of `AGENT <what they need>`: the rest of the first line and every following
/// line, joined with single spaces.
fn agent_note(first: &str, rest: &[&str]) -> Option<String> {
    let head = first.trim_start_matches(is_decoration);
    let prefix = head.get(..5)?;
    let after = &head[5..];
    if !prefix.eq_ignore_ascii_case("AGENT") || after.starts_with(char::is_alphanumeric) {
        return None;
    }
    let after = after.trim_start_matches(|c: char| c.is_whitespace() || ":,;.-".contains(c));
    let note = std::iter::once(after)
        .chain(rest.iter().copied())
        .flat_map(str::split_whitespace)
        .collect::<Vec<_>>()
        .join(" ");
    Some(note)
}

/// What one line holds, for the booking rule.
#[derive(Debug, PartialEq, Eq)]
enum Line {
    /// Shift codes and nothing else.
    Codes(Vec<ShiftCode>),
    /// No digit anywhere: a greeting, a signature.
    Plain,
    /// Anything else: words with codes, a number, a code with a hyphen in it.
    Mixed,
}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | ';' | '.' | '&' | '+' | '/' | '|' | '、' | '،')
}

fn classify(line: &str) -> Line {
    let mut codes = Vec::new();
    let mut words = false;
    let mut digit = false;
    for token in line.split(is_separator) {
        let token = token.trim_matches(is_decoration);
        if token.is_empty() || token.eq_ignore_ascii_case("and") {
            continue;
        }
        digit |= token.chars().any(char::is_numeric);
        match ShiftCode::from_token(token) {
            Some(code) => codes.push(code),
            None => words = true,
        }
    }
    if !codes.is_empty() && !words {
        Line::Codes(codes)
    } else if !digit {
        Line::Plain
    } else {
        Line::Mixed
    }
}

fn booking(lines: &[&str]) -> Option<Command> {
    let mut codes: Vec<ShiftCode> = Vec::new();
    let mut kinds = lines.iter().map(|line| classify(line)).peekable();
    while let Some(Line::Codes(found)) = kinds.next_if(|kind| matches!(kind, Line::Codes(_))) {
        for code in found {
            if !codes.contains(&code) {
                codes.push(code);
            }
            if codes.len() > MAX_CODES {
                return None;
            }
        }
    }
    let only_signature_after = kinds.all(|kind| kind == Line::Plain);
    (!codes.is_empty() && only_signature_after).then_some(Command::Book(codes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn book(codes: &[&str]) -> Command {
        Command::Book(codes.iter().map(|c| c.parse().unwrap()).collect())
    }

    fn agent(note: &str) -> Command {
        Command::Agent {
            note: note.to_string(),
        }
    }

    #[test]
    fn table() {
        let page = |page| Command::Request { page };
        let cases: Vec<(&str, Command)> = vec![
            // Codes, tidy and messy.
            ("XYZ123, XYZ222", book(&["XYZ123", "XYZ222"])),
            ("xyz123,xyz222", book(&["XYZ123", "XYZ222"])),
            ("Xyz123", book(&["XYZ123"])),
            ("XYZ123.", book(&["XYZ123"])),
            ("#XYZ123", book(&["XYZ123"])),
            ("\"XYZ123\"", book(&["XYZ123"])),
            ("“xyz123”", book(&["XYZ123"])),
            ("'XYZ123'!", book(&["XYZ123"])),
            ("(XYZ123)", book(&["XYZ123"])),
            ("XYZ123 👍", book(&["XYZ123"])),
            ("  XYZ123 ,, XYZ222 ,", book(&["XYZ123", "XYZ222"])),
            ("XYZ123;XYZ222", book(&["XYZ123", "XYZ222"])),
            ("XYZ123 XYZ222", book(&["XYZ123", "XYZ222"])),
            ("XYZ123. XYZ222.", book(&["XYZ123", "XYZ222"])),
            ("XYZ123 and XYZ222", book(&["XYZ123", "XYZ222"])),
            (
                "XYZ123 & xyz222 / A1 + B2",
                book(&["XYZ123", "XYZ222", "A1", "B2"]),
            ),
            ("XYZ123, xyz123, XYZ123", book(&["XYZ123"])),
            ("B2, A1, B2", book(&["B2", "A1"])),
            ("XYZ123\nXYZ222", book(&["XYZ123", "XYZ222"])),
            ("XYZ123,\r\n\r\nXYZ222", book(&["XYZ123", "XYZ222"])),
            ("\n\nXYZ123\n", book(&["XYZ123"])),
            // A signature line after the codes.
            ("XYZ123\nSent from my phone", book(&["XYZ123"])),
            ("XYZ123, XYZ222\n-- John", book(&["XYZ123", "XYZ222"])),
            // Unicode spaces, full-width characters, invisible characters.
            ("XYZ123\u{00A0}XYZ222", book(&["XYZ123", "XYZ222"])),
            ("XYZ123\u{3000}XYZ222", book(&["XYZ123", "XYZ222"])),
            ("ＸＹＺ１２３，ＸＹＺ２２２", book(&["XYZ123", "XYZ222"])),
            ("XYZ123、XYZ222", book(&["XYZ123", "XYZ222"])),
            ("\u{FEFF}XYZ\u{200B}123", book(&["XYZ123"])),
            ("XYZ123\u{2028}XYZ222", book(&["XYZ123", "XYZ222"])),
            // Keywords and their aliases.
            ("REQUEST", page(1)),
            ("request", page(1)),
            ("Request.", page(1)),
            ("  REQUEST  ", page(1)),
            ("REQUEST 2", page(2)),
            ("request2", page(2)),
            ("Request page 3", page(3)),
            ("REQUEST #2", page(2)),
            ("REQUEST 0", page(1)),
            ("REQUEST 99999999999", page(u32::MAX)),
            ("STOP", Command::Stop),
            ("Stop.", Command::Stop),
            ("stop!! 😡", Command::Stop),
            ("\"STOP\"", Command::Stop),
            ("STOP\nI have left the company", Command::Stop),
            ("STOP ALL", Command::Stop),
            ("stopall", Command::Stop),
            ("Unsubscribe", Command::Stop),
            ("QUIT", Command::Stop),
            ("end", Command::Stop),
            ("Cancel", Command::Stop),
            ("OPTOUT", Command::Stop),
            ("opt out", Command::Stop),
            ("REVOKE", Command::Stop),
            ("ＳＴＯＰ", Command::Stop),
            ("STOP\u{00A0}", Command::Stop),
            ("START", Command::Start),
            ("Start", Command::Start),
            ("unstop", Command::Start),
            ("SUBSCRIBE", Command::Start),
            ("HELP", Command::Help),
            ("help?", Command::Help),
            ("Info", Command::Help),
            ("AGENT", agent("")),
            ("Agent.", agent("")),
            (
                "agent I need help with my pay",
                agent("I need help with my pay"),
            ),
            ("AGENT: call me   please", agent("call me please")),
            ("AGENT - payslip", agent("payslip")),
            (
                "AGENT\nMy rota is wrong\nThanks",
                agent("My rota is wrong Thanks"),
            ),
            ("#agent help", agent("help")),
            // Not understood.
            ("", Command::Unrecognised),
            ("   ", Command::Unrecognised),
            ("\n\r\n \u{3000}", Command::Unrecognised),
            ("can I work saturday", Command::Unrecognised),
            ("Can I work Saturday?", Command::Unrecognised),
            ("ok", Command::Unrecognised),
            ("Thanks!", Command::Unrecognised),
            ("👍", Command::Unrecognised),
            ("7", Command::Unrecognised),
            ("can I have XYZ123 please", Command::Unrecognised),
            ("not XYZ123", Command::Unrecognised),
            ("XYZ123 or XYZ222", Command::Unrecognised),
            ("XYZ123-XYZ130", Command::Unrecognised),
            ("CANCEL XYZ123", Command::Unrecognised),
            ("STOP XYZ123", Command::Unrecognised),
            ("REQUEST XYZ123", Command::Unrecognised),
            ("REQUESTS", Command::Unrecognised),
            ("AGENTS", Command::Unrecognised),
            ("please stop", Command::Unrecognised),
            ("Hi\nXYZ123", Command::Unrecognised),
            ("XYZ123\nnot XYZ222", Command::Unrecognised),
            ("XYZ123\nJohn 07400 123456", Command::Unrecognised),
            ("ABCDEFGHIJKLMNOPQ1", Command::Unrecognised),
            ("ХYZ123", Command::Unrecognised), // Cyrillic Х: never guess a lookalike
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), want, "{text:?}");
        }
    }

    #[test]
    fn too_many_codes_is_not_a_booking() {
        let codes = |n: usize| (0..n).map(|i| format!("C{i}")).collect::<Vec<_>>();
        let at_limit = codes(MAX_CODES).join(",");
        assert!(matches!(parse(&at_limit), Command::Book(c) if c.len() == MAX_CODES));
        assert_eq!(
            parse(&codes(MAX_CODES + 1).join(",")),
            Command::Unrecognised
        );
    }

    #[test]
    fn junk() {
        let junk = "ä€\u{0}\u{1b}{}[]~^|\\ \t?!".repeat(150);
        assert!(junk.chars().count() >= 2000);
        assert_eq!(parse(&junk), Command::Unrecognised);
        let digits = "1".repeat(2000);
        assert_eq!(parse(&digits), Command::Unrecognised);
        let agent_long = format!("AGENT {}", "x ".repeat(1000));
        assert!(matches!(parse(&agent_long), Command::Agent { note } if note.len() == 1999));
    }

    fn code() -> impl Strategy<Value = String> {
        // 2..=16 letters and digits with at least one digit, in any case.
        ("[A-Za-z0-9]{0,15}", 0..16usize, "[0-9]").prop_map(|(body, at, digit)| {
            let at = at.min(body.len());
            let mut code = body;
            code.insert_str(at, &digit);
            if code.len() < 2 {
                code.push('0');
            }
            code
        })
    }

    fn separator() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            ",", ", ", " ,", ";", " ", "  ", "\n", "\r\n", ",\n", " and ", " & ", "\u{00A0}",
            "\u{3000}", ". ", " / ",
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_input_is_handled(text in "\\PC{0,300}") {
            let _ = parse(&text);
        }

        #[test]
        fn any_bytes_as_text_are_handled(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse(&String::from_utf8_lossy(&bytes));
        }

        #[test]
        fn codes_round_trip(
            codes in prop::collection::vec(code(), 1..12),
            separators in prop::collection::vec(separator(), 12),
            lead in "[ ]{0,3}",
            trail in prop::sample::select(vec!["", ".", " ", "!", "\n"]),
        ) {
            let mut text = lead;
            for (i, code) in codes.iter().enumerate() {
                if i > 0 {
                    text.push_str(separators[i]);
                }
                text.push_str(code);
            }
            text.push_str(trail);
            let mut want: Vec<ShiftCode> = Vec::new();
            for code in &codes {
                let code: ShiftCode = code.parse().unwrap();
                if !want.contains(&code) {
                    want.push(code);
                }
            }
            prop_assert_eq!(parse(&text), Command::Book(want));
        }
    }
}
