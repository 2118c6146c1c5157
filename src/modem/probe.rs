//! `shiftsms modem probe`: open the configured port once, run the init sequence, and report
//! what a field engineer needs: model, IMEI, SIM, operator, registration, signal, SMS centre,
//! storage, and which init steps the modem refused.

use std::fmt;
use std::path::PathBuf;

use super::engine::ModemSettings;
use super::init::{self, InitError, InitReport, PinMemory};
use super::quirks::Quirks;
use super::session::Session;
use super::transport::{self, OpenError};

/// What the probe found. `stopped` says why init did not finish, if it did not (a locked SIM,
/// PDU mode refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    /// The port probed.
    pub port: PathBuf,
    /// Everything init learnt and each step's outcome.
    pub init: InitReport,
    /// Why init stopped early.
    pub stopped: Option<InitError>,
}

/// Why there is nothing to report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// The port could not be opened (missing, busy, permission).
    #[error(transparent)]
    Open(#[from] OpenError),
    /// The port opened but nothing answers `AT`.
    #[error("{}: opened, but nothing answers AT (wrong port of a multi-port stick? wrong baud rate?)", .0.display())]
    Silent(PathBuf),
    /// The port went away while probing.
    #[error("{}: the modem went away during the probe: {reason}", .port.display())]
    Gone {
        /// The port.
        port: PathBuf,
        /// What happened.
        reason: String,
    },
}

/// Probes the modem at `settings.port`.
pub async fn probe(settings: &ModemSettings) -> Result<ProbeReport, ProbeError> {
    let port = transport::open(&settings.port, settings.baud)?;
    let mut session = Session::new(port, Quirks::GENERIC.command_pause);
    let mut memory = PinMemory::default();
    let (report, result) = init::initialise(&mut session, settings.pin.as_ref(), &mut memory).await;
    let stopped = match result {
        Ok(()) => None,
        Err(InitError::Silent) => return Err(ProbeError::Silent(settings.port.clone())),
        Err(InitError::Gone(reason)) => {
            return Err(ProbeError::Gone {
                port: settings.port.clone(),
                reason,
            });
        }
        Err(other) => Some(other),
    };
    Ok(ProbeReport {
        port: settings.port.clone(),
        init: report,
        stopped,
    })
}

fn or_unknown(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("unknown")
}

