//! `shiftsms import FILE [--dry-run]`: the real binary on a temporary config and database.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Site {
    dir: tempfile::TempDir,
    config: PathBuf,
    db: PathBuf,
}

/// The sample config.toml with the database moved into a temporary directory.
fn site() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shiftsms.db");
    let sample =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml")).unwrap();
    let text = sample.replacen(
        "path = \"/var/lib/shiftsms/shiftsms.db\"",
        &format!("path = {:?}", db.display().to_string()),
        1,
    );
    assert_ne!(text, sample, "the sample config names the database path");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, text).unwrap();
    Site { dir, config, db }
}

fn shiftsms(site: &Site, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shiftsms"))
        .arg("--config")
        .arg(&site.config)
        .args(args)
        .env("TZ", "UTC")
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run shiftsms")
}

fn file(site: &Site, name: &str, text: &str) -> String {
    let path = site.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn shift_count(site: &Site) -> usize {
    let mut store = shiftsms::store::Store::open(&site.db).unwrap();
    let tx = store.read().unwrap();
    tx.shifts()
        .list(shiftsms::store::shifts::ShiftFilter::All)
        .unwrap()
        .len()
}

#[test]
fn dry_run_then_import() {
    let site = site();
    let path = file(
        &site,
        "shifts.csv",
        "\u{FEFF}shift_id;shift_info\r\nXYZ123;Mon 06:00-14:00, Line 3\r\nXYZ222;Tue\r\n",
    );
    let out = shiftsms(&site, &["import", &path, "--dry-run"]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout,
        format!(
            "{path}: no problems found; importing it would give shifts: 2 added, 0 updated, 0 \
             unchanged. Nothing was changed (dry run).\n"
        )
    );
    assert_eq!(shift_count(&site), 0);

    let out = shiftsms(&site, &["import", &path]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with(&format!(
            "{path}: imported shifts: 2 added, 0 updated, 0 unchanged (in "
        )),
        "{stdout}"
    );
    assert_eq!(shift_count(&site), 2);
    // The file stays where it is.
    assert!(Path::new(&path).exists());
}

#[test]
fn a_bad_file_lists_its_problems_and_exits_non_zero() {
    let site = site();
    let path = file(
        &site,
        "employees.csv",
        "phone,name\n07400 123456,Ann\n12345,Bob\n",
    );
    let out = shiftsms(&site, &["import", &path]);
    assert!(!out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with(&format!(
            "{path} (an employees file) was NOT imported: nothing in it was applied.\n"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("\nline 3, column A (phone): \"12345\" is not a valid GB phone number"),
        "{stdout}"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("was not imported: 1 problem(s), listed above"),
        "{stderr}"
    );

    let missing = site.dir.path().join("missing.csv").display().to_string();
    let out = shiftsms(&site, &["import", &missing]);
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("missing.csv: no such file"), "{stderr}");
}
