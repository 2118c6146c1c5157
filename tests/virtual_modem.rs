//! The virtual modem seen from the DTE side: the test opens `/dev/pts/N` like a daemon opens
//! `/dev/ttyUSB0` and checks the modem's answers byte for byte.

use std::path::Path;
use std::time::{Duration, Instant};

use shiftsms::virtual_modem::{
    CallEventKind, CallScript, CallState, Delivery, Profile, RegStatus, SimLock, SubmitOutcome,
    VirtualModem, VmOptions,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_serial::SerialPortBuilderExt;

/// Generous: only there so a broken modem fails the test instead of hanging it.
const PATIENCE: Duration = Duration::from_secs(10);

/// A DTE on the modem's port, as the daemon would open it (tokio-serial, exclusive).
struct Dte {
    port: tokio_serial::SerialStream,
}

impl Dte {
    fn open(path: &Path) -> Dte {
        let port = tokio_serial::new(path.to_string_lossy(), 115_200)
            .open_native_async()
            .unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
        Dte { port }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.port.write_all(bytes).await.expect("write to modem");
    }

    /// Reads exactly `expected.len()` bytes and compares them.
    async fn expect(&mut self, expected: &[u8]) {
        let mut got = vec![0u8; expected.len()];
        let mut filled = 0;
        while filled < got.len() {
            match tokio::time::timeout(PATIENCE, self.port.read(&mut got[filled..])).await {
                Ok(Ok(0)) => panic!("EOF after {:?}", String::from_utf8_lossy(&got[..filled])),
                Ok(Ok(n)) => filled += n,
                Ok(Err(e)) => panic!(
                    "read error {e} after {:?}",
                    String::from_utf8_lossy(&got[..filled])
                ),
                Err(_) => panic!(
                    "timed out; expected {:?}, got {:?}",
                    String::from_utf8_lossy(expected),
                    String::from_utf8_lossy(&got[..filled])
                ),
            }
        }
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(expected),
            "modem output differs"
        );
    }

    /// Sends a command and expects exactly `answer` back (echo included, if on).
    async fn exchange(&mut self, command: &str, answer: &str) {
        self.send(command.as_bytes()).await;
        self.expect(answer.as_bytes()).await;
    }

    /// Reads until `end` has been seen; returns everything read.
    async fn read_until(&mut self, end: &str) -> String {
        let mut got = Vec::new();
        let mut byte = [0u8; 1];
        while !got.ends_with(end.as_bytes()) {
            match tokio::time::timeout(PATIENCE, self.port.read(&mut byte)).await {
                Ok(Ok(1)) => got.push(byte[0]),
                other => panic!(
                    "waiting for {end:?}: {other:?} after {:?}",
                    String::from_utf8_lossy(&got)
                ),
            }
        }
        String::from_utf8_lossy(&got).into_owned()
    }

    /// Nothing arrives within `quiet` (a check that no output is pending, not a speed check).
    async fn expect_silence(&mut self, quiet: Duration) {
        let mut byte = [0u8; 64];
        if let Ok(Ok(n)) = tokio::time::timeout(quiet, self.port.read(&mut byte)).await {
            panic!(
                "unexpected output: {:?}",
                String::from_utf8_lossy(&byte[..n])
            );
        }
    }
}

fn start(options: VmOptions) -> VirtualModem {
    VirtualModem::start(options).expect("start virtual modem")
}

/// An SMS-DELIVER from +447400123456 saying "hello" (SMSC +447785016005).
const DELIVER_HELLO: &str = "07914477580610F5040C9144470021436500002101013212350005E8329BFD06";
/// An SMS-DELIVER from +447400123456 saying "hellohello".
const DELIVER_HELLOHELLO: &str =
    "07914477580610F5040C914447002143650000210101321235000AE8329BFD4697D9EC37";
/// An SMS-SUBMIT to +447400123456 saying "hellohello"; TPDU length 23.
const SUBMIT: &str = "0011000C914447002143650000AA0AE8329BFD4697D9EC37";

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

/// A paced line (`Profile::line_rate`) carries the same bytes, never faster than the wire:
/// 10 bits a byte each way. (Only a lower bound is checked: a busy machine is slower.)
#[tokio::test]
async fn a_paced_line_is_never_faster_than_its_baud_rate() {
    let rate = 2_400;
    let vm = start(VmOptions::with_profile(Profile {
        line_rate: Some(rate),
        ..Profile::generic()
    }));
    let mut dte = Dte::open(&vm.path());
    let started = Instant::now();
    let command = "AT+CGMI;+CGMM;+CGMI;+CGMM\r";
    let answer = "AT+CGMI;+CGMM;+CGMI;+CGMM\r\r\nshiftsms\r\n\r\nVirtual GSM modem\r\n\r\nshiftsms\r\n\r\nVirtual GSM modem\r\n\r\nOK\r\n";
    dte.exchange(command, answer).await;
    // The echo overlaps the command (full duplex), but the answer after the echo can only
    // start once the whole command is in: command, then the rest of the answer.
    let bytes = command.len() + (answer.len() - command.len());
    let wire = Duration::from_secs_f64(bytes as f64 * 10.0 / f64::from(rate));
    let took = started.elapsed();
    assert!(took >= wire, "{took:?} for {wire:?} of line time");
    dte.expect_silence(Duration::from_millis(100)).await;
    let counted = vm.line_bytes();
    assert_eq!(counted.to_modem, command.len() as u64);
    assert_eq!(counted.from_modem, answer.len() as u64);
}

