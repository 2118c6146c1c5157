//! Modem families as data: every quirk the emulator can show is a field here, and the
//! presets ([`Profile::generic`], [`Profile::huawei`], ...) only choose values. A test that
//! needs an odd combination builds one with struct-update syntax:
//! `Profile { noise_every: None, ..Profile::huawei() }`.

use std::fmt;
use std::time::Duration;

/// A delay drawn uniformly (with the modem's seed) from `min..=max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DelayRange {
    pub min: Duration,
    pub max: Duration,
}

impl DelayRange {
    pub const ZERO: DelayRange = DelayRange {
        min: Duration::ZERO,
        max: Duration::ZERO,
    };

    pub const fn millis(min: u64, max: u64) -> DelayRange {
        DelayRange {
            min: Duration::from_millis(min),
            max: Duration::from_millis(max),
        }
    }

    pub const fn fixed(delay: Duration) -> DelayRange {
        DelayRange {
            min: delay,
            max: delay,
        }
    }
}

/// A line the modem prints by itself some time after an event (power-up, SIM unlocked).
/// `{cpin}` in the line is replaced by the SIM state as `+CPIN?` would name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedLine {
    pub after: Duration,
    pub line: String,
}

impl TimedLine {
    pub fn new(after_ms: u64, line: &str) -> TimedLine {
        TimedLine {
            after: Duration::from_millis(after_ms),
            line: line.to_string(),
        }
    }
}

/// The set of values a parameter accepts, printed the way `=?` answers show it: `(0-2)`,
/// `(0,2)`. Values 0..=15.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueSet(u16);

impl ValueSet {
    pub const fn of(values: &[u8]) -> ValueSet {
        let mut bits = 0u16;
        let mut i = 0;
        while i < values.len() {
            bits |= 1 << values[i];
            i += 1;
        }
        ValueSet(bits)
    }

    pub fn contains(self, value: u32) -> bool {
        value < 16 && self.0 & (1 << value) != 0
    }
}

impl fmt::Display for ValueSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values: Vec<u8> = (0..16).filter(|v| self.contains(u32::from(*v))).collect();
        let contiguous = values.windows(2).all(|w| w[1] == w[0] + 1);
        match (values.first(), values.last()) {
            (Some(first), Some(last)) if contiguous && values.len() > 2 => {
                write!(f, "({first}-{last})")
            }
            _ => {
                let list: Vec<String> = values.iter().map(u8::to_string).collect();
                write!(f, "({})", list.join(","))
            }
        }
    }
}

/// `+CNMI` settings (3GPP TS 27.005 §3.4.1): how new-message indications reach the DTE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cnmi {
    /// 0: buffer indications in the modem; 1: discard them while the link is busy;
    /// 2: buffer them while the link is busy and flush afterwards; 3: send them in-band.
    pub mode: u8,
    /// 0: store, no indication; 1: store and send `+CMTI`; 2: route directly as `+CMT`
    /// (class 2 stored); 3: class 3 directly, others stored with `+CMTI`.
    pub mt: u8,
    pub bm: u8,
    pub ds: u8,
    pub bfr: u8,
}

/// Which `+CNMI` values a modem accepts; anything else is refused with `+CMS ERROR: 303`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CnmiSupport {
    pub mode: ValueSet,
    pub mt: ValueSet,
    pub bm: ValueSet,
    pub ds: ValueSet,
    pub bfr: ValueSet,
}

/// What `+CMGR` answers for an index inside the storage that holds no message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmptySlotRead {
    /// Just `OK` (SIMCom and others).
    Ok,
    /// `+CMS ERROR: 321` (invalid memory index).
    InvalidIndex,
}

/// How the empty `<alpha>` field of `+CMGL`/`+CMGR`/`+CMT` looks in PDU mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlphaField {
    /// `+CMGL: 1,0,,23` (TS 27.005 shape, most modems).
    Empty,
    /// `+CMGL: 1,0,"",23` (Telit HE910 and others).
    EmptyQuotes,
}

/// When `ATD<number>;` gives its final result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialResult {
    /// `OK` as soon as the call is set up; BUSY / NO ANSWER / NO CARRIER come later as
    /// unsolicited results (most current modules).
    Immediately,
    /// No result until the remote side answers (`OK`) or fails (`BUSY`, ...), as V.250's
    /// dial command describes; the modem ignores commands meanwhile.
    WhenAnswered,
}

