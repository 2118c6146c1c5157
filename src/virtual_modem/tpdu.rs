//! Just enough TPDU reading for the modem's own checks (3GPP TS 23.040 §9.2): is what the
//! DTE typed after `> ` a well-formed SMS-SUBMIT of the declared length, and what class is a
//! delivered message. Decoding texts is the codec's job, not the modem's.

use std::fmt;

/// Why a submitted PDU was refused; a modem answers all of these `+CMS ERROR: 304`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitFault {
    NotHex,
    /// `AT+CMGS=<length>` must count the TPDU's octets, without the SMSC address.
    LengthMismatch {
        declared: usize,
        actual: usize,
    },
    NotSubmit {
        first_octet: u8,
    },
    Truncated,
    UserDataLength {
        udl: u8,
        octets_expected: usize,
        octets_present: usize,
    },
}

impl fmt::Display for SubmitFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubmitFault::NotHex => write!(f, "PDU is not hexadecimal"),
            SubmitFault::LengthMismatch { declared, actual } => {
                write!(f, "AT+CMGS declared {declared} octets, TPDU has {actual}")
            }
            SubmitFault::NotSubmit { first_octet } => {
                write!(f, "first octet {first_octet:02X} is not an SMS-SUBMIT")
            }
            SubmitFault::Truncated => write!(f, "TPDU ends inside its header"),
            SubmitFault::UserDataLength {
                udl,
                octets_expected,
                octets_present,
            } => write!(
                f,
                "TP-UDL {udl} needs {octets_expected} octets of user data, {octets_present} present"
            ),
        }
    }
}

/// What the modem learns from a valid SMS-SUBMIT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Submit {
    /// The whole PDU as typed (SMSC address + TPDU).
    pub(crate) pdu: Vec<u8>,
    /// TP-DA, `+` prefixed when international.
    pub(crate) destination: String,
}

/// Decodes the hex typed after the prompt and checks it against `AT+CMGS=<declared>`.
pub(crate) fn check_submit(hex: &str, declared: usize) -> Result<Submit, SubmitFault> {
    let pdu = decode_hex(hex).ok_or(SubmitFault::NotHex)?;
    let sca_len = usize::from(*pdu.first().ok_or(SubmitFault::Truncated)?);
    let actual = pdu.len().saturating_sub(1 + sca_len);
    if actual != declared || pdu.len() < 1 + sca_len {
        return Err(SubmitFault::LengthMismatch { declared, actual });
    }
    let tpdu = &pdu[1 + sca_len..];
    let first = *tpdu.first().ok_or(SubmitFault::Truncated)?;
    if first & 0x03 != 0x01 {
        return Err(SubmitFault::NotSubmit { first_octet: first });
    }
    // first octet, TP-MR, then TP-DA: digit count, type of address, semi-octets.
    let digits = usize::from(*tpdu.get(2).ok_or(SubmitFault::Truncated)?);
    let toa = *tpdu.get(3).ok_or(SubmitFault::Truncated)?;
    let da_end = 4 + digits.div_ceil(2);
    let da = tpdu.get(4..da_end).ok_or(SubmitFault::Truncated)?;
    let destination = address_digits(toa, da, digits);
    // TP-PID, TP-DCS, TP-VP (per TP-VPF, bits 3-4), TP-UDL.
    let dcs = *tpdu.get(da_end + 1).ok_or(SubmitFault::Truncated)?;
    let vp_len = match (first >> 3) & 0x03 {
        0b00 => 0,
        0b10 => 1,
        _ => 7,
    };
    let udl_at = da_end + 2 + vp_len;
    let udl = *tpdu.get(udl_at).ok_or(SubmitFault::Truncated)?;
    let octets_present = tpdu.len() - udl_at - 1;
    let octets_expected = if is_seven_bit(dcs) {
        (usize::from(udl) * 7).div_ceil(8)
    } else {
        usize::from(udl)
    };
    if octets_expected != octets_present || octets_expected > 140 {
        return Err(SubmitFault::UserDataLength {
            udl,
            octets_expected,
            octets_present,
        });
    }
    Ok(Submit {
        pdu: pdu.clone(),
        destination,
    })
}

/// TS 23.038 §4: does this data coding scheme use the GSM 7-bit default alphabet?
fn is_seven_bit(dcs: u8) -> bool {
    match dcs >> 4 {
        // General data coding; bit 5 = compressed (then the data is 8-bit octets).
        0x0..=0x3 => dcs & 0x20 == 0 && (dcs >> 2) & 0x03 == 0,
        // Message waiting indication groups: 1100 and 1101 are 7-bit, 1110 is UCS-2.
        0xC | 0xD => true,
        0xE => false,
        0xF => dcs & 0x04 == 0,
        // Automatic deletion group (01xx) codes its alphabet like the general group.
        0x4..=0x7 => dcs & 0x20 == 0 && (dcs >> 2) & 0x03 == 0,
        _ => false,
    }
}

