//! `shiftsms callbacks`: AGENT requests, where each one stands, and (with an id) its history.

use std::io::Write;

use super::table::{Table, shorten};
use super::{AdminError, CallbacksArgs, Context, plural, show_time};
use crate::store::Store;
use crate::store::callbacks::{Callback, CallbackId, CallbackState};

pub(super) fn run(
    args: &CallbacksArgs,
    store: &mut Store,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<(), AdminError> {
    match args.id {
        Some(id) => show(CallbackId(id), store, ctx, out),
        None => list(args, store, ctx, out),
    }
}

/// "+447400123456 (Ann)", or the number alone.
fn employee(store: &mut Store, callback: &Callback) -> Result<String, AdminError> {
    let name = store
        .read()?
        .employees()
        .get(&callback.employee)?
        .and_then(|e| e.name);
    Ok(match name {
        Some(name) => format!("{} ({name})", callback.employee),
        None => callback.employee.to_string(),
    })
}

/// For a waiting callback, when it is tried next; otherwise what came of it.
fn where_it_stands(callback: &Callback, ctx: &Context) -> String {
    match callback.state {
        CallbackState::Queued if callback.attempts == 0 && callback.last_error.is_none() => {
            "waiting for its turn".to_string()
        }
        CallbackState::Queued => format!(
            "next try {}; last: {}",
            show_time(callback.next_attempt_at, ctx),
            callback.last_error.as_deref().unwrap_or("-")
        ),
        CallbackState::Dialling => "an agent's phone is ringing".to_string(),
        CallbackState::Connected => "an agent answered: putting them through".to_string(),
        CallbackState::Done | CallbackState::Failed => callback
            .outcome
            .clone()
            .or_else(|| callback.last_error.clone())
            .unwrap_or_default(),
    }
}

fn list(
    args: &CallbacksArgs,
    store: &mut Store,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<(), AdminError> {
    let callbacks = store.read()?.callbacks().list(args.open, args.limit)?;
    if callbacks.is_empty() {
        let what = if args.open {
            "open callbacks"
        } else {
            "callbacks"
        };
        writeln!(out, "No {what}.")?;
        return Ok(());
    }
    let mut table = Table::new(&[
        "ID",
        "STATE",
        "EMPLOYEE",
        "REQUESTED",
        "ROUNDS",
        "AGENT",
        "REQUEST",
        "WHERE IT STANDS",
    ])
    .right(0)
    .right(4);
    for callback in &callbacks {
        table.row([
            callback.id.0.to_string(),
            callback.state.to_string(),
            employee(store, callback)?,
            show_time(callback.requested_at, ctx),
            callback.attempts.to_string(),
            callback
                .agent
                .as_ref()
                .map_or_else(String::new, ToString::to_string),
            shorten(&callback.request, 30),
            where_it_stands(callback, ctx),
        ]);
    }
    table.write(out)?;
    let open = callbacks
        .iter()
        .filter(|c| {
            matches!(
                c.state,
                CallbackState::Queued | CallbackState::Dialling | CallbackState::Connected
            )
        })
        .count();
    writeln!(
        out,
        "{} shown, {open} open. `shiftsms callbacks ID` shows one with its history.",
        plural(callbacks.len(), "callback", "callbacks")
    )?;
    Ok(())
}

fn show(
    id: CallbackId,
    store: &mut Store,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<(), AdminError> {
    let Some(callback) = store.read()?.callbacks().get(id)? else {
        return Err(AdminError::NoSuchCallback(id.0));
    };
    let history = store.read()?.callbacks().history(id)?;
    writeln!(out, "Callback {}", id.0)?;
    writeln!(out, "  employee:   {}", employee(store, &callback)?)?;
    writeln!(out, "  request:    {:?}", callback.request)?;
    writeln!(
        out,
        "  requested:  {}",
        show_time(callback.requested_at, ctx)
    )?;
    writeln!(out, "  state:      {}", callback.state)?;
    writeln!(out, "  rounds:     {}", callback.attempts)?;
    if let Some(agent) = &callback.agent {
        writeln!(out, "  agent:      {agent} (the last one phoned)")?;
    }
    writeln!(out, "  stands:     {}", where_it_stands(&callback, ctx))?;
    writeln!(out)?;
    let mut table = Table::new(&["AT", "CHANGE", "AGENT", "REASON"]);
    for entry in &history {
        let change = match entry.from {
            Some(from) if from == entry.to => entry.to.to_string(),
            Some(from) => format!("{from} -> {}", entry.to),
            None => entry.to.to_string(),
        };
        table.row([
            show_time(entry.at, ctx),
            change,
            entry
                .agent
                .as_ref()
                .map_or_else(String::new, ToString::to_string),
            entry.reason.clone(),
        ]);
    }
    table.write(out)?;
    Ok(())
}
