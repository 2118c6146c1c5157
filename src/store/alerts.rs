//! `alerts`: every alert raised for a human, texted to the supervisors or not. The latest row
//! of a (kind, subject) is what rate-limits the next one, so the limit holds across restarts.
//! The texts themselves go through the outbox (kind `alert`), queued in the same transaction
//! as the row here.

use jiff::Timestamp;
use rusqlite::{Connection, Row, params};

use super::StoreError;
use super::sql::{Labelled, Time, count, labels, time_text};

/// What needs a human.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertKind {
    /// The SIM's message storage is nearly full: texts will stop arriving.
    SimStorage,
    /// The modem has been away for a while: nothing is sent or received.
    ModemGone,
    /// Messages keep failing and none gets through (often: no credit on the SIM).
    SendFailures,
    /// A campaign's broadcast is over.
    CampaignFinished,
}

labels!(AlertKind {
    SimStorage => "sim_storage",
    ModemGone => "modem_gone",
    SendFailures => "send_failures",
    CampaignFinished => "campaign_finished",
});

impl AlertKind {
    pub const ALL: [AlertKind; 4] = [
        AlertKind::SimStorage,
        AlertKind::ModemGone,
        AlertKind::SendFailures,
        AlertKind::CampaignFinished,
    ];
}

/// One row of `alerts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRecord {
    pub id: i64,
    pub kind: AlertKind,
    /// What it is about when a kind can be raised for several things at once (the campaign
    /// id); empty otherwise.
    pub subject: String,
    pub raised_at: Timestamp,
    pub text: String,
    /// How many supervisors it was queued for (0: none configured, logged only).
    pub recipients: u32,
}

/// How sending went over a window of time, from the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SendRecord {
    /// Messages that failed for good in the window.
    pub failed: u64,
    /// Messages sent in the window.
    pub sent: u64,
    /// The reason the latest of those failures gave.
    pub last_error: Option<String>,
}

/// `alerts` within one transaction.
pub struct Alerts<'t> {
    conn: &'t Connection,
}

fn from_row(row: &Row<'_>) -> rusqlite::Result<AlertRecord> {
    Ok(AlertRecord {
        id: row.get(0)?,
        kind: row.get::<_, Labelled<AlertKind>>(1)?.0,
        subject: row.get(2)?,
        raised_at: row.get::<_, Time>(3)?.0,
        text: row.get(4)?,
        recipients: row.get(5)?,
    })
}

impl<'t> Alerts<'t> {
    pub(crate) fn new(conn: &'t Connection) -> Self {
        Alerts { conn }
    }

