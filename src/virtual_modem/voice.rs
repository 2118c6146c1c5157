//! Voice calls (3GPP TS 27.007 §6.2 `ATD`, §7.13 `+CHLD`, §7.18 `+CLCC`; V.250 `ATA`/`ATH`).

use std::time::Instant;

use super::calls::{
    Call, CallDirection, CallEvent, CallEventKind, CallInfo, CallOutcome, CallScript, CallState,
    number_type,
};
use super::command::{Arg, Command, Op, split_args};
use super::core::{Exec, Final, Modem, Step, Timer};
use super::profile::DialResult;

/// TS 27.007 allows call ids 1..=7.
const MAX_CALL_ID: u8 = 7;

impl Modem {
    pub(crate) fn exec_voice(&mut self, now: Instant, cmd: &Command) -> Option<Exec> {
        Some(match (cmd.name.as_str(), &cmd.op) {
            ("D", Op::Set(dial)) => self.dial(now, dial),
            ("A", Op::Exec) => self.answer_call(now),
            ("H", Op::Exec) | ("+CHUP", Op::Exec) => {
                self.hang_up_all(now);
                Ok(Step::Info(Vec::new()))
            }
            ("H", Op::Set(v)) if v == "0" => {
                self.hang_up_all(now);
                Ok(Step::Info(Vec::new()))
            }
            ("+CHUP", Op::Test) | ("+CLCC", Op::Test) => Ok(Step::Info(Vec::new())),
            ("+CLCC", Op::Exec) => {
                let mut calls: Vec<&Call> = self.calls.iter().collect();
                calls.sort_by_key(|c| c.info.id);
                Ok(Step::Info(
                    calls.iter().map(|c| c.info.clcc_line()).collect(),
                ))
            }
            ("+CHLD", Op::Test) => Ok(Step::Info(vec![self.net.call_services.chld_test_line()])),
            ("+CHLD", Op::Set(v)) => self.chld(now, v),
            ("+CLIP", Op::Set(v)) => super::exec::one_number(v, 1).map(|n| {
                self.st.clip = n == 1;
                Step::Info(Vec::new())
            }),
            ("+CLIP", Op::Read) => Ok(Step::Info(vec![format!(
                "+CLIP: {},1",
                u8::from(self.st.clip)
            )])),
            ("+CLIP", Op::Test) => Ok(Step::Info(vec!["+CLIP: (0,1)".into()])),
            ("+CCWA", Op::Set(v)) => match split_args(v).first().and_then(Arg::number) {
                Some(n @ 0..=1) => {
                    self.st.ccwa = n == 1;
                    Ok(Step::Info(Vec::new()))
                }
                _ => Err(Final::Cme(50)),
            },
            ("+CCWA", Op::Read) => Ok(Step::Info(vec![format!(
                "+CCWA: {}",
                u8::from(self.st.ccwa)
            )])),
            ("+VTS", Op::Set(_)) => {
                if self.calls.iter().any(|c| c.info.state == CallState::Active) {
                    Ok(Step::Info(Vec::new()))
                } else {
                    Err(Final::Cme(3))
                }
            }
            _ => return None,
        })
    }

    fn log_call(&mut self, now: Instant, id: u8, number: &str, kind: CallEventKind) {
        self.note(now, format!("call {id} ({number}): {kind:?}"));
        self.call_log.push(CallEvent {
            id,
            number: number.to_string(),
            kind,
        });
    }

    fn vendor_line(&mut self, now: Instant, line: String) {
        if self.profile.vendor_call_lines {
            self.unsolicited_line(now, &line);
        }
    }

    fn free_call_id(&self) -> Option<u8> {
        (1..=MAX_CALL_ID).find(|id| !self.calls.iter().any(|c| c.info.id == *id))
    }

    fn call_mut(&mut self, id: u8) -> Option<&mut Call> {
        self.calls.iter_mut().find(|c| c.info.id == id)
    }

    fn remove_call(&mut self, id: u8) -> Option<Call> {
        let at = self.calls.iter().position(|c| c.info.id == id)?;
        Some(self.calls.remove(at))
    }

    fn script_for(&self, number: &str) -> CallScript {
        if let Some(script) = self.scripts.get(number) {
            return *script;
        }
        let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
        let wanted = digits(number);
        self.scripts
            .iter()
            .find(|(n, _)| digits(n) == wanted)
            .map(|(_, s)| *s)
            .unwrap_or_default()
    }

