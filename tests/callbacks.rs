//! End to end: AGENT callbacks dialled through the modem, with the real `shiftsms run` binary
//! and a virtual modem on a pty whose far ends (the agents' and employees' phones) are
//! scripted. What the tests look at is what a site would see: the calls the modem made and
//! how they ended, the SMS that went out, the `callbacks` rows, and the AT commands in order.

mod support;

use std::time::Duration;

use shiftsms::virtual_modem::{CallEventKind, CallScript, Direction, VirtualModem};
use support::{PATIENCE, Site, SiteOptions};

const ANN: &str = "+447400123456";
const BOB: &str = "+447400654321";
const AGENT1: &str = "+441234567890";
const AGENT2: &str = "+441234567891";

/// Quick phones: three seconds of ringing, a second between rounds, two rounds.
const QUICK: &str = "ring_timeout = \"3s\"\nretry_backoff = \"1s\"\nmax_attempts = 2";

const THANKS: &str = "Thank you, an agent will call you back as soon as possible.";

fn site(agents: &[&str], agent_settings: &str) -> Site {
    let site = Site::new(SiteOptions {
        agents: agents.iter().map(|a| a.to_string()).collect(),
        agent_settings: agent_settings.to_string(),
        ..SiteOptions::default()
    });
    site.employee(ANN, "Ann");
    site.employee(BOB, "Bob");
    site.shift("XYZ123", "Mon 06:00-14:00 Line 3");
    site
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Wait until callback 1 is done or failed; its (state, outcome).
async fn settled(site: &Site) -> (String, String) {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let row = site.rows("SELECT state, ifnull(outcome, '') FROM callbacks WHERE id = 1");
        if let Some((state, outcome)) = row.first().and_then(|r| r.split_once('|'))
            && (state == "done" || state == "failed")
        {
            return (state.to_string(), outcome.to_string());
        }
        assert!(
            std::time::Instant::now() < deadline,
            "callback 1 never settled: {row:?}\n{}",
            site.vm.transcript_text()
        );
        tokio::time::sleep(ms(50)).await;
    }
}

/// What happened to the calls to `number`, in order.
fn call_events(vm: &VirtualModem, number: &str) -> Vec<CallEventKind> {
    vm.call_log()
        .into_iter()
        .filter(|event| event.number == number)
        .map(|event| event.kind)
        .collect()
}

/// Lines the daemon sent to the modem, and lines the modem printed, in order.
fn lines(vm: &VirtualModem) -> Vec<(Direction, String)> {
    vm.transcript()
        .into_iter()
        .map(|line| (line.direction, line.text))
        .collect()
}

fn position(lines: &[(Direction, String)], what: impl Fn(&(Direction, String)) -> bool) -> usize {
    lines
        .iter()
        .position(what)
        .unwrap_or_else(|| panic!("not in the transcript: {lines:#?}"))
}

fn is_command(prefix: &'static str) -> impl Fn(&(Direction, String)) -> bool {
    move |(direction, text)| *direction == Direction::ToModem && text.starts_with(prefix)
}

