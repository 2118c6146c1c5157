//! The callback dialler: one task of the daemon, one callback at a time.
//!
//! Each step of a callback is one transaction on the database thread ([`state::apply`] and
//! the SMS it causes), committed before the modem is asked to do the next thing, so a crash
//! leaves the row saying what was under way: at the next start, a callback left `dialling`
//! (an agent's phone was ringing) gets another round, counted; one left `connected` (an
//! agent had answered and was being put through) is finished as cut off and the agent is
//! texted to call the employee back, since whether they were joined cannot be known. Calls
//! the modem still has from before the restart are hung up once it is ready.
//!
//! SMS wait while a call is set up ([`ModemLease`]); during a conference they flow again.

use std::sync::Arc;
use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use tokio::sync::{Notify, mpsc, watch};
use tokio::time::Instant;

use super::call::{Line, Over, Pace, Rang};
use super::state::{self, Event};
use super::{Clock, Voice};
use crate::config::{AgentSettings, CallbackMode};
use crate::daemon::db::{self, Db, DbError, DbStopped, IDLE_LOOK};
use crate::daemon::lease::{CallLease, CallsUp, ModemLease};
use crate::daemon::shutdown::Shutdown;
use crate::modem::{CallEnd, HoldAction, HoldOptions, ModemError};
use crate::service::hours::show_opening;
use crate::service::phone::E164;
use crate::service::reply::{Caller, Replies};
use crate::store::StoreError;
use crate::store::callbacks::{Callback, CallbackId, CallbackState};
use crate::store::outbox::{Cause, Kind, Outgoing};

/// Timings that are not worth a config key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub pace: Pace,
    /// Wait after the modem could not place a call (no network, gone) before trying again;
    /// such a round is not counted.
    pub trouble_pause: Duration,
    /// Wait after a database error before trying again.
    pub db_retry: Duration,
    /// How often to look again while the modem is not registered on a network.
    pub network_wait: Duration,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            pace: Pace {
                poll: Duration::from_millis(500),
                conference_poll: Duration::from_secs(2),
                ended_grace: Duration::from_millis(500),
            },
            trouble_pause: Duration::from_secs(30),
            db_retry: Duration::from_secs(2),
            network_wait: Duration::from_secs(2),
        }
    }
}

/// Everything the dialler is given.
pub struct Setup<V> {
    pub db: Db,
    pub voice: V,
    /// `BUSY` / `NO ANSWER` / `NO CARRIER` from the modem's unsolicited output.
    pub ended: mpsc::UnboundedReceiver<CallEnd>,
    pub lease: ModemLease,
    pub settings: AgentSettings,
    pub replies: Arc<Replies>,
    /// The site's, for business hours and the times told to employees.
    pub time_zone: TimeZone,
    pub clock: Clock,
    /// Poked when a callback was queued.
    pub wake: Arc<Notify>,
    /// Poked when an SMS was queued.
    pub outbox: Arc<Notify>,
    pub shutdown: Shutdown,
    pub timing: Timing,
}

/// What is done once an agent answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Ring,
    Bridge(HoldOptions),
}

/// The employee a callback is for.
#[derive(Debug, Clone)]
struct Who {
    phone: E164,
    name: Option<String>,
}

impl Who {
    fn caller(&self) -> Caller<'_> {
        Caller {
            name: self.name.as_deref(),
            phone: self.phone.as_str(),
        }
    }
}

/// The callback being worked on, as the dialler last recorded it.
struct Current {
    id: CallbackId,
    state: CallbackState,
    who: Who,
    request: String,
    /// Rounds counted before this one started.
    rounds: u32,
}

/// An SMS queued with a change.
#[derive(Debug, Clone)]
struct Sms {
    to: E164,
    text: String,
    kind: Kind,
    /// Only if `to` has had no message about this callback yet (the agent's note).
    first_only: bool,
}

impl Sms {
    fn to_agent(agent: &E164, text: String) -> Sms {
        Sms {
            to: agent.clone(),
            text,
            kind: Kind::Agent,
            first_only: false,
        }
    }

    fn note(agent: &E164, text: String) -> Sms {
        Sms {
            first_only: true,
            ..Sms::to_agent(agent, text)
        }
    }

    fn to_employee(employee: &E164, text: String) -> Sms {
        Sms {
            to: employee.clone(),
            text,
            kind: Kind::Reply,
            first_only: false,
        }
    }
}

