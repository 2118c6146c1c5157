//! The drop-folder watcher: a task the daemon runs beside its others. It imports each complete
//! CSV file saved into the folder, moves it to `processed/` or `failed/` (with its
//! `.errors.txt`), and keeps running whatever the files, the folder or the database do.
//!
//! # When a file is complete
//!
//! Watching alone cannot say that a file is finished: a writer opens, writes, may close and
//! reopen. What inotify tells (FIELD-NOTES.md, notify 8): a file written in place gives
//! `Create`, `Modify`…, `Close(Write)`; written in two open/close cycles it gives two
//! `Close(Write)`; `mv` into the folder gives one rename-to. So a file is:
//!
//! - **writing** after `Create` or `Modify`: never touched;
//! - **due** [`WatchSettings::settle`] after its last `Close(Write)` or rename into the
//!   folder (another `Modify` in that time puts it back to writing, which covers writers that
//!   close and reopen);
//! - imported when due.
//!
//! Files nobody told us about are found by scanning the folder: at start (files dropped while
//! the daemon was down are imported), and every [`WatchSettings::rescan`]. inotify does not see
//! files written onto an NFS or SMB mount by other machines, so the periodic rescan is the
//! fallback there (chosen over notify's `PollWatcher`, which would only report the same
//! size-and-time changes, with a thread of its own): a file found by a rescan is imported once
//! its size, time and inode have stayed the same for one whole rescan interval. A file
//! found at start only has to stay the same for the settle time. A file left writing with no
//! event for [`STALE_WRITING`] (its close lost in an inotify queue overflow, or a hard link
//! that never gets one) is treated as found by a rescan.
//!
//! # What is ignored
//!
//! Names that are not `.csv`, `.txt` or `.tsv`, temporary and lock files, dotfiles, our own
//! `.errors.txt`, and folders, including `processed/` and `failed/` (the watch is not
//! recursive). See [`super::files::is_candidate`].
//!
//! # Never down
//!
//! A bad, unreadable, vanished or huge file is answered in `failed/` (or logged) and the next
//! file is looked at. A missing drop folder is created; if it cannot be, that is logged once
//! and retried at each rescan. A database that cannot be opened or stays locked is logged and
//! the file retried at the next rescan. The blocking work (file system, SQLite) runs on
//! `spawn_blocking`, on the watcher's own [`Store`] connection: the daemon sees the import
//! through `PRAGMA data_version` like any other writer's.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::future::Future;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use notify::event::{AccessKind, AccessMode, ModifyKind, RenameMode};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;

use super::files::{self, ReadError, Stamp};
use super::import::{self, ImportOptions, Mode, Outcome};
use super::report;
use super::rows::{self, Problem};
use crate::store::Store;

/// How long a file must stay closed before it is imported: covers writers that close and
/// reopen, and lets files dropped together be imported in a sensible order (employees,
/// shifts, then campaigns).
pub const DEFAULT_SETTLE: Duration = Duration::from_secs(1);
/// How often the folder is scanned for files no event announced (NFS/SMB, lost events).
pub const DEFAULT_RESCAN: Duration = Duration::from_secs(10);
/// The shortest rescan interval honoured.
pub const MIN_RESCAN: Duration = Duration::from_millis(100);
/// A file being written with no event for this long is looked at as if found by a rescan.
pub const STALE_WRITING: Duration = Duration::from_secs(600);

/// How the watcher behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchSettings {
    pub import: ImportOptions,
    pub settle: Duration,
    pub rescan: Duration,
    /// Use inotify events (the default). `false`: rely on rescans alone, as on a network
    /// mount where no event ever comes.
    pub events: bool,
}

impl WatchSettings {
    /// The defaults ([`DEFAULT_SETTLE`], [`DEFAULT_RESCAN`]) for these import options.
    pub fn new(import: ImportOptions) -> WatchSettings {
        WatchSettings {
            import,
            settle: DEFAULT_SETTLE,
            rescan: DEFAULT_RESCAN,
            events: true,
        }
    }
}

