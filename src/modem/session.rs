//! One open port: the framer, one command in flight at a time, the `AT+CMGS` prompt exchange,
//! and the unsolicited codes that arrive meanwhile (after mini-redis's `connection.rs`: this
//! owns the byte stream and the buffer, and nothing else).
//!
//! Generic over the byte stream so the same code runs on a serial port, a pseudo-terminal or an
//! in-memory pipe in tests.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use super::command::{self, Cmd, CommandError, Response};
use super::fields::ParseError;
use super::frame::{Expect, Final, Frame, Framer};
use super::sms::{MessageReference, SubmitPdu};
use super::transport;
use super::urc::Urc;

/// Cancels `AT+CMGS` text entry (TS 27.005 §3.5.1: ESC quits without sending).
const ESC: u8 = 0x1B;
/// Ends the PDU (TS 27.005 §3.5.1: Ctrl-Z sends).
const CTRL_Z: u8 = 0x1A;
/// After a timeout, bytes stop for this long before the next command is written, so a late
/// answer cannot be taken for the next command's.
const RESYNC_QUIET: Duration = Duration::from_millis(300);
/// ... but resynchronising never takes longer than this.
const RESYNC_MAX: Duration = Duration::from_secs(3);

/// The port went away.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Gone(pub String);

/// Why a part was not (or may not have been) sent. [`SendError::may_have_been_sent`] tells a
/// caller whether resending risks a duplicate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The modem refused, before or after the PDU (`+CMS ERROR: <n>`): not sent.
    #[error("the modem refused the message: {result}")]
    Rejected {
        /// The final result code (use [`SendError::cms`] for the number).
        result: Final,
    },
    /// No `> ` prompt came; the entry was cancelled with ESC: not sent.
    #[error("no '>' prompt within {}s after AT+CMGS; cancelled, nothing was sent", .0.as_secs_f32())]
    NoPrompt(Duration),
    /// The PDU was written but no result came: it may or may not have gone out.
    #[error("no answer within {}s after the PDU was written: it may or may not have been sent", .0.as_secs_f32())]
    NoResult(Duration),
    /// The modem answered OK without a message reference, or something unreadable.
    #[error("unexpected answer after the PDU was written (it may have been sent): {0}")]
    Unexpected(ParseError),
    /// The port went away.
    #[error("modem lost {}: {reason}", if *.after_pdu { "after the PDU was written (it may have been sent)" } else { "before the PDU was written (nothing was sent)" })]
    Gone {
        /// Whether the PDU had been written.
        after_pdu: bool,
        /// What the port said.
        reason: String,
    },
    /// The modem is not ready (lost, SIM locked, initialising failed): nothing was sent.
    #[error("modem not ready ({0}): nothing was sent")]
    Unavailable(String),
}

impl SendError {
    /// Whether the part may have reached the network, so that resending could duplicate it.
    pub fn may_have_been_sent(&self) -> bool {
        matches!(
            self,
            SendError::NoResult(_)
                | SendError::Unexpected(_)
                | SendError::Gone {
                    after_pdu: true,
                    ..
                }
        )
    }

    /// The `+CMS ERROR` number (TS 27.005 §3.2.5), when the modem gave one.
    pub fn cms(&self) -> Option<u16> {
        match self {
            SendError::Rejected {
                result: Final::Cms(code),
            } => code.code(),
            _ => None,
        }
    }
}

/// What ended a wait for frames.
enum Stop {
    Final(Final),
    Prompt,
}

/// One open port and its receive buffer.
#[derive(Debug)]
pub struct Session<S> {
    port: S,
    framer: Framer,
    urcs: VecDeque<Urc>,
    pause: Duration,
    pause_fixed: bool,
    send_timeout: Duration,
    last_final: Option<Instant>,
    resync: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    /// A session on `port`, waiting `pause` after each final result before the next command
    /// (some modems drop a command that arrives straight after the previous answer).
    pub fn new(port: S, pause: Duration) -> Self {
        Session {
            port,
            framer: Framer::new(),
            urcs: VecDeque::new(),
            pause,
            pause_fixed: false,
            send_timeout: command::SEND_TIMEOUT,
            last_final: None,
            resync: false,
        }
    }

