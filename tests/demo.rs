//! `shiftsms demo` needs no config and no set-up, finishes in seconds and exits 0, and its
//! transcript shows each thing an employee can do.

use std::process::Command;

#[test]
fn the_demo_plays_the_whole_conversation_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    // Run where there is no config.toml at all.
    let out = Command::new(env!("CARGO_BIN_EXE_shiftsms"))
        .arg("demo")
        .current_dir(dir.path())
        .env("TMPDIR", tmp.path())
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let transcript = String::from_utf8_lossy(&out.stdout);
    let errors = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{transcript}\n{errors}");
    for expected in [
        "INSERT INTO shift_campaigns",
        "Available shifts: XYZ123",
        "shiftsms -> Ann: These are the shifts available:",
        "shiftsms -> Bob: Request summary - Shift booked (2): XYZ123, ABC777",
        "Shift booked (1): DEF456",
        "Shift taken (1): DEF456",
        "Exactly one booking was made",
        "NOT-AUTHORISED please contact the administrator",
        "shiftsms -> Eve: You will no longer receive shift notifications.",
        "shiftsms -> Eve: You will receive shift notifications again.",
        "shiftsms -> Ann: Thank you, an agent will call you back as soon as possible.",
        "modem <- ATD+441234567890;",
        "modem <- AT+CHLD=4",
        "call to Ann: dialled, ringing, answered, transferred",
        "shiftsms -> agent: Callback request from Ann +447400123456: \"my badge does not open gate 4\"",
        "callbacks: #1 for Ann is done: put through",
        "callbacks: #1 done",
        "DEF456   Sat 06:00-14:00 Packing",
        "0 waiting to be acted on",
    ] {
        assert!(
            transcript.contains(expected),
            "missing {expected:?} in:\n{transcript}\n{errors}"
        );
    }
    // Its throw-away database and modem link are gone.
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn the_interactive_demo_answers_what_is_typed() {
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_shiftsms"))
        .args(["demo", "--interactive"])
        .env("TMPDIR", tmp.path())
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"xyz222\n/as Bob\nXYZ222\n/quit\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let transcript = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{transcript}");
    for expected in [
        "Ann -> shiftsms: \"xyz222\"",
        "shiftsms -> Ann: Request summary - Shift booked (1): XYZ222",
        "shiftsms -> Bob: Request summary - Shift taken (1): XYZ222",
        "XYZ222   Tue 14:00-22:00 Line 1     taken by Ann (+447400123456)",
    ] {
        assert!(
            transcript.contains(expected),
            "missing {expected:?} in:\n{transcript}"
        );
    }
}
