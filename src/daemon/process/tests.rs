//! Each row of DESIGN.md's "What an employee can text", acted on against an in-memory store.

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::service::access::ReplyLimits;
use crate::service::reply::ReplyOptions;
use crate::store::Store;
use crate::store::callbacks::CallbackState;
use crate::store::inbox::{InboundId, NewInbound};
use crate::store::outbox::{OutboxFilter, OutboxState};

const ANN: &str = "+447400123456";
const BOB: &str = "+447400654321";
const STRANGER: &str = "+447400999999";

fn t0() -> Timestamp {
    "2025-03-03T08:00:00Z".parse().unwrap()
}

fn phone(text: &str) -> E164 {
    E164::from_international(text).unwrap()
}

fn rules(agents: bool) -> Rules {
    Rules {
        replies: Replies::defaults(ReplyOptions {
            agents_enabled: agents,
            ..ReplyOptions::default()
        }),
        limits: ReplyLimits::default(),
        agent_hours: crate::service::hours::BusinessHours::always(),
        time_zone: jiff::tz::TimeZone::UTC,
    }
}

fn site() -> Store {
    let mut store = Store::open_in_memory().unwrap();
    let tx = store.transaction().unwrap();
    tx.employees().add(&phone(ANN), Some("Ann"), t0()).unwrap();
    tx.employees().add(&phone(BOB), Some("Bob"), t0()).unwrap();
    tx.shifts()
        .add("XYZ123", "Mon 06:00-14:00 Line 3", t0())
        .unwrap();
    tx.shifts()
        .add("XYZ222", "Tue 14:00-22:00 Line 1", t0())
        .unwrap();
    tx.shifts()
        .add("ABC777", "Wed 22:00-06:00 Dock", t0())
        .unwrap();
    tx.commit().unwrap();
    store
}

fn receive(store: &mut Store, sender: Sender, text: &str, now: Timestamp) -> InboundId {
    let tx = store.transaction().unwrap();
    let id = tx
        .inbox()
        .assemble(
            &[],
            &NewInbound {
                sender: &sender,
                text,
                sent_at: None,
                received_at: now,
            },
        )
        .unwrap();
    tx.commit().unwrap();
    id
}

/// Receive `text` from `from` and act on it in one transaction, as the daemon does.
fn text_in(store: &mut Store, from: &str, text: &str, rules: &Rules, now: Timestamp) -> Acted {
    let id = receive(store, Sender::Phone(phone(from)), text, now);
    act_on(store, id, rules, now)
}

fn act_on(store: &mut Store, id: InboundId, rules: &Rules, now: Timestamp) -> Acted {
    let tx = store.transaction().unwrap();
    let message = tx.inbox().get(id).unwrap().unwrap();
    let acted = act(&tx, &message, rules, now).unwrap();
    tx.commit().unwrap();
    acted
}

fn reply_text(store: &mut Store, acted: &Acted) -> String {
    let ReplyFate::Queued(id) = acted.reply else {
        panic!("no reply queued: {acted:?}");
    };
    let tx = store.read().unwrap();
    tx.outbox().get(id).unwrap().unwrap().text
}

fn taken_by(store: &mut Store, code: &str) -> Option<String> {
    let tx = store.read().unwrap();
    match tx.shifts().get(code).unwrap().unwrap().status {
        ShiftStatus::Available => None,
        ShiftStatus::Taken { by, .. } => by.map(|p| p.to_string()),
    }
}

#[test]
fn shift_codes_book_what_is_free_and_name_the_rest() {
    let mut store = site();
    let rules = rules(false);
    // Bob already has XYZ222.
    let bob = text_in(&mut store, BOB, "XYZ222", &rules, t0());
    assert_eq!(bob.command, "book");
    // Messy formatting: case, spaces, punctuation, a duplicate, an unknown code.
    let ann = text_in(
        &mut store,
        ANN,
        "  xyz123 ,#xyz222.  xyz123; NOPE99 ",
        &rules,
        t0(),
    );
    assert_eq!(ann.command, "book");
    assert_eq!(
        ann.outcome,
        "booked: XYZ123; taken: XYZ222; unknown: NOPE99"
    );
    assert_eq!(
        reply_text(&mut store, &ann),
        "Request summary - Shift booked (1): XYZ123 | Shift taken (1): XYZ222 | \
         Shift doesn't exist (1): NOPE99"
    );
    assert_eq!(taken_by(&mut store, "XYZ123").as_deref(), Some(ANN));
    assert_eq!(taken_by(&mut store, "XYZ222").as_deref(), Some(BOB));
    assert_eq!(taken_by(&mut store, "ABC777"), None);

    // Sending it again: hers already, nothing changes.
    let again = text_in(&mut store, ANN, "XYZ123", &rules, t0());
    assert_eq!(
        reply_text(&mut store, &again),
        "Request summary - Already yours (1): XYZ123"
    );
    // Only unknown codes: the original solution's text.
    let unknown = text_in(&mut store, ANN, "QQQ111", &rules, t0());
    assert_eq!(
        reply_text(&mut store, &unknown),
        "This is not a valid shift code, please reply by typing REQUEST to view the available shifts"
    );
}

