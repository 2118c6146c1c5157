//! The one task that owns the modem (STYLE.md habit 4): it opens the port, runs the init
//! sequence, executes one request at a time from any number of [`ModemHandle`]s, turns
//! unsolicited codes into [`ModemEvent`]s, and when the modem goes away (EOF, EIO, the path
//! vanishing, or commands no longer answered) reports it and reopens the same path with
//! backoff until it is back, then runs the init sequence again.
//!
//! Shutdown is a future passed in by the caller and honoured only at safe points: between
//! requests, while waiting, and inside any command except `AT+CMGS`, which always runs to its
//! final result once its line is written (never abandoned between the prompt and the answer).

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin as StdPin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_serial::SerialStream;

use super::command::{self, Cmd, CommandError, IndexError};
use super::init::{self, InitError, InitReport, PinMemory};
use super::network::{Registration, Signal};
use super::pdu::{self, Address, EncodeError, SubmitOptions};
use super::quirks::Quirks;
use super::session::{Gone, SendError, Session};
use super::sim::Pin;
use super::sms::{MessageReference, Storage, StorageStatus, StoredPdu, SubmitPdu, SubmitPduError};
use super::state::{ModemState, StateMachine};
use super::transport;
use super::urc::{Notice, Urc};
use super::voice::{Call, DialNumber, DialOutcome, HoldAction, HoldOptions};

/// What the modem layer needs to know; the daemon's config maps onto it.
#[derive(Debug, Clone)]
pub struct ModemSettings {
    /// The serial device (`/dev/serial/by-id/...`, `/dev/ttyUSB0`, `/dev/pts/N`).
    pub port: PathBuf,
    /// Baud rate (USB modems ignore it; real UARTs need it right).
    pub baud: u32,
    /// The SIM PIN, entered at most once per process if the SIM asks.
    pub pin: Option<Pin>,
    /// First wait before reopening a lost port; doubles up to `reconnect_max`.
    pub reconnect_min: Duration,
    /// Longest wait between reopen attempts.
    pub reconnect_max: Duration,
    /// Longest wait between init retries while the SIM is locked or init failed (the first
    /// retry comes after 5 s, then the wait doubles up to this).
    pub retry_init_every: Duration,
    /// How often the port's path is checked while idle.
    pub health_every: Duration,
    /// Consecutive command timeouts after which the modem is treated as gone and reopened.
    pub max_timeouts: u32,
    /// How long a sent part may wait for `+CMGS: <mr>` (the network round trip; modem manuals
    /// give 60 s). After it the outcome is unknown: [`SendError::NoResult`].
    pub send_timeout: Duration,
    /// Pause after each final result before the next command; `None`: the modem family's
    /// (20-50 ms, [`Quirks::command_pause`]). Zero suits the virtual modem.
    pub command_pause: Option<Duration>,
    /// After this long without a command, `AT` is sent, so a modem that hung while idle is
    /// noticed (and reopened after `max_timeouts`) before the next message needs it.
    pub keepalive_every: Duration,
}

impl ModemSettings {
    /// Settings with the usual timings.
    pub fn new(port: impl Into<PathBuf>, baud: u32, pin: Option<Pin>) -> Self {
        ModemSettings {
            port: port.into(),
            baud,
            pin,
            reconnect_min: Duration::from_secs(1),
            reconnect_max: Duration::from_secs(30),
            retry_init_every: Duration::from_secs(60),
            health_every: Duration::from_secs(5),
            max_timeouts: 3,
            keepalive_every: Duration::from_secs(60),
            send_timeout: command::SEND_TIMEOUT,
            command_pause: None,
        }
    }
}

/// Something the modem did on its own, or a change of state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModemEvent {
    /// Every state change (`old -> new (reason)` is also logged).
    StateChanged {
        /// Before.
        old: ModemState,
        /// After.
        new: ModemState,
        /// Why.
        reason: String,
    },
    /// Init completed: at start and again after every reconnect or modem restart. Messages may
    /// have arrived meanwhile: list stored messages now.
    Ready(Arc<InitReport>),
    /// The modem went away (unplugged, stopped answering, port vanished). Requests fail with
    /// [`ModemError::Unavailable`] until [`ModemEvent::Ready`] comes again.
    Lost {
        /// What happened.
        reason: String,
    },
    /// Something the modem said unprompted, as parsed ([`Urc`]): a message stored
    /// (`+CMTI`: read it, keep it, then delete it) or delivered directly (`+CMT`: keep it now,
    /// it cannot be read again), a status report, a call ringing or ending, registration
    /// changed, vendor noise, unknown lines. Never dropped, so it can be acted on or logged.
    Unsolicited(Urc),
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModemError {
    /// The modem is not ready (gone, locked, initialising failed).
    #[error("modem not ready ({0})")]
    Unavailable(ModemState),
    /// The command failed.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// A storage index out of range.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The modem task has stopped (shutdown).
    #[error("the modem task has stopped")]
    Stopped,
}

