//! The pipeline against a real database file and PDUs from the codec's own encoder.

use jiff::SignedDuration;
use jiff::tz::Offset;

use super::*;
use crate::modem::pdu::encode_deliver;
use crate::service::access::ReplyLimits;
use crate::service::phone::E164;
use crate::service::reply::{Replies, ReplyOptions};
use crate::store::inbox::PduStatus;
use crate::store::outbox::{OutboundMessage, OutboxFilter};

const ANN: &str = "+447400123456";

fn t0() -> Timestamp {
    "2025-03-03T08:00:00Z".parse().unwrap()
}

fn rules() -> Arc<Rules> {
    Arc::new(Rules {
        replies: Replies::defaults(ReplyOptions::default()),
        limits: ReplyLimits::default(),
        agent_hours: crate::service::hours::BusinessHours::always(),
        time_zone: jiff::tz::TimeZone::UTC,
    })
}

fn gb() -> DefaultCountry {
    "GB".parse().unwrap()
}

struct Site {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

fn site() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shiftsms.db");
    let mut store = Store::open(&path).unwrap();
    let tx = store.transaction().unwrap();
    let ann = E164::from_international(ANN).unwrap();
    tx.employees().add(&ann, Some("Ann"), t0()).unwrap();
    tx.shifts().add("XYZ123", "Mon 06:00-14:00", t0()).unwrap();
    tx.shifts().add("XYZ222", "Tue 14:00-22:00", t0()).unwrap();
    tx.commit().unwrap();
    Site { _dir: dir, path }
}

async fn pipeline(site: &Site) -> (Inbound, Db, super::super::db::DbThread) {
    let store = Store::open(&site.path).unwrap();
    let (db, thread) = Db::start(store, Duration::from_millis(50)).unwrap();
    let inbound = Inbound::restore(
        db.clone(),
        rules(),
        gb(),
        Duration::from_secs(600),
        Arc::new(Notify::new()),
    )
    .await
    .unwrap();
    (inbound, db, thread)
}

/// The PDUs a phone at `from` sends for `text` (concatenated with `reference` if long).
fn deliver(from: &Address, text: &str, reference: u16) -> Vec<Vec<u8>> {
    let stamp = pdu::Timestamp::from_jiff(t0(), Offset::UTC);
    encode_deliver(from, text, stamp, reference)
        .unwrap()
        .into_iter()
        .map(|p| p.bytes)
        .collect()
}

fn received(bytes: Vec<u8>, index: u32) -> Received {
    Received {
        storage: "SM".into(),
        index,
        pdu: ReceivedPdu::Bytes(bytes),
        read_at: t0(),
    }
}

fn replies(store: &mut Store) -> Vec<OutboundMessage> {
    let mut all = store
        .read()
        .unwrap()
        .outbox()
        .list(OutboxFilter::default())
        .unwrap();
    all.reverse();
    all
}

fn taken_by(store: &mut Store, code: &str) -> Option<String> {
    match store
        .read()
        .unwrap()
        .shifts()
        .get(code)
        .unwrap()
        .unwrap()
        .status
    {
        crate::store::shifts::ShiftStatus::Taken { by, .. } => by.map(|p| p.to_string()),
        crate::store::shifts::ShiftStatus::Available => None,
    }
}

#[tokio::test]
async fn a_national_number_is_the_same_employee_and_books() {
    let site = site();
    let (mut inbound, db, thread) = pipeline(&site).await;
    let pdus = deliver(&Address::national("07400123456"), "xyz123", 1);
    let taken = inbound.take(received(pdus[0].clone(), 1)).await.unwrap();
    assert!(matches!(taken, Taken::Kept(_)));
    drop((inbound, db));
    thread.join();

    let mut store = Store::open(&site.path).unwrap();
    assert_eq!(taken_by(&mut store, "XYZ123").as_deref(), Some(ANN));
    let sent = replies(&mut store);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].recipient.as_str(), ANN);
    assert_eq!(sent[0].text, "Request summary - Shift booked (1): XYZ123");
}