    /// Changes how long `AT+CMGS` waits for `+CMGS: <mr>` after the PDU.
    pub fn set_send_timeout(&mut self, timeout: Duration) {
        self.send_timeout = timeout;
    }

    /// Changes the pause between commands (once quirks are known), unless it was fixed.
    pub fn set_pause(&mut self, pause: Duration) {
        if !self.pause_fixed {
            self.pause = pause;
        }
    }

    /// Sets the pause between commands for good (a setting overrides the quirks).
    pub fn fix_pause(&mut self, pause: Duration) {
        self.pause = pause;
        self.pause_fixed = true;
    }

    /// Unsolicited codes collected while commands ran, oldest first.
    pub fn take_urcs(&mut self) -> Vec<Urc> {
        self.urcs.drain(..).collect()
    }

    /// Runs one command and returns its typed result.
    pub async fn run<T>(&mut self, cmd: &Cmd<T>) -> Result<T, CommandError> {
        let gone = |reason: Gone| CommandError::Gone {
            command: cmd.shown().to_owned(),
            reason: reason.0,
        };
        self.before_command().await.map_err(gone)?;
        tracing::trace!(command = cmd.shown(), "AT >");
        self.write(format!("{}\r", cmd.line()).as_bytes())
            .await
            .map_err(gone)?;
        let mut info = Vec::new();
        let deadline = Instant::now() + cmd.timeout();
        match self.collect(cmd.expect(), &mut info, deadline).await {
            Ok(Some(Stop::Final(result))) => {
                tracing::trace!(command = cmd.shown(), ?info, %result, "AT <");
                cmd.parse(Response { info, result })
            }
            // A prompt only comes when one was asked for; reaching here means the modem is
            // confused. Cancel the entry it opened.
            Ok(Some(Stop::Prompt)) => {
                self.write(&[ESC]).await.map_err(gone)?;
                self.resync = true;
                Err(CommandError::Unexpected {
                    command: cmd.shown().to_owned(),
                    error: ParseError::new(">", "unexpected prompt"),
                })
            }
            Ok(None) => {
                self.resync = true;
                Err(CommandError::Timeout {
                    command: cmd.shown().to_owned(),
                    timeout: cmd.timeout(),
                })
            }
            Err(g) => Err(gone(g)),
        }
    }

    /// Sends one SMS-SUBMIT with `AT+CMGS` (TS 27.005 §3.5.1): command, `> ` prompt, PDU in
    /// hex, Ctrl-Z, then `+CMGS: <mr>`. Runs to its end once started: callers must not drop
    /// it between the prompt and the answer (the engine never does).
    pub async fn send_pdu(&mut self, pdu: &SubmitPdu) -> Result<MessageReference, SendError> {
        let before = |g: Gone| SendError::Gone {
            after_pdu: false,
            reason: g.0,
        };
        let after = |g: Gone| SendError::Gone {
            after_pdu: true,
            reason: g.0,
        };
        self.before_command().await.map_err(before)?;
        let line = command::send_length(pdu.tpdu_len());
        let hex = pdu.to_hex();
        tracing::trace!(command = %line, "AT >");
        self.write(format!("{line}\r").as_bytes())
            .await
            .map_err(before)?;

        let mut info = Vec::new();
        let waiting_prompt = Expect {
            echo: vec![line.clone()],
            prefixes: vec!["+CMGS:"],
            prompt: true,
            ..Expect::default()
        };
        let deadline = Instant::now() + command::PROMPT_TIMEOUT;
        match self.collect(&waiting_prompt, &mut info, deadline).await {
            Ok(Some(Stop::Prompt)) => {}
            Ok(Some(Stop::Final(result))) => {
                self.last_final = Some(Instant::now());
                return Err(SendError::Rejected { result });
            }
            Ok(None) => {
                self.write(&[ESC]).await.map_err(before)?;
                self.resync = true;
                return Err(SendError::NoPrompt(command::PROMPT_TIMEOUT));
            }
            Err(g) => return Err(before(g)),
        }

        tracing::trace!(pdu = %hex, "AT > (PDU)");
        let mut body = hex.clone().into_bytes();
        body.push(CTRL_Z);
        self.write(&body).await.map_err(after)?;
        let waiting_result = Expect {
            echo: vec![hex],
            prefixes: vec!["+CMGS:"],
            ..Expect::default()
        };
        let deadline = Instant::now() + self.send_timeout;
        match self.collect(&waiting_result, &mut info, deadline).await {
            Ok(Some(Stop::Final(Final::Ok))) => {
                command::parse_send_result(&info).map_err(SendError::Unexpected)
            }
            Ok(Some(Stop::Final(result))) => Err(SendError::Rejected { result }),
            Ok(Some(Stop::Prompt)) => {
                Err(SendError::Unexpected(ParseError::new(">", "second prompt")))
            }
            Ok(None) => {
                self.resync = true;
                Err(SendError::NoResult(self.send_timeout))
            }
            Err(g) => Err(after(g)),
        }
    }

