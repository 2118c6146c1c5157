//! Placing and following voice calls through the modem: `ATD<number>;`, then `AT+CLCC`
//! (3GPP TS 27.007 §7.18) until the call is answered, busy, unanswered, or gone; releasing
//! one call (`AT+CHLD=1x`, §7.13) or all of them.
//!
//! `AT+CLCC` is the truth; the `BUSY` / `NO ANSWER` / `NO CARRIER` codes that arrive on their
//! own only wake the follower early and say why a call vanished from the list. Most modems
//! answer `ATD...;` with `OK` at once and report the call's fate later; older ones answer
//! only once it is settled (`BUSY`, `NO ANSWER`, `NO CARRIER`, or `OK` when answered): both
//! end up here.

use std::fmt;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::Voice;
use crate::daemon::shutdown::Shutdown;
use crate::modem::voice::{CallState, Direction};
use crate::modem::{Call, CallEnd, DialNumber, DialOutcome, HoldAction};
use crate::service::phone::E164;

/// Why a phone was not answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unanswered {
    /// `BUSY`.
    Busy,
    /// The network gave up ringing (`NO ANSWER`).
    NoAnswer,
    /// Our ring timeout: the call was released.
    TimedOut(Duration),
    /// `NO CARRIER`: declined, switched off or unreachable.
    NoCarrier,
    /// It vanished from `AT+CLCC` without a word.
    Dropped,
}

impl fmt::Display for Unanswered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unanswered::Busy => f.write_str("was busy"),
            Unanswered::NoAnswer => f.write_str("did not answer (the network gave up)"),
            Unanswered::TimedOut(after) => {
                write!(f, "did not answer within {}s", after.as_secs())
            }
            Unanswered::NoCarrier => f.write_str("declined or could not be reached (NO CARRIER)"),
            Unanswered::Dropped => f.write_str("dropped the call before answering"),
        }
    }
}

/// How ringing a number ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rang {
    /// Answered: the call is active, with this `AT+CLCC` index.
    Answered {
        index: u8,
    },
    NotAnswered(Unanswered),
    /// The call being kept (the agent on hold) ended while this one rang; this one was
    /// released.
    KeptCallEnded,
    /// The modem could not place or follow the call (what it said); nothing was left up.
    Trouble(String),
    /// Shutdown came while it rang; the call was released.
    Stopped,
}

/// How the wait for a conference to end came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Over {
    /// A party left (how many of the watched calls remain on the modem).
    Left {
        remaining: usize,
    },
    Trouble(String),
    Stopped,
}

/// How often and how long to look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// `AT+CLCC` this often while a phone rings.
    pub poll: Duration,
    /// And this often during a conference (a call-ended code wakes it sooner).
    pub conference_poll: Duration,
    /// After a call vanished from the list, how long to wait for the code saying why.
    pub ended_grace: Duration,
}

/// The modem's calls as the dialler drives them.
pub struct Line<'a, V> {
    pub voice: &'a V,
    /// Call-ended codes from the modem's unsolicited output.
    pub ended: &'a mut mpsc::UnboundedReceiver<CallEnd>,
    pub shutdown: &'a Shutdown,
    pub pace: Pace,
    /// `AT+CHLD=1x` is offered: one call can be released without the others.
    pub release_one: bool,
}

/// The next call-ended code; never, once nobody can send one (the modem task stopped).
async fn next_code(ended: &mut mpsc::UnboundedReceiver<CallEnd>) -> CallEnd {
    match ended.recv().await {
        Some(code) => code,
        None => std::future::pending().await,
    }
}

fn index_of(calls: &[Call], index: u8) -> Option<&Call> {
    calls.iter().find(|call| call.index == index)
}

