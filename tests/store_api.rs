//! The typed store API the daemon is built on: each lifecycle step, and what survives a crash.

mod common;

use common::{at, phone};
use jiff::{Timestamp, ToSpan};
use shiftsms::service::phone::E164;
use shiftsms::service::phone::Sender;
use shiftsms::store::callbacks::{CallbackId, CallbackState, Change, Round};
use shiftsms::store::campaigns::CampaignStatus;
use shiftsms::store::employees::Subscription;
use shiftsms::store::inbox::{
    Concat, Decoded, DecodedPart, NewInbound, PduInsert, PduStatus, RawPdu,
};
use shiftsms::store::outbox::{
    Cause, Kind, MessageId, OutboxFilter, OutboxState, Outgoing, PartState, Progress,
};
use shiftsms::store::shifts::{ShiftFilter, ShiftStatus, Take};
use shiftsms::store::{Store, StoreError};

fn t0() -> Timestamp {
    at("2024-05-01T09:00:00Z")
}

fn queue(store: &mut Store, to: &E164, text: &str, kind: Kind, now: Timestamp) -> MessageId {
    let tx = store.transaction().unwrap();
    let id = tx
        .outbox()
        .queue(
            &Outgoing {
                recipient: to,
                text,
                kind,
                cause: None,
            },
            now,
        )
        .unwrap();
    tx.commit().unwrap();
    id
}

#[test]
fn booking_outcomes_name_the_code_as_stored() {
    let mut store = Store::open_in_memory().unwrap();
    let ann = phone("+447400123456");
    let bob = phone("+447400123457");
    let tx = store.transaction().unwrap();
    tx.shifts().add("XYZ123", "Mon 06:00-14:00", t0()).unwrap();
    assert_eq!(
        tx.shifts().take("xyz123", &ann, t0()).unwrap(),
        Take::Booked {
            id: "XYZ123".into(),
            info: "Mon 06:00-14:00".into()
        }
    );
    assert_eq!(
        tx.shifts().take("XYZ123", &ann, t0()).unwrap(),
        Take::AlreadyTaken {
            id: "XYZ123".into(),
            by_you: true
        }
    );
    assert_eq!(
        tx.shifts().take("XYZ123", &bob, t0()).unwrap(),
        Take::AlreadyTaken {
            id: "XYZ123".into(),
            by_you: false
        }
    );
    assert_eq!(
        tx.shifts().take("NOPE1", &bob, t0()).unwrap(),
        Take::NoSuchShift
    );
    let shift = tx.shifts().get("XYZ123").unwrap().unwrap();
    assert_eq!(
        shift.status,
        ShiftStatus::Taken {
            by: Some(ann.clone()),
            at: Some(t0())
        }
    );
    assert!(matches!(
        tx.shifts().add("xyz123", "", t0()),
        Err(StoreError::AlreadyExists { .. })
    ));

    tx.shifts().add("ABC1", "", t0()).unwrap();
    let many = tx.shifts().get_many(&["abc1", "none", "XYZ123"]).unwrap();
    assert_eq!(many.len(), 3);
    assert!(many[0].as_ref().unwrap().status.is_available());
    assert!(many[1].is_none());
    assert_eq!(tx.shifts().available().unwrap().len(), 1);
    assert_eq!(
        tx.shifts().list(ShiftFilter::Taken).unwrap()[0].id,
        "XYZ123"
    );

    let released = tx.shifts().release("xyz123").unwrap().unwrap();
    assert!(
        !released.status.is_available(),
        "returns the shift as it was"
    );
    assert!(
        tx.shifts()
            .get("XYZ123")
            .unwrap()
            .unwrap()
            .status
            .is_available()
    );
    assert!(tx.shifts().remove("abc1").unwrap().is_some());
    assert!(tx.shifts().remove("abc1").unwrap().is_none());
}