/// Why [`ModemHandle::send_sms`] did not send every part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendSmsError {
    /// The text could not be encoded: nothing was sent.
    #[error("cannot encode the message: {0}")]
    Encode(#[from] EncodeError),
    /// The codec produced a PDU `AT+CMGS` cannot take: nothing was sent.
    #[error("cannot send the encoded message: {0}")]
    Pdu(#[from] SubmitPduError),
    /// Part `part` (1-based) of `total` failed; the parts before it were sent.
    #[error("part {part} of {total} not sent ({sent} sent before it): {error}", sent = .sent.len())]
    Part {
        /// The failed part, from 1.
        part: usize,
        /// Parts in the message.
        total: usize,
        /// References of the parts sent before it.
        sent: Vec<MessageReference>,
        /// Why it failed.
        error: SendError,
    },
}

type Reply<T> = oneshot::Sender<Result<T, ModemError>>;

#[derive(Debug)]
enum Request {
    SendPdu(
        SubmitPdu,
        oneshot::Sender<Result<MessageReference, SendError>>,
    ),
    List(Reply<Vec<StoredPdu>>),
    Read(Storage, u32, Reply<Option<StoredPdu>>),
    Delete(Storage, u32, Reply<()>),
    StorageStatus(Reply<StorageStatus>),
    Dial(DialNumber, Reply<DialOutcome>),
    HangUp(Reply<()>),
    Calls(Reply<Vec<Call>>),
    Hold(HoldAction, Reply<()>),
    HoldOptions(Reply<HoldOptions>),
    Signal(Reply<Signal>),
    Registration(Reply<Registration>),
}

impl Request {
    /// Answers without touching the modem.
    fn refuse(self, state: ModemState) {
        let e = || ModemError::Unavailable(state.clone());
        match self {
            Request::SendPdu(_, r) => drop(r.send(Err(SendError::Unavailable(state.to_string())))),
            Request::List(r) => drop(r.send(Err(e()))),
            Request::Read(_, _, r) => drop(r.send(Err(e()))),
            Request::Delete(_, _, r) => drop(r.send(Err(e()))),
            Request::StorageStatus(r) => drop(r.send(Err(e()))),
            Request::Dial(_, r) => drop(r.send(Err(e()))),
            Request::HangUp(r) => drop(r.send(Err(e()))),
            Request::Calls(r) => drop(r.send(Err(e()))),
            Request::Hold(_, r) => drop(r.send(Err(e()))),
            Request::HoldOptions(r) => drop(r.send(Err(e()))),
            Request::Signal(r) => drop(r.send(Err(e()))),
            Request::Registration(r) => drop(r.send(Err(e()))),
        }
    }
}

/// A cloneable handle to the modem task. Every method waits for its turn: one command is in
/// flight at a time.
#[derive(Debug, Clone)]
pub struct ModemHandle {
    requests: mpsc::Sender<Request>,
    state: watch::Receiver<ModemState>,
    report: watch::Receiver<Option<Arc<InitReport>>>,
}

impl ModemHandle {
    async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Request) -> Result<T, ModemError> {
        let (tx, rx) = oneshot::channel();
        self.requests
            .send(make(tx))
            .await
            .map_err(|_| ModemError::Stopped)?;
        rx.await.map_err(|_| ModemError::Stopped)?
    }

    /// The current state.
    pub fn state(&self) -> ModemState {
        self.state.borrow().clone()
    }

    /// A receiver to wait for state changes (e.g. `wait_for(|s| *s == ModemState::Ready)`).
    pub fn watch_state(&self) -> watch::Receiver<ModemState> {
        self.state.clone()
    }

    /// The last init report (identity, SIM, storage, refused steps), once init has run.
    pub fn report(&self) -> Option<Arc<InitReport>> {
        self.report.borrow().clone()
    }

    /// Sends one SMS part (TS 27.005 §3.5.1) and returns the network's reference for it. On
    /// error, [`SendError::may_have_been_sent`] says whether a retry could duplicate it.
    pub async fn send_pdu(&self, pdu: SubmitPdu) -> Result<MessageReference, SendError> {
        let (tx, rx) = oneshot::channel();
        let stopped = || SendError::Unavailable(ModemState::Stopped.to_string());
        self.requests
            .send(Request::SendPdu(pdu, tx))
            .await
            .map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }

    /// Encodes `text` for `to` (TS 23.040, as many parts as it takes) and sends every part.
    ///
    /// A convenience: a daemon that must survive crashes without sending a part twice encodes
    /// with [`pdu::encode_submit`] itself, records each part, and sends them one at a time with
    /// [`ModemHandle::send_pdu`].
    pub async fn send_sms(
        &self,
        to: &Address,
        text: &str,
        options: &SubmitOptions,
    ) -> Result<Vec<MessageReference>, SendSmsError> {
        let parts = pdu::encode_submit(to, text, options)?
            .into_iter()
            .map(SubmitPdu::from_pdu)
            .collect::<Result<Vec<_>, _>>()?;
        let total = parts.len();
        let mut sent = Vec::with_capacity(total);
        for (i, part) in parts.into_iter().enumerate() {
            match self.send_pdu(part).await {
                Ok(mr) => sent.push(mr),
                Err(error) => {
                    return Err(SendSmsError::Part {
                        part: i + 1,
                        total,
                        sent,
                        error,
                    });
                }
            }
        }
        Ok(sent)
    }

    /// Every message in the storage chosen at init (`AT+CMGL=4`). Entries whose PDU line is
    /// not hexadecimal are included as [`RawPdu::BadHex`] with their index, so they can be
    /// recorded and deleted.
    pub async fn list_stored(&self) -> Result<Vec<StoredPdu>, ModemError> {
        self.ask(Request::List).await
    }

    /// The message at (storage, index) (`AT+CMGR`), `None` if the slot is empty.
    pub async fn read_stored(
        &self,
        storage: Storage,
        index: u32,
    ) -> Result<Option<StoredPdu>, ModemError> {
        self.ask(|r| Request::Read(storage, index, r)).await
    }

    /// Deletes the message at (storage, index) (`AT+CMGD`).
    pub async fn delete_stored(&self, storage: Storage, index: u32) -> Result<(), ModemError> {
        self.ask(|r| Request::Delete(storage, index, r)).await
    }

    /// Storage names and how full they are (`AT+CPMS?`).
    pub async fn storage_status(&self) -> Result<StorageStatus, ModemError> {
        self.ask(Request::StorageStatus).await
    }

    /// Places a voice call (`ATD<number>;`).
    pub async fn dial(&self, number: DialNumber) -> Result<DialOutcome, ModemError> {
        self.ask(|r| Request::Dial(number, r)).await
    }

    /// Ends the calls (`AT+CHUP` or `ATH`, per the modem's quirks).
    pub async fn hang_up(&self) -> Result<(), ModemError> {
        self.ask(Request::HangUp).await
    }

    /// Current calls (`AT+CLCC`).
    pub async fn calls(&self) -> Result<Vec<Call>, ModemError> {
        self.ask(Request::Calls).await
    }

    /// Hold, release, conference or transfer (`AT+CHLD=<n>`).
    pub async fn hold(&self, action: HoldAction) -> Result<(), ModemError> {
        self.ask(|r| Request::Hold(action, r)).await
    }

    /// What the network offers for [`ModemHandle::hold`] (`AT+CHLD=?`).
    pub async fn hold_options(&self) -> Result<HoldOptions, ModemError> {
        self.ask(Request::HoldOptions).await
    }

    /// Signal quality (`AT+CSQ`).
    pub async fn signal(&self) -> Result<Signal, ModemError> {
        self.ask(Request::Signal).await
    }

    /// Registration (`AT+CREG?`).
    pub async fn registration(&self) -> Result<Registration, ModemError> {
        self.ask(Request::Registration).await
    }
}

