//! `config.toml`: read once at start, checked completely, turned into plain typed settings.
//!
//! On a site PC nobody watches, a misspelt key that is silently ignored is a bug that shows
//! up weeks later, so every table rejects unknown keys, and every value is checked here:
//! agent numbers normalised to E.164, the country known, the port named, numbers in range,
//! templates parsed. Each error names the file, the key with its section (`modem.baud`), the
//! line when there is one, what was expected and what was found.
//!
//! To add a section: a `Raw*` struct (every field an `Option`, `deny_unknown_fields`), a
//! typed `*Settings` struct, a few lines in [`Config::from_toml`], and its keys in the sample
//! `config.toml` at the top of the repository (a test fails until they are there).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::SignedDuration;
use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::service::access::ReplyLimits;
use crate::service::hours::BusinessHours;
use crate::service::phone::{self, DefaultCountry, E164};
use crate::service::reply::{Replies, ReplyOptions, Text, TextProblem};

/// The whole configuration, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The file it was read from (for messages).
    pub file: PathBuf,
    pub modem: ModemSettings,
    pub database: DatabaseSettings,
    pub drop: DropSettings,
    pub agent: AgentSettings,
    pub phone: PhoneSettings,
    /// `[limits]` replies per number and access-denied interval (the REQUEST page size is in
    /// [`Replies::options`]).
    pub limits: ReplyLimits,
    pub outbox: OutboxSettings,
    /// `[logging]`: how much is logged, where, and whether phone numbers are masked.
    pub logging: LoggingSettings,
    /// `[alerts]`: which problems are texted to supervisors, and how often at most.
    pub alerts: AlertSettings,
    /// `[messages]`, checked and ready to render.
    pub messages: Replies,
    /// Things that work but are probably not what was meant; log them at start.
    pub warnings: Vec<ConfigWarning>,
}

/// `[modem]`: how to open the serial port.
#[derive(Clone, PartialEq, Eq)]
pub struct ModemSettings {
    pub port: PathBuf,
    pub baud: u32,
    /// The SIM PIN, only when the SIM asks for one (`pin = ""` or no key: none).
    pub pin: Option<String>,
}

/// The PIN stays out of logs.
impl fmt::Debug for ModemSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModemSettings")
            .field("port", &self.port)
            .field("baud", &self.baud)
            .field("pin", &self.pin.as_ref().map(|_| "****"))
            .finish()
    }
}

/// `[database]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseSettings {
    pub path: PathBuf,
}

/// `[drop]`: the folder watched for CSV files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DropSettings {
    pub dir: PathBuf,
}

/// `[agent]`: who is called when an employee texts AGENT, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSettings {
    /// Empty: AGENT is answered with `messages.agent_unavailable` and nobody is called.
    /// Otherwise tried in this order, the next when one is busy or does not answer.
    pub numbers: Vec<E164>,
    pub mode: CallbackMode,
    /// How long a phone (agent's or employee's) rings before it counts as not answering.
    pub ring_timeout: Duration,
    /// Rounds of calls (every agent once) before the callback fails and the employee is told.
    pub max_attempts: u32,
    /// Wait after the first round in which nobody answered; it doubles for each further one.
    pub retry_backoff: Duration,
    /// When agents may be phoned, in the site's local time; outside them a callback waits
    /// and the employee is told when to expect it.
    pub hours: BusinessHours,
}

/// `[agent] mode`: what the modem does once an agent answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackMode {
    /// Hold the agent, dial the employee, join them (explicit call transfer, or a conference
    /// when the network refuses transfer). Falls back to `Ring` when the network offers
    /// neither (`AT+CHLD=?`).
    Bridge,
    /// Ring the agent so they read the SMS and call the employee from their own phone.
    Ring,
}

impl fmt::Display for CallbackMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CallbackMode::Bridge => "bridge",
            CallbackMode::Ring => "ring",
        })
    }
}

impl AgentSettings {
    /// The wait before the next round after `failed` rounds (1 or more): `retry_backoff`,
    /// doubled for each further round, at most a day.
    pub fn retry_delay(&self, failed: u32) -> Duration {
        let day = Duration::from_secs(24 * 3600);
        let doublings = failed.saturating_sub(1).min(31);
        self.retry_backoff
            .checked_mul(1 << doublings)
            .unwrap_or(day)
            .min(day)
    }
}

/// `[phone]`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhoneSettings {
    /// The country of numbers written without an international prefix.
    pub default_country: DefaultCountry,
}

/// `[outbox]`: how queued messages are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxSettings {
    /// Wait between two messages, so the operator does not take the SIM for a spammer.
    pub pause: Duration,
    /// Attempts before a message is marked failed.
    pub max_attempts: u32,
    /// Wait before the second attempt; it doubles for each further one.
    pub retry_backoff: Duration,
}

/// `[logging]`
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoggingSettings {
    /// The least severe level logged (`RUST_LOG`, when set, replaces it).
    pub level: LogLevel,
    /// Where log lines go.
    pub output: LogOutput,
    /// Show phone numbers in logs partly hidden (`+447*******56`): the journal of a shared
    /// PC is readable by more people than the database.
    pub mask_phones: bool,
}

/// A `[logging] level`, least to most verbose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    const NAMES: [(&'static str, LogLevel); 5] = [
        ("error", LogLevel::Error),
        ("warn", LogLevel::Warn),
        ("info", LogLevel::Info),
        ("debug", LogLevel::Debug),
        ("trace", LogLevel::Trace),
    ];

    /// The word, as `RUST_LOG` and the config write it.
    pub fn as_str(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, level)| *level == self)
            .map_or("info", |(name, _)| name)
    }
}

/// `[logging] output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogOutput {
    /// The journal when stderr is connected to it (running under systemd), otherwise stderr.
    Auto,
    /// The journal, with fields; stderr when journald cannot be reached.
    Journald,
    /// Plain lines on stderr.
    Stderr,
}

/// `[alerts]`: problems that need a human, texted to supervisors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertSettings {
    /// Who is texted. Empty: alerts are only logged and shown by `shiftsms status`.
    pub numbers: Vec<E164>,
    /// At the start of every alert, so a supervisor of several sites knows which one.
    pub site: String,
    /// The same alert is not raised again within this long.
    pub repeat_after: SignedDuration,
    /// Raise an alert when the SIM's message storage is at least this full, in percent.
    pub sim_storage_percent: u32,
    /// Raise an alert when the modem has been away this long.
    pub modem_gone_after: SignedDuration,
    /// Raise an alert when this many messages failed for good within `send_failures_window`
    /// and none was sent.
    pub send_failures: u32,
    pub send_failures_window: SignedDuration,
    /// Text the supervisors when a campaign's broadcast is over (offered, booked).
    pub campaign_finished: bool,
}

/// The longest wait between two attempts, however many were made.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(3600);

impl OutboxSettings {
    /// How long to wait after `failed` failed attempts (1 or more) before the next one:
    /// `retry_backoff`, doubled for each further failure, at most [`MAX_RETRY_DELAY`].
    pub fn retry_delay(&self, failed: u32) -> Duration {
        let doublings = failed.saturating_sub(1).min(31);
        self.retry_backoff
            .checked_mul(1 << doublings)
            .unwrap_or(MAX_RETRY_DELAY)
            .min(MAX_RETRY_DELAY)
    }
}

/// Something in the config that works but is probably a mistake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    pub file: PathBuf,
    pub key: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}: {}: {}",
            self.file.display(),
            at_line(self.line),
            self.key,
            self.message
        )
    }
}

