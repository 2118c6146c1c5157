//! The CSV drop folder's reader fed arbitrary files: whatever Excel, LibreOffice, a script
//! or a corrupted copy left in the folder.
//!
//! Properties: no panic; a file is either accepted whole or rejected with at least one
//! problem, every problem on a line that exists; a row written by `write_row` is read back
//! as the same values, whatever they hold (quotes, delimiters, line breaks).

#![no_main]

use libfuzzer_sys::fuzz_target;
use shiftsms::drop::csv::{Delimiter, records, write_row};
use shiftsms::drop::rows;
use shiftsms::service::phone::DefaultCountry;

fuzz_target!(|data: &[u8]| {
    let lines = data.iter().filter(|&&b| b == b'\n' || b == b'\r').count() + 1;
    for country in [DefaultCountry::NONE, "GB".parse().expect("known country")] {
        match rows::parse(data, country) {
            Ok(parsed) => assert!(!parsed.drafts.is_empty(), "accepted with no rows"),
            Err(rejected) => {
                assert!(!rejected.problems.is_empty(), "rejected without a reason");
                for problem in &rejected.problems {
                    if let Some(line) = problem.line {
                        assert!(line >= 1 && line <= lines + 1, "problem on line {line} of {lines}");
                    }
                }
            }
        }
    }

    // Values out of the input, written as one row and read back.
    let text = String::from_utf8_lossy(data);
    let fields: Vec<&str> = text.split('\u{1f}').collect();
    for delimiter in [Delimiter::Comma, Delimiter::Semicolon, Delimiter::Tab] {
        let row = write_row(&fields, delimiter);
        let mut read = records(&row, delimiter);
        let record = read.next().expect("one record");
        assert!(record.problems.is_empty(), "{row:?}: {:?}", record.problems);
        assert_eq!(record.fields, fields, "{row:?}");
    }
});
