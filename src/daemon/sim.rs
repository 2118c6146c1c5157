//! The SIM side of the inbound pipeline: what is stored on the modem is read, kept (see
//! [`inbound`](super::inbound)), and only then deleted, so nothing is lost and the SIM never
//! fills up (a full SIM stops all inbound traffic, so unreadable PDUs, status reports and
//! strangers' texts are deleted too, once kept).
//!
//! Store-and-notify, as ModemManager does it: when the modem is ready (at start and after
//! every reconnect) everything stored is listed (`AT+CMGL=4`) and taken before the next
//! notification; then each `+CMTI` is read (`AT+CMGR`), and each `+CMT` kept as it comes.
//! The storage is listed again every [`Tuning::sim_poll`](super::Tuning::sim_poll), because
//! modems drop `+CMTI` (gammu and ModemManager both learnt it). Reading a slot twice is
//! harmless: the raw PDU is the key. This task also runs the multipart expiry, since it owns
//! the assembler.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::Health;
use super::db::{DbError, DbStopped};
use super::inbound::{Inbound, Received, ReceivedPdu};
use super::shutdown::Shutdown;

/// A message slot in the modem's storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// `SM`, `ME`, `MT`, `SR`...
    pub storage: String,
    pub index: u32,
}

impl std::fmt::Display for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} index {}", self.storage, self.index)
    }
}

/// The modem's message storage, as the inbound pipeline sees it.
pub trait SimStorage: Send + Sync + 'static {
    /// Everything stored (`AT+CMGL=4`).
    fn list(&self) -> impl Future<Output = Result<Vec<(Slot, ReceivedPdu)>, String>> + Send;
    /// One slot (`AT+CMGR`), `None` when empty.
    fn read(&self, slot: &Slot)
    -> impl Future<Output = Result<Option<ReceivedPdu>, String>> + Send;
    /// Free a slot (`AT+CMGD`).
    fn delete(&self, slot: &Slot) -> impl Future<Output = Result<(), String>> + Send;
}

/// What the modem told the pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimEvent {
    /// Ready, at start or after a reconnect: take everything stored.
    Ready,
    /// A message (or status report) was stored in this slot (`+CMTI`, `+CDSI`).
    Stored(Slot),
    /// A message (or status report) delivered directly (`+CMT`, `+CDS`): nothing to delete.
    Delivered(ReceivedPdu),
}

/// How often the task looks by itself.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// List the storage this often, notification or not.
    pub poll: Duration,
    /// Try again this soon after a database error.
    pub db_retry: Duration,
}

/// How long a kept message stays on the SIM before it is deleted: long enough for the reply
/// it caused to reach the modem first (the modem runs one command at a time), short enough
/// that the SIM never fills.
const DELETE_DELAY: Duration = Duration::from_millis(200);

/// The task: take what the modem reports until shutdown. `health` becomes
/// [`Health::Serving`] once the storage was emptied after the modem became ready.
pub async fn run<S: SimStorage>(
    inbound: Inbound,
    sim: S,
    mut events: mpsc::UnboundedReceiver<SimEvent>,
    timing: Timing,
    health: Arc<watch::Sender<Health>>,
    shutdown: Shutdown,
) -> Result<(), DbStopped> {
    let mut taker = Taker {
        inbound,
        sim,
        to_delete: Vec::new(),
        delete_at: None,
    };
    let mut next_poll = Instant::now() + timing.poll;
    // Set when acting on a text failed on the database: try the backlog again then.
    let mut backlog_retry: Option<Instant> = None;
    loop {
        let expiry = taker.inbound.next_deadline().map(instant_of);
        let outcome = tokio::select! {
            biased;
            _ = shutdown.requested() => {
                // The modem is stopping too. What is left was kept: the next start reads it
                // again, finds it kept, and deletes it.
                if !taker.to_delete.is_empty() {
                    tracing::debug!(
                        count = taker.to_delete.len(),
                        "kept messages left on the SIM until the next start"
                    );
                }
                return Ok(());
            }
            event = events.recv() => match event {
                None => return Ok(()),
                Some(SimEvent::Ready) => {
                    let swept = taker.sweep(&shutdown).await;
                    if swept.is_ok() {
                        tracing::info!(
                            "serving: the modem is ready and every message stored on it was taken"
                        );
                        health.send_replace(Health::Serving);
                    }
                    swept
                }
                Some(SimEvent::Stored(slot)) => taker.take_slot(slot).await,
                Some(SimEvent::Delivered(pdu)) => {
                    let received = Received {
                        storage: "direct".into(),
                        index: 0,
                        pdu,
                        read_at: Timestamp::now(),
                    };
                    taker.inbound.take(received).await.map(drop)
                }
            },
            _ = sleep_until_some(taker.delete_at) => {
                taker.delete_kept().await;
                Ok(())
            }
            _ = tokio::time::sleep_until(next_poll) => {
                next_poll = Instant::now() + timing.poll;
                taker.sweep(&shutdown).await
            }
            _ = sleep_until_some(expiry) => taker.inbound.expire(Timestamp::now()).await,
            _ = sleep_until_some(backlog_retry) => {
                backlog_retry = None;
                taker.inbound.work_backlog().await
            }
        };
        match outcome {
            Ok(()) => {}
            Err(DbError::Stopped(stopped)) => return Err(stopped),
            Err(DbError::Store(err)) => {
                tracing::error!(
                    "inbound: {err}; what is on the SIM stays there and is taken on the next look"
                );
                backlog_retry = Some(Instant::now() + timing.db_retry);
                next_poll = next_poll.min(Instant::now() + timing.db_retry);
            }
        }
    }
}

