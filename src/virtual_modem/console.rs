//! `shiftsms virtual-modem`: the emulator on its own, for a person who wants to point
//! `shiftsms run` (or minicom) at a modem without owning one. It prints the port, then every
//! line crossing it, and takes a few commands on standard input to play the network.

use std::future::Future;
use std::io::Write;
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use super::core::RegStatus;
use super::tpdu;
use super::{VirtualModem, VmError, VmOptions};

/// What a person can type at the standalone modem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConsoleCommand {
    /// `sms <from> <text...>`: someone texts the SIM.
    Sms {
        from: String,
        text: String,
    },
    /// `pdu <hex>`: the network delivers this PDU (SMSC address + SMS-DELIVER).
    Pdu(Vec<u8>),
    /// `call <number>`: someone calls the SIM.
    Call(String),
    /// `hangup <id>`: the far end of a call hangs up.
    HangUp(u8),
    /// `signal <0-31>`
    Signal(u8),
    /// `network home|roaming|denied|searching|none`
    Network(RegStatus),
    Unplug,
    Replug,
    Help,
}

const HELP: &str = "\
commands:
  sms <from> <text> someone texts the SIM (from +44..., 07..., a short code or a name)
  pdu <hex>         the network delivers an SMS (SMSC address + SMS-DELIVER, in hex)
  call <number>     someone calls the SIM
  hangup <id>       the far end of call <id> hangs up
  signal <0-31>     change the signal level
  network home|roaming|denied|searching|none
  unplug | replug   pull the USB stick out / put it back
  help";