/// Wait until every queued message is recorded sent (the modem has it a moment before the
/// database does).
async fn all_sent(site: &Site) {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let unsent: i64 = site.query("SELECT count(*) FROM outbox WHERE state <> 'sent'");
        if unsent == 0 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{:#?}",
            site.rows("SELECT id, recipient, kind, state FROM outbox")
        );
        tokio::time::sleep(ms(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_agent_and_employee_are_joined_by_transfer_and_sms_wait_for_the_call() {
    let site = site(&[AGENT1], QUICK);
    site.vm
        .script_call(AGENT1, CallScript::answered_after(ms(1_500)));
    site.vm
        .script_call(ANN, CallScript::answered_after(ms(2_500)));
    let daemon = site.start().await;
    site.vm
        .deliver_sms(ANN, "AGENT my badge does not open gate 4")
        .unwrap();
    // While the agent's phone rings, Bob asks for the shifts.
    site.vm
        .wait_until(PATIENCE, "the agent dialled", |vm| !vm.dials().is_empty())
        .await
        .unwrap();
    site.vm.deliver_sms(BOB, "REQUEST").unwrap();

    assert_eq!(site.wait_for_texts(ANN, 1).await, [THANKS]);
    let bob = site.wait_for_texts(BOB, 1).await;
    assert!(
        bob[0].starts_with("These are the shifts available:"),
        "{bob:?}"
    );
    let note = site.wait_for_texts(AGENT1, 1).await;
    assert_eq!(
        note,
        [
            "Callback request from Ann +447400123456: \"my badge does not open gate 4\". We are \
          phoning you to put you through; if we cannot, please call them back."
        ]
    );
    let (state, outcome) = settled(&site).await;
    assert_eq!(state, "done");
    assert!(outcome.contains("joined by call transfer"), "{outcome}");
    assert_eq!(
        site.rows("SELECT attempts, agent FROM callbacks"),
        [format!("1|{AGENT1}")]
    );

    // The agent was held while Ann was phoned, then both were transferred: the modem is free.
    assert_eq!(site.vm.dials(), [AGENT1, ANN]);
    assert_eq!(
        call_events(&site.vm, AGENT1),
        [
            CallEventKind::Dialled,
            CallEventKind::Alerting,
            CallEventKind::Answered,
            CallEventKind::Held,
            CallEventKind::Transferred
        ]
    );
    assert_eq!(
        call_events(&site.vm, ANN).last(),
        Some(&CallEventKind::Transferred)
    );
    assert!(site.vm.calls().is_empty());

    // No AT+CMGS from the first ATD to the transfer; Bob's REQUEST arrived in between and
    // was answered afterwards; nothing was lost.
    let lines = lines(&site.vm);
    let dialled = position(&lines, is_command("ATD"));
    let transferred = position(&lines, is_command("AT+CHLD=4"));
    let sending = is_command("AT+CMGS");
    assert!(
        !lines[dialled..transferred].iter().any(&sending),
        "an SMS went out during call set-up:\n{}",
        site.vm.transcript_text()
    );
    let bob_arrived = lines
        .iter()
        .enumerate()
        .filter(|(_, (d, text))| *d == Direction::FromModem && text.starts_with("+CMTI"))
        .nth(1)
        .map(|(i, _)| i)
        .unwrap();
    assert!(
        dialled < bob_arrived && bob_arrived < transferred,
        "{}",
        site.vm.transcript_text()
    );
    assert!(lines[transferred..].iter().filter(|l| sending(l)).count() >= 2);
    all_sent(&site).await;
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_refused_by_the_network_becomes_a_conference_until_one_hangs_up() {
    let site = site(&[AGENT1], QUICK);
    site.vm
        .script_call(AGENT1, CallScript::answered_after(ms(300)));
    site.vm.script_call(
        ANN,
        CallScript::answered_after(ms(300))
            .refusing_transfer()
            .hanging_up_after(ms(1_500)),
    );
    let daemon = site.start().await;
    assert_eq!(site.text(ANN, "AGENT pay").await, THANKS);
    let (state, outcome) = settled(&site).await;
    assert_eq!(state, "done");
    assert!(outcome.contains("conference"), "{outcome}");
    let agent = call_events(&site.vm, AGENT1);
    let ann = call_events(&site.vm, ANN);
    for events in [&agent, &ann] {
        assert!(
            events.contains(&CallEventKind::TransferRefused),
            "{events:?}"
        );
        assert!(
            events.contains(&CallEventKind::JoinedConference),
            "{events:?}"
        );
    }
    // Ann left; the modem hung up on the agent rather than keep them on a dead line.
    assert_eq!(ann.last(), Some(&CallEventKind::RemoteHangUp));
    assert_eq!(agent.last(), Some(&CallEventKind::HungUp));
    assert!(site.vm.calls().is_empty());
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_agent_passes_to_the_next_one() {
    let site = site(&[AGENT1, AGENT2], QUICK);
    site.vm.script_call(AGENT1, CallScript::busy());
    site.vm
        .script_call(AGENT2, CallScript::answered_after(ms(300)));
    site.vm
        .script_call(ANN, CallScript::answered_after(ms(300)));
    let daemon = site.start().await;
    assert_eq!(site.text(ANN, "AGENT rota").await, THANKS);
    let (state, outcome) = settled(&site).await;
    assert_eq!(state, "done");
    assert!(outcome.contains(AGENT2), "{outcome}");
    assert_eq!(site.vm.dials(), [AGENT1, AGENT2, ANN]);
    // Both were phoned, so both have the note: nothing depended on the call.
    assert_eq!(site.wait_for_texts(AGENT1, 1).await.len(), 1);
    assert_eq!(site.wait_for_texts(AGENT2, 1).await.len(), 1);
    let history = site.rows("SELECT reason FROM callback_history ORDER BY id");
    assert!(
        history.contains(&format!("agent {AGENT1} was busy; calling agent {AGENT2}")),
        "{history:#?}"
    );
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nobody_answering_is_retried_then_the_employee_is_told() {
    let site = site(&[AGENT1, AGENT2], QUICK);
    site.vm.script_call(AGENT1, CallScript::busy());
    site.vm
        .script_call(AGENT2, CallScript::no_answer_after(ms(500)));
    let daemon = site.start().await;
    site.vm.deliver_sms(ANN, "AGENT holiday").unwrap();
    let ann = site.wait_for_texts(ANN, 2).await;
    assert_eq!(
        ann,
        [
            THANKS,
            "Sorry, we could not reach an agent. Please call your supervisor or the site office."
        ]
    );
    let (state, outcome) = settled(&site).await;
    assert_eq!(state, "failed");
    assert!(
        outcome.contains("no agent reached in 2 round(s)"),
        "{outcome}"
    );
    assert_eq!(site.vm.dials(), [AGENT1, AGENT2, AGENT1, AGENT2]);
    assert_eq!(
        site.rows("SELECT attempts FROM callbacks"),
        ["2".to_string()]
    );
    // Each agent got the note once, however many times they were phoned.
    all_sent(&site).await;
    assert_eq!(site.sent_to(AGENT1).len(), 1);
    assert_eq!(site.sent_to(AGENT2).len(), 1);
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_employee_not_answering_is_reported_to_the_agent() {
    let site = site(&[AGENT1], QUICK);
    site.vm
        .script_call(AGENT1, CallScript::answered_after(ms(300)));
    site.vm
        .script_call(ANN, CallScript::no_answer_after(Duration::from_secs(60)));
    let daemon = site.start().await;
    assert_eq!(site.text(ANN, "AGENT pay").await, THANKS);
    let agent = site.wait_for_texts(AGENT1, 2).await;
    assert!(
        agent[0].starts_with("Callback request from Ann"),
        "{agent:?}"
    );
    assert_eq!(
        agent[1],
        "Ann +447400123456 did not answer when we phoned to put you through. Please call them \
         back later."
    );
    let (state, outcome) = settled(&site).await;
    assert_eq!(state, "done");
    assert!(outcome.contains("did not answer within 3s"), "{outcome}");
    // Ann's phone stopped ringing when we gave up; the agent was hung up on; the modem is free.
    assert_eq!(
        call_events(&site.vm, ANN),
        [
            CallEventKind::Dialled,
            CallEventKind::Alerting,
            CallEventKind::HungUp
        ]
    );
    assert!(site.vm.calls().is_empty());
    daemon.stop().await;
}

/// Bridge settings for the restart tests: the employee's phone rings long enough to stop
/// shiftsms in the middle.
const LONG_RING: &str = "ring_timeout = \"60s\"";

async fn agent_held_and_employee_ringing(site: &Site) {
    site.vm
        .script_call(AGENT1, CallScript::answered_after(ms(300)));
    site.vm
        .script_call(ANN, CallScript::no_answer_after(Duration::from_secs(120)));
    site.vm.deliver_sms(ANN, "AGENT pay").unwrap();
    site.vm
        .wait_until(PATIENCE, "Ann's phone ringing", |vm| {
            vm.call_log()
                .iter()
                .any(|e| e.number == ANN && e.kind == CallEventKind::Alerting)
        })
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_callback_and_restarted_it_ends_clearly_and_is_not_repeated() {
    let site = site(&[AGENT1], LONG_RING);
    let daemon = site.start().await;
    agent_held_and_employee_ringing(&site).await;
    daemon.kill().await;
    // The modem kept the calls: the agent on hold, Ann's phone ringing.
    assert_eq!(site.vm.calls().len(), 2);
    assert_eq!(
        site.rows("SELECT state FROM callbacks"),
        ["connected".to_string()]
    );

    let daemon = site.start().await;
    let (state, outcome) = settled(&site).await;
    assert_eq!(state, "done");
    assert!(outcome.contains("shiftsms restarted"), "{outcome}");
    // The agent: the note (held back during the call) and the cut-off message, once each.
    let agent = site.wait_for_texts(AGENT1, 2).await;
    assert!(
        agent[0].starts_with("Callback request from Ann"),
        "{agent:?}"
    );
    assert!(agent[1].contains("was cut off"), "{agent:?}");
    // The calls left on the modem were hung up; nobody was phoned again.
    site.vm
        .wait_until(PATIENCE, "the modem free", |vm| vm.calls().is_empty())
        .await
        .unwrap();
    assert_eq!(site.vm.dials(), [AGENT1, ANN]);
    assert!(
        daemon.logged("left when shiftsms last stopped"),
        "{}",
        daemon.log()
    );
    all_sent(&site).await;
    assert_eq!(site.sent_to(AGENT1).len(), 2);
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_callback_hangs_up_first_and_exits_zero() {
    let site = site(&[AGENT1], LONG_RING);
    let daemon = site.start().await;
    agent_held_and_employee_ringing(&site).await;
    assert_eq!(daemon.stop().await.code(), Some(0));
    // Nothing left on the modem, and the row says what happened.
    assert!(site.vm.calls().is_empty(), "{:?}", site.vm.calls());
    let (state, outcome) = settled(&site).await;
    assert_eq!(state, "done");
    assert!(outcome.contains("shiftsms stopped"), "{outcome}");
    // The agent's message waits in the outbox for the next start.
    assert_eq!(
        site.rows("SELECT kind, state FROM outbox WHERE recipient = '+441234567890' ORDER BY id"),
        ["agent|queued", "agent|queued"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_agent_numbers_agent_says_whom_to_call_and_offers_leave_agents_out() {
    let tail = " If you want to speak to an agent text AGENT and what you need help with.";
    for (agents, reply) in [
        (
            &[][..],
            "Sorry, agents cannot be reached by text. Please call your supervisor or the site \
             office.",
        ),
        (&[AGENT1][..], THANKS),
    ] {
        let site = site(agents, QUICK);
        site.vm.script_call(AGENT1, CallScript::busy());
        let daemon = site.start().await;
        site.sql("INSERT INTO shift_campaigns (campaign_id, shifts) VALUES ('c1', 'XYZ123 Mon')");
        let offer = site.wait_for_texts(BOB, 1).await;
        assert_eq!(offer[0].ends_with(tail), !agents.is_empty(), "{offer:?}");
        site.wait_for_texts(ANN, 1).await;
        assert_eq!(site.text(ANN, "agent help").await, reply);
        let queued: i64 = site.query("SELECT count(*) FROM callbacks");
        assert_eq!(queued, agents.len() as i64);
        daemon.stop().await;
    }
}
