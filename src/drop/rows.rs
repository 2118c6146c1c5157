//! From decoded text to typed rows: which kind of file it is (by its header row, never by its
//! name), which delimiter it uses, and each row checked into a [`ShiftDraft`],
//! [`EmployeeDraft`] or [`CampaignDraft`], or a [`Problem`] naming its line and column.
//!
//! Pure: the rules of what a shift code and a phone number are come from
//! [`crate::service`]; what is already in the database is looked at later, by
//! [`super::import`]. Every problem of the file is collected, not just the first, so a site
//! manager fixes them all in one go.

use std::collections::HashMap;
use std::fmt;

use super::csv::{self, Delimiter, Record};
use super::decode::{self, Encoding};
use crate::service::phone::{self, DefaultCountry, E164};
use crate::service::shift_code::ShiftCode;

/// The three kinds of file, in the order files dropped together are imported: employees and
/// shifts before the campaigns that offer them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Employees,
    Shifts,
    Campaigns,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Employees, Kind::Shifts, Kind::Campaigns];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Employees => "employees",
            Kind::Shifts => "shifts",
            Kind::Campaigns => "campaigns",
        }
    }

    /// "a shifts file", "an employees file".
    pub fn a_file(self) -> &'static str {
        match self {
            Kind::Employees => "an employees file",
            Kind::Shifts => "a shifts file",
            Kind::Campaigns => "a campaigns file",
        }
    }

    /// The columns of this kind, the key column first.
    pub fn fields(self) -> &'static [Field] {
        match self {
            Kind::Shifts => &[Field::ShiftId, Field::ShiftInfo, Field::ShiftStatus],
            Kind::Employees => &[Field::Phone, Field::Name, Field::Subscribed],
            Kind::Campaigns => &[Field::CampaignId, Field::Shifts],
        }
    }

    /// `shift_id, shift_info (optional: shift_status)`.
    fn describe(self) -> String {
        let names = |required: bool| {
            self.fields()
                .iter()
                .filter(|f| f.required() == required)
                .map(|f| f.name())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let optional = names(false);
        if optional.is_empty() {
            names(true)
        } else {
            format!("{} (optional: {optional})", names(true))
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A column shiftsms knows, named as in the database tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    ShiftId,
    ShiftInfo,
    ShiftStatus,
    Phone,
    Name,
    Subscribed,
    CampaignId,
    Shifts,
}

impl Field {
    const ALL: [Field; 8] = [
        Field::ShiftId,
        Field::ShiftInfo,
        Field::ShiftStatus,
        Field::Phone,
        Field::Name,
        Field::Subscribed,
        Field::CampaignId,
        Field::Shifts,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Field::ShiftId => "shift_id",
            Field::ShiftInfo => "shift_info",
            Field::ShiftStatus => "shift_status",
            Field::Phone => "phone",
            Field::Name => "name",
            Field::Subscribed => "subscribed",
            Field::CampaignId => "campaign_id",
            Field::Shifts => "shifts",
        }
    }

    fn required(self) -> bool {
        !matches!(self, Field::ShiftStatus | Field::Subscribed)
    }

    /// A header cell as people write it: any case, spaces or hyphens for underscores
    /// (`Shift ID`, `SHIFT-INFO`).
    fn from_header(cell: &str) -> Option<Field> {
        let normal: String = cell
            .trim()
            .chars()
            .map(|c| match c {
                ' ' | '-' => '_',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        Field::ALL.into_iter().find(|f| f.name() == normal)
    }
}

/// A column of the file: its position (shown as Excel's letter) and the name it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnRef {
    /// 0-based.
    pub index: usize,
    pub field: Option<Field>,
}

impl fmt::Display for ColumnRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}", column_letter(self.index))?;
        if let Some(field) = self.field {
            write!(f, " ({})", field.name())?;
        }
        Ok(())
    }
}

/// Excel's name for the 0-based column `index`: A … Z, AA, AB, …
pub fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(char::from(b'A' + rem as u8));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

/// One thing wrong with a file, in words for the person who made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line of the file (as a text editor counts; Excel's row number unless a value
    /// spans lines); `None` for the file as a whole.
    pub line: Option<usize>,
    pub column: Option<ColumnRef>,
    pub message: String,
}