#[test]
fn a_dropped_transaction_leaves_nothing_behind() {
    let mut store = Store::open_in_memory().unwrap();
    let ann = phone("+447400123456");
    {
        let tx = store.transaction().unwrap();
        tx.shifts().add("XYZ123", "", t0()).unwrap();
        tx.commit().unwrap();
    }
    {
        let tx = store.transaction().unwrap();
        assert!(matches!(
            tx.shifts().take("XYZ123", &ann, t0()).unwrap(),
            Take::Booked { .. }
        ));
        tx.outbox()
            .queue(
                &Outgoing {
                    recipient: &ann,
                    text: "You got XYZ123",
                    kind: Kind::Reply,
                    cause: None,
                },
                t0(),
            )
            .unwrap();
        // No commit: a crash before the commit.
    }
    let tx = store.read().unwrap();
    assert!(
        tx.shifts()
            .get("XYZ123")
            .unwrap()
            .unwrap()
            .status
            .is_available()
    );
    assert!(
        tx.outbox()
            .list(OutboxFilter::default())
            .unwrap()
            .is_empty()
    );
}

#[test]
fn employees_subscribe_and_unsubscribe() {
    let mut store = Store::open_in_memory().unwrap();
    let ann = phone("+447400123456");
    let bob = phone("+447400123457");
    let tx = store.transaction().unwrap();
    tx.employees().add(&ann, Some("Ann"), t0()).unwrap();
    tx.employees().add(&bob, None, t0()).unwrap();
    assert!(matches!(
        tx.employees().add(&ann, None, t0()),
        Err(StoreError::AlreadyExists { .. })
    ));
    assert_eq!(
        tx.employees().subscribed().unwrap(),
        vec![ann.clone(), bob.clone()]
    );

    let later = t0() + 1.hour();
    assert_eq!(
        tx.employees().set_subscribed(&ann, false, later).unwrap(),
        Subscription::Changed
    );
    assert_eq!(
        tx.employees().set_subscribed(&ann, false, later).unwrap(),
        Subscription::Unchanged
    );
    assert_eq!(
        tx.employees()
            .set_subscribed(&phone("+447400999999"), false, later)
            .unwrap(),
        Subscription::NotAnEmployee
    );
    assert_eq!(tx.employees().subscribed().unwrap(), vec![bob.clone()]);
    let stored = tx.employees().get(&ann).unwrap().unwrap();
    assert_eq!(stored.subscription_changed_at, Some(later));
    assert_eq!(tx.employees().list().unwrap().len(), 2);
    assert_eq!(tx.employees().remove(&bob).unwrap().unwrap().phone, bob);
    assert!(tx.employees().get(&bob).unwrap().is_none());
}

#[test]
fn replies_go_before_broadcasts_then_oldest_first_and_retries_wait_their_turn() {
    let mut store = Store::open_in_memory().unwrap();
    let ann = phone("+447400123456");
    let b1 = queue(&mut store, &ann, "broadcast 1", Kind::Broadcast, t0());
    let b2 = queue(&mut store, &ann, "broadcast 2", Kind::Broadcast, t0());
    let r1 = queue(&mut store, &ann, "reply 1", Kind::Reply, t0() + 1.second());
    let d1 = queue(&mut store, &ann, "denied", Kind::Denied, t0() + 2.second());

    let now = t0() + 10.seconds();
    let next = |store: &mut Store| {
        store
            .read()
            .unwrap()
            .outbox()
            .next_due(now)
            .unwrap()
            .map(|m| m.id)
    };
    assert_eq!(next(&mut store), Some(r1));

    // Reply 1 fails once: it waits a minute, and does not hold up the others.
    let tx = store.transaction().unwrap();
    tx.outbox().begin_part(r1, 1, 1, now).unwrap();
    tx.outbox()
        .attempt_failed(r1, "+CMS ERROR: 38", now + 1.minute())
        .unwrap();
    tx.commit().unwrap();
    assert_eq!(next(&mut store), Some(d1));
    send_whole(&mut store, d1, 1, now);
    assert_eq!(next(&mut store), Some(b1));
    send_whole(&mut store, b1, 1, now);
    assert_eq!(next(&mut store), Some(b2));
    assert_eq!(
        store.read().unwrap().outbox().next_wakeup().unwrap(),
        Some(t0()),
        "b2 has been due since t0"
    );

    // Once due again, the reply goes before the remaining broadcast.
    let later = now + 2.minutes();
    assert_eq!(
        store
            .read()
            .unwrap()
            .outbox()
            .next_due(later)
            .unwrap()
            .map(|m| m.id),
        Some(r1)
    );
    let message = store.read().unwrap().outbox().get(r1).unwrap().unwrap();
    assert_eq!(message.state, OutboxState::Queued);
    assert_eq!(message.attempts, 1);
    assert_eq!(message.last_error.as_deref(), Some("+CMS ERROR: 38"));
    assert!(
        message.parts.is_empty(),
        "the failed part is forgotten, to be sent again"
    );
}

