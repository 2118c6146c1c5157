//! `shiftsms shifts ...`

use std::collections::HashMap;
use std::io::Write;

use super::table::Table;
use super::{AdminError, Context, ShiftsCommand, plural, show_time};
use crate::service::shift_code::ShiftCode;
use crate::store::Store;
use crate::store::shifts::{ShiftFilter, ShiftStatus};

pub(super) fn run(
    command: Option<&ShiftsCommand>,
    store: &mut Store,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<(), AdminError> {
    match command {
        None => list(ShiftFilter::All, store, ctx, out),
        Some(ShiftsCommand::List { available, taken }) => {
            let filter = match (available, taken) {
                (true, _) => ShiftFilter::Available,
                (_, true) => ShiftFilter::Taken,
                _ => ShiftFilter::All,
            };
            list(filter, store, ctx, out)
        }
        Some(ShiftsCommand::Add { code, info }) => {
            // The rule the SMS parser applies, so nobody can add a shift employees cannot book;
            // kept in upper case, as the parser reads codes.
            let code: ShiftCode = code.parse()?;
            let tx = store.transaction()?;
            tx.shifts().add(code.as_str(), info.trim(), ctx.now)?;
            tx.commit()?;
            writeln!(out, "Added shift {code}: available.")?;
            Ok(())
        }
        Some(ShiftsCommand::Remove { code }) => {
            let tx = store.transaction()?;
            let removed = tx
                .shifts()
                .remove(code.trim())?
                .ok_or_else(|| AdminError::NoSuchShift(code.clone()))?;
            tx.commit()?;
            match removed.status {
                ShiftStatus::Available => writeln!(out, "Removed shift {}.", removed.id)?,
                ShiftStatus::Taken { by, .. } => writeln!(
                    out,
                    "Removed shift {} (it was booked by {}; they are not texted about it).",
                    removed.id,
                    by.map_or_else(|| "someone".to_string(), |by| by.to_string())
                )?,
            }
            Ok(())
        }
        Some(ShiftsCommand::Release { code }) => {
            let tx = store.transaction()?;
            let shift = tx
                .shifts()
                .get(code.trim())?
                .ok_or_else(|| AdminError::NoSuchShift(code.clone()))?;
            let ShiftStatus::Taken { by, .. } = shift.status else {
                return Err(AdminError::NotBooked(shift.id));
            };
            tx.shifts().release(&shift.id)?;
            tx.commit()?;
            writeln!(
                out,
                "Shift {} is available again (it was booked by {}).",
                shift.id,
                by.map_or_else(|| "someone".to_string(), |by| by.to_string())
            )?;
            Ok(())
        }
    }
}

fn list(
    filter: ShiftFilter,
    store: &mut Store,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<(), AdminError> {
    let tx = store.read()?;
    let shifts = tx.shifts().list(filter)?;
    let names: HashMap<_, _> = tx
        .employees()
        .list()?
        .into_iter()
        .filter_map(|e| Some((e.phone, e.name?)))
        .collect();
    drop(tx);

    let mut table = Table::new(&["CODE", "STATUS", "BOOKED BY", "BOOKED AT", "INFO"]);
    let mut taken = 0;
    for shift in &shifts {
        let (status, by, at) = match &shift.status {
            ShiftStatus::Available => ("available", String::new(), String::new()),
            ShiftStatus::Taken { by, at } => {
                taken += 1;
                let by = match by {
                    Some(phone) => match names.get(phone) {
                        Some(name) => format!("{phone} ({name})"),
                        None => phone.to_string(),
                    },
                    None => "-".to_string(),
                };
                let at = at.map_or_else(String::new, |at| show_time(at, ctx));
                ("taken", by, at)
            }
        };
        table.row([shift.id.as_str(), status, &by, &at, &shift.info]);
    }
    if shifts.is_empty() {
        let what = match filter {
            ShiftFilter::All => "No shifts yet. Add one with `shiftsms shifts add CODE INFO`.",
            ShiftFilter::Available => "No available shifts.",
            ShiftFilter::Taken => "No booked shifts.",
        };
        writeln!(out, "{what}")?;
        return Ok(());
    }
    table.write(out)?;
    writeln!(
        out,
        "{}: {} available, {taken} taken",
        plural(shifts.len(), "shift", "shifts"),
        shifts.len() - taken
    )?;
    Ok(())
}