pub(crate) fn parse_console(line: &str) -> Result<Option<ConsoleCommand>, String> {
    let mut words = line.split_whitespace();
    let Some(verb) = words.next() else {
        return Ok(None);
    };
    let arg = words.next();
    let need = |what: &str| format!("{verb} needs {what} (try: help)");
    let command = match verb.to_ascii_lowercase().as_str() {
        "sms" => {
            let from = arg.ok_or_else(|| need("a sender and a text"))?.to_string();
            // The text is the rest of the line, spaces and all.
            let rest = line.trim_start()[verb.len()..].trim_start();
            let text = rest[from.len()..].trim().to_string();
            if text.is_empty() {
                return Err(need("a text after the sender"));
            }
            ConsoleCommand::Sms { from, text }
        }
        "pdu" => {
            let hex = arg.ok_or_else(|| need("a PDU in hex"))?;
            ConsoleCommand::Pdu(tpdu::decode_hex(hex).ok_or_else(|| format!("not hex: {hex}"))?)
        }
        "call" => ConsoleCommand::Call(arg.ok_or_else(|| need("a number"))?.to_string()),
        "hangup" => ConsoleCommand::HangUp(
            arg.and_then(|a| a.parse().ok())
                .ok_or_else(|| need("a call id"))?,
        ),
        "signal" => ConsoleCommand::Signal(
            arg.and_then(|a| a.parse().ok())
                .filter(|n| *n <= 31 || *n == 99)
                .ok_or_else(|| need("a level 0-31"))?,
        ),
        "network" => ConsoleCommand::Network(match arg.map(str::to_ascii_lowercase).as_deref() {
            Some("home") => RegStatus::Home,
            Some("roaming") => RegStatus::Roaming,
            Some("denied") => RegStatus::Denied,
            Some("searching") => RegStatus::Searching,
            Some("none") => RegStatus::NotRegistered,
            _ => return Err(need("home, roaming, denied, searching or none")),
        }),
        "unplug" => ConsoleCommand::Unplug,
        "replug" => ConsoleCommand::Replug,
        "help" | "?" => ConsoleCommand::Help,
        other => return Err(format!("unknown command {other:?} (try: help)")),
    };
    Ok(Some(command))
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM, so the symlink is removed either way.
pub async fn interrupted() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Lines typed on standard input, read by a thread (standard input cannot be polled
/// portably); the channel closes at end of input.
pub fn stdin_lines() -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel(16);
    let spawned = std::thread::Builder::new()
        .name("vm-stdin".into())
        .spawn(move || {
            for line in std::io::stdin().lines() {
                let Ok(line) = line else { return };
                if tx.blocking_send(line).is_err() {
                    return;
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("virtual modem: cannot read standard input: {e}");
    }
    rx
}

/// Runs a modem until `shutdown` resolves: prints where it is, echoes the transcript to
/// `out`, and obeys the commands arriving on `input` (its end is not a reason to stop).
pub async fn run_standalone(
    options: VmOptions,
    mut input: mpsc::Receiver<String>,
    mut out: impl Write,
    shutdown: impl Future<Output = ()>,
) -> Result<(), VmError> {
    let vm = VirtualModem::start(options)?;
    let (so_far, mut transcript) = vm
        .shared
        .peek(|m| (m.transcript.lines(), m.transcript.subscribe()));
    let _ = writeln!(
        out,
        "virtual modem ({} profile) on {}",
        vm.profile().name,
        vm.path().display()
    );
    if let Some(link) = vm.symlink() {
        let _ = writeln!(out, "  also reachable as {}", link.display());
    }
    let _ = writeln!(
        out,
        "set [modem] port = \"{}\" in config.toml; Ctrl-C stops; type help for commands",
        vm.port().display()
    );
    for line in so_far {
        let _ = writeln!(out, "{line}");
    }
    let mut reading = true;
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            line = transcript.recv() => match line {
                Ok(line) => {
                    let _ = writeln!(out, "{line}");
                }
                Err(RecvError::Lagged(n)) => {
                    let _ = writeln!(out, "({n} transcript lines skipped)");
                }
                Err(RecvError::Closed) => break,
            },
            typed = input.recv(), if reading => match typed {
                Some(text) => obey(&vm, &text, &mut out).await,
                None => reading = false,
            },
        }
    }
    let _ = out.flush();
    vm.unplug().await;
    Ok(())
}

async fn obey(vm: &VirtualModem, text: &str, out: &mut impl Write) {
    let reply = match parse_console(text) {
        Ok(None) => return,
        Err(message) => message,
        Ok(Some(command)) => match command {
            ConsoleCommand::Sms { from, text } => match vm.deliver_sms(&from, &text) {
                Ok(deliveries) => {
                    format!("delivered in {} part(s): {deliveries:?}", deliveries.len())
                }
                Err(e) => e.to_string(),
            },
            ConsoleCommand::Pdu(pdu) => match vm.deliver_pdu(&pdu) {
                Ok(delivery) => format!("delivered: {delivery:?}"),
                Err(e) => e.to_string(),
            },
            ConsoleCommand::Call(from) => match vm.incoming_call(&from) {
                Some(id) => format!("call {id} from {from} ringing"),
                None => "the modem cannot take a call now".into(),
            },
            ConsoleCommand::HangUp(id) => {
                if vm.remote_hang_up(id) {
                    format!("call {id} hung up")
                } else {
                    format!("no call {id}")
                }
            }
            ConsoleCommand::Signal(rssi) => {
                vm.set_signal(rssi);
                format!("signal {rssi}")
            }
            ConsoleCommand::Network(status) => {
                vm.set_network(status);
                format!("network {status:?}")
            }
            ConsoleCommand::Unplug => {
                vm.unplug().await;
                "unplugged".into()
            }
            ConsoleCommand::Replug => match vm.replug().await {
                Ok(path) => format!("plugged in again on {}", path.display()),
                Err(e) => e.to_string(),
            },
            ConsoleCommand::Help => HELP.into(),
        },
    };
    let _ = writeln!(out, "{reply}");
    // Let the transcript of what this caused print before the next prompt line.
    tokio::time::sleep(Duration::from_millis(10)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_commands() {
        let ok = |line: &str| parse_console(line).expect("parses");
        assert_eq!(ok(""), None);
        assert_eq!(ok("  "), None);
        assert_eq!(
            ok("sms +447400123456 XYZ123,  xyz222"),
            Some(ConsoleCommand::Sms {
                from: "+447400123456".into(),
                text: "XYZ123,  xyz222".into()
            })
        );
        assert_eq!(ok("pdu 0011"), Some(ConsoleCommand::Pdu(vec![0x00, 0x11])));
        assert_eq!(
            ok("CALL +447400123456"),
            Some(ConsoleCommand::Call("+447400123456".into()))
        );
        assert_eq!(ok("hangup 2"), Some(ConsoleCommand::HangUp(2)));
        assert_eq!(ok("signal 31"), Some(ConsoleCommand::Signal(31)));
        assert_eq!(
            ok("network denied"),
            Some(ConsoleCommand::Network(RegStatus::Denied))
        );
        assert_eq!(ok("unplug"), Some(ConsoleCommand::Unplug));
        assert_eq!(ok("replug"), Some(ConsoleCommand::Replug));
        assert_eq!(ok("help"), Some(ConsoleCommand::Help));
        for bad in [
            "pdu",
            "pdu 0G",
            "call",
            "hangup x",
            "signal 40",
            "network mars",
            "dance",
        ] {
            assert!(parse_console(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[tokio::test]
    async fn standalone_prints_the_port_and_obeys_typed_commands() {
        let (typed, input) = mpsc::channel(4);
        typed
            .send("network denied".to_string())
            .await
            .expect("send");
        typed.send("bogus".to_string()).await.expect("send");
        drop(typed);
        let mut out = Vec::new();
        run_standalone(
            VmOptions::default(),
            input,
            &mut out,
            tokio::time::sleep(Duration::from_millis(300)),
        )
        .await
        .expect("runs");
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.contains("virtual modem (generic profile) on /dev/pts/"),
            "{text}"
        );
        assert!(text.contains("network Denied"), "{text}");
        assert!(text.contains("unknown command \"bogus\""), "{text}");
    }
}
