//! End to end: the real release binary (`shiftsms run`) against the virtual modem on a
//! pseudo-terminal, as on a site PC, with /proc read for memory and CPU. A plain program
//! (`harness = false`):
//!
//! ```text
//! cargo bench --bench daemon                     # every scenario
//! cargo bench --bench daemon -- latency idle     # some of them
//! ```
//!
//! | scenario | what is measured |
//! |---|---|
//! | `startup` | process start → "serving" (modem initialised, SIM emptied); and from the modem's first answer |
//! | `latency` | 2,000 texts from 200 employees, one at a time, instant modem: each `+CMTI` → its reply's `AT+CMGS` |
//! | `flood` | the same 2,000 texts as fast as the SIM takes them: throughput, peak RSS |
//! | `paced` | 115,200 baud and a network delay per SMS: achieved time against the floor the line and modem allow |
//! | `campaign` | 10,000 recipients: time to queue, RSS while it drains, CPU per message sent |
//! | `idle` | 60 s connected to an idle modem: CPU and RSS |
//!
//! Times on the modem side come from the virtual modem's transcript (both directions,
//! timestamped as the modem saw them). Knobs, as environment variables: `BENCH_TEXTS`
//! (2000), `BENCH_PACED_TEXTS` (100), `BENCH_NETWORK_DELAY_MS` (1000), `BENCH_CAMPAIGN`
//! (10000), `BENCH_IDLE_SECS` (60), `BENCH_TRACE` and `BENCH_TRACE_US` (5000), `BENCH_LOG`.
//! Figures and the machine are in BENCHMARKS.md.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use shiftsms::modem::pdu::{Address, decode_submit, encode_deliver, from_hex};
use shiftsms::service::phone::E164;
use shiftsms::store::Store;
use shiftsms::virtual_modem::{
    DelayRange, Direction, Identity, Profile, TranscriptLine, VirtualModem, VmOptions,
};
use tokio::sync::Notify;
use tokio::sync::broadcast::error::RecvError;

const EMPLOYEES: usize = 200;
const SHIFTS: usize = 300;
/// Texts delivered but not yet answered, at most: below the SIM's 30 slots, so the network
/// never has to hold messages back (it would retry only 500 ms later, as real ones do).
const WINDOW: usize = 20;
/// Generous: only there so a stuck run fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(60);
/// What a generic modem is given after each answer before the next command.
const GENERIC_PAUSE: Duration = Duration::from_millis(20);
/// Linux reports process CPU time in USER_HZ ticks, 100 a second on every architecture.
const TICKS_PER_SECOND: f64 = 100.0;

fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn phone_digits(n: usize) -> String {
    format!("4474001{n:05}")
}

// ----- the site: a config file and a seeded database --------------------------------------

struct Site {
    dir: tempfile::TempDir,
    config: PathBuf,
    db: PathBuf,
}

impl Site {
    fn new(port: &Path, employees: usize, shifts: usize) -> Site {
        // Under target/, not /tmp (which may be a tmpfs where fsync costs nothing).
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temporary directory");
        let db = dir.path().join("shiftsms.db");
        let drop = dir.path().join("drop");
        std::fs::create_dir(&drop).expect("drop folder");
        let config = dir.path().join("config.toml");
        std::fs::write(
            &config,
            format!(
                r#"[modem]
port = "{port}"
baud = 115200

[database]
path = "{db}"

[drop]
dir = "{drop}"

[agent]
numbers = []

[phone]
default_country = "GB"

# Ten texts from each employee must all be answered.
[limits]
replies_per_hour = 1000
replies_per_day = 1000

# No pause between messages: the modem and the line are the only limit measured.
[outbox]
pause = "0s"
"#,
                port = port.display(),
                db = db.display(),
                drop = drop.display(),
            ),
        )
        .expect("config");
        let mut store = Store::open(&db).expect("open the database");
        let now = Timestamp::now();
        let tx = store.transaction().expect("transaction");
        for n in 0..employees {
            let phone = E164::from_international(&format!("+{}", phone_digits(n))).expect("valid");
            tx.employees().add(&phone, None, now).expect("employee");
        }
        for n in 0..shifts {
            tx.shifts()
                .add(&format!("S{n:05}"), "Mon 06:00-14:00 Line 3", now)
                .expect("shift");
        }
        tx.commit().expect("commit");
        Site { dir, config, db }
    }
}

