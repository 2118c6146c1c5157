//! `inbound_pdus` and `inbound_messages`: what the modem received.
//!
//! The inbound pipeline, each step its own committed transaction, so a crash at any point
//! loses nothing and doubles nothing:
//! 1. read a PDU from the SIM, decode it (pure), [`Inbox::store_pdu`] it with its decoded
//!    fields, commit; only then delete it from the SIM. Reading it again after a crash gives
//!    [`PduInsert::Duplicate`]: the raw PDU is the key.
//! 2. a single-part PDU, or the last missing part of a concatenated one
//!    ([`Inbox::waiting_parts`]), becomes a complete message: [`Inbox::assemble`] (usually in
//!    the same transaction as step 1).
//! 3. act on each [`Inbox::unprocessed`] message in ONE transaction with its effects, ending
//!    with [`Inbox::mark_processed`].
//!
//! After a restart, [`Inbox::pending_pdus`] gives the parts still waiting for their siblings
//! and [`Inbox::unprocessed`] the messages not yet acted on.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::StoreError;
use super::sql::{Labelled, Time, count, labels, time_text};
use crate::service::phone::{E164, Sender};

/// The `id` of an `inbound_pdus` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PduId(pub i64);

/// The `id` of an `inbound_messages` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InboundId(pub i64);

impl std::fmt::Display for InboundId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "inbound message {}", self.0)
    }
}

/// A PDU as read from the modem (`+CMGL` / `+CMGR`, TS 27.005 §3.4.2 / §3.4.3).
#[derive(Debug, Clone, Copy)]
pub struct RawPdu<'a> {
    /// The preferred message storage it was read from (`SM`, `ME`, `MT`).
    pub storage: &'a str,
    /// Its index there (reused by the SIM after deletion, so not a key).
    pub index: u32,
    /// The PDU bytes exactly as the modem gave them (hex-decoded).
    pub bytes: &'a [u8],
    pub read_at: Timestamp,
}

/// What the codec made of a PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    Part(DecodedPart),
    /// Kept (and deleted from the SIM) so it cannot block the SIM, with the reason for a
    /// field engineer.
    Undecodable {
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedPart {
    /// The originating address as decoded (`+447400123456`, `40404`, `Vodafone`).
    pub sender: String,
    /// Service-centre time stamp (TS 23.040 §9.2.3.11).
    pub sent_at: Option<Timestamp>,
    pub text: String,
    /// `None` for a single-part message.
    pub concat: Option<Concat>,
}

/// Concatenation header fields (TS 23.040 §9.2.3.24.1 with 8-bit, §9.2.3.24.8 with 16-bit
/// reference).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Concat {
    pub reference: u16,
    pub total: u8,
    /// 1-based.
    pub seq: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PduStatus {
    /// Single part, not yet made into a message.
    New,
    /// A part of a concatenated message whose other parts have not all arrived.
    PartWaiting,
    /// Made into a message.
    Assembled,
    /// Its message was acted on.
    Processed,
    Undecodable,
}

labels!(PduStatus {
    New => "new",
    PartWaiting => "part_waiting",
    Assembled => "assembled",
    Processed => "processed",
    Undecodable => "undecodable",
});

/// What [`Inbox::store_pdu`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PduInsert {
    Stored(PduId),
    /// This exact PDU was stored before (read twice): nothing was written.
    Duplicate(PduId),
}

impl PduInsert {
    pub fn id(self) -> PduId {
        match self {
            PduInsert::Stored(id) | PduInsert::Duplicate(id) => id,
        }
    }
}

/// A stored PDU not yet part of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingPdu {
    pub id: PduId,
    pub status: PduStatus,
    pub part: DecodedPart,
    pub read_at: Timestamp,
}

/// A stored PDU waiting for assembly, as the modem gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingRaw {
    pub id: PduId,
    pub bytes: Vec<u8>,
    pub read_at: Timestamp,
}

/// A complete text to record.
#[derive(Debug, Clone, Copy)]
pub struct NewInbound<'a> {
    pub sender: &'a Sender,
    pub text: &'a str,
    /// Service-centre time stamp of the first part.
    pub sent_at: Option<Timestamp>,
    pub received_at: Timestamp,
}

/// One row of `inbound_messages`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    pub id: InboundId,
    pub sender: Sender,
    pub text: String,
    pub sent_at: Option<Timestamp>,
    pub received_at: Timestamp,
    /// `None` until acted on.
    pub processed: Option<Processed>,
}

