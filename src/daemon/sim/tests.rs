//! The SIM loop against a fake SIM that checks, at every delete, that the PDU is already in
//! the database.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use jiff::tz::Offset;
use tokio::sync::Notify;

use super::*;
use crate::daemon::db::{Db, DbThread};
use crate::daemon::process::Rules;
use crate::modem::pdu::{self, Address, encode_deliver};
use crate::service::access::ReplyLimits;
use crate::service::phone::{DefaultCountry, E164};
use crate::service::reply::{Replies, ReplyOptions};
use crate::store::Store;

const ANN: &str = "+447400123456";

#[derive(Default)]
struct FakeSim {
    slots: Mutex<BTreeMap<u32, ReceivedPdu>>,
    db: PathBuf,
    /// Deletes of a PDU that was not in the database yet (must stay empty).
    deleted_unkept: Mutex<Vec<u32>>,
    /// Deletes to refuse, by count.
    refuse_deletes: Mutex<u32>,
    lists: Mutex<u32>,
}

impl FakeSim {
    fn new(db: &Path) -> Arc<FakeSim> {
        Arc::new(FakeSim {
            db: db.to_path_buf(),
            ..FakeSim::default()
        })
    }

    fn put(&self, index: u32, bytes: Vec<u8>) {
        self.slots
            .lock()
            .unwrap()
            .insert(index, ReceivedPdu::Bytes(bytes));
    }

    fn is_empty(&self) -> bool {
        self.slots.lock().unwrap().is_empty()
    }

    fn kept(&self, pdu: &ReceivedPdu) -> bool {
        let bytes = match pdu {
            ReceivedPdu::Bytes(bytes) => bytes.clone(),
            ReceivedPdu::BadHex(line) => line.as_bytes().to_vec(),
        };
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        let n: i64 = conn
            .query_row(
                "SELECT count(*) FROM inbound_pdus WHERE pdu = ?1",
                [bytes],
                |row| row.get(0),
            )
            .unwrap();
        n == 1
    }
}

fn slot(index: u32) -> Slot {
    Slot {
        storage: "SM".into(),
        index,
    }
}

impl SimStorage for Arc<FakeSim> {
    async fn list(&self) -> Result<Vec<(Slot, ReceivedPdu)>, String> {
        *self.lists.lock().unwrap() += 1;
        Ok(self
            .slots
            .lock()
            .unwrap()
            .iter()
            .map(|(i, pdu)| (slot(*i), pdu.clone()))
            .collect())
    }

    async fn read(&self, slot: &Slot) -> Result<Option<ReceivedPdu>, String> {
        Ok(self.slots.lock().unwrap().get(&slot.index).cloned())
    }

    async fn delete(&self, slot: &Slot) -> Result<(), String> {
        {
            let mut refuse = self.refuse_deletes.lock().unwrap();
            if *refuse > 0 {
                *refuse -= 1;
                return Err("+CMS ERROR: 500".into());
            }
        }
        let pdu = self.slots.lock().unwrap().get(&slot.index).cloned();
        if let Some(pdu) = pdu
            && !self.kept(&pdu)
        {
            self.deleted_unkept.lock().unwrap().push(slot.index);
        }
        self.slots.lock().unwrap().remove(&slot.index);
        Ok(())
    }
}

fn t0() -> Timestamp {
    "2025-03-03T08:00:00Z".parse().unwrap()
}

fn text(from: &str, text: &str) -> Vec<Vec<u8>> {
    let stamp = pdu::Timestamp::from_jiff(t0(), Offset::UTC);
    encode_deliver(&Address::international(from), text, stamp, 77)
        .unwrap()
        .into_iter()
        .map(|p| p.bytes)
        .collect()
}

struct Rig {
    _dir: tempfile::TempDir,
    path: PathBuf,
    sim: Arc<FakeSim>,
    events: mpsc::UnboundedSender<SimEvent>,
    trigger: crate::daemon::shutdown::Trigger,
    task: tokio::task::JoinHandle<Result<(), DbStopped>>,
    db: Db,
    thread: DbThread,
}

async fn rig(sim_poll: Duration, busy_timeout: Duration) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shiftsms.db");
    let mut store = Store::open_with_busy_timeout(&path, busy_timeout).unwrap();
    {
        let tx = store.transaction().unwrap();
        let ann = E164::from_international(ANN).unwrap();
        tx.employees().add(&ann, None, t0()).unwrap();
        tx.shifts().add("XYZ123", "Mon", t0()).unwrap();
        tx.commit().unwrap();
    }
    let (db, thread) = Db::start(store, Duration::from_secs(1)).unwrap();
    let rules = Arc::new(Rules {
        replies: Replies::defaults(ReplyOptions::default()),
        limits: ReplyLimits::default(),
        agent_hours: crate::service::hours::BusinessHours::always(),
        time_zone: jiff::tz::TimeZone::UTC,
    });
    let inbound = Inbound::restore(
        db.clone(),
        rules,
        DefaultCountry::NONE,
        Duration::from_secs(600),
        Arc::new(Notify::new()),
    )
    .await
    .unwrap();
    let sim = FakeSim::new(&path);
    let (events, receiver) = mpsc::unbounded_channel();
    let (trigger, shutdown) = crate::daemon::shutdown::Shutdown::new();
    let task = tokio::spawn(run(
        inbound,
        sim.clone(),
        receiver,
        Timing {
            poll: sim_poll,
            db_retry: Duration::from_millis(50),
        },
        Arc::new(tokio::sync::watch::channel(crate::daemon::Health::Starting).0),
        shutdown,
    ));
    Rig {
        _dir: dir,
        path,
        sim,
        events,
        trigger,
        task,
        db,
        thread,
    }
}

