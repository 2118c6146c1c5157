//! The dialler against the AT engine and a virtual modem on a pty, with a database of its
//! own and the clock passed in. What only the dialler decides is tested here (business
//! hours, ring mode on a network without call hold, an agent leaving while on hold, the
//! modem refusing to dial, the note sent once per agent, a restart's leftovers); the
//! end-to-end tests in `tests/callbacks.rs` run the whole program.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;

use super::call::Pace;
use super::{Clock, Dialler, Setup, Timing};
use crate::config::{AgentSettings, CallbackMode};
use crate::daemon::Health;
use crate::daemon::db::{Db, DbStopped, DbThread};
use crate::daemon::lease::ModemLease;
use crate::daemon::modem_link::{self, Link};
use crate::daemon::shutdown::{Shutdown, Trigger};
use crate::modem::{self, ModemSettings};
use crate::service::hours::BusinessHours;
use crate::service::phone::E164;
use crate::service::reply::{Replies, ReplyOptions};
use crate::store::Store;
use crate::store::callbacks::{Callback, CallbackId, CallbackState, Change, Round};
use crate::store::outbox::{Kind, OutboundMessage, OutboxFilter};
use crate::virtual_modem::{
    CallEventKind, CallScript, CallServices, Profile, RegStatus, VirtualModem, VmOptions,
};

const ANN: &str = "+447400123456";
const AGENT1: &str = "+441234567890";
const AGENT2: &str = "+441234567891";

/// Long enough for a slow machine; only there so a hang fails instead of blocking.
const PATIENCE: Duration = Duration::from_secs(30);

fn e164(text: &str) -> E164 {
    E164::from_international(text).unwrap()
}

fn settings(agents: &[&str]) -> AgentSettings {
    AgentSettings {
        numbers: agents.iter().map(|a| e164(a)).collect(),
        mode: CallbackMode::Bridge,
        ring_timeout: Duration::from_secs(3),
        max_attempts: 2,
        retry_backoff: Duration::from_secs(1),
        hours: BusinessHours::always(),
    }
}

fn fast() -> Timing {
    Timing {
        pace: Pace {
            poll: Duration::from_millis(50),
            conference_poll: Duration::from_millis(100),
            ended_grace: Duration::from_millis(300),
        },
        trouble_pause: Duration::from_secs(600),
        db_retry: Duration::from_millis(100),
        network_wait: Duration::from_millis(100),
    }
}

struct Rig {
    vm: VirtualModem,
    db: Db,
    clock: Clock,
    trigger: Trigger,
    wake: Arc<Notify>,
    dialler: Option<JoinHandle<Result<(), DbStopped>>>,
    modem: Option<JoinHandle<()>>,
    db_thread: Option<DbThread>,
    _sim: mpsc::UnboundedReceiver<crate::daemon::sim::SimEvent>,
}

struct Options {
    vm: VmOptions,
    settings: AgentSettings,
    clock: Clock,
    time_zone: TimeZone,
    /// Rows to put in the database before the dialler starts.
    seed: Box<dyn FnOnce(&mut Store) + Send>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            vm: VmOptions::default(),
            settings: settings(&[AGENT1]),
            clock: super::system_clock(),
            time_zone: TimeZone::UTC,
            seed: Box::new(|_| {}),
        }
    }
}

async fn rig(options: Options) -> Rig {
    let vm = VirtualModem::start(options.vm).unwrap();
    let mut store = Store::open_in_memory().unwrap();
    {
        let tx = store.transaction().unwrap();
        tx.employees()
            .add(&e164(ANN), Some("Ann"), Timestamp::now())
            .unwrap();
        tx.commit().unwrap();
    }
    (options.seed)(&mut store);
    let (db, db_thread) = Db::start(store, Duration::from_millis(50)).unwrap();
    let (trigger, shutdown) = Shutdown::new();
    let lease = ModemLease::new();
    let mut modem_settings = ModemSettings::new(vm.path(), 115_200, None);
    modem_settings.command_pause = Some(Duration::ZERO);
    let modem = {
        let (shutdown, lease) = (shutdown.clone(), lease.clone());
        modem::spawn(modem_settings, async move {
            shutdown.requested().await;
            lease.until_no_call().await;
        })
    };
    let (sim, sim_events) = mpsc::unbounded_channel();
    let (calls, ended) = mpsc::unbounded_channel();
    let health = Arc::new(watch::channel(Health::Starting).0);
    tokio::spawn(modem_link::route(
        modem.events,
        sim,
        calls,
        vm.path(),
        health,
    ));
    let wake = Arc::new(Notify::new());
    let clock = options.clock.clone();
    let dialler = Dialler::new(Setup {
        db: db.clone(),
        voice: Link::new(modem.handle.clone()),
        ended,
        lease,
        settings: options.settings,
        replies: Arc::new(Replies::defaults(ReplyOptions {
            agents_enabled: true,
            ..ReplyOptions::default()
        })),
        time_zone: options.time_zone,
        clock: options.clock,
        wake: wake.clone(),
        outbox: Arc::new(Notify::new()),
        shutdown,
        timing: fast(),
    });
    Rig {
        vm,
        db,
        clock,
        trigger,
        wake,
        dialler: Some(tokio::spawn(dialler.run())),
        modem: Some(modem.task),
        db_thread: Some(db_thread),
        _sim: sim_events,
    }
}

