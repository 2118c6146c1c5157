//! The one shutdown signal every task of the daemon watches (mini-redis's habit: it is
//! passed in, so `main` maps SIGTERM/SIGINT to it and tests and the demo pass their own).
//!
//! Tasks look at it only at their safe points: between two messages, between two parts,
//! never between `AT+CMGS` and its answer, never inside a transaction.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

/// Cloneable view of the signal.
#[derive(Debug, Clone)]
pub struct Shutdown {
    requested: watch::Receiver<bool>,
}

/// The side that fires it.
#[derive(Debug)]
pub struct Trigger {
    fire: watch::Sender<bool>,
}

impl Trigger {
    /// Ask every task to stop at its next safe point.
    pub fn fire(&self) {
        self.fire.send_replace(true);
    }
}

impl Shutdown {
    /// A signal and its trigger. Dropping the trigger counts as firing it, so a task can
    /// never wait for a signal nobody can give any more.
    pub fn new() -> (Trigger, Shutdown) {
        let (fire, requested) = watch::channel(false);
        (Trigger { fire }, Shutdown { requested })
    }

    /// A signal that fires when `future` completes (e.g. SIGTERM received). Needs a runtime.
    pub fn on(future: impl Future<Output = ()> + Send + 'static) -> Shutdown {
        let (trigger, shutdown) = Shutdown::new();
        tokio::spawn(async move {
            future.await;
            trigger.fire();
        });
        shutdown
    }

    pub fn is_requested(&self) -> bool {
        *self.requested.borrow() || self.requested.has_changed().is_err()
    }

    /// Completes once shutdown is asked for (at once if it already was).
    pub async fn requested(&self) {
        let mut requested = self.requested.clone();
        // An error means the trigger is gone: that is a request too.
        let _ = requested.wait_for(|fired| *fired).await;
    }

    /// Sleep for `wait`, unless shutdown is asked for first: `false` then.
    pub async fn nap(&self, wait: Duration) -> bool {
        tokio::select! {
            biased;
            _ = self.requested() => false,
            _ = tokio::time::sleep(wait) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn fires_once_for_every_clone_and_a_dropped_trigger_counts() {
        let (trigger, shutdown) = Shutdown::new();
        let other = shutdown.clone();
        assert!(!shutdown.is_requested());
        trigger.fire();
        shutdown.requested().await;
        other.requested().await;
        assert!(other.is_requested());

        let (trigger, shutdown) = Shutdown::new();
        drop(trigger);
        assert!(shutdown.is_requested());
        shutdown.requested().await;

        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let shutdown = Shutdown::on(async move {
            let _ = rx.await;
        });
        assert!(!shutdown.is_requested());
        tx.send(()).unwrap();
        shutdown.requested().await;
    }
}