#[tokio::test]
async fn echo_is_on_after_power_up_and_follows_ate() {
    let vm = start(VmOptions::default());
    let mut dte = Dte::open(&vm.path());
    dte.exchange("AT\r", "AT\r\r\nOK\r\n").await;
    dte.exchange("at\r", "at\r\r\nOK\r\n").await;
    // A line feed after the carriage return is tolerated (and ignored).
    dte.exchange("AT\r\n", "AT\r\r\nOK\r\n").await;
    dte.exchange("ATE0\r", "ATE0\r\r\nOK\r\n").await;
    dte.exchange("AT\r", "\r\nOK\r\n").await;
    dte.exchange(
        "AT+CGMI;+CGMM\r",
        "\r\nshiftsms\r\n\r\nVirtual GSM modem\r\n\r\nOK\r\n",
    )
    .await;
    dte.exchange("ATE1\r", "\r\nOK\r\n").await;
    // Signal is reported once registered (99 = unknown before).
    vm.wait_until(PATIENCE, "registration", |vm| {
        vm.registration() == RegStatus::Home
    })
    .await
    .expect("registered");
    dte.exchange("AT+CSQ\r", "AT+CSQ\r\r\n+CSQ: 20,99\r\n\r\nOK\r\n")
        .await;
    // A/ repeats the last command line without a carriage return.
    dte.exchange("A/", "A/\r\n+CSQ: 20,99\r\n\r\nOK\r\n").await;
    dte.expect_silence(Duration::from_millis(100)).await;
}

#[tokio::test]
async fn unknown_commands_and_bad_syntax_answer_error() {
    let vm = start(VmOptions::default());
    let mut dte = Dte::open(&vm.path());
    dte.exchange("ATE0\r", "ATE0\r\r\nOK\r\n").await;
    dte.exchange("AT+FOO\r", "\r\nERROR\r\n").await;
    dte.exchange("AT+CMEE=1\r", "\r\nOK\r\n").await;
    dte.exchange("AT+FOO\r", "\r\nERROR\r\n").await;
    dte.exchange("AT+CPIN=\"12\r", "\r\nERROR\r\n").await;
    dte.exchange("ATE7\r", "\r\nERROR\r\n").await;

    let huawei = start(VmOptions::with_profile(Profile {
        noise_every: None,
        noise_mid_response_percent: 0,
        ..Profile::huawei()
    }));
    let mut dte = Dte::open(&huawei.path());
    dte.exchange("AT+FOO\r", "AT+FOO\r\r\nCOMMAND NOT SUPPORT\r\n")
        .await;
}

#[tokio::test]
async fn cmee_chooses_the_error_format() {
    let vm = start(VmOptions {
        pin: Some("1234".into()),
        ..VmOptions::default()
    });
    let mut dte = Dte::open(&vm.path());
    dte.exchange("ATE0\r", "ATE0\r\r\nOK\r\n").await;
    dte.exchange("AT+CIMI\r", "\r\nERROR\r\n").await;
    dte.exchange("AT+CMEE=1\r", "\r\nOK\r\n").await;
    dte.exchange("AT+CIMI\r", "\r\n+CME ERROR: 11\r\n").await;
    dte.exchange("AT+CMGL=4\r", "\r\n+CMS ERROR: 311\r\n").await;
    dte.exchange("AT+CMEE=2\r", "\r\nOK\r\n").await;
    dte.exchange("AT+CIMI\r", "\r\n+CME ERROR: SIM PIN required\r\n")
        .await;
    dte.exchange("AT+CMGL=4\r", "\r\n+CMS ERROR: SIM PIN required\r\n")
        .await;
    dte.exchange("AT+CMEE?\r", "\r\n+CMEE: 2\r\n\r\nOK\r\n")
        .await;
    dte.exchange("AT+CMEE=3\r", "\r\n+CME ERROR: incorrect parameters\r\n")
        .await;
    // TS 27.005: SMS errors stay +CMS ERROR even with +CMEE=0 on a by-the-book modem.
    dte.exchange("AT+CMEE=0\r", "\r\nOK\r\n").await;
    dte.exchange("AT+CMGL=4\r", "\r\n+CMS ERROR: 311\r\n").await;

    // No SIM in the slot.
    let empty = start(VmOptions {
        sim_inserted: false,
        ..VmOptions::default()
    });
    let mut dte = Dte::open(&empty.path());
    dte.exchange("ATE0\r", "ATE0\r\r\nOK\r\n").await;
    dte.exchange("AT+CPIN?\r", "\r\nERROR\r\n").await;
    dte.exchange("AT+CMEE=1\r", "\r\nOK\r\n").await;
    dte.exchange("AT+CPIN?\r", "\r\n+CME ERROR: 10\r\n").await;
    dte.exchange("AT+CMEE=2\r", "\r\nOK\r\n").await;
    dte.exchange("AT+CPIN?\r", "\r\n+CME ERROR: SIM not inserted\r\n")
        .await;
    dte.exchange("AT+CMGL=4\r", "\r\n+CMS ERROR: SIM not inserted\r\n")
        .await;
    assert_eq!(empty.sim_state(), SimLock::NotInserted);
}