    fn dial(&mut self, now: Instant, raw: &str) -> Exec {
        let Some(number) = raw.strip_suffix(';') else {
            // No `;`: a data call, which this voice-and-SMS modem cannot make.
            return Err(Final::NoCarrier);
        };
        let number: String = number
            .chars()
            .filter(|c| !matches!(c, 'I' | 'i' | 'G' | 'g'))
            .collect();
        let valid = !number.is_empty()
            && number
                .chars()
                .enumerate()
                .all(|(i, c)| c.is_ascii_digit() || matches!(c, '*' | '#') || (c == '+' && i == 0));
        if !valid {
            return Err(Final::Error);
        }
        self.need_sim(now)?;
        if self.cfun != 1 || !self.reg.is_registered() {
            return Err(Final::Cme(30));
        }
        let setting_up = self.calls.iter().any(|c| {
            matches!(
                c.info.state,
                CallState::Dialling | CallState::Alerting | CallState::Incoming
            )
        });
        let has_active = self.calls.iter().any(|c| c.info.state == CallState::Active);
        let has_held = self.calls.iter().any(|c| c.info.state == CallState::Held);
        if setting_up || (has_active && has_held) {
            return Err(Final::Cme(3));
        }
        // A second call needs the first on hold: without call hold, one call at a time.
        if has_active && !self.net.call_services.hold {
            return Err(Final::Cme(3));
        }
        let id = self.free_call_id().ok_or(Final::Cme(3))?;
        // Dialling during a call puts that call on hold first (TS 22.083).
        for call in self
            .calls
            .iter_mut()
            .filter(|c| c.info.state == CallState::Active)
        {
            call.info.state = CallState::Held;
        }
        let held: Vec<(u8, String)> = self
            .calls
            .iter()
            .filter(|c| c.info.state == CallState::Held)
            .map(|c| (c.info.id, c.info.number.clone()))
            .collect();
        if has_active {
            for (held_id, held_number) in held {
                self.log_call(now, held_id, &held_number, CallEventKind::Held);
            }
        }
        let script = self.script_for(&number);
        self.calls.push(Call {
            info: CallInfo {
                id,
                direction: CallDirection::Outgoing,
                state: CallState::Dialling,
                number: number.clone(),
                multiparty: false,
            },
            script,
        });
        self.dials.push(number.clone());
        self.log_call(now, id, &number, CallEventKind::Dialled);
        self.vendor_line(now, format!("^ORIG:{id},0"));
        // A busy line is refused before it rings; everything else rings first if it lasts.
        let rings = script.outcome != CallOutcome::Busy;
        if rings && self.profile.alerting_after < script.after {
            self.schedule(now + self.profile.alerting_after, Timer::CallAlerting(id));
        }
        self.schedule(now + script.after, Timer::CallOutcome(id));
        match self.profile.dial_result {
            DialResult::Immediately => Ok(Step::Info(Vec::new())),
            DialResult::WhenAnswered => {
                self.pending_dial = Some(id);
                Ok(Step::Dialling)
            }
        }
    }

    pub(crate) fn call_alerting(&mut self, now: Instant, id: u8) {
        let Some(call) = self.call_mut(id) else {
            return;
        };
        if call.info.state != CallState::Dialling {
            return;
        }
        call.info.state = CallState::Alerting;
        let number = call.info.number.clone();
        self.log_call(now, id, &number, CallEventKind::Alerting);
        self.vendor_line(now, format!("^CONF:{id}"));
    }

    pub(crate) fn call_outcome(&mut self, now: Instant, id: u8) {
        let Some(call) = self.calls.iter().find(|c| c.info.id == id) else {
            return;
        };
        if !matches!(call.info.state, CallState::Dialling | CallState::Alerting) {
            return;
        }
        let (number, script) = (call.info.number.clone(), call.script);
        let waited = self.pending_dial == Some(id);
        if waited {
            self.pending_dial = None;
        }
        let (kind, fin, cause) = match script.outcome {
            CallOutcome::Answer => {
                if let Some(call) = self.call_mut(id) {
                    call.info.state = CallState::Active;
                }
                self.log_call(now, id, &number, CallEventKind::Answered);
                self.vendor_line(now, format!("^CONN:{id},0"));
                if let Some(after) = script.hang_up_after {
                    self.schedule(now + after, Timer::RemoteHangUp(id));
                }
                if waited {
                    self.finish_dial(now, Final::Ok);
                }
                return;
            }
            CallOutcome::Busy => (CallEventKind::Busy, Final::Busy, 17),
            CallOutcome::NoAnswer => (CallEventKind::NoAnswer, Final::NoAnswer, 19),
            CallOutcome::Reject => (CallEventKind::Rejected, Final::NoCarrier, 21),
        };
        self.remove_call(id);
        self.log_call(now, id, &number, kind);
        self.vendor_line(now, format!("^CEND:{id},0,104,{cause}"));
        if waited {
            self.finish_dial(now, fin);
        } else {
            let text = match fin {
                Final::Busy => "BUSY",
                Final::NoAnswer => "NO ANSWER",
                _ => "NO CARRIER",
            };
            self.unsolicited_line(now, text);
        }
    }

