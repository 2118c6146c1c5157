//! The modem itself, as a state machine with no I/O: bytes from the DTE and the passing of
//! time go in, bytes for the DTE come out. The pty task ([`super::runner`]) feeds it; tests
//! and the control API ([`super::VirtualModem`]) poke it. Time is always passed in.
//!
//! Framing follows ITU-T V.250 §5: commands end with S3 (`\r`), results are
//! `\r\n<text>\r\n` with `ATV1` (`<code>\r` with `ATV0`), echo is on after power-up.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use super::calls::{Call, CallEvent, CallScript, CallServices};
use super::command::{self, Command};
use super::profile::{Cnmi, Profile};
use super::rng::Rng;
use super::sim::{Sim, SimLock, Storage};
use super::sms::{SentPdu, Submission};
use super::transcript::{Direction, Transcript};

/// Network-side settings of the emulated SIM and operator.
#[derive(Debug, Clone)]
pub(crate) struct Network {
    pub(crate) imsi: String,
    pub(crate) smsc: String,
    pub(crate) operator: String,
    pub(crate) operator_numeric: String,
    pub(crate) caller_gives_up_after: Duration,
    pub(crate) call_services: CallServices,
}

/// `<stat>` of `+CREG` (TS 27.007 §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegStatus {
    NotRegistered = 0,
    Home = 1,
    Searching = 2,
    Denied = 3,
    Unknown = 4,
    Roaming = 5,
}

impl RegStatus {
    pub(crate) fn is_registered(self) -> bool {
        matches!(self, RegStatus::Home | RegStatus::Roaming)
    }
}

/// Settings the DTE changes with commands; all reset by a power cycle or `ATZ`.
#[derive(Debug, Clone)]
pub(crate) struct DteSettings {
    pub(crate) echo: bool,
    pub(crate) verbose: bool,
    pub(crate) quiet: bool,
    pub(crate) cmee: u8,
    pub(crate) cnmi: Cnmi,
    pub(crate) creg: u8,
    pub(crate) clip: bool,
    pub(crate) ccwa: bool,
    pub(crate) cscs: String,
    pub(crate) cops_format: u8,
    pub(crate) s_regs: [u8; 13],
}

impl DteSettings {
    fn defaults(profile: &Profile) -> DteSettings {
        DteSettings {
            echo: true,
            verbose: true,
            quiet: false,
            cmee: 0,
            cnmi: profile.cnmi_default,
            creg: 0,
            clip: false,
            ccwa: false,
            cscs: "GSM".into(),
            cops_format: 0,
            // V.250 defaults: S3 = CR, S4 = LF, S5 = BS, S7 = 50 s connection wait...
            s_regs: [0, 0, 43, 13, 10, 8, 2, 50, 2, 6, 14, 95, 50],
        }
    }
}

/// A final result code (V.250 §5.7, TS 27.007 §9.2, TS 27.005 §3.2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Final {
    Ok,
    Error,
    Cme(u16),
    Cms(u16),
    NoCarrier,
    Busy,
    NoAnswer,
    /// The profile's answer to a command it does not know.
    Unknown,
}

/// What a command did, besides failing.
pub(crate) enum Step {
    Info(Vec<String>),
    /// `AT+CMGS=<length>`: print the prompt and collect a PDU of this many TPDU octets.
    Prompt(usize),
    /// `ATD` on a modem that answers when the call connects: the result comes later.
    Dialling,
    /// `AT+CFUN=1,1`: answer OK, then restart.
    Reboot,
}

pub(crate) type Exec = Result<Step, Final>;

/// Bytes for the DTE and the lines they carry (for the transcript).
#[derive(Debug, Clone, Default)]
pub(crate) struct Emission {
    bytes: Vec<u8>,
    lines: Vec<String>,
}

impl Emission {
    fn push_line(&mut self, framed: &[u8], line: String) {
        self.bytes.extend_from_slice(framed);
        self.lines.push(line);
    }
}