/// What was done with an inbound message, for audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    pub at: Timestamp,
    /// What the text was understood as (`book`, `request`, `stop`, `denied`, ...).
    pub command: String,
    /// A one-line summary of what was done (`booked XYZ123; taken: XYZ222`).
    pub outcome: String,
}

/// `inbound_pdus` and `inbound_messages` within one transaction.
pub struct Inbox<'t> {
    conn: &'t Connection,
}

fn sender_columns(sender: &Sender) -> (&str, &'static str) {
    match sender {
        Sender::Phone(number) => (number.as_str(), "phone"),
        Sender::ShortCode(code) => (code, "short_code"),
        Sender::Alphanumeric(name) => (name, "alphanumeric"),
        Sender::Unrecognised(address) => (address, "unrecognised"),
    }
}

fn sender_from_columns(address: String, kind: &str) -> Result<Sender, String> {
    Ok(match kind {
        "phone" => Sender::Phone(
            E164::from_international(&address)
                .ok_or_else(|| format!("sender {address:?} is not an E.164 number"))?,
        ),
        "short_code" => Sender::ShortCode(address),
        "alphanumeric" => Sender::Alphanumeric(address),
        "unrecognised" => Sender::Unrecognised(address),
        other => return Err(format!("sender_kind {other:?} is not known")),
    })
}

const MESSAGE_COLUMNS: &str =
    "id, sender, sender_kind, text, sent_at, received_at, processed_at, command, outcome";

fn message_from_row(row: &Row<'_>) -> rusqlite::Result<InboundMessage> {
    let kind: String = row.get(2)?;
    let sender = sender_from_columns(row.get(1)?, &kind).map_err(|message| {
        rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, message.into())
    })?;
    let processed = match row.get::<_, Option<Time>>(6)? {
        Some(at) => Some(Processed {
            at: at.0,
            command: row.get::<_, Option<String>>(7)?.unwrap_or_default(),
            outcome: row.get::<_, Option<String>>(8)?.unwrap_or_default(),
        }),
        None => None,
    };
    Ok(InboundMessage {
        id: InboundId(row.get(0)?),
        sender,
        text: row.get(3)?,
        sent_at: row.get::<_, Option<Time>>(4)?.map(|t| t.0),
        received_at: row.get::<_, Time>(5)?.0,
        processed,
    })
}

impl<'t> Inbox<'t> {
    pub(crate) fn new(conn: &'t Connection) -> Self {
        Inbox { conn }
    }

