//! The schema, as an ordered list of migrations tracked by `PRAGMA user_version` (the approach
//! of cargo's `src/cargo/util/sqlite.rs`).
//!
//! Rules for [`MIGRATIONS`]: a step, once released, is never edited, reordered or removed (a
//! site's database has already run it); changes are new steps at the end. Each step runs in
//! its own `BEGIN IMMEDIATE` transaction together with the version bump, so a failing step
//! leaves the database at the previous version, and two processes starting at once (the daemon
//! and an admin command) cannot both apply a step.
//!
//! Table definitions stay within what the Debian `sqlite3` 3.40 CLI understands (no STRICT
//! tables, nothing newer), because site managers open this file with it.
//!
//! Tables people edit (`shift_status`, `shift_campaigns`, `employees`) keep the names and
//! columns of the original solution; every extra column has a default, so a bare `INSERT` by a
//! person works. Their CHECK constraints are named as sentences: SQLite prints the name of the
//! constraint that failed (`CHECK constraint failed: phone must be E.164 like +447400123456`),
//! and that is the only explanation the person at the `sqlite3` prompt gets.

use rusqlite::{Connection, TransactionBehavior};

/// One schema step: SQL run as a batch.
pub type Migration = &'static str;

/// Version 1: the tables people edit, as the original solution named them.
const V1_PEOPLE_TABLES: Migration = r#"
-- One row per shift employees can book. shift_id is what they text back, so it follows the
-- shift-code rule of service::shift_code (a code the SMS parser can recognise): 2 to 16 ASCII
-- letters and digits with at least one digit. It is compared without regard to case (an
-- employee texting xyz123 means XYZ123).
CREATE TABLE shift_status (
    shift_id     TEXT NOT NULL PRIMARY KEY COLLATE NOCASE
        CONSTRAINT "shift_id must be 2 to 16 letters and digits with at least one digit, like XYZ123"
        CHECK (length(shift_id) BETWEEN 2 AND 16 AND shift_id NOT GLOB '*[^A-Za-z0-9]*'
               AND shift_id GLOB '*[0-9]*'),
    shift_status TEXT NOT NULL DEFAULT 'available'
        CONSTRAINT "shift_status must be 'available' or 'taken' (lower case)"
        CHECK (shift_status IN ('available', 'taken')),
    shift_info   TEXT NOT NULL DEFAULT '',
    -- Who booked it (E.164), NULL while available. A person may mark a shift taken without
    -- naming anyone (filled by other means).
    employee     TEXT
        CONSTRAINT "employee must be NULL or E.164 like +447400123456"
        CHECK (employee IS NULL OR (employee GLOB '+[1-9]*' AND length(employee) BETWEEN 9 AND 16
                                    AND substr(employee, 2) NOT GLOB '*[^0-9]*')),
    booked_at    TEXT
        CONSTRAINT "booked_at must be NULL or a UTC time like 2024-05-01 14:30:00"
        CHECK (booked_at IS NULL OR datetime(booked_at) IS booked_at),
    created_at   TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
        CONSTRAINT "created_at must be a UTC time like 2024-05-01 14:30:00"
        CHECK (datetime(created_at) IS created_at),
    CONSTRAINT "an available shift has no employee: set employee = NULL as well"
        CHECK (shift_status = 'taken' OR employee IS NULL)
);

