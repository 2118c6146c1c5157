//! The init sequence: an ordered list of named steps, each recorded with what the modem said,
//! so `shiftsms modem probe` and the logs can show which ones a modem refused.
//!
//! Only four things stop it: a silent modem, a SIM that cannot be unlocked, a modem that
//! refuses PDU mode (TS 27.005 §3.2.3: without it no alphabet beyond ASCII can be sent), and
//! the port going away. Everything else is tolerated and recorded.

use std::fmt;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};

use super::command::{self, Cmd, CommandError};
use super::network::{Registration, Signal};
use super::quirks::Quirks;
use super::session::Session;
use super::sim::{self, Pin, PinState};
use super::sms::{Storage, StorageStatus};
use super::state::SimLock;

/// How often a command is retried while the SIM says "busy" (it does for several seconds
/// after boot and after the PIN).
const SIM_BUSY_TRIES: u32 = 10;
/// Pause between those tries, and between `+CPIN?` polls after the PIN.
const SIM_BUSY_PAUSE: Duration = Duration::from_secs(1);
/// Tries of `AT` (one second each) before the modem is declared silent. A SIMCom module
/// ignores what it receives for a moment after power-up, so the first may go unanswered.
const ATTENTION_TRIES: u32 = 5;

/// The steps, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// `AT` until the modem answers.
    Attention,
    /// `ATE0`.
    EchoOff,
    /// `AT+CMEE=1`.
    VerboseErrors,
    /// `AT+CGMI`, `+CGMM`, `+CGMR`, `+CGSN`; picks the [`Quirks`].
    Identify,
    /// The quirks' vendor lines.
    VendorSetup,
    /// `AT+CPIN?`, the PIN once if needed, `AT+CIMI`.
    SimState,
    /// `AT+CMGF=0`, then `AT+CSMS=0` (tolerated).
    PduMode,
    /// `AT+CPMS=...` then `AT+CPMS?`.
    Storage,
    /// `AT+CNMI=...`, falling back through the quirks' variants.
    NewMessageIndications,
    /// `AT+CLIP=1`.
    CallerId,
    /// `AT+CREG=1`, `AT+CREG?`.
    Registration,
    /// `AT+CSQ`.
    Signal,
    /// `AT+COPS=3,0`, `AT+COPS?`.
    Operator,
    /// `AT+CSCA?`.
    ServiceCentre,
}

impl Step {
    /// Short name for logs and the probe report.
    pub fn name(self) -> &'static str {
        match self {
            Step::Attention => "attention",
            Step::EchoOff => "echo off",
            Step::VerboseErrors => "verbose errors",
            Step::Identify => "identify",
            Step::VendorSetup => "vendor setup",
            Step::SimState => "SIM state",
            Step::PduMode => "PDU mode",
            Step::Storage => "storage",
            Step::NewMessageIndications => "new-message indications",
            Step::CallerId => "caller id",
            Step::Registration => "registration",
            Step::Signal => "signal",
            Step::Operator => "operator",
            Step::ServiceCentre => "SMS centre",
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a step went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepOutcome {
    /// As intended.
    Done,
    /// The modem refused (part of) it; the reason quotes the command and the answer.
    Refused(String),
}

/// What the modem said about itself during init.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModemInfo {
    /// `AT+CGMI`.
    pub manufacturer: Option<String>,
    /// `AT+CGMM`.
    pub model: Option<String>,
    /// `AT+CGMR`.
    pub revision: Option<String>,
    /// `AT+CGSN`.
    pub imei: Option<String>,
    /// `AT+CIMI` (only once the SIM is unlocked).
    pub imsi: Option<String>,
    /// The quirks chosen from the manufacturer.
    pub quirks: &'static Quirks,
    /// `AT+CPIN?`.
    pub sim: Option<PinState>,
    /// `AT+CPMS?`.
    pub storage: Option<StorageStatus>,
    /// The `AT+CNMI` variant the modem accepted; `None`: it refused them all, so new messages
    /// are only found by listing storage.
    pub indications: Option<&'static str>,
    /// `AT+CREG?`.
    pub registration: Option<Registration>,
    /// `AT+CSQ`.
    pub signal: Option<Signal>,
    /// `AT+COPS?`.
    pub operator: Option<String>,
    /// `AT+CSCA?`.
    pub service_centre: Option<String>,
}

impl Default for ModemInfo {
    fn default() -> Self {
        ModemInfo {
            manufacturer: None,
            model: None,
            revision: None,
            imei: None,
            imsi: None,
            quirks: &Quirks::GENERIC,
            sim: None,
            storage: None,
            indications: None,
            registration: None,
            signal: None,
            operator: None,
            service_centre: None,
        }
    }
}

/// Every step's outcome and what was learnt, also when init stopped early.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InitReport {
    /// What the modem said about itself.
    pub info: ModemInfo,
    /// Each step that ran, in order.
    pub steps: Vec<(Step, StepOutcome)>,
}

