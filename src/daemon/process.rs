//! Acting on one complete inbound message: the rules of `service/` applied to what the
//! database says, inside the caller's ONE write transaction.
//!
//! [`act`] runs every step of DESIGN.md's "What an employee can text" for one message:
//! who sent it ([`access::judge`] with facts counted from the outbox), what it asks
//! ([`command::parse`]), what the database says (shift states, the available list, the
//! employee), the decision ([`booking::decide`]), the conditional updates, the reply rendered
//! and queued, and [`Inbox::mark_processed`](crate::store::inbox::Inbox::mark_processed) last.
//! The caller commits. A crash before the commit undoes all of it and the message is acted
//! on again after the restart; after the commit nothing is redone (marking a message
//! processed twice fails, so a second run rolls back). A booking is therefore confirmed only
//! by a reply queued in the transaction that made it, and sent only after that commit.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::config::Config;
use crate::service::access::{self, Facts, Reply, ReplyLimits, Verdict};
use crate::service::booking::{self, ShiftState};
use crate::service::command::{self, Command};
use crate::service::hours::{self, BusinessHours};
use crate::service::phone::{E164, Sender};
use crate::service::reply::{Offer, Replies};
use crate::service::shift_code::ShiftCode;
use crate::store::inbox::InboundMessage;
use crate::store::outbox::{Cause, Kind, MessageId, Outgoing};
use crate::store::shifts::{ShiftStatus, Take};
use crate::store::{StoreError, Tx};

/// What the rules need besides the database: the texts, the reply limits, and when agents
/// can be phoned (for the AGENT reply).
#[derive(Debug, Clone)]
pub struct Rules {
    pub replies: Replies,
    pub limits: ReplyLimits,
    /// `[agent] hours`.
    pub agent_hours: BusinessHours,
    /// The site's time zone, in which `agent_hours` are written.
    pub time_zone: TimeZone,
}

impl Rules {
    pub fn from_config(config: &Config) -> Rules {
        Rules {
            replies: config.messages.clone(),
            limits: config.limits,
            agent_hours: config.agent.hours.clone(),
            time_zone: TimeZone::system(),
        }
    }

    /// The answer to AGENT: outside business hours, when to expect the call.
    fn agent_reply(&self, now: Timestamp) -> String {
        let opens = self.agent_hours.next_open(now, &self.time_zone);
        if self.agents_enabled() && opens > now {
            self.replies
                .agent_later(&hours::show_opening(opens, &self.time_zone))
        } else {
            self.replies.agent()
        }
    }

    fn agents_enabled(&self) -> bool {
        self.replies.options().agents_enabled
    }
}

/// What [`act`] did, for the log line and the audit columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acted {
    /// What the text was understood as: `book`, `request`, `stop`, `start`, `agent`,
    /// `help`, `unrecognised`, or `denied` / `ignored` for senders who are not served.
    pub command: &'static str,
    /// One line of what was done (`booked XYZ123; taken: XYZ222`), without the text itself.
    pub outcome: String,
    pub reply: ReplyFate,
}

/// What became of the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyFate {
    Queued(MessageId),
    /// Not sent, and why (a rate limit, an unknown number already told, a STOP).
    Suppressed(String),
    /// Nothing to answer (not a person, or `access_denied = ""`).
    None,
}

/// Act on `message` inside `tx` (see the module documentation). Returns what was done; the
/// caller commits.
pub fn act(
    tx: &Tx<'_>,
    message: &InboundMessage,
    rules: &Rules,
    now: Timestamp,
) -> Result<Acted, StoreError> {
    let parsed = command::parse(&message.text);
    let acted = match &message.sender {
        Sender::Phone(phone) => act_for_phone(tx, message, phone, &parsed, rules, now)?,
        other => {
            let facts = Facts {
                sender: other,
                is_employee: false,
                command: &parsed,
                last_denied: None,
                replies_last_hour: 0,
                replies_last_day: 0,
            };
            let outcome = match access::judge(&facts, now, &rules.limits) {
                Verdict::Ignore(what) => format!("{what}: never answered"),
                // judge() serves and denies phone numbers only.
                verdict => format!("not a phone number ({verdict:?}): never answered"),
            };
            Acted {
                command: "ignored",
                outcome,
                reply: ReplyFate::None,
            }
        }
    };
    let summary = match &acted.reply {
        ReplyFate::Queued(id) => format!("{}; reply queued ({id})", acted.outcome),
        ReplyFate::Suppressed(why) => format!("{}; reply suppressed: {why}", acted.outcome),
        ReplyFate::None => acted.outcome.clone(),
    };
    tx.inbox()
        .mark_processed(message.id, acted.command, &summary, now)?;
    Ok(acted)
}

