//! Voice calls as the modem sees them (3GPP TS 27.007 §7.18 `+CLCC`, §7.13 `+CHLD`), and
//! how a test scripts the far end.

use std::time::Duration;

/// What the called party does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    /// Picks up: the call becomes active.
    Answer,
    /// The line is busy: the modem prints `BUSY`.
    Busy,
    /// Rings out: the modem prints `NO ANSWER`.
    NoAnswer,
    /// Declines (or the network refuses the call): the modem prints `NO CARRIER`.
    Reject,
}

/// The far end's behaviour for one number, set with `VirtualModem::script_call`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallScript {
    pub outcome: CallOutcome,
    /// Time from `ATD` to the outcome.
    pub after: Duration,
    /// For an answered call: the far end hangs up this long after answering.
    pub hang_up_after: Option<Duration>,
    /// Whether the network accepts an explicit call transfer (`AT+CHLD=4`) involving this call.
    pub transfer_allowed: bool,
}

impl CallScript {
    pub fn answered_after(after: Duration) -> CallScript {
        CallScript {
            outcome: CallOutcome::Answer,
            after,
            hang_up_after: None,
            transfer_allowed: true,
        }
    }

    pub fn busy() -> CallScript {
        CallScript {
            outcome: CallOutcome::Busy,
            after: Duration::from_millis(300),
            ..CallScript::default()
        }
    }

    pub fn no_answer_after(after: Duration) -> CallScript {
        CallScript {
            outcome: CallOutcome::NoAnswer,
            after,
            ..CallScript::default()
        }
    }

    pub fn rejected_after(after: Duration) -> CallScript {
        CallScript {
            outcome: CallOutcome::Reject,
            after,
            ..CallScript::default()
        }
    }

    pub fn hanging_up_after(self, after: Duration) -> CallScript {
        CallScript {
            hang_up_after: Some(after),
            ..self
        }
    }

    pub fn refusing_transfer(self) -> CallScript {
        CallScript {
            transfer_allowed: false,
            ..self
        }
    }
}

impl Default for CallScript {
    /// Answers after one second and stays on the line until someone hangs up.
    fn default() -> CallScript {
        CallScript::answered_after(Duration::from_secs(1))
    }
}

/// The call-related supplementary services the network grants this SIM (TS 22.030 §6.5.5:
/// hold, multiparty, explicit call transfer), as `AT+CHLD=?` lists them. A service not
/// granted is refused with `+CME ERROR: 4` (operation not supported), as a network without
/// the subscription does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallServices {
    /// Call hold (`2`, `2x`; and dialling a second call while one is active).
    pub hold: bool,
    /// Releasing one call by its index (`1x`).
    pub release_one: bool,
    /// Multiparty (`3`).
    pub conference: bool,
    /// Explicit call transfer (`4`).
    pub transfer: bool,
}

impl CallServices {
    /// Everything: what most networks grant.
    pub const ALL: CallServices = CallServices {
        hold: true,
        release_one: true,
        conference: true,
        transfer: true,
    };

    /// No supplementary service at all: one call at a time.
    pub const NONE: CallServices = CallServices {
        hold: false,
        release_one: false,
        conference: false,
        transfer: false,
    };

    /// The `+CHLD: (...)` line of `AT+CHLD=?`.
    pub(crate) fn chld_test_line(self) -> String {
        let mut offered = vec!["0", "1"];
        if self.release_one {
            offered.push("1x");
        }
        if self.hold {
            offered.extend(["2", "2x"]);
        }
        if self.conference {
            offered.push("3");
        }
        if self.transfer {
            offered.push("4");
        }
        format!("+CHLD: ({})", offered.join(","))
    }
}

impl Default for CallServices {
    fn default() -> CallServices {
        CallServices::ALL
    }
}

/// `<stat>` of `+CLCC` (TS 27.007 §7.18).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    Active = 0,
    Held = 1,
    Dialling = 2,
    Alerting = 3,
    Incoming = 4,
    Waiting = 5,
}

/// `<dir>` of `+CLCC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallDirection {
    /// Mobile originated: dialled by the DTE.
    Outgoing = 0,
    /// Mobile terminated: someone called the SIM.
    Incoming = 1,
}

/// One line of `+CLCC`, as a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallInfo {
    pub id: u8,
    pub direction: CallDirection,
    pub state: CallState,
    pub number: String,
    /// Part of a multiparty (conference) call.
    pub multiparty: bool,
}

impl CallInfo {
    /// The `+CLCC:` line (voice mode 0, number type 145 when international).
    pub(crate) fn clcc_line(&self) -> String {
        format!(
            "+CLCC: {},{},{},0,{},\"{}\",{}",
            self.id,
            self.direction as u8,
            self.state as u8,
            u8::from(self.multiparty),
            self.number,
            number_type(&self.number)
        )
    }
}

/// TS 24.008 type of number: 145 international (`+`), 129 unknown/national.
pub(crate) fn number_type(number: &str) -> u8 {
    if number.starts_with('+') { 145 } else { 129 }
}

/// What happened to a call, in order, for tests and the demo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallEvent {
    pub id: u8,
    pub number: String,
    pub kind: CallEventKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallEventKind {
    Dialled,
    Alerting,
    Answered,
    Busy,
    NoAnswer,
    Rejected,
    /// An incoming call started ringing.
    Ringing,
    /// The caller gave up before anyone answered.
    CallerGaveUp,
    /// The far end hung up.
    RemoteHangUp,
    /// The DTE hung up (`ATH`, `AT+CHUP`, `AT+CHLD=1x`...).
    HungUp,
    Held,
    Resumed,
    JoinedConference,
    /// Explicit call transfer: the two parties were connected and the modem dropped out.
    Transferred,
    TransferRefused,
    /// Lost without a word: the modem was unplugged, restarted or its radio turned off.
    Dropped,
}

/// A call the modem is handling.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) info: CallInfo,
    pub(crate) script: CallScript,
}

impl Call {
    pub(crate) fn is_live(&self) -> bool {
        matches!(self.info.state, CallState::Active | CallState::Held)
    }
}
