//! `daemon_heartbeat`: the running daemon's one-row report on itself, rewritten every minute
//! or so and on every change of the modem's state, and read by `shiftsms status`, which so
//! never has to touch the modem the daemon holds. A row that is not rewritten any more says the
//! daemon is dead or hung ([`Heartbeat::is_stale`]).

use std::time::Duration;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::StoreError;
use super::sql::{Labelled, Time, count, labels, time_text};

/// How the daemon sees itself (the daemon's `Health`, as a word).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DaemonHealth {
    /// Started; the modem not initialised yet.
    Starting,
    /// The modem is ready and texts flow.
    Serving,
    /// The modem went away or is not usable; the database is still served.
    ModemAway,
    /// Stopped cleanly (SIGTERM): not running, but not dead either.
    Stopped,
}

labels!(DaemonHealth {
    Starting => "starting",
    Serving => "serving",
    ModemAway => "modem_away",
    Stopped => "stopped",
});

/// The modem's lifecycle state, as a word (the store knows nothing of modems).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModemCondition {
    Connecting,
    Initialising,
    Ready,
    Locked,
    Failed,
    Gone,
    Stopped,
}

labels!(ModemCondition {
    Connecting => "connecting",
    Initialising => "initialising",
    Ready => "ready",
    Locked => "locked",
    Failed => "failed",
    Gone => "gone",
    Stopped => "stopped",
});

/// What the daemon last learnt about the modem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModemReport {
    /// The configured serial device.
    pub port: String,
    pub condition: ModemCondition,
    /// Why it is locked, failed or gone.
    pub detail: Option<String>,
    /// When it entered `condition`.
    pub since: Timestamp,
    /// When the modem last answered a command (an error answer counts: it is there).
    pub answered_at: Option<Timestamp>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub imei: Option<String>,
    pub operator: Option<String>,
    /// Registration in words (`registered, home network`).
    pub registration: Option<String>,
    /// `+CSQ` `<rssi>` (TS 27.007 §8.5) and its value in dBm when known.
    pub signal_rssi: Option<u8>,
    pub signal_dbm: Option<i16>,
    /// Messages stored, and slots, where new messages are received (`<mem3>` of `+CPMS`).
    pub sim_used: Option<u32>,
    pub sim_total: Option<u32>,
}

/// The row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heartbeat {
    pub written_at: Timestamp,
    /// How often the daemon rewrites it.
    pub every: Duration,
    pub pid: u32,
    /// The daemon's version (`CARGO_PKG_VERSION`).
    pub version: String,
    pub started_at: Timestamp,
    pub health: DaemonHealth,
    pub modem: ModemReport,
    /// The latest thing that went wrong, in words, and when.
    pub last_problem: Option<(Timestamp, String)>,
}

/// Missed rewrites after which the daemon looks dead: one late write is a busy machine, three
/// are a hang.
pub const STALE_AFTER_MISSED: u32 = 3;

impl Heartbeat {
    /// Whether the daemon looks dead at `now`: it has not rewritten the row for
    /// [`STALE_AFTER_MISSED`] intervals. A clean stop is not stale: it is stopped.
    pub fn is_stale(&self, now: Timestamp) -> bool {
        self.health != DaemonHealth::Stopped && self.age(now) > self.stale_after()
    }

    /// How long since it was written (zero if the clock went back).
    pub fn age(&self, now: Timestamp) -> Duration {
        Duration::try_from(now.duration_since(self.written_at)).unwrap_or(Duration::ZERO)
    }

    /// How old the row may get before the daemon looks dead.
    pub fn stale_after(&self) -> Duration {
        self.every.saturating_mul(STALE_AFTER_MISSED)
    }
}

/// `daemon_heartbeat` within one transaction.
pub struct Heartbeats<'t> {
    conn: &'t Connection,
}

const COLUMNS: &str = "written_at, every_seconds, pid, version, started_at, health, modem_port, \
                       modem_state, modem_detail, modem_since, modem_answered_at, manufacturer, \
                       model, imei, operator, registration, signal_rssi, signal_dbm, sim_used, \
                       sim_total, last_problem, last_problem_at";

fn from_row(row: &Row<'_>) -> rusqlite::Result<Heartbeat> {
    let problem: Option<String> = row.get(20)?;
    let problem_at = row.get::<_, Option<Time>>(21)?.map(|t| t.0);
    Ok(Heartbeat {
        written_at: row.get::<_, Time>(0)?.0,
        every: Duration::from_secs(count(row.get(1)?)),
        pid: row.get(2)?,
        version: row.get(3)?,
        started_at: row.get::<_, Time>(4)?.0,
        health: row.get::<_, Labelled<DaemonHealth>>(5)?.0,
        modem: ModemReport {
            port: row.get(6)?,
            condition: row.get::<_, Labelled<ModemCondition>>(7)?.0,
            detail: row.get(8)?,
            since: row.get::<_, Time>(9)?.0,
            answered_at: row.get::<_, Option<Time>>(10)?.map(|t| t.0),
            manufacturer: row.get(11)?,
            model: row.get(12)?,
            imei: row.get(13)?,
            operator: row.get(14)?,
            registration: row.get(15)?,
            signal_rssi: row.get(16)?,
            signal_dbm: row.get(17)?,
            sim_used: row.get(18)?,
            sim_total: row.get(19)?,
        },
        last_problem: problem.zip(problem_at).map(|(what, at)| (at, what)),
    })
}