impl InitReport {
    /// The steps the modem refused, with why.
    pub fn refused(&self) -> impl Iterator<Item = (Step, &str)> {
        self.steps
            .iter()
            .filter_map(|(step, outcome)| match outcome {
                StepOutcome::Refused(why) => Some((*step, why.as_str())),
                StepOutcome::Done => None,
            })
    }
}

/// Why init stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InitError {
    /// Nothing answers `AT`.
    #[error("the modem does not answer AT (is this the modem's AT port? some sticks have several)")]
    Silent,
    /// The SIM keeps the modem from working.
    #[error("{0}")]
    Sim(SimLock),
    /// A step that cannot be skipped failed.
    #[error("init step '{step}' failed: {error}")]
    Step {
        /// Which step.
        step: Step,
        /// What happened.
        error: CommandError,
    },
    /// The port went away.
    #[error("modem lost during init: {0}")]
    Gone(String),
}

/// Remembers, for the life of the process and across reconnects, that the SIM refused the
/// configured PIN, so it is never sent again (three wrong PINs block the SIM).
#[derive(Debug, Default, Clone)]
pub struct PinMemory {
    rejected: Option<String>,
}

impl PinMemory {
    /// Whether the PIN was refused, and what the modem answered.
    pub fn rejected(&self) -> Option<&str> {
        self.rejected.as_deref()
    }
}

/// Runs the init sequence. The report is returned whatever happens, so a caller can show how
/// far it got.
pub async fn initialise<S: AsyncRead + AsyncWrite + Unpin>(
    session: &mut Session<S>,
    pin: Option<&Pin>,
    memory: &mut PinMemory,
) -> (InitReport, Result<(), InitError>) {
    let mut init = Init {
        session,
        report: InitReport::default(),
    };
    let result = init.run(pin, memory).await;
    (init.report, result)
}

struct Init<'a, S> {
    session: &'a mut Session<S>,
    report: InitReport,
}

/// A tolerated command's outcome: refused is kept as text, gone stops init.
type Tolerated<T> = Result<Result<T, CommandError>, InitError>;

