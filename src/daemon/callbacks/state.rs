//! The lifecycle of a callback, as one transition function (STYLE.md habit 6).
//!
//! ```text
//!            CallAgent            AgentAnswered            Finished
//!  queued ─────────────▶ dialling ─────────────▶ connected ─────────▶ done
//!    ▲  │                 │  ▲ │ CallAgent (next agent)      (put through, conference over,
//!    │  │ GaveUp          │  └─┘                              employee missed: agent told,
//!    │  ▼                 │ RoundFailed / Withdrawn           cut off: agent told)
//!    │ failed ◀───────────┤ (another round later)
//!    └────────────────────┘
//! ```
//!
//! `dialling` means an agent's phone is ringing (the agent named in the row); `connected`
//! means an agent answered and is being put through (on hold while the employee's phone
//! rings, then transferred or in a conference). Every change is recorded by [`apply`] inside
//! the caller's transaction, together with the SMS it causes, and logged `old -> new
//! (reason)` once committed ([`Moved::log`]).

use jiff::Timestamp;

use crate::service::phone::E164;
use crate::store::callbacks::{CallbackId, CallbackState, Change, Round};
use crate::store::{StoreError, Tx};

/// Something that happened to a callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// An agent is phoned: the first of a round (from `queued`), or the next in the list
    /// after the last was busy or did not answer (from `dialling`). `why` says which.
    CallAgent { agent: E164, why: String },
    /// The agent being phoned answered.
    AgentAnswered { agent: E164 },
    /// Over: put through, rung, or the employee could not be reached (and the agent told).
    Finished { outcome: String },
    /// Nobody answered in this round: another at `retry_at`.
    RoundFailed { why: String, retry_at: Timestamp },
    /// The round did not really happen (the modem away, shiftsms stopping before an agent
    /// answered): again at `retry_at`, not counted.
    Withdrawn { why: String, retry_at: Timestamp },
    /// No more rounds: the employee is told nobody could be reached.
    GaveUp { why: String },
}

impl Event {
    fn name(&self) -> &'static str {
        match self {
            Event::CallAgent { .. } => "calling an agent",
            Event::AgentAnswered { .. } => "an agent answering",
            Event::Finished { .. } => "finishing",
            Event::RoundFailed { .. } => "a failed round",
            Event::Withdrawn { .. } => "a withdrawn round",
            Event::GaveUp { .. } => "giving up",
        }
    }

    /// The reason, as the history and the log show it.
    pub fn reason(&self) -> String {
        match self {
            Event::CallAgent { why, .. } => why.clone(),
            Event::AgentAnswered { agent } => format!("agent {agent} answered"),
            Event::Finished { outcome } => outcome.clone(),
            Event::RoundFailed { why, retry_at } => format!("{why}; next round at {retry_at}"),
            Event::Withdrawn { why, retry_at } => {
                format!("{why}; not counted, trying again at {retry_at}")
            }
            Event::GaveUp { why } => why.clone(),
        }
    }
}

/// A change the lifecycle does not allow (a bug in the dialler, or a row a person edited).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a callback that is {from} cannot change by {event}")]
pub struct Refused {
    pub from: CallbackState,
    pub event: &'static str,
}

/// The one transition function: where `event` takes a callback that is `from`.
pub fn transition(from: CallbackState, event: &Event) -> Result<CallbackState, Refused> {
    use CallbackState::*;
    let to = match (from, event) {
        (Queued | Dialling, Event::CallAgent { .. }) => Dialling,
        (Dialling, Event::AgentAnswered { .. }) => Connected,
        (Dialling | Connected, Event::Finished { .. }) => Done,
        (Dialling, Event::RoundFailed { .. } | Event::Withdrawn { .. }) => Queued,
        (Queued | Dialling, Event::GaveUp { .. }) => Failed,
        _ => {
            return Err(Refused {
                from,
                event: event.name(),
            });
        }
    };
    Ok(to)
}

/// A change made: for the log line and the caller's idea of the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub id: CallbackId,
    pub old: CallbackState,
    pub new: CallbackState,
    pub reason: String,
}

impl Moved {
    /// `callback 3: dialling -> connected (agent +44... answered)`.
    pub fn log(&self) {
        tracing::info!(
            callback = self.id.0,
            "{}: {} -> {} ({})",
            self.id,
            self.old,
            self.new,
            crate::logging::scrub(&self.reason)
        );
    }
}