#[test]
fn request_lists_every_available_shift() {
    let mut store = site();
    let rules = rules(false);
    text_in(&mut store, BOB, "XYZ222", &rules, t0());
    let acted = text_in(&mut store, ANN, "request", &rules, t0());
    assert_eq!(acted.command, "request");
    assert_eq!(
        reply_text(&mut store, &acted),
        "These are the shifts available:\nXYZ123 Mon 06:00-14:00 Line 3\nABC777 Wed 22:00-06:00 Dock"
    );
    // Nothing changed.
    assert_eq!(taken_by(&mut store, "XYZ123"), None);
}

#[test]
fn stop_unsubscribes_and_withdraws_queued_offers_then_start_resubscribes() {
    let mut store = site();
    let rules = rules(false);
    let tx = store.transaction().unwrap();
    tx.campaigns().create("c1", "XYZ123 Mon", t0()).unwrap();
    tx.campaigns()
        .start("c1", 7, "offer", &[phone(ANN), phone(BOB)], t0())
        .unwrap();
    tx.commit().unwrap();

    let stop = text_in(&mut store, ANN, "Stop.", &rules, t0());
    assert_eq!(stop.command, "stop");
    assert_eq!(stop.outcome, "unsubscribed; 1 queued offer(s) cancelled");
    assert_eq!(
        reply_text(&mut store, &stop),
        "You will no longer receive shift notifications. Text START to receive them again."
    );
    {
        let tx = store.read().unwrap();
        assert!(!tx.employees().get(&phone(ANN)).unwrap().unwrap().subscribed);
        assert_eq!(tx.employees().subscribed().unwrap(), vec![phone(BOB)]);
        let progress = tx.campaigns().progress("c1").unwrap();
        assert_eq!((progress.pending, progress.not_sent), (1, 1));
    }
    let again = text_in(&mut store, ANN, "STOP", &rules, t0());
    assert_eq!(
        again.outcome,
        "already unsubscribed; 0 queued offer(s) cancelled"
    );

    let start = text_in(&mut store, ANN, "start", &rules, t0());
    assert_eq!(start.command, "start");
    assert_eq!(start.outcome, "subscribed");
    assert_eq!(
        reply_text(&mut store, &start),
        "You will receive shift notifications again. Text STOP to stop them."
    );
    let tx = store.read().unwrap();
    assert!(tx.employees().get(&phone(ANN)).unwrap().unwrap().subscribed);
}

#[test]
fn agent_queues_a_callback_when_agents_are_configured() {
    let mut store = site();
    let acted = text_in(
        &mut store,
        ANN,
        "AGENT my badge does not work",
        &rules(true),
        t0(),
    );
    assert_eq!(acted.command, "agent");
    assert_eq!(
        reply_text(&mut store, &acted),
        "Thank you, an agent will call you back as soon as possible."
    );
    let tx = store.read().unwrap();
    let open = tx.callbacks().open().unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].employee, phone(ANN));
    assert_eq!(open[0].request, "my badge does not work");
    assert_eq!(open[0].state, CallbackState::Queued);
    drop(tx);

    // Without agents: told how to reach someone, nothing queued.
    let mut store = site();
    let acted = text_in(&mut store, ANN, "agent help", &rules(false), t0());
    assert!(reply_text(&mut store, &acted).starts_with("Sorry, agents cannot be reached"));
    let tx = store.read().unwrap();
    assert!(tx.callbacks().open().unwrap().is_empty());
}

#[test]
fn agent_outside_business_hours_says_when_to_expect_the_call() {
    let rules = Rules {
        agent_hours: crate::service::hours::BusinessHours::parse(&["Mon-Fri 08:00-18:00"]).unwrap(),
        time_zone: jiff::tz::TimeZone::fixed(jiff::tz::offset(1)),
        ..rules(true)
    };
    // Saturday 2025-03-08 10:00 at UTC+1: closed until Monday 08:00 local.
    let saturday = "2025-03-08T09:00:00Z".parse().unwrap();
    let mut store = site();
    let acted = text_in(&mut store, ANN, "AGENT pay", &rules, saturday);
    assert_eq!(
        reply_text(&mut store, &acted),
        "Thank you. No agent is available now; one will call you back from Mon 08:00."
    );
    // The callback is queued all the same: the dialler waits for the opening.
    assert_eq!(store.read().unwrap().callbacks().open().unwrap().len(), 1);
    // Within the hours: the usual answer.
    let monday = "2025-03-10T09:00:00Z".parse().unwrap();
    let acted = text_in(&mut store, ANN, "AGENT pay again", &rules, monday);
    assert_eq!(
        reply_text(&mut store, &acted),
        "Thank you, an agent will call you back as soon as possible."
    );
}

