//! `shiftsms status`: how the site is, from the database alone (the heartbeat the daemon
//! rewrites every minute or so, the queues, campaigns, callbacks, alerts and failures), so it
//! never touches the modem the daemon holds and works while the daemon runs, or after it died.
//!
//! Its exit status is meant for monitoring scripts ([`Verdict::exit_code`]): 0 when the
//! daemon is alive and the modem ready, 3 when the daemon is alive but the modem is not, 2
//! when the daemon is not running (never started on this database, stopped, or silent for
//! [`STALE_AFTER_MISSED`] heartbeats: dead or hung); 1 is left for errors (database
//! unreadable).

use std::io::Write;
use std::time::Duration;

use jiff::Timestamp;

use super::table::{Table, shorten};
use super::{AdminError, Context, plural, show_time};
use crate::store::Store;
use crate::store::alerts::AlertRecord;
use crate::store::campaigns::CampaignStatus;
use crate::store::heartbeat::{DaemonHealth, Heartbeat, ModemCondition, STALE_AFTER_MISSED};
use crate::store::outbox::{Kind, OutboxFilter, OutboxState};

/// What `status` concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The daemon is alive and serving.
    Ready,
    /// The daemon is alive; the modem is away, locked, failing or initialising.
    ModemNotReady,
    /// The daemon is not running: no heartbeat, a clean stop, or a stale heartbeat.
    NotRunning,
}

impl Verdict {
    /// The process exit status.
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Ready => 0,
            Verdict::NotRunning => 2,
            Verdict::ModemNotReady => 3,
        }
    }
}

/// How many of each list are shown.
const RECENT: u32 = 3;

/// "12 s", "25 min", "3 h 20 min", "2 days 4 h".
pub fn span(duration: Duration) -> String {
    let secs = duration.as_secs();
    match secs {
        0..=119 => format!("{secs} s"),
        120..=3599 => format!("{} min", secs / 60),
        3600..=172_799 => match (secs % 3600) / 60 {
            0 => format!("{} h", secs / 3600),
            min => format!("{} h {min} min", secs / 3600),
        },
        _ => format!("{} days {} h", secs / 86_400, (secs % 86_400) / 3600),
    }
}

fn ago(at: Timestamp, now: Timestamp) -> String {
    let elapsed = Duration::try_from(now.duration_since(at)).unwrap_or(Duration::ZERO);
    format!("{} ago", span(elapsed))
}

/// A received signal strength in words (thresholds usual for GSM RSSI).
fn signal_words(dbm: i16) -> &'static str {
    match dbm {
        -75.. => "good",
        -90..=-76 => "fair",
        -105..=-91 => "weak",
        _ => "very weak",
    }
}

/// The verdict the heartbeat gives at `now`.
pub fn judge(beat: Option<&Heartbeat>, now: Timestamp) -> Verdict {
    match beat {
        None => Verdict::NotRunning,
        Some(beat) if beat.health == DaemonHealth::Stopped || beat.is_stale(now) => {
            Verdict::NotRunning
        }
        Some(beat)
            if beat.health == DaemonHealth::Serving
                && beat.modem.condition == ModemCondition::Ready =>
        {
            Verdict::Ready
        }
        Some(_) => Verdict::ModemNotReady,
    }
}