/// Watch `dir` and import every complete CSV file saved into it, into the database at
/// `db_path`, until `shutdown` completes. Never returns early and never fails: every problem
/// is logged and retried (see the module documentation). Shutdown is honoured between files,
/// never inside an import.
pub async fn watch(
    dir: PathBuf,
    db_path: PathBuf,
    settings: WatchSettings,
    shutdown: impl Future<Output = ()>,
) {
    let dir = std::path::absolute(&dir).unwrap_or(dir);
    // A zero interval would turn a retry into a busy loop.
    let settings = WatchSettings {
        rescan: settings.rescan.max(MIN_RESCAN),
        ..settings
    };
    tracing::info!(dir = %dir.display(), "watching the drop folder for CSV files");
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let mut folder = Folder::new(dir.clone(), db_path.clone(), settings, events_tx);
    let stop = Arc::new(AtomicBool::new(false));
    tokio::pin!(shutdown);
    loop {
        let wake = tokio::time::Instant::from_std(folder.next_wake());
        tokio::select! {
            () = &mut shutdown => break,
            Some(event) = events.recv() => {
                folder.on_event(event, Instant::now());
                continue;
            }
            () = tokio::time::sleep_until(wake) => {}
        }
        let flag = Arc::clone(&stop);
        let mut task = tokio::task::spawn_blocking(move || {
            folder.tick(&flag);
            folder
        });
        folder = loop {
            tokio::select! {
                done = &mut task => match done {
                    Ok(folder) => break folder,
                    Err(err) => {
                        // A bug, not a file: start afresh rather than stop importing.
                        tracing::error!(dir = %dir.display(), error = %err, "the drop folder watcher failed; starting it again");
                        let (tx, rx) = mpsc::unbounded_channel();
                        events = rx;
                        break Folder::new(dir.clone(), db_path.clone(), settings, tx);
                    }
                },
                () = &mut shutdown, if !stop.load(Ordering::Relaxed) => {
                    stop.store(true, Ordering::Relaxed);
                }
            }
        };
        if stop.load(Ordering::Relaxed) {
            break;
        }
    }
    tracing::info!(dir = %dir.display(), "stopped watching the drop folder");
}

/// What is known about one file of the folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// Created or modified and not closed since: someone is writing it.
    Writing { last_event: Instant },
    /// To be imported at `at`, if it is then as `expect` says.
    Due { at: Instant, expect: Expect },
    /// Handled, but it could not be moved out of the folder: not again until it changes.
    Stuck { stamp: Option<Stamp> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Its writer closed it or it was renamed in: inotify said it is complete.
    Closed,
    /// Found by a scan: only if it still has this size, time and inode.
    Unchanged(Stamp),
    /// Not known to be complete (events were lost): look at it, then wait for it to stay so.
    Look,
}

/// What became of one file handed to [`Folder::process`].
#[derive(Debug)]
enum Handled {
    /// Moved to `processed/` or `failed/`, or gone: the folder no longer holds it.
    Gone,
    /// Answered but still in the folder (it could not be moved).
    Stuck(Option<Stamp>),
    /// Not handled (the database was unavailable, or shutting down): try again later.
    Retry,
}

/// The watcher's state: everything but the async loop. [`Folder::on_event`] runs on the async
/// side and touches no file; [`Folder::tick`] does the blocking work.
struct Folder {
    dir: PathBuf,
    db_path: PathBuf,
    settings: WatchSettings,
    files: HashMap<PathBuf, Seen>,
    events_tx: mpsc::UnboundedSender<notify::Result<Event>>,
    /// The inotify watch and the (device, inode) of the folder it is on: a folder deleted and
    /// created again needs a new watch.
    watch: Option<(RecommendedWatcher, (u64, u64))>,
    /// The last problem with the folder itself, logged once until it changes.
    folder_problem: Option<String>,
    store: Option<Store>,
    next_rescan: Instant,
    scanned_once: bool,
}

