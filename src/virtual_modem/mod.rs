//! A GSM modem emulator on a pseudo-terminal.
//!
//! [`VirtualModem::start`] opens a pty and answers on its slave side (`/dev/pts/N`) the way
//! a USB GSM modem answers on `/dev/ttyUSB0`: V.250 framing and echo, 3GPP TS 27.007 /
//! 27.005 commands, SIM PIN, SIM storage, `+CMTI`, `AT+CMGS` with its `> ` prompt, voice
//! calls, and the quirks of real families chosen by a [`Profile`] (Huawei noise, SIMCom boot
//! banner, slow or flaky modems). The DTE (the daemon, a test) opens that path exactly as a
//! real port; the test drives the emulated network through the handle: deliver messages,
//! script calls, pull the stick out, read what was sent.
//!
//! ```no_run
//! # async fn example() -> Result<(), shiftsms::virtual_modem::VmError> {
//! use std::time::Duration;
//! use shiftsms::virtual_modem::{CallScript, Profile, VirtualModem, VmOptions};
//!
//! let vm = VirtualModem::start(VmOptions {
//!     pin: Some("1234".into()),
//!     ..VmOptions::with_profile(Profile::huawei())
//! })?;
//! // Point the daemon's `[modem] port` (or a test's own DTE) at `vm.port()`.
//! vm.script_call("+441234567890", CallScript::busy());
//! vm.deliver_sms("+447400123456", "XYZ123, XYZ222")?;
//! let replies = vm.wait_sms(1, Duration::from_secs(10)).await?;
//! assert_eq!(replies[0].to, "+447400123456");
//! // On failure, `vm.transcript_text()` shows every line that crossed the port.
//! # Ok(()) }
//! ```
//!
//! Layout: `core` is the modem as a pure state machine (framing, timers, output), with the
//! commands in `exec` (general, SIM, network), `sms` and `voice`; `command` parses command
//! lines, `tpdu` checks submitted PDUs, `sim` is the card; `pty` and `runner` are the only
//! parts that touch the operating system.

mod calls;
mod command;
mod console;
mod core;
mod exec;
mod profile;
mod pty;
mod rng;
mod runner;
mod sim;
mod sms;
#[cfg(test)]
mod tests;
mod text;
mod tpdu;
mod transcript;
mod voice;

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, oneshot};
use tokio::task::JoinHandle;

pub use self::calls::{
    CallDirection, CallEvent, CallEventKind, CallInfo, CallOutcome, CallScript, CallServices,
    CallState,
};
pub use self::console::{interrupted, run_standalone, stdin_lines};
pub use self::core::RegStatus;
pub use self::profile::{
    AlphaField, Cnmi, CnmiSupport, DelayRange, DialResult, EmptySlotRead, Identity, PROFILE_NAMES,
    Profile, TimedLine, ValueSet,
};
pub use self::sim::{MessageStatus, SimLock, StoredMessage};
pub use self::sms::{Delivery, SentPdu, Submission, SubmitOutcome};
pub use self::text::SentSms;
pub use self::tpdu::SubmitFault;
pub use self::transcript::{Direction, TranscriptLine};

use self::core::{Modem, Network};
use self::runner::Shared;
use self::sim::{Sim, Storage};

/// Bytes counted on the line, each way, since the modem was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LineBytes {
    /// Written by the DTE (commands, PDUs).
    pub to_modem: u64,
    /// Written by the modem (answers, unsolicited codes, prompts).
    pub from_modem: u64,
}

/// How to build a virtual modem. `VmOptions::default()` is a generic modem without PIN.
#[derive(Debug, Clone)]
pub struct VmOptions {
    pub profile: Profile,
    /// SIM PIN; `None` (or empty) when the SIM does not ask for one.
    pub pin: Option<String>,
    pub puk: String,
    /// Slots of SIM storage "SM" (real SIMs hold 10–50).
    pub storage_capacity: u16,
    /// A stable name for the port, kept pointing at the current pty across replugs, as udev
    /// keeps `/dev/serial/by-id/...`.
    pub symlink: Option<PathBuf>,
    /// Seed for everything random (delays, failures, noise, first message reference).
    pub seed: u64,
    pub imsi: String,
    /// SMS centre reported by `AT+CSCA?`.
    pub smsc: String,
    pub operator: String,
    pub operator_numeric: String,
    /// `+CSQ` rssi (0–31).
    pub signal: u8,
    /// False for a modem with an empty SIM slot.
    pub sim_inserted: bool,
    /// An incoming call nobody answers ends after this long.
    pub caller_gives_up_after: Duration,
    /// Hold, conference and transfer, as the network grants them (`AT+CHLD=?`).
    pub call_services: CallServices,
}

