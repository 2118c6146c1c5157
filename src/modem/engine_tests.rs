//! The engine over a real pseudo-terminal, opened by path, with a scripted modem on the master.
//! Timeouts here only stop a hung test; nothing asserts speed.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::*;
use crate::modem::frame::{ErrorCode, Final};
use crate::modem::sms::RawPdu;
use crate::modem::state::SimLock;
use crate::modem::testing::{Behaviour, FakeModem, Responder, responder};
use crate::modem::voice::CallEnd;

const PATIENCE: Duration = Duration::from_secs(30);
const DELIVER_PDU: &str =
    "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07";

fn settings(port: &Path, pin: Option<&str>) -> ModemSettings {
    ModemSettings {
        reconnect_min: Duration::from_millis(50),
        reconnect_max: Duration::from_millis(200),
        health_every: Duration::from_millis(100),
        ..ModemSettings::new(port, 115_200, pin.map(|p| Pin::new(p).unwrap()))
    }
}

/// Waits for the first event matching `want`, skipping others.
async fn event(
    events: &mut mpsc::UnboundedReceiver<ModemEvent>,
    want: impl Fn(&ModemEvent) -> bool,
) -> ModemEvent {
    tokio::time::timeout(PATIENCE, async {
        loop {
            let e = events.recv().await.expect("event stream ended");
            if want(&e) {
                return e;
            }
        }
    })
    .await
    .expect("event did not come")
}

fn is_ready(e: &ModemEvent) -> bool {
    matches!(e, ModemEvent::Ready(_))
}

fn shared(b: Behaviour) -> Arc<Mutex<Behaviour>> {
    Arc::new(Mutex::new(b))
}

/// A by-id style symlink in a temp dir, so the modem can be "replugged" at the same path.
struct Link {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Link {
    fn to(target: &Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("usb-ACME_Modem-if00-port0");
        std::os::unix::fs::symlink(target, &path).unwrap();
        Link { _dir: dir, path }
    }

    fn repoint(&self, target: &Path) {
        std::fs::remove_file(&self.path).unwrap();
        std::os::unix::fs::symlink(target, &self.path).unwrap();
    }
}

#[tokio::test]
async fn init_then_sms_operations() {
    let b = shared(Behaviour {
        stored: vec![(1, DELIVER_PDU.into()), (2, "ZZ".into())],
        ..Behaviour::default()
    });
    let fake = FakeModem::start(responder(Arc::clone(&b))).unwrap();
    let mut m = spawn(settings(fake.path(), None), std::future::pending());
    let ready = event(&mut m.events, is_ready).await;
    let ModemEvent::Ready(report) = ready else {
        unreachable!()
    };
    assert_eq!(report.info.model.as_deref(), Some("TEST-1"));
    assert_eq!(m.handle.state(), ModemState::Ready);

    let listed = m.handle.list_stored().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].pdu.bytes().map(<[u8]>::len), Some(38));
    // A corrupt entry still comes back with its index, so it can be kept and deleted; the
    // line that was no PDU is not paired with it but reported as an unsolicited line.
    assert_eq!(listed[1].index, 2);
    assert!(matches!(listed[1].pdu, RawPdu::BadHex(_)));
    assert!(listed[1].decode().is_err());
    event(&mut m.events, |e| {
        *e == ModemEvent::Unsolicited(Urc::Unknown("ZZ".into()))
    })
    .await;
    m.handle.delete_stored(Storage::Sim, 2).await.unwrap();

    let one = m
        .handle
        .read_stored(Storage::Sim, 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one.index, 1);
    assert_eq!(one.tpdu_len, 30);
    assert_eq!(m.handle.read_stored(Storage::Sim, 9).await.unwrap(), None);

    let pdu = SubmitPdu::from_hex("00010005810180F60000", 9).unwrap();
    assert_eq!(
        m.handle.send_pdu(pdu.clone()).await,
        Ok(MessageReference(1))
    );
    assert_eq!(m.handle.send_pdu(pdu).await, Ok(MessageReference(2)));
    assert_eq!(m.handle.signal().await.unwrap().dbm(), Some(-73));
    assert!(
        m.handle
            .registration()
            .await
            .unwrap()
            .status
            .is_registered()
    );
    assert_eq!(
        m.handle.storage_status().await.unwrap().read.1.used,
        1,
        "one message left after the delete"
    );
    assert!(fake.received().iter().any(|l| l == "AT+CMGD=2"));
}

