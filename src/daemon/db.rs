//! The database actor: one long-lived [`Store`] connection owned by one dedicated thread.
//!
//! Every component sends it a closure and awaits the answer on a oneshot ([`Db::call`]), so
//! writes are serialised on one connection, SQLite never runs on an async worker thread, and
//! no transaction is ever held across an `.await` (a closure runs to its end before the next
//! starts). The same thread polls `PRAGMA data_version` (about 2 µs) every `poll_every`, so a
//! row inserted by a person's `sqlite3`, the admin CLI or the CSV importer is noticed within
//! that interval without busy polling: [`Db::changes`] ticks.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use tokio::sync::{Notify, oneshot, watch};

use super::shutdown::Shutdown;
use crate::store::{Store, StoreError};

type Job = Box<dyn FnOnce(&mut Store) + Send>;

/// The database thread has stopped (every [`Db`] handle but this one was dropped, or a job
/// panicked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the database thread has stopped")]
pub struct DbStopped;

/// Why a database job did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The job failed (a lock held too long by someone else, the disk): worth retrying later.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The thread is gone: the daemon cannot go on.
    #[error(transparent)]
    Stopped(#[from] DbStopped),
}

/// Longest a queue's task waits with nothing due before looking again. Every way something
/// gets queued also wakes the task; looking once a minute anyway costs one query and bounds
/// the damage of a wake-up that was missed.
pub const IDLE_LOOK: Duration = Duration::from_secs(60);

/// A queue's task with nothing due (the outbox sender, the callback dialler): wait for its
/// `wake` (the daemon queued something), another connection's commit, the next retry time
/// `due`, a look anyway after [`IDLE_LOOK`], or shutdown.
pub async fn idle_until(
    due: Option<Timestamp>,
    now: Timestamp,
    wake: &Notify,
    changes: &mut watch::Receiver<u64>,
    shutdown: &Shutdown,
) -> Result<(), DbStopped> {
    // Retry times are stored to the second: wake just after the one that is due. One that
    // is already past still waits that second, so a row the task cannot take yet never
    // makes it spin.
    let wait = due.map_or(IDLE_LOOK, |at| {
        let until = Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO);
        (until + Duration::from_millis(1_001)).min(IDLE_LOOK)
    });
    tokio::select! {
        _ = shutdown.requested() => {}
        _ = wake.notified() => {}
        changed = changes.changed() => {
            if changed.is_err() {
                return Err(DbStopped);
            }
        }
        _ = tokio::time::sleep(wait) => {}
    }
    Ok(())
}

/// Cloneable handle to the database thread.
#[derive(Debug, Clone)]
pub struct Db {
    jobs: mpsc::Sender<Job>,
    changes: watch::Receiver<u64>,
}

/// The thread itself, to join at the end.
#[derive(Debug)]
pub struct DbThread {
    handle: JoinHandle<()>,
}

impl DbThread {
    /// Wait for the thread to finish its last job (after every [`Db`] is dropped).
    pub fn join(self) {
        if self.handle.join().is_err() {
            tracing::error!("the database thread panicked");
        }
    }
}

impl Db {
    /// Move `store` onto a new thread. `poll_every`: how often to look for other
    /// connections' commits.
    pub fn start(mut store: Store, poll_every: Duration) -> std::io::Result<(Db, DbThread)> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (tick, changes) = watch::channel(0u64);
        let handle = std::thread::Builder::new()
            .name("shiftsms-db".into())
            .spawn(move || {
                let mut last_poll = Instant::now();
                loop {
                    let wait = poll_every.saturating_sub(last_poll.elapsed());
                    match queue.recv_timeout(wait) {
                        Ok(job) => job(&mut store),
                        Err(mpsc::RecvTimeoutError::Timeout) => {}
                        Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    }
                    if last_poll.elapsed() >= poll_every {
                        last_poll = Instant::now();
                        match store.changed_by_others() {
                            Ok(true) => {
                                tick.send_modify(|n| *n = n.wrapping_add(1));
                            }
                            Ok(false) => {}
                            Err(err) => tracing::warn!("{err}"),
                        }
                    }
                }
            })?;
        Ok((Db { jobs, changes }, DbThread { handle }))
    }

    /// Run `job` on the database thread and return its result.
    pub async fn call<T, F>(&self, job: F) -> Result<T, DbStopped>
    where
        F: FnOnce(&mut Store) -> T + Send + 'static,
        T: Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        self.jobs
            .send(Box::new(move |store: &mut Store| {
                let _ = answer.send(job(store));
            }))
            .map_err(|_| DbStopped)?;
        answered.await.map_err(|_| DbStopped)
    }

    /// [`Db::call`] for a job that can fail, with the two failures folded into one.
    pub async fn run<T, F>(&self, job: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        Ok(self.call(job).await??)
    }

    /// Ticks whenever another connection committed something (checked every `poll_every`).
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn idle_waits_just_past_the_due_time_and_never_spins() {
        let (_trigger, shutdown) = Shutdown::new();
        let wake = Notify::new();
        let (_commits, mut changes) = watch::channel(0u64);
        let now: Timestamp = "2026-11-24T10:00:00Z".parse().unwrap();
        let second = jiff::SignedDuration::from_secs(1);
        let table = [
            (None, IDLE_LOOK),
            // Already past: one second, not zero (a row not takeable yet must not spin).
            (Some(now - second * 10), Duration::from_millis(1_001)),
            (Some(now + second * 5), Duration::from_millis(6_001)),
            (Some(now + second * 3_600), IDLE_LOOK),
        ];
        for (due, waited) in table {
            let started = tokio::time::Instant::now();
            idle_until(due, now, &wake, &mut changes, &shutdown)
                .await
                .unwrap();
            assert_eq!(started.elapsed(), waited, "due {due:?}");
        }
        // A wake-up ends the wait at once.
        wake.notify_one();
        let started = tokio::time::Instant::now();
        idle_until(None, now, &wake, &mut changes, &shutdown)
            .await
            .unwrap();
        assert_eq!(started.elapsed(), Duration::ZERO);
    }

    #[tokio::test]
    async fn jobs_run_in_order_and_others_commits_are_noticed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shiftsms.db");
        let store = Store::open(&path).unwrap();
        let (db, thread) = Db::start(store, Duration::from_millis(20)).unwrap();
        let mut changes = db.changes();

        // Our own writes do not tick.
        let now: jiff::Timestamp = "2025-03-03T08:00:00Z".parse().unwrap();
        db.call(move |store| {
            let tx = store.transaction()?;
            tx.shifts().add("XYZ123", "Mon", now)?;
            tx.commit()
        })
        .await
        .unwrap()
        .unwrap();
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert!(!changes.has_changed().unwrap());

        // Another connection's insert does.
        let other = rusqlite::Connection::open(&path).unwrap();
        other
            .execute(
                "INSERT INTO shift_campaigns (campaign_id, shifts) VALUES ('c1', 'XYZ123')",
                [],
            )
            .unwrap();
        tokio::time::timeout(Duration::from_secs(5), changes.changed())
            .await
            .expect("noticed within the poll interval")
            .unwrap();
        let campaigns = db
            .call(|store| store.read()?.campaigns().not_yet_broadcast())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(campaigns.len(), 1);

        drop(changes);
        drop(db);
        thread.join();
    }
}
