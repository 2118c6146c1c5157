//! The daemon (`shiftsms run`): the modem, the store and the rules wired together as tasks
//! under one shutdown signal.
//!
//! # Layout
//!
//! | file | concern |
//! |---|---|
//! | this file | [`run`]: the list of tasks, started and joined under one shutdown signal |
//! | [`shutdown`] | the one shutdown signal, injected by the caller |
//! | [`db`] | the database thread: one connection, jobs over a channel, `data_version` polling |
//! | [`process`] | one inbound text acted on in ONE transaction (rules, reply, processed mark) |
//! | [`campaigns`] | a new `shift_campaigns` row becomes exactly one broadcast, in a shuffled, recorded order |
//! | [`inbound`] | PDU → stored → assembled → acted on; the multipart assembler rebuilt after a restart |
//! | [`sim`] | the modem's message storage: list at ready, read on `+CMTI`, poll, delete only once kept |
//! | [`outbound`] | the outbox sender: one part at a time, in flight recorded before `AT+CMGS`, retries, pause |
//! | [`in_flight`] | what happens to a part whose fate is unknown (crash or no answer mid-send) |
//! | [`modem_link`] | the AT engine seen as a [`outbound::Transmitter`], a [`sim::SimStorage`] and a [`callbacks::Voice`]; its events sorted |
//! | [`callbacks`] | the callback dialler: agents phoned for AGENT, put through to the employee |
//! | [`lease`] | the modem shared between SMS sending and calls being set up |
//! | [`demo`] | `shiftsms demo`: the daemon on a virtual modem with sample data, as a transcript |
//! | [`site`] | the tasks that keep the site's people informed: [`systemd`] (readiness, status, watchdog following the [`probe`]s), [`heartbeat`] (the row `shiftsms status` reads) and [`alerts`] (texts to supervisors) |

pub mod alerts;
pub mod callbacks;
pub mod campaigns;
pub mod db;
pub mod demo;
pub mod heartbeat;
pub mod in_flight;
pub mod inbound;
pub mod lease;
pub mod modem_link;
pub mod outbound;
pub mod probe;
pub mod process;
pub mod shutdown;
pub mod sim;
pub mod site;
pub mod systemd;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinSet;

use crate::config::Config;
use crate::drop::import::ImportOptions;
use crate::drop::watcher::{self, WatchSettings};
use crate::modem::{self, ModemSettings, Pin};
use crate::store::{Store, StoreError};
use alerts::Alerter;
use db::{Db, DbError, DbStopped};
use inbound::Inbound;
use lease::ModemLease;
use modem_link::Link;
use outbound::OutboxSender;
use process::Rules;
use shutdown::Shutdown;
use systemd::Systemd;

/// Timings that are not worth a config key, with defaults for a site (`shiftsms run` and the
/// demo use them as they are; a library caller may change them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuning {
    /// How often the database thread looks for other connections' commits (a person's
    /// `INSERT` into `shift_campaigns` is noticed within this).
    pub db_poll: Duration,
    /// How long the parts of a multipart text wait for the rest before the text is acted on
    /// with what arrived (parts of one text normally arrive seconds apart; a network holding
    /// one back for minutes should not leave the employee without an answer for longer).
    pub part_timeout: Duration,
    /// How often the SIM is listed in case the modem dropped a `+CMTI` (gammu and
    /// ModemManager both learnt that modems do).
    pub sim_poll: Duration,
    /// Wait before trying again after a database error (a lock held past the busy timeout).
    pub db_retry: Duration,
    /// How often the campaign watcher looks even without a change by another connection
    /// (a campaign whose last offers were cancelled by STOP is marked done then).
    pub campaign_every: Duration,
    /// How often the heartbeat row `shiftsms status` reads is rewritten (also at every
    /// change of the modem's state).
    pub heartbeat_every: Duration,
    /// How long systemd's `READY=1` waits for a modem that is still initialising (one that
    /// is known to be absent or locked does not hold it back at all).
    pub ready_grace: Duration,
}

impl Default for Tuning {
    fn default() -> Tuning {
        Tuning {
            db_poll: Duration::from_millis(300),
            part_timeout: Duration::from_secs(600),
            sim_poll: Duration::from_secs(60),
            db_retry: Duration::from_secs(2),
            campaign_every: Duration::from_secs(30),
            heartbeat_every: Duration::from_secs(60),
            ready_grace: Duration::from_secs(30),
        }
    }
}

/// Where the daemon is, for whoever started it: the demo waits for [`Health::Serving`];
/// systemd's `READY=1` and the watchdog can follow it too.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Health {
    #[default]
    Starting,
    /// The modem is ready and what was stored on it was taken.
    Serving,
    /// The modem went away; the database is still served.
    ModemAway(String),
    Stopped,
}

