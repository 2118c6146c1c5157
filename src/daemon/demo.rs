//! `shiftsms demo`: the real daemon ([`super::start`]) on a built-in virtual modem and a
//! throw-away database with sample shifts and employees, playing a short conversation and
//! printing it as a transcript a newcomer can read: who texted what, what shiftsms answered,
//! and what the database says at the end. `--interactive` lets a person type the texts.
//!
//! Nothing is faked on the daemon's side: the texts go through the pty as PDUs, exactly as
//! from a USB modem, and the scheduler's campaign is a plain `INSERT` on a connection of its
//! own, as from the `sqlite3` prompt.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;

use super::shutdown::Shutdown;
use super::{DaemonError, Health, Tuning};
use crate::config::{Config, ConfigError};
use crate::service::phone::E164;
use crate::store::callbacks::CallbackState;
use crate::store::shifts::{ShiftFilter, ShiftStatus};
use crate::store::{Store, StoreError};
use crate::virtual_modem::{
    CallEventKind, CallScript, Direction, SentSms, VirtualModem, VmError, VmOptions,
};

/// The sample staff: (name, number).
const EMPLOYEES: [(&str, &str); 5] = [
    ("Ann", "+447400123456"),
    ("Bob", "+447400234567"),
    ("Cat", "+447400345678"),
    ("Dan", "+447400456789"),
    ("Eve", "+447400567890"),
];

/// Someone not in `employees`.
const STRANGER: &str = "+447400999000";

/// The agent phoned for AGENT (the virtual modem's network answers for them).
const AGENT: &str = "+441234567890";

/// How long the agent's and Ann's phones ring before they pick up.
const PICK_UP: Duration = Duration::from_millis(1_500);

const SHIFTS: [(&str, &str); 4] = [
    ("XYZ123", "Mon 06:00-14:00 Line 3"),
    ("XYZ222", "Tue 14:00-22:00 Line 1"),
    ("ABC777", "Wed 22:00-06:00 Dock"),
    ("DEF456", "Sat 06:00-14:00 Packing"),
];

