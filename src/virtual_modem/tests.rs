//! The modem state machine driven directly, with a hand-moved clock: no pty, no runtime, so
//! timing-dependent behaviour (delays, buffered indications, call progress) is exact.

use std::time::{Duration, Instant};

use super::calls::{CallScript, CallState};
use super::core::{Modem, Network, RegStatus};
use super::profile::{DelayRange, DialResult, Profile};
use super::sim::{Sim, Storage};

/// An SMS-DELIVER from +447400123456 saying "hello".
const DELIVER: &str = "07914477580610F5040C9144470021436500002101013212350005E8329BFD06";
const SUBMIT: &str = "0011000C914447002143650000AA0AE8329BFD4697D9EC37";

struct Bench {
    modem: Modem,
    now: Instant,
}

impl Bench {
    fn new(profile: Profile) -> Bench {
        Bench::with_pin(profile, None)
    }

    fn with_pin(profile: Profile, pin: Option<&str>) -> Bench {
        let now = Instant::now();
        let storage = Storage::new(profile.first_index, 10);
        let sim = Sim::new(pin.map(str::to_string), "12345678".into(), storage);
        let net = Network {
            imsi: "234150000000001".into(),
            smsc: "+447400000100".into(),
            operator: "Demo Net".into(),
            operator_numeric: "00101".into(),
            caller_gives_up_after: Duration::from_secs(30),
            call_services: super::CallServices::ALL,
        };
        let mut modem = Modem::new(profile, net, sim, 5, 20, now);
        modem.power_on(now);
        let mut bench = Bench { modem, now };
        bench.advance(Duration::from_secs(5));
        bench
    }

    fn send(&mut self, text: &str) -> String {
        self.modem.on_input(self.now, text.as_bytes());
        self.output()
    }

    fn output(&mut self) -> String {
        String::from_utf8_lossy(&self.modem.take_output()).into_owned()
    }

    /// Moves the clock forward, firing every timer due on the way, in order.
    fn advance(&mut self, by: Duration) -> String {
        let end = self.now + by;
        while let Some(next) = self.modem.next_deadline().filter(|d| *d <= end) {
            self.now = next;
            self.modem.on_timers(next);
        }
        self.now = end;
        self.output()
    }

    fn deliver(&mut self) {
        let pdu = super::tpdu::decode_hex(DELIVER).expect("hex");
        self.modem.deliver(self.now, pdu);
    }
}

#[test]
fn numeric_and_quiet_result_codes() {
    let mut b = Bench::new(Profile::generic());
    assert_eq!(b.send("ATE0V0\r"), "ATE0V0\r0\r");
    assert_eq!(b.send("AT+CSQ\r"), "+CSQ: 20,99\r\n0\r");
    assert_eq!(b.send("AT+FOO\r"), "4\r");
    assert_eq!(b.send("ATV1Q1\r"), "");
    assert_eq!(b.send("AT+CGMM\r"), "\r\nVirtual GSM modem\r\n");
    // ATZ restores the power-up settings: echo comes back for the next line.
    assert_eq!(b.send("ATZ\r"), "\r\nOK\r\n");
    assert_eq!(b.send("AT\r"), "AT\r\r\nOK\r\n");
}

#[test]
fn backspace_edits_the_command_line_and_garbage_before_at_is_ignored() {
    let mut b = Bench::new(Profile::generic());
    assert_eq!(b.send("ATE0\r"), "ATE0\r\r\nOK\r\n");
    assert_eq!(
        b.send("xyz\x00AT+CGMX\x08I\r"),
        "\r\nshiftsms\r\n\r\nOK\r\n"
    );
}

#[test]
fn slow_answers_wait_and_input_meanwhile_waits_too() {
    let mut b = Bench::new(Profile {
        response_delay: DelayRange::fixed(Duration::from_millis(500)),
        ..Profile::generic()
    });
    assert_eq!(b.send("AT\rAT+CGMI\r"), "AT\r");
    assert_eq!(b.advance(Duration::from_millis(499)), "");
    assert_eq!(b.advance(Duration::from_millis(1)), "\r\nOK\r\nAT+CGMI\r");
    assert_eq!(
        b.advance(Duration::from_millis(500)),
        "\r\nshiftsms\r\n\r\nOK\r\n"
    );
}