#[derive(Debug)]
enum Input {
    /// Waiting for `A`.
    Idle,
    /// Saw `A`; `T` starts a command line, `/` repeats the last one.
    SawA,
    Line(Vec<u8>),
    /// After `AT+CMGS=<declared>`: hex until Ctrl-Z (send) or ESC (cancel).
    Prompt {
        declared: usize,
        hex: String,
    },
}

#[derive(Debug, Clone)]
pub(crate) enum Timer {
    Respond(Emission),
    Line(String),
    SimInitialised,
    Registered,
    Noise,
    CallAlerting(u8),
    CallOutcome(u8),
    RemoteHangUp(u8),
    Ring(u8),
    CallerGivesUp(u8),
    Redeliver,
    Reboot,
}

/// Longest command line kept (V.250 asks for at least 40 characters).
const MAX_LINE: usize = 556;
/// Longest PDU text kept after the prompt: 1 + 12 octets of SMSC + 164 of TPDU, in hex, plus slack.
const MAX_PDU_HEX: usize = 2 * 200;
/// Input kept while the modem is busy; a real modem's buffer is far smaller, and overflows
/// lose bytes the same way.
const MAX_PENDING_INPUT: usize = 16 * 1024;
/// Indications buffered in the modem (`+CNMI` mode 0 / busy link) before the oldest are lost.
const MAX_BUFFERED_INDICATIONS: usize = 32;

pub(crate) struct Modem {
    pub(crate) profile: Profile,
    pub(crate) net: Network,
    pub(crate) rng: Rng,
    started: Instant,

    // Survives power cycles: the SIM, the network, the test's scripts.
    pub(crate) sim: Sim,
    /// Messages the network holds for us (SIM full, modem off or unregistered).
    pub(crate) network_queue: VecDeque<Vec<u8>>,
    pub(crate) scripts: HashMap<String, CallScript>,
    pub(crate) signal: u8,
    /// Registration the network grants once the modem asks (`set_network` changes it).
    pub(crate) network_grants: RegStatus,
    pub(crate) next_mr: u8,
    /// Concatenation reference for the next multipart message the network delivers.
    pub(crate) next_concat_ref: u8,

    // Reset by every power cycle.
    pub(crate) powered: bool,
    epoch: u64,
    powered_at: Instant,
    pub(crate) st: DteSettings,
    pub(crate) sim_lock: SimLock,
    pub(crate) sim_busy_until: Instant,
    pub(crate) sim_ready: bool,
    pub(crate) reg: RegStatus,
    pub(crate) cfun: u8,
    pub(crate) calls: Vec<Call>,
    /// `ATD` waiting for the far end (`DialResult::WhenAnswered`).
    pub(crate) pending_dial: Option<u8>,
    pub(crate) full_reported: bool,
    /// The firmware hangs: input is swallowed and nothing is answered (see
    /// [`VirtualModem::set_hung`](super::VirtualModem::set_hung)).
    pub(crate) hung: bool,

    input: Input,
    /// A command is executing: input waits in `pending_input` (the modem reads no further).
    busy: bool,
    pending_input: VecDeque<u8>,
    last_line: Option<Vec<u8>>,
    /// `+CNMI` mode 0: indications kept in the modem.
    ta_buffer: Vec<Vec<String>>,
    /// `+CNMI` mode 2: indications held while the link is busy.
    link_buffer: Vec<Vec<String>>,

    out: Vec<u8>,
    timers: BTreeMap<(Instant, u64), (u64, Timer)>,
    timer_seq: u64,

    dte_opens: u32,
    pub(crate) watching_dte: bool,

    pub(crate) transcript: Transcript,
    pub(crate) sent: Vec<SentPdu>,
    pub(crate) submissions: Vec<Submission>,
    pub(crate) call_log: Vec<CallEvent>,
    pub(crate) dials: Vec<String>,
}

