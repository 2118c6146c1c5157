//! The sender against a fake modem that answers from a script.

use std::collections::VecDeque;
use std::sync::Mutex;

use super::*;
use crate::daemon::in_flight::IN_DOUBT;
use crate::daemon::shutdown::Trigger;
use crate::modem::pdu::{Submit, decode_submit};
use crate::service::phone::E164;
use crate::store::Store;
use crate::store::outbox::{Kind, MessageId, OutboxFilter, OutboxState, Outgoing};

/// A modem that answers `AT+CMGS` from a script (then accepts everything), and records what
/// it was given.
#[derive(Default)]
struct Fake {
    script: Mutex<VecDeque<Result<u8, TransmitError>>>,
    given: Mutex<Vec<Submit>>,
    /// Fired after this many submissions.
    stop_after: Mutex<Option<(usize, Trigger)>>,
}

impl Fake {
    fn scripted(script: Vec<Result<u8, TransmitError>>) -> Arc<Fake> {
        Arc::new(Fake {
            script: Mutex::new(script.into()),
            ..Fake::default()
        })
    }

    fn given(&self) -> Vec<Submit> {
        self.given.lock().unwrap().clone()
    }
}

impl Transmitter for Arc<Fake> {
    async fn ready(&self) {}

    async fn transmit(&self, part: &Pdu) -> Result<u8, TransmitError> {
        let submit = decode_submit(&part.bytes).expect("the sender encodes valid PDUs");
        let count = {
            let mut given = self.given.lock().unwrap();
            given.push(submit);
            given.len()
        };
        if let Some((after, trigger)) = &*self.stop_after.lock().unwrap()
            && count >= *after
        {
            trigger.fire();
        }
        let scripted = self.script.lock().unwrap().pop_front();
        scripted.unwrap_or(Ok(count as u8))
    }
}

fn settings() -> OutboxSettings {
    OutboxSettings {
        pause: Duration::ZERO,
        max_attempts: 3,
        retry_backoff: Duration::ZERO,
    }
}

fn phone(n: u32) -> E164 {
    E164::from_international(&format!("+4474001{n:05}")).unwrap()
}

struct Rig {
    db: Db,
    wake: Arc<Notify>,
}

impl Rig {
    fn new() -> (Rig, super::super::db::DbThread) {
        let (db, thread) =
            Db::start(Store::open_in_memory().unwrap(), Duration::from_secs(1)).unwrap();
        (
            Rig {
                db,
                wake: Arc::new(Notify::new()),
            },
            thread,
        )
    }

    async fn queue(&self, to: E164, text: &str, kind: Kind) -> MessageId {
        let text = text.to_string();
        self.db
            .run(move |store| {
                let tx = store.transaction()?;
                let id = tx.outbox().queue(
                    &Outgoing {
                        recipient: &to,
                        text: &text,
                        kind,
                        cause: None,
                    },
                    Timestamp::now(),
                )?;
                tx.commit()?;
                Ok(id)
            })
            .await
            .unwrap()
    }

    fn sender(&self, fake: &Arc<Fake>, shutdown: Shutdown) -> OutboxSender<Arc<Fake>> {
        OutboxSender::new(
            self.db.clone(),
            fake.clone(),
            settings(),
            self.wake.clone(),
            shutdown,
            Duration::from_millis(50),
        )
    }

    async fn message(&self, id: MessageId) -> OutboundMessage {
        self.db
            .run(move |store| store.read()?.outbox().get(id))
            .await
            .unwrap()
            .unwrap()
    }

    /// Run a sender until nothing is queued or sending, then stop it.
    async fn drain(&self, fake: &Arc<Fake>) {
        let (trigger, shutdown) = Shutdown::new();
        let task = tokio::spawn(self.sender(fake, shutdown).run());
        self.wait_until_settled().await;
        trigger.fire();
        task.await.unwrap().unwrap();
    }

