//! One file, all or nothing: parse and check it ([`super::rows`]), compare it with what the
//! database holds and decide every change (a read snapshot: no write lock), then apply the
//! changes in one short `BEGIN IMMEDIATE` transaction. The daemon books shifts on its own
//! connection meanwhile; the write lock is held only for the inserts and updates themselves,
//! so a 100,000-row file does not stall booking replies (see `benches/csv_import.rs`).
//!
//! Each write is conditional on the row being as planned ([`crate::store::import`]). If a row
//! changed between planning and applying (an employee booked the shift, texted STOP, a person
//! inserted the same code), the transaction is rolled back and the file is planned again from
//! the new state, which then reports the booked shift as a problem, or finds it unchanged.
//!
//! What an import may change:
//! - **shifts**: a new `shift_id` is added as available; an available shift's `shift_info` is
//!   updated. A booked shift is never changed or un-booked: a row asking to is a problem.
//! - **employees**: new numbers are added (subscribed unless `subscribed` says no); an
//!   existing employee's name is updated when the cell has one, and `subscribed` when the cell
//!   says so, except that someone who texted STOP is only re-subscribed by their own START.
//! - **campaigns**: a new `campaign_id` is added and the daemon broadcasts it once, as if
//!   inserted with `sqlite3`; the same campaign again is unchanged (not sent twice); the same
//!   id with other shifts is a problem.

use std::fmt;
use std::time::{Duration, Instant};

use jiff::Timestamp;

use super::rows::{
    self, CampaignDraft, Drafts, EmployeeDraft, Field, Kind, ParsedFile, Problem, ShiftDraft,
    WantedStatus,
};
use crate::service::phone::{DefaultCountry, E164};
use crate::store::campaigns::CampaignStatus;
use crate::store::shifts::ShiftStatus;
use crate::store::{Store, StoreError, Tx};

/// What the import needs from the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportOptions {
    /// `[phone] default_country`: the country of numbers written without `+`.
    pub default_country: DefaultCountry,
}

/// Apply the file, or only say what it would do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Apply,
    DryRun,
}

/// How many rows of a file did what.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub kind: Kind,
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
}

impl Summary {
    fn new(kind: Kind) -> Summary {
        Summary {
            kind,
            added: 0,
            updated: 0,
            unchanged: 0,
        }
    }

    pub fn rows(&self) -> usize {
        self.added + self.updated + self.unchanged
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} added, {} updated, {} unchanged",
            self.kind, self.added, self.updated, self.unchanged
        )
    }
}

/// Where the time of an import went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timing {
    /// From the bytes to the commit.
    pub total: Duration,
    /// From `BEGIN IMMEDIATE` to the end of `COMMIT`: how long other writers (the daemon's
    /// bookings) could have had to wait.
    pub write_lock: Duration,
    /// Plans made: more than 1 when the database changed under the import.
    pub attempts: u32,
}

/// What became of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Imported {
        summary: Summary,
        timing: Timing,
    },
    /// [`Mode::DryRun`]: the file is good, and this is what it would do.
    WouldImport {
        summary: Summary,
    },
    /// Nothing was applied, for these reasons (every one found, in line order).
    Rejected {
        kind: Option<Kind>,
        problems: Vec<Problem>,
    },
}

/// Why an import could not be done, through no fault of the file.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "the database kept changing under the import ({0} tries); nothing was applied, try again"
    )]
    KeptChanging(u32),
}

/// How many times a file is planned again after the database changed under it.
const MAX_ATTEMPTS: u32 = 3;

/// Import the bytes of one file.
pub fn import_bytes(
    store: &mut Store,
    bytes: &[u8],
    options: ImportOptions,
    mode: Mode,
    now: Timestamp,
) -> Result<Outcome, ImportError> {
    let started = Instant::now();
    let parsed = match rows::parse(bytes, options.default_country) {
        Ok(parsed) => parsed,
        Err(rejected) => {
            return Ok(Outcome::Rejected {
                kind: rejected.kind,
                problems: rejected.problems,
            });
        }
    };
    import_parsed(store, &parsed, mode, now, started)
}

