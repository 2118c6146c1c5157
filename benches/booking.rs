//! Committed booking transactions per second on a database file opened as the daemon opens it
//! (WAL, synchronous=FULL): alone, then while a second process-like connection writes the way
//! a site manager's `sqlite3 -cmd ".timeout 5000"` would.
//!
//! A plain program (`harness = false`): `cargo bench --bench booking`. Each transaction is
//! what one booking text costs the database: look the codes up, decide, take the available
//! ones with the conditional update, queue the reply, commit (one fsync of the WAL). Every
//! commit is durable before the next begins, so the figure is bounded by the disk's fsync.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use shiftsms::service::booking::{self, ShiftState};
use shiftsms::service::command::{self, Command};
use shiftsms::service::phone::E164;
use shiftsms::service::reply::{Replies, ReplyOptions};
use shiftsms::service::shift_code::ShiftCode;
use shiftsms::store::Store;
use shiftsms::store::outbox::{Kind, Outgoing};
use shiftsms::store::shifts::{ShiftStatus, Take};

const EMPLOYEES: usize = 200;
const SHIFTS: usize = 20_000;
const BOOKINGS: usize = 2_000;

fn phone(n: usize) -> E164 {
    E164::from_international(&format!("+4474001{n:05}")).expect("valid number")
}

fn seed(path: &Path) {
    let mut store = Store::open(path).expect("open");
    let now = Timestamp::now();
    let tx = store.transaction().expect("transaction");
    for n in 0..EMPLOYEES {
        tx.employees().add(&phone(n), None, now).expect("employee");
    }
    for n in 0..SHIFTS {
        tx.shifts()
            .add(&format!("S{n:05}"), "Mon 06:00-14:00 Line 3", now)
            .expect("shift");
    }
    tx.commit().expect("commit");
}

/// One booking text from `who`, as the daemon acts on it: one transaction.
fn book(store: &mut Store, replies: &Replies, who: &E164, text: &str) -> usize {
    let now = Timestamp::now();
    let Command::Book(codes) = command::parse(text) else {
        panic!("{text:?} is not a booking");
    };
    let tx = store.transaction().expect("transaction");
    let looked_up: Vec<(ShiftCode, ShiftState)> = codes
        .into_iter()
        .map(|code| {
            let state = match tx.shifts().get(code.as_str()).expect("get") {
                None => ShiftState::Missing,
                Some(shift) => match shift.status {
                    ShiftStatus::Available => ShiftState::Available,
                    ShiftStatus::Taken { by, .. } => ShiftState::Taken { by },
                },
            };
            (code, state)
        })
        .collect();
    let plan = booking::decide(who, looked_up);
    let mut won = Vec::new();
    for code in plan.claims() {
        if let Take::Booked { .. } = tx.shifts().take(code.as_str(), who, now).expect("take") {
            won.push(code.clone());
        }
    }
    let secured = won.len();
    let reply = replies.booking(&plan.settle(&won));
    tx.outbox()
        .queue(
            &Outgoing {
                recipient: who,
                text: &reply,
                kind: Kind::Reply,
                cause: None,
            },
            now,
        )
        .expect("queue");
    tx.commit().expect("commit");
    secured
}

struct Run {
    per_second: f64,
    median: Duration,
    p99: Duration,
    max: Duration,
    secured: usize,
}

fn run(path: &Path, offset: usize) -> Run {
    let mut store = Store::open(path).expect("open");
    let replies = Replies::defaults(ReplyOptions::default());
    let mut latencies = Vec::with_capacity(BOOKINGS);
    let mut secured = 0;
    let started = Instant::now();
    for n in 0..BOOKINGS {
        let who = phone(n % EMPLOYEES);
        // Two codes per text, the second often someone else's: booked, taken and unknown
        // answers all occur.
        let text = format!("s{:05}, S{:05}, NOPE{}", offset + n, offset + n / 2, n % 7);
        let one = Instant::now();
        secured += book(&mut store, &replies, &who, &text);
        latencies.push(one.elapsed());
    }
    let total = started.elapsed();
    latencies.sort();
    Run {
        per_second: BOOKINGS as f64 / total.as_secs_f64(),
        median: latencies[latencies.len() / 2],
        p99: latencies[latencies.len() * 99 / 100],
        max: latencies[latencies.len() - 1],
        secured,
    }
}

/// Another process's writes meanwhile: a plain connection with the sqlite3 CLI's settings
/// (default synchronous, a `.timeout` of 5 s), each insert its own short transaction,
/// `pause` apart (zero: a bulk script writing as fast as it can).
fn person(
    path: &Path,
    prefix: usize,
    pause: Duration,
    stop: &AtomicBool,
    count: &AtomicU64,
) -> Duration {
    let conn = rusqlite::Connection::open(path).expect("open");
    conn.busy_timeout(Duration::from_secs(5)).expect("timeout");
    let mut n = 0u64;
    let mut longest = Duration::ZERO;
    while !stop.load(Ordering::Relaxed) {
        let one = Instant::now();
        conn.execute_batch(&format!(
            "BEGIN IMMEDIATE;
             INSERT INTO shift_status(shift_id, shift_info) VALUES('P{prefix}X{n:07}', 'Tue 14:00-22:00');
             UPDATE shift_status SET shift_info = 'Tue 14:00-22:00 Line 2' WHERE shift_id = 'P{prefix}X{n:07}';
             COMMIT;"
        ))
        .expect("person's write");
        longest = longest.max(one.elapsed());
        n += 1;
        count.store(n, Ordering::Relaxed);
        thread::sleep(pause);
    }
    longest
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn report(label: &str, run: &Run) {
    println!(
        "{label:<40} {:>7.0} tx/s   median {:>6.2} ms   p99 {:>6.2} ms   max {:>7.2} ms   ({} shifts secured)",
        run.per_second,
        ms(run.median),
        ms(run.p99),
        ms(run.max),
        run.secured
    );
}

fn main() {
    // Under target/ rather than /tmp, which may be a tmpfs where fsync costs nothing.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temporary directory");
    let db = dir.path().join("shiftsms.db");
    seed(&db);
    println!(
        "{BOOKINGS} booking texts from {EMPLOYEES} employees, {SHIFTS} shifts, file database in {} (WAL, synchronous=FULL)",
        dir.path().display()
    );

    let alone = run(&db, 0);
    report("one writer (the daemon)", &alone);

    for (offset, pause, label, other) in [
        (
            1,
            Duration::from_millis(50),
            "with a person's writes (20/s) alongside",
            "  the person",
        ),
        (
            2,
            Duration::ZERO,
            "with a bulk sqlite3 script alongside",
            "  the script",
        ),
    ] {
        let stop = Arc::new(AtomicBool::new(false));
        let count = Arc::new(AtomicU64::new(0));
        let writer = {
            let (db, stop, count) = (db.clone(), Arc::clone(&stop), Arc::clone(&count));
            thread::spawn(move || person(&db, offset, pause, &stop, &count))
        };
        let started = Instant::now();
        let shared = run(&db, BOOKINGS * 2 * offset);
        stop.store(true, Ordering::Relaxed);
        let longest = writer.join().expect("writer thread");
        report(label, &shared);
        println!(
            "{other:<40} {:>7.0} tx/s   longest {:>7.2} ms",
            count.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64(),
            ms(longest)
        );
    }
}
