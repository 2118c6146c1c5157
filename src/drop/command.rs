//! `shiftsms import FILE [--dry-run]`: the drop folder's import, by hand. The file is read,
//! checked and imported exactly as if dropped into the folder, but it stays where it is and
//! the answer is printed instead of written to `failed/`.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::files::{self, ReadError};
use super::import::{self, ImportError, ImportOptions, Mode, Outcome};
use super::report;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ImportCommandError {
    #[error("{}: no such file", file.display())]
    NotFound { file: PathBuf },
    #[error("{}: {source}", file.display())]
    Read { file: PathBuf, source: ReadError },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{}: {source}", file.display())]
    Import { file: PathBuf, source: ImportError },
    #[error("writing the output: {0}")]
    Output(#[from] io::Error),
}

/// Import (or with [`Mode::DryRun`] only check) `file` into the database at `database`,
/// telling `out` what happened. A refused file is `Ok(Outcome::Rejected)`: its problems are
/// printed, and the caller decides the exit status.
pub fn run(
    file: &Path,
    database: &Path,
    options: ImportOptions,
    mode: Mode,
    now: Timestamp,
    out: &mut impl Write,
) -> Result<Outcome, ImportCommandError> {
    let bytes = files::read(file).map_err(|source| match source {
        ReadError::Vanished => ImportCommandError::NotFound {
            file: file.to_path_buf(),
        },
        source => ImportCommandError::Read {
            file: file.to_path_buf(),
            source,
        },
    })?;
    let mut store = Store::open(database)?;
    let outcome =
        import::import_bytes(&mut store, &bytes, options, mode, now).map_err(|source| {
            ImportCommandError::Import {
                file: file.to_path_buf(),
                source,
            }
        })?;
    let name = file.display().to_string();
    match &outcome {
        Outcome::Imported { summary, timing } => writeln!(
            out,
            "{name}: imported {summary} (in {} ms, database locked for {} ms).",
            timing.total.as_millis(),
            timing.write_lock.as_millis()
        )?,
        Outcome::WouldImport { summary } => writeln!(
            out,
            "{name}: no problems found; importing it would give {summary}. Nothing was changed \
             (dry run)."
        )?,
        Outcome::Rejected { kind, problems } => {
            let at = now.to_zoned_datetime(TimeZone::system());
            write!(out, "{}", report::errors_text(&name, *kind, problems, &at))?;
        }
    }
    Ok(outcome)
}
