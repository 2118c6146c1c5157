//! Where log lines go, and how phone numbers appear in them.
//!
//! Under systemd the daemon logs to the journal with structured fields (`PHONE`, `OUTBOX_ID`,
//! `INBOUND_ID`, `CAMPAIGN_ID`, `SHIFT_CODES`, `MODEM_STATE`, ...: `journalctl -u shiftsms
//! CAMPAIGN_ID=week-48`); anywhere else it writes plain lines to stderr. "Under systemd" is
//! what systemd.exec(5) says to look for: `JOURNAL_STREAM` naming the device and inode of our
//! stderr (stderr is connected to the journal), or, failing that, `INVOCATION_ID` (we are a
//! unit) with stderr not a terminal. journald may still be unreachable (a container, a test):
//! then lines go to stderr, and the first one says why.
//!
//! Phone numbers are logged through [`phone`] and [`sender`], which hide the middle digits
//! when `[logging] mask_phones` is on: the journal of a shared office PC is readable by more
//! people than the database. The switch is process-wide, set once by [`init`].

use std::ffi::OsStr;
use std::fmt;
use std::io::IsTerminal;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{LogOutput, LoggingSettings};
use crate::service::phone::{E164, Sender};

static MASK_PHONES: AtomicBool = AtomicBool::new(false);

/// Where lines are to go, decided from the config and the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Journald,
    Stderr,
}

/// What the process's environment says about its stderr.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Surroundings {
    /// `JOURNAL_STREAM` names our stderr's device and inode.
    pub stderr_is_journal: bool,
    /// `INVOCATION_ID` is set: systemd started us as a unit.
    pub systemd_unit: bool,
    /// stderr is a terminal (a person is watching: colours, and never the journal on `auto`).
    pub stderr_is_terminal: bool,
}

impl Surroundings {
    /// Read from this process: its environment and its stderr.
    pub fn detect() -> Surroundings {
        let stderr = std::io::stderr();
        let id = stderr
            .as_fd()
            .try_clone_to_owned()
            .ok()
            .and_then(|fd| std::fs::File::from(fd).metadata().ok())
            .map(|meta| (meta.dev(), meta.ino()));
        Surroundings {
            stderr_is_journal: stream_matches(std::env::var_os("JOURNAL_STREAM").as_deref(), id),
            systemd_unit: std::env::var_os("INVOCATION_ID").is_some_and(|id| !id.is_empty()),
            stderr_is_terminal: stderr.is_terminal(),
        }
    }
}

/// Whether `JOURNAL_STREAM` (`<device>:<inode>`, in decimal) names the file `stderr` is
/// (device, inode). A value inherited from a parent whose stderr went elsewhere does not match,
/// which is the point of comparing (systemd.exec(5), "JOURNAL_STREAM").
pub fn stream_matches(journal_stream: Option<&OsStr>, stderr: Option<(u64, u64)>) -> bool {
    let (Some(value), Some((dev, ino))) = (journal_stream.and_then(OsStr::to_str), stderr) else {
        return false;
    };
    let Some((d, i)) = value.trim().split_once(':') else {
        return false;
    };
    d.parse() == Ok(dev) && i.parse() == Ok(ino)
}

/// `[logging] output` applied to where we are.
pub fn choose(output: LogOutput, here: &Surroundings) -> Want {
    match output {
        LogOutput::Journald => Want::Journald,
        LogOutput::Stderr => Want::Stderr,
        LogOutput::Auto if here.stderr_is_journal => Want::Journald,
        LogOutput::Auto if here.systemd_unit && !here.stderr_is_terminal => Want::Journald,
        LogOutput::Auto => Want::Stderr,
    }
}

/// Where lines actually go.
pub enum Sink {
    Journald(Box<tracing_journald::Layer>),
    Stderr {
        /// Leave out the time: the journal (stderr's destination) stamps each line itself.
        timestamps: bool,
        /// Colours, for a person at a terminal only.
        ansi: bool,
        /// Why the journal was wanted but not used, said in the first line.
        fallback: Option<String>,
    },
}