/// Record `event` for callback `id`, which the caller believes is `from`, inside `tx`.
pub fn apply(
    tx: &Tx<'_>,
    id: CallbackId,
    from: CallbackState,
    event: &Event,
    now: Timestamp,
) -> Result<Moved, StoreError> {
    let to = transition(from, event).map_err(|refused| StoreError::WrongState {
        what: id.to_string(),
        expected: "a state this change can follow",
        found: refused.to_string(),
    })?;
    let reason = event.reason();
    let change = Change {
        from,
        to,
        reason: &reason,
        round: Round::Same,
        agent: None,
        next_attempt_at: None,
        outcome: None,
        error: None,
    };
    let change = match event {
        Event::CallAgent { agent, .. } => Change {
            round: if from == CallbackState::Queued {
                Round::New
            } else {
                Round::Same
            },
            agent: Some(agent),
            ..change
        },
        Event::AgentAnswered { .. } => change,
        Event::Finished { outcome } => Change {
            outcome: Some(outcome),
            ..change
        },
        Event::RoundFailed { why, retry_at } => Change {
            next_attempt_at: Some(*retry_at),
            error: Some(why),
            ..change
        },
        Event::Withdrawn { why, retry_at } => Change {
            round: Round::GiveBack,
            next_attempt_at: Some(*retry_at),
            error: Some(why),
            ..change
        },
        Event::GaveUp { why } => Change {
            outcome: Some(why),
            error: Some(why),
            ..change
        },
    };
    tx.callbacks().record(id, &change, now)?;
    Ok(Moved {
        id,
        old: from,
        new: to,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use CallbackState::*;

    fn agent() -> E164 {
        E164::from_international("+441234567890").unwrap()
    }

    fn events() -> Vec<Event> {
        let at = "2025-03-03T09:00:00Z".parse().unwrap();
        vec![
            Event::CallAgent {
                agent: agent(),
                why: "calling".into(),
            },
            Event::AgentAnswered { agent: agent() },
            Event::Finished {
                outcome: "put through".into(),
            },
            Event::RoundFailed {
                why: "busy".into(),
                retry_at: at,
            },
            Event::Withdrawn {
                why: "modem gone".into(),
                retry_at: at,
            },
            Event::GaveUp {
                why: "nobody answered".into(),
            },
        ]
    }

    /// Every (state, event) pair: where it goes, or that it is refused.
    #[test]
    fn the_whole_table() {
        let states = [Queued, Dialling, Connected, Done, Failed];
        // Rows: states; columns: the events above, in order. None: refused.
        let table: [[Option<CallbackState>; 6]; 5] = [
            [Some(Dialling), None, None, None, None, Some(Failed)],
            [
                Some(Dialling),
                Some(Connected),
                Some(Done),
                Some(Queued),
                Some(Queued),
                Some(Failed),
            ],
            [None, None, Some(Done), None, None, None],
            [None; 6],
            [None; 6],
        ];
        for (state, row) in states.iter().zip(table) {
            for (event, want) in events().iter().zip(row) {
                let got = transition(*state, event).ok();
                assert_eq!(got, want, "{state} by {}", event.name());
            }
        }
        assert_eq!(
            transition(Done, &events()[0]).unwrap_err().to_string(),
            "a callback that is done cannot change by calling an agent"
        );
    }

    #[test]
    fn apply_records_the_change_and_refuses_a_stale_one() {
        let mut store = Store::open_in_memory().unwrap();
        let now = "2025-03-03T09:00:00Z".parse().unwrap();
        let ann = E164::from_international("+447400123456").unwrap();
        let tx = store.transaction().unwrap();
        let id = tx.callbacks().queue(&ann, "pay", None, now).unwrap();
        let moved = apply(&tx, id, Queued, &events()[0], now).unwrap();
        assert_eq!((moved.old, moved.new), (Queued, Dialling));
        let row = tx.callbacks().get(id).unwrap().unwrap();
        assert_eq!((row.attempts, row.agent), (1, Some(agent())));
        // The caller thought it was still queued: nothing is written.
        assert!(matches!(
            apply(&tx, id, Queued, &events()[0], now),
            Err(StoreError::WrongState { .. })
        ));
        // Not allowed by the lifecycle at all.
        assert!(matches!(
            apply(&tx, id, Dialling, &events()[2], now).and_then(|_| apply(
                &tx,
                id,
                Done,
                &events()[1],
                now
            )),
            Err(StoreError::WrongState { .. })
        ));
        assert_eq!(tx.callbacks().history(id).unwrap().len(), 3);
    }
}
