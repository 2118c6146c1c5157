//! What a site manager reads when a file was refused (`failed/<name>.errors.txt`), and the
//! one line the log gets for each file.

use std::fmt::Write;

use jiff::ZonedDateTime;

use super::import::{Summary, Timing};
use super::rows::{Kind, Problem};

/// Problems listed in one report; the rest are counted. A file with more is usually one
/// mistake repeated (wrong column order, wrong country), and the first thousand show it.
pub const MAX_LISTED: usize = 1000;

/// The text of `<name>.errors.txt` for a file that was not imported.
pub fn errors_text(
    file_name: &str,
    kind: Option<Kind>,
    problems: &[Problem],
    at: &ZonedDateTime,
) -> String {
    let mut text = String::new();
    let count = problems.len();
    let what = match kind {
        Some(kind) => format!(" ({})", kind.a_file()),
        None => String::new(),
    };
    // Writing to a String cannot fail.
    let _ = writeln!(
        text,
        "{file_name}{what} was NOT imported: nothing in it was applied."
    );
    let _ = writeln!(
        text,
        "Checked by shiftsms on {}.",
        at.strftime("%Y-%m-%d at %H:%M:%S (%Z)")
    );
    let _ = writeln!(text);
    let _ = writeln!(
        text,
        "Fix {} below in your sheet, save it as CSV again and put it in the drop folder again.",
        if count == 1 {
            "the problem".to_string()
        } else {
            format!("the {count} problems")
        }
    );
    if problems.iter().any(|p| p.line.is_some()) {
        let _ = writeln!(
            text,
            "Line numbers count the lines of the file, the header row being line 1: in Excel \
             they are the row numbers (unless a cell has line breaks inside)."
        );
    }
    let _ = writeln!(text);
    for problem in problems.iter().take(MAX_LISTED) {
        let _ = writeln!(text, "{problem}");
    }
    if count > MAX_LISTED {
        let _ = writeln!(
            text,
            "... and {} more problems, not listed.",
            count - MAX_LISTED
        );
    }
    text
}

/// The log line for an imported file.
pub fn imported_line(
    file_name: &str,
    summary: &Summary,
    timing: &Timing,
    moved_to: &str,
) -> String {
    format!(
        "{file_name}: imported {summary} ({} ms, write lock {} ms); moved to {moved_to}",
        timing.total.as_millis(),
        timing.write_lock.as_millis()
    )
}

/// The log line for a refused file.
pub fn refused_line(file_name: &str, problems: &[Problem], report: &str) -> String {
    let first = problems
        .first()
        .map_or_else(String::new, |p| format!("; first: {p}"));
    format!(
        "{file_name}: NOT imported, {} problem(s){first}; see {report}",
        problems.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drop::rows::{ColumnRef, Field};
    use jiff::tz::TimeZone;

    fn at() -> ZonedDateTime {
        jiff::Timestamp::from_second(1_714_554_000)
            .unwrap()
            .to_zoned_datetime(TimeZone::UTC)
    }

    #[test]
    fn a_report_lists_every_problem_by_line_and_column() {
        let problems = vec![
            Problem::at(
                3,
                Some(ColumnRef {
                    index: 0,
                    field: Some(Field::ShiftId),
                }),
                "\"XY-12\" is not a valid shift code",
            ),
            Problem::at(5000, None, "something else"),
        ];
        let text = errors_text("shifts.csv", Some(Kind::Shifts), &problems, &at());
        assert_eq!(
            text,
            "shifts.csv (a shifts file) was NOT imported: nothing in it was applied.\n\
             Checked by shiftsms on 2024-05-01 at 09:00:00 (UTC).\n\
             \n\
             Fix the 2 problems below in your sheet, save it as CSV again and put it in the drop folder again.\n\
             Line numbers count the lines of the file, the header row being line 1: in Excel they are the row numbers (unless a cell has line breaks inside).\n\
             \n\
             line 3, column A (shift_id): \"XY-12\" is not a valid shift code\n\
             line 5000: something else\n"
        );
    }

    #[test]
    fn long_reports_are_cut() {
        let problems: Vec<Problem> = (1..=MAX_LISTED + 5)
            .map(|n| Problem::at(n, None, "bad"))
            .collect();
        let text = errors_text("x.csv", None, &problems, &at());
        assert!(text.contains(&format!("line {MAX_LISTED}: bad\n")));
        assert!(!text.contains(&format!("line {}: bad", MAX_LISTED + 1)));
        assert!(text.ends_with("... and 5 more problems, not listed.\n"));
        let one = errors_text("x.csv", None, &[Problem::file("the file is empty")], &at());
        assert!(one.contains("Fix the problem below"), "{one}");
        assert!(!one.contains("Line numbers"), "{one}");
    }
}