#[test]
fn anything_else_is_not_understood_and_help_helps() {
    let mut store = site();
    let rules = rules(false);
    let acted = text_in(&mut store, ANN, "can I have XYZ123 please", &rules, t0());
    assert_eq!(acted.command, "unrecognised");
    assert!(reply_text(&mut store, &acted).starts_with("Sorry, your message was not understood"));
    assert_eq!(taken_by(&mut store, "XYZ123"), None);
    let help = text_in(&mut store, ANN, "help", &rules, t0());
    assert_eq!(help.command, "help");
    assert!(reply_text(&mut store, &help).starts_with("Reply with shift codes"));
}

#[test]
fn unknown_numbers_are_denied_once_a_day_and_book_nothing() {
    let mut store = site();
    let rules = rules(false);
    let first = text_in(&mut store, STRANGER, "XYZ123", &rules, t0());
    assert_eq!(first.command, "denied");
    assert_eq!(
        reply_text(&mut store, &first),
        "NOT-AUTHORISED please contact the administrator"
    );
    assert_eq!(taken_by(&mut store, "XYZ123"), None);
    let later = t0() + SignedDuration::from_hours(23);
    let second = text_in(&mut store, STRANGER, "REQUEST", &rules, later);
    assert!(
        matches!(&second.reply, ReplyFate::Suppressed(why) if why.starts_with("access denied already sent")),
        "{second:?}"
    );
    let next_day = t0() + SignedDuration::from_hours(24);
    let third = text_in(&mut store, STRANGER, "REQUEST", &rules, next_day);
    assert!(matches!(third.reply, ReplyFate::Queued(_)), "{third:?}");
    // A stranger's STOP is never answered.
    let stop = text_in(&mut store, "+447400888888", "STOP", &rules, t0());
    assert!(matches!(stop.reply, ReplyFate::Suppressed(_)), "{stop:?}");
}

#[test]
fn robots_are_never_answered() {
    let mut store = site();
    let rules = rules(false);
    for sender in [
        Sender::Alphanumeric("Vodafone".into()),
        Sender::ShortCode("40404".into()),
        Sender::Unrecognised("0".into()),
    ] {
        let id = receive(&mut store, sender.clone(), "XYZ123", t0());
        let acted = act_on(&mut store, id, &rules, t0());
        assert_eq!(acted.command, "ignored", "{sender:?}");
        assert_eq!(acted.reply, ReplyFate::None, "{sender:?}");
    }
    let tx = store.read().unwrap();
    assert!(
        tx.outbox()
            .list(OutboxFilter::default())
            .unwrap()
            .is_empty()
    );
    assert!(
        tx.shifts()
            .get("XYZ123")
            .unwrap()
            .unwrap()
            .status
            .is_available()
    );
}

#[test]
fn replies_to_one_number_are_limited_but_commands_still_act() {
    let mut store = site();
    let rules = Rules {
        limits: ReplyLimits {
            per_hour: 3,
            per_day: 5,
            ..ReplyLimits::default()
        },
        ..rules(false)
    };
    for _ in 0..3 {
        let acted = text_in(&mut store, ANN, "hello?", &rules, t0());
        assert!(matches!(acted.reply, ReplyFate::Queued(_)));
    }
    let booked = text_in(&mut store, ANN, "XYZ123", &rules, t0());
    assert_eq!(booked.outcome, "booked: XYZ123");
    assert!(
        matches!(&booked.reply, ReplyFate::Suppressed(why) if why.contains("past hour")),
        "{booked:?}"
    );
    assert_eq!(taken_by(&mut store, "XYZ123").as_deref(), Some(ANN));
    let tx = store.read().unwrap();
    let processed = tx.inbox().recent(1).unwrap().remove(0).processed.unwrap();
    assert!(
        processed.outcome.contains("reply suppressed"),
        "{processed:?}"
    );
    // Other numbers are not affected.
    drop(tx);
    let bob = text_in(&mut store, BOB, "REQUEST", &rules, t0());
    assert!(matches!(bob.reply, ReplyFate::Queued(_)));
}

#[test]
fn a_message_is_acted_on_once() {
    let mut store = site();
    let rules = rules(false);
    let id = receive(&mut store, Sender::Phone(phone(ANN)), "XYZ123", t0());
    // A crash before the commit: nothing is kept.
    {
        let tx = store.transaction().unwrap();
        let message = tx.inbox().get(id).unwrap().unwrap();
        act(&tx, &message, &rules, t0()).unwrap();
        drop(tx);
    }
    assert_eq!(taken_by(&mut store, "XYZ123"), None);
    act_on(&mut store, id, &rules, t0());
    // A second run fails and changes nothing.
    let tx = store.transaction().unwrap();
    let message = tx.inbox().get(id).unwrap().unwrap();
    assert!(act(&tx, &message, &rules, t0()).is_err());
    drop(tx);
    let tx = store.read().unwrap();
    let replies = tx
        .outbox()
        .list(OutboxFilter {
            state: Some(OutboxState::Queued),
            ..OutboxFilter::default()
        })
        .unwrap();
    assert_eq!(replies.len(), 1);
    assert!(tx.inbox().unprocessed().unwrap().is_empty());
}
