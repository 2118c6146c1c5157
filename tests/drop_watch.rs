//! The drop-folder watcher as the daemon runs it: a task on a real folder and a real database
//! file, files written the ways people and programs write them.
//!
//! Nothing here asserts speed: waits poll the folder with a generous time-out that only
//! prevents a hang. What the tests rely on is only that a writer's pause between closing and
//! reopening (100 ms) is shorter than the settle time (1 s).

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use shiftsms::drop::import::ImportOptions;
use shiftsms::drop::watcher::{WatchSettings, watch};
use shiftsms::store::Store;
use shiftsms::store::shifts::ShiftFilter;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const GIVE_UP: Duration = Duration::from_secs(60);

struct Running {
    _tmp: tempfile::TempDir,
    /// Where files are written before being moved into the folder.
    outside: PathBuf,
    drop: PathBuf,
    db: PathBuf,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

fn settings(events: bool) -> WatchSettings {
    WatchSettings {
        import: ImportOptions {
            default_country: "GB".parse().unwrap(),
        },
        settle: Duration::from_secs(1),
        rescan: Duration::from_millis(if events { 2_000 } else { 1_000 }),
        events,
    }
}

/// A temporary site: database created (as the daemon would), drop folder to be, nothing
/// running yet.
fn site() -> Running {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside");
    fs::create_dir(&outside).unwrap();
    let db = tmp.path().join("shiftsms.db");
    Store::open(&db).unwrap();
    Running {
        drop: tmp.path().join("drop"),
        outside,
        db,
        _tmp: tmp,
        stop: None,
        task: None,
    }
}

impl Running {
    fn start(&mut self, settings: WatchSettings) {
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        self.task = Some(tokio::spawn(watch(
            self.drop.clone(),
            self.db.clone(),
            settings,
            shutdown,
        )));
        self.stop = Some(stop);
    }