/// Why the config cannot be used. Every variant names the file; all but `Read` name the key
/// (`Syntax` when the TOML reader got as far as one).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: cannot read the config file: {error}", file.display())]
    Read {
        file: PathBuf,
        error: std::io::Error,
    },
    #[error(
        "{}{}: this is not valid TOML{}: {message}",
        file.display(), at_line(*line), key.as_ref().map_or_else(String::new, |k| format!(" (at {k})"))
    )]
    Syntax {
        file: PathBuf,
        line: Option<usize>,
        /// The key the error is at, when the reader got that far.
        key: Option<String>,
        message: String,
    },
    /// Found by the TOML reader: an unknown key, or a value of the wrong type.
    #[error("{}{}: {key}: {message}", file.display(), at_line(*line))]
    Structure {
        file: PathBuf,
        line: Option<usize>,
        key: String,
        message: String,
    },
    #[error("{}: {key} is missing: add {}", file.display(), how_to_add(key, example))]
    Missing {
        file: PathBuf,
        key: String,
        example: String,
    },
    #[error("{}{}: {key}: expected {expected}, found {found}", file.display(), at_line(*line))]
    Invalid {
        file: PathBuf,
        line: Option<usize>,
        key: String,
        expected: String,
        found: String,
    },
    #[error("{}{}: {key}: {problem}", file.display(), at_line(*line))]
    Message {
        file: PathBuf,
        line: Option<usize>,
        key: String,
        problem: TextProblem,
    },
}

/// "`port = \"...\"` under [modem]" for key `modem.port`.
fn how_to_add(key: &str, example: &str) -> String {
    match key.rsplit_once('.') {
        Some((section, name)) => format!("`{name} = {example}` under [{section}]"),
        None => format!("`{key} = {example}`"),
    }
}

fn at_line(line: Option<usize>) -> String {
    line.map_or_else(String::new, |line| format!(":{line}"))
}

impl ConfigError {
    pub fn file(&self) -> &Path {
        match self {
            ConfigError::Read { file, .. }
            | ConfigError::Syntax { file, .. }
            | ConfigError::Structure { file, .. }
            | ConfigError::Missing { file, .. }
            | ConfigError::Invalid { file, .. }
            | ConfigError::Message { file, .. } => file,
        }
    }

    /// The key, with its section (`modem.baud`, `agent.numbers[1]`).
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Read { .. } => None,
            ConfigError::Syntax { key, .. } => key.as_deref(),
            ConfigError::Structure { key, .. }
            | ConfigError::Missing { key, .. }
            | ConfigError::Invalid { key, .. }
            | ConfigError::Message { key, .. } => Some(key),
        }
    }

    /// The line (from 1) the problem is on, when it is on one.
    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Read { .. } | ConfigError::Missing { .. } => None,
            ConfigError::Syntax { line, .. }
            | ConfigError::Structure { line, .. }
            | ConfigError::Invalid { line, .. }
            | ConfigError::Message { line, .. } => *line,
        }
    }
}

// ---------------------------------------------------------------------------------------
// The file as written: every key optional, so that a missing one is reported by name here
// rather than as serde's "missing field".

