//! Alerts: the problems that need a human, texted to the supervisors in `[alerts] numbers`,
//! always logged, and recorded in `alerts` for `shiftsms status`.
//!
//! | kind | raised when | by |
//! |---|---|---|
//! | SIM storage | the storage new texts arrive in is `sim_storage_percent` full | the heartbeat, from `AT+CPMS?` |
//! | modem gone | the modem has not been ready for `modem_gone_after` | the heartbeat |
//! | send failures | `send_failures` messages failed for good within `send_failures_window` and none was sent (often: no credit) | the outbox sender, in the transaction that fails the message |
//! | campaign finished | a campaign's last offer is settled: how many were offered, how many of its shifts are booked so far (employees reply while the broadcast goes on) | whoever marks it done, in that transaction |
//!
//! Each kind (each campaign, for campaign finished) is raised at most once per
//! `repeat_after`; the limit is read from the `alerts` table, so it holds across restarts.
//! An alert's texts are queued in the outbox (kind `alert`, ahead of broadcasts) in the same
//! transaction as the record and, where there is one, as the change it reports. While the
//! modem is away an alert cannot leave: it waits in the outbox, and the log line and
//! `shiftsms status` say so.
//!
//! The decisions ([`storage_nearly_full`], [`away_too_long`], [`failing`], [`due`]) are pure
//! functions of what was observed and the clock passed in.

use std::collections::BTreeSet;
use std::str::FromStr;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use tokio::sync::watch;

use crate::config::AlertSettings;
use crate::modem::ModemState;
use crate::service::shift_code::ShiftCode;
use crate::store::alerts::{AlertKind, SendRecord};
use crate::store::campaigns::CampaignProgress;
use crate::store::outbox::{Kind, Outgoing};
use crate::store::{StoreError, Tx};

/// Something that needs a human, with what the text reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Alert {
    SimStorage {
        used: u32,
        total: u32,
    },
    ModemGone {
        /// Since when the modem has not been ready.
        since: Timestamp,
        /// Its state now, in words.
        why: String,
    },
    SendFailures {
        failed: u64,
        window: SignedDuration,
        last_error: Option<String>,
    },
    CampaignFinished {
        id: String,
        progress: CampaignProgress,
        /// Shifts the campaign names that exist, and how many of them are booked.
        named: usize,
        booked: usize,
    },
}

impl Alert {
    pub fn kind(&self) -> AlertKind {
        match self {
            Alert::SimStorage { .. } => AlertKind::SimStorage,
            Alert::ModemGone { .. } => AlertKind::ModemGone,
            Alert::SendFailures { .. } => AlertKind::SendFailures,
            Alert::CampaignFinished { .. } => AlertKind::CampaignFinished,
        }
    }

    /// What the rate limit is kept per, within a kind.
    pub fn subject(&self) -> &str {
        match self {
            Alert::CampaignFinished { id, .. } => id,
            _ => "",
        }
    }

    /// The text, starting with the site's name. Times are in `zone` (the site's), because a
    /// text about the modem may only leave once the modem is back, hours later.
    pub fn text(&self, site: &str, zone: &TimeZone) -> String {
        match self {
            Alert::SimStorage { used, total } => format!(
                "{site}: the SIM's message storage is {used}/{total} full. Texts from employees \
                 cannot arrive once it is full. Check the modem (shiftsms status)."
            ),
            Alert::ModemGone { since, why } => format!(
                "{site}: modem not working since {} ({why}). No texts go in or out until it is \
                 back. Check the USB modem and SIM.",
                since.to_zoned_datetime(zone.clone()).strftime("%a %H:%M")
            ),
            Alert::SendFailures {
                failed,
                window,
                last_error,
            } => format!(
                "{site}: {failed} texts failed in the last {} and none was sent ({}). The SIM \
                 may be out of credit.",
                human(*window),
                last_error.as_deref().unwrap_or("no reason given")
            ),
            Alert::CampaignFinished {
                id,
                progress,
                named,
                booked,
            } => {
                let not_sent = match progress.not_sent {
                    0 => String::new(),
                    n => format!(" ({n} not sent)"),
                };
                let employees = match progress.sent {
                    1 => "1 employee".to_string(),
                    n => format!("{n} employees"),
                };
                let shifts = if *named == 1 { "shift" } else { "shifts" };
                format!(
                    "{site}: campaign {id} finished: offered to {employees}{not_sent}; {booked} \
                     of its {named} {shifts} booked so far."
                )
            }
        }
    }
}

