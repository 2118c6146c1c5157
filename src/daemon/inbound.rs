//! The inbound pipeline from a PDU read off the SIM to a message acted on (the modem side,
//! listing, reading and deleting, is in `sim.rs`).
//!
//! For each PDU the modem hands over:
//! 1. decode it (pure; anything unreadable is still kept, with the reason);
//! 2. [`Inbox::store_pdu`](crate::store::inbox::Inbox::store_pdu) and commit. Only after
//!    this commit ([`Inbound::take`] returned `Ok`) may the caller delete it from the SIM; a PDU read
//!    twice (the process died between storing and deleting) is a duplicate by its raw bytes
//!    and is not acted on again;
//! 3. push it into the multipart [`Assembler`]; a single SMS or the last missing part gives a
//!    whole message;
//! 4. in ONE transaction: record the message, [`act`] on it (rules, reply queued, marked
//!    processed), commit. If acting fails (a person holding a lock past the busy timeout),
//!    the message is recorded alone and acted on by [`Inbound::work_backlog`] later.
//!
//! The assembler lives in memory; its state is the set of stored PDUs still `new` or
//! `part_waiting`, so [`Inbound::restore`] rebuilds it after a restart by decoding those PDUs
//! again. A group still incomplete [`Tuning::part_timeout`](super::Tuning::part_timeout)
//! after its latest part is acted on with what arrived ([`Inbound::expire`]), so a lost part
//! never leaves an employee without an answer.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::Notify;

use super::db::{Db, DbError};
use super::process::{Acted, ReplyFate, Rules, act};
use crate::logging;
use crate::modem::pdu::{self, Address, Assembled, Assembler, Incoming, TypeOfNumber};
use crate::service::command::{self, Command};
use crate::service::phone::{AddressKind, DefaultCountry, Sender, classify_sender};
use crate::store::inbox::{
    Concat, Decoded, DecodedPart, InboundId, InboundMessage, NewInbound, PduId, PduInsert, RawPdu,
};
use crate::store::{Store, StoreError};

/// A PDU as the modem gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// Where it was stored (`SM`, `ME`, ...), or `direct` for a `+CMT` delivery.
    pub storage: String,
    pub index: u32,
    pub pdu: ReceivedPdu,
    pub read_at: Timestamp,
}

/// The PDU line: bytes, or the line itself when it was not hexadecimal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceivedPdu {
    Bytes(Vec<u8>),
    BadHex(String),
}

impl ReceivedPdu {
    /// What is stored as the raw PDU (the line's own bytes when it was not hexadecimal).
    fn raw(&self) -> &[u8] {
        match self {
            ReceivedPdu::Bytes(bytes) => bytes,
            ReceivedPdu::BadHex(line) => line.as_bytes(),
        }
    }
}

/// A part for the assembler.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PartOf {
    sender: Address,
    concat: Option<pdu::Concat>,
    text: String,
    sent_at: Option<Timestamp>,
}

/// What the assembler carries for each part: its row and its service-centre time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PartId {
    pdu: PduId,
    sent_at: Option<Timestamp>,
}