type Value<T> = Option<Spanned<T>>;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    modem: Option<RawModem>,
    database: Option<RawDatabase>,
    drop: Option<RawDrop>,
    agent: Option<RawAgent>,
    phone: Option<RawPhone>,
    limits: Option<RawLimits>,
    outbox: Option<RawOutbox>,
    logging: Option<RawLogging>,
    alerts: Option<RawAlerts>,
    messages: Option<RawMessages>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModem {
    port: Value<String>,
    baud: Value<i64>,
    pin: Value<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    path: Value<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDrop {
    dir: Value<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgent {
    numbers: Option<Vec<Spanned<String>>>,
    mode: Value<String>,
    ring_timeout: Value<String>,
    max_attempts: Value<i64>,
    retry_backoff: Value<String>,
    hours: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPhone {
    default_country: Value<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    replies_per_hour: Value<i64>,
    replies_per_day: Value<i64>,
    access_denied_interval: Value<String>,
    request_page_parts: Value<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutbox {
    pause: Value<String>,
    max_attempts: Value<i64>,
    retry_backoff: Value<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLogging {
    level: Value<String>,
    output: Value<String>,
    mask_phones: Value<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAlerts {
    numbers: Option<Vec<Spanned<String>>>,
    site: Value<String>,
    repeat_after: Value<String>,
    sim_storage_percent: Value<i64>,
    modem_gone_after: Value<String>,
    send_failures: Value<i64>,
    send_failures_window: Value<String>,
    campaign_finished: Value<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMessages {
    allow_unicode: Value<bool>,
    broadcast: Value<String>,
    agent_hint: Value<String>,
    request: Value<String>,
    request_page: Value<String>,
    request_last_page: Value<String>,
    request_entry: Value<String>,
    request_separator: Value<String>,
    no_shifts: Value<String>,
    booking: Value<String>,
    booking_secured: Value<String>,
    booking_already_yours: Value<String>,
    booking_taken: Value<String>,
    booking_unknown: Value<String>,
    booking_separator: Value<String>,
    invalid_code: Value<String>,
    stop: Value<String>,
    start: Value<String>,
    agent: Value<String>,
    agent_unavailable: Value<String>,
    agent_later: Value<String>,
    agent_note: Value<String>,
    agent_missed: Value<String>,
    agent_cut_off: Value<String>,
    agent_failed: Value<String>,
    help: Value<String>,
    not_understood: Value<String>,
    access_denied: Value<String>,
}

impl RawMessages {
    fn get(&self, text: Text) -> Option<&Spanned<String>> {
        match text {
            Text::Broadcast => &self.broadcast,
            Text::AgentHint => &self.agent_hint,
            Text::Request => &self.request,
            Text::RequestPage => &self.request_page,
            Text::RequestLastPage => &self.request_last_page,
            Text::RequestEntry => &self.request_entry,
            Text::RequestSeparator => &self.request_separator,
            Text::NoShifts => &self.no_shifts,
            Text::Booking => &self.booking,
            Text::BookingSecured => &self.booking_secured,
            Text::BookingAlreadyYours => &self.booking_already_yours,
            Text::BookingTaken => &self.booking_taken,
            Text::BookingUnknown => &self.booking_unknown,
            Text::BookingSeparator => &self.booking_separator,
            Text::InvalidCode => &self.invalid_code,
            Text::Stop => &self.stop,
            Text::Start => &self.start,
            Text::Agent => &self.agent,
            Text::AgentUnavailable => &self.agent_unavailable,
            Text::AgentLater => &self.agent_later,
            Text::AgentNote => &self.agent_note,
            Text::AgentMissed => &self.agent_missed,
            Text::AgentCutOff => &self.agent_cut_off,
            Text::AgentFailed => &self.agent_failed,
            Text::Help => &self.help,
            Text::NotUnderstood => &self.not_understood,
            Text::AccessDenied => &self.access_denied,
        }
        .as_ref()
    }
}

// ---------------------------------------------------------------------------------------
// Defaults and ranges.

const DEFAULT_BAUD: u32 = 115_200;
/// The rates termios can set; a USB modem ignores the rate, a real UART does not.
const BAUD_RATES: &[u32] = &[
    1200, 2400, 4800, 9600, 19_200, 38_400, 57_600, 115_200, 230_400, 460_800, 921_600,
];
const DEFAULT_RING_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_CALLBACK_ATTEMPTS: u32 = 3;
const DEFAULT_CALLBACK_BACKOFF: Duration = Duration::from_secs(300);
const DEFAULT_OUTBOX: OutboxSettings = OutboxSettings {
    pause: Duration::from_secs(1),
    max_attempts: 5,
    retry_backoff: Duration::from_secs(30),
};

const DEFAULT_LOGGING: LoggingSettings = LoggingSettings {
    level: LogLevel::Info,
    output: LogOutput::Auto,
    mask_phones: false,
};

/// `[alerts]` defaults other than the numbers.
const DEFAULT_SITE: &str = "shiftsms";
const DEFAULT_REPEAT_AFTER: SignedDuration = SignedDuration::from_hours(6);
const DEFAULT_SIM_STORAGE_PERCENT: u32 = 80;
const DEFAULT_MODEM_GONE_AFTER: SignedDuration = SignedDuration::from_mins(10);
const DEFAULT_SEND_FAILURES: u32 = 3;
const DEFAULT_SEND_FAILURES_WINDOW: SignedDuration = SignedDuration::from_hours(1);
/// Longest `[alerts] site`: it starts every alert, which should fit in one SMS.
const MAX_SITE_LEN: usize = 30;

/// Checks one file: knows its name and text, so every error can name the file and line.
struct Checker<'a> {
    file: &'a Path,
    text: &'a str,
    warnings: Vec<ConfigWarning>,
}

impl Checker<'_> {
    fn line<T>(&self, value: &Spanned<T>) -> Option<usize> {
        line_of(self.text, value.span().start)
    }

    fn invalid<T>(
        &self,
        key: &str,
        value: &Spanned<T>,
        expected: impl Into<String>,
        found: impl Into<String>,
    ) -> ConfigError {
        ConfigError::Invalid {
            file: self.file.to_path_buf(),
            line: self.line(value),
            key: key.to_string(),
            expected: expected.into(),
            found: found.into(),
        }
    }

    fn missing(&self, key: &str, example: &str) -> ConfigError {
        ConfigError::Missing {
            file: self.file.to_path_buf(),
            key: key.to_string(),
            example: example.to_string(),
        }
    }

    fn warn(&mut self, key: &str, line: Option<usize>, message: impl Into<String>) {
        self.warnings.push(ConfigWarning {
            file: self.file.to_path_buf(),
            key: key.to_string(),
            line,
            message: message.into(),
        });
    }

    /// A required, non-empty string.
    fn required<'v>(
        &self,
        key: &str,
        value: Option<&'v Spanned<String>>,
        example: &str,
    ) -> Result<&'v Spanned<String>, ConfigError> {
        let value = value.ok_or_else(|| self.missing(key, example))?;
        if value.get_ref().trim().is_empty() {
            return Err(self.invalid(key, value, format!("a value such as {example}"), "\"\""));
        }
        Ok(value)
    }

    /// An integer within `range`, or `default` when absent.
    fn integer(
        &self,
        key: &str,
        value: Option<&Spanned<i64>>,
        range: std::ops::RangeInclusive<u32>,
        default: u32,
    ) -> Result<u32, ConfigError> {
        let Some(value) = value else {
            return Ok(default);
        };
        u32::try_from(*value.get_ref())
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                self.invalid(
                    key,
                    value,
                    format!("a whole number from {} to {}", range.start(), range.end()),
                    value.get_ref().to_string(),
                )
            })
    }

    /// A duration such as "30s", "5m", "24h" or "1d", within `range`, or `default`.
    fn duration(
        &self,
        key: &str,
        value: Option<&Spanned<String>>,
        range: std::ops::RangeInclusive<SignedDuration>,
        default: SignedDuration,
    ) -> Result<SignedDuration, ConfigError> {
        let Some(value) = value else {
            return Ok(default);
        };
        let expected = || {
            format!(
                "a duration from {:#} to {:#}, written like \"30s\", \"5m\", \"24h\" or \"1d\"",
                range.start(),
                range.end()
            )
        };
        let found = format!("{:?}", value.get_ref());
        let parsed = parse_duration(value.get_ref())
            .ok_or_else(|| self.invalid(key, value, expected(), &found))?;
        if !range.contains(&parsed) {
            return Err(self.invalid(key, value, expected(), found));
        }
        Ok(parsed)
    }
}

/// "30s", "1h 30m", "PT1H", and days as 24 hours ("1d"), which `SignedDuration` alone refuses.
fn parse_duration(text: &str) -> Option<SignedDuration> {
    let text = text.trim();
    text.parse::<SignedDuration>().ok().or_else(|| {
        let span: jiff::Span = text.parse().ok()?;
        span.to_duration(jiff::SpanRelativeTo::days_are_24_hours())
            .ok()
    })
}

fn to_std(duration: SignedDuration) -> Duration {
    Duration::try_from(duration).unwrap_or(Duration::ZERO)
}

fn line_of(text: &str, offset: usize) -> Option<usize> {
    let before = text.get(..offset)?;
    Some(before.matches('\n').count() + 1)
}

/// The dotted key (`modem.baud`, `agent.numbers[1]`) whose name or value is at byte
/// `offset` of the document, found by walking the parsed tables and their spans.
fn key_at(table: &DeTable<'_>, offset: usize) -> Option<String> {
    let mut path = String::new();
    find_in_table(table, offset, &mut path).then_some(path)
}

fn find_in_table(table: &DeTable<'_>, offset: usize, path: &mut String) -> bool {
    for (key, value) in table.iter() {
        let before = path.len();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key.get_ref());
        if key.span().contains(&offset) || find_in_value(value, offset, path) {
            return true;
        }
        path.truncate(before);
    }
    false
}

fn find_in_value(value: &Spanned<DeValue<'_>>, offset: usize, path: &mut String) -> bool {
    let inside = match value.get_ref() {
        DeValue::Table(table) => find_in_table(table, offset, path),
        DeValue::Array(items) => items.iter().enumerate().any(|(i, item)| {
            let before = path.len();
            path.push_str(&format!("[{i}]"));
            let found = find_in_value(item, offset, path);
            if !found {
                path.truncate(before);
            }
            found
        }),
        _ => false,
    };
    inside || value.span().contains(&offset)
}

/// A duplicate key is left out of the recovered document, so name it after the key of the
/// same name written last before it.
fn duplicate_key(table: &DeTable<'_>, text: &str, span: std::ops::Range<usize>) -> Option<String> {
    let name = text.get(span.clone())?.trim();
    let mut best: Option<(usize, String)> = None;
    let mut path = String::new();
    visit_keys(table, &mut path, &mut |path, key_start, key| {
        let later = best.as_ref().is_none_or(|(s, _)| *s < key_start);
        if key == name && key_start < span.start && later {
            best = Some((key_start, path.to_string()));
        }
    });
    best.map(|(_, path)| path)
}

fn visit_keys(table: &DeTable<'_>, path: &mut String, visit: &mut dyn FnMut(&str, usize, &str)) {
    for (key, value) in table.iter() {
        let before = path.len();
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key.get_ref());
        visit(path, key.span().start, key.get_ref());
        if let DeValue::Table(inner) = value.get_ref() {
            visit_keys(inner, path, visit);
        }
        path.truncate(before);
    }
}