    /// The next unsolicited code, waiting as long as it takes. Cancel-safe: dropping the future
    /// loses nothing (bytes already read stay in the buffer).
    pub async fn next_urc(&mut self) -> Result<Urc, Gone> {
        loop {
            if let Some(urc) = self.urcs.pop_front() {
                return Ok(urc);
            }
            if let Some(frame) = self.framer.next_frame(None) {
                self.urcs.push_back(idle_frame(frame));
                continue;
            }
            self.read_some().await?;
        }
    }

    /// Before writing a command: sort what is already buffered as unsolicited, wait out the
    /// pause, and after a timeout wait for the line to go quiet.
    async fn before_command(&mut self) -> Result<(), Gone> {
        self.drain_buffered();
        if self.resync {
            self.resync = false;
            self.quiet(RESYNC_QUIET, RESYNC_MAX).await?;
        }
        if let Some(last) = self.last_final {
            // Only when the pause is still running: tokio rounds every sleep, even one until an
            // instant already past, up to its next millisecond tick.
            let ready_at = last + self.pause;
            if Instant::now() < ready_at {
                tokio::time::sleep_until(ready_at).await;
            }
        }
        Ok(())
    }

    fn drain_buffered(&mut self) {
        while let Some(frame) = self.framer.next_frame(None) {
            self.urcs.push_back(idle_frame(frame));
        }
    }

    /// Reads until nothing arrives for `quiet` (or `max` passes), treating all as unsolicited.
    async fn quiet(&mut self, quiet: Duration, max: Duration) -> Result<(), Gone> {
        let end = Instant::now() + max;
        loop {
            let until = (Instant::now() + quiet).min(end);
            match tokio::time::timeout_at(until, self.read_some()).await {
                Ok(read) => {
                    read?;
                    self.drain_buffered();
                    if Instant::now() >= end {
                        return Ok(());
                    }
                }
                Err(_) => return Ok(()),
            }
        }
    }

    /// Frames until a final result or prompt, or `None` at the deadline.
    async fn collect(
        &mut self,
        expect: &Expect,
        info: &mut Vec<String>,
        deadline: Instant,
    ) -> Result<Option<Stop>, Gone> {
        loop {
            while let Some(frame) = self.framer.next_frame(Some(expect)) {
                match frame {
                    Frame::Final(result) => {
                        self.last_final = Some(Instant::now());
                        return Ok(Some(Stop::Final(result)));
                    }
                    Frame::Prompt => return Ok(Some(Stop::Prompt)),
                    Frame::Info(line) => info.push(line),
                    Frame::Echo(line) => tracing::trace!(%line, "echo"),
                    Frame::Urc(urc) => self.urcs.push_back(urc),
                }
            }
            match tokio::time::timeout_at(deadline, self.read_some()).await {
                Ok(read) => read?,
                Err(_) => return Ok(None),
            }
        }
    }

