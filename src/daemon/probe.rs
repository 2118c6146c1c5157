//! Signs of life from the loops that own the daemon's external resources, for the systemd
//! watchdog ([`super::systemd`]).
//!
//! A watchdog petted by a timer proves only that the timer runs. Here each resource owner is
//! asked something at regular intervals through its ordinary request channel, as any other
//! component would ask it: the modem task for the signal level (it answers at once, with a
//! refusal, when the modem is away), the database thread for an empty job. A question that
//! stays unanswered longer than the watchdog interval means that loop is wedged, whatever the
//! other tasks and timers are doing, and the watchdog is then not petted: systemd restarts the
//! service.

use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::db::{Db, DbStopped};
use super::shutdown::Shutdown;

/// Where one probed loop stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProbeState {
    /// When the question now waiting was asked (`None` between questions).
    pub asked_at: Option<Instant>,
    /// When the loop last answered.
    pub answered_at: Option<Instant>,
}

impl ProbeState {
    /// How long the loop has left a question unanswered at `now` (`None`: nothing waiting).
    pub fn silent_for(&self, now: Instant) -> Option<Duration> {
        self.asked_at
            .map(|asked| now.saturating_duration_since(asked))
    }
}

/// The asking side of a probe.
#[derive(Debug)]
pub struct Prober {
    state: watch::Sender<ProbeState>,
}

impl Prober {
    pub fn asking(&self) {
        let now = Instant::now();
        self.state.send_modify(|s| s.asked_at = Some(now));
    }

    pub fn answered(&self) {
        let now = Instant::now();
        self.state.send_modify(|s| {
            s.asked_at = None;
            s.answered_at = Some(now);
        });
    }
}

/// The watching side of a probe, named after the loop it watches.
#[derive(Debug, Clone)]
pub struct Probe {
    pub name: &'static str,
    state: watch::Receiver<ProbeState>,
}

impl Probe {
    pub fn new(name: &'static str) -> (Prober, Probe) {
        let (state, watched) = watch::channel(ProbeState::default());
        (
            Prober { state },
            Probe {
                name,
                state: watched,
            },
        )
    }

    pub fn state(&self) -> ProbeState {
        *self.state.borrow()
    }
}

/// Every probed loop.
#[derive(Debug, Clone, Default)]
pub struct Liveness {
    probes: Vec<Probe>,
}

/// A loop that has not answered for too long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stalled {
    pub name: &'static str,
    pub silent_for: Duration,
}

impl Liveness {
    pub fn new(probes: Vec<Probe>) -> Liveness {
        Liveness { probes }
    }

    /// The loop silent the longest, if one has left a question unanswered for more than
    /// `limit` at `now`.
    pub fn stalled(&self, now: Instant, limit: Duration) -> Option<Stalled> {
        self.probes
            .iter()
            .filter_map(|probe| {
                let silent_for = probe.state().silent_for(now)?;
                (silent_for > limit).then_some(Stalled {
                    name: probe.name,
                    silent_for,
                })
            })
            .max_by_key(|stalled| stalled.silent_for)
    }
}

/// The database thread's probe: an empty job, queued behind whatever it is doing.
pub async fn database(
    db: Db,
    prober: Prober,
    every: Duration,
    shutdown: Shutdown,
) -> Result<(), DbStopped> {
    loop {
        prober.asking();
        tokio::select! {
            _ = shutdown.requested() => return Ok(()),
            answered = db.call(|_| ()) => answered?,
        }
        prober.answered();
        tokio::select! {
            _ = shutdown.requested() => return Ok(()),
            _ = tokio::time::sleep(every) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_question_left_unanswered_past_the_limit_is_a_stall() {
        let (modem, modem_probe) = Probe::new("modem");
        let (db, db_probe) = Probe::new("database");
        let live = Liveness::new(vec![modem_probe, db_probe]);
        let limit = Duration::from_secs(60);
        assert_eq!(live.stalled(Instant::now(), limit), None);

        modem.asking();
        db.asking();
        tokio::time::advance(Duration::from_secs(30)).await;
        db.answered();
        assert_eq!(live.stalled(Instant::now(), limit), None);
        tokio::time::advance(Duration::from_secs(31)).await;
        assert_eq!(
            live.stalled(Instant::now(), limit),
            Some(Stalled {
                name: "modem",
                silent_for: Duration::from_secs(61)
            })
        );
        // Answering late clears it.
        modem.answered();
        assert_eq!(live.stalled(Instant::now(), limit), None);
    }

    #[tokio::test]
    async fn the_database_probe_answers_and_stops_at_shutdown() {
        let store = crate::store::Store::open_in_memory().unwrap();
        let (db, thread) = Db::start(store, Duration::from_millis(50)).unwrap();
        let (prober, probe) = Probe::new("database");
        let (trigger, shutdown) = Shutdown::new();
        let task = tokio::spawn(database(
            db.clone(),
            prober,
            Duration::from_millis(10),
            shutdown,
        ));
        let mut state = probe.state.clone();
        tokio::time::timeout(
            Duration::from_secs(10),
            state.wait_for(|s| s.answered_at.is_some()),
        )
        .await
        .unwrap()
        .unwrap();
        trigger.fire();
        assert!(task.await.unwrap().is_ok());
        drop(db);
        thread.join();
    }
}