impl Config {
    /// Read and check `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
            file: path.to_path_buf(),
            error,
        })?;
        Config::from_toml(&text, path)
    }

    /// Check the TOML `text`, naming `file` in errors.
    pub fn from_toml(text: &str, file: &Path) -> Result<Config, ConfigError> {
        // The recovering parser still gives a document, so a duplicate key can be named.
        // Other syntax errors get only a line: what was recovered around them is a guess.
        let (document, errors) = DeTable::parse_recoverable(text);
        if let Some(err) = errors.first() {
            let span = err.span();
            return Err(ConfigError::Syntax {
                file: file.to_path_buf(),
                line: span.as_ref().and_then(|span| line_of(text, span.start)),
                key: span.and_then(|span| duplicate_key(document.get_ref(), text, span)),
                message: err.message().trim().to_string(),
            });
        }
        let raw: RawConfig = toml::from_str(text).map_err(|err| {
            let span = err.span();
            let key = span
                .as_ref()
                .and_then(|span| key_at(document.get_ref(), span.start))
                .unwrap_or_else(|| "(top level)".to_string());
            ConfigError::Structure {
                file: file.to_path_buf(),
                line: span.and_then(|span| line_of(text, span.start)),
                key,
                message: err
                    .message()
                    .trim()
                    .replace("unknown field", "unknown key")
                    .replace("invalid type: ", "wrong type: "),
            }
        })?;
        let mut check = Checker {
            file,
            text,
            warnings: Vec::new(),
        };
        let phone = phone_settings(&mut check, raw.phone.unwrap_or_default())?;
        let modem = modem_settings(&mut check, raw.modem.unwrap_or_default())?;
        let database = raw.database.unwrap_or_default();
        let database = DatabaseSettings {
            path: PathBuf::from(
                check
                    .required(
                        "database.path",
                        database.path.as_ref(),
                        "\"/var/lib/shiftsms/shiftsms.db\"",
                    )?
                    .get_ref()
                    .trim(),
            ),
        };
        let drop = raw.drop.unwrap_or_default();
        let drop = DropSettings {
            dir: PathBuf::from(
                check
                    .required("drop.dir", drop.dir.as_ref(), "\"/var/lib/shiftsms/drop\"")?
                    .get_ref()
                    .trim(),
            ),
        };
        let agent = agent_settings(&mut check, raw.agent.unwrap_or_default(), phone)?;
        let raw_limits = raw.limits.unwrap_or_default();
        let limits = reply_limits(&check, &raw_limits)?;
        let page_parts = check.integer(
            "limits.request_page_parts",
            raw_limits.request_page_parts.as_ref(),
            1..=10,
            ReplyOptions::default().page_parts as u32,
        )?;
        let outbox = outbox_settings(&check, raw.outbox.unwrap_or_default())?;
        let logging = logging_settings(&check, raw.logging.unwrap_or_default())?;
        let alerts = alert_settings(&mut check, raw.alerts.unwrap_or_default(), phone)?;
        let messages = messages(
            &mut check,
            raw.messages.unwrap_or_default(),
            ReplyOptions {
                agents_enabled: !agent.numbers.is_empty(),
                page_parts: page_parts as usize,
                allow_unicode: false,
            },
        )?;
        Ok(Config {
            file: file.to_path_buf(),
            modem,
            database,
            drop,
            agent,
            phone,
            limits,
            outbox,
            logging,
            alerts,
            messages,
            warnings: check.warnings,
        })
    }
}

fn phone_settings(check: &mut Checker<'_>, raw: RawPhone) -> Result<PhoneSettings, ConfigError> {
    let key = "phone.default_country";
    let Some(value) = raw.default_country.as_ref() else {
        check.warn(
            key,
            None,
            "not set: phone numbers must be written with their country code (+44...), and \
             texts from numbers the network gives without one cannot be answered; \
             set it, e.g. default_country = \"GB\"",
        );
        return Ok(PhoneSettings {
            default_country: DefaultCountry::NONE,
        });
    };
    let default_country = value.get_ref().parse::<DefaultCountry>().map_err(|_| {
        check.invalid(
            key,
            value,
            "a two-letter ISO 3166 country code such as GB, FR or IN",
            format!("{:?}", value.get_ref()),
        )
    })?;
    Ok(PhoneSettings { default_country })
}

fn modem_settings(check: &mut Checker<'_>, raw: RawModem) -> Result<ModemSettings, ConfigError> {
    let port = check.required(
        "modem.port",
        raw.port.as_ref(),
        "\"/dev/serial/by-id/usb-...-if00-port0\"",
    )?;
    let port_line = check.line(port);
    let port = PathBuf::from(port.get_ref().trim());
    let name = port.to_string_lossy();
    if name.starts_with("/dev/ttyUSB") || name.starts_with("/dev/ttyACM") {
        check.warn(
            "modem.port",
            port_line,
            format!(
                "{name} can change when the modem is plugged in again or another USB device \
                 appears; use the stable name under /dev/serial/by-id/ instead"
            ),
        );
    }
    let baud = match raw.baud.as_ref() {
        None => DEFAULT_BAUD,
        Some(value) => u32::try_from(*value.get_ref())
            .ok()
            .filter(|rate| BAUD_RATES.contains(rate))
            .ok_or_else(|| {
                let rates: Vec<String> = BAUD_RATES.iter().map(u32::to_string).collect();
                check.invalid(
                    "modem.baud",
                    value,
                    format!("one of {}", rates.join(", ")),
                    value.get_ref().to_string(),
                )
            })?,
    };
    let pin = match raw.pin.as_ref() {
        Some(value) if !value.get_ref().is_empty() => {
            let pin = value.get_ref();
            // 3GPP TS 31.101 §9.4: a PIN is 4 to 8 digits. Never echo it back.
            if !(4..=8).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
                let shape = if pin.bytes().all(|b| b.is_ascii_digit()) {
                    format!("{} digits", pin.len())
                } else {
                    "characters that are not digits".to_string()
                };
                return Err(check.invalid(
                    "modem.pin",
                    value,
                    "4 to 8 digits in quotes, or \"\" when the SIM has no PIN",
                    shape,
                ));
            }
            Some(pin.clone())
        }
        _ => None,
    };
    Ok(ModemSettings { port, baud, pin })
}

fn agent_settings(
    check: &mut Checker<'_>,
    raw: RawAgent,
    phone: PhoneSettings,
) -> Result<AgentSettings, ConfigError> {
    let numbers = phone_numbers(check, "agent.numbers", raw.numbers, phone)?;
    let signed = |d: Duration| SignedDuration::try_from(d).unwrap_or(SignedDuration::ZERO);
    let mode = match raw.mode.as_ref() {
        None => CallbackMode::Bridge,
        Some(value) => match value.get_ref().trim().to_ascii_lowercase().as_str() {
            "bridge" => CallbackMode::Bridge,
            "ring" => CallbackMode::Ring,
            _ => {
                return Err(check.invalid(
                    "agent.mode",
                    value,
                    "\"bridge\" or \"ring\"",
                    format!("{:?}", value.get_ref()),
                ));
            }
        },
    };
    let ring_timeout = check.duration(
        "agent.ring_timeout",
        raw.ring_timeout.as_ref(),
        SignedDuration::from_secs(1)..=SignedDuration::from_mins(5),
        signed(DEFAULT_RING_TIMEOUT),
    )?;
    let max_attempts = check.integer(
        "agent.max_attempts",
        raw.max_attempts.as_ref(),
        1..=10,
        DEFAULT_CALLBACK_ATTEMPTS,
    )?;
    let retry_backoff = check.duration(
        "agent.retry_backoff",
        raw.retry_backoff.as_ref(),
        SignedDuration::from_secs(1)..=SignedDuration::from_hours(24),
        signed(DEFAULT_CALLBACK_BACKOFF),
    )?;
    let windows = raw.hours.unwrap_or_default();
    let hours = BusinessHours::parse(&windows.iter().map(|w| w.get_ref()).collect::<Vec<_>>())
        .map_err(|(i, err)| {
            let value = &windows[i];
            check.invalid(
                &format!("agent.hours[{i}]"),
                value,
                format!("a window like \"Mon-Fri 08:00-18:00\" ({err})"),
                format!("{:?}", value.get_ref()),
            )
        })?;
    Ok(AgentSettings {
        numbers,
        mode,
        ring_timeout: to_std(ring_timeout),
        max_attempts,
        retry_backoff: to_std(retry_backoff),
        hours,
    })
}

