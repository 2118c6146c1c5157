//! `callbacks`: an employee texted AGENT; an agent is to be put through or call them back.
//!
//! Lifecycle: `queued -> dialling -> connected -> done`, back to `queued` after a failed
//! attempt (no answer, busy, modem gone) with `next_attempt_at` pushed out, or `failed` for
//! good. A callback left `dialling` or `connected` by a crash is found by
//! [`Callbacks::interrupted`].

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::StoreError;
use super::inbox::InboundId;
use super::sql::{Labelled, Phone, Time, labels, time_text};
use crate::service::phone::E164;

/// The `id` of a `callbacks` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallbackId(pub i64);

impl std::fmt::Display for CallbackId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "callback {}", self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallbackState {
    Queued,
    Dialling,
    Connected,
    Done,
    Failed,
}

labels!(CallbackState {
    Queued => "queued",
    Dialling => "dialling",
    Connected => "connected",
    Done => "done",
    Failed => "failed",
});

/// One row of `callbacks`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Callback {
    pub id: CallbackId,
    pub employee: E164,
    /// What they said they need (the text after AGENT).
    pub request: String,
    pub inbound_id: Option<InboundId>,
    pub requested_at: Timestamp,
    pub state: CallbackState,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    /// The agent dialled last.
    pub agent: Option<E164>,
    pub outcome: Option<String>,
    pub last_error: Option<String>,
    pub updated_at: Timestamp,
}

/// `callbacks` within one transaction.
pub struct Callbacks<'t> {
    conn: &'t Connection,
}

const COLUMNS: &str = "id, employee, request, inbound_id, requested_at, state, attempts, \
                       next_attempt_at, agent, outcome, last_error, updated_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Callback> {
    Ok(Callback {
        id: CallbackId(row.get(0)?),
        employee: row.get::<_, Phone>(1)?.0,
        request: row.get(2)?,
        inbound_id: row.get::<_, Option<i64>>(3)?.map(InboundId),
        requested_at: row.get::<_, Time>(4)?.0,
        state: row.get::<_, Labelled<CallbackState>>(5)?.0,
        attempts: row.get(6)?,
        next_attempt_at: row.get::<_, Time>(7)?.0,
        agent: row.get::<_, Option<Phone>>(8)?.map(|p| p.0),
        outcome: row.get(9)?,
        last_error: row.get(10)?,
        updated_at: row.get::<_, Time>(11)?.0,
    })
}

impl<'t> Callbacks<'t> {
    pub(crate) fn new(conn: &'t Connection) -> Self {
        Callbacks { conn }
    }

    /// Queue a callback, due at once.
    pub fn queue(
        &self,
        employee: &E164,
        request: &str,
        inbound: Option<InboundId>,
        now: Timestamp,
    ) -> Result<CallbackId, StoreError> {
        let now = time_text(now);
        self.conn
            .prepare_cached(
                "INSERT INTO callbacks (employee, request, inbound_id, requested_at, next_attempt_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?4, ?4)",
            )
            .and_then(|mut stmt| {
                stmt.insert(params![employee.as_str(), request, inbound.map(|i| i.0), now])
            })
            .map(CallbackId)
            .map_err(|e| StoreError::sql(format!("queueing a callback to {employee}"), e))
    }

    pub fn get(&self, id: CallbackId) -> Result<Option<Callback>, StoreError> {
        self.conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM callbacks WHERE id = ?1"))
            .and_then(|mut stmt| stmt.query_row([id.0], from_row).optional())
            .map_err(|e| StoreError::sql(format!("reading {id}"), e))
    }

