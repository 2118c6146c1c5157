//! The campaign watcher: a row added to `shift_campaigns` by anyone (sqlite3, a CSV, the
//! admin CLI) becomes exactly one broadcast.
//!
//! The database thread notices other connections' commits through `PRAGMA data_version`
//! ([`Db::changes`]); on each tick [`start_new`] takes every `new` campaign in its own
//! transaction: a campaign that cannot be sent is marked `invalid` with a reason, any other
//! gets its audience (the subscribed employees at that moment) written down in the order of a
//! shuffle seeded per campaign (the seed is stored too), and one outbox message each, all in
//! the same transaction. The outbox sender does the rest; a restart in the middle resumes it
//! from the outbox, so nobody gets a second copy. The shuffle is so that the same people are
//! not always the first to hear of a shift.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::SliceRandom;
use tokio::sync::Notify;

use super::alerts::Alerter;
use super::db::{Db, DbError, DbStopped};
use super::shutdown::Shutdown;
use crate::logging;
use crate::modem::pdu::gsm7;
use crate::service::phone::E164;
use crate::service::reply::Replies;
use crate::store::campaigns::{CampaignProgress, CampaignStatus};
use crate::store::{Store, StoreError};

/// Most SMS parts one employee's offer may cost. A longer offer (a whole rota pasted into
/// `shifts`) is refused with a reason rather than sent: 10 parts to each of 500 employees is
/// 5,000 SMS on a bill nobody expected.
pub const MAX_BROADCAST_PARTS: usize = 10;

/// What [`start_new`] did with one campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Noticed {
    Started {
        id: String,
        recipients: usize,
        /// SMS parts per recipient.
        parts: usize,
        seed: u64,
    },
    Invalid {
        id: String,
        reason: String,
    },
}

/// The recipients in the order of `seed`. Sorted first, so the order depends on the seed and
/// the set of numbers only (not on how the database happened to return them).
pub fn shuffled(mut recipients: Vec<E164>, seed: u64) -> Vec<E164> {
    recipients.sort();
    recipients.shuffle(&mut Xoshiro256PlusPlus::seed_from_u64(seed));
    recipients
}

/// Why a campaign cannot be broadcast, if it cannot.
fn refusal(shifts: &str, text: &str) -> Option<String> {
    if shifts.trim().is_empty() {
        return Some(
            "the shifts column is empty: there is nothing to offer (fill it in and set status \
             back to 'new')"
                .into(),
        );
    }
    let parts = gsm7::plan(text).part_count();
    if parts > MAX_BROADCAST_PARTS {
        return Some(format!(
            "the offer would cost {parts} SMS parts per employee (at most \
             {MAX_BROADCAST_PARTS}): split the shifts over several campaigns, then set status \
             back to 'new'"
        ));
    }
    None
}

/// Broadcast every `new` campaign, each in its own transaction. `seed` gives each campaign
/// its shuffle seed.
pub fn start_new(
    store: &mut Store,
    replies: &Replies,
    now: Timestamp,
    mut seed: impl FnMut() -> u64,
) -> Result<Vec<Noticed>, StoreError> {
    let waiting = store.read()?.campaigns().not_yet_broadcast()?;
    let mut noticed = Vec::with_capacity(waiting.len());
    for campaign in waiting {
        let tx = store.transaction()?;
        // Still new under the write lock (a person may have changed it meanwhile)?
        let Some(campaign) = tx.campaigns().get(&campaign.id)? else {
            continue;
        };
        if campaign.status != CampaignStatus::New {
            continue;
        }
        let text = replies.broadcast(&campaign.shifts);
        if let Some(reason) = refusal(&campaign.shifts, &text) {
            tx.campaigns().mark_invalid(&campaign.id, &reason, now)?;
            tx.commit()?;
            noticed.push(Noticed::Invalid {
                id: campaign.id,
                reason,
            });
            continue;
        }
        let seed = seed();
        let recipients = shuffled(tx.employees().subscribed()?, seed);
        let queued = tx
            .campaigns()
            .start(&campaign.id, seed, &text, &recipients, now)?;
        tx.commit()?;
        noticed.push(Noticed::Started {
            id: campaign.id,
            recipients: queued,
            parts: gsm7::plan(&text).part_count(),
            seed,
        });
    }
    Ok(noticed)
}