// ----- the daemon as a process ------------------------------------------------------------

#[derive(Debug, Clone, Copy, Default)]
struct Usage {
    /// User + system CPU time of every thread, in ticks.
    cpu_ticks: u64,
    rss_kb: u64,
    /// Peak resident set size (VmHWM).
    peak_kb: u64,
}

struct Daemon {
    child: Child,
    started: Instant,
    lines: mpsc::Receiver<(Instant, String)>,
}

impl Daemon {
    fn spawn(site: &Site) -> Daemon {
        let started = Instant::now();
        let mut child = Command::new(env!("CARGO_BIN_EXE_shiftsms"))
            .arg("--config")
            .arg(&site.config)
            .arg("run")
            .current_dir(site.dir.path())
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start shiftsms run");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, lines) = mpsc::channel();
        // Always drained, so the daemon never blocks on a full pipe.
        thread::spawn(move || {
            let echo = std::env::var_os("BENCH_LOG").is_some();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if echo {
                    eprintln!("daemon: {line}");
                }
                let _ = tx.send((Instant::now(), line));
            }
        });
        Daemon {
            child,
            started,
            lines,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for a log line containing `needle`; returns when it was read.
    fn wait_log(&self, needle: &str) -> Instant {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((at, line)) if line.contains(needle) => return at,
                Ok(_) => {}
                Err(e) => panic!("no log line with {needle:?}: {e}"),
            }
        }
    }

    fn usage(&self) -> Usage {
        let pid = self.pid();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
        // Fields after the command name, which is in parentheses and may hold spaces.
        let after = &stat[stat.rfind(')').expect("comm") + 2..];
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks = |i: usize| fields[i].parse::<u64>().expect("ticks");
        // utime and stime are fields 14 and 15 of stat(5); `after` starts at field 3.
        let cpu_ticks = ticks(11) + ticks(12);
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
        let kb = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        Usage {
            cpu_ticks,
            rss_kb: kb("VmRSS:"),
            peak_kb: kb("VmHWM:"),
        }
    }

    fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        let pid = Pid::from_raw(i32::try_from(self.pid()).expect("pid"));
        let _ = kill(pid, Signal::SIGTERM);
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "shiftsms run exited with {status}");
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        panic!("shiftsms run did not stop within {PATIENCE:?} of SIGTERM");
    }
}

/// A run that failed half-way must not leave the daemon behind.
impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Samples RSS every 100 ms in a thread until stopped; returns every sample.
struct RssSampler {
    stop: Arc<AtomicBool>,
    handle: thread::JoinHandle<Vec<u64>>,
}

impl RssSampler {
    fn start(pid: u32) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = thread::spawn(move || {
            let mut samples = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status"))
                    && let Some(kb) = status
                        .lines()
                        .find_map(|l| l.strip_prefix("VmRSS:"))
                        .and_then(|v| v.split_whitespace().next())
                        .and_then(|v| v.parse().ok())
                {
                    samples.push(kb);
                }
                thread::sleep(Duration::from_millis(100));
            }
            samples
        });
        RssSampler { stop, handle }
    }

    fn finish(self) -> Vec<u64> {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.join().expect("sampler")
    }
}

// ----- the modem side: what crossed the line, from the transcript --------------------------

#[derive(Debug, Default)]
struct Wire {
    /// `+CMTI` lines, when the modem printed them.
    cmti: Vec<Duration>,
    /// `AT+CMGS=` lines, when the modem read them.
    cmgs: Vec<Duration>,
    /// When the last part of each outgoing message was accepted (`+CMGS: <mr>`).
    replies: Vec<Duration>,
    /// The first line the DTE sent.
    first_command: Option<Duration>,
    /// Command lines the DTE sent.
    commands: usize,
    /// The part just typed after the prompt is its message's last.
    last_part_pending: bool,
    lagged: u64,
}

struct Recorder {
    wire: Mutex<Wire>,
    replies: AtomicUsize,
    changed: Notify,
}

impl Recorder {
    fn start(vm: &VirtualModem) -> Arc<Recorder> {
        let recorder = Arc::new(Recorder {
            wire: Mutex::new(Wire::default()),
            replies: AtomicUsize::new(0),
            changed: Notify::new(),
        });
        let mut lines = vm.subscribe_transcript();
        let me = Arc::clone(&recorder);
        tokio::spawn(async move {
            loop {
                match lines.recv().await {
                    Ok(line) => me.see(&line),
                    Err(RecvError::Lagged(n)) => me.wire.lock().expect("wire").lagged += n,
                    Err(RecvError::Closed) => break,
                }
            }
        });
        recorder
    }