/// Import a file already parsed (the watcher parses first to order files by kind).
pub fn import_parsed(
    store: &mut Store,
    parsed: &ParsedFile,
    mode: Mode,
    now: Timestamp,
    started: Instant,
) -> Result<Outcome, ImportError> {
    for attempt in 1..=MAX_ATTEMPTS {
        let plan = {
            let tx = store.read()?;
            let plan = plan(&tx, parsed)?;
            tx.rollback()?;
            plan
        };
        let plan = match plan {
            Ok(plan) => plan,
            Err(problems) => {
                return Ok(Outcome::Rejected {
                    kind: Some(parsed.kind()),
                    problems,
                });
            }
        };
        if mode == Mode::DryRun {
            return Ok(Outcome::WouldImport {
                summary: plan.summary,
            });
        }
        if plan.changes.is_empty() {
            // Nothing to write: no write lock taken at all.
            return Ok(Outcome::Imported {
                summary: plan.summary,
                timing: Timing {
                    total: started.elapsed(),
                    write_lock: Duration::ZERO,
                    attempts: attempt,
                },
            });
        }
        let locked = Instant::now();
        let tx = store.transaction()?;
        if apply(&tx, &plan, now)? {
            tx.commit()?;
            let write_lock = locked.elapsed();
            return Ok(Outcome::Imported {
                summary: plan.summary,
                timing: Timing {
                    total: started.elapsed(),
                    write_lock,
                    attempts: attempt,
                },
            });
        }
        tx.rollback()?;
        tracing::info!(
            attempt,
            "the database changed while a CSV file was imported; planning again"
        );
    }
    Err(ImportError::KeptChanging(MAX_ATTEMPTS))
}

/// Every change a file makes, decided against a snapshot of the database.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Plan {
    summary: Summary,
    changes: Vec<Change>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Change {
    AddShift {
        code: String,
        info: String,
    },
    SetShiftInfo {
        code: String,
        old: String,
        new: String,
    },
    AddEmployee {
        phone: E164,
        name: Option<String>,
        subscribed: bool,
    },
    RenameEmployee {
        phone: E164,
        old: Option<String>,
        new: String,
    },
    Subscribe {
        phone: E164,
        to: bool,
    },
    AddCampaign {
        id: String,
        shifts: String,
    },
}

fn plan(tx: &Tx<'_>, parsed: &ParsedFile) -> Result<Result<Plan, Vec<Problem>>, StoreError> {
    let mut planner = Planner {
        parsed,
        summary: Summary::new(parsed.kind()),
        changes: Vec::new(),
        problems: Vec::new(),
    };
    match &parsed.drafts {
        Drafts::Shifts(rows) => rows.iter().try_for_each(|row| planner.shift(tx, row))?,
        Drafts::Employees(rows) => rows.iter().try_for_each(|row| planner.employee(tx, row))?,
        Drafts::Campaigns(rows) => rows.iter().try_for_each(|row| planner.campaign(tx, row))?,
    }
    Ok(if planner.problems.is_empty() {
        Ok(Plan {
            summary: planner.summary,
            changes: planner.changes,
        })
    } else {
        Err(planner.problems)
    })
}

struct Planner<'p> {
    parsed: &'p ParsedFile,
    summary: Summary,
    changes: Vec<Change>,
    problems: Vec<Problem>,
}

