//! Running on a site PC (issue 7), end to end with the real binary on a virtual modem:
//! systemd notifications on a fake `NOTIFY_SOCKET`, the watchdog withheld while the modem
//! task is stuck on a modem that stopped answering, `shiftsms status` against the heartbeat
//! of a running, stopped and dead daemon, logs falling back to stderr when journald cannot be
//! reached, and an alert texted to a supervisor.

mod support;

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use support::{PATIENCE, Site, SiteOptions};
use tokio::net::UnixDatagram;

/// The next notification, or a panic naming what was awaited.
async fn next(socket: &UnixDatagram, waiting_for: &str) -> String {
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(PATIENCE, socket.recv(&mut buf))
        .await
        .unwrap_or_else(|_| panic!("no notification while waiting for {waiting_for}"))
        .unwrap();
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// Notifications until one satisfies `done`; returns all of them, that one last.
async fn until(
    socket: &UnixDatagram,
    waiting_for: &str,
    done: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let message = next(socket, waiting_for).await;
        let found = done(&message);
        seen.push(message);
        if found {
            return seen;
        }
    }
}

#[tokio::test]
async fn readiness_and_watchdog_reach_the_notify_socket_and_the_watchdog_stops_while_the_modem_task_is_stuck()
 {
    let site = Site::new(SiteOptions::default());
    let path = site.dir.path().join("notify");
    let socket = UnixDatagram::bind(&path).unwrap();
    let mut command = site.run_command();
    // A 2 s watchdog: the daemon pings every second and gives each loop 2 s to answer.
    command
        .env("NOTIFY_SOCKET", &path)
        .env("WATCHDOG_USEC", "2000000");
    let daemon = site.spawn_command(command);

    let started = until(&socket, "READY=1", |m| m.contains("READY=1")).await;
    let ready = started.last().unwrap();
    assert!(
        ready.contains("STATUS=serving: the modem at") && ready.contains("is ready"),
        "{started:?}"
    );
    until(&socket, "WATCHDOG=1", |m| m == "WATCHDOG=1\n").await;
    until(&socket, "a second WATCHDOG=1", |m| m == "WATCHDOG=1\n").await;

    // The modem's firmware hangs: the modem task's next command is never answered (until its
    // own timeout, three times longer than this watchdog allows).
    site.vm.set_hung(true);
    let before = until(&socket, "the watchdog withheld", |m| m.contains("withheld")).await;
    let withheld = before.last().unwrap();
    assert!(
        withheld.contains("watchdog withheld: the modem task has not answered for"),
        "{withheld}"
    );
    // From then on, no ping (they came every second before) until the modem task answers
    // again, when its command times out after 6 s: only status updates, each second.
    let during = until(&socket, "pings again", |m| m.contains("WATCHDOG=1")).await;
    let (resumed, withheld) = during.split_last().unwrap();
    assert_eq!(resumed, "WATCHDOG=1\n");
    assert!(withheld.len() >= 2, "{during:?}");
    assert!(
        withheld
            .iter()
            .all(|m| m.starts_with("STATUS=") && m.contains("watchdog withheld")),
        "pinged while the modem task was stuck: {during:?}"
    );
    assert!(daemon.logged("watchdog: the modem task has not answered"));
    until(&socket, "the status without the watchdog", |m| {
        m.starts_with("STATUS=") && !m.contains("withheld")
    })
    .await;

    daemon.signal(nix::sys::signal::Signal::SIGTERM);
    until(&socket, "STOPPING=1", |m| m.contains("STOPPING=1")).await;
    let mut daemon = daemon;
    assert!(
        daemon.wait_exit(PATIENCE).await.success(),
        "{}",
        daemon.log()
    );
}