impl Problem {
    pub fn file(message: impl Into<String>) -> Problem {
        Problem {
            line: None,
            column: None,
            message: message.into(),
        }
    }

    pub fn at(line: usize, column: Option<ColumnRef>, message: impl Into<String>) -> Problem {
        Problem {
            line: Some(line),
            column,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, &self.column) {
            (Some(line), Some(column)) => write!(f, "line {line}, {column}: ")?,
            (Some(line), None) => write!(f, "line {line}: ")?,
            (None, Some(column)) => write!(f, "{column}: ")?,
            (None, None) => {}
        }
        f.write_str(&self.message)
    }
}

/// What a shifts row asks for its `shift_status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WantedStatus {
    Available,
    Taken,
}

/// A row of a shifts file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShiftDraft {
    pub line: usize,
    pub code: ShiftCode,
    pub info: String,
    /// `None` when the column is absent or the cell empty.
    pub status: Option<WantedStatus>,
}

/// A row of an employees file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmployeeDraft {
    pub line: usize,
    pub phone: E164,
    /// `None` when the cell is empty.
    pub name: Option<String>,
    /// `None` when the column is absent or the cell empty: leave it as it is.
    pub subscribed: Option<bool>,
}

/// A row of a campaigns file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignDraft {
    pub line: usize,
    pub id: String,
    pub shifts: String,
}

/// The checked rows of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drafts {
    Shifts(Vec<ShiftDraft>),
    Employees(Vec<EmployeeDraft>),
    Campaigns(Vec<CampaignDraft>),
}

impl Drafts {
    pub fn kind(&self) -> Kind {
        match self {
            Drafts::Shifts(_) => Kind::Shifts,
            Drafts::Employees(_) => Kind::Employees,
            Drafts::Campaigns(_) => Kind::Campaigns,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Drafts::Shifts(rows) => rows.len(),
            Drafts::Employees(rows) => rows.len(),
            Drafts::Campaigns(rows) => rows.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A file read and checked on its own (not yet against the database).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFile {
    pub encoding: Encoding,
    pub delimiter: Delimiter,
    pub drafts: Drafts,
    /// Where each known column is, for problems found later against the database.
    columns: HashMap<Field, usize>,
}

impl ParsedFile {
    pub fn kind(&self) -> Kind {
        self.drafts.kind()
    }

    /// Where `field` is in this file, for a problem message.
    pub fn column(&self, field: Field) -> Option<ColumnRef> {
        self.columns.get(&field).map(|&index| ColumnRef {
            index,
            field: Some(field),
        })
    }
}

/// What [`parse`] says about a file it cannot accept: its kind when the header was
/// recognised, and every problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub kind: Option<Kind>,
    pub problems: Vec<Problem>,
}

/// Decode, recognise and check a whole file. Pure: `country` is `[phone] default_country`.
pub fn parse(bytes: &[u8], country: DefaultCountry) -> Result<ParsedFile, Rejected> {
    let reject = |kind, problems| Rejected { kind, problems };
    let decoded =
        decode::decode(bytes).map_err(|e| reject(None, vec![Problem::file(e.to_string())]))?;
    let text = decoded.text.as_str();
    let header = find_header(text).map_err(|p| reject(None, vec![p]))?;
    let kind = header.kind;
    let mut problems = header.problems.clone();
    let mut drafts = match kind {
        Kind::Shifts => Drafts::Shifts(Vec::new()),
        Kind::Employees => Drafts::Employees(Vec::new()),
        Kind::Campaigns => Drafts::Campaigns(Vec::new()),
    };
    let mut rows = 0;
    for record in header.records_after(text) {
        if record.is_blank() && record.problems.is_empty() {
            continue;
        }
        rows += 1;
        let checked = header.row(&record).and_then(|cells| match &mut drafts {
            Drafts::Shifts(out) => shift_row(&header, &cells).map(|d| out.push(d)),
            Drafts::Employees(out) => employee_row(&header, &cells, country).map(|d| out.push(d)),
            Drafts::Campaigns(out) => campaign_row(&header, &cells).map(|d| out.push(d)),
        });
        if let Err(mut found) = checked {
            problems.append(&mut found);
        }
    }
    if rows == 0 && problems.is_empty() {
        problems.push(Problem::file(format!(
            "the file has a header row ({kind}) but no rows under it, so there is nothing to import"
        )));
    }
    duplicates(&header, &drafts, &mut problems);
    if !problems.is_empty() {
        problems.sort_by_key(|p| (p.line, p.column.as_ref().map(|c| c.index)));
        return Err(reject(Some(kind), problems));
    }
    Ok(ParsedFile {
        encoding: decoded.encoding,
        delimiter: header.delimiter,
        drafts,
        columns: header.columns(),
    })
}

/// The header row: where it is, its delimiter, and what each column is.
#[derive(Debug, Clone)]
struct Header {
    kind: Kind,
    delimiter: Delimiter,
    /// Byte offset and line number just after the header row.
    body: (usize, usize),
    /// What each column is.
    cells: Vec<HeaderCell>,
    /// Problems with the header itself (unknown or repeated columns).
    problems: Vec<Problem>,
}

/// One cell of the header row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeaderCell {
    Known(Field),
    /// An empty name: Excel writes one for a column that was formatted and left empty. Values
    /// under it are a problem, emptiness is not.
    Unnamed,
    /// A name already reported as a problem: the values under it are not checked again.
    Rejected,
}

impl HeaderCell {
    fn field(self) -> Option<Field> {
        match self {
            HeaderCell::Known(field) => Some(field),
            _ => None,
        }
    }
}

/// A data row's cells, trimmed, by field.
struct Cells<'r> {
    line: usize,
    values: [&'r str; Field::ALL.len()],
}

impl<'r> Cells<'r> {
    fn get(&self, field: Field) -> &'r str {
        self.values[field as usize]
    }
}

