//! `shiftsms queues`, `shiftsms outbox`, `shiftsms inbox`: what is waiting and what went wrong.

use std::io::Write;

use super::table::{Table, shorten};
use super::{AdminError, Context, InboxArgs, OutboxArgs, plural, show_time};
use crate::service::phone::Sender;
use crate::store::Store;
use crate::store::outbox::{Kind, OutboundMessage, OutboxFilter, OutboxState};

/// How many recent failures the summary shows.
const RECENT_FAILURES: u32 = 5;

pub(super) fn summary(
    store: &mut Store,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<(), AdminError> {
    let tx = store.read()?;
    let counts = tx.outbox().counts()?;
    let (unprocessed, waiting_parts) = tx.inbox().backlog()?;
    let callbacks = tx.callbacks().open()?.len();
    let failures = tx.outbox().list(OutboxFilter {
        state: Some(OutboxState::Failed),
        kind: None,
        limit: Some(RECENT_FAILURES),
    })?;
    drop(tx);

    writeln!(out, "Outbox")?;
    let mut headers = vec!["KIND"];
    headers.extend(OutboxState::ALL.iter().map(|state| state.as_str()));
    let mut table = Table::new(&headers);
    for column in 1..headers.len() {
        table = table.right(column);
    }
    for kind in Kind::ALL {
        let cells = OutboxState::ALL.iter().map(|state| {
            counts
                .iter()
                .find(|(k, s, _)| *k == kind && s == state)
                .map_or(0, |(_, _, n)| *n)
                .to_string()
        });
        table.row(std::iter::once(kind.as_str().to_string()).chain(cells));
    }
    table.write(out)?;
    writeln!(out)?;
    writeln!(
        out,
        "Inbox: {} waiting to be acted on, {} waiting for the rest of their message.",
        plural(unprocessed as usize, "text", "texts"),
        plural(waiting_parts as usize, "part", "parts"),
    )?;
    writeln!(out, "Callbacks: {} open.", callbacks)?;
    if !failures.is_empty() {
        writeln!(out)?;
        writeln!(out, "Latest failures")?;
        failed_table(&failures, ctx).write(out)?;
    }
    Ok(())
}

/// Failed messages with their reasons (also shown by `shiftsms status`).
pub(super) fn failed_table(messages: &[OutboundMessage], ctx: &Context) -> Table {
    let mut table = Table::new(&["ID", "TO", "KIND", "FAILED AT", "REASON"]).right(0);
    for message in messages {
        table.row([
            message.id.0.to_string(),
            message.recipient.to_string(),
            message.kind.to_string(),
            message
                .finished_at
                .map_or_else(String::new, |at| show_time(at, ctx)),
            message.last_error.clone().unwrap_or_default(),
        ]);
    }
    table
}

pub(super) fn outbox(
    args: &OutboxArgs,
    store: &mut Store,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<(), AdminError> {
    let messages = store.read()?.outbox().list(OutboxFilter {
        state: args.state,
        kind: args.kind,
        limit: Some(args.limit),
    })?;
    if messages.is_empty() {
        writeln!(out, "No messages.")?;
        return Ok(());
    }
    let mut table = Table::new(&[
        "ID",
        "STATE",
        "KIND",
        "TO",
        "TRIES",
        "CREATED",
        "TEXT",
        "LAST ERROR",
    ])
    .right(0)
    .right(4);
    for message in &messages {
        let state = match (message.state, message.part_count) {
            (OutboxState::Sending, Some(parts)) => {
                format!("sending {}/{parts}", message.first_unsent_part())
            }
            (state, _) => state.to_string(),
        };
        table.row([
            message.id.0.to_string(),
            state,
            message.kind.to_string(),
            message.recipient.to_string(),
            message.attempts.to_string(),
            show_time(message.created_at, ctx),
            shorten(&message.text, 40),
            message.last_error.clone().unwrap_or_default(),
        ]);
    }
    table.write(out)?;
    Ok(())
}

pub(super) fn inbox(
    args: &InboxArgs,
    store: &mut Store,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<(), AdminError> {
    let tx = store.read()?;
    let mut messages = if args.unprocessed {
        tx.inbox().unprocessed()?
    } else {
        tx.inbox().recent(args.limit)?
    };
    drop(tx);
    messages.truncate(args.limit as usize);
    if messages.is_empty() {
        writeln!(out, "No texts.")?;
        return Ok(());
    }
    let mut table =
        Table::new(&["ID", "FROM", "RECEIVED", "UNDERSTOOD AS", "TEXT", "OUTCOME"]).right(0);
    for message in &messages {
        let from = match &message.sender {
            Sender::Phone(number) => number.to_string(),
            Sender::ShortCode(code) => format!("{code} (short code)"),
            Sender::Alphanumeric(name) => format!("{name} (alphanumeric)"),
            Sender::Unrecognised(address) => format!("{address} (unrecognised)"),
        };
        let (command, outcome) = match &message.processed {
            Some(done) => (done.command.clone(), done.outcome.clone()),
            None => ("(not yet processed)".to_string(), String::new()),
        };
        table.row([
            message.id.0.to_string(),
            from,
            show_time(message.received_at, ctx),
            command,
            shorten(&message.text, 40),
            outcome,
        ]);
    }
    table.write(out)?;
    Ok(())
}
