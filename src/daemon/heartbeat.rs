//! The heartbeat: what the daemon tells the people looking after the site, through the
//! database (`daemon_heartbeat`, read by `shiftsms status`) and by SMS (the modem and SIM
//! alerts of [`super::alerts`]).
//!
//! Two tasks:
//! - [`modem_prober`] asks the modem task for the signal level every few seconds (its answer,
//!   even a refusal while the modem is away, is the modem task's sign of life for the
//!   watchdog), and, while the modem is ready, for registration and SIM storage once a
//!   heartbeat. What it learns is published as [`Readings`].
//! - [`run`] writes the heartbeat row every `every` and at every change of the modem's state
//!   or of the daemon's [`Health`], and in the same transaction raises the modem-gone and
//!   SIM-storage alerts when they are due. At shutdown it writes a last row saying `stopped`.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{Notify, watch};

use super::Health;
use super::alerts::{Alert, Alerter, away_too_long, storage_nearly_full};
use super::db::{Db, DbError, DbStopped};
use super::probe::Prober;
use super::shutdown::Shutdown;
use crate::modem::command::CommandError;
use crate::modem::network::{Registration, Signal};
use crate::modem::sms::Usage;
use crate::modem::{ModemError, ModemHandle, ModemState};
use crate::store::heartbeat::{DaemonHealth, Heartbeat, ModemCondition, ModemReport};

/// What the prober learnt from the modem, latest first-hand values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Readings {
    /// When the modem last answered (an error answer counts: it is there).
    pub answered_at: Option<Timestamp>,
    pub signal: Option<Signal>,
    pub registration: Option<Registration>,
    /// Where new messages are received (`<mem3>` of `AT+CPMS?`).
    pub storage: Option<Usage>,
}

/// What an answer from the modem task says about the modem itself.
fn modem_answered<T>(result: &Result<T, ModemError>) -> bool {
    match result {
        Ok(_) => true,
        // Refused with an error code: the modem is there and talking.
        Err(ModemError::Command(
            CommandError::Rejected { .. } | CommandError::Unexpected { .. },
        )) => true,
        Err(_) => false,
    }
}

