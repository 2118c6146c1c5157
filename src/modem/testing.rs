//! Test helpers: a pseudo-terminal whose slave is opened by path exactly as a real
//! `/dev/ttyUSB0` would be, and a small scripted modem on its master side.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::pty::{PtyMaster, grantpt, posix_openpt, ptsname_r, unlockpt};
use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};

/// A pseudo-terminal pair; the slave is left closed for the code under test to open.
pub struct Pty {
    master: PtyMaster,
    path: PathBuf,
}

impl Pty {
    /// A new pty with a raw-mode slave.
    pub fn new() -> io::Result<Self> {
        let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY)?;
        grantpt(&master)?;
        unlockpt(&master)?;
        let path = PathBuf::from(ptsname_r(&master)?);
        // Raw from the start, so nothing is echoed back to the master before the port opens.
        let slave = File::options().read(true).write(true).open(&path)?;
        let mut attrs = tcgetattr(slave.as_fd())?;
        cfmakeraw(&mut attrs);
        tcsetattr(slave.as_fd(), SetArg::TCSANOW, &attrs)?;
        drop(slave);
        Ok(Pty { master, path })
    }

    /// The slave's path (`/dev/pts/N`).
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn master_file(&self) -> io::Result<File> {
        let fd: OwnedFd = self.master.as_fd().try_clone_to_owned()?;
        Ok(File::from(fd))
    }
}

/// What a scripted modem does in answer to one command line.
pub type Responder = Box<dyn FnMut(&str) -> Vec<u8> + Send>;

/// A scripted modem on a pty's master: every line it receives (ended by CR, or by Ctrl-Z for
/// a PDU) goes to the responder, whose bytes are written back. Dropping it (or [`unplug`])
/// closes the master: the slave then reads EOF and its `/dev/pts/N` disappears, as when a USB
/// modem is pulled out.
///
/// [`unplug`]: FakeModem::unplug
pub struct FakeModem {
    writer: Arc<Mutex<File>>,
    stop: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
    received: Arc<Mutex<Vec<String>>>,
    path: PathBuf,
    pty: Option<Pty>,
}

impl FakeModem {
    /// Starts answering on a new pty.
    pub fn start(responder: Responder) -> io::Result<Self> {
        let pty = Pty::new()?;
        Self::on(pty, responder)
    }

    /// Starts answering on `pty`.
    pub fn on(pty: Pty, mut responder: Responder) -> io::Result<Self> {
        let mut reader_file = pty.master_file()?;
        let flags = fcntl(reader_file.as_fd(), FcntlArg::F_GETFL).map_err(io::Error::from)?;
        let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
        fcntl(reader_file.as_fd(), FcntlArg::F_SETFL(flags)).map_err(io::Error::from)?;
        let writer = Arc::new(Mutex::new(pty.master_file()?));
        let stop = Arc::new(AtomicBool::new(false));
        let received = Arc::new(Mutex::new(Vec::new()));
        let reader = {
            let writer = Arc::clone(&writer);
            let stop = Arc::clone(&stop);
            let received = Arc::clone(&received);
            std::thread::spawn(move || {
                let mut line = Vec::new();
                let mut buf = [0u8; 256];
                while !stop.load(Ordering::SeqCst) {
                    match reader_file.read(&mut buf) {
                        Ok(0) => std::thread::sleep(Duration::from_millis(1)),
                        Ok(n) => {
                            for &b in &buf[..n] {
                                match b {
                                    b'\r' | 0x1A | 0x1B => {
                                        let text = String::from_utf8_lossy(&line)
                                            .trim_matches('\n')
                                            .to_owned();
                                        line.clear();
                                        if text.is_empty() && b == b'\r' {
                                            continue;
                                        }
                                        let text =
                                            if b == 0x1B { "<ESC>".to_owned() } else { text };
                                        received.lock().unwrap().push(text.clone());
                                        let answer = responder(&text);
                                        if !answer.is_empty() {
                                            let mut w = writer.lock().unwrap();
                                            let _ = w.write_all(&answer);
                                            let _ = w.flush();
                                        }
                                    }
                                    other => line.push(other),
                                }
                            }
                        }
                        // EAGAIN (nothing yet) or EIO (slave closed, e.g. between reconnects).
                        Err(_) => std::thread::sleep(Duration::from_millis(1)),
                    }
                }
            })
        };
        Ok(FakeModem {
            writer,
            stop,
            reader: Some(reader),
            received,
            path: pty.path.clone(),
            pty: Some(pty),
        })
    }

    /// The slave path to configure.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes bytes unprompted (an unsolicited code).
    pub fn send(&self, bytes: &[u8]) {
        let mut w = self.writer.lock().unwrap();
        let _ = w.write_all(bytes);
        let _ = w.flush();
    }

    /// Every line received so far.
    pub fn received(&self) -> Vec<String> {
        self.received.lock().unwrap().clone()
    }

    /// Closes the master: the port reads EOF and the path disappears.
    pub fn unplug(mut self) {
        self.shut();
    }

    fn shut(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        self.pty = None;
    }
}

impl Drop for FakeModem {
    fn drop(&mut self) {
        self.shut();
    }
}

