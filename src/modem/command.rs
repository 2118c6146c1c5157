//! Typed AT commands: each is a small value that knows its command line, how long the modem
//! may take, which information lines belong to it, and how to turn them into its result type
//! (after atat's `AtatCmd`).
//!
//! Command lines are composed with the `at-commands` builder. Its parser is not used: see
//! [`super::frame`] for why.

use std::fmt;
use std::time::Duration;

use at_commands::builder::CommandBuilder;

use super::fields::{self, ParseError};
use super::frame::{BareLines, ErrorCode, Expect, Final};
use super::network::{self, Registration, Signal};
use super::sim::{self, Pin, PinState};
use super::sms::{self, MessageReference, Storage, StorageStatus, StoredPdu, Usage};
use super::voice::{self, Call, DialNumber, DialOutcome, HoldAction, HoldOptions};

/// Most commands answer within a second; this leaves room for a busy modem.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(6);
/// Commands that touch the SIM's files (`+CPMS`, `+CMGL`, `+CMGR`, `+CMGD`, `+CPIN=`): slow
/// SIMs and modems that are still loading the SIM take several seconds (SIMCom documents up to
/// 20 s for `+CMGL`).
pub const SIM_TIMEOUT: Duration = Duration::from_secs(20);
/// From `AT+CMGS=<n>` to the `> ` prompt.
pub const PROMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// From the PDU's Ctrl-Z to `+CMGS: <mr>`: the network round trip (modem manuals give 60 s).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(60);
/// `ATD`: call set-up; modems that wait for the answer before replying need longer.
pub const DIAL_TIMEOUT: Duration = Duration::from_secs(40);
/// `ATH`/`AT+CHUP`, `AT+CHLD`, `AT+CLIP=1`: may wait for the network.
pub const NETWORK_TIMEOUT: Duration = Duration::from_secs(20);

/// The information lines and final result code of one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Information lines, in order.
    pub info: Vec<String>,
    /// How it ended.
    pub result: Final,
}

/// Why a response is not the command's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The modem ended the command with an error code.
    Rejected(Final),
    /// The answer does not have the shape the standard gives.
    Unexpected(ParseError),
}

impl From<ParseError> for Refusal {
    fn from(e: ParseError) -> Self {
        Refusal::Unexpected(e)
    }
}

impl Response {
    /// The information lines, if the command succeeded.
    pub fn ok(self) -> Result<Vec<String>, Refusal> {
        if self.result.is_success() {
            Ok(self.info)
        } else {
            Err(Refusal::Rejected(self.result))
        }
    }

    /// The first information line starting with `prefix`, if the command succeeded.
    pub fn line(self, prefix: &str) -> Result<String, Refusal> {
        let lines = self.ok()?;
        lines
            .into_iter()
            .find(|l| fields::after_prefix(l, prefix).is_some())
            .ok_or_else(|| {
                Refusal::Unexpected(ParseError::new("", format_args!("no {prefix} line")))
            })
    }
}

/// Why a command did not produce its result. Carries the command as shown in logs (a PIN is
/// masked) so a field engineer sees which step failed and what the modem said.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    /// The modem answered with an error code.
    #[error("`{command}` was refused: {result}")]
    Rejected {
        /// The command.
        command: String,
        /// The modem's final result code.
        result: Final,
    },
    /// No final result code in time.
    #[error("`{command}` got no answer within {}s", timeout.as_secs_f32())]
    Timeout {
        /// The command.
        command: String,
        /// How long it waited.
        timeout: Duration,
    },
    /// The answer could not be understood.
    #[error("`{command}`: {error}")]
    Unexpected {
        /// The command.
        command: String,
        /// What was wrong.
        error: ParseError,
    },
    /// The port went away (modem unplugged, EOF, I/O error).
    #[error("modem lost during `{command}`: {reason}")]
    Gone {
        /// The command.
        command: String,
        /// What the port said.
        reason: String,
    },
}

impl CommandError {
    /// The modem's final result code, when it refused.
    pub fn result(&self) -> Option<&Final> {
        match self {
            CommandError::Rejected { result, .. } => Some(result),
            _ => None,
        }
    }

    /// The `+CME ERROR` number, when that is how it was refused.
    pub fn cme(&self) -> Option<u16> {
        match self.result() {
            Some(Final::Cme(code)) => code.code(),
            _ => None,
        }
    }

