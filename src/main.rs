//! The `shiftsms` command line: parse arguments, load the config, call into the library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use shiftsms::admin::{self, AdminCommand};
use shiftsms::config::Config;
use shiftsms::daemon::{self, Tuning, demo, shutdown::Shutdown, systemd::Systemd};
use shiftsms::drop::import::{ImportOptions, Mode, Outcome};
use shiftsms::logging;
use shiftsms::modem;
use shiftsms::modem::pdu::gsm7;
use shiftsms::virtual_modem::{self, PROFILE_NAMES, Profile, VmOptions};

#[derive(Debug, Parser)]
#[command(version, about, arg_required_else_help = true)]
struct Cli {
    /// Configuration file.
    #[arg(long, global = true, default_value = "config.toml")]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The daemon, in the foreground: texts employees the shifts and acts on their replies
    /// until SIGTERM or SIGINT. Logs to the journal under systemd, otherwise to stderr
    /// ([logging] in the config; RUST_LOG=debug for more).
    Run,
    /// Try shiftsms without hardware or set-up: the daemon on a built-in virtual modem with
    /// sample shifts and employees, playing a short conversation as a transcript.
    Demo {
        /// Type the employees' texts yourself instead.
        #[arg(long)]
        interactive: bool,
    },
    /// Show how many SMS parts a text costs and in which alphabet (useful when writing templates).
    SmsCost {
        /// The text, as it would be sent.
        text: String,
    },
    /// The configuration file.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Import a CSV file of shifts, employees or campaigns, all or nothing, as if it were
    /// dropped into the drop folder (the file is left where it is).
    Import {
        /// The file: CSV UTF-8 (comma or semicolon) or Excel "Unicode Text", with a header row
        /// naming its columns (shift_id,shift_info / phone,name / campaign_id,shifts).
        file: PathBuf,
        /// Check the file and say what it would change, without changing anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// The GSM modem.
    Modem {
        #[command(subcommand)]
        action: ModemAction,
    },
    /// How the site is, from the database (never touching the modem the daemon holds): the
    /// daemon's heartbeat, the modem, the SIM, queues, campaigns, callbacks, alerts and
    /// failures. Exit status: 0 running and ready, 3 running but the modem is not ready,
    /// 2 not running (never started, stopped, or no heartbeat for 3 minutes: dead or hung),
    /// 1 error.
    Status,
    #[command(flatten)]
    Admin(AdminCommand),
    /// Run a virtual GSM modem on a pseudo-terminal and print its device path, so `shiftsms
    /// run` can be tried without hardware (point `[modem] port` at it). Ctrl-C stops it.
    VirtualModem {
        /// Modem family to imitate: generic, huawei, simcom, slow or flaky.
        #[arg(long, default_value = "generic")]
        profile: String,
        /// Keep this symlink pointing at the modem's port, like /dev/serial/by-id/... .
        #[arg(long)]
        link: Option<PathBuf>,
        /// SIM PIN the modem asks for (none by default).
        #[arg(long)]
        pin: Option<String>,
        /// Seed for the profile's random delays, failures and noise.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Debug, Subcommand)]
enum ModemAction {
    /// List serial ports with their USB ids and stable /dev/serial/by-id names.
    List,
    /// Open the modem, run the init sequence, and show model, IMEI, SIM, operator,
    /// registration, signal, SMS centre, storage and refused init steps.
    Probe {
        /// Probe this port instead of `[modem] port` (no config file needed).
        #[arg(long)]
        port: Option<PathBuf>,
        /// Baud rate with --port.
        #[arg(long, default_value_t = 115_200, requires = "port")]
        baud: u32,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigAction {
    /// Load and check every key and template; print the warnings; exit non-zero on an error.
    Check,
}

/// Errors end the program with one readable line (the error and its causes) and exit status 1:
/// the people reading them are site managers and IT staff, not Rust developers, so no
/// backtrace even when `RUST_BACKTRACE` happens to be set.
fn main() -> ExitCode {
    match try_main() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("Error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn try_main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Run => {
            let config = Config::load(&cli.config)?;
            logging::init(&config.logging);
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async {
                let shutdown = Shutdown::on(termination()?);
                let systemd = Systemd::from_env().context("NOTIFY_SOCKET")?;
                daemon::run(config, Tuning::default(), systemd, shutdown).await?;
                anyhow::Ok(())
            })?;
        }
        Command::Demo { interactive } => {
            logging::init_stderr("warn");
            let runtime = tokio::runtime::Runtime::new()?;
            let mut out = std::io::stdout();
            runtime.block_on(async {
                if interactive {
                    let prompt = std::io::IsTerminal::is_terminal(&std::io::stdin());
                    demo::interactive(virtual_modem::stdin_lines(), prompt, &mut out).await
                } else {
                    demo::scripted(&mut out).await
                }
            })?;
        }
        Command::SmsCost { text } => {
            let plan = gsm7::plan(&text);
            let alphabet = match plan.encoding {
                gsm7::Encoding::Gsm7 => "GSM 7-bit",
                gsm7::Encoding::Ucs2 => "UCS-2 (a character is outside the GSM alphabet)",
            };
            println!("{} SMS part(s), {alphabet}", plan.part_count());
        }
        Command::Config {
            action: ConfigAction::Check,
        } => {
            let config = Config::load(&cli.config)?;
            for warning in &config.warnings {
                eprintln!("warning: {warning}");
            }
            println!(
                "{}: OK ({} warning(s)); modem {} at {} baud, database {}, {} agent number(s)",
                config.file.display(),
                config.warnings.len(),
                config.modem.port.display(),
                config.modem.baud,
                config.database.path.display(),
                config.agent.numbers.len()
            );
        }
        Command::Import { file, dry_run } => {
            let config = Config::load(&cli.config)?;
            let options = ImportOptions {
                default_country: config.phone.default_country,
            };
            let mode = if dry_run { Mode::DryRun } else { Mode::Apply };
            let outcome = shiftsms::drop::command::run(
                &file,
                &config.database.path,
                options,
                mode,
                Timestamp::now(),
                &mut std::io::stdout().lock(),
            )?;
            if let Outcome::Rejected { problems, .. } = outcome {
                anyhow::bail!(
                    "{} was not imported: {} problem(s), listed above",
                    file.display(),
                    problems.len()
                );
            }
        }
        Command::Modem {
            action: ModemAction::List,
        } => {
            let ports = modem::ports::list_ports()?;
            if ports.is_empty() {
                println!("no serial ports found (is the modem plugged in?)");
            }
            for port in ports {
                println!("{port}");
            }
        }
        Command::Modem {
            action: ModemAction::Probe { port, baud },
        } => {
            let settings = match port {
                Some(port) => modem::ModemSettings::new(port, baud, None),
                None => {
                    let config = Config::load(&cli.config)?;
                    let pin = config
                        .modem
                        .pin
                        .as_deref()
                        .map(modem::Pin::new)
                        .transpose()
                        .context("modem.pin")?;
                    modem::ModemSettings::new(config.modem.port, config.modem.baud, pin)
                }
            };
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let report = runtime.block_on(modem::probe::probe(&settings))?;
            print!("{report}");
            if let Some(stopped) = report.stopped {
                anyhow::bail!("the modem is not usable: {stopped}");
            }
        }
        Command::Status => {
            let ctx = admin_context(&cli.config)?;
            let verdict = admin::status(&ctx, &mut std::io::stdout().lock())?;
            return Ok(ExitCode::from(verdict.exit_code()));
        }
        Command::Admin(command) => {
            let ctx = admin_context(&cli.config)?;
            admin::run(&command, &ctx, &mut std::io::stdout().lock())?;
        }
        Command::VirtualModem {
            profile,
            link,
            pin,
            seed,
        } => {
            let Some(profile) = Profile::by_name(&profile) else {
                anyhow::bail!(
                    "unknown profile {profile:?}; known: {}",
                    PROFILE_NAMES.join(", ")
                );
            };
            let options = VmOptions {
                profile,
                pin,
                symlink: link,
                seed,
                ..VmOptions::default()
            };
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(virtual_modem::run_standalone(
                options,
                virtual_modem::stdin_lines(),
                std::io::stdout(),
                virtual_modem::interrupted(),
            ))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// What the admin commands need, from the config.
fn admin_context(config: &std::path::Path) -> anyhow::Result<admin::Context> {
    let config = Config::load(config)?;
    Ok(admin::Context {
        database: config.database.path,
        default_country: config.phone.default_country,
        time_zone: TimeZone::system(),
        now: Timestamp::now(),
    })
}

/// Completes on SIGTERM (systemd stopping the unit) or SIGINT (Ctrl-C). The handlers are
/// installed before this returns, so a signal that comes early is not lost.
fn termination() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!("{name} received: stopping at the next safe point");
    })
}