    /// The queued callback due first (oldest retry time, then oldest request).
    pub fn next_due(&self, now: Timestamp) -> Result<Option<Callback>, StoreError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM callbacks WHERE state = 'queued' AND next_attempt_at <= ?1
                  ORDER BY next_attempt_at, id LIMIT 1"
            ))
            .and_then(|mut stmt| stmt.query_row([time_text(now)], from_row).optional())
            .map_err(|e| StoreError::sql("finding the next callback", e))
    }

    /// Callbacks left `dialling` or `connected` (by a crash), oldest first.
    pub fn interrupted(&self) -> Result<Vec<Callback>, StoreError> {
        self.list_where(
            "state IN ('dialling', 'connected')",
            "finding interrupted callbacks",
        )
    }

    /// Callbacks not yet done or failed, oldest first.
    pub fn open(&self) -> Result<Vec<Callback>, StoreError> {
        self.list_where(
            "state IN ('queued', 'dialling', 'connected')",
            "listing open callbacks",
        )
    }

    fn list_where(&self, condition: &str, doing: &str) -> Result<Vec<Callback>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM callbacks WHERE {condition} ORDER BY id"
            ))
            .map_err(|e| StoreError::sql(doing, e))?;
        stmt.query_map([], from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| StoreError::sql(doing, e))
    }

    /// `queued -> dialling`: about to call `agent`. Counts an attempt.
    pub fn dialling(&self, id: CallbackId, agent: &E164, now: Timestamp) -> Result<(), StoreError> {
        self.transition(
            id,
            &[CallbackState::Queued],
            "queued",
            CallbackState::Dialling,
            "attempts = attempts + 1, agent = ?4",
            Some(agent.as_str()),
            now,
        )
    }

    /// `dialling -> connected`: the agent answered and the call is up.
    pub fn connected(&self, id: CallbackId, now: Timestamp) -> Result<(), StoreError> {
        self.transition(
            id,
            &[CallbackState::Dialling],
            "dialling",
            CallbackState::Connected,
            "last_error = NULL",
            None,
            now,
        )
    }

    /// `dialling | connected -> done`, with what came of it.
    pub fn done(&self, id: CallbackId, outcome: &str, now: Timestamp) -> Result<(), StoreError> {
        self.transition(
            id,
            &[CallbackState::Dialling, CallbackState::Connected],
            "dialling or connected",
            CallbackState::Done,
            "outcome = ?4",
            Some(outcome),
            now,
        )
    }

    /// `dialling | connected -> queued`: this attempt failed; try again at `retry_at`.
    pub fn attempt_failed(
        &self,
        id: CallbackId,
        error: &str,
        retry_at: Timestamp,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE callbacks SET state = 'queued', last_error = ?2, next_attempt_at = ?3, updated_at = ?4
                  WHERE id = ?1 AND state IN ('dialling', 'connected')",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![id.0, error, time_text(retry_at), time_text(now)])
            })
            .map_err(|e| StoreError::sql(format!("recording a failed attempt of {id}"), e))?;
        if changed == 0 {
            return Err(self.state_error(id, "dialling or connected"));
        }
        Ok(())
    }

    /// Give up (too many attempts, no agent configured): `failed` with the reason.
    pub fn fail(&self, id: CallbackId, reason: &str, now: Timestamp) -> Result<(), StoreError> {
        self.transition(
            id,
            &[
                CallbackState::Queued,
                CallbackState::Dialling,
                CallbackState::Connected,
            ],
            "queued, dialling or connected",
            CallbackState::Failed,
            "last_error = ?4",
            Some(reason),
            now,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn transition(
        &self,
        id: CallbackId,
        from: &[CallbackState],
        expected: &'static str,
        to: CallbackState,
        set: &str,
        value: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let from = from
            .iter()
            .map(|state| format!("'{state}'"))
            .collect::<Vec<_>>()
            .join(", ");
        // ?4 is referenced by `set` only when a value is given.
        let sql = format!(
            "UPDATE callbacks SET state = ?2, updated_at = ?3, {set}
              WHERE id = ?1 AND state IN ({from})"
        );
        let now = time_text(now);
        let result = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut stmt| match value {
                Some(value) => stmt.execute(params![id.0, to.as_str(), now, value]),
                None => stmt.execute(params![id.0, to.as_str(), now]),
            });
        let changed = result.map_err(|e| StoreError::sql(format!("marking {id} {to}"), e))?;
        if changed == 0 {
            return Err(self.state_error(id, expected));
        }
        Ok(())
    }

    fn state_error(&self, id: CallbackId, expected: &'static str) -> StoreError {
        match self.get(id) {
            Ok(Some(callback)) => StoreError::WrongState {
                what: id.to_string(),
                expected,
                found: callback.state.to_string(),
            },
            Ok(None) => StoreError::NotFound {
                what: id.to_string(),
            },
            Err(err) => err,
        }
    }
}
