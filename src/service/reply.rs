//! Every text shiftsms sends, rendered from the `[messages]` templates of config.toml, with
//! the cost of each SMS in mind (3GPP TS 23.038: 160 GSM 7-bit characters per SMS, 153 per
//! part of a longer one, but only 70 / 67 once one character needs UCS-2).
//!
//! The defaults are the original solution's texts where it had one (broadcast, agent hint,
//! "There are no shifts at this time", "This is not a valid shift code...",
//! "Request summary - Shift booked: ...", "NOT-AUTHORISED...").
//!
//! Checks at load ([`Replies::new`]):
//! - every placeholder is one the text knows, and the essential ones are present;
//! - **a character outside the GSM alphabet is an error** unless `allow_unicode = true`. One
//!   curly quote pasted from Word makes every SMS of that text UCS-2: half the characters per
//!   SMS, so twice the bill, on a PC nobody watches. A warning in a journal nobody reads would
//!   not stop that; a site whose language needs such characters sets one key;
//! - a page of the REQUEST listing must hold at least one shift;
//! - a fixed reply costing more than one SMS, or a broadcast whose fixed text costs more than
//!   two, is a warning ([`TextWarning`]).

use std::fmt;

use crate::modem::pdu::gsm7;
use crate::service::booking::BookingOutcome;
use crate::service::shift_code::{MAX_LEN, ShiftCode};
use crate::service::template::{Placeholder, Template, TemplateError};

use Placeholder as P;

/// Every configurable text; [`Text::key`] is its key in `[messages]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Text {
    Broadcast,
    AgentHint,
    Request,
    RequestPage,
    RequestLastPage,
    RequestEntry,
    RequestSeparator,
    NoShifts,
    Booking,
    BookingSecured,
    BookingAlreadyYours,
    BookingTaken,
    BookingUnknown,
    BookingSeparator,
    InvalidCode,
    Stop,
    Start,
    Agent,
    AgentUnavailable,
    AgentLater,
    AgentNote,
    AgentMissed,
    AgentCutOff,
    AgentFailed,
    Help,
    NotUnderstood,
    AccessDenied,
}

/// How a text is checked.
struct Spec {
    key: &'static str,
    default: &'static str,
    allowed: &'static [Placeholder],
    required: &'static [Placeholder],
    may_be_empty: bool,
    /// Warn when the text, rendered with short sample values, costs more SMS parts.
    warn_above_parts: Option<usize>,
}

const fn spec(key: &'static str, default: &'static str) -> Spec {
    Spec {
        key,
        default,
        allowed: &[],
        required: &[],
        may_be_empty: false,
        warn_above_parts: None,
    }
}

/// A reply sent on its own: more than one SMS doubles the cost of every one of them.
const fn reply(key: &'static str, default: &'static str) -> Spec {
    Spec {
        warn_above_parts: Some(1),
        ..spec(key, default)
    }
}

impl Text {
    pub const ALL: [Text; 27] = [
        Text::Broadcast,
        Text::AgentHint,
        Text::Request,
        Text::RequestPage,
        Text::RequestLastPage,
        Text::RequestEntry,
        Text::RequestSeparator,
        Text::NoShifts,
        Text::Booking,
        Text::BookingSecured,
        Text::BookingAlreadyYours,
        Text::BookingTaken,
        Text::BookingUnknown,
        Text::BookingSeparator,
        Text::InvalidCode,
        Text::Stop,
        Text::Start,
        Text::Agent,
        Text::AgentUnavailable,
        Text::AgentLater,
        Text::AgentNote,
        Text::AgentMissed,
        Text::AgentCutOff,
        Text::AgentFailed,
        Text::Help,
        Text::NotUnderstood,
        Text::AccessDenied,
    ];

