//! The modem engine against the virtual modem, on every profile (generic, huawei, simcom,
//! slow, flaky), opened by its /dev/pts path (or a by-id style symlink) exactly as a real
//! /dev/ttyUSB0: init, a URC in the middle of responses, receiving via +CMTI, a long message,
//! +CMS errors, unplug/replug, a wrong PIN that is never retried; and a SIM put in later.
//!
//! Timeouts here only stop a hung test; nothing asserts speed.

use std::path::Path;
use std::time::Duration;

use shiftsms::modem::pdu::{self, Address, Incoming, SubmitOptions};
use shiftsms::modem::{
    self, ModemError, ModemEvent, ModemSettings, ModemState, Pin, SendError, SimLock, Storage,
    SubmitPdu, Urc,
};
use shiftsms::virtual_modem::{Delivery, Profile, SubmitOutcome, VirtualModem, VmOptions};
use tokio::sync::mpsc::UnboundedReceiver;

/// Generous: the slow profile takes up to 0.8 s per answer and 6 s per SMS.
const PATIENCE: Duration = Duration::from_secs(120);
const SENDER: &str = "+447400123456";
const LONG_TEXT: &str = "Available shifts: XYZ123 Mon 06:00-14:00 Line 3, XYZ222 Tue 14:00-22:00 \
    Line 1, ABC777 Wed 22:00-06:00 Dock. To secure a shift reply by typing the codes separated \
    by comma e.g. XYZ123, XYZ222. Text REQUEST to receive all available shifts or STOP to stop \
    receiving such notifications.";

fn settings(port: &Path, pin: Option<&str>) -> ModemSettings {
    ModemSettings {
        reconnect_min: Duration::from_millis(50),
        reconnect_max: Duration::from_millis(300),
        health_every: Duration::from_millis(100),
        // The flaky profile leaves some sends unanswered: do not sit out the real 60 s.
        send_timeout: Duration::from_secs(10),
        ..ModemSettings::new(port, 115_200, pin.map(|p| Pin::new(p).unwrap()))
    }
}

fn vm(profile: Profile) -> VirtualModem {
    VirtualModem::start(VmOptions::with_profile(profile)).unwrap()
}