    async fn wait_until_settled(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let open = self
                .db
                .run(|store| {
                    let all = store.read()?.outbox().list(OutboxFilter::default())?;
                    Ok(all
                        .iter()
                        .filter(|m| matches!(m.state, OutboxState::Queued | OutboxState::Sending))
                        .count())
                })
                .await
                .unwrap();
            if open == 0 {
                return;
            }
            assert!(Instant::now() < deadline, "the outbox never drained");
            self.wake.notify_one();
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[tokio::test]
async fn replies_go_before_broadcasts() {
    let (rig, _thread) = Rig::new();
    rig.queue(phone(1), "offer 1", Kind::Broadcast).await;
    rig.queue(phone(2), "offer 2", Kind::Broadcast).await;
    rig.queue(phone(3), "your booking", Kind::Reply).await;
    let fake = Fake::scripted(vec![]);
    rig.drain(&fake).await;
    let texts: Vec<String> = fake.given().into_iter().map(|s| s.text).collect();
    assert_eq!(texts, ["your booking", "offer 1", "offer 2"]);
}

#[tokio::test]
async fn a_refused_part_is_retried_then_sent_once() {
    let (rig, _thread) = Rig::new();
    let id = rig.queue(phone(1), "hello", Kind::Reply).await;
    let refused = || Err(TransmitError::Refused("+CMS ERROR: 500".into()));
    let fake = Fake::scripted(vec![refused(), refused()]);
    rig.drain(&fake).await;
    assert_eq!(fake.given().len(), 3);
    let message = rig.message(id).await;
    assert_eq!(message.state, OutboxState::Sent);
    assert_eq!(message.attempts, 3);
}

#[tokio::test]
async fn a_message_refused_every_time_fails_with_the_reason() {
    let (rig, _thread) = Rig::new();
    let id = rig.queue(phone(1), "hello", Kind::Reply).await;
    let refused = || Err(TransmitError::Refused("+CMS ERROR: 38".into()));
    let fake = Fake::scripted(vec![refused(), refused(), refused(), Ok(1)]);
    rig.drain(&fake).await;
    assert_eq!(fake.given().len(), 3);
    let message = rig.message(id).await;
    assert_eq!(message.state, OutboxState::Failed);
    assert_eq!(
        message.last_error.as_deref(),
        Some("+CMS ERROR: 38 (attempt 3 of 3; giving up)")
    );
}

#[tokio::test]
async fn an_unavailable_modem_does_not_use_up_attempts() {
    let (rig, _thread) = Rig::new();
    let id = rig.queue(phone(1), "hello", Kind::Reply).await;
    let away = || Err(TransmitError::Unavailable("modem lost".into()));
    let fake = Fake::scripted(vec![away(), away(), away(), away()]);
    rig.drain(&fake).await;
    let message = rig.message(id).await;
    assert_eq!(message.state, OutboxState::Sent);
    assert_eq!(message.attempts, 1);
}

#[tokio::test]
async fn a_single_part_in_doubt_is_not_sent_again() {
    let (rig, _thread) = Rig::new();
    let id = rig
        .queue(phone(1), "Shift booked: XYZ123", Kind::Reply)
        .await;
    let other = rig.queue(phone(2), "next", Kind::Reply).await;
    let fake = Fake::scripted(vec![Err(TransmitError::InDoubt(
        "no answer within 60s after the PDU was written".into(),
    ))]);
    rig.drain(&fake).await;
    assert_eq!(fake.given().len(), 2);
    let message = rig.message(id).await;
    assert_eq!(message.state, OutboxState::Failed);
    let reason = message.last_error.unwrap();
    assert!(reason.starts_with(IN_DOUBT), "{reason}");
    assert!(reason.contains("+447400100001"), "{reason}");
    assert_eq!(rig.message(other).await.state, OutboxState::Sent);
}

#[tokio::test]
async fn a_multipart_part_in_doubt_is_sent_again_with_the_same_reference() {
    let (rig, _thread) = Rig::new();
    let text = "x".repeat(300);
    let id = rig.queue(phone(1), &text, Kind::Broadcast).await;
    let fake = Fake::scripted(vec![
        Ok(10),
        Err(TransmitError::InDoubt(
            "modem lost after the PDU was written".into(),
        )),
    ]);
    rig.drain(&fake).await;
    let given = fake.given();
    let concat: Vec<_> = given.iter().map(|s| s.concat.unwrap()).collect();
    assert_eq!(concat.len(), 3);
    let reference = concat[0].reference;
    assert_eq!(reference, u16::from(rig.message(id).await.concat_ref()));
    assert!(
        concat
            .iter()
            .all(|c| c.reference == reference && c.total == 2)
    );
    assert_eq!(concat.iter().map(|c| c.seq).collect::<Vec<_>>(), [1, 2, 2]);
    assert_eq!(given[1], given[2]);
    let message = rig.message(id).await;
    assert_eq!(message.state, OutboxState::Sent);
}

#[tokio::test]
async fn stopping_between_parts_resumes_at_the_next_part() {
    let (rig, _thread) = Rig::new();
    let text = "y".repeat(400);
    let id = rig.queue(phone(1), &text, Kind::Broadcast).await;
    let fake = Fake::scripted(vec![]);
    let (trigger, shutdown) = Shutdown::new();
    *fake.stop_after.lock().unwrap() = Some((1, trigger));
    rig.sender(&fake, shutdown).run().await.unwrap();
    assert_eq!(fake.given().len(), 1);
    let message = rig.message(id).await;
    assert_eq!(message.state, OutboxState::Queued);
    assert_eq!(message.first_unsent_part(), 2);

    let fake = Fake::scripted(vec![]);
    rig.drain(&fake).await;
    let seqs: Vec<u8> = fake.given().iter().map(|s| s.concat.unwrap().seq).collect();
    assert_eq!(seqs, [2, 3]);
    assert_eq!(rig.message(id).await.state, OutboxState::Sent);
}

#[tokio::test]
async fn a_campaign_finishes_when_its_last_message_is_sent() {
    let (rig, _thread) = Rig::new();
    rig.db
        .run(|store| {
            let tx = store.transaction()?;
            let now = Timestamp::now();
            tx.campaigns().create("c1", "XYZ123", now)?;
            tx.campaigns()
                .start("c1", 1, "offer", &[phone(1), phone(2), phone(3)], now)?;
            tx.commit()
        })
        .await
        .unwrap();
    let fake = Fake::scripted(vec![Err(TransmitError::Refused("+CMS ERROR: 500".into()))]);
    rig.drain(&fake).await;
    assert_eq!(fake.given().len(), 4);
    let campaign = rig
        .db
        .run(|store| {
            let tx = store.read()?;
            Ok((
                tx.campaigns().get("c1")?.unwrap(),
                tx.campaigns().progress("c1")?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(
        campaign.0.status,
        crate::store::campaigns::CampaignStatus::Done
    );
    assert_eq!((campaign.1.sent, campaign.1.pending), (3, 0));
}

/// The outcome of a part is known only in memory until it is recorded: a person holding the
/// database locked at that moment must not turn a sent message into one in doubt.
#[tokio::test]
async fn a_sent_part_is_recorded_even_if_the_database_is_locked_for_a_while() {
    struct LockingFake {
        path: std::path::PathBuf,
        given: Mutex<usize>,
    }
    impl Transmitter for Arc<LockingFake> {
        async fn ready(&self) {}
        async fn transmit(&self, _part: &Pdu) -> Result<u8, TransmitError> {
            // A person opens a write transaction while the part is on the wire.
            let conn = rusqlite::Connection::open(&self.path).unwrap();
            conn.execute_batch("BEGIN IMMEDIATE").unwrap();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(400));
                conn.execute_batch("COMMIT").unwrap();
            });
            *self.given.lock().unwrap() += 1;
            Ok(9)
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shiftsms.db");
    let store = Store::open_with_busy_timeout(&path, Duration::from_millis(50)).unwrap();
    let (db, _thread) = Db::start(store, Duration::from_secs(1)).unwrap();
    let rig = Rig {
        db,
        wake: Arc::new(Notify::new()),
    };
    let id = rig
        .queue(phone(1), "Shift booked: XYZ123", Kind::Reply)
        .await;
    let fake = Arc::new(LockingFake {
        path,
        given: Mutex::new(0),
    });
    let (trigger, shutdown) = Shutdown::new();
    let sender = OutboxSender::new(
        rig.db.clone(),
        fake.clone(),
        settings(),
        rig.wake.clone(),
        shutdown,
        Duration::from_millis(50),
    );
    let task = tokio::spawn(sender.run());
    rig.wait_until_settled().await;
    trigger.fire();
    task.await.unwrap().unwrap();
    assert_eq!(*fake.given.lock().unwrap(), 1);
    let message = rig.message(id).await;
    assert_eq!(message.state, OutboxState::Sent, "{message:?}");
}
