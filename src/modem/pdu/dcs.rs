//! TP-Data-Coding-Scheme (TS 23.038 §4): which alphabet the user data is in, and the extras
//! some coding groups carry (message class, compression, message-waiting indication).

/// The character set of the user data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alphabet {
    /// GSM 7-bit default alphabet, packed septets; TP-UDL counts septets.
    Gsm7,
    /// 8-bit data; TP-UDL counts octets.
    EightBit,
    /// UCS-2 (read as UTF-16 big-endian, as phones send emoji); TP-UDL counts octets.
    Ucs2,
}

impl Alphabet {
    /// The DCS an outgoing message uses: general data coding group, uncompressed and, above
    /// all, *no message class*: class 1 would tell the phone where to store the message, a
    /// choice that belongs to the phone (TS 23.038 §4, a crate found sending it: FIELD-NOTES).
    pub fn plain_dcs(self) -> u8 {
        match self {
            Alphabet::Gsm7 => 0x00,
            Alphabet::EightBit => 0x04,
            Alphabet::Ucs2 => 0x08,
        }
    }
}

/// TS 23.038 §4 message classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageClass {
    /// Shown at once, not necessarily stored ("flash SMS").
    Class0,
    /// Stored by the mobile equipment.
    Class1,
    /// SIM-specific (stored on the SIM).
    Class2,
    /// Terminal equipment specific.
    Class3,
}

impl MessageClass {
    fn from_bits(bits: u8) -> Self {
        match bits & 0x03 {
            0 => MessageClass::Class0,
            1 => MessageClass::Class1,
            2 => MessageClass::Class2,
            _ => MessageClass::Class3,
        }
    }
}

/// What a message-waiting indication is about (TS 23.038 §4, groups 1100-1110).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WaitingKind {
    Voicemail,
    Fax,
    Email,
    Other,
}

/// A message-waiting indication carried in the DCS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageWaiting {
    pub kind: WaitingKind,
    /// Set: messages are waiting; clear: the indication is to be removed.
    pub active: bool,
    /// Group 1100 ("discard message") is clear, 1101 and 1110 ("store message") set.
    pub store: bool,
}

/// A decoded TP-DCS octet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DataCoding {
    /// The octet as received, for logs.
    pub raw: u8,
    pub alphabet: Alphabet,
    pub class: Option<MessageClass>,
    /// TS 23.042 compression; this codec does not decompress.
    pub compressed: bool,
    /// Coding group 01xx: the message may be deleted once read.
    pub auto_delete: bool,
    pub waiting: Option<MessageWaiting>,
}

