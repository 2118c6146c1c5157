//! The database is shared with people at a `sqlite3` prompt: what they type must work, what
//! they get wrong must be refused in words they understand, and the daemon must notice their
//! edits while it holds its own connection open.

mod common;

use std::time::Duration;

use common::{at, phone, sqlite3};
use shiftsms::store::shifts::{ShiftFilter, ShiftStatus};
use shiftsms::store::{Store, StoreError, migrations};

fn temp_db() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shiftsms.db");
    (dir, path)
}

#[test]
fn bare_inserts_by_a_person_are_seen_and_read_while_the_store_is_open() {
    let (_dir, db) = temp_db();
    let mut store = Store::open(&db).unwrap();
    assert!(!store.changed_by_others().unwrap());

    sqlite3(
        &db,
        "INSERT INTO shift_status(shift_id, shift_info) VALUES('XYZ123','Mon 06:00-14:00 Line 3');",
    )
    .unwrap();
    assert!(store.changed_by_others().unwrap());
    assert!(!store.changed_by_others().unwrap(), "seen once per change");

    sqlite3(
        &db,
        "INSERT INTO employees(phone, name) VALUES('+447400123456', 'Ann');
         INSERT INTO shift_campaigns(campaign_id, shifts) VALUES('mon-early', 'XYZ123 Mon 06:00-14:00 Line 3');",
    )
    .unwrap();
    assert!(store.changed_by_others().unwrap());

    let tx = store.read().unwrap();
    let shift = tx
        .shifts()
        .get("xyz123")
        .unwrap()
        .expect("case-insensitive code");
    assert_eq!(shift.id, "XYZ123");
    assert_eq!(shift.info, "Mon 06:00-14:00 Line 3");
    assert_eq!(shift.status, ShiftStatus::Available);

    let ann = tx
        .employees()
        .get(&phone("+447400123456"))
        .unwrap()
        .unwrap();
    assert_eq!(ann.name.as_deref(), Some("Ann"));
    assert!(ann.subscribed, "subscribed by default");

    let todo = tx.campaigns().not_yet_broadcast().unwrap();
    assert_eq!(todo.len(), 1);
    assert_eq!(todo[0].id, "mon-early");
    drop(tx);

    // The store's own writes are not "changes by others".
    let tx = store.transaction().unwrap();
    tx.shifts()
        .take(
            "XYZ123",
            &phone("+447400123456"),
            at("2024-05-01T09:00:00Z"),
        )
        .unwrap();
    tx.commit().unwrap();
    assert!(!store.changed_by_others().unwrap());

    // And a person sees them, with the timestamp in SQLite's own format.
    let row = sqlite3(
        &db,
        "SELECT shift_status, employee, booked_at FROM shift_status WHERE shift_id = 'XYZ123';",
    )
    .unwrap();
    assert_eq!(row.trim(), "taken|+447400123456|2024-05-01 09:00:00");
}

#[test]
fn rows_defaulted_by_sqlite_read_back_with_their_timestamps() {
    let (_dir, db) = temp_db();
    let mut store = Store::open(&db).unwrap();
    sqlite3(&db, "INSERT INTO shift_status(shift_id) VALUES('A1');").unwrap();
    let tx = store.read().unwrap();
    let shifts = tx.shifts().list(ShiftFilter::All).unwrap();
    assert_eq!(shifts.len(), 1);
    assert_eq!(shifts[0].info, "");
    // CURRENT_TIMESTAMP of the real clock: it parsed, and it is recent.
    let age = jiff::Timestamp::now().duration_since(shifts[0].created_at);
    assert!(age.as_secs().abs() < 24 * 3600, "{age:?}");
}

