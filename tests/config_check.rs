//! `shiftsms config check`, as the IT person runs it: exit status and what it prints.

use std::path::Path;
use std::process::{Command, Output};

fn check(config: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shiftsms"))
        .arg("--config")
        .arg(config)
        .args(["config", "check"])
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("run shiftsms")
}

fn sample() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml"))
        .expect("the sample config.toml")
}

#[test]
fn the_sample_passes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, sample()).unwrap();
    let out = check(&path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.contains("OK (0 warning(s))"), "{stdout}");
}

#[test]
fn a_typo_fails_naming_file_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let text = sample().replacen("baud = 115200", "bud = 115200", 1);
    let line = text.lines().position(|l| l.starts_with("bud =")).unwrap() + 1;
    std::fs::write(&path, text).unwrap();
    let out = check(&path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{out:?}");
    let expected = format!("{}:{line}: modem.bud: unknown key `bud`", path.display());
    assert!(stderr.contains(&expected), "{stderr}");
}

#[test]
fn a_missing_file_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nowhere.toml");
    let out = check(&path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{out:?}");
    assert!(
        stderr.contains("nowhere.toml: cannot read the config file"),
        "{stderr}"
    );
}

#[test]
fn warnings_are_printed_but_pass() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let text = sample().replacen(
        "port = \"/dev/shiftsms-modem\"",
        "port = \"/dev/ttyUSB0\"",
        1,
    );
    std::fs::write(&path, text).unwrap();
    let out = check(&path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stderr.contains("warning:") && stderr.contains("modem.port"),
        "{stderr}"
    );
}