impl<'t> Heartbeats<'t> {
    pub(crate) fn new(conn: &'t Connection) -> Self {
        Heartbeats { conn }
    }

    /// Replace the row.
    pub fn write(&self, beat: &Heartbeat) -> Result<(), StoreError> {
        let m = &beat.modem;
        let (problem_at, problem) = match &beat.last_problem {
            Some((at, what)) => (Some(time_text(*at)), Some(what.as_str())),
            None => (None, None),
        };
        self.conn
            .prepare_cached(&format!(
                "INSERT OR REPLACE INTO daemon_heartbeat (id, {COLUMNS})
                 VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
                         ?16, ?17, ?18, ?19, ?20, ?21, ?22)"
            ))
            .and_then(|mut stmt| {
                stmt.execute(params![
                    time_text(beat.written_at),
                    i64::try_from(beat.every.as_secs().max(1)).unwrap_or(i64::MAX),
                    beat.pid,
                    beat.version,
                    time_text(beat.started_at),
                    beat.health.as_str(),
                    m.port,
                    m.condition.as_str(),
                    m.detail,
                    time_text(m.since),
                    m.answered_at.map(time_text),
                    m.manufacturer,
                    m.model,
                    m.imei,
                    m.operator,
                    m.registration,
                    m.signal_rssi,
                    m.signal_dbm,
                    m.sim_used,
                    m.sim_total,
                    problem,
                    problem_at,
                ])
            })
            .map_err(|e| StoreError::sql("writing the daemon's heartbeat", e))?;
        Ok(())
    }

    /// The row, if a daemon ever wrote one.
    pub fn read(&self) -> Result<Option<Heartbeat>, StoreError> {
        self.conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM daemon_heartbeat WHERE id = 1"
            ))
            .and_then(|mut stmt| stmt.query_row([], from_row).optional())
            .map_err(|e| StoreError::sql("reading the daemon's heartbeat", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn t(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn sample(written_at: Timestamp) -> Heartbeat {
        Heartbeat {
            written_at,
            every: Duration::from_secs(60),
            pid: 4242,
            version: "0.1.0".into(),
            started_at: t("2025-03-03T07:00:00Z"),
            health: DaemonHealth::Serving,
            modem: ModemReport {
                port: "/dev/shiftsms-modem".into(),
                condition: ModemCondition::Ready,
                detail: None,
                since: t("2025-03-03T07:00:05Z"),
                answered_at: Some(written_at),
                manufacturer: Some("HUAWEI".into()),
                model: Some("E3372".into()),
                imei: Some("867223011234567".into()),
                operator: Some("Vodafone UK".into()),
                registration: Some("registered, home network".into()),
                signal_rssi: Some(19),
                signal_dbm: Some(-75),
                sim_used: Some(3),
                sim_total: Some(30),
            },
            last_problem: Some((t("2025-03-03T07:30:00Z"), "modem lost (unplugged)".into())),
        }
    }

    #[test]
    fn written_then_read_back_and_replaced() {
        let mut store = Store::open_in_memory().unwrap();
        assert_eq!(store.read().unwrap().heartbeat().read().unwrap(), None);
        let first = sample(t("2025-03-03T08:00:00Z"));
        let tx = store.transaction().unwrap();
        tx.heartbeat().write(&first).unwrap();
        tx.commit().unwrap();
        assert_eq!(
            store.read().unwrap().heartbeat().read().unwrap(),
            Some(first.clone())
        );

        let mut second = sample(t("2025-03-03T08:01:00Z"));
        second.health = DaemonHealth::ModemAway;
        second.modem.condition = ModemCondition::Gone;
        second.modem.detail = Some("/dev/shiftsms-modem disappeared".into());
        second.modem.signal_rssi = None;
        second.modem.signal_dbm = None;
        second.last_problem = None;
        let tx = store.transaction().unwrap();
        tx.heartbeat().write(&second).unwrap();
        tx.commit().unwrap();
        assert_eq!(
            store.read().unwrap().heartbeat().read().unwrap(),
            Some(second)
        );
    }

    #[test]
    fn stale_after_three_missed_writes_unless_stopped() {
        let beat = sample(t("2025-03-03T08:00:00Z"));
        assert!(!beat.is_stale(t("2025-03-03T08:00:00Z")));
        assert!(!beat.is_stale(t("2025-03-03T08:03:00Z")));
        assert!(beat.is_stale(t("2025-03-03T08:03:01Z")));
        // A clock that went back does not make it stale.
        assert!(!beat.is_stale(t("2025-03-03T07:00:00Z")));
        let stopped = Heartbeat {
            health: DaemonHealth::Stopped,
            ..beat
        };
        assert!(!stopped.is_stale(t("2025-03-04T08:00:00Z")));
    }
}