/// Identity strings (TS 27.007 §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub manufacturer: String,
    pub model: String,
    pub revision: String,
    pub imei: String,
    /// What `ATI` prints, one entry a line.
    pub ati: Vec<String>,
}

/// All the behaviour that differs between modem families.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub identity: Identity,
    /// Delay before every command's answer.
    pub response_delay: DelayRange,
    /// Delay between the PDU's Ctrl-Z and `+CMGS:` (the network round trip).
    pub cmgs_delay: DelayRange,
    /// Share of `AT+CMGS` submissions answered `+CMS ERROR: 500`.
    pub send_failure_percent: u8,
    /// Share of submissions that get no answer at all (the DTE must time out).
    pub send_timeout_percent: u8,
    /// Whether a submission that got no answer still reached the network (the ambiguous case).
    pub timed_out_sends_delivered: bool,
    /// Unsolicited noise; `{rssi}` is replaced by the current signal level.
    pub noise_lines: Vec<String>,
    /// How often noise is printed by itself; `None` for never.
    pub noise_every: Option<DelayRange>,
    /// Share of answers that carry a noise line between their information lines and their
    /// final result.
    pub noise_mid_response_percent: u8,
    /// The modem ignores everything it receives for this long after power-up.
    pub deaf_after_power_up: Duration,
    /// Lines printed after power-up (`RDY`, `+CPIN: {cpin}`...).
    pub boot_lines: Vec<TimedLine>,
    /// Lines printed after the SIM is unlocked (`Call Ready`, `SMS Ready`...).
    pub sim_ready_lines: Vec<TimedLine>,
    /// For this long after power-up the SIM is still initialising: `+CME ERROR: 14` /
    /// `+CMS ERROR: 314` (SIM busy).
    pub sim_busy_after_power_up: Duration,
    /// Time from SIM ready (or radio on) to registered on the home network.
    pub registration_delay: Duration,
    /// Index of the first SIM slot: 0 on Huawei and Qualcomm-based modems, 1 elsewhere.
    pub first_index: u16,
    /// Printed when a message arrives and the SIM is full (`^SMMEMFULL: "SM"` on Huawei).
    pub storage_full_line: Option<String>,
    pub cnmi_default: Cnmi,
    pub cnmi_supported: CnmiSupport,
    /// Final result for a command the modem does not know (`COMMAND NOT SUPPORT` on Huawei).
    pub unknown_command_reply: String,
    /// With `+CMEE=0`, print SMS errors as plain `ERROR` too (TS 27.005 says `+CMS ERROR`
    /// is always reported; some modems follow `+CMEE` anyway).
    pub cms_error_follows_cmee: bool,
    pub empty_slot_read: EmptySlotRead,
    pub alpha_field: AlphaField,
    /// Appended after `+CLIP: "<number>",<type>`: `,,,,0` or `,"",0,"",0`.
    pub clip_suffix: String,
    pub dial_result: DialResult,
    /// Print Huawei call progress lines (`^ORIG`, `^CONF`, `^CONN`, `^CEND`).
    pub vendor_call_lines: bool,
    /// Echo the PDU's characters typed after the `> ` prompt when echo is on.
    pub echo_pdu: bool,
    /// Interval between `RING`s of an unanswered incoming call.
    pub ring_every: Duration,
    /// How long a dialled call stays "dialling" before it is "alerting" (ringing remotely).
    pub alerting_after: Duration,
    /// Bits per second of the serial line, both ways (8N1: 10 bits a byte), or `None` for a
    /// pty's speed (instant). `Some(115_200)` makes the emulator as slow on the wire as a
    /// real modem at 115,200 baud, for benchmarks that compare against the line's limit.
    pub line_rate: Option<u32>,
}

/// The preset names `Profile::by_name` knows, for `--profile` and error messages.
pub const PROFILE_NAMES: [&str; 5] = ["generic", "huawei", "simcom", "slow", "flaky"];

