//! `callbacks` and `callback_history`: an employee texted AGENT; an agent is to be put
//! through or call them back.
//!
//! The lifecycle (`queued -> dialling -> connected -> done`, back to `queued` for another
//! round, `failed` for good) is decided by the dialler's one transition function
//! (`daemon::callbacks::state`); this module records each change with [`Callbacks::record`]:
//! the row's columns and a line of history, in the caller's transaction, only if the row is
//! still in the state the change starts from. A callback left `dialling` or `connected` by a
//! crash is found by [`Callbacks::interrupted`].

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

/// How a change counts rounds of calls (`attempts`: every agent tried once is one round).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    Same,
    /// A new round starts.
    New,
    /// The round counted last did not really happen (the modem was away): give it back.
    GiveBack,
}

/// One change of a callback, as [`Callbacks::record`] writes it. `None` leaves a column as it
/// is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change<'a> {
    pub from: CallbackState,
    pub to: CallbackState,
    /// Why, in words, for the history (and the log line).
    pub reason: &'a str,
    pub round: Round,
    /// The agent now being called.
    pub agent: Option<&'a E164>,
    pub next_attempt_at: Option<Timestamp>,
    pub outcome: Option<&'a str>,
    /// `last_error`: what went wrong last.
    pub error: Option<&'a str>,
}

/// One line of `callback_history`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub at: Timestamp,
    /// `None` for the line that queued the callback.
    pub from: Option<CallbackState>,
    pub to: CallbackState,
    pub agent: Option<E164>,
    pub reason: String,
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
        let id = self
            .conn
            .prepare_cached(
                "INSERT INTO callbacks (employee, request, inbound_id, requested_at, next_attempt_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?4, ?4)",
            )
            .and_then(|mut stmt| {
                stmt.insert(params![employee.as_str(), request, inbound.map(|i| i.0), now])
            })
            .map(CallbackId)
            .map_err(|e| StoreError::sql(format!("queueing a callback to {employee}"), e))?;
        self.history_line(
            id,
            None,
            CallbackState::Queued,
            None,
            "AGENT text received",
            &now,
        )?;
        Ok(id)
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

    /// Record one change of a callback: its columns and a line of `callback_history`, if it
    /// is still in `change.from` (otherwise nothing is written and the state found is
    /// returned in the error). Which changes are allowed is decided by the caller's
    /// transition function; the store only refuses one made from a stale state.
    pub fn record(
        &self,
        id: CallbackId,
        change: &Change<'_>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let delta = match change.round {
            Round::Same => 0,
            Round::New => 1,
            Round::GiveBack => -1,
        };
        let at = time_text(now);
        let doing = || format!("marking {id} {} ({})", change.to, change.reason);
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE callbacks
                    SET state = ?3, updated_at = ?4, attempts = max(attempts + ?5, 0),
                        agent = coalesce(?6, agent),
                        next_attempt_at = coalesce(?7, next_attempt_at),
                        outcome = coalesce(?8, outcome),
                        last_error = coalesce(?9, last_error)
                  WHERE id = ?1 AND state = ?2",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    id.0,
                    change.from.as_str(),
                    change.to.as_str(),
                    at,
                    delta,
                    change.agent.map(E164::as_str),
                    change.next_attempt_at.map(time_text),
                    change.outcome,
                    change.error,
                ])
            })
            .map_err(|e| StoreError::sql(doing(), e))?;
        if changed == 0 {
            return Err(self.state_error(id, change.from.as_str()));
        }
        self.history_line(
            id,
            Some(change.from),
            change.to,
            change.agent,
            change.reason,
            &at,
        )
    }

    fn history_line(
        &self,
        id: CallbackId,
        from: Option<CallbackState>,
        to: CallbackState,
        agent: Option<&E164>,
        reason: &str,
        at: &str,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO callback_history (callback_id, at, old_state, new_state, agent, reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![
                    id.0,
                    at,
                    from.map(CallbackState::as_str),
                    to.as_str(),
                    agent.map(E164::as_str),
                    reason
                ])
            })
            .map_err(|e| StoreError::sql(format!("recording the history of {id}"), e))?;
        Ok(())
    }

    /// Every change of `id`, oldest first.
    pub fn history(&self, id: CallbackId) -> Result<Vec<HistoryEntry>, StoreError> {
        let doing = || format!("reading the history of {id}");
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT at, old_state, new_state, agent, reason FROM callback_history
                  WHERE callback_id = ?1 ORDER BY id",
            )
            .map_err(|e| StoreError::sql(doing(), e))?;
        stmt.query_map([id.0], |row| {
            Ok(HistoryEntry {
                at: row.get::<_, Time>(0)?.0,
                from: row
                    .get::<_, Option<Labelled<CallbackState>>>(1)?
                    .map(|l| l.0),
                to: row.get::<_, Labelled<CallbackState>>(2)?.0,
                agent: row.get::<_, Option<Phone>>(3)?.map(|p| p.0),
                reason: row.get(4)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| StoreError::sql(doing(), e))
    }

    /// Whether `agent` was already sent a message about `id` (the note goes to each agent
    /// once per callback, however many rounds it takes).
    pub fn agent_told(&self, id: CallbackId, agent: &E164) -> Result<bool, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM outbox
                                 WHERE callback_id = ?1 AND recipient = ?2 AND kind = 'agent')",
            )
            .and_then(|mut stmt| stmt.query_row(params![id.0, agent.as_str()], |row| row.get(0)))
            .map_err(|e| StoreError::sql(format!("checking whether {agent} was told of {id}"), e))
    }

    /// When the earliest queued callback falls due (maybe already), `None` when none waits.
    pub fn next_wakeup(&self) -> Result<Option<Timestamp>, StoreError> {
        self.conn
            .query_row(
                "SELECT min(next_attempt_at) FROM callbacks WHERE state = 'queued'",
                [],
                |row| Ok(row.get::<_, Option<Time>>(0)?.map(|t| t.0)),
            )
            .map_err(|e| StoreError::sql("finding when the next callback is due", e))
    }

    /// Callbacks, newest first: the open ones only, or all; at most `limit`.
    pub fn list(&self, open_only: bool, limit: u32) -> Result<Vec<Callback>, StoreError> {
        let doing = "listing callbacks";
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM callbacks
                  WHERE ?1 = 0 OR state IN ('queued', 'dialling', 'connected')
                  ORDER BY id DESC LIMIT ?2"
            ))
            .map_err(|e| StoreError::sql(doing, e))?;
        stmt.query_map(params![open_only, limit], from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| StoreError::sql(doing, e))
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
