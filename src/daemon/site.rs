//! The tasks that keep the people looking after the site informed (issue 7): systemd's
//! readiness, status and watchdog ([`super::systemd`]), the probes the watchdog follows
//! ([`super::probe`]), and the heartbeat with its alerts ([`super::heartbeat`]).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use super::Health;
use super::alerts::Alerter;
use super::db::{Db, DbStopped};
use super::heartbeat::{self, Heart, Readings};
use super::probe::{self, Liveness, Probe};
use super::shutdown::Shutdown;
use super::systemd::{self, Systemd, Watched};
use crate::modem::ModemHandle;

/// What the site tasks are given.
pub struct Parts {
    pub systemd: Systemd,
    pub db: Db,
    pub modem: ModemHandle,
    pub health: watch::Receiver<Health>,
    pub port: String,
    pub alerter: Arc<Alerter>,
    pub outbox: Arc<Notify>,
    /// How often the heartbeat row is rewritten.
    pub heartbeat_every: Duration,
    /// How long readiness waits for a modem still initialising.
    pub ready_grace: Duration,
}

/// Start the site tasks in `tasks`, under `shutdown`.
pub fn spawn(
    tasks: &mut JoinSet<(&'static str, Result<(), DbStopped>)>,
    parts: Parts,
    shutdown: Shutdown,
) {
    let probe_every = heartbeat::probe_every(parts.heartbeat_every, parts.systemd.watchdog);
    let (modem_prober, modem_probe) = Probe::new("modem task");
    let (db_prober, db_probe) = Probe::new("database thread");
    let (readings_tx, readings) = watch::channel(Readings::default());
    tasks.spawn({
        let (modem, shutdown) = (parts.modem.clone(), shutdown.clone());
        let details_every = parts.heartbeat_every;
        async move {
            heartbeat::modem_prober(
                modem,
                modem_prober,
                probe_every,
                details_every,
                readings_tx,
                shutdown,
            )
            .await;
            ("modem prober", Ok(()))
        }
    });
    tasks.spawn({
        let (db, shutdown) = (parts.db.clone(), shutdown.clone());
        async move {
            let result = probe::database(db, db_prober, probe_every, shutdown).await;
            ("database prober", result)
        }
    });
    tasks.spawn({
        let watched = Watched {
            health: parts.health.clone(),
            modem: parts.modem.watch_state(),
            port: parts.port.clone(),
        };
        let liveness = Liveness::new(vec![modem_probe, db_probe]);
        let shutdown = shutdown.clone();
        async move {
            systemd::run(
                parts.systemd,
                watched,
                liveness,
                parts.ready_grace,
                shutdown,
            )
            .await;
            ("systemd notifier", Ok(()))
        }
    });
    tasks.spawn({
        let heart = Heart {
            db: parts.db,
            modem: parts.modem,
            health: parts.health,
            readings,
            alerter: parts.alerter,
            outbox: parts.outbox,
            port: parts.port,
            every: parts.heartbeat_every,
        };
        async move { ("heartbeat", heartbeat::run(heart, shutdown).await) }
    });
}