/// Ask the modem task for the signal every `every` (and registration and storage every
/// `details_every` while the modem is ready) until shutdown or until the task is gone.
pub async fn modem_prober(
    modem: ModemHandle,
    prober: Prober,
    every: Duration,
    details_every: Duration,
    readings: watch::Sender<Readings>,
    shutdown: Shutdown,
) {
    let mut details_at: Option<tokio::time::Instant> = None;
    loop {
        prober.asking();
        let signal = tokio::select! {
            _ = shutdown.requested() => return,
            signal = modem.signal() => signal,
        };
        if matches!(signal, Err(ModemError::Stopped)) {
            return;
        }
        let answered = modem_answered(&signal);
        readings.send_modify(|r| {
            if answered {
                r.answered_at = Some(Timestamp::now());
            }
            if let Ok(signal) = signal {
                r.signal = Some(signal);
            }
        });
        let due = details_at.is_none_or(|at| at.elapsed() >= details_every);
        if due && modem.state() == ModemState::Ready {
            details_at = Some(tokio::time::Instant::now());
            let (registration, storage) = tokio::select! {
                _ = shutdown.requested() => return,
                both = async { (modem.registration().await, modem.storage_status().await) } => both,
            };
            let answered = modem_answered(&registration) || modem_answered(&storage);
            readings.send_modify(|r| {
                if answered {
                    r.answered_at = Some(Timestamp::now());
                }
                if let Ok(registration) = registration {
                    r.registration = Some(registration);
                }
                if let Ok(storage) = storage {
                    r.storage = Some(storage.receive.1);
                }
            });
        }
        prober.answered();
        tokio::select! {
            _ = shutdown.requested() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

/// What the heartbeat task needs.
pub struct Heart {
    pub db: Db,
    pub modem: ModemHandle,
    pub health: watch::Receiver<Health>,
    pub readings: watch::Receiver<Readings>,
    pub alerter: Arc<Alerter>,
    /// Poked when an alert was queued.
    pub outbox: Arc<Notify>,
    /// The configured modem port.
    pub port: String,
    /// How often the row is rewritten.
    pub every: Duration,
}

/// The modem's state as the row stores it.
fn condition(state: &ModemState) -> (ModemCondition, Option<String>) {
    match state {
        ModemState::Connecting => (ModemCondition::Connecting, None),
        ModemState::Initialising => (ModemCondition::Initialising, None),
        ModemState::Ready => (ModemCondition::Ready, None),
        ModemState::Locked(lock) => (ModemCondition::Locked, Some(lock.to_string())),
        ModemState::Failed(why) => (ModemCondition::Failed, Some(why.clone())),
        ModemState::Gone(why) => (ModemCondition::Gone, Some(why.clone())),
        ModemState::Stopped => (ModemCondition::Stopped, None),
    }
}

fn daemon_health(health: &Health) -> DaemonHealth {
    match health {
        Health::Starting => DaemonHealth::Starting,
        Health::Serving => DaemonHealth::Serving,
        Health::ModemAway(_) => DaemonHealth::ModemAway,
        Health::Stopped => DaemonHealth::Stopped,
    }
}

/// What the heartbeat task keeps between two rows.
#[derive(Debug, Clone)]
struct Memory {
    started_at: Timestamp,
    state: ModemState,
    /// When the modem entered `state`.
    since: Timestamp,
    /// When the modem stopped being ready (the daemon's start, if it never was).
    away_since: Option<Timestamp>,
    last_problem: Option<(Timestamp, String)>,
}

impl Memory {
    fn new(now: Timestamp, state: ModemState) -> Memory {
        let away_since = (state != ModemState::Ready).then_some(now);
        Memory {
            started_at: now,
            state,
            since: now,
            away_since,
            last_problem: None,
        }
    }

    /// The modem moved to `state` at `now`.
    fn modem_changed(&mut self, state: ModemState, now: Timestamp) {
        if state == self.state {
            return;
        }
        match &state {
            ModemState::Ready => self.away_since = None,
            _ if self.away_since.is_none() => self.away_since = Some(now),
            _ => {}
        }
        if let ModemState::Gone(_) | ModemState::Locked(_) | ModemState::Failed(_) = &state {
            self.last_problem = Some((now, format!("modem {state}")));
        }
        self.state = state;
        self.since = now;
    }
}

/// The row for what is known at `now`.
fn compose(
    heart: &Heart,
    memory: &Memory,
    health: DaemonHealth,
    readings: &Readings,
    now: Timestamp,
) -> Heartbeat {
    let report = heart.modem.report();
    let info = report.as_ref().map(|report| &report.info);
    let from_init = |pick: fn(&crate::modem::ModemInfo) -> Option<String>| info.and_then(pick);
    let (condition, detail) = condition(&memory.state);
    let signal = readings.signal.or_else(|| info.and_then(|i| i.signal));
    let registration = readings
        .registration
        .or_else(|| info.and_then(|i| i.registration));
    let storage = readings
        .storage
        .or_else(|| info.and_then(|i| i.storage.as_ref().map(|s| s.receive.1)));
    Heartbeat {
        written_at: now,
        every: heart.every,
        pid: std::process::id(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        started_at: memory.started_at,
        health,
        modem: ModemReport {
            port: heart.port.clone(),
            condition,
            detail,
            since: memory.since,
            answered_at: readings.answered_at,
            manufacturer: from_init(|i| i.manufacturer.clone()),
            model: from_init(|i| i.model.clone()),
            imei: from_init(|i| i.imei.clone()),
            operator: from_init(|i| i.operator.clone()),
            registration: registration.map(|r| r.status.to_string()),
            signal_rssi: signal.map(|s| s.rssi),
            signal_dbm: signal.and_then(Signal::dbm),
            sim_used: storage.map(|s| s.used),
            sim_total: storage.map(|s| s.total),
        },
        last_problem: memory.last_problem.clone(),
    }
}

/// The alerts the heartbeat raises, due at `now`.
fn due_alerts(
    alerter: &Alerter,
    memory: &Memory,
    readings: &Readings,
    now: Timestamp,
) -> Vec<Alert> {
    let settings = alerter.settings();
    let mut alerts = Vec::new();
    if away_too_long(memory.away_since, now, settings.modem_gone_after)
        && let Some(since) = memory.away_since
    {
        alerts.push(Alert::ModemGone {
            since,
            why: memory.state.to_string(),
        });
    }
    if memory.state == ModemState::Ready
        && let Some(usage) = readings.storage
        && storage_nearly_full(usage.used, usage.total, settings.sim_storage_percent)
    {
        alerts.push(Alert::SimStorage {
            used: usage.used,
            total: usage.total,
        });
    }
    alerts
}

/// The heartbeat task: until shutdown, then one last row saying `stopped`.
pub async fn run(mut heart: Heart, shutdown: Shutdown) -> Result<(), DbStopped> {
    let mut states = heart.modem.watch_state();
    let mut memory = Memory::new(Timestamp::now(), states.borrow_and_update().clone());
    let mut tick = tokio::time::interval(heart.every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut states_open, mut health_open) = (true, true);
    loop {
        let stopping = tokio::select! {
            biased;
            _ = shutdown.requested() => true,
            changed = states.changed(), if states_open => {
                states_open = changed.is_ok();
                memory.modem_changed(states.borrow_and_update().clone(), Timestamp::now());
                false
            }
            changed = heart.health.changed(), if health_open => {
                health_open = changed.is_ok();
                false
            }
            _ = tick.tick() => false,
        };
        let now = Timestamp::now();
        let health = if stopping {
            DaemonHealth::Stopped
        } else {
            daemon_health(&heart.health.borrow_and_update())
        };
        let readings = heart.readings.borrow().clone();
        let beat = compose(&heart, &memory, health, &readings, now);
        let alerts = if stopping {
            Vec::new()
        } else {
            due_alerts(&heart.alerter, &memory, &readings, now)
        };
        let alerter = heart.alerter.clone();
        let written = heart
            .db
            .run(move |store| {
                let tx = store.transaction()?;
                tx.heartbeat().write(&beat)?;
                let mut queued = 0;
                for alert in &alerts {
                    if let Some(raised) = alerter.raise(&tx, alert, now)? {
                        queued += raised.recipients;
                    }
                }
                tx.commit()?;
                Ok(queued)
            })
            .await;
        match written {
            Ok(0) => {}
            Ok(_) => heart.outbox.notify_one(),
            Err(DbError::Stopped(stopped)) => return Err(stopped),
            Err(DbError::Store(err)) => {
                tracing::warn!(
                    "writing the heartbeat: {err}; trying again at the next one",
                    err = crate::logging::scrub(&err)
                );
            }
        }
        if stopping {
            return Ok(());
        }
    }
}

/// How often the modem and the database are probed: often enough for the watchdog (four
/// questions per interval), never more than once a heartbeat otherwise.
pub fn probe_every(heartbeat: Duration, watchdog: Option<Duration>) -> Duration {
    match watchdog {
        Some(interval) => (interval / 4).min(heartbeat).max(Duration::from_millis(50)),
        None => heartbeat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modem::SimLock;

    fn t(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn memory_tracks_since_when_the_modem_is_away_and_the_last_problem() {
        let t0 = t("2025-03-03T08:00:00Z");
        let mut memory = Memory::new(t0, ModemState::Connecting);
        assert_eq!(memory.away_since, Some(t0));
        memory.modem_changed(ModemState::Initialising, t("2025-03-03T08:00:01Z"));
        assert_eq!(memory.away_since, Some(t0));
        memory.modem_changed(ModemState::Ready, t("2025-03-03T08:00:05Z"));
        assert_eq!(memory.away_since, None);
        assert_eq!(memory.since, t("2025-03-03T08:00:05Z"));
        assert_eq!(memory.last_problem, None);
        let lost = t("2025-03-03T09:00:00Z");
        memory.modem_changed(ModemState::Gone("unplugged".into()), lost);
        memory.modem_changed(ModemState::Connecting, t("2025-03-03T09:00:01Z"));
        memory.modem_changed(
            ModemState::Locked(SimLock::PinRequired),
            t("2025-03-03T09:00:30Z"),
        );
        assert_eq!(memory.away_since, Some(lost));
        let (at, what) = memory.last_problem.clone().unwrap();
        assert_eq!(at, t("2025-03-03T09:00:30Z"));
        assert!(
            what.starts_with("modem locked: the SIM needs a PIN"),
            "{what}"
        );
    }

    #[test]
    fn modem_gone_and_sim_storage_alerts_are_due_from_what_was_seen() {
        let settings = crate::config::AlertSettings {
            numbers: vec![],
            site: "shiftsms".into(),
            repeat_after: jiff::SignedDuration::from_hours(6),
            sim_storage_percent: 80,
            modem_gone_after: jiff::SignedDuration::from_mins(10),
            send_failures: 3,
            send_failures_window: jiff::SignedDuration::from_hours(1),
            campaign_finished: true,
        };
        let alerter = Alerter::new(settings, jiff::tz::TimeZone::UTC);
        let t0 = t("2025-03-03T08:00:00Z");
        let mut memory = Memory::new(t0, ModemState::Connecting);
        memory.modem_changed(ModemState::Gone("unplugged".into()), t0);
        let nothing = Readings::default();
        assert!(due_alerts(&alerter, &memory, &nothing, t("2025-03-03T08:09:59Z")).is_empty());
        assert_eq!(
            due_alerts(&alerter, &memory, &nothing, t("2025-03-03T08:10:00Z")),
            [Alert::ModemGone {
                since: t0,
                why: "gone: unplugged".into()
            }]
        );

        memory.modem_changed(ModemState::Ready, t("2025-03-03T08:11:00Z"));
        let full = |used| Readings {
            storage: Some(Usage { used, total: 30 }),
            ..Readings::default()
        };
        let later = t("2025-03-03T09:00:00Z");
        assert!(due_alerts(&alerter, &memory, &full(23), later).is_empty());
        assert_eq!(
            due_alerts(&alerter, &memory, &full(24), later),
            [Alert::SimStorage {
                used: 24,
                total: 30
            }]
        );
    }

    #[test]
    fn probes_four_times_a_watchdog_interval() {
        let minute = Duration::from_secs(60);
        assert_eq!(probe_every(minute, None), minute);
        assert_eq!(
            probe_every(minute, Some(Duration::from_secs(180))),
            Duration::from_secs(45)
        );
        assert_eq!(probe_every(minute, Some(Duration::from_secs(3600))), minute);
        assert_eq!(
            probe_every(minute, Some(Duration::from_millis(2))),
            Duration::from_millis(50)
        );
    }
}