impl fmt::Debug for Sink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sink::Journald(_) => f.write_str("Journald"),
            Sink::Stderr {
                timestamps,
                ansi,
                fallback,
            } => f
                .debug_struct("Stderr")
                .field("timestamps", timestamps)
                .field("ansi", ansi)
                .field("fallback", fallback)
                .finish(),
        }
    }
}

/// The sink for `want`: the journal if `connect` reaches journald, stderr otherwise (FIELD-NOTES:
/// `tracing_journald::layer()` fails when journald is not running).
pub fn sink(
    want: Want,
    here: &Surroundings,
    connect: impl FnOnce() -> std::io::Result<tracing_journald::Layer>,
) -> Sink {
    let stderr = |fallback| Sink::Stderr {
        timestamps: !here.stderr_is_journal,
        ansi: here.stderr_is_terminal,
        fallback,
    };
    match want {
        Want::Stderr => stderr(None),
        Want::Journald => match connect() {
            Ok(layer) => Sink::Journald(Box::new(layer)),
            Err(err) => stderr(Some(format!(
                "journald cannot be reached ({err}): logging to stderr instead"
            ))),
        },
    }
}

/// The journald layer as shiftsms uses it: identified as `shiftsms`, and fields under their
/// own names (`PHONE=`, not `F_PHONE=`; none of ours collides with a journal field).
pub fn journald() -> std::io::Result<tracing_journald::Layer> {
    Ok(tracing_journald::layer()?
        .with_field_prefix(None)
        .with_syslog_identifier("shiftsms".into()))
}

/// `RUST_LOG` when it is set and valid, else `default` (a level word).
fn filter(default: &str) -> EnvFilter {
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default))
}

/// Install the logger for `shiftsms run`, as `[logging]` says. Returns where lines go.
pub fn init(settings: &LoggingSettings) -> Want {
    MASK_PHONES.store(settings.mask_phones, Ordering::Relaxed);
    let here = Surroundings::detect();
    let sink = sink(choose(settings.output, &here), &here, journald);
    install(sink, settings.level.as_str())
}

/// Install a logger on stderr (the demo and one-shot commands), `RUST_LOG` overriding
/// `default`.
pub fn init_stderr(default: &str) {
    let here = Surroundings::detect();
    install(sink(Want::Stderr, &here, journald), default);
}

fn install(sink: Sink, level: &str) -> Want {
    let registry = tracing_subscriber::registry().with(filter(level));
    match sink {
        Sink::Journald(layer) => {
            // A second logger (a test calling twice) is refused; the first one stays.
            let _ = registry.with(*layer).try_init();
            Want::Journald
        }
        Sink::Stderr {
            timestamps,
            ansi,
            fallback,
        } => {
            let layer = tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(ansi);
            let _ = if timestamps {
                registry.with(layer).try_init()
            } else {
                registry.with(layer.without_time()).try_init()
            };
            if let Some(why) = fallback {
                tracing::warn!("{why}");
            }
            Want::Stderr
        }
    }
}

/// `number` with its middle digits hidden: the `+`, the first three digits (the country and
/// the start of the network) and the last two (enough for someone who knows the employees to
/// tell which one). `+447400123456` is shown `+447*******56`.
pub fn masked(number: &str) -> String {
    let digits: Vec<char> = number.trim_start_matches('+').chars().collect();
    let plus = if number.starts_with('+') { "+" } else { "" };
    if digits.len() <= 5 {
        return format!("{plus}{}", "*".repeat(digits.len()));
    }
    let head: String = digits[..3].iter().collect();
    let tail: String = digits[digits.len() - 2..].iter().collect();
    format!("{plus}{head}{}{tail}", "*".repeat(digits.len() - 5))
}

/// Whether `[logging] mask_phones` is on (for a number that is not an [`E164`] yet).
pub fn masking() -> bool {
    MASK_PHONES.load(Ordering::Relaxed)
}

/// A phone number as it may be logged: see [`phone`].
#[derive(Debug, Clone, Copy)]
pub struct ShownPhone<'a> {
    number: &'a E164,
    mask: bool,
}