    fn see(&self, line: &TranscriptLine) {
        let mut wire = self.wire.lock().expect("wire");
        match line.direction {
            Direction::ToModem => {
                wire.first_command.get_or_insert(line.at);
                if line.text.starts_with("AT") {
                    wire.commands += 1;
                }
                if line.text.starts_with("AT+CMGS=") {
                    wire.cmgs.push(line.at);
                } else if let Some(hex) = line.text.strip_suffix("<Ctrl-Z>") {
                    let concat = from_hex(hex)
                        .ok()
                        .and_then(|pdu| decode_submit(&pdu).ok())
                        .and_then(|submit| submit.concat);
                    wire.last_part_pending = concat.is_none_or(|c| c.seq == c.total);
                }
            }
            Direction::FromModem => {
                if line.text.starts_with("+CMTI:") {
                    wire.cmti.push(line.at);
                } else if line.text.starts_with("+CMGS:") && wire.last_part_pending {
                    wire.last_part_pending = false;
                    wire.replies.push(line.at);
                    self.replies.fetch_add(1, Ordering::SeqCst);
                    self.changed.notify_waiters();
                }
            }
            Direction::Note => {}
        }
    }

    fn replies(&self) -> usize {
        self.replies.load(Ordering::SeqCst)
    }

    /// Waits until at least `count` messages have been sent in full.
    async fn wait_replies(&self, count: usize) {
        self.wait_replies_within(count, PATIENCE).await;
    }

    async fn wait_replies_within(&self, count: usize, patience: Duration) {
        let wait = async {
            loop {
                let changed = self.changed.notified();
                if self.replies() >= count {
                    return;
                }
                changed.await;
            }
        };
        if tokio::time::timeout(patience, wait).await.is_err() {
            panic!(
                "only {} of {count} messages sent after {patience:?}",
                self.replies()
            );
        }
    }
}

/// Text number `i` of a run: a REQUEST in four, otherwise bookings (available, already
/// taken by someone, or the sender's own).
fn text(i: usize) -> String {
    match i % 4 {
        0 => "REQUEST".to_owned(),
        1 | 2 => format!("S{:05}, S{:05}", i % SHIFTS, (i / 2) % SHIFTS),
        _ => format!("s{:05}", (i + 1) % SHIFTS),
    }
}

