//! Agent callbacks by voice (`AGENT <what they need>`), dialled through the modem.
//!
//! # Layout
//!
//! | file | concern |
//! |---|---|
//! | [`state`] | the lifecycle: one transition function, each change recorded with its SMS and logged `old -> new (reason)` |
//! | [`call`] | one call: `ATD`, followed with `AT+CLCC` until answered, busy, unanswered or gone; releasing calls |
//! | [`dialler`] | the task: one callback at a time, the agents in order, bridge or ring mode, retries, restarts |
//!
//! Business hours are [`crate::service::hours`] (pure, shared with the AGENT reply); the
//! modem is shared with the outbox sender through [`crate::daemon::lease`].
//!
//! # What happens
//!
//! An employee texts AGENT: the rules queue a `callbacks` row in the transaction that queues
//! the reply ([`crate::daemon::process`]). The dialler takes it when it is due (within
//! business hours), takes the modem from the outbox sender, and phones the agents in the
//! order of `[agent] numbers`, sending each one it phones an SMS about the employee (so
//! nothing depends on a call connecting). The first agent to answer is, in bridge mode, put
//! on hold while the employee is phoned, and the two are joined by explicit call transfer
//! (`AT+CHLD=4`; the modem leaves the call) or, when the network refuses that, a conference
//! (`AT+CHLD=3`; the modem stays in it until a party hangs up). In ring mode the call only
//! makes the agent look at the SMS. No agent answering is a failed round, tried again later
//! with backoff; after `[agent] max_attempts` rounds the employee is told. The employee not
//! answering ends it too, with the agent told by SMS.

pub mod call;
pub mod dialler;
pub mod state;

use std::future::Future;
use std::sync::Arc;

use jiff::Timestamp;

use crate::modem::{Call, DialNumber, DialOutcome, HoldAction, HoldOptions, ModemError};

pub use dialler::{Dialler, Setup, Timing};

/// The modem's voice side, as the dialler uses it (the AT engine in the daemon; each method
/// is one command: `AT+CREG?`, `ATD`, `AT+CLCC`, `AT+CHLD=<n>`, `ATH`/`AT+CHUP`, `AT+CHLD=?`).
pub trait Voice: Send + Sync + 'static {
    /// Completes when the modem can take commands (at once when it can now).
    fn ready(&self) -> impl Future<Output = ()> + Send;
    /// Registered on a network (home or roaming), so a call can be placed.
    fn registered(&self) -> impl Future<Output = Result<bool, ModemError>> + Send;
    fn dial(
        &self,
        number: &DialNumber,
    ) -> impl Future<Output = Result<DialOutcome, ModemError>> + Send;
    fn calls(&self) -> impl Future<Output = Result<Vec<Call>, ModemError>> + Send;
    fn hold(&self, action: HoldAction) -> impl Future<Output = Result<(), ModemError>> + Send;
    fn hang_up(&self) -> impl Future<Output = Result<(), ModemError>> + Send;
    fn hold_options(&self) -> impl Future<Output = Result<HoldOptions, ModemError>> + Send;
}

/// What time it is: passed in, so tests can put "now" in or out of business hours.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(Timestamp::now)
}

#[cfg(test)]
mod tests;