    /// The far end hangs up (scripted, or `VirtualModem::remote_hang_up`).
    pub(crate) fn remote_hang_up(&mut self, now: Instant, id: u8) -> bool {
        let Some(call) = self.remove_call(id) else {
            return false;
        };
        if self.pending_dial == Some(id) {
            self.pending_dial = None;
            self.finish_dial(now, Final::NoCarrier);
        } else {
            self.unsolicited_line(now, "NO CARRIER");
        }
        self.log_call(now, id, &call.info.number, CallEventKind::RemoteHangUp);
        self.vendor_line(now, format!("^CEND:{id},0,104,16"));
        true
    }

    /// Someone calls the SIM. Returns the call id, or `None` when the modem cannot take
    /// calls (off, unregistered, or all call ids in use).
    pub(crate) fn incoming_call(&mut self, now: Instant, from: &str) -> Option<u8> {
        if !self.powered || !self.reg.is_registered() {
            return None;
        }
        let id = self.free_call_id()?;
        let busy = self
            .calls
            .iter()
            .any(|c| matches!(c.info.state, CallState::Incoming | CallState::Waiting));
        if busy {
            return None;
        }
        let state = if self.calls.is_empty() {
            CallState::Incoming
        } else {
            CallState::Waiting
        };
        self.calls.push(Call {
            info: CallInfo {
                id,
                direction: CallDirection::Incoming,
                state,
                number: from.to_string(),
                multiparty: false,
            },
            script: CallScript::default(),
        });
        self.log_call(now, id, from, CallEventKind::Ringing);
        if state == CallState::Incoming {
            self.ring(now, id);
        } else if self.st.ccwa {
            let line = format!("+CCWA: \"{from}\",{},1", number_type(from));
            self.unsolicited_line(now, &line);
        }
        let give_up = self.net.caller_gives_up_after;
        self.schedule(now + give_up, Timer::CallerGivesUp(id));
        Some(id)
    }

    pub(crate) fn ring(&mut self, now: Instant, id: u8) {
        let Some(call) = self.calls.iter().find(|c| c.info.id == id) else {
            return;
        };
        if call.info.state != CallState::Incoming {
            return;
        }
        let number = call.info.number.clone();
        let mut lines = vec!["RING".to_string()];
        self.unsolicited(now, &lines);
        if self.st.clip {
            lines = vec![format!(
                "+CLIP: \"{number}\",{}{}",
                number_type(&number),
                self.profile.clip_suffix
            )];
            self.unsolicited(now, &lines);
        }
        self.schedule(now + self.profile.ring_every, Timer::Ring(id));
    }

    pub(crate) fn caller_gives_up(&mut self, now: Instant, id: u8) {
        let Some(call) = self.calls.iter().find(|c| c.info.id == id) else {
            return;
        };
        if !matches!(call.info.state, CallState::Incoming | CallState::Waiting) {
            return;
        }
        let number = call.info.number.clone();
        self.remove_call(id);
        self.log_call(now, id, &number, CallEventKind::CallerGaveUp);
        self.unsolicited_line(now, "NO CARRIER");
    }

    fn answer_call(&mut self, now: Instant) -> Exec {
        let Some(call) = self
            .calls
            .iter_mut()
            .find(|c| c.info.state == CallState::Incoming)
        else {
            return Err(Final::NoCarrier);
        };
        call.info.state = CallState::Active;
        let (id, number) = (call.info.id, call.info.number.clone());
        self.log_call(now, id, &number, CallEventKind::Answered);
        Ok(Step::Info(Vec::new()))
    }

    fn hang_up_all(&mut self, now: Instant) {
        let calls = std::mem::take(&mut self.calls);
        for call in calls {
            self.log_call(now, call.info.id, &call.info.number, CallEventKind::HungUp);
            self.vendor_line(now, format!("^CEND:{},0,104,16", call.info.id));
        }
    }

    /// Ends every call without a word on the line (power loss, radio off).
    pub(crate) fn drop_all_calls(&mut self) {
        self.pending_dial = None;
        for call in std::mem::take(&mut self.calls) {
            self.call_log.push(CallEvent {
                id: call.info.id,
                number: call.info.number,
                kind: CallEventKind::Dropped,
            });
        }
    }

    fn ids_in(&self, state: CallState) -> Vec<u8> {
        self.calls
            .iter()
            .filter(|c| c.info.state == state)
            .map(|c| c.info.id)
            .collect()
    }