/// Print the status and return the verdict.
pub fn run(store: &mut Store, ctx: &Context, out: &mut impl Write) -> Result<Verdict, AdminError> {
    let tx = store.read()?;
    let beat = tx.heartbeat().read()?;
    let counts = tx.outbox().counts()?;
    let (unprocessed, waiting_parts) = tx.inbox().backlog()?;
    let callbacks = tx.callbacks().open()?.len();
    let mut campaigns = Vec::new();
    for campaign in tx.campaigns().list()? {
        if campaign.status == CampaignStatus::Sending {
            let progress = tx.campaigns().progress(&campaign.id)?;
            campaigns.push((campaign, progress));
        }
    }
    let alerts = tx.alerts().recent(RECENT)?;
    let failures = tx.outbox().list(OutboxFilter {
        state: Some(OutboxState::Failed),
        kind: None,
        limit: Some(RECENT),
    })?;
    drop(tx);

    let now = ctx.now;
    let verdict = judge(beat.as_ref(), now);
    headline(beat.as_ref(), verdict, ctx, out)?;
    if let Some(beat) = &beat {
        modem(beat, verdict, ctx, out)?;
    }

    let depth = |kind: Option<Kind>, state: OutboxState| -> u64 {
        counts
            .iter()
            .filter(|(k, s, _)| kind.is_none_or(|kind| *k == kind) && *s == state)
            .map(|(_, _, n)| n)
            .sum()
    };
    let queued = depth(None, OutboxState::Queued);
    let alerts_waiting = depth(Some(Kind::Alert), OutboxState::Queued);
    let mut outbox = format!(
        "{} queued, {} sending",
        queued,
        depth(None, OutboxState::Sending)
    );
    if queued > 0 {
        let by_kind: Vec<String> = Kind::ALL
            .iter()
            .map(|&kind| (kind, depth(Some(kind), OutboxState::Queued)))
            .filter(|(_, n)| *n > 0)
            .map(|(kind, n)| format!("{n} {kind}"))
            .collect();
        outbox.push_str(&format!(" ({})", by_kind.join(", ")));
    }
    if alerts_waiting > 0 && verdict != Verdict::Ready {
        outbox.push_str(&format!(
            "; {} waiting for the modem",
            plural(alerts_waiting as usize, "alert", "alerts")
        ));
    }
    writeln!(out, "Outbox     {outbox}")?;
    writeln!(
        out,
        "Inbox      {} waiting to be acted on, {} waiting for the rest of their text",
        plural(unprocessed as usize, "text", "texts"),
        plural(waiting_parts as usize, "part", "parts")
    )?;
    if campaigns.is_empty() {
        writeln!(out, "Campaigns  none in progress")?;
    }
    for (i, (campaign, progress)) in campaigns.iter().enumerate() {
        let label = if i == 0 { "Campaigns" } else { "" };
        let mut line = format!(
            "{}: {}/{} sent, {} to go",
            campaign.id, progress.sent, progress.recipients, progress.pending
        );
        if progress.not_sent > 0 {
            line.push_str(&format!(", {} not sent", progress.not_sent));
        }
        writeln!(out, "{label:<10} {line}")?;
    }
    writeln!(
        out,
        "Callbacks  {} waiting",
        plural(callbacks, "request", "requests")
    )?;

    if let Some((at, what)) = beat.as_ref().and_then(|b| b.last_problem.as_ref()) {
        writeln!(out, "Problem    {what} ({})", show_time(*at, ctx))?;
    }
    if !alerts.is_empty() {
        writeln!(out)?;
        writeln!(out, "Latest alerts")?;
        alert_table(&alerts, ctx).write(out)?;
    }
    if !failures.is_empty() {
        writeln!(out)?;
        writeln!(out, "Latest failures")?;
        super::queues::failed_table(&failures, ctx).write(out)?;
    }
    Ok(verdict)
}