impl Header {
    fn records_after<'t>(&self, text: &'t str) -> csv::Records<'t> {
        csv::Records::starting_at(text, self.body.0, self.body.1, self.delimiter)
    }

    fn columns(&self) -> HashMap<Field, usize> {
        self.cells
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.field().map(|f| (f, i)))
            .collect()
    }

    fn column(&self, field: Field) -> Option<ColumnRef> {
        let index = self
            .cells
            .iter()
            .position(|c| *c == HeaderCell::Known(field))?;
        Some(ColumnRef {
            index,
            field: Some(field),
        })
    }

    fn row<'r>(&self, record: &'r Record) -> Result<Cells<'r>, Vec<Problem>> {
        let line = record.line;
        let mut problems: Vec<Problem> = record
            .problems
            .iter()
            .map(|p| {
                Problem::at(
                    p.line(),
                    Some(ColumnRef {
                        index: p.column(),
                        field: self.cells.get(p.column()).and_then(|c| c.field()),
                    }),
                    p.to_string(),
                )
            })
            .collect();
        let mut values = [""; Field::ALL.len()];
        for (index, value) in record.fields.iter().enumerate() {
            let value = value.trim();
            match self.cells.get(index) {
                Some(HeaderCell::Known(field)) => values[*field as usize] = value,
                Some(HeaderCell::Rejected) => {}
                _ if value.is_empty() => {}
                Some(HeaderCell::Unnamed) => problems.push(Problem::at(
                    line,
                    Some(ColumnRef { index, field: None }),
                    format!(
                        "{value:?} is under a column with no name in the header row; name the \
                         column or empty it"
                    ),
                )),
                None => {
                    problems.push(Problem::at(
                        line,
                        Some(ColumnRef { index, field: None }),
                        format!(
                            "{value:?} is past the last column of the header row ({} columns); is \
                             there a {} inside a value that is not in quotes?",
                            self.cells.len(),
                            self.delimiter
                        ),
                    ));
                    break;
                }
            }
        }
        if problems.is_empty() {
            Ok(Cells { line, values })
        } else {
            Err(problems)
        }
    }
}