    /// The key in `[messages]`.
    pub fn key(self) -> &'static str {
        self.spec().key
    }

    /// The built-in text, used when config.toml does not set one.
    pub fn default_text(self) -> &'static str {
        self.spec().default
    }

    /// The placeholders this text may use.
    pub fn placeholders(self) -> &'static [Placeholder] {
        self.spec().allowed
    }

    fn spec(self) -> Spec {
        const SECTION: &[Placeholder] = &[P::Count, P::Codes];
        match self {
            Text::Broadcast => Spec {
                allowed: &[P::Shifts, P::AgentHint],
                required: &[P::Shifts],
                warn_above_parts: Some(2),
                ..spec(
                    "broadcast",
                    "Available shifts: {shifts}. To secure a shift reply by typing the codes \
                     separated by comma e.g. XYZ123, XYZ222. Text REQUEST to receive all \
                     available shifts or STOP to stop receiving such notifications.{agent_hint}",
                )
            },
            Text::AgentHint => Spec {
                may_be_empty: true,
                ..spec(
                    "agent_hint",
                    " If you want to speak to an agent text AGENT and what you need help with.",
                )
            },
            Text::Request => Spec {
                allowed: &[P::Shifts],
                required: &[P::Shifts],
                ..spec("request", "These are the shifts available:\n{shifts}")
            },
            Text::RequestPage => Spec {
                allowed: &[P::Shifts, P::Page, P::Pages, P::Next],
                required: &[P::Shifts, P::Next],
                ..spec(
                    "request_page",
                    "Shifts available ({page}/{pages}):\n{shifts}\nText REQUEST {next} for more.",
                )
            },
            Text::RequestLastPage => Spec {
                allowed: &[P::Shifts, P::Page, P::Pages],
                required: &[P::Shifts],
                ..spec(
                    "request_last_page",
                    "Shifts available ({page}/{pages}):\n{shifts}",
                )
            },
            Text::RequestEntry => Spec {
                allowed: &[P::Code, P::Info],
                required: &[P::Code],
                ..spec("request_entry", "{code} {info}")
            },
            Text::RequestSeparator => spec("request_separator", "\n"),
            Text::NoShifts => reply("no_shifts", "There are no shifts at this time"),
            Text::Booking => Spec {
                allowed: &[P::Summary],
                required: &[P::Summary],
                warn_above_parts: Some(1),
                ..spec("booking", "Request summary - {summary}")
            },
            Text::BookingSecured => Spec {
                allowed: SECTION,
                required: &[P::Codes],
                ..spec("booking_secured", "Shift booked ({count}): {codes}")
            },
            Text::BookingAlreadyYours => Spec {
                allowed: SECTION,
                required: &[P::Codes],
                ..spec("booking_already_yours", "Already yours ({count}): {codes}")
            },
            Text::BookingTaken => Spec {
                allowed: SECTION,
                required: &[P::Codes],
                ..spec("booking_taken", "Shift taken ({count}): {codes}")
            },
            Text::BookingUnknown => Spec {
                allowed: SECTION,
                required: &[P::Codes],
                ..spec("booking_unknown", "Shift doesn't exist ({count}): {codes}")
            },
            Text::BookingSeparator => spec("booking_separator", " | "),
            Text::InvalidCode => reply(
                "invalid_code",
                "This is not a valid shift code, please reply by typing REQUEST to view the \
                 available shifts",
            ),
            Text::Stop => reply(
                "stop",
                "You will no longer receive shift notifications. Text START to receive them \
                 again.",
            ),
            Text::Start => reply(
                "start",
                "You will receive shift notifications again. Text STOP to stop them.",
            ),
            Text::Agent => reply(
                "agent",
                "Thank you, an agent will call you back as soon as possible.",
            ),
            Text::AgentUnavailable => reply(
                "agent_unavailable",
                "Sorry, agents cannot be reached by text. Please call your supervisor or the \
                 site office.",
            ),
            Text::AgentLater => Spec {
                allowed: &[P::When],
                required: &[P::When],
                ..reply(
                    "agent_later",
                    "Thank you. No agent is available now; one will call you back from {when}.",
                )
            },
            Text::AgentNote => Spec {
                allowed: &[P::Name, P::Phone, P::Request],
                required: &[P::Phone],
                ..reply(
                    "agent_note",
                    "Callback request from {name} {phone}: \"{request}\". We are phoning you to \
                     put you through; if we cannot, please call them back.",
                )
            },
            Text::AgentMissed => Spec {
                allowed: &[P::Name, P::Phone],
                required: &[P::Phone],
                ..reply(
                    "agent_missed",
                    "{name} {phone} did not answer when we phoned to put you through. Please \
                     call them back later.",
                )
            },
            Text::AgentCutOff => Spec {
                allowed: &[P::Name, P::Phone],
                required: &[P::Phone],
                ..reply(
                    "agent_cut_off",
                    "The call putting you through to {name} {phone} was cut off. If you are not \
                     talking to them now, please call them back.",
                )
            },
            Text::AgentFailed => reply(
                "agent_failed",
                "Sorry, we could not reach an agent. Please call your supervisor or the site \
                 office.",
            ),
            Text::Help => Spec {
                allowed: &[P::AgentHint],
                ..reply(
                    "help",
                    "Reply with shift codes to book them, e.g. XYZ123, XYZ222. REQUEST: list \
                     available shifts. STOP: no more offers. START: offers again. AGENT: talk \
                     to someone.",
                )
            },
            Text::NotUnderstood => reply(
                "not_understood",
                "Sorry, your message was not understood. To book, reply with only the shift \
                 codes e.g. XYZ123, XYZ222. Text REQUEST to view the available shifts.",
            ),
            Text::AccessDenied => Spec {
                may_be_empty: true,
                ..reply(
                    "access_denied",
                    "NOT-AUTHORISED please contact the administrator",
                )
            },
        }
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "messages.{}", self.key())
    }
}

/// Settings from other sections that the texts depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyOptions {
    /// `[agent] numbers` is not empty: `{agent_hint}` is filled in and AGENT is acknowledged.
    pub agents_enabled: bool,
    /// Most SMS parts one page of the REQUEST listing may cost (`limits.request_page_parts`).
    pub page_parts: usize,
    /// Characters outside the GSM alphabet are accepted in templates (`messages.allow_unicode`).
    pub allow_unicode: bool,
}

impl Default for ReplyOptions {
    fn default() -> Self {
        ReplyOptions {
            agents_enabled: false,
            page_parts: 3,
            allow_unicode: false,
        }
    }
}

/// A text that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text}: {problem}")]
pub struct TextError {
    pub text: Text,
    pub problem: TextProblem,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextProblem {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("it must not be empty")]
    Empty,
    #[error(
        "{} is not in the GSM 7-bit alphabet, so every SMS of this text would be sent as UCS-2 \
         (70 characters per SMS instead of 160){}; or set messages.allow_unicode = true if your \
         texts need such characters",
        describe(*.character, *.at), suggest(*.character)
    )]
    NotGsm { character: char, at: usize },
    #[error(
        "one shift does not fit on a page of {page_parts} SMS part(s) with this text \
         (raise limits.request_page_parts or shorten the text)"
    )]
    PageTooSmall { page_parts: usize },
}

fn describe(c: char, at: usize) -> String {
    format!("{c:?} (U+{:04X}) at character {at}", c as u32)
}