fn send_whole(store: &mut Store, id: MessageId, parts: u8, now: Timestamp) {
    for seq in 1..=parts {
        let tx = store.transaction().unwrap();
        tx.outbox().begin_part(id, seq, parts, now).unwrap();
        tx.commit().unwrap();
        let tx = store.transaction().unwrap();
        tx.outbox().part_sent(id, seq, seq, now).unwrap();
        tx.commit().unwrap();
    }
}

#[test]
fn a_crash_mid_multipart_resumes_at_the_first_unsent_part() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shiftsms.db");
    let ann = phone("+447400123456");
    let now = t0();
    let id = {
        let mut store = Store::open(&db).unwrap();
        let id = queue(
            &mut store,
            &ann,
            "a long text in three parts",
            Kind::Broadcast,
            now,
        );
        let step = |store: &mut Store, f: &dyn Fn(&shiftsms::store::Tx<'_>)| {
            let tx = store.transaction().unwrap();
            f(&tx);
            tx.commit().unwrap();
        };
        step(&mut store, &|tx| {
            tx.outbox().begin_part(id, 1, 3, now).unwrap()
        });
        step(&mut store, &|tx| {
            assert_eq!(
                tx.outbox().part_sent(id, 1, 41, now).unwrap(),
                Progress::Next(2)
            );
        });
        // Part 2 is marked in flight before it goes on the wire; then the process dies.
        step(&mut store, &|tx| {
            tx.outbox().begin_part(id, 2, 3, now).unwrap()
        });
        id
    };

    let mut store = Store::open(&db).unwrap();
    let tx = store.transaction().unwrap();
    assert!(
        tx.outbox().next_due(now).unwrap().is_none(),
        "not offered as new work"
    );
    let left = tx.outbox().interrupted().unwrap();
    assert_eq!(left.len(), 1);
    let message = &left[0];
    assert_eq!(message.id, id);
    assert_eq!(message.state, OutboxState::Sending);
    assert_eq!(message.part_count, Some(3));
    assert_eq!(message.part_in_flight(), Some(2));
    assert_eq!(message.first_unsent_part(), 2);
    assert_eq!(message.concat_ref(), (id.0 % 256) as u8);
    assert!(matches!(
        message.parts[0].state,
        PartState::Sent { reference: 41, .. }
    ));

    // The daemon's choice for the ambiguous part: try it again.
    tx.outbox()
        .attempt_failed(id, "interrupted by a restart", now)
        .unwrap();
    tx.commit().unwrap();
    let tx = store.transaction().unwrap();
    let message = tx.outbox().next_due(now).unwrap().unwrap();
    assert_eq!(message.first_unsent_part(), 2, "part 1 is not sent twice");
    assert_eq!(
        message.concat_ref(),
        (id.0 % 256) as u8,
        "same reference on every attempt"
    );

    // A part already sent cannot be begun again; the part count cannot change midway.
    assert!(matches!(
        tx.outbox().begin_part(id, 1, 3, now),
        Err(StoreError::WrongState { .. })
    ));
    assert!(matches!(
        tx.outbox().begin_part(id, 2, 2, now),
        Err(StoreError::WrongState { .. })
    ));
    tx.outbox().begin_part(id, 2, 3, now).unwrap();
    assert!(
        matches!(
            tx.outbox().begin_part(id, 3, 3, now),
            Err(StoreError::WrongState { .. })
        ),
        "one part in flight at a time"
    );
    assert_eq!(
        tx.outbox().part_sent(id, 2, 42, now).unwrap(),
        Progress::Next(3)
    );
    tx.outbox().begin_part(id, 3, 3, now).unwrap();
    assert_eq!(
        tx.outbox().part_sent(id, 3, 43, now + 1.second()).unwrap(),
        Progress::Complete
    );
    let message = tx.outbox().get(id).unwrap().unwrap();
    assert_eq!(message.state, OutboxState::Sent);
    assert_eq!(message.attempts, 2);
    assert_eq!(message.finished_at, Some(now + 1.second()));
    assert!(tx.outbox().interrupted().unwrap().is_empty());
    assert!(matches!(
        tx.outbox().part_sent(id, 3, 43, now),
        Err(StoreError::WrongState { .. })
    ));
}