fn deliver(vm: &VirtualModem, i: usize) {
    let sender = Address::international(&phone_digits(i % EMPLOYEES));
    // A second apart, as real ones are: the same sender, text and network timestamp is the
    // same message read again, which the daemon rightly keeps only once.
    let sent = Timestamp::now()
        .checked_add(jiff::SignedDuration::from_secs(i as i64))
        .expect("in range");
    let scts = shiftsms::modem::pdu::Timestamp::from_jiff(sent, jiff::tz::Offset::UTC);
    for pdu in encode_deliver(&sender, &text(i), scts, 0).expect("encodes") {
        vm.deliver_pdu(&pdu.bytes).expect("delivered");
    }
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

/// A modem, a site and the daemon serving them.
struct Rig {
    vm: VirtualModem,
    recorder: Arc<Recorder>,
    site: Site,
    daemon: Daemon,
    serving_at: Instant,
}

fn rig(profile: Profile, employees: usize, shifts: usize) -> Rig {
    let vm = VirtualModem::start(VmOptions::with_profile(profile)).expect("virtual modem");
    let recorder = Recorder::start(&vm);
    let site = Site::new(&vm.path(), employees, shifts);
    let daemon = Daemon::spawn(&site);
    let serving_at = daemon.wait_log("serving");
    Rig {
        vm,
        recorder,
        site,
        daemon,
        serving_at,
    }
}

// ----- scenarios --------------------------------------------------------------------------

async fn startup() {
    println!("\n## startup: process start -> serving (5 runs each)");
    let mut fresh = Vec::new();
    let mut after_modem = Vec::new();
    let mut restart = Vec::new();
    for _ in 0..5 {
        let vm_started = Instant::now();
        let vm = VirtualModem::start(VmOptions::default()).expect("virtual modem");
        let recorder = Recorder::start(&vm);
        let site = Site::new(&vm.path(), EMPLOYEES, SHIFTS);
        let daemon = Daemon::spawn(&site);
        let serving = daemon.wait_log("serving");
        fresh.push(serving - daemon.started);
        if std::env::var_os("BENCH_TRACE").is_some() && fresh.len() == 1 {
            println!(
                "daemon started at {:.3}s",
                (daemon.started - vm_started).as_secs_f64()
            );
            println!("serving at {:.3}s", (serving - vm_started).as_secs_f64());
            for line in vm.transcript() {
                println!("{line}");
            }
        }
        let first = recorder.wire.lock().expect("wire").first_command;
        if let Some(first) = first {
            after_modem.push(serving.saturating_duration_since(vm_started + first));
        }
        daemon.stop();
        // The same database and modem again: a restart.
        let daemon = Daemon::spawn(&site);
        let serving = daemon.wait_log("serving");
        restart.push(serving - daemon.started);
        daemon.stop();
    }
    for (label, mut runs) in [
        ("first start (new database, modem powered up)", fresh),
        ("from the daemon's first AT command", after_modem),
        ("restart (existing database)", restart),
    ] {
        runs.sort();
        println!(
            "{label:<48} median {:>7.1} ms   max {:>7.1} ms",
            ms(runs[runs.len() / 2]),
            ms(runs[runs.len() - 1])
        );
    }
}

/// The virtual modem under a vendor-neutral name: the daemon then applies the generic
/// family's 20 ms pause after each answer (Telit's advice), as it would on a real modem.
fn generic_named() -> Profile {
    Profile {
        identity: Identity {
            manufacturer: "GENERIC".into(),
            ..Profile::generic().identity
        },
        ..Profile::generic()
    }
}

async fn latency(texts: usize, profile: Profile, label: &str) {
    println!("\n## latency: {texts} texts from {EMPLOYEES} employees, one at a time, {label}");
    let rig = rig(profile, EMPLOYEES, SHIFTS);
    let before = rig.daemon.usage();
    let (first_cmti, first_cmgs) = {
        let wire = rig.recorder.wire.lock().expect("wire");
        (wire.cmti.len(), wire.cmgs.len())
    };
    let started = Instant::now();
    for i in 0..texts {
        let done = rig.recorder.replies();
        deliver(&rig.vm, i);
        rig.recorder.wait_replies(done + 1).await;
    }
    let took = started.elapsed();
    let after = rig.daemon.usage();
    let wire = rig.recorder.wire.lock().expect("wire");
    let cmti = &wire.cmti[first_cmti..];
    let cmgs = &wire.cmgs[first_cmgs..];
    let mut overhead: Vec<Duration> = cmti
        .iter()
        .filter_map(|&at| cmgs.iter().find(|&&c| c >= at).map(|&c| c - at))
        .collect();
    assert_eq!(overhead.len(), texts, "every +CMTI has its reply");
    assert_eq!(wire.lagged, 0, "transcript lines were lost");
    overhead.sort();
    println!(
        "+CMTI -> reply's AT+CMGS     median {:>6.2} ms   p99 {:>6.2} ms   max {:>6.2} ms",
        ms(percentile(&overhead, 50)),
        ms(percentile(&overhead, 99)),
        ms(overhead[overhead.len() - 1]),
    );
    println!(
        "round trips                  {:>6.1} texts/s one at a time; CPU {:.2} ms per text; RSS {:.1} MB, peak {:.1} MB",
        texts as f64 / took.as_secs_f64(),
        (after.cpu_ticks - before.cpu_ticks) as f64 / TICKS_PER_SECOND * 1000.0 / texts as f64,
        mb(after.rss_kb),
        mb(after.peak_kb),
    );
    drop(wire);
    if std::env::var_os("BENCH_TRACE").is_some() {
        // Where the time went: every pause of 5 ms (`BENCH_TRACE_US`) or more on the line,
        // with what came before.
        let threshold = Duration::from_micros(knob("BENCH_TRACE_US", 5000));
        let transcript = rig.vm.transcript();
        for pair in transcript.windows(2) {
            if pair[1].at.saturating_sub(pair[0].at) >= threshold {
                println!("{}\n{}\n", pair[0], pair[1]);
            }
        }
    }
    rig.daemon.stop();
}

/// Delivers `texts` texts keeping at most [`WINDOW`] unanswered; returns the time from the
/// first `+CMTI` to the last reply sent (modem clock) and the RSS samples meanwhile.
async fn flood_run(rig: &Rig, texts: usize) -> (Duration, Vec<u64>) {
    let sampler = RssSampler::start(rig.daemon.pid());
    let (first_cmti, done_before) = (
        rig.recorder.wire.lock().expect("wire").cmti.len(),
        rig.recorder.replies(),
    );
    for i in 0..texts {
        if i >= WINDOW {
            rig.recorder
                .wait_replies(done_before + i + 1 - WINDOW)
                .await;
        }
        deliver(&rig.vm, i);
    }
    rig.recorder.wait_replies(done_before + texts).await;
    let samples = sampler.finish();
    let wire = rig.recorder.wire.lock().expect("wire");
    assert_eq!(wire.lagged, 0, "transcript lines were lost");
    let span = wire.replies[wire.replies.len() - 1] - wire.cmti[first_cmti];
    (span, samples)
}

async fn flood(texts: usize) {
    println!("\n## flood: {texts} texts, at most {WINDOW} waiting, instant modem");
    let rig = rig(Profile::generic(), EMPLOYEES, SHIFTS);
    let before = rig.daemon.usage();
    let (span, samples) = flood_run(&rig, texts).await;
    let after = rig.daemon.usage();
    println!(
        "throughput                   {:>6.1} texts/s answered ({:.2} s); CPU {:.2} ms per text",
        texts as f64 / span.as_secs_f64(),
        span.as_secs_f64(),
        (after.cpu_ticks - before.cpu_ticks) as f64 / TICKS_PER_SECOND * 1000.0 / texts as f64,
    );
    println!(
        "memory                       RSS max {:.1} MB while flooded, peak (VmHWM) {:.1} MB",
        mb(samples.iter().copied().max().unwrap_or(0)),
        mb(after.peak_kb),
    );
    rig.daemon.stop();
}

async fn paced(texts: usize, network_delay: Duration) {
    let baud = 115_200;
    println!(
        "\n## paced: {texts} texts, {baud} baud, {} ms network delay per SMS",
        network_delay.as_millis()
    );
    let profile = Profile {
        line_rate: Some(baud),
        cmgs_delay: DelayRange::fixed(network_delay),
        ..generic_named()
    };
    let rig = rig(profile, EMPLOYEES, SHIFTS);
    let bytes_before = rig.vm.line_bytes();
    let sends_before = rig.vm.submissions().len();
    let commands_before = rig.recorder.wire.lock().expect("wire").commands;
    let (span, _) = flood_run(&rig, texts).await;
    let bytes = rig.vm.line_bytes();
    let sends = rig.vm.submissions().len() - sends_before;
    let commands = rig.recorder.wire.lock().expect("wire").commands - commands_before;
    let on_line =
        (bytes.to_modem - bytes_before.to_modem) + (bytes.from_modem - bytes_before.from_modem);
    let line_time = Duration::from_secs_f64(on_line as f64 * 10.0 / f64::from(baud));
    // The modem's advised rest after each answer before the next command is the modem's
    // time too (the daemon applies it because a real modem needs it).
    let rest = GENERIC_PAUSE * u32::try_from(commands).expect("commands");
    let floor = line_time + network_delay * u32::try_from(sends).expect("sends") + rest;
    println!(
        "floor                        {:>7.2} s = {on_line} bytes on the line ({:.2} s) + {sends} SMS x {} ms + {commands} commands x {} ms rest",
        floor.as_secs_f64(),
        line_time.as_secs_f64(),
        network_delay.as_millis(),
        GENERIC_PAUSE.as_millis(),
    );
    println!(
        "achieved                     {:>7.2} s from the first +CMTI to the last +CMGS: ratio {:.3}",
        span.as_secs_f64(),
        floor.as_secs_f64() / span.as_secs_f64()
    );
    rig.daemon.stop();
}

async fn campaign(recipients: usize) {
    println!("\n## campaign: {recipients} recipients, instant modem");
    let rig = rig(Profile::generic(), recipients, 20);
    let conn = rusqlite::Connection::open(&rig.site.db).expect("open");
    conn.busy_timeout(Duration::from_secs(5)).expect("timeout");
    let before = rig.daemon.usage();
    let sampler = RssSampler::start(rig.daemon.pid());
    // As a scheduler would, with sqlite3.
    conn.execute(
        "INSERT INTO shift_campaigns(campaign_id, shifts) VALUES('BENCH1', 'S00001 Mon 06:00-14:00 Line 3')",
        [],
    )
    .expect("insert campaign");
    let inserted = Instant::now();
    let queued_at = loop {
        let queued: i64 = conn
            .query_row(
                "SELECT count(*) FROM outbox WHERE campaign_id = 'BENCH1'",
                [],
                |row| row.get(0),
            )
            .expect("count");
        if queued as usize >= recipients {
            break Instant::now();
        }
        assert!(inserted.elapsed() < PATIENCE, "campaign not queued");
        thread::sleep(Duration::from_millis(2));
    };
    let done_before = rig.recorder.replies();
    let queued_usage = rig.daemon.usage();
    rig.recorder
        .wait_replies_within(done_before + recipients, PATIENCE * 10)
        .await;
    let drained = Instant::now();
    let after = rig.daemon.usage();
    let samples = sampler.finish();
    let pick = |fraction: f64| mb(samples[((samples.len() - 1) as f64 * fraction) as usize]);
    println!(
        "queued                       {:>7.1} ms from the INSERT's commit to {recipients} rows in the outbox",
        ms(queued_at - inserted)
    );
    println!(
        "drained                      {:>7.2} s ({:.0} SMS/s); CPU {:.3} ms per message sent ({:.3} ms incl. queueing)",
        (drained - queued_at).as_secs_f64(),
        recipients as f64 / (drained - queued_at).as_secs_f64(),
        (after.cpu_ticks - queued_usage.cpu_ticks) as f64 / TICKS_PER_SECOND * 1000.0
            / recipients as f64,
        (after.cpu_ticks - before.cpu_ticks) as f64 / TICKS_PER_SECOND * 1000.0 / recipients as f64,
    );
    println!(
        "RSS while draining           start {:.1} MB, 25% {:.1}, 50% {:.1}, 75% {:.1}, end {:.1}, max {:.1} MB; peak (VmHWM) {:.1} MB",
        mb(before.rss_kb),
        pick(0.25),
        pick(0.5),
        pick(0.75),
        mb(after.rss_kb),
        mb(samples.iter().copied().max().unwrap_or(0)),
        mb(after.peak_kb)
    );
    rig.daemon.stop();
}

async fn idle(seconds: u64) {
    println!("\n## idle: {seconds} s connected to an idle modem");
    let rig = rig(Profile::generic(), EMPLOYEES, SHIFTS);
    // Let start-up work settle first.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let lines_before = rig.vm.transcript().len();
    let before = rig.daemon.usage();
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let after = rig.daemon.usage();
    let took = started.elapsed();
    let cpu = (after.cpu_ticks - before.cpu_ticks) as f64 / TICKS_PER_SECOND;
    println!(
        "CPU                          {:.3} % ({:.2} s of CPU in {:.0} s); {} lines on the serial line",
        cpu / took.as_secs_f64() * 100.0,
        cpu,
        took.as_secs_f64(),
        rig.vm.transcript().len() - lines_before,
    );
    println!(
        "memory                       RSS {:.1} MB, peak (VmHWM) {:.1} MB",
        mb(after.rss_kb),
        mb(after.peak_kb)
    );
    let _ = rig.serving_at;
    rig.daemon.stop();
}

fn main() {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let run = |name: &str| wanted.is_empty() || wanted.iter().any(|w| w == name);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "shiftsms {} release binary: {}",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_BIN_EXE_shiftsms")
    );
    runtime.block_on(async {
        if run("startup") {
            startup().await;
        }
        if run("latency") {
            latency(
                knob("BENCH_TEXTS", 2000) as usize,
                Profile::generic(),
                "instant modem",
            )
            .await;
            latency(
                knob("BENCH_TEXTS", 2000) as usize / 10,
                generic_named(),
                "instant modem named as a generic one (20 ms pause after each answer)",
            )
            .await;
        }
        if run("flood") {
            flood(knob("BENCH_TEXTS", 2000) as usize).await;
        }
        if run("paced") {
            paced(
                knob("BENCH_PACED_TEXTS", 100) as usize,
                Duration::from_millis(knob("BENCH_NETWORK_DELAY_MS", 1000)),
            )
            .await;
        }
        if run("campaign") {
            campaign(knob("BENCH_CAMPAIGN", 10_000) as usize).await;
        }
        if run("idle") {
            idle(knob("BENCH_IDLE_SECS", 60)).await;
        }
    });
}