/// Why the daemon could not start, or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("starting the database thread: {0}")]
    Thread(std::io::Error),
    #[error("[modem] pin in {file}: {why}")]
    Pin { file: String, why: String },
    #[error(transparent)]
    Db(#[from] DbStopped),
    #[error("the {task} task stopped unexpectedly: {why}")]
    Task { task: &'static str, why: String },
}

impl From<DbError> for DaemonError {
    fn from(err: DbError) -> Self {
        match err {
            DbError::Store(err) => DaemonError::Store(err),
            DbError::Stopped(err) => DaemonError::Db(err),
        }
    }
}

/// A daemon started by [`start`].
pub struct Running {
    pub health: watch::Receiver<Health>,
    /// Ends when the daemon has stopped.
    pub done: tokio::task::JoinHandle<Result<(), DaemonError>>,
}

/// [`run`] as a task, with its [`Health`] to watch.
pub fn start(config: Config, tuning: Tuning, shutdown: Shutdown) -> Running {
    let (health, watched) = watch::channel(Health::Starting);
    let done = tokio::spawn(serve(config, tuning, Systemd::off(), shutdown, health));
    Running {
        health: watched,
        done,
    }
}

/// `shiftsms run`: serve until `shutdown`, then stop every task at a safe point, telling
/// `systemd` (readiness, status, watchdog) as it goes.
pub async fn run(
    config: Config,
    tuning: Tuning,
    systemd: Systemd,
    shutdown: Shutdown,
) -> Result<(), DaemonError> {
    let (health, _) = watch::channel(Health::Starting);
    serve(config, tuning, systemd, shutdown, health).await
}

/// The tasks of the daemon, all under one shutdown signal:
///
/// | task | what it does |
/// |---|---|
/// | database thread | owns the one connection ([`db`]); polls `PRAGMA data_version` |
/// | modem engine | owns the serial port ([`crate::modem`]): init, reconnects, one command at a time |
/// | modem events | sorts the engine's events ([`modem_link::route`]): SMS to `inbound`, state to the log |
/// | inbound | SIM listing and reading, store then delete, multipart assembly and expiry, acting on texts ([`sim`], [`inbound`]) |
/// | outbox sender | sends what is queued, one part at a time ([`outbound`]) |
/// | campaign watcher | turns new `shift_campaigns` rows into broadcasts ([`campaigns`]) |
/// | callback dialler | phones agents for AGENT and puts them through ([`callbacks`]) |
/// | drop-folder watcher | imports CSV files saved into `[drop] dir` ([`crate::drop::watcher`]), on a database connection of its own: the database thread notices its commits like a person's |
/// | site tasks | systemd readiness and watchdog, the modem and database probes, the heartbeat and its alerts ([`site`]) |
///
/// If one task fails (the database thread died), the others are asked to stop too and the
/// error is returned.
async fn serve(
    config: Config,
    tuning: Tuning,
    systemd: Systemd,
    outer: Shutdown,
    health: watch::Sender<Health>,
) -> Result<(), DaemonError> {
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    let pin = match &config.modem.pin {
        None => None,
        Some(pin) => Some(Pin::new(pin).map_err(|err| DaemonError::Pin {
            file: config.file.display().to_string(),
            why: err.to_string(),
        })?),
    };
    let store = Store::open(&config.database.path)?;
    tracing::info!(
        database = %config.database.path.display(),
        "database open (schema version {})",
        store.schema_version()?
    );
    let (db, db_thread) = Db::start(store, tuning.db_poll).map_err(DaemonError::Thread)?;
    // Our own signal: fired by the caller's, or by a task that failed.
    let (trigger, shutdown) = Shutdown::new();
    let trigger = Arc::new(trigger);
    let forward = {
        let trigger = trigger.clone();
        let outer = outer.clone();
        tokio::spawn(async move {
            outer.requested().await;
            trigger.fire();
        })
    };

    let rules = Arc::new(Rules::from_config(&config));
    let outbox = Arc::new(Notify::new());
    let health = Arc::new(health);
    let port = config.modem.port.clone();
    // Before the modem is opened: what a previous run left half-done is settled first.
    let callbacks_queued = Arc::new(Notify::new());
    let mut inbound = Inbound::restore(
        db.clone(),
        rules,
        config.phone.default_country,
        tuning.part_timeout,
        outbox.clone(),
    )
    .await?;
    inbound.wake_on_callback(callbacks_queued.clone());
    let lease = ModemLease::new();
    let modem = {
        let (shutdown, lease) = (shutdown.clone(), lease.clone());
        let settings = ModemSettings::new(&port, config.modem.baud, pin);
        // The dialler hangs up before the modem task stops: no call is left unattended.
        modem::spawn(settings, async move {
            shutdown.requested().await;
            lease.until_no_call().await;
        })
    };
    let link = Link::new(modem.handle.clone());
    let (sim_events, sim_queue) = mpsc::unbounded_channel();
    let (call_events, calls_ended) = mpsc::unbounded_channel();
    let alerter = Arc::new(
        Alerter::new(config.alerts.clone(), jiff::tz::TimeZone::system())
            .watching(modem.handle.watch_state()),
    );

    let mut tasks: JoinSet<(&'static str, Result<(), DbStopped>)> = JoinSet::new();
    tasks.spawn({
        let health = health.clone();
        async move {
            modem_link::route(modem.events, sim_events, call_events, port, health).await;
            ("modem events", Ok(()))
        }
    });
    tasks.spawn({
        let (link, shutdown, health) = (link.clone(), shutdown.clone(), health.clone());
        async move {
            let result = sim::run(
                inbound,
                link,
                sim_queue,
                sim::Timing {
                    poll: tuning.sim_poll,
                    db_retry: tuning.db_retry,
                },
                health,
                shutdown,
            )
            .await;
            ("inbound", result)
        }
    });
    tasks.spawn({
        let sender = OutboxSender::new(
            db.clone(),
            link.clone(),
            config.outbox,
            outbox.clone(),
            shutdown.clone(),
            tuning.db_retry,
        )
        .with_lease(lease.clone())
        .with_alerts(alerter.clone());
        async move { ("outbox sender", sender.run().await) }
    });
    tasks.spawn({
        let (db, replies) = (db.clone(), Arc::new(config.messages.clone()));
        let (outbox, shutdown, alerter) = (outbox.clone(), shutdown.clone(), alerter.clone());
        async move {
            let every = tuning.campaign_every;
            let result = campaigns::watch(db, replies, alerter, outbox, every, shutdown).await;
            ("campaign watcher", result)
        }
    });
    tasks.spawn({
        let settings = WatchSettings::new(ImportOptions {
            default_country: config.phone.default_country,
        });
        let (dir, db_path) = (config.drop.dir.clone(), config.database.path.clone());
        let shutdown = shutdown.clone();
        async move {
            watcher::watch(
                dir,
                db_path,
                settings,
                async move { shutdown.requested().await },
            )
            .await;
            ("drop-folder watcher", Ok(()))
        }
    });
    tasks.spawn({
        let dialler = callbacks::Dialler::new(callbacks::Setup {
            db: db.clone(),
            voice: link,
            ended: calls_ended,
            lease,
            settings: config.agent.clone(),
            replies: Arc::new(config.messages.clone()),
            time_zone: jiff::tz::TimeZone::system(),
            clock: callbacks::system_clock(),
            wake: callbacks_queued,
            outbox: outbox.clone(),
            shutdown: shutdown.clone(),
            timing: callbacks::Timing {
                db_retry: tuning.db_retry,
                ..callbacks::Timing::default()
            },
        });
        async move { ("callback dialler", dialler.run().await) }
    });
    site::spawn(
        &mut tasks,
        site::Parts {
            systemd,
            db: db.clone(),
            modem: modem.handle.clone(),
            health: health.subscribe(),
            port: config.modem.port.display().to_string(),
            alerter,
            outbox: outbox.clone(),
            heartbeat_every: tuning.heartbeat_every,
            ready_grace: tuning.ready_grace,
        },
        shutdown.clone(),
    );

    let mut failure = None;
    while let Some(joined) = tasks.join_next().await {
        let (task, why) = match joined {
            Ok((_, Ok(()))) => continue,
            Ok((task, Err(stopped))) => (task, stopped.to_string()),
            Err(join) => ("a", join.to_string()),
        };
        if shutdown.is_requested() {
            tracing::debug!("the {task} task ended while stopping: {why}");
            continue;
        }
        tracing::error!("the {task} task stopped: {why}; stopping the daemon");
        trigger.fire();
        failure.get_or_insert(DaemonError::Task { task, why });
    }
    if let Err(err) = modem.task.await {
        failure.get_or_insert(DaemonError::Task {
            task: "modem engine",
            why: err.to_string(),
        });
    }
    drop(db);
    let joined = tokio::task::spawn_blocking(move || db_thread.join()).await;
    if let Err(err) = joined {
        failure.get_or_insert(DaemonError::Task {
            task: "database",
            why: err.to_string(),
        });
    }
    forward.abort();
    health.send_replace(Health::Stopped);
    match failure {
        Some(err) => Err(err),
        None => {
            tracing::info!("stopped");
            Ok(())
        }
    }
}
