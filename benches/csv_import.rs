//! How long a 100,000-row shifts file takes to import, and how long it holds the write lock
//! (what a booking reply on the daemon's connection might wait for). A plain program
//! (`harness = false`): `cargo bench --bench csv_import`.
//!
//! Three runs on one database file (WAL, synchronous=FULL, as the daemon opens it): the file
//! new (100,000 inserts), the same file again (all unchanged: no writes), and every info
//! changed (100,000 updates). Meanwhile a second connection books and releases a shift in a
//! loop, as the daemon would for replies, and the longest any of its transactions took is
//! printed: the stall a booking could see during an import.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use shiftsms::drop::csv::{Delimiter, write_row};
use shiftsms::drop::import::{ImportOptions, Mode, Outcome, import_bytes};
use shiftsms::drop::rows;
use shiftsms::service::phone::E164;
use shiftsms::store::Store;

const ROWS: usize = 100_000;

fn file(info: &str) -> String {
    let mut text = write_row(&["shift_id", "shift_info"], Delimiter::Comma);
    for n in 0..ROWS {
        text.push_str(&write_row(
            &[
                format!("S{n:06}"),
                format!(
                    "{info} {:02}:00-{:02}:00, Line {}",
                    n % 24,
                    (n + 8) % 24,
                    n % 9
                ),
            ],
            Delimiter::Comma,
        ));
    }
    text
}

fn main() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut store = Store::open(dir.path().join("bench.db")).expect("open the database");
    let options = ImportOptions::default();
    let first = file("Mon");
    let changed = file("Tue");
    println!(
        "{ROWS} rows, {:.1} MB per file",
        first.len() as f64 / 1_000_000.0
    );

    let started = Instant::now();
    let parsed = rows::parse(first.as_bytes(), options.default_country).expect("parses");
    println!(
        "parse and check only:  {:>8.1} ms ({} rows)",
        ms(started.elapsed()),
        parsed.drafts.len()
    );

    let db = dir.path().join("bench.db");
    {
        let tx = store.transaction().expect("transaction");
        tx.shifts()
            .add("BOOK1", "booked in a loop", Timestamp::now())
            .expect("add");
        tx.commit().expect("commit");
    }
    for (label, text) in [
        ("new (100k inserts)", &first),
        ("again (all unchanged)", &first),
        ("changed (100k updates)", &changed),
    ] {
        let stop = Arc::new(AtomicBool::new(false));
        let booker = {
            let stop = Arc::clone(&stop);
            let db = db.clone();
            thread::spawn(move || bookings(&db, &stop))
        };
        thread::sleep(Duration::from_millis(50));
        let outcome = import_bytes(
            &mut store,
            text.as_bytes(),
            options,
            Mode::Apply,
            Timestamp::now(),
        )
        .expect("imports");
        thread::sleep(Duration::from_millis(50));
        stop.store(true, Ordering::Relaxed);
        let (count, longest) = booker.join().expect("booker");
        let Outcome::Imported { summary, timing } = outcome else {
            panic!("not imported: {outcome:?}");
        };
        println!(
            "{label:<24} total {:>8.1} ms, write lock held {:>7.1} ms, longest booking {:>7.1} ms of {count}  ({summary})",
            ms(timing.total),
            ms(timing.write_lock),
            ms(longest)
        );
    }
}

/// Book and release one shift on a connection of its own until told to stop; how many
/// transactions ran and the longest one (from BEGIN IMMEDIATE to the end of COMMIT).
fn bookings(db: &std::path::Path, stop: &AtomicBool) -> (usize, Duration) {
    let mut store = Store::open(db).expect("second connection");
    let ann = E164::from_international("+447400123456").expect("number");
    let mut longest = Duration::ZERO;
    let mut count = 0;
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let tx = store.transaction().expect("booking transaction");
        if count % 2 == 0 {
            tx.shifts()
                .take("BOOK1", &ann, Timestamp::now())
                .expect("take");
        } else {
            tx.shifts().release("BOOK1").expect("release");
        }
        tx.commit().expect("commit");
        longest = longest.max(started.elapsed());
        count += 1;
        thread::sleep(Duration::from_millis(2));
    }
    (count, longest)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
