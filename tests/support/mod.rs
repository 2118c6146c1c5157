//! The harness of the end-to-end tests: a virtual modem on a pty (behind a symlink, as
//! udev's `/dev/serial/by-id/...`), a temporary database and config, and the real
//! `shiftsms run` binary started on them, exactly as a site runs it.
#![allow(dead_code)] // each test binary uses a different subset

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use shiftsms::service::phone::E164;
use shiftsms::store::Store;
use shiftsms::virtual_modem::{Profile, SentSms, VirtualModem, VmOptions};

/// Long enough for a slow CI machine, short enough that a hang is reported.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Held while a pty is created and while a daemon is spawned: a descriptor is briefly open
/// without close-on-exec while the virtual modem sets up its pty, and a daemon spawned by a
/// parallel test in that instant would inherit it and keep that modem's pty alive after an
/// unplug.
static SPAWNING: Mutex<()> = Mutex::new(());

fn spawning() -> std::sync::MutexGuard<'static, ()> {
    SPAWNING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What the test site looks like.
#[derive(Debug, Clone)]
pub struct SiteOptions {
    pub profile: Profile,
    pub seed: u64,
    /// `[agent] numbers`
    pub agents: Vec<String>,
    /// More `[agent]` lines (`mode`, `ring_timeout`, ...), as TOML.
    pub agent_settings: String,
    /// `[outbox] pause`
    pub pause: String,
    pub max_attempts: u32,
    /// `[limits]`
    pub replies_per_hour: u32,
    pub replies_per_day: u32,
}

impl Default for SiteOptions {
    fn default() -> Self {
        SiteOptions {
            profile: Profile::generic(),
            seed: 1,
            agents: Vec::new(),
            agent_settings: String::new(),
            pause: "0s".into(),
            max_attempts: 5,
            replies_per_hour: 10,
            replies_per_day: 30,
        }
    }
}

/// A site: the modem, the files, and the daemon when started.
pub struct Site {
    pub dir: tempfile::TempDir,
    pub vm: VirtualModem,
    pub config: PathBuf,
    pub db: PathBuf,
}

pub fn e164(text: &str) -> E164 {
    E164::from_international(text).unwrap()
}