#[tokio::test]
async fn a_pdu_read_twice_is_acted_on_once() {
    let site = site();
    let (mut inbound, db, thread) = pipeline(&site).await;
    let pdu = deliver(&Address::international(ANN), "REQUEST", 1).remove(0);
    let first = inbound.take(received(pdu.clone(), 3)).await.unwrap();
    let second = inbound.take(received(pdu, 3)).await.unwrap();
    let Taken::Kept(id) = first else {
        panic!("{first:?}")
    };
    assert_eq!(second, Taken::Duplicate(id));
    drop((inbound, db));
    thread.join();
    let mut store = Store::open(&site.path).unwrap();
    assert_eq!(replies(&mut store).len(), 1);
}

#[tokio::test]
async fn multipart_texts_are_joined_even_across_a_restart() {
    let site = site();
    let ann = Address::international(ANN);
    // The codes are in the second part: 150 spaces do not leave room for them in the first.
    let text = format!("{}\nXYZ123, XYZ222", " ".repeat(150));
    let parts = deliver(&ann, &text, 0x1234);
    assert_eq!(parts.len(), 2);

    let (mut inbound, db, thread) = pipeline(&site).await;
    inbound.take(received(parts[1].clone(), 1)).await.unwrap();
    // The daemon stops with one part kept.
    drop((inbound, db));
    thread.join();
    {
        let mut store = Store::open(&site.path).unwrap();
        let pending = store.read().unwrap().inbox().pending_pdus().unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].status, PduStatus::PartWaiting);
        assert!(replies(&mut store).is_empty());
    }
    // Restarted: the stored part goes back into the assembler; the other one completes it.
    let (mut inbound, db, thread) = pipeline(&site).await;
    inbound.take(received(parts[0].clone(), 2)).await.unwrap();
    drop((inbound, db));
    thread.join();

    let mut store = Store::open(&site.path).unwrap();
    assert_eq!(taken_by(&mut store, "XYZ123").as_deref(), Some(ANN));
    assert_eq!(taken_by(&mut store, "XYZ222").as_deref(), Some(ANN));
    let sent = replies(&mut store);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        sent[0].text,
        "Request summary - Shift booked (2): XYZ123, XYZ222"
    );
    let tx = store.read().unwrap();
    assert!(tx.inbox().pending_pdus().unwrap().is_empty());
    assert!(tx.inbox().unprocessed().unwrap().is_empty());
}

#[tokio::test]
async fn ucs2_texts_and_robots() {
    let site = site();
    let (mut inbound, db, thread) = pipeline(&site).await;
    // Accents and an emoji: UCS-2 on the air.
    let pdu = deliver(&Address::international(ANN), "Stop 😡\nmerci, ça suffit", 1).remove(0);
    inbound.take(received(pdu, 1)).await.unwrap();
    // An operator's robot: kept, never answered.
    let pdu = deliver(&Address::alphanumeric("Vodafone"), "XYZ222", 1).remove(0);
    inbound.take(received(pdu, 2)).await.unwrap();
    let pdu = deliver(&Address::unknown("40404"), "XYZ222", 1).remove(0);
    inbound.take(received(pdu, 3)).await.unwrap();
    drop((inbound, db));
    thread.join();

    let mut store = Store::open(&site.path).unwrap();
    let ann = E164::from_international(ANN).unwrap();
    let tx = store.read().unwrap();
    assert!(!tx.employees().get(&ann).unwrap().unwrap().subscribed);
    let recent = tx.inbox().recent(3).unwrap();
    let commands: Vec<&str> = recent
        .iter()
        .map(|m| m.processed.as_ref().unwrap().command.as_str())
        .collect();
    assert_eq!(commands, ["ignored", "ignored", "stop"]);
    assert_eq!(recent[2].text, "Stop 😡\nmerci, ça suffit");
    assert!(
        tx.shifts()
            .get("XYZ222")
            .unwrap()
            .unwrap()
            .status
            .is_available()
    );
    drop(tx);
    assert_eq!(replies(&mut store).len(), 1);
}

