//! The drop folder inside the running daemon (`shiftsms run`, the real binary) on the virtual
//! modem: a campaign file dropped into the folder is texted once to every subscribed
//! employee; the same file dropped again texts nobody.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{at, phone};
use shiftsms::store::Store;
use shiftsms::virtual_modem::{VirtualModem, VmOptions};

const GIVE_UP: Duration = Duration::from_secs(60);

/// The daemon as a child process; stopped with SIGTERM when dropped.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.child.wait();
    }
}

impl Daemon {
    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn config(dir: &Path, port: &Path, db: &Path, drop: &Path) -> PathBuf {
    let sample =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("config.toml")).unwrap();
    let text = sample
        .replacen(
            "port = \"/dev/shiftsms-modem\"",
            &format!("port = {:?}", port.display().to_string()),
            1,
        )
        .replacen(
            "path = \"/var/lib/shiftsms/shiftsms.db\"",
            &format!("path = {:?}", db.display().to_string()),
            1,
        )
        .replacen(
            "dir = \"/var/lib/shiftsms/drop\"",
            &format!("dir = {:?}", drop.display().to_string()),
            1,
        )
        .replacen("pause = \"1s\"", "pause = \"100ms\"", 1);
    assert_eq!(text.matches(&*dir.display().to_string()).count(), 2);
    let file = dir.join("config.toml");
    fs::write(&file, text).unwrap();
    file
}

fn processed(drop: &Path) -> usize {
    fs::read_dir(drop.join("processed")).map_or(0, |e| e.count())
}

async fn wait_for(what: &str, daemon: &Daemon, done: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + GIVE_UP;
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting for {what}; daemon log:\n{}",
            daemon.log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_campaign_file_is_broadcast_once_and_not_again() {
    let vm = VirtualModem::start(VmOptions::default()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("shiftsms.db");
    let drop = tmp.path().join("drop");
    let config = config(tmp.path(), &vm.port(), &db, &drop);
    {
        let mut store = Store::open(&db).unwrap();
        let tx = store.transaction().unwrap();
        let now = at("2024-05-01T09:00:00Z");
        tx.employees()
            .add(&phone("+447400123456"), Some("Ann"), now)
            .unwrap();
        tx.employees()
            .add(&phone("+447400123457"), Some("Bob"), now)
            .unwrap();
        tx.shifts().add("XYZ123", "Sat 06:00-14:00", now).unwrap();
        tx.commit().unwrap();
    }
    let log = tmp.path().join("daemon.log");
    let child = Command::new(env!("CARGO_BIN_EXE_shiftsms"))
        .arg("--config")
        .arg(&config)
        .arg("run")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log).unwrap())
        .spawn()
        .expect("start shiftsms run");
    let daemon = Daemon { child, log };
    wait_for("the drop folder", &daemon, || {
        drop.join("processed").is_dir()
    })
    .await;

    let text = "campaign_id,shifts\r\nweekend-1,XYZ123 Sat 06:00-14:00\r\n";
    let staged = tmp.path().join("campaign.csv");
    fs::write(&staged, text).unwrap();
    fs::rename(&staged, drop.join("campaign.csv")).unwrap();
    let sent = vm.wait_sms(2, GIVE_UP).await.unwrap_or_else(|e| {
        panic!(
            "{e}; daemon log:\n{}\n{}",
            daemon.log(),
            vm.transcript_text()
        )
    });
    let mut to: Vec<&str> = sent.iter().map(|s| s.to.as_str()).collect();
    to.sort();
    assert_eq!(to, ["+447400123456", "+447400123457"]);
    assert!(
        sent.iter().all(|s| s.complete
            && s.text
                .starts_with("Available shifts: XYZ123 Sat 06:00-14:00. To secure a shift reply")),
        "{sent:?}"
    );

    // The same file again: imported (unchanged), and nobody is texted again.
    fs::write(&staged, text).unwrap();
    fs::rename(&staged, drop.join("campaign.csv")).unwrap();
    wait_for("the second file processed", &daemon, || {
        processed(&drop) == 2
    })
    .await;
    // Longer than the daemon needs to notice a new campaign and send it (database poll,
    // 100 ms pause between messages).
    tokio::time::sleep(Duration::from_secs(5)).await;
    let sent_now = vm.sent().unwrap();
    assert_eq!(sent_now, sent, "{}", vm.transcript_text());
    assert!(
        daemon
            .log()
            .contains("campaign.csv: imported campaigns: 0 added, 0 updated, 1 unchanged"),
        "{}",
        daemon.log()
    );
}