    fn set_state(&mut self, now: Instant, id: u8, state: CallState) {
        let Some(call) = self.call_mut(id) else {
            return;
        };
        let was = call.info.state;
        call.info.state = state;
        let number = call.info.number.clone();
        let kind = match (was, state) {
            (CallState::Active, CallState::Held) => Some(CallEventKind::Held),
            (CallState::Held, CallState::Active) => Some(CallEventKind::Resumed),
            (CallState::Waiting | CallState::Incoming, CallState::Active) => {
                Some(CallEventKind::Answered)
            }
            _ => None,
        };
        if let Some(kind) = kind {
            self.log_call(now, id, &number, kind);
        }
    }

    fn hang_up(&mut self, now: Instant, id: u8) {
        if let Some(call) = self.remove_call(id) {
            self.log_call(now, id, &call.info.number, CallEventKind::HungUp);
        }
    }

    /// `AT+CHLD=<n>` call-related supplementary services (TS 27.007 §7.13, TS 22.030).
    fn chld(&mut self, now: Instant, raw: &str) -> Exec {
        let arg = raw.trim();
        let services = self.net.call_services;
        let granted = match arg.as_bytes() {
            [b'1', _] => services.release_one,
            [b'2', ..] => services.hold,
            [b'3'] => services.conference,
            [b'4'] => services.transfer,
            _ => true,
        };
        if !granted {
            return Err(Final::Cme(4));
        }
        let active = self.ids_in(CallState::Active);
        let held = self.ids_in(CallState::Held);
        let waiting = self.ids_in(CallState::Waiting);
        let not_allowed = Err(Final::Cme(3));
        match arg {
            "0" => {
                let doomed = if waiting.is_empty() { held } else { waiting };
                if doomed.is_empty() {
                    return not_allowed;
                }
                for id in doomed {
                    self.hang_up(now, id);
                }
            }
            "1" => {
                if active.is_empty() && waiting.is_empty() && held.is_empty() {
                    return not_allowed;
                }
                for id in active {
                    self.hang_up(now, id);
                }
                let next = if waiting.is_empty() { held } else { waiting };
                for id in next {
                    self.set_state(now, id, CallState::Active);
                }
            }
            "2" => {
                if active.is_empty() && waiting.is_empty() && held.is_empty() {
                    return not_allowed;
                }
                for id in &active {
                    self.set_state(now, *id, CallState::Held);
                }
                let next = if waiting.is_empty() { held } else { waiting };
                for id in next {
                    self.set_state(now, id, CallState::Active);
                    if let Some(call) = self.call_mut(id) {
                        call.info.multiparty = false;
                    }
                }
            }
            "3" => {
                if active.is_empty() || held.is_empty() {
                    return not_allowed;
                }
                for id in active.iter().chain(held.iter()) {
                    let Some(call) = self.call_mut(*id) else {
                        continue;
                    };
                    call.info.state = CallState::Active;
                    call.info.multiparty = true;
                    let number = call.info.number.clone();
                    self.log_call(now, *id, &number, CallEventKind::JoinedConference);
                }
            }
            "4" => return self.transfer(now),
            _ => {
                let (kind, id) = arg.split_at(1);
                let id: u8 = id.parse().map_err(|_| Final::Cme(3))?;
                if !self.calls.iter().any(|c| c.info.id == id) {
                    return not_allowed;
                }
                match kind {
                    "1" => self.hang_up(now, id),
                    "2" => {
                        for other in active.iter().filter(|a| **a != id) {
                            self.set_state(now, *other, CallState::Held);
                        }
                        self.set_state(now, id, CallState::Active);
                        if let Some(call) = self.call_mut(id) {
                            call.info.multiparty = false;
                        }
                    }
                    _ => return not_allowed,
                }
            }
        }
        Ok(Step::Info(Vec::new()))
    }

    /// Explicit call transfer (TS 22.091): a held call and an active or alerting one are
    /// joined and the modem leaves both.
    fn transfer(&mut self, now: Instant) -> Exec {
        let held: Vec<&Call> = self
            .calls
            .iter()
            .filter(|c| c.info.state == CallState::Held)
            .collect();
        let other: Vec<&Call> = self
            .calls
            .iter()
            .filter(|c| matches!(c.info.state, CallState::Active | CallState::Alerting))
            .collect();
        if held.len() != 1 || other.len() != 1 || self.calls.len() != 2 {
            return Err(Final::Cme(3));
        }
        let pair = [held[0].clone(), other[0].clone()];
        if pair.iter().any(|c| !c.script.transfer_allowed) {
            for call in &pair {
                self.log_call(
                    now,
                    call.info.id,
                    &call.info.number,
                    CallEventKind::TransferRefused,
                );
            }
            return Err(Final::Cme(3));
        }
        for call in &pair {
            self.remove_call(call.info.id);
            self.log_call(
                now,
                call.info.id,
                &call.info.number,
                CallEventKind::Transferred,
            );
        }
        Ok(Step::Info(Vec::new()))
    }
}