impl Planner<'_> {
    fn problem(&mut self, line: usize, field: Field, message: String) {
        self.problems
            .push(Problem::at(line, self.parsed.column(field), message));
    }

    fn shift(&mut self, tx: &Tx<'_>, row: &ShiftDraft) -> Result<(), StoreError> {
        let code = row.code.as_str();
        let Some(existing) = tx.shifts().get(code)? else {
            if row.status == Some(WantedStatus::Taken) {
                self.problem(
                    row.line,
                    Field::ShiftStatus,
                    format!(
                        "shift {code} is new, and new shifts are added as available (shiftsms \
                         marks a shift taken when an employee books it); leave shift_status empty"
                    ),
                );
            } else {
                self.summary.added += 1;
                self.changes.push(Change::AddShift {
                    code: code.to_string(),
                    info: row.info.clone(),
                });
            }
            return Ok(());
        };
        match (&existing.status, row.status) {
            (ShiftStatus::Available, Some(WantedStatus::Taken)) => self.problem(
                row.line,
                Field::ShiftStatus,
                format!(
                    "shift {} is available, and an import does not book shifts (employees book \
                     them by text); leave shift_status empty or write available",
                    existing.id
                ),
            ),
            (ShiftStatus::Available, _) if existing.info == row.info => self.summary.unchanged += 1,
            (ShiftStatus::Available, _) => {
                self.summary.updated += 1;
                self.changes.push(Change::SetShiftInfo {
                    code: existing.id.clone(),
                    old: existing.info.clone(),
                    new: row.info.clone(),
                });
            }
            (ShiftStatus::Taken { by, .. }, wanted) => {
                let who = by
                    .as_ref()
                    .map_or_else(|| "someone".to_string(), |by| by.to_string());
                if wanted == Some(WantedStatus::Available) {
                    self.problem(
                        row.line,
                        Field::ShiftStatus,
                        format!(
                            "shift {} is booked by {who}, and an import never un-books a shift; \
                             if they cannot come, run `shiftsms shifts release {}` and import \
                             again (or leave shift_status empty)",
                            existing.id, existing.id
                        ),
                    );
                } else if existing.info != row.info {
                    self.problem(
                        row.line,
                        Field::ShiftInfo,
                        format!(
                            "shift {} is booked by {who}, who was told {:?}; an import does not \
                             change a booked shift. Put the stored text back in this cell (or \
                             delete the row), and tell {who} about the change yourself",
                            existing.id, existing.info
                        ),
                    );
                } else {
                    self.summary.unchanged += 1;
                }
            }
        }
        Ok(())
    }

    fn employee(&mut self, tx: &Tx<'_>, row: &EmployeeDraft) -> Result<(), StoreError> {
        let Some(existing) = tx.employees().get(&row.phone)? else {
            self.summary.added += 1;
            self.changes.push(Change::AddEmployee {
                phone: row.phone.clone(),
                name: row.name.clone(),
                subscribed: row.subscribed.unwrap_or(true),
            });
            return Ok(());
        };
        let mut changed = false;
        if let Some(name) = &row.name
            && existing.name.as_ref() != Some(name)
        {
            changed = true;
            self.changes.push(Change::RenameEmployee {
                phone: row.phone.clone(),
                old: existing.name.clone(),
                new: name.clone(),
            });
        }
        match row.subscribed {
            Some(true) if !existing.subscribed && existing.subscription_changed_at.is_some() => {
                let when = existing
                    .subscription_changed_at
                    .map(|at| at.strftime(" on %Y-%m-%d").to_string())
                    .unwrap_or_default();
                self.problem(
                    row.line,
                    Field::Subscribed,
                    format!(
                        "{} texted STOP{when}: only they can ask for shift offers again, by \
                         texting START; leave subscribed empty for them",
                        row.phone
                    ),
                );
                return Ok(());
            }
            Some(to) if to != existing.subscribed => {
                changed = true;
                self.changes.push(Change::Subscribe {
                    phone: row.phone.clone(),
                    to,
                });
            }
            _ => {}
        }
        if changed {
            self.summary.updated += 1;
        } else {
            self.summary.unchanged += 1;
        }
        Ok(())
    }

    fn campaign(&mut self, tx: &Tx<'_>, row: &CampaignDraft) -> Result<(), StoreError> {
        match tx.campaigns().get(&row.id)? {
            None => {
                self.summary.added += 1;
                self.changes.push(Change::AddCampaign {
                    id: row.id.clone(),
                    shifts: row.shifts.clone(),
                });
            }
            Some(existing) if existing.shifts.trim() == row.shifts => self.summary.unchanged += 1,
            Some(existing) => {
                let state = match existing.status {
                    CampaignStatus::New => "waiting to be sent",
                    CampaignStatus::Sending => "being sent",
                    CampaignStatus::Done => "sent",
                    CampaignStatus::Invalid { .. } => "marked invalid",
                };
                self.problem(
                    row.line,
                    Field::CampaignId,
                    format!(
                        "campaign {:?} already exists ({state}, created {}) with other shifts: \
                         {:?}; each campaign is sent once, so give this one a new campaign_id",
                        row.id,
                        existing.created_at.strftime("%Y-%m-%d %H:%M UTC"),
                        existing.shifts
                    ),
                );
            }
        }
        Ok(())
    }
}

