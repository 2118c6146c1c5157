//! The CSV row parser: text in, records with their line numbers out. Pure, no I/O.
//!
//! It follows RFC 4180 as Excel and LibreOffice write it, and is lenient where people's files
//! differ: any of `,` `;` TAB as the delimiter (European Excel writes `;`, Unicode Text writes
//! TAB), line ends `\r\n`, `\n` or a lone `\r` (old Mac Excel), spaces around a quoted value,
//! and a `"` inside an unquoted value taken literally (`5" screen`). Values are returned
//! exactly as written, quotes removed and `""` unescaped, so nothing is lost here; trimming and
//! meaning belong to the typed rows ([`super::rows`]).
//!
//! The one thing it cannot guess is a quoted value that is never closed: that is reported at
//! the line where the quote opened, because a stray quote swallows every line after it.

use std::fmt;

/// What separates the values of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiter {
    Comma,
    Semicolon,
    Tab,
}

impl Delimiter {
    pub const ALL: [Delimiter; 3] = [Delimiter::Comma, Delimiter::Semicolon, Delimiter::Tab];

    pub fn byte(self) -> u8 {
        match self {
            Delimiter::Comma => b',',
            Delimiter::Semicolon => b';',
            Delimiter::Tab => b'\t',
        }
    }

    pub fn from_char(c: char) -> Option<Delimiter> {
        Delimiter::ALL
            .into_iter()
            .find(|d| char::from(d.byte()) == c)
    }
}

impl fmt::Display for Delimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Delimiter::Comma => "comma",
            Delimiter::Semicolon => "semicolon",
            Delimiter::Tab => "tab",
        })
    }
}

/// One row as written: its values and the (1-based) line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: usize,
    pub fields: Vec<String>,
    /// Quoting mistakes met in this row (usually none). The values are still returned, read
    /// as leniently as Excel would, so that every other problem of the row is reported too.
    pub problems: Vec<SyntaxProblem>,
}

impl Record {
    /// A row with nothing in it but delimiters and spaces (Excel writes `;;;` for an empty
    /// row inside the used range).
    pub fn is_blank(&self) -> bool {
        self.fields.iter().all(|f| f.trim().is_empty())
    }
}

/// A quoting mistake, with the 1-based line and value (column) it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyntaxProblem {
    /// A quoted value is never closed: everything after `line` was read into it.
    UnclosedQuote { line: usize, column: usize },
    /// Text after the closing quote of a quoted value (`"ab"c`); kept, appended to the value.
    TextAfterQuote { line: usize, column: usize },
}

impl SyntaxProblem {
    pub fn line(&self) -> usize {
        match self {
            SyntaxProblem::UnclosedQuote { line, .. }
            | SyntaxProblem::TextAfterQuote { line, .. } => *line,
        }
    }

    /// 0-based index of the value.
    pub fn column(&self) -> usize {
        match self {
            SyntaxProblem::UnclosedQuote { column, .. }
            | SyntaxProblem::TextAfterQuote { column, .. } => *column,
        }
    }
}

impl fmt::Display for SyntaxProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyntaxProblem::UnclosedQuote { .. } => f.write_str(
                "a value starts with a quote (\") that is never closed, so the rest of the file \
                 was read as part of it; close the quote, or remove it",
            ),
            SyntaxProblem::TextAfterQuote { .. } => f.write_str(
                "a quoted value has more text after its closing quote; to put a quote inside a \
                 value, double it (\"\") and put the whole value in quotes",
            ),
        }
    }
}

/// The records of `text`, lazily (a blank line is a record whose values are all empty).
pub fn records(text: &str, delimiter: Delimiter) -> Records<'_> {
    Records::starting_at(text, 0, 1, delimiter)
}

/// Iterator over the records of a text.
#[derive(Debug, Clone)]
pub struct Records<'t> {
    text: &'t str,
    pos: usize,
    line: usize,
    delimiter: u8,
}

impl<'t> Records<'t> {
    /// Records of `text` from byte `pos` (which must be at the start of a line), numbering
    /// lines from `line`.
    pub fn starting_at(text: &'t str, pos: usize, line: usize, delimiter: Delimiter) -> Self {
        Records {
            text,
            pos: pos.min(text.len()),
            line,
            delimiter: delimiter.byte(),
        }
    }

    /// Byte offset and line number where the next record starts.
    pub fn position(&self) -> (usize, usize) {
        (self.pos, self.line)
    }

