//! `shiftsms import FILE [--dry-run]`: the real binary on a temporary config and database.

mod common;

use std::path::Path;

use common::CliSite;

fn file(site: &CliSite, name: &str, text: &str) -> String {
    let path = site.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn shift_count(site: &CliSite) -> usize {
    let mut store = shiftsms::store::Store::open(&site.db).unwrap();
    let tx = store.read().unwrap();
    tx.shifts()
        .list(shiftsms::store::shifts::ShiftFilter::All)
        .unwrap()
        .len()
}

#[test]
fn dry_run_then_import() {
    let site = CliSite::new();
    let path = file(
        &site,
        "shifts.csv",
        "\u{FEFF}shift_id;shift_info\r\nXYZ123;Mon 06:00-14:00, Line 3\r\nXYZ222;Tue\r\n",
    );
    let out = site.run(&["import", &path, "--dry-run"]);
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

    let out = site.run(&["import", &path]);
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
    let site = CliSite::new();
    let path = file(
        &site,
        "employees.csv",
        "phone,name\n07400 123456,Ann\n12345,Bob\n",
    );
    let out = site.run(&["import", &path]);
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
    let out = site.run(&["import", &missing]);
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("missing.csv: no such file"), "{stderr}");
}