/// A phone number for a log line, masked when `[logging] mask_phones` is on:
/// `tracing::info!(phone = %logging::phone(&to), "...")`.
pub fn phone(number: &E164) -> ShownPhone<'_> {
    ShownPhone {
        number,
        mask: masking(),
    }
}

impl fmt::Display for ShownPhone<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mask {
            f.write_str(&masked(self.number.as_str()))
        } else {
            fmt::Display::fmt(self.number, f)
        }
    }
}

/// Free text for a log line (an error, a reason) that may name phone numbers: see [`scrub`].
#[derive(Debug, Clone, Copy)]
pub struct Scrubbed<T> {
    text: T,
    mask: bool,
}

/// `text` with every phone number in it (`+` and 7 to 15 digits, as shiftsms writes them)
/// masked like [`phone`] when `[logging] mask_phones` is on: for errors and reasons that
/// name a recipient, an agent or an employee.
pub fn scrub<T: fmt::Display>(text: T) -> Scrubbed<T> {
    Scrubbed {
        text,
        mask: masking(),
    }
}

/// [`scrub`]'s work on a string.
pub fn scrubbed(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(plus) = rest.find('+') {
        out.push_str(&rest[..plus]);
        let after = &rest[plus + 1..];
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        if (7..=15).contains(&digits) {
            out.push_str(&masked(&rest[plus..plus + 1 + digits]));
        } else {
            out.push_str(&rest[plus..plus + 1 + digits]);
        }
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

impl<T: fmt::Display> fmt::Display for Scrubbed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mask {
            f.write_str(&scrubbed(&self.text.to_string()))
        } else {
            self.text.fmt(f)
        }
    }
}

/// A sender as it may be logged: see [`sender`].
#[derive(Debug, Clone, Copy)]
pub struct ShownSender<'a> {
    sender: &'a Sender,
    mask: bool,
}

/// Who sent a text, for a log line: a phone number masked like [`phone`]; a short code or an
/// operator's name as it is (they are not people).
pub fn sender(sender: &Sender) -> ShownSender<'_> {
    ShownSender {
        sender,
        mask: masking(),
    }
}

impl fmt::Display for ShownSender<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.sender, self.mask) {
            (Sender::Phone(number), mask) => fmt::Display::fmt(&ShownPhone { number, mask }, f),
            (Sender::Unrecognised(address), true) => {
                write!(f, "{} (unrecognised)", masked(address))
            }
            (Sender::Unrecognised(address), false) => write!(f, "{address} (unrecognised)"),
            (Sender::ShortCode(code), _) => write!(f, "{code} (short code)"),
            (Sender::Alphanumeric(name), _) => write!(f, "{name} (alphanumeric)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(text: &str) -> E164 {
        E164::from_international(text).unwrap()
    }

    #[test]
    fn journal_stream_must_name_our_stderr() {
        let ours = Some((2049, 7_340_123));
        let matches = |value: &str| stream_matches(Some(OsStr::new(value)), ours);
        assert!(matches("2049:7340123"));
        assert!(matches(" 2049:7340123\n"));
        // Inherited from a parent whose stderr went to the journal, ours goes elsewhere.
        assert!(!matches("2049:7340124"));
        assert!(!matches("8:7340123"));
        for junk in ["", "2049", "2049:", ":7340123", "a:b", "2049:7340123:1"] {
            assert!(!matches(junk), "{junk:?}");
        }
        assert!(!stream_matches(None, ours));
        assert!(!stream_matches(Some(OsStr::new("2049:7340123")), None));
    }

    #[test]
    fn auto_means_the_journal_only_under_systemd() {
        let here = |stderr_is_journal, systemd_unit, stderr_is_terminal| Surroundings {
            stderr_is_journal,
            systemd_unit,
            stderr_is_terminal,
        };
        let table = [
            // (stderr is the journal, a unit, a terminal) -> auto
            ((true, true, false), Want::Journald),
            ((true, false, false), Want::Journald),
            ((false, true, false), Want::Journald),
            // `systemd-run --pty`: a unit, but a person watches.
            ((false, true, true), Want::Stderr),
            ((false, false, true), Want::Stderr),
            ((false, false, false), Want::Stderr),
        ];
        for ((journal, unit, terminal), want) in table {
            let here = here(journal, unit, terminal);
            assert_eq!(choose(LogOutput::Auto, &here), want, "{here:?}");
            assert_eq!(choose(LogOutput::Stderr, &here), Want::Stderr);
            assert_eq!(choose(LogOutput::Journald, &here), Want::Journald);
        }
    }