/// The GSM replacement for what word processors and phones type instead of ASCII.
fn gsm_substitute(c: char) -> Option<&'static str> {
    Some(match c {
        '‘' | '’' | '‚' | '‛' | '′' | '`' | '´' => "'",
        '“' | '”' | '„' | '‟' | '″' => "\"",
        '–' | '—' | '‒' | '−' | '‐' | '‑' => "-",
        '…' => "...",
        '\u{A0}' | '\u{202F}' | '\u{2009}' | '\t' => " (a plain space)",
        '•' | '·' => "*",
        _ => return None,
    })
}

fn suggest(c: char) -> String {
    gsm_substitute(c).map_or_else(String::new, |s| format!("; write {s} instead"))
}

/// A text that works but costs more than it should.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextWarning {
    pub text: Text,
    pub parts: usize,
    pub limit: usize,
}

impl TextWarning {
    /// The warning without the key.
    pub fn message(&self) -> String {
        format!(
            "this text costs {} SMS parts (more than {}) every time it is sent",
            self.parts, self.limit
        )
    }
}

impl fmt::Display for TextWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.text, self.message())
    }
}

/// One available shift, as listed by REQUEST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub code: ShiftCode,
    /// The scheduler's `shift_info`; line breaks are shown as spaces.
    pub info: String,
}

/// One page of the REQUEST listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub text: String,
    /// The page shown (a page past the end shows the last one), from 1.
    pub page: u32,
    pub pages: u32,
}

/// Most characters of an employee's request quoted in the agent's note: enough to say what
/// it is about, while the note stays within two SMS parts.
pub const NOTE_REQUEST_CHARS: usize = 100;

/// The employee a callback is for, as the agent's texts name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller<'a> {
    /// From `employees.name`; `None` when the row has no name.
    pub name: Option<&'a str>,
    /// E.164.
    pub phone: &'a str,
}

impl Caller<'_> {
    fn name(&self) -> &str {
        match self.name.map(str::trim) {
            Some(name) if !name.is_empty() => name,
            _ => "employee",
        }
    }
}

/// `text` on one line (line breaks and runs of spaces become one space), cut to `max`
/// characters with "..." when longer.
fn one_line(text: &str, max: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        return flat;
    }
    let kept: String = flat.chars().take(max.saturating_sub(3)).collect();
    format!("{}...", kept.trim_end())
}

/// The checked texts, ready to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replies {
    templates: Vec<Template>,
    options: ReplyOptions,
}

/// What `gsm7::plan` says a text costs.
fn parts(text: &str) -> usize {
    gsm7::plan(text).part_count()
}

impl Replies {
    /// Check the texts: `overrides` replace the defaults of the texts they name.
    pub fn new(
        overrides: impl IntoIterator<Item = (Text, String)>,
        options: ReplyOptions,
    ) -> Result<(Replies, Vec<TextWarning>), TextError> {
        let mut sources: Vec<String> = Text::ALL
            .iter()
            .map(|t| t.default_text().to_string())
            .collect();
        for (text, source) in overrides {
            sources[text as usize] = source;
        }
        let mut templates = Vec::with_capacity(Text::ALL.len());
        for (&text, source) in Text::ALL.iter().zip(&sources) {
            templates.push(check(text, source, options)?);
        }
        let replies = Replies { templates, options };
        replies.check_pages()?;
        let warnings = replies.costs();
        Ok((replies, warnings))
    }

    /// The built-in texts (a page budget of 0 is taken as 1).
    pub fn defaults(options: ReplyOptions) -> Replies {
        let options = ReplyOptions {
            page_parts: options.page_parts.max(1),
            ..options
        };
        match Replies::new([], options) {
            Ok((replies, _)) => replies,
            Err(err) => unreachable!("the built-in texts are checked by the tests: {err}"),
        }
    }

    pub fn options(&self) -> ReplyOptions {
        self.options
    }

    pub fn template(&self, text: Text) -> &Template {
        &self.templates[text as usize]
    }

    fn render(&self, text: Text, values: &[(Placeholder, &str)]) -> String {
        self.template(text).render(values)
    }

    fn agent_hint(&self) -> String {
        if self.options.agents_enabled {
            self.render(Text::AgentHint, &[])
        } else {
            String::new()
        }
    }

    /// The campaign text for `shifts` (the `shift_campaigns.shifts` column). A full stop or
    /// spaces at the end of `shifts` are dropped, because the template follows it with ". ".
    pub fn broadcast(&self, shifts: &str) -> String {
        let shifts = shifts.trim_end_matches(|c: char| c == '.' || c.is_whitespace());
        let hint = self.agent_hint();
        self.render(
            Text::Broadcast,
            &[(P::Shifts, shifts.trim_start()), (P::AgentHint, &hint)],
        )
    }

    /// The reply to a booking text.
    pub fn booking(&self, outcome: &BookingOutcome) -> String {
        if outcome.nothing_exists() {
            return self.render(Text::InvalidCode, &[]);
        }
        let sections: Vec<String> = [
            (Text::BookingSecured, &outcome.secured),
            (Text::BookingAlreadyYours, &outcome.already_yours),
            (Text::BookingTaken, &outcome.taken),
            (Text::BookingUnknown, &outcome.unknown),
        ]
        .into_iter()
        .filter(|(_, codes)| !codes.is_empty())
        .map(|(text, codes)| {
            let names: Vec<&str> = codes.iter().map(ShiftCode::as_str).collect();
            let count = codes.len().to_string();
            self.render(text, &[(P::Count, &count), (P::Codes, &names.join(", "))])
        })
        .collect();
        let separator = self.render(Text::BookingSeparator, &[]);
        self.render(Text::Booking, &[(P::Summary, &sections.join(&separator))])
    }

