//! `shift_status`: the shifts employees can book, and who booked them.
//!
//! Shift codes are compared without regard to ASCII case (the column is `COLLATE NOCASE`), so
//! an employee texting `xyz123` books `XYZ123`; results carry the code as it is stored.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::StoreError;
use super::sql::{Time, time_text};
use crate::service::phone::E164;

/// One row of `shift_status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shift {
    /// The code as stored (its case may differ from what was asked for).
    pub id: String,
    pub info: String,
    pub status: ShiftStatus,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShiftStatus {
    Available,
    /// `by` is `None` when a person marked it taken without naming anyone; `at` is `None` when
    /// it was not booked through shiftsms.
    Taken {
        by: Option<E164>,
        at: Option<Timestamp>,
    },
}

impl ShiftStatus {
    pub fn is_available(&self) -> bool {
        matches!(self, ShiftStatus::Available)
    }
}

/// What an attempt to book one shift came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Take {
    /// This caller got it; nobody else can now.
    Booked { id: String, info: String },
    /// It exists but was taken already (`by_you`: by this same employee, e.g. a repeated text).
    AlreadyTaken { id: String, by_you: bool },
    /// No shift has this code.
    NoSuchShift,
}

/// Which shifts to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShiftFilter {
    #[default]
    All,
    Available,
    Taken,
}

/// `shift_status` within one transaction.
pub struct Shifts<'t> {
    conn: &'t Connection,
}

const COLUMNS: &str = "shift_id, shift_info, shift_status, employee, booked_at, created_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Shift> {
    let taken = row.get::<_, String>(2)? == "taken";
    Ok(Shift {
        id: row.get(0)?,
        info: row.get(1)?,
        status: if taken {
            ShiftStatus::Taken {
                // The CHECK constraint keeps this E.164; should a hand-edited row hold
                // something else anyway, the shift still reads, with nobody named.
                by: row
                    .get::<_, Option<String>>(3)?
                    .and_then(|text| E164::from_international(&text)),
                at: row.get::<_, Option<Time>>(4)?.map(|t| t.0),
            }
        } else {
            ShiftStatus::Available
        },
        created_at: row.get::<_, Time>(5)?.0,
    })
}

impl<'t> Shifts<'t> {
    pub(crate) fn new(conn: &'t Connection) -> Self {
        Shifts { conn }
    }

    /// The shift with this code, in any case.
    pub fn get(&self, code: &str) -> Result<Option<Shift>, StoreError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM shift_status WHERE shift_id = ?1"
            ))
            .and_then(|mut stmt| stmt.query_row([code], from_row).optional())
            .map_err(|e| StoreError::sql(format!("reading shift {code:?}"), e))
    }

    /// The shifts with these codes, in the order asked (`None` where no shift has the code).
    pub fn get_many(&self, codes: &[&str]) -> Result<Vec<Option<Shift>>, StoreError> {
        codes.iter().map(|code| self.get(code)).collect()
    }

    /// Shifts in the order they were added.
    pub fn list(&self, filter: ShiftFilter) -> Result<Vec<Shift>, StoreError> {
        let condition = match filter {
            ShiftFilter::All => "",
            ShiftFilter::Available => "WHERE shift_status = 'available'",
            ShiftFilter::Taken => "WHERE shift_status = 'taken'",
        };
        let sql = format!("SELECT {COLUMNS} FROM shift_status {condition} ORDER BY rowid");
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .map_err(|e| StoreError::sql("listing shifts", e))?;
        let rows = stmt
            .query_map([], from_row)
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| StoreError::sql("listing shifts", e))?;
        Ok(rows)
    }

    /// Every shift still available, in the order added (what REQUEST replies with).
    pub fn available(&self) -> Result<Vec<Shift>, StoreError> {
        self.list(ShiftFilter::Available)
    }

    /// Book `code` for `employee` if it is still available. The update is conditional on the
    /// shift being available, so of two transactions racing for one shift exactly one gets
    /// [`Take::Booked`], whatever connection or process they run in.
    pub fn take(&self, code: &str, employee: &E164, now: Timestamp) -> Result<Take, StoreError> {
        let doing = || format!("booking shift {code:?} for {employee}");
        let booked = self
            .conn
            .prepare_cached(
                "UPDATE shift_status SET shift_status = 'taken', employee = ?2, booked_at = ?3
                  WHERE shift_id = ?1 AND shift_status = 'available'
                  RETURNING shift_id, shift_info",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![code, employee.as_str(), time_text(now)], |row| {
                    Ok(Take::Booked {
                        id: row.get(0)?,
                        info: row.get(1)?,
                    })
                })
                .optional()
            })
            .map_err(|e| StoreError::sql(doing(), e))?;
        if let Some(booked) = booked {
            return Ok(booked);
        }
        Ok(match self.get(code)? {
            None => Take::NoSuchShift,
            Some(shift) => Take::AlreadyTaken {
                by_you: matches!(&shift.status, ShiftStatus::Taken { by: Some(by), .. } if by == employee),
                id: shift.id,
            },
        })
    }

    /// Add an available shift.
    pub fn add(&self, code: &str, info: &str, now: Timestamp) -> Result<(), StoreError> {
        if let Some(existing) = self.get(code)? {
            return Err(StoreError::AlreadyExists {
                what: format!("shift {}", existing.id),
            });
        }
        self.conn
            .prepare_cached(
                "INSERT INTO shift_status (shift_id, shift_info, created_at) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut stmt| stmt.execute(params![code, info, time_text(now)]))
            .map_err(|e| StoreError::sql(format!("adding shift {code:?}"), e))?;
        Ok(())
    }

    /// Delete a shift; returns it as it was, or `None` if there was none.
    pub fn remove(&self, code: &str) -> Result<Option<Shift>, StoreError> {
        let Some(shift) = self.get(code)? else {
            return Ok(None);
        };
        self.conn
            .execute("DELETE FROM shift_status WHERE shift_id = ?1", [code])
            .map_err(|e| StoreError::sql(format!("removing shift {code:?}"), e))?;
        Ok(Some(shift))
    }

    /// Make a taken shift available again (the employee cannot come after all); returns the
    /// shift as it was, or `None` if there is no such shift.
    pub fn release(&self, code: &str) -> Result<Option<Shift>, StoreError> {
        let Some(shift) = self.get(code)? else {
            return Ok(None);
        };
        self.conn
            .execute(
                "UPDATE shift_status SET shift_status = 'available', employee = NULL, booked_at = NULL
                  WHERE shift_id = ?1",
                [code],
            )
            .map_err(|e| StoreError::sql(format!("releasing shift {code:?}"), e))?;
        Ok(Some(shift))
    }
}