    #[test]
    fn falls_back_to_stderr_when_journald_is_absent() {
        let here = Surroundings {
            stderr_is_journal: true,
            systemd_unit: true,
            stderr_is_terminal: false,
        };
        let absent = || {
            Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "No such file or directory",
            ))
        };
        match sink(Want::Journald, &here, absent) {
            Sink::Stderr {
                timestamps,
                ansi,
                fallback: Some(why),
            } => {
                // stderr still ends in the journal, which stamps each line itself.
                assert!(!timestamps);
                assert!(!ansi);
                assert!(why.contains("journald cannot be reached"), "{why}");
                assert!(why.contains("No such file or directory"), "{why}");
            }
            other => panic!("expected stderr with a reason, got {other:?}"),
        }
        // Stderr asked for: journald is not even tried.
        let never = || -> std::io::Result<tracing_journald::Layer> {
            panic!("journald should not be tried")
        };
        let terminal = Surroundings {
            stderr_is_terminal: true,
            ..Surroundings::default()
        };
        assert!(matches!(
            sink(Want::Stderr, &terminal, never),
            Sink::Stderr {
                timestamps: true,
                ansi: true,
                fallback: None
            }
        ));
    }

    #[test]
    fn masking_keeps_the_country_and_the_last_two_digits() {
        let table = [
            ("+447400123456", "+447*******56"),
            ("+33612345678", "+336******78"),
            ("+12025550123", "+120******23"),
            ("+3530", "+****"),
            ("40404", "*****"),
            ("8613800138000", "861********00"),
        ];
        for (number, shown) in table {
            assert_eq!(masked(number), shown, "{number}");
            assert_eq!(masked(number).len(), number.len(), "{number}");
        }
    }

    #[test]
    fn numbers_in_free_text_are_scrubbed() {
        let table = [
            (
                "queueing a reply to +447400123456: database is locked",
                "queueing a reply to +447*******56: database is locked",
            ),
            (
                "agent +447400111111 answered; call +33612345678 back",
                "agent +447*******11 answered; call +336******78 back",
            ),
            // Not phone numbers: too short, or no plus.
            (
                "+CMS ERROR: 500, rssi +31, 447400123456",
                "+CMS ERROR: 500, rssi +31, 447400123456",
            ),
            ("ends with a plus +", "ends with a plus +"),
            ("", ""),
        ];
        for (text, shown) in table {
            assert_eq!(scrubbed(text), shown, "{text}");
            assert_eq!(Scrubbed { text, mask: true }.to_string(), shown);
            assert_eq!(Scrubbed { text, mask: false }.to_string(), text);
        }
    }

    #[test]
    fn shown_phones_and_senders() {
        let ann = e164("+447400123456");
        let show = |mask| ShownPhone { number: &ann, mask }.to_string();
        assert_eq!(show(false), "+447400123456");
        assert_eq!(show(true), "+447*******56");
        let cases = [
            (Sender::Phone(ann.clone()), "+447*******56", "+447400123456"),
            (
                Sender::ShortCode("40404".into()),
                "40404 (short code)",
                "40404 (short code)",
            ),
            (
                Sender::Alphanumeric("Vodafone".into()),
                "Vodafone (alphanumeric)",
                "Vodafone (alphanumeric)",
            ),
            (
                Sender::Unrecognised("0074001234".into()),
                "007*****34 (unrecognised)",
                "0074001234 (unrecognised)",
            ),
        ];
        for (sender, masked, plain) in &cases {
            let shown = |mask| ShownSender { sender, mask }.to_string();
            assert_eq!(shown(true), *masked);
            assert_eq!(shown(false), *plain);
        }
    }
}