    pub fn stop(&self) -> String {
        self.render(Text::Stop, &[])
    }

    pub fn start(&self) -> String {
        self.render(Text::Start, &[])
    }

    /// The answer to AGENT: the acknowledgement when agents are configured, otherwise the
    /// text saying how to reach someone.
    pub fn agent(&self) -> String {
        if self.options.agents_enabled {
            self.render(Text::Agent, &[])
        } else {
            self.render(Text::AgentUnavailable, &[])
        }
    }

    /// The answer to AGENT outside business hours: when to expect the call.
    pub fn agent_later(&self, when: &str) -> String {
        self.render(Text::AgentLater, &[(P::When, when)])
    }

    /// The SMS an agent gets for a callback (in every mode, so nothing depends on a call
    /// connecting). The request is put on one line and cut to [`NOTE_REQUEST_CHARS`].
    pub fn agent_note(&self, who: &Caller<'_>, request: &str) -> String {
        let request = one_line(request, NOTE_REQUEST_CHARS);
        let request = if request.is_empty() {
            "no details given".to_string()
        } else {
            request
        };
        self.render(
            Text::AgentNote,
            &[
                (P::Name, who.name()),
                (P::Phone, who.phone),
                (P::Request, &request),
            ],
        )
    }

    /// To the agent: the employee did not answer.
    pub fn agent_missed(&self, who: &Caller<'_>) -> String {
        self.render(
            Text::AgentMissed,
            &[(P::Name, who.name()), (P::Phone, who.phone)],
        )
    }

    /// To the agent: the call was cut off on our side (a restart, the modem lost, calls that
    /// could not be joined).
    pub fn agent_cut_off(&self, who: &Caller<'_>) -> String {
        self.render(
            Text::AgentCutOff,
            &[(P::Name, who.name()), (P::Phone, who.phone)],
        )
    }

    /// To the employee: every attempt failed.
    pub fn agent_failed(&self) -> String {
        self.render(Text::AgentFailed, &[])
    }

    pub fn help(&self) -> String {
        let hint = self.agent_hint();
        self.render(Text::Help, &[(P::AgentHint, &hint)])
    }

    pub fn not_understood(&self) -> String {
        self.render(Text::NotUnderstood, &[])
    }

    /// The reply to a number not in `employees`; `None` when `access_denied` is set to ""
    /// (never answer unknown numbers).
    pub fn access_denied(&self) -> Option<String> {
        let text = self.render(Text::AccessDenied, &[]);
        (!text.is_empty()).then_some(text)
    }

    /// Page `page` (from 1) of the REQUEST listing of `offers`. A listing that does not fit
    /// in `page_parts` SMS parts is split into pages that each do, filled greedily in order;
    /// a shift whose info alone is too long for a page has its info shortened with "...".
    /// The code itself is never cut.
    pub fn listing(&self, offers: &[Offer], page: u32) -> Listing {
        if offers.is_empty() {
            return Listing {
                text: self.render(Text::NoShifts, &[]),
                page: 1,
                pages: 1,
            };
        }
        let entries: Vec<Entry> = offers.iter().map(Entry::new).collect();
        let rendered: Vec<String> = entries.iter().map(|e| self.entry_text(e)).collect();
        let whole = self.render(Text::Request, &[(P::Shifts, &self.join(&rendered))]);
        if parts(&whole) <= self.options.page_parts {
            return Listing {
                text: whole,
                page: 1,
                pages: 1,
            };
        }
        let pages = self.paginate(&entries, &rendered);
        let count = pages.len();
        let index = usize::try_from(page).unwrap_or(usize::MAX).clamp(1, count) - 1;
        let text = self.page_text(&pages[index], index + 1, count, count);
        Listing {
            text,
            page: u32::try_from(index + 1).unwrap_or(u32::MAX),
            pages: u32::try_from(count).unwrap_or(u32::MAX),
        }
    }

    fn join(&self, rendered: &[String]) -> String {
        rendered.join(&self.render(Text::RequestSeparator, &[]))
    }

    fn entry_text(&self, entry: &Entry) -> String {
        self.render(
            Text::RequestEntry,
            &[(P::Code, entry.code.as_str()), (P::Info, &entry.info)],
        )
        .trim()
        .to_string()
    }

    /// Page `number` of `pages`, with `last` the number of the last page (which decides the
    /// template) and `pages` what `{pages}` shows.
    fn page_text(&self, rendered: &[String], number: usize, pages: usize, last: usize) -> String {
        let shifts = self.join(rendered);
        let (page, next, pages) = (
            number.to_string(),
            (number + 1).to_string(),
            pages.to_string(),
        );
        let text = if number == last {
            Text::RequestLastPage
        } else {
            Text::RequestPage
        };
        self.render(
            text,
            &[
                (P::Shifts, &shifts),
                (P::Page, &page),
                (P::Pages, &pages),
                (P::Next, &next),
            ],
        )
    }

    /// Split into pages. `{pages}` is part of every page, so its width changes what fits:
    /// paginate assuming a page count, and repeat with the real count only if it has more
    /// digits (fewer digits never make a page longer, so the result still fits).
    fn paginate(&self, entries: &[Entry], rendered: &[String]) -> Vec<Vec<String>> {
        let mut assumed = 2;
        loop {
            let pages = self.paginate_assuming(entries, rendered, assumed);
            if pages.len().to_string().len() <= assumed.to_string().len() {
                return pages;
            }
            assumed = pages.len();
        }
    }

