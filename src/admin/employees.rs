//! `shiftsms employees ...`

use std::io::Write;

use super::table::Table;
use super::{AdminError, Context, EmployeesCommand, plural, show_time};
use crate::service::phone::normalise;
use crate::store::Store;

pub(super) fn run(
    command: Option<&EmployeesCommand>,
    store: &mut Store,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<(), AdminError> {
    match command {
        None | Some(EmployeesCommand::List) => list(store, ctx, out),
        Some(EmployeesCommand::Add { phone, name }) => {
            let phone = normalise(phone, ctx.default_country)?;
            let name = name.as_deref().map(str::trim).filter(|n| !n.is_empty());
            let tx = store.transaction()?;
            tx.employees().add(&phone, name, ctx.now)?;
            tx.commit()?;
            match name {
                Some(name) => writeln!(
                    out,
                    "Added employee {phone} ({name}), subscribed to shift offers."
                )?,
                None => writeln!(out, "Added employee {phone}, subscribed to shift offers.")?,
            }
            Ok(())
        }
        Some(EmployeesCommand::Remove { phone }) => {
            let phone = normalise(phone, ctx.default_country)?;
            let tx = store.transaction()?;
            let removed = tx
                .employees()
                .remove(&phone)?
                .ok_or_else(|| AdminError::NoSuchEmployee(phone.clone()))?;
            tx.commit()?;
            match removed.name {
                Some(name) => writeln!(out, "Removed employee {phone} ({name}).")?,
                None => writeln!(out, "Removed employee {phone}.")?,
            }
            Ok(())
        }
    }
}

fn list(store: &mut Store, ctx: &Context, out: &mut impl Write) -> Result<(), AdminError> {
    let employees = store.read()?.employees().list()?;
    if employees.is_empty() {
        writeln!(
            out,
            "No employees yet. Add one with `shiftsms employees add PHONE --name NAME`."
        )?;
        return Ok(());
    }
    let mut table = Table::new(&["PHONE", "NAME", "SUBSCRIBED", "ADDED"]);
    let mut subscribed = 0;
    for employee in &employees {
        let yes_no = if employee.subscribed {
            subscribed += 1;
            "yes".to_string()
        } else {
            match employee.subscription_changed_at {
                Some(at) => format!("no (STOP {})", show_time(at, ctx)),
                None => "no".to_string(),
            }
        };
        table.row([
            employee.phone.as_str(),
            employee.name.as_deref().unwrap_or(""),
            &yes_no,
            &show_time(employee.created_at, ctx),
        ]);
    }
    table.write(out)?;
    writeln!(
        out,
        "{}, {subscribed} subscribed to shift offers",
        plural(employees.len(), "employee", "employees")
    )?;
    Ok(())
}
