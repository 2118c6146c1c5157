//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test crate uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use jiff::Timestamp;
use shiftsms::service::phone::E164;

/// Where the Debian `sqlite3` CLI lives on the machines this runs on.
const SQLITE3: &str = "/usr/bin/sqlite3";

pub fn has_sqlite3_cli() -> bool {
    Path::new(SQLITE3).exists()
}

/// Run `sql` against `db` as a site manager would: with the real `sqlite3` CLI (which has no
/// busy timeout and foreign keys off), or, if it is not installed, with a plain second
/// connection configured the same way. `Ok(stdout)`, or `Err(the error text)`.
pub fn sqlite3(db: &Path, sql: &str) -> Result<String, String> {
    if has_sqlite3_cli() {
        let out = Command::new(SQLITE3)
            .arg("-batch")
            .arg("-bail")
            .arg(db)
            .arg(sql)
            .output()
            .map_err(|e| format!("running {SQLITE3}: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    } else {
        second_connection(db, sql)
    }
}

fn second_connection(db: &Path, sql: &str) -> Result<String, String> {
    let conn = rusqlite::Connection::open(db).map_err(|e| e.to_string())?;
    if sql.trim_start().to_ascii_uppercase().starts_with("SELECT") {
        let mut stmt = conn.prepare(sql).map_err(|e| e.to_string())?;
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).map_err(|e| e.to_string())?;
        let mut out = String::new();
        while let Some(row) = rows.next().map_err(|e| e.to_string())? {
            let fields: Vec<String> = (0..columns)
                .map(|i| match row.get_ref(i) {
                    Ok(rusqlite::types::ValueRef::Null) => String::new(),
                    Ok(rusqlite::types::ValueRef::Integer(n)) => n.to_string(),
                    Ok(rusqlite::types::ValueRef::Real(x)) => x.to_string(),
                    Ok(rusqlite::types::ValueRef::Text(t)) => {
                        String::from_utf8_lossy(t).into_owned()
                    }
                    Ok(rusqlite::types::ValueRef::Blob(_)) => "<blob>".into(),
                    Err(e) => e.to_string(),
                })
                .collect();
            out.push_str(&fields.join("|"));
            out.push('\n');
        }
        Ok(out)
    } else {
        conn.execute_batch(sql).map_err(|e| e.to_string())?;
        Ok(String::new())
    }
}

pub fn phone(text: &str) -> E164 {
    E164::from_international(text).unwrap()
}

/// A fixed clock: tests pass time in, as the daemon does.
pub fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// A site for the command-line tests: the sample config.toml with the database moved into a
/// temporary directory, and the real binary run on it.
pub struct CliSite {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub db: PathBuf,
}

impl CliSite {
    pub fn new() -> CliSite {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("shiftsms.db");
        let sample =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml"))
                .unwrap();
        let text = sample.replacen(
            "path = \"/var/lib/shiftsms/shiftsms.db\"",
            &format!("path = {:?}", db.display().to_string()),
            1,
        );
        assert_ne!(text, sample, "the sample config names the database path");
        let config = dir.path().join("config.toml");
        std::fs::write(&config, text).unwrap();
        CliSite { dir, config, db }
    }

    /// `shiftsms --config <this site's> ARGS`, in UTC, without backtraces.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_shiftsms"))
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .env("TZ", "UTC")
            .env("RUST_BACKTRACE", "0")
            .output()
            .expect("run shiftsms")
    }
}