    /// Greedy: each page takes as many entries as fit, in order; the last page is the one
    /// all remaining entries fit on (it has no "more" footer).
    fn paginate_assuming(
        &self,
        entries: &[Entry],
        rendered: &[String],
        pages: usize,
    ) -> Vec<Vec<String>> {
        let budget = self.options.page_parts;
        let separator = self.render(Text::RequestSeparator, &[]).chars().count();
        // Characters before entry i, to rule out long groups without rendering them: no
        // encoding fits more than 160 characters in a part.
        let mut before = vec![0];
        for entry in rendered {
            before.push(before[before.len() - 1] + entry.chars().count() + separator);
        }
        let too_long = |from: usize, to: usize| {
            before[to] - before[from] - separator > budget * gsm7::GSM7_SINGLE
        };
        let fits = |group: &[String], number: usize, last: bool| {
            let last_number = if last { number } else { usize::MAX };
            parts(&self.page_text(group, number, pages, last_number)) <= budget
        };
        let n = rendered.len();
        let mut out: Vec<Vec<String>> = Vec::new();
        let mut start = 0;
        while start < n {
            let number = out.len() + 1;
            if !too_long(start, n) && fits(&rendered[start..], number, true) {
                out.push(rendered[start..].to_vec());
                break;
            }
            if start + 1 == n {
                let short = self.shorten(&entries[start], |e| fits(e, number, true));
                out.push(vec![short]);
                break;
            }
            // Keep at least one entry for the last page: a "more" footer must lead somewhere.
            let mut end = start;
            while end + 1 < n
                && !too_long(start, end + 1)
                && fits(&rendered[start..=end], number, false)
            {
                end += 1;
            }
            if end == start {
                let short = self.shorten(&entries[start], |e| fits(e, number, false));
                out.push(vec![short]);
                start += 1;
            } else {
                out.push(rendered[start..end].to_vec());
                start = end;
            }
        }
        out
    }

    /// The entry, rendered with as much of its info as fits (cut at a character, "..."
    /// appended). The code alone is the floor, which the check at load guarantees fits.
    fn shorten(&self, entry: &Entry, fits: impl Fn(&[String]) -> bool) -> String {
        let cut = |chars: usize| {
            let info = if chars == 0 {
                String::new()
            } else {
                let kept: String = entry.info.chars().take(chars).collect();
                format!("{}...", kept.trim_end())
            };
            self.entry_text(&Entry {
                code: entry.code.clone(),
                info,
            })
        };
        // Binary search for the longest prefix of the info that fits.
        let (mut lo, mut hi) = (0, entry.info.chars().count());
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if fits(std::slice::from_ref(&cut(mid))) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        cut(lo)
    }

    /// A page must hold the longest possible code with no info, with 3-digit page numbers.
    fn check_pages(&self) -> Result<(), TextError> {
        let code = "9".repeat(MAX_LEN);
        let group = std::slice::from_ref(&code);
        let budget = self.options.page_parts;
        for (text, number) in [(Text::RequestPage, 998), (Text::RequestLastPage, 999)] {
            if parts(&self.page_text(group, number, 999, 999)) > budget {
                return Err(TextError {
                    text,
                    problem: TextProblem::PageTooSmall { page_parts: budget },
                });
            }
        }
        Ok(())
    }

    /// Warnings for texts that cost more SMS than they should, rendered with short samples.
    fn costs(&self) -> Vec<TextWarning> {
        let sample_outcome = BookingOutcome {
            secured: sample_codes(1),
            already_yours: sample_codes(2),
            taken: sample_codes(3),
            unknown: sample_codes(4),
        };
        let hint = self.agent_hint();
        Text::ALL
            .iter()
            .filter_map(|&text| {
                let limit = text.spec().warn_above_parts?;
                let sample = match text {
                    Text::Booking => self.booking(&sample_outcome),
                    _ => self.render(
                        text,
                        &[
                            (P::Shifts, ""),
                            (P::AgentHint, &hint),
                            (P::Name, "Ann"),
                            (P::Phone, "+447400123456"),
                            (P::Request, ""),
                            (P::When, "Mon 08:00"),
                        ],
                    ),
                };
                let parts = parts(&sample);
                (parts > limit).then_some(TextWarning { text, parts, limit })
            })
            .collect()
    }
}

fn sample_codes(n: u8) -> Vec<ShiftCode> {
    ShiftCode::from_token(&format!("XYZ12{n}"))
        .into_iter()
        .collect()
}

/// A listed shift with its info on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    code: ShiftCode,
    info: String,
}

impl Entry {
    fn new(offer: &Offer) -> Entry {
        Entry {
            code: offer.code.clone(),
            info: offer.info.split_whitespace().collect::<Vec<_>>().join(" "),
        }
    }
}