fn status(site: &Site) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shiftsms"))
        .arg("--config")
        .arg(&site.config)
        .arg("status")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn status_reads_the_heartbeat_of_a_running_a_stopped_and_a_dead_daemon() {
    let site = Site::new(SiteOptions::default());
    let never = status(&site);
    assert_eq!(never.status.code(), Some(2), "{}", stdout(&never));
    assert!(stdout(&never).contains("it has never run on this database"));

    let daemon = site.start().await;
    // The heartbeat follows the daemon's health within moments of "serving".
    let deadline = Instant::now() + PATIENCE;
    let running = loop {
        let output = status(&site);
        if output.status.code() == Some(0) || Instant::now() > deadline {
            break output;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let shown = stdout(&running);
    assert_eq!(running.status.code(), Some(0), "{shown}\n{}", daemon.log());
    assert!(
        shown.starts_with("shiftsms is running and ready: texts flow"),
        "{shown}"
    );
    assert!(shown.contains("Modem      ready since"), "{shown}");
    assert!(shown.contains("shiftsms Virtual GSM modem"), "{shown}");
    assert!(shown.contains("operator Demo Net"), "{shown}");
    assert!(shown.contains("signal -73 dBm (good)"), "{shown}");
    assert!(
        shown.contains("SIM        0 of 30 message slots used"),
        "{shown}"
    );

    assert!(daemon.stop().await.success());
    let stopped = status(&site);
    assert_eq!(stopped.status.code(), Some(2), "{}", stdout(&stopped));
    assert!(stdout(&stopped).starts_with("shiftsms is not running: it stopped at"));

    // A daemon that died without a word (SIGKILL, a hang): its heartbeat goes stale.
    site.sql(
        "UPDATE daemon_heartbeat SET health = 'serving', \
         written_at = datetime('now', '-10 minutes')",
    );
    let dead = status(&site);
    assert_eq!(dead.status.code(), Some(2), "{}", stdout(&dead));
    assert!(
        stdout(&dead).starts_with("shiftsms looks dead: its heartbeat was last written 10 min ago"),
        "{}",
        stdout(&dead)
    );
}

#[tokio::test]
async fn logs_fall_back_to_stderr_when_journald_cannot_be_reached() {
    let site = Site::new(SiteOptions::default());
    // stderr is "the journal" as systemd would say it: JOURNAL_STREAM names its device and
    // inode. With no journald listening, the daemon must log there itself.
    let stderr_path = site.dir.path().join("stderr");
    let file = std::fs::File::create(&stderr_path).unwrap();
    let meta = file.metadata().unwrap();
    let mut command = site.run_command();
    command
        .env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()))
        .stderr(file);
    let daemon = site.spawn_command(command);
    let journald = Path::new("/run/systemd/journal/socket").exists();
    let deadline = Instant::now() + PATIENCE;
    loop {
        let serving = site
            .query::<i64>("SELECT count(*) FROM daemon_heartbeat WHERE health = 'serving'")
            == 1;
        if serving {
            break;
        }
        assert!(Instant::now() < deadline, "the daemon never served");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    daemon.stop().await;
    let logged = std::fs::read_to_string(&stderr_path).unwrap();
    if journald {
        // This machine runs journald: the lines went there, with their fields.
        assert!(!logged.contains("serving"), "{logged}");
    } else {
        let first = logged.lines().next().unwrap_or_default();
        assert!(first.contains("journald cannot be reached"), "{logged}");
        assert!(logged.contains("serving"), "{logged}");
        // The journal stamps each line itself: no time at the start of ours.
        assert!(
            logged.lines().all(|line| !line.starts_with("20")),
            "{logged}"
        );
    }
}

#[tokio::test]
async fn a_finished_campaign_is_texted_to_the_supervisors() {
    let site = Site::new(SiteOptions::default());
    let mut config = std::fs::read_to_string(&site.config).unwrap();
    config.push_str("\n[alerts]\nnumbers = [\"+447400999999\"]\nsite = \"Leeds DC\"\n");
    std::fs::write(&site.config, config).unwrap();
    site.employee("+447400123456", "Ann");
    site.shift("XYZ123", "Mon 06:00-14:00");
    let daemon = site.start().await;
    site.sql("INSERT INTO shift_campaigns (campaign_id, shifts) VALUES ('week-48', 'XYZ123 Mon 06:00-14:00')");
    site.wait_for_texts("+447400123456", 1).await;
    let alert = site.wait_for_texts("+447400999999", 1).await;
    assert_eq!(
        alert,
        [
            "Leeds DC: campaign week-48 finished: offered to 1 employee; 0 of its 1 shift booked so far."
        ]
    );
    assert_eq!(
        site.rows("SELECT kind, subject, recipients FROM alerts"),
        ["campaign_finished|week-48|1"]
    );
    assert!(daemon.logged("alert: Leeds DC: campaign week-48 finished"));
    assert!(daemon.stop().await.success());
}