async fn event(
    events: &mut UnboundedReceiver<ModemEvent>,
    what: &str,
    want: impl Fn(&ModemEvent) -> bool,
) -> ModemEvent {
    tokio::time::timeout(PATIENCE, async {
        loop {
            match events.recv().await {
                Some(e) if want(&e) => return e,
                Some(_) => {}
                None => panic!("event stream ended waiting for {what}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {what} event"))
}

async fn ready(events: &mut UnboundedReceiver<ModemEvent>) -> std::sync::Arc<modem::InitReport> {
    match event(events, "Ready", |e| matches!(e, ModemEvent::Ready(_))).await {
        ModemEvent::Ready(report) => report,
        _ => unreachable!(),
    }
}

fn deliver_pdu(text: &str) -> Vec<u8> {
    let ts = pdu::Timestamp::from_jiff(
        jiff::Timestamp::from_second(1_750_000_000).unwrap(),
        jiff::tz::Offset::UTC,
    );
    let parts = pdu::encode_deliver(&Address::international(SENDER), text, ts, 0).unwrap();
    parts.into_iter().next().unwrap().bytes
}

/// Init, codes in the middle of answers, a message received via +CMTI (read, decoded,
/// deleted), and a long message sent part by part, each part's outcome matching what the
/// modem did with it.
async fn full_cycle(profile: Profile) {
    let name = profile.name.clone();
    let mut profile = profile;
    // Every answer carries a code between its information lines and its final result.
    profile.noise_mid_response_percent = 100;
    if profile.noise_lines.is_empty() {
        profile.noise_lines = vec!["^RSSI:{rssi}".into()];
    }
    let modem_vm = vm(profile);
    let mut m = modem::spawn(settings(&modem_vm.port(), None), std::future::pending());
    let report = ready(&mut m.events).await;
    assert_eq!(
        report.info.manufacturer.as_deref(),
        Some(modem_vm.profile().identity.manufacturer.as_str()),
        "{name}"
    );
    assert!(
        report.info.indications.is_some(),
        "{name}: {:?}",
        report.steps
    );
    assert!(report.info.storage.is_some(), "{name}: {:?}", report.steps);

    // Answers are right despite the code inside them, and the code is an event.
    assert_eq!(m.handle.signal().await.unwrap().rssi, 20, "{name}");
    event(&mut m.events, "vendor noise", |e| {
        matches!(e, ModemEvent::Unsolicited(Urc::Vendor(_)))
    })
    .await;

    // Receive: stored with +CMTI, read, decoded, deleted.
    let delivery = modem_vm
        .deliver_pdu(&deliver_pdu("xyz123, XYZ222"))
        .unwrap();
    let Delivery::Stored { index } = delivery else {
        panic!("{name}: {delivery:?}")
    };
    let e = event(&mut m.events, "+CMTI", |e| {
        matches!(e, ModemEvent::Unsolicited(Urc::MessageStored { .. }))
    })
    .await;
    assert_eq!(
        e,
        ModemEvent::Unsolicited(Urc::MessageStored {
            storage: Storage::Sim,
            index: u32::from(index)
        }),
        "{name}"
    );
    let stored = m
        .handle
        .read_stored(Storage::Sim, u32::from(index))
        .await
        .unwrap()
        .unwrap();
    match stored.decode().unwrap() {
        Incoming::Deliver(d) => {
            assert_eq!(d.text, "xyz123, XYZ222");
            assert_eq!(d.sender, Address::international(SENDER));
        }
        other => panic!("{name}: {other:?}"),
    }
    m.handle
        .delete_stored(Storage::Sim, u32::from(index))
        .await
        .unwrap();
    assert!(m.handle.list_stored().await.unwrap().is_empty(), "{name}");
    assert!(modem_vm.stored().is_empty(), "{name}");

    // Send a long message one part at a time, as the daemon does.
    let parts = pdu::encode_submit(
        &Address::international(SENDER),
        LONG_TEXT,
        &SubmitOptions::default(),
    )
    .unwrap();
    assert!(parts.len() >= 2);
    let mut outcomes = Vec::new();
    for part in parts.clone() {
        let pdu = SubmitPdu::from_pdu(part).unwrap();
        outcomes.push(m.handle.send_pdu(pdu).await);
    }
    let submissions = modem_vm.submissions();
    assert_eq!(
        submissions.len(),
        parts.len(),
        "{name}: one AT+CMGS per part"
    );
    for (ours, theirs) in outcomes.iter().zip(&submissions) {
        match (&theirs.outcome, ours) {
            (SubmitOutcome::Sent { mr }, Ok(got)) => assert_eq!(got.0, *mr, "{name}"),
            (SubmitOutcome::Refused { code, .. }, Err(e)) => {
                assert_eq!(e.cms(), Some(*code), "{name}: {e}");
                assert!(!e.may_have_been_sent(), "{name}");
            }
            (SubmitOutcome::Unanswered { .. }, Err(e)) => {
                assert!(matches!(e, SendError::NoResult(_)), "{name}: {e}");
                assert!(e.may_have_been_sent(), "{name}");
            }
            (theirs, ours) => panic!("{name}: modem {theirs:?}, engine {ours:?}"),
        }
    }
    if name != "flaky" {
        assert!(outcomes.iter().all(Result::is_ok), "{name}: {outcomes:?}");
        let texts: String = modem_vm
            .sent_pdus()
            .iter()
            .map(|s| pdu::decode_submit(&s.pdu).unwrap().text)
            .collect();
        assert_eq!(texts, LONG_TEXT, "{name}");
    }
}

/// A send the modem refuses comes back as a typed +CMS error, and nothing is wedged.
async fn cms_error(profile: Profile) {
    let name = profile.name.clone();
    let mut profile = profile;
    profile.send_failure_percent = 100;
    profile.send_timeout_percent = 0;
    let modem_vm = vm(profile);
    let mut m = modem::spawn(settings(&modem_vm.port(), None), std::future::pending());
    ready(&mut m.events).await;
    let part = pdu::encode_submit(
        &Address::international(SENDER),
        "hi",
        &SubmitOptions::default(),
    )
    .unwrap()
    .remove(0);
    let err = m
        .handle
        .send_pdu(SubmitPdu::from_pdu(part).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.cms(), Some(500), "{name}: {err}");
    assert!(!err.may_have_been_sent(), "{name}");
    assert_eq!(m.handle.signal().await.unwrap().rssi, 20, "{name}");
    assert_eq!(m.handle.state(), ModemState::Ready, "{name}");
}

/// Pulled out and put back at the same by-id path: lost, then ready again with init re-run.
async fn unplug_replug(profile: Profile) {
    let name = profile.name.clone();
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("usb-shiftsms_Virtual_GSM_modem-if00-port0");
    let modem_vm = VirtualModem::start(VmOptions {
        symlink: Some(link.clone()),
        ..VmOptions::with_profile(profile)
    })
    .unwrap();
    let mut m = modem::spawn(settings(&link, None), std::future::pending());
    ready(&mut m.events).await;

    modem_vm.unplug().await;
    event(&mut m.events, "Lost", |e| {
        matches!(e, ModemEvent::Lost { .. })
    })
    .await;
    assert!(
        matches!(m.handle.signal().await, Err(ModemError::Unavailable(_))),
        "{name}: requests fail fast while it is away"
    );

    modem_vm.replug().await.unwrap();
    ready(&mut m.events).await;
    assert_eq!(m.handle.signal().await.unwrap().rssi, 20, "{name}");
    let part = pdu::encode_submit(
        &Address::international(SENDER),
        "back",
        &SubmitOptions::default(),
    )
    .unwrap()
    .remove(0);
    let sent = m.handle.send_pdu(SubmitPdu::from_pdu(part).unwrap()).await;
    if name != "flaky" {
        sent.unwrap();
    }
}

/// A wrong PIN is entered once, init stops, and it is never sent again, not even after the
/// modem is replugged and asks again.
async fn wrong_pin(profile: Profile) {
    let name = profile.name.clone();
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("usb-modem-if00-port0");
    let modem_vm = VirtualModem::start(VmOptions {
        pin: Some("1234".into()),
        symlink: Some(link.clone()),
        ..VmOptions::with_profile(profile)
    })
    .unwrap();
    let mut m = modem::spawn(settings(&link, Some("9999")), std::future::pending());
    let locked = |e: &ModemEvent| {
        matches!(
            e,
            ModemEvent::StateChanged {
                new: ModemState::Locked(SimLock::PinRejected { .. }),
                ..
            }
        )
    };
    event(&mut m.events, "Locked", locked).await;
    assert_eq!(modem_vm.pin_attempts(), 1, "{name}");
    assert!(matches!(
        m.handle.list_stored().await,
        Err(ModemError::Unavailable(ModemState::Locked(_)))
    ));

    modem_vm.unplug().await;
    event(&mut m.events, "Lost", |e| {
        matches!(e, ModemEvent::Lost { .. })
    })
    .await;
    modem_vm.replug().await.unwrap();
    event(&mut m.events, "Locked again", locked).await;
    assert_eq!(
        modem_vm.pin_attempts(),
        1,
        "{name}: the PIN was not retried"
    );
}

/// No SIM in the slot: reported as such, requests refused, init retried with backoff. A SIM
/// put in (modems read the slot at power-up, so the technician restarts it) is picked up by
/// itself.
async fn sim_inserted_later(profile: Profile) {
    let name = profile.name.clone();
    let modem_vm = VirtualModem::start(VmOptions {
        sim_inserted: false,
        ..VmOptions::with_profile(profile)
    })
    .unwrap();
    let mut m = modem::spawn(settings(&modem_vm.port(), None), std::future::pending());
    event(&mut m.events, "Locked (no SIM)", |e| {
        matches!(
            e,
            ModemEvent::StateChanged {
                new: ModemState::Locked(SimLock::NoSim),
                ..
            }
        )
    })
    .await;
    assert!(matches!(
        m.handle.signal().await,
        Err(ModemError::Unavailable(_))
    ));
    modem_vm.set_sim_inserted(true);
    modem_vm.power_cycle();
    let report = ready(&mut m.events).await;
    assert!(report.info.imsi.is_some(), "{name}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_inserted_later_generic() {
    sim_inserted_later(Profile::generic()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sim_inserted_later_simcom() {
    sim_inserted_later(Profile::simcom()).await
}

macro_rules! on_every_profile {
    ($scenario:ident) => {
        mod $scenario {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn generic() {
                super::$scenario(Profile::generic()).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn huawei() {
                super::$scenario(Profile::huawei()).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn simcom() {
                super::$scenario(Profile::simcom()).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn slow() {
                super::$scenario(Profile::slow()).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn flaky() {
                super::$scenario(Profile::flaky()).await
            }
        }
    };
}

on_every_profile!(full_cycle);
on_every_profile!(cms_error);
on_every_profile!(unplug_replug);
on_every_profile!(wrong_pin);