    /// Record a PDU read from the modem, unless this exact PDU was recorded before. Status:
    /// `new` for a single part, `part_waiting` for a concatenated part, `undecodable`.
    pub fn store_pdu(&self, raw: &RawPdu<'_>, decoded: &Decoded) -> Result<PduInsert, StoreError> {
        let doing = || {
            format!(
                "storing the PDU read from {} index {}",
                raw.storage, raw.index
            )
        };
        let existing = self
            .conn
            .prepare_cached("SELECT id FROM inbound_pdus WHERE pdu = ?1")
            .and_then(|mut stmt| stmt.query_row([raw.bytes], |row| row.get(0)).optional())
            .map_err(|e| StoreError::sql(doing(), e))?;
        if let Some(id) = existing {
            return Ok(PduInsert::Duplicate(PduId(id)));
        }
        let (status, part, error) = match decoded {
            Decoded::Undecodable { reason } => {
                (PduStatus::Undecodable, None, Some(reason.as_str()))
            }
            Decoded::Part(part) if part.concat.is_some() => {
                (PduStatus::PartWaiting, Some(part), None)
            }
            Decoded::Part(part) => (PduStatus::New, Some(part), None),
        };
        let concat = part.and_then(|p| p.concat);
        self.conn
            .prepare_cached(
                "INSERT INTO inbound_pdus (pdu, storage, sim_index, read_at, status, sender, sent_at,
                                           text, concat_ref, concat_total, concat_seq, error)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )
            .and_then(|mut stmt| {
                stmt.insert(params![
                    raw.bytes,
                    raw.storage,
                    raw.index,
                    time_text(raw.read_at),
                    status.as_str(),
                    part.map(|p| p.sender.as_str()),
                    part.and_then(|p| p.sent_at).map(time_text),
                    part.map(|p| p.text.as_str()),
                    concat.map(|c| c.reference),
                    concat.map(|c| c.total),
                    concat.map(|c| c.seq),
                    error,
                ])
            })
            .map(|id| PduInsert::Stored(PduId(id)))
            .map_err(|e| StoreError::sql(doing(), e))
    }

    /// The stored parts of the concatenated message (`sender`, `reference`, `total`) still
    /// waiting to be assembled, by `seq` (duplicates of one `seq` are all returned; the
    /// assembler picks one).
    pub fn waiting_parts(
        &self,
        sender: &str,
        reference: u16,
        total: u8,
    ) -> Result<Vec<PendingPdu>, StoreError> {
        self.pending(
            "AND sender = ?1 AND concat_ref = ?2 AND concat_total = ?3 ORDER BY concat_seq, id",
            params![sender, reference, total],
        )
    }

    /// Every stored PDU not yet part of a message (single parts not yet assembled, parts
    /// waiting for their siblings), oldest first: the assembler's state after a restart.
    pub fn pending_pdus(&self) -> Result<Vec<PendingPdu>, StoreError> {
        self.pending("ORDER BY id", [])
    }

    fn pending(
        &self,
        rest: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<PendingPdu>, StoreError> {
        let doing = "reading PDUs waiting for assembly";
        let sql = format!(
            "SELECT id, status, sender, sent_at, text, concat_ref, concat_total, concat_seq, read_at
               FROM inbound_pdus WHERE status IN ('new', 'part_waiting') {rest}"
        );
        let mut stmt = self
            .conn
            .prepare_cached(&sql)
            .map_err(|e| StoreError::sql(doing, e))?;
        stmt.query_map(params, |row| {
            let concat = match row.get::<_, Option<u16>>(5)? {
                Some(reference) => Some(Concat {
                    reference,
                    total: row.get(6)?,
                    seq: row.get(7)?,
                }),
                None => None,
            };
            Ok(PendingPdu {
                id: PduId(row.get(0)?),
                status: row.get::<_, Labelled<PduStatus>>(1)?.0,
                part: DecodedPart {
                    sender: row.get(2)?,
                    sent_at: row.get::<_, Option<Time>>(3)?.map(|t| t.0),
                    text: row.get(4)?,
                    concat,
                },
                read_at: row.get::<_, Time>(8)?.0,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| StoreError::sql(doing, e))
    }

    /// The raw bytes of every stored PDU not yet part of a message (the rows of
    /// [`Inbox::pending_pdus`]), oldest first. After a restart the daemon decodes them again
    /// (decoding is pure) to rebuild its multipart assembler from the PDUs themselves, with
    /// every field the codec gives (the sender's type of number among them).
    pub fn pending_raw(&self) -> Result<Vec<PendingRaw>, StoreError> {
        let doing = "reading the raw PDUs waiting for assembly";
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, pdu, read_at FROM inbound_pdus
                  WHERE status IN ('new', 'part_waiting') ORDER BY id",
            )
            .map_err(|e| StoreError::sql(doing, e))?;
        stmt.query_map([], |row| {
            Ok(PendingRaw {
                id: PduId(row.get(0)?),
                bytes: row.get(1)?,
                read_at: row.get::<_, Time>(2)?.0,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| StoreError::sql(doing, e))
    }

    /// Take a stored part out of assembly for good (a second copy of a part already waiting,
    /// a sequence number outside its message): it becomes `undecodable` with `reason`, so it
    /// is kept for a field engineer and never waits again.
    pub fn set_aside(&self, id: PduId, reason: &str) -> Result<(), StoreError> {
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE inbound_pdus SET status = 'undecodable', error = ?2
                  WHERE id = ?1 AND status IN ('new', 'part_waiting')",
            )
            .and_then(|mut stmt| stmt.execute(params![id.0, reason]))
            .map_err(|e| StoreError::sql(format!("setting inbound PDU {} aside", id.0), e))?;
        if changed == 0 {
            return Err(StoreError::WrongState {
                what: format!("inbound PDU {}", id.0),
                expected: "new or part_waiting",
                found: "another status, or missing".into(),
            });
        }
        Ok(())
    }

    /// Record the complete message made of `pdus` (in order) and mark those PDUs assembled.
    /// Each must be `new` or `part_waiting`: a PDU is part of one message only.
    pub fn assemble(
        &self,
        pdus: &[PduId],
        message: &NewInbound<'_>,
    ) -> Result<InboundId, StoreError> {
        let (sender, kind) = sender_columns(message.sender);
        let doing = || format!("recording the message from {sender}");
        // Check every PDU before writing anything, so a refusal leaves the transaction as it was.
        for pdu in pdus {
            let status: Option<String> = self
                .conn
                .prepare_cached("SELECT status FROM inbound_pdus WHERE id = ?1")
                .and_then(|mut stmt| stmt.query_row([pdu.0], |row| row.get(0)).optional())
                .map_err(|e| StoreError::sql(doing(), e))?;
            match status.as_deref() {
                Some("new" | "part_waiting") => {}
                found => {
                    return Err(StoreError::WrongState {
                        what: format!("inbound PDU {}", pdu.0),
                        expected: "new or part_waiting",
                        found: found.unwrap_or("missing").to_string(),
                    });
                }
            }
        }
        let id = self
            .conn
            .prepare_cached(
                "INSERT INTO inbound_messages (sender, sender_kind, text, sent_at, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut stmt| {
                stmt.insert(params![
                    sender,
                    kind,
                    message.text,
                    message.sent_at.map(time_text),
                    time_text(message.received_at),
                ])
            })
            .map_err(|e| StoreError::sql(doing(), e))?;
        let mut mark = self
            .conn
            .prepare_cached(
                "UPDATE inbound_pdus SET status = 'assembled', message_id = ?2 WHERE id = ?1",
            )
            .map_err(|e| StoreError::sql(doing(), e))?;
        for pdu in pdus {
            mark.execute(params![pdu.0, id])
                .map_err(|e| StoreError::sql(doing(), e))?;
        }
        Ok(InboundId(id))
    }

    pub fn get(&self, id: InboundId) -> Result<Option<InboundMessage>, StoreError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {MESSAGE_COLUMNS} FROM inbound_messages WHERE id = ?1"
            ))
            .and_then(|mut stmt| stmt.query_row([id.0], message_from_row).optional())
            .map_err(|e| StoreError::sql(format!("reading {id}"), e))
    }

    /// Messages not yet acted on, oldest first.
    pub fn unprocessed(&self) -> Result<Vec<InboundMessage>, StoreError> {
        self.messages(
            &format!(
                "SELECT {MESSAGE_COLUMNS} FROM inbound_messages WHERE processed_at IS NULL ORDER BY id"
            ),
            [],
        )
    }

    /// The latest messages, newest first.
    pub fn recent(&self, limit: u32) -> Result<Vec<InboundMessage>, StoreError> {
        self.messages(
            &format!("SELECT {MESSAGE_COLUMNS} FROM inbound_messages ORDER BY id DESC LIMIT ?1"),
            [limit],
        )
    }

    fn messages(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<InboundMessage>, StoreError> {
        let doing = "reading inbound messages";
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .map_err(|e| StoreError::sql(doing, e))?;
        stmt.query_map(params, message_from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| StoreError::sql(doing, e))
    }

    /// Record that the message was acted on (do it in the transaction that holds the effects).
    /// Fails if it was already processed, so the effects of a second run roll back.
    pub fn mark_processed(
        &self,
        id: InboundId,
        command: &str,
        outcome: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let doing = || format!("marking {id} processed");
        let now = time_text(now);
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE inbound_messages SET processed_at = ?2, command = ?3, outcome = ?4
                  WHERE id = ?1 AND processed_at IS NULL",
            )
            .and_then(|mut stmt| stmt.execute(params![id.0, now, command, outcome]))
            .map_err(|e| StoreError::sql(doing(), e))?;
        if changed == 0 {
            return Err(match self.get(id)? {
                None => StoreError::NotFound {
                    what: id.to_string(),
                },
                Some(_) => StoreError::WrongState {
                    what: id.to_string(),
                    expected: "not yet processed",
                    found: "processed".into(),
                },
            });
        }
        self.conn
            .prepare_cached("UPDATE inbound_pdus SET status = 'processed' WHERE message_id = ?1")
            .and_then(|mut stmt| stmt.execute([id.0]))
            .map_err(|e| StoreError::sql(doing(), e))?;
        Ok(())
    }

    /// How many inbound messages are not yet processed, and how many PDUs wait for assembly.
    pub fn backlog(&self) -> Result<(u64, u64), StoreError> {
        self.conn
            .query_row(
                "SELECT (SELECT count(*) FROM inbound_messages WHERE processed_at IS NULL),
                        (SELECT count(*) FROM inbound_pdus WHERE status IN ('new', 'part_waiting'))",
                [],
                |row| Ok((count(row.get(0)?), count(row.get(1)?))),
            )
            .map_err(|e| StoreError::sql("counting the inbox backlog", e))
    }
}