-- Each row is one broadcast of `shifts` (free text that names the codes) to every subscribed
-- employee. status is the daemon's bookkeeping: 'new' rows are picked up and broadcast once;
-- a row it cannot broadcast becomes 'invalid' with a reason (fix it and set status back to
-- 'new' to retry; people already sent this campaign are not sent it twice).
CREATE TABLE shift_campaigns (
    campaign_id  TEXT NOT NULL PRIMARY KEY
        CONSTRAINT "campaign_id must not be empty" CHECK (trim(campaign_id) <> ''),
    shifts       TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'new'
        CONSTRAINT "status must be 'new', 'sending', 'done' or 'invalid'"
        CHECK (status IN ('new', 'sending', 'done', 'invalid')),
    reason       TEXT,
    shuffle_seed INTEGER,
    created_at   TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
        CONSTRAINT "created_at must be a UTC time like 2024-05-01 14:30:00"
        CHECK (datetime(created_at) IS created_at),
    started_at   TEXT
        CONSTRAINT "started_at must be NULL or a UTC time like 2024-05-01 14:30:00"
        CHECK (started_at IS NULL OR datetime(started_at) IS started_at),
    finished_at  TEXT
        CONSTRAINT "finished_at must be NULL or a UTC time like 2024-05-01 14:30:00"
        CHECK (finished_at IS NULL OR datetime(finished_at) IS finished_at)
);

-- The whitelist (who may use the service) and the audience (subscribed = wants shift offers).
CREATE TABLE employees (
    phone        TEXT NOT NULL PRIMARY KEY
        CONSTRAINT "phone must be E.164 like +447400123456"
        CHECK (phone GLOB '+[1-9]*' AND length(phone) BETWEEN 9 AND 16
               AND substr(phone, 2) NOT GLOB '*[^0-9]*'),
    name         TEXT,
    subscribed   INTEGER NOT NULL DEFAULT 1
        CONSTRAINT "subscribed must be 0 or 1" CHECK (subscribed IN (0, 1)),
    created_at   TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
        CONSTRAINT "created_at must be a UTC time like 2024-05-01 14:30:00"
        CHECK (datetime(created_at) IS created_at),
    -- When the employee last texted STOP or START.
    subscription_changed_at TEXT
        CONSTRAINT "subscription_changed_at must be NULL or a UTC time like 2024-05-01 14:30:00"
        CHECK (subscription_changed_at IS NULL
               OR datetime(subscription_changed_at) IS subscription_changed_at)
);
"#;

/// Version 2: the daemon's own tables. People read them; only shiftsms writes them.
const V2_DAEMON_TABLES: Migration = r#"
-- Complete texts as employees sent them (single SMS, or the parts joined), and what was done.
-- processed_at is set in the same transaction as the decision's effects, so each message is
-- acted on exactly once.
CREATE TABLE inbound_messages (
    id           INTEGER PRIMARY KEY,
    sender       TEXT NOT NULL,
    sender_kind  TEXT NOT NULL
        CHECK (sender_kind IN ('phone', 'short_code', 'alphanumeric', 'unrecognised')),
    text         TEXT NOT NULL,
    sent_at      TEXT,              -- service-centre time stamp of the first part, UTC
    received_at  TEXT NOT NULL,
    processed_at TEXT,
    command      TEXT,              -- what the text was understood as
    outcome      TEXT               -- what was done, for audit
);
CREATE INDEX inbound_messages_unprocessed ON inbound_messages(id) WHERE processed_at IS NULL;

-- Every SMS PDU read from the modem, written before it is deleted from the SIM. The raw PDU
-- is the key: it holds the sender, the service-centre time stamp and the concatenation header,
-- so a message read twice (the process died between storing and deleting it) is stored once.
-- (storage, sim_index) is not a key: the SIM reuses an index once it is freed.
CREATE TABLE inbound_pdus (
    id           INTEGER PRIMARY KEY,
    pdu          BLOB NOT NULL UNIQUE,
    storage      TEXT NOT NULL,     -- 'SM', 'ME', 'MT' (TS 27.005 §3.1 <mem>)
    sim_index    INTEGER NOT NULL,
    read_at      TEXT NOT NULL,
    status       TEXT NOT NULL
        CHECK (status IN ('new', 'part_waiting', 'assembled', 'processed', 'undecodable')),
    sender       TEXT,              -- decoded fields, NULL when undecodable
    sent_at      TEXT,
    text         TEXT,
    concat_ref   INTEGER,           -- concatenation (TS 23.040 §9.2.3.24.1/.8), all or none
    concat_total INTEGER,
    concat_seq   INTEGER,
    error        TEXT,              -- why it could not be decoded
    message_id   INTEGER REFERENCES inbound_messages(id),
    CHECK ((concat_ref IS NULL) = (concat_total IS NULL)
           AND (concat_total IS NULL) = (concat_seq IS NULL)),
    CHECK ((status = 'undecodable') = (error IS NOT NULL)),
    CHECK ((status IN ('assembled', 'processed')) = (message_id IS NOT NULL))
);
CREATE INDEX inbound_pdus_waiting ON inbound_pdus(sender, concat_ref, concat_total)
    WHERE status IN ('new', 'part_waiting');