impl<S: AsyncRead + AsyncWrite + Unpin> Init<'_, S> {
    async fn run(&mut self, pin: Option<&Pin>, memory: &mut PinMemory) -> Result<(), InitError> {
        self.attention().await?;
        let echo = self.tolerate(&command::echo_off()).await?;
        self.record(Step::EchoOff, echo.err());
        let cmee = self.tolerate(&command::verbose_errors()).await?;
        self.record(Step::VerboseErrors, cmee.err());
        self.identify().await?;
        self.sim(pin, memory).await?;
        self.pdu_mode().await?;
        self.storage().await?;
        self.indications().await?;
        let clip = self.tolerate(&command::caller_id_on()).await?;
        self.record(Step::CallerId, clip.err());
        self.network().await?;
        Ok(())
    }

    fn record(&mut self, step: Step, error: Option<CommandError>) {
        let outcome = match error {
            None => StepOutcome::Done,
            Some(e) => {
                tracing::info!(step = step.name(), error = %e, "modem refused an init step (tolerated)");
                StepOutcome::Refused(e.to_string())
            }
        };
        self.report.steps.push((step, outcome));
    }

    async fn tolerate<T>(&mut self, cmd: &Cmd<T>) -> Tolerated<T> {
        match self.session.run(cmd).await {
            Err(CommandError::Gone { reason, .. }) => Err(InitError::Gone(reason)),
            other => Ok(other),
        }
    }

    /// Like [`Self::tolerate`], retrying while the SIM says busy.
    async fn patient<T>(&mut self, cmd: &Cmd<T>) -> Tolerated<T> {
        let mut tries = 1;
        loop {
            match self.tolerate(cmd).await? {
                Err(e) if e.is_sim_busy() && tries < SIM_BUSY_TRIES => {
                    tries += 1;
                    tokio::time::sleep(SIM_BUSY_PAUSE).await;
                }
                other => return Ok(other),
            }
        }
    }

    async fn attention(&mut self) -> Result<(), InitError> {
        for _ in 0..ATTENTION_TRIES {
            match self.tolerate(&command::attention()).await? {
                Err(CommandError::Timeout { .. }) => continue,
                // Any answer, even ERROR, means something is listening.
                _ => {
                    self.record(Step::Attention, None);
                    return Ok(());
                }
            }
        }
        self.report.steps.push((
            Step::Attention,
            StepOutcome::Refused("no answer to AT".into()),
        ));
        Err(InitError::Silent)
    }

    async fn identify(&mut self) -> Result<(), InitError> {
        let mut refused = Vec::new();
        let mut keep = |r: Result<String, CommandError>| match r {
            Ok(v) => Some(v),
            Err(e) => {
                refused.push(e.to_string());
                None
            }
        };
        let manufacturer = keep(self.tolerate(&command::manufacturer()).await?);
        let model = keep(self.tolerate(&command::model()).await?);
        let revision = keep(self.tolerate(&command::revision()).await?);
        let imei = keep(self.tolerate(&command::imei()).await?);
        let quirks = Quirks::for_manufacturer(manufacturer.as_deref().unwrap_or(""));
        self.session.set_pause(quirks.command_pause);
        let info = &mut self.report.info;
        info.manufacturer = manufacturer;
        info.model = model;
        info.revision = revision;
        info.imei = imei;
        info.quirks = quirks;
        let outcome = if refused.is_empty() {
            StepOutcome::Done
        } else {
            StepOutcome::Refused(refused.join("; "))
        };
        self.report.steps.push((Step::Identify, outcome));
        tracing::info!(
            manufacturer = self.report.info.manufacturer.as_deref().unwrap_or("?"),
            model = self.report.info.model.as_deref().unwrap_or("?"),
            quirks = quirks.family,
            "modem identified"
        );

        if !quirks.extra_init.is_empty() {
            let mut refused = None;
            for line in quirks.extra_init {
                if let Err(e) = self.tolerate(&command::vendor(line)).await? {
                    refused = Some(e);
                }
            }
            self.record(Step::VendorSetup, refused);
        }
        Ok(())
    }

    async fn sim(&mut self, pin: Option<&Pin>, memory: &mut PinMemory) -> Result<(), InitError> {
        let fail = |this: &mut Self, lock: SimLock| {
            this.report
                .steps
                .push((Step::SimState, StepOutcome::Refused(lock.to_string())));
            Err(InitError::Sim(lock))
        };
        let mut pin_entered = false;
        let mut not_ready = 0;
        loop {
            let state = match self.patient(&command::pin_state()).await? {
                Ok(state) => state,
                Err(e) => match e.cme() {
                    Some(sim::cme::SIM_NOT_INSERTED) => return fail(self, SimLock::NoSim),
                    Some(sim::cme::SIM_FAILURE | sim::cme::SIM_WRONG) => {
                        return fail(self, SimLock::SimFailure(e.to_string()));
                    }
                    Some(sim::cme::SIM_PIN_REQUIRED) => PinState::SimPin,
                    Some(sim::cme::SIM_PUK_REQUIRED) => PinState::SimPuk,
                    _ => {
                        self.record(Step::SimState, Some(e.clone()));
                        return Err(InitError::Step {
                            step: Step::SimState,
                            error: e,
                        });
                    }
                },
            };
            self.report.info.sim = Some(state.clone());
            match state {
                s if s.is_usable() => break,
                PinState::SimPin => {}
                PinState::SimPuk => return fail(self, SimLock::PukRequired),
                PinState::PhoneLock(what) => return fail(self, SimLock::PhoneLock(what)),
                PinState::NotInserted => return fail(self, SimLock::NoSim),
                PinState::NotReady => {
                    // Still starting, or gone: give it the time a busy SIM gets.
                    not_ready += 1;
                    if not_ready >= SIM_BUSY_TRIES {
                        return fail(self, SimLock::NoSim);
                    }
                    tokio::time::sleep(SIM_BUSY_PAUSE).await;
                    continue;
                }
                _ => return fail(self, SimLock::PhoneLock(state.to_string())),
            }
            // The SIM wants its PIN.
            if let Some(answer) = memory.rejected() {
                let answer = answer.to_owned();
                return fail(self, SimLock::PinRejected { answer });
            }
            let Some(pin) = pin else {
                return fail(self, SimLock::PinRequired);
            };
            if pin_entered {
                // Accepted with OK yet still asking: poll until the SIM catches up, never
                // sending the PIN a second time.
                tokio::time::sleep(SIM_BUSY_PAUSE).await;
                continue;
            }
            pin_entered = true;
            tracing::info!("the SIM asks for its PIN: entering the configured PIN (once)");
            match self.tolerate(&command::enter_pin(pin)).await? {
                Ok(()) => {}
                Err(e) => {
                    // Refused, or no answer (the SIM may have counted the try): never again.
                    let answer = e.to_string();
                    memory.rejected = Some(answer.clone());
                    return fail(self, SimLock::PinRejected { answer });
                }
            }
        }
        self.record(Step::SimState, None);
        if let Ok(imsi) = self.patient(&command::imsi()).await? {
            self.report.info.imsi = Some(imsi);
        }
        Ok(())
    }

    async fn pdu_mode(&mut self) -> Result<(), InitError> {
        match self.patient(&command::pdu_mode()).await? {
            Ok(()) => {
                // Phase 2 is the default on most modems; refusing to set it is tolerated.
                let service = self.tolerate(&command::message_service_phase2()).await?;
                self.record(Step::PduMode, service.err());
                Ok(())
            }
            Err(error) => {
                self.record(Step::PduMode, Some(error.clone()));
                Err(InitError::Step {
                    step: Step::PduMode,
                    error,
                })
            }
        }
    }

    async fn storage(&mut self) -> Result<(), InitError> {
        let mut refused = Vec::new();
        let mut chosen = false;
        for storage in [Storage::Sim, Storage::Both, Storage::Modem] {
            match self.patient(&command::use_storage(&storage)).await? {
                Ok(_) => {
                    chosen = true;
                    break;
                }
                Err(e) => refused.push(e.to_string()),
            }
        }
        match self.patient(&command::storage_status()).await? {
            Ok(status) => self.report.info.storage = Some(status),
            Err(e) => refused.push(e.to_string()),
        }
        let outcome = if chosen && self.report.info.storage.is_some() {
            StepOutcome::Done
        } else {
            StepOutcome::Refused(refused.join("; "))
        };
        self.report.steps.push((Step::Storage, outcome));
        Ok(())
    }

    async fn indications(&mut self) -> Result<(), InitError> {
        let mut refused = Vec::new();
        for variant in self.report.info.quirks.cnmi {
            match self
                .patient(&command::new_message_indications(variant))
                .await?
            {
                Ok(()) => {
                    self.report.info.indications = Some(variant);
                    self.report
                        .steps
                        .push((Step::NewMessageIndications, StepOutcome::Done));
                    return Ok(());
                }
                Err(e) => refused.push(e.to_string()),
            }
        }
        tracing::warn!(
            "the modem refused every +CNMI variant: new messages are only found by listing storage"
        );
        self.report.steps.push((
            Step::NewMessageIndications,
            StepOutcome::Refused(format!(
                "{} (new messages will only be found by listing)",
                refused.join("; ")
            )),
        ));
        Ok(())
    }

    async fn network(&mut self) -> Result<(), InitError> {
        let urcs = self.tolerate(&command::registration_changes_on()).await?;
        let query = self.tolerate(&command::registration()).await?;
        let refused = match (urcs, query) {
            (Ok(()), Ok(r)) => {
                self.report.info.registration = Some(r);
                None
            }
            (Err(e), Ok(r)) => {
                self.report.info.registration = Some(r);
                Some(e)
            }
            (_, Err(e)) => Some(e),
        };
        self.record(Step::Registration, refused);

        let signal = self.tolerate(&command::signal()).await?;
        let refused = signal.map(|s| self.report.info.signal = Some(s)).err();
        self.record(Step::Signal, refused);

        // Long names are nicer in the probe report; some modems refuse the format change.
        let _ = self.tolerate(&command::operator_by_name()).await?;
        let operator = self.tolerate(&command::operator()).await?;
        let refused = operator.map(|o| self.report.info.operator = o).err();
        self.record(Step::Operator, refused);

        let centre = self.patient(&command::service_centre()).await?;
        let refused = centre.map(|c| self.report.info.service_centre = c).err();
        self.record(Step::ServiceCentre, refused);
        if self.report.info.service_centre.is_none() {
            tracing::warn!("no SMS centre on the SIM: sending will fail with +CMS ERROR: 330");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modem::testing::{Behaviour, FakeModem, responder};
    use crate::modem::transport;
    use std::sync::{Arc, Mutex};

    async fn run_init(
        behaviour: Behaviour,
        pin: Option<&str>,
        memory: &mut PinMemory,
    ) -> (InitReport, Result<(), InitError>, Vec<String>) {
        let b = Arc::new(Mutex::new(behaviour));
        let modem = FakeModem::start(responder(b)).unwrap();
        let port = transport::open(modem.path(), 115_200).unwrap();
        let mut session = Session::new(port, Duration::ZERO);
        let pin = pin.map(|p| Pin::new(p).unwrap());
        let (report, result) = initialise(&mut session, pin.as_ref(), memory).await;
        (report, result, modem.received())
    }

    #[tokio::test]
    async fn full_sequence_on_a_well_behaved_modem() {
        let mut memory = PinMemory::default();
        let (report, result, sent) = run_init(Behaviour::default(), None, &mut memory).await;
        result.unwrap();
        assert_eq!(report.refused().count(), 0, "{:?}", report.steps);
        let info = &report.info;
        assert_eq!(info.manufacturer.as_deref(), Some("ACME"));
        assert_eq!(info.imei.as_deref(), Some("353456789012345"));
        assert_eq!(info.imsi.as_deref(), Some("234150123456789"));
        assert_eq!(info.sim, Some(PinState::Ready));
        assert_eq!(info.indications, Some("2,1,0,1,0"));
        assert_eq!(info.signal.and_then(|s| s.dbm()), Some(-73));
        assert_eq!(info.operator.as_deref(), Some("Test Net"));
        assert_eq!(info.service_centre.as_deref(), Some("+447785016005"));
        assert_eq!(info.storage.as_ref().map(|s| s.receive.1.total), Some(30));
        let order: Vec<&str> = sent.iter().map(String::as_str).collect();
        let pos = |c: &str| order.iter().position(|l| *l == c).unwrap();
        assert!(pos("ATE0") < pos("AT+CMEE=1"));
        assert!(pos("AT+CPIN?") < pos("AT+CMGF=0"));
        assert!(pos("AT+CMGF=0") < pos("AT+CNMI=2,1,0,1,0"));
    }

    #[tokio::test]
    async fn refused_steps_are_tolerated_and_reported() {
        let behaviour = Behaviour {
            refuse: vec!["AT+CMEE=1", "AT+CNMI=2,1,0,1,0", "AT+CNMI=2,1,0,0,0"],
            ..Behaviour::default()
        };
        let mut memory = PinMemory::default();
        let (report, result, _) = run_init(behaviour, None, &mut memory).await;
        result.unwrap();
        let refused: Vec<Step> = report.refused().map(|(s, _)| s).collect();
        assert_eq!(refused, vec![Step::VerboseErrors]);
        assert_eq!(report.info.indications, Some("1,1,0,0,0"));
    }

    #[tokio::test]
    async fn pdu_mode_refused_stops() {
        let behaviour = Behaviour {
            refuse: vec!["AT+CMGF=0"],
            ..Behaviour::default()
        };
        let mut memory = PinMemory::default();
        let (_, result, _) = run_init(behaviour, None, &mut memory).await;
        assert!(matches!(
            result,
            Err(InitError::Step {
                step: Step::PduMode,
                ..
            })
        ));
    }

    #[tokio::test]
    async fn right_pin_is_entered_once() {
        let behaviour = Behaviour {
            pin: Some("1234"),
            ..Behaviour::default()
        };
        let mut memory = PinMemory::default();
        let (report, result, sent) = run_init(behaviour, Some("1234"), &mut memory).await;
        result.unwrap();
        assert_eq!(sent.iter().filter(|l| l.starts_with("AT+CPIN=")).count(), 1);
        assert_eq!(report.info.sim, Some(PinState::Ready));
        assert!(memory.rejected().is_none());
    }

    #[tokio::test]
    async fn wrong_pin_stops_and_is_never_retried() {
        let mut memory = PinMemory::default();
        let behaviour = || Behaviour {
            pin: Some("1234"),
            ..Behaviour::default()
        };
        let (_, result, sent) = run_init(behaviour(), Some("9999"), &mut memory).await;
        assert!(
            matches!(result, Err(InitError::Sim(SimLock::PinRejected { .. }))),
            "{result:?}"
        );
        assert_eq!(sent.iter().filter(|l| l.starts_with("AT+CPIN=")).count(), 1);
        assert!(
            !sent.iter().any(|l| l == "AT+CMGF=0"),
            "stopped before SMS setup"
        );
        // A reconnect (new port, same memory): the PIN is not sent again.
        let (_, result, sent) = run_init(behaviour(), Some("9999"), &mut memory).await;
        assert!(matches!(
            result,
            Err(InitError::Sim(SimLock::PinRejected { .. }))
        ));
        assert_eq!(sent.iter().filter(|l| l.starts_with("AT+CPIN=")).count(), 0);
    }

    #[tokio::test]
    async fn no_pin_configured() {
        let behaviour = Behaviour {
            pin: Some("1234"),
            ..Behaviour::default()
        };
        let mut memory = PinMemory::default();
        let (report, result, _) = run_init(behaviour, None, &mut memory).await;
        assert_eq!(result, Err(InitError::Sim(SimLock::PinRequired)));
        assert_eq!(report.info.manufacturer.as_deref(), Some("ACME"));
    }

    #[tokio::test]
    async fn no_sim_either_way() {
        for answer in ["+CME ERROR: 10", "+CPIN: NOT INSERTED\r\n\r\nOK"] {
            let behaviour = Behaviour {
                cpin_answer: Some(answer),
                ..Behaviour::default()
            };
            let mut memory = PinMemory::default();
            let (report, result, sent) = run_init(behaviour, Some("1234"), &mut memory).await;
            assert_eq!(result, Err(InitError::Sim(SimLock::NoSim)), "{answer}");
            assert!(!sent.iter().any(|l| l.starts_with("AT+CPIN=")), "{answer}");
            assert!(report.refused().any(|(s, _)| s == Step::SimState));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn silent_modem() {
        let (ours, _theirs) = tokio::io::duplex(64);
        let mut session = Session::new(ours, Duration::ZERO);
        let mut memory = PinMemory::default();
        let (_, result) = initialise(&mut session, None, &mut memory).await;
        assert_eq!(result, Err(InitError::Silent));
    }
}
