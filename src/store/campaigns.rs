//! `shift_campaigns` and `campaign_recipients`: broadcasts of open shifts.
//!
//! A row inserted by anyone (sqlite3, CSV, admin command) has status `new`. The daemon finds it
//! with [`Campaigns::not_yet_broadcast`] and, in one transaction, either marks it `invalid`
//! with a reason ([`Campaigns::mark_invalid`]) or records every recipient with their position
//! in the shuffled order and queues one outbox message each ([`Campaigns::start`]: `sending`).
//! When none of its messages is queued or sending any more, [`Campaigns::finish_completed`]
//! marks it `done`. A recipient is recorded once per campaign (primary key), so a campaign
//! set back to `new` by a person only reaches employees it has not reached yet.

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::StoreError;
use super::outbox::{Cause, Kind, MessageId, Outbox, Outgoing};
use super::sql::{Phone, Time, count, time_text};
use crate::service::phone::E164;

/// One row of `shift_campaigns`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Campaign {
    pub id: String,
    /// Free text naming the shifts, as a person wrote it.
    pub shifts: String,
    pub status: CampaignStatus,
    /// The seed the recipients were shuffled with, once started (so the order can be
    /// reproduced when someone asks why they heard last).
    pub shuffle_seed: Option<u64>,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CampaignStatus {
    /// Not yet broadcast.
    New,
    /// Messages queued, not all gone yet.
    Sending,
    /// Every message sent (or failed for good).
    Done,
    /// Could not be broadcast, and why.
    Invalid { reason: String },
}

impl CampaignStatus {
    /// The word stored in the `status` column.
    pub fn as_str(&self) -> &'static str {
        match self {
            CampaignStatus::New => "new",
            CampaignStatus::Sending => "sending",
            CampaignStatus::Done => "done",
            CampaignStatus::Invalid { .. } => "invalid",
        }
    }
}

/// One employee a campaign was sent to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub phone: E164,
    /// 1-based place in the shuffled order.
    pub position: u32,
    /// Their message (`None` once the outbox row is pruned).
    pub outbox_id: Option<MessageId>,
}

/// How far a campaign's broadcast got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CampaignProgress {
    pub recipients: u64,
    /// Queued or sending.
    pub pending: u64,
    pub sent: u64,
    /// Failed for good, or cancelled (the employee texted STOP first).
    pub not_sent: u64,
}

/// `shift_campaigns` within one transaction.
pub struct Campaigns<'t> {
    conn: &'t Connection,
}

const COLUMNS: &str =
    "campaign_id, shifts, status, reason, shuffle_seed, created_at, started_at, finished_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Campaign> {
    let status = match row.get_ref(2)?.as_str()? {
        "sending" => CampaignStatus::Sending,
        "done" => CampaignStatus::Done,
        "invalid" => CampaignStatus::Invalid {
            reason: row.get::<_, Option<String>>(3)?.unwrap_or_default(),
        },
        // The CHECK constraint allows nothing else.
        _ => CampaignStatus::New,
    };
    Ok(Campaign {
        id: row.get(0)?,
        shifts: row.get(1)?,
        status,
        // Stored as SQLite's signed 64-bit integer, bit for bit.
        shuffle_seed: row.get::<_, Option<i64>>(4)?.map(|seed| seed as u64),
        created_at: row.get::<_, Time>(5)?.0,
        started_at: row.get::<_, Option<Time>>(6)?.map(|t| t.0),
        finished_at: row.get::<_, Option<Time>>(7)?.map(|t| t.0),
    })
}

impl<'t> Campaigns<'t> {
    pub(crate) fn new(conn: &'t Connection) -> Self {
        Campaigns { conn }
    }