impl Rig {
    async fn wait_until(&self, what: &str, done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stop the task; the database stays readable as long as the returned directory lives.
    async fn stop(self) -> (tempfile::TempDir, PathBuf) {
        self.trigger.fire();
        self.task.await.unwrap().unwrap();
        drop(self.db);
        self.thread.join();
        assert!(self.sim.deleted_unkept.lock().unwrap().is_empty());
        (self._dir, self.path)
    }
}

fn count(path: &Path, sql: &str) -> i64 {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row(sql, [], |row| row.get(0))
        .unwrap()
}

#[tokio::test]
async fn everything_stored_at_start_is_kept_then_deleted_and_acted_on_once() {
    let rig = rig(Duration::from_secs(3600), Duration::from_secs(5)).await;
    rig.sim.put(1, text(ANN, "XYZ123").remove(0));
    let long = text(ANN, &format!("{} REQUEST", "please ".repeat(30)));
    rig.sim.put(2, long[1].clone());
    rig.sim.put(5, long[0].clone());
    rig.sim.put(7, vec![0x00, 0x24]); // truncated: unreadable, still kept and deleted
    rig.events.send(SimEvent::Ready).unwrap();
    rig.wait_until("the SIM to be emptied", || rig.sim.is_empty())
        .await;
    // A notification for a slot already taken by the listing reads nothing.
    rig.events.send(SimEvent::Stored(slot(1))).unwrap();
    rig.events.send(SimEvent::Ready).unwrap();
    let (_dir, path) = rig.stop().await;
    assert_eq!(count(&path, "SELECT count(*) FROM inbound_pdus"), 4);
    assert_eq!(count(&path, "SELECT count(*) FROM inbound_messages"), 2);
    assert_eq!(
        count(
            &path,
            "SELECT count(*) FROM inbound_messages WHERE processed_at IS NULL"
        ),
        0
    );
    assert_eq!(count(&path, "SELECT count(*) FROM outbox"), 2);
    assert_eq!(
        count(
            &path,
            "SELECT count(*) FROM shift_status WHERE employee = '+447400123456'"
        ),
        1
    );
}

#[tokio::test]
async fn a_notified_slot_is_read_and_a_lost_notification_is_caught_by_the_poll() {
    let rig = rig(Duration::from_millis(100), Duration::from_secs(5)).await;
    rig.sim.put(3, text(ANN, "REQUEST").remove(0));
    rig.events.send(SimEvent::Stored(slot(3))).unwrap();
    rig.wait_until("slot 3 to be taken", || rig.sim.is_empty())
        .await;
    // No notification at all: the periodic listing finds it.
    rig.sim.put(4, text(ANN, "HELP").remove(0));
    rig.wait_until("the poll to find slot 4", || rig.sim.is_empty())
        .await;
    // A direct delivery has nothing to delete.
    rig.events
        .send(SimEvent::Delivered(ReceivedPdu::Bytes(
            text(ANN, "START").remove(0),
        )))
        .unwrap();
    let path = rig.path.clone();
    rig.wait_until("the direct message", || {
        count(&path, "SELECT count(*) FROM inbound_messages") == 3
    })
    .await;
    rig.stop().await;
}

#[tokio::test]
async fn a_failed_delete_is_done_on_the_next_look_without_acting_twice() {
    let rig = rig(Duration::from_millis(100), Duration::from_secs(5)).await;
    *rig.sim.refuse_deletes.lock().unwrap() = 1;
    rig.sim.put(1, text(ANN, "REQUEST").remove(0));
    rig.events.send(SimEvent::Ready).unwrap();
    rig.wait_until("the SIM to be emptied", || rig.sim.is_empty())
        .await;
    assert!(*rig.sim.lists.lock().unwrap() >= 2);
    let (_dir, path) = rig.stop().await;
    assert_eq!(count(&path, "SELECT count(*) FROM inbound_messages"), 1);
    assert_eq!(count(&path, "SELECT count(*) FROM outbox"), 1);
}

#[tokio::test]
async fn nothing_is_deleted_while_the_database_cannot_keep_it() {
    let rig = rig(Duration::from_millis(100), Duration::from_millis(100)).await;
    // A person holds a write transaction open in sqlite3.
    let person = rusqlite::Connection::open(&rig.path).unwrap();
    person.execute_batch("BEGIN IMMEDIATE").unwrap();
    rig.sim.put(1, text(ANN, "XYZ123").remove(0));
    rig.events.send(SimEvent::Ready).unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(!rig.sim.is_empty(), "deleted while the database was locked");
    person.execute_batch("COMMIT").unwrap();
    rig.wait_until("the SIM to be emptied", || rig.sim.is_empty())
        .await;
    let (_dir, path) = rig.stop().await;
    assert_eq!(count(&path, "SELECT count(*) FROM outbox"), 1);
}
