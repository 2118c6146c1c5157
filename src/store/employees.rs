//! `employees`: the whitelist (who may use the service) and the broadcast audience (who is
//! subscribed to shift offers).

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::StoreError;
use super::sql::{Phone, Time, time_text};
use crate::service::phone::E164;

/// One row of `employees`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Employee {
    pub phone: E164,
    pub name: Option<String>,
    /// Wants shift offers (STOP clears it, START sets it).
    pub subscribed: bool,
    pub created_at: Timestamp,
    /// When STOP or START last changed `subscribed`.
    pub subscription_changed_at: Option<Timestamp>,
}

/// What a STOP or START did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subscription {
    Changed,
    /// It was already so (a second STOP).
    Unchanged,
    /// The number is not an employee.
    NotAnEmployee,
}

/// `employees` within one transaction.
pub struct Employees<'t> {
    conn: &'t Connection,
}

const COLUMNS: &str = "phone, name, subscribed, created_at, subscription_changed_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Employee> {
    Ok(Employee {
        phone: row.get::<_, Phone>(0)?.0,
        name: row.get(1)?,
        subscribed: row.get::<_, i64>(2)? != 0,
        created_at: row.get::<_, Time>(3)?.0,
        subscription_changed_at: row.get::<_, Option<Time>>(4)?.map(|t| t.0),
    })
}

impl<'t> Employees<'t> {
    pub(crate) fn new(conn: &'t Connection) -> Self {
        Employees { conn }
    }

    /// The employee with this number, if it is on the whitelist.
    pub fn get(&self, phone: &E164) -> Result<Option<Employee>, StoreError> {
        self.conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM employees WHERE phone = ?1"))
            .and_then(|mut stmt| stmt.query_row([phone.as_str()], from_row).optional())
            .map_err(|e| StoreError::sql(format!("reading employee {phone}"), e))
    }

    /// Every employee, by phone number.
    pub fn list(&self) -> Result<Vec<Employee>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM employees ORDER BY phone"))
            .map_err(|e| StoreError::sql("listing employees", e))?;
        stmt.query_map([], from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| StoreError::sql("listing employees", e))
    }

    /// The numbers of every subscribed employee (a campaign's audience), by phone number.
    pub fn subscribed(&self) -> Result<Vec<E164>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT phone FROM employees WHERE subscribed = 1 ORDER BY phone")
            .map_err(|e| StoreError::sql("listing subscribed employees", e))?;
        stmt.query_map([], |row| Ok(row.get::<_, Phone>(0)?.0))
            .and_then(|rows| rows.collect())
            .map_err(|e| StoreError::sql("listing subscribed employees", e))
    }

    /// Put a number on the whitelist, subscribed.
    pub fn add(&self, phone: &E164, name: Option<&str>, now: Timestamp) -> Result<(), StoreError> {
        if self.get(phone)?.is_some() {
            return Err(StoreError::AlreadyExists {
                what: format!("employee {phone}"),
            });
        }
        self.conn
            .prepare_cached("INSERT INTO employees (phone, name, created_at) VALUES (?1, ?2, ?3)")
            .and_then(|mut stmt| stmt.execute(params![phone.as_str(), name, time_text(now)]))
            .map_err(|e| StoreError::sql(format!("adding employee {phone}"), e))?;
        Ok(())
    }

    /// Take a number off the whitelist; returns the employee as they were, if they existed.
    /// Their past bookings keep their number.
    pub fn remove(&self, phone: &E164) -> Result<Option<Employee>, StoreError> {
        let Some(employee) = self.get(phone)? else {
            return Ok(None);
        };
        self.conn
            .execute("DELETE FROM employees WHERE phone = ?1", [phone.as_str()])
            .map_err(|e| StoreError::sql(format!("removing employee {phone}"), e))?;
        Ok(Some(employee))
    }

    /// STOP (`false`) or START (`true`).
    pub fn set_subscribed(
        &self,
        phone: &E164,
        subscribed: bool,
        now: Timestamp,
    ) -> Result<Subscription, StoreError> {
        let Some(employee) = self.get(phone)? else {
            return Ok(Subscription::NotAnEmployee);
        };
        if employee.subscribed == subscribed {
            return Ok(Subscription::Unchanged);
        }
        self.conn
            .prepare_cached(
                "UPDATE employees SET subscribed = ?2, subscription_changed_at = ?3 WHERE phone = ?1",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![phone.as_str(), subscribed, time_text(now)])
            })
            .map_err(|e| StoreError::sql(format!("changing subscription of {phone}"), e))?;
        Ok(Subscription::Changed)
    }
}