fn act_for_phone(
    tx: &Tx<'_>,
    message: &InboundMessage,
    phone: &E164,
    parsed: &Command,
    rules: &Rules,
    now: Timestamp,
) -> Result<Acted, StoreError> {
    let windows = access::windows(now);
    let is_employee = tx.employees().get(phone)?.is_some();
    let facts = Facts {
        sender: &message.sender,
        is_employee,
        command: parsed,
        last_denied: tx.outbox().last_queued(phone, Kind::Denied)?,
        replies_last_hour: tx.outbox().replies_since(phone, windows.hour)?,
        replies_last_day: tx.outbox().replies_since(phone, windows.day)?,
    };
    let queue = |text: &str, kind: Kind| {
        tx.outbox().queue(
            &Outgoing {
                recipient: phone,
                text,
                kind,
                cause: Some(Cause::Inbound(message.id)),
            },
            now,
        )
    };
    match access::judge(&facts, now, &rules.limits) {
        Verdict::Serve(reply) => {
            let (command, outcome, text) = serve(tx, message, phone, parsed, rules, now)?;
            let reply = match reply {
                Reply::Send => ReplyFate::Queued(queue(&text, Kind::Reply)?),
                Reply::Suppress(why) => ReplyFate::Suppressed(why.to_string()),
            };
            Ok(Acted {
                command,
                outcome,
                reply,
            })
        }
        Verdict::Deny(reply) => {
            let reply = match (reply, rules.replies.access_denied()) {
                (Reply::Send, Some(text)) => ReplyFate::Queued(queue(&text, Kind::Denied)?),
                (Reply::Send, None) => ReplyFate::None,
                (Reply::Suppress(why), _) => ReplyFate::Suppressed(why.to_string()),
            };
            Ok(Acted {
                command: "denied",
                outcome: "not in employees".into(),
                reply,
            })
        }
        Verdict::Ignore(what) => Ok(Acted {
            command: "ignored",
            outcome: format!("{what}: never answered"),
            reply: ReplyFate::None,
        }),
    }
}

/// Carry out an employee's command: (command word, outcome, reply text).
fn serve(
    tx: &Tx<'_>,
    message: &InboundMessage,
    phone: &E164,
    parsed: &Command,
    rules: &Rules,
    now: Timestamp,
) -> Result<(&'static str, String, String), StoreError> {
    let replies = &rules.replies;
    Ok(match parsed {
        Command::Book(codes) => {
            let (outcome, text) = book(tx, phone, codes, replies, now)?;
            ("book", outcome, text)
        }
        Command::Request { page } => {
            let offers: Vec<Offer> = tx
                .shifts()
                .available()?
                .into_iter()
                .filter_map(|shift| match shift.id.parse::<ShiftCode>() {
                    Ok(code) => Some(Offer {
                        code,
                        info: shift.info,
                    }),
                    Err(err) => {
                        // The schema's CHECK keeps this from happening; a row that slipped
                        // through anyway is left out rather than offered uncallable.
                        tracing::warn!("shift left out of REQUEST: {err}");
                        None
                    }
                })
                .collect();
            let count = offers.len();
            let listing = replies.listing(&offers, *page);
            let outcome = format!(
                "listed {count} available shift(s), page {}/{}",
                listing.page, listing.pages
            );
            ("request", outcome, listing.text)
        }
        Command::Stop => {
            let changed = tx.employees().set_subscribed(phone, false, now)?;
            let cancelled = tx.outbox().cancel_broadcasts_to(
                phone,
                "the employee texted STOP before it was sent",
                now,
            )?;
            let outcome = format!(
                "{}; {cancelled} queued offer(s) cancelled",
                subscription_word(changed, "unsubscribed")
            );
            ("stop", outcome, replies.stop())
        }
        Command::Start => {
            let changed = tx.employees().set_subscribed(phone, true, now)?;
            let outcome = subscription_word(changed, "subscribed").to_string();
            ("start", outcome, replies.start())
        }
        Command::Agent { note } => {
            let outcome = if rules.agents_enabled() {
                let id = tx.callbacks().queue(phone, note, Some(message.id), now)?;
                format!("{id} queued")
            } else {
                "no agent numbers configured: told to call the site".to_string()
            };
            ("agent", outcome, rules.agent_reply(now))
        }
        Command::Help => ("help", "help sent".to_string(), replies.help()),
        Command::Unrecognised => (
            "unrecognised",
            "not understood".to_string(),
            replies.not_understood(),
        ),
    })
}

fn subscription_word(
    changed: crate::store::employees::Subscription,
    done: &'static str,
) -> &'static str {
    use crate::store::employees::Subscription;
    match changed {
        Subscription::Changed => done,
        Subscription::Unchanged => match done {
            "unsubscribed" => "already unsubscribed",
            _ => "already subscribed",
        },
        // judge() serves employees only; the row cannot vanish inside this transaction.
        Subscription::NotAnEmployee => "not an employee",
    }
}

/// Look up, decide, claim with conditional updates, settle, render.
fn book(
    tx: &Tx<'_>,
    phone: &E164,
    codes: &[ShiftCode],
    replies: &Replies,
    now: Timestamp,
) -> Result<(String, String), StoreError> {
    let mut looked_up = Vec::with_capacity(codes.len());
    for code in codes {
        let state = match tx.shifts().get(code.as_str())? {
            None => ShiftState::Missing,
            Some(shift) => match shift.status {
                ShiftStatus::Available => ShiftState::Available,
                ShiftStatus::Taken { by, .. } => ShiftState::Taken { by },
            },
        };
        looked_up.push((code.clone(), state));
    }
    let plan = booking::decide(phone, looked_up);
    let mut won = Vec::new();
    for code in plan.claims() {
        if let Take::Booked { .. } = tx.shifts().take(code.as_str(), phone, now)? {
            won.push(code.clone());
        }
    }
    let outcome = plan.settle(&won);
    let mut summary = Vec::new();
    for (label, list) in [
        ("booked", &outcome.secured),
        ("already theirs", &outcome.already_yours),
        ("taken", &outcome.taken),
        ("unknown", &outcome.unknown),
    ] {
        if !list.is_empty() {
            let names: Vec<&str> = list.iter().map(ShiftCode::as_str).collect();
            summary.push(format!("{label}: {}", names.join(", ")));
        }
    }
    Ok((summary.join("; "), replies.booking(&outcome)))
}

#[cfg(test)]
mod tests;
