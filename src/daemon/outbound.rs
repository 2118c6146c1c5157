//! The outbox sender: drains `outbox` one part at a time through the modem.
//!
//! Order is the store's ([`Outbox::next_due`](crate::store::outbox::Outbox::next_due)):
//! replies before broadcasts, then the oldest, so an employee waiting for a booking
//! confirmation is not stuck behind 500 offers. Between two submissions it waits
//! `outbox.pause` (operators throttle, and take a SIM that sends too fast for a spammer).
//!
//! Each part: [`begin_part`](crate::store::outbox::Outbox::begin_part) is committed BEFORE
//! `AT+CMGS`, its outcome after. The outcomes:
//! - accepted (`+CMGS: <mr>`): recorded; the next part, or the message is `sent`;
//! - refused (`+CMS ERROR`, no prompt): nothing went out; the attempt counts, and the message
//!   is retried after `outbox.retry_backoff`, doubled each time, until `outbox.max_attempts`,
//!   then `failed` with the reason;
//! - modem unavailable (unplugged, SIM not ready): nothing went out; the attempt does not
//!   count, and the message waits for the modem;
//! - in doubt (the PDU was written, no answer): see [`in_flight`](super::in_flight).
//!
//! A crash therefore leaves at most the one part that was on the wire in doubt, and
//! [`in_flight::recover`](super::in_flight::recover) settles it at the next start.
//! The modem is behind [`Transmitter`], so all of this is tested with a fake.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use super::alerts::Alerter;
use super::campaigns;
use super::db::{self, Db, DbError, DbStopped};
use super::in_flight::{self, Doubt, Resolution};
use super::lease::{ModemLease, SmsTurn};
use super::shutdown::Shutdown;
use crate::config::OutboxSettings;
use crate::logging;
use crate::modem::pdu::{Address, EncodeError, Pdu, SubmitOptions, encode_submit};
use crate::store::outbox::{MessageId, OutboundMessage, Progress};
use crate::store::{Store, StoreError};

/// Wait after the modem refused a part as unavailable, before looking again.
const UNAVAILABLE_PAUSE: Duration = Duration::from_millis(500);

/// Why a part did not go out, sorted by what it means for a retry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransmitError {
    /// The modem refused it or never prompted for it: nothing was sent. Counts as an attempt.
    #[error("{0}")]
    Refused(String),
    /// The modem is not there (unplugged, restarting, SIM not ready): nothing was sent, and
    /// the attempt is not counted.
    #[error("{0}")]
    Unavailable(String),
    /// The PDU was written and no outcome came: it may have gone out.
    #[error("{0}")]
    InDoubt(String),
}

/// The modem as the sender sees it.
pub trait Transmitter: Send + Sync + 'static {
    /// Completes when the modem can take a message (at once when it can now).
    fn ready(&self) -> impl Future<Output = ()> + Send;

    /// Send one part (`AT+CMGS`) and return its message reference (TS 23.040 §9.2.3.6).
    /// Runs to the modem's final answer: it is never abandoned between the prompt and the
    /// answer.
    fn transmit(&self, part: &Pdu) -> impl Future<Output = Result<u8, TransmitError>> + Send;
}

/// The PDUs of `message`, with its own concatenation reference, so a retry and a resend after
/// a restart carry the same one.
pub fn encode(message: &OutboundMessage) -> Result<Vec<Pdu>, EncodeError> {
    let to = Address::international(message.recipient.digits());
    let options = SubmitOptions {
        concat_reference: message.concat_ref(),
        ..SubmitOptions::default()
    };
    encode_submit(&to, &message.text, &options)
}

/// The sender task's state.
pub struct OutboxSender<T> {
    pub db: Db,
    pub transmitter: T,
    pub settings: OutboxSettings,
    /// Poked when something was queued.
    pub wake: Arc<Notify>,
    pub shutdown: Shutdown,
    /// Wait after a database error before trying again.
    pub db_retry: Duration,
    /// Raises the send-failures and campaign-finished alerts (none: not raised).
    pub alerts: Option<Arc<Alerter>>,
    /// Shared with the callback dialler: a part waits while a call is set up.
    pub lease: ModemLease,
    last_submission: Option<Instant>,
}