/// A list of phone numbers (`agent.numbers`, `alerts.numbers`), normalised to E.164; a number
/// listed twice is kept once, with a warning.
fn phone_numbers(
    check: &mut Checker<'_>,
    section_key: &str,
    raw: Option<Vec<Spanned<String>>>,
    phone: PhoneSettings,
) -> Result<Vec<E164>, ConfigError> {
    let mut numbers: Vec<E164> = Vec::new();
    for (i, value) in raw.unwrap_or_default().iter().enumerate() {
        let key = format!("{section_key}[{i}]");
        let number = phone::normalise(value.get_ref(), phone.default_country).map_err(|err| {
            check.invalid(
                &key,
                value,
                "a phone number such as \"+447400123456\"",
                err.to_string(),
            )
        })?;
        if numbers.contains(&number) {
            let line = check.line(value);
            check.warn(&key, line, format!("{number} is listed twice"));
        } else {
            numbers.push(number);
        }
    }
    Ok(numbers)
}

fn logging_settings(check: &Checker<'_>, raw: RawLogging) -> Result<LoggingSettings, ConfigError> {
    let level = match raw.level.as_ref() {
        None => DEFAULT_LOGGING.level,
        Some(value) => {
            let word = value.get_ref().trim().to_ascii_lowercase();
            LogLevel::NAMES
                .iter()
                .find(|(name, _)| *name == word)
                .map(|(_, level)| *level)
                .ok_or_else(|| {
                    check.invalid(
                        "logging.level",
                        value,
                        "one of \"error\", \"warn\", \"info\", \"debug\", \"trace\" (RUST_LOG \
                         takes finer settings)",
                        format!("{:?}", value.get_ref()),
                    )
                })?
        }
    };
    let output = match raw.output.as_ref() {
        None => DEFAULT_LOGGING.output,
        Some(value) => match value.get_ref().trim().to_ascii_lowercase().as_str() {
            "auto" => LogOutput::Auto,
            "journald" => LogOutput::Journald,
            "stderr" => LogOutput::Stderr,
            _ => {
                return Err(check.invalid(
                    "logging.output",
                    value,
                    "\"auto\", \"journald\" or \"stderr\"",
                    format!("{:?}", value.get_ref()),
                ));
            }
        },
    };
    let mask_phones = raw
        .mask_phones
        .as_ref()
        .map_or(DEFAULT_LOGGING.mask_phones, |v| *v.get_ref());
    Ok(LoggingSettings {
        level,
        output,
        mask_phones,
    })
}

fn alert_settings(
    check: &mut Checker<'_>,
    raw: RawAlerts,
    phone: PhoneSettings,
) -> Result<AlertSettings, ConfigError> {
    let numbers = phone_numbers(check, "alerts.numbers", raw.numbers, phone)?;
    let site = match raw.site.as_ref() {
        None => DEFAULT_SITE.to_string(),
        Some(value) => {
            let site = value.get_ref().trim();
            let gsm = crate::modem::pdu::gsm7::plan(site).encoding
                == crate::modem::pdu::gsm7::Encoding::Gsm7;
            if site.is_empty() || site.chars().count() > MAX_SITE_LEN || !gsm {
                return Err(check.invalid(
                    "alerts.site",
                    value,
                    format!(
                        "a short name (1 to {MAX_SITE_LEN} characters of the GSM alphabet), \
                         e.g. \"Leeds warehouse\""
                    ),
                    format!("{:?}", value.get_ref()),
                ));
            }
            site.to_string()
        }
    };
    let repeat_after = check.duration(
        "alerts.repeat_after",
        raw.repeat_after.as_ref(),
        SignedDuration::from_mins(10)..=SignedDuration::from_hours(24 * 7),
        DEFAULT_REPEAT_AFTER,
    )?;
    let sim_storage_percent = check.integer(
        "alerts.sim_storage_percent",
        raw.sim_storage_percent.as_ref(),
        1..=100,
        DEFAULT_SIM_STORAGE_PERCENT,
    )?;
    let modem_gone_after = check.duration(
        "alerts.modem_gone_after",
        raw.modem_gone_after.as_ref(),
        SignedDuration::from_mins(1)..=SignedDuration::from_hours(24),
        DEFAULT_MODEM_GONE_AFTER,
    )?;
    let send_failures = check.integer(
        "alerts.send_failures",
        raw.send_failures.as_ref(),
        1..=1000,
        DEFAULT_SEND_FAILURES,
    )?;
    let send_failures_window = check.duration(
        "alerts.send_failures_window",
        raw.send_failures_window.as_ref(),
        SignedDuration::from_mins(10)..=SignedDuration::from_hours(24),
        DEFAULT_SEND_FAILURES_WINDOW,
    )?;
    let campaign_finished = raw.campaign_finished.as_ref().is_none_or(|v| *v.get_ref());
    Ok(AlertSettings {
        numbers,
        site,
        repeat_after,
        sim_storage_percent,
        modem_gone_after,
        send_failures,
        send_failures_window,
        campaign_finished,
    })
}

fn reply_limits(check: &Checker<'_>, raw: &RawLimits) -> Result<ReplyLimits, ConfigError> {
    let defaults = ReplyLimits::default();
    let per_hour = check.integer(
        "limits.replies_per_hour",
        raw.replies_per_hour.as_ref(),
        1..=1000,
        defaults.per_hour,
    )?;
    let per_day = check.integer(
        "limits.replies_per_day",
        raw.replies_per_day.as_ref(),
        1..=10_000,
        defaults.per_day.max(per_hour),
    )?;
    if let Some(value) = raw.replies_per_day.as_ref().filter(|_| per_day < per_hour) {
        return Err(check.invalid(
            "limits.replies_per_day",
            value,
            format!("at least limits.replies_per_hour ({per_hour})"),
            per_day.to_string(),
        ));
    }
    let access_denied_interval = check.duration(
        "limits.access_denied_interval",
        raw.access_denied_interval.as_ref(),
        SignedDuration::from_mins(1)..=SignedDuration::from_hours(24 * 365),
        defaults.access_denied_interval,
    )?;
    Ok(ReplyLimits {
        per_hour,
        per_day,
        access_denied_interval,
    })
}

fn outbox_settings(check: &Checker<'_>, raw: RawOutbox) -> Result<OutboxSettings, ConfigError> {
    let signed = |d: Duration| SignedDuration::try_from(d).unwrap_or(SignedDuration::ZERO);
    let pause = check.duration(
        "outbox.pause",
        raw.pause.as_ref(),
        SignedDuration::ZERO..=SignedDuration::from_secs(60),
        signed(DEFAULT_OUTBOX.pause),
    )?;
    let max_attempts = check.integer(
        "outbox.max_attempts",
        raw.max_attempts.as_ref(),
        1..=20,
        DEFAULT_OUTBOX.max_attempts,
    )?;
    let retry_backoff = check.duration(
        "outbox.retry_backoff",
        raw.retry_backoff.as_ref(),
        SignedDuration::from_secs(1)..=SignedDuration::from_hours(1),
        signed(DEFAULT_OUTBOX.retry_backoff),
    )?;
    Ok(OutboxSettings {
        pause: to_std(pause),
        max_attempts,
        retry_backoff: to_std(retry_backoff),
    })
}

fn messages(
    check: &mut Checker<'_>,
    raw: RawMessages,
    options: ReplyOptions,
) -> Result<Replies, ConfigError> {
    let options = ReplyOptions {
        allow_unicode: raw.allow_unicode.as_ref().is_some_and(|v| *v.get_ref()),
        ..options
    };
    let overrides: Vec<(Text, String)> = Text::ALL
        .iter()
        .filter_map(|&text| Some((text, raw.get(text)?.get_ref().clone())))
        .collect();
    let line_of_text = |check: &Checker<'_>, text: Text| raw.get(text).and_then(|v| check.line(v));
    let (replies, warnings) =
        Replies::new(overrides, options).map_err(|err| ConfigError::Message {
            file: check.file.to_path_buf(),
            line: line_of_text(check, err.text),
            key: err.text.to_string(),
            problem: err.problem,
        })?;
    for warning in warnings {
        let line = line_of_text(check, warning.text);
        check.warn(&warning.text.to_string(), line, warning.message());
    }
    Ok(replies)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_path() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml")
    }

    /// The required keys only.
    const MINIMAL: &str = r#"