#[test]
fn a_hung_modem_answers_nothing_not_even_the_command_in_progress() {
    let mut b = Bench::new(Profile {
        response_delay: DelayRange::fixed(Duration::from_millis(100)),
        ..Profile::generic()
    });
    assert_eq!(b.send("ATE0\r"), "ATE0\r");
    assert_eq!(b.advance(Duration::from_millis(100)), "\r\nOK\r\n");
    assert_eq!(b.send("AT+CSQ\r"), "");
    b.modem.hung = true;
    // The answer that was due is never said, nor is anything asked afterwards.
    assert_eq!(b.advance(Duration::from_secs(60)), "");
    assert_eq!(b.send("AT\r"), "");
    b.deliver();
    assert_eq!(b.advance(Duration::from_secs(60)), "");
    // Recovered (as after a power cycle): commands are answered again.
    b.modem.hung = false;
    assert_eq!(b.send("AT\r"), "");
    assert_eq!(b.advance(Duration::from_millis(100)), "\r\nOK\r\n");
}

#[test]
fn cnmi_mode_2_holds_indications_while_a_command_runs() {
    let mut b = Bench::new(Profile {
        response_delay: DelayRange::fixed(Duration::from_millis(100)),
        ..Profile::generic()
    });
    b.send("ATE0;+CNMI=2,1,0,0,0\r");
    b.advance(Duration::from_millis(100));
    assert_eq!(b.send("AT+CSQ\r"), "");
    b.deliver();
    assert_eq!(b.output(), "", "held while the link is busy");
    assert_eq!(
        b.advance(Duration::from_millis(100)),
        "\r\n+CSQ: 20,99\r\n\r\nOK\r\n\r\n+CMTI: \"SM\",1\r\n"
    );
    // Mode 1 discards instead.
    b.send("AT+CNMI=1,1,0,0,0\r");
    b.advance(Duration::from_millis(100));
    b.send("AT+CSQ\r");
    b.deliver();
    assert_eq!(
        b.advance(Duration::from_millis(100)),
        "\r\n+CSQ: 20,99\r\n\r\nOK\r\n"
    );
    assert_eq!(
        b.modem.stored_messages().len(),
        2,
        "stored even when not indicated"
    );
}

#[test]
fn cnmi_mode_0_buffers_in_the_modem_until_indications_are_enabled() {
    let mut b = Bench::new(Profile::generic());
    b.send("ATE0;+CNMI=0,1,0,0,0\r");
    b.deliver();
    b.deliver();
    assert_eq!(b.output(), "");
    assert_eq!(
        b.send("AT+CNMI=2,1,0,0,0\r"),
        "\r\n+CMTI: \"SM\",1\r\n\r\n+CMTI: \"SM\",2\r\n\r\nOK\r\n"
    );
    // bfr=1 clears what was held instead.
    b.send("AT+CNMI=0,1,0,0,0\r");
    b.deliver();
    assert_eq!(b.send("AT+CNMI=2,1,0,0,1\r"), "\r\nOK\r\n");
}

#[test]
fn radio_off_and_lost_network_stop_sending_and_hold_deliveries() {
    let mut b = Bench::new(Profile::generic());
    b.send("ATE0;+CMEE=1;+CREG=1;+CNMI=2,1,0,0,0\r");
    assert_eq!(b.send("AT+CFUN=0\r"), "\r\n+CREG: 0\r\n\r\nOK\r\n");
    assert_eq!(b.send("AT+CMGS=23\r"), "\r\n> ");
    assert_eq!(b.send(&format!("{SUBMIT}\x1a")), "\r\n+CMS ERROR: 331\r\n");
    b.deliver();
    assert_eq!(b.modem.network_queue.len(), 1);
    assert_eq!(b.send("AT+CFUN=1\r"), "\r\n+CREG: 2\r\n\r\nOK\r\n");
    assert_eq!(
        b.advance(Duration::from_secs(1)),
        "\r\n+CREG: 1\r\n\r\n+CMTI: \"SM\",1\r\n"
    );

    b.modem.set_network(b.now, RegStatus::Denied);
    assert_eq!(b.output(), "\r\n+CREG: 3\r\n");
    assert_eq!(b.send("AT+COPS?\r"), "\r\n+COPS: 0\r\n\r\nOK\r\n");
    b.modem.set_network(b.now, RegStatus::Roaming);
    assert_eq!(b.output(), "\r\n+CREG: 5\r\n");
    assert_eq!(b.send("AT+CREG?\r"), "\r\n+CREG: 1,5\r\n\r\nOK\r\n");
}