/// Mark `done` every sending campaign with nothing left to send, raising each one's
/// campaign-finished alert in the same transaction; returns them with their final counts.
pub fn finish_completed(
    store: &mut Store,
    alerts: Option<&Alerter>,
    now: Timestamp,
) -> Result<Vec<(String, CampaignProgress)>, StoreError> {
    let tx = store.transaction()?;
    let done = tx.campaigns().finish_completed(now)?;
    let mut finished = Vec::with_capacity(done.len());
    for id in done {
        let progress = tx.campaigns().progress(&id)?;
        if let Some(alerts) = alerts {
            alerts.campaign_finished(&tx, &id, &progress, now)?;
        }
        finished.push((id, progress));
    }
    tx.commit()?;
    Ok(finished)
}

/// Log a campaign that finished.
pub fn log_finished(id: &str, progress: &CampaignProgress) {
    tracing::info!(
        campaign_id = id,
        recipients = progress.recipients,
        sent = progress.sent,
        not_sent = progress.not_sent,
        "campaign finished: {} sent, {} not sent (failed, in doubt or cancelled by STOP)",
        progress.sent,
        progress.not_sent
    );
}

/// The watcher task: looks at once, then on every commit by another connection, and every
/// `every` (a campaign whose last messages were cancelled by STOP finishes then).
pub async fn watch(
    db: Db,
    replies: Arc<Replies>,
    alerts: Arc<Alerter>,
    outbox: Arc<Notify>,
    every: Duration,
    shutdown: Shutdown,
) -> Result<(), DbStopped> {
    let mut changes = db.changes();
    loop {
        let now = Timestamp::now();
        let (replies, alerts) = (replies.clone(), alerts.clone());
        let looked = db
            .run(move |store| {
                let noticed = start_new(store, &replies, now, rand::random)?;
                let finished = finish_completed(store, Some(&alerts), now)?;
                Ok((noticed, finished))
            })
            .await;
        match looked {
            Ok((noticed, finished)) => {
                for campaign in noticed {
                    match campaign {
                        Noticed::Started {
                            id,
                            recipients,
                            parts,
                            seed,
                        } => {
                            tracing::info!(
                                campaign_id = %id,
                                recipients,
                                parts,
                                seed,
                                "campaign started: {recipients} recipient(s), {parts} SMS part(s) \
                                 each, in an order shuffled with seed {seed}"
                            );
                        }
                        Noticed::Invalid { id, reason } => {
                            tracing::warn!(campaign_id = %id, "campaign not sent: {reason}");
                        }
                    }
                }
                for (id, progress) in finished {
                    log_finished(&id, &progress);
                }
            }
            Err(DbError::Stopped(stopped)) => return Err(stopped),
            Err(DbError::Store(err)) => {
                tracing::error!(
                    "looking for new campaigns: {err}; trying again shortly",
                    err = logging::scrub(&err)
                );
            }
        }
        // Even after an error: the campaigns started before it are committed and queued.
        outbox.notify_one();
        tokio::select! {
            _ = shutdown.requested() => return Ok(()),
            changed = changes.changed() => {
                if changed.is_err() {
                    return Err(DbStopped);
                }
            }
            _ = tokio::time::sleep(every) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::reply::ReplyOptions;
    use crate::store::outbox::{Kind, OutboxFilter};

    fn t0() -> Timestamp {
        "2025-03-03T08:00:00Z".parse().unwrap()
    }

    fn phone(n: u32) -> E164 {
        E164::from_international(&format!("+4474001{n:05}")).unwrap()
    }

    #[test]
    fn the_order_depends_on_the_seed_only() {
        let people: Vec<E164> = (0..30).map(phone).collect();
        let mut reversed = people.clone();
        reversed.reverse();
        let a = shuffled(people.clone(), 7);
        assert_eq!(a, shuffled(reversed, 7));
        assert_ne!(a, shuffled(people.clone(), 8));
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, people);
    }

    #[test]
    fn each_new_campaign_is_started_once_or_refused_with_a_reason() {
        let mut store = Store::open_in_memory().unwrap();
        let tx = store.transaction().unwrap();
        for n in 0..5 {
            tx.employees().add(&phone(n), None, t0()).unwrap();
        }
        tx.employees()
            .set_subscribed(&phone(3), false, t0())
            .unwrap();
        tx.campaigns()
            .create("monday", "XYZ123 Mon 06:00-14:00", t0())
            .unwrap();
        tx.campaigns().create("empty", "  ", t0()).unwrap();
        tx.campaigns()
            .create("rota", &"XYZ123 Mon 06:00-14:00 Line 3. ".repeat(60), t0())
            .unwrap();
        tx.commit().unwrap();
        let replies = Replies::defaults(ReplyOptions::default());

        let mut seeds = [42u64].into_iter();
        let noticed = start_new(&mut store, &replies, t0(), || seeds.next().unwrap()).unwrap();
        assert_eq!(
            noticed[0],
            Noticed::Started {
                id: "monday".into(),
                recipients: 4,
                parts: 2,
                seed: 42
            }
        );
        assert!(
            matches!(&noticed[1], Noticed::Invalid { id, reason } if id == "empty" && reason.contains("empty")),
            "{noticed:?}"
        );
        assert!(
            matches!(&noticed[2], Noticed::Invalid { id, reason } if id == "rota" && reason.contains("SMS parts")),
            "{noticed:?}"
        );
        // Nothing new the second time.
        assert!(
            start_new(&mut store, &replies, t0(), || 0)
                .unwrap()
                .is_empty()
        );

        let tx = store.read().unwrap();
        let monday = tx.campaigns().get("monday").unwrap().unwrap();
        assert_eq!(monday.status, CampaignStatus::Sending);
        assert_eq!(monday.shuffle_seed, Some(42));
        let order: Vec<E164> = tx
            .campaigns()
            .recipients("monday")
            .unwrap()
            .into_iter()
            .map(|r| r.phone)
            .collect();
        assert_eq!(
            order,
            shuffled(vec![phone(0), phone(1), phone(2), phone(4)], 42)
        );
        let queued = tx
            .outbox()
            .list(OutboxFilter {
                kind: Some(Kind::Broadcast),
                ..OutboxFilter::default()
            })
            .unwrap();
        assert_eq!(queued.len(), 4);
        assert!(queued.iter().all(|m| m.text
            == "Available shifts: XYZ123 Mon 06:00-14:00. To secure a shift reply by typing \
                the codes separated by comma e.g. XYZ123, XYZ222. Text REQUEST to receive all \
                available shifts or STOP to stop receiving such notifications."));
        let CampaignStatus::Invalid { reason } =
            tx.campaigns().get("empty").unwrap().unwrap().status
        else {
            panic!("not invalid")
        };
        assert!(reason.starts_with("the shifts column is empty"));
    }

    #[test]
    fn a_campaign_nobody_subscribed_to_finishes_at_once() {
        let mut store = Store::open_in_memory().unwrap();
        let tx = store.transaction().unwrap();
        tx.campaigns().create("c1", "XYZ123", t0()).unwrap();
        tx.commit().unwrap();
        let replies = Replies::defaults(ReplyOptions::default());
        start_new(&mut store, &replies, t0(), || 1).unwrap();
        let finished = finish_completed(&mut store, None, t0()).unwrap();
        assert_eq!(finished.len(), 1);
        assert_eq!(finished[0].0, "c1");
        assert_eq!(finished[0].1.recipients, 0);
    }
}
