//! What differs between modem families, as data (STYLE.md habit 7): chosen from what the modem
//! says about itself (`AT+CGMI`), before any vendor-specific code would be written.

use std::time::Duration;

/// One modem family's differences from the standard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quirks {
    /// Family name, for logs.
    pub family: &'static str,
    /// `AT+CNMI` parameter lists to try, preferred first (TS 27.005 §3.4.1). All are
    /// store-and-notify for messages (`<mt>`=1: `+CMTI`); they differ in buffering (`<mode>` 2
    /// keeps codes while the link is busy, 1 drops them) and status reports (`<ds>` 1 sends
    /// them as `+CDS`, 0 not at all).
    pub cnmi: &'static [&'static str],
    /// Vendor lines sent after identification, their refusal tolerated (e.g. Huawei's
    /// `AT^CURC=0`, which stops the periodic `^RSSI`/`^MODE`/`^BOOT` codes on the AT port).
    pub extra_init: &'static [&'static str],
    /// Hang-up commands to try, in order (`AT+CHUP` is TS 27.007 §6.5; some modems only know
    /// V.250's `ATH` for voice).
    pub hang_up: &'static [&'static str],
    /// Pause after a final result code before the next command.
    pub command_pause: Duration,
}

const STANDARD_CNMI: &[&str] = &["2,1,0,1,0", "2,1,0,0,0", "1,1,0,0,0", "1,1"];

impl Quirks {
    /// A modem that follows TS 27.005/27.007.
    pub const GENERIC: Quirks = Quirks {
        family: "generic",
        cnmi: STANDARD_CNMI,
        extra_init: &[],
        hang_up: &["AT+CHUP", "ATH"],
        command_pause: Duration::from_millis(20),
    };

    /// Huawei E-series USB sticks: periodic vendor codes are switched off with `AT^CURC=0`;
    /// voice calls are ended with `AT+CHUP`. (Their manuals suggest `AT+CNMI=2,1,0,2,0`, which
    /// stores status reports and announces them with `+CDSI`; the standard list's `<ds>`=1
    /// delivers them directly instead, so nothing has to be read back from "SR" storage.)
    pub const HUAWEI: Quirks = Quirks {
        family: "huawei",
        cnmi: STANDARD_CNMI,
        extra_init: &["AT^CURC=0"],
        hang_up: &["AT+CHUP", "ATH"],
        command_pause: Duration::from_millis(20),
    };

    /// SIMCom SIM800/SIM7x00: `ATH` ends voice calls; commands written straight after an
    /// answer are sometimes lost, hence a longer pause.
    pub const SIMCOM: Quirks = Quirks {
        family: "simcom",
        cnmi: STANDARD_CNMI,
        extra_init: &[],
        hang_up: &["ATH", "AT+CHUP"],
        command_pause: Duration::from_millis(50),
    };

    /// Quectel EC2x/BG9x/M95: standard, `ATH` preferred for voice.
    pub const QUECTEL: Quirks = Quirks {
        family: "quectel",
        cnmi: STANDARD_CNMI,
        extra_init: &[],
        hang_up: &["ATH", "AT+CHUP"],
        command_pause: Duration::from_millis(20),
    };

    /// shiftsms's own virtual modem (`AT+CGMI` answers `shiftsms`): an emulator on a
    /// pseudo-terminal takes every byte as it comes, so it needs no pause between commands.
    /// (Its profiles that imitate a vendor name that vendor, and get that vendor's pause.)
    pub const VIRTUAL: Quirks = Quirks {
        family: "virtual",
        command_pause: Duration::ZERO,
        ..Quirks::GENERIC
    };

    /// The quirks for the manufacturer named by `AT+CGMI`.
    pub fn for_manufacturer(manufacturer: &str) -> &'static Quirks {
        let m = manufacturer.to_ascii_lowercase();
        if m.contains("huawei") {
            &Quirks::HUAWEI
        } else if m.contains("simcom") {
            &Quirks::SIMCOM
        } else if m.contains("quectel") {
            &Quirks::QUECTEL
        } else if m.trim() == "shiftsms" {
            &Quirks::VIRTUAL
        } else {
            &Quirks::GENERIC
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chosen_from_the_manufacturer() {
        let table = [
            ("huawei", "huawei"),
            ("HUAWEI INCORPORATED", "huawei"),
            ("SIMCOM_Ltd", "simcom"),
            ("SIMCOM INCORPORATED", "simcom"),
            ("Quectel", "quectel"),
            ("ZTE INCORPORATED", "generic"),
            ("shiftsms", "virtual"),
            ("shiftsms modems inc", "generic"),
            ("", "generic"),
        ];
        for (cgmi, family) in table {
            assert_eq!(Quirks::for_manufacturer(cgmi).family, family, "{cgmi}");
        }
    }

    #[test]
    fn every_family_tries_store_and_notify_first() {
        for q in [
            &Quirks::GENERIC,
            &Quirks::HUAWEI,
            &Quirks::SIMCOM,
            &Quirks::QUECTEL,
            &Quirks::VIRTUAL,
        ] {
            assert!(
                q.cnmi.iter().all(|v| v.split(',').nth(1) == Some("1")),
                "{}",
                q.family
            );
            assert!(!q.hang_up.is_empty());
        }
    }
}