/// Each value a person could plausibly type wrong, and the words they get back.
#[test]
fn wrong_values_are_refused_with_the_constraint_named_as_a_sentence() {
    let (_dir, db) = temp_db();
    drop(Store::open(&db).unwrap());
    sqlite3(
        &db,
        "INSERT INTO shift_status(shift_id, shift_info) VALUES('XYZ123', 'Mon');
         INSERT INTO employees(phone) VALUES('+447400123456');",
    )
    .unwrap();
    let cases = [
        (
            "UPDATE shift_status SET shift_status = 'Taken ' WHERE shift_id = 'XYZ123'",
            "shift_status must be 'available' or 'taken'",
        ),
        (
            "INSERT INTO shift_status(shift_id, shift_status) VALUES('B1', 'booked')",
            "shift_status must be 'available' or 'taken'",
        ),
        (
            "INSERT INTO employees(phone, name) VALUES('07400 123456', 'Bob')",
            "phone must be E.164 like +447400123456",
        ),
        (
            "INSERT INTO employees(phone) VALUES('447400123457')",
            "phone must be E.164 like +447400123456",
        ),
        (
            "INSERT INTO employees(phone, subscribed) VALUES('+447400123457', 2)",
            "subscribed must be 0 or 1",
        ),
        (
            "UPDATE employees SET subscribed = 'yes'",
            "subscribed must be 0 or 1",
        ),
        (
            "UPDATE shift_status SET employee = '+447400123456' WHERE shift_id = 'XYZ123'",
            "an available shift has no employee",
        ),
        (
            "UPDATE shift_status SET shift_status = 'taken', employee = '07400123456'",
            "employee must be NULL or E.164 like +447400123456",
        ),
        (
            "INSERT INTO shift_status(shift_id) VALUES('XYZ 124')",
            "shift_id must be 2 to 16 letters and digits with at least one digit, like XYZ123",
        ),
        (
            "INSERT INTO shift_status(shift_id) VALUES('XYZ124,XYZ125')",
            "shift_id must be 2 to 16 letters and digits with at least one digit, like XYZ123",
        ),
        (
            "INSERT INTO shift_status(shift_id) VALUES('ABC')",
            "shift_id must be 2 to 16 letters and digits with at least one digit",
        ),
        (
            "INSERT INTO shift_status(shift_id) VALUES('AB-12')",
            "shift_id must be 2 to 16 letters and digits with at least one digit",
        ),
        (
            "INSERT INTO shift_status(shift_id) VALUES('ABCDEFGHIJKLMNOP1')",
            "shift_id must be 2 to 16 letters and digits with at least one digit",
        ),
        (
            "INSERT INTO shift_status(shift_id) VALUES('')",
            "shift_id must be 2 to 16 letters and digits with at least one digit, like XYZ123",
        ),
        (
            "INSERT INTO shift_status(shift_id, created_at) VALUES('C1', '01/05/2024 14:30')",
            "created_at must be a UTC time like 2024-05-01 14:30:00",
        ),
        (
            "INSERT INTO shift_campaigns(campaign_id, shifts, status) VALUES('c1', 'XYZ123', 'sent')",
            "status must be 'new', 'sending', 'done' or 'invalid'",
        ),
        (
            "INSERT INTO shift_campaigns(campaign_id, shifts) VALUES('  ', 'XYZ123')",
            "campaign_id must not be empty",
        ),
        // Codes differ only in case: the same shift to an employee texting it.
        (
            "INSERT INTO shift_status(shift_id) VALUES('xyz123')",
            "UNIQUE constraint failed: shift_status.shift_id",
        ),
    ];
    for (sql, sentence) in cases {
        let err = sqlite3(&db, sql).expect_err(sql);
        assert!(err.contains(sentence), "{sql}\n gave: {err}");
    }
    // Nothing was changed by the refused statements.
    let rows = sqlite3(
        &db,
        "SELECT shift_id, shift_status, ifnull(employee, '-') FROM shift_status;",
    )
    .unwrap();
    assert_eq!(rows.trim(), "XYZ123|available|-");
    // Values a person may legitimately type are accepted.
    sqlite3(
        &db,
        "UPDATE employees SET subscribed = '0';
         UPDATE shift_status SET shift_status = 'taken' WHERE shift_id = 'xyz123';
         UPDATE shift_status SET shift_status = 'available', employee = NULL;
         INSERT INTO shift_campaigns(campaign_id, shifts) VALUES('empty', '');",
    )
    .unwrap();
}