[modem]
port = "/dev/shiftsms-modem"
[database]
path = "/var/lib/shiftsms/shiftsms.db"
[drop]
dir = "/var/lib/shiftsms/drop"
[phone]
default_country = "GB"
"#;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::from_toml(text, Path::new("/etc/shiftsms/config.toml"))
    }

    /// MINIMAL with `line` added under `[section]` (the section is created if absent).
    fn with(section: &str, line: &str) -> String {
        let header = format!("[{section}]\n");
        match MINIMAL.find(&header) {
            Some(at) => {
                let mut text = MINIMAL.to_string();
                text.insert_str(at + header.len(), &format!("{line}\n"));
                text
            }
            None => format!("{MINIMAL}{header}{line}\n"),
        }
    }

    #[test]
    fn default_country_is_optional_and_its_absence_is_explained() {
        let config = parse(&MINIMAL.replace("default_country = \"GB\"", "")).unwrap();
        assert_eq!(config.phone.default_country, DefaultCountry::NONE);
        let warning = &config.warnings[0];
        assert_eq!(warning.key, "phone.default_country");
        assert!(warning.message.contains("country code"), "{warning:?}");
        // National agent numbers cannot be read without it: the error says so.
        let err = parse(
            &(MINIMAL.replace("default_country = \"GB\"", "")
                + "[agent]\nnumbers = [\"07400 123456\"]\n"),
        )
        .unwrap_err();
        assert_eq!(err.key(), Some("agent.numbers[0]"));
        assert!(err.to_string().contains("default_country"), "{err}");
    }

    #[test]
    fn sample_loads_without_warnings() {
        let config = Config::load(&sample_path()).unwrap();
        assert_eq!(config.warnings, vec![]);
        assert_eq!(config.modem.baud, 115_200);
        assert_eq!(config.modem.pin, None);
        assert_eq!(config.phone.default_country.iso_code(), Some("GB"));
        assert_eq!(config.agent.numbers, vec![]);
        assert_eq!(
            config.database.path,
            Path::new("/var/lib/shiftsms/shiftsms.db")
        );
    }

    /// Every optional value in the sample is the default: the sample documents the defaults
    /// and cannot drift from them.
    #[test]
    fn sample_shows_the_defaults() {
        let sample = Config::load(&sample_path()).unwrap();
        let minimal = parse(MINIMAL).unwrap();
        assert_eq!(
            Config {
                file: sample.file.clone(),
                ..minimal
            },
            sample
        );
        assert_eq!(sample.outbox, DEFAULT_OUTBOX);
        assert_eq!(sample.logging, DEFAULT_LOGGING);
        assert_eq!(
            sample.alerts,
            AlertSettings {
                numbers: vec![],
                site: DEFAULT_SITE.into(),
                repeat_after: DEFAULT_REPEAT_AFTER,
                sim_storage_percent: DEFAULT_SIM_STORAGE_PERCENT,
                modem_gone_after: DEFAULT_MODEM_GONE_AFTER,
                send_failures: DEFAULT_SEND_FAILURES,
                send_failures_window: DEFAULT_SEND_FAILURES_WINDOW,
                campaign_finished: true,
            }
        );
        assert_eq!(sample.limits, ReplyLimits::default());
        assert_eq!(sample.messages, Replies::defaults(ReplyOptions::default()));
    }

    /// Every key the config types accept appears in the sample, and the sample has no other.
    #[test]
    fn sample_has_every_key() {
        let text = std::fs::read_to_string(sample_path()).unwrap();
        let document = DeTable::parse(&text).unwrap();
        let mut in_sample = Vec::new();
        for (section, value) in document.get_ref().iter() {
            match value.get_ref() {
                DeValue::Table(table) => {
                    for (key, _) in table.iter() {
                        in_sample.push(format!("{}.{}", section.get_ref(), key.get_ref()));
                    }
                }
                _ => in_sample.push(section.get_ref().to_string()),
            }
        }
        in_sample.sort();
        let all = probe::keys::<RawConfig>();
        // Keys, not the sections that hold them.
        let mut in_types: Vec<String> = all
            .iter()
            .filter(|key| {
                !all.iter()
                    .any(|other| other.starts_with(&format!("{key}.")))
            })
            .cloned()
            .collect();
        in_types.sort();
        assert_eq!(in_sample, in_types);
        // And every message text has its key (RawMessages::get is exhaustive over Text).
        for text in Text::ALL {
            assert!(in_types.contains(&text.to_string()), "{text}");
        }
    }

    #[test]
    fn typed_settings() {
        let text = with(
            "agent",
            r#"numbers = ["07400 123456", "+33 6 12 34 56 78"]
mode = "Ring"
ring_timeout = "20s"
max_attempts = 2
retry_backoff = "1m"
hours = ["Mon-Fri 08:00-18:00"]"#,
        )
        .replace("[modem]\n", "[modem]\nbaud = 9600\npin = \"0000\"\n")
            + "[outbox]\npause = \"250ms\"\nmax_attempts = 3\nretry_backoff = \"1m\"\n"
            + "[limits]\naccess_denied_interval = \"1d\"\nreplies_per_hour = 40\n";
        let config = parse(&text).unwrap();
        assert_eq!(config.modem.baud, 9600);
        assert_eq!(config.modem.pin.as_deref(), Some("0000"));
        assert!(!format!("{:?}", config.modem).contains("0000"));
        let numbers: Vec<&str> = config.agent.numbers.iter().map(E164::as_str).collect();
        assert_eq!(numbers, ["+447400123456", "+33612345678"]);
        assert!(config.messages.options().agents_enabled);
        assert_eq!(config.agent.mode, CallbackMode::Ring);
        assert_eq!(config.agent.ring_timeout, Duration::from_secs(20));
        assert_eq!(config.agent.max_attempts, 2);
        assert_eq!(config.agent.retry_delay(1), Duration::from_secs(60));
        assert_eq!(config.agent.retry_delay(3), Duration::from_secs(240));
        assert_eq!(config.agent.retry_delay(40), Duration::from_secs(24 * 3600));
        assert_eq!(config.agent.hours.to_string(), "Mon-Fri 08:00-18:00");
        assert_eq!(config.outbox.pause, Duration::from_millis(250));
        assert_eq!(config.outbox.max_attempts, 3);
        assert_eq!(
            config.limits.access_denied_interval,
            SignedDuration::from_hours(24)
        );
        // replies_per_day follows replies_per_hour up when it is not set.
        assert_eq!((config.limits.per_hour, config.limits.per_day), (40, 40));
    }

    #[test]
    fn logging_and_alert_settings() {
        let text = MINIMAL.to_string()
            + "[logging]\nlevel = \"Debug\"\noutput = \"stderr\"\nmask_phones = true\n"
            + "[alerts]\nnumbers = [\"07400 123456\", \"+447400123456\"]\nsite = \"Leeds DC\"\n\
               repeat_after = \"1h\"\nsim_storage_percent = 90\nmodem_gone_after = \"5m\"\n\
               send_failures = 10\nsend_failures_window = \"2h\"\ncampaign_finished = false\n";
        let config = parse(&text).unwrap();
        assert_eq!(
            config.logging,
            LoggingSettings {
                level: LogLevel::Debug,
                output: LogOutput::Stderr,
                mask_phones: true,
            }
        );
        assert_eq!(config.logging.level.as_str(), "debug");
        let alerts = &config.alerts;
        let numbers: Vec<&str> = alerts.numbers.iter().map(E164::as_str).collect();
        assert_eq!(numbers, ["+447400123456"]);
        assert!(
            config.warnings.iter().any(|w| w.key == "alerts.numbers[1]"),
            "{:?}",
            config.warnings
        );
        assert_eq!(alerts.site, "Leeds DC");
        assert_eq!(alerts.repeat_after, SignedDuration::from_hours(1));
        assert_eq!(alerts.sim_storage_percent, 90);
        assert_eq!(alerts.modem_gone_after, SignedDuration::from_mins(5));
        assert_eq!(alerts.send_failures, 10);
        assert_eq!(alerts.send_failures_window, SignedDuration::from_hours(2));
        assert!(!alerts.campaign_finished);

        for (section, line, key, expected) in [
            (
                "logging",
                "level = \"verbose\"",
                "logging.level",
                "one of \"error\"",
            ),
            (
                "logging",
                "output = \"syslog\"",
                "logging.output",
                "\"auto\", \"journald\"",
            ),
            (
                "alerts",
                "numbers = [\"12\"]",
                "alerts.numbers[0]",
                "a phone number",
            ),
            ("alerts", "site = \"\"", "alerts.site", "a short name"),
            (
                "alerts",
                "site = \"Café “Nord”\"",
                "alerts.site",
                "GSM alphabet",
            ),
            (
                "alerts",
                "sim_storage_percent = 0",
                "alerts.sim_storage_percent",
                "1 to 100",
            ),
            (
                "alerts",
                "modem_gone_after = \"10s\"",
                "alerts.modem_gone_after",
                "from 1m",
            ),
            (
                "alerts",
                "repeat_after = \"soon\"",
                "alerts.repeat_after",
                "a duration",
            ),
        ] {
            let text = format!("{MINIMAL}[{section}]\n{line}\n");
            let err = parse(&text).unwrap_err();
            assert_eq!(err.key(), Some(key), "{line}: {err}");
            assert!(err.to_string().contains(expected), "{line}: {err}");
        }
    }

    #[test]
    fn retry_delay_doubles_up_to_an_hour() {
        let outbox = DEFAULT_OUTBOX;
        let delays: Vec<u64> = [1, 2, 3, 4, 8, 100]
            .map(|n| outbox.retry_delay(n).as_secs())
            .to_vec();
        assert_eq!(delays, [30, 60, 120, 240, 3600, 3600]);
        assert_eq!(outbox.retry_delay(0).as_secs(), 30);
    }

    #[test]
    fn warnings() {
        let text = MINIMAL.replace("/dev/shiftsms-modem", "/dev/ttyUSB2")
            + "[agent]\nnumbers = [\"+447400123456\", \"07400 123456\"]\n"
            + "[messages]\nstop = \""
            + &"Stopped. ".repeat(20)
            + "\"\n";
        let config = parse(&text).unwrap();
        let found: Vec<(&str, Option<usize>)> = config
            .warnings
            .iter()
            .map(|w| (w.key.as_str(), w.line))
            .collect();
        assert_eq!(
            found,
            [
                ("modem.port", Some(3)),
                ("agent.numbers[1]", Some(11)),
                ("messages.stop", Some(13)),
            ]
        );
        let shown = config.warnings[2].to_string();
        assert!(
            shown.starts_with("/etc/shiftsms/config.toml:13: messages.stop: this text costs 2"),
            "{shown}"
        );
    }

    #[test]
    fn missing_file() {
        let err = Config::load(Path::new("/nonexistent/shiftsms.toml")).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }));
        assert_eq!(err.file(), Path::new("/nonexistent/shiftsms.toml"));
        let shown = err.to_string();
        assert!(
            shown.starts_with("/nonexistent/shiftsms.toml: cannot read"),
            "{shown}"
        );
    }

    /// Each kind of mistake: (config text, key named, line, words the message must contain).
    #[test]
    fn mistakes_name_file_key_and_line() {
        type Case = (
            String,
            Option<&'static str>,
            Option<usize>,
            &'static [&'static str],
        );
        let cases: Vec<Case> = vec![
            // TOML syntax.
            (
                "[modem\nport = \"x\"\n".into(),
                None,
                Some(1),
                &["not valid TOML"],
            ),
            (
                with("modem", "baud = 9600\nbaud = 9600"),
                Some("modem.baud"),
                Some(4),
                &["duplicate key"],
            ),
            (
                with("modem", "pin = \"1234"),
                None,
                Some(3),
                &["not valid TOML"],
            ),
            // Unknown keys, at the top and in a section.
            (
                format!("colour = \"blue\"\n{MINIMAL}"),
                Some("colour"),
                Some(1),
                &["unknown key `colour`"],
            ),
            (
                with("modem", "bud = 9600"),
                Some("modem.bud"),
                Some(3),
                &["unknown key `bud`", "`baud`"],
            ),
            (
                format!("{MINIMAL}[modems]\nport = \"x\"\n"),
                Some("modems"),
                Some(10),
                &["unknown key `modems`"],
            ),
            (
                with("messages", "stopp = \"Bye\""),
                Some("messages.stopp"),
                Some(11),
                &["unknown key `stopp`"],
            ),
            // Wrong types.
            (
                with("modem", "baud = \"fast\""),
                Some("modem.baud"),
                Some(3),
                &["wrong type", "\"fast\""],
            ),
            (
                with("modem", "pin = 1234"),
                Some("modem.pin"),
                Some(3),
                &["wrong type", "1234", "string"],
            ),
            (
                with("agent", "numbers = \"+447400123456\""),
                Some("agent.numbers"),
                Some(11),
                &["wrong type"],
            ),
            (
                with("agent", "numbers = [\"+447400123456\", 447400654321]"),
                Some("agent.numbers[1]"),
                Some(11),
                &["wrong type"],
            ),
            (
                with("messages", "allow_unicode = \"yes\""),
                Some("messages.allow_unicode"),
                Some(11),
                &["wrong type"],
            ),
            (
                format!(
                    "modem = 3\n{}",
                    &MINIMAL[MINIMAL.find("[database]").unwrap()..]
                ),
                Some("modem"),
                Some(1),
                &["wrong type"],
            ),
            // Missing required keys.
            (
                MINIMAL.replace("[modem]\nport", "[modem]\n#port"),
                Some("modem.port"),
                None,
                &["missing", "port = "],
            ),
            (String::new(), Some("modem.port"), None, &["missing"]),
            // Bad values.
            (
                with("modem", "baud = 0"),
                Some("modem.baud"),
                Some(3),
                &["expected one of", "115200", "found 0"],
            ),
            (
                with("modem", "baud = 12345"),
                Some("modem.baud"),
                Some(3),
                &["found 12345"],
            ),
            (
                MINIMAL.replace("port = \"/dev", "port = \" \" #"),
                Some("modem.port"),
                Some(3),
                &["found \"\""],
            ),
            (
                with("modem", "pin = \"12\""),
                Some("modem.pin"),
                Some(3),
                &["4 to 8 digits", "found 2 digits"],
            ),
            (
                with("modem", "pin = \"12ab\""),
                Some("modem.pin"),
                Some(3),
                &["not digits"],
            ),
            (
                MINIMAL.replace("\"GB\"", "\"XX\""),
                Some("phone.default_country"),
                Some(9),
                &["ISO 3166", "found \"XX\""],
            ),
            (
                with("agent", "numbers = [\"+447400123456\", \"call Bob\"]"),
                Some("agent.numbers[1]"),
                Some(11),
                &["phone number", "\"call Bob\""],
            ),
            (
                with("agent", "mode = \"conference\""),
                Some("agent.mode"),
                Some(11),
                &["\"bridge\" or \"ring\"", "found \"conference\""],
            ),
            (
                with("agent", "ring_timeout = \"10m\""),
                Some("agent.ring_timeout"),
                Some(11),
                &["a duration from 1s to 5m"],
            ),
            (
                with("agent", "max_attempts = 0"),
                Some("agent.max_attempts"),
                Some(11),
                &["1 to 10"],
            ),
            (
                with(
                    "agent",
                    "hours = [\"Mon-Fri 08:00-18:00\",\n  \"Sat 22:00-02:00\"]",
                ),
                Some("agent.hours[1]"),
                Some(12),
                &["must end after it starts", "found \"Sat 22:00-02:00\""],
            ),
            (
                with("agent", "numbers = [\"12345\"]"),
                Some("agent.numbers[0]"),
                Some(11),
                &["not a valid"],
            ),
            (
                with("limits", "replies_per_hour = 0"),
                Some("limits.replies_per_hour"),
                Some(11),
                &["1 to 1000", "found 0"],
            ),
            (
                with("limits", "replies_per_hour = -5"),
                Some("limits.replies_per_hour"),
                Some(11),
                &["found -5"],
            ),
            (
                with("limits", "replies_per_hour = 20\nreplies_per_day = 10"),
                Some("limits.replies_per_day"),
                Some(12),
                &["at least limits.replies_per_hour (20)", "found 10"],
            ),
            (
                with("limits", "access_denied_interval = \"soon\""),
                Some("limits.access_denied_interval"),
                Some(11),
                &["a duration", "\"soon\""],
            ),
            (
                with("limits", "access_denied_interval = \"10s\""),
                Some("limits.access_denied_interval"),
                Some(11),
                &["from 1m"],
            ),
            (
                with("limits", "request_page_parts = 11"),
                Some("limits.request_page_parts"),
                Some(11),
                &["1 to 10"],
            ),
            (
                with("outbox", "pause = \"2m\""),
                Some("outbox.pause"),
                Some(11),
                &["found \"2m\""],
            ),
            (
                with("outbox", "max_attempts = 0"),
                Some("outbox.max_attempts"),
                Some(11),
                &["1 to 20"],
            ),
            (
                with("outbox", "retry_backoff = \"0s\""),
                Some("outbox.retry_backoff"),
                Some(11),
                &["from 1s"],
            ),
            // Templates.
            (
                with("messages", "broadcast = \"Shifts: {shift}\""),
                Some("messages.broadcast"),
                Some(11),
                &["{shift}", "{shifts}"],
            ),
            (
                with("messages", "broadcast = \"No shifts in here\""),
                Some("messages.broadcast"),
                Some(11),
                &["must contain {shifts}"],
            ),
            (
                with("messages", "stop = \"\""),
                Some("messages.stop"),
                Some(11),
                &["must not be empty"],
            ),
            (
                with("messages", "stop = \"You’re unsubscribed\""),
                Some("messages.stop"),
                Some(11),
                &["U+2019", "write ' instead", "allow_unicode"],
            ),
            (
                with(
                    "messages",
                    "request_page = \"{shifts}{next}\"\nhelp = \"Help {codes}\"",
                ),
                Some("messages.help"),
                Some(12),
                &["{codes}", "{agent_hint}"],
            ),
        ];
        let mut failures = Vec::new();
        for (text, key, line, words) in cases {
            let err = match parse(&text) {
                Ok(_) => {
                    failures.push(format!("accepted:\n{text}"));
                    continue;
                }
                Err(err) => err,
            };
            let shown = err.to_string();
            let ok = err.file() == Path::new("/etc/shiftsms/config.toml")
                && shown.starts_with("/etc/shiftsms/config.toml")
                && err.key() == key
                && err.line() == line
                && key.is_none_or(|key| shown.contains(key))
                && words.iter().all(|word| shown.contains(word));
            if !ok {
                failures.push(format!(
                    "want key {key:?} line {line:?} words {words:?}, got key {:?} line {:?}:\n  \
                     {shown}\nfor:\n{text}",
                    err.key(),
                    err.line()
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    }

    #[test]
    fn unicode_allowed_on_request() {
        let text = with("messages", "allow_unicode = true\nstop = \"Вы отписаны\"");
        let config = parse(&text).unwrap();
        assert_eq!(config.messages.stop(), "Вы отписаны");
    }

    #[test]
    fn durations() {
        let cases = [
            ("30s", Some(30)),
            ("5m", Some(300)),
            ("1h 30m", Some(5400)),
            ("24h", Some(86_400)),
            ("1d", Some(86_400)),
            ("2 days", Some(172_800)),
            ("PT1H", Some(3600)),
            (" 1s ", Some(1)),
            ("soon", None),
            ("", None),
            ("1mo", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_duration(text).map(|d| d.as_secs()), want, "{text:?}");
        }
    }

    /// Lists the keys a `Deserialize` type accepts by deserializing it from a deserializer
    /// that records every struct field it is asked for (and answers "empty" to everything).
    mod probe {
        use std::cell::RefCell;

        use serde::de::value::{BorrowedStrDeserializer, Error};
        use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
        use serde::forward_to_deserialize_any;

        pub fn keys<'de, T: serde::Deserialize<'de>>() -> Vec<String> {
            let found = RefCell::new(Vec::new());
            T::deserialize(Probe {
                path: String::new(),
                found: &found,
            })
            .unwrap();
            found.into_inner()
        }

        struct Probe<'a> {
            path: String,
            found: &'a RefCell<Vec<String>>,
        }

        impl<'de> Deserializer<'de> for Probe<'_> {
            type Error = Error;

            fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
                Err(de::Error::custom(format!(
                    "probe: unexpected type at {}",
                    self.path
                )))
            }
            fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
                v.visit_some(self)
            }
            fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
                v.visit_bool(false)
            }
            fn deserialize_i64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
                v.visit_i64(0)
            }
            fn deserialize_u64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
                v.visit_u64(0)
            }
            fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
                v.visit_str("")
            }
            fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
                v.visit_str("")
            }
            fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
                v.visit_seq(
                    de::value::SeqDeserializer::<std::iter::Empty<()>, Error>::new(
                        std::iter::empty(),
                    ),
                )
            }
            fn deserialize_struct<V: Visitor<'de>>(
                self,
                name: &'static str,
                fields: &'static [&'static str],
                v: V,
            ) -> Result<V::Value, Error> {
                // toml::Spanned<T> is a struct of start, end and the value: look through it.
                let spanned = name.starts_with("$__serde_spanned");
                if !spanned {
                    for field in fields {
                        self.found.borrow_mut().push(join(&self.path, field));
                    }
                }
                v.visit_map(Fields {
                    fields,
                    next: 0,
                    spanned,
                    path: self.path,
                    found: self.found,
                })
            }
            forward_to_deserialize_any! {
                i8 i16 i32 i128 u8 u16 u32 u128 f32 f64 char bytes byte_buf unit
                unit_struct newtype_struct tuple tuple_struct map enum identifier
                ignored_any
            }
        }

        fn join(path: &str, field: &str) -> String {
            if path.is_empty() {
                field.to_string()
            } else {
                format!("{path}.{field}")
            }
        }

        struct Fields<'a> {
            fields: &'static [&'static str],
            next: usize,
            spanned: bool,
            path: String,
            found: &'a RefCell<Vec<String>>,
        }

        impl<'de> MapAccess<'de> for Fields<'_> {
            type Error = Error;

            fn next_key_seed<K: DeserializeSeed<'de>>(
                &mut self,
                seed: K,
            ) -> Result<Option<K::Value>, Error> {
                let Some(field) = self.fields.get(self.next) else {
                    return Ok(None);
                };
                seed.deserialize(BorrowedStrDeserializer::new(field))
                    .map(Some)
            }

            fn next_value_seed<V: DeserializeSeed<'de>>(
                &mut self,
                seed: V,
            ) -> Result<V::Value, Error> {
                let field = self.fields[self.next];
                self.next += 1;
                let path = if self.spanned {
                    self.path.clone()
                } else {
                    join(&self.path, field)
                };
                seed.deserialize(Probe {
                    path,
                    found: self.found,
                })
            }
        }
    }
}