/// The message class of an SMS-DELIVER (TS 23.038 §4), if its DCS carries one.
pub(crate) fn deliver_class(pdu: &[u8]) -> Option<u8> {
    let sca_len = usize::from(*pdu.first()?);
    let tpdu = pdu.get(1 + sca_len..)?;
    let digits = usize::from(*tpdu.get(1)?);
    let oa_end = 3 + digits.div_ceil(2);
    let dcs = *tpdu.get(oa_end + 1)?;
    let has_class = match dcs >> 4 {
        0x0..=0x7 => dcs & 0x10 != 0,
        0xF => true,
        _ => false,
    };
    has_class.then_some(dcs & 0x03)
}

fn address_digits(toa: u8, semi_octets: &[u8], digits: usize) -> String {
    let mut out = String::new();
    if toa & 0x70 == 0x10 {
        out.push('+');
    }
    for (i, byte) in semi_octets.iter().enumerate() {
        for (j, nibble) in [byte & 0x0F, byte >> 4].into_iter().enumerate() {
            if i * 2 + j >= digits {
                break;
            }
            out.push(match nibble {
                0..=9 => char::from(b'0' + nibble),
                0xA => '*',
                0xB => '#',
                0xC => 'a',
                0xD => 'b',
                0xE => 'c',
                _ => '?',
            });
        }
    }
    out
}

pub(crate) fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    hex.as_bytes()
        .chunks(2)
        .map(|pair| {
            let text = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(text, 16).ok()
        })
        .collect()
}

pub(crate) fn encode_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    // "hellohello" to +447400123456, 7-bit, relative validity (TS 23.040 layout).
    const SUBMIT: &str = "0011000C914447002143650000AA0AE8329BFD4697D9EC37";

    #[test]
    fn a_well_formed_submit_is_accepted() {
        let submit = check_submit(SUBMIT, 23).expect("valid");
        assert_eq!(submit.destination, "+447400123456");
        assert_eq!(submit.pdu.len(), 24);
    }

    #[test]
    fn faults() {
        let table: Vec<(&str, usize, SubmitFault)> = vec![
            ("0011000C914447002143650", 23, SubmitFault::NotHex),
            ("00110G", 2, SubmitFault::NotHex),
            (
                SUBMIT,
                24,
                SubmitFault::LengthMismatch {
                    declared: 24,
                    actual: 23,
                },
            ),
            (
                SUBMIT,
                22,
                SubmitFault::LengthMismatch {
                    declared: 22,
                    actual: 23,
                },
            ),
            ("0004", 1, SubmitFault::NotSubmit { first_octet: 0x04 }),
            ("001100", 2, SubmitFault::Truncated),
            // UDL claims 11 septets but only 9 octets follow... (10 septets fit in 9).
            (
                "0011000C914447002143650000AA0BE8329BFD4697D9EC37",
                23,
                SubmitFault::UserDataLength {
                    udl: 11,
                    octets_expected: 10,
                    octets_present: 9,
                },
            ),
            // UCS-2 (DCS 08): UDL counts octets.
            (
                "0011000C914447002143650008AA04004100",
                17,
                SubmitFault::UserDataLength {
                    udl: 4,
                    octets_expected: 4,
                    octets_present: 3,
                },
            ),
        ];
        for (hex, declared, fault) in table {
            assert_eq!(check_submit(hex, declared), Err(fault), "{hex}");
        }
    }

    #[test]
    fn ucs2_and_no_validity_period_are_measured_correctly() {
        // VPF 00 (no TP-VP), UCS-2 "AB".
        let hex = "0001000C9144470021436500080400410042";
        assert_eq!(
            check_submit(hex, 17).map(|s| s.destination),
            Ok("+447400123456".into())
        );
    }

    #[test]
    fn delivered_message_class() {
        // SMS-DELIVER from +447400123456, DCS 0x00 (no class) and 0xF0 / 0x12 (class 0 / 2).
        let plain = decode_hex("0791447758100650040C9144470021436500002101013212350005E8329BFD06")
            .expect("hex");
        assert_eq!(deliver_class(&plain), None);
        let class2 = decode_hex("0791447758100650040C9144470021436500122101013212350005E8329BFD06")
            .expect("hex");
        assert_eq!(deliver_class(&class2), Some(2));
    }

    #[test]
    fn hex_round_trip() {
        assert_eq!(encode_hex(&[0x00, 0xAB, 0x1F]), "00AB1F");
        assert_eq!(decode_hex("00ab1F"), Some(vec![0x00, 0xAB, 0x1F]));
        assert_eq!(decode_hex("0"), None);
    }
}