impl<V: Voice> Line<'_, V> {
    /// Forget call-ended codes about earlier calls.
    fn forget_old_codes(&mut self) {
        while self.ended.try_recv().is_ok() {}
    }

    /// Why the call that vanished ended: the last code seen, or the next one within the grace
    /// period (it may still be on its way from the modem task).
    async fn why_ended(&mut self, seen: Option<CallEnd>) -> Unanswered {
        let code = match seen {
            Some(code) => Some(code),
            None => tokio::time::timeout(self.pace.ended_grace, self.ended.recv())
                .await
                .ok()
                .flatten(),
        };
        match code {
            Some(CallEnd::Busy) => Unanswered::Busy,
            Some(CallEnd::NoAnswer) => Unanswered::NoAnswer,
            Some(CallEnd::NoCarrier) => Unanswered::NoCarrier,
            Some(CallEnd::NoDialtone) | None => Unanswered::Dropped,
        }
    }

    /// Dial `number` and follow the call until it is answered, not answered within
    /// `timeout`, or gone. `keep`: a call (the agent on hold) whose end stops this one.
    pub async fn ring(&mut self, number: &E164, timeout: Duration, keep: Option<u8>) -> Rang {
        self.forget_old_codes();
        let before = match self.voice.calls().await {
            Ok(calls) => calls.iter().map(|c| c.index).collect::<Vec<_>>(),
            Err(err) => return Rang::Trouble(format!("AT+CLCC before dialling: {err}")),
        };
        let dial = match DialNumber::new(number.as_str()) {
            Ok(dial) => dial,
            Err(err) => return Rang::Trouble(err.to_string()),
        };
        let deadline = Instant::now() + timeout;
        match self.voice.dial(&dial).await {
            Ok(DialOutcome::Dialling | DialOutcome::Connected) => {}
            Ok(DialOutcome::Busy) => return Rang::NotAnswered(Unanswered::Busy),
            Ok(DialOutcome::NoAnswer) => return Rang::NotAnswered(Unanswered::NoAnswer),
            Ok(DialOutcome::NoCarrier) => return Rang::NotAnswered(Unanswered::NoCarrier),
            Ok(DialOutcome::NoDialtone) => {
                return Rang::Trouble(format!("ATD{dial}; said NO DIALTONE (no network)"));
            }
            Err(err) => return Rang::Trouble(format!("ATD{dial};: {err}")),
        }
        let mut ours: Option<u8> = None;
        let mut seen: Option<CallEnd> = None;
        loop {
            let calls = match self.voice.calls().await {
                Ok(calls) => calls,
                Err(err) => {
                    self.release_quietly(ours).await;
                    return Rang::Trouble(format!("AT+CLCC while ringing {number}: {err}"));
                }
            };
            let call = match ours {
                Some(index) => index_of(&calls, index),
                None => calls
                    .iter()
                    .find(|c| c.direction == Direction::Outgoing && !before.contains(&c.index)),
            };
            let Some(call) = call else {
                return Rang::NotAnswered(self.why_ended(seen).await);
            };
            ours = Some(call.index);
            if let Some(kept) = keep
                && index_of(&calls, kept).is_none()
            {
                self.release_quietly(ours).await;
                return Rang::KeptCallEnded;
            }
            match call.state {
                CallState::Active => return Rang::Answered { index: call.index },
                CallState::Dialing | CallState::Alerting => {}
                // Not what an outgoing call should be: keep looking until the timeout.
                other => tracing::debug!(
                    "call {} to {number} is {other:?}",
                    call.index,
                    number = crate::logging::phone(number)
                ),
            }
            let now = Instant::now();
            if now >= deadline {
                self.release_quietly(ours).await;
                return Rang::NotAnswered(Unanswered::TimedOut(timeout));
            }
            let next = (now + self.pace.poll).min(deadline);
            tokio::select! {
                biased;
                _ = self.shutdown.requested() => {
                    self.release_quietly(ours).await;
                    return Rang::Stopped;
                }
                code = next_code(self.ended) => seen = Some(code),
                _ = tokio::time::sleep_until(next) => {}
            }
        }
    }

    /// Wait while the calls `parties` are all up (a conference); return once one is gone.
    pub async fn until_one_leaves(&mut self, parties: &[u8]) -> Over {
        loop {
            let calls = match self.voice.calls().await {
                Ok(calls) => calls,
                Err(err) => return Over::Trouble(format!("AT+CLCC during the conference: {err}")),
            };
            let remaining = parties
                .iter()
                .filter(|p| index_of(&calls, **p).is_some())
                .count();
            if remaining < parties.len() {
                return Over::Left { remaining };
            }
            tokio::select! {
                biased;
                _ = self.shutdown.requested() => return Over::Stopped,
                _ = next_code(self.ended) => {}
                _ = tokio::time::sleep(self.pace.conference_poll) => {}
            }
        }
    }

    /// Release one call (`AT+CHLD=1x`), or every call when the network cannot release one.
    pub async fn release(&mut self, index: u8) -> Result<(), String> {
        let result = if self.release_one {
            self.voice.hold(HoldAction::Release(index)).await
        } else {
            self.voice.hang_up().await
        };
        result.map_err(|err| err.to_string())
    }

    async fn release_quietly(&mut self, index: Option<u8>) {
        if let Some(index) = index
            && let Err(err) = self.release(index).await
        {
            tracing::warn!(
                "releasing call {index}: {err}; hanging up everything",
                err = crate::logging::scrub(&err)
            );
            if let Err(err) = self.clear().await {
                tracing::warn!("{err}", err = crate::logging::scrub(&err));
            }
        }
    }

    /// Hang up every call on the modem, held ones too (`ATH` leaves held calls up on some
    /// modems), and check with `AT+CLCC` that none is left.
    pub async fn clear(&mut self) -> Result<(), String> {
        let mut last = String::new();
        for _ in 0..3 {
            let calls = self
                .voice
                .calls()
                .await
                .map_err(|err| format!("AT+CLCC: {err}"))?;
            if calls.is_empty() {
                return Ok(());
            }
            if let Err(err) = self.voice.hang_up().await {
                last = format!("hanging up: {err}");
            }
            if self.release_one {
                let left = self
                    .voice
                    .calls()
                    .await
                    .map_err(|err| format!("AT+CLCC: {err}"))?;
                for call in left {
                    if let Err(err) = self.voice.hold(HoldAction::Release(call.index)).await {
                        last = format!("releasing call {}: {err}", call.index);
                    }
                }
            }
        }
        let left = self
            .voice
            .calls()
            .await
            .map_err(|err| format!("AT+CLCC: {err}"))?;
        if left.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{} call(s) still up on the modem after hanging up three times ({last})",
                left.len()
            ))
        }
    }
}