fn check(text: Text, source: &str, options: ReplyOptions) -> Result<Template, TextError> {
    let spec = text.spec();
    let fail = |problem| TextError { text, problem };
    let template = Template::parse(source, spec.allowed, spec.required)
        .map_err(|e| fail(TextProblem::Template(e)))?;
    if template.is_empty() && !spec.may_be_empty {
        return Err(fail(TextProblem::Empty));
    }
    if !options.allow_unicode {
        let outside = source
            .chars()
            .enumerate()
            .find(|&(_, c)| gsm7::encode_char(c).is_none());
        if let Some((i, character)) = outside {
            return Err(fail(TextProblem::NotGsm {
                character,
                at: i + 1,
            }));
        }
    }
    Ok(template)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(c: &str) -> ShiftCode {
        c.parse().unwrap()
    }

    fn codes(list: &[&str]) -> Vec<ShiftCode> {
        list.iter().map(|c| code(c)).collect()
    }

    fn with_agents() -> Replies {
        Replies::defaults(ReplyOptions {
            agents_enabled: true,
            ..ReplyOptions::default()
        })
    }

    fn without_agents() -> Replies {
        Replies::defaults(ReplyOptions::default())
    }

    #[test]
    fn defaults_are_valid_cheap_and_gsm() {
        for agents_enabled in [false, true] {
            let options = ReplyOptions {
                agents_enabled,
                ..ReplyOptions::default()
            };
            let (_, warnings) = Replies::new([], options).unwrap();
            assert_eq!(warnings, vec![], "agents {agents_enabled}");
        }
        for text in Text::ALL {
            assert_eq!(
                gsm7::plan(text.default_text()).encoding,
                gsm7::Encoding::Gsm7,
                "{text}"
            );
        }
    }

    #[test]
    fn broadcast_follows_the_original() {
        let base = "Available shifts: XYZ123 Mon 06:00-14:00, XYZ222 Tue 14:00-22:00. To secure \
                    a shift reply by typing the codes separated by comma e.g. XYZ123, XYZ222. \
                    Text REQUEST to receive all available shifts or STOP to stop receiving such \
                    notifications.";
        let shifts = "XYZ123 Mon 06:00-14:00, XYZ222 Tue 14:00-22:00";
        assert_eq!(without_agents().broadcast(shifts), base);
        assert_eq!(
            with_agents().broadcast(shifts),
            format!(
                "{base} If you want to speak to an agent text AGENT and what you need help with."
            )
        );
        // The scheduler's own full stop is not doubled.
        assert_eq!(without_agents().broadcast(&format!(" {shifts}. \n")), base);
    }

    #[test]
    fn booking_replies() {
        let r = without_agents();
        let outcome = |s: &[&str], m: &[&str], t: &[&str], u: &[&str]| BookingOutcome {
            secured: codes(s),
            already_yours: codes(m),
            taken: codes(t),
            unknown: codes(u),
        };
        let invalid = "This is not a valid shift code, please reply by typing REQUEST to view \
                       the available shifts";
        let cases = [
            (outcome(&[], &[], &[], &["AB1"]), invalid.to_string()),
            (outcome(&[], &[], &[], &["AB1", "AB2"]), invalid.to_string()),
            (
                outcome(&["A1", "B2"], &[], &[], &[]),
                "Request summary - Shift booked (2): A1, B2".to_string(),
            ),
            (
                outcome(&[], &["A1"], &[], &[]),
                "Request summary - Already yours (1): A1".to_string(),
            ),
            (
                outcome(&[], &[], &["C3"], &[]),
                "Request summary - Shift taken (1): C3".to_string(),
            ),
            (
                outcome(&[], &[], &["C3"], &["D4"]),
                "Request summary - Shift taken (1): C3 | Shift doesn't exist (1): D4".to_string(),
            ),
            (
                outcome(&["A1"], &["B2"], &["C3"], &["D4", "E5"]),
                "Request summary - Shift booked (1): A1 | Already yours (1): B2 | Shift taken \
                 (1): C3 | Shift doesn't exist (2): D4, E5"
                    .to_string(),
            ),
        ];
        for (outcome, want) in cases {
            assert_eq!(r.booking(&outcome), want, "{outcome:?}");
        }
    }

    #[test]
    fn fixed_replies() {
        let (on, off) = (with_agents(), without_agents());
        assert!(on.stop().contains("START"));
        assert!(on.start().contains("STOP"));
        assert!(on.not_understood().contains("REQUEST"));
        assert_eq!(on.agent(), Text::Agent.default_text());
        assert_eq!(off.agent(), Text::AgentUnavailable.default_text());
        assert_eq!(on.help(), Text::Help.default_text());
        assert_eq!(
            off.access_denied().as_deref(),
            Some("NOT-AUTHORISED please contact the administrator")
        );
        let (silent, _) = Replies::new(
            [(Text::AccessDenied, String::new())],
            ReplyOptions::default(),
        )
        .unwrap();
        assert_eq!(silent.access_denied(), None);
        let (help, _) = Replies::new(
            [(Text::Help, "Help.{agent_hint}".to_string())],
            ReplyOptions {
                agents_enabled: true,
                ..ReplyOptions::default()
            },
        )
        .unwrap();
        assert!(
            help.help()
                .starts_with("Help. If you want to speak to an agent")
        );
    }

    #[test]
    fn callback_texts_name_the_employee_and_quote_the_request_on_one_line() {
        let r = with_agents();
        let ann = Caller {
            name: Some("Ann"),
            phone: "+447400123456",
        };
        assert_eq!(
            r.agent_note(&ann, "my badge\ndoes not   open gate 4"),
            "Callback request from Ann +447400123456: \"my badge does not open gate 4\". We are \
             phoning you to put you through; if we cannot, please call them back."
        );
        let nameless = Caller {
            name: Some("  "),
            phone: "+447400123456",
        };
        assert!(
            r.agent_note(&nameless, "")
                .starts_with("Callback request from employee +447400123456: \"no details given\"")
        );
        // A long request is cut, so the note stays within two parts.
        let long = r.agent_note(&ann, &"pay ".repeat(200));
        assert!(long.contains(" pay p...\"."), "{long}");
        assert!(parts(&long) <= 2, "{long}");
        assert_eq!(
            r.agent_missed(&ann),
            "Ann +447400123456 did not answer when we phoned to put you through. Please call \
             them back later."
        );
        assert!(
            r.agent_cut_off(&ann)
                .contains("Ann +447400123456 was cut off")
        );
        assert_eq!(
            r.agent_later("Mon 08:00"),
            "Thank you. No agent is available now; one will call you back from Mon 08:00."
        );
        assert_eq!(r.agent_failed(), Text::AgentFailed.default_text());
    }

    fn offers(n: usize, info: &str) -> Vec<Offer> {
        (0..n)
            .map(|i| Offer {
                code: code(&format!("XYZ{:03}", i)),
                info: info.to_string(),
            })
            .collect()
    }

    /// Simple templates make the arithmetic of page boundaries easy to follow.
    fn plain(page_parts: usize) -> Replies {
        let overrides = [
            (Text::Request, "{shifts}"),
            (Text::RequestPage, "{shifts}\nREQUEST {next}"),
            (Text::RequestLastPage, "{shifts}"),
            (Text::RequestEntry, "{code} {info}"),
            (Text::RequestSeparator, "\n"),
        ];
        Replies::new(
            overrides.map(|(t, s)| (t, s.to_string())),
            ReplyOptions {
                page_parts,
                ..ReplyOptions::default()
            },
        )
        .unwrap()
        .0
    }

    #[test]
    fn no_shifts() {
        let listing = without_agents().listing(&[], 1);
        assert_eq!(listing.text, "There are no shifts at this time");
        assert_eq!((listing.page, listing.pages), (1, 1));
    }

    #[test]
    fn listing_that_fits_is_one_page() {
        let r = without_agents();
        let listing = r.listing(&offers(2, "Mon 06:00-14:00\nLine 3"), 1);
        assert_eq!(
            listing.text,
            "These are the shifts available:\nXYZ000 Mon 06:00-14:00 Line 3\nXYZ001 Mon \
             06:00-14:00 Line 3"
        );
        assert_eq!((listing.page, listing.pages), (1, 1));
        // Any page number gives the only page.
        assert_eq!(r.listing(&offers(2, "x"), 7).pages, 1);
    }

    #[test]
    fn listing_exactly_filling_a_page() {
        // Nine entries "XYZ00n abcdefghi" (16 characters) with "\n" between are 152; a tenth
        // entry of 7 characters after one more "\n" makes exactly 160: one SMS.
        let r = plain(1);
        let exact: Vec<Offer> = offers(9, "abcdefghi")
            .into_iter()
            .chain(offers(1, "").into_iter().map(|mut o| {
                o.code = code("ZZZZZZ9");
                o
            }))
            .collect();
        let listing = r.listing(&exact, 1);
        assert_eq!(listing.text.chars().count(), 160);
        assert_eq!((listing.page, listing.pages), (1, 1));
        // One character more and it is two pages.
        let mut over = exact.clone();
        over[9].code = code("ZZZZZZZ9");
        let first = r.listing(&over, 1);
        assert_eq!(first.pages, 2);
        assert!(first.text.ends_with("\nREQUEST 2"), "{}", first.text);
        assert!(gsm7::plan(&first.text).part_count() == 1);
        let second = r.listing(&over, 2);
        assert_eq!(second.page, 2);
        assert!(!second.text.contains("REQUEST"));
    }

    #[test]
    fn pages_cover_every_shift_once_in_order_and_fit() {
        for (parts_allowed, n, info) in [
            (1, 40, "Mon 06:00-14:00 Line 3"),
            (2, 40, "Mon 06:00-14:00 Line 3"),
            (3, 200, "Tue 14:00-22:00 Warehouse B, bring boots"),
            (1, 120, "Zoë's team"), // UCS-2: 67 units per part
        ] {
            for r in [
                plain(parts_allowed),
                Replies::defaults(ReplyOptions {
                    page_parts: parts_allowed,
                    ..ReplyOptions::default()
                }),
            ] {
                let all = offers(n, info);
                let pages = r.listing(&all, 1).pages;
                assert!(pages > 1);
                let mut seen = Vec::new();
                for page in 1..=pages {
                    let listing = r.listing(&all, page);
                    assert_eq!((listing.page, listing.pages), (page, pages));
                    assert!(
                        gsm7::plan(&listing.text).part_count() <= parts_allowed,
                        "page {page}/{pages}: {}",
                        listing.text
                    );
                    for o in &all {
                        if listing.text.contains(o.code.as_str()) {
                            seen.push(o.code.clone());
                            // Whole, or shortened only when 3-digit page numbers crowd it out.
                            let full = format!("{} {}", o.code, info);
                            assert!(
                                listing.text.contains(&full)
                                    || (listing.text.contains("...") && pages >= 100),
                                "{}",
                                listing.text
                            );
                        }
                    }
                    let footer = format!("REQUEST {}", page + 1);
                    assert_eq!(
                        listing.text.contains(&footer),
                        page < pages,
                        "{}",
                        listing.text
                    );
                }
                let want: Vec<ShiftCode> = all.iter().map(|o| o.code.clone()).collect();
                assert_eq!(seen, want);
                // A page past the end shows the last page.
                assert_eq!(r.listing(&all, pages + 5).page, pages);
                assert_eq!(r.listing(&all, 0).page, 1);
            }
        }
    }

    #[test]
    fn page_count_with_more_digits_still_fits() {
        // Enough shifts for 10+ pages: "{pages}" grows from one digit to two.
        let r = Replies::defaults(ReplyOptions {
            page_parts: 1,
            ..ReplyOptions::default()
        });
        let all = offers(60, "Mon 06:00-14:00 Line 3");
        let pages = r.listing(&all, 1).pages;
        assert!(pages >= 10, "{pages}");
        for page in 1..=pages {
            let text = r.listing(&all, page).text;
            assert_eq!(gsm7::plan(&text).part_count(), 1, "{text}");
        }
    }

    #[test]
    fn shift_too_long_for_a_page_on_its_own_is_shortened() {
        let r = plain(1);
        let long = "Overtime at the north warehouse ".repeat(10);
        let mut all = offers(3, "short");
        all[1].info = long.clone();
        let pages: Vec<Listing> = (1..=3).map(|p| r.listing(&all, p)).collect();
        assert_eq!(pages[0].pages, 3);
        let middle = &pages[1].text;
        assert!(
            middle.starts_with("XYZ001 Overtime at the north"),
            "{middle}"
        );
        assert!(middle.contains("...\nREQUEST 3"), "{middle}");
        assert_eq!(gsm7::plan(middle).part_count(), 1);
        // It was cut no shorter than needed: one more character would not fit.
        assert!(middle.chars().count() > 150, "{middle}");
        // As the only shift, on the last page.
        let alone = r.listing(&all[1..2], 1);
        assert_eq!(alone.pages, 1);
        assert!(alone.text.ends_with("..."), "{}", alone.text);
        assert_eq!(gsm7::plan(&alone.text).part_count(), 1);
    }

    #[test]
    fn template_mistakes_are_errors() {
        let try_one = |text: Text, source: &str, options: ReplyOptions| {
            Replies::new([(text, source.to_string())], options).map(|_| ())
        };
        let options = ReplyOptions::default();
        let err = try_one(Text::Broadcast, "Shifts: {shift}", options).unwrap_err();
        assert_eq!(err.text, Text::Broadcast);
        assert!(matches!(
            err.problem,
            TextProblem::Template(TemplateError::UnknownPlaceholder { .. })
        ));
        assert!(
            err.to_string().starts_with("messages.broadcast: {shift}"),
            "{err}"
        );
        let err = try_one(Text::Stop, "Stopped {codes}", options).unwrap_err();
        assert!(err.to_string().contains("takes no placeholders"), "{err}");
        let err = try_one(Text::Broadcast, "No shifts", options).unwrap_err();
        assert_eq!(
            err.problem,
            TextProblem::Template(TemplateError::Missing(Placeholder::Shifts))
        );
        assert_eq!(
            try_one(Text::Stop, "", options).unwrap_err().problem,
            TextProblem::Empty
        );
        let err = try_one(
            Text::RequestPage,
            "{shifts} {next}",
            ReplyOptions {
                page_parts: 0,
                ..options
            },
        )
        .unwrap_err();
        assert!(matches!(err.problem, TextProblem::PageTooSmall { .. }));
        let huge = format!("{} {{shifts}} {{next}}", "x".repeat(400));
        let err = try_one(
            Text::RequestPage,
            &huge,
            ReplyOptions {
                page_parts: 2,
                ..options
            },
        )
        .unwrap_err();
        assert_eq!(err.text, Text::RequestPage);
    }

    #[test]
    fn ucs2_is_detected() {
        let options = ReplyOptions::default();
        let cases = [
            ("You’re booked", '’', 4, Some("write ' instead")),
            ("“Stop” received", '“', 1, Some("write \" instead")),
            ("Done – thanks", '–', 6, Some("write - instead")),
            ("Wait…", '…', 5, Some("write ... instead")),
            ("Tab\there", '\t', 4, Some("a plain space")),
            ("Zoë says hi", 'ë', 3, None),
            ("Спасибо", 'С', 1, None),
            ("Booked 👍", '👍', 8, None),
        ];
        for (source, character, at, hint) in cases {
            let err = Replies::new([(Text::Stop, source.to_string())], options).unwrap_err();
            assert_eq!(
                err.problem,
                TextProblem::NotGsm { character, at },
                "{source:?}"
            );
            let message = err.to_string();
            assert!(message.contains("allow_unicode"), "{message}");
            if let Some(hint) = hint {
                assert!(message.contains(hint), "{message}");
            }
        }
        // GSM's own accented letters, the euro and extension characters are fine.
        assert!(
            Replies::new(
                [(Text::Stop, "Müller à Ørsted: 5€ [ok] {{}}".to_string())],
                options
            )
            .is_ok()
        );
        // Allowed on request.
        let unicode = ReplyOptions {
            allow_unicode: true,
            ..options
        };
        let (r, _) = Replies::new([(Text::Stop, "Спасибо".to_string())], unicode).unwrap();
        assert_eq!(r.stop(), "Спасибо");
    }

    #[test]
    fn costly_texts_are_warned_about() {
        let long = "This reply is far too long. ".repeat(7);
        let (_, warnings) = Replies::new([(Text::Stop, long)], ReplyOptions::default()).unwrap();
        assert_eq!(
            warnings,
            vec![TextWarning {
                text: Text::Stop,
                parts: 2,
                limit: 1
            }]
        );
        assert_eq!(
            warnings[0].to_string(),
            "messages.stop: this text costs 2 SMS parts (more than 1) every time it is sent"
        );
        // Unicode halves the room: a 100-character Cyrillic text is two parts.
        let options = ReplyOptions {
            allow_unicode: true,
            ..ReplyOptions::default()
        };
        let (_, warnings) = Replies::new([(Text::Help, "Ж".repeat(100))], options).unwrap();
        assert_eq!(warnings.len(), 1);
        let broadcast = format!("{{shifts}} {}", "x".repeat(400));
        let (_, warnings) =
            Replies::new([(Text::Broadcast, broadcast)], ReplyOptions::default()).unwrap();
        assert_eq!(warnings[0].text, Text::Broadcast);
        assert_eq!(warnings[0].limit, 2);
    }
}
