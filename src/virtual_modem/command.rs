//! Parsing one AT command line into commands (ITU-T V.250 §5.2–5.4), with no I/O.
//!
//! A command line is `AT` followed by any number of commands: basic ones (`E0`, `V1`,
//! `&F`, `S0=2`, `D+447400123456;` — D swallows the rest of the line) and extended ones
//! (`+CMGS=23`, `^CURC=0`) separated by `;`. Spaces are ignored outside quotes and names are
//! case-insensitive; quoted strings keep their case.

/// What the DTE asked a command to do (V.250 §5.4.2–5.4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    /// `+CMD` or a basic command without a value (`ATE`, `ATH`).
    Exec,
    /// `+CMD?`
    Read,
    /// `+CMD=?`
    Test,
    /// `+CMD=<args>` or a basic command's value (`E1` → "1", `D123;` → "123;").
    Set(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Command {
    /// Upper-cased name with its prefix: `E`, `&F`, `S7`, `D`, `+CMGS`, `^CURC`.
    pub(crate) name: String,
    pub(crate) op: Op,
}

/// The command line does not follow V.250 syntax; a modem answers `ERROR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError;

/// Splits the text after `AT` into commands.
pub(crate) fn parse_line(body: &str) -> Result<Vec<Command>, SyntaxError> {
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    let skip_spaces = |i: &mut usize| {
        while *i < chars.len() && chars[*i] == ' ' {
            *i += 1;
        }
    };
    loop {
        skip_spaces(&mut i);
        if i >= chars.len() {
            return Ok(out);
        }
        let c = chars[i];
        if c == ';' {
            i += 1;
            continue;
        }
        if is_extended_prefix(c) {
            let start = i;
            i += 1;
            while i < chars.len() && is_name_char(chars[i]) {
                i += 1;
            }
            if i == start + 1 {
                return Err(SyntaxError);
            }
            let name: String = chars[start..i]
                .iter()
                .collect::<String>()
                .to_ascii_uppercase();
            skip_spaces(&mut i);
            let op = if chars.get(i) == Some(&'=') && next_non_space(&chars, i + 1) == Some('?') {
                i = skip_to(&chars, i + 1, '?') + 1;
                Op::Test
            } else if chars.get(i) == Some(&'=') {
                let (args, end) = take_args(&chars, i + 1)?;
                i = end;
                Op::Set(args)
            } else if chars.get(i) == Some(&'?') {
                i += 1;
                Op::Read
            } else {
                Op::Exec
            };
            skip_spaces(&mut i);
            match chars.get(i) {
                None => {}
                Some(';') => i += 1,
                Some(_) => return Err(SyntaxError),
            }
            out.push(Command { name, op });
            continue;
        }
        let upper = c.to_ascii_uppercase();
        if upper == 'D' {
            // The dial string runs to the end of the line (V.250 §6.3.1).
            let rest: String = chars[i + 1..].iter().filter(|c| **c != ' ').collect();
            out.push(Command {
                name: "D".into(),
                op: Op::Set(rest),
            });
            return Ok(out);
        }
        if upper == 'S' {
            i += 1;
            let digits = take_digits(&chars, &mut i);
            if digits.is_empty() {
                return Err(SyntaxError);
            }
            let number: u32 = digits.parse().map_err(|_| SyntaxError)?;
            let name = format!("S{number}");
            skip_spaces(&mut i);
            let op = match chars.get(i) {
                Some('?') => {
                    i += 1;
                    Op::Read
                }
                Some('=') => {
                    i += 1;
                    skip_spaces(&mut i);
                    Op::Set(take_digits(&chars, &mut i))
                }
                _ => return Err(SyntaxError),
            };
            out.push(Command { name, op });
            continue;
        }
        let name = if c == '&' {
            i += 1;
            match chars.get(i) {
                Some(l) if l.is_ascii_alphabetic() => format!("&{}", l.to_ascii_uppercase()),
                _ => return Err(SyntaxError),
            }
        } else if c.is_ascii_alphabetic() {
            upper.to_string()
        } else {
            return Err(SyntaxError);
        };
        i += 1;
        skip_spaces(&mut i);
        let op = if chars.get(i) == Some(&'?') {
            i += 1;
            Op::Read
        } else {
            let digits = take_digits(&chars, &mut i);
            if digits.is_empty() {
                Op::Exec
            } else {
                Op::Set(digits)
            }
        };
        out.push(Command { name, op });
    }
}

fn is_extended_prefix(c: char) -> bool {
    matches!(c, '+' | '^' | '$' | '%' | '#' | '*' | '!')
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '!' | '%' | '-' | '.' | '/' | ':' | '_')
}

fn next_non_space(chars: &[char], mut i: usize) -> Option<char> {
    while i < chars.len() && chars[i] == ' ' {
        i += 1;
    }
    chars.get(i).copied()
}

fn skip_to(chars: &[char], mut i: usize, target: char) -> usize {
    while i < chars.len() && chars[i] != target {
        i += 1;
    }
    i
}

fn take_digits(chars: &[char], i: &mut usize) -> String {
    let start = *i;
    while *i < chars.len() && chars[*i].is_ascii_digit() {
        *i += 1;
    }
    chars[start..*i].iter().collect()
}