    /// Add a campaign (status `new`: the daemon will broadcast it).
    pub fn create(&self, id: &str, shifts: &str, now: Timestamp) -> Result<(), StoreError> {
        if self.get(id)?.is_some() {
            return Err(StoreError::AlreadyExists {
                what: format!("campaign {id:?}"),
            });
        }
        self.conn
            .prepare_cached(
                "INSERT INTO shift_campaigns (campaign_id, shifts, created_at) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut stmt| stmt.execute(params![id, shifts, time_text(now)]))
            .map_err(|e| StoreError::sql(format!("creating campaign {id:?}"), e))?;
        Ok(())
    }

    pub fn get(&self, id: &str) -> Result<Option<Campaign>, StoreError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM shift_campaigns WHERE campaign_id = ?1"
            ))
            .and_then(|mut stmt| stmt.query_row([id], from_row).optional())
            .map_err(|e| StoreError::sql(format!("reading campaign {id:?}"), e))
    }

    /// Every campaign, oldest first.
    pub fn list(&self) -> Result<Vec<Campaign>, StoreError> {
        self.select("", "listing campaigns")
    }

    /// Campaigns with status `new`, oldest first: what the daemon has to broadcast.
    pub fn not_yet_broadcast(&self) -> Result<Vec<Campaign>, StoreError> {
        self.select("WHERE status = 'new'", "finding campaigns to broadcast")
    }

    fn select(&self, condition: &str, doing: &str) -> Result<Vec<Campaign>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM shift_campaigns {condition} ORDER BY created_at, rowid"
            ))
            .map_err(|e| StoreError::sql(doing, e))?;
        stmt.query_map([], from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| StoreError::sql(doing, e))
    }

    /// `new -> invalid`: it cannot be broadcast (no shifts named, too long, ...).
    pub fn mark_invalid(&self, id: &str, reason: &str, now: Timestamp) -> Result<(), StoreError> {
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE shift_campaigns SET status = 'invalid', reason = ?2, finished_at = ?3
                  WHERE campaign_id = ?1 AND status = 'new'",
            )
            .and_then(|mut stmt| stmt.execute(params![id, reason, time_text(now)]))
            .map_err(|e| StoreError::sql(format!("marking campaign {id:?} invalid"), e))?;
        if changed == 0 {
            return Err(self.state_error(id, "new"));
        }
        Ok(())
    }

    /// `new -> sending`: record `recipients` in the order given (already shuffled with
    /// `seed`) and queue `text` as a broadcast to each one not reached by this campaign
    /// before. Returns how many messages were queued.
    pub fn start(
        &self,
        id: &str,
        seed: u64,
        text: &str,
        recipients: &[E164],
        now: Timestamp,
    ) -> Result<usize, StoreError> {
        let doing = || format!("starting campaign {id:?}");
        let changed = self
            .conn
            .prepare_cached(
                "UPDATE shift_campaigns
                    SET status = 'sending', shuffle_seed = ?2, started_at = ?3, finished_at = NULL,
                        reason = NULL
                  WHERE campaign_id = ?1 AND status = 'new'",
            )
            .and_then(|mut stmt| stmt.execute(params![id, seed as i64, time_text(now)]))
            .map_err(|e| StoreError::sql(doing(), e))?;
        if changed == 0 {
            return Err(self.state_error(id, "new"));
        }
        let outbox = Outbox::new(self.conn);
        let mut add = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO campaign_recipients (campaign_id, phone, position)
                 VALUES (?1, ?2, ?3)",
            )
            .map_err(|e| StoreError::sql(doing(), e))?;
        let mut link = self
            .conn
            .prepare_cached(
                "UPDATE campaign_recipients SET outbox_id = ?3 WHERE campaign_id = ?1 AND phone = ?2",
            )
            .map_err(|e| StoreError::sql(doing(), e))?;
        let mut queued = 0;
        for (position, phone) in (1_i64..).zip(recipients) {
            let added = add
                .execute(params![id, phone.as_str(), position])
                .map_err(|e| StoreError::sql(doing(), e))?;
            if added == 0 {
                continue;
            }
            let message = outbox.queue(
                &Outgoing {
                    recipient: phone,
                    text,
                    kind: Kind::Broadcast,
                    cause: Some(Cause::Campaign(id)),
                },
                now,
            )?;
            link.execute(params![id, phone.as_str(), message.0])
                .map_err(|e| StoreError::sql(doing(), e))?;
            queued += 1;
        }
        Ok(queued)
    }

    /// `sending -> done` for every campaign none of whose messages is queued or sending.
    /// Returns their ids.
    pub fn finish_completed(&self, now: Timestamp) -> Result<Vec<String>, StoreError> {
        let doing = "finishing completed campaigns";
        let mut stmt = self
            .conn
            .prepare_cached(
                "UPDATE shift_campaigns SET status = 'done', finished_at = ?1
                  WHERE status = 'sending'
                    AND NOT EXISTS (SELECT 1 FROM outbox
                                     WHERE outbox.campaign_id = shift_campaigns.campaign_id
                                       AND outbox.state IN ('queued', 'sending'))
                  RETURNING campaign_id",
            )
            .map_err(|e| StoreError::sql(doing, e))?;
        stmt.query_map([time_text(now)], |row| row.get(0))
            .and_then(|rows| rows.collect())
            .map_err(|e| StoreError::sql(doing, e))
    }

    /// Who the campaign was sent to, in order.
    pub fn recipients(&self, id: &str) -> Result<Vec<Recipient>, StoreError> {
        let doing = || format!("reading the recipients of campaign {id:?}");
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT phone, position, outbox_id FROM campaign_recipients
                  WHERE campaign_id = ?1 ORDER BY position",
            )
            .map_err(|e| StoreError::sql(doing(), e))?;
        stmt.query_map([id], |row| {
            Ok(Recipient {
                phone: row.get::<_, Phone>(0)?.0,
                position: row.get(1)?,
                outbox_id: row.get::<_, Option<i64>>(2)?.map(MessageId),
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| StoreError::sql(doing(), e))
    }

    /// How many recipients the campaign has and what became of their messages.
    pub fn progress(&self, id: &str) -> Result<CampaignProgress, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT count(*),
                        ifnull(sum(o.state IN ('queued', 'sending')), 0),
                        ifnull(sum(o.state = 'sent'), 0),
                        ifnull(sum(o.state IN ('failed', 'cancelled')), 0)
                   FROM campaign_recipients r LEFT JOIN outbox o ON o.id = r.outbox_id
                  WHERE r.campaign_id = ?1",
            )
            .and_then(|mut stmt| {
                stmt.query_row([id], |row| {
                    Ok(CampaignProgress {
                        recipients: count(row.get(0)?),
                        pending: count(row.get(1)?),
                        sent: count(row.get(2)?),
                        not_sent: count(row.get(3)?),
                    })
                })
            })
            .map_err(|e| StoreError::sql(format!("reading the progress of campaign {id:?}"), e))
    }

    fn state_error(&self, id: &str, expected: &'static str) -> StoreError {
        match self.get(id) {
            Ok(Some(campaign)) => StoreError::WrongState {
                what: format!("campaign {id:?}"),
                expected,
                found: campaign.status.as_str().to_string(),
            },
            Ok(None) => StoreError::NotFound {
                what: format!("campaign {id:?}"),
            },
            Err(err) => err,
        }
    }
}