impl Modem {
    pub(crate) fn new(
        profile: Profile,
        net: Network,
        sim: Sim,
        seed: u64,
        signal: u8,
        now: Instant,
    ) -> Modem {
        let mut rng = Rng::new(seed);
        let next_mr = rng.below(256) as u8;
        let next_concat_ref = rng.below(256) as u8;
        let st = DteSettings::defaults(&profile);
        Modem {
            profile,
            net,
            rng,
            started: now,
            sim,
            network_queue: VecDeque::new(),
            scripts: HashMap::new(),
            signal,
            network_grants: RegStatus::Home,
            next_mr,
            next_concat_ref,
            powered: false,
            epoch: 0,
            powered_at: now,
            st,
            sim_lock: SimLock::Ready,
            sim_busy_until: now,
            sim_ready: false,
            reg: RegStatus::NotRegistered,
            cfun: 1,
            calls: Vec::new(),
            pending_dial: None,
            full_reported: false,
            hung: false,
            input: Input::Idle,
            busy: false,
            pending_input: VecDeque::new(),
            last_line: None,
            ta_buffer: Vec::new(),
            link_buffer: Vec::new(),
            out: Vec::new(),
            timers: BTreeMap::new(),
            timer_seq: 0,
            dte_opens: 0,
            watching_dte: false,
            transcript: Transcript::new(),
            sent: Vec::new(),
            submissions: Vec::new(),
            call_log: Vec::new(),
            dials: Vec::new(),
        }
    }

    pub(crate) fn storage(&self) -> &Storage {
        &self.sim.storage
    }

    // ----- power -------------------------------------------------------------------------

    /// Power-up (plug-in, `AT+CFUN=1,1`, or a firmware restart): everything the DTE set is
    /// forgotten, the SIM asks for its PIN again, stored messages stay on the SIM.
    pub(crate) fn power_on(&mut self, now: Instant) {
        self.epoch += 1;
        self.timers.clear();
        self.powered = true;
        self.powered_at = now;
        self.st = DteSettings::defaults(&self.profile);
        self.sim_lock = self.sim.state_at_power_up();
        self.sim_busy_until = now + self.profile.sim_busy_after_power_up;
        self.sim_ready = false;
        self.reg = RegStatus::NotRegistered;
        self.cfun = 1;
        self.drop_all_calls();
        self.full_reported = false;
        self.hung = false;
        self.input = Input::Idle;
        self.busy = false;
        self.pending_input.clear();
        self.last_line = None;
        self.ta_buffer.clear();
        self.link_buffer.clear();
        self.note(now, format!("power on ({} profile)", self.profile.name));
        for line in self.profile.boot_lines.clone() {
            self.schedule(now + line.after, Timer::Line(line.line));
        }
        self.schedule(self.sim_busy_until, Timer::SimInitialised);
        self.schedule_noise(now);
    }

    /// The USB stick is pulled out: nothing more reaches the DTE, calls drop.
    pub(crate) fn power_off(&mut self, now: Instant) {
        self.epoch += 1;
        self.timers.clear();
        self.powered = false;
        self.drop_all_calls();
        self.reg = RegStatus::NotRegistered;
        self.sim_ready = false;
        self.out.clear();
        self.busy = false;
        self.pending_input.clear();
        self.input = Input::Idle;
        self.note(now, "unplugged".into());
    }

    // ----- the DTE side of the pty --------------------------------------------------------

    pub(crate) fn dte_opened(&mut self, now: Instant) {
        self.dte_opens += 1;
        self.note(now, "DTE opened the port".into());
    }

    /// Returns true when no DTE has the port open any more.
    pub(crate) fn dte_closed(&mut self, now: Instant) -> bool {
        self.dte_opens = self.dte_opens.saturating_sub(1);
        if self.dte_opens == 0 {
            self.note(now, "DTE closed the port".into());
            true
        } else {
            false
        }
    }

    /// Whether a DTE has the port open: output written with nobody listening is lost, as
    /// it is on a USB serial port nobody has opened.
    pub(crate) fn dte_attached(&self) -> bool {
        !self.watching_dte || self.dte_opens > 0
    }

    // ----- output ---------------------------------------------------------------------------