    /// Record an alert raised at `now`.
    pub fn record(
        &self,
        kind: AlertKind,
        subject: &str,
        text: &str,
        recipients: u32,
        now: Timestamp,
    ) -> Result<i64, StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO alerts (kind, subject, raised_at, text, recipients)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut stmt| {
                stmt.insert(params![
                    kind.as_str(),
                    subject,
                    time_text(now),
                    text,
                    recipients
                ])
            })
            .map_err(|e| StoreError::sql(format!("recording a {kind} alert"), e))
    }

    /// When an alert of `kind` about `subject` was last raised.
    pub fn last_raised(
        &self,
        kind: AlertKind,
        subject: &str,
    ) -> Result<Option<Timestamp>, StoreError> {
        self.conn
            .prepare_cached("SELECT max(raised_at) FROM alerts WHERE kind = ?1 AND subject = ?2")
            .and_then(|mut stmt| {
                stmt.query_row(params![kind.as_str(), subject], |row| {
                    Ok(row.get::<_, Option<Time>>(0)?.map(|t| t.0))
                })
            })
            .map_err(|e| StoreError::sql(format!("finding the last {kind} alert"), e))
    }

    /// The latest alerts, newest first.
    pub fn recent(&self, limit: u32) -> Result<Vec<AlertRecord>, StoreError> {
        let doing = "listing recent alerts";
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, kind, subject, raised_at, text, recipients FROM alerts
                  ORDER BY raised_at DESC, id DESC LIMIT ?1",
            )
            .map_err(|e| StoreError::sql(doing, e))?;
        stmt.query_map([limit], from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| StoreError::sql(doing, e))
    }

    /// How sending went since `since`: messages failed for good and messages sent (alerts
    /// themselves left out, so an alert that cannot leave does not count towards the next).
    pub fn sending_since(&self, since: Timestamp) -> Result<SendRecord, StoreError> {
        let doing = "counting recent send failures";
        let since = time_text(since);
        let (failed, sent) = self
            .conn
            .prepare_cached(
                "SELECT ifnull(sum(state = 'failed'), 0), ifnull(sum(state = 'sent'), 0)
                   FROM outbox WHERE finished_at >= ?1 AND kind <> 'alert'",
            )
            .and_then(|mut stmt| {
                stmt.query_row([&since], |row| Ok((count(row.get(0)?), count(row.get(1)?))))
            })
            .map_err(|e| StoreError::sql(doing, e))?;
        let last_error = self
            .conn
            .prepare_cached(
                "SELECT last_error FROM outbox
                  WHERE state = 'failed' AND finished_at >= ?1 AND kind <> 'alert'
                  ORDER BY finished_at DESC, id DESC LIMIT 1",
            )
            .and_then(|mut stmt| {
                let mut rows = stmt.query_map([&since], |row| row.get::<_, Option<String>>(0))?;
                rows.next().transpose().map(Option::flatten)
            })
            .map_err(|e| StoreError::sql(doing, e))?;
        Ok(SendRecord {
            failed,
            sent,
            last_error,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::phone::E164;
    use crate::store::Store;
    use crate::store::outbox::{Kind, Outgoing};

    fn t(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn recorded_alerts_rate_limit_by_kind_and_subject() {
        let mut store = Store::open_in_memory().unwrap();
        let tx = store.transaction().unwrap();
        let alerts = tx.alerts();
        assert_eq!(alerts.last_raised(AlertKind::ModemGone, "").unwrap(), None);
        alerts
            .record(
                AlertKind::ModemGone,
                "",
                "modem gone",
                2,
                t("2025-03-03T08:00:00Z"),
            )
            .unwrap();
        alerts
            .record(
                AlertKind::ModemGone,
                "",
                "modem gone",
                2,
                t("2025-03-03T09:00:00Z"),
            )
            .unwrap();
        alerts
            .record(
                AlertKind::CampaignFinished,
                "week-48",
                "week-48 finished",
                0,
                t("2025-03-03T08:30:00Z"),
            )
            .unwrap();
        assert_eq!(
            alerts.last_raised(AlertKind::ModemGone, "").unwrap(),
            Some(t("2025-03-03T09:00:00Z"))
        );
        assert_eq!(
            alerts
                .last_raised(AlertKind::CampaignFinished, "week-48")
                .unwrap(),
            Some(t("2025-03-03T08:30:00Z"))
        );
        assert_eq!(
            alerts
                .last_raised(AlertKind::CampaignFinished, "week-49")
                .unwrap(),
            None
        );
        let recent = alerts.recent(2).unwrap();
        assert_eq!(recent.len(), 2);
        assert_eq!(recent[0].raised_at, t("2025-03-03T09:00:00Z"));
        assert_eq!(recent[1].kind, AlertKind::CampaignFinished);
        assert_eq!(recent[1].subject, "week-48");
        assert_eq!(recent[1].recipients, 0);
    }

    #[test]
    fn sending_since_counts_finished_messages_but_not_alerts() {
        let mut store = Store::open_in_memory().unwrap();
        let ann = E164::from_international("+447400123456").unwrap();
        let tx = store.transaction().unwrap();
        let queue = |kind, at| {
            tx.outbox()
                .queue(
                    &Outgoing {
                        recipient: &ann,
                        text: "hello",
                        kind,
                        cause: None,
                    },
                    at,
                )
                .unwrap()
        };
        let early = t("2025-03-03T07:00:00Z");
        let since = t("2025-03-03T08:00:00Z");
        let late = t("2025-03-03T08:10:00Z");
        for (kind, at, error) in [
            (Kind::Reply, early, "+CMS ERROR: 38"),
            (Kind::Broadcast, late, "+CMS ERROR: 500"),
            (Kind::Alert, late, "+CMS ERROR: 42"),
        ] {
            let id = queue(kind, at);
            tx.outbox().begin_part(id, 1, 1, at).unwrap();
            tx.outbox().fail(id, error, at).unwrap();
        }
        let sent = queue(Kind::Reply, late);
        tx.outbox().begin_part(sent, 1, 1, late).unwrap();
        tx.outbox().part_sent(sent, 1, 7, late).unwrap();
        queue(Kind::Reply, late);
        assert_eq!(
            tx.alerts().sending_since(since).unwrap(),
            SendRecord {
                failed: 1,
                sent: 1,
                last_error: Some("+CMS ERROR: 500".into()),
            }
        );
        assert_eq!(
            tx.alerts()
                .sending_since(t("2025-03-03T09:00:00Z"))
                .unwrap(),
            SendRecord::default()
        );
    }
}