#[test]
fn failing_for_good_cancelling_and_counting() {
    let mut store = Store::open_in_memory().unwrap();
    let ann = phone("+447400123456");
    let bob = phone("+447400123457");
    let b_ann = queue(&mut store, &ann, "offer", Kind::Broadcast, t0());
    let b_bob = queue(&mut store, &bob, "offer", Kind::Broadcast, t0());
    let r_ann = queue(&mut store, &ann, "ok", Kind::Reply, t0());

    let tx = store.transaction().unwrap();
    // Ann texts STOP: her queued broadcasts go, her reply stays.
    assert_eq!(
        tx.outbox()
            .cancel_broadcasts_to(&ann, "texted STOP", t0())
            .unwrap(),
        1
    );
    assert_eq!(
        tx.outbox().get(b_ann).unwrap().unwrap().state,
        OutboxState::Cancelled
    );
    assert_eq!(
        tx.outbox().get(r_ann).unwrap().unwrap().state,
        OutboxState::Queued
    );
    tx.outbox().begin_part(b_bob, 1, 1, t0()).unwrap();
    tx.outbox()
        .fail(b_bob, "+CMS ERROR: 500 five times", t0())
        .unwrap();
    let failed = tx.outbox().get(b_bob).unwrap().unwrap();
    assert_eq!(failed.state, OutboxState::Failed);
    assert!(failed.parts.is_empty());
    assert!(matches!(
        tx.outbox().fail(b_bob, "again", t0()),
        Err(StoreError::WrongState { .. })
    ));
    assert!(matches!(
        tx.outbox().cancel(MessageId(999), "x", t0()),
        Err(StoreError::NotFound { .. })
    ));

    let counts = tx.outbox().counts().unwrap();
    assert!(
        counts.contains(&(Kind::Reply, OutboxState::Queued, 1)),
        "{counts:?}"
    );
    assert!(
        counts.contains(&(Kind::Broadcast, OutboxState::Cancelled, 1)),
        "{counts:?}"
    );
    assert!(
        counts.contains(&(Kind::Broadcast, OutboxState::Failed, 1)),
        "{counts:?}"
    );
    let failed = tx
        .outbox()
        .list(OutboxFilter {
            state: Some(OutboxState::Failed),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(failed.len(), 1);
    let broadcasts = tx
        .outbox()
        .list(OutboxFilter {
            kind: Some(Kind::Broadcast),
            limit: Some(1),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(
        broadcasts.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![b_bob],
        "newest first"
    );
}

#[test]
fn rate_limits_are_derived_from_what_was_queued() {
    let mut store = Store::open_in_memory().unwrap();
    let stranger = phone("+447400999999");
    let ann = phone("+447400123456");
    let day = 24.hours();
    queue(&mut store, &stranger, "Access denied", Kind::Denied, t0());
    queue(&mut store, &ann, "ok", Kind::Reply, t0());
    queue(&mut store, &ann, "ok", Kind::Reply, t0() + 10.minutes());
    queue(
        &mut store,
        &ann,
        "offer",
        Kind::Broadcast,
        t0() + 10.minutes(),
    );

    let tx = store.read().unwrap();
    let outbox = tx.outbox();
    let now = t0() + 1.hour();
    assert_eq!(
        outbox.last_queued(&stranger, Kind::Denied).unwrap(),
        Some(t0())
    );
    assert!(
        now - day < t0(),
        "so access denied is not sent again within the day"
    );
    assert_eq!(outbox.last_queued(&ann, Kind::Denied).unwrap(), None);
    assert_eq!(
        outbox.replies_since(&ann, now - day).unwrap(),
        2,
        "broadcasts do not count"
    );
    assert_eq!(outbox.replies_since(&ann, t0() + 5.minutes()).unwrap(), 1);
    assert_eq!(outbox.replies_since(&stranger, now - day).unwrap(), 1);
}

fn raw(bytes: &[u8], index: u32) -> RawPdu<'_> {
    RawPdu {
        storage: "SM",
        index,
        bytes,
        read_at: t0(),
    }
}

fn part(text: &str, concat: Option<Concat>) -> Decoded {
    Decoded::Part(DecodedPart {
        sender: "+447400123456".into(),
        sent_at: Some(t0() - 5.seconds()),
        text: text.into(),
        concat,
    })
}

#[test]
fn a_pdu_read_twice_is_stored_once() {
    let mut store = Store::open_in_memory().unwrap();
    let bytes = [0x07, 0x91, 0x44, 0x77, 0x28, 0x00, 0x80, 0xf0, 0x04, 0x0c];
    let tx = store.transaction().unwrap();
    let first = tx
        .inbox()
        .store_pdu(&raw(&bytes, 3), &part("XYZ123", None))
        .unwrap();
    assert!(matches!(first, PduInsert::Stored(_)));
    // The process died before deleting it from the SIM; after the restart it is read again
    // (at another index even).
    let again = tx
        .inbox()
        .store_pdu(&raw(&bytes, 1), &part("XYZ123", None))
        .unwrap();
    assert_eq!(again, PduInsert::Duplicate(first.id()));
    let pending = tx.inbox().pending_pdus().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].status, PduStatus::New);

    // The SIM reuses index 3 for a different message: a different row.
    let other = [0x07, 0x91, 0x44, 0x77, 0x28, 0x00, 0x80, 0xf0, 0x04, 0x0d];
    let third = tx
        .inbox()
        .store_pdu(&raw(&other, 3), &part("REQUEST", None))
        .unwrap();
    assert!(matches!(third, PduInsert::Stored(id) if id != first.id()));

    let junk = [0xde, 0xad];
    let bad = Decoded::Undecodable {
        reason: "TP-DCS 0xF6 with a 1-byte user data".into(),
    };
    let stored = tx.inbox().store_pdu(&raw(&junk, 4), &bad).unwrap();
    assert!(matches!(stored, PduInsert::Stored(_)));
    assert_eq!(
        tx.inbox().store_pdu(&raw(&junk, 4), &bad).unwrap(),
        PduInsert::Duplicate(stored.id())
    );
    assert_eq!(
        tx.inbox().pending_pdus().unwrap().len(),
        2,
        "undecodable is not pending"
    );
}

#[test]
fn parts_wait_for_their_siblings_and_a_message_is_processed_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shiftsms.db");
    let sender = Sender::Phone(phone("+447400123456"));
    let c = |seq| {
        Some(Concat {
            reference: 0x1234,
            total: 2,
            seq,
        })
    };
    {
        let mut store = Store::open(&db).unwrap();
        let tx = store.transaction().unwrap();
        tx.inbox()
            .store_pdu(&raw(b"part two", 2), &part("222", c(2)))
            .unwrap();
        tx.commit().unwrap();
    }
    // Restarted: the waiting part is still there.
    let mut store = Store::open(&db).unwrap();
    let tx = store.transaction().unwrap();
    let pending = tx.inbox().pending_pdus().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].status, PduStatus::PartWaiting);
    tx.inbox()
        .store_pdu(&raw(b"part one", 1), &part("XYZ123, XYZ", c(1)))
        .unwrap();
    let parts = tx
        .inbox()
        .waiting_parts("+447400123456", 0x1234, 2)
        .unwrap();
    assert_eq!(
        parts
            .iter()
            .map(|p| p.part.concat.unwrap().seq)
            .collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert!(
        tx.inbox()
            .waiting_parts("+447400123456", 0x1235, 2)
            .unwrap()
            .is_empty()
    );
    let text: String = parts.iter().map(|p| p.part.text.as_str()).collect();
    let ids: Vec<_> = parts.iter().map(|p| p.id).collect();
    let message = NewInbound {
        sender: &sender,
        text: &text,
        sent_at: parts[0].part.sent_at,
        received_at: t0(),
    };
    let id = tx.inbox().assemble(&ids, &message).unwrap();
    assert!(
        matches!(
            tx.inbox().assemble(&ids, &message),
            Err(StoreError::WrongState { .. })
        ),
        "a PDU belongs to one message"
    );
    tx.commit().unwrap();

    let tx = store.transaction().unwrap();
    assert!(tx.inbox().pending_pdus().unwrap().is_empty());
    let todo = tx.inbox().unprocessed().unwrap();
    assert_eq!(todo.len(), 1);
    assert_eq!(todo[0].text, "XYZ123, XYZ222");
    assert_eq!(todo[0].sender, sender);
    assert_eq!(tx.inbox().backlog().unwrap(), (1, 0));
    tx.inbox()
        .mark_processed(id, "book", "booked XYZ123; no such shift XYZ222", t0())
        .unwrap();
    assert!(matches!(
        tx.inbox().mark_processed(id, "book", "again", t0()),
        Err(StoreError::WrongState { .. })
    ));
    tx.commit().unwrap();

    let tx = store.read().unwrap();
    assert!(tx.inbox().unprocessed().unwrap().is_empty());
    let done = tx.inbox().get(id).unwrap().unwrap();
    let processed = done.processed.unwrap();
    assert_eq!(processed.command, "book");
    assert_eq!(tx.inbox().recent(10).unwrap().len(), 1);

    // Senders that are not phones keep what they were.
    drop(tx);
    let tx = store.transaction().unwrap();
    for sender in [
        Sender::Alphanumeric("Vodafone".into()),
        Sender::ShortCode("40404".into()),
        Sender::Unrecognised("12ab".into()),
    ] {
        let id = tx
            .inbox()
            .assemble(
                &[],
                &NewInbound {
                    sender: &sender,
                    text: "hi",
                    sent_at: None,
                    received_at: t0(),
                },
            )
            .unwrap();
        assert_eq!(tx.inbox().get(id).unwrap().unwrap().sender, sender);
    }
}