/// How a message's turn ended.
enum Turn {
    Done,
    /// Shutdown was asked for at a safe point.
    Stopping,
}

impl<T: Transmitter> OutboxSender<T> {
    pub fn new(
        db: Db,
        transmitter: T,
        settings: OutboxSettings,
        wake: Arc<Notify>,
        shutdown: Shutdown,
        db_retry: Duration,
    ) -> Self {
        OutboxSender {
            db,
            transmitter,
            settings,
            wake,
            shutdown,
            db_retry,
            alerts: None,
            lease: ModemLease::new(),
            last_submission: None,
        }
    }

    /// Share `lease` with the callback dialler, so no part goes out while a call is set up.
    pub fn with_lease(self, lease: ModemLease) -> Self {
        OutboxSender { lease, ..self }
    }

    /// Raise alerts: repeated send failures (in the transaction that fails a message for
    /// good) and campaigns finished.
    pub fn with_alerts(mut self, alerts: Arc<Alerter>) -> Self {
        self.alerts = Some(alerts);
        self
    }

    /// Settle what a previous run left on the wire, then send until shutdown.
    pub async fn run(mut self) -> Result<(), DbStopped> {
        loop {
            match self
                .db
                .run(|store| in_flight::recover(store, Timestamp::now()))
                .await
            {
                Ok(recovered) => {
                    for message in &recovered.in_doubt {
                        tracing::warn!(
                            outbox_id = message.id.0,
                            phone = %logging::phone(&message.recipient),
                            kind = %message.kind,
                            "message in doubt: shiftsms stopped while it was on the wire; it is \
                             not sent again (a second copy is worse): ask {} whether it arrived",
                            logging::phone(&message.recipient)
                        );
                    }
                    for message in &recovered.resent {
                        tracing::info!(
                            outbox_id = message.id.0,
                            phone = %logging::phone(&message.recipient),
                            "multipart message interrupted on the wire: its part in doubt is \
                             sent again with the same reference"
                        );
                    }
                    for message in &recovered.resumed {
                        tracing::info!(
                            outbox_id = message.id.0,
                            phone = %logging::phone(&message.recipient),
                            "multipart message interrupted between parts: resuming"
                        );
                    }
                    break;
                }
                Err(DbError::Stopped(stopped)) => return Err(stopped),
                Err(DbError::Store(err)) => {
                    tracing::error!(
                        "settling interrupted messages: {err}; trying again",
                        err = logging::scrub(&err)
                    );
                    if !self.shutdown.nap(self.db_retry).await {
                        return Ok(());
                    }
                }
            }
        }
        let mut changes = self.db.changes();
        loop {
            if self.shutdown.is_requested() {
                return Ok(());
            }
            tokio::select! {
                biased;
                _ = self.shutdown.requested() => return Ok(()),
                _ = self.transmitter.ready() => {}
            }
            let now = Timestamp::now();
            let next = self
                .db
                .run(move |store| store.read()?.outbox().next_due(now))
                .await;
            let turn = match next {
                Ok(Some(message)) => self.send(message).await,
                Ok(None) => {
                    self.idle(&mut changes).await?;
                    Ok(Turn::Done)
                }
                Err(err) => Err(err),
            };
            match turn {
                Ok(Turn::Done) => {}
                Ok(Turn::Stopping) => return Ok(()),
                Err(DbError::Stopped(stopped)) => return Err(stopped),
                Err(DbError::Store(err)) => {
                    tracing::error!(
                        "outbox: {err}; trying again shortly",
                        err = logging::scrub(&err)
                    );
                    if !self.shutdown.nap(self.db_retry).await {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Nothing due: wait for a queued message, another connection's commit, the next retry
    /// time, or shutdown.
    async fn idle(&mut self, changes: &mut watch::Receiver<u64>) -> Result<(), DbStopped> {
        let wakeup = match self
            .db
            .run(|store| store.read()?.outbox().next_wakeup())
            .await
        {
            Ok(wakeup) => wakeup,
            Err(DbError::Stopped(stopped)) => return Err(stopped),
            Err(DbError::Store(err)) => {
                tracing::error!("outbox: {err}", err = logging::scrub(&err));
                None
            }
        };
        db::idle_until(
            wakeup,
            Timestamp::now(),
            &self.wake,
            changes,
            &self.shutdown,
        )
        .await
    }

    /// Record what became of a part that went to the modem. A lock held by a person past the
    /// busy timeout is waited out (the outcome is known only here, in memory; given up, the
    /// part would count as in doubt at the next start), unless shutdown comes first.
    async fn record<R, F>(&self, what: &str, job: F) -> Result<R, DbError>
    where
        F: FnOnce(&mut Store) -> Result<R, StoreError> + Send + Clone + 'static,
        R: Send + 'static,
    {
        loop {
            match self.db.run(job.clone()).await {
                Err(DbError::Store(err)) if err.is_locked() => {
                    tracing::warn!("{what}: {err}; trying again", err = logging::scrub(&err));
                    if !self.shutdown.nap(self.db_retry).await {
                        return Err(DbError::Store(err));
                    }
                }
                other => return other,
            }
        }
    }

    /// Keep `outbox.pause` between two submissions; `false` if shutdown came meanwhile.
    async fn throttle(&self) -> bool {
        match self.last_submission {
            Some(last) => {
                let until = last + self.settings.pause;
                tokio::select! {
                    biased;
                    _ = self.shutdown.requested() => false,
                    _ = tokio::time::sleep_until(until) => true,
                }
            }
            None => !self.shutdown.is_requested(),
        }
    }

    /// The modem for one part, once no call is being set up; `None` if shutdown came first.
    /// Taken before the part is recorded `sending`, so a part never waits for a call while
    /// it counts as on the wire.
    async fn turn(&self) -> Option<SmsTurn> {
        if self.lease.call_in_progress() {
            tracing::debug!("a callback is using the modem: SMS wait until it is free");
        }
        tokio::select! {
            biased;
            _ = self.shutdown.requested() => None,
            turn = self.lease.sms() => Some(turn),
        }
    }

    /// Send `message` from its first unsent part until it is sent, or this attempt ends.
    async fn send(&mut self, message: OutboundMessage) -> Result<Turn, DbError> {
        let id = message.id;
        let pdus = match encode(&message) {
            Ok(pdus) => pdus,
            Err(err) => {
                let reason = format!("cannot be encoded as SMS: {err}");
                tracing::error!(outbox_id = id.0, phone = %logging::phone(&message.recipient), "message failed: {reason}");
                self.db
                    .run(move |store| {
                        let tx = store.transaction()?;
                        tx.outbox().fail(id, &reason, Timestamp::now())?;
                        tx.commit()
                    })
                    .await?;
                return Ok(Turn::Done);
            }
        };
        // encode_submit refuses more than 255 parts.
        let of = u8::try_from(pdus.len()).unwrap_or(u8::MAX);
        let attempt = message.attempts + 1;
        let mut seq = message.first_unsent_part();
        // Whether this turn moved the message to `sending` (and must put it back if it stops).
        let mut begun = false;
        loop {
            let Some(pdu) = pdus.get(usize::from(seq) - 1) else {
                // Sent parts beyond what the text encodes to: the text was edited by hand.
                let reason = format!("part {seq} of a {of}-part text: the text changed");
                self.db
                    .run(move |store| {
                        let tx = store.transaction()?;
                        tx.outbox().fail(id, &reason, Timestamp::now())?;
                        tx.commit()
                    })
                    .await?;
                return Ok(Turn::Done);
            };
            let turn = match self.throttle().await {
                true => self.turn().await,
                false => None,
            };
            let Some(turn) = turn else {
                if begun {
                    self.requeue(
                        id,
                        format!("shiftsms stopped between two parts; resuming at part {seq}"),
                    )
                    .await?;
                }
                return Ok(Turn::Stopping);
            };
            let began = self
                .db
                .run(move |store| {
                    let tx = store.transaction()?;
                    tx.outbox().begin_part(id, seq, of, Timestamp::now())?;
                    tx.commit()
                })
                .await;
            match began {
                Ok(()) => begun = true,
                // Cancelled (STOP) or changed by a person since it was picked: leave it.
                Err(DbError::Store(StoreError::WrongState { found, .. })) => {
                    tracing::info!(outbox_id = id.0, "not sent: it is {found} now");
                    return Ok(Turn::Done);
                }
                Err(err) => return Err(err),
            }
            let result = self.transmitter.transmit(pdu).await;
            drop(turn);
            self.last_submission = Some(Instant::now());
            match result {
                Ok(reference) => {
                    let progress = self
                        .record("recording a sent part", move |store| {
                            let tx = store.transaction()?;
                            let progress =
                                tx.outbox()
                                    .part_sent(id, seq, reference, Timestamp::now())?;
                            tx.commit()?;
                            Ok(progress)
                        })
                        .await?;
                    match progress {
                        Progress::Next(next) => seq = next,
                        Progress::Complete => {
                            self.finished(&message, of, "sent", None).await?;
                            return Ok(Turn::Done);
                        }
                    }
                }
                Err(TransmitError::Unavailable(reason)) => {
                    tracing::info!(
                        outbox_id = id.0,
                        "not sent, the modem is unavailable ({reason}); it waits for the modem"
                    );
                    self.record("recording a withdrawn attempt", move |store| {
                        let tx = store.transaction()?;
                        tx.outbox().withdraw_attempt(id, &reason)?;
                        tx.commit()
                    })
                    .await?;
                    // The modem said it was ready a moment ago: give it time to say otherwise
                    // rather than spin.
                    if !self.shutdown.nap(UNAVAILABLE_PAUSE).await {
                        return Ok(Turn::Stopping);
                    }
                    return Ok(Turn::Done);
                }
                Err(TransmitError::Refused(reason)) => {
                    self.refused(&message, attempt, reason).await?;
                    return Ok(Turn::Done);
                }
                Err(TransmitError::InDoubt(why)) => {
                    let doubt_message = message.clone();
                    let attempts_left = attempt < self.settings.max_attempts;
                    let retry_at = self.retry_at(attempt);
                    let resolution = self
                        .record("recording a part in doubt", move |store| {
                            let tx = store.transaction()?;
                            let doubt = Doubt {
                                seq,
                                of,
                                why: &why,
                                attempts_left,
                                retry_at,
                            };
                            let resolution = in_flight::resolve(
                                &tx.outbox(),
                                &doubt_message,
                                doubt,
                                Timestamp::now(),
                            )?;
                            tx.commit()?;
                            Ok(resolution)
                        })
                        .await?;
                    match resolution {
                        Resolution::GaveUp(reason) | Resolution::Exhausted(reason) => {
                            // The reason names the recipient (it is kept whole in the database).
                            tracing::warn!(
                                outbox_id = id.0,
                                phone = %logging::phone(&message.recipient),
                                "message {}",
                                logging::scrub(&reason)
                            );
                            self.finished(&message, of, "in doubt", Some(&reason))
                                .await?;
                        }
                        Resolution::Resend { seq } => tracing::warn!(
                            outbox_id = id.0,
                            phone = %logging::phone(&message.recipient),
                            "part {seq} of {of} in doubt: it will be sent again with the same \
                             reference"
                        ),
                    }
                    return Ok(Turn::Done);
                }
            }
        }
    }

    fn retry_at(&self, attempt: u32) -> Timestamp {
        let delay = self.settings.retry_delay(attempt);
        Timestamp::now()
            .checked_add(SignedDuration::try_from(delay).unwrap_or(SignedDuration::MAX))
            .unwrap_or(Timestamp::MAX)
    }

    async fn requeue(&self, id: MessageId, why: String) -> Result<(), DbError> {
        self.record("putting a message back in the queue", move |store| {
            let tx = store.transaction()?;
            tx.outbox().attempt_failed(id, &why, Timestamp::now())?;
            tx.commit()
        })
        .await
    }

    /// A `+CMS ERROR` or a missing prompt: retry with backoff, or give up.
    async fn refused(
        &self,
        message: &OutboundMessage,
        attempt: u32,
        reason: String,
    ) -> Result<(), DbError> {
        let id = message.id;
        let max = self.settings.max_attempts;
        if attempt >= max {
            let reason = format!("{reason} (attempt {attempt} of {max}; giving up)");
            tracing::error!(
                outbox_id = id.0,
                phone = %logging::phone(&message.recipient),
                "message failed for good: {reason}"
            );
            let stored = reason.clone();
            let alerts = self.alerts.clone();
            self.record("recording a failed message", move |store| {
                let now = Timestamp::now();
                let tx = store.transaction()?;
                tx.outbox().fail(id, &stored, now)?;
                if let Some(alerts) = &alerts {
                    alerts.after_send_failure(&tx, now)?;
                }
                tx.commit()
            })
            .await?;
            let parts = u8::try_from(encode(message).map_or(1, |p| p.len())).unwrap_or(1);
            return self.finished(message, parts, "failed", Some(&reason)).await;
        }
        let delay = self.settings.retry_delay(attempt);
        let retry_at = self.retry_at(attempt);
        tracing::warn!(
            outbox_id = id.0,
            phone = %logging::phone(&message.recipient),
            "attempt {attempt} of {max} failed ({reason}); retrying in {}s",
            delay.as_secs()
        );
        self.record("recording a failed attempt", move |store| {
            let tx = store.transaction()?;
            tx.outbox().attempt_failed(id, &reason, retry_at)?;
            tx.commit()
        })
        .await
    }

    /// Log the end of a message (with its campaign's progress) and finish its campaign if
    /// this was the last one.
    async fn finished(
        &self,
        message: &OutboundMessage,
        parts: u8,
        how: &'static str,
        reason: Option<&str>,
    ) -> Result<(), DbError> {
        let Some(campaign) = message.campaign_id.clone() else {
            if how == "sent" {
                tracing::info!(
                    outbox_id = message.id.0,
                    phone = %logging::phone(&message.recipient),
                    kind = %message.kind,
                    parts,
                    "sent"
                );
            }
            return Ok(());
        };
        let id = campaign.clone();
        // Counting a campaign's progress reads every one of its rows: done for each message
        // it made a 10,000-recipient campaign quadratic (61 SMS/s and falling, against 300+),
        // so the count is logged every PROGRESS_EVERY messages and when the campaign ends.
        let count = message.id.0 % PROGRESS_EVERY == 0;
        let alerts = self.alerts.clone();
        let (progress, finished) = self
            .db
            .run(move |store| {
                let progress = if count {
                    Some(store.read()?.campaigns().progress(&id)?)
                } else {
                    None
                };
                let finished =
                    campaigns::finish_completed(store, alerts.as_deref(), Timestamp::now())?;
                Ok((progress, finished))
            })
            .await?;
        let reason = reason.map_or_else(String::new, |r| format!(" ({r})"));
        match progress {
            Some(progress) => tracing::info!(
                outbox_id = message.id.0,
                phone = %logging::phone(&message.recipient),
                kind = %message.kind,
                parts,
                campaign_id = %campaign,
                "{how}{reason}; campaign {campaign}: {} sent, {} not sent, {} remaining",
                progress.sent,
                progress.not_sent,
                progress.pending
            ),
            None => tracing::info!(
                outbox_id = message.id.0,
                phone = %logging::phone(&message.recipient),
                kind = %message.kind,
                parts,
                campaign_id = %campaign,
                "{how}{reason}"
            ),
        }
        for (id, progress) in finished {
            campaigns::log_finished(&id, &progress);
        }
        Ok(())
    }
}

/// A campaign's progress is counted and logged once per this many of its messages.
const PROGRESS_EVERY: i64 = 100;

#[cfg(test)]
mod tests;