#[tokio::test]
async fn pin_flow_counts_attempts_and_locks_after_three_wrong() {
    let vm = start(VmOptions {
        pin: Some("1234".into()),
        ..VmOptions::default()
    });
    let mut dte = Dte::open(&vm.path());
    dte.exchange("ATE0;+CMEE=1\r", "ATE0;+CMEE=1\r\r\nOK\r\n")
        .await;
    dte.exchange("AT+CPIN?\r", "\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n")
        .await;
    dte.exchange(
        "AT+CPINR=\"SIM PIN\"\r",
        "\r\n+CPINR: SIM PIN,3,3\r\n\r\nOK\r\n",
    )
    .await;
    dte.exchange("AT+CPIN=\"0000\"\r", "\r\n+CME ERROR: 16\r\n")
        .await;
    assert_eq!((vm.pin_attempts(), vm.pin_tries_left()), (1, 2));
    dte.exchange("AT+CPIN=\"1234\"\r", "\r\nOK\r\n").await;
    assert_eq!((vm.pin_attempts(), vm.pin_tries_left()), (2, 3));
    dte.exchange("AT+CPIN?\r", "\r\n+CPIN: READY\r\n\r\nOK\r\n")
        .await;
    dte.exchange("AT+CIMI\r", "\r\n234150000000001\r\n\r\nOK\r\n")
        .await;
    // Entering a PIN the SIM does not ask for is refused and costs nothing.
    dte.exchange("AT+CPIN=\"1234\"\r", "\r\n+CME ERROR: 3\r\n")
        .await;
    assert_eq!(vm.pin_attempts(), 2);

    // After a power cycle the PIN is asked again; three wrong ones lock the SIM.
    vm.power_cycle();
    dte.exchange("AT+CMEE=1\r", "AT+CMEE=1\r\r\nOK\r\n").await;
    for _ in 0..3 {
        dte.exchange("AT+CPIN=9999\r", "AT+CPIN=9999\r\r\n+CME ERROR: 16\r\n")
            .await;
    }
    assert_eq!(vm.sim_state(), SimLock::PukRequired);
    assert_eq!(vm.pin_attempts(), 5);
    dte.exchange("AT+CPIN?\r", "AT+CPIN?\r\r\n+CPIN: SIM PUK\r\n\r\nOK\r\n")
        .await;
    dte.exchange("AT+CIMI\r", "AT+CIMI\r\r\n+CME ERROR: 12\r\n")
        .await;
    dte.exchange(
        "AT+CPIN=\"1234\"\r",
        "AT+CPIN=\"1234\"\r\r\n+CME ERROR: 16\r\n",
    )
    .await;
    dte.exchange(
        "AT+CPINR\r",
        "AT+CPINR\r\r\n+CPINR: SIM PIN,0,3\r\n+CPINR: SIM PUK,9,10\r\n\r\nOK\r\n",
    )
    .await;
    dte.exchange(
        "AT+CPIN=\"12345678\",\"4321\"\r",
        "AT+CPIN=\"12345678\",\"4321\"\r\r\nOK\r\n",
    )
    .await;
    assert_eq!(vm.sim_state(), SimLock::Ready);
}

#[tokio::test]
async fn cmgs_prompts_checks_the_length_and_sends_on_ctrl_z() {
    let vm = start(VmOptions::default());
    let mut dte = Dte::open(&vm.path());
    dte.exchange("ATE0\r", "ATE0\r\r\nOK\r\n").await;
    vm.wait_until(PATIENCE, "registration", |vm| {
        vm.registration() == RegStatus::Home
    })
    .await
    .expect("registered");
    dte.exchange("AT+CMGF=0\r", "\r\nOK\r\n").await;
    dte.exchange("AT+CMGS=23\r", "\r\n> ").await;
    dte.send(format!("{SUBMIT}\x1a").as_bytes()).await;
    let answer = dte.read_until("OK\r\n").await;
    let sent = vm.sent_pdus();
    assert_eq!(sent.len(), 1);
    assert_eq!(answer, format!("\r\n+CMGS: {}\r\n\r\nOK\r\n", sent[0].mr));
    assert_eq!(sent[0].pdu, hex(SUBMIT));
    assert_eq!(sent[0].destination, "+447400123456");
    assert_eq!(sent[0].tpdu().len(), 23);

    // The message reference increments (mod 256).
    dte.exchange("AT+CMGS=23\r", "\r\n> ").await;
    dte.send(format!("{SUBMIT}\x1a").as_bytes()).await;
    let mr = sent[0].mr.wrapping_add(1);
    dte.expect(format!("\r\n+CMGS: {mr}\r\n\r\nOK\r\n").as_bytes())
        .await;

    // A declared length that is not the TPDU's: +CMS ERROR 304, nothing sent.
    dte.exchange("AT+CMGS=24\r", "\r\n> ").await;
    dte.send(format!("{SUBMIT}\x1a").as_bytes()).await;
    dte.expect(b"\r\n+CMS ERROR: 304\r\n").await;
    // A stray line feed after the prompt corrupts the PDU the same way.
    dte.exchange("AT+CMGS=23\r", "\r\n> ").await;
    dte.send(format!("\n{SUBMIT}\x1a").as_bytes()).await;
    dte.expect(b"\r\n+CMS ERROR: 304\r\n").await;
    // ESC cancels.
    dte.exchange("AT+CMGS=23\r", "\r\n> ").await;
    dte.send(format!("{SUBMIT}\x1b").as_bytes()).await;
    dte.expect(b"\r\nOK\r\n").await;
    assert_eq!(vm.sent_pdus().len(), 2);
    let outcomes: Vec<SubmitOutcome> = vm.submissions().into_iter().map(|s| s.outcome).collect();
    assert!(matches!(
        outcomes[2],
        SubmitOutcome::Refused { code: 304, .. }
    ));
    assert!(matches!(
        outcomes[3],
        SubmitOutcome::Refused { code: 304, .. }
    ));
    assert_eq!(outcomes.len(), 4, "ESC is not a submission: {outcomes:?}");

    // With echo on, the PDU and Ctrl-Z are echoed too.
    dte.exchange("ATE1\r", "\r\nOK\r\n").await;
    dte.exchange("AT+CMGS=23\r", "AT+CMGS=23\r\r\n> ").await;
    dte.send(format!("{SUBMIT}\x1a").as_bytes()).await;
    let mr = mr.wrapping_add(1);
    dte.expect(format!("{SUBMIT}\x1a\r\n+CMGS: {mr}\r\n\r\nOK\r\n").as_bytes())
        .await;
    vm.wait_sent(3, PATIENCE).await.expect("three sent");
}