/// A running modem task.
#[derive(Debug)]
pub struct Modem {
    /// Cloneable handle for requests.
    pub handle: ModemHandle,
    /// Events, in order. Unbounded so the port owner never waits for a slow consumer; events
    /// are rare (a few per message or call).
    pub events: mpsc::UnboundedReceiver<ModemEvent>,
    /// The task; it ends after shutdown or when every handle is dropped.
    pub task: JoinHandle<()>,
}

/// Starts the modem task. It runs until `shutdown` completes or every handle is dropped.
pub fn spawn<F>(settings: ModemSettings, shutdown: F) -> Modem
where
    F: Future<Output = ()> + Send + 'static,
{
    let (requests_tx, requests) = mpsc::channel(64);
    let (events_tx, events) = mpsc::unbounded_channel();
    let (state, state_rx) = StateMachine::new();
    let (report_tx, report_rx) = watch::channel(None);
    let engine = Engine {
        settings,
        requests,
        events: events_tx,
        state,
        report: report_tx,
        pin_memory: PinMemory::default(),
        quirks: &Quirks::GENERIC,
        read_storage: None,
        home_storage: Storage::Sim,
        timeouts: 0,
        init_failures: 0,
        exit: None,
    };
    let mut shutdown = Shutdown {
        fut: Some(Box::pin(shutdown)),
    };
    let task = tokio::spawn(async move { engine.run(&mut shutdown).await });
    Modem {
        handle: ModemHandle {
            requests: requests_tx,
            state: state_rx,
            report: report_rx,
        },
        events,
        task,
    }
}