#[test]
fn refusals_through_the_api_carry_the_same_sentence() {
    let mut store = Store::open_in_memory().unwrap();
    let tx = store.transaction().unwrap();
    let err = tx
        .shifts()
        .add("two words", "", at("2024-05-01T09:00:00Z"))
        .unwrap_err();
    assert!(matches!(err, StoreError::Constraint { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("adding shift \"two words\"")
            && text.contains("shift_id must be 2 to 16 letters and digits"),
        "{text}"
    );
}

#[test]
fn a_database_at_an_older_schema_version_migrates_forward_keeping_its_rows() {
    let (_dir, db) = temp_db();
    // A site's database as version 1 left it, with rows people typed.
    let v1 = format!(
        "{} PRAGMA user_version = 1;
         INSERT INTO shift_status(shift_id, shift_info) VALUES('XYZ123', 'Mon');
         INSERT INTO employees(phone, name, subscribed) VALUES('+447400123456', 'Ann', 0);
         INSERT INTO shift_campaigns(campaign_id, shifts) VALUES('c1', 'XYZ123 Mon');",
        migrations::MIGRATIONS[0]
    );
    sqlite3(&db, &v1).unwrap();
    assert_eq!(sqlite3(&db, "PRAGMA user_version;").unwrap().trim(), "1");

    let mut store = Store::open(&db).unwrap();
    assert_eq!(store.schema_version().unwrap(), migrations::latest());
    let tx = store.transaction().unwrap();
    assert_eq!(tx.shifts().get("XYZ123").unwrap().unwrap().info, "Mon");
    let ann = tx
        .employees()
        .get(&phone("+447400123456"))
        .unwrap()
        .unwrap();
    assert!(!ann.subscribed);
    // The new tables work with the old rows.
    let queued = tx
        .campaigns()
        .start(
            "c1",
            7,
            "Available shifts: XYZ123 Mon",
            std::slice::from_ref(&ann.phone),
            at("2024-05-01T09:00:00Z"),
        )
        .unwrap();
    assert_eq!(queued, 1);
    tx.commit().unwrap();
    drop(store);

    // Opening again changes nothing.
    let before = sqlite3(&db, "SELECT sql FROM sqlite_schema ORDER BY name;").unwrap();
    let store = Store::open(&db).unwrap();
    assert_eq!(store.schema_version().unwrap(), migrations::latest());
    let after = sqlite3(&db, "SELECT sql FROM sqlite_schema ORDER BY name;").unwrap();
    assert_eq!(before, after);
}

#[test]
fn the_schema_is_what_the_sqlite3_cli_reads() {
    let (_dir, db) = temp_db();
    drop(Store::open(&db).unwrap());
    assert_eq!(
        sqlite3(&db, "PRAGMA integrity_check;").unwrap().trim(),
        "ok"
    );
    assert_eq!(sqlite3(&db, "PRAGMA journal_mode;").unwrap().trim(), "wal");
    let tables = sqlite3(
        &db,
        "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name;",
    )
    .unwrap();
    for table in [
        "shift_status",
        "shift_campaigns",
        "employees",
        "outbox",
        "inbound_pdus",
    ] {
        assert!(tables.lines().any(|line| line == table), "{tables}");
    }
}

#[test]
fn opening_reports_a_missing_directory_a_directory_and_a_file_that_is_not_a_database() {
    let (dir, _) = temp_db();
    let missing = dir.path().join("no-such-dir").join("shiftsms.db");
    let err = Store::open(&missing).unwrap_err();
    assert!(
        matches!(err, StoreError::MissingDirectory { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("no-such-dir"), "{err}");

    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::IsADirectory { .. }), "{err:?}");

    let text = dir.path().join("config.toml");
    std::fs::write(&text, "[database]\npath = \"x\"\n".repeat(100)).unwrap();
    let err = Store::open(&text).unwrap_err();
    assert!(matches!(err, StoreError::NotADatabase { .. }), "{err:?}");
    assert!(err.to_string().contains("config.toml"), "{err}");
}

#[test]
fn a_lock_held_by_someone_else_is_reported_not_waited_on_forever() {
    let (_dir, db) = temp_db();
    let mut store = Store::open(&db).unwrap();
    store.set_busy_timeout(Duration::from_millis(50)).unwrap();

    // A person's sqlite3 session with a write transaction left open.
    let person = rusqlite::Connection::open(&db).unwrap();
    person
        .execute_batch("BEGIN IMMEDIATE; INSERT INTO shift_status(shift_id) VALUES('P1');")
        .unwrap();
    let err = store.transaction().map(|_| ()).unwrap_err();
    assert!(err.is_locked(), "{err:?}");
    assert!(err.to_string().contains("sqlite3"), "{err}");

    // Reading is not blocked by a writer (WAL).
    assert!(store.read().unwrap().shifts().get("P1").unwrap().is_none());

    person.execute_batch("COMMIT;").unwrap();
    let tx = store.transaction().unwrap();
    assert!(tx.shifts().get("P1").unwrap().is_some());
}

#[test]
fn opening_a_database_locked_before_it_has_a_schema_is_reported() {
    let (_dir, db) = temp_db();
    let person = rusqlite::Connection::open(&db).unwrap();
    person
        .execute_batch("BEGIN EXCLUSIVE; CREATE TABLE notes(x);")
        .unwrap();
    let err = Store::open_with_busy_timeout(&db, Duration::from_millis(50)).unwrap_err();
    assert!(err.is_locked(), "{err:?}");
    assert!(err.to_string().contains("shiftsms.db"), "{err}");
    person.execute_batch("COMMIT;").unwrap();
    let store = Store::open(&db).unwrap();
    assert_eq!(store.schema_version().unwrap(), migrations::latest());
}