/// Find the header row: the first row that is not blank, read with whichever delimiter makes
/// it name a known key column. A first line `sep=;` (which Excel writes and reads) fixes the
/// delimiter.
fn find_header(text: &str) -> Result<Header, Problem> {
    let (start, line, forced) = match sep_line(text) {
        Some((delimiter, after)) => (after, 2, Some(delimiter)),
        None => (0, 1, None),
    };
    let candidates: Vec<Delimiter> = forced.map_or(Delimiter::ALL.to_vec(), |d| vec![d]);
    let mut first: Option<Record> = None;
    for delimiter in candidates {
        let mut records = csv::Records::starting_at(text, start, line, delimiter);
        let Some(record) = records.by_ref().find(|r| !r.is_blank()) else {
            continue;
        };
        let body = records.position();
        let cells: Vec<Option<Field>> = record
            .fields
            .iter()
            .map(|c| Field::from_header(c))
            .collect();
        let kinds: Vec<Kind> = Kind::ALL
            .into_iter()
            .filter(|k| cells.contains(&Some(k.fields()[0])))
            .collect();
        match kinds.as_slice() {
            [] => {
                if first.is_none() {
                    first = Some(record);
                }
            }
            [kind] => return Ok(check_header(*kind, delimiter, body, &record, cells)),
            several => {
                return Err(Problem::at(
                    record.line,
                    None,
                    format!(
                        "the header row has the key columns of {}: a file holds one kind of row; \
                         put each kind in its own file",
                        several
                            .iter()
                            .map(|k| format!("{k} ({})", k.fields()[0].name()))
                            .collect::<Vec<_>>()
                            .join(" and ")
                    ),
                ));
            }
        }
    }
    let expected = Kind::ALL
        .iter()
        .map(|k| format!("{k}: {}", k.describe()))
        .collect::<Vec<_>>()
        .join("; ");
    Err(match first {
        None => Problem::file("the file has no rows at all (only blank lines)"),
        Some(record) => {
            let shown: Vec<&str> = record.fields.iter().take(4).map(|f| f.trim()).collect();
            Problem::at(
                record.line,
                None,
                format!(
                    "the first row must name the columns, and {:?} names none shiftsms knows. \
                     A file is one of: {expected}",
                    shown.join(", ")
                ),
            )
        }
    })
}

/// `sep=;` on the first line, and where the next line starts.
fn sep_line(text: &str) -> Option<(Delimiter, usize)> {
    let end = text.find(['\r', '\n']).unwrap_or(text.len());
    let first = text[..end].trim().trim_matches('"');
    let rest = first.get(..4).filter(|p| p.eq_ignore_ascii_case("sep="))?;
    let delimiter = first[rest.len()..]
        .chars()
        .next()
        .and_then(Delimiter::from_char)?;
    let after = match text.as_bytes().get(end) {
        Some(b'\r') if text.as_bytes().get(end + 1) == Some(&b'\n') => end + 2,
        Some(_) => end + 1,
        None => end,
    };
    Some((delimiter, after))
}

fn check_header(
    kind: Kind,
    delimiter: Delimiter,
    body: (usize, usize),
    record: &Record,
    cells: Vec<Option<Field>>,
) -> Header {
    let line = record.line;
    let mut problems = Vec::new();
    let mut seen: HashMap<Field, usize> = HashMap::new();
    let mut kept = Vec::with_capacity(cells.len());
    for (index, (cell, raw)) in cells.iter().zip(&record.fields).enumerate() {
        let at = |field| Some(ColumnRef { index, field });
        match cell {
            None if raw.trim().is_empty() => kept.push(HeaderCell::Unnamed),
            None => {
                problems.push(Problem::at(
                    line,
                    at(None),
                    format!(
                        "{:?} is not a column of {} (its columns are {}); rename or \
                         delete the column",
                        raw.trim(),
                        kind.a_file(),
                        kind.describe()
                    ),
                ));
                kept.push(HeaderCell::Rejected);
            }
            Some(field) if !kind.fields().contains(field) => {
                problems.push(Problem::at(
                    line,
                    at(Some(*field)),
                    format!(
                        "{} is a column of another kind of file, not of {} (its columns \
                         are {}); a file holds one kind of row",
                        field.name(),
                        kind.a_file(),
                        kind.describe()
                    ),
                ));
                kept.push(HeaderCell::Rejected);
            }
            Some(field) => {
                if let Some(&first) = seen.get(field) {
                    problems.push(Problem::at(
                        line,
                        at(Some(*field)),
                        format!(
                            "{} appears twice in the header row (also column {}); keep one",
                            field.name(),
                            column_letter(first)
                        ),
                    ));
                    kept.push(HeaderCell::Rejected);
                } else {
                    seen.insert(*field, index);
                    kept.push(HeaderCell::Known(*field));
                }
            }
        }
    }
    for field in kind.fields().iter().filter(|f| f.required()) {
        if !seen.contains_key(field) {
            problems.push(Problem::at(
                line,
                None,
                format!(
                    "{} needs a {} column (its columns are {})",
                    kind.a_file(),
                    field.name(),
                    kind.describe()
                ),
            ));
        }
    }
    Header {
        kind,
        delimiter,
        body,
        cells: kept,
        problems,
    }
}

