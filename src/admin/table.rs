//! Aligned plain-text tables for the admin commands: readable in a terminal, and stable enough
//! to `grep` or `awk` (two spaces between columns, no trailing spaces, one line per row).

use std::io::{self, Write};

/// Rows of cells under a header line.
#[derive(Debug, Clone)]
pub struct Table {
    headers: Vec<String>,
    right: Vec<bool>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            right: vec![false; headers.len()],
            rows: Vec::new(),
        }
    }

    /// Align a column to the right (numbers).
    pub fn right(mut self, column: usize) -> Table {
        if let Some(flag) = self.right.get_mut(column) {
            *flag = true;
        }
        self
    }

    /// Add a row; missing cells are blank, extra cells are dropped, and line breaks or tabs a
    /// person typed into a field become spaces so each row stays one line.
    pub fn row<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) {
        let mut row: Vec<String> = cells
            .into_iter()
            .map(|cell| one_line(cell.as_ref()))
            .take(self.headers.len())
            .collect();
        row.resize(self.headers.len(), String::new());
        self.rows.push(row);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn write(&self, out: &mut impl Write) -> io::Result<()> {
        let width = |cell: &str| cell.chars().count();
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|column| {
                std::iter::once(&self.headers[column])
                    .chain(self.rows.iter().map(|row| &row[column]))
                    .map(|cell| width(cell))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in std::iter::once(&self.headers).chain(&self.rows) {
            let mut line = String::new();
            for (column, cell) in row.iter().enumerate() {
                let pad = widths[column] - width(cell);
                if column > 0 {
                    line.push_str("  ");
                }
                if self.right[column] {
                    line.extend(std::iter::repeat_n(' ', pad));
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    line.extend(std::iter::repeat_n(' ', pad));
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        Ok(())
    }
}

fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `text` cut to at most `max` characters, with `…` when cut.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut short: String = text.chars().take(max.saturating_sub(1)).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(table: &Table) -> String {
        let mut out = Vec::new();
        table.write(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn columns_line_up_whatever_the_characters() {
        let mut table = Table::new(&["CODE", "COUNT", "INFO"]).right(1);
        table.row(["XYZ123", "7", "Mon 06:00"]);
        table.row(["A1", "1234", "Zoë's line\nsecond line"]);
        table.row(["B2"]);
        assert_eq!(
            render(&table),
            "CODE    COUNT  INFO\n\
             XYZ123      7  Mon 06:00\n\
             A1       1234  Zoë's line second line\n\
             B2\n"
        );
    }

    #[test]
    fn shortening_marks_the_cut() {
        assert_eq!(shorten("short", 10), "short");
        assert_eq!(shorten("Available shifts: XYZ123", 10), "Available…");
        assert_eq!(shorten("ééééé", 4), "ééé…");
    }
}
