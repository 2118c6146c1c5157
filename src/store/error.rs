//! What can go wrong with the database, worded for the person who has to fix it: which file,
//! which operation, and what SQLite said, with the constraint's own name when a value was
//! refused (the schema names its CHECK constraints as sentences for exactly this).

use std::path::PathBuf;

use rusqlite::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open database {}: directory {} does not exist", path.display(), dir.display())]
    MissingDirectory { path: PathBuf, dir: PathBuf },

    #[error(
        "cannot open database {}: permission denied; the user running shiftsms needs read and \
         write access to the file and to its directory (SQLite writes {file}-wal and {file}-shm beside it)",
        path.display(), file = file_name(path)
    )]
    PermissionDenied { path: PathBuf },

    #[error(
        "{} is a directory; the database path must name a file, e.g. {}",
        path.display(), path.join("shiftsms.db").display()
    )]
    IsADirectory { path: PathBuf },

    #[error("{} is not an SQLite database (a different file, or corrupt)", path.display())]
    NotADatabase { path: PathBuf },

    #[error(
        "{doing}: the database stayed locked by another program past the busy timeout; is a \
         sqlite3 session holding a transaction open? (start sqlite3 with -cmd \".timeout 5000\" \
         and COMMIT promptly)"
    )]
    Locked { doing: String },

    #[error(
        "database {} has schema version {found}, newer than this shiftsms knows ({known}): \
         upgrade shiftsms, or restore a backup made by this version",
        path.display()
    )]
    TooNew {
        path: PathBuf,
        found: u32,
        known: u32,
    },

    #[error("database {}: migrating to schema version {version}: {source}", path.display())]
    Migration {
        path: PathBuf,
        version: u32,
        source: rusqlite::Error,
    },

    #[error("cannot open database {}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },

    /// A value refused by a constraint: `constraint` is the name of a CHECK constraint (written
    /// as a sentence in the schema) or SQLite's own text for UNIQUE / NOT NULL / FOREIGN KEY.
    #[error("{doing}: refused by the database: {constraint}")]
    Constraint { doing: String, constraint: String },

    #[error("{what} does not exist")]
    NotFound { what: String },

    #[error("{what} already exists")]
    AlreadyExists { what: String },

    /// A lifecycle step asked of a row that is not in a state that allows it (for example
    /// recording a part as sent for a message that was cancelled meanwhile).
    #[error("{what} is {found}, expected {expected}")]
    WrongState {
        what: String,
        expected: &'static str,
        found: String,
    },

    #[error("{doing}: {source}")]
    Sql {
        doing: String,
        source: rusqlite::Error,
    },
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map_or_else(String::new, |name| name.to_string_lossy().into_owned())
}

impl StoreError {
    /// Classify an error from a statement run while `doing` something, so that a refused value
    /// and a lock held by someone else each read as what they are.
    pub(crate) fn sql(doing: impl Into<String>, source: rusqlite::Error) -> StoreError {
        let doing = doing.into();
        match source.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                StoreError::Locked { doing }
            }
            Some(ErrorCode::ConstraintViolation) => StoreError::Constraint {
                constraint: constraint_text(&source),
                doing,
            },
            _ => StoreError::Sql { doing, source },
        }
    }

    /// Whether the database was busy (locked by another connection past the busy timeout).
    pub fn is_locked(&self) -> bool {
        match self {
            StoreError::Locked { .. } => true,
            StoreError::Open { source, .. } | StoreError::Migration { source, .. } => {
                is_busy(source)
            }
            _ => false,
        }
    }
}

pub(crate) fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// `CHECK constraint failed: phone must be E.164 like +447400123456` becomes the part after
/// the colon; UNIQUE, NOT NULL and FOREIGN KEY messages are kept whole, they read well.
fn constraint_text(error: &rusqlite::Error) -> String {
    let message = match error {
        rusqlite::Error::SqliteFailure(_, Some(message)) => message.as_str(),
        other => return other.to_string(),
    };
    message
        .strip_prefix("CHECK constraint failed: ")
        .unwrap_or(message)
        .to_string()
}