fn headline(
    beat: Option<&Heartbeat>,
    verdict: Verdict,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<(), AdminError> {
    let now = ctx.now;
    let Some(beat) = beat else {
        writeln!(
            out,
            "shiftsms is not running: it has never run on this database (no heartbeat). Start \
             it with `systemctl start shiftsms` (or `shiftsms run`)."
        )?;
        return Ok(());
    };
    let about = format!(
        "pid {}, version {}, started {}",
        beat.pid,
        beat.version,
        show_time(beat.started_at, ctx)
    );
    match verdict {
        Verdict::NotRunning if beat.health == DaemonHealth::Stopped => writeln!(
            out,
            "shiftsms is not running: it stopped at {} ({about}).",
            show_time(beat.written_at, ctx)
        )?,
        Verdict::NotRunning => writeln!(
            out,
            "shiftsms looks dead: its heartbeat was last written {} (it writes one every {}; \
             {} missed means dead or hung). Check `systemctl status shiftsms` and \
             `journalctl -u shiftsms`. Last known ({about}):",
            ago(beat.written_at, now),
            span(beat.every),
            STALE_AFTER_MISSED
        )?,
        Verdict::Ready => writeln!(
            out,
            "shiftsms is running and ready: texts flow (heartbeat {}; {about}).",
            ago(beat.written_at, now)
        )?,
        Verdict::ModemNotReady => writeln!(
            out,
            "shiftsms is running, but the modem is not ready: texts wait (heartbeat {}; {about}).",
            ago(beat.written_at, now)
        )?,
    }
    writeln!(out)?;
    Ok(())
}

fn modem(
    beat: &Heartbeat,
    verdict: Verdict,
    ctx: &Context,
    out: &mut impl Write,
) -> Result<(), AdminError> {
    let m = &beat.modem;
    let mut state = format!("{} since {}", m.condition, show_time(m.since, ctx));
    if let Some(detail) = &m.detail {
        state = format!(
            "{} ({detail}) since {}",
            m.condition,
            show_time(m.since, ctx)
        );
    }
    match m.answered_at {
        Some(at) => state.push_str(&format!("; last answered {}", ago(at, ctx.now))),
        None => state.push_str("; has not answered since shiftsms started"),
    }
    if verdict == Verdict::NotRunning {
        state.push_str(" (as last reported)");
    }
    writeln!(out, "Modem      {state}")?;
    let identity: Vec<String> = [
        m.manufacturer.clone(),
        m.model.clone(),
        m.imei.as_ref().map(|imei| format!("IMEI {imei}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut port = format!("port {}", m.port);
    if !identity.is_empty() {
        port.push_str(&format!("; {}", identity.join(" ")));
    }
    writeln!(out, "           {port}")?;
    let mut network = Vec::new();
    if let Some(operator) = &m.operator {
        network.push(format!("operator {operator}"));
    }
    if let Some(registration) = &m.registration {
        network.push(registration.clone());
    }
    match (m.signal_dbm, m.signal_rssi) {
        (Some(dbm), _) => network.push(format!("signal {dbm} dBm ({})", signal_words(dbm))),
        (None, Some(_)) => network.push("signal unknown".to_string()),
        (None, None) => {}
    }
    if !network.is_empty() {
        writeln!(out, "           {}", network.join(", "))?;
    }
    if let (Some(used), Some(total)) = (m.sim_used, m.sim_total) {
        let percent = if total > 0 {
            u64::from(used) * 100 / u64::from(total)
        } else {
            0
        };
        writeln!(
            out,
            "SIM        {used} of {total} message slots used ({percent}%)"
        )?;
    }
    Ok(())
}

fn alert_table(alerts: &[AlertRecord], ctx: &Context) -> Table {
    let mut table = Table::new(&["RAISED", "KIND", "TEXTED TO", "TEXT"]);
    for alert in alerts {
        let texted = match alert.recipients {
            0 => "nobody (no [alerts] numbers)".to_string(),
            n => plural(n as usize, "supervisor", "supervisors"),
        };
        table.row([
            show_time(alert.raised_at, ctx),
            alert.kind.to_string(),
            texted,
            shorten(&alert.text, 70),
        ]);
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::phone::E164;
    use crate::store::alerts::AlertKind;
    use crate::store::heartbeat::ModemReport;
    use crate::store::outbox::Outgoing;
    use jiff::tz::TimeZone;

    fn t(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    struct Site {
        _dir: tempfile::TempDir,
        ctx: Context,
    }

    fn site(now: &str) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let ctx = Context {
            database: dir.path().join("shiftsms.db"),
            default_country: "GB".parse().unwrap(),
            time_zone: TimeZone::UTC,
            now: t(now),
        };
        Store::open(&ctx.database).unwrap();
        Site { _dir: dir, ctx }
    }

    fn beat(written_at: &str, health: DaemonHealth, condition: ModemCondition) -> Heartbeat {
        Heartbeat {
            written_at: t(written_at),
            every: Duration::from_secs(60),
            pid: 4242,
            version: "0.1.0".into(),
            started_at: t("2025-03-03T07:00:00Z"),
            health,
            modem: ModemReport {
                port: "/dev/shiftsms-modem".into(),
                condition,
                detail: (condition == ModemCondition::Gone)
                    .then(|| "/dev/shiftsms-modem disappeared".to_string()),
                since: t("2025-03-03T07:00:05Z"),
                answered_at: Some(t("2025-03-03T07:59:50Z")),
                manufacturer: Some("HUAWEI".into()),
                model: Some("E3372".into()),
                imei: Some("867223011234567".into()),
                operator: Some("Vodafone UK".into()),
                registration: Some("registered (home network)".into()),
                signal_rssi: Some(19),
                signal_dbm: Some(-75),
                sim_used: Some(3),
                sim_total: Some(30),
            },
            last_problem: None,
        }
    }

    fn write(site: &Site, beat: &Heartbeat) {
        let mut store = Store::open(&site.ctx.database).unwrap();
        let tx = store.transaction().unwrap();
        tx.heartbeat().write(beat).unwrap();
        tx.commit().unwrap();
    }

    fn status(site: &Site) -> (Verdict, String) {
        let mut store = Store::open(&site.ctx.database).unwrap();
        let mut out = Vec::new();
        let verdict = run(&mut store, &site.ctx, &mut out).unwrap();
        (verdict, String::from_utf8(out).unwrap())
    }

    #[test]
    fn a_fresh_heartbeat_of_a_serving_daemon_is_ready() {
        let site = site("2025-03-03T08:00:12Z");
        write(
            &site,
            &beat(
                "2025-03-03T08:00:00Z",
                DaemonHealth::Serving,
                ModemCondition::Ready,
            ),
        );
        let mut store = Store::open(&site.ctx.database).unwrap();
        let tx = store.transaction().unwrap();
        let ann = E164::from_international("+447400123456").unwrap();
        tx.outbox()
            .queue(
                &Outgoing {
                    recipient: &ann,
                    text: "You got XYZ123",
                    kind: Kind::Reply,
                    cause: None,
                },
                site.ctx.now,
            )
            .unwrap();
        tx.employees().add(&ann, None, site.ctx.now).unwrap();
        tx.campaigns()
            .create("week-48", "XYZ123 Mon", site.ctx.now)
            .unwrap();
        tx.campaigns()
            .start(
                "week-48",
                1,
                "Available shifts: XYZ123 Mon",
                &[ann],
                site.ctx.now,
            )
            .unwrap();
        tx.callbacks()
            .queue(
                &E164::from_international("+447400654321").unwrap(),
                "my rota",
                None,
                site.ctx.now,
            )
            .unwrap();
        tx.alerts()
            .record(
                AlertKind::SimStorage,
                "",
                "shiftsms: the SIM's message storage is 25/30 full.",
                2,
                t("2025-03-03T07:30:00Z"),
            )
            .unwrap();
        tx.commit().unwrap();

        let (verdict, shown) = status(&site);
        assert_eq!(verdict, Verdict::Ready);
        assert_eq!(verdict.exit_code(), 0);
        assert_eq!(
            shown,
            "shiftsms is running and ready: texts flow (heartbeat 12 s ago; pid 4242, version \
             0.1.0, started 2025-03-03 07:00 UTC).\n\
             \n\
             Modem      ready since 2025-03-03 07:00 UTC; last answered 22 s ago\n\
             \x20          port /dev/shiftsms-modem; HUAWEI E3372 IMEI 867223011234567\n\
             \x20          operator Vodafone UK, registered (home network), signal -75 dBm (good)\n\
             SIM        3 of 30 message slots used (10%)\n\
             Outbox     2 queued, 0 sending (1 reply, 1 broadcast)\n\
             Inbox      0 texts waiting to be acted on, 0 parts waiting for the rest of their text\n\
             Campaigns  week-48: 0/1 sent, 1 to go\n\
             Callbacks  1 request waiting\n\
             \n\
             Latest alerts\n\
             RAISED                KIND         TEXTED TO      TEXT\n\
             2025-03-03 07:30 UTC  sim_storage  2 supervisors  shiftsms: the SIM's message storage is 25/30 full.\n"
        );
    }

    #[test]
    fn a_stale_heartbeat_means_the_daemon_looks_dead() {
        let site = site("2025-03-03T08:25:00Z");
        let mut last = beat(
            "2025-03-03T08:00:00Z",
            DaemonHealth::Serving,
            ModemCondition::Ready,
        );
        last.last_problem = Some((t("2025-03-03T07:30:00Z"), "modem gone: unplugged".into()));
        write(&site, &last);
        let (verdict, shown) = status(&site);
        assert_eq!(verdict, Verdict::NotRunning);
        assert_eq!(verdict.exit_code(), 2);
        assert!(
            shown.starts_with(
                "shiftsms looks dead: its heartbeat was last written 25 min ago (it writes one \
                 every 60 s; 3 missed means dead or hung)."
            ),
            "{shown}"
        );
        assert!(shown.contains("(as last reported)"), "{shown}");
        assert!(
            shown.contains("Problem    modem gone: unplugged (2025-03-03 07:30 UTC)"),
            "{shown}"
        );
        // Three minutes is still alive.
        let site = site_at(&site, "2025-03-03T08:03:00Z");
        assert_eq!(status(&site).0, Verdict::Ready);
    }

    fn site_at(site: &Site, now: &str) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let ctx = Context {
            now: t(now),
            ..site.ctx.clone()
        };
        Site { _dir: dir, ctx }
    }

    #[test]
    fn modem_away_stopped_and_never_started() {
        let site = site("2025-03-03T08:00:30Z");
        let (verdict, shown) = status(&site);
        assert_eq!(verdict, Verdict::NotRunning);
        assert!(
            shown.starts_with("shiftsms is not running: it has never run"),
            "{shown}"
        );

        let mut away = beat(
            "2025-03-03T08:00:00Z",
            DaemonHealth::ModemAway,
            ModemCondition::Gone,
        );
        away.modem.answered_at = None;
        write(&site, &away);
        let mut store = Store::open(&site.ctx.database).unwrap();
        let tx = store.transaction().unwrap();
        tx.outbox()
            .queue(
                &Outgoing {
                    recipient: &E164::from_international("+447400111111").unwrap(),
                    text: "shiftsms: modem not working",
                    kind: Kind::Alert,
                    cause: None,
                },
                site.ctx.now,
            )
            .unwrap();
        tx.commit().unwrap();
        let (verdict, shown) = status(&site);
        assert_eq!(verdict, Verdict::ModemNotReady);
        assert_eq!(verdict.exit_code(), 3);
        assert!(
            shown.contains(
                "Modem      gone (/dev/shiftsms-modem disappeared) since 2025-03-03 07:00 UTC; \
                 has not answered since shiftsms started"
            ),
            "{shown}"
        );
        assert!(
            shown.contains(
                "Outbox     1 queued, 0 sending (1 alert); 1 alert waiting for the modem"
            ),
            "{shown}"
        );

        write(
            &site,
            &beat(
                "2025-03-03T06:00:00Z",
                DaemonHealth::Stopped,
                ModemCondition::Ready,
            ),
        );
        let (verdict, shown) = status(&site);
        assert_eq!(verdict, Verdict::NotRunning);
        assert!(
            shown.starts_with("shiftsms is not running: it stopped at 2025-03-03 06:00 UTC"),
            "{shown}"
        );
    }

    #[test]
    fn spans_read_like_a_person_says_them() {
        let table = [
            (0, "0 s"),
            (119, "119 s"),
            (120, "2 min"),
            (3599, "59 min"),
            (3600, "1 h"),
            (12_000, "3 h 20 min"),
            (200_000, "2 days 7 h"),
        ];
        for (secs, shown) in table {
            assert_eq!(span(Duration::from_secs(secs)), shown);
        }
        assert_eq!(signal_words(-51), "good");
        assert_eq!(signal_words(-80), "fair");
        assert_eq!(signal_words(-100), "weak");
        assert_eq!(signal_words(-113), "very weak");
    }
}