#[tokio::test]
async fn anything_unreadable_is_kept_with_its_reason() {
    let site = site();
    let (mut inbound, db, thread) = pipeline(&site).await;
    let garbage = Received {
        storage: "SM".into(),
        index: 4,
        pdu: ReceivedPdu::Bytes(vec![0x00, 0x04, 0x0B]),
        read_at: t0(),
    };
    let bad_hex = Received {
        storage: "SM".into(),
        index: 5,
        pdu: ReceivedPdu::BadHex("07911326GARBAGE".into()),
        read_at: t0(),
    };
    assert!(matches!(
        inbound.take(garbage).await.unwrap(),
        Taken::Kept(_)
    ));
    assert!(matches!(
        inbound.take(bad_hex).await.unwrap(),
        Taken::Kept(_)
    ));
    // And the next text is served as usual.
    let pdu = deliver(&Address::international(ANN), "XYZ123", 1).remove(0);
    inbound.take(received(pdu, 6)).await.unwrap();
    drop((inbound, db));
    thread.join();

    let conn = rusqlite::Connection::open(&site.path).unwrap();
    let mut stmt = conn
        .prepare("SELECT status, error FROM inbound_pdus ORDER BY id")
        .unwrap();
    let rows: Vec<(String, Option<String>)> = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0].0, "undecodable");
    assert!(
        rows[0].1.as_deref().unwrap().contains("PDU ends inside"),
        "{rows:?}"
    );
    assert_eq!(rows[1].0, "undecodable");
    assert!(rows[1].1.as_deref().unwrap().contains("not hexadecimal"));
    assert_eq!(rows[2], ("processed".into(), None));
    let mut store = Store::open(&site.path).unwrap();
    assert_eq!(taken_by(&mut store, "XYZ123").as_deref(), Some(ANN));
}

#[tokio::test]
async fn a_part_that_never_comes_does_not_leave_the_employee_unanswered() {
    let site = site();
    let (mut inbound, db, thread) = pipeline(&site).await;
    // The code is in the part that never comes.
    let text = format!("{} XYZ123", "x".repeat(200));
    let parts = deliver(&Address::international(ANN), &text, 9);
    inbound.take(received(parts[0].clone(), 1)).await.unwrap();
    let deadline = inbound.next_deadline().unwrap();
    assert_eq!(deadline, t0() + SignedDuration::from_secs(600));
    inbound
        .expire(deadline - SignedDuration::from_secs(1))
        .await
        .unwrap();
    assert!(inbound.next_deadline().is_some());
    inbound.expire(deadline).await.unwrap();
    assert!(inbound.next_deadline().is_none());
    drop((inbound, db));
    thread.join();
    let mut store = Store::open(&site.path).unwrap();
    let sent = replies(&mut store);
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0]
            .text
            .starts_with("Sorry, your message was not understood")
    );
    assert_eq!(taken_by(&mut store, "XYZ123"), None);
}

#[tokio::test]
async fn a_message_the_database_refused_to_record_is_recorded_on_the_next_try() {
    let site = site();
    let (mut inbound, db, thread) = pipeline(&site).await;
    let person = rusqlite::Connection::open(&site.path).unwrap();
    person
        .execute_batch(
            "CREATE TRIGGER refuse BEFORE INSERT ON inbound_messages
             BEGIN SELECT RAISE(ABORT, 'disk trouble'); END;",
        )
        .unwrap();
    let pdu = deliver(&Address::international(ANN), "XYZ123", 1).remove(0);
    // The PDU is kept (the SIM may let go of it), the message could not be recorded.
    assert!(inbound.take(received(pdu.clone(), 1)).await.is_err());
    assert!(matches!(
        inbound.take(received(pdu, 1)).await.unwrap(),
        Taken::Duplicate(_)
    ));
    person.execute_batch("DROP TRIGGER refuse").unwrap();
    inbound.work_backlog().await.unwrap();
    drop((inbound, db));
    thread.join();

    let mut store = Store::open(&site.path).unwrap();
    assert_eq!(taken_by(&mut store, "XYZ123").as_deref(), Some(ANN));
    assert_eq!(replies(&mut store).len(), 1);
}
