//! SQLite: the schema and its migrations, and every query shiftsms makes. Knows nothing of
//! modems. All SQL of the program lives under this module; callers see typed rows.
//!
//! # Layout
//!
//! | file | tables |
//! |---|---|
//! | [`migrations`] | the schema, tracked by `PRAGMA user_version` |
//! | [`shifts`] | `shift_status`: shifts and who booked them |
//! | [`employees`] | `employees`: the whitelist and the broadcast audience |
//! | [`campaigns`] | `shift_campaigns`, `campaign_recipients`: broadcasts |
//! | [`inbox`] | `inbound_pdus`, `inbound_messages`: what the modem received |
//! | [`outbox`] | `outbox`, `outbox_parts`: what is to be sent, part by part |
//! | [`callbacks`] | `callbacks`: AGENT requests |
//! | [`heartbeat`] | `daemon_heartbeat`: the running daemon's report on itself, for `shiftsms status` |
//! | [`alerts`] | `alerts`: what was raised for a human, and when (rate limits) |
//! | [`import`] | the conditional writes of a CSV import (shifts, employees, campaigns) |
//!
//! # Use
//!
//! Open one [`Store`] per thread that needs the database (a `Store` is `Send`, not `Sync`).
//! Everything is done inside a [`Tx`]: [`Store::transaction`] for anything that writes (taken
//! with `BEGIN IMMEDIATE`, so it never fails half-way with "database is locked" while
//! upgrading a read lock), [`Store::read`] for a consistent snapshot. Dropping a `Tx` without
//! [`Tx::commit`] rolls it back. One decision is one transaction: take the shifts, queue the
//! reply, mark the inbound message processed, then commit; a crash before the commit undoes
//! all of it, and the message is processed again after the restart.
//!
//! The database is shared with people (`sqlite3 shiftsms.db`): WAL so they can read while
//! the daemon writes, a busy timeout so a person's short write does not fail the daemon, and
//! [`Store::changed_by_others`] so the daemon notices their inserts without busy polling.
//! `synchronous=FULL`: a booking is confirmed by SMS only after its commit is on disk.

pub mod alerts;
pub mod callbacks;
pub mod campaigns;
pub mod employees;
mod error;
pub mod heartbeat;
pub mod import;
pub mod inbox;
pub mod migrations;
pub mod outbox;
pub mod shifts;
mod sql;

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};

pub use error::StoreError;

/// How long a statement waits for another connection's lock before failing: long enough for a
/// person's `UPDATE` in `sqlite3`, short enough that the daemon reports a forgotten open
/// transaction instead of hanging.
pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection to the shiftsms database, migrated to the current schema.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    data_version: i64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Open (creating if needed) the database file and migrate it to the current schema.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        Store::open_with_busy_timeout(path, DEFAULT_BUSY_TIMEOUT)
    }

    /// [`Store::open`] with another busy timeout (how long to wait for another connection's
    /// lock, also while opening and migrating).
    pub fn open_with_busy_timeout(
        path: impl AsRef<Path>,
        busy_timeout: Duration,
    ) -> Result<Store, StoreError> {
        let path = path.as_ref().to_path_buf();
        check_directory(&path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&path, flags)
            .map_err(|source| open_error(&path, source))?;
        Store::setup(conn, path, busy_timeout)
    }

    /// A private database in memory, for tests and the demo.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|source| open_error(&path, source))?;
        Store::setup(conn, path, DEFAULT_BUSY_TIMEOUT)
    }

    fn setup(
        mut conn: Connection,
        path: PathBuf,
        busy_timeout: Duration,
    ) -> Result<Store, StoreError> {
        let fail = |source| open_error(&path, source);
        conn.busy_timeout(busy_timeout).map_err(fail)?;
        // Reading the journal mode is the first access to the file: a file that is not a
        // database, or unreadable, is reported here. (":memory:" answers "memory".)
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(fail)?;
        if mode != "wal" && mode != "memory" {
            tracing::warn!(path = %path.display(), mode, "database is not in WAL mode");
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(fail)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(fail)?;
        migrations::migrate(&mut conn, migrations::MIGRATIONS).map_err(|err| match err {
            migrations::MigrateError::Read(source) => open_error(&path, source),
            migrations::MigrateError::TooNew { found, known } => StoreError::TooNew {
                path: path.clone(),
                found,
                known,
            },
            migrations::MigrateError::Step { version, source } => match open_error(&path, source) {
                StoreError::Open { path, source } => StoreError::Migration {
                    path,
                    version,
                    source,
                },
                classified => classified,
            },
        })?;
        let data_version = data_version(&conn).map_err(fail)?;
        Ok(Store {
            conn,
            path,
            data_version,
        })
    }

    /// The file this store was opened on (`:memory:` for an in-memory store).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Change how long statements wait for another connection's lock.
    pub fn set_busy_timeout(&self, timeout: Duration) -> Result<(), StoreError> {
        self.conn
            .busy_timeout(timeout)
            .map_err(|source| StoreError::sql("setting the busy timeout", source))
    }

    /// Start a transaction that may write. It takes the write lock at once (`BEGIN
    /// IMMEDIATE`), waiting up to the busy timeout for another writer to finish.
    pub fn transaction(&mut self) -> Result<Tx<'_>, StoreError> {
        self.begin(TransactionBehavior::Immediate)
    }

    /// Start a read-only view: a consistent snapshot that does not block writers.
    pub fn read(&mut self) -> Result<Tx<'_>, StoreError> {
        self.begin(TransactionBehavior::Deferred)
    }

    fn begin(&mut self, behavior: TransactionBehavior) -> Result<Tx<'_>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(behavior)
            .map_err(|source| StoreError::sql("starting a transaction", source))?;
        Ok(Tx { tx })
    }

    /// Whether another connection (a person's `sqlite3`, an admin command, another thread's
    /// `Store`) committed a change since the last call (or since opening). This connection's
    /// own commits do not count. Cheap (`PRAGMA data_version`, about 2 µs): poll it.
    pub fn changed_by_others(&mut self) -> Result<bool, StoreError> {
        let now = data_version(&self.conn)
            .map_err(|source| StoreError::sql("checking for changes by others", source))?;
        let changed = now != self.data_version;
        self.data_version = now;
        Ok(changed)
    }

    /// The schema version of the open database (always [`migrations::latest`] once open).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        migrations::user_version(&self.conn)
            .map_err(|source| StoreError::sql("reading the schema version", source))
    }
}