#[tokio::test]
async fn unsolicited_codes_become_events_even_inside_a_response() {
    let b = shared(Behaviour::default());
    let inner = responder(Arc::clone(&b));
    let inner = Arc::new(Mutex::new(inner));
    let r: Responder = Box::new(move |line| {
        if line == "AT+CSQ" {
            b"\r\n+CSQ: 20,99\r\n\r\n+CMTI: \"SM\",7\r\n\r\nOK\r\n".to_vec()
        } else {
            (inner.lock().unwrap())(line)
        }
    });
    let fake = FakeModem::start(r).unwrap();
    let mut m = spawn(settings(fake.path(), None), std::future::pending());
    event(&mut m.events, is_ready).await;

    assert_eq!(m.handle.signal().await.unwrap().rssi, 20);
    let e = event(&mut m.events, |e| {
        matches!(e, ModemEvent::Unsolicited(Urc::MessageStored { .. }))
    })
    .await;
    assert_eq!(
        e,
        ModemEvent::Unsolicited(Urc::MessageStored {
            storage: Storage::Sim,
            index: 7
        })
    );

    fake.send(format!("\r\n+CMT: ,30\r\n{DELIVER_PDU}\r\n").as_bytes());
    let e = event(&mut m.events, |e| {
        matches!(e, ModemEvent::Unsolicited(Urc::MessageDelivered { .. }))
    })
    .await;
    assert!(matches!(
        e,
        ModemEvent::Unsolicited(Urc::MessageDelivered { tpdu_len: 30, .. })
    ));

    fake.send(b"\r\nRING\r\n\r\n+CLIP: \"+447400123456\",145,\"\",,\"\",0\r\n");
    event(&mut m.events, |e| *e == ModemEvent::Unsolicited(Urc::Ring)).await;
    let e = event(&mut m.events, |e| {
        matches!(e, ModemEvent::Unsolicited(Urc::CallerId(_)))
    })
    .await;
    let ModemEvent::Unsolicited(Urc::CallerId(caller)) = e else {
        unreachable!()
    };
    assert_eq!(caller.number.as_deref(), Some("+447400123456"));

    fake.send(b"\r\n^RSSI:18\r\n\r\n+CREG: 5\r\n");
    let e = event(&mut m.events, |e| matches!(e, ModemEvent::Unsolicited(_))).await;
    assert_eq!(e, ModemEvent::Unsolicited(Urc::Vendor("^RSSI:18".into())));
    event(&mut m.events, |e| {
        matches!(e, ModemEvent::Unsolicited(Urc::Registration(_)))
    })
    .await;
}

