//! What systemd is told (sd_notify(3), for `Type=notify` and `WatchdogSec=` in
//! `systemd/shiftsms.service`):
//!
//! - `READY=1` once the database is open and the modem initialised, or once it is known that
//!   the modem is not usable yet (unplugged, SIM locked, init failing; systemd should not fail
//!   the start for that, the daemon waits for the modem itself), or after a grace period while
//!   the modem is still initialising. `STATUS=` says which, and follows every change after
//!   ([`describe`]).
//! - `WATCHDOG=1` every half interval, but only while every loop that owns an external
//!   resource answers the questions it is asked ([`super::probe`]); a wedged modem task stops
//!   the pings and `STATUS=` says which loop is silent.
//! - `STOPPING=1` when shutdown starts.
//!
//! Everything goes through one [`Notifier`], which knows its socket (from `NOTIFY_SOCKET`, or
//! given by a test) and does nothing when there is none.

use std::ffi::OsStr;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sd_notify::NotifyState;
use tokio::sync::watch;
use tokio::time::Instant;

use super::Health;
use super::probe::{Liveness, Stalled};
use super::shutdown::Shutdown;
use crate::modem::ModemState;

/// Where sd_notify messages go: systemd's notification socket, or nowhere.
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    target: Option<Arc<Target>>,
}

#[derive(Debug)]
struct Target {
    socket: UnixDatagram,
    addr: SocketAddr,
}

impl Notifier {
    /// Sends nothing.
    pub fn off() -> Notifier {
        Notifier::default()
    }

    /// The socket named by `NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace), as
    /// systemd sets it for `Type=notify` services; off when it is not set.
    pub fn from_env() -> std::io::Result<Notifier> {
        match std::env::var_os("NOTIFY_SOCKET") {
            Some(name) if !name.is_empty() => Notifier::to(&name),
            _ => Ok(Notifier::off()),
        }
    }

    /// Messages to the datagram socket at `name` (a path, or `@name`).
    pub fn to(name: &OsStr) -> std::io::Result<Notifier> {
        let addr = match name.as_bytes().strip_prefix(b"@") {
            Some(abstract_name) => SocketAddr::from_abstract_name(abstract_name)?,
            None => SocketAddr::from_pathname(Path::new(name))?,
        };
        let socket = UnixDatagram::unbound()?;
        Ok(Notifier {
            target: Some(Arc::new(Target { socket, addr })),
        })
    }

    pub fn is_on(&self) -> bool {
        self.target.is_some()
    }

    /// Send `states` as one message. A failure is logged, never fatal: systemd not listening
    /// must not stop the service.
    pub fn notify(&self, states: &[NotifyState<'_>]) {
        let Some(target) = &self.target else {
            return;
        };
        let message: String = states.iter().map(|state| format!("{state}\n")).collect();
        if let Err(err) = target.socket.send_to_addr(message.as_bytes(), &target.addr) {
            tracing::warn!("cannot notify systemd ({err}): {}", message.trim_end());
        }
    }
}

/// What systemd asked of this process: where to notify, and the watchdog interval.
#[derive(Debug, Clone, Default)]
pub struct Systemd {
    pub notifier: Notifier,
    /// `WatchdogSec=` (from `WATCHDOG_USEC`, when `WATCHDOG_PID` is ours or absent).
    pub watchdog: Option<Duration>,
}

impl Systemd {
    /// Not under systemd (the demo, tests): nothing is sent.
    pub fn off() -> Systemd {
        Systemd::default()
    }

    /// From the environment systemd gives a service.
    pub fn from_env() -> std::io::Result<Systemd> {
        Ok(Systemd {
            notifier: Notifier::from_env()?,
            watchdog: sd_notify::watchdog_enabled(),
        })
    }
}

/// Where start-up stands, for `READY=1` and `STATUS=`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// Database open, modem still being opened or initialised: not ready yet.
    NotYet,
    /// Ready (or as ready as it can be without the modem), and how things are.
    Ready(String),
}

/// `STATUS=` for the daemon's [`Health`] and the modem's state. `waited`: the grace period
/// is over, so a modem still initialising (or a long list of messages stored on it) does not
/// hold readiness back any more.
pub fn describe(health: &Health, modem: &ModemState, port: &str, waited: bool) -> Readiness {
    let text = match (modem, health) {
        (ModemState::Ready, Health::Serving) => format!("serving: the modem at {port} is ready"),
        // Initialised; what it stored meanwhile is being taken: moments, normally.
        (ModemState::Ready, Health::Starting) if !waited => return Readiness::NotYet,
        (ModemState::Ready, _) => {
            format!("the modem at {port} is ready; taking the messages stored on it")
        }
        (ModemState::Gone(why), _) => format!(
            "database open; waiting for the modem at {port} ({why}); texts to send wait in the \
             outbox"
        ),
        (ModemState::Locked(lock), _) => format!("database open; the modem is not usable: {lock}"),
        (ModemState::Failed(why), _) => {
            format!("database open; the modem did not initialise ({why}); retrying")
        }
        (ModemState::Connecting | ModemState::Initialising, Health::Starting) if !waited => {
            return Readiness::NotYet;
        }
        (ModemState::Connecting | ModemState::Initialising, _) => {
            format!("database open; the modem at {port} is initialising")
        }
        (ModemState::Stopped, _) => "stopping".to_string(),
    };
    // One line: the notify protocol is one assignment per line.
    Readiness::Ready(text.replace('\n', " "))
}