#[test]
fn a_campaign_reaches_each_subscribed_employee_once_in_the_shuffled_order() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shiftsms.db");
    let mut store = Store::open(&db).unwrap();
    let staff: Vec<E164> = (1..=5)
        .map(|n| phone(&format!("+44740010000{n}")))
        .collect();
    let tx = store.transaction().unwrap();
    for p in &staff {
        tx.employees().add(p, None, t0()).unwrap();
    }
    tx.campaigns()
        .create("mon", "XYZ123 Mon early", t0())
        .unwrap();
    tx.campaigns()
        .create("empty", "", t0() + 1.second())
        .unwrap();
    assert!(matches!(
        tx.campaigns().create("mon", "", t0()),
        Err(StoreError::AlreadyExists { .. })
    ));
    tx.commit().unwrap();

    let tx = store.transaction().unwrap();
    let todo: Vec<_> = tx
        .campaigns()
        .not_yet_broadcast()
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(todo, vec!["mon", "empty"]);
    tx.campaigns()
        .mark_invalid("empty", "names no shift code", t0())
        .unwrap();
    let shuffled: Vec<E164> = [3, 0, 4, 1, 2].iter().map(|&i| staff[i].clone()).collect();
    let text = "Available shifts: XYZ123 Mon early.";
    assert_eq!(
        tx.campaigns()
            .start("mon", u64::MAX - 1, text, &shuffled, t0())
            .unwrap(),
        5
    );
    assert!(matches!(
        tx.campaigns().start("mon", 1, text, &shuffled, t0()),
        Err(StoreError::WrongState { .. })
    ));
    tx.commit().unwrap();

    let tx = store.transaction().unwrap();
    assert!(tx.campaigns().not_yet_broadcast().unwrap().is_empty());
    let empty = tx.campaigns().get("empty").unwrap().unwrap();
    assert_eq!(
        empty.status,
        CampaignStatus::Invalid {
            reason: "names no shift code".into()
        }
    );
    let mon = tx.campaigns().get("mon").unwrap().unwrap();
    assert_eq!(mon.status, CampaignStatus::Sending);
    assert_eq!(mon.shuffle_seed, Some(u64::MAX - 1));
    let recipients = tx.campaigns().recipients("mon").unwrap();
    assert_eq!(
        recipients
            .iter()
            .map(|r| r.phone.clone())
            .collect::<Vec<_>>(),
        shuffled
    );
    assert_eq!(
        recipients.iter().map(|r| r.position).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
    // Sent in the shuffled order.
    let first = tx.outbox().next_due(t0()).unwrap().unwrap();
    assert_eq!(first.recipient, shuffled[0]);
    assert_eq!(first.campaign_id.as_deref(), Some("mon"));
    assert_eq!(Some(first.id), recipients[0].outbox_id);
    assert!(tx.campaigns().finish_completed(t0()).unwrap().is_empty());
    let progress = tx.campaigns().progress("mon").unwrap();
    assert_eq!(
        (progress.recipients, progress.pending, progress.sent),
        (5, 5, 0)
    );
    tx.commit().unwrap();

    for r in &recipients {
        send_whole(&mut store, r.outbox_id.unwrap(), 1, t0());
    }
    let tx = store.transaction().unwrap();
    assert_eq!(
        tx.campaigns().finish_completed(t0() + 1.minute()).unwrap(),
        vec!["mon".to_string()]
    );
    assert_eq!(
        tx.campaigns().get("mon").unwrap().unwrap().status,
        CampaignStatus::Done
    );
    let progress = tx.campaigns().progress("mon").unwrap();
    assert_eq!(
        (progress.recipients, progress.pending, progress.sent),
        (5, 0, 5)
    );
    tx.commit().unwrap();

    // A person sets it back to 'new' after adding someone: only the newcomer is sent it.
    let newcomer = phone("+447400100009");
    let tx = store.transaction().unwrap();
    tx.employees().add(&newcomer, None, t0()).unwrap();
    tx.commit().unwrap();
    let mut everyone = shuffled.clone();
    everyone.insert(2, newcomer.clone());
    common::sqlite3(
        &db,
        "UPDATE shift_campaigns SET status = 'new' WHERE campaign_id = 'mon';",
    )
    .unwrap();
    let tx = store.transaction().unwrap();
    assert_eq!(
        tx.campaigns()
            .start("mon", 2, text, &everyone, t0())
            .unwrap(),
        1
    );
    assert_eq!(tx.campaigns().recipients("mon").unwrap().len(), 6);
}