impl DataCoding {
    /// Decode a DCS octet. Total: TS 23.038 §4 says a receiver treats reserved codings as
    /// the GSM 7-bit default alphabet, so every octet means something.
    pub fn decode(dcs: u8) -> Self {
        let plain = |alphabet| DataCoding {
            raw: dcs,
            alphabet,
            class: None,
            compressed: false,
            auto_delete: false,
            waiting: None,
        };
        match dcs >> 4 {
            // General data coding (00xx) and automatic deletion (01xx) share the low bits:
            // bit 5 compressed, bit 4 "bits 1..0 are a class", bits 3..2 alphabet.
            0x0..=0x7 => {
                let alphabet = match (dcs >> 2) & 0x03 {
                    0b01 => Alphabet::EightBit,
                    0b10 => Alphabet::Ucs2,
                    // 00 and reserved 11.
                    _ => Alphabet::Gsm7,
                };
                DataCoding {
                    class: (dcs & 0x10 != 0).then(|| MessageClass::from_bits(dcs)),
                    compressed: dcs & 0x20 != 0,
                    auto_delete: dcs & 0x40 != 0,
                    ..plain(alphabet)
                }
            }
            // Reserved coding groups 1000..1011.
            0x8..=0xB => plain(Alphabet::Gsm7),
            // Message waiting indication: discard (1100), store (1101), store UCS-2 (1110).
            group @ 0xC..=0xE => DataCoding {
                waiting: Some(MessageWaiting {
                    kind: match dcs & 0x03 {
                        0 => WaitingKind::Voicemail,
                        1 => WaitingKind::Fax,
                        2 => WaitingKind::Email,
                        _ => WaitingKind::Other,
                    },
                    active: dcs & 0x08 != 0,
                    store: group != 0xC,
                }),
                ..plain(if group == 0xE {
                    Alphabet::Ucs2
                } else {
                    Alphabet::Gsm7
                })
            },
            // Data coding / message class (1111): bit 2 selects 8-bit, bits 1..0 the class.
            _ => DataCoding {
                class: Some(MessageClass::from_bits(dcs)),
                ..plain(if dcs & 0x04 != 0 {
                    Alphabet::EightBit
                } else {
                    Alphabet::Gsm7
                })
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coding_groups() {
        use Alphabet::*;
        use MessageClass::*;
        // (dcs, alphabet, class, compressed, auto_delete), per TS 23.038 §4.
        let table: &[(u8, Alphabet, Option<MessageClass>, bool, bool)] = &[
            (0x00, Gsm7, None, false, false),
            (0x04, EightBit, None, false, false),
            (0x08, Ucs2, None, false, false),
            (0x0C, Gsm7, None, false, false), // reserved alphabet 11 → default alphabet
            (0x10, Gsm7, Some(Class0), false, false),
            (0x11, Gsm7, Some(Class1), false, false),
            (0x12, Gsm7, Some(Class2), false, false),
            (0x18, Ucs2, Some(Class0), false, false),
            (0x20, Gsm7, None, true, false),
            (0x3A, Ucs2, Some(Class2), true, false),
            (0x40, Gsm7, None, false, true),
            (0x48, Ucs2, None, false, true),
            (0x80, Gsm7, None, false, false), // reserved group
            (0xB7, Gsm7, None, false, false),
            (0xF0, Gsm7, Some(Class0), false, false),
            (0xF1, Gsm7, Some(Class1), false, false), // ModemManager test_pdu_dcsf1
            (0xF4, EightBit, Some(Class0), false, false),
            (0xF6, EightBit, Some(Class2), false, false),
        ];
        for &(dcs, alphabet, class, compressed, auto_delete) in table {
            let coding = DataCoding::decode(dcs);
            assert_eq!(coding.alphabet, alphabet, "{dcs:#04x}");
            assert_eq!(coding.class, class, "{dcs:#04x}");
            assert_eq!(coding.compressed, compressed, "{dcs:#04x}");
            assert_eq!(coding.auto_delete, auto_delete, "{dcs:#04x}");
            assert_eq!(coding.waiting, None, "{dcs:#04x}");
            assert_eq!(coding.raw, dcs);
        }
    }

    #[test]
    fn message_waiting_groups() {
        let table: &[(u8, Alphabet, WaitingKind, bool, bool)] = &[
            (0xC0, Alphabet::Gsm7, WaitingKind::Voicemail, false, false),
            (0xC8, Alphabet::Gsm7, WaitingKind::Voicemail, true, false),
            (0xD9, Alphabet::Gsm7, WaitingKind::Fax, true, true),
            (0xE2, Alphabet::Ucs2, WaitingKind::Email, false, true),
            (0xEB, Alphabet::Ucs2, WaitingKind::Other, true, true),
        ];
        for &(dcs, alphabet, kind, active, store) in table {
            let coding = DataCoding::decode(dcs);
            assert_eq!(coding.alphabet, alphabet, "{dcs:#04x}");
            assert_eq!(
                coding.waiting,
                Some(MessageWaiting {
                    kind,
                    active,
                    store
                }),
                "{dcs:#04x}"
            );
            assert_eq!(coding.class, None);
        }
    }

    #[test]
    fn outgoing_codings_carry_no_class() {
        for alphabet in [Alphabet::Gsm7, Alphabet::EightBit, Alphabet::Ucs2] {
            let coding = DataCoding::decode(alphabet.plain_dcs());
            assert_eq!(coding.alphabet, alphabet);
            assert_eq!(coding.class, None);
            assert!(!coding.compressed);
        }
        assert_eq!(Alphabet::Gsm7.plain_dcs(), 0x00);
        assert_eq!(Alphabet::Ucs2.plain_dcs(), 0x08);
    }

    #[test]
    fn every_octet_decodes() {
        for dcs in 0..=u8::MAX {
            let coding = DataCoding::decode(dcs);
            assert_eq!(coding.raw, dcs);
        }
    }
}
