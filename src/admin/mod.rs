//! The admin subcommands: what a scheduler or IT person does from a shell instead of typing SQL
//! into `sqlite3` (list shifts and bookings, add and remove shifts and employees, create a
//! campaign, look at the queues and the AGENT callbacks). Each acts on the database named by the config, through the
//! store like the daemon does, so it can run while the daemon runs.
//!
//! [`run`] takes everything from outside as arguments (database path, default country, time
//! zone for display, the clock, where to write), so tests drive it without a terminal.

mod callbacks;
mod campaigns;
mod employees;
mod queues;
mod shifts;
pub mod status;
pub mod table;

use std::io::{self, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::service::phone::{DefaultCountry, E164, PhoneError};
use crate::service::shift_code::ShiftCodeError;
use crate::store::outbox::{Kind, OutboxState};
use crate::store::{Store, StoreError};

/// The admin subcommands, flattened into the `shiftsms` command line.
#[derive(Debug, Clone, Subcommand)]
pub enum AdminCommand {
    /// Shifts and who booked them (the shift_status table). Without a subcommand: list them.
    Shifts {
        #[command(subcommand)]
        command: Option<ShiftsCommand>,
    },
    /// Employees: who may use the service and who gets shift offers. Without a subcommand:
    /// list them.
    Employees {
        #[command(subcommand)]
        command: Option<EmployeesCommand>,
    },
    /// Campaigns: broadcasts of open shifts to every subscribed employee. Without a
    /// subcommand: list them.
    Campaigns {
        #[command(subcommand)]
        command: Option<CampaignsCommand>,
    },
    /// Summary of what is waiting: messages to send by kind and state, texts received but not
    /// yet acted on, open callbacks, and the latest failures.
    Queues,
    /// Messages to send or sent, newest first.
    Outbox(OutboxArgs),
    /// Texts received, newest first.
    Inbox(InboxArgs),
    /// AGENT requests: which agent was phoned, where each stands, why one failed. With an
    /// id: that callback and its history.
    Callbacks(CallbacksArgs),
}

#[derive(Debug, Clone, Subcommand)]
pub enum ShiftsCommand {
    /// List shifts in the order they were added, with who booked them.
    List {
        /// Only shifts nobody has booked.
        #[arg(long, conflicts_with = "taken")]
        available: bool,
        /// Only booked shifts.
        #[arg(long)]
        taken: bool,
    },
    /// Add a shift employees can book by texting its code.
    Add {
        /// The code employees text back: 2 to 16 letters and digits with at least one digit,
        /// e.g. XYZ123 (stored in upper case; employees may text it in any case).
        code: String,
        /// What employees are told about it, e.g. "Mon 06:00-14:00 Line 3".
        #[arg(default_value = "", hide_default_value = true)]
        info: String,
    },
    /// Delete a shift (booked or not).
    Remove {
        /// The shift's code, in any case.
        code: String,
    },
    /// Make a booked shift available again (the employee cannot come after all). Nobody is
    /// texted about it.
    Release {
        /// The shift's code, in any case.
        code: String,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum EmployeesCommand {
    /// List employees by phone number.
    List,
    /// Put a phone number on the whitelist, subscribed to shift offers.
    Add {
        /// The phone number, as written locally ("07400 123456", quoted if it has spaces) or
        /// internationally ("+44 7400 123456"); stored in E.164 form (+447400123456).
        phone: String,
        /// Their name, shown in lists and bookings.
        #[arg(long)]
        name: Option<String>,
    },
    /// Take a phone number off the whitelist (their past bookings are kept).
    Remove {
        /// The phone number, in any spelling.
        phone: String,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum CampaignsCommand {
    /// List campaigns, oldest first, with how far each got.
    List,
    /// Create a campaign: the running daemon texts it once to every subscribed employee.
    Create {
        /// The shifts on offer, as they will appear in the text, naming each shift's code,
        /// e.g. "XYZ123 Mon 06:00-14:00, XYZ222 Tue 14:00-22:00".
        shifts: String,
        /// A name for the campaign (default: the current UTC date and time).
        #[arg(long)]
        id: Option<String>,
    },
}

#[derive(Debug, Clone, Args)]
pub struct OutboxArgs {
    /// Only messages in this state: queued, sending, sent, failed or cancelled.
    #[arg(long, value_parser = parse_state)]
    pub state: Option<OutboxState>,
    /// Only messages of this kind: reply, denied, agent, alert or broadcast.
    #[arg(long, value_parser = parse_kind)]
    pub kind: Option<Kind>,
    /// How many to show.
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
}

#[derive(Debug, Clone, Args)]
pub struct InboxArgs {
    /// Only texts not yet acted on.
    #[arg(long)]
    pub unprocessed: bool,
    /// How many to show.
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
}

#[derive(Debug, Clone, Args)]
pub struct CallbacksArgs {
    /// Show this callback with its history.
    pub id: Option<i64>,
    /// Only callbacks not yet done or failed.
    #[arg(long, conflicts_with = "id")]
    pub open: bool,
    /// How many to show, newest first.
    #[arg(long, default_value_t = 20, conflicts_with = "id")]
    pub limit: u32,
}

fn parse_state(text: &str) -> Result<OutboxState, String> {
    OutboxState::ALL
        .into_iter()
        .find(|state| state.as_str().eq_ignore_ascii_case(text.trim()))
        .ok_or_else(|| "expected queued, sending, sent, failed or cancelled".to_string())
}

fn parse_kind(text: &str) -> Result<Kind, String> {
    Kind::ALL
        .into_iter()
        .find(|kind| kind.as_str().eq_ignore_ascii_case(text.trim()))
        .ok_or_else(|| "expected reply, denied, agent, alert or broadcast".to_string())
}

/// What an admin command needs from outside.
#[derive(Debug, Clone)]
pub struct Context {
    /// `[database] path` from the config.
    pub database: PathBuf,
    /// `[phone] default_country` from the config, for numbers typed without `+`.
    pub default_country: DefaultCountry,
    /// How times are shown (the database keeps UTC).
    pub time_zone: TimeZone,
    pub now: Timestamp,
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Phone(#[from] PhoneError),
    #[error(transparent)]
    ShiftCode(#[from] ShiftCodeError),
    #[error("no shift has the code {0:?} (`shiftsms shifts` lists them)")]
    NoSuchShift(String),
    #[error("{0} is not an employee (`shiftsms employees` lists them)")]
    NoSuchEmployee(E164),
    #[error("shift {0} is not booked, so there is nothing to release")]
    NotBooked(String),
    #[error(
        "the campaign's shifts text is empty: name the shifts on offer, e.g. \"XYZ123 Mon 06:00-14:00\""
    )]
    EmptyCampaign,
    #[error("no callback has the id {0} (`shiftsms callbacks` lists them)")]
    NoSuchCallback(i64),
    #[error("writing the output: {0}")]
    Output(#[from] io::Error),
    #[error(
        "there is no database at {}: check [database] path in the config (shiftsms creates it \
         at its first start)",
        .0.display()
    )]
    NoDatabase(PathBuf),
}

/// Run one admin command against the database, writing what it shows or did to `out`.
pub fn run(command: &AdminCommand, ctx: &Context, out: &mut impl Write) -> Result<(), AdminError> {
    let mut store = Store::open(&ctx.database)?;
    match command {
        AdminCommand::Shifts { command } => shifts::run(command.as_ref(), &mut store, ctx, out),
        AdminCommand::Employees { command } => {
            employees::run(command.as_ref(), &mut store, ctx, out)
        }
        AdminCommand::Campaigns { command } => {
            campaigns::run(command.as_ref(), &mut store, ctx, out)
        }
        AdminCommand::Queues => queues::summary(&mut store, ctx, out),
        AdminCommand::Outbox(args) => queues::outbox(args, &mut store, ctx, out),
        AdminCommand::Inbox(args) => queues::inbox(args, &mut store, ctx, out),
        AdminCommand::Callbacks(args) => callbacks::run(args, &mut store, ctx, out),
    }
}

/// `shiftsms status`: print how the site is and return the verdict its exit status comes
/// from (see [`status`]). Never creates the database.
pub fn status(ctx: &Context, out: &mut impl Write) -> Result<status::Verdict, AdminError> {
    if !ctx.database.exists() {
        return Err(AdminError::NoDatabase(ctx.database.clone()));
    }
    let mut store = Store::open(&ctx.database)?;
    status::run(&mut store, ctx, out)
}

/// A time as shown to people: minutes, in the configured zone, with the zone's abbreviation.
fn show_time(at: Timestamp, ctx: &Context) -> String {
    at.to_zoned_datetime(ctx.time_zone.clone())
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// "1 shift", "2 shifts".
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Site {
        _dir: tempfile::TempDir,
        ctx: Context,
    }

    fn site() -> Site {
        let dir = tempfile::tempdir().unwrap();
        let ctx = Context {
            database: dir.path().join("shiftsms.db"),
            default_country: "GB".parse().unwrap(),
            time_zone: TimeZone::UTC,
            now: "2024-05-01T09:00:00Z".parse().unwrap(),
        };
        Site { _dir: dir, ctx }
    }

    fn run_ok(site: &Site, command: AdminCommand) -> String {
        let mut out = Vec::new();
        run(&command, &site.ctx, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn run_err(site: &Site, command: AdminCommand) -> AdminError {
        run(&command, &site.ctx, &mut Vec::new()).unwrap_err()
    }

    fn shifts(command: ShiftsCommand) -> AdminCommand {
        AdminCommand::Shifts {
            command: Some(command),
        }
    }

    fn employees(command: EmployeesCommand) -> AdminCommand {
        AdminCommand::Employees {
            command: Some(command),
        }
    }

    #[test]
    fn shifts_are_added_listed_booked_released_and_removed() {
        let site = site();
        let add = |code: &str, info: &str| {
            shifts(ShiftsCommand::Add {
                code: code.into(),
                info: info.into(),
            })
        };
        assert_eq!(
            run_ok(&site, add("xyz123", "Mon 06:00-14:00 Line 3")),
            "Added shift XYZ123: available.\n"
        );
        run_ok(&site, add("XYZ222", "Tue 14:00-22:00"));
        run_ok(
            &site,
            employees(EmployeesCommand::Add {
                phone: "07400 123456".into(),
                name: Some("Ann".into()),
            }),
        );
        let ann = E164::from_international("+447400123456").unwrap();
        let mut store = Store::open(&site.ctx.database).unwrap();
        let tx = store.transaction().unwrap();
        tx.shifts()
            .take("XYZ222", &ann, "2024-05-01T10:30:00Z".parse().unwrap())
            .unwrap();
        tx.commit().unwrap();

        assert_eq!(
            run_ok(&site, AdminCommand::Shifts { command: None }),
            "CODE    STATUS     BOOKED BY            BOOKED AT             INFO\n\
             XYZ123  available                                             Mon 06:00-14:00 Line 3\n\
             XYZ222  taken      +447400123456 (Ann)  2024-05-01 10:30 UTC  Tue 14:00-22:00\n\
             2 shifts: 1 available, 1 taken\n"
        );
        let taken = run_ok(
            &site,
            shifts(ShiftsCommand::List {
                available: false,
                taken: true,
            }),
        );
        assert!(
            taken.contains("XYZ222") && !taken.contains("XYZ123"),
            "{taken}"
        );

        assert_eq!(
            run_ok(
                &site,
                shifts(ShiftsCommand::Release {
                    code: "xyz222".into()
                })
            ),
            "Shift XYZ222 is available again (it was booked by +447400123456).\n"
        );
        assert!(matches!(
            run_err(
                &site,
                shifts(ShiftsCommand::Release {
                    code: "xyz222".into()
                })
            ),
            AdminError::NotBooked(_)
        ));
        assert_eq!(
            run_ok(
                &site,
                shifts(ShiftsCommand::Remove {
                    code: "xyz123".into()
                })
            ),
            "Removed shift XYZ123.\n"
        );
        let err = run_err(
            &site,
            shifts(ShiftsCommand::Remove {
                code: "xyz123".into(),
            }),
        );
        assert!(matches!(err, AdminError::NoSuchShift(_)), "{err:?}");

        let err = run_err(&site, add("XYZ222", ""));
        assert_eq!(err.to_string(), "shift XYZ222 already exists");
        let err = run_err(&site, add("ABC", ""));
        assert!(matches!(err, AdminError::ShiftCode(_)), "{err:?}");
        assert!(err.to_string().contains("it has no digit"), "{err}");
    }

    #[test]
    fn employees_are_normalised_listed_and_removed() {
        let site = site();
        let add = |phone: &str, name: Option<&str>| {
            employees(EmployeesCommand::Add {
                phone: phone.into(),
                name: name.map(String::from),
            })
        };
        assert_eq!(
            run_ok(&site, add("07400 123456", Some("Ann"))),
            "Added employee +447400123456 (Ann), subscribed to shift offers.\n"
        );
        run_ok(&site, add("+33 6 12 34 56 78", None));
        let err = run_err(&site, add("+44 7400 123456", None));
        assert_eq!(err.to_string(), "employee +447400123456 already exists");
        let err = run_err(&site, add("12345", None));
        assert!(matches!(err, AdminError::Phone(_)), "{err:?}");

        let mut store = Store::open(&site.ctx.database).unwrap();
        let tx = store.transaction().unwrap();
        let fr = E164::from_international("+33612345678").unwrap();
        tx.employees()
            .set_subscribed(&fr, false, "2024-05-02T08:00:00Z".parse().unwrap())
            .unwrap();
        tx.commit().unwrap();

        assert_eq!(
            run_ok(&site, AdminCommand::Employees { command: None }),
            "PHONE          NAME  SUBSCRIBED                      ADDED\n\
             +33612345678         no (STOP 2024-05-02 08:00 UTC)  2024-05-01 09:00 UTC\n\
             +447400123456  Ann   yes                             2024-05-01 09:00 UTC\n\
             2 employees, 1 subscribed to shift offers\n"
        );
        assert_eq!(
            run_ok(
                &site,
                employees(EmployeesCommand::Remove {
                    phone: "0033612345678".into()
                })
            ),
            "Removed employee +33612345678.\n"
        );
        let err = run_err(
            &site,
            employees(EmployeesCommand::Remove {
                phone: "+33612345678".into(),
            }),
        );
        assert!(matches!(err, AdminError::NoSuchEmployee(_)), "{err:?}");
    }

    #[test]
    fn campaigns_are_created_and_their_progress_listed() {
        let site = site();
        run_ok(
            &site,
            employees(EmployeesCommand::Add {
                phone: "07400 123456".into(),
                name: None,
            }),
        );
        let create = |shifts: &str, id: Option<&str>| AdminCommand::Campaigns {
            command: Some(CampaignsCommand::Create {
                shifts: shifts.into(),
                id: id.map(String::from),
            }),
        };
        assert_eq!(
            run_ok(&site, create("XYZ123 Mon 06:00-14:00", None)),
            "Created campaign 2024-05-01-090000. The running daemon (`shiftsms run`) texts it \
             to 1 subscribed employee.\n"
        );
        run_ok(&site, create("XYZ222 Tue", Some("tuesday")));
        assert!(matches!(
            run_err(&site, create("  ", Some("blank"))),
            AdminError::EmptyCampaign
        ));

        let mut store = Store::open(&site.ctx.database).unwrap();
        let tx = store.transaction().unwrap();
        let ann = E164::from_international("+447400123456").unwrap();
        tx.campaigns()
            .start(
                "tuesday",
                1,
                "Available shifts: XYZ222 Tue",
                &[ann],
                site.ctx.now,
            )
            .unwrap();
        tx.commit().unwrap();

        assert_eq!(
            run_ok(&site, AdminCommand::Campaigns { command: None }),
            "ID                 STATUS   CREATED               SENT  SHIFTS\n\
             2024-05-01-090000  new      2024-05-01 09:00 UTC  -     XYZ123 Mon 06:00-14:00\n\
             tuesday            sending  2024-05-01 09:00 UTC  0/1   XYZ222 Tue\n"
        );
    }

    #[test]
    fn queues_show_what_waits_and_what_failed() {
        let site = site();
        assert_eq!(
            run_ok(
                &site,
                AdminCommand::Outbox(OutboxArgs {
                    state: None,
                    kind: None,
                    limit: 20
                })
            ),
            "No messages.\n"
        );
        let mut store = Store::open(&site.ctx.database).unwrap();
        let ann = E164::from_international("+447400123456").unwrap();
        let tx = store.transaction().unwrap();
        let queue = |text: &str, kind| {
            tx.outbox()
                .queue(
                    &crate::store::outbox::Outgoing {
                        recipient: &ann,
                        text,
                        kind,
                        cause: None,
                    },
                    site.ctx.now,
                )
                .unwrap()
        };
        queue("You got XYZ123", Kind::Reply);
        let failed = queue("Available shifts: XYZ222", Kind::Broadcast);
        tx.outbox().begin_part(failed, 1, 1, site.ctx.now).unwrap();
        tx.outbox()
            .fail(failed, "+CMS ERROR: 500", site.ctx.now)
            .unwrap();
        let sender = crate::service::phone::Sender::Phone(ann.clone());
        tx.inbox()
            .assemble(
                &[],
                &crate::store::inbox::NewInbound {
                    sender: &sender,
                    text: "xyz123",
                    sent_at: None,
                    received_at: site.ctx.now,
                },
            )
            .unwrap();
        tx.commit().unwrap();

        assert_eq!(
            run_ok(&site, AdminCommand::Queues),
            "Outbox\n\
             KIND       queued  sending  sent  failed  cancelled\n\
             reply           1        0     0       0          0\n\
             denied          0        0     0       0          0\n\
             agent           0        0     0       0          0\n\
             alert           0        0     0       0          0\n\
             broadcast       0        0     0       1          0\n\
             \n\
             Inbox: 1 text waiting to be acted on, 0 parts waiting for the rest of their message.\n\
             Callbacks: 0 open.\n\
             \n\
             Latest failures\n\
             ID  TO             KIND       FAILED AT             REASON\n\
             \x202  +447400123456  broadcast  2024-05-01 09:00 UTC  +CMS ERROR: 500\n"
        );
        let queued = run_ok(
            &site,
            AdminCommand::Outbox(OutboxArgs {
                state: Some(OutboxState::Queued),
                kind: None,
                limit: 20,
            }),
        );
        assert_eq!(
            queued,
            "ID  STATE   KIND   TO             TRIES  CREATED               TEXT            LAST ERROR\n\
             \x201  queued  reply  +447400123456      0  2024-05-01 09:00 UTC  You got XYZ123\n"
        );
        let inbox = run_ok(
            &site,
            AdminCommand::Inbox(InboxArgs {
                unprocessed: true,
                limit: 20,
            }),
        );
        assert!(
            inbox.contains("(not yet processed)") && inbox.contains("xyz123"),
            "{inbox}"
        );
    }

    #[test]
    fn callbacks_are_listed_and_one_shown_with_its_history() {
        use crate::store::callbacks::{CallbackState, Change, Round};
        let site = site();
        let none = AdminCommand::Callbacks(CallbacksArgs {
            id: None,
            open: false,
            limit: 20,
        });
        assert_eq!(run_ok(&site, none.clone()), "No callbacks.\n");
        run_ok(
            &site,
            employees(EmployeesCommand::Add {
                phone: "07400 123456".into(),
                name: Some("Ann".into()),
            }),
        );
        let ann = E164::from_international("+447400123456").unwrap();
        let agent = E164::from_international("+441234567890").unwrap();
        let now = site.ctx.now;
        let mut store = Store::open(&site.ctx.database).unwrap();
        let tx = store.transaction().unwrap();
        let waiting = tx
            .callbacks()
            .queue(&ann, "my badge does not open gate 4", None, now)
            .unwrap();
        let failed = tx.callbacks().queue(&ann, "pay", None, now).unwrap();
        let change = |from, to, reason| Change {
            from,
            to,
            reason,
            round: Round::Same,
            agent: None,
            next_attempt_at: None,
            outcome: None,
            error: None,
        };
        tx.callbacks()
            .record(
                failed,
                &Change {
                    round: Round::New,
                    agent: Some(&agent),
                    ..change(
                        CallbackState::Queued,
                        CallbackState::Dialling,
                        "calling agent +441234567890",
                    )
                },
                now,
            )
            .unwrap();
        tx.callbacks()
            .record(
                failed,
                &Change {
                    outcome: Some("agent +441234567890 was busy; employee told"),
                    ..change(
                        CallbackState::Dialling,
                        CallbackState::Failed,
                        "agent +441234567890 was busy; employee told",
                    )
                },
                now,
            )
            .unwrap();
        tx.commit().unwrap();
        drop(store);

        assert_eq!(
            run_ok(&site, none),
            "ID  STATE   EMPLOYEE             REQUESTED             ROUNDS  AGENT          REQUEST                        WHERE IT STANDS\n\
             \x202  failed  +447400123456 (Ann)  2024-05-01 09:00 UTC       1  +441234567890  pay                            agent +441234567890 was busy; employee told\n\
             \x201  queued  +447400123456 (Ann)  2024-05-01 09:00 UTC       0                 my badge does not open gate 4  waiting for its turn\n\
             2 callbacks shown, 1 open. `shiftsms callbacks ID` shows one with its history.\n"
        );
        let open = run_ok(
            &site,
            AdminCommand::Callbacks(CallbacksArgs {
                id: None,
                open: true,
                limit: 20,
            }),
        );
        assert!(
            open.contains(&format!(" {}  queued", waiting.0)) && !open.contains("pay "),
            "{open}"
        );
        let shown = run_ok(
            &site,
            AdminCommand::Callbacks(CallbacksArgs {
                id: Some(failed.0),
                open: false,
                limit: 20,
            }),
        );
        assert_eq!(
            shown,
            "Callback 2\n\
             \x20 employee:   +447400123456 (Ann)\n\
             \x20 request:    \"pay\"\n\
             \x20 requested:  2024-05-01 09:00 UTC\n\
             \x20 state:      failed\n\
             \x20 rounds:     1\n\
             \x20 agent:      +441234567890 (the last one phoned)\n\
             \x20 stands:     agent +441234567890 was busy; employee told\n\
             \n\
             AT                    CHANGE              AGENT          REASON\n\
             2024-05-01 09:00 UTC  queued                             AGENT text received\n\
             2024-05-01 09:00 UTC  queued -> dialling  +441234567890  calling agent +441234567890\n\
             2024-05-01 09:00 UTC  dialling -> failed                 agent +441234567890 was busy; employee told\n"
        );
        let err = run_err(
            &site,
            AdminCommand::Callbacks(CallbacksArgs {
                id: Some(99),
                open: false,
                limit: 20,
            }),
        );
        assert!(matches!(err, AdminError::NoSuchCallback(99)), "{err:?}");
    }

    #[test]
    fn state_and_kind_words_parse_in_any_case() {
        assert_eq!(parse_state(" Sent"), Ok(OutboxState::Sent));
        assert_eq!(parse_kind("BROADCAST"), Ok(Kind::Broadcast));
        assert!(parse_state("done").unwrap_err().contains("queued, sending"));
    }
}
