//! Who may use the modem's radio: the outbox sender (one SMS part at a time) or the callback
//! dialler (a call being set up).
//!
//! The AT engine already runs one command at a time, so neither can corrupt the other's
//! bytes; what it cannot see is that a call is a sequence of commands (`ATD`, `AT+CLCC`...,
//! `AT+CHLD=2`, `ATD`, `AT+CHLD=4`) that an `AT+CMGS` must not land in the middle of: many
//! modems refuse or delay SMS while a call is being set up, and an SMS answered late would
//! hold up the call's next step. So the dialler holds the [`CallLease`] from its first `ATD`
//! until the modem is free again, and the sender takes an [`SmsTurn`] for each part. The
//! lock is fair: once the dialler asks, it waits only for the part on the wire, and parts
//! asked for meanwhile wait until the call is over; then they go, in their usual order.
//!
//! Apart from that lock, [`ModemLease::calls_up`] marks the time calls are up on the modem
//! at all (a conference lets SMS through again, but is still a call): the modem task is only
//! stopped at shutdown once the dialler has hung up ([`ModemLease::until_no_call`]), so a
//! stop never leaves calls on the modem that nobody follows.

use std::sync::Arc;

use tokio::sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock, watch};

/// Shared by the sender, the dialler and the modem task (clones share one lock).
#[derive(Debug, Clone)]
pub struct ModemLease {
    lock: Arc<RwLock<()>>,
    calls: Arc<watch::Sender<bool>>,
}

impl Default for ModemLease {
    fn default() -> ModemLease {
        ModemLease {
            lock: Arc::default(),
            calls: Arc::new(watch::channel(false).0),
        }
    }
}

/// Calls are up on the modem while this lives (dropped, even by a task that failed: none).
#[derive(Debug)]
pub struct CallsUp {
    calls: Arc<watch::Sender<bool>>,
}

impl Drop for CallsUp {
    fn drop(&mut self) {
        self.calls.send_replace(false);
    }
}

/// The sender's permission to put one SMS part on the wire. Dropped after the part's answer.
#[derive(Debug)]
pub struct SmsTurn {
    _guard: OwnedRwLockReadGuard<()>,
}

/// The dialler's hold on the modem while a call is set up. Dropped when the modem is free.
#[derive(Debug)]
pub struct CallLease {
    _guard: OwnedRwLockWriteGuard<()>,
}

impl ModemLease {
    pub fn new() -> ModemLease {
        ModemLease::default()
    }

    /// Waits until no call is being set up (at once, usually).
    pub async fn sms(&self) -> SmsTurn {
        SmsTurn {
            _guard: self.lock.clone().read_owned().await,
        }
    }

    /// Waits for the SMS part on the wire, if any; SMS asked for afterwards wait for this
    /// lease to be dropped.
    pub async fn call(&self) -> CallLease {
        CallLease {
            _guard: self.lock.clone().write_owned().await,
        }
    }

    /// Mark calls up on the modem until the guard is dropped.
    pub fn calls_up(&self) -> CallsUp {
        self.calls.send_replace(true);
        CallsUp {
            calls: self.calls.clone(),
        }
    }

    /// Completes when no call is up (at once when none is).
    pub async fn until_no_call(&self) {
        let mut up = self.calls.subscribe();
        // The sender lives in `self`: it cannot close while we wait.
        let _ = up.wait_for(|up| !*up).await;
    }

    /// Whether a call holds the modem now.
    pub fn call_in_progress(&self) -> bool {
        self.lock.try_read().is_err()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_call_waits_for_the_part_on_the_wire_and_holds_later_parts() {
        let lease = ModemLease::new();
        let part = lease.sms().await;
        let call = tokio::spawn({
            let lease = lease.clone();
            async move { lease.call().await }
        });
        tokio::task::yield_now().await;
        assert!(
            !call.is_finished(),
            "a call does not start while a part is on the wire"
        );
        // A part asked for once the call is waiting queues behind it.
        let later = tokio::spawn({
            let lease = lease.clone();
            async move {
                let _turn = lease.sms().await;
            }
        });
        drop(part);
        let held = tokio::time::timeout(Duration::from_secs(5), call)
            .await
            .unwrap()
            .unwrap();
        assert!(lease.call_in_progress());
        tokio::task::yield_now().await;
        assert!(
            !later.is_finished(),
            "no SMS while the call holds the modem"
        );
        drop(held);
        tokio::time::timeout(Duration::from_secs(5), later)
            .await
            .unwrap()
            .unwrap();
        assert!(!lease.call_in_progress());
    }

    #[tokio::test]
    async fn the_modem_task_waits_until_no_call_is_up() {
        let lease = ModemLease::new();
        lease.until_no_call().await;
        let up = lease.calls_up();
        let waiting = tokio::spawn({
            let lease = lease.clone();
            async move { lease.until_no_call().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        drop(up);
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .unwrap()
            .unwrap();
    }
}