/// Collect problems, or build the draft when there were none.
struct RowCheck<'h> {
    header: &'h Header,
    line: usize,
    problems: Vec<Problem>,
}

impl RowCheck<'_> {
    fn fail(&mut self, field: Field, message: impl Into<String>) {
        self.problems
            .push(Problem::at(self.line, self.header.column(field), message));
    }

    fn finish<T>(self, draft: Option<T>) -> Result<T, Vec<Problem>> {
        match draft {
            Some(draft) if self.problems.is_empty() => Ok(draft),
            _ => Err(self.problems),
        }
    }
}

fn shift_row(header: &Header, cells: &Cells<'_>) -> Result<ShiftDraft, Vec<Problem>> {
    let mut check = RowCheck {
        header,
        line: cells.line,
        problems: Vec::new(),
    };
    let code = match cells.get(Field::ShiftId).parse::<ShiftCode>() {
        Ok(code) => Some(code),
        Err(err) => {
            check.fail(Field::ShiftId, err.to_string());
            None
        }
    };
    let status = match cells.get(Field::ShiftStatus).to_ascii_lowercase().as_str() {
        "" => None,
        "available" => Some(WantedStatus::Available),
        "taken" => Some(WantedStatus::Taken),
        _ => {
            check.fail(
                Field::ShiftStatus,
                format!(
                    "{:?} is not a shift status: write available or taken, or leave it empty",
                    cells.get(Field::ShiftStatus)
                ),
            );
            None
        }
    };
    let info = text_value(cells.get(Field::ShiftInfo));
    let line = cells.line;
    check.finish(code.map(|code| ShiftDraft {
        line,
        code,
        info,
        status,
    }))
}

fn employee_row(
    header: &Header,
    cells: &Cells<'_>,
    country: DefaultCountry,
) -> Result<EmployeeDraft, Vec<Problem>> {
    let mut check = RowCheck {
        header,
        line: cells.line,
        problems: Vec::new(),
    };
    let written = cells.get(Field::Phone);
    let phone = if looks_like_excel_scientific(written) {
        check.fail(
            Field::Phone,
            format!(
                "{written:?} is a phone number that Excel turned into a number in scientific \
                 notation, and its last digits are lost; format the phone column as Text, type \
                 the numbers again (or write them as +44...), and save again"
            ),
        );
        None
    } else {
        match phone::normalise(written, country) {
            Ok(phone) => Some(phone),
            Err(err) => {
                check.fail(Field::Phone, err.to_string());
                None
            }
        }
    };
    let subscribed = match cells.get(Field::Subscribed).to_ascii_lowercase().as_str() {
        "" => None,
        "1" | "yes" | "y" | "true" => Some(true),
        "0" | "no" | "n" | "false" => Some(false),
        _ => {
            check.fail(
                Field::Subscribed,
                format!(
                    "{:?} is not a yes or no: write 1 or yes (gets shift offers), 0 or no (does \
                     not), or leave it empty (new employees get offers; existing ones keep \
                     their choice)",
                    cells.get(Field::Subscribed)
                ),
            );
            None
        }
    };
    let name = text_value(cells.get(Field::Name));
    let line = cells.line;
    check.finish(phone.map(|phone| EmployeeDraft {
        line,
        phone,
        name: (!name.is_empty()).then_some(name),
        subscribed,
    }))
}