#[test]
fn cfun_reset_answers_ok_before_restarting() {
    let mut b = Bench::new(Profile {
        response_delay: DelayRange::fixed(Duration::from_millis(300)),
        ..Profile::simcom()
    });
    assert_eq!(b.send("AT+CFUN=1,1\r"), "AT+CFUN=1,1\r");
    let out = b.advance(Duration::from_secs(3));
    assert!(out.starts_with("\r\nOK\r\n\r\nRDY\r\n"), "{out:?}");
    assert!(out.ends_with("\r\nSMS Ready\r\n"), "{out:?}");
    // Echo is back on after the restart.
    b.advance(Duration::from_secs(2));
    assert_eq!(b.send("AT\r"), "AT\r");
    assert_eq!(b.advance(Duration::from_millis(300)), "\r\nOK\r\n");
}

#[test]
fn a_modem_that_answers_dial_when_connected() {
    let mut b = Bench::new(Profile {
        dial_result: DialResult::WhenAnswered,
        ..Profile::generic()
    });
    b.modem.scripts.insert(
        "+447400123456".into(),
        CallScript::answered_after(Duration::from_secs(2)),
    );
    b.modem
        .scripts
        .insert("+447400999999".into(), CallScript::busy());
    assert_eq!(b.send("ATE0\r"), "ATE0\r\r\nOK\r\n");
    assert_eq!(b.send("ATD+447400123456;\r"), "");
    // Commands wait while the call is set up.
    assert_eq!(b.send("AT\r"), "");
    assert_eq!(b.advance(Duration::from_secs(2)), "\r\nOK\r\n\r\nOK\r\n");
    assert_eq!(b.modem.calls[0].info.state, CallState::Active);
    b.send("ATH\r");
    assert_eq!(b.send("ATD+447400999999;\r"), "");
    assert_eq!(b.advance(Duration::from_secs(1)), "\r\nBUSY\r\n");
}

#[test]
fn huawei_call_progress_lines() {
    let mut b = Bench::new(Profile {
        noise_every: None,
        noise_mid_response_percent: 0,
        ..Profile::huawei()
    });
    b.modem.scripts.insert(
        "+447400123456".into(),
        CallScript::answered_after(Duration::from_secs(1)),
    );
    b.send("ATE0\r");
    assert_eq!(b.send("ATD+447400123456;\r"), "\r\n^ORIG:1,0\r\n\r\nOK\r\n");
    assert_eq!(
        b.advance(Duration::from_secs(1)),
        "\r\n^CONF:1\r\n\r\n^CONN:1,0\r\n"
    );
    assert_eq!(b.send("AT+CHUP\r"), "\r\n^CEND:1,0,104,16\r\n\r\nOK\r\n");
}

#[test]
fn a_sim_with_a_pin_holds_messages_at_the_network_until_unlocked() {
    let mut b = Bench::with_pin(Profile::generic(), Some("1234"));
    b.send("ATE0;+CNMI=2,1,0,0,0\r");
    b.deliver();
    assert!(b.modem.stored_messages().is_empty());
    assert_eq!(b.send("AT+CPIN=\"1234\"\r"), "\r\nOK\r\n");
    assert_eq!(b.advance(Duration::from_secs(1)), "\r\n+CMTI: \"SM\",1\r\n");
}