    fn bytes(&self) -> &'t [u8] {
        self.text.as_bytes()
    }

    /// Position of the first byte at or after `from` that is the delimiter or a line end.
    fn field_end(&self, from: usize) -> usize {
        let delimiter = self.delimiter;
        self.bytes()[from..]
            .iter()
            .position(|&b| b == delimiter || b == b'\n' || b == b'\r')
            .map_or(self.bytes().len(), |i| from + i)
    }

    /// Read one quoted value whose opening quote is at `open`. Returns the value and leaves
    /// `pos` just after the closing quote (or at the end of the text).
    fn quoted(&mut self, open: usize, column: usize, problems: &mut Vec<SyntaxProblem>) -> String {
        let bytes = self.bytes();
        let opened_on = self.line;
        let mut value = String::new();
        let mut at = open + 1;
        loop {
            let Some(offset) = bytes[at..].iter().position(|&b| b == b'"') else {
                let rest = &self.text[at..];
                self.line += count_lines(rest.as_bytes());
                value.push_str(rest);
                self.pos = bytes.len();
                problems.push(SyntaxProblem::UnclosedQuote {
                    line: opened_on,
                    column,
                });
                return value;
            };
            let quote = at + offset;
            let chunk = &self.text[at..quote];
            self.line += count_lines(chunk.as_bytes());
            value.push_str(chunk);
            if bytes.get(quote + 1) == Some(&b'"') {
                value.push('"');
                at = quote + 2;
            } else {
                self.pos = quote + 1;
                return value;
            }
        }
    }
}

impl Iterator for Records<'_> {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        let len = self.text.len();
        if self.pos >= len {
            return None;
        }
        let line = self.line;
        let mut fields = Vec::new();
        let mut problems = Vec::new();
        loop {
            let column = fields.len();
            let start = self.pos;
            let lead = skip_spaces(self.bytes(), start, self.delimiter);
            let value = if self.bytes().get(lead) == Some(&b'"') {
                let mut value = self.quoted(lead, column, &mut problems);
                let after = skip_spaces(self.bytes(), self.pos, self.delimiter);
                let end = self.field_end(after);
                if end > after {
                    problems.push(SyntaxProblem::TextAfterQuote {
                        line: self.line,
                        column,
                    });
                    value.push_str(&self.text[self.pos..end]);
                }
                self.pos = end;
                value
            } else {
                let end = self.field_end(start);
                self.pos = end;
                self.text[start..end].to_string()
            };
            fields.push(value);
            match self.bytes().get(self.pos) {
                Some(&b) if b == self.delimiter => self.pos += 1,
                Some(b'\r') => {
                    self.pos += if self.bytes().get(self.pos + 1) == Some(&b'\n') {
                        2
                    } else {
                        1
                    };
                    self.line += 1;
                    break;
                }
                Some(b'\n') => {
                    self.pos += 1;
                    self.line += 1;
                    break;
                }
                _ => break, // end of the text
            }
        }
        Some(Record {
            line,
            fields,
            problems,
        })
    }
}

/// Spaces (and tabs, unless tab is the delimiter) from `from`.
fn skip_spaces(bytes: &[u8], from: usize, delimiter: u8) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| !(b == b' ' || (b == b'\t' && delimiter != b'\t')))
        .map_or(bytes.len(), |i| from + i)
}

/// Line ends in `bytes`: `\r\n`, `\n` and a lone `\r` each count once.
fn count_lines(bytes: &[u8]) -> usize {
    let mut lines = 0;
    let mut previous_cr = false;
    for &b in bytes {
        match b {
            b'\n' if previous_cr => {}
            b'\n' | b'\r' => lines += 1,
            _ => {}
        }
        previous_cr = b == b'\r';
    }
    lines
}