fn until(at: Timestamp, now: Timestamp) -> Duration {
    Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO)
}

fn later(now: Timestamp, by: Duration) -> Timestamp {
    SignedDuration::try_from(by)
        .ok()
        .and_then(|by| now.checked_add(by).ok())
        .unwrap_or(Timestamp::MAX)
}

/// The dialler task's state.
pub struct Dialler<V> {
    db: Db,
    voice: V,
    ended: mpsc::UnboundedReceiver<CallEnd>,
    lease: ModemLease,
    settings: AgentSettings,
    replies: Arc<Replies>,
    time_zone: TimeZone,
    clock: Clock,
    wake: Arc<Notify>,
    outbox: Arc<Notify>,
    shutdown: Shutdown,
    timing: Timing,
    /// What `AT+CHLD=?` said, read once.
    offers: Option<HoldOptions>,
    fallback_logged: bool,
    /// The modem was checked for calls left by an earlier run.
    leftovers_checked: bool,
    /// "Waiting for the network" was logged (once per outage).
    network_logged: bool,
    /// SMS wait while this is held (call set-up).
    held: Option<CallLease>,
    /// Calls are up while this is held.
    calls_up: Option<CallsUp>,
}

impl<V: Voice> Dialler<V> {
    pub fn new(setup: Setup<V>) -> Self {
        Dialler {
            db: setup.db,
            voice: setup.voice,
            ended: setup.ended,
            lease: setup.lease,
            settings: setup.settings,
            replies: setup.replies,
            time_zone: setup.time_zone,
            clock: setup.clock,
            wake: setup.wake,
            outbox: setup.outbox,
            shutdown: setup.shutdown,
            timing: setup.timing,
            offers: None,
            fallback_logged: false,
            leftovers_checked: false,
            network_logged: false,
            held: None,
            calls_up: None,
        }
    }

    fn now(&self) -> Timestamp {
        (self.clock)()
    }

    /// Leave the modem with no call up before recording how a callback ended. A modem that
    /// will not hang up is logged, not fatal: the outcome is recorded all the same.
    async fn hang_up_all(&mut self, id: CallbackId) {
        if let Err(err) = self.line().clear().await {
            tracing::warn!(callback = id.0, "{err}", err = crate::logging::scrub(&err));
        }
    }