    pub(crate) fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.out)
    }

    pub(crate) fn elapsed(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.started)
    }

    pub(crate) fn note(&mut self, now: Instant, text: String) {
        let at = self.elapsed(now);
        self.transcript.push(at, Direction::Note, text);
    }

    fn emit(&mut self, now: Instant, emission: Emission) {
        if !self.powered {
            return;
        }
        let at = self.elapsed(now);
        if self.hung {
            if !emission.lines.is_empty() {
                let lost = emission.lines.join(" | ");
                self.transcript
                    .push(at, Direction::Note, format!("not said, hung: {lost}"));
            }
        } else if self.dte_attached() {
            self.out.extend_from_slice(&emission.bytes);
            for line in emission.lines {
                self.transcript.push(at, Direction::FromModem, line);
            }
        } else if !emission.lines.is_empty() {
            let lost = emission.lines.join(" | ");
            self.transcript
                .push(at, Direction::Note, format!("lost, port not open: {lost}"));
        }
    }

    fn echo(&mut self, byte: u8) {
        if self.st.echo && !self.hung && self.dte_attached() {
            self.out.push(byte);
        }
    }

    /// Frames an information or unsolicited line for the current `ATV` setting.
    fn framed(&self, line: &str) -> Vec<u8> {
        if self.st.verbose {
            format!("\r\n{line}\r\n").into_bytes()
        } else {
            format!("{line}\r\n").into_bytes()
        }
    }

    /// An unsolicited result code (one or more lines printed together, e.g. `+CMT` + PDU).
    pub(crate) fn unsolicited(&mut self, now: Instant, lines: &[String]) {
        let mut emission = Emission::default();
        if let (false, [line]) = (self.st.verbose, lines)
            && let Some(code) = numeric_code(line)
        {
            emission.push_line(format!("{code}\r").as_bytes(), line.clone());
            self.emit(now, emission);
            return;
        }
        let mut bytes = if self.st.verbose {
            b"\r\n".to_vec()
        } else {
            Vec::new()
        };
        bytes.extend_from_slice(lines.join("\r\n").as_bytes());
        bytes.extend_from_slice(b"\r\n");
        emission.bytes = bytes;
        emission.lines = lines.to_vec();
        self.emit(now, emission);
    }

    pub(crate) fn unsolicited_line(&mut self, now: Instant, line: &str) {
        self.unsolicited(now, &[line.to_string()]);
    }

    fn final_text(&self, fin: Final) -> Option<String> {
        let cms_plain = self.st.cmee == 0 && self.profile.cms_error_follows_cmee;
        Some(match fin {
            Final::Ok => "OK".into(),
            Final::Error => "ERROR".into(),
            Final::NoCarrier => "NO CARRIER".into(),
            Final::Busy => "BUSY".into(),
            Final::NoAnswer => "NO ANSWER".into(),
            Final::Unknown => self.profile.unknown_command_reply.clone(),
            Final::Cme(code) => match self.st.cmee {
                0 => "ERROR".into(),
                1 => format!("+CME ERROR: {code}"),
                _ => format!("+CME ERROR: {}", cme_text(code)),
            },
            Final::Cms(_) if cms_plain => "ERROR".into(),
            Final::Cms(code) => match self.st.cmee {
                2 => format!("+CMS ERROR: {}", cms_text(code)),
                _ => format!("+CMS ERROR: {code}"),
            },
        })
    }

    /// Builds an answer: each command's information lines, maybe a noise line (profiles that
    /// print status at any time), then the final result.
    pub(crate) fn answer(&mut self, blocks: &[Vec<String>], fin: Option<Final>) -> Emission {
        let mut emission = Emission::default();
        for block in blocks.iter().filter(|b| !b.is_empty()) {
            let mut bytes = if self.st.verbose {
                b"\r\n".to_vec()
            } else {
                Vec::new()
            };
            bytes.extend_from_slice(block.join("\r\n").as_bytes());
            bytes.extend_from_slice(b"\r\n");
            emission.bytes.extend_from_slice(&bytes);
            emission.lines.extend(block.iter().cloned());
        }
        if !self.profile.noise_lines.is_empty()
            && self.rng.percent(self.profile.noise_mid_response_percent)
        {
            let noise = self.noise_line();
            let framed = self.framed(&noise);
            emission.push_line(&framed, noise);
        }
        if let Some(text) = fin
            .filter(|_| !self.st.quiet)
            .and_then(|f| self.final_text(f))
        {
            if self.st.verbose {
                let framed = format!("\r\n{text}\r\n");
                emission.push_line(framed.as_bytes(), text);
            } else {
                let code = numeric_code(&text)
                    .map(|c| c.to_string())
                    .unwrap_or(text.clone());
                emission.push_line(format!("{code}\r").as_bytes(), text);
            }
        }
        emission
    }

    /// Sends an answer after the profile's response delay; the modem reads nothing more until
    /// it has answered.
    /// Returns the delay chosen.
    pub(crate) fn respond(&mut self, now: Instant, emission: Emission) -> Duration {
        let range = self.profile.response_delay;
        let delay = self.rng.between(range.min, range.max);
        self.respond_after(now, delay, emission);
        delay
    }

    pub(crate) fn respond_after(&mut self, now: Instant, delay: Duration, emission: Emission) {
        if delay.is_zero() {
            self.emit(now, emission);
            self.command_done(now);
        } else {
            self.busy = true;
            self.schedule(now + delay, Timer::Respond(emission));
        }
    }

    /// The command is over: flush held indications, read what the DTE typed meanwhile.
    fn command_done(&mut self, now: Instant) {
        self.busy = false;
        if matches!(self.input, Input::Idle) {
            self.link_released(now);
        }
        self.process_pending(now);
    }

    /// Final result of an `ATD` that waited for the far end.
    pub(crate) fn finish_dial(&mut self, now: Instant, fin: Final) {
        let emission = self.answer(&[], Some(fin));
        self.emit(now, emission);
        self.command_done(now);
    }

    // ----- input -------------------------------------------------------------------------------

    pub(crate) fn on_input(&mut self, now: Instant, bytes: &[u8]) {
        if !self.powered {
            return;
        }
        if now < self.powered_at + self.profile.deaf_after_power_up {
            let text = String::from_utf8_lossy(bytes).escape_debug().to_string();
            self.note(now, format!("ignored while starting up: {text}"));
            return;
        }
        if self.hung {
            let text = String::from_utf8_lossy(bytes).escape_debug().to_string();
            self.note(now, format!("ignored, hung: {text}"));
            return;
        }
        let room = MAX_PENDING_INPUT.saturating_sub(self.pending_input.len());
        if bytes.len() > room {
            self.note(
                now,
                format!("input overflow: {} bytes lost", bytes.len() - room),
            );
        }
        self.pending_input.extend(&bytes[..bytes.len().min(room)]);
        self.process_pending(now);
    }

    fn process_pending(&mut self, now: Instant) {
        while !self.busy && self.powered {
            let Some(byte) = self.pending_input.pop_front() else {
                break;
            };
            self.on_byte(now, byte);
        }
    }

    fn on_byte(&mut self, now: Instant, byte: u8) {
        let input = std::mem::replace(&mut self.input, Input::Idle);
        self.input = match input {
            Input::Prompt { declared, mut hex } => match byte {
                0x1A => {
                    if self.profile.echo_pdu {
                        self.echo(byte);
                    }
                    self.log_dte(now, format!("{hex}<Ctrl-Z>"));
                    self.input = Input::Idle;
                    self.submit(now, declared, &hex);
                    return;
                }
                0x1B => {
                    self.log_dte(now, format!("{hex}<ESC>"));
                    self.input = Input::Idle;
                    let answer = self.answer(&[], Some(Final::Ok));
                    self.respond(now, answer);
                    return;
                }
                _ => {
                    if self.profile.echo_pdu {
                        self.echo(byte);
                    }
                    if hex.len() < MAX_PDU_HEX {
                        hex.push(char::from(byte));
                    }
                    Input::Prompt { declared, hex }
                }
            },
            // V.250: line feeds between command lines are ignored.
            Input::Idle if byte == b'\n' => Input::Idle,
            Input::Idle => {
                self.echo(byte);
                if byte.eq_ignore_ascii_case(&b'a') {
                    Input::SawA
                } else {
                    Input::Idle
                }
            }
            Input::SawA => {
                self.echo(byte);
                match byte {
                    b'T' | b't' => Input::Line(Vec::new()),
                    b'/' => {
                        self.input = Input::Idle;
                        if let Some(line) = self.last_line.clone() {
                            self.execute(now, &line);
                        }
                        return;
                    }
                    b'A' | b'a' => Input::SawA,
                    _ => Input::Idle,
                }
            }
            Input::Line(mut line) => {
                self.echo(byte);
                match byte {
                    b'\r' => {
                        self.input = Input::Idle;
                        self.last_line = Some(line.clone());
                        self.execute(now, &line);
                        return;
                    }
                    0x08 => {
                        line.pop();
                        Input::Line(line)
                    }
                    _ => {
                        if line.len() < MAX_LINE {
                            line.push(byte);
                        }
                        Input::Line(line)
                    }
                }
            }
        };
    }

    fn log_dte(&mut self, now: Instant, text: String) {
        let at = self.elapsed(now);
        self.transcript.push(at, Direction::ToModem, text);
    }

    /// Runs one command line (the text after `AT`).
    fn execute(&mut self, now: Instant, body: &[u8]) {
        let text = String::from_utf8_lossy(body).into_owned();
        self.log_dte(now, format!("AT{text}"));
        if body.len() >= MAX_LINE {
            let answer = self.answer(&[], Some(Final::Error));
            self.respond(now, answer);
            return;
        }
        let commands = match command::parse_line(&text) {
            Ok(commands) => commands,
            Err(command::SyntaxError) => {
                let answer = self.answer(&[], Some(Final::Error));
                self.respond(now, answer);
                return;
            }
        };
        let mut blocks = Vec::new();
        let mut result = Final::Ok;
        let mut after = None;
        for cmd in &commands {
            match self.dispatch(now, cmd) {
                Ok(Step::Info(lines)) => blocks.push(lines),
                Ok(step) => {
                    after = Some(step);
                    break;
                }
                Err(fin) => {
                    result = fin;
                    break;
                }
            }
        }
        match after {
            Some(Step::Prompt(declared)) => {
                self.input = Input::Prompt {
                    declared,
                    hex: String::new(),
                };
                let mut emission = self.answer(&blocks, None);
                let prompt = if self.st.verbose { "\r\n> " } else { "> " };
                emission.push_line(prompt.as_bytes(), "> ".into());
                self.respond(now, emission);
            }
            Some(Step::Dialling) => {
                let emission = self.answer(&blocks, None);
                self.emit(now, emission);
                self.busy = true;
            }
            Some(Step::Reboot) => {
                // The OK goes out first; the restart follows it.
                let answer = self.answer(&blocks, Some(Final::Ok));
                let delay = self.respond(now, answer);
                self.schedule(now + delay + Duration::from_millis(100), Timer::Reboot);
            }
            Some(Step::Info(_)) | None => {
                let answer = self.answer(&blocks, Some(result));
                self.respond(now, answer);
            }
        }
    }

    fn dispatch(&mut self, now: Instant, cmd: &Command) -> Exec {
        if let Some(result) = self.exec_general(now, cmd) {
            return result;
        }
        if let Some(result) = self.exec_sms(now, cmd) {
            return result;
        }
        if let Some(result) = self.exec_voice(now, cmd) {
            return result;
        }
        Err(Final::Unknown)
    }

    // ----- unsolicited SMS indications (TS 27.005 §3.4.1 +CNMI <mode>) --------------------------

    fn link_reserved(&self) -> bool {
        self.busy || !matches!(self.input, Input::Idle)
    }

    pub(crate) fn sms_indication(&mut self, now: Instant, lines: Vec<String>) {
        match self.st.cnmi.mode {
            0 => push_bounded(&mut self.ta_buffer, lines),
            1 if self.link_reserved() => {
                self.note(
                    now,
                    format!("indication discarded, link busy: {}", lines.join(" | ")),
                );
            }
            2 if self.link_reserved() => push_bounded(&mut self.link_buffer, lines),
            _ => self.unsolicited(now, &lines),
        }
    }

    fn link_released(&mut self, now: Instant) {
        if self.st.cnmi.mode == 2 {
            for lines in std::mem::take(&mut self.link_buffer) {
                self.unsolicited(now, &lines);
            }
        }
    }

    /// `+CNMI` changed: TS 27.005 says buffered indications are flushed (bfr 0) or cleared
    /// (bfr 1) when a mode 1–3 is entered.
    pub(crate) fn cnmi_changed(&mut self, now: Instant) {
        if self.st.cnmi.mode == 0 {
            return;
        }
        let held: Vec<Vec<String>> = std::mem::take(&mut self.ta_buffer);
        if self.st.cnmi.bfr == 0 {
            for lines in held {
                self.unsolicited(now, &lines);
            }
        }
    }

    // ----- timers ---------------------------------------------------------------------------------

    pub(crate) fn schedule(&mut self, at: Instant, timer: Timer) {
        self.timer_seq += 1;
        self.timers
            .insert((at, self.timer_seq), (self.epoch, timer));
    }

    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.timers.keys().next().map(|(at, _)| *at)
    }

    pub(crate) fn on_timers(&mut self, now: Instant) {
        while let Some(entry) = self.timers.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let (epoch, timer) = entry.remove();
            if epoch == self.epoch && self.powered {
                self.fire(now, timer);
            }
        }
    }

    fn fire(&mut self, now: Instant, timer: Timer) {
        match timer {
            Timer::Respond(emission) => {
                self.emit(now, emission);
                self.command_done(now);
            }
            Timer::Line(line) => {
                let line = line.replace("{cpin}", self.cpin_text());
                self.unsolicited_line(now, &line);
            }
            Timer::SimInitialised => {
                if self.sim_lock == SimLock::Ready {
                    self.on_sim_ready(now, false);
                }
            }
            Timer::Registered => self.registration_done(now),
            Timer::Noise => {
                if !self.profile.noise_lines.is_empty() {
                    let line = self.noise_line();
                    self.unsolicited_line(now, &line);
                }
                self.schedule_noise(now);
            }
            Timer::CallAlerting(id) => self.call_alerting(now, id),
            Timer::CallOutcome(id) => self.call_outcome(now, id),
            Timer::RemoteHangUp(id) => {
                self.remote_hang_up(now, id);
            }
            Timer::Ring(id) => self.ring(now, id),
            Timer::CallerGivesUp(id) => self.caller_gives_up(now, id),
            Timer::Redeliver => self.redeliver(now),
            Timer::Reboot => self.power_on(now),
        }
    }

    fn schedule_noise(&mut self, now: Instant) {
        if let Some(every) = self.profile.noise_every {
            let delay = self.rng.between(every.min, every.max);
            self.schedule(now + delay, Timer::Noise);
        }
    }

    fn noise_line(&mut self) -> String {
        let lines = &self.profile.noise_lines;
        let pick = self.rng.below(lines.len() as u64) as usize;
        lines
            .get(pick)
            .cloned()
            .unwrap_or_default()
            .replace("{rssi}", &self.signal.to_string())
    }

    // ----- SIM and network --------------------------------------------------------------------

    pub(crate) fn cpin_text(&self) -> &'static str {
        match self.sim_lock {
            SimLock::Ready => "READY",
            SimLock::PinRequired => "SIM PIN",
            SimLock::PukRequired => "SIM PUK",
            SimLock::Blocked => "NOT READY",
            SimLock::NotInserted => "NOT INSERTED",
        }
    }

    pub(crate) fn on_sim_ready(&mut self, now: Instant, after_pin: bool) {
        self.sim_ready = true;
        let reports_cpin = self
            .profile
            .boot_lines
            .iter()
            .any(|l| l.line.contains("{cpin}"));
        if after_pin && reports_cpin {
            self.unsolicited_line(now, "+CPIN: READY");
        }
        for line in self.profile.sim_ready_lines.clone() {
            self.schedule(now + line.after, Timer::Line(line.line));
        }
        if self.cfun == 1 {
            self.start_registration(now);
        }
    }

    pub(crate) fn start_registration(&mut self, now: Instant) {
        self.set_reg(now, RegStatus::Searching);
        self.schedule(now + self.profile.registration_delay, Timer::Registered);
    }

    fn registration_done(&mut self, now: Instant) {
        if self.cfun != 1 || !self.sim_ready {
            return;
        }
        let status = self.network_grants;
        self.set_reg(now, status);
        if status.is_registered() {
            self.redeliver(now);
        }
    }

    /// The network grants or withdraws service; losing it drops calls like a lost cell does.
    pub(crate) fn set_network(&mut self, now: Instant, status: RegStatus) {
        self.network_grants = status;
        if !(self.powered && self.sim_ready && self.cfun == 1) {
            return;
        }
        if !status.is_registered() {
            let ids: Vec<u8> = self.calls.iter().map(|c| c.info.id).collect();
            for id in ids {
                self.remote_hang_up(now, id);
            }
        }
        self.set_reg(now, status);
        if status.is_registered() {
            self.redeliver(now);
        }
    }

    pub(crate) fn set_reg(&mut self, now: Instant, status: RegStatus) {
        if self.reg == status {
            return;
        }
        self.note(now, format!("registration {:?} -> {:?}", self.reg, status));
        self.reg = status;
        match self.st.creg {
            1 => self.unsolicited_line(now, &format!("+CREG: {}", status as u8)),
            2 => {
                let line = if status.is_registered() {
                    format!("+CREG: {},\"{LAC}\",\"{CELL}\"", status as u8)
                } else {
                    format!("+CREG: {}", status as u8)
                };
                self.unsolicited_line(now, &line)
            }
            _ => {}
        }
    }
}