/// Apply every change; `false` if a row changed since the plan (the caller rolls back).
fn apply(tx: &Tx<'_>, plan: &Plan, now: Timestamp) -> Result<bool, StoreError> {
    let import = tx.import();
    for change in &plan.changes {
        let applied = match change {
            Change::AddShift { code, info } => import.add_shift(code, info, now)?,
            Change::SetShiftInfo { code, old, new } => import.set_shift_info(code, old, new)?,
            Change::AddEmployee {
                phone,
                name,
                subscribed,
            } => import.add_employee(phone, name.as_deref(), *subscribed, now)?,
            Change::RenameEmployee { phone, old, new } => {
                import.rename_employee(phone, old.as_deref(), new)?
            }
            Change::Subscribe { phone, to } => import.set_employee_subscribed(phone, *to)?,
            Change::AddCampaign { id, shifts } => import.add_campaign(id, shifts, now)?,
        };
        if !applied {
            tracing::debug!(?change, "changed since the plan");
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::phone::E164;

    fn now() -> Timestamp {
        "2024-05-01T09:00:00Z".parse().unwrap()
    }

    fn plan_now(store: &mut Store, parsed: &ParsedFile) -> Plan {
        let tx = store.read().unwrap();
        plan(&tx, parsed).unwrap().unwrap()
    }

    #[test]
    fn a_change_between_plan_and_apply_rolls_back_and_is_planned_again() {
        let mut store = Store::open_in_memory().unwrap();
        let tx = store.transaction().unwrap();
        tx.shifts().add("XYZ123", "Mon", now()).unwrap();
        tx.commit().unwrap();
        let parsed = rows::parse(
            b"shift_id,shift_info\nXYZ123,Tue\nNEW1,x\n",
            DefaultCountry::NONE,
        )
        .unwrap();
        let plan = plan_now(&mut store, &parsed);
        assert_eq!(plan.summary.added, 1);
        assert_eq!(plan.summary.updated, 1);

        // An employee books XYZ123 after the plan was made.
        let ann = E164::from_international("+447400123456").unwrap();
        let tx = store.transaction().unwrap();
        tx.shifts().take("XYZ123", &ann, now()).unwrap();
        tx.commit().unwrap();

        let tx = store.transaction().unwrap();
        assert!(!apply(&tx, &plan, now()).unwrap());
        tx.rollback().unwrap();

        let outcome = import_parsed(&mut store, &parsed, Mode::Apply, now(), Instant::now());
        let Ok(Outcome::Rejected { problems, .. }) = outcome else {
            panic!("{outcome:?}")
        };
        assert!(
            problems[0].message.contains("booked by +447400123456"),
            "{problems:?}"
        );
        let tx = store.read().unwrap();
        assert!(tx.shifts().get("NEW1").unwrap().is_none());
        assert_eq!(tx.shifts().get("XYZ123").unwrap().unwrap().info, "Mon");
    }

    #[test]
    fn conditional_writes_refuse_what_changed() {
        let mut store = Store::open_in_memory().unwrap();
        let ann = E164::from_international("+447400123456").unwrap();
        let tx = store.transaction().unwrap();
        let import = tx.import();
        assert!(import.add_shift("XYZ123", "Mon", now()).unwrap());
        assert!(!import.add_shift("xyz123", "Mon", now()).unwrap());
        assert!(!import.set_shift_info("XYZ123", "Sun", "Tue").unwrap());
        assert!(import.set_shift_info("XYZ123", "Mon", "Tue").unwrap());
        assert!(import.add_employee(&ann, Some("Ann"), true, now()).unwrap());
        assert!(!import.add_employee(&ann, None, true, now()).unwrap());
        assert!(!import.rename_employee(&ann, None, "Ann Smith").unwrap());
        assert!(
            import
                .rename_employee(&ann, Some("Ann"), "Ann Smith")
                .unwrap()
        );
        assert!(!import.set_employee_subscribed(&ann, true).unwrap());
        assert!(import.set_employee_subscribed(&ann, false).unwrap());
        assert!(import.set_employee_subscribed(&ann, true).unwrap());
        // After her own STOP, only START subscribes her again.
        tx.employees().set_subscribed(&ann, false, now()).unwrap();
        assert!(!import.set_employee_subscribed(&ann, true).unwrap());
        assert!(import.add_campaign("c1", "XYZ123", now()).unwrap());
        assert!(!import.add_campaign("c1", "XYZ123", now()).unwrap());
        tx.shifts().take("XYZ123", &ann, now()).unwrap();
        assert!(!import.set_shift_info("XYZ123", "Tue", "Wed").unwrap());
    }
}
