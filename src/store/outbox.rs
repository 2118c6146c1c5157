//! `outbox` and `outbox_parts`: every SMS shiftsms is to send, and how far it got.
//!
//! Lifecycle of a message: `queued -> sending -> sent`, or back to `queued` after a failed
//! attempt (with `next_attempt_at` pushed out), or `failed` for good, or `cancelled` (a
//! broadcast to someone who texted STOP before it went). Parts go on the wire one at a time:
//! [`Outbox::begin_part`] records the part `sending` and is committed BEFORE `AT+CMGS`, and
//! [`Outbox::part_sent`] records its message reference after. So after a crash the store knows
//! which parts went for sure, and which one single part may be ambiguous
//! ([`Outbox::interrupted`]).
//!
//! Order: a lower [`Kind::priority`] first (an employee waiting for a reply goes before a
//! broadcast to hundreds), then the oldest. A message whose retry is not due yet does not hold
//! up the ones behind it.
//!
//! Rate limits are derived from this table rather than kept in one of their own: the rows are
//! written in the same transaction as the decision anyway, so the history cannot drift from
//! what was really queued, and it survives restarts ([`Outbox::replies_since`],
//! [`Outbox::last_queued`]).

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::StoreError;
use super::callbacks::CallbackId;
use super::inbox::InboundId;
use super::sql::{Labelled, Phone, Time, count, labels, time_text};
use crate::service::phone::E164;

/// The `id` of an outbox row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub i64);

impl std::fmt::Display for MessageId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "outbox message {}", self.0)
    }
}

/// Why a message is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An answer to an employee's text.
    Reply,
    /// "Access denied" to a number not on the whitelist (kept apart so it can be limited to
    /// one a day per number).
    Denied,
    /// To a call-centre agent about a callback.
    Agent,
    /// To operations about a problem.
    Alert,
    /// A campaign's offer to one employee.
    Broadcast,
}

labels!(Kind {
    Reply => "reply",
    Denied => "denied",
    Agent => "agent",
    Alert => "alert",
    Broadcast => "broadcast",
});

impl Kind {
    /// Lower goes first: a person waiting for this one message before bulk traffic.
    pub fn priority(self) -> i64 {
        match self {
            Kind::Reply | Kind::Denied | Kind::Agent | Kind::Alert => 0,
            Kind::Broadcast => 1,
        }
    }

    pub const ALL: [Kind; 5] = [
        Kind::Reply,
        Kind::Denied,
        Kind::Agent,
        Kind::Alert,
        Kind::Broadcast,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutboxState {
    Queued,
    Sending,
    Sent,
    Failed,
    Cancelled,
}

labels!(OutboxState {
    Queued => "queued",
    Sending => "sending",
    Sent => "sent",
    Failed => "failed",
    Cancelled => "cancelled",
});

impl OutboxState {
    pub const ALL: [OutboxState; 5] = [
        OutboxState::Queued,
        OutboxState::Sending,
        OutboxState::Sent,
        OutboxState::Failed,
        OutboxState::Cancelled,
    ];
}

/// What caused a message, recorded for audit (and so a campaign knows when it is done).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause<'a> {
    Inbound(InboundId),
    Campaign(&'a str),
    Callback(CallbackId),
}

/// A message to queue.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    pub recipient: &'a E164,
    pub text: &'a str,
    pub kind: Kind,
    pub cause: Option<Cause<'a>>,
}

/// One part of a message that went, or was going, on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// 1-based, as in the concatenation header (TS 23.040 §9.2.3.24.1).
    pub seq: u8,
    pub state: PartState,
    pub started_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartState {
    /// Recorded before `AT+CMGS`; no `+CMGS:` answer recorded yet.
    Sending,
    /// Accepted by the network with this message reference (TP-MR, TS 23.040 §9.2.3.6).
    Sent { reference: u8, at: Timestamp },
}

/// One row of `outbox` with its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundMessage {
    pub id: MessageId,
    pub recipient: E164,
    pub text: String,
    pub kind: Kind,
    pub state: OutboxState,
    /// Attempts started (a crash during one counts).
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    /// The last failure; the reason when failed or cancelled.
    pub last_error: Option<String>,
    /// How many parts the sender planned, once it started.
    pub part_count: Option<u8>,
    /// Parts recorded so far, by `seq`.
    pub parts: Vec<Part>,
    pub created_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub campaign_id: Option<String>,
    pub inbound_id: Option<InboundId>,
    pub callback_id: Option<CallbackId>,
}