fn campaign_row(header: &Header, cells: &Cells<'_>) -> Result<CampaignDraft, Vec<Problem>> {
    let mut check = RowCheck {
        header,
        line: cells.line,
        problems: Vec::new(),
    };
    let id = cells.get(Field::CampaignId);
    if id.is_empty() {
        check.fail(
            Field::CampaignId,
            "the campaign has no campaign_id: give every campaign a name of its own, e.g. \
             2024-06-01-weekend (it is how shiftsms knows a campaign was already sent)",
        );
    }
    let shifts = text_value(cells.get(Field::Shifts));
    if shifts.is_empty() {
        check.fail(
            Field::Shifts,
            "shifts is empty: name the shifts on offer as they should appear in the text, e.g. \
             \"XYZ123 Mon 06:00-14:00, XYZ222 Tue 14:00-22:00\"",
        );
    }
    let line = cells.line;
    check.finish(Some(CampaignDraft {
        line,
        id: id.to_string(),
        shifts,
    }))
}

/// A free-text value: trimmed, line ends as `\n` (a cell with Alt+Enter in Excel).
fn text_value(value: &str) -> String {
    value.trim().replace("\r\n", "\n").replace('\r', "\n")
}

/// `4.474E+11`, `4,47401E+11`: what Excel writes for a long number shown in scientific format.
fn looks_like_excel_scientific(value: &str) -> bool {
    let upper = value.to_ascii_uppercase();
    let Some((mantissa, exponent)) = upper.split_once("E+") else {
        return false;
    };
    !exponent.is_empty()
        && exponent.bytes().all(|b| b.is_ascii_digit())
        && mantissa
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b',')
        && mantissa.bytes().next().is_some_and(|b| b.is_ascii_digit())
}

