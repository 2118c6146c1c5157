//! The writes of a CSV import ([`crate::drop::import`]): each one conditional on the row still
//! being as the import saw it when it planned (outside the write lock), so that a booking, a
//! STOP or a person's insert made in between is never overwritten. Each returns whether it
//! applied; `false` means "changed meanwhile": the importer rolls back and plans again.
//!
//! Reading what exists uses the per-table APIs ([`super::shifts::Shifts::get`], ...).

use jiff::Timestamp;
use rusqlite::{Connection, params};

use super::StoreError;
use super::sql::time_text;
use crate::service::phone::E164;

/// Import writes within one transaction.
pub struct Import<'t> {
    conn: &'t Connection,
}

impl<'t> Import<'t> {
    pub(crate) fn new(conn: &'t Connection) -> Self {
        Import { conn }
    }

    fn run(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        doing: impl FnOnce() -> String,
    ) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut stmt| stmt.execute(params))
            .map(|changed| changed == 1)
            .map_err(|e| StoreError::sql(doing(), e))
    }

    /// Add an available shift, unless one with this code (in any case) exists.
    pub fn add_shift(&self, code: &str, info: &str, now: Timestamp) -> Result<bool, StoreError> {
        self.run(
            "INSERT INTO shift_status (shift_id, shift_info, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (shift_id) DO NOTHING",
            params![code, info, time_text(now)],
            || format!("adding shift {code:?}"),
        )
    }

    /// Change the info of a shift that is still available and still reads `old`.
    pub fn set_shift_info(&self, code: &str, old: &str, new: &str) -> Result<bool, StoreError> {
        self.run(
            "UPDATE shift_status SET shift_info = ?3
              WHERE shift_id = ?1 AND shift_status = 'available' AND shift_info = ?2",
            params![code, old, new],
            || format!("changing the info of shift {code:?}"),
        )
    }

    /// Put a number on the whitelist, unless it is there already.
    pub fn add_employee(
        &self,
        phone: &E164,
        name: Option<&str>,
        subscribed: bool,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.run(
            "INSERT INTO employees (phone, name, subscribed, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (phone) DO NOTHING",
            params![phone.as_str(), name, subscribed, time_text(now)],
            || format!("adding employee {phone}"),
        )
    }

    /// Change an employee's name, if it still is `old`.
    pub fn rename_employee(
        &self,
        phone: &E164,
        old: Option<&str>,
        new: &str,
    ) -> Result<bool, StoreError> {
        self.run(
            "UPDATE employees SET name = ?3 WHERE phone = ?1 AND name IS ?2",
            params![phone.as_str(), old, new],
            || format!("renaming employee {phone}"),
        )
    }

    /// Set `subscribed` to `to` if it still is the opposite. Subscribing again someone who
    /// texted STOP is refused here too (only their START does that), whatever the plan said.
    pub fn set_employee_subscribed(&self, phone: &E164, to: bool) -> Result<bool, StoreError> {
        self.run(
            "UPDATE employees SET subscribed = ?2
              WHERE phone = ?1 AND subscribed = NOT ?2
                AND (?2 = 0 OR subscription_changed_at IS NULL)",
            params![phone.as_str(), to],
            || format!("changing the subscription of {phone}"),
        )
    }

    /// Add a campaign (status `new`: the daemon broadcasts it), unless one with this id exists.
    pub fn add_campaign(&self, id: &str, shifts: &str, now: Timestamp) -> Result<bool, StoreError> {
        self.run(
            "INSERT INTO shift_campaigns (campaign_id, shifts, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (campaign_id) DO NOTHING",
            params![id, shifts, time_text(now)],
            || format!("adding campaign {id:?}"),
        )
    }
}