/// What the systemd task watches.
#[derive(Debug)]
pub struct Watched {
    pub health: watch::Receiver<Health>,
    pub modem: watch::Receiver<ModemState>,
    /// The configured modem port, for the status line.
    pub port: String,
}

/// The systemd task: readiness, status and watchdog until shutdown. Readiness waits at most
/// `grace` for a modem that is still initialising.
pub async fn run(
    systemd: Systemd,
    mut watched: Watched,
    liveness: Liveness,
    grace: Duration,
    shutdown: Shutdown,
) {
    let Systemd { notifier, watchdog } = systemd;
    let started = Instant::now();
    let mut ready = false;
    let mut last_status = String::new();
    let mut withheld: Option<Stalled> = None;
    let (mut health_open, mut modem_open) = (true, true);
    let pet_every = watchdog.map_or(Duration::from_secs(3600), |w| {
        (w / 2).max(Duration::from_millis(10))
    });
    let mut pet = tokio::time::interval(pet_every);
    pet.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    if let Some(interval) = watchdog {
        tracing::info!(
            "systemd watchdog every {}s: pinged while the modem task and the database answer",
            interval.as_secs_f32()
        );
        if interval < Duration::from_secs(120) {
            tracing::warn!(
                "WatchdogSec={}s is shorter than the modem's longest legitimate silence (a \
                 slow init, or AT+CMGS waiting up to 70 s for the network): a busy modem may \
                 be taken for a hung one; 3min is recommended",
                interval.as_secs()
            );
        }
    }
    loop {
        let waited = started.elapsed() >= grace;
        let described = describe(
            &watched.health.borrow(),
            &watched.modem.borrow(),
            &watched.port,
            waited,
        );
        if let Readiness::Ready(mut status) = described {
            if let Some(stalled) = withheld {
                status.push_str(&format!(
                    "; watchdog withheld: the {} has not answered for {}s",
                    stalled.name,
                    stalled.silent_for.as_secs()
                ));
            }
            if !ready {
                ready = true;
                tracing::info!("ready: {status}");
                notifier.notify(&[NotifyState::Ready, NotifyState::Status(&status)]);
                last_status = status;
            } else if status != last_status {
                notifier.notify(&[NotifyState::Status(&status)]);
                last_status = status;
            }
        }
        tokio::select! {
            biased;
            _ = shutdown.requested() => {
                notifier.notify(&[
                    NotifyState::Stopping,
                    NotifyState::Status("stopping at the next safe point"),
                ]);
                return;
            }
            changed = watched.health.changed(), if health_open => health_open = changed.is_ok(),
            changed = watched.modem.changed(), if modem_open => modem_open = changed.is_ok(),
            _ = tokio::time::sleep_until(started + grace), if !ready && !waited => {}
            _ = pet.tick(), if watchdog.is_some() => {
                let limit = watchdog.unwrap_or(pet_every);
                match liveness.stalled(Instant::now(), limit) {
                    None => {
                        notifier.notify(&[NotifyState::Watchdog]);
                        if let Some(was) = withheld.take() {
                            tracing::info!("watchdog: the {} answers again; pinging", was.name);
                        }
                    }
                    Some(stalled) => {
                        if withheld.is_none() {
                            tracing::error!(
                                "watchdog: the {} has not answered for {}s: not pinging \
                                 systemd, which restarts shiftsms if this goes on",
                                stalled.name,
                                stalled.silent_for.as_secs()
                            );
                        }
                        withheld = Some(stalled);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::probe::Probe;
    use crate::modem::SimLock;

    #[test]
    fn ready_once_the_modem_is_known_ready_or_known_absent() {
        let port = "/dev/shiftsms-modem";
        let ready = |health: Health, modem: ModemState, waited| match describe(
            &health, &modem, port, waited,
        ) {
            Readiness::Ready(status) => Some(status),
            Readiness::NotYet => None,
        };
        assert_eq!(ready(Health::Starting, ModemState::Connecting, false), None);
        assert_eq!(
            ready(Health::Starting, ModemState::Initialising, false),
            None
        );
        assert_eq!(ready(Health::Starting, ModemState::Ready, false), None);
        assert_eq!(
            ready(Health::Starting, ModemState::Initialising, true).as_deref(),
            Some("database open; the modem at /dev/shiftsms-modem is initialising")
        );
        assert_eq!(
            ready(Health::Serving, ModemState::Ready, false).as_deref(),
            Some("serving: the modem at /dev/shiftsms-modem is ready")
        );
        let gone = ready(
            Health::ModemAway("no such file".into()),
            ModemState::Gone("/dev/shiftsms-modem: no such file".into()),
            false,
        )
        .unwrap();
        assert!(
            gone.starts_with("database open; waiting for the modem"),
            "{gone}"
        );
        assert!(gone.contains("wait in the outbox"), "{gone}");
        let locked = ready(
            Health::Starting,
            ModemState::Locked(SimLock::PinRequired),
            false,
        )
        .unwrap();
        assert!(locked.contains("the SIM needs a PIN"), "{locked}");
        let failed = ready(
            Health::Starting,
            ModemState::Failed("no answer to AT\nat all".into()),
            false,
        )
        .unwrap();
        assert!(!failed.contains('\n'), "{failed}");
        // Back after a replug, the stored messages not yet taken.
        assert!(
            ready(Health::ModemAway("gone".into()), ModemState::Ready, false)
                .unwrap()
                .contains("taking the messages stored on it")
        );
    }

    fn socket() -> (tempfile::TempDir, tokio::net::UnixDatagram, Notifier) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify");
        let socket = tokio::net::UnixDatagram::bind(&path).unwrap();
        let notifier = Notifier::to(path.as_os_str()).unwrap();
        (dir, socket, notifier)
    }

    async fn next(socket: &tokio::net::UnixDatagram) -> String {
        let mut buf = vec![0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), socket.recv(&mut buf))
            .await
            .expect("a notification")
            .unwrap();
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[tokio::test]
    async fn notifications_reach_the_socket_and_an_absent_one_is_no_error() {
        let (_dir, socket, notifier) = socket();
        notifier.notify(&[NotifyState::Ready, NotifyState::Status("serving")]);
        assert_eq!(next(&socket).await, "READY=1\nSTATUS=serving\n");
        Notifier::off().notify(&[NotifyState::Ready]);
        let gone = Notifier::to(OsStr::new("/nonexistent/notify")).unwrap();
        gone.notify(&[NotifyState::Watchdog]);
        assert!(
            Notifier::to(OsStr::new("@shiftsms-test-abstract"))
                .unwrap()
                .is_on()
        );
    }

    /// The task as a whole, on a fake notification socket, with a modem probe the test
    /// answers or leaves hanging.
    #[tokio::test]
    async fn ready_then_pings_only_while_the_probed_loops_answer() {
        let (_dir, socket, notifier) = socket();
        let (health_tx, health) = watch::channel(Health::Starting);
        let (modem_tx, modem) = watch::channel(ModemState::Initialising);
        let (prober, probe) = Probe::new("modem task");
        let (trigger, shutdown) = Shutdown::new();
        let interval = Duration::from_millis(200);
        let task = tokio::spawn(run(
            Systemd {
                notifier,
                watchdog: Some(interval),
            },
            Watched {
                health,
                modem,
                port: "/dev/pts/9".into(),
            },
            Liveness::new(vec![probe]),
            Duration::from_secs(3600),
            shutdown,
        ));
        // Pings start before readiness; readiness waits for the modem.
        assert_eq!(next(&socket).await, "WATCHDOG=1\n");
        modem_tx.send_replace(ModemState::Ready);
        health_tx.send_replace(Health::Serving);
        let mut seen = next(&socket).await;
        while seen == "WATCHDOG=1\n" {
            seen = next(&socket).await;
        }
        assert_eq!(
            seen,
            "READY=1\nSTATUS=serving: the modem at /dev/pts/9 is ready\n"
        );
        assert_eq!(next(&socket).await, "WATCHDOG=1\n");

        // The modem task is asked something and never answers.
        prober.asking();
        let mut withheld = next(&socket).await;
        while withheld == "WATCHDOG=1\n" {
            withheld = next(&socket).await;
        }
        assert!(
            withheld.starts_with("STATUS=serving: the modem at /dev/pts/9 is ready; watchdog withheld: the modem task has not answered for"),
            "{withheld}"
        );
        // Nothing but status updates while it stays silent.
        for _ in 0..3 {
            let message = next(&socket).await;
            assert!(message.starts_with("STATUS="), "{message}");
        }
        // It answers: pings again, and the status is clean again.
        prober.answered();
        let mut resumed = Vec::new();
        while resumed.len() < 2 {
            let message = next(&socket).await;
            if !message.contains("withheld") {
                resumed.push(message);
            }
        }
        assert!(resumed.contains(&"WATCHDOG=1\n".to_string()), "{resumed:?}");
        assert!(
            resumed.contains(&"STATUS=serving: the modem at /dev/pts/9 is ready\n".to_string()),
            "{resumed:?}"
        );

        trigger.fire();
        task.await.unwrap();
        let mut last = next(&socket).await;
        while last == "WATCHDOG=1\n" || last.starts_with("STATUS=serving") {
            last = next(&socket).await;
        }
        assert_eq!(last, "STOPPING=1\nSTATUS=stopping at the next safe point\n");
    }
}