impl Profile {
    /// A modem that follows TS 27.005 / 27.007 to the letter and answers at once.
    pub fn generic() -> Profile {
        Profile {
            name: "generic".into(),
            identity: Identity {
                manufacturer: "shiftsms".into(),
                model: "Virtual GSM modem".into(),
                revision: concat!("vm-", env!("CARGO_PKG_VERSION")).into(),
                imei: "490154203237518".into(),
                ati: vec![
                    "Manufacturer: shiftsms".into(),
                    "Model: Virtual GSM modem".into(),
                    concat!("Revision: vm-", env!("CARGO_PKG_VERSION")).into(),
                    "IMEI: 490154203237518".into(),
                    "+GCAP: +CGSM".into(),
                ],
            },
            response_delay: DelayRange::ZERO,
            cmgs_delay: DelayRange::ZERO,
            send_failure_percent: 0,
            send_timeout_percent: 0,
            timed_out_sends_delivered: false,
            noise_lines: Vec::new(),
            noise_every: None,
            noise_mid_response_percent: 0,
            deaf_after_power_up: Duration::ZERO,
            boot_lines: Vec::new(),
            sim_ready_lines: Vec::new(),
            sim_busy_after_power_up: Duration::ZERO,
            registration_delay: Duration::from_millis(50),
            first_index: 1,
            storage_full_line: None,
            cnmi_default: Cnmi {
                mode: 0,
                mt: 0,
                bm: 0,
                ds: 0,
                bfr: 0,
            },
            cnmi_supported: CnmiSupport {
                mode: ValueSet::of(&[0, 1, 2, 3]),
                mt: ValueSet::of(&[0, 1, 2, 3]),
                bm: ValueSet::of(&[0, 2]),
                ds: ValueSet::of(&[0, 1, 2]),
                bfr: ValueSet::of(&[0, 1]),
            },
            unknown_command_reply: "ERROR".into(),
            cms_error_follows_cmee: false,
            empty_slot_read: EmptySlotRead::InvalidIndex,
            alpha_field: AlphaField::Empty,
            clip_suffix: String::new(),
            dial_result: DialResult::Immediately,
            vendor_call_lines: false,
            echo_pdu: true,
            ring_every: Duration::from_secs(3),
            alerting_after: Duration::from_millis(200),
            line_rate: None,
        }
    }

    /// A Huawei USB stick (E173/E1550 family): status lines at any time, even between a
    /// command's information lines and its `OK`; SIM slots from 0; PDU mode only;
    /// `COMMAND NOT SUPPORT` for unknown commands.
    pub fn huawei() -> Profile {
        Profile {
            name: "huawei".into(),
            identity: Identity {
                manufacturer: "huawei".into(),
                model: "E173".into(),
                revision: "11.126.85.00.209".into(),
                imei: "356938035643809".into(),
                ati: vec![
                    "Manufacturer: huawei".into(),
                    "Model: E173".into(),
                    "Revision: 11.126.85.00.209".into(),
                    "IMEI: 356938035643809".into(),
                    "+GCAP: +CGSM,+DS,+ES".into(),
                ],
            },
            noise_lines: vec![
                "^RSSI:{rssi}".into(),
                "^BOOT:20952837,0,0,0,75".into(),
                "^MODE:5,4".into(),
                "^DSFLOWRPT:0000240E,00000000,00000000,00000000000AD623,0000000002BA6C1E,0003E800,0003E800".into(),
            ],
            noise_every: Some(DelayRange::millis(2_000, 6_000)),
            noise_mid_response_percent: 20,
            sim_ready_lines: vec![TimedLine::new(100, "^SIMST:1")],
            registration_delay: Duration::from_millis(300),
            first_index: 0,
            storage_full_line: Some("^SMMEMFULL: \"SM\"".into()),
            cnmi_supported: CnmiSupport {
                mode: ValueSet::of(&[0, 1, 2]),
                mt: ValueSet::of(&[0, 1, 2, 3]),
                bm: ValueSet::of(&[0, 2]),
                ds: ValueSet::of(&[0, 1, 2]),
                bfr: ValueSet::of(&[0, 1]),
            },
            unknown_command_reply: "COMMAND NOT SUPPORT".into(),
            clip_suffix: ",,,,0".into(),
            vendor_call_lines: true,
            ..Profile::generic()
        }
    }