/// One row written as Excel would, ending in `\r\n`: a value is quoted when it holds the
/// delimiter, a quote, a line end, or spaces at either end (which a reader might trim).
pub fn write_row<S: AsRef<str>>(fields: &[S], delimiter: Delimiter) -> String {
    let mut out = String::new();
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(char::from(delimiter.byte()));
        }
        let field = field.as_ref();
        let needs_quotes = field
            .bytes()
            .any(|b| b == delimiter.byte() || b == b'"' || b == b'\r' || b == b'\n')
            || field.starts_with([' ', '\t'])
            || field.ends_with([' ', '\t']);
        if needs_quotes {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rows(text: &str, delimiter: Delimiter) -> Vec<(usize, Vec<String>)> {
        records(text, delimiter)
            .map(|r| {
                assert!(r.problems.is_empty(), "{text:?}: {:?}", r.problems);
                (r.line, r.fields)
            })
            .collect()
    }

    #[test]
    fn table() {
        use Delimiter::*;
        type Want<'a> = &'a [(usize, &'a [&'a str])];
        let cases: &[(&str, Delimiter, Want<'_>)] = &[
            ("", Comma, &[]),
            ("a", Comma, &[(1, &["a"])]),
            ("a,b\n", Comma, &[(1, &["a", "b"])]),
            (
                "a,b\r\nc,d\r\n",
                Comma,
                &[(1, &["a", "b"]), (2, &["c", "d"])],
            ),
            ("a\rb\r", Comma, &[(1, &["a"]), (2, &["b"])]),
            ("a;b,c\n", Semicolon, &[(1, &["a", "b,c"])]),
            ("a\tb c\n", Tab, &[(1, &["a", "b c"])]),
            ("a,,\n", Comma, &[(1, &["a", "", ""])]),
            (",", Comma, &[(1, &["", ""])]),
            ("\n\na\n", Comma, &[(1, &[""]), (2, &[""]), (3, &["a"])]),
            (
                "\"x, y\",\"say \"\"hi\"\"\"\n",
                Comma,
                &[(1, &["x, y", "say \"hi\""])],
            ),
            ("\"\",b\n", Comma, &[(1, &["", "b"])]),
            ("  \"q\"  ,b\n", Comma, &[(1, &["q", "b"])]),
            ("a  , b \n", Comma, &[(1, &["a  ", " b "])]),
            ("5\" screen,b\n", Comma, &[(1, &["5\" screen", "b"])]),
            (
                "\"two\r\nlines\",x\r\nnext,y\r\n",
                Comma,
                &[(1, &["two\r\nlines", "x"]), (3, &["next", "y"])],
            ),
            ("\"a\nb\nc\"\nz", Comma, &[(1, &["a\nb\nc"]), (4, &["z"])]),
            ("a\t\"b\tc\"\n", Tab, &[(1, &["a", "b\tc"])]),
            ("é,ü\n", Comma, &[(1, &["é", "ü"])]),
        ];
        for (text, delimiter, want) in cases {
            let want: Vec<(usize, Vec<String>)> = want
                .iter()
                .map(|(l, f)| (*l, f.iter().map(|s| s.to_string()).collect()))
                .collect();
            assert_eq!(rows(text, *delimiter), want, "{text:?}");
        }
    }

    #[test]
    fn quoting_mistakes_are_reported_where_they_are() {
        let all: Vec<Record> =
            records("id,info\nA1,\"open\nB2,x\nC3,y\n", Delimiter::Comma).collect();
        assert_eq!(all.len(), 2);
        assert_eq!(
            all[1].problems,
            vec![SyntaxProblem::UnclosedQuote { line: 2, column: 1 }]
        );
        assert_eq!(all[1].fields[1], "open\nB2,x\nC3,y\n");

        let all: Vec<Record> = records("\"ab\"c,d\ne,f\n", Delimiter::Comma).collect();
        assert_eq!(
            all[0].problems,
            vec![SyntaxProblem::TextAfterQuote { line: 1, column: 0 }]
        );
        assert_eq!(all[0].fields, vec!["abc", "d"]);
        assert_eq!(all[1].line, 2);
        assert_eq!(all[1].fields, vec!["e", "f"]);
        assert!(all[0].problems[0].to_string().contains("double it"));
    }

    #[test]
    fn blank_rows() {
        let r: Vec<Record> = records(";; ;\n", Delimiter::Semicolon).collect();
        assert!(r[0].is_blank());
        let r: Vec<Record> = records("a;;\n", Delimiter::Semicolon).collect();
        assert!(!r[0].is_blank());
    }

    #[test]
    fn writer() {
        assert_eq!(write_row(&["a", "b"], Delimiter::Comma), "a,b\r\n");
        assert_eq!(
            write_row(&["a,b", "say \"hi\"", " pad"], Delimiter::Comma),
            "\"a,b\",\"say \"\"hi\"\"\",\" pad\"\r\n"
        );
        assert_eq!(
            write_row(&["a,b", "c;d"], Delimiter::Semicolon),
            "a,b;\"c;d\"\r\n"
        );
    }

    fn field() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-zA-Z0-9 ]{0,8}",
            "[a-z,;\t\"\r\n é€]{0,8}",
            any::<String>().prop_map(|s| s.chars().take(12).collect()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_text_parses_without_panic(text in any::<String>(), d in 0usize..3) {
            let delimiter = Delimiter::ALL[d];
            let mut last_line = 0;
            for record in records(&text, delimiter) {
                prop_assert!(record.line > last_line);
                prop_assert!(!record.fields.is_empty());
                last_line = record.line;
            }
        }

        #[test]
        fn written_rows_read_back(rows in prop::collection::vec(prop::collection::vec(field(), 1..5), 0..6), d in 0usize..3) {
            let delimiter = Delimiter::ALL[d];
            let text: String = rows.iter().map(|row| write_row(row, delimiter)).collect();
            let read: Vec<Record> = records(&text, delimiter).collect();
            prop_assert_eq!(read.len(), rows.len());
            let mut line = 1;
            for (record, row) in read.iter().zip(&rows) {
                prop_assert!(record.problems.is_empty());
                prop_assert_eq!(&record.fields, row);
                prop_assert_eq!(record.line, line);
                line += row.iter().map(|f| count_lines(f.as_bytes())).sum::<usize>() + 1;
            }
        }
    }
}
