//! The daemon (`shiftsms run`): the modem, the store and the rules wired together as tasks
//! under one shutdown signal.
//!
//! # Layout
//!
//! | file | concern |
//! |---|---|
//! | [`shutdown`] | the one shutdown signal, injected by the caller |
//! | [`db`] | the database thread: one connection, jobs over a channel, `data_version` polling |
//! | [`process`] | one inbound text acted on in ONE transaction (rules, reply, processed mark) |
//! | [`campaigns`] | a new `shift_campaigns` row becomes exactly one broadcast, in a shuffled, recorded order |
//! | [`inbound`] | PDU → stored → assembled → acted on; the multipart assembler rebuilt after a restart |
//! | [`sim`] | the modem's message storage: list at ready, read on `+CMTI`, poll, delete only once kept |
//! | [`outbound`] | the outbox sender: one part at a time, in flight recorded before `AT+CMGS`, retries, pause |
//! | [`in_flight`] | what happens to a part whose fate is unknown (crash or no answer mid-send) |

pub mod campaigns;
pub mod db;
pub mod in_flight;
pub mod inbound;
pub mod outbound;
pub mod process;
pub mod shutdown;
pub mod sim;

use std::time::Duration;

/// Timings that are not worth a config key, with defaults for a site; tests and the demo
/// shorten them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuning {
    /// How often the database thread looks for other connections' commits (a person's
    /// `INSERT` into `shift_campaigns` is noticed within this).
    pub db_poll: Duration,
    /// How long the parts of a multipart text wait for the rest before the text is acted on
    /// with what arrived (gammu-smsd waits 600 s too).
    pub part_timeout: Duration,
    /// How often the SIM is listed in case the modem dropped a `+CMTI` (gammu and
    /// ModemManager both learnt that modems do).
    pub sim_poll: Duration,
    /// Wait before trying again after a database error (a lock held past the busy timeout).
    pub db_retry: Duration,
}

impl Default for Tuning {
    fn default() -> Tuning {
        Tuning {
            db_poll: Duration::from_millis(300),
            part_timeout: Duration::from_secs(600),
            sim_poll: Duration::from_secs(60),
            db_retry: Duration::from_secs(2),
        }
    }
}