/// Location area code and cell id the emulated network reports (`+CREG=2`).
pub(crate) const LAC: &str = "0A1B";
pub(crate) const CELL: &str = "1C2D";

fn push_bounded(buffer: &mut Vec<Vec<String>>, lines: Vec<String>) {
    if buffer.len() == MAX_BUFFERED_INDICATIONS {
        buffer.remove(0);
    }
    buffer.push(lines);
}

/// V.250 §5.7.1 numeric result codes (`ATV0`).
fn numeric_code(text: &str) -> Option<u8> {
    Some(match text {
        "OK" => 0,
        "CONNECT" => 1,
        "RING" => 2,
        "NO CARRIER" => 3,
        "ERROR" => 4,
        "NO DIALTONE" => 6,
        "BUSY" => 7,
        "NO ANSWER" => 8,
        _ => return None,
    })
}

/// TS 27.007 §9.2 texts for `+CMEE=2`.
pub(crate) fn cme_text(code: u16) -> &'static str {
    match code {
        0 => "phone failure",
        3 => "operation not allowed",
        4 => "operation not supported",
        10 => "SIM not inserted",
        11 => "SIM PIN required",
        12 => "SIM PUK required",
        13 => "SIM failure",
        14 => "SIM busy",
        15 => "SIM wrong",
        16 => "incorrect password",
        20 => "memory full",
        21 => "invalid index",
        22 => "not found",
        30 => "no network service",
        31 => "network timeout",
        50 => "incorrect parameters",
        _ => "unknown",
    }
}

/// TS 27.005 §3.2.5 meanings, printed verbosely with `+CMEE=2` as many modems do.
pub(crate) fn cms_text(code: u16) -> &'static str {
    match code {
        300 => "ME failure",
        302 => "operation not allowed",
        303 => "operation not supported",
        304 => "invalid PDU mode parameter",
        310 => "SIM not inserted",
        311 => "SIM PIN required",
        313 => "SIM failure",
        314 => "SIM busy",
        316 => "SIM PUK required",
        321 => "invalid memory index",
        322 => "memory full",
        330 => "SMSC address unknown",
        331 => "no network service",
        332 => "network timeout",
        340 => "no +CNMA acknowledgement expected",
        _ => "unknown error",
    }
}