/// Decode a PDU into what the store records and, for a text, the part to assemble.
fn decode(pdu: &ReceivedPdu) -> (Decoded, Option<PartOf>) {
    let undecodable = |reason: String| (Decoded::Undecodable { reason }, None);
    let bytes = match pdu {
        ReceivedPdu::Bytes(bytes) => bytes,
        ReceivedPdu::BadHex(_) => {
            return undecodable("the modem listed a PDU line that is not hexadecimal".into());
        }
    };
    let deliver = match pdu::decode_incoming(bytes) {
        Ok(Incoming::Deliver(deliver)) => deliver,
        // The store has no status of its own for these: they are kept, set apart from
        // messages, with what they are as the reason.
        Ok(Incoming::StatusReport(report)) => {
            return undecodable(format!(
                "an SMS-STATUS-REPORT (TS 23.040 §9.2.2.3) for message reference {}, not a text",
                report.message_reference
            ));
        }
        Err(err) => return undecodable(err.to_string()),
    };
    if deliver.is_silent() {
        return undecodable(
            "a silent SMS (TP-PID 0x40, TS 23.040 §9.2.3.9): the network checking the SIM is \
             reachable; never shown nor answered"
                .into(),
        );
    }
    let sent_at = deliver.timestamp.to_jiff();
    let record = Decoded::Part(DecodedPart {
        sender: deliver.sender.to_string(),
        sent_at,
        text: deliver.text.clone(),
        concat: deliver.concat.map(|c| Concat {
            reference: c.reference,
            total: c.total,
            seq: c.seq,
        }),
    });
    let part = PartOf {
        sender: deliver.sender,
        concat: deliver.concat,
        text: deliver.text,
        sent_at,
    };
    (record, Some(part))
}

/// Who sent it, as far as answering is concerned (TS 23.040 §9.1.2.5 type of number).
pub fn classify(address: &Address, country: DefaultCountry) -> Sender {
    let kind = match address.kind {
        TypeOfNumber::International => AddressKind::International,
        TypeOfNumber::National => AddressKind::National,
        TypeOfNumber::Alphanumeric => AddressKind::Alphanumeric,
        TypeOfNumber::Unknown | TypeOfNumber::Other(_) => AddressKind::Other,
    };
    classify_sender(&address.to_string(), kind, country)
}

/// What became of a PDU handed to [`Inbound::take`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// Stored now (and acted on, if it completed a message).
    Kept(PduId),
    /// Stored before: read twice. Nothing was done again.
    Duplicate(PduId),
}

/// The pipeline's state: the database, the rules and the assembler of multipart messages.
pub struct Inbound {
    db: Db,
    rules: Arc<Rules>,
    country: DefaultCountry,
    assembler: Assembler<PartId>,
    /// Whole messages out of the assembler whose recording failed on the database (a lock
    /// held past the busy timeout): recorded by the next [`Inbound::work_backlog`].
    unrecorded: Vec<Assembled<PartId>>,
    /// Poked whenever a reply was queued, so the sender does not wait for its next look.
    outbox: Arc<Notify>,
    /// Poked when an AGENT text was acted on, so the callback dialler looks at once.
    callbacks: Option<Arc<Notify>>,
}

impl Inbound {
    /// Rebuild the assembler from the parts stored before a restart, then act on every
    /// message recorded but not yet acted on.
    pub async fn restore(
        db: Db,
        rules: Arc<Rules>,
        country: DefaultCountry,
        part_timeout: Duration,
        outbox: Arc<Notify>,
    ) -> Result<Inbound, DbError> {
        let mut inbound = Inbound {
            db,
            rules,
            country,
            assembler: Assembler::new(part_timeout),
            unrecorded: Vec::new(),
            outbox,
            callbacks: None,
        };
        let pending = inbound
            .db
            .run(|store| store.read()?.inbox().pending_raw())
            .await?;
        if !pending.is_empty() {
            tracing::info!(
                parts = pending.len(),
                "reassembling stored PDUs not yet part of a message"
            );
        }
        for stored in pending {
            let (_, part) = decode(&ReceivedPdu::Bytes(stored.bytes));
            match part {
                Some(part) => inbound.assemble(stored.id, part, stored.read_at).await?,
                None => {
                    // It decoded when it was stored; a codec that changed its mind since
                    // must not leave it waiting for ever.
                    let id = stored.id;
                    inbound
                        .db
                        .run(move |store| {
                            let tx = store.transaction()?;
                            tx.inbox()
                                .set_aside(id, "no longer decodes as a text after an upgrade")?;
                            tx.commit()
                        })
                        .await?;
                }
            }
        }
        inbound.work_backlog().await?;
        Ok(inbound)
    }