-- AGENT requests: an agent is to call the employee back.
CREATE TABLE callbacks (
    id              INTEGER PRIMARY KEY,
    employee        TEXT NOT NULL,
    request         TEXT NOT NULL,  -- what they said they need
    inbound_id      INTEGER REFERENCES inbound_messages(id),
    requested_at    TEXT NOT NULL,
    state           TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'dialling', 'connected', 'done', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    agent           TEXT,           -- the agent number dialled last
    outcome         TEXT,
    last_error      TEXT,
    updated_at      TEXT NOT NULL
);
CREATE INDEX callbacks_queue ON callbacks(next_attempt_at) WHERE state = 'queued';

-- One row per SMS to send (however many parts it needs). Lower priority goes first; then the
-- oldest. The concatenation reference of a multipart message is id mod 256: stable across
-- retries and restarts.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    recipient       TEXT NOT NULL
        CHECK (recipient GLOB '+[1-9]*' AND length(recipient) BETWEEN 9 AND 16
               AND substr(recipient, 2) NOT GLOB '*[^0-9]*'),
    text            TEXT NOT NULL,
    kind            TEXT NOT NULL
        CHECK (kind IN ('reply', 'denied', 'agent', 'alert', 'broadcast')),
    priority        INTEGER NOT NULL,
    state           TEXT NOT NULL DEFAULT 'queued'
        CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,           -- the last failure; the reason when failed or cancelled
    part_count      INTEGER CHECK (part_count BETWEEN 1 AND 255),
    created_at      TEXT NOT NULL,
    finished_at     TEXT,           -- when it became sent, failed or cancelled
    campaign_id     TEXT,           -- what caused it, for audit (at most one)
    inbound_id      INTEGER REFERENCES inbound_messages(id),
    callback_id     INTEGER REFERENCES callbacks(id)
);
CREATE INDEX outbox_queue ON outbox(priority, id) WHERE state = 'queued';
CREATE INDEX outbox_in_flight ON outbox(id) WHERE state = 'sending';
CREATE INDEX outbox_recipient ON outbox(recipient, kind, created_at);
CREATE INDEX outbox_campaign ON outbox(campaign_id, state) WHERE campaign_id IS NOT NULL;

-- The parts of an outbox message that went (or were going) on the wire. A part is recorded
-- 'sending' before AT+CMGS and 'sent' with its message reference (TP-MR) after, so a restart
-- resumes at the first part not sent.
CREATE TABLE outbox_parts (
    message_id  INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL CHECK (seq BETWEEN 1 AND 255),
    state       TEXT NOT NULL CHECK (state IN ('sending', 'sent')),
    reference   INTEGER CHECK (reference BETWEEN 0 AND 255),
    started_at  TEXT NOT NULL,
    sent_at     TEXT,
    PRIMARY KEY (message_id, seq)
) WITHOUT ROWID;

-- Who a campaign was sent to, in the order it was sent (position in the shuffled list). The
-- primary key makes the broadcast exactly-once per employee and campaign.
CREATE TABLE campaign_recipients (
    campaign_id TEXT NOT NULL REFERENCES shift_campaigns(campaign_id) ON DELETE CASCADE,
    phone       TEXT NOT NULL,
    position    INTEGER NOT NULL,
    outbox_id   INTEGER REFERENCES outbox(id) ON DELETE SET NULL,
    PRIMARY KEY (campaign_id, phone)
);
"#;

