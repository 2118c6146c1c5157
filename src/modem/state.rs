//! The modem's lifecycle: one enum, one transition function that logs `old -> new (reason)`
//! (after ModemManager's modem state machine).

use std::fmt;

use tokio::sync::watch;

/// Why the SIM keeps the modem from working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimLock {
    /// The SIM wants a PIN and none is configured.
    PinRequired,
    /// The configured PIN was refused. It is never sent again by this process: three wrong
    /// PINs block the SIM (TS 31.101); fix `[modem] pin` and restart.
    PinRejected {
        /// What the modem answered.
        answer: String,
    },
    /// The SIM is blocked and wants its PUK: unlock it in a phone.
    PukRequired,
    /// A phone-side lock (network or SIM lock).
    PhoneLock(String),
    /// No SIM in the modem.
    NoSim,
    /// The SIM does not work (`+CME ERROR: 13`/`15`).
    SimFailure(String),
}

impl fmt::Display for SimLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimLock::PinRequired => f.write_str("the SIM needs a PIN: set [modem] pin"),
            SimLock::PinRejected { answer } => write!(
                f,
                "the SIM refused the configured PIN ({answer}); it will not be tried again: check [modem] pin, then restart (three wrong PINs block the SIM)"
            ),
            SimLock::PukRequired => {
                f.write_str("the SIM is blocked (PUK needed): unlock it in a phone")
            }
            SimLock::PhoneLock(what) => write!(f, "the modem is locked ({what})"),
            SimLock::NoSim => f.write_str("no SIM card in the modem"),
            SimLock::SimFailure(what) => write!(f, "SIM failure: {what}"),
        }
    }
}

/// Where the modem stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModemState {
    /// Opening the port.
    Connecting,
    /// Port open, running the init sequence.
    Initialising,
    /// Serving requests.
    Ready,
    /// The SIM keeps it from working; nothing is sent until that changes.
    Locked(SimLock),
    /// The init sequence failed for another reason; retried periodically.
    Failed(String),
    /// The port is gone (unplugged, not there yet, held by another program); reopened with
    /// backoff.
    Gone(String),
    /// Shut down.
    Stopped,
}

impl ModemState {
    /// The state's name without details.
    pub fn name(&self) -> &'static str {
        match self {
            ModemState::Connecting => "connecting",
            ModemState::Initialising => "initialising",
            ModemState::Ready => "ready",
            ModemState::Locked(_) => "locked",
            ModemState::Failed(_) => "failed",
            ModemState::Gone(_) => "gone",
            ModemState::Stopped => "stopped",
        }
    }
}

impl fmt::Display for ModemState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModemState::Locked(lock) => write!(f, "locked: {lock}"),
            ModemState::Failed(why) => write!(f, "failed: {why}"),
            ModemState::Gone(why) => write!(f, "gone: {why}"),
            other => f.write_str(other.name()),
        }
    }
}

/// The current state, published to anyone holding a [`watch::Receiver`].
#[derive(Debug)]
pub struct StateMachine {
    tx: watch::Sender<ModemState>,
}

impl StateMachine {
    /// Starts in [`ModemState::Connecting`].
    pub fn new() -> (Self, watch::Receiver<ModemState>) {
        let (tx, rx) = watch::channel(ModemState::Connecting);
        (StateMachine { tx }, rx)
    }

    /// The current state.
    pub fn current(&self) -> ModemState {
        self.tx.borrow().clone()
    }

    /// The one place the state changes: logs `old -> new (reason)` and publishes. Returns the
    /// old state, or `None` when nothing changed.
    pub fn transition(&self, new: ModemState, reason: &str) -> Option<ModemState> {
        let old = self.current();
        if old == new {
            return None;
        }
        match &new {
            ModemState::Gone(_) | ModemState::Failed(_) | ModemState::Locked(_) => {
                tracing::warn!(
                    modem_state = new.name(),
                    "modem: {} -> {} ({reason})",
                    old.name(),
                    new
                )
            }
            _ => tracing::info!(
                modem_state = new.name(),
                "modem: {} -> {} ({reason})",
                old.name(),
                new
            ),
        }
        self.tx.send_replace(new);
        Some(old)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_publish_and_skip_repeats() {
        let (sm, rx) = StateMachine::new();
        assert_eq!(
            sm.transition(ModemState::Initialising, "port open"),
            Some(ModemState::Connecting)
        );
        assert_eq!(sm.transition(ModemState::Initialising, "again"), None);
        assert_eq!(*rx.borrow(), ModemState::Initialising);
        let locked = ModemState::Locked(SimLock::PinRejected {
            answer: "+CME ERROR: 16".into(),
        });
        sm.transition(locked.clone(), "PIN refused");
        assert_eq!(sm.current(), locked);
        assert!(locked.to_string().contains("will not be tried again"));
    }
}