/// Takes the argument text up to an unquoted `;` or the end; spaces outside quotes dropped.
fn take_args(chars: &[char], mut i: usize) -> Result<(String, usize), SyntaxError> {
    let mut args = String::new();
    let mut quoted = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' {
            quoted = !quoted;
        } else if !quoted && c == ';' {
            break;
        } else if !quoted && c == ' ' {
            i += 1;
            continue;
        }
        args.push(c);
        i += 1;
    }
    if quoted {
        return Err(SyntaxError);
    }
    Ok((args, i))
}

/// One parameter of an extended command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Arg {
    /// Omitted (`AT+CMGD=1,` has an empty second argument).
    Empty,
    /// A `"quoted"` string, without the quotes.
    Str(String),
    /// An unquoted token, usually a number.
    Token(String),
}

impl Arg {
    pub(crate) fn number(&self) -> Option<u32> {
        match self {
            Arg::Token(t) => t.parse().ok(),
            _ => None,
        }
    }

    /// The text of a quoted string or a bare token (some DTEs omit the quotes).
    pub(crate) fn text(&self) -> Option<&str> {
        match self {
            Arg::Str(s) | Arg::Token(s) => Some(s),
            Arg::Empty => None,
        }
    }
}

/// Splits `"SM","SM",3` at the commas that are outside quotes.
pub(crate) fn split_args(raw: &str) -> Vec<Arg> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut was_quoted = false;
    for c in raw.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                was_quoted = true;
            }
            ',' if !quoted => {
                out.push(to_arg(std::mem::take(&mut current), was_quoted));
                was_quoted = false;
            }
            _ => current.push(c),
        }
    }
    out.push(to_arg(current, was_quoted));
    out
}

fn to_arg(text: String, quoted: bool) -> Arg {
    if quoted {
        Arg::Str(text)
    } else if text.is_empty() {
        Arg::Empty
    } else {
        Arg::Token(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(name: &str, op: Op) -> Command {
        Command {
            name: name.into(),
            op,
        }
    }

    fn set(v: &str) -> Op {
        Op::Set(v.into())
    }

    #[test]
    fn command_lines() {
        let table: Vec<(&str, Vec<Command>)> = vec![
            ("", vec![]),
            ("E0", vec![cmd("E", set("0"))]),
            ("e1 v1", vec![cmd("E", set("1")), cmd("V", set("1"))]),
            ("Z", vec![cmd("Z", Op::Exec)]),
            (
                "E0Q0V1&D2",
                vec![
                    cmd("E", set("0")),
                    cmd("Q", set("0")),
                    cmd("V", set("1")),
                    cmd("&D", set("2")),
                ],
            ),
            ("+CMEE=1", vec![cmd("+CMEE", set("1"))]),
            ("+cmee?", vec![cmd("+CMEE", Op::Read)]),
            ("+CMEE=?", vec![cmd("+CMEE", Op::Test)]),
            (
                "+CMGF=0;+CNMI=2,1,0,0,0",
                vec![cmd("+CMGF", set("0")), cmd("+CNMI", set("2,1,0,0,0"))],
            ),
            (
                "+CPMS=\"SM\", \"SM\",\"SM\"",
                vec![cmd("+CPMS", set("\"SM\",\"SM\",\"SM\""))],
            ),
            ("+CPIN=\"a;b c\"", vec![cmd("+CPIN", set("\"a;b c\""))]),
            (
                "+CGMI;+CGMM",
                vec![cmd("+CGMI", Op::Exec), cmd("+CGMM", Op::Exec)],
            ),
            ("D+44 7400 123456;", vec![cmd("D", set("+447400123456;"))]),
            ("E0D123;", vec![cmd("E", set("0")), cmd("D", set("123;"))]),
            ("S0=2", vec![cmd("S0", set("2"))]),
            ("S07?", vec![cmd("S7", Op::Read)]),
            ("^CURC=0", vec![cmd("^CURC", set("0"))]),
            ("I", vec![cmd("I", Op::Exec)]),
            ("E?", vec![cmd("E", Op::Read)]),
            ("+CHLD=2", vec![cmd("+CHLD", set("2"))]),
        ];
        for (line, expected) in table {
            assert_eq!(parse_line(line), Ok(expected), "line {line:?}");
        }
    }

    #[test]
    fn syntax_errors() {
        for line in [
            "+",
            "+CMEE? E0",
            "+CPIN=\"1234",
            "&",
            "S",
            "S0",
            "=1",
            "\u{7}",
        ] {
            assert_eq!(parse_line(line), Err(SyntaxError), "line {line:?}");
        }
    }

    #[test]
    fn argument_splitting() {
        assert_eq!(
            split_args("\"SM\",\"SM\",3"),
            vec![
                Arg::Str("SM".into()),
                Arg::Str("SM".into()),
                Arg::Token("3".into())
            ]
        );
        assert_eq!(split_args("1,"), vec![Arg::Token("1".into()), Arg::Empty]);
        assert_eq!(split_args("\"a,b\""), vec![Arg::Str("a,b".into())]);
        assert_eq!(split_args("\"\""), vec![Arg::Str(String::new())]);
        assert_eq!(split_args("7").first().and_then(Arg::number), Some(7));
    }
}