/// Version 3: the history of each callback, so "why was nobody called?" has an answer in
/// the database (`shiftsms callbacks ID` shows it).
const V3_CALLBACK_HISTORY: Migration = r#"
-- One row per change of a callback: queued, each agent called, answered, put through,
-- retried, given up. Written in the same transaction as the change itself.
CREATE TABLE callback_history (
    id          INTEGER PRIMARY KEY,
    callback_id INTEGER NOT NULL REFERENCES callbacks(id) ON DELETE CASCADE,
    at          TEXT NOT NULL,
    old_state   TEXT,              -- NULL for the row that queued it
    new_state   TEXT NOT NULL,
    agent       TEXT,              -- the agent being called, when one is
    reason      TEXT NOT NULL
);
CREATE INDEX callback_history_of ON callback_history(callback_id, id);
"#;

/// Version 4: what the daemon tells the people looking after it (issue 7): its heartbeat,
/// read by `shiftsms status`, and the alerts it texted to supervisors.
const V4_SITE_HEALTH: Migration = r#"
-- One row, rewritten by the running daemon every minute or so and at every change of the
-- modem's state, so `shiftsms status` can tell from the database alone (without touching the
-- modem the daemon holds) whether the daemon is alive and how the modem is. A row older than
-- a few every_seconds means the daemon is dead or hung.
CREATE TABLE daemon_heartbeat (
    id                INTEGER PRIMARY KEY CHECK (id = 1),
    written_at        TEXT NOT NULL,
    every_seconds     INTEGER NOT NULL CHECK (every_seconds > 0),
    pid               INTEGER NOT NULL,
    version           TEXT NOT NULL,
    started_at        TEXT NOT NULL,
    health            TEXT NOT NULL
        CHECK (health IN ('starting', 'serving', 'modem_away', 'stopped')),
    modem_port        TEXT NOT NULL,
    modem_state       TEXT NOT NULL
        CHECK (modem_state IN ('connecting', 'initialising', 'ready', 'locked', 'failed',
                               'gone', 'stopped')),
    modem_detail      TEXT,             -- why it is locked, failed or gone
    modem_since       TEXT NOT NULL,    -- when it entered modem_state
    modem_answered_at TEXT,             -- when the modem last answered a command
    manufacturer      TEXT,
    model             TEXT,
    imei              TEXT,
    operator          TEXT,
    registration      TEXT,             -- 'registered, home network', 'searching', ...
    signal_rssi       INTEGER,          -- +CSQ <rssi> (TS 27.007 §8.5)
    signal_dbm        INTEGER,
    sim_used          INTEGER,          -- messages stored where new ones are received
    sim_total         INTEGER,
    last_problem      TEXT,             -- the latest thing that went wrong, in words
    last_problem_at   TEXT
);

-- Every alert raised for a human (SIM storage nearly full, modem gone, repeated send
-- failures, campaign finished), whether or not supervisors were configured to be texted.
-- The latest row of a (kind, subject) is what rate-limits the next one.
CREATE TABLE alerts (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL
        CHECK (kind IN ('sim_storage', 'modem_gone', 'send_failures', 'campaign_finished')),
    subject    TEXT NOT NULL DEFAULT '',   -- the campaign, for campaign_finished
    raised_at  TEXT NOT NULL,
    text       TEXT NOT NULL,
    recipients INTEGER NOT NULL            -- supervisors it was queued for (0: logged only)
);
CREATE INDEX alerts_latest ON alerts(kind, subject, raised_at);
"#;

/// Every schema step, oldest first. Append only.
pub const MIGRATIONS: &[Migration] = &[
    V1_PEOPLE_TABLES,
    V2_DAEMON_TABLES,
    V3_CALLBACK_HISTORY,
    V4_SITE_HEALTH,
];

/// The schema version this build writes.
pub fn latest() -> u32 {
    MIGRATIONS.len() as u32
}