#[test]
fn callbacks_record_each_change_with_its_history() {
    let mut store = Store::open_in_memory().unwrap();
    let ann = phone("+447400123456");
    let (first, second) = (phone("+441234567890"), phone("+441234567891"));
    let tx = store.transaction().unwrap();
    let id = tx
        .callbacks()
        .queue(&ann, "my pay is wrong", None, t0())
        .unwrap();
    let due = tx.callbacks().next_due(t0()).unwrap().unwrap();
    assert_eq!(due.id, id);
    assert_eq!(due.request, "my pay is wrong");
    assert_eq!(tx.callbacks().next_wakeup().unwrap(), Some(t0()));
    let change = |from, to, reason| Change {
        from,
        to,
        reason,
        round: Round::Same,
        agent: None,
        next_attempt_at: None,
        outcome: None,
        error: None,
    };
    use CallbackState::*;
    tx.callbacks()
        .record(
            id,
            &Change {
                round: Round::New,
                agent: Some(&first),
                ..change(Queued, Dialling, "calling agent 1")
            },
            t0(),
        )
        .unwrap();
    assert!(tx.callbacks().next_due(t0()).unwrap().is_none());
    assert_eq!(tx.callbacks().next_wakeup().unwrap(), None);
    assert_eq!(tx.callbacks().interrupted().unwrap().len(), 1);
    // Another agent in the same round: no new attempt.
    tx.callbacks()
        .record(
            id,
            &Change {
                agent: Some(&second),
                error: Some("agent 1 busy"),
                ..change(Dialling, Dialling, "agent 1 busy; calling agent 2")
            },
            t0(),
        )
        .unwrap();
    tx.callbacks()
        .record(
            id,
            &Change {
                next_attempt_at: Some(t0() + 5.minutes()),
                error: Some("nobody answered"),
                ..change(Dialling, Queued, "nobody answered")
            },
            t0(),
        )
        .unwrap();
    assert!(
        tx.callbacks()
            .next_due(t0() + 1.minute())
            .unwrap()
            .is_none()
    );
    assert!(
        tx.callbacks()
            .next_due(t0() + 5.minutes())
            .unwrap()
            .is_some()
    );
    tx.callbacks()
        .record(
            id,
            &Change {
                round: Round::New,
                agent: Some(&first),
                ..change(Queued, Dialling, "calling agent 1")
            },
            t0() + 5.minutes(),
        )
        .unwrap();
    // A change from a stale state writes nothing.
    assert!(matches!(
        tx.callbacks()
            .record(id, &change(Queued, Dialling, "again"), t0()),
        Err(StoreError::WrongState { .. })
    ));
    tx.callbacks()
        .record(
            id,
            &change(Dialling, Connected, "agent answered"),
            t0() + 6.minutes(),
        )
        .unwrap();
    tx.callbacks()
        .record(
            id,
            &Change {
                outcome: Some("put through"),
                ..change(Connected, Done, "put through")
            },
            t0() + 9.minutes(),
        )
        .unwrap();
    let done = tx.callbacks().get(id).unwrap().unwrap();
    assert_eq!(done.state, CallbackState::Done);
    assert_eq!(done.attempts, 2);
    assert_eq!(done.agent, Some(first.clone()));
    assert_eq!(done.outcome.as_deref(), Some("put through"));
    assert_eq!(done.last_error.as_deref(), Some("nobody answered"));
    assert!(tx.callbacks().open().unwrap().is_empty());
    let history: Vec<String> = tx
        .callbacks()
        .history(id)
        .unwrap()
        .iter()
        .map(|h| {
            format!(
                "{} -> {} ({}) {}",
                h.from.map_or("-", CallbackState::as_str),
                h.to,
                h.reason,
                h.agent.as_ref().map_or("", E164::as_str)
            )
        })
        .collect();
    assert_eq!(
        history,
        [
            "- -> queued (AGENT text received) ",
            "queued -> dialling (calling agent 1) +441234567890",
            "dialling -> dialling (agent 1 busy; calling agent 2) +441234567891",
            "dialling -> queued (nobody answered) ",
            "queued -> dialling (calling agent 1) +441234567890",
            "dialling -> connected (agent answered) ",
            "connected -> done (put through) ",
        ]
    );

    // A round given back (the modem was away) does not count.
    let other = tx.callbacks().queue(&ann, "", None, t0()).unwrap();
    tx.callbacks()
        .record(
            other,
            &Change {
                round: Round::New,
                agent: Some(&first),
                ..change(Queued, Dialling, "calling")
            },
            t0(),
        )
        .unwrap();
    tx.callbacks()
        .record(
            other,
            &Change {
                round: Round::GiveBack,
                ..change(Dialling, Queued, "modem gone")
            },
            t0(),
        )
        .unwrap();
    assert_eq!(tx.callbacks().get(other).unwrap().unwrap().attempts, 0);
    assert!(!tx.callbacks().agent_told(other, &first).unwrap());
    tx.outbox()
        .queue(
            &Outgoing {
                recipient: &first,
                text: "Call Ann",
                kind: Kind::Agent,
                cause: Some(Cause::Callback(other)),
            },
            t0(),
        )
        .unwrap();
    assert!(tx.callbacks().agent_told(other, &first).unwrap());
    assert!(!tx.callbacks().agent_told(other, &second).unwrap());
    assert!(!tx.callbacks().agent_told(id, &first).unwrap());
    let listed: Vec<CallbackId> = tx
        .callbacks()
        .list(false, 10)
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(listed, [other, id]);
    assert_eq!(tx.callbacks().list(true, 10).unwrap().len(), 1);
    assert!(matches!(
        tx.callbacks()
            .record(CallbackId(12345), &change(Queued, Failed, "gone"), t0()),
        Err(StoreError::NotFound { .. })
    ));
}