#[tokio::test]
async fn send_sms_sends_every_part_and_reads_decode() {
    let b = shared(Behaviour {
        stored: vec![(4, DELIVER_PDU.into())],
        ..Behaviour::default()
    });
    let fake = FakeModem::start(responder(Arc::clone(&b))).unwrap();
    let mut m = spawn(settings(fake.path(), None), std::future::pending());
    event(&mut m.events, is_ready).await;
    let to = crate::modem::pdu::Address::international("+447400123456");
    let text = "Available shifts: XYZ123 Mon 06:00-14:00 Line 3, XYZ222 Tue 14:00-22:00 Line 1. \
                To secure a shift reply by typing the codes separated by comma e.g. XYZ123, XYZ222.";
    let opts = crate::modem::pdu::SubmitOptions::default();
    let refs = m.handle.send_sms(&to, text, &opts).await.unwrap();
    assert_eq!(refs, vec![MessageReference(1), MessageReference(2)]);
    let pdus: Vec<String> = fake
        .received()
        .into_iter()
        .filter(|l| l.starts_with("AT+CMGS="))
        .collect();
    assert_eq!(pdus.len(), 2, "one AT+CMGS per part");

    let stored = m
        .handle
        .read_stored(Storage::Sim, 4)
        .await
        .unwrap()
        .unwrap();
    match stored.decode().unwrap() {
        crate::modem::pdu::Incoming::Deliver(d) => assert_eq!(d.text, "How are you?"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn cms_error_is_typed_and_not_sent() {
    let b = shared(Behaviour {
        send_error: Some("+CMS ERROR: 330"),
        ..Behaviour::default()
    });
    let fake = FakeModem::start(responder(b)).unwrap();
    let mut m = spawn(settings(fake.path(), None), std::future::pending());
    event(&mut m.events, is_ready).await;
    let pdu = SubmitPdu::from_hex("00010005810180F60000", 9).unwrap();
    let err = m.handle.send_pdu(pdu.clone()).await.unwrap_err();
    assert_eq!(
        err,
        SendError::Rejected {
            result: Final::Cms(ErrorCode::Code(330))
        }
    );
    assert_eq!(err.cms(), Some(330));
    assert!(!err.may_have_been_sent());
    // The next part goes through: one refusal does not wedge anything.
    assert_eq!(m.handle.send_pdu(pdu).await, Ok(MessageReference(1)));
}

#[tokio::test]
async fn voice_calls() {
    let b = shared(Behaviour::default());
    let fake = FakeModem::start(responder(b)).unwrap();
    let mut m = spawn(settings(fake.path(), None), std::future::pending());
    event(&mut m.events, is_ready).await;
    let number = DialNumber::new("+447400123456").unwrap();
    assert_eq!(m.handle.dial(number).await, Ok(DialOutcome::Dialling));
    assert_eq!(m.handle.calls().await, Ok(vec![]));
    assert!(m.handle.hold_options().await.unwrap().conference);
    m.handle.hold(HoldAction::Release(1)).await.unwrap();
    m.handle.hang_up().await.unwrap();
    fake.send(b"\r\nNO CARRIER\r\n");
    let e = event(&mut m.events, |e| {
        matches!(e, ModemEvent::Unsolicited(Urc::CallEnded(_)))
    })
    .await;
    assert_eq!(
        e,
        ModemEvent::Unsolicited(Urc::CallEnded(CallEnd::NoCarrier))
    );
    let sent = fake.received();
    assert!(sent.iter().any(|l| l == "ATD+447400123456;"), "{sent:?}");
    assert!(sent.iter().any(|l| l == "AT+CHLD=11"));
    assert!(sent.iter().any(|l| l == "AT+CHUP"));
}

#[tokio::test]
async fn unplug_and_replug_recovers() {
    let b = shared(Behaviour::default());
    let fake = FakeModem::start(responder(Arc::clone(&b))).unwrap();
    let link = Link::to(fake.path());
    let mut m = spawn(settings(&link.path, None), std::future::pending());
    event(&mut m.events, is_ready).await;

    fake.unplug();
    let lost = event(&mut m.events, |e| matches!(e, ModemEvent::Lost { .. })).await;
    let ModemEvent::Lost { reason } = lost else {
        unreachable!()
    };
    assert!(!reason.is_empty());
    // While it is away, requests fail at once instead of hanging.
    let err = m.handle.signal().await.unwrap_err();
    assert!(matches!(err, ModemError::Unavailable(_)), "{err}");

    let fake = FakeModem::start(responder(b)).unwrap();
    link.repoint(fake.path());
    event(&mut m.events, is_ready).await;
    assert_eq!(m.handle.signal().await.unwrap().rssi, 20);
    // The init sequence ran again on the new port.
    assert!(fake.received().iter().any(|l| l == "AT+CNMI=2,1,0,1,0"));
}

#[tokio::test]
async fn modem_restart_reruns_init() {
    let b = shared(Behaviour::default());
    let fake = FakeModem::start(responder(b)).unwrap();
    let mut m = spawn(settings(fake.path(), None), std::future::pending());
    event(&mut m.events, is_ready).await;
    let before = fake.received().iter().filter(|l| *l == "ATE0").count();
    fake.send(b"\r\nRDY\r\n");
    event(&mut m.events, is_ready).await;
    let after = fake.received().iter().filter(|l| *l == "ATE0").count();
    assert_eq!(after, before + 1);
}

#[tokio::test]
async fn wrong_pin_locks_without_retry_even_after_replug() {
    let pin_tries = |fake: &FakeModem| {
        fake.received()
            .iter()
            .filter(|l| l.starts_with("AT+CPIN="))
            .count()
    };
    let behaviour = || {
        shared(Behaviour {
            pin: Some("1234"),
            ..Behaviour::default()
        })
    };
    let fake = FakeModem::start(responder(behaviour())).unwrap();
    let link = Link::to(fake.path());
    let mut m = spawn(settings(&link.path, Some("9999")), std::future::pending());
    let e = event(&mut m.events, |e| {
        matches!(
            e,
            ModemEvent::StateChanged {
                new: ModemState::Locked(_),
                ..
            }
        )
    })
    .await;
    assert!(matches!(
        e,
        ModemEvent::StateChanged {
            new: ModemState::Locked(SimLock::PinRejected { .. }),
            ..
        }
    ));
    assert_eq!(pin_tries(&fake), 1);
    let pdu = SubmitPdu::from_hex("00010005810180F60000", 9).unwrap();
    assert!(matches!(
        m.handle.send_pdu(pdu).await,
        Err(SendError::Unavailable(_))
    ));

    fake.unplug();
    event(&mut m.events, |e| matches!(e, ModemEvent::Lost { .. })).await;
    let fake = FakeModem::start(responder(behaviour())).unwrap();
    link.repoint(fake.path());
    event(&mut m.events, |e| {
        matches!(
            e,
            ModemEvent::StateChanged {
                new: ModemState::Locked(_),
                ..
            }
        )
    })
    .await;
    assert!(fake.received().iter().any(|l| l == "AT+CPIN?"));
    assert_eq!(pin_tries(&fake), 0, "the rejected PIN is never sent again");
}

#[tokio::test]
async fn missing_port_is_reported_and_requests_fail_fast() {
    let mut m = spawn(
        settings(Path::new("/dev/serial/by-id/not-plugged-in"), None),
        std::future::pending(),
    );
    let e = event(&mut m.events, |e| matches!(e, ModemEvent::Lost { .. })).await;
    let ModemEvent::Lost { reason } = e else {
        unreachable!()
    };
    assert!(reason.contains("not-plugged-in"), "{reason}");
    assert!(matches!(
        m.handle.list_stored().await,
        Err(ModemError::Unavailable(ModemState::Gone(_)))
    ));
}

#[tokio::test]
async fn shutdown_waits_for_a_send_in_flight() {
    let b = shared(Behaviour::default());
    let inner = Arc::new(Mutex::new(responder(b)));
    let (pdu_seen_tx, pdu_seen_rx) = std::sync::mpsc::channel::<()>();
    let pdu_seen_tx = Mutex::new(pdu_seen_tx);
    let r: Responder = Box::new(move |line| {
        if line == "00010005810180F60000" {
            // The PDU is on the line: shutdown is requested now, and the answer comes late.
            let _ = pdu_seen_tx.lock().unwrap().send(());
            std::thread::sleep(Duration::from_millis(300));
        }
        (inner.lock().unwrap())(line)
    });
    let fake = FakeModem::start(r).unwrap();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let mut m = spawn(settings(fake.path(), None), async move {
        let _ = stop_rx.await;
    });
    event(&mut m.events, is_ready).await;
    let handle = m.handle.clone();
    let send = tokio::spawn(async move {
        let pdu = SubmitPdu::from_hex("00010005810180F60000", 9).unwrap();
        handle.send_pdu(pdu).await
    });
    tokio::task::spawn_blocking(move || pdu_seen_rx.recv_timeout(PATIENCE).unwrap())
        .await
        .unwrap();
    stop_tx.send(()).unwrap();
    let sent = tokio::time::timeout(PATIENCE, send).await.unwrap().unwrap();
    assert_eq!(sent, Ok(MessageReference(1)));
    tokio::time::timeout(PATIENCE, m.task)
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(m.handle.signal().await, Err(ModemError::Stopped)));
}

#[tokio::test]
async fn modem_that_hangs_while_idle_is_reopened() {
    let b = shared(Behaviour::default());
    let hung = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let inner = Arc::new(Mutex::new(responder(b)));
    let r: Responder = {
        let hung = Arc::clone(&hung);
        Box::new(move |line| {
            if hung.load(std::sync::atomic::Ordering::SeqCst) {
                Vec::new()
            } else {
                (inner.lock().unwrap())(line)
            }
        })
    };
    let fake = FakeModem::start(r).unwrap();
    let mut s = settings(fake.path(), None);
    s.keepalive_every = Duration::from_millis(200);
    s.max_timeouts = 1;
    let mut m = spawn(s, std::future::pending());
    event(&mut m.events, is_ready).await;
    hung.store(true, std::sync::atomic::Ordering::SeqCst);
    let lost = event(&mut m.events, |e| matches!(e, ModemEvent::Lost { .. })).await;
    let ModemEvent::Lost { reason } = lost else {
        unreachable!()
    };
    assert!(reason.contains("no answer"), "{reason}");
    // It answers again (as after a power cycle): reopened and initialised.
    hung.store(false, std::sync::atomic::Ordering::SeqCst);
    event(&mut m.events, is_ready).await;
}

#[tokio::test]
async fn failed_init_is_retried() {
    let b = shared(Behaviour {
        refuse: vec!["AT+CMGF=0"],
        ..Behaviour::default()
    });
    let fake = FakeModem::start(responder(Arc::clone(&b))).unwrap();
    let mut m = spawn(settings(fake.path(), None), std::future::pending());
    let e = event(&mut m.events, |e| {
        matches!(
            e,
            ModemEvent::StateChanged {
                new: ModemState::Failed(_),
                ..
            }
        )
    })
    .await;
    let ModemEvent::StateChanged { new, .. } = e else {
        unreachable!()
    };
    assert!(new.to_string().contains("PDU mode"), "{new}");
    assert!(matches!(
        m.handle.signal().await,
        Err(ModemError::Unavailable(ModemState::Failed(_)))
    ));
    // The modem changes its mind (firmware finished loading): the retry succeeds.
    b.lock().unwrap().refuse.clear();
    event(&mut m.events, is_ready).await;
    assert_eq!(m.handle.state(), ModemState::Ready);
}