    /// Keep one PDU (see the module documentation). On `Ok` it is committed: the caller
    /// may delete it from the SIM.
    pub async fn take(&mut self, received: Received) -> Result<Taken, DbError> {
        let (record, part) = decode(&received.pdu);
        if let Decoded::Undecodable { reason } = &record {
            tracing::warn!(
                storage = %received.storage,
                index = received.index,
                "kept a PDU that is not a text: {reason}"
            );
        }
        let read_at = received.read_at;
        let insert = self
            .db
            .run(move |store| {
                let tx = store.transaction()?;
                let raw = RawPdu {
                    storage: &received.storage,
                    index: received.index,
                    bytes: received.pdu.raw(),
                    read_at: received.read_at,
                };
                let insert = tx.inbox().store_pdu(&raw, &record)?;
                tx.commit()?;
                Ok(insert)
            })
            .await?;
        match insert {
            PduInsert::Duplicate(id) => {
                tracing::info!(
                    pdu = id.0,
                    "PDU already kept (read twice, or the very same text again within the second)"
                );
                Ok(Taken::Duplicate(id))
            }
            PduInsert::Stored(id) => {
                if let Some(part) = part {
                    self.assemble(id, part, read_at).await?;
                }
                Ok(Taken::Kept(id))
            }
        }
    }

    async fn assemble(
        &mut self,
        id: PduId,
        part: PartOf,
        read_at: Timestamp,
    ) -> Result<(), DbError> {
        let pushed = self.assembler.push(pdu::Part {
            id: PartId {
                pdu: id,
                sent_at: part.sent_at,
            },
            sender: part.sender,
            concat: part.concat,
            text: part.text,
            received: read_at,
        });
        match pushed {
            Ok(Some(message)) => self.record_and_act(message).await,
            Ok(None) => Ok(()),
            Err(rejected) => {
                let reason = rejected.to_string();
                tracing::warn!(pdu = id.0, "part set aside: {reason}");
                self.db
                    .run(move |store| {
                        let tx = store.transaction()?;
                        tx.inbox().set_aside(rejected.id.pdu, &reason)?;
                        tx.commit()
                    })
                    .await
            }
        }
    }

    /// Act on every group of parts that waited too long for its last part, with the parts
    /// that did arrive.
    pub async fn expire(&mut self, now: Timestamp) -> Result<(), DbError> {
        for message in self.assembler.expire(now) {
            let sender = classify(&message.sender, self.country);
            tracing::warn!(
                phone = %logging::sender(&sender),
                missing = ?message.missing,
                "multipart text incomplete after waiting; acting on the parts received"
            );
            self.record_and_act(message).await?;
        }
        Ok(())
    }