#[test]
fn an_incoming_call_waits_while_another_is_active() {
    let mut b = Bench::new(Profile::generic());
    b.send("ATE0;+CCWA=1;+CLIP=1\r");
    let first = b.modem.incoming_call(b.now, "+447400111111").expect("call");
    assert_eq!(
        b.output(),
        "\r\nRING\r\n\r\n+CLIP: \"+447400111111\",145\r\n"
    );
    assert_eq!(
        b.advance(Duration::from_secs(3)),
        "\r\nRING\r\n\r\n+CLIP: \"+447400111111\",145\r\n"
    );
    b.send("ATA\r");
    b.modem
        .incoming_call(b.now, "07400222222")
        .expect("second call");
    assert_eq!(b.output(), "\r\n+CCWA: \"07400222222\",129,1\r\n");
    // +CHLD=2: hold the active call, accept the waiting one.
    assert_eq!(b.send("AT+CHLD=2\r"), "\r\nOK\r\n");
    let states: Vec<(u8, CallState)> = b
        .modem
        .calls
        .iter()
        .map(|c| (c.info.id, c.info.state))
        .collect();
    assert_eq!(
        states,
        vec![(first, CallState::Held), (2, CallState::Active)]
    );
    // +CHLD=1: end the active call, resume the held one.
    assert_eq!(b.send("AT+CHLD=1\r"), "\r\nOK\r\n");
    let states: Vec<(u8, CallState)> = b
        .modem
        .calls
        .iter()
        .map(|c| (c.info.id, c.info.state))
        .collect();
    assert_eq!(states, vec![(first, CallState::Active)]);
    assert_eq!(b.send("AT+CHLD=9\r"), "\r\nERROR\r\n");
    // A caller nobody answers gives up.
    b.send("ATH\r");
    b.modem
        .incoming_call(b.now, "+447400333333")
        .expect("third call");
    let out = b.advance(Duration::from_secs(31));
    assert!(out.ends_with("\r\nNO CARRIER\r\n"), "{out:?}");
    assert!(b.modem.calls.is_empty());
}

#[test]
fn call_services_the_network_does_not_grant_are_refused() {
    let mut b = Bench::new(Profile::generic());
    b.send("ATE0;+CMEE=1\r");
    assert_eq!(
        b.send("AT+CHLD=?\r"),
        "\r\n+CHLD: (0,1,1x,2,2x,3,4)\r\n\r\nOK\r\n"
    );
    b.modem.net.call_services = super::CallServices {
        transfer: false,
        release_one: false,
        ..super::CallServices::ALL
    };
    assert_eq!(
        b.send("AT+CHLD=?\r"),
        "\r\n+CHLD: (0,1,2,2x,3)\r\n\r\nOK\r\n"
    );
    b.modem.net.call_services = super::CallServices::NONE;
    assert_eq!(b.send("AT+CHLD=?\r"), "\r\n+CHLD: (0,1)\r\n\r\nOK\r\n");
    b.modem.scripts.insert(
        "+441234567890".into(),
        CallScript::answered_after(Duration::from_millis(100)),
    );
    assert_eq!(b.send("ATD+441234567890;\r"), "\r\nOK\r\n");
    b.advance(Duration::from_millis(200));
    // No call hold: the active call cannot be held, and no second call placed beside it.
    assert_eq!(b.send("AT+CHLD=2\r"), "\r\n+CME ERROR: 4\r\n");
    assert_eq!(b.send("AT+CHLD=12\r"), "\r\n+CME ERROR: 4\r\n");
    assert_eq!(b.send("ATD+447400123456;\r"), "\r\n+CME ERROR: 3\r\n");
    assert_eq!(b.modem.calls.len(), 1);
}

#[test]
fn the_transcript_shows_the_text_of_each_accepted_sms() {
    let mut b = Bench::new(Profile::generic());
    b.send("ATE0;+CMGF=0\r");
    assert_eq!(b.send("AT+CMGS=23\r"), "\r\n> ");
    b.send(&format!("{SUBMIT}\x1a"));
    b.advance(Duration::from_secs(5));
    let lines = b.modem.transcript.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.text.contains("network accepted SMS to +447400123456")
                && l.text.ends_with(": \"hellohello\"")),
        "{lines:#?}"
    );
}