#[tokio::test]
async fn stored_messages_are_listed_read_and_deleted() {
    let vm = start(VmOptions::default());
    let indexes = vm
        .preload_stored(&[hex(DELIVER_HELLO), hex(DELIVER_HELLOHELLO)])
        .expect("preload");
    assert_eq!(indexes, vec![1, 2]);
    let mut dte = Dte::open(&vm.path());
    dte.exchange("ATE0\r", "ATE0\r\r\nOK\r\n").await;
    dte.exchange(
        "AT+CPMS?\r",
        "\r\n+CPMS: \"SM\",2,30,\"SM\",2,30,\"SM\",2,30\r\n\r\nOK\r\n",
    )
    .await;
    dte.exchange(
        "AT+CPMS=\"SM\",\"SM\",\"SM\"\r",
        "\r\n+CPMS: 2,30,2,30,2,30\r\n\r\nOK\r\n",
    )
    .await;
    dte.exchange(
        "AT+CMGL=4\r",
        &format!(
            "\r\n+CMGL: 1,0,,24\r\n{DELIVER_HELLO}\r\n+CMGL: 2,0,,28\r\n{DELIVER_HELLOHELLO}\r\n\r\nOK\r\n"
        ),
    )
    .await;
    // Listing marked them read.
    dte.exchange("AT+CMGL=0\r", "\r\nOK\r\n").await;
    dte.exchange(
        "AT+CMGR=2\r",
        &format!("\r\n+CMGR: 1,,28\r\n{DELIVER_HELLOHELLO}\r\n\r\nOK\r\n"),
    )
    .await;
    dte.exchange("AT+CMGD=1\r", "\r\nOK\r\n").await;
    dte.exchange(
        "AT+CMGL=1\r",
        &format!("\r\n+CMGL: 2,1,,28\r\n{DELIVER_HELLOHELLO}\r\n\r\nOK\r\n"),
    )
    .await;
    dte.exchange("AT+CMEE=1\r", "\r\nOK\r\n").await;
    dte.exchange("AT+CMGR=1\r", "\r\n+CMS ERROR: 321\r\n").await;
    dte.exchange("AT+CMGR=31\r", "\r\n+CMS ERROR: 321\r\n")
        .await;
    dte.exchange("AT+CMGL=\"ALL\"\r", "\r\n+CMS ERROR: 304\r\n")
        .await;
    dte.exchange("AT+CMGD=1,4\r", "\r\nOK\r\n").await;
    assert!(vm.stored().is_empty());

    // Huawei-like: slots from 0; SIMCom-like: an empty slot reads as a bare OK.
    let simcom = start(VmOptions::with_profile(Profile {
        boot_lines: Vec::new(),
        sim_ready_lines: Vec::new(),
        deaf_after_power_up: Duration::ZERO,
        sim_busy_after_power_up: Duration::ZERO,
        ..Profile::simcom()
    }));
    let mut dte = Dte::open(&simcom.path());
    dte.exchange("ATE0\r", "ATE0\r\r\nOK\r\n").await;
    dte.exchange("AT+CMGR=5\r", "\r\nOK\r\n").await;
    let huawei = start(VmOptions::with_profile(Profile {
        noise_every: None,
        noise_mid_response_percent: 0,
        ..Profile::huawei()
    }));
    assert_eq!(
        huawei
            .preload_stored(&[hex(DELIVER_HELLO)])
            .expect("preload"),
        vec![0]
    );
}

#[tokio::test]
async fn new_messages_are_indicated_per_cnmi() {
    let vm = start(VmOptions::default());
    let mut dte = Dte::open(&vm.path());
    dte.exchange("ATE0\r", "ATE0\r\r\nOK\r\n").await;
    vm.wait_until(PATIENCE, "registration", |vm| {
        vm.registration() == RegStatus::Home
    })
    .await
    .expect("registered");
    // Power-up default +CNMI=0,0: stored silently.
    assert_eq!(
        vm.deliver_pdu_hex(DELIVER_HELLO).expect("deliver"),
        Delivery::Stored { index: 1 }
    );
    dte.expect_silence(Duration::from_millis(100)).await;
    dte.exchange("AT+CNMI?\r", "\r\n+CNMI: 0,0,0,0,0\r\n\r\nOK\r\n")
        .await;
    dte.exchange(
        "AT+CNMI=?\r",
        "\r\n+CNMI: (0-3),(0-3),(0,2),(0-2),(0,1)\r\n\r\nOK\r\n",
    )
    .await;
    dte.exchange("AT+CNMI=2,1,0,0,0\r", "\r\nOK\r\n").await;
    assert_eq!(
        vm.deliver_pdu_hex(DELIVER_HELLO).expect("deliver"),
        Delivery::Stored { index: 2 }
    );
    dte.expect(b"\r\n+CMTI: \"SM\",2\r\n").await;
    dte.exchange("AT+CNMI=2,2,0,0,0\r", "\r\nOK\r\n").await;
    assert_eq!(
        vm.deliver_pdu_hex(DELIVER_HELLO).expect("deliver"),
        Delivery::Direct
    );
    dte.expect(format!("\r\n+CMT: ,24\r\n{DELIVER_HELLO}\r\n").as_bytes())
        .await;
    assert_eq!(vm.stored().len(), 2);

    // The flaky profile only knows modes 0 and 1: mode 2 is refused, the DTE falls back.
    let flaky = start(VmOptions::with_profile(Profile::flaky()));
    let mut dte = Dte::open(&flaky.path());
    dte.exchange("ATE0;+CMEE=1\r", "ATE0;+CMEE=1\r\r\nOK\r\n")
        .await;
    dte.exchange("AT+CNMI=2,1,0,0,0\r", "\r\n+CMS ERROR: 303\r\n")
        .await;
    dte.exchange("AT+CNMI=1,1,0,0,0\r", "\r\nOK\r\n").await;
}