/// "1h", "30m", "90s": the window as the config writes it.
fn human(duration: SignedDuration) -> String {
    let secs = duration.as_secs();
    if secs % 3600 == 0 {
        format!("{}h", secs / 3600)
    } else if secs % 60 == 0 {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// Whether `used` of `total` slots is at least `percent` full.
pub fn storage_nearly_full(used: u32, total: u32, percent: u32) -> bool {
    total > 0 && u64::from(used) * 100 >= u64::from(total) * u64::from(percent)
}

/// Whether a modem not ready since `away_since` has been away for `after` at `now`.
pub fn away_too_long(away_since: Option<Timestamp>, now: Timestamp, after: SignedDuration) -> bool {
    away_since.is_some_and(|since| now.duration_since(since) >= after)
}

/// Whether sending is failing: at least `threshold` messages failed for good in the window
/// and none went out (a few failures among many successes are bad numbers, not the SIM).
pub fn failing(record: &SendRecord, threshold: u32) -> bool {
    record.sent == 0 && record.failed >= u64::from(threshold)
}

/// Whether an alert last raised at `last` may be raised again at `now`.
pub fn due(last: Option<Timestamp>, now: Timestamp, repeat_after: SignedDuration) -> bool {
    last.is_none_or(|last| now.duration_since(last) >= repeat_after)
}

/// The codes a campaign's free text names, in the order written (tokens that follow the
/// shift-code rule; whether a shift has that code is for the database to say).
pub fn named_codes(shifts: &str) -> Vec<ShiftCode> {
    let mut seen = BTreeSet::new();
    shifts
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter_map(|token| ShiftCode::from_str(token).ok())
        .filter(|code| seen.insert(code.clone()))
        .collect()
}

/// An alert that was raised: recorded, and queued for `recipients` supervisors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raised {
    pub kind: AlertKind,
    pub text: String,
    pub recipients: usize,
}

/// Raises alerts as `[alerts]` says.
#[derive(Debug, Clone)]
pub struct Alerter {
    settings: AlertSettings,
    zone: TimeZone,
    modem: Option<watch::Receiver<ModemState>>,
}

impl Alerter {
    pub fn new(settings: AlertSettings, zone: TimeZone) -> Alerter {
        Alerter {
            settings,
            zone,
            modem: None,
        }
    }

    /// Say in the log whether a raised alert can leave now or waits for the modem.
    pub fn watching(mut self, modem: watch::Receiver<ModemState>) -> Alerter {
        self.modem = Some(modem);
        self
    }

    pub fn settings(&self) -> &AlertSettings {
        &self.settings
    }

    /// Raise `alert` inside `tx`, unless one of its kind (and subject) was raised within
    /// `repeat_after`: record it and queue its text to every supervisor. The caller commits.
    pub fn raise(
        &self,
        tx: &Tx<'_>,
        alert: &Alert,
        now: Timestamp,
    ) -> Result<Option<Raised>, StoreError> {
        let (kind, subject) = (alert.kind(), alert.subject());
        let last = tx.alerts().last_raised(kind, subject)?;
        if !due(last, now, self.settings.repeat_after) {
            tracing::debug!(
                alert = %kind,
                "alert not raised again: the last one was at {}",
                last.map_or_else(String::new, |t| t.to_string())
            );
            return Ok(None);
        }
        let text = alert.text(&self.settings.site, &self.zone);
        let recipients = self.settings.numbers.len();
        tx.alerts()
            .record(kind, subject, &text, recipients as u32, now)?;
        for number in &self.settings.numbers {
            tx.outbox().queue(
                &Outgoing {
                    recipient: number,
                    text: &text,
                    kind: Kind::Alert,
                    cause: None,
                },
                now,
            )?;
        }
        let fate = if recipients == 0 {
            "no [alerts] numbers are configured: logged only".to_string()
        } else {
            let waits = self
                .modem
                .as_ref()
                .is_some_and(|modem| *modem.borrow() != ModemState::Ready);
            format!(
                "queued for {recipients} supervisor(s){}",
                if waits {
                    "; it waits in the outbox until the modem is back"
                } else {
                    ""
                }
            )
        };
        match kind {
            // News, not a problem.
            AlertKind::CampaignFinished => tracing::info!(alert = %kind, "alert: {text} ({fate})"),
            _ => tracing::warn!(alert = %kind, "alert: {text} ({fate})"),
        }
        Ok(Some(Raised {
            kind,
            text,
            recipients,
        }))
    }

    /// A campaign was just marked done in `tx`: raise its alert (if enabled), counting the
    /// shifts it names that are booked.
    pub fn campaign_finished(
        &self,
        tx: &Tx<'_>,
        id: &str,
        progress: &CampaignProgress,
        now: Timestamp,
    ) -> Result<Option<Raised>, StoreError> {
        if !self.settings.campaign_finished {
            return Ok(None);
        }
        let shifts = tx
            .campaigns()
            .get(id)?
            .map(|campaign| campaign.shifts)
            .unwrap_or_default();
        let (mut named, mut booked) = (0, 0);
        for code in named_codes(&shifts) {
            if let Some(shift) = tx.shifts().get(code.as_str())? {
                named += 1;
                if !shift.status.is_available() {
                    booked += 1;
                }
            }
        }
        let alert = Alert::CampaignFinished {
            id: id.to_string(),
            progress: *progress,
            named,
            booked,
        };
        self.raise(tx, &alert, now)
    }

    /// A message just failed for good in `tx`: raise the send-failures alert if sending as a
    /// whole is failing.
    pub fn after_send_failure(
        &self,
        tx: &Tx<'_>,
        now: Timestamp,
    ) -> Result<Option<Raised>, StoreError> {
        let window = self.settings.send_failures_window;
        let since = now.checked_sub(window).unwrap_or(Timestamp::MIN);
        let record = tx.alerts().sending_since(since)?;
        if !failing(&record, self.settings.send_failures) {
            return Ok(None);
        }
        let alert = Alert::SendFailures {
            failed: record.failed,
            window,
            last_error: record.last_error,
        };
        self.raise(tx, &alert, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::phone::E164;
    use crate::store::Store;
    use crate::store::outbox::{OutboxFilter, OutboxState};

    fn t(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn settings(numbers: &[&str]) -> AlertSettings {
        AlertSettings {
            numbers: numbers
                .iter()
                .map(|n| E164::from_international(n).unwrap())
                .collect(),
            site: "Leeds DC".into(),
            repeat_after: SignedDuration::from_hours(6),
            sim_storage_percent: 80,
            modem_gone_after: SignedDuration::from_mins(10),
            send_failures: 3,
            send_failures_window: SignedDuration::from_hours(1),
            campaign_finished: true,
        }
    }

    fn alerter(numbers: &[&str]) -> Alerter {
        Alerter::new(settings(numbers), TimeZone::UTC)
    }

    fn queued_alerts(store: &mut Store) -> Vec<(String, String)> {
        store
            .read()
            .unwrap()
            .outbox()
            .list(OutboxFilter {
                kind: Some(Kind::Alert),
                ..OutboxFilter::default()
            })
            .unwrap()
            .into_iter()
            .map(|m| (m.recipient.to_string(), m.text))
            .collect()
    }

    #[test]
    fn conditions() {
        assert!(!storage_nearly_full(23, 30, 80));
        assert!(storage_nearly_full(24, 30, 80));
        assert!(storage_nearly_full(30, 30, 100));
        assert!(!storage_nearly_full(0, 0, 80));
        assert!(!storage_nearly_full(u32::MAX - 1, u32::MAX, 100));

        let after = SignedDuration::from_mins(10);
        let since = t("2025-03-03T03:02:00Z");
        assert!(!away_too_long(None, t("2025-03-03T09:00:00Z"), after));
        assert!(!away_too_long(
            Some(since),
            t("2025-03-03T03:11:59Z"),
            after
        ));
        assert!(away_too_long(Some(since), t("2025-03-03T03:12:00Z"), after));

        let record = |failed, sent| SendRecord {
            failed,
            sent,
            last_error: None,
        };
        assert!(!failing(&record(2, 0), 3));
        assert!(failing(&record(3, 0), 3));
        assert!(!failing(&record(30, 1), 3));

        let repeat = SignedDuration::from_hours(6);
        assert!(due(None, since, repeat));
        assert!(!due(Some(since), t("2025-03-03T09:01:59Z"), repeat));
        assert!(due(Some(since), t("2025-03-03T09:02:00Z"), repeat));
    }

    #[test]
    fn codes_named_by_a_campaign() {
        let codes: Vec<String> = named_codes("XYZ123 Mon 06:00-14:00, xyz222 Tue; XYZ123 again")
            .into_iter()
            .map(|c| c.to_string())
            .collect();
        // "06", "00", "14" follow the rule too: only existing shifts are counted.
        assert_eq!(codes, ["XYZ123", "06", "00", "14", "XYZ222"]);
        assert!(named_codes("").is_empty());
    }

    #[test]
    fn texts() {
        let zone = TimeZone::fixed(jiff::tz::offset(1));
        let texts = [
            (
                Alert::SimStorage {
                    used: 27,
                    total: 30,
                },
                "Leeds DC: the SIM's message storage is 27/30 full.",
            ),
            (
                Alert::ModemGone {
                    since: t("2025-03-03T03:02:00Z"),
                    why: "gone: /dev/shiftsms-modem disappeared".into(),
                },
                "Leeds DC: modem not working since Mon 04:02 (gone: /dev/shiftsms-modem disappeared).",
            ),
            (
                Alert::SendFailures {
                    failed: 3,
                    window: SignedDuration::from_hours(1),
                    last_error: Some("+CMS ERROR: 500".into()),
                },
                "Leeds DC: 3 texts failed in the last 1h and none was sent (+CMS ERROR: 500). The SIM may be out of credit.",
            ),
            (
                Alert::CampaignFinished {
                    id: "week-48".into(),
                    progress: CampaignProgress {
                        recipients: 120,
                        pending: 0,
                        sent: 117,
                        not_sent: 3,
                    },
                    named: 15,
                    booked: 12,
                },
                "Leeds DC: campaign week-48 finished: offered to 117 employees (3 not sent); 12 of its 15 shifts booked so far.",
            ),
        ];
        for (alert, start) in texts {
            let text = alert.text("Leeds DC", &zone);
            assert!(text.starts_with(start), "{text}");
            // One SMS each, in the GSM alphabet.
            let plan = crate::modem::pdu::gsm7::plan(&text);
            assert_eq!(
                plan.encoding,
                crate::modem::pdu::gsm7::Encoding::Gsm7,
                "{text}"
            );
            assert_eq!(plan.part_count(), 1, "{text}");
        }
    }

    /// Each kind fires once, to every supervisor, and not again within `repeat_after`; a
    /// different campaign is a different subject.
    #[test]
    fn each_kind_fires_once_and_is_rate_limited() {
        let mut store = Store::open_in_memory().unwrap();
        let alerter = alerter(&["+447400111111", "+447400222222"]);
        let t0 = t("2025-03-03T08:00:00Z");
        let alerts = [
            Alert::SimStorage {
                used: 25,
                total: 30,
            },
            Alert::ModemGone {
                since: t("2025-03-03T07:40:00Z"),
                why: "gone".into(),
            },
            Alert::SendFailures {
                failed: 3,
                window: SignedDuration::from_hours(1),
                last_error: None,
            },
            Alert::CampaignFinished {
                id: "week-48".into(),
                progress: CampaignProgress::default(),
                named: 0,
                booked: 0,
            },
        ];
        let raise = |store: &mut Store, alert: &Alert, at| {
            let tx = store.transaction().unwrap();
            let raised = alerter.raise(&tx, alert, at).unwrap();
            tx.commit().unwrap();
            raised
        };
        for alert in &alerts {
            let raised = raise(&mut store, alert, t0).expect("first time");
            assert_eq!(raised.kind, alert.kind());
            assert_eq!(raised.recipients, 2);
        }
        assert_eq!(queued_alerts(&mut store).len(), 8);
        for (minutes, expect) in [(1, false), (359, false), (360, true)] {
            let at = t0 + SignedDuration::from_mins(minutes);
            for alert in &alerts {
                assert_eq!(
                    raise(&mut store, alert, at).is_some(),
                    expect,
                    "{alert:?} after {minutes} min"
                );
            }
        }
        let other = Alert::CampaignFinished {
            id: "week-49".into(),
            progress: CampaignProgress::default(),
            named: 0,
            booked: 0,
        };
        assert!(raise(&mut store, &other, t0 + SignedDuration::from_mins(1)).is_some());
        let kinds: Vec<AlertKind> = store
            .read()
            .unwrap()
            .alerts()
            .recent(100)
            .unwrap()
            .into_iter()
            .map(|a| a.kind)
            .collect();
        assert_eq!(kinds.len(), 9);
    }

    #[test]
    fn without_supervisors_an_alert_is_recorded_and_logged_only() {
        let mut store = Store::open_in_memory().unwrap();
        let tx = store.transaction().unwrap();
        let raised = alerter(&[])
            .raise(
                &tx,
                &Alert::SimStorage {
                    used: 30,
                    total: 30,
                },
                t("2025-03-03T08:00:00Z"),
            )
            .unwrap()
            .unwrap();
        tx.commit().unwrap();
        assert_eq!(raised.recipients, 0);
        assert!(queued_alerts(&mut store).is_empty());
        let recent = store.read().unwrap().alerts().recent(5).unwrap();
        assert_eq!(recent.len(), 1);
        assert_eq!(recent[0].recipients, 0);
    }

    #[test]
    fn campaign_finished_counts_its_booked_shifts() {
        let mut store = Store::open_in_memory().unwrap();
        let t0 = t("2025-03-03T08:00:00Z");
        let ann = E164::from_international("+447400123456").unwrap();
        let tx = store.transaction().unwrap();
        for code in ["XYZ123", "XYZ222", "ABC9"] {
            tx.shifts().add(code, "", t0).unwrap();
        }
        tx.shifts().take("XYZ222", &ann, t0).unwrap();
        tx.campaigns()
            .create("week-48", "XYZ123 Mon 06:00-14:00, XYZ222 Tue, NOPE1", t0)
            .unwrap();
        let progress = CampaignProgress {
            recipients: 4,
            pending: 0,
            sent: 4,
            not_sent: 0,
        };
        let raised = alerter(&["+447400111111"])
            .campaign_finished(&tx, "week-48", &progress, t0)
            .unwrap()
            .unwrap();
        tx.commit().unwrap();
        assert_eq!(
            raised.text,
            "Leeds DC: campaign week-48 finished: offered to 4 employees; 1 of its 2 shifts booked so \
             far."
        );
        let disabled = Alerter::new(
            AlertSettings {
                campaign_finished: false,
                ..settings(&["+447400111111"])
            },
            TimeZone::UTC,
        );
        let tx = store.transaction().unwrap();
        assert_eq!(
            disabled
                .campaign_finished(&tx, "week-49", &progress, t0)
                .unwrap(),
            None
        );
    }

    #[test]
    fn send_failures_are_raised_once_sending_as_a_whole_fails() {
        let mut store = Store::open_in_memory().unwrap();
        let alerter = alerter(&["+447400111111"]);
        let ann = E164::from_international("+447400123456").unwrap();
        let t0 = t("2025-03-03T08:00:00Z");
        let mut raised = Vec::new();
        for n in 0..4 {
            let at = t0 + SignedDuration::from_mins(n);
            let tx = store.transaction().unwrap();
            let id = tx
                .outbox()
                .queue(
                    &Outgoing {
                        recipient: &ann,
                        text: "hello",
                        kind: Kind::Reply,
                        cause: None,
                    },
                    at,
                )
                .unwrap();
            tx.outbox().begin_part(id, 1, 1, at).unwrap();
            tx.outbox()
                .fail(id, "+CMS ERROR: 38 (attempt 5 of 5; giving up)", at)
                .unwrap();
            raised.push(alerter.after_send_failure(&tx, at).unwrap().is_some());
            tx.commit().unwrap();
        }
        // Fires at the third failure, and not again at the fourth (rate limit).
        assert_eq!(raised, [false, false, true, false]);
        let queued = queued_alerts(&mut store);
        assert_eq!(queued.len(), 1);
        assert!(queued[0].1.contains("3 texts failed"), "{queued:?}");
        assert!(queued[0].1.contains("+CMS ERROR: 38"), "{queued:?}");
        // The alert itself is queued, not failed: it does not count as a failure.
        let tx = store.read().unwrap();
        let alerts = tx
            .outbox()
            .list(OutboxFilter {
                kind: Some(Kind::Alert),
                state: Some(OutboxState::Queued),
                ..OutboxFilter::default()
            })
            .unwrap();
        assert_eq!(alerts.len(), 1);
    }
}