/// The caller's shutdown future, safe to wait on again after it fired.
struct Shutdown {
    fut: Option<StdPin<Box<dyn Future<Output = ()> + Send>>>,
}

impl Shutdown {
    async fn wait(&mut self) {
        if let Some(fut) = self.fut.as_mut() {
            fut.as_mut().await;
            self.fut = None;
        }
    }
}

/// Why serving a port stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Exit {
    Shutdown,
    Gone(String),
    Reinit(String),
}

struct Engine {
    settings: ModemSettings,
    requests: mpsc::Receiver<Request>,
    events: mpsc::UnboundedSender<ModemEvent>,
    state: StateMachine,
    report: watch::Sender<Option<Arc<InitReport>>>,
    pin_memory: PinMemory,
    quirks: &'static Quirks,
    /// Where `AT+CMGR`/`AT+CMGD` currently read (`<mem1>`).
    read_storage: Option<Storage>,
    /// The storage chosen at init, listed by `list_stored`.
    home_storage: Storage,
    /// Consecutive command timeouts.
    timeouts: u32,
    /// Init attempts that failed since the last success.
    init_failures: u32,
    /// Set by a command that found the modem gone or unresponsive.
    exit: Option<Exit>,
}

enum Wake {
    Shutdown,
    Request(Option<Request>),
    Urc(Result<Urc, Gone>),
    Tick,
}

