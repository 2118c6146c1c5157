//! General commands: V.250 basics, identification, SIM PIN, network (3GPP TS 27.007).

use std::time::Instant;

use super::command::{Arg, Command, Op, split_args};
use super::core::{CELL, Exec, Final, LAC, Modem, RegStatus, Step};
use super::sim::{PIN_TRIES, PUK_TRIES, SimLock, Unlock};

fn info(lines: Vec<String>) -> Exec {
    Ok(Step::Info(lines))
}

fn done() -> Exec {
    Ok(Step::Info(Vec::new()))
}

/// A basic command's 0/1 value (`E`, `E0`, `E1`).
fn flag(op: &Op) -> Result<bool, Final> {
    match op {
        Op::Exec => Ok(false),
        Op::Set(v) if v == "0" => Ok(false),
        Op::Set(v) if v == "1" => Ok(true),
        _ => Err(Final::Error),
    }
}

/// The single numeric argument of `+CMD=<n>`, within `max`.
pub(crate) fn one_number(raw: &str, max: u32) -> Result<u32, Final> {
    let args = split_args(raw);
    match args.as_slice() {
        [arg] => arg.number().filter(|n| *n <= max).ok_or(Final::Cme(50)),
        _ => Err(Final::Cme(50)),
    }
}

impl Modem {
    /// SIM state check for general commands (`+CME ERROR`).
    pub(crate) fn need_sim(&self, now: Instant) -> Result<(), Final> {
        if now < self.sim_busy_until {
            return Err(Final::Cme(14));
        }
        match self.sim_lock {
            SimLock::Ready => Ok(()),
            SimLock::PinRequired => Err(Final::Cme(11)),
            SimLock::PukRequired => Err(Final::Cme(12)),
            SimLock::Blocked => Err(Final::Cme(13)),
            SimLock::NotInserted => Err(Final::Cme(10)),
        }
    }