async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The tokio instant at which the wall-clock time `at` comes.
fn instant_of(at: Timestamp) -> Instant {
    let wait = at.duration_since(Timestamp::now());
    Instant::now() + Duration::try_from(wait).unwrap_or(Duration::ZERO)
}

/// The pipeline and the SIM, with the slots kept but not yet deleted.
struct Taker<S> {
    inbound: Inbound,
    sim: S,
    /// Committed to the database: safe to delete.
    to_delete: Vec<Slot>,
    /// When to delete them: [`DELETE_DELAY`] after the oldest.
    delete_at: Option<Instant>,
}

impl<S: SimStorage> Taker<S> {
    /// Take everything stored, oldest slot first; stop early (at a safe point, between two
    /// PDUs) on shutdown.
    async fn sweep(&mut self, shutdown: &Shutdown) -> Result<(), DbError> {
        let listed = match self.sim.list().await {
            Ok(listed) => listed,
            Err(err) => {
                tracing::debug!("listing stored messages: {err}");
                return Ok(());
            }
        };
        let listed: Vec<_> = listed
            .into_iter()
            .filter(|(slot, _)| !self.to_delete.contains(slot))
            .collect();
        if !listed.is_empty() {
            tracing::info!(count = listed.len(), "messages found stored on the modem");
        }
        for (slot, pdu) in listed {
            if shutdown.is_requested() {
                break;
            }
            self.keep(slot, pdu).await?;
        }
        Ok(())
    }

    async fn take_slot(&mut self, slot: Slot) -> Result<(), DbError> {
        if self.to_delete.contains(&slot) {
            // A notification for a slot kept and not yet deleted cannot be a new message.
            return Ok(());
        }
        match self.sim.read(&slot).await {
            Ok(Some(pdu)) => self.keep(slot, pdu).await,
            // Taken by a listing meanwhile.
            Ok(None) => Ok(()),
            Err(err) => {
                tracing::warn!(
                    "reading the message at {slot}: {err}; it is taken on the next look"
                );
                Ok(())
            }
        }
    }

    /// The one rule: commit first, delete after (a moment later, see [`DELETE_DELAY`]).
    async fn keep(&mut self, slot: Slot, pdu: ReceivedPdu) -> Result<(), DbError> {
        let received = Received {
            storage: slot.storage.clone(),
            index: slot.index,
            pdu,
            read_at: Timestamp::now(),
        };
        self.inbound.take(received).await?;
        self.to_delete.push(slot);
        self.delete_at
            .get_or_insert_with(|| Instant::now() + DELETE_DELAY);
        Ok(())
    }

    async fn delete_kept(&mut self) {
        self.delete_at = None;
        for slot in std::mem::take(&mut self.to_delete) {
            if let Err(err) = self.sim.delete(&slot).await {
                tracing::warn!(
                    "deleting the message at {slot}: {err}; it is kept in the database, and \
                     deleted on the next look"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests;