impl Folder {
    fn new(
        dir: PathBuf,
        db_path: PathBuf,
        settings: WatchSettings,
        events_tx: mpsc::UnboundedSender<notify::Result<Event>>,
    ) -> Folder {
        Folder {
            dir,
            db_path,
            settings,
            files: HashMap::new(),
            events_tx,
            watch: None,
            folder_problem: None,
            store: None,
            next_rescan: Instant::now(),
            scanned_once: false,
        }
    }

    /// When [`Folder::tick`] has something to do.
    fn next_wake(&self) -> Instant {
        self.files
            .values()
            .filter_map(|seen| match seen {
                Seen::Due { at, .. } => Some(*at),
                _ => None,
            })
            .fold(self.next_rescan, Instant::min)
    }

    /// A path of the folder we look at, or `None`.
    fn ours<'p>(&self, path: &'p Path) -> Option<&'p Path> {
        (path.parent() == Some(self.dir.as_path())
            && path.file_name().is_some_and(files::is_candidate))
        .then_some(path)
    }

    fn on_event(&mut self, event: notify::Result<Event>, now: Instant) {
        let event = match event {
            Ok(event) => event,
            Err(err) => {
                tracing::warn!(dir = %self.dir.display(), error = %err, "drop folder watch error; rescanning");
                self.lost_events(now);
                return;
            }
        };
        if event.need_rescan() {
            tracing::warn!(dir = %self.dir.display(), "drop folder events were lost (queue overflow); rescanning");
            self.lost_events(now);
        }
        if event.paths.iter().any(|p| p == &self.dir)
            && matches!(
                event.kind,
                EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_))
            )
        {
            tracing::warn!(dir = %self.dir.display(), "the drop folder was removed or renamed");
            self.watch = None;
            self.next_rescan = now + self.settings.settle;
            return;
        }
        let due = Seen::Due {
            at: now + self.settings.settle,
            expect: Expect::Closed,
        };
        let writing = Seen::Writing { last_event: now };
        match event.kind {
            EventKind::Create(_)
            | EventKind::Modify(ModifyKind::Data(_) | ModifyKind::Any | ModifyKind::Other) => {
                self.set(&event.paths, writing)
            }
            EventKind::Access(AccessKind::Close(AccessMode::Write))
            | EventKind::Modify(ModifyKind::Name(RenameMode::To)) => self.set(&event.paths, due),
            EventKind::Modify(ModifyKind::Name(RenameMode::From)) | EventKind::Remove(_) => {
                for path in &event.paths {
                    self.files.remove(path);
                }
            }
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => {
                if let [from, to] = event.paths.as_slice() {
                    self.files.remove(from);
                    self.set(std::slice::from_ref(to), due);
                }
            }
            EventKind::Modify(ModifyKind::Name(_)) => self.set(
                &event.paths,
                Seen::Due {
                    at: now + self.settings.settle,
                    expect: Expect::Look,
                },
            ),
            // Opens, reads (ours too), attribute changes: nothing to do.
            _ => {}
        }
    }

    fn set(&mut self, paths: &[PathBuf], seen: Seen) {
        for path in paths {
            if let Some(path) = self.ours(path) {
                self.files.insert(path.to_path_buf(), seen);
            }
        }
    }

    /// Events were lost: rescan now, and stop trusting "still writing" (its close may be lost).
    fn lost_events(&mut self, now: Instant) {
        self.next_rescan = now;
        for seen in self.files.values_mut() {
            if let Seen::Writing { .. } = seen {
                *seen = Seen::Due {
                    at: now + self.settings.settle,
                    expect: Expect::Look,
                };
            }
        }
    }

    /// The blocking part: rescan when it is time, then import every file that is due.
    fn tick(&mut self, stop: &AtomicBool) {
        let now = Instant::now();
        if now >= self.next_rescan {
            if self.ensure_folder() {
                self.rescan(now);
            }
            self.next_rescan = now + self.settings.rescan;
        }
        let due: Vec<(PathBuf, Expect)> = self
            .files
            .iter()
            .filter_map(|(path, seen)| match seen {
                Seen::Due { at, expect } if *at <= now => Some((path.clone(), *expect)),
                _ => None,
            })
            .collect();
        let mut ready = Vec::new();
        for (path, expect) in due {
            self.files.remove(&path);
            match (expect, Stamp::at(&path)) {
                // Gone meanwhile: nothing to do.
                (_, None) => {}
                (Expect::Closed, Some(_)) => ready.push(path),
                (Expect::Unchanged(before), Some(stamp)) if before == stamp => ready.push(path),
                // Changed since it was found, or never looked at: look again later.
                (_, Some(stamp)) => {
                    self.files.insert(
                        path,
                        Seen::Due {
                            at: now + self.stability_wait(),
                            expect: Expect::Unchanged(stamp),
                        },
                    );
                }
            }
        }
        if ready.is_empty() {
            return;
        }
        let handled = self.process(ready, stop);
        let retry_at = Instant::now() + self.settings.rescan;
        for (path, handled) in handled {
            match handled {
                Handled::Gone => {}
                Handled::Stuck(stamp) => {
                    self.files.entry(path).or_insert(Seen::Stuck { stamp });
                }
                Handled::Retry => {
                    self.files.entry(path).or_insert(Seen::Due {
                        at: retry_at,
                        expect: Expect::Closed,
                    });
                }
            }
        }
    }

    /// How long a file found by a scan must stay the same: the settle time at start (files
    /// dropped while the daemon was down), a whole rescan interval afterwards (a writer on
    /// another machine, whose writes we only see by looking).
    fn stability_wait(&self) -> Duration {
        if self.scanned_once {
            self.settings.rescan.max(self.settings.settle)
        } else {
            self.settings.settle
        }
    }

    /// Make sure the folder exists and is watched. `false` if it cannot be used now.
    fn ensure_folder(&mut self) -> bool {
        let meta = match fs::metadata(&self.dir) {
            Ok(meta) => meta,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                match fs::create_dir_all(&self.dir) {
                    Ok(()) => {
                        tracing::info!(dir = %self.dir.display(), "created the drop folder");
                        match fs::metadata(&self.dir) {
                            Ok(meta) => meta,
                            Err(err) => {
                                return self.folder_unusable(format!("cannot read it: {err}"));
                            }
                        }
                    }
                    Err(err) => {
                        return self.folder_unusable(format!(
                            "it does not exist and cannot be created: {err}"
                        ));
                    }
                }
            }
            Err(err) => return self.folder_unusable(format!("cannot look at it: {err}")),
        };
        if !meta.is_dir() {
            return self.folder_unusable("it is a file, not a folder".to_string());
        }
        if self.folder_problem.take().is_some() {
            tracing::info!(dir = %self.dir.display(), "the drop folder is usable again");
        }
        for sub in [files::PROCESSED, files::FAILED] {
            if let Err(err) = fs::create_dir_all(self.dir.join(sub)) {
                tracing::warn!(dir = %self.dir.display(), sub, error = %err, "cannot create a folder inside the drop folder");
            }
        }
        let id = (meta.dev(), meta.ino());
        if self.settings.events && self.watch.as_ref().map(|(_, watched)| *watched) != Some(id) {
            self.watch = None;
            let tx = self.events_tx.clone();
            let watcher = notify::recommended_watcher(move |event| {
                // The receiver only goes away when the watcher stops.
                let _ = tx.send(event);
            })
            .and_then(|mut watcher| {
                watcher
                    .watch(&self.dir, RecursiveMode::NonRecursive)
                    .map(|()| watcher)
            });
            match watcher {
                Ok(watcher) => self.watch = Some((watcher, id)),
                Err(err) => tracing::warn!(
                    dir = %self.dir.display(), error = %err,
                    "cannot watch the drop folder for changes; rescanning it every {} s instead",
                    self.settings.rescan.as_secs()
                ),
            }
        }
        true
    }

    fn folder_unusable(&mut self, problem: String) -> bool {
        if self.folder_problem.as_ref() != Some(&problem) {
            tracing::error!(
                dir = %self.dir.display(),
                "the drop folder cannot be used: {problem}; CSV files are not imported until it \
                 can (checked every {} s)",
                self.settings.rescan.as_secs()
            );
            self.folder_problem = Some(problem);
        }
        self.watch = None;
        false
    }

    /// Look at every file of the folder; note those not yet known.
    fn rescan(&mut self, now: Instant) {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(err) => {
                tracing::warn!(dir = %self.dir.display(), error = %err, "cannot list the drop folder");
                return;
            }
        };
        let wait = self.stability_wait();
        let mut present = HashSet::new();
        for entry in entries.flatten() {
            if !files::is_candidate(&entry.file_name()) {
                continue;
            }
            let path = entry.path();
            // Folders are ignored, even named like a CSV file.
            if fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
                continue;
            }
            let Some(stamp) = Stamp::at(&path) else {
                continue; // gone since it was listed
            };
            present.insert(path.clone());
            let found = Seen::Due {
                at: now + wait,
                expect: Expect::Unchanged(stamp),
            };
            match self.files.get(&path) {
                None => {
                    self.files.insert(path, found);
                }
                Some(Seen::Stuck { stamp: old }) if *old != Some(stamp) => {
                    self.files.insert(path, found);
                }
                Some(Seen::Writing { last_event })
                    if now.duration_since(*last_event) >= STALE_WRITING =>
                {
                    self.files.insert(path, found);
                }
                Some(_) => {}
            }
        }
        self.files.retain(|path, _| present.contains(path));
        self.scanned_once = true;
    }

    /// Read, check and import `paths`: employees first, then shifts, then campaigns (files
    /// dropped together), each all or nothing, each moved out of the folder when answered.
    fn process(&mut self, paths: Vec<PathBuf>, stop: &AtomicBool) -> Vec<(PathBuf, Handled)> {
        let options = self.settings.import;
        let mut handled = Vec::new();
        let mut parsed = Vec::new();
        for path in paths {
            let started = std::time::Instant::now();
            match files::read(&path) {
                Ok(bytes) => {
                    let result = rows::parse(&bytes, options.default_country);
                    let rank = match &result {
                        Ok(file) => Some(file.kind()),
                        Err(_) => None,
                    };
                    parsed.push((rank, path, result, started));
                }
                Err(ReadError::Vanished) => {
                    tracing::info!(file = %path.display(), "a dropped file disappeared before it was read");
                    handled.push((path, Handled::Gone));
                }
                Err(err) => {
                    tracing::warn!(file = %path.display(), error = %err, "cannot read a dropped file");
                    let answer = self.refuse(&path, None, &[Problem::file(err.to_string())]);
                    handled.push((path, answer));
                }
            }
        }
        // Refused files first (they touch nothing), then by kind, then by name.
        parsed.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        for (_, path, result, started) in parsed {
            if stop.load(Ordering::Relaxed) {
                handled.push((path, Handled::Retry));
                continue;
            }
            let file = match result {
                Ok(file) => file,
                Err(rejected) => {
                    let answer = self.refuse(&path, rejected.kind, &rejected.problems);
                    handled.push((path, answer));
                    continue;
                }
            };
            let Some(store) = self.open_store() else {
                handled.push((path, Handled::Retry));
                continue;
            };
            let outcome =
                import::import_parsed(store, &file, Mode::Apply, Timestamp::now(), started);
            let answer = match outcome {
                Ok(Outcome::Imported { summary, timing }) => {
                    let name = file_name(&path);
                    match files::move_into(&path, &self.dir.join(files::PROCESSED), &local_now()) {
                        Ok(moved) => {
                            let moved = relative(&self.dir, &moved);
                            tracing::info!(
                                "{}",
                                report::imported_line(&name, &summary, &timing, &moved)
                            );
                            Handled::Gone
                        }
                        Err(err) => {
                            tracing::error!(
                                file = %path.display(), error = %err,
                                "{name}: imported ({summary}), but it cannot be moved to {}/; it will not be imported again unless it changes",
                                files::PROCESSED
                            );
                            Handled::Stuck(Stamp::at(&path))
                        }
                    }
                }
                Ok(Outcome::Rejected { kind, problems }) => self.refuse(&path, kind, &problems),
                Ok(Outcome::WouldImport { .. }) => Handled::Gone, // not asked for
                Err(err) => {
                    tracing::warn!(
                        file = %path.display(), error = %err,
                        "cannot import a dropped file now; trying again in {} s",
                        self.settings.rescan.as_secs()
                    );
                    // A connection that failed is opened afresh next time.
                    self.store = None;
                    Handled::Retry
                }
            };
            handled.push((path, answer));
        }
        handled
    }

    fn open_store(&mut self) -> Option<&mut Store> {
        if self.store.is_none() {
            match Store::open(&self.db_path) {
                Ok(store) => self.store = Some(store),
                Err(err) => {
                    tracing::warn!(
                        db = %self.db_path.display(), error = %err,
                        "the drop folder watcher cannot open the database; trying again in {} s",
                        self.settings.rescan.as_secs()
                    );
                }
            }
        }
        self.store.as_mut()
    }

    /// Move a refused file to `failed/` with its report beside it. If it cannot be moved, the
    /// report goes beside it in the drop folder.
    fn refuse(&self, path: &Path, kind: Option<rows::Kind>, problems: &[Problem]) -> Handled {
        let name = file_name(path);
        let at = local_now();
        let text = report::errors_text(&name, kind, problems, &at);
        let (report_path, handled) = match files::move_into(
            path,
            &self.dir.join(files::FAILED),
            &at,
        ) {
            Ok(moved) => (files::errors_path(&moved), Handled::Gone),
            Err(err) => {
                tracing::error!(
                    file = %path.display(), error = %err,
                    "{name}: cannot be moved to {}/; it will not be looked at again unless it changes",
                    files::FAILED
                );
                (files::errors_path(path), Handled::Stuck(Stamp::at(path)))
            }
        };
        if let Err(err) = fs::write(&report_path, text) {
            tracing::error!(file = %report_path.display(), error = %err, "cannot write the errors file");
        }
        tracing::warn!(
            "{}",
            report::refused_line(&name, problems, &relative(&self.dir, &report_path))
        );
        handled
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// `failed/x.csv.errors.txt` rather than the whole path, for the log.
fn relative(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir).unwrap_or(path).display().to_string()
}