/// A well-behaved modem's answers to everything the init sequence and the SMS and voice
/// operations send; `pin` is the PIN it expects (`None`: no PIN asked).
pub struct Behaviour {
    /// The PIN the SIM wants, if locked.
    pub pin: Option<&'static str>,
    /// Whether the PIN has been entered.
    pub unlocked: bool,
    /// Stored messages: (index, PDU hex).
    pub stored: Vec<(u32, String)>,
    /// Next message reference.
    pub next_mr: u8,
    /// Lines to answer with ERROR.
    pub refuse: Vec<&'static str>,
    /// Answer to the next `AT+CMGS` PDU instead of `+CMGS: <mr>`.
    pub send_error: Option<&'static str>,
    /// Answer to `AT+CPIN?` instead of the PIN logic (e.g. `+CME ERROR: 10`).
    pub cpin_answer: Option<&'static str>,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            pin: None,
            unlocked: false,
            stored: Vec::new(),
            next_mr: 1,
            refuse: Vec::new(),
            send_error: None,
            cpin_answer: None,
        }
    }
}

impl Behaviour {
    /// Answers one line.
    pub fn answer(&mut self, line: &str) -> Vec<u8> {
        let ok = |body: &str| format!("{body}\r\nOK\r\n").into_bytes();
        if self.refuse.iter().any(|r| line.eq_ignore_ascii_case(r)) {
            return b"\r\nERROR\r\n".to_vec();
        }
        let upper = line.to_ascii_uppercase();
        match upper.as_str() {
            "AT" | "ATE0" | "AT+CMEE=1" | "AT+CMGF=0" | "AT+CSMS=0" | "AT+CLIP=1" | "AT+CREG=1"
            | "AT+COPS=3,0" | "ATH" | "AT+CHUP" => ok(""),
            "AT+CGMI" => ok("\r\nACME"),
            "AT+CGMM" => ok("\r\nTEST-1"),
            "AT+CGMR" => ok("\r\nR1.0"),
            "AT+CGSN" => ok("\r\n353456789012345"),
            "AT+CIMI" => ok("\r\n234150123456789"),
            "AT+CPIN?" if self.cpin_answer.is_some() => {
                format!("\r\n{}\r\n", self.cpin_answer.unwrap_or_default()).into_bytes()
            }
            "AT+CPIN?" => {
                if self.pin.is_some() && !self.unlocked {
                    ok("\r\n+CPIN: SIM PIN")
                } else {
                    ok("\r\n+CPIN: READY")
                }
            }
            "AT+CPMS=\"SM\",\"SM\",\"SM\"" => {
                let n = self.stored.len();
                ok(&format!("\r\n+CPMS: {n},30,{n},30,{n},30"))
            }
            "AT+CPMS?" => {
                let n = self.stored.len();
                ok(&format!(
                    "\r\n+CPMS: \"SM\",{n},30,\"SM\",{n},30,\"SM\",{n},30"
                ))
            }
            "AT+CSQ" => ok("\r\n+CSQ: 20,99"),
            "AT+CREG?" => ok("\r\n+CREG: 1,1"),
            "AT+COPS?" => ok("\r\n+COPS: 0,0,\"Test Net\",2"),
            "AT+CSCA?" => ok("\r\n+CSCA: \"+447785016005\",145"),
            "AT+CLCC" => ok(""),
            "AT+CHLD=?" => ok("\r\n+CHLD: (0,1,1x,2,2x,3,4)"),
            "AT+CMGL=4" => {
                let mut body = String::new();
                for (i, pdu) in &self.stored {
                    let len = pdu.len() / 2 - 1 - usize::from_str_radix(&pdu[..2], 16).unwrap_or(0);
                    body.push_str(&format!("\r\n+CMGL: {i},0,,{len}\r\n{pdu}"));
                }
                ok(&body)
            }
            _ => self.answer_with_parameters(line, &upper),
        }
    }

    fn answer_with_parameters(&mut self, line: &str, upper: &str) -> Vec<u8> {
        let ok = |body: &str| format!("{body}\r\nOK\r\n").into_bytes();
        if let Some(pin) = line.strip_prefix("AT+CPIN=") {
            let pin = pin.trim_matches('"');
            return if Some(pin) == self.pin {
                self.unlocked = true;
                ok("")
            } else {
                b"\r\n+CME ERROR: 16\r\n".to_vec()
            };
        }
        if upper.starts_with("AT+CNMI=") {
            return ok("");
        }
        if let Some(i) = upper.strip_prefix("AT+CMGR=") {
            let i: u32 = i.parse().unwrap_or(u32::MAX);
            return match self.stored.iter().find(|(n, _)| *n == i) {
                Some((_, pdu)) => {
                    let len = pdu.len() / 2 - 1 - usize::from_str_radix(&pdu[..2], 16).unwrap_or(0);
                    ok(&format!("\r\n+CMGR: 0,,{len}\r\n{pdu}"))
                }
                None => b"\r\n+CMS ERROR: 321\r\n".to_vec(),
            };
        }
        if let Some(i) = upper.strip_prefix("AT+CMGD=") {
            let i: u32 = i.parse().unwrap_or(u32::MAX);
            self.stored.retain(|(n, _)| *n != i);
            return ok("");
        }
        if upper.starts_with("AT+CMGS=") {
            return b"\r\n> ".to_vec();
        }
        if upper.starts_with("ATD") {
            return ok("");
        }
        if upper.starts_with("AT+CHLD=") {
            return ok("");
        }
        if line.bytes().all(|b| b.is_ascii_hexdigit()) && !line.is_empty() {
            // A PDU after the prompt.
            if let Some(err) = self.send_error.take() {
                return format!("\r\n{err}\r\n").into_bytes();
            }
            let mr = self.next_mr;
            self.next_mr = self.next_mr.wrapping_add(1);
            return ok(&format!("\r\n+CMGS: {mr}"));
        }
        b"\r\nERROR\r\n".to_vec()
    }
}

/// A [`Responder`] from a shared [`Behaviour`].
pub fn responder(b: Arc<Mutex<Behaviour>>) -> Responder {
    Box::new(move |line| b.lock().unwrap().answer(line))
}