impl Rig {
    async fn queue(&self, request: &str) -> CallbackId {
        let (request, now) = (request.to_string(), (self.clock)());
        let id = self
            .db
            .run(move |store| {
                let tx = store.transaction()?;
                let id = tx.callbacks().queue(&e164(ANN), &request, None, now)?;
                tx.commit()?;
                Ok(id)
            })
            .await
            .unwrap();
        self.wake.notify_one();
        id
    }

    async fn callback(&self, id: CallbackId) -> Callback {
        self.db
            .run(move |store| store.read()?.callbacks().get(id))
            .await
            .unwrap()
            .unwrap()
    }

    /// Wait until the callback is done or failed.
    async fn settled(&self, id: CallbackId) -> Callback {
        let wait = async {
            loop {
                let callback = self.callback(id).await;
                if matches!(callback.state, CallbackState::Done | CallbackState::Failed) {
                    return callback;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        match tokio::time::timeout(PATIENCE, wait).await {
            Ok(callback) => callback,
            Err(_) => panic!(
                "{id} never settled: {:?}\n{}",
                self.callback(id).await,
                self.vm.transcript_text()
            ),
        }
    }

    async fn history(&self, id: CallbackId) -> Vec<String> {
        self.db
            .run(move |store| store.read()?.callbacks().history(id))
            .await
            .unwrap()
            .into_iter()
            .map(|h| format!("{} ({})", h.to, h.reason))
            .collect()
    }

    async fn queued_sms(&self) -> Vec<OutboundMessage> {
        let mut all = self
            .db
            .run(|store| store.read()?.outbox().list(OutboxFilter::default()))
            .await
            .unwrap();
        all.reverse();
        all
    }

    fn kinds(&self) -> Vec<(String, CallEventKind)> {
        self.vm
            .call_log()
            .into_iter()
            .map(|event| (event.number, event.kind))
            .collect()
    }

    async fn stop(mut self) {
        self.trigger.fire();
        if let Some(dialler) = self.dialler.take() {
            dialler.await.unwrap().unwrap();
        }
        if let Some(modem) = self.modem.take() {
            modem.await.unwrap();
        }
        drop(self.db);
        if let Some(thread) = self.db_thread.take() {
            thread.join();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_waits_for_business_hours_in_local_time() {
    // The site is at UTC+2; it is Monday 07:59:58 there, and agents start at 08:00.
    let tz = TimeZone::fixed(jiff::tz::offset(2));
    let start: Timestamp = "2025-03-10T05:59:58Z".parse().unwrap();
    let began = std::time::Instant::now();
    let clock: Clock =
        Arc::new(move || start + jiff::SignedDuration::try_from(began.elapsed()).unwrap());
    let opening: Timestamp = "2025-03-10T06:00:00Z".parse().unwrap();
    let rig = rig(Options {
        settings: AgentSettings {
            hours: BusinessHours::parse(&["Mon-Fri 08:00-18:00"]).unwrap(),
            ..settings(&[AGENT1])
        },
        clock,
        time_zone: tz,
        ..Options::default()
    })
    .await;
    rig.vm.script_call(
        AGENT1,
        CallScript::answered_after(Duration::from_millis(200)),
    );
    rig.vm
        .script_call(ANN, CallScript::answered_after(Duration::from_millis(200)));
    let id = rig.queue("pay").await;
    let done = rig.settled(id).await;
    assert_eq!(done.state, CallbackState::Done, "{done:?}");
    let first_call = rig
        .db
        .run(move |store| store.read()?.callbacks().history(id))
        .await
        .unwrap()
        .into_iter()
        .find(|h| h.to == CallbackState::Dialling)
        .unwrap();
    assert!(
        first_call.at >= opening,
        "the agent was phoned at {} (site time), before the opening",
        first_call
            .at
            .to_zoned_datetime(TimeZone::fixed(jiff::tz::offset(2)))
    );
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_call_hold_the_agent_is_rung_and_reads_the_sms() {
    let rig = rig(Options {
        vm: VmOptions {
            call_services: CallServices::NONE,
            ..VmOptions::default()
        },
        ..Options::default()
    })
    .await;
    rig.vm.script_call(
        AGENT1,
        CallScript::answered_after(Duration::from_millis(200)),
    );
    let id = rig.queue("my badge does not open gate 4").await;
    let done = rig.settled(id).await;
    assert_eq!(done.state, CallbackState::Done);
    let outcome = done.outcome.unwrap();
    assert!(outcome.contains("answered the ring"), "{outcome}");
    // Only the agent was phoned, and hung up on; the note is queued for them.
    assert_eq!(rig.vm.dials(), [AGENT1]);
    assert!(rig.vm.calls().is_empty());
    let sms = rig.queued_sms().await;
    assert_eq!(sms.len(), 1);
    assert_eq!(sms[0].recipient.as_str(), AGENT1);
    assert_eq!(sms[0].kind, Kind::Agent);
    assert!(
        sms[0].text.starts_with(
            "Callback request from Ann +447400123456: \"my badge does not open gate 4\""
        ),
        "{}",
        sms[0].text
    );
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_hanging_up_while_on_hold_ends_the_employee_call() {
    let rig = rig(Options::default()).await;
    rig.vm.script_call(
        AGENT1,
        CallScript::answered_after(Duration::from_millis(200))
            .hanging_up_after(Duration::from_millis(500)),
    );
    rig.vm
        .script_call(ANN, CallScript::no_answer_after(Duration::from_secs(20)));
    let id = rig.queue("pay").await;
    let done = rig.settled(id).await;
    let outcome = done.outcome.unwrap();
    assert!(outcome.contains("hung up while on hold"), "{outcome}");
    assert!(rig.vm.calls().is_empty(), "{:?}", rig.vm.calls());
    let log = rig.kinds();
    assert!(
        log.contains(&(AGENT1.into(), CallEventKind::Held)),
        "{log:?}"
    );
    assert!(
        log.contains(&(AGENT1.into(), CallEventKind::RemoteHangUp)),
        "{log:?}"
    );
    // Ann's ringing call was released by us.
    assert!(
        log.contains(&(ANN.into(), CallEventKind::HungUp)),
        "{log:?}"
    );
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_waits_for_the_network_without_using_up_a_round() {
    let rig = rig(Options::default()).await;
    rig.vm
        .wait_until(PATIENCE, "registration", |vm| {
            vm.registration() == RegStatus::Home
        })
        .await
        .unwrap();
    rig.vm.set_network(RegStatus::Denied);
    rig.vm.script_call(
        AGENT1,
        CallScript::answered_after(Duration::from_millis(200)),
    );
    rig.vm
        .script_call(ANN, CallScript::answered_after(Duration::from_millis(200)));
    let asked = |vm: &VirtualModem| vm.transcript_text().matches("DTE -> AT+CREG?").count();
    let before = asked(&rig.vm);
    let id = rig.queue("pay").await;
    // It asks about the network, twice, and dials nobody.
    rig.vm
        .wait_until(PATIENCE, "AT+CREG? after the callback", |vm| {
            asked(vm) >= before + 2
        })
        .await
        .unwrap();
    assert!(rig.vm.dials().is_empty());
    assert_eq!(rig.callback(id).await.state, CallbackState::Queued);
    rig.vm.set_network(RegStatus::Home);
    let done = rig.settled(id).await;
    assert_eq!(done.attempts, 1, "{done:?}");
    assert_eq!(rig.vm.dials(), [AGENT1, ANN]);
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_modem_pulled_out_mid_call_does_not_use_up_a_round() {
    let rig = rig(Options::default()).await;
    rig.vm
        .script_call(AGENT1, CallScript::no_answer_after(Duration::from_secs(20)));
    let id = rig.queue("pay").await;
    rig.vm
        .wait_until(PATIENCE, "the agent's phone ringing", |vm| {
            !vm.dials().is_empty()
        })
        .await
        .unwrap();
    rig.vm.unplug().await;
    let wait = async {
        loop {
            let callback = rig.callback(id).await;
            if callback.state == CallbackState::Queued && callback.last_error.is_some() {
                return callback;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let callback = tokio::time::timeout(PATIENCE, wait).await.unwrap();
    assert_eq!(callback.attempts, 0, "{callback:?}");
    let error = callback.last_error.unwrap();
    assert!(error.contains("could not call agent"), "{error}");
    // Tried again later (timing.trouble_pause), not at once.
    assert!(callback.next_attempt_at > Timestamp::now());
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_agent_gets_the_note_once_however_many_rounds() {
    let rig = rig(Options {
        settings: settings(&[AGENT1, AGENT2]),
        ..Options::default()
    })
    .await;
    rig.vm.script_call(AGENT1, CallScript::busy());
    rig.vm.script_call(
        AGENT2,
        CallScript::rejected_after(Duration::from_millis(200)),
    );
    let id = rig.queue("pay").await;
    let failed = rig.settled(id).await;
    assert_eq!(failed.state, CallbackState::Failed);
    assert_eq!(failed.attempts, 2);
    assert_eq!(rig.vm.dials(), [AGENT1, AGENT2, AGENT1, AGENT2]);
    let sms: Vec<(String, Kind)> = rig
        .queued_sms()
        .await
        .into_iter()
        .map(|m| (m.recipient.to_string(), m.kind))
        .collect();
    assert_eq!(
        sms,
        [
            (AGENT1.to_string(), Kind::Agent),
            (AGENT2.to_string(), Kind::Agent),
            (ANN.to_string(), Kind::Reply),
        ]
    );
    let history = rig.history(id).await;
    assert!(
        history[2].contains("agent +441234567890 was busy; calling agent +441234567891"),
        "{history:#?}"
    );
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_settles_what_was_under_way() {
    // A previous run stopped with one callback ringing an agent and one putting an agent
    // through.
    let seed = |store: &mut Store| {
        let now = Timestamp::now();
        let tx = store.transaction().unwrap();
        let agent = e164(AGENT1);
        let change = |from, to, round| Change {
            from,
            to,
            reason: "before the restart",
            round,
            agent: Some(&agent),
            next_attempt_at: None,
            outcome: None,
            error: None,
        };
        for (request, connected) in [("ringing", false), ("bridging", true)] {
            let id = tx
                .callbacks()
                .queue(&e164(ANN), request, None, now)
                .unwrap();
            tx.callbacks()
                .record(
                    id,
                    &change(CallbackState::Queued, CallbackState::Dialling, Round::New),
                    now,
                )
                .unwrap();
            if connected {
                tx.callbacks()
                    .record(
                        id,
                        &change(
                            CallbackState::Dialling,
                            CallbackState::Connected,
                            Round::Same,
                        ),
                        now,
                    )
                    .unwrap();
            }
        }
        tx.commit().unwrap();
    };
    let rig = rig(Options {
        settings: AgentSettings {
            max_attempts: 3,
            ..settings(&[AGENT1])
        },
        seed: Box::new(seed),
        ..Options::default()
    })
    .await;
    rig.vm.script_call(
        AGENT1,
        CallScript::answered_after(Duration::from_millis(200)),
    );
    rig.vm
        .script_call(ANN, CallScript::answered_after(Duration::from_millis(200)));
    let (ringing, bridging) = (CallbackId(1), CallbackId(2));
    let cut = rig.settled(bridging).await;
    assert_eq!(cut.state, CallbackState::Done);
    let outcome = cut.outcome.unwrap();
    assert!(outcome.contains("shiftsms restarted"), "{outcome}");
    // The interrupted round counted; the next one put the agent through.
    let again = rig.settled(ringing).await;
    assert_eq!(again.attempts, 2);
    assert!(
        again.outcome.as_deref().unwrap().contains("call transfer"),
        "{again:?}"
    );
    // The agent: told to call back about the cut-off one, and the note of the other (the
    // cut-off one's note went before the restart, in the previous run's outbox).
    let to_agent: Vec<String> = rig
        .queued_sms()
        .await
        .into_iter()
        .filter(|m| m.recipient.as_str() == AGENT1)
        .map(|m| m.text)
        .collect();
    assert_eq!(to_agent.len(), 2, "{to_agent:#?}");
    assert!(to_agent[0].contains("was cut off"), "{to_agent:#?}");
    assert!(to_agent[1].contains("\"ringing\""), "{to_agent:#?}");
    rig.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_on_modems_that_talk_about_calls_on_their_own() {
    // Huawei prints ^ORIG/^CONF/^CONN/^CEND around calls, and noise; SIMCom has its banner.
    for profile in [Profile::huawei(), Profile::simcom()] {
        let name = profile.name.clone();
        let rig = rig(Options {
            vm: VmOptions::with_profile(profile),
            ..Options::default()
        })
        .await;
        rig.vm.script_call(
            AGENT1,
            CallScript::answered_after(Duration::from_millis(200)),
        );
        rig.vm
            .script_call(ANN, CallScript::answered_after(Duration::from_millis(200)));
        let id = rig.queue("pay").await;
        let done = rig.settled(id).await;
        assert!(
            done.outcome.as_deref().unwrap().contains("call transfer"),
            "{name}: {done:?}"
        );
        assert!(rig.vm.calls().is_empty(), "{name}");
        rig.stop().await;
    }
}