fn local_now() -> jiff::ZonedDateTime {
    Timestamp::now().to_zoned_datetime(TimeZone::system())
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, DataChange, Flag, RemoveKind};

    fn folder() -> Folder {
        let (tx, _rx) = mpsc::unbounded_channel();
        Folder::new(
            PathBuf::from("/drop"),
            PathBuf::from("/db"),
            WatchSettings::new(ImportOptions::default()),
            tx,
        )
    }

    fn event(kind: EventKind, paths: &[&str]) -> notify::Result<Event> {
        let mut event = Event::new(kind);
        for path in paths {
            event = event.add_path(PathBuf::from(path));
        }
        Ok(event)
    }

    fn state(folder: &Folder, path: &str) -> Option<Seen> {
        folder.files.get(Path::new(path)).copied()
    }

    #[test]
    fn a_file_is_due_only_after_its_writer_closes_it() {
        let mut f = folder();
        let t = Instant::now();
        let file = "/drop/shifts.csv";
        f.on_event(event(EventKind::Create(CreateKind::File), &[file]), t);
        assert_eq!(state(&f, file), Some(Seen::Writing { last_event: t }));
        let t1 = t + Duration::from_millis(10);
        f.on_event(
            event(
                EventKind::Modify(ModifyKind::Data(DataChange::Any)),
                &[file],
            ),
            t1,
        );
        assert_eq!(state(&f, file), Some(Seen::Writing { last_event: t1 }));
        // Our own read opens and closes it: nothing changes.
        f.on_event(
            event(
                EventKind::Access(AccessKind::Close(AccessMode::Read)),
                &[file],
            ),
            t1,
        );
        assert_eq!(state(&f, file), Some(Seen::Writing { last_event: t1 }));
        let closed = t1 + Duration::from_millis(10);
        f.on_event(
            event(
                EventKind::Access(AccessKind::Close(AccessMode::Write)),
                &[file],
            ),
            closed,
        );
        let due = Seen::Due {
            at: closed + DEFAULT_SETTLE,
            expect: Expect::Closed,
        };
        assert_eq!(state(&f, file), Some(due));
        f.next_rescan = closed + DEFAULT_RESCAN;
        assert_eq!(f.next_wake(), closed + DEFAULT_SETTLE);
        // Reopened for writing within the settle time: writing again.
        f.on_event(
            event(
                EventKind::Modify(ModifyKind::Data(DataChange::Any)),
                &[file],
            ),
            closed,
        );
        assert!(matches!(state(&f, file), Some(Seen::Writing { .. })));
    }

    #[test]
    fn renames_removals_and_names_that_are_not_ours() {
        let mut f = folder();
        let t = Instant::now();
        f.on_event(
            event(
                EventKind::Modify(ModifyKind::Name(RenameMode::To)),
                &["/drop/a.csv"],
            ),
            t,
        );
        assert!(matches!(
            state(&f, "/drop/a.csv"),
            Some(Seen::Due {
                expect: Expect::Closed,
                ..
            })
        ));
        f.on_event(
            event(
                EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
                &["/drop/a.csv", "/drop/b.csv"],
            ),
            t,
        );
        assert_eq!(state(&f, "/drop/a.csv"), None);
        assert!(matches!(state(&f, "/drop/b.csv"), Some(Seen::Due { .. })));
        f.on_event(
            event(EventKind::Remove(RemoveKind::File), &["/drop/b.csv"]),
            t,
        );
        assert_eq!(state(&f, "/drop/b.csv"), None);
        for path in [
            "/drop/~$a.csv",
            "/drop/a.xlsx",
            "/drop/processed/a.csv",
            "/elsewhere/a.csv",
        ] {
            f.on_event(event(EventKind::Create(CreateKind::File), &[path]), t);
            assert_eq!(state(&f, path), None, "{path}");
        }
    }

    #[test]
    fn lost_events_mean_look_again() {
        let mut f = folder();
        let t = Instant::now() + Duration::from_secs(60);
        f.on_event(
            event(EventKind::Create(CreateKind::File), &["/drop/a.csv"]),
            t,
        );
        f.on_event(Ok(Event::new(EventKind::Other).set_flag(Flag::Rescan)), t);
        assert_eq!(
            state(&f, "/drop/a.csv"),
            Some(Seen::Due {
                at: t + DEFAULT_SETTLE,
                expect: Expect::Look
            })
        );
        assert!(f.next_wake() <= t);
        // The folder itself removed: the watch is dropped and the folder looked at soon.
        f.on_event(event(EventKind::Remove(RemoveKind::Folder), &["/drop"]), t);
        assert!(f.watch.is_none());
        assert_eq!(f.next_rescan, t + DEFAULT_SETTLE);
    }
}
