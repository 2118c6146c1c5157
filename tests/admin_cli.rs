//! The admin subcommands as a scheduler runs them: the real binary, a config file, a database
//! also edited with `sqlite3`, exit status and output.

mod common;

use common::{CliSite, sqlite3};

/// Run, expect success, return stdout.
fn ok(site: &CliSite, args: &[&str]) -> String {
    let out = site.run(args);
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// Run, expect failure, return stderr.
fn fails(site: &CliSite, args: &[&str]) -> String {
    let out = site.run(args);
    assert!(!out.status.success(), "{args:?} should fail: {out:?}");
    assert!(
        out.stdout.is_empty(),
        "{args:?}: nothing on stdout: {out:?}"
    );
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn a_scheduler_adds_shifts_and_employees_and_lists_them() {
    let site = CliSite::new();
    assert_eq!(
        ok(&site, &["shifts"]),
        "No shifts yet. Add one with `shiftsms shifts add CODE INFO`.\n"
    );
    assert_eq!(
        ok(
            &site,
            &["shifts", "add", "xyz123", "Mon 06:00-14:00 Line 3"]
        ),
        "Added shift XYZ123: available.\n"
    );
    // A site manager adds one with sqlite3 meanwhile.
    sqlite3(
        &site.db,
        "INSERT INTO shift_status(shift_id, shift_info) VALUES('XYZ222', 'Tue 14:00-22:00');",
    )
    .unwrap();
    assert_eq!(
        ok(
            &site,
            &["employees", "add", "07400 123456", "--name", "Ann"]
        ),
        "Added employee +447400123456 (Ann), subscribed to shift offers.\n"
    );
    sqlite3(
        &site.db,
        "UPDATE shift_status SET shift_status = 'taken', employee = '+447400123456',
                booked_at = '2024-05-01 10:30:00' WHERE shift_id = 'XYZ222';",
    )
    .unwrap();

    let list = ok(&site, &["shifts", "list"]);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 4, "{list}");
    assert!(
        lines[0].starts_with("CODE    STATUS     BOOKED BY"),
        "{list}"
    );
    assert!(lines[1].starts_with("XYZ123  available"), "{list}");
    assert!(
        lines[2].starts_with("XYZ222  taken      +447400123456 (Ann)  2024-05-01 10:30 UTC"),
        "{list}"
    );
    assert_eq!(lines[3], "2 shifts: 1 available, 1 taken");
    let available = ok(&site, &["shifts", "list", "--available"]);
    assert!(
        available.contains("XYZ123") && !available.contains("XYZ222"),
        "{available}"
    );

    let employees = ok(&site, &["employees"]);
    assert!(
        employees.contains("+447400123456  Ann   yes"),
        "{employees}"
    );
    assert!(
        employees.ends_with("1 employee, 1 subscribed to shift offers\n"),
        "{employees}"
    );

    assert_eq!(
        ok(&site, &["shifts", "release", "xyz222"]),
        "Shift XYZ222 is available again (it was booked by +447400123456).\n"
    );
    assert_eq!(
        ok(&site, &["shifts", "remove", "XYZ123"]),
        "Removed shift XYZ123.\n"
    );
    assert_eq!(
        ok(&site, &["employees", "remove", "+44 7400 123456"]),
        "Removed employee +447400123456 (Ann).\n"
    );
    assert_eq!(
        sqlite3(&site.db, "SELECT count(*) FROM employees;")
            .unwrap()
            .trim(),
        "0"
    );
}

#[test]
fn mistakes_exit_non_zero_and_say_what_is_wrong() {
    let site = CliSite::new();
    let err = fails(&site, &["employees", "add", "12345"]);
    assert!(
        err.contains("\"12345\" is not a valid GB phone number"),
        "{err}"
    );
    let err = fails(&site, &["shifts", "add", "MONDAY", "early"]);
    assert!(
        err.contains("\"MONDAY\" is not a valid shift code: it has no digit"),
        "{err}"
    );
    ok(&site, &["shifts", "add", "XYZ123"]);
    let err = fails(&site, &["shifts", "add", "xyz123"]);
    assert!(err.contains("shift XYZ123 already exists"), "{err}");
    let err = fails(&site, &["shifts", "remove", "NOPE1"]);
    assert!(err.contains("no shift has the code \"NOPE1\""), "{err}");
    let err = fails(&site, &["employees", "remove", "07400 999999"]);
    assert!(err.contains("+447400999999 is not an employee"), "{err}");
    let err = fails(&site, &["campaigns", "create", " "]);
    assert!(err.contains("the campaign's shifts text is empty"), "{err}");
    let err = fails(&site, &["outbox", "--state", "done"]);
    assert!(
        err.contains("expected queued, sending, sent, failed or cancelled"),
        "{err}"
    );

    // A database path whose directory is missing: named in the message.
    let text = std::fs::read_to_string(&site.config).unwrap();
    let missing = site
        .db
        .parent()
        .unwrap()
        .join("missing")
        .join("shiftsms.db");
    std::fs::write(
        &site.config,
        text.replacen(
            &format!("path = {:?}", site.db.display().to_string()),
            &format!("path = {:?}", missing.display().to_string()),
            1,
        ),
    )
    .unwrap();
    let err = fails(&site, &["shifts"]);
    assert!(
        err.contains("directory") && err.contains("missing"),
        "{err}"
    );
}

#[test]
fn a_campaign_created_from_the_command_line_waits_for_the_daemon() {
    let site = CliSite::new();
    ok(&site, &["employees", "add", "07400 123456"]);
    let created = ok(
        &site,
        &[
            "campaigns",
            "create",
            "XYZ123 Mon 06:00-14:00",
            "--id",
            "mon-early",
        ],
    );
    assert_eq!(
        created,
        "Created campaign mon-early. The running daemon (`shiftsms run`) texts it to 1 \
         subscribed employee.\n"
    );
    assert_eq!(
        sqlite3(
            &site.db,
            "SELECT campaign_id, status, shifts FROM shift_campaigns;"
        )
        .unwrap()
        .trim(),
        "mon-early|new|XYZ123 Mon 06:00-14:00"
    );
    let list = ok(&site, &["campaigns"]);
    assert!(list.starts_with("ID         STATUS  CREATED"), "{list}");
    assert!(list.contains("mon-early  new"), "{list}");
    let err = fails(
        &site,
        &["campaigns", "create", "XYZ222", "--id", "mon-early"],
    );
    assert!(
        err.contains("campaign \"mon-early\" already exists"),
        "{err}"
    );
}

#[test]
fn queues_outbox_and_inbox_on_a_quiet_database() {
    let site = CliSite::new();
    let summary = ok(&site, &["queues"]);
    assert!(
        summary.starts_with("Outbox\nKIND       queued  sending  sent  failed  cancelled\n"),
        "{summary}"
    );
    assert!(
        summary.contains("Inbox: 0 texts waiting to be acted on"),
        "{summary}"
    );
    assert!(summary.contains("Callbacks: 0 open."), "{summary}");
    assert_eq!(
        ok(&site, &["outbox", "--kind", "broadcast"]),
        "No messages.\n"
    );
    assert_eq!(ok(&site, &["inbox", "--unprocessed"]), "No texts.\n");
}

#[test]
fn help_names_every_admin_command() {
    let site = CliSite::new();
    let help = ok(&site, &["--help"]);
    for command in [
        "shifts",
        "employees",
        "campaigns",
        "queues",
        "outbox",
        "inbox",
        "callbacks",
    ] {
        assert!(
            help.lines()
                .any(|line| line.trim_start().starts_with(command)),
            "{command} missing from:\n{help}"
        );
    }
    let help = ok(&site, &["employees", "add", "--help"]);
    assert!(help.contains("E.164") && help.contains("--name"), "{help}");
}
