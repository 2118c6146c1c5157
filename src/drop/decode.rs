//! Bytes of a dropped file to text: which encodings are read, and what is said about the rest.
//!
//! What Excel and LibreOffice write when a sheet is saved:
//!
//! | Save as | bytes | here |
//! |---|---|---|
//! | CSV UTF-8 (Comma delimited) | UTF-8 with a BOM (`EF BB BF`) | read |
//! | LibreOffice "Text CSV", character set UTF-8 | UTF-8, no BOM | read |
//! | Unicode Text | UTF-16LE with a BOM (`FF FE`), TAB between values | read |
//! | CSV (Comma delimited), CSV (Macintosh), CSV (MS-DOS) | the PC's "ANSI" code page: Windows-1252 in western Europe, 1250, 1251, ... elsewhere | **refused**, with how to save as CSV UTF-8 |
//! | Excel Workbook (.xlsx), .xls, .ods | a zip or an OLE container | refused, with how to save as CSV UTF-8 |
//!
//! Why code-page files are refused rather than decoded as Windows-1252: the bytes do not say
//! which code page wrote them, and guessing wrong garbles text silently (`Łukasz` saved on a
//! Polish PC reads as `£ukasz` in Windows-1252), and shift info is texted to employees
//! as it is read. Garbled non-Latin text is a top complaint about SMS gateways; a file refused
//! with "save it as CSV UTF-8" costs a site manager one extra click, once. The message shows
//! what the offending text would be in Windows-1252 so they can recognise the cell.

use std::fmt;

/// The text of a file, and what it was written in (for the log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    pub encoding: Encoding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf8Bom => "UTF-8 with BOM",
            Encoding::Utf16Le => "UTF-16LE (Excel Unicode Text)",
            Encoding::Utf16Be => "UTF-16BE",
        })
    }
}

/// How to save a sheet so that it is read: said at the end of every encoding problem.
pub const SAVE_AS_HINT: &str = "In Excel choose File > Save As > \"CSV UTF-8 (Comma delimited) (*.csv)\"; \
     in LibreOffice choose \"Text CSV\" and Character set \"Unicode (UTF-8)\".";

/// Why a file's bytes are not text we read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("the file is empty")]
    Empty,
    #[error("this is a spreadsheet workbook ({0}), not a CSV file. {SAVE_AS_HINT}")]
    Workbook(&'static str),
    #[error(
        "line {line} has a character that is not UTF-8 (byte 0x{byte:02X}{}): the file was \
         probably saved as \"CSV (Comma delimited)\", which uses the PC's own code page. {SAVE_AS_HINT}",
        guess.as_ref().map(|g| format!(", perhaps {g:?} in a western European code page")).unwrap_or_default()
    )]
    NotUtf8 {
        line: usize,
        byte: u8,
        /// The word around the byte read as Windows-1252, to help find the cell.
        guess: Option<String>,
    },
    #[error(
        "line {line} contains a NUL byte: this is a binary file, or UTF-16 text without a byte \
         order mark. {SAVE_AS_HINT}"
    )]
    Nul { line: usize },
    #[error("the UTF-16 text is broken near line {line} (an unpaired surrogate). {SAVE_AS_HINT}")]
    BadUtf16 { line: usize },
}

/// Turn a file's bytes into text. Pure: no I/O.
pub fn decode(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    if let Some(kind) = workbook_kind(bytes) {
        return Err(DecodeError::Workbook(kind));
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(rest, u16::from_le_bytes).map(|text| Decoded {
            text,
            encoding: Encoding::Utf16Le,
        });
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(rest, u16::from_be_bytes).map(|text| Decoded {
            text,
            encoding: Encoding::Utf16Be,
        });
    }
    let (body, encoding) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (rest, Encoding::Utf8Bom),
        None => (bytes, Encoding::Utf8),
    };
    if let Some(at) = body.iter().position(|&b| b == 0) {
        return Err(DecodeError::Nul {
            line: line_at(body, at),
        });
    }
    match std::str::from_utf8(body) {
        Ok(text) => Ok(Decoded {
            text: text.to_string(),
            encoding,
        }),
        Err(err) => {
            let at = err.valid_up_to();
            Err(DecodeError::NotUtf8 {
                line: line_at(body, at),
                byte: body.get(at).copied().unwrap_or(0),
                guess: windows_1252_word(body, at),
            })
        }
    }
}

fn workbook_kind(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"PK\x03\x04") {
        Some(".xlsx or .ods, a zip archive")
    } else if bytes.starts_with(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1") {
        Some(".xls, an old Excel workbook")
    } else {
        None
    }
}

fn utf16(body: &[u8], unit: fn([u8; 2]) -> u16) -> Result<String, DecodeError> {
    let units = body.chunks(2).map(|pair| match pair {
        [a, b] => unit([*a, *b]),
        // An odd trailing byte: not a character; decoded as a replacement character below.
        _ => 0xD800,
    });
    let mut text = String::with_capacity(body.len() / 2);
    for decoded in char::decode_utf16(units) {
        match decoded {
            Ok('\0') => {
                return Err(DecodeError::Nul {
                    line: text.matches('\n').count() + 1,
                });
            }
            Ok(c) => text.push(c),
            Err(_) => {
                return Err(DecodeError::BadUtf16 {
                    line: text.matches('\n').count() + 1,
                });
            }
        }
    }
    Ok(text)
}