    /// A SIMCom module (SIM800 family): a boot banner after every power-up (`RDY`,
    /// `+CFUN: 1`, `+CPIN: ...`, `Call Ready`, `SMS Ready`), indications on by default,
    /// `+CMGR` of an empty slot answered with a bare `OK`.
    pub fn simcom() -> Profile {
        Profile {
            name: "simcom".into(),
            identity: Identity {
                manufacturer: "SIMCOM_Ltd".into(),
                model: "SIMCOM_SIM800L".into(),
                revision: "Revision:1418B05SIM800L24".into(),
                imei: "866782042211354".into(),
                ati: vec!["SIM800 R14.18".into()],
            },
            deaf_after_power_up: Duration::from_millis(100),
            boot_lines: vec![
                TimedLine::new(150, "RDY"),
                TimedLine::new(250, "+CFUN: 1"),
                TimedLine::new(400, "+CPIN: {cpin}"),
            ],
            sim_ready_lines: vec![
                TimedLine::new(900, "Call Ready"),
                TimedLine::new(1_100, "SMS Ready"),
            ],
            sim_busy_after_power_up: Duration::from_millis(400),
            registration_delay: Duration::from_millis(1_500),
            cnmi_default: Cnmi {
                mode: 2,
                mt: 1,
                bm: 0,
                ds: 0,
                bfr: 0,
            },
            empty_slot_read: EmptySlotRead::Ok,
            clip_suffix: ",\"\",0,\"\",0".into(),
            ..Profile::generic()
        }
    }

    /// A modem on a slow bus or a congested network: every answer takes 200–800 ms and an
    /// SMS takes seconds to go out.
    pub fn slow() -> Profile {
        Profile {
            name: "slow".into(),
            response_delay: DelayRange::millis(200, 800),
            cmgs_delay: DelayRange::millis(2_000, 6_000),
            registration_delay: Duration::from_secs(2),
            ..Profile::generic()
        }
    }

    /// An old, unreliable module: some sends fail with `+CMS ERROR: 500`, some are never
    /// answered, and it only knows `+CNMI` modes 0 and 1 (so `AT+CNMI=2,...` is refused and
    /// the DTE must fall back). Repeatable for a given seed.
    pub fn flaky() -> Profile {
        Profile {
            name: "flaky".into(),
            send_failure_percent: 25,
            send_timeout_percent: 10,
            cnmi_supported: CnmiSupport {
                mode: ValueSet::of(&[0, 1]),
                mt: ValueSet::of(&[0, 1, 2, 3]),
                bm: ValueSet::of(&[0, 2]),
                ds: ValueSet::of(&[0, 1]),
                bfr: ValueSet::of(&[0, 1]),
            },
            cms_error_follows_cmee: true,
            ..Profile::generic()
        }
    }

    /// A preset by name (case-insensitive), see [`PROFILE_NAMES`].
    pub fn by_name(name: &str) -> Option<Profile> {
        match name.to_ascii_lowercase().as_str() {
            "generic" => Some(Profile::generic()),
            "huawei" => Some(Profile::huawei()),
            "simcom" => Some(Profile::simcom()),
            "slow" => Some(Profile::slow()),
            "flaky" => Some(Profile::flaky()),
            _ => None,
        }
    }
}

impl Default for Profile {
    fn default() -> Profile {
        Profile::generic()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_sets_print_like_test_command_answers() {
        assert_eq!(ValueSet::of(&[0, 1, 2, 3]).to_string(), "(0-3)");
        assert_eq!(ValueSet::of(&[0, 2]).to_string(), "(0,2)");
        assert_eq!(ValueSet::of(&[0, 1]).to_string(), "(0,1)");
        assert_eq!(ValueSet::of(&[1]).to_string(), "(1)");
        assert!(!ValueSet::of(&[0, 1]).contains(2));
        assert!(!ValueSet::of(&[0, 1]).contains(99));
    }

    #[test]
    fn every_name_has_a_preset() {
        for name in PROFILE_NAMES {
            let profile = Profile::by_name(name).expect("preset");
            assert_eq!(profile.name, name);
        }
        assert!(Profile::by_name("HUAWEI").is_some());
        assert!(Profile::by_name("nokia").is_none());
    }
}