/// Why a migration run stopped.
#[derive(Debug)]
pub enum MigrateError {
    /// The version could not be read (not a database, locked, ...).
    Read(rusqlite::Error),
    /// The database was written by a newer build that knows more steps.
    TooNew { found: u32, known: u32 },
    /// A step failed (and was rolled back); `version` is the version it would have produced.
    Step {
        version: u32,
        source: rusqlite::Error,
    },
}

/// Bring the database up to `steps.len()`, one transaction per step. Returns the version found
/// before migrating. Running it again is a no-op that takes no write lock, so opening the
/// database does not wait for a person's open `sqlite3` transaction unless there is work to do.
pub fn migrate(conn: &mut Connection, steps: &[Migration]) -> Result<u32, MigrateError> {
    let known = steps.len() as u32;
    let found = user_version(conn).map_err(MigrateError::Read)?;
    let mut current = found;
    while current < known {
        let step = |source| MigrateError::Step {
            version: current + 1,
            source,
        };
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(step)?;
        // Read again under the write lock: another process may have migrated meanwhile.
        current = user_version(&tx).map_err(MigrateError::Read)?;
        let Some(sql) = steps.get(current as usize) else {
            break;
        };
        let next = current + 1;
        let step = |source| MigrateError::Step {
            version: next,
            source,
        };
        tx.execute_batch(sql).map_err(step)?;
        tx.pragma_update(None, "user_version", next).map_err(step)?;
        tx.commit().map_err(step)?;
        tracing::info!(version = next, "database schema migrated");
        current = next;
    }
    if current > known {
        return Err(MigrateError::TooNew {
            found: current,
            known,
        });
    }
    Ok(found)
}

/// The schema version recorded in the database (0 for a new, empty file).
pub fn user_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |row| row.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT type || ' ' || name || ': ' || sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY name")
            .unwrap();
        stmt.query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn migrating_twice_is_a_no_op() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(migrate(&mut conn, MIGRATIONS).unwrap(), 0);
        let first = schema(&conn);
        assert_eq!(user_version(&conn).unwrap(), latest());
        assert_eq!(migrate(&mut conn, MIGRATIONS).unwrap(), latest());
        assert_eq!(schema(&conn), first);
        assert_eq!(user_version(&conn).unwrap(), latest());
    }

    #[test]
    fn every_older_version_migrates_forward_to_the_same_schema() {
        let mut fresh = Connection::open_in_memory().unwrap();
        migrate(&mut fresh, MIGRATIONS).unwrap();
        for old in 0..MIGRATIONS.len() {
            let mut conn = Connection::open_in_memory().unwrap();
            migrate(&mut conn, &MIGRATIONS[..old]).unwrap();
            assert_eq!(user_version(&conn).unwrap(), old as u32);
            assert_eq!(migrate(&mut conn, MIGRATIONS).unwrap(), old as u32);
            assert_eq!(schema(&conn), schema(&fresh), "from version {old}");
        }
    }

    #[test]
    fn a_failing_step_leaves_the_previous_version_and_its_data() {
        let steps: &[Migration] = &[
            "CREATE TABLE a(x INTEGER); INSERT INTO a VALUES (1);",
            "CREATE TABLE b(y INTEGER); INSERT INTO nowhere VALUES (2);",
        ];
        let mut conn = Connection::open_in_memory().unwrap();
        let err = migrate(&mut conn, steps).unwrap_err();
        assert!(
            matches!(err, MigrateError::Step { version: 2, .. }),
            "{err:?}"
        );
        assert_eq!(user_version(&conn).unwrap(), 1);
        let x: i64 = conn.query_row("SELECT x FROM a", [], |r| r.get(0)).unwrap();
        assert_eq!(x, 1);
        // Step 2 was rolled back whole: table b does not exist.
        assert!(conn.prepare("SELECT y FROM b").is_err());
    }

    #[test]
    fn a_newer_database_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", latest() + 1)
            .unwrap();
        let err = migrate(&mut conn, MIGRATIONS).unwrap_err();
        assert!(
            matches!(err, MigrateError::TooNew { found, known } if found == latest() + 1 && known == latest()),
            "{err:?}"
        );
    }
}