#[tokio::test]
async fn a_full_sim_refuses_new_messages_until_one_is_deleted() {
    let vm = start(VmOptions {
        storage_capacity: 2,
        profile: Profile {
            noise_every: None,
            noise_mid_response_percent: 0,
            sim_ready_lines: Vec::new(),
            ..Profile::huawei()
        },
        ..VmOptions::default()
    });
    vm.preload_stored(&[hex(DELIVER_HELLO), hex(DELIVER_HELLO)])
        .expect("preload");
    let mut dte = Dte::open(&vm.path());
    dte.exchange("ATE0;+CNMI=2,1,0,0,0\r", "ATE0;+CNMI=2,1,0,0,0\r\r\nOK\r\n")
        .await;
    vm.wait_until(PATIENCE, "registration", |vm| {
        vm.registration() == RegStatus::Home
    })
    .await
    .expect("registered");
    assert_eq!(
        vm.deliver_pdu_hex(DELIVER_HELLOHELLO).expect("deliver"),
        Delivery::HeldByNetwork { sim_full: true }
    );
    // No +CMTI; Huawei reports the full storage once.
    dte.expect(b"\r\n^SMMEMFULL: \"SM\"\r\n").await;
    vm.deliver_pdu_hex(DELIVER_HELLOHELLO).expect("deliver");
    dte.exchange(
        "AT+CPMS?\r",
        "\r\n+CPMS: \"SM\",2,2,\"SM\",2,2,\"SM\",2,2\r\n\r\nOK\r\n",
    )
    .await;
    assert_eq!(vm.held_by_network(), 2);
    // Freeing a slot lets the network retry: one message arrives, the other still waits.
    dte.exchange("AT+CMGD=0\r", "\r\nOK\r\n").await;
    dte.expect(b"\r\n+CMTI: \"SM\",0\r\n").await;
    // ...which fills the SIM again.
    dte.expect(b"\r\n^SMMEMFULL: \"SM\"\r\n").await;
    assert_eq!(vm.held_by_network(), 1);
    dte.exchange("AT+CMGD=0,4\r", "\r\nOK\r\n").await;
    dte.expect(b"\r\n+CMTI: \"SM\",0\r\n").await;
    assert_eq!(vm.held_by_network(), 0);
    assert_eq!(vm.stored().len(), 1);
}

#[tokio::test]
async fn huawei_noise_arrives_in_the_middle_of_a_response() {
    let vm = start(VmOptions::with_profile(Profile {
        noise_lines: vec!["^RSSI:{rssi}".into()],
        noise_every: None,
        noise_mid_response_percent: 100,
        ..Profile::huawei()
    }));
    vm.set_signal(17);
    let mut dte = Dte::open(&vm.path());
    dte.exchange(
        "AT+CGMI\r",
        "AT+CGMI\r\r\nhuawei\r\n\r\n^RSSI:17\r\n\r\nOK\r\n",
    )
    .await;
    dte.exchange("ATE0\r", "ATE0\r\r\n^RSSI:17\r\n\r\nOK\r\n")
        .await;
    vm.inject_unsolicited("^MODE:5,4");
    dte.expect(b"\r\n^MODE:5,4\r\n").await;

    // With the preset, noise comes by itself every few seconds.
    let noisy = start(VmOptions::with_profile(Profile {
        noise_every: Some(shiftsms::virtual_modem::DelayRange::millis(50, 100)),
        ..Profile::huawei()
    }));
    let mut dte = Dte::open(&noisy.path());
    let noise = dte.read_until("\r\n").await;
    let noise = noise + &dte.read_until("\r\n").await;
    assert!(noise.starts_with("\r\n^"), "{noise:?}");
}

#[tokio::test]
async fn simcom_prints_its_boot_banner_after_a_reset() {
    let vm = start(VmOptions::with_profile(Profile::simcom()));
    let mut dte = Dte::open(&vm.path());
    // Wait for the first boot to finish, as a DTE would.
    vm.wait_until(PATIENCE, "registration", |vm| {
        vm.registration() == RegStatus::Home
    })
    .await
    .expect("registered");
    let _ = dte.read_until("SMS Ready\r\n").await;
    dte.exchange("AT+CNMI?\r", "AT+CNMI?\r\r\n+CNMI: 2,1,0,0,0\r\n\r\nOK\r\n")
        .await;
    dte.exchange("AT+CFUN=1,1\r", "AT+CFUN=1,1\r\r\nOK\r\n")
        .await;
    dte.expect(
        b"\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\nCall Ready\r\n\r\nSMS Ready\r\n",
    )
    .await;
    dte.exchange("AT\r", "AT\r\r\nOK\r\n").await;

    // With a PIN: the banner says so, and the rest follows the PIN.
    let locked = start(VmOptions {
        pin: Some("1234".into()),
        ..VmOptions::with_profile(Profile::simcom())
    });
    let mut dte = Dte::open(&locked.path());
    locked.power_cycle();
    dte.expect(b"\r\nRDY\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: SIM PIN\r\n")
        .await;
    dte.exchange(
        "AT+CPIN=1234\r",
        "AT+CPIN=1234\r\r\n+CPIN: READY\r\n\r\nOK\r\n",
    )
    .await;
    dte.expect(b"\r\nCall Ready\r\n\r\nSMS Ready\r\n").await;
}

#[tokio::test]
async fn simcom_is_deaf_then_sim_busy_right_after_power_up() {
    let vm = start(VmOptions::with_profile(Profile {
        deaf_after_power_up: Duration::from_millis(300),
        sim_busy_after_power_up: Duration::from_secs(60),
        boot_lines: Vec::new(),
        ..Profile::simcom()
    }));
    let mut dte = Dte::open(&vm.path());
    dte.send(b"AT\r").await;
    dte.expect_silence(Duration::from_millis(100)).await;
    vm.wait_until(PATIENCE, "boot", |vm| {
        vm.transcript()
            .iter()
            .any(|l| l.text.contains("ignored while starting up"))
    })
    .await
    .expect("ignored");
    tokio::time::sleep(Duration::from_millis(400)).await;
    dte.exchange("AT+CMEE=1\r", "AT+CMEE=1\r\r\nOK\r\n").await;
    dte.exchange("AT+CPIN?\r", "AT+CPIN?\r\r\n+CME ERROR: 14\r\n")
        .await;
    dte.exchange("AT+CMGL=4\r", "AT+CMGL=4\r\r\n+CMS ERROR: 314\r\n")
        .await;
}