impl OutboundMessage {
    /// The 8-bit concatenation reference for this message's parts: its id modulo 256, so it is
    /// the same on every attempt and after a restart, and two messages to one phone share a
    /// reference only 256 messages apart.
    pub fn concat_ref(&self) -> u8 {
        (self.id.0 & 0xff) as u8
    }

    /// The first part (1-based) not yet accepted by the network: where sending resumes.
    pub fn first_unsent_part(&self) -> u8 {
        let mut seq = 1;
        for part in &self.parts {
            if part.seq == seq && matches!(part.state, PartState::Sent { .. }) {
                seq += 1;
            } else if part.seq > seq {
                break;
            }
        }
        seq
    }

    /// The part that was on the wire when the process stopped, if any (its fate is unknown).
    pub fn part_in_flight(&self) -> Option<u8> {
        self.parts
            .iter()
            .find(|part| part.state == PartState::Sending)
            .map(|part| part.seq)
    }
}

/// What [`Outbox::part_sent`] left to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Send this part next.
    Next(u8),
    /// Every part is sent; the message is `sent`.
    Complete,
}

/// Which messages to list.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutboxFilter {
    pub state: Option<OutboxState>,
    pub kind: Option<Kind>,
    /// At most this many, the newest.
    pub limit: Option<u32>,
}

/// `outbox` within one transaction.
pub struct Outbox<'t> {
    conn: &'t Connection,
}

const COLUMNS: &str = "id, recipient, text, kind, state, attempts, next_attempt_at, last_error, \
                       part_count, created_at, finished_at, campaign_id, inbound_id, callback_id";

fn from_row(row: &Row<'_>) -> rusqlite::Result<OutboundMessage> {
    Ok(OutboundMessage {
        id: MessageId(row.get(0)?),
        recipient: row.get::<_, Phone>(1)?.0,
        text: row.get(2)?,
        kind: row.get::<_, Labelled<Kind>>(3)?.0,
        state: row.get::<_, Labelled<OutboxState>>(4)?.0,
        attempts: row.get(5)?,
        next_attempt_at: row.get::<_, Time>(6)?.0,
        last_error: row.get(7)?,
        part_count: row.get(8)?,
        parts: Vec::new(),
        created_at: row.get::<_, Time>(9)?.0,
        finished_at: row.get::<_, Option<Time>>(10)?.map(|t| t.0),
        campaign_id: row.get(11)?,
        inbound_id: row.get::<_, Option<i64>>(12)?.map(InboundId),
        callback_id: row.get::<_, Option<i64>>(13)?.map(CallbackId),
    })
}

fn part_from_row(row: &Row<'_>) -> rusqlite::Result<Part> {
    let sent = row.get::<_, String>(1)? == "sent";
    Ok(Part {
        seq: row.get(0)?,
        state: if sent {
            PartState::Sent {
                reference: row.get(2)?,
                at: row.get::<_, Time>(4)?.0,
            }
        } else {
            PartState::Sending
        },
        started_at: row.get::<_, Time>(3)?.0,
    })
}

impl<'t> Outbox<'t> {
    pub(crate) fn new(conn: &'t Connection) -> Self {
        Outbox { conn }
    }

