//! End to end: each row of DESIGN.md's "What an employee can text", through the real
//! `shiftsms run` binary and a virtual modem on a pty, with replies decoded from the PDUs the
//! daemon sent. The tests of this file run in parallel, each with its own modem and database.

mod support;

use std::time::Duration;

use shiftsms::virtual_modem::MessageStatus;
use support::{PATIENCE, Site, SiteOptions};

const ANN: &str = "+447400123456";
const BOB: &str = "+447400654321";
const CAT: &str = "+447400111222";
const DAN: &str = "+447400333444";
const STRANGER: &str = "+447400999888";

const BROADCAST_TAIL: &str = ". To secure a shift reply by typing the codes separated by comma e.g. \
                              XYZ123, XYZ222. Text REQUEST to receive all available shifts or STOP \
                              to stop receiving such notifications.";

fn site(options: SiteOptions) -> Site {
    let site = Site::new(options);
    site.employee(ANN, "Ann");
    site.employee(BOB, "Bob");
    site.employee(CAT, "Cat");
    site.shift("XYZ123", "Mon 06:00-14:00 Line 3");
    site.shift("XYZ222", "Tue 14:00-22:00 Line 1");
    site.shift("ABC777", "Wed 22:00-06:00 Dock");
    site
}

fn booked_by(site: &Site, code: &str) -> String {
    site.query(&format!(
        "SELECT ifnull(employee, 'nobody') FROM shift_status WHERE shift_id = '{code}'"
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shift_codes_are_booked_and_the_reply_names_each_code() {
    let site = site(SiteOptions::default());
    let daemon = site.start().await;
    assert_eq!(
        site.text(BOB, "XYZ222").await,
        "Request summary - Shift booked (1): XYZ222"
    );
    // Messy formatting: case, spaces, punctuation, a duplicate, an unknown code.
    assert_eq!(
        site.text(ANN, "  xyz123 ,#xyz222.  Xyz123; NOPE99 ").await,
        "Request summary - Shift booked (1): XYZ123 | Shift taken (1): XYZ222 | \
         Shift doesn't exist (1): NOPE99"
    );
    assert_eq!(booked_by(&site, "XYZ123"), ANN);
    assert_eq!(booked_by(&site, "XYZ222"), BOB);
    assert_eq!(booked_by(&site, "ABC777"), "nobody");
    assert_eq!(
        site.text(ANN, "QQQ111").await,
        "This is not a valid shift code, please reply by typing REQUEST to view the available shifts"
    );
    // The same person from a national number is the same employee.
    let before = site.sent_to(ANN).len();
    site.vm.deliver_sms("07400123456", "ABC777").unwrap();
    let replies = site.wait_for_texts(ANN, before + 1).await;
    assert_eq!(
        replies[before],
        "Request summary - Shift booked (1): ABC777"
    );
    assert_eq!(booked_by(&site, "ABC777"), ANN);
    assert_eq!(daemon.stop().await.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_employees_racing_for_one_shift() {
    let site = site(SiteOptions::default());
    let daemon = site.start().await;
    // Both texts reach the modem in the same instant.
    site.vm.deliver_sms(ANN, "ABC777").unwrap();
    site.vm.deliver_sms(BOB, "abc777").unwrap();
    let ann = site.wait_for_texts(ANN, 1).await.remove(0);
    let bob = site.wait_for_texts(BOB, 1).await.remove(0);
    let won = "Request summary - Shift booked (1): ABC777";
    let lost = "Request summary - Shift taken (1): ABC777";
    let winner = booked_by(&site, "ABC777");
    match winner.as_str() {
        ANN => assert_eq!((ann.as_str(), bob.as_str()), (won, lost)),
        BOB => assert_eq!((ann.as_str(), bob.as_str()), (lost, won)),
        other => panic!("booked by {other}; replies {ann:?} / {bob:?}"),
    }
    let bookings: i64 =
        site.query("SELECT count(*) FROM shift_status WHERE shift_status = 'taken'");
    assert_eq!(bookings, 1);
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_lists_every_available_shift() {
    let site = site(SiteOptions::default());
    let daemon = site.start().await;
    site.text(BOB, "XYZ222").await;
    assert_eq!(
        site.text(ANN, "request").await,
        "These are the shifts available:\nXYZ123 Mon 06:00-14:00 Line 3\nABC777 Wed 22:00-06:00 Dock"
    );
    // A long list is paged, each page within the configured parts.
    for n in 0..30 {
        site.shift(
            &format!("LONG{n:02}"),
            "Thu 06:00-14:00 Warehouse B, forklift licence required",
        );
    }
    let first = site.text(ANN, "REQUEST").await;
    assert!(first.starts_with("Shifts available (1/"), "{first}");
    assert!(first.ends_with("Text REQUEST 2 for more."), "{first}");
    let second = site.text(ANN, "REQUEST 2").await;
    assert!(second.starts_with("Shifts available (2/"), "{second}");
    let sent = site.sent();
    assert!(sent.iter().all(|s| s.complete && s.parts <= 3), "{sent:#?}");
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_and_start_change_who_hears_of_new_shifts() {
    let site = site(SiteOptions::default());
    let daemon = site.start().await;
    assert_eq!(
        site.text(ANN, "Stop.").await,
        "You will no longer receive shift notifications. Text START to receive them again."
    );
    let subscribed: i64 = site.query(&format!(
        "SELECT subscribed FROM employees WHERE phone = '{ANN}'"
    ));
    assert_eq!(subscribed, 0);
    site.sql("INSERT INTO shift_campaigns (campaign_id, shifts) VALUES ('c1', 'XYZ123 Mon')");
    site.wait_for_texts(BOB, 1).await;
    site.wait_for_texts(CAT, 1).await;
    assert_eq!(
        site.text(ANN, "start").await,
        "You will receive shift notifications again. Text STOP to stop them."
    );
    // Ann got the two replies and no offer.
    assert_eq!(site.sent_to(ANN).len(), 2);
    site.sql("INSERT INTO shift_campaigns (campaign_id, shifts) VALUES ('c2', 'XYZ222 Tue')");
    let ann = site.wait_for_texts(ANN, 3).await;
    assert!(
        ann[2].starts_with("Available shifts: XYZ222 Tue. "),
        "{ann:?}"
    );
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_queues_a_callback() {
    let site = site(SiteOptions {
        agents: vec!["+441234567890".into()],
        ..SiteOptions::default()
    });
    let daemon = site.start().await;
    assert_eq!(
        site.text(ANN, "AGENT my badge does not open gate 4").await,
        "Thank you, an agent will call you back as soon as possible."
    );
    assert_eq!(
        site.rows("SELECT employee, request FROM callbacks"),
        [format!("{ANN}|my badge does not open gate 4")]
    );
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anything_else_is_not_understood_and_books_nothing() {
    let site = site(SiteOptions::default());
    let daemon = site.start().await;
    let reply = site.text(ANN, "can I have XYZ123 please").await;
    assert!(
        reply.starts_with("Sorry, your message was not understood.") && reply.contains("REQUEST"),
        "{reply}"
    );
    assert_eq!(booked_by(&site, "XYZ123"), "nobody");
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_numbers_are_denied_once_and_robots_never_answered() {
    let site = site(SiteOptions::default());
    let daemon = site.start().await;
    assert_eq!(
        site.text(STRANGER, "XYZ123").await,
        "NOT-AUTHORISED please contact the administrator"
    );
    assert_eq!(booked_by(&site, "XYZ123"), "nobody");
    site.vm.deliver_sms(STRANGER, "REQUEST").unwrap();
    site.vm.deliver_sms("Vodafone", "XYZ123").unwrap();
    site.vm.deliver_sms("40404", "REQUEST").unwrap();
    // Followed by an employee's text: once it is answered, the others were acted on too.
    site.text(ANN, "HELP").await;
    let processed: i64 =
        site.query("SELECT count(*) FROM inbound_messages WHERE processed_at IS NOT NULL");
    assert_eq!(processed, 5);
    assert_eq!(site.sent_to(STRANGER).len(), 1);
    assert_eq!(site.sent().len(), 2, "{:#?}", site.sent());
    assert_eq!(booked_by(&site, "XYZ123"), "nobody");
    assert_eq!(
        site.rows("SELECT sender_kind, command FROM inbound_messages ORDER BY id"),
        [
            "phone|denied",
            "phone|denied",
            "alphanumeric|ignored",
            "short_code|ignored",
            "phone|help"
        ]
    );
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_to_one_number_are_rate_limited_and_the_suppression_logged() {
    let site = site(SiteOptions {
        replies_per_hour: 2,
        replies_per_day: 2,
        ..SiteOptions::default()
    });
    let daemon = site.start().await;
    site.text(ANN, "hello").await;
    site.text(ANN, "hello?").await;
    site.vm.deliver_sms(ANN, "XYZ123").unwrap();
    daemon.wait_for_log("reply suppressed", PATIENCE).await;
    // The booking was still made; only the answer was held back.
    assert_eq!(booked_by(&site, "XYZ123"), ANN);
    assert_eq!(site.sent_to(ANN).len(), 2);
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_and_ucs2_texts() {
    let site = site(SiteOptions::default());
    let daemon = site.start().await;
    // The codes are in the second part: a long greeting fills the first.
    let long = format!("{}\nXYZ123, ABC777", " ".repeat(158));
    assert_eq!(
        site.text(ANN, &long).await,
        "Request summary - Shift booked (2): XYZ123, ABC777"
    );
    // UCS-2 on the air (accents, an emoji), split across two parts.
    let french = format!(
        "Stop 😡\n{}",
        "Merci, ça suffit, je suis débordé. ".repeat(3)
    );
    assert!(
        site.text(BOB, &french)
            .await
            .starts_with("You will no longer receive shift notifications.")
    );
    let texts = site.rows("SELECT text FROM inbound_messages ORDER BY id");
    assert_eq!(texts, [long, french]);
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_waiting_on_the_sim_at_startup_are_taken_once_and_deleted() {
    let site = site(SiteOptions::default());
    let mut pdus = site.vm.sms_pdus(ANN, "XYZ123").unwrap();
    pdus.extend(site.vm.sms_pdus(BOB, "REQUEST").unwrap());
    pdus.extend(
        site.vm
            .sms_pdus(CAT, &format!("{} ABC777", "please ".repeat(25)))
            .unwrap(),
    );
    site.vm.preload_stored(&pdus).unwrap();
    assert_eq!(site.vm.stored().len(), 4);

    let daemon = site.start().await;
    site.wait_for_texts(ANN, 1).await;
    site.wait_for_texts(BOB, 1).await;
    site.wait_for_texts(CAT, 1).await;
    site.vm
        .wait_until(PATIENCE, "an empty SIM", |vm| vm.stored().is_empty())
        .await
        .unwrap();
    assert_eq!(booked_by(&site, "XYZ123"), ANN);
    let messages: i64 = site.query("SELECT count(*) FROM inbound_messages");
    assert_eq!(messages, 3);
    // Restarting takes nothing twice.
    daemon.stop().await;
    let daemon = site.start().await;
    site.text(ANN, "HELP").await;
    let messages: i64 = site.query("SELECT count(*) FROM inbound_messages");
    assert_eq!(messages, 4);
    assert_eq!(site.sent().len(), 4);
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undecodable_pdu_is_kept_deleted_and_the_daemon_serves_on() {
    let site = site(SiteOptions::default());
    // A DELIVER cut short inside its sender address.
    site.vm
        .store(
            MessageStatus::ReceivedUnread,
            &[0x00, 0x04, 0x0B, 0x91, 0x44],
        )
        .unwrap();
    let daemon = site.start().await;
    site.vm
        .wait_until(PATIENCE, "an empty SIM", |vm| vm.stored().is_empty())
        .await
        .unwrap();
    let kept = site.rows("SELECT status, error IS NOT NULL FROM inbound_pdus");
    assert_eq!(kept, ["undecodable|1"]);
    // And one arriving while it runs.
    site.vm
        .deliver_pdu(&[0x00, 0x04, 0x0B, 0x91, 0x44, 0x47])
        .unwrap();
    assert_eq!(
        site.text(ANN, "XYZ123").await,
        "Request summary - Shift booked (1): XYZ123"
    );
    let undecodable: i64 =
        site.query("SELECT count(*) FROM inbound_pdus WHERE status = 'undecodable'");
    assert_eq!(undecodable, 2);
    site.vm
        .wait_until(PATIENCE, "an empty SIM", |vm| vm.stored().is_empty())
        .await
        .unwrap();
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_inserted_by_a_person_reaches_each_subscribed_employee_once() {
    let site = site(SiteOptions::default());
    site.employee(DAN, "Dan");
    site.sql(&format!(
        "UPDATE employees SET subscribed = 0 WHERE phone = '{DAN}'"
    ));
    let daemon = site.start().await;
    let shifts = "XYZ123 Mon 06:00-14:00 Line 3, XYZ222 Tue 14:00-22:00 Line 1, \
                  ABC777 Wed 22:00-06:00 Dock";
    // A plain INSERT from another connection, as a scheduler at the sqlite3 prompt.
    site.sql(&format!(
        "INSERT INTO shift_campaigns (campaign_id, shifts) VALUES ('week-12', '{shifts}')"
    ));
    let expected = format!("Available shifts: {shifts}{BROADCAST_TAIL}");
    for who in [ANN, BOB, CAT] {
        assert_eq!(
            site.wait_for_texts(who, 1).await,
            std::slice::from_ref(&expected)
        );
    }
    daemon.wait_for_log("campaign finished", PATIENCE).await;
    // Long: sent as correctly concatenated parts.
    let sent = site.sent();
    assert_eq!(sent.len(), 3, "{sent:#?}");
    assert!(sent.iter().all(|s| s.complete && s.parts == 2));
    assert!(site.sent_to(DAN).is_empty());
    assert!(site.sent_to(STRANGER).is_empty());
    assert_eq!(site.rows("SELECT status FROM shift_campaigns"), ["done"]);
    let positions = site.rows("SELECT position FROM campaign_recipients ORDER BY position");
    assert_eq!(positions, ["1", "2", "3"]);
    // A campaign with no shifts is refused with a reason, and the daemon goes on.
    site.sql("INSERT INTO shift_campaigns (campaign_id, shifts) VALUES ('oops', '')");
    daemon.wait_for_log("campaign not sent", PATIENCE).await;
    assert_eq!(
        site.rows(
            "SELECT status, reason LIKE '%empty%' FROM shift_campaigns WHERE campaign_id = 'oops'"
        ),
        ["invalid|1"]
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(site.sent().len(), 3);
    daemon.stop().await;
}