    fn line(&mut self) -> Line<'_, V> {
        let release_one = self.offers.is_some_and(|o| o.release_one);
        Line {
            voice: &self.voice,
            ended: &mut self.ended,
            shutdown: &self.shutdown,
            pace: self.timing.pace,
            release_one,
        }
    }

    /// Settle what a previous run left half-done, then serve callbacks until shutdown.
    pub async fn run(mut self) -> Result<(), DbStopped> {
        self.recover().await?;
        let mut changes = self.db.changes();
        loop {
            if self.shutdown.is_requested() {
                return Ok(());
            }
            tokio::select! {
                biased;
                _ = self.shutdown.requested() => return Ok(()),
                _ = self.voice.ready() => {}
            }
            if !self.leftovers_checked && !self.check_leftovers().await {
                if !self.shutdown.nap(self.timing.db_retry).await {
                    return Ok(());
                }
                continue;
            }
            let now = self.now();
            let opens = self.settings.hours.next_open(now, &self.time_zone);
            if opens > now {
                tracing::debug!(
                    "outside business hours ({}): callbacks wait until {}",
                    self.settings.hours,
                    show_opening(opens, &self.time_zone)
                );
                if !self.shutdown.nap(until(opens, now).min(IDLE_LOOK)).await {
                    return Ok(());
                }
                continue;
            }
            match self
                .db
                .run(move |store| store.read()?.callbacks().next_due(now))
                .await
            {
                Ok(Some(callback)) => self.serve(callback).await?,
                Ok(None) => self.idle(&mut changes).await?,
                Err(DbError::Stopped(stopped)) => return Err(stopped),
                Err(DbError::Store(err)) => {
                    tracing::error!(
                        "callbacks: {err}; trying again shortly",
                        err = crate::logging::scrub(&err)
                    );
                    if !self.shutdown.nap(self.timing.db_retry).await {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Nothing due: wait for a new callback, another connection's commit, the next retry,
    /// or shutdown.
    async fn idle(&mut self, changes: &mut watch::Receiver<u64>) -> Result<(), DbStopped> {
        let wakeup = match self
            .db
            .run(|store| store.read()?.callbacks().next_wakeup())
            .await
        {
            Ok(wakeup) => wakeup,
            Err(DbError::Stopped(stopped)) => return Err(stopped),
            Err(DbError::Store(err)) => {
                tracing::error!("callbacks: {err}", err = crate::logging::scrub(&err));
                None
            }
        };
        let now = self.now();
        db::idle_until(wakeup, now, &self.wake, changes, &self.shutdown).await
    }

    /// Hang up calls an earlier run left on the modem (it keeps them when shiftsms stops
    /// abruptly). `false` when the modem could not be asked.
    async fn check_leftovers(&mut self) -> bool {
        match self.voice.calls().await {
            Ok(calls) if calls.is_empty() => {}
            Ok(calls) => {
                tracing::warn!(
                    "the modem has {} call(s) up that no callback follows (left when shiftsms \
                     last stopped): hanging up",
                    calls.len()
                );
                if let Err(err) = self.line().clear().await {
                    tracing::warn!("{err}", err = crate::logging::scrub(&err));
                    return false;
                }
            }
            Err(err) => {
                tracing::debug!(
                    "looking for calls left on the modem: {err}",
                    err = crate::logging::scrub(&err)
                );
                return false;
            }
        }
        self.leftovers_checked = true;
        true
    }

    /// Callbacks a crash left `dialling` or `connected`.
    async fn recover(&mut self) -> Result<(), DbStopped> {
        let interrupted = loop {
            match self
                .db
                .run(|store| store.read()?.callbacks().interrupted())
                .await
            {
                Ok(interrupted) => break interrupted,
                Err(DbError::Stopped(stopped)) => return Err(stopped),
                Err(DbError::Store(err)) => {
                    tracing::error!(
                        "finding interrupted callbacks: {err}; trying again",
                        err = crate::logging::scrub(&err)
                    );
                    if !self.shutdown.nap(self.timing.db_retry).await {
                        return Ok(());
                    }
                }
            }
        };
        for callback in interrupted {
            let mut current = self.current(&callback).await?;
            let agent = callback
                .agent
                .as_ref()
                .map_or_else(|| "?".to_string(), E164::to_string);
            match callback.state {
                CallbackState::Connected => {
                    let mut sms = Vec::new();
                    if let Some(agent) = &callback.agent {
                        sms.push(Sms::to_agent(
                            agent,
                            self.replies.agent_cut_off(&current.who.caller()),
                        ));
                    }
                    let outcome = format!(
                        "cut off: shiftsms restarted while agent {agent} was being put \
                         through; agent told by SMS"
                    );
                    self.record(&mut current, Event::Finished { outcome }, sms)
                        .await?;
                }
                _ => {
                    // Nobody had answered: this round counts, and the next starts at once.
                    let why = format!("shiftsms restarted while calling agent {agent}");
                    current.rounds = callback.attempts.saturating_sub(1);
                    self.end_round(&mut current, why, Some(Duration::ZERO))
                        .await?;
                }
            }
        }
        Ok(())
    }

    async fn current(&self, callback: &Callback) -> Result<Current, DbStopped> {
        let phone = callback.employee.clone();
        let name = match self
            .db
            .run(move |store| Ok(store.read()?.employees().get(&phone)?.and_then(|e| e.name)))
            .await
        {
            Ok(name) => name,
            Err(DbError::Stopped(stopped)) => return Err(stopped),
            Err(DbError::Store(err)) => {
                tracing::warn!(
                    "reading the employee's name: {err}",
                    err = crate::logging::scrub(&err)
                );
                None
            }
        };
        Ok(Current {
            id: callback.id,
            state: callback.state,
            who: Who {
                phone: callback.employee.clone(),
                name,
            },
            request: callback.request.clone(),
            rounds: callback.attempts,
        })
    }

    /// Record `event` with the SMS it causes, in one transaction; log it once committed.
    /// `false`: the row was changed by someone else (a person in `sqlite3`) or shutdown came
    /// while the database was locked: leave this callback.
    async fn record(
        &self,
        current: &mut Current,
        event: Event,
        sms: Vec<Sms>,
    ) -> Result<bool, DbStopped> {
        let (id, from) = (current.id, current.state);
        loop {
            let (event, sms, now) = (event.clone(), sms.clone(), self.now());
            let job = move |store: &mut crate::store::Store| {
                let tx = store.transaction()?;
                let moved = state::apply(&tx, id, from, &event, now)?;
                let mut queued = 0;
                for message in &sms {
                    if message.first_only && tx.callbacks().agent_told(id, &message.to)? {
                        continue;
                    }
                    tx.outbox().queue(
                        &Outgoing {
                            recipient: &message.to,
                            text: &message.text,
                            kind: message.kind,
                            cause: Some(Cause::Callback(id)),
                        },
                        now,
                    )?;
                    queued += 1;
                }
                tx.commit()?;
                Ok((moved, queued))
            };
            match self.db.run(job).await {
                Ok((moved, queued)) => {
                    moved.log();
                    current.state = moved.new;
                    if queued > 0 {
                        self.outbox.notify_one();
                    }
                    return Ok(true);
                }
                Err(DbError::Stopped(stopped)) => return Err(stopped),
                Err(DbError::Store(
                    err @ (StoreError::WrongState { .. } | StoreError::NotFound { .. }),
                )) => {
                    tracing::warn!(
                        callback = id.0,
                        "{id} was changed by someone else ({err}): leaving it",
                        err = crate::logging::scrub(&err)
                    );
                    return Ok(false);
                }
                Err(DbError::Store(err)) => {
                    tracing::error!(
                        callback = id.0,
                        "recording {id}: {err}; trying again",
                        err = crate::logging::scrub(&err)
                    );
                    if !self.shutdown.nap(self.timing.db_retry).await {
                        return Ok(false);
                    }
                }
            }
        }
    }

    /// What to do once an agent answers: bridge when the network allows it (`AT+CHLD=?`,
    /// read once), ring otherwise.
    async fn mode(&mut self) -> Mode {
        if self.settings.mode == CallbackMode::Ring {
            return Mode::Ring;
        }
        let offers = match self.offers {
            Some(offers) => offers,
            None => match self.voice.hold_options().await {
                Ok(offers) => {
                    tracing::info!(
                        "the network offers: call hold {}, release of one call {}, transfer \
                         {}, conference {} (AT+CHLD=?)",
                        offers.hold_active_accept_other,
                        offers.release_one,
                        offers.transfer,
                        offers.conference
                    );
                    self.offers = Some(offers);
                    offers
                }
                Err(ModemError::Command(err)) => {
                    tracing::warn!("AT+CHLD=? refused ({err}): no call hold on this modem");
                    self.offers = Some(HoldOptions::default());
                    HoldOptions::default()
                }
                Err(err) => {
                    tracing::debug!("AT+CHLD=?: {err}");
                    return Mode::Ring;
                }
            },
        };
        if offers.hold_active_accept_other && (offers.transfer || offers.conference) {
            return Mode::Bridge(offers);
        }
        if !self.fallback_logged {
            self.fallback_logged = true;
            tracing::warn!(
                "[agent] mode = \"bridge\" needs call hold (AT+CHLD=2) and call transfer (4) \
                 or conference (3), which this network does not offer: agents are rung \
                 instead, and call back from the SMS (ring mode)"
            );
        }
        Mode::Ring
    }

    /// Work on one due callback until it is done, failed, or waits for another round.
    async fn serve(&mut self, callback: Callback) -> Result<(), DbStopped> {
        let mut current = self.current(&callback).await?;
        if self.settings.numbers.is_empty() {
            let why = "no agent numbers are configured ([agent] numbers); employee told".into();
            let sms = vec![Sms::to_employee(
                &current.who.phone,
                self.replies.agent_failed(),
            )];
            self.record(&mut current, Event::GaveUp { why }, sms)
                .await?;
            return Ok(());
        }
        if !self.network_up().await {
            self.shutdown.nap(self.timing.network_wait).await;
            return Ok(());
        }
        let lease = tokio::select! {
            biased;
            _ = self.shutdown.requested() => return Ok(()),
            lease = self.lease.call() => lease,
        };
        self.held = Some(lease);
        self.calls_up = Some(self.lease.calls_up());
        let result = self.round(&mut current).await;
        // Whatever happened, the modem is left with no call.
        if let Err(err) = self.line().clear().await {
            tracing::warn!(
                callback = current.id.0,
                "after {}: {err}",
                current.id,
                err = crate::logging::scrub(&err)
            );
        }
        self.held = None;
        self.calls_up = None;
        result
    }

    /// Whether the modem is registered on a network; a callback waits while it is not
    /// (a round of calls that cannot be placed would only use up its attempts).
    async fn network_up(&mut self) -> bool {
        let up = match self.voice.registered().await {
            Ok(up) => up,
            Err(err) => {
                tracing::debug!("AT+CREG?: {err}");
                false
            }
        };
        if up {
            self.network_logged = false;
        } else if !self.network_logged {
            self.network_logged = true;
            tracing::warn!(
                "callbacks wait: the modem is not registered on a network (AT+CREG?); check \
                 the signal and the SIM if this lasts"
            );
        }
        up
    }

    /// Phone the agents in order until one answers.
    async fn round(&mut self, current: &mut Current) -> Result<(), DbStopped> {
        let mode = self.mode().await;
        let mut failures: Vec<String> = Vec::new();
        for agent in self.settings.numbers.clone() {
            let why = match failures.last() {
                None => format!("calling agent {agent}"),
                Some(last) => format!("{last}; calling agent {agent}"),
            };
            let note = Sms::note(
                &agent,
                self.replies
                    .agent_note(&current.who.caller(), &current.request),
            );
            let event = Event::CallAgent {
                agent: agent.clone(),
                why,
            };
            if !self.record(current, event, vec![note]).await? {
                return Ok(());
            }
            let timeout = self.settings.ring_timeout;
            match self.line().ring(&agent, timeout, None).await {
                Rang::Answered { index } => {
                    let event = Event::AgentAnswered {
                        agent: agent.clone(),
                    };
                    if !self.record(current, event, Vec::new()).await? {
                        return Ok(());
                    }
                    return match mode {
                        Mode::Ring => self.rung(current, &agent).await,
                        Mode::Bridge(offers) => self.bridge(current, &agent, index, offers).await,
                    };
                }
                Rang::NotAnswered(why) => failures.push(format!("agent {agent} {why}")),
                Rang::KeptCallEnded => failures.push(format!("agent {agent}: the call ended")),
                Rang::Trouble(why) => {
                    let retry_at = later(self.now(), self.timing.trouble_pause);
                    let event = Event::Withdrawn {
                        why: format!("the modem could not call agent {agent}: {why}"),
                        retry_at,
                    };
                    self.record(current, event, Vec::new()).await?;
                    return Ok(());
                }
                Rang::Stopped => {
                    let event = Event::Withdrawn {
                        why: format!("shiftsms stopped while calling agent {agent}"),
                        retry_at: self.now(),
                    };
                    self.record(current, event, Vec::new()).await?;
                    return Ok(());
                }
            }
        }
        self.end_round(current, failures.join("; "), None).await
    }

    /// No agent answered in this round: another after `wait` (the backoff when `None`), or
    /// give up and tell the employee.
    async fn end_round(
        &mut self,
        current: &mut Current,
        why: String,
        wait: Option<Duration>,
    ) -> Result<(), DbStopped> {
        let rounds = current.rounds + 1;
        let max = self.settings.max_attempts;
        if rounds >= max {
            let why = format!("{why}; no agent reached in {rounds} round(s): employee told");
            let sms = vec![Sms::to_employee(
                &current.who.phone,
                self.replies.agent_failed(),
            )];
            self.record(current, Event::GaveUp { why }, sms).await?;
            return Ok(());
        }
        let wait = wait.unwrap_or_else(|| self.settings.retry_delay(rounds));
        let backoff = later(self.now(), wait);
        let retry_at = self.settings.hours.next_open(backoff, &self.time_zone);
        let why = format!("{why} (round {rounds} of {max})");
        self.record(current, Event::RoundFailed { why, retry_at }, Vec::new())
            .await?;
        Ok(())
    }

    /// Ring mode: the agent answered; they have the SMS.
    async fn rung(&mut self, current: &mut Current, agent: &E164) -> Result<(), DbStopped> {
        self.hang_up_all(current.id).await;
        let outcome = format!(
            "agent {agent} answered the ring; they have the SMS to call {} back",
            current.who.phone
        );
        self.record(current, Event::Finished { outcome }, Vec::new())
            .await?;
        Ok(())
    }

    /// Bridge mode: hold the agent, phone the employee, join them.
    async fn bridge(
        &mut self,
        current: &mut Current,
        agent: &E164,
        agent_call: u8,
        offers: HoldOptions,
    ) -> Result<(), DbStopped> {
        if let Err(err) = self.voice.hold(HoldAction::HoldActiveAcceptOther).await {
            let why = format!("the agent could not be put on hold (AT+CHLD=2: {err})");
            return self.cut_off(current, agent, why).await;
        }
        let employee = current.who.phone.clone();
        tracing::info!(
            callback = current.id.0,
            "{}: agent {agent} on hold; calling the employee {employee}",
            current.id,
            agent = crate::logging::phone(agent),
            employee = crate::logging::phone(&employee)
        );
        let timeout = self.settings.ring_timeout;
        let employee_call = match self.line().ring(&employee, timeout, Some(agent_call)).await {
            Rang::Answered { index } => index,
            Rang::NotAnswered(why) => {
                self.hang_up_all(current.id).await;
                let text = self.replies.agent_missed(&current.who.caller());
                let outcome = format!("the employee {why}; agent {agent} told by SMS");
                let event = Event::Finished { outcome };
                self.record(current, event, vec![Sms::to_agent(agent, text)])
                    .await?;
                return Ok(());
            }
            Rang::KeptCallEnded => {
                let outcome = format!(
                    "agent {agent} hung up while on hold, before the employee answered; they \
                     have the SMS"
                );
                self.record(current, Event::Finished { outcome }, Vec::new())
                    .await?;
                return Ok(());
            }
            Rang::Trouble(why) => return self.cut_off(current, agent, why).await,
            Rang::Stopped => {
                let why = "shiftsms stopped while the employee's phone rang".to_string();
                return self.cut_off(current, agent, why).await;
            }
        };
        if offers.transfer {
            match self.voice.hold(HoldAction::Transfer).await {
                Ok(()) => {
                    let outcome = format!(
                        "put through: agent {agent} and the employee joined by call transfer \
                         (the modem left the call)"
                    );
                    self.record(current, Event::Finished { outcome }, Vec::new())
                        .await?;
                    return Ok(());
                }
                Err(err) => tracing::warn!(
                    callback = current.id.0,
                    "the network refused the call transfer (AT+CHLD=4: {err}); joining agent \
                     {agent} and the employee in a conference instead",
                    err = crate::logging::scrub(&err),
                    agent = crate::logging::phone(agent)
                ),
            }
        }
        if !offers.conference {
            let why = "the network refused the call transfer and offers no conference".into();
            return self.cut_off(current, agent, why).await;
        }
        if let Err(err) = self.voice.hold(HoldAction::Conference).await {
            let why = format!("the calls could not be joined (AT+CHLD=3: {err})");
            return self.cut_off(current, agent, why).await;
        }
        // A conference is a call in progress, not one being set up: SMS may go meanwhile.
        self.held = None;
        tracing::info!(
            callback = current.id.0,
            "{}: agent {agent} and the employee are in a conference through the modem; SMS \
             sending resumes; the modem leaves when one of them hangs up",
            current.id,
            agent = crate::logging::phone(agent)
        );
        let started = Instant::now();
        let over = self
            .line()
            .until_one_leaves(&[agent_call, employee_call])
            .await;
        let minutes = started.elapsed().as_secs().div_ceil(60);
        match over {
            Over::Left { .. } => {
                self.hang_up_all(current.id).await;
                let outcome = format!(
                    "put through: agent {agent} and the employee talked in a conference \
                     (about {minutes} min) until one hung up"
                );
                self.record(current, Event::Finished { outcome }, Vec::new())
                    .await?;
                Ok(())
            }
            Over::Trouble(why) => self.cut_off(current, agent, why).await,
            Over::Stopped => {
                let why = "shiftsms stopped during the conference".to_string();
                self.cut_off(current, agent, why).await
            }
        }
    }

    /// The calls are ended on our side: the agent is texted to call the employee back.
    async fn cut_off(
        &mut self,
        current: &mut Current,
        agent: &E164,
        why: String,
    ) -> Result<(), DbStopped> {
        self.hang_up_all(current.id).await;
        let text = self.replies.agent_cut_off(&current.who.caller());
        let outcome = format!("cut off: {why}; agent {agent} told by SMS");
        self.record(
            current,
            Event::Finished { outcome },
            vec![Sms::to_agent(agent, text)],
        )
        .await?;
        Ok(())
    }
}
