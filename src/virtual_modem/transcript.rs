//! Every line that crossed the virtual serial line, both ways, plus notes on what the
//! emulated network did. Tests print it when they fail; the demo prints it as the story.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use tokio::sync::broadcast;

/// Who a transcript line is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Typed by the DTE (the daemon): a command line, or a PDU after the `> ` prompt.
    ToModem,
    /// Printed by the modem: information lines, final results, unsolicited codes, prompts.
    FromModem,
    /// Something the emulated modem or network did that is not on the line (a message
    /// arriving, the USB stick being pulled out, output lost because no DTE had the port open).
    Note,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranscriptLine {
    /// Time since the modem was started.
    pub at: Duration,
    pub direction: Direction,
    pub text: String,
}

impl fmt::Display for TranscriptLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let arrow = match self.direction {
            Direction::ToModem => "DTE -> ",
            Direction::FromModem => "    <- ",
            Direction::Note => "   ** ",
        };
        write!(f, "{:>9.3}s {arrow}{}", self.at.as_secs_f64(), self.text)
    }
}

/// How many lines are kept; older ones are dropped so a modem left running stays small.
const KEEP: usize = 20_000;

pub(crate) struct Transcript {
    lines: VecDeque<TranscriptLine>,
    live: broadcast::Sender<TranscriptLine>,
}

impl Transcript {
    pub(crate) fn new() -> Transcript {
        Transcript {
            lines: VecDeque::new(),
            live: broadcast::channel(1024).0,
        }
    }

    pub(crate) fn push(&mut self, at: Duration, direction: Direction, text: String) {
        let line = TranscriptLine {
            at,
            direction,
            text,
        };
        // Nobody listening is normal: the send error only says so.
        let _ = self.live.send(line.clone());
        if self.lines.len() == KEEP {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }

    pub(crate) fn lines(&self) -> Vec<TranscriptLine> {
        self.lines.iter().cloned().collect()
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<TranscriptLine> {
        self.live.subscribe()
    }
}