    pub(crate) fn exec_general(&mut self, now: Instant, cmd: &Command) -> Option<Exec> {
        let id = self.profile.identity.clone();
        Some(match (cmd.name.as_str(), &cmd.op) {
            ("E", op) => flag(op).map(|on| {
                self.st.echo = on;
                Step::Info(Vec::new())
            }),
            ("V", op) => flag(op).map(|on| {
                self.st.verbose = on;
                Step::Info(Vec::new())
            }),
            ("Q", op) => flag(op).map(|on| {
                self.st.quiet = on;
                Step::Info(Vec::new())
            }),
            ("Z" | "&F", Op::Exec) => {
                self.reset_settings();
                done()
            }
            ("Z" | "&F", Op::Set(v)) if v == "0" => {
                self.reset_settings();
                done()
            }
            ("&W" | "&D" | "&C" | "&K" | "X" | "L" | "M", Op::Exec | Op::Set(_)) => done(),
            ("I", Op::Exec) => info(id.ati.clone()),
            ("I", Op::Set(v)) if v == "0" => info(id.ati.clone()),
            (name, op)
                if name.starts_with('S') && name[1..].chars().all(|c| c.is_ascii_digit()) =>
            {
                self.s_register(name, op)
            }
            ("+CGMI" | "+GMI", Op::Exec) => info(vec![id.manufacturer.clone()]),
            ("+CGMM" | "+GMM", Op::Exec) => info(vec![id.model.clone()]),
            ("+CGMR" | "+GMR", Op::Exec) => info(vec![id.revision.clone()]),
            ("+CGSN" | "+GSN", Op::Exec) => info(vec![id.imei.clone()]),
            (
                "+CGMI" | "+GMI" | "+CGMM" | "+GMM" | "+CGMR" | "+GMR" | "+CGSN" | "+GSN",
                Op::Test,
            ) => done(),
            ("+GCAP", Op::Exec) => info(vec!["+GCAP: +CGSM".into()]),
            ("+CMEE", Op::Set(v)) => one_number(v, 2).map(|n| {
                self.st.cmee = n as u8;
                Step::Info(Vec::new())
            }),
            ("+CMEE", Op::Read) => info(vec![format!("+CMEE: {}", self.st.cmee)]),
            ("+CMEE", Op::Test) => info(vec!["+CMEE: (0-2)".into()]),
            ("+CSCS", Op::Read) => info(vec![format!("+CSCS: \"{}\"", self.st.cscs)]),
            ("+CSCS", Op::Test) => info(vec!["+CSCS: (\"IRA\",\"GSM\",\"UCS2\")".into()]),
            ("+CSCS", Op::Set(v)) => match split_args(v).first().and_then(Arg::text) {
                Some(set @ ("IRA" | "GSM" | "UCS2")) => {
                    self.st.cscs = set.to_string();
                    done()
                }
                _ => Err(Final::Cme(4)),
            },
            ("+CFUN", Op::Read) => info(vec![format!("+CFUN: {}", self.cfun)]),
            ("+CFUN", Op::Test) => info(vec!["+CFUN: (0,1,4),(0-1)".into()]),
            ("+CFUN", Op::Set(v)) => self.cfun_set(now, v),
            ("+CPAS", Op::Exec) => {
                let status = if self.calls.iter().any(|c| c.is_live()) {
                    4
                } else if !self.calls.is_empty() {
                    3
                } else {
                    0
                };
                info(vec![format!("+CPAS: {status}")])
            }
            ("+CPIN", Op::Read) => self
                .need_sim(now)
                .or_else(|e| match e {
                    // Locked states are what +CPIN? is for; only busy and dead SIMs fail.
                    Final::Cme(11 | 12) => Ok(()),
                    other => Err(other),
                })
                .map(|_| Step::Info(vec![format!("+CPIN: {}", self.cpin_text())])),
            ("+CPIN", Op::Test) => done(),
            ("+CPIN", Op::Set(v)) => self.cpin_set(now, v),
            ("+CPINR", Op::Exec) => info(self.cpinr_lines(None)),
            ("+CPINR", Op::Set(v)) => {
                let args = split_args(v);
                let wanted = args.first().and_then(Arg::text).map(str::to_string);
                let lines = self.cpinr_lines(wanted.as_deref());
                if lines.is_empty() {
                    Err(Final::Cme(50))
                } else {
                    info(lines)
                }
            }
            ("+CLCK", Op::Set(v)) => {
                let args = split_args(v);
                match (
                    args.first().and_then(Arg::text),
                    args.get(1).and_then(Arg::number),
                ) {
                    (Some("SC"), Some(2)) => {
                        info(vec![format!("+CLCK: {}", u8::from(self.sim.pin_enabled()))])
                    }
                    _ => Err(Final::Cme(4)),
                }
            }
            ("+CIMI", Op::Exec) => self
                .need_sim(now)
                .map(|_| Step::Info(vec![self.net.imsi.clone()])),
            ("+CSQ", Op::Exec) => {
                let rssi = if self.reg.is_registered() {
                    self.signal
                } else {
                    99
                };
                info(vec![format!("+CSQ: {rssi},99")])
            }
            ("+CSQ", Op::Test) => info(vec!["+CSQ: (0-31,99),(0-7,99)".into()]),
            ("+CREG", Op::Set(v)) => one_number(v, 2).map(|n| {
                self.st.creg = n as u8;
                Step::Info(Vec::new())
            }),
            ("+CREG", Op::Read) => {
                let (n, stat) = (self.st.creg, self.reg as u8);
                let line = if n == 2 && self.reg.is_registered() {
                    format!("+CREG: {n},{stat},\"{LAC}\",\"{CELL}\"")
                } else {
                    format!("+CREG: {n},{stat}")
                };
                info(vec![line])
            }
            ("+CREG", Op::Test) => info(vec!["+CREG: (0-2)".into()]),
            ("+COPS", Op::Read) => {
                let line = if self.reg.is_registered() {
                    let name = if self.st.cops_format == 2 {
                        &self.net.operator_numeric
                    } else {
                        &self.net.operator
                    };
                    format!("+COPS: 0,{},\"{name}\"", self.st.cops_format)
                } else {
                    "+COPS: 0".into()
                };
                info(vec![line])
            }
            ("+COPS", Op::Test) => self.need_sim(now).map(|_| {
                Step::Info(vec![format!(
                    "+COPS: (2,\"{}\",\"{}\",\"{}\"),,(0-4),(0-2)",
                    self.net.operator, self.net.operator, self.net.operator_numeric
                )])
            }),
            ("+COPS", Op::Set(v)) => {
                let args = split_args(v);
                match (
                    args.first().and_then(Arg::number),
                    args.get(1).and_then(Arg::number),
                ) {
                    (Some(0), _) => done(),
                    (Some(3), Some(format @ (0 | 2))) => {
                        self.st.cops_format = format as u8;
                        done()
                    }
                    _ => Err(Final::Cme(3)),
                }
            }
            _ => return None,
        })
    }