fn data_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA data_version", [], |row| row.get(0))
}

/// SQLite says "unable to open database file" for a missing directory and a permission
/// problem alike; look at the directory first so the message can say which.
fn check_directory(path: &Path) -> Result<(), StoreError> {
    if path.is_dir() {
        return Err(StoreError::IsADirectory {
            path: path.to_path_buf(),
        });
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(StoreError::MissingDirectory {
            path: path.to_path_buf(),
            dir: dir.to_path_buf(),
        }),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Err(StoreError::MissingDirectory {
            path: path.to_path_buf(),
            dir: dir.to_path_buf(),
        }),
        Err(err) if err.kind() == io::ErrorKind::PermissionDenied => {
            Err(StoreError::PermissionDenied {
                path: path.to_path_buf(),
            })
        }
        Err(_) => Ok(()), // let SQLite report it
    }
}

fn open_error(path: &Path, source: rusqlite::Error) -> StoreError {
    let path = path.to_path_buf();
    match source.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => StoreError::NotADatabase { path },
        // Anything that cannot be opened, written, or have its -wal created beside it, once
        // the directory is known to exist, is a matter of permissions.
        Some(ErrorCode::PermissionDenied | ErrorCode::ReadOnly | ErrorCode::CannotOpen) => {
            StoreError::PermissionDenied { path }
        }
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Locked {
            doing: format!("opening {}", path.display()),
        },
        _ => StoreError::Open { path, source },
    }
}

/// One transaction. Each table family is reached through its accessor ([`Tx::shifts`],
/// [`Tx::outbox`], ...); all of them act inside this transaction. Dropped without
/// [`Tx::commit`], it rolls back.
///
/// A method refusing a step ([`StoreError::WrongState`], [`StoreError::NotFound`],
/// [`StoreError::AlreadyExists`]) has written nothing; after any other error (the disk, a
/// lock) roll the transaction back rather than commit what came before.
pub struct Tx<'s> {
    tx: rusqlite::Transaction<'s>,
}

impl Tx<'_> {
    /// Make every change of this transaction durable (on disk before this returns).
    pub fn commit(self) -> Result<(), StoreError> {
        self.tx
            .commit()
            .map_err(|source| StoreError::sql("committing", source))
    }

    /// Undo every change of this transaction (the same as dropping it, but reports errors).
    pub fn rollback(self) -> Result<(), StoreError> {
        self.tx
            .rollback()
            .map_err(|source| StoreError::sql("rolling back", source))
    }

    pub fn shifts(&self) -> shifts::Shifts<'_> {
        shifts::Shifts::new(&self.tx)
    }

    pub fn employees(&self) -> employees::Employees<'_> {
        employees::Employees::new(&self.tx)
    }

    pub fn campaigns(&self) -> campaigns::Campaigns<'_> {
        campaigns::Campaigns::new(&self.tx)
    }

    pub fn inbox(&self) -> inbox::Inbox<'_> {
        inbox::Inbox::new(&self.tx)
    }

    pub fn outbox(&self) -> outbox::Outbox<'_> {
        outbox::Outbox::new(&self.tx)
    }

    pub fn callbacks(&self) -> callbacks::Callbacks<'_> {
        callbacks::Callbacks::new(&self.tx)
    }

    pub fn heartbeat(&self) -> heartbeat::Heartbeats<'_> {
        heartbeat::Heartbeats::new(&self.tx)
    }

    pub fn alerts(&self) -> alerts::Alerts<'_> {
        alerts::Alerts::new(&self.tx)
    }

    pub fn import(&self) -> import::Import<'_> {
        import::Import::new(&self.tx)
    }
}