    /// The `+CMS ERROR` number, when that is how it was refused.
    pub fn cms(&self) -> Option<u16> {
        match self.result() {
            Some(Final::Cms(code)) => code.code(),
            _ => None,
        }
    }

    /// Whether the SIM said "busy, try again" (`+CME ERROR: 14`, `+CMS ERROR: 314`), as it
    /// does for a few seconds after boot or after the PIN.
    pub fn is_sim_busy(&self) -> bool {
        self.cme() == Some(sim::cme::SIM_BUSY) || self.cms() == Some(sms::cms::SIM_BUSY)
    }

    /// Whether the port is gone.
    pub fn is_gone(&self) -> bool {
        matches!(self, CommandError::Gone { .. })
    }
}

type Parser<T> = Box<dyn Fn(Response) -> Result<T, Refusal> + Send + Sync>;

/// A typed command: its line, timeout, information-line prefixes and result type.
pub struct Cmd<T> {
    line: String,
    shown: Option<String>,
    expect: Expect,
    timeout: Duration,
    parse: Parser<T>,
}

impl<T> fmt::Debug for Cmd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cmd")
            .field("line", &self.shown())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl<T> Cmd<T> {
    fn new(
        line: String,
        prefixes: &[&'static str],
        timeout: Duration,
        parse: impl Fn(Response) -> Result<T, Refusal> + Send + Sync + 'static,
    ) -> Self {
        Cmd {
            expect: Expect {
                echo: vec![line.clone()],
                prefixes: prefixes.to_vec(),
                ..Expect::default()
            },
            line,
            shown: None,
            timeout,
            parse: Box::new(parse),
        }
    }

    fn bare_lines(mut self, which: BareLines) -> Self {
        self.expect.bare_lines = which;
        self
    }

    fn dial(mut self) -> Self {
        self.expect.dial = true;
        self
    }

    /// The command line, without the terminating carriage return.
    pub fn line(&self) -> &str {
        &self.line
    }

    /// The command line as it may appear in logs and errors.
    pub fn shown(&self) -> &str {
        self.shown.as_deref().unwrap_or(&self.line)
    }

    /// What the framer needs to know while this command is in flight.
    pub fn expect(&self) -> &Expect {
        &self.expect
    }

    /// How long the modem may take to finish it.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The result, or why there is none.
    pub fn parse(&self, response: Response) -> Result<T, CommandError> {
        (self.parse)(response).map_err(|refusal| match refusal {
            Refusal::Rejected(result) => CommandError::Rejected {
                command: self.shown().to_owned(),
                result,
            },
            Refusal::Unexpected(error) => CommandError::Unexpected {
                command: self.shown().to_owned(),
                error,
            },
        })
    }
}

fn unit(r: Response) -> Result<(), Refusal> {
    r.ok().map(drop)
}

/// `AT+NAME=<int>,<int>...`, composed with the `at-commands` builder.
fn set_ints(name: &str, values: &[i32]) -> String {
    let mut buf = [0u8; 128];
    let mut builder = CommandBuilder::create_set(&mut buf, true).named(name);
    for &v in values {
        builder = builder.with_int_parameter(v);
    }
    match builder.finish_with(b"") {
        Ok(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        // 128 bytes hold any list of a few integers; this only keeps the code total.
        Err(_) => {
            let list: Vec<String> = values.iter().map(i32::to_string).collect();
            format!("AT{name}={}", list.join(","))
        }
    }
}

/// `AT+NAME="<s>","<s>"...`; the strings are validated values (PIN, storage names) with no
/// quotes in them.
fn set_strings(name: &str, values: &[&str]) -> String {
    let mut buf = [0u8; 128];
    let mut builder = CommandBuilder::create_set(&mut buf, true).named(name);
    for v in values {
        builder = builder.with_string_parameter(v);
    }
    match builder.finish_with(b"") {
        Ok(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        Err(_) => {
            let list: Vec<String> = values.iter().map(|v| format!("\"{v}\"")).collect();
            format!("AT{name}={}", list.join(","))
        }
    }
}

/// `AT`: is anyone there? Any modem answers within a second.
pub fn attention() -> Cmd<()> {
    Cmd::new("AT".into(), &[], Duration::from_secs(1), unit)
}

/// `ATE0`: no echo (V.250 §6.2.4). Echo is tolerated anyway; this saves bytes and noise.
pub fn echo_off() -> Cmd<()> {
    Cmd::new("ATE0".into(), &[], DEFAULT_TIMEOUT, unit)
}

/// `AT+CMEE=1`: numeric `+CME ERROR: <n>` instead of a bare `ERROR` (TS 27.007 §9.1).
pub fn verbose_errors() -> Cmd<()> {
    Cmd::new(set_ints("+CMEE", &[1]), &[], DEFAULT_TIMEOUT, unit)
}

/// A vendor line from [`super::quirks::Quirks::extra_init`], result ignored beyond OK/error.
pub fn vendor(line: &str) -> Cmd<()> {
    Cmd::new(line.to_owned(), &[], DEFAULT_TIMEOUT, unit)
}

/// The first non-empty answer line, without an optional `+CGMI:`-style prefix or quotes.
fn identity(prefix: &'static str) -> impl Fn(Response) -> Result<String, Refusal> {
    move |r: Response| {
        let lines = r.ok()?;
        let line = lines
            .iter()
            .map(|l| {
                fields::after_prefix(l, prefix)
                    .unwrap_or(l)
                    .trim()
                    .trim_matches('"')
            })
            .find(|l| !l.is_empty())
            .ok_or_else(|| ParseError::new("", "empty answer"))?;
        Ok(line.to_owned())
    }
}

/// `AT+CGMI`: manufacturer (TS 27.007 §5.1).
pub fn manufacturer() -> Cmd<String> {
    Cmd::new(
        "AT+CGMI".into(),
        &["+CGMI:"],
        DEFAULT_TIMEOUT,
        identity("+CGMI:"),
    )
    .bare_lines(BareLines::Any)
}

/// `AT+CGMM`: model (TS 27.007 §5.2).
pub fn model() -> Cmd<String> {
    Cmd::new(
        "AT+CGMM".into(),
        &["+CGMM:"],
        DEFAULT_TIMEOUT,
        identity("+CGMM:"),
    )
    .bare_lines(BareLines::Any)
}

/// `AT+CGMR`: firmware revision (TS 27.007 §5.3).
pub fn revision() -> Cmd<String> {
    Cmd::new(
        "AT+CGMR".into(),
        &["+CGMR:"],
        DEFAULT_TIMEOUT,
        identity("+CGMR:"),
    )
    .bare_lines(BareLines::Any)
}

/// `AT+CGSN`: IMEI (TS 27.007 §5.4).
pub fn imei() -> Cmd<String> {
    Cmd::new(
        "AT+CGSN".into(),
        &["+CGSN:"],
        DEFAULT_TIMEOUT,
        identity("+CGSN:"),
    )
    .bare_lines(BareLines::Any)
}

/// `AT+CIMI`: the SIM's IMSI (TS 27.007 §5.6); refused while the SIM is locked.
pub fn imsi() -> Cmd<String> {
    Cmd::new(
        "AT+CIMI".into(),
        &["+CIMI:"],
        DEFAULT_TIMEOUT,
        identity("+CIMI:"),
    )
    .bare_lines(BareLines::Any)
}

/// `AT+CPIN?`: what the SIM waits for (TS 27.007 §8.3).
pub fn pin_state() -> Cmd<PinState> {
    Cmd::new("AT+CPIN?".into(), &["+CPIN:"], DEFAULT_TIMEOUT, |r| {
        Ok(sim::parse_cpin(&r.line("+CPIN:")?)?)
    })
}

/// `AT+CPIN="<pin>"`: enter the PIN. Shown as `AT+CPIN="****"` in logs and errors.
pub fn enter_pin(pin: &Pin) -> Cmd<()> {
    let mut cmd = Cmd::new(
        set_strings("+CPIN", &[pin.digits()]),
        &[],
        SIM_TIMEOUT,
        unit,
    );
    cmd.shown = Some("AT+CPIN=\"****\"".into());
    cmd
}

/// `AT+CMGF=0`: PDU mode (TS 27.005 §3.2.3); text mode cannot carry every alphabet.
pub fn pdu_mode() -> Cmd<()> {
    Cmd::new(set_ints("+CMGF", &[0]), &[], DEFAULT_TIMEOUT, unit)
}

/// `AT+CSMS=0`: phase 2 message service (TS 27.005 §3.2.1), under which `+CMT` and `+CDS`
/// need no `AT+CNMA` acknowledgement (unacknowledged, the network would deliver them again).
pub fn message_service_phase2() -> Cmd<()> {
    Cmd::new(set_ints("+CSMS", &[0]), &["+CSMS:"], DEFAULT_TIMEOUT, unit)
}

/// `AT+CPMS=<mem>,<mem>,<mem>`: read, write and receive in one storage, so the index in a
/// `+CMTI` is the index `AT+CMGR` reads (TS 27.005 §3.2.2).
pub fn use_storage(storage: &Storage) -> Cmd<[Usage; 3]> {
    let name = storage.name();
    Cmd::new(
        set_strings("+CPMS", &[name, name, name]),
        &["+CPMS:"],
        SIM_TIMEOUT,
        |r| Ok(sms::parse_cpms_set(&r.line("+CPMS:")?)?),
    )
}

/// `AT+CPMS=<mem1>`: change only where reading and deleting happen (for a `+CMTI` that names
/// another storage).
pub fn read_from(storage: &Storage) -> Cmd<()> {
    Cmd::new(
        set_strings("+CPMS", &[storage.name()]),
        &["+CPMS:"],
        SIM_TIMEOUT,
        unit,
    )
}

/// `AT+CPMS?`: storage names and how full they are.
pub fn storage_status() -> Cmd<StorageStatus> {
    Cmd::new("AT+CPMS?".into(), &["+CPMS:"], SIM_TIMEOUT, |r| {
        Ok(sms::parse_cpms_query(&r.line("+CPMS:")?)?)
    })
}

/// `AT+CNMI=<variant>`: how new messages are announced (TS 27.005 §3.4.1). The variant is a
/// parameter list from [`super::quirks::Quirks::cnmi`].
pub fn new_message_indications(variant: &str) -> Cmd<()> {
    Cmd::new(format!("AT+CNMI={variant}"), &[], DEFAULT_TIMEOUT, unit)
}

/// `AT+CLIP=1`: caller id with every `RING` (TS 27.007 §7.6).
pub fn caller_id_on() -> Cmd<()> {
    Cmd::new(set_ints("+CLIP", &[1]), &[], NETWORK_TIMEOUT, unit)
}

/// `AT+CREG=1`: unsolicited `+CREG: <stat>` when registration changes (TS 27.007 §7.2).
pub fn registration_changes_on() -> Cmd<()> {
    Cmd::new(set_ints("+CREG", &[1]), &[], DEFAULT_TIMEOUT, unit)
}

/// `AT+CREG?`.
pub fn registration() -> Cmd<Registration> {
    Cmd::new("AT+CREG?".into(), &["+CREG:"], DEFAULT_TIMEOUT, |r| {
        Ok(network::parse_creg_query(&r.line("+CREG:")?)?)
    })
}

/// `AT+CSQ` (TS 27.007 §8.5).
pub fn signal() -> Cmd<Signal> {
    Cmd::new("AT+CSQ".into(), &["+CSQ:"], DEFAULT_TIMEOUT, |r| {
        Ok(network::parse_csq(&r.line("+CSQ:")?)?)
    })
}

/// `AT+COPS=3,0`: report the operator by its long name (TS 27.007 §7.3).
pub fn operator_by_name() -> Cmd<()> {
    Cmd::new(set_ints("+COPS", &[3, 0]), &[], DEFAULT_TIMEOUT, unit)
}

/// `AT+COPS?`: the operator, `None` when not registered.
pub fn operator() -> Cmd<Option<String>> {
    Cmd::new("AT+COPS?".into(), &["+COPS:"], NETWORK_TIMEOUT, |r| {
        Ok(network::parse_cops(&r.line("+COPS:")?)?)
    })
}

/// `AT+CSCA?`: the SMS centre (TS 27.005 §3.3.1). Without one every send fails with
/// `+CMS ERROR: 330`.
pub fn service_centre() -> Cmd<Option<String>> {
    Cmd::new("AT+CSCA?".into(), &["+CSCA:"], DEFAULT_TIMEOUT, |r| {
        Ok(network::parse_csca(&r.line("+CSCA:")?)?)
    })
}

/// `AT+CMGL=4`: every message in the read storage (`storage`, selected beforehand), in PDU
/// mode (TS 27.005 §3.4.2).
pub fn list_messages(storage: &Storage) -> Cmd<Vec<StoredPdu>> {
    let storage = storage.clone();
    Cmd::new(
        set_ints("+CMGL", &[4]),
        &["+CMGL:"],
        SIM_TIMEOUT,
        move |r| Ok(sms::parse_cmgl(&storage, &r.ok()?)?),
    )
    .bare_lines(BareLines::Hex)
}

/// `AT+CMGR=<index>` (TS 27.005 §3.4.3); an empty slot is `None` (some modems answer a bare
/// `OK`, others `+CMS ERROR: 321`).
pub fn read_message(storage: &Storage, index: u32) -> Result<Cmd<Option<StoredPdu>>, IndexError> {
    let i = i32::try_from(index).map_err(|_| IndexError(index))?;
    let storage = storage.clone();
    let parse = move |r: Response| {
        if r.result == Final::Cms(ErrorCode::Code(sms::cms::INVALID_INDEX)) {
            return Ok(None);
        }
        Ok(sms::parse_cmgr(&storage, index, &r.ok()?)?)
    };
    Ok(
        Cmd::new(set_ints("+CMGR", &[i]), &["+CMGR:"], SIM_TIMEOUT, parse)
            .bare_lines(BareLines::Hex),
    )
}

/// `AT+CMGD=<index>` (TS 27.005 §3.5.4).
pub fn delete_message(index: u32) -> Result<Cmd<()>, IndexError> {
    let i = i32::try_from(index).map_err(|_| IndexError(index))?;
    Ok(Cmd::new(set_ints("+CMGD", &[i]), &[], SIM_TIMEOUT, unit))
}

/// A storage index too large for a command parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("storage index {0} is out of range")]
pub struct IndexError(pub u32);

/// `AT+CMGS=<length>`: the first half of sending (TS 27.005 §3.5.1); the session writes the
/// PDU after the prompt.
pub fn send_length(tpdu_len: u8) -> String {
    set_ints("+CMGS", &[i32::from(tpdu_len)])
}

/// The reference in `+CMGS: <mr>`.
pub fn parse_send_result(info: &[String]) -> Result<MessageReference, ParseError> {
    let line = info
        .iter()
        .find(|l| fields::after_prefix(l, "+CMGS:").is_some())
        .ok_or_else(|| ParseError::new("", "OK without +CMGS: <mr>"))?;
    sms::parse_cmgs(line)
}

/// `ATD<number>;`: a voice call (the `;` makes it voice, V.250 §6.3.1, TS 27.007 §6.2).
pub fn dial(number: &DialNumber) -> Cmd<DialOutcome> {
    Cmd::new(format!("ATD{number};"), &[], DIAL_TIMEOUT, |r| {
        match r.result {
            Final::Ok => Ok(DialOutcome::Dialling),
            Final::Connect(_) => Ok(DialOutcome::Connected),
            Final::Busy => Ok(DialOutcome::Busy),
            Final::NoAnswer => Ok(DialOutcome::NoAnswer),
            Final::NoCarrier => Ok(DialOutcome::NoCarrier),
            Final::NoDialtone => Ok(DialOutcome::NoDialtone),
            other => Err(Refusal::Rejected(other)),
        }
    })
    .dial()
}

/// A hang-up line from [`super::quirks::Quirks::hang_up`] (`AT+CHUP`, TS 27.007 §6.5, or
/// `ATH`, V.250 §6.3.6).
pub fn hang_up(line: &str) -> Cmd<()> {
    Cmd::new(line.to_owned(), &[], NETWORK_TIMEOUT, unit)
}

/// `AT+CLCC`: current calls (TS 27.007 §7.18).
pub fn calls() -> Cmd<Vec<Call>> {
    Cmd::new("AT+CLCC".into(), &["+CLCC:"], DEFAULT_TIMEOUT, |r| {
        Ok(voice::parse_clcc(&r.ok()?)?)
    })
}

/// `AT+CHLD=<n>` (TS 27.007 §7.13).
pub fn hold(action: HoldAction) -> Cmd<()> {
    Cmd::new(
        format!("AT+CHLD={}", action.code()),
        &[],
        NETWORK_TIMEOUT,
        unit,
    )
}

/// `AT+CHLD=?`: what the network offers.
pub fn hold_options() -> Cmd<HoldOptions> {
    Cmd::new("AT+CHLD=?".into(), &["+CHLD:"], DEFAULT_TIMEOUT, |r| {
        Ok(voice::parse_chld_test(&r.line("+CHLD:")?)?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(lines: &[&str]) -> Response {
        Response {
            info: lines.iter().map(|s| (*s).to_owned()).collect(),
            result: Final::Ok,
        }
    }

    #[test]
    fn lines_are_composed() {
        assert_eq!(verbose_errors().line(), "AT+CMEE=1");
        assert_eq!(pdu_mode().line(), "AT+CMGF=0");
        assert_eq!(list_messages(&Storage::Sim).line(), "AT+CMGL=4");
        assert_eq!(read_message(&Storage::Sim, 7).unwrap().line(), "AT+CMGR=7");
        assert_eq!(delete_message(0).unwrap().line(), "AT+CMGD=0");
        assert!(delete_message(u32::MAX).is_err());
        assert_eq!(send_length(23), "AT+CMGS=23");
        assert_eq!(
            use_storage(&Storage::Sim).line(),
            "AT+CPMS=\"SM\",\"SM\",\"SM\""
        );
        assert_eq!(operator_by_name().line(), "AT+COPS=3,0");
        let n = DialNumber::new("+447400123456").unwrap();
        assert_eq!(dial(&n).line(), "ATD+447400123456;");
        assert!(dial(&n).expect().dial);
        assert_eq!(hold(HoldAction::Release(1)).line(), "AT+CHLD=11");
    }

    #[test]
    fn pin_never_shown() {
        let cmd = enter_pin(&Pin::new("4321").unwrap());
        assert_eq!(cmd.line(), "AT+CPIN=\"4321\"");
        assert_eq!(cmd.shown(), "AT+CPIN=\"****\"");
        assert!(!format!("{cmd:?}").contains("4321"));
        let err = cmd
            .parse(Response {
                info: vec![],
                result: Final::Cme(ErrorCode::Code(16)),
            })
            .unwrap_err();
        assert!(!err.to_string().contains("4321"), "{err}");
        assert_eq!(err.cme(), Some(16));
    }

    #[test]
    fn identity_strips_prefixes_and_quotes() {
        assert_eq!(
            manufacturer().parse(ok(&["SIMCOM_Ltd"])).unwrap(),
            "SIMCOM_Ltd"
        );
        assert_eq!(
            manufacturer().parse(ok(&["+CGMI: \"Quectel\""])).unwrap(),
            "Quectel"
        );
        assert_eq!(
            imei().parse(ok(&["", "353456789012345"])).unwrap(),
            "353456789012345"
        );
        assert!(model().parse(ok(&[])).is_err());
    }

    #[test]
    fn results_and_refusals() {
        assert_eq!(
            signal().parse(ok(&["+CSQ: 20,99"])).unwrap().dbm(),
            Some(-73)
        );
        let refused = signal()
            .parse(Response {
                info: vec![],
                result: Final::Error,
            })
            .unwrap_err();
        assert_eq!(refused.result(), Some(&Final::Error));
        assert!(matches!(
            signal().parse(ok(&[])),
            Err(CommandError::Unexpected { .. })
        ));
        let empty = read_message(&Storage::Sim, 3).unwrap().parse(Response {
            info: vec![],
            result: Final::Cms(ErrorCode::Code(321)),
        });
        assert_eq!(empty, Ok(None));
        assert_eq!(
            read_message(&Storage::Sim, 3).unwrap().parse(ok(&[])),
            Ok(None)
        );
        let busy = CommandError::Rejected {
            command: "AT+CPMS?".into(),
            result: Final::Cms(ErrorCode::Code(314)),
        };
        assert!(busy.is_sim_busy());
    }

    #[test]
    fn dial_outcomes_are_typed() {
        let n = DialNumber::new("123").unwrap();
        let table = [
            (Final::Ok, DialOutcome::Dialling),
            (Final::Busy, DialOutcome::Busy),
            (Final::NoAnswer, DialOutcome::NoAnswer),
            (Final::NoCarrier, DialOutcome::NoCarrier),
            (Final::NoDialtone, DialOutcome::NoDialtone),
            (Final::Connect(String::new()), DialOutcome::Connected),
        ];
        for (result, want) in table {
            let got = dial(&n)
                .parse(Response {
                    info: vec![],
                    result,
                })
                .unwrap();
            assert_eq!(got, want);
        }
        assert!(
            dial(&n)
                .parse(Response {
                    info: vec![],
                    result: Final::Cme(ErrorCode::Code(30)),
                })
                .is_err()
        );
    }

    #[test]
    fn send_result_needs_a_reference() {
        assert_eq!(
            parse_send_result(&["+CMGS: 17".to_owned()]).unwrap(),
            MessageReference(17)
        );
        assert!(parse_send_result(&[]).is_err());
        assert!(parse_send_result(&["+CMGS: 99999".to_owned()]).is_err());
    }
}