#[tokio::test]
async fn slow_profile_delays_answers_repeatably() {
    let vm = start(VmOptions {
        seed: 7,
        ..VmOptions::with_profile(Profile {
            cmgs_delay: shiftsms::virtual_modem::DelayRange::millis(1_000, 1_500),
            ..Profile::slow()
        })
    });
    let mut dte = Dte::open(&vm.path());
    let began = Instant::now();
    dte.exchange("AT\r", "AT\r\r\nOK\r\n").await;
    // A lower bound only: the answer cannot come before the modem's delay.
    assert!(began.elapsed() >= Duration::from_millis(200));
    vm.wait_until(PATIENCE, "registration", |vm| {
        vm.registration() == RegStatus::Home
    })
    .await
    .expect("registered");
    dte.exchange("ATE0\r", "ATE0\r\r\nOK\r\n").await;
    dte.exchange("AT+CMGS=23\r", "\r\n> ").await;
    let began = Instant::now();
    dte.send(format!("{SUBMIT}\x1a").as_bytes()).await;
    let answer = dte.read_until("OK\r\n").await;
    assert!(answer.starts_with("\r\n+CMGS: "), "{answer:?}");
    assert!(began.elapsed() >= Duration::from_millis(1_000));
}

/// Sends `count` messages through a flaky modem and returns how each attempt ended.
async fn flaky_run(seed: u64, count: usize) -> Vec<String> {
    let vm = start(VmOptions {
        seed,
        ..VmOptions::with_profile(Profile::flaky())
    });
    let mut dte = Dte::open(&vm.path());
    dte.exchange("ATE0;+CMEE=1\r", "ATE0;+CMEE=1\r\r\nOK\r\n")
        .await;
    vm.wait_until(PATIENCE, "registration", |vm| {
        vm.registration() == RegStatus::Home
    })
    .await
    .expect("registered");
    let mut seen = Vec::new();
    for _ in 0..count {
        dte.exchange("AT+CMGS=23\r", "\r\n> ").await;
        dte.send(format!("{SUBMIT}\x1a").as_bytes()).await;
        let before = vm.submissions().len();
        vm.wait_until(PATIENCE, "a submission", |vm| {
            vm.submissions().len() > before
        })
        .await
        .expect("submission");
        match vm.submissions().last().map(|s| s.outcome.clone()) {
            Some(SubmitOutcome::Sent { mr }) => {
                dte.expect(format!("\r\n+CMGS: {mr}\r\n\r\nOK\r\n").as_bytes())
                    .await;
                seen.push("sent".to_string());
            }
            Some(SubmitOutcome::Refused { code, .. }) => {
                dte.expect(format!("\r\n+CMS ERROR: {code}\r\n").as_bytes())
                    .await;
                seen.push(format!("error {code}"));
            }
            Some(SubmitOutcome::Unanswered { .. }) => {
                dte.expect_silence(Duration::from_millis(100)).await;
                seen.push("no answer".into());
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    seen
}

#[tokio::test]
async fn flaky_profile_fails_some_sends_the_same_way_for_the_same_seed() {
    let first = flaky_run(3, 24).await;
    let again = flaky_run(3, 24).await;
    assert_eq!(first, again);
    assert!(first.iter().any(|s| s == "sent"), "{first:?}");
    assert!(first.iter().any(|s| s == "error 500"), "{first:?}");
    assert!(first.iter().any(|s| s == "no answer"), "{first:?}");
}

#[tokio::test]
async fn outgoing_calls_follow_their_script() {
    let vm = start(VmOptions::default());
    vm.script_call("+447400111111", CallScript::busy());
    vm.script_call(
        "+447400222222",
        CallScript::answered_after(Duration::from_millis(600)),
    );
    vm.script_call(
        "+447400333333",
        CallScript::answered_after(Duration::from_millis(300)).refusing_transfer(),
    );
    let mut dte = Dte::open(&vm.path());
    dte.exchange("ATE0;+CMEE=1\r", "ATE0;+CMEE=1\r\r\nOK\r\n")
        .await;
    vm.wait_until(PATIENCE, "registration", |vm| {
        vm.registration() == RegStatus::Home
    })
    .await
    .expect("registered");

    dte.exchange("ATD+447400111111;\r", "\r\nOK\r\n").await;
    dte.expect(b"\r\nBUSY\r\n").await;
    dte.exchange("AT+CLCC\r", "\r\nOK\r\n").await;

    dte.exchange("ATD+447400222222;\r", "\r\nOK\r\n").await;
    dte.exchange(
        "AT+CLCC\r",
        "\r\n+CLCC: 1,0,2,0,0,\"+447400222222\",145\r\n\r\nOK\r\n",
    )
    .await;
    vm.wait_until(PATIENCE, "alerting", |vm| {
        vm.calls().first().map(|c| c.state) == Some(CallState::Alerting)
    })
    .await
    .expect("alerting");
    dte.exchange(
        "AT+CLCC\r",
        "\r\n+CLCC: 1,0,3,0,0,\"+447400222222\",145\r\n\r\nOK\r\n",
    )
    .await;
    vm.wait_until(PATIENCE, "answer", |vm| {
        vm.calls().first().map(|c| c.state) == Some(CallState::Active)
    })
    .await
    .expect("active");
    dte.exchange(
        "AT+CLCC\r",
        "\r\n+CLCC: 1,0,0,0,0,\"+447400222222\",145\r\n\r\nOK\r\n",
    )
    .await;

    // A second call puts the first on hold; +CHLD=2 swaps; +CHLD=3 joins a conference.
    dte.exchange("ATD+447400333333;\r", "\r\nOK\r\n").await;
    vm.wait_until(PATIENCE, "second answer", |vm| {
        vm.calls()
            .iter()
            .any(|c| c.id == 2 && c.state == CallState::Active)
    })
    .await
    .expect("second active");
    dte.exchange(
        "AT+CLCC\r",
        "\r\n+CLCC: 1,0,1,0,0,\"+447400222222\",145\r\n+CLCC: 2,0,0,0,0,\"+447400333333\",145\r\n\r\nOK\r\n",
    )
    .await;
    dte.exchange("AT+CHLD=2\r", "\r\nOK\r\n").await;
    dte.exchange(
        "AT+CLCC\r",
        "\r\n+CLCC: 1,0,0,0,0,\"+447400222222\",145\r\n+CLCC: 2,0,1,0,0,\"+447400333333\",145\r\n\r\nOK\r\n",
    )
    .await;
    // The network refuses to transfer the second call.
    dte.exchange("AT+CHLD=4\r", "\r\n+CME ERROR: 3\r\n").await;
    dte.exchange("AT+CHLD=3\r", "\r\nOK\r\n").await;
    dte.exchange(
        "AT+CLCC\r",
        "\r\n+CLCC: 1,0,0,0,1,\"+447400222222\",145\r\n+CLCC: 2,0,0,0,1,\"+447400333333\",145\r\n\r\nOK\r\n",
    )
    .await;
    dte.exchange("ATH\r", "\r\nOK\r\n").await;
    dte.exchange("AT+CLCC\r", "\r\nOK\r\n").await;

    // Explicit call transfer: the modem connects both parties and drops out.
    vm.script_call(
        "+447400444444",
        CallScript::answered_after(Duration::from_millis(100)),
    );
    dte.exchange("ATD+447400222222;\r", "\r\nOK\r\n").await;
    vm.wait_until(PATIENCE, "agent answers", |vm| {
        vm.calls().iter().any(|c| c.state == CallState::Active)
    })
    .await
    .expect("active");
    dte.exchange("ATD+447400444444;\r", "\r\nOK\r\n").await;
    vm.wait_until(PATIENCE, "employee answers", |vm| {
        vm.calls()
            .iter()
            .filter(|c| c.state == CallState::Active)
            .count()
            == 1
            && vm.calls().len() == 2
            && vm
                .calls()
                .iter()
                .any(|c| c.id == 2 && c.state == CallState::Active)
    })
    .await
    .expect("both up");
    dte.exchange("AT+CHLD=4\r", "\r\nOK\r\n").await;
    dte.exchange("AT+CLCC\r", "\r\nOK\r\n").await;
    let transferred: Vec<String> = vm
        .call_log()
        .into_iter()
        .filter(|e| e.kind == CallEventKind::Transferred)
        .map(|e| e.number)
        .collect();
    assert_eq!(
        transferred,
        vec!["+447400222222".to_string(), "+447400444444".to_string()]
    );
    assert_eq!(vm.dials().len(), 5);

    // A call the far end rejects, and one nobody answers.
    vm.script_call(
        "+447400555555",
        CallScript::rejected_after(Duration::from_millis(50)),
    );
    dte.exchange("ATD+447400555555;\r", "\r\nOK\r\n").await;
    dte.expect(b"\r\nNO CARRIER\r\n").await;
    vm.script_call(
        "+447400666666",
        CallScript::no_answer_after(Duration::from_millis(300)),
    );
    dte.exchange("ATD+447400666666;\r", "\r\nOK\r\n").await;
    dte.expect(b"\r\nNO ANSWER\r\n").await;
}

#[tokio::test]
async fn incoming_calls_ring_with_the_callers_number() {
    let vm = start(VmOptions::default());
    let mut dte = Dte::open(&vm.path());
    dte.exchange("ATE0;+CLIP=1\r", "ATE0;+CLIP=1\r\r\nOK\r\n")
        .await;
    vm.wait_until(PATIENCE, "registration", |vm| {
        vm.registration() == RegStatus::Home
    })
    .await
    .expect("registered");
    let id = vm.incoming_call("+447400123456").expect("call");
    dte.expect(b"\r\nRING\r\n\r\n+CLIP: \"+447400123456\",145\r\n")
        .await;
    dte.exchange(
        "AT+CLCC\r",
        "\r\n+CLCC: 1,1,4,0,0,\"+447400123456\",145\r\n\r\nOK\r\n",
    )
    .await;
    dte.exchange("ATA\r", "\r\nOK\r\n").await;
    dte.exchange(
        "AT+CLCC\r",
        "\r\n+CLCC: 1,1,0,0,0,\"+447400123456\",145\r\n\r\nOK\r\n",
    )
    .await;
    assert!(vm.remote_hang_up(id));
    dte.expect(b"\r\nNO CARRIER\r\n").await;
    dte.exchange("ATA\r", "\r\nNO CARRIER\r\n").await;
}

#[tokio::test]
async fn unplug_gives_the_dte_eof_and_replug_moves_the_symlink() {
    let dir = tempfile::tempdir().expect("tempdir");
    let link = dir
        .path()
        .join("serial/by-id/usb-shiftsms_Virtual_GSM_modem-if00-port0");
    let vm = start(VmOptions {
        pin: Some("1234".into()),
        symlink: Some(link.clone()),
        ..VmOptions::default()
    });
    let first = vm.path();
    assert_eq!(std::fs::read_link(&link).expect("symlink"), first);
    vm.preload_stored(&[hex(DELIVER_HELLO)]).expect("preload");
    let mut dte = Dte::open(&link);
    dte.exchange("ATE0\r", "ATE0\r\r\nOK\r\n").await;
    dte.exchange("AT+CPIN=1234\r", "\r\nOK\r\n").await;

    vm.unplug().await;
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(PATIENCE, dte.port.read(&mut buf))
        .await
        .expect("no hang");
    assert!(matches!(read, Ok(0) | Err(_)), "expected EOF, got {read:?}");
    assert!(!first.exists(), "{} still exists", first.display());
    assert!(
        std::fs::symlink_metadata(&link).is_err(),
        "symlink still there"
    );
    drop(dte);

    // Messages for an unplugged modem wait at the network.
    assert_eq!(
        vm.deliver_pdu_hex(DELIVER_HELLOHELLO).expect("deliver"),
        Delivery::HeldByNetwork { sim_full: false }
    );

    let second = vm.replug().await.expect("replug");
    assert_eq!(std::fs::read_link(&link).expect("symlink"), second);
    let mut dte = Dte::open(&link);
    // A power cycle: echo back on, PIN asked again, the SIM's messages still there.
    dte.exchange("AT+CPIN?\r", "AT+CPIN?\r\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n")
        .await;
    dte.exchange("AT+CPIN=1234\r", "AT+CPIN=1234\r\r\nOK\r\n")
        .await;
    vm.wait_until(PATIENCE, "held message delivered", |vm| {
        vm.stored().len() == 2
    })
    .await
    .expect("redelivered after registration");
    assert_eq!(vm.stored()[0].pdu, hex(DELIVER_HELLO));
}

#[tokio::test]
async fn the_dte_can_close_and_reopen_the_port() {
    let vm = start(VmOptions::default());
    for round in 0..3 {
        let mut dte = Dte::open(&vm.path());
        dte.exchange("AT\r", "AT\r\r\nOK\r\n").await;
        vm.wait_until(PATIENCE, "attached", VirtualModem::dte_attached)
            .await
            .expect("attached");
        // Output nobody reads when the DTE goes away is discarded, not served to the next one.
        if round == 0 {
            dte.send(b"ATI\r").await;
        }
        drop(dte);
        vm.wait_until(PATIENCE, "detached", |vm| !vm.dte_attached())
            .await
            .expect("detached");
    }
    // Plain file I/O works too, as with any tty.
    let path = vm.path();
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut port = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .expect("open");
        port.write_all(b"AT+CGMM\r").expect("write");
        let expected = b"AT+CGMM\r\r\nVirtual GSM modem\r\n\r\nOK\r\n";
        let mut got = vec![0u8; expected.len()];
        port.read_exact(&mut got).expect("read");
        got
    })
    .await
    .expect("blocking DTE");
    assert_eq!(
        String::from_utf8_lossy(&answer),
        "AT+CGMM\r\r\nVirtual GSM modem\r\n\r\nOK\r\n"
    );
}

/// Opens `path` the way any program would (no locks), as an unprivileged user when the test
/// runs as root; true when the open succeeded.
fn unprivileged_open(path: &Path) -> bool {
    use std::os::unix::process::CommandExt;
    let mut sh = std::process::Command::new("sh");
    sh.arg("-c").arg("exec 3<>\"$0\"").arg(path);
    use std::os::unix::fs::MetadataExt;
    let euid = std::fs::metadata("/proc/self").expect("/proc/self").uid();
    if euid == 0 {
        // Root ignores TIOCEXCL; nobody does not.
        sh.uid(65534).gid(65534);
    }
    sh.status().expect("run sh").success()
}

#[tokio::test]
async fn a_dte_killed_while_holding_the_port_does_not_lock_others_out() {
    use std::os::unix::fs::PermissionsExt;
    let vm = start(VmOptions::default());
    let path = vm.path();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    assert!(
        unprivileged_open(&path),
        "the port opens when nobody holds it"
    );

    // The daemon opens the port exclusively (TIOCEXCL + flock)...
    let held = serialport::new(path.to_string_lossy(), 115_200)
        .open_native()
        .expect("exclusive open");
    assert!(
        !unprivileged_open(&path),
        "exclusive access must keep others out"
    );
    vm.wait_until(PATIENCE, "attached", VirtualModem::dte_attached)
        .await
        .expect("attached");
    // ...and is killed: the kernel closes its descriptor and nobody clears TIOCEXCL
    // (closing the raw descriptor skips serialport's own cleanup, as SIGKILL would).
    nix::unistd::close(held).expect("close");
    vm.wait_until(PATIENCE, "detached", |vm| !vm.dte_attached())
        .await
        .expect("detached");
    assert!(
        unprivileged_open(&path),
        "a killed DTE left the port locked"
    );
    let mut dte = Dte::open(&path);
    dte.exchange("AT\r", "AT\r\r\nOK\r\n").await;
}

#[tokio::test]
async fn texts_in_and_out_through_the_codec() {
    use shiftsms::modem::pdu::{Address, SubmitOptions, decode_incoming, encode_submit};
    let vm = start(VmOptions::default());
    let mut dte = Dte::open(&vm.path());
    dte.exchange("ATE0;+CNMI=2,1,0,0,0\r", "ATE0;+CNMI=2,1,0,0,0\r\r\nOK\r\n")
        .await;
    vm.wait_until(PATIENCE, "registration", |vm| {
        vm.registration() == RegStatus::Home
    })
    .await
    .expect("registered");

    // In: a long text arrives as two concatenated parts, each announced.
    let long = "Mon 06:00-14:00 Line 3, ".repeat(8);
    let deliveries = vm.deliver_sms("+447400123456", &long).expect("deliver");
    assert_eq!(
        deliveries,
        vec![Delivery::Stored { index: 1 }, Delivery::Stored { index: 2 }]
    );
    dte.expect(b"\r\n+CMTI: \"SM\",1\r\n\r\n+CMTI: \"SM\",2\r\n")
        .await;
    let mut joined = String::new();
    for message in vm.stored() {
        match decode_incoming(&message.pdu).expect("decodes") {
            shiftsms::modem::pdu::Incoming::Deliver(deliver) => {
                assert_eq!(deliver.sender, Address::international("447400123456"));
                assert_eq!(deliver.smsc, Some(Address::international("447400000100")));
                joined.push_str(&deliver.text);
            }
            other => panic!("not a deliver: {other:?}"),
        }
    }
    assert_eq!(joined, long);

    // Out: the DTE sends a two-part reply; the test reads it back as one text.
    let reply = "Secured: XYZ123. Taken: XYZ222. Unknown: ABC999. ".repeat(4);
    let options = SubmitOptions {
        concat_reference: 9,
        ..SubmitOptions::default()
    };
    let parts =
        encode_submit(&Address::international("447400123456"), &reply, &options).expect("encode");
    assert_eq!(parts.len(), 2);
    for part in &parts {
        dte.exchange(&format!("AT+CMGS={}\r", part.tpdu_len), "\r\n> ")
            .await;
        dte.send(format!("{}\x1a", part.to_hex()).as_bytes()).await;
        dte.read_until("OK\r\n").await;
    }
    let sent = vm.wait_sms(1, PATIENCE).await.expect("sent");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, "+447400123456");
    assert_eq!(sent[0].text, reply);
    assert_eq!((sent[0].parts, sent[0].complete), (2, true));
}