impl fmt::Display for ProbeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let info = &self.init.info;
        writeln!(f, "port:           {}", self.port.display())?;
        writeln!(
            f,
            "modem:          {} {} (firmware {}; quirks: {})",
            or_unknown(&info.manufacturer),
            or_unknown(&info.model),
            or_unknown(&info.revision),
            info.quirks.family
        )?;
        writeln!(f, "IMEI:           {}", or_unknown(&info.imei))?;
        match &info.sim {
            Some(sim) => writeln!(f, "SIM:            {sim}")?,
            None => writeln!(f, "SIM:            unknown")?,
        }
        if let Some(imsi) = &info.imsi {
            writeln!(f, "IMSI:           {imsi}")?;
        }
        writeln!(f, "operator:       {}", or_unknown(&info.operator))?;
        match &info.registration {
            Some(r) => writeln!(f, "registration:   {}", r.status)?,
            None => writeln!(f, "registration:   unknown")?,
        }
        match &info.signal {
            Some(s) => writeln!(f, "signal:         {s}")?,
            None => writeln!(f, "signal:         unknown")?,
        }
        match &info.service_centre {
            Some(c) => writeln!(f, "SMS centre:     {c}")?,
            None if self.stopped.is_none() => writeln!(
                f,
                "SMS centre:     NOT SET (sending will fail with +CMS ERROR: 330)"
            )?,
            None => writeln!(f, "SMS centre:     unknown")?,
        }
        match &info.storage {
            Some(s) => {
                let full = if s.receive.1.is_full() {
                    "  FULL: new messages cannot be stored"
                } else {
                    ""
                };
                writeln!(
                    f,
                    "storage:        {} {} used (receiving into {} {}){full}",
                    s.read.0, s.read.1, s.receive.0, s.receive.1
                )?
            }
            None => writeln!(f, "storage:        unknown")?,
        }
        match info.indications {
            Some(v) => writeln!(f, "new messages:   announced (AT+CNMI={v})")?,
            None if self.stopped.is_none() => {
                writeln!(f, "new messages:   NOT announced (found by listing only)")?
            }
            None => {}
        }
        let refused: Vec<_> = self.init.refused().collect();
        if refused.is_empty() {
            writeln!(f, "refused steps:  none")?;
        } else {
            writeln!(f, "refused steps:")?;
            for (step, why) in refused {
                writeln!(f, "  {step}: {why}")?;
            }
        }
        if let Some(stopped) = &self.stopped {
            writeln!(f, "STOPPED:        {stopped}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modem::sim::Pin;
    use crate::modem::state::SimLock;
    use crate::modem::testing::{Behaviour, FakeModem, responder};
    use std::path::Path;
    use std::sync::{Arc, Mutex};

    fn settings(port: &Path) -> ModemSettings {
        ModemSettings::new(port, 115_200, None)
    }

    #[tokio::test]
    async fn reports_everything() {
        let b = Behaviour {
            refuse: vec!["AT+CMEE=1"],
            ..Behaviour::default()
        };
        let fake = FakeModem::start(responder(Arc::new(Mutex::new(b)))).unwrap();
        let report = probe(&settings(fake.path())).await.unwrap();
        assert_eq!(report.stopped, None);
        let text = report.to_string();
        for want in [
            "ACME TEST-1",
            "353456789012345",
            "SIM:            ready",
            "Test Net",
            "registered (home network)",
            "-73 dBm",
            "+447785016005",
            "SM 0/30 used",
            "AT+CNMI=2,1,0,1,0",
            "verbose errors: `AT+CMEE=1` was refused: ERROR",
        ] {
            assert!(text.contains(want), "{want:?} missing from:\n{text}");
        }
    }

    #[tokio::test]
    async fn locked_sim_is_reported_with_what_is_known() {
        let b = Behaviour {
            pin: Some("1234"),
            ..Behaviour::default()
        };
        let fake = FakeModem::start(responder(Arc::new(Mutex::new(b)))).unwrap();
        let mut s = settings(fake.path());
        s.pin = Some(Pin::new("0000").unwrap());
        let report = probe(&s).await.unwrap();
        assert!(matches!(
            report.stopped,
            Some(InitError::Sim(SimLock::PinRejected { .. }))
        ));
        let text = report.to_string();
        assert!(text.contains("353456789012345"), "{text}");
        assert!(text.contains("STOPPED"), "{text}");
        assert!(!text.contains("0000"), "the PIN is never printed:\n{text}");
    }

    #[tokio::test]
    async fn missing_and_busy_ports() {
        let err = probe(&settings(Path::new("/dev/serial/by-id/nothing-here")))
            .await
            .unwrap_err();
        assert!(
            matches!(err, ProbeError::Open(OpenError::Missing { .. })),
            "{err}"
        );

        let fake = FakeModem::start(responder(Arc::new(Mutex::new(Behaviour::default())))).unwrap();
        let _held = transport::open(fake.path(), 115_200).unwrap();
        let err = probe(&settings(fake.path())).await.unwrap_err();
        assert!(
            matches!(err, ProbeError::Open(OpenError::Busy { .. })),
            "{err}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn silent_port() {
        let fake = FakeModem::start(Box::new(|_| Vec::new())).unwrap();
        let err = probe(&settings(fake.path())).await.unwrap_err();
        assert!(matches!(err, ProbeError::Silent(_)), "{err}");
        assert!(err.to_string().contains("nothing answers AT"));
    }
}