    fn reset_settings(&mut self) {
        let cnmi = self.profile.cnmi_default;
        self.st.echo = true;
        self.st.verbose = true;
        self.st.quiet = false;
        self.st.cmee = 0;
        self.st.cnmi = cnmi;
        self.st.creg = 0;
        self.st.clip = false;
        self.st.ccwa = false;
        self.st.cops_format = 0;
    }

    fn s_register(&mut self, name: &str, op: &Op) -> Exec {
        let index: usize = name[1..].parse().map_err(|_| Final::Error)?;
        let slot = self.st.s_regs.get_mut(index).ok_or(Final::Error)?;
        match op {
            Op::Read => info(vec![format!("{:03}", *slot)]),
            Op::Set(v) => {
                *slot = v.parse().map_err(|_| Final::Error)?;
                done()
            }
            _ => Err(Final::Error),
        }
    }

    fn cfun_set(&mut self, now: Instant, raw: &str) -> Exec {
        let args = split_args(raw);
        let fun = args.first().and_then(Arg::number).ok_or(Final::Cme(50))?;
        let reset = match args.get(1) {
            None | Some(Arg::Empty) => false,
            Some(arg) => match arg.number() {
                Some(0) => false,
                Some(1) => true,
                _ => return Err(Final::Cme(50)),
            },
        };
        if !matches!(fun, 0 | 1 | 4) {
            return Err(Final::Cme(50));
        }
        if reset {
            return Ok(Step::Reboot);
        }
        let was = self.cfun;
        self.cfun = fun as u8;
        if fun != 1 && was == 1 {
            self.drop_all_calls();
            self.set_reg(now, RegStatus::NotRegistered);
            self.note(now, format!("radio off (AT+CFUN={fun})"));
        } else if fun == 1 && was != 1 && self.sim_ready {
            self.start_registration(now);
        }
        done()
    }

    fn cpin_set(&mut self, now: Instant, raw: &str) -> Exec {
        if now < self.sim_busy_until {
            return Err(Final::Cme(14));
        }
        let args = split_args(raw);
        let code = args
            .first()
            .and_then(Arg::text)
            .ok_or(Final::Cme(50))?
            .to_string();
        let new_pin = args.get(1).and_then(Arg::text).map(str::to_string);
        let (outcome, state) = self.sim.enter(self.sim_lock, &code, new_pin.as_deref());
        let was = self.sim_lock;
        self.sim_lock = state;
        match outcome {
            Unlock::Accepted => {
                self.note(now, format!("SIM unlocked ({was:?} -> Ready)"));
                self.on_sim_ready(now, true);
                done()
            }
            Unlock::Wrong => {
                self.note(
                    now,
                    format!(
                        "wrong SIM code: {} PIN / {} PUK tries left",
                        self.sim.pin_tries_left, self.sim.puk_tries_left
                    ),
                );
                Err(Final::Cme(16))
            }
            Unlock::NotExpected => match state {
                SimLock::Blocked => Err(Final::Cme(13)),
                SimLock::NotInserted => Err(Final::Cme(10)),
                _ => Err(Final::Cme(3)),
            },
        }
    }

    /// TS 27.007 §8.65 `+CPINR: <code>,<retries>,<default_retries>`.
    fn cpinr_lines(&self, wanted: Option<&str>) -> Vec<String> {
        let all = [
            ("SIM PIN", self.sim.pin_tries_left, PIN_TRIES),
            ("SIM PUK", self.sim.puk_tries_left, PUK_TRIES),
        ];
        all.iter()
            .filter(|(name, _, _)| wanted.is_none_or(|w| w.eq_ignore_ascii_case(name)))
            .map(|(name, left, default)| format!("+CPINR: {name},{left},{default}"))
            .collect()
    }
}