/// 1-based line of byte `at`, counting `\n` (and a lone `\r`, as old Mac Excel writes).
fn line_at(bytes: &[u8], at: usize) -> usize {
    let mut line = 1;
    let mut previous_cr = false;
    for &b in &bytes[..at.min(bytes.len())] {
        if b == b'\r' || (b == b'\n' && !previous_cr) {
            line += 1;
        }
        previous_cr = b == b'\r';
    }
    line
}

/// The run of non-separator bytes around `at`, read as Windows-1252, when it reads as letters.
fn windows_1252_word(bytes: &[u8], at: usize) -> Option<String> {
    let separator = |b: &u8| matches!(b, b',' | b';' | b'\t' | b'\r' | b'\n' | b'"');
    let start = bytes[..at].iter().rposition(separator).map_or(0, |i| i + 1);
    let end = bytes[at..]
        .iter()
        .position(separator)
        .map_or(bytes.len(), |i| at + i);
    let word: String = bytes[start..end].iter().map(|&b| windows_1252(b)).collect();
    let word = word.trim();
    (!word.is_empty() && word.chars().count() <= 40 && !word.contains('\u{FFFD}'))
        .then(|| word.to_string())
}

/// One byte in Windows-1252 (WHATWG encoding standard index): Latin-1 except 0x80–0x9F.
fn windows_1252(byte: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{FFFD}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{FFFD}', 'Ž',
        '\u{FFFD}', '\u{FFFD}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ',
        '\u{FFFD}', 'ž', 'Ÿ',
    ];
    match byte {
        0x80..=0x9F => HIGH[usize::from(byte - 0x80)],
        _ => char::from(byte),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le_with_bom(text: &str) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in text.encode_utf16() {
            bytes.extend(unit.to_le_bytes());
        }
        bytes
    }

    #[test]
    fn utf8_with_and_without_bom() {
        let plain = decode("phone,name\r\n+447400123456,Zoë\r\n".as_bytes()).unwrap();
        assert_eq!(plain.encoding, Encoding::Utf8);
        assert!(plain.text.starts_with("phone"));
        let bom = decode(b"\xEF\xBB\xBFphone,name\n").unwrap();
        assert_eq!(bom.encoding, Encoding::Utf8Bom);
        assert_eq!(bom.text, "phone,name\n");
    }

    #[test]
    fn excel_unicode_text_is_utf16le_with_tabs() {
        let bytes = utf16le_with_bom("shift_id\tshift_info\r\nXYZ123\tLigne 3 — matin\r\n");
        let decoded = decode(&bytes).unwrap();
        assert_eq!(decoded.encoding, Encoding::Utf16Le);
        assert_eq!(
            decoded.text,
            "shift_id\tshift_info\r\nXYZ123\tLigne 3 — matin\r\n"
        );
        let mut be = vec![0xFE, 0xFF];
        for unit in "a,b".encode_utf16() {
            be.extend(unit.to_be_bytes());
        }
        assert_eq!(decode(&be).unwrap().text, "a,b");
    }

    #[test]
    fn windows_1252_is_refused_with_the_line_and_a_guess() {
        // "José" saved by Excel's "CSV (Comma delimited)" on a western European PC.
        let err = decode(b"phone,name\r\n+447400123456,Jos\xE9\r\n").unwrap_err();
        assert_eq!(
            err,
            DecodeError::NotUtf8 {
                line: 2,
                byte: 0xE9,
                guess: Some("José".into())
            }
        );
        let message = err.to_string();
        assert!(message.contains("line 2"), "{message}");
        assert!(message.contains("CSV UTF-8"), "{message}");
        assert!(message.contains("\"José\""), "{message}");
        // 0x80 is the euro sign in Windows-1252.
        let err = decode(b"a\rb\r\x80 5").unwrap_err();
        assert!(
            matches!(err, DecodeError::NotUtf8 { line: 3, byte: 0x80, guess: Some(ref g) } if g == "€ 5"),
            "{err:?}"
        );
    }

    #[test]
    fn other_files_are_named_for_what_they_are() {
        assert_eq!(decode(b""), Err(DecodeError::Empty));
        assert!(matches!(
            decode(b"PK\x03\x04\x14\x00rest"),
            Err(DecodeError::Workbook(_))
        ));
        assert!(matches!(
            decode(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00"),
            Err(DecodeError::Workbook(_))
        ));
        // UTF-16 without a BOM is full of NULs.
        assert_eq!(
            decode(b"a\x00,\x00b\x00"),
            Err(DecodeError::Nul { line: 1 })
        );
        assert!(matches!(
            decode(b"\xFF\xFEa\x00\x00\xD8"),
            Err(DecodeError::BadUtf16 { line: 1 })
        ));
        assert!(matches!(
            decode(b"\xFF\xFEa\x00b"),
            Err(DecodeError::BadUtf16 { .. })
        ));
    }
}