impl Default for VmOptions {
    fn default() -> VmOptions {
        VmOptions {
            profile: Profile::generic(),
            pin: None,
            puk: "12345678".into(),
            storage_capacity: 30,
            symlink: None,
            seed: 1,
            imsi: "234150000000001".into(),
            smsc: "+447400000100".into(),
            operator: "Demo Net".into(),
            operator_numeric: "00101".into(),
            signal: 20,
            sim_inserted: true,
            caller_gives_up_after: Duration::from_secs(30),
            call_services: CallServices::ALL,
        }
    }
}

impl VmOptions {
    pub fn with_profile(profile: Profile) -> VmOptions {
        VmOptions {
            profile,
            ..VmOptions::default()
        }
    }
}

/// What can go wrong driving the emulator.
#[derive(Debug, thiserror::Error)]
pub enum VmError {
    #[error("virtual modem needs a tokio runtime (call it from inside one)")]
    NoRuntime,
    #[error("cannot open a pseudo-terminal: {0}")]
    Pty(#[source] io::Error),
    #[error("cannot point the symlink {path} at the modem: {source}")]
    Symlink {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("not an SMS PDU with an SMSC address prefix ({len} bytes): {why}")]
    BadPdu { len: usize, why: &'static str },
    #[error("the SIM storage is full ({capacity} messages)")]
    SimFull { capacity: u16 },
    #[error("cannot encode the SMS: {0}")]
    Encode(#[source] crate::modem::pdu::EncodeError),
    #[error("the DTE sent a PDU the codec cannot read (message reference {mr}): {source}")]
    Undecodable {
        mr: u8,
        #[source]
        source: crate::modem::pdu::DecodeError,
    },
    #[error("timed out after {waited:?} waiting for {what}")]
    Timeout { waited: Duration, what: String },
}

struct Plugged {
    path: PathBuf,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

/// A running virtual modem. Every method takes `&self`, so tests can share it in an `Arc`.
/// Dropping it unplugs the modem (the pty closes, the symlink is removed).
pub struct VirtualModem {
    shared: Arc<Shared>,
    symlink: Option<PathBuf>,
    profile: Profile,
    plugged: Mutex<Option<Plugged>>,
    last_path: Mutex<PathBuf>,
}

impl VirtualModem {
    /// Powers the modem up on a new pty. Must be called inside a tokio runtime.
    pub fn start(options: VmOptions) -> Result<VirtualModem, VmError> {
        tokio::runtime::Handle::try_current().map_err(|_| VmError::NoRuntime)?;
        let now = Instant::now();
        let storage = Storage::new(options.profile.first_index, options.storage_capacity);
        let mut sim = Sim::new(options.pin.clone(), options.puk.clone(), storage);
        sim.inserted = options.sim_inserted;
        let net = Network {
            imsi: options.imsi.clone(),
            smsc: options.smsc.clone(),
            operator: options.operator.clone(),
            operator_numeric: options.operator_numeric.clone(),
            caller_gives_up_after: options.caller_gives_up_after,
            call_services: options.call_services,
        };
        let modem = Modem::new(
            options.profile.clone(),
            net,
            sim,
            options.seed,
            options.signal,
            now,
        );
        let vm = VirtualModem {
            shared: Arc::new(Shared::new(modem)),
            symlink: options.symlink.clone(),
            profile: options.profile,
            plugged: Mutex::new(None),
            last_path: Mutex::new(PathBuf::new()),
        };
        vm.plug_in()?;
        Ok(vm)
    }

    fn plug_in(&self) -> Result<PathBuf, VmError> {
        let pty = pty::Pty::open().map_err(VmError::Pty)?;
        let path = pty.path.clone();
        let dte = match pty::DteWatch::start(&path) {
            Ok(watch) => Some(watch),
            Err(e) => {
                tracing::warn!(
                    "virtual modem: cannot watch {} ({e}); assuming a DTE is always attached",
                    path.display()
                );
                None
            }
        };
        let watching = dte.is_some();
        self.shared.with(|m| {
            m.watching_dte = watching;
            m.power_on(Instant::now());
            m.note(Instant::now(), format!("plugged in as {}", path.display()));
        });
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(runner::run(self.shared.clone(), pty, dte, stopped));
        if let Some(link) = &self.symlink {
            pty::link_atomically(&path, link).map_err(|source| VmError::Symlink {
                path: link.clone(),
                source,
            })?;
        }
        *self
            .last_path
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = path.clone();
        *self.plugged.lock().unwrap_or_else(PoisonError::into_inner) = Some(Plugged {
            path: path.clone(),
            stop,
            task,
        });
        Ok(path)
    }

    /// The pty's slave path (`/dev/pts/N`); after [`unplug`](Self::unplug) the old, now
    /// missing, path.
    pub fn path(&self) -> PathBuf {
        self.last_path
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The stable symlink, if one was asked for.
    pub fn symlink(&self) -> Option<&Path> {
        self.symlink.as_deref()
    }

    /// What a config's `[modem] port` should name: the symlink if there is one, else the pty.
    pub fn port(&self) -> PathBuf {
        self.symlink.clone().unwrap_or_else(|| self.path())
    }

    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    pub fn is_plugged(&self) -> bool {
        self.plugged
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// Pulls the USB stick out: the DTE's reads return EOF, its writes fail, the pty node and
    /// the symlink disappear, calls drop. The SIM (PIN counters, stored messages) is kept.
    /// Returns once the pty is closed.
    pub async fn unplug(&self) {
        let plugged = self
            .plugged
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(plugged) = plugged else { return };
        self.shared.with(|m| m.power_off(Instant::now()));
        let _ = plugged.stop.send(());
        if let Err(e) = plugged.task.await {
            tracing::warn!(
                "virtual modem task for {} ended badly: {e}",
                plugged.path.display()
            );
        }
        if let Some(link) = &self.symlink {
            let _ = std::fs::remove_file(link);
        }
    }

    /// Plugs the stick back in (unplugging first if needed): a new pty, the symlink moved to
    /// it, and the modem powered up from scratch (echo on, PIN asked again, boot banner).
    /// Returns the new pty path.
    pub async fn replug(&self) -> Result<PathBuf, VmError> {
        self.unplug().await;
        self.plug_in()
    }

    /// Restarts the modem in place, as a firmware crash or `AT+CFUN=1,1` does: same pty,
    /// state as after power-up.
    pub fn power_cycle(&self) {
        self.shared.with(|m| {
            if m.powered {
                m.power_on(Instant::now());
            }
        });
    }

    /// The firmware hangs, or recovers: while hung the modem takes whatever it is sent and
    /// answers nothing (no echo, no result, no unsolicited code), so a command in progress
    /// never completes, as with real modems that hang until they are power-cycled.
    /// [`power_cycle`](Self::power_cycle) and [`replug`](Self::replug) clear it too.
    pub fn set_hung(&self, hung: bool) {
        self.shared.with(|m| {
            m.hung = hung;
            let what = if hung {
                "firmware hung"
            } else {
                "firmware answers again"
            };
            m.note(Instant::now(), what.into());
        });
    }

    // ----- SMS ---------------------------------------------------------------------------------

    /// The network delivers a message. `pdu` is what `+CMGR` would print: SMSC address
    /// (`00` for none) followed by an SMS-DELIVER TPDU. It is stored with `+CMTI`, or routed
    /// as `+CMT`, per the DTE's `+CNMI`; with the SIM full or the modem unregistered the
    /// network keeps it and retries later.
    pub fn deliver_pdu(&self, pdu: &[u8]) -> Result<Delivery, VmError> {
        check_pdu(pdu)?;
        Ok(self
            .shared
            .with(|m| m.deliver(Instant::now(), pdu.to_vec())))
    }

    /// [`deliver_pdu`](Self::deliver_pdu) from hex.
    pub fn deliver_pdu_hex(&self, hex: &str) -> Result<Delivery, VmError> {
        let pdu = tpdu::decode_hex(hex).ok_or(VmError::BadPdu {
            len: hex.len() / 2,
            why: "not hexadecimal",
        })?;
        self.deliver_pdu(&pdu)
    }

    /// Puts messages on the SIM as if received earlier ("received unread"), without any
    /// indication. Returns their indexes.
    pub fn preload_stored(&self, pdus: &[Vec<u8>]) -> Result<Vec<u16>, VmError> {
        pdus.iter()
            .map(|pdu| self.store(MessageStatus::ReceivedUnread, pdu))
            .collect()
    }

    /// Puts one message on the SIM with the given status; returns its index.
    pub fn store(&self, status: MessageStatus, pdu: &[u8]) -> Result<u16, VmError> {
        check_pdu(pdu)?;
        self.shared.with(|m| {
            let capacity = m.storage().capacity();
            m.sim
                .storage
                .insert(status, pdu.to_vec())
                .ok_or(VmError::SimFull { capacity })
        })
    }

    /// What is on the SIM now, by index.
    pub fn stored(&self) -> Vec<StoredMessage> {
        self.shared.peek(|m| m.stored_messages())
    }

    /// Messages the network is holding for the modem (SIM full, modem off or unregistered).
    pub fn held_by_network(&self) -> usize {
        self.shared.peek(|m| m.network_queue.len())
    }

    /// Messages the network accepted from the DTE, in order.
    pub fn sent_pdus(&self) -> Vec<SentPdu> {
        self.shared.peek(|m| m.sent.clone())
    }

    /// Every `AT+CMGS` attempt with its outcome (refused, unanswered, cancelled, sent).
    pub fn submissions(&self) -> Vec<Submission> {
        self.shared.peek(|m| m.submissions.clone())
    }

    /// Waits until at least `count` messages were sent; returns all sent so far.
    pub async fn wait_sent(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<SentPdu>, VmError> {
        let what = format!("{count} sent SMS");
        self.wait_until(timeout, &what, |vm| vm.sent_pdus().len() >= count)
            .await?;
        Ok(self.sent_pdus())
    }

    /// Waits until `condition` holds; it is re-checked after every change in the modem.
    pub async fn wait_until(
        &self,
        timeout: Duration,
        what: &str,
        mut condition: impl FnMut(&VirtualModem) -> bool,
    ) -> Result<(), VmError> {
        let mut changes = self.shared.changed.subscribe();
        let wait = async {
            loop {
                if condition(self) {
                    return;
                }
                if changes.changed().await.is_err() {
                    return std::future::pending().await;
                }
            }
        };
        with_timeout(timeout, what, wait).await
    }

    // ----- calls -------------------------------------------------------------------------------

    /// How the far end behaves when the DTE dials `number` (matched as typed, or on its
    /// digits); unscripted numbers answer after a second.
    pub fn script_call(&self, number: &str, script: CallScript) {
        self.shared.with(|m| {
            m.scripts.insert(number.to_string(), script);
        });
    }

    /// Numbers the DTE dialled, in order.
    pub fn dials(&self) -> Vec<String> {
        self.shared.peek(|m| m.dials.clone())
    }

    /// Everything that happened to calls, in order.
    pub fn call_log(&self) -> Vec<CallEvent> {
        self.shared.peek(|m| m.call_log.clone())
    }

    /// The calls the modem has now (what `AT+CLCC` would list).
    pub fn calls(&self) -> Vec<CallInfo> {
        self.shared
            .peek(|m| m.calls.iter().map(|c| c.info.clone()).collect())
    }

    /// Someone calls the SIM: `RING` (and `+CLIP` if enabled) until answered or given up.
    /// Returns the call id, or `None` if the modem cannot take a call now.
    pub fn incoming_call(&self, from: &str) -> Option<u8> {
        self.shared.with(|m| m.incoming_call(Instant::now(), from))
    }

    /// The far end of call `id` hangs up (`NO CARRIER`). False if there is no such call.
    pub fn remote_hang_up(&self, id: u8) -> bool {
        self.shared.with(|m| m.remote_hang_up(Instant::now(), id))
    }

    // ----- SIM, network, line ------------------------------------------------------------------

    /// Every code the DTE sent with `AT+CPIN=` (right or wrong), over the modem's life.
    pub fn pin_attempts(&self) -> u32 {
        self.shared.peek(|m| m.sim.attempts)
    }

    pub fn pin_tries_left(&self) -> u8 {
        self.shared.peek(|m| m.sim.pin_tries_left)
    }

    /// What `AT+CPIN?` would answer.
    pub fn sim_state(&self) -> SimLock {
        self.shared.peek(|m| m.sim_lock)
    }

    /// Puts the SIM in or takes it out; the modem notices at its next power-up.
    pub fn set_sim_inserted(&self, inserted: bool) {
        self.shared.with(|m| m.sim.inserted = inserted);
    }

    pub fn registration(&self) -> RegStatus {
        self.shared.peek(|m| m.reg)
    }

    /// Signal level for `+CSQ` and Huawei `^RSSI` (0–31, 99 unknown).
    pub fn set_signal(&self, rssi: u8) {
        self.shared.with(|m| m.signal = rssi);
    }

    /// What the network grants: `Home`/`Roaming` registers, `Denied`/`Searching`/
    /// `NotRegistered` drops the modem off the network (sends fail with `+CMS ERROR: 331`,
    /// messages wait at the network). `+CREG` reports the change if enabled.
    pub fn set_network(&self, status: RegStatus) {
        self.shared.with(|m| m.set_network(Instant::now(), status));
    }

    /// Prints an arbitrary unsolicited line now (noise a test wants at a precise moment).
    pub fn inject_unsolicited(&self, line: &str) {
        self.shared
            .with(|m| m.unsolicited_line(Instant::now(), line));
    }

    /// Whether some DTE has the port open.
    pub fn dte_attached(&self) -> bool {
        self.shared.peek(|m| m.dte_attached())
    }

    // ----- transcript --------------------------------------------------------------------------

    pub fn transcript(&self) -> Vec<TranscriptLine> {
        self.shared.peek(|m| m.transcript.lines())
    }

    /// The transcript as text, one line each (for failing tests and the demo).
    pub fn transcript_text(&self) -> String {
        self.transcript().iter().map(|l| format!("{l}\n")).collect()
    }

    /// Bytes that crossed the serial line so far, for benchmarks that compare with what the
    /// line alone allows (see `Profile::line_rate`).
    pub fn line_bytes(&self) -> LineBytes {
        LineBytes {
            to_modem: self.shared.bytes_to_modem.load(Ordering::Relaxed),
            from_modem: self.shared.bytes_from_modem.load(Ordering::Relaxed),
        }
    }

    /// New transcript lines as they happen.
    pub fn subscribe_transcript(&self) -> broadcast::Receiver<TranscriptLine> {
        self.shared.peek(|m| m.transcript.subscribe())
    }
}

impl Drop for VirtualModem {
    fn drop(&mut self) {
        let plugged = self
            .plugged
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(plugged) = plugged {
            // The task closes the pty when it sees the stop signal (or its sender dropped).
            let _ = plugged.stop.send(());
            if let Some(link) = &self.symlink {
                let _ = std::fs::remove_file(link);
            }
        }
    }
}

fn check_pdu(pdu: &[u8]) -> Result<(), VmError> {
    match sim::tpdu_len(pdu) {
        Some(_) => Ok(()),
        None => Err(VmError::BadPdu {
            len: pdu.len(),
            why: "the SMSC length octet leaves no TPDU",
        }),
    }
}

async fn with_timeout<T>(
    timeout: Duration,
    what: &str,
    future: impl Future<Output = T>,
) -> Result<T, VmError> {
    tokio::time::timeout(timeout, future)
        .await
        .map_err(|_| VmError::Timeout {
            waited: timeout,
            what: what.to_string(),
        })
}