impl Engine {
    async fn run(mut self, shutdown: &mut Shutdown) {
        let mut backoff = self.settings.reconnect_min;
        'reopen: loop {
            let port = match transport::open(&self.settings.port, self.settings.baud) {
                Ok(port) => port,
                Err(e) => {
                    self.transition(ModemState::Gone(e.to_string()), "cannot open the port");
                    if self.wait(backoff, shutdown).await.is_some() {
                        break 'reopen;
                    }
                    backoff = (backoff * 2).min(self.settings.reconnect_max);
                    continue 'reopen;
                }
            };
            backoff = self.settings.reconnect_min;
            let mut session = Session::new(port, Quirks::GENERIC.command_pause);
            if let Some(pause) = self.settings.command_pause {
                session.fix_pause(pause);
            }
            session.set_send_timeout(self.settings.send_timeout);
            let mut reason = "port open".to_owned();
            let exit = loop {
                self.transition(ModemState::Initialising, &reason);
                match self.initialise(&mut session, shutdown).await {
                    Exit::Reinit(why) => reason = why,
                    other => break other,
                }
            };
            match exit {
                Exit::Shutdown => break 'reopen,
                Exit::Gone(why) => {
                    self.transition(ModemState::Gone(why), "modem lost");
                    drop(session);
                    if self
                        .wait(self.settings.reconnect_min, shutdown)
                        .await
                        .is_some()
                    {
                        break 'reopen;
                    }
                }
                Exit::Reinit(_) => {}
            }
        }
        self.transition(ModemState::Stopped, "shutdown");
    }

    /// One init attempt and then serving (or idling while locked) on this port.
    async fn initialise(
        &mut self,
        session: &mut Session<SerialStream>,
        shutdown: &mut Shutdown,
    ) -> Exit {
        self.timeouts = 0;
        let pin = self.settings.pin.as_ref();
        let (report, result) = tokio::select! {
            biased;
            _ = shutdown.wait() => return Exit::Shutdown,
            done = init::initialise(session, pin, &mut self.pin_memory) => done,
        };
        self.quirks = report.info.quirks;
        // Unknown storage: select it again before the next read rather than trust the past.
        self.read_storage = report.info.storage.as_ref().map(|s| s.read.0.clone());
        if let Some(storage) = &report.info.storage {
            self.home_storage = storage.read.0.clone();
        }
        let report = Arc::new(report);
        self.report.send_replace(Some(Arc::clone(&report)));
        // Codes that arrived during init: a restart notice is stale (init just configured the
        // modem); the rest are delivered.
        for urc in session.take_urcs() {
            if urc != Urc::Notice(Notice::Rebooted) {
                // Init has just read the SIM state itself: these cannot ask for another init.
                let _ = self.on_urc(urc, false);
            }
        }
        self.init_failures = if result.is_ok() {
            0
        } else {
            self.init_failures.saturating_add(1)
        };
        match result {
            Ok(()) => {
                self.transition(ModemState::Ready, "init done");
                self.emit(ModemEvent::Ready(report));
                self.serve(session, shutdown).await
            }
            Err(InitError::Gone(why)) => Exit::Gone(why),
            Err(InitError::Sim(lock)) => {
                let why = lock.to_string();
                self.transition(ModemState::Locked(lock), &why);
                self.idle(session, shutdown).await
            }
            Err(e) => {
                let why = e.to_string();
                self.transition(ModemState::Failed(why.clone()), &why);
                self.idle(session, shutdown).await
            }
        }
    }

    fn transition(&mut self, new: ModemState, reason: &str) {
        if let Some(old) = self.state.transition(new.clone(), reason) {
            if let ModemState::Gone(why) = &new
                && !matches!(old, ModemState::Gone(_))
            {
                self.emit(ModemEvent::Lost {
                    reason: why.clone(),
                });
            }
            self.emit(ModemEvent::StateChanged {
                old,
                new,
                reason: reason.to_owned(),
            });
        }
    }

    fn emit(&self, event: ModemEvent) {
        // Nobody listening is not an error: the daemon may not want events (probe).
        let _ = self.events.send(event);
    }

    /// Waits `duration`, refusing requests meanwhile; `Some` when it is time to stop.
    async fn wait(&mut self, duration: Duration, shutdown: &mut Shutdown) -> Option<Exit> {
        let until = Instant::now() + duration;
        loop {
            tokio::select! {
                biased;
                _ = shutdown.wait() => return Some(Exit::Shutdown),
                _ = tokio::time::sleep_until(until) => return None,
                req = self.requests.recv() => match req {
                    Some(req) => req.refuse(self.state.current()),
                    None => return Some(Exit::Shutdown),
                },
            }
        }
    }

    async fn wake(
        &mut self,
        session: &mut Session<SerialStream>,
        shutdown: &mut Shutdown,
        tick: &mut tokio::time::Interval,
    ) -> Wake {
        tokio::select! {
            biased;
            _ = shutdown.wait() => Wake::Shutdown,
            req = self.requests.recv() => Wake::Request(req),
            urc = session.next_urc() => Wake::Urc(urc),
            _ = tick.tick() => Wake::Tick,
        }
    }

    fn health_tick(&self) -> tokio::time::Interval {
        let every = self.settings.health_every;
        let mut tick = tokio::time::interval_at(Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick
    }

    fn path_gone(&self) -> Option<Exit> {
        if std::fs::metadata(&self.settings.port).is_err() {
            Some(Exit::Gone(format!(
                "{} disappeared",
                self.settings.port.display()
            )))
        } else {
            None
        }
    }

    /// Serves requests and unsolicited codes while ready.
    async fn serve(
        &mut self,
        session: &mut Session<SerialStream>,
        shutdown: &mut Shutdown,
    ) -> Exit {
        let mut tick = self.health_tick();
        let mut last_command = Instant::now();
        loop {
            match self.wake(session, shutdown, &mut tick).await {
                Wake::Shutdown | Wake::Request(None) => return Exit::Shutdown,
                Wake::Request(Some(req)) => {
                    last_command = Instant::now();
                    let done = if let Request::SendPdu(pdu, reply) = req {
                        // Never interrupted: between AT+CMGS and the answer is not a safe point.
                        self.send(session, pdu, reply).await;
                        false
                    } else {
                        tokio::select! {
                            biased;
                            _ = shutdown.wait() => true,
                            () = self.execute(session, req) => false,
                        }
                    };
                    if done {
                        return Exit::Shutdown;
                    }
                    if let Some(exit) = self.exit.take() {
                        return exit;
                    }
                }
                Wake::Urc(Ok(urc)) => {
                    if let Some(exit) = self.on_urc(urc, true) {
                        return exit;
                    }
                }
                Wake::Urc(Err(Gone(why))) => return Exit::Gone(why),
                Wake::Tick => {
                    if let Some(exit) = self.path_gone() {
                        return exit;
                    }
                    if last_command.elapsed() >= self.settings.keepalive_every {
                        last_command = Instant::now();
                        let ping = command::attention();
                        let alive = tokio::select! {
                            biased;
                            _ = shutdown.wait() => return Exit::Shutdown,
                            r = self.command(session, &ping) => r,
                        };
                        if let Err(e) = alive {
                            tracing::warn!(error = %e, "keep-alive failed");
                        }
                        if let Some(exit) = self.exit.take() {
                            return exit;
                        }
                    }
                }
            }
        }
    }

    /// Refuses requests while locked or failed; watches for the SIM being unlocked, the modem
    /// restarting, the port going, and retries init now and then.
    async fn idle(&mut self, session: &mut Session<SerialStream>, shutdown: &mut Shutdown) -> Exit {
        let mut tick = self.health_tick();
        let first = Duration::from_secs(5);
        let doublings = self.init_failures.saturating_sub(1).min(16);
        let wait = first
            .saturating_mul(1 << doublings)
            .min(self.settings.retry_init_every);
        let retry = Instant::now() + wait;
        loop {
            let wake = tokio::select! {
                biased;
                _ = tokio::time::sleep_until(retry) => {
                    return Exit::Reinit("retrying init".into());
                }
                wake = self.wake(session, shutdown, &mut tick) => wake,
            };
            match wake {
                Wake::Shutdown | Wake::Request(None) => return Exit::Shutdown,
                Wake::Request(Some(req)) => req.refuse(self.state.current()),
                Wake::Urc(Ok(urc)) => {
                    if let Urc::Sim(state) = &urc
                        && state.is_usable()
                    {
                        return Exit::Reinit("the SIM is unlocked".into());
                    }
                    if let Some(exit) = self.on_urc(urc, false) {
                        return exit;
                    }
                }
                Wake::Urc(Err(Gone(why))) => return Exit::Gone(why),
                Wake::Tick => {
                    if let Some(exit) = self.path_gone() {
                        return exit;
                    }
                }
            }
        }
    }

    /// Turns an unsolicited code into an event; `Some` when the modem needs init again.
    fn on_urc(&mut self, urc: Urc, ready: bool) -> Option<Exit> {
        let mut exit = None;
        match urc {
            Urc::Notice(Notice::Rebooted) => {
                exit = Some(Exit::Reinit(
                    "the modem restarted (RDY): its settings are back to defaults".into(),
                ));
            }
            Urc::Sim(ref state) if ready && !state.is_usable() => {
                exit = Some(Exit::Reinit(format!("the SIM changed state: {state}")));
            }
            Urc::Malformed {
                ref line,
                ref reason,
            } => {
                tracing::warn!(%line, %reason, "malformed unsolicited code from the modem");
            }
            ref other => tracing::debug!(urc = ?other, "unsolicited code"),
        }
        self.emit(ModemEvent::Unsolicited(urc));
        exit
    }

    /// Runs a command, counting timeouts and noting a lost port.
    async fn command<T>(
        &mut self,
        session: &mut Session<SerialStream>,
        cmd: &Cmd<T>,
    ) -> Result<T, CommandError> {
        let result = session.run(cmd).await;
        match &result {
            Err(CommandError::Timeout { command, .. }) => {
                self.timeouts += 1;
                tracing::warn!(%command, timeouts = self.timeouts, "modem did not answer");
                if self.timeouts >= self.settings.max_timeouts {
                    self.exit = Some(Exit::Gone(format!(
                        "no answer to {} commands in a row",
                        self.timeouts
                    )));
                }
            }
            Err(CommandError::Gone { reason, .. }) => self.exit = Some(Exit::Gone(reason.clone())),
            _ => self.timeouts = 0,
        }
        result
    }

    /// Makes `storage` the one `AT+CMGR`/`AT+CMGD`/`AT+CMGL` use.
    async fn select_storage(
        &mut self,
        session: &mut Session<SerialStream>,
        storage: &Storage,
    ) -> Result<(), CommandError> {
        if self.read_storage.as_ref() == Some(storage) {
            return Ok(());
        }
        self.command(session, &command::read_from(storage)).await?;
        self.read_storage = Some(storage.clone());
        Ok(())
    }

    async fn send(
        &mut self,
        session: &mut Session<SerialStream>,
        pdu: SubmitPdu,
        reply: oneshot::Sender<Result<MessageReference, SendError>>,
    ) {
        let result = session.send_pdu(&pdu).await;
        match &result {
            Ok(mr) => {
                self.timeouts = 0;
                tracing::info!(reference = %mr, "SMS part sent");
            }
            Err(SendError::Gone { reason, .. }) => self.exit = Some(Exit::Gone(reason.clone())),
            Err(e @ (SendError::NoPrompt(_) | SendError::NoResult(_))) => {
                self.timeouts += 1;
                tracing::warn!(error = %e, "SMS part not confirmed");
                if self.timeouts >= self.settings.max_timeouts {
                    self.exit = Some(Exit::Gone("the modem stopped answering".into()));
                }
            }
            Err(e) => {
                self.timeouts = 0;
                tracing::warn!(error = %e, cms = ?e.cms(), "SMS part refused");
            }
        }
        let _ = reply.send(result);
    }

    async fn execute(&mut self, session: &mut Session<SerialStream>, req: Request) {
        match req {
            Request::SendPdu(pdu, reply) => self.send(session, pdu, reply).await,
            Request::List(reply) => {
                let home = self.home_storage.clone();
                let result = async {
                    self.select_storage(session, &home).await?;
                    self.command(session, &command::list_messages(&home)).await
                }
                .await;
                let _ = reply.send(result.map_err(ModemError::from));
            }
            Request::Read(storage, index, reply) => {
                let result = async {
                    let cmd = command::read_message(&storage, index)?;
                    self.select_storage(session, &storage).await?;
                    Ok(self.command(session, &cmd).await?)
                }
                .await;
                let _ = reply.send(result);
            }
            Request::Delete(storage, index, reply) => {
                let result = async {
                    let cmd = command::delete_message(index)?;
                    self.select_storage(session, &storage).await?;
                    Ok(self.command(session, &cmd).await?)
                }
                .await;
                let _ = reply.send(result);
            }
            Request::StorageStatus(reply) => {
                let result = self.command(session, &command::storage_status()).await;
                let _ = reply.send(result.map_err(ModemError::from));
            }
            Request::Dial(number, reply) => {
                let result = self.command(session, &command::dial(&number)).await;
                let _ = reply.send(result.map_err(ModemError::from));
            }
            Request::HangUp(reply) => {
                let mut result = Ok(());
                for line in self.quirks.hang_up {
                    result = self.command(session, &command::hang_up(line)).await;
                    if result.is_ok() || self.exit.is_some() {
                        break;
                    }
                }
                let _ = reply.send(result.map_err(ModemError::from));
            }
            Request::Calls(reply) => {
                let result = self.command(session, &command::calls()).await;
                let _ = reply.send(result.map_err(ModemError::from));
            }
            Request::Hold(action, reply) => {
                let result = self.command(session, &command::hold(action)).await;
                let _ = reply.send(result.map_err(ModemError::from));
            }
            Request::HoldOptions(reply) => {
                let result = self.command(session, &command::hold_options()).await;
                let _ = reply.send(result.map_err(ModemError::from));
            }
            Request::Signal(reply) => {
                let result = self.command(session, &command::signal()).await;
                let _ = reply.send(result.map_err(ModemError::from));
            }
            Request::Registration(reply) => {
                let result = self.command(session, &command::registration()).await;
                let _ = reply.send(result.map_err(ModemError::from));
            }
        }
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