/// How long one step may wait for its replies.
const PATIENCE: Duration = Duration::from_secs(15);

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    // No #[source] where the message already quotes the cause: `{:#}` would say it twice.
    #[error("creating the demo's temporary directory: {0}")]
    TempDir(std::io::Error),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Modem(#[from] VmError),
    #[error(transparent)]
    Daemon(#[from] DaemonError),
    #[error("the daemon did not start serving within {0:?}")]
    NotServing(Duration),
    #[error("writing the transcript: {0}")]
    Output(std::io::Error),
}

/// A directory of its own under the system's temporary directory, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path =
            std::env::temp_dir().join(format!("shiftsms-demo-{}-{nanos:09}", std::process::id()));
        std::fs::create_dir(&path)?;
        Ok(TempDir(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl From<std::io::Error> for DemoError {
    fn from(err: std::io::Error) -> Self {
        DemoError::Output(err)
    }
}

/// The demo site: a virtual modem, a database, a running daemon.
struct Site {
    /// Removed (with the database in it) when the site is dropped.
    _dir: TempDir,
    db: PathBuf,
    vm: VirtualModem,
    trigger: super::shutdown::Trigger,
    daemon: tokio::task::JoinHandle<Result<(), DaemonError>>,
    /// How many messages sent by the daemon were printed already.
    shown: usize,
}

fn name_of(number: &str) -> String {
    if number == AGENT {
        return format!("the agent ({AGENT})");
    }
    EMPLOYEES
        .iter()
        .find(|(_, phone)| *phone == number)
        .map_or_else(|| number.to_string(), |(name, _)| (*name).to_string())
}

fn number_of(name: &str) -> Option<&'static str> {
    EMPLOYEES
        .iter()
        .find(|(n, phone)| n.eq_ignore_ascii_case(name) || *phone == name)
        .map(|(_, phone)| *phone)
}

fn config_text(dir: &Path, port: &Path) -> String {
    format!(
        r#"
[modem]
port = {port:?}

[database]
path = {db:?}

[drop]
dir = {drop:?}

[agent]
numbers = ["{AGENT}"]

[phone]
default_country = "GB"

[outbox]
pause = "0s"
"#,
        db = dir.join("shiftsms.db"),
        drop = dir.join("drop"),
    )
}

impl Site {
    async fn start() -> Result<Site, DemoError> {
        let dir = TempDir::new().map_err(DemoError::TempDir)?;
        let link = dir.path().join("modem");
        let vm = VirtualModem::start(VmOptions {
            symlink: Some(link.clone()),
            ..VmOptions::default()
        })?;
        // The agent and Ann pick up when phoned.
        vm.script_call(AGENT, CallScript::answered_after(PICK_UP));
        if let Some((_, ann)) = EMPLOYEES.first() {
            vm.script_call(ann, CallScript::answered_after(PICK_UP));
        }
        let config_path = dir.path().join("config.toml");
        let config = Config::from_toml(&config_text(dir.path(), &link), &config_path)?;
        let db = config.database.path.clone();
        seed(&db)?;
        let (trigger, shutdown) = Shutdown::new();
        let running = super::start(config, Tuning::default(), shutdown);
        let mut health = running.health;
        let serving = tokio::time::timeout(
            PATIENCE,
            health.wait_for(|health| *health == Health::Serving),
        )
        .await;
        if !matches!(serving, Ok(Ok(_))) {
            trigger.fire();
            return match running.done.await {
                Ok(Err(err)) => Err(err.into()),
                _ => Err(DemoError::NotServing(PATIENCE)),
            };
        }
        Ok(Site {
            _dir: dir,
            db,
            vm,
            trigger,
            daemon: running.done,
            shown: 0,
        })
    }

    /// Stop the daemon at a safe point and wait for it (the database stays readable until
    /// the site is dropped).
    async fn stop(&mut self) -> Result<(), DemoError> {
        self.trigger.fire();
        match (&mut self.daemon).await {
            Ok(result) => Ok(result?),
            Err(join) => Err(DemoError::Daemon(DaemonError::Task {
                task: "daemon",
                why: join.to_string(),
            })),
        }
    }

    fn sent(&self) -> Vec<SentSms> {
        self.vm
            .sent()
            .unwrap_or_default()
            .into_iter()
            .filter(|sms| sms.complete)
            .collect()
    }

    /// Wait until `count` more complete messages than shown so far were sent; return the new
    /// ones (in sending order) and count them as shown.
    async fn replies(&mut self, count: usize) -> Result<Vec<SentSms>, DemoError> {
        let want = self.shown + count;
        self.vm
            .wait_until(PATIENCE, &format!("{count} repl(ies)"), |vm| {
                vm.sent().map_or(true, |sent| {
                    sent.iter().filter(|sms| sms.complete).count() >= want
                })
            })
            .await?;
        let new: Vec<SentSms> = self.sent().into_iter().skip(self.shown).collect();
        self.shown += new.len();
        Ok(new)
    }

    /// Run SQL on a connection of its own, as a person at the `sqlite3` prompt.
    fn sql(&self, sql: &str) -> Result<(), DemoError> {
        let conn = rusqlite::Connection::open(&self.db).map_err(|e| StoreError::Open {
            path: self.db.clone(),
            source: e,
        })?;
        conn.busy_timeout(Duration::from_secs(5))
            .and_then(|()| conn.execute_batch(sql))
            .map_err(|e| StoreError::Sql {
                doing: format!("running {sql}"),
                source: e,
            })?;
        Ok(())
    }
}

/// Sample shifts and employees.
fn seed(db: &Path) -> Result<(), StoreError> {
    let mut store = Store::open(db)?;
    let now = Timestamp::now();
    let tx = store.transaction()?;
    for (name, phone) in EMPLOYEES {
        if let Some(phone) = E164::from_international(phone) {
            tx.employees().add(&phone, Some(name), now)?;
        }
    }
    for (code, info) in SHIFTS {
        tx.shifts().add(code, info, now)?;
    }
    tx.commit()
}

/// Indent the lines after the first of `text` to `width` columns.
fn block(text: &str, width: usize) -> String {
    text.lines()
        .collect::<Vec<_>>()
        .join(&format!("\n{}", " ".repeat(width)))
}

fn says(out: &mut impl Write, who: &str, to: &str, text: &str) -> std::io::Result<()> {
    let head = format!("  {who} -> {to}: ");
    writeln!(out, "{head}{}", block(text, head.len()))
}

fn heading(out: &mut impl Write, title: &str) -> std::io::Result<()> {
    writeln!(out)?;
    writeln!(out, "-- {title}")
}

/// The scripted demo, printed to `out`.
pub async fn scripted(out: &mut impl Write) -> Result<(), DemoError> {
    let mut site = Site::start().await?;
    writeln!(
        out,
        "shiftsms demo: the real daemon on a virtual GSM modem ({}), with a throw-away \
         database.",
        site.vm.path().display()
    )?;
    let staff: Vec<String> = EMPLOYEES
        .iter()
        .map(|(name, phone)| format!("{name} {phone}"))
        .collect();
    writeln!(out, "Employees: {}.", staff.join(", "))?;
    let shifts: Vec<String> = SHIFTS
        .iter()
        .map(|(code, info)| format!("{code} ({info})"))
        .collect();
    writeln!(out, "Open shifts: {}.", shifts.join(", "))?;

    let result = play(&mut site, out).await;
    let stopped = site.stop().await;
    result?;
    stopped?;
    heading(out, "What the database says now (shiftsms stopped cleanly)")?;
    database_summary(&site, out)?;
    writeln!(out)?;
    writeln!(
        out,
        "The same, on your own modem: set [modem] port in config.toml and run `shiftsms run`."
    )?;
    Ok(())
}

async fn play(site: &mut Site, out: &mut impl Write) -> Result<(), DemoError> {
    heading(
        out,
        "1. A scheduler adds a campaign, here with sqlite3 (a CSV or `shiftsms campaigns add` \
         works as well)",
    )?;
    let offer = "XYZ123 Mon 06:00-14:00 Line 3, XYZ222 Tue 14:00-22:00 Line 1, ABC777 Wed \
                 22:00-06:00 Dock, DEF456 Sat 06:00-14:00 Packing";
    let insert =
        format!("INSERT INTO shift_campaigns (campaign_id, shifts) VALUES ('week-12', '{offer}');");
    writeln!(out, "  sqlite> {insert}")?;
    site.sql(&insert)?;
    let broadcast = site.replies(EMPLOYEES.len()).await?;
    let order: Vec<String> = broadcast.iter().map(|sms| name_of(&sms.to)).collect();
    writeln!(
        out,
        "  shiftsms noticed the new row within a second and texted every subscribed employee, \
         in an order shuffled for this campaign: {}.",
        order.join(", ")
    )?;
    if let Some(first) = broadcast.first() {
        says(
            out,
            "shiftsms",
            "each",
            &format!("{} ({} SMS parts)", first.text, first.parts),
        )?;
    }

    heading(out, "2. Ann asks what is still available")?;
    exchange(site, out, &[("Ann", "REQUEST")]).await?;

    heading(out, "3. Bob books two shifts, typing in a hurry")?;
    exchange(site, out, &[("Bob", "  xyz123 ,#abc777. ")]).await?;

    heading(
        out,
        "4. Cat and Dan race for DEF456: their texts reach the modem in the same instant",
    )?;
    exchange(site, out, &[("Cat", "DEF456"), ("Dan", "def456")]).await?;
    let winner = {
        let mut store = Store::open(&site.db)?;
        let tx = store.read()?;
        match tx.shifts().get("DEF456")?.map(|shift| shift.status) {
            Some(ShiftStatus::Taken { by: Some(by), .. }) => name_of(by.as_str()),
            _ => "nobody".to_string(),
        }
    };
    writeln!(
        out,
        "  Exactly one booking was made ({winner}); both answers say what happened."
    )?;

    heading(out, "5. A number that is not in the employees table")?;
    exchange(site, out, &[(STRANGER, "XYZ222")]).await?;
    writeln!(
        out,
        "  (It is told once a day at most: unknown numbers cost money.)"
    )?;

    heading(out, "6. Eve stops the offers, then changes her mind")?;
    exchange(site, out, &[("Eve", "STOP")]).await?;
    exchange(site, out, &[("Eve", "Start")]).await?;

    heading(out, "7. Ann asks to speak to someone")?;
    exchange(site, out, &[("Ann", "AGENT my badge does not open gate 4")]).await?;
    let callback = wait_for_callback(site).await?;
    writeln!(
        out,
        "  shiftsms phoned the agent ({AGENT}) through the modem, put them on hold, phoned \
         Ann, and joined the two calls:"
    )?;
    for line in voice_commands(&site.vm) {
        writeln!(out, "    modem <- {line}")?;
    }
    for (number, events) in calls_by_number(&site.vm) {
        writeln!(out, "    call to {}: {events}", name_of(&number))?;
    }
    for note in site.replies(1).await? {
        says(out, "shiftsms", "agent", &note.text)?;
    }
    writeln!(
        out,
        "  callbacks: #{} for {} is {}: {}.",
        callback.id.0,
        name_of(callback.employee.as_str()),
        callback.state,
        callback.outcome.as_deref().unwrap_or("")
    )?;
    writeln!(
        out,
        "  (The agent gets that SMS in every case, so nothing depends on a call connecting; \
         on a site, `shiftsms callbacks` lists each callback and its steps.)"
    )?;
    Ok(())
}

/// Wait until callback 1 is done or failed.
async fn wait_for_callback(site: &Site) -> Result<crate::store::callbacks::Callback, DemoError> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let callback = {
            let mut store = Store::open(&site.db)?;
            let tx = store.read()?;
            tx.callbacks().get(crate::store::callbacks::CallbackId(1))?
        };
        if let Some(callback) = callback
            && matches!(callback.state, CallbackState::Done | CallbackState::Failed)
        {
            return Ok(callback);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(DemoError::Modem(VmError::Timeout {
                waited: PATIENCE,
                what: "the callback to finish".into(),
            }));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The call commands the daemon sent (`ATD`, `AT+CHLD`), without the `AT+CLCC` polls.
fn voice_commands(vm: &VirtualModem) -> Vec<String> {
    vm.transcript()
        .into_iter()
        .filter(|line| line.direction == Direction::ToModem)
        .map(|line| line.text)
        .filter(|text| {
            text.starts_with("ATD") || (text.starts_with("AT+CHLD=") && !text.ends_with('?'))
        })
        .collect()
}

/// What happened to each number's calls, in words, in the order they were first phoned.
fn calls_by_number(vm: &VirtualModem) -> Vec<(String, String)> {
    let mut out: Vec<(String, Vec<&'static str>)> = Vec::new();
    for event in vm.call_log() {
        let word = match event.kind {
            CallEventKind::Dialled => "dialled",
            CallEventKind::Alerting => "ringing",
            CallEventKind::Answered => "answered",
            CallEventKind::Held => "on hold",
            CallEventKind::Transferred => "transferred (the modem left the call)",
            CallEventKind::JoinedConference => "in a conference",
            CallEventKind::HungUp => "hung up by shiftsms",
            CallEventKind::RemoteHangUp => "hung up",
            other => {
                tracing::debug!("call event {other:?}");
                continue;
            }
        };
        match out.iter_mut().find(|(number, _)| *number == event.number) {
            Some((_, words)) => words.push(word),
            None => out.push((event.number, vec![word])),
        }
    }
    out.into_iter()
        .map(|(number, words)| (number, words.join(", ")))
        .collect()
}

/// Each (sender, text) is delivered at once, then their replies printed in the order sent.
async fn exchange(
    site: &mut Site,
    out: &mut impl Write,
    texts: &[(&str, &str)],
) -> Result<(), DemoError> {
    for (who, text) in texts {
        let from = number_of(who).unwrap_or(who);
        says(out, &name_of(from), "shiftsms", &format!("{text:?}"))?;
        site.vm.deliver_sms(from, text)?;
    }
    for reply in site.replies(texts.len()).await? {
        says(out, "shiftsms", &name_of(&reply.to), &reply.text)?;
    }
    Ok(())
}

fn database_summary(site: &Site, out: &mut impl Write) -> Result<(), DemoError> {
    let mut store = Store::open(&site.db)?;
    let tx = store.read()?;
    writeln!(out, "  shift_status:")?;
    for shift in tx.shifts().list(ShiftFilter::All)? {
        let status = match &shift.status {
            ShiftStatus::Available => "available".to_string(),
            ShiftStatus::Taken { by: Some(by), .. } => {
                format!("taken by {} ({by})", name_of(by.as_str()))
            }
            ShiftStatus::Taken { by: None, .. } => "taken".to_string(),
        };
        writeln!(out, "    {:<8} {:<26} {status}", shift.id, shift.info)?;
    }
    let subscribed: Vec<String> = tx
        .employees()
        .subscribed()?
        .iter()
        .map(|phone| name_of(phone.as_str()))
        .collect();
    writeln!(
        out,
        "  employees subscribed to offers: {}",
        subscribed.join(", ")
    )?;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for (kind, state, n) in tx.outbox().counts()? {
        *counts.entry(format!("{kind} {state}")).or_default() += n;
    }
    let counts: Vec<String> = counts
        .into_iter()
        .map(|(what, n)| format!("{n} {what}"))
        .collect();
    writeln!(out, "  outbox: {}", counts.join(", "))?;
    let callbacks: Vec<String> = tx
        .callbacks()
        .list(false, u32::MAX)?
        .iter()
        .map(|c| format!("#{} {}", c.id.0, c.state))
        .collect();
    writeln!(out, "  callbacks: {}", callbacks.join(", "))?;
    let (unprocessed, waiting) = tx.inbox().backlog()?;
    let received = tx.inbox().recent(u32::MAX)?.len();
    writeln!(
        out,
        "  inbox: {received} texts received, {unprocessed} waiting to be acted on, {waiting} \
         parts waiting for the rest of their message"
    )?;
    Ok(())
}

/// `--interactive`: a person types the texts.
/// `prompt`: show who is texting before each line (for a person at a terminal, not for
/// piped input).
pub async fn interactive(
    mut input: tokio::sync::mpsc::Receiver<String>,
    prompt: bool,
    out: &mut impl Write,
) -> Result<(), DemoError> {
    let mut site = Site::start().await?;
    writeln!(
        out,
        "shiftsms demo --interactive: the real daemon on a virtual modem ({}).",
        site.vm.path().display()
    )?;
    for (name, phone) in EMPLOYEES {
        writeln!(out, "  employee {name:<4} {phone}")?;
    }
    for (code, info) in SHIFTS {
        writeln!(out, "  shift    {code:<7} {info}")?;
    }
    writeln!(
        out,
        "Type a text to send it as the current employee (Ann). Also:\n  /as NAME-OR-NUMBER   \
         text as someone else (any +44... number: a stranger)\n  /campaign SHIFTS     a \
         scheduler adds a campaign\n  /quit"
    )?;
    let mut from = EMPLOYEES[0].1.to_string();
    loop {
        if prompt {
            write!(out, "{}> ", name_of(&from))?;
            out.flush()?;
        }
        let line = tokio::select! {
            line = input.recv() => line,
            replies = wait_for_any(&site) => {
                if prompt {
                    writeln!(out)?;
                }
                for reply in replies {
                    says(out, "shiftsms", &name_of(&reply.to), &reply.text)?;
                }
                site.shown = site.sent().len();
                continue;
            }
        };
        let Some(line) = line else { break };
        let line = line.trim_end();
        if let Some(who) = line.strip_prefix("/as ") {
            let who = who.trim();
            match number_of(who) {
                Some(number) => from = number.to_string(),
                None if who.starts_with('+') => from = who.to_string(),
                None => writeln!(out, "  no employee called {who:?}")?,
            }
        } else if let Some(shifts) = line.strip_prefix("/campaign ") {
            let id = format!("demo-{}", Timestamp::now().as_millisecond());
            let shifts = shifts.replace('\'', "''");
            site.sql(&format!(
                "INSERT INTO shift_campaigns (campaign_id, shifts) VALUES ('{id}', '{shifts}')"
            ))?;
        } else if line == "/quit" {
            break;
        } else if !line.is_empty() {
            if !prompt {
                says(out, &name_of(&from), "shiftsms", &format!("{line:?}"))?;
            }
            site.vm.deliver_sms(&from, line)?;
            // Show the answer before the next prompt, if it comes promptly.
            let want = site.shown + 1;
            let answered = site
                .vm
                .wait_until(Duration::from_secs(5), "a reply", |vm| {
                    vm.sent().map_or(true, |sent| {
                        sent.iter().filter(|sms| sms.complete).count() >= want
                    })
                })
                .await;
            for reply in site.sent().into_iter().skip(site.shown) {
                says(out, "shiftsms", &name_of(&reply.to), &reply.text)?;
            }
            site.shown = site.sent().len();
            if answered.is_err() {
                writeln!(out, "  (no reply)")?;
            }
        }
    }
    site.stop().await?;
    writeln!(out)?;
    database_summary(&site, out)?;
    Ok(())
}

/// Completes with the messages sent since the last shown one, when there are any.
async fn wait_for_any(site: &Site) -> Vec<SentSms> {
    let shown = site.shown;
    let _ = site
        .vm
        .wait_until(Duration::from_secs(3600), "a message", |vm| {
            vm.sent()
                .is_ok_and(|sent| sent.iter().filter(|sms| sms.complete).count() > shown)
        })
        .await;
    site.sent().into_iter().skip(shown).collect()
}