    async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).unwrap();
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(GIVE_UP, task)
                .await
                .expect("the watcher stops")
                .expect("the watcher did not panic");
        }
    }

    fn running(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Names of the files in a sub-folder of the drop folder, sorted.
    fn names(&self, sub: &str) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.drop.join(sub))
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Write `text` outside and move it into the folder in one rename, as `mv` does.
    fn drop_file(&self, name: &str, text: &str) {
        let staged = self.outside.join(name);
        fs::write(&staged, text).unwrap();
        fs::rename(&staged, self.drop.join(name)).unwrap();
    }

    fn shift_count(&self) -> usize {
        let mut store = Store::open(&self.db).unwrap();
        let tx = store.read().unwrap();
        tx.shifts().list(ShiftFilter::All).unwrap().len()
    }

    fn campaign_count(&self) -> usize {
        let mut store = Store::open(&self.db).unwrap();
        let tx = store.read().unwrap();
        tx.campaigns().list().unwrap().len()
    }

    async fn wait_until(&self, what: &str, done: impl Fn(&Running) -> bool) {
        let deadline = tokio::time::Instant::now() + GIVE_UP;
        while !done(self) {
            assert!(
                self.running(),
                "the watcher stopped while waiting for {what}"
            );
            assert!(
                tokio::time::Instant::now() < deadline,
                "gave up waiting for {what}; processed {:?}, failed {:?}, folder {:?}",
                self.names("processed"),
                self.names("failed"),
                self.names(""),
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Wait long enough for anything pending to have happened (several settle and rescan
    /// intervals), for tests that check something did NOT happen.
    async fn quiet(&self) {
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(self.running());
    }
}

fn shifts_file(from: usize, to: usize) -> String {
    let mut text = String::from("shift_id,shift_info\r\n");
    for n in from..to {
        text.push_str(&format!("S{n},\"Day {n}, line {}\"\r\n", n % 5));
    }
    text
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_present_at_start_are_imported_and_moved() {
    let mut site = site();
    fs::create_dir(&site.drop).unwrap();
    fs::write(site.drop.join("shifts.csv"), shifts_file(0, 50)).unwrap();
    site.start(settings(true));
    site.wait_until("the file in processed/", |s| {
        s.names("processed").len() == 1
    })
    .await;
    let name = &site.names("processed")[0];
    assert!(
        name.starts_with("shifts.") && name.ends_with(".csv"),
        "{name}"
    );
    assert_eq!(site.shift_count(), 50);
    assert!(site.names("failed").is_empty());
    assert!(!site.drop.join("shifts.csv").exists());
    site.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_file_goes_to_failed_with_every_problem_and_a_good_one_to_processed() {
    let mut site = site();
    site.start(settings(true));
    site.wait_until("the drop folder", |s| s.drop.is_dir())
        .await;

    site.drop_file(
        "employees.csv",
        "phone;name\r\n07400 123456;Ann\r\n12345;Bob\r\n;Cy\r\n",
    );
    site.wait_until("the report", |s| s.names("failed").len() == 2)
        .await;
    let failed = site.names("failed");
    assert!(failed[1].ends_with(".csv.errors.txt"), "{failed:?}");
    assert_eq!(format!("{}.errors.txt", failed[0]), failed[1]);
    let report = read(&site.drop.join("failed").join(&failed[1]));
    assert!(
        report.starts_with(
            "employees.csv (an employees file) was NOT imported: nothing in it was applied.\n"
        ),
        "{report}"
    );
    assert!(
        report.contains("\nline 3, column A (phone): \"12345\" is not a valid GB phone number"),
        "{report}"
    );
    assert!(
        report.contains("\nline 4, column A (phone): \"\" is not a phone number (it is empty)"),
        "{report}"
    );
    // Nothing from it was applied.
    let mut store = Store::open(&site.db).unwrap();
    assert!(store.read().unwrap().employees().list().unwrap().is_empty());

    // Fixed and dropped again under the same name: imported; the failure stays in failed/.
    site.drop_file(
        "employees.csv",
        "phone;name\r\n07400 123456;Ann\r\n07400 123457;Bob\r\n",
    );
    site.wait_until("processed", |s| s.names("processed").len() == 1)
        .await;
    assert_eq!(store.read().unwrap().employees().list().unwrap().len(), 2);
    assert_eq!(site.names("failed").len(), 2);
    site.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_written_slowly_in_chunks_is_imported_once_complete() {
    let mut site = site();
    site.start(settings(true));
    site.wait_until("the drop folder", |s| s.drop.is_dir())
        .await;

    // One open, writes with pauses longer than the settle time: inotify reports Create and
    // Modify long before the Close(Write), and nothing at all during a pause.
    let text = shifts_file(0, 400);
    let path = site.drop.join("slow.csv");
    let mut file = fs::File::create(&path).unwrap();
    for chunk in text.as_bytes().chunks(text.len() / 4 + 1) {
        file.write_all(chunk).unwrap();
        file.flush().unwrap();
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        assert!(
            site.names("processed").is_empty() && site.names("failed").is_empty(),
            "touched while still being written"
        );
    }
    drop(file);
    site.wait_until("processed", |s| s.names("processed").len() == 1)
        .await;
    assert_eq!(site.shift_count(), 400);

    // Several open-append-close cycles, each pause shorter than the settle time: one import
    // of the whole file, not one per close.
    let text = shifts_file(400, 1000);
    let path = site.drop.join("appended.csv");
    for chunk in text.as_bytes().chunks(text.len() / 6 + 1) {
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .unwrap();
        file.write_all(chunk).unwrap();
        drop(file);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    site.wait_until("processed", |s| s.names("processed").len() == 2)
        .await;
    site.quiet().await;
    assert_eq!(site.names("processed").len(), 2);
    assert!(
        site.names("failed").is_empty(),
        "{:?}",
        site.names("failed")
    );
    assert_eq!(site.shift_count(), 1000);
    site.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_empty_and_header_only_files_are_answered_and_the_watcher_goes_on() {
    let mut site = site();
    fs::create_dir(&site.drop).unwrap();
    // Tests run as root here, so a file with mode 000 is readable all the same. Files that
    // cannot be read by anyone: a symbolic link to itself (ELOOP on open) and a named pipe
    // (which would block a naive reader forever).
    let looped = site.drop.join("looped.csv");
    std::os::unix::fs::symlink(&looped, &looped).unwrap();
    nix::unistd::mkfifo(&site.drop.join("pipe.csv"), nix::sys::stat::Mode::S_IRWXU).unwrap();
    // A folder named like a CSV file is ignored, like any folder.
    fs::create_dir(site.drop.join("folder.csv")).unwrap();
    fs::write(site.drop.join("empty.csv"), "").unwrap();
    fs::write(site.drop.join("header.csv"), "shift_id,shift_info\r\n").unwrap();
    site.start(settings(true));

    site.wait_until("four reports", |s| s.names("failed").len() == 8)
        .await;
    let failed = site.names("failed");
    let report = |stem: &str| {
        let name = failed
            .iter()
            .find(|n| n.starts_with(&format!("{stem}.")) && n.ends_with(".errors.txt"))
            .unwrap_or_else(|| panic!("no report for {stem}: {failed:?}"));
        read(&site.drop.join("failed").join(name))
    };
    assert!(
        report("looped").contains("it could not be read"),
        "{}",
        report("looped")
    );
    assert!(
        report("pipe").contains("it is a named pipe, not a regular file"),
        "{}",
        report("pipe")
    );
    assert!(
        report("empty").contains("\nthe file is empty\n"),
        "{}",
        report("empty")
    );
    assert!(
        report("header").contains("a header row (shifts) but no rows under it"),
        "{}",
        report("header")
    );
    assert!(site.drop.join("folder.csv").is_dir());

    // A file that vanishes before it is read: written, then deleted within the settle time.
    fs::write(site.drop.join("vanishing.csv"), shifts_file(0, 3)).unwrap();
    fs::remove_file(site.drop.join("vanishing.csv")).unwrap();

    // Still watching: a good file is imported.
    site.drop_file("good.csv", &shifts_file(0, 10));
    site.wait_until("processed", |s| s.names("processed").len() == 1)
        .await;
    assert_eq!(site.shift_count(), 10);
    assert_eq!(site.names("failed").len(), 8);
    site.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_and_other_files_are_left_alone() {
    let mut site = site();
    fs::create_dir(&site.drop).unwrap();
    let ignored = [
        "~$shifts.csv",
        ".~lock.shifts.csv#",
        ".hidden.csv",
        "shifts.csv.part",
        "shifts.tmp",
        "shifts.xlsx",
        "README",
    ];
    for name in ignored {
        fs::write(site.drop.join(name), shifts_file(0, 3)).unwrap();
    }
    site.start(settings(true));
    site.drop_file("real.csv", &shifts_file(0, 5));
    site.wait_until("processed", |s| s.names("processed").len() == 1)
        .await;
    site.quiet().await;
    for name in ignored {
        assert!(site.drop.join(name).exists(), "{name} was touched");
    }
    assert!(site.names("failed").is_empty());
    assert_eq!(site.shift_count(), 5);
    site.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_file_dropped_twice_adds_one_campaign() {
    let mut site = site();
    site.start(settings(true));
    site.wait_until("the drop folder", |s| s.drop.is_dir())
        .await;
    let text = "campaign_id,shifts\r\nweekend-1,\"S1 Sat 06:00-14:00, S2 Sun 06:00-14:00\"\r\n";
    site.drop_file("campaign.csv", text);
    site.wait_until("processed", |s| s.names("processed").len() == 1)
        .await;
    site.drop_file("campaign.csv", text);
    site.wait_until("processed twice", |s| s.names("processed").len() == 2)
        .await;
    assert_eq!(site.campaign_count(), 1);
    site.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_dropped_together_are_imported_shifts_before_campaigns() {
    let mut site = site();
    // Record the order of inserts, whatever the clock's resolution.
    rusqlite::Connection::open(&site.db)
        .unwrap()
        .execute_batch(
            "CREATE TABLE inserted (what TEXT);
             CREATE TRIGGER shift_in AFTER INSERT ON shift_status
                 BEGIN INSERT INTO inserted VALUES ('shift'); END;
             CREATE TRIGGER campaign_in AFTER INSERT ON shift_campaigns
                 BEGIN INSERT INTO inserted VALUES ('campaign'); END;",
        )
        .unwrap();
    fs::create_dir(&site.drop).unwrap();
    // "a-" sorts first by name; it must still be imported last.
    fs::write(
        site.drop.join("a-campaign.csv"),
        "campaign_id,shifts\nc1,S1 Mon\n",
    )
    .unwrap();
    fs::write(site.drop.join("z-shifts.csv"), shifts_file(0, 2)).unwrap();
    site.start(settings(true));
    site.wait_until("both processed", |s| s.names("processed").len() == 2)
        .await;
    let order: Vec<String> = rusqlite::Connection::open(&site.db)
        .unwrap()
        .prepare("SELECT what FROM inserted ORDER BY rowid")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(order, ["shift", "shift", "campaign"]);
    site.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_events_a_rescan_finds_files_once_they_stop_changing() {
    // As on an NFS or SMB mount written by another machine: no inotify event ever comes.
    let mut site = site();
    site.start(settings(false));
    site.wait_until("the drop folder", |s| s.drop.is_dir())
        .await;
    let text = shifts_file(0, 300);
    let path = site.drop.join("remote.csv");
    let mut file = fs::File::create(&path).unwrap();
    for chunk in text.as_bytes().chunks(text.len() / 5 + 1) {
        file.write_all(chunk).unwrap();
        file.flush().unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(file);
    site.wait_until("processed", |s| s.names("processed").len() == 1)
        .await;
    assert_eq!(site.shift_count(), 300);
    assert!(site.names("failed").is_empty());
    site.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_folder_is_created_and_a_removed_one_recreated() {
    let mut site = site();
    assert!(!site.drop.exists());
    site.start(settings(true));
    site.wait_until("the drop folder", |s| s.drop.join("processed").is_dir())
        .await;
    site.drop_file("one.csv", &shifts_file(0, 2));
    site.wait_until("processed", |s| s.names("processed").len() == 1)
        .await;

    // Someone deletes the whole folder; it comes back and is watched again.
    fs::remove_dir_all(&site.drop).unwrap();
    site.wait_until("the folder back", |s| s.drop.join("processed").is_dir())
        .await;
    site.drop_file("two.csv", &shifts_file(2, 4));
    site.wait_until("processed", |s| s.names("processed").len() == 1)
        .await;
    assert_eq!(site.shift_count(), 4);
    site.stop().await;
}