    /// When [`Inbound::expire`] has something to do next.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.assembler.next_deadline()
    }

    /// Record the message and act on it in one transaction (kept in memory to try again if
    /// the database refuses).
    async fn record_and_act(&mut self, message: Assembled<PartId>) -> Result<(), DbError> {
        let rules = self.rules.clone();
        let sender = classify(&message.sender, self.country);
        let attempt = message.clone();
        let from = sender.clone();
        let recorded = self
            .db
            .run(move |store| record_and_act(store, &attempt, &from, &rules))
            .await;
        match recorded {
            Ok(Some((id, acted))) => self.acted(id, &sender, &message.text, &acted),
            Ok(None) => {}
            Err(err) => {
                self.unrecorded.push(message);
                return Err(err);
            }
        }
        Ok(())
    }

    /// Record what could not be recorded, then act on every message recorded but not acted
    /// on (after a restart, or after acting failed on a lock), oldest first.
    pub async fn work_backlog(&mut self) -> Result<(), DbError> {
        let mut waiting = std::mem::take(&mut self.unrecorded).into_iter();
        while let Some(message) = waiting.next() {
            if let Err(err) = self.record_and_act(message).await {
                // That one is back in the list; keep the others too, in order.
                self.unrecorded.extend(waiting);
                return Err(err);
            }
        }
        let rules = self.rules.clone();
        let done = self
            .db
            .run(move |store| {
                let waiting = store.read()?.inbox().unprocessed()?;
                let mut done = Vec::with_capacity(waiting.len());
                for message in waiting {
                    let now = Timestamp::now();
                    let tx = store.transaction()?;
                    let acted = act(&tx, &message, &rules, now)?;
                    tx.commit()?;
                    done.push((message, acted));
                }
                Ok(done)
            })
            .await?;
        for (message, acted) in done {
            self.acted(message.id, &message.sender, &message.text, &acted);
        }
        Ok(())
    }

    /// Poke `notify` whenever an AGENT text was acted on (a callback may have been queued).
    pub fn wake_on_callback(&mut self, notify: Arc<Notify>) {
        self.callbacks = Some(notify);
    }

    fn acted(&self, id: InboundId, sender: &Sender, text: &str, acted: &Acted) {
        if acted.command == "agent"
            && let Some(callbacks) = &self.callbacks
        {
            callbacks.notify_one();
        }
        let phone = logging::sender(sender);
        let codes = shift_codes(text);
        let shift_codes = codes.as_deref();
        match &acted.reply {
            ReplyFate::Queued(reply) => {
                tracing::info!(
                    inbound_id = id.0,
                    %phone,
                    command = acted.command,
                    shift_codes,
                    outcome = %acted.outcome,
                    outbox_id = reply.0,
                    "text acted on; reply queued"
                );
                self.outbox.notify_one();
            }
            ReplyFate::Suppressed(why) => tracing::warn!(
                inbound_id = id.0,
                %phone,
                command = acted.command,
                shift_codes,
                outcome = %acted.outcome,
                "text acted on; reply suppressed: {why}"
            ),
            ReplyFate::None => tracing::info!(
                inbound_id = id.0,
                %phone,
                command = acted.command,
                shift_codes,
                outcome = %acted.outcome,
                "text acted on; no reply"
            ),
        }
    }
}

/// The shift codes a booking text names, comma-separated, for the log's `shift_codes` field
/// (`None` when the text is not a booking).
fn shift_codes(text: &str) -> Option<String> {
    match command::parse(text) {
        Command::Book(codes) => Some(
            codes
                .iter()
                .map(|code| code.as_str())
                .collect::<Vec<_>>()
                .join(","),
        ),
        _ => None,
    }
}

/// One transaction: record the assembled message and act on it. When acting fails the
/// message is recorded alone (a second transaction), left for the backlog, and `None`
/// returned.
fn record_and_act(
    store: &mut Store,
    message: &Assembled<PartId>,
    sender: &Sender,
    rules: &Rules,
) -> Result<Option<(InboundId, Acted)>, StoreError> {
    let now = Timestamp::now();
    let ids: Vec<PduId> = message.ids.iter().map(|part| part.pdu).collect();
    let new = NewInbound {
        sender,
        text: &message.text,
        sent_at: message.ids.first().and_then(|part| part.sent_at),
        received_at: message.received,
    };
    tracing::debug!(phone = %logging::sender(sender), text = %message.text, "text received");
    let tx = store.transaction()?;
    let id = tx.inbox().assemble(&ids, &new)?;
    let inbound = InboundMessage {
        id,
        sender: sender.clone(),
        text: message.text.clone(),
        sent_at: new.sent_at,
        received_at: new.received_at,
        processed: None,
    };
    match act(&tx, &inbound, rules, now) {
        Ok(acted) => {
            tx.commit()?;
            Ok(Some((id, acted)))
        }
        Err(err) => {
            drop(tx);
            tracing::error!(
                phone = %logging::sender(sender),
                "acting on the text from {} failed ({err}); it is kept and will be acted on \
                 later",
                logging::sender(sender),
                err = logging::scrub(&err)
            );
            let tx = store.transaction()?;
            tx.inbox().assemble(&ids, &new)?;
            tx.commit()?;
            Ok(None)
        }
    }
}

#[cfg(test)]
mod tests;