    /// Queue a message, due at once.
    pub fn queue(&self, message: &Outgoing<'_>, now: Timestamp) -> Result<MessageId, StoreError> {
        let (campaign, inbound, callback) = match message.cause {
            None => (None, None, None),
            Some(Cause::Campaign(id)) => (Some(id), None, None),
            Some(Cause::Inbound(id)) => (None, Some(id.0), None),
            Some(Cause::Callback(id)) => (None, None, Some(id.0)),
        };
        let now = time_text(now);
        self.conn
            .prepare_cached(
                "INSERT INTO outbox (recipient, text, kind, priority, next_attempt_at, created_at,
                                     campaign_id, inbound_id, callback_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8)",
            )
            .and_then(|mut stmt| {
                stmt.insert(params![
                    message.recipient.as_str(),
                    message.text,
                    message.kind.as_str(),
                    message.kind.priority(),
                    now,
                    campaign,
                    inbound,
                    callback,
                ])
            })
            .map(MessageId)
            .map_err(|e| {
                StoreError::sql(
                    format!("queueing a {} to {}", message.kind, message.recipient),
                    e,
                )
            })
    }

    /// One message with its parts.
    pub fn get(&self, id: MessageId) -> Result<Option<OutboundMessage>, StoreError> {
        let message = self
            .conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"))
            .and_then(|mut stmt| stmt.query_row([id.0], from_row).optional())
            .map_err(|e| StoreError::sql(format!("reading {id}"), e))?;
        message.map(|m| self.with_parts(m)).transpose()
    }

    fn with_parts(&self, mut message: OutboundMessage) -> Result<OutboundMessage, StoreError> {
        let id = message.id;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT seq, state, reference, started_at, sent_at FROM outbox_parts
                  WHERE message_id = ?1 ORDER BY seq",
            )
            .map_err(|e| StoreError::sql(format!("reading the parts of {id}"), e))?;
        message.parts = stmt
            .query_map([id.0], part_from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| StoreError::sql(format!("reading the parts of {id}"), e))?;
        Ok(message)
    }

    fn many(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        doing: &str,
    ) -> Result<Vec<OutboundMessage>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .map_err(|e| StoreError::sql(doing, e))?;
        let messages: Vec<OutboundMessage> = stmt
            .query_map(params, from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| StoreError::sql(doing, e))?;
        messages.into_iter().map(|m| self.with_parts(m)).collect()
    }

    /// The message to send next: queued and due, lowest priority value first, then oldest.
    pub fn next_due(&self, now: Timestamp) -> Result<Option<OutboundMessage>, StoreError> {
        let id = self
            .conn
            .prepare_cached(
                "SELECT id FROM outbox WHERE state = 'queued' AND next_attempt_at <= ?1
                  ORDER BY priority, id LIMIT 1",
            )
            .and_then(|mut stmt| {
                stmt.query_row([time_text(now)], |row| row.get(0))
                    .optional()
            })
            .map_err(|e| StoreError::sql("finding the next message to send", e))?;
        match id {
            Some(id) => self.get(MessageId(id)),
            None => Ok(None),
        }
    }

    /// When the earliest queued message falls due (it may be now or past), so the sender can
    /// sleep until then instead of polling. `None` when nothing is queued.
    pub fn next_wakeup(&self) -> Result<Option<Timestamp>, StoreError> {
        self.conn
            .query_row(
                "SELECT min(next_attempt_at) FROM outbox WHERE state = 'queued'",
                [],
                |row| Ok(row.get::<_, Option<Time>>(0)?.map(|t| t.0)),
            )
            .map_err(|e| StoreError::sql("finding when the next message is due", e))
    }

    /// Record part `seq` of `of` as going on the wire now. Commit this before sending it.
    /// The first part of an attempt moves the message `queued -> sending` and counts the
    /// attempt. `of` must agree with what was recorded when sending started.
    pub fn begin_part(
        &self,
        id: MessageId,
        seq: u8,
        of: u8,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let message = self.require(id)?;
        if !matches!(message.state, OutboxState::Queued | OutboxState::Sending) {
            return Err(wrong_state(id, "queued or sending", message.state));
        }
        if of == 0 || seq == 0 || seq > of {
            return Err(StoreError::WrongState {
                what: format!("{id}"),
                expected: "a part number between 1 and the part count",
                found: format!("part {seq} of {of}"),
            });
        }
        if message.part_count.is_some_and(|planned| planned != of) {
            return Err(StoreError::WrongState {
                what: format!("{id}"),
                expected: "the part count it started with",
                found: format!("{of} parts, planned as {}", message.part_count.unwrap_or(0)),
            });
        }
        let already_sent = |p: &Part| p.seq == seq && matches!(p.state, PartState::Sent { .. });
        if message.parts.iter().any(already_sent) {
            return Err(StoreError::WrongState {
                what: format!("part {seq} of {id}"),
                expected: "not yet sent",
                found: "sent".into(),
            });
        }
        if let Some(other) = message.part_in_flight().filter(|&other| other != seq) {
            return Err(StoreError::WrongState {
                what: format!("{id}"),
                expected: "no other part in flight",
                found: format!("part {other} in flight"),
            });
        }
        let doing = || format!("recording part {seq} of {id} as sending");
        let now = time_text(now);
        self.conn
            .prepare_cached(
                "UPDATE outbox SET attempts = attempts + (state = 'queued'), state = 'sending',
                                   part_count = ?2
                  WHERE id = ?1",
            )
            .and_then(|mut stmt| stmt.execute(params![id.0, of]))
            .map_err(|e| StoreError::sql(doing(), e))?;
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO outbox_parts (message_id, seq, state, started_at)
                 VALUES (?1, ?2, 'sending', ?3)",
            )
            .and_then(|mut stmt| stmt.execute(params![id.0, seq, now]))
            .map_err(|e| StoreError::sql(doing(), e))?;
        Ok(())
    }

    /// The network accepted part `seq` (`+CMGS: <mr>`). When it was the last part, the
    /// message becomes `sent`.
    pub fn part_sent(
        &self,
        id: MessageId,
        seq: u8,
        reference: u8,
        now: Timestamp,
    ) -> Result<Progress, StoreError> {
        let doing = || format!("recording part {seq} of {id} as sent");
        let now = time_text(now);
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE outbox_parts SET state = 'sent', reference = ?3, sent_at = ?4
                  WHERE message_id = ?1 AND seq = ?2 AND state = 'sending'
                    AND (SELECT state FROM outbox WHERE id = ?1) = 'sending'",
            )
            .and_then(|mut stmt| stmt.execute(params![id.0, seq, reference, now]))
            .map_err(|e| StoreError::sql(doing(), e))?;
        let message = self.require(id)?;
        if changed == 0 {
            if message.state != OutboxState::Sending {
                return Err(wrong_state(id, "sending", message.state));
            }
            return Err(StoreError::WrongState {
                what: format!("part {seq} of {id}"),
                expected: "sending",
                found: "not in flight".into(),
            });
        }
        let next = message.first_unsent_part();
        if next > message.part_count.unwrap_or(0) {
            self.conn
                .prepare_cached(
                    "UPDATE outbox SET state = 'sent', finished_at = ?2, last_error = NULL WHERE id = ?1",
                )
                .and_then(|mut stmt| stmt.execute(params![id.0, now]))
                .map_err(|e| StoreError::sql(doing(), e))?;
            return Ok(Progress::Complete);
        }
        Ok(Progress::Next(next))
    }

    /// An attempt failed (`+CMS ERROR`, timeout, modem gone): back to `queued`, due again at
    /// `retry_at`. The part that was in flight is forgotten, so the next attempt sends it again;
    /// parts already sent stay sent.
    pub fn attempt_failed(
        &self,
        id: MessageId,
        error: &str,
        retry_at: Timestamp,
    ) -> Result<(), StoreError> {
        let doing = || format!("recording a failed attempt of {id}");
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE outbox SET state = 'queued', last_error = ?2, next_attempt_at = ?3
                  WHERE id = ?1 AND state = 'sending'",
            )
            .and_then(|mut stmt| stmt.execute(params![id.0, error, time_text(retry_at)]))
            .map_err(|e| StoreError::sql(doing(), e))?;
        if changed == 0 {
            return Err(self.state_error(id, "sending"));
        }
        self.forget_parts_in_flight(id)
    }

    /// The attempt never reached the modem (it was unplugged, or its SIM not ready): back to
    /// `queued`, due at once, and the attempt is not counted, so a modem that is away for a
    /// day does not use up a message's attempts. The part in flight is forgotten.
    pub fn withdraw_attempt(&self, id: MessageId, reason: &str) -> Result<(), StoreError> {
        let doing = || format!("withdrawing the attempt of {id}");
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE outbox SET state = 'queued', last_error = ?2, attempts = max(attempts - 1, 0)
                  WHERE id = ?1 AND state = 'sending'",
            )
            .and_then(|mut stmt| stmt.execute(params![id.0, reason]))
            .map_err(|e| StoreError::sql(doing(), e))?;
        if changed == 0 {
            return Err(self.state_error(id, "sending"));
        }
        self.forget_parts_in_flight(id)
    }

    /// Give up on a queued or sending message (too many attempts, an impossible recipient).
    pub fn fail(&self, id: MessageId, reason: &str, now: Timestamp) -> Result<(), StoreError> {
        self.finish(id, OutboxState::Failed, reason, now)
    }

    /// Withdraw a queued message before it is sent.
    pub fn cancel(&self, id: MessageId, reason: &str, now: Timestamp) -> Result<(), StoreError> {
        let message = self.require(id)?;
        if message.state != OutboxState::Queued {
            return Err(wrong_state(id, "queued", message.state));
        }
        self.finish(id, OutboxState::Cancelled, reason, now)
    }

    fn finish(
        &self,
        id: MessageId,
        to: OutboxState,
        reason: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE outbox SET state = ?2, last_error = ?3, finished_at = ?4
                  WHERE id = ?1 AND state IN ('queued', 'sending')",
            )
            .and_then(|mut stmt| stmt.execute(params![id.0, to.as_str(), reason, time_text(now)]))
            .map_err(|e| StoreError::sql(format!("marking {id} {to}"), e))?;
        if changed == 0 {
            return Err(self.state_error(id, "queued or sending"));
        }
        self.forget_parts_in_flight(id)
    }

    fn forget_parts_in_flight(&self, id: MessageId) -> Result<(), StoreError> {
        self.conn
            .prepare_cached("DELETE FROM outbox_parts WHERE message_id = ?1 AND state = 'sending'")
            .and_then(|mut stmt| stmt.execute([id.0]))
            .map_err(|e| StoreError::sql(format!("clearing the part in flight of {id}"), e))?;
        Ok(())
    }

    /// Cancel every queued broadcast to `recipient` (they texted STOP). Returns how many.
    pub fn cancel_broadcasts_to(
        &self,
        recipient: &E164,
        reason: &str,
        now: Timestamp,
    ) -> Result<usize, StoreError> {
        self.conn
            .prepare_cached(
                "UPDATE outbox SET state = 'cancelled', last_error = ?2, finished_at = ?3
                  WHERE recipient = ?1 AND kind = 'broadcast' AND state = 'queued'",
            )
            .and_then(|mut stmt| stmt.execute(params![recipient.as_str(), reason, time_text(now)]))
            .map_err(|e| StoreError::sql(format!("cancelling broadcasts to {recipient}"), e))
    }

    /// Messages left `sending` (by a crash: in normal running the sender finishes or fails
    /// each one before taking the next). Their [`OutboundMessage::part_in_flight`] may or may
    /// not have reached the network.
    pub fn interrupted(&self) -> Result<Vec<OutboundMessage>, StoreError> {
        self.many(
            &format!("SELECT {COLUMNS} FROM outbox WHERE state = 'sending' ORDER BY id"),
            [],
            "finding messages interrupted while sending",
        )
    }

    /// Replies (of any reply kind: [`Kind::Reply`], [`Kind::Denied`]) queued to `recipient`
    /// since `since`, not counting cancelled ones: for the per-number reply rate limit.
    pub fn replies_since(&self, recipient: &E164, since: Timestamp) -> Result<u32, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT count(*) FROM outbox
                  WHERE recipient = ?1 AND kind IN ('reply', 'denied') AND created_at >= ?2
                    AND state <> 'cancelled'",
            )
            .and_then(|mut stmt| {
                stmt.query_row(params![recipient.as_str(), time_text(since)], |row| {
                    row.get(0)
                })
            })
            .map_err(|e| StoreError::sql(format!("counting replies to {recipient}"), e))
    }

    /// When a message of `kind` was last queued to `recipient` (for "access denied at most
    /// once a day": `last_queued(number, Kind::Denied)`).
    pub fn last_queued(
        &self,
        recipient: &E164,
        kind: Kind,
    ) -> Result<Option<Timestamp>, StoreError> {
        self.conn
            .prepare_cached("SELECT max(created_at) FROM outbox WHERE recipient = ?1 AND kind = ?2")
            .and_then(|mut stmt| {
                stmt.query_row(params![recipient.as_str(), kind.as_str()], |row| {
                    Ok(row.get::<_, Option<Time>>(0)?.map(|t| t.0))
                })
            })
            .map_err(|e| StoreError::sql(format!("finding the last {kind} to {recipient}"), e))
    }

    /// Messages, newest first, filtered.
    pub fn list(&self, filter: OutboxFilter) -> Result<Vec<OutboundMessage>, StoreError> {
        self.many(
            &format!(
                "SELECT {COLUMNS} FROM outbox
                  WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR kind = ?2)
                  ORDER BY id DESC LIMIT ?3"
            ),
            params![
                filter.state.map(OutboxState::as_str),
                filter.kind.map(Kind::as_str),
                filter.limit.map_or(-1, i64::from),
            ],
            "listing the outbox",
        )
    }

    /// How many messages there are of each kind in each state (pairs with none are left out).
    pub fn counts(&self) -> Result<Vec<(Kind, OutboxState, u64)>, StoreError> {
        let doing = "counting the outbox";
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT kind, state, count(*) FROM outbox GROUP BY kind, state ORDER BY min(priority), kind, state",
            )
            .map_err(|e| StoreError::sql(doing, e))?;
        stmt.query_map([], |row| {
            Ok((
                row.get::<_, Labelled<Kind>>(0)?.0,
                row.get::<_, Labelled<OutboxState>>(1)?.0,
                count(row.get(2)?),
            ))
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| StoreError::sql(doing, e))
    }

    fn require(&self, id: MessageId) -> Result<OutboundMessage, StoreError> {
        self.get(id)?.ok_or(StoreError::NotFound {
            what: id.to_string(),
        })
    }

    fn state_error(&self, id: MessageId, expected: &'static str) -> StoreError {
        match self.get(id) {
            Ok(Some(message)) => wrong_state(id, expected, message.state),
            Ok(None) => StoreError::NotFound {
                what: id.to_string(),
            },
            Err(err) => err,
        }
    }
}

fn wrong_state(id: MessageId, expected: &'static str, found: OutboxState) -> StoreError {
    StoreError::WrongState {
        what: id.to_string(),
        expected,
        found: found.to_string(),
    }
}