/// A key twice in one file: which row wins is a guess, so it is a problem.
fn duplicates(header: &Header, drafts: &Drafts, problems: &mut Vec<Problem>) {
    let mut first: HashMap<String, usize> = HashMap::new();
    let mut check = |key: String, line: usize, field: Field, what: &str| {
        if let Some(earlier) = first.get(&key) {
            problems.push(Problem::at(
                line,
                header.column(field),
                format!("{what} is also on line {earlier}; list each once per file"),
            ));
        } else {
            first.insert(key, line);
        }
    };
    match drafts {
        Drafts::Shifts(rows) => rows.iter().for_each(|r| {
            check(
                r.code.to_string(),
                r.line,
                Field::ShiftId,
                &format!("shift {}", r.code),
            )
        }),
        Drafts::Employees(rows) => rows.iter().for_each(|r| {
            check(
                r.phone.to_string(),
                r.line,
                Field::Phone,
                &format!("phone number {}", r.phone),
            )
        }),
        Drafts::Campaigns(rows) => rows.iter().for_each(|r| {
            check(
                r.id.clone(),
                r.line,
                Field::CampaignId,
                &format!("campaign {:?}", r.id),
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gb() -> DefaultCountry {
        "GB".parse().unwrap()
    }

    fn ok(text: &str) -> ParsedFile {
        parse(text.as_bytes(), gb()).unwrap_or_else(|r| panic!("{text:?}: {:?}", r.problems))
    }

    fn problems(text: &str) -> Vec<String> {
        match parse(text.as_bytes(), gb()) {
            Ok(parsed) => panic!("{text:?} parsed: {parsed:?}"),
            Err(rejected) => rejected.problems.iter().map(|p| p.to_string()).collect(),
        }
    }

    fn shifts(parsed: &ParsedFile) -> &[ShiftDraft] {
        match &parsed.drafts {
            Drafts::Shifts(rows) => rows,
            other => panic!("not shifts: {other:?}"),
        }
    }

    #[test]
    fn kinds_are_recognised_by_header_in_any_case_and_delimiter() {
        let cases = [
            (
                "shift_id,shift_info\nXYZ123,Mon\n",
                Kind::Shifts,
                Delimiter::Comma,
            ),
            (
                "Shift ID;Shift Info\nXYZ123;Mon\n",
                Kind::Shifts,
                Delimiter::Semicolon,
            ),
            (
                "SHIFT_INFO\tSHIFT_ID\nMon\tXYZ123\n",
                Kind::Shifts,
                Delimiter::Tab,
            ),
            (
                "phone,name\n07400 123456,Ann\n",
                Kind::Employees,
                Delimiter::Comma,
            ),
            (
                "campaign_id;shifts\nw1;XYZ123 Mon, XYZ222 Tue\n",
                Kind::Campaigns,
                Delimiter::Semicolon,
            ),
            (
                "sep=;\nphone;name\n07400 123456;Ann\n",
                Kind::Employees,
                Delimiter::Semicolon,
            ),
            (
                "\n\n\"shift_id\",\"shift_info\"\r\nXYZ123,Mon\r\n",
                Kind::Shifts,
                Delimiter::Comma,
            ),
        ];
        for (text, kind, delimiter) in cases {
            let parsed = ok(text);
            assert_eq!(parsed.kind(), kind, "{text:?}");
            assert_eq!(parsed.delimiter, delimiter, "{text:?}");
            assert_eq!(parsed.drafts.len(), 1, "{text:?}");
        }
    }

    #[test]
    fn shift_rows() {
        let parsed = ok("shift_id,shift_info,shift_status\r\n\
                         xyz123 ,  Mon 06:00-14:00 Line 3  ,\r\n\
                         \r\n\
                         ,,\r\n\
                         A7,\"Tue, late \"\"B\"\" shift\",Available\r\n\
                         B8,,TAKEN\r\n");
        assert_eq!(
            shifts(&parsed),
            &[
                ShiftDraft {
                    line: 2,
                    code: "XYZ123".parse().unwrap(),
                    info: "Mon 06:00-14:00 Line 3".into(),
                    status: None
                },
                ShiftDraft {
                    line: 5,
                    code: "A7".parse().unwrap(),
                    info: "Tue, late \"B\" shift".into(),
                    status: Some(WantedStatus::Available)
                },
                ShiftDraft {
                    line: 6,
                    code: "B8".parse().unwrap(),
                    info: String::new(),
                    status: Some(WantedStatus::Taken)
                },
            ]
        );
        assert_eq!(
            parsed.column(Field::ShiftInfo).unwrap().to_string(),
            "column B (shift_info)"
        );
    }

    #[test]
    fn employee_rows() {
        let parsed = ok("phone;name;subscribed\n\
                         07400 123456;Zoë Smith;\n\
                         +44 7400 123457;;no\n\
                         0044 7400 123458;Bob;YES\n");
        let Drafts::Employees(rows) = &parsed.drafts else {
            panic!("{parsed:?}")
        };
        let got: Vec<_> = rows
            .iter()
            .map(|r| (r.line, r.phone.as_str(), r.name.as_deref(), r.subscribed))
            .collect();
        assert_eq!(
            got,
            vec![
                (2, "+447400123456", Some("Zoë Smith"), None),
                (3, "+447400123457", None, Some(false)),
                (4, "+447400123458", Some("Bob"), Some(true)),
            ]
        );
    }

    #[test]
    fn bad_rows_name_line_and_column() {
        let found = problems(
            "shift_id,shift_info,shift_status\n\
             XYZ123,ok,\n\
             XY-12,bad code,\n\
             AB12,x,booked\n\
             xyz123,again,\n",
        );
        assert_eq!(found.len(), 3, "{found:#?}");
        assert!(
            found[0]
                .starts_with("line 3, column A (shift_id): \"XY-12\" is not a valid shift code"),
            "{}",
            found[0]
        );
        assert!(
            found[1].starts_with("line 4, column C (shift_status): \"booked\""),
            "{}",
            found[1]
        );
        assert_eq!(
            found[2],
            "line 5, column A (shift_id): shift XYZ123 is also on line 2; list each once per file"
        );

        let found = problems(
            "phone,name,subscribed\n12345,A,\n4.474E+11,B,\n07400 123456,C,maybe\n\
             07400 123457,E,\n+447400123457,D,\n",
        );
        assert_eq!(found.len(), 4, "{found:#?}");
        assert!(
            found[0]
                .starts_with("line 2, column A (phone): \"12345\" is not a valid GB phone number"),
            "{}",
            found[0]
        );
        assert!(found[1].contains("scientific notation"), "{}", found[1]);
        assert!(
            found[2].starts_with("line 4, column C (subscribed)"),
            "{}",
            found[2]
        );
        assert!(
            found[3].contains("+447400123457 is also on line 5"),
            "{}",
            found[3]
        );

        let found = problems("campaign_id,shifts\n,XYZ123\nw2,  \n");
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(
            found[0].starts_with("line 2, column A (campaign_id)"),
            "{}",
            found[0]
        );
        assert!(
            found[1].starts_with("line 3, column B (shifts)"),
            "{}",
            found[1]
        );
    }

    #[test]
    fn header_problems() {
        let found = problems("shift_id,shift_stauts,shift_info\nA1,x,y\n");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0]
                .starts_with("line 1, column B: \"shift_stauts\" is not a column of a shifts file"),
            "{}",
            found[0]
        );

        let found = problems("shift_id\nA1\n");
        assert_eq!(
            found,
            vec![
                "line 1: a shifts file needs a shift_info column (its columns are shift_id, shift_info (optional: shift_status))"
            ]
        );

        let found = problems("shift_id,phone,shift_info\n");
        assert!(
            found[0].contains("a file holds one kind of row"),
            "{found:?}"
        );

        let found = problems("shift_id,shift_info,shift_id\nA1,x,A1\n");
        assert!(found[0].contains("appears twice"), "{found:?}");

        let found = problems("XYZ123,Mon 06:00\nXYZ124,Tue\n");
        assert!(
            found[0].starts_with("line 1: the first row must name the columns"),
            "{found:?}"
        );
        assert!(
            found[0].contains("shifts: shift_id, shift_info"),
            "{found:?}"
        );
    }

    #[test]
    fn empty_and_header_only_files() {
        assert_eq!(problems(""), vec!["the file is empty"]);
        assert_eq!(
            problems("\r\n\r\n"),
            vec!["the file has no rows at all (only blank lines)"]
        );
        assert_eq!(
            problems("\u{FEFF}shift_id,shift_info\r\n\r\n"),
            vec![
                "the file has a header row (shifts) but no rows under it, so there is nothing to import"
            ]
        );
    }

    #[test]
    fn rows_wider_than_the_header() {
        let found = problems("shift_id,shift_info\nA1,Mon, 06:00\n");
        assert_eq!(found.len(), 1);
        assert!(
            found[0].starts_with("line 2, column C: \"06:00\" is past the last column"),
            "{}",
            found[0]
        );
        assert!(found[0].contains("comma inside a value"), "{}", found[0]);
        // Empty trailing cells (Excel's formatted-but-empty columns) are fine, as is an unnamed
        // empty column.
        let parsed = ok("shift_id,shift_info,,\nA1,Mon,,\n");
        assert_eq!(shifts(&parsed).len(), 1);
        let found = problems("shift_id,shift_info,\nA1,Mon,note\n");
        assert!(found[0].contains("column with no name"), "{found:?}");
    }

    #[test]
    fn quoting_mistakes_become_problems() {
        let found = problems("shift_id,shift_info\nA1,\"open\nA2,x\n");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("line 2, column B (shift_info): a value starts with a quote"),
            "{}",
            found[0]
        );
    }

    #[test]
    fn column_letters() {
        let got: Vec<String> = [0, 1, 25, 26, 27, 51, 52, 701, 702]
            .iter()
            .map(|&i| column_letter(i))
            .collect();
        assert_eq!(got, ["A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]);
    }

    fn csvish() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            Just(b"shift_id,shift_info\r\n".to_vec()),
            Just(b"phone;name;subscribed\n".to_vec()),
            Just(b"campaign_id\tshifts\n".to_vec()),
            Just(b"\xEF\xBB\xBF".to_vec()),
            Just(b"\xFF\xFE".to_vec()),
            Just(b"\"".to_vec()),
            Just(b",".to_vec()),
            Just(b";".to_vec()),
            Just(b"\r".to_vec()),
            Just(b"\n".to_vec()),
            "[A-Za-z0-9 +]{0,12}".prop_map(String::into_bytes),
            prop::collection::vec(any::<u8>(), 0..6),
        ];
        prop::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        #[test]
        fn any_bytes_are_answered_without_panic(bytes in proptest::prelude::any::<Vec<u8>>()) {
            let _ = parse(&bytes, gb());
        }

        #[test]
        fn csv_like_bytes_are_answered_without_panic(bytes in csvish()) {
            match parse(&bytes, gb()) {
                Ok(parsed) => proptest::prop_assert!(!parsed.drafts.is_empty()),
                Err(rejected) => proptest::prop_assert!(!rejected.problems.is_empty()),
            }
        }
    }
}