    async fn read_some(&mut self) -> Result<(), Gone> {
        let mut buf = [0u8; 512];
        match self.port.read(&mut buf).await {
            Ok(0) => Err(Gone("end of file on the port: the device went away".into())),
            Ok(n) => {
                tracing::trace!(bytes = ?String::from_utf8_lossy(&buf[..n]), "port <");
                self.framer.push(&buf[..n]);
                Ok(())
            }
            Err(e) => Err(Gone(transport::describe_io_error(&e))),
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), Gone> {
        let result = async {
            self.port.write_all(bytes).await?;
            self.port.flush().await
        }
        .await;
        result.map_err(|e| Gone(transport::describe_io_error(&e)))
    }
}

/// A frame that arrived with no command in flight: only unsolicited codes are possible.
fn idle_frame(frame: Frame) -> Urc {
    match frame {
        Frame::Urc(urc) => urc,
        Frame::Info(line) | Frame::Echo(line) => Urc::Unknown(line),
        Frame::Final(result) => Urc::Unknown(result.to_string()),
        Frame::Prompt => Urc::Unknown(">".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modem::command;
    use crate::modem::frame::ErrorCode;
    use crate::modem::sms::Storage;
    use tokio::io::{AsyncBufReadExt, BufReader, DuplexStream};

    /// A scripted peer on the other end of an in-memory pipe: for each command it reads (up to
    /// CR or Ctrl-Z), it writes the next scripted answer.
    fn scripted(script: Vec<(&'static str, &'static [u8])>) -> DuplexStream {
        let (ours, theirs) = tokio::io::duplex(4096);
        tokio::spawn(async move {
            let (read, mut write) = tokio::io::split(theirs);
            let mut read = BufReader::new(read);
            for (want, answer) in script {
                let mut got = Vec::new();
                loop {
                    let mut byte = [0u8; 1];
                    if read.read_exact(&mut byte).await.is_err() {
                        return;
                    }
                    if byte[0] == b'\r' || byte[0] == CTRL_Z {
                        break;
                    }
                    got.push(byte[0]);
                }
                assert_eq!(String::from_utf8_lossy(&got), want);
                write.write_all(answer).await.unwrap();
            }
            // Keep the pipe open until the session is done with it.
            let mut rest = String::new();
            let _ = read.read_line(&mut rest).await;
        });
        ours
    }

    #[tokio::test]
    async fn runs_a_command_with_a_urc_inside_the_answer() {
        let port = scripted(vec![(
            "AT+CSQ",
            b"\r\n+CSQ: 20,99\r\n\r\n+CMTI: \"SM\",4\r\n\r\nOK\r\n",
        )]);
        let mut s = Session::new(port, Duration::ZERO);
        let signal = s.run(&command::signal()).await.unwrap();
        assert_eq!(signal.dbm(), Some(-73));
        assert_eq!(
            s.take_urcs(),
            vec![Urc::MessageStored {
                storage: Storage::Sim,
                index: 4
            }]
        );
    }

    #[tokio::test]
    async fn sends_a_pdu_through_the_prompt() {
        let pdu = SubmitPdu::from_hex("00010005810180F60000", 9).unwrap();
        let port = scripted(vec![
            ("AT+CMGS=9", b"\r\n> "),
            ("00010005810180F60000", b"\r\n+CMGS: 42\r\n\r\nOK\r\n"),
        ]);
        let mut s = Session::new(port, Duration::ZERO);
        assert_eq!(s.send_pdu(&pdu).await, Ok(MessageReference(42)));
    }

    /// Nordic's published `AT+CMGS` example, answered by a modem with echo still on: the
    /// command and the PDU come back before the prompt and the reference.
    #[tokio::test]
    async fn published_exchange_with_echo() {
        const PDU: &str = "069144888888F811000C9153481032547600000B20D4F29C9E769F4161D0BC3D07B5CBF379F89C769F416F7B590E62D3CB";
        let pdu = SubmitPdu::from_hex(PDU, 42).unwrap();
        let echoed_pdu: &'static [u8] = Box::leak(
            format!("{PDU}\x1a\r\n+CMGS: 2\r\n\r\nOK\r\n")
                .into_bytes()
                .into_boxed_slice(),
        );
        let port = scripted(vec![
            ("AT+CMGS=42", b"AT+CMGS=42\r\r\n> "),
            (PDU, echoed_pdu),
        ]);
        let mut s = Session::new(port, Duration::ZERO);
        assert_eq!(s.send_pdu(&pdu).await, Ok(MessageReference(2)));
        assert!(s.take_urcs().is_empty());
    }

    #[tokio::test]
    async fn cms_error_after_the_pdu_is_typed() {
        let pdu = SubmitPdu::from_hex("00010005810180F60000", 9).unwrap();
        let port = scripted(vec![
            ("AT+CMGS=9", b"\r\n> "),
            ("00010005810180F60000", b"\r\n+CMS ERROR: 330\r\n"),
        ]);
        let mut s = Session::new(port, Duration::ZERO);
        let err = s.send_pdu(&pdu).await.unwrap_err();
        assert_eq!(err.cms(), Some(330));
        assert!(!err.may_have_been_sent());
        assert_eq!(
            err,
            SendError::Rejected {
                result: Final::Cms(ErrorCode::Code(330))
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn missing_prompt_cancels_with_esc() {
        let pdu = SubmitPdu::from_hex("00010005810180F60000", 9).unwrap();
        let (ours, mut theirs) = tokio::io::duplex(4096);
        let mut s = Session::new(ours, Duration::ZERO);
        let err = s.send_pdu(&pdu).await.unwrap_err();
        assert_eq!(err, SendError::NoPrompt(command::PROMPT_TIMEOUT));
        assert!(!err.may_have_been_sent());
        let mut got = vec![0u8; 11];
        theirs.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"AT+CMGS=9\r\x1b");
    }

    #[tokio::test(start_paused = true)]
    async fn timeout_then_late_answer_is_not_taken_for_the_next() {
        let (ours, mut theirs) = tokio::io::duplex(4096);
        let mut s = Session::new(ours, Duration::ZERO);
        let err = s.run(&command::signal()).await.unwrap_err();
        assert!(matches!(err, CommandError::Timeout { .. }), "{err}");
        // The late answer to AT+CSQ arrives, then the answer to the next command.
        theirs
            .write_all(b"\r\n+CSQ: 5,99\r\n\r\nOK\r\n")
            .await
            .unwrap();
        let peer = tokio::spawn(async move {
            let mut line = vec![0u8; 12];
            theirs.read_exact(&mut line).await.unwrap();
            assert_eq!(&line, b"AT+CSQ\rAT+CS");
            let mut rest = vec![0u8; 2];
            theirs.read_exact(&mut rest).await.unwrap();
            theirs
                .write_all(b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n")
                .await
                .unwrap();
            theirs
        });
        let signal = s.run(&command::signal()).await.unwrap();
        assert_eq!(signal.rssi, 20);
        let urcs = s.take_urcs();
        assert!(urcs.contains(&Urc::Unknown("OK".into())), "{urcs:?}");
        drop(peer.await.unwrap());
    }

    #[tokio::test]
    async fn eof_is_gone() {
        let (ours, theirs) = tokio::io::duplex(64);
        drop(theirs);
        let mut s = Session::new(ours, Duration::ZERO);
        let err = s.run(&command::attention()).await.unwrap_err();
        assert!(err.is_gone(), "{err}");
        assert!(matches!(s.next_urc().await, Err(Gone(_))));
    }

    #[tokio::test]
    async fn urcs_while_idle() {
        let (ours, mut theirs) = tokio::io::duplex(256);
        let mut s = Session::new(ours, Duration::ZERO);
        theirs
            .write_all(b"\r\nRING\r\n\r\n+CLIP: \"+447400123456\",145\r\n")
            .await
            .unwrap();
        assert_eq!(s.next_urc().await.unwrap(), Urc::Ring);
        assert!(matches!(s.next_urc().await.unwrap(), Urc::CallerId(_)));
    }
}