impl Site {
    /// Must be called inside a tokio runtime (the virtual modem runs on it).
    pub fn new(options: SiteOptions) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("modem");
        let guard = spawning();
        let vm = VirtualModem::start(VmOptions {
            profile: options.profile.clone(),
            seed: options.seed,
            symlink: Some(link.clone()),
            ..VmOptions::default()
        })
        .unwrap();
        drop(guard);
        let db = dir.path().join("shiftsms.db");
        let agents = options
            .agents
            .iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!(
                r#"
[modem]
port = {link:?}

[database]
path = {db:?}

[drop]
dir = {drop:?}

[agent]
numbers = [{agents}]
{agent_settings}

[phone]
default_country = "GB"

[limits]
replies_per_hour = {per_hour}
replies_per_day = {per_day}

[outbox]
pause = {pause:?}
max_attempts = {max_attempts}
retry_backoff = "1s"
"#,
                drop = dir.path().join("drop"),
                agent_settings = options.agent_settings,
                per_hour = options.replies_per_hour,
                per_day = options.replies_per_day,
                pause = options.pause,
                max_attempts = options.max_attempts,
            ),
        )
        .unwrap();
        // The schema, so tests can seed data before the daemon first starts.
        Store::open(&db).unwrap();
        Site {
            dir,
            vm,
            config,
            db,
        }
    }

    pub fn store(&self) -> Store {
        Store::open(&self.db).unwrap()
    }

    pub fn employee(&self, phone: &str, name: &str) {
        let mut store = self.store();
        let tx = store.transaction().unwrap();
        tx.employees()
            .add(&e164(phone), Some(name), jiff::Timestamp::now())
            .unwrap();
        tx.commit().unwrap();
    }

    pub fn shift(&self, code: &str, info: &str) {
        let mut store = self.store();
        let tx = store.transaction().unwrap();
        tx.shifts().add(code, info, jiff::Timestamp::now()).unwrap();
        tx.commit().unwrap();
    }

    /// Run SQL as a person would, on a connection of their own (`sqlite3 shiftsms.db`).
    pub fn sql(&self, sql: &str) {
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        conn.execute_batch(sql).unwrap();
    }

    /// One value from a query.
    pub fn query<T: rusqlite::types::FromSql>(&self, sql: &str) -> T {
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        conn.query_row(sql, [], |row| row.get(0)).unwrap()
    }

    /// Every row of a query, columns joined with `|`.
    pub fn rows(&self, sql: &str) -> Vec<String> {
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        conn.busy_timeout(Duration::from_secs(5)).unwrap();
        let mut stmt = conn.prepare(sql).unwrap();
        let columns = stmt.column_count();
        stmt.query_map([], |row| {
            Ok((0..columns)
                .map(|i| match row.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Null => "NULL".to_string(),
                    rusqlite::types::ValueRef::Integer(n) => n.to_string(),
                    rusqlite::types::ValueRef::Real(x) => x.to_string(),
                    rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                    rusqlite::types::ValueRef::Blob(_) => "<blob>".to_string(),
                })
                .collect::<Vec<_>>()
                .join("|"))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    }

    /// Start `shiftsms run` and wait until it serves.
    pub async fn start(&self) -> Daemon {
        let daemon = self.spawn();
        daemon.wait_for_log("serving", PATIENCE).await;
        daemon
    }

    /// Put the modem back in (see [`VirtualModem::replug`]).
    // Unplugged first, so the await inside `replug` completes at once: the lock is only held
    // while the new pty is made (a std mutex, because `spawn` takes it outside async code).
    #[allow(clippy::await_holding_lock)]
    pub async fn replug(&self) {
        self.vm.unplug().await;
        let _guard = spawning();
        self.vm.replug().await.unwrap();
    }

    /// Start `shiftsms run` without waiting.
    pub fn spawn(&self) -> Daemon {
        self.spawn_command(self.run_command())
    }

    /// `shiftsms run` as [`Site::spawn`] starts it (stderr piped and captured), for a test
    /// that adds to its environment or sends its stderr elsewhere before
    /// [`Site::spawn_command`].
    pub fn run_command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_shiftsms"));
        command
            .arg("--config")
            .arg(&self.config)
            .arg("run")
            .env("RUST_LOG", "info,shiftsms=debug")
            .env_remove("RUST_BACKTRACE")
            .env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .env_remove("WATCHDOG_PID")
            .env_remove("JOURNAL_STREAM")
            .env_remove("INVOCATION_ID")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        command
    }

    /// Start `command` (from [`Site::run_command`]); its stderr lines are captured when it
    /// is piped.
    pub fn spawn_command(&self, mut command: Command) -> Daemon {
        let guard = spawning();
        let mut child = command.spawn().expect("start shiftsms run");
        drop(guard);
        let lines = Arc::new(Mutex::new(Vec::new()));
        if let Some(stderr) = child.stderr.take() {
            let sink = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    sink.lock().unwrap().push(line);
                }
            });
        }
        Daemon {
            pid: Pid::from_raw(child.id() as i32),
            child: Mutex::new(child),
            lines,
        }
    }

    /// Complete messages sent so far.
    pub fn sent(&self) -> Vec<SentSms> {
        self.vm.sent().unwrap()
    }

    /// Complete messages sent to `to` so far.
    pub fn sent_to(&self, to: &str) -> Vec<String> {
        self.sent()
            .into_iter()
            .filter(|s| s.to == to && s.complete)
            .map(|s| s.text)
            .collect()
    }

    /// Wait until `n` complete messages were sent to `to` in all; return them.
    pub async fn wait_for_texts(&self, to: &str, n: usize) -> Vec<String> {
        let what = format!("{n} text(s) to {to}");
        self.vm
            .wait_until(PATIENCE, &what, |vm| {
                vm.sent().map_or(true, |sent| {
                    sent.iter().filter(|s| s.to == to && s.complete).count() >= n
                })
            })
            .await
            .unwrap_or_else(|e| panic!("{e}\nsent: {:#?}", self.sent()));
        self.sent_to(to)
    }

    /// `from` texts `text`; returns the reply (the next complete message sent to `from`,
    /// which must be international, as the daemon answers).
    pub async fn text(&self, from: &str, text: &str) -> String {
        let before = self.sent_to(from).len();
        self.vm.deliver_sms(from, text).unwrap();
        let mut all = self.wait_for_texts(from, before + 1).await;
        all.swap_remove(before)
    }
}

/// A running `shiftsms run`.
pub struct Daemon {
    pid: Pid,
    child: Mutex<Child>,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Daemon {
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Everything it logged so far.
    pub fn log(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    pub fn logged(&self, needle: &str) -> bool {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.contains(needle))
    }

    /// Wait until a log line contains `needle`.
    pub async fn wait_for_log(&self, needle: &str, patience: Duration) {
        let deadline = Instant::now() + patience;
        while !self.logged(needle) {
            if let Some(status) = self.exited() {
                panic!(
                    "shiftsms exited ({status}) before logging {needle:?}:\n{}",
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "shiftsms did not log {needle:?} within {patience:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Its exit status, if it has exited.
    pub fn exited(&self) -> Option<ExitStatus> {
        self.child.lock().unwrap().try_wait().unwrap()
    }

    pub fn signal(&self, signal: Signal) {
        kill(self.pid(), signal).unwrap();
    }

    /// Wait for it to exit.
    pub async fn wait_exit(&mut self, patience: Duration) -> ExitStatus {
        let deadline = Instant::now() + patience;
        loop {
            if let Some(status) = self.exited() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "shiftsms did not exit within {patience:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL: the process dies at whatever instant it is at.
    pub async fn kill(mut self) {
        self.signal(Signal::SIGKILL);
        self.wait_exit(PATIENCE).await;
    }

    /// SIGTERM, and wait for a clean exit.
    pub async fn stop(mut self) -> ExitStatus {
        self.signal(Signal::SIGTERM);
        self.wait_exit(PATIENCE).await
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap();
        if let Ok(None) = child.try_wait() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if std::thread::panicking() {
            eprintln!("--- shiftsms log ---\n{}\n---", self.log());
        }
    }
}

/// Where a test's virtual-modem transcript can be looked at when it fails.
pub fn dump_transcript(vm: &VirtualModem, path: &Path) {
    let _ = std::fs::write(path, vm.transcript_text());
}