#[test]
fn a_reply_records_what_caused_it() {
    let mut store = Store::open_in_memory().unwrap();
    let ann = phone("+447400123456");
    let sender = Sender::Phone(ann.clone());
    let tx = store.transaction().unwrap();
    let inbound = tx
        .inbox()
        .assemble(
            &[],
            &NewInbound {
                sender: &sender,
                text: "AGENT pay",
                sent_at: None,
                received_at: t0(),
            },
        )
        .unwrap();
    let callback = tx
        .callbacks()
        .queue(&ann, "pay", Some(inbound), t0())
        .unwrap();
    let reply = tx
        .outbox()
        .queue(
            &Outgoing {
                recipient: &ann,
                text: "An agent will call you",
                kind: Kind::Reply,
                cause: Some(Cause::Inbound(inbound)),
            },
            t0(),
        )
        .unwrap();
    let to_agent = tx
        .outbox()
        .queue(
            &Outgoing {
                recipient: &ann,
                text: "Call Ann",
                kind: Kind::Agent,
                cause: Some(Cause::Callback(callback)),
            },
            t0(),
        )
        .unwrap();
    tx.inbox()
        .mark_processed(inbound, "agent", "callback queued", t0())
        .unwrap();
    tx.commit().unwrap();
    let tx = store.read().unwrap();
    assert_eq!(
        tx.outbox().get(reply).unwrap().unwrap().inbound_id,
        Some(inbound)
    );
    assert_eq!(
        tx.outbox().get(to_agent).unwrap().unwrap().callback_id,
        Some(callback)
    );
    assert_eq!(
        tx.callbacks().get(callback).unwrap().unwrap().inbound_id,
        Some(inbound)
    );
}
