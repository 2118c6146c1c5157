//! The files that install shiftsms on a site PC (`systemd/`, the `[package.metadata.deb]`
//! section of Cargo.toml, the sample config) agree with each other, and the unit passes
//! `systemd-analyze security` (exposure 1.5 or lower) and `systemd-analyze verify` wherever
//! systemd-analyze is installed (systemd 252 here; both work without a running systemd).

use std::path::{Path, PathBuf};
use std::process::Command;

use shiftsms::config::Config;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `Key=Value` settings of a unit file, in order, with their section (repeated keys kept).
fn settings(unit: &str) -> Vec<(String, String, String)> {
    let mut section = String::new();
    let mut out = Vec::new();
    for line in unit.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
            continue;
        }
        let (key, value) = line.split_once('=').expect("Key=Value");
        out.push((
            section.clone(),
            key.trim().to_string(),
            value.trim().to_string(),
        ));
    }
    out
}

fn values<'a>(all: &'a [(String, String, String)], key: &str) -> Vec<&'a str> {
    all.iter()
        .filter(|(_, k, _)| k == key)
        .map(|(_, _, v)| v.as_str())
        .collect()
}

fn one<'a>(all: &'a [(String, String, String)], key: &str) -> &'a str {
    match values(all, key).as_slice() {
        [value] => value,
        other => panic!("{key}: expected one value, found {other:?}"),
    }
}

#[test]
fn the_unit_says_what_the_issue_asks() {
    let unit = settings(&read("systemd/shiftsms.service"));
    for (key, value) in [
        ("Type", "notify"),
        ("NotifyAccess", "main"),
        (
            "ExecStart",
            "/usr/bin/shiftsms --config /etc/shiftsms/config.toml run",
        ),
        ("Restart", "on-failure"),
        ("WatchdogSec", "3min"),
        ("User", "shiftsms"),
        ("Group", "shiftsms"),
        ("SupplementaryGroups", "dialout"),
        ("StateDirectory", "shiftsms"),
        ("ConfigurationDirectory", "shiftsms"),
        ("UMask", "0007"),
        ("PrivateNetwork", "yes"),
        ("RestrictAddressFamilies", "AF_UNIX"),
        ("CapabilityBoundingSet", ""),
        ("ProtectSystem", "strict"),
        ("DevicePolicy", "closed"),
        ("NoNewPrivileges", "yes"),
    ] {
        assert_eq!(one(&unit, key), value, "{key}");
    }
    assert_eq!(
        values(&unit, "DeviceAllow"),
        ["char-ttyUSB rw", "char-ttyACM rw"]
    );
    assert!(values(&unit, "SystemCallFilter").contains(&"@system-service"));
    // The restart rate limit lives in [Unit].
    assert!(
        unit.iter()
            .any(|(s, k, _)| s == "Unit" && k == "StartLimitBurst"),
        "{unit:?}"
    );
}

#[test]
fn the_package_installs_files_that_agree_with_the_unit() {
    let cargo: toml::Table = read("Cargo.toml").parse().unwrap();
    let deb = &cargo["package"]["metadata"]["deb"];
    let assets: Vec<(String, String)> = deb["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|asset| {
            let asset = asset.as_array().unwrap();
            (
                asset[0].as_str().unwrap().to_string(),
                asset[1].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (source, _) in &assets {
        if !source.starts_with("target/") {
            assert!(repo().join(source).exists(), "asset {source} is missing");
        }
    }
    let installed = |dest: &str| {
        assets
            .iter()
            .find(|(_, d)| d == dest)
            .map(|(source, _)| source.clone())
            .unwrap_or_else(|| panic!("nothing is installed at {dest}: {assets:?}"))
    };
    assert_eq!(installed("usr/bin/"), "target/release/shiftsms");

    // The config the unit starts with is the sample, and its paths are the unit's.
    let unit = settings(&read("systemd/shiftsms.service"));
    assert!(one(&unit, "ExecStart").contains("--config /etc/shiftsms/config.toml"));
    let sample = installed("etc/shiftsms/config.toml");
    let config = Config::load(&repo().join(&sample)).unwrap();
    let state = Path::new("/var/lib").join(one(&unit, "StateDirectory"));
    assert_eq!(one(&unit, "WorkingDirectory"), state.to_str().unwrap());
    assert!(config.database.path.starts_with(&state), "{config:?}");
    assert!(config.drop.dir.starts_with(&state), "{config:?}");

    // The modem port is the name the udev rule gives.
    let rules = installed("etc/udev/rules.d/78-shiftsms-modem.rules");
    let rules = read(&rules);
    assert!(rules.contains("ENV{ID_MM_DEVICE_IGNORE}=\"1\""), "{rules}");
    let link = Path::new("/dev").join(
        rules
            .split("SYMLINK+=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap(),
    );
    assert_eq!(config.modem.port, link);
    assert!(rules.contains("GROUP=\"dialout\""), "{rules}");

    // cargo-deb installs and applies the unit, the account and the directories from
    // unit-scripts: the account is the unit's, in the serial devices' group, and the state
    // directory has the unit's mode.
    let units = Path::new(deb["systemd-units"]["unit-scripts"].as_str().unwrap());
    let sysusers = read(units.join("shiftsms.sysusers").to_str().unwrap());
    assert!(
        sysusers.lines().any(|l| l.starts_with("u shiftsms ")),
        "{sysusers}"
    );
    assert!(
        sysusers.lines().any(|l| l == "m shiftsms dialout"),
        "{sysusers}"
    );
    let tmpfiles = read(units.join("shiftsms.tmpfile").to_str().unwrap());
    let mode = one(&unit, "StateDirectoryMode");
    assert!(
        tmpfiles
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()
                == [
                    "d",
                    state.to_str().unwrap(),
                    mode,
                    "shiftsms",
                    "shiftsms",
                    "-"
                ]),
        "{tmpfiles}"
    );
    assert!(read(units.join("shiftsms.service").to_str().unwrap()).contains("Type=notify"));
    assert!(read("debian/postinst").contains("#DEBHELPER#"));
}

/// `systemd-analyze`, when this machine has it.
fn systemd_analyze() -> Option<Command> {
    let found = Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    found.then(|| Command::new("systemd-analyze"))
}

#[test]
fn the_unit_passes_systemd_analyze_security_and_verify() {
    let Some(mut security) = systemd_analyze() else {
        eprintln!(
            "systemd-analyze is not installed here: only the unit's settings were checked \
             (the_unit_says_what_the_issue_asks)"
        );
        return;
    };
    let unit = repo().join("systemd/shiftsms.service");
    let out = security
        .args(["security", "--offline=true", "--no-pager"])
        .arg(&unit)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    let exposure: f32 = report
        .lines()
        .find_map(|line| {
            line.split("Overall exposure level for shiftsms.service: ")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no exposure level in:\n{report}\n{out:?}"));
    assert!(exposure <= 1.5, "exposure {exposure}:\n{report}");

    // `verify` refuses a unit whose ExecStart binary does not exist: check a copy that
    // starts the binary just built.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("shiftsms.service");
    let text = std::fs::read_to_string(&unit).unwrap().replace(
        "ExecStart=/usr/bin/shiftsms",
        &format!("ExecStart={}", env!("CARGO_BIN_EXE_shiftsms")),
    );
    std::fs::write(&copy, text).unwrap();
    let out = systemd_analyze()
        .unwrap()
        .arg("verify")
        .arg(&copy)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(!said.contains("shiftsms.service"), "{said}");
}
