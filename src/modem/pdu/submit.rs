//! SMS-SUBMIT (TS 23.040 §9.2.2.2): what the daemon sends. Encoding splits a text with the
//! one planning rule ([`gsm7::plan`]); decoding exists for the virtual modem, which reads
//! back what the daemon wrote after `AT+CMGS`.

use std::time::Duration;

use super::address::Address;
use super::dcs::DataCoding;
use super::envelope::{Pdu, split_smsc};
use super::error::{DecodeError, EncodeError};
use super::gsm7;
use super::reader::Reader;
use super::timestamp::Timestamp;
use super::udh::Concat;
use super::user_data;

const MTI_SUBMIT: u8 = 0b01;
const RD: u8 = 0x04;
const VPF_MASK: u8 = 0x18;
const VPF_ENHANCED: u8 = 0x08;
const VPF_RELATIVE: u8 = 0x10;
const VPF_ABSOLUTE: u8 = 0x18;
const SRR: u8 = 0x20;
pub(crate) const UDHI: u8 = 0x40;
const RP: u8 = 0x80;

/// TP-Validity-Period (TS 23.040 §9.2.3.12): how long the SMSC keeps trying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// Relative format. Encoding rounds up to the next period the format can express (5
    /// minutes to 12 hours in 5-minute steps, then 30-minute steps to a day, days to 30
    /// days, weeks to 63 weeks), so the message never expires earlier than asked.
    Relative(Duration),
    /// Absolute format: the time the message expires.
    Absolute(Timestamp),
    /// Enhanced format (§9.2.3.12.3), 7 octets kept as they are.
    Enhanced([u8; 7]),
}

/// Choices for outgoing messages. The default is what the daemon wants: no status report,
/// the SMSC's default validity, concatenation reference 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SubmitOptions {
    /// TP-SRR: ask the network for an SMS-STATUS-REPORT.
    pub status_report: bool,
    pub validity: Option<Validity>,
    /// Reference shared by the parts of one multipart message. The caller picks it (e.g. a
    /// counter stored with the outbox) so a resend after a crash can reuse it.
    pub concat_reference: u8,
}

/// A decoded SMS-SUBMIT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submit {
    pub smsc: Option<Address>,
    /// TP-MR; 0 from this daemon (the modem assigns the real one and reports it in `+CMGS:`).
    pub message_reference: u8,
    pub recipient: Address,
    pub reject_duplicates: bool,
    pub status_report: bool,
    pub reply_path: bool,
    pub protocol_id: u8,
    pub coding: DataCoding,
    pub validity: Option<Validity>,
    pub concat: Option<Concat>,
    pub text: String,
}

/// Encode `text` to `to` as one SMS-SUBMIT per part: GSM 7-bit when every character allows
/// it, UCS-2 otherwise (DCS 0x00 / 0x08, no message class), split by [`gsm7::plan`], each
/// part of a multipart text carrying an 8-bit-reference concatenation header. TP-MR is 0:
/// the modem assigns message references (TS 27.005 §3.5.1 reports it in `+CMGS: <mr>`).
pub fn encode_submit(
    to: &Address,
    text: &str,
    opts: &SubmitOptions,
) -> Result<Vec<Pdu>, EncodeError> {
    let address = to.encode()?;
    let (vpf, validity) = match opts.validity {
        None => (0, Vec::new()),
        Some(Validity::Relative(period)) => (VPF_RELATIVE, vec![relative_validity(period)?]),
        Some(Validity::Absolute(at)) => (VPF_ABSOLUTE, at.encode()?.to_vec()),
        Some(Validity::Enhanced(octets)) => (VPF_ENHANCED, octets.to_vec()),
    };
    let parts = user_data::split(
        text,
        gsm7::ConcatHeader::EightBitRef,
        u16::from(opts.concat_reference),
    )?;
    Ok(parts
        .into_iter()
        .map(|part| {
            let mut first = MTI_SUBMIT | vpf;
            if opts.status_report {
                first |= SRR;
            }
            if part.has_header {
                first |= UDHI;
            }
            let mut tpdu = vec![first, 0x00];
            tpdu.extend(&address);
            tpdu.extend([0x00, part.dcs]);
            tpdu.extend(&validity);
            tpdu.extend(part.user_data);
            Pdu::with_default_smsc(tpdu)
        })
        .collect())
}

/// Decode PDU-mode bytes (SMSC prefix included) holding an SMS-SUBMIT.
pub fn decode_submit(bytes: &[u8]) -> Result<Submit, DecodeError> {
    let (smsc, tpdu) = split_smsc(bytes)?;
    let mut reader = Reader::new(tpdu);
    let first = reader.octet("first octet")?;
    let mti = first & 0x03;
    if mti != MTI_SUBMIT {
        return Err(DecodeError::UnexpectedMessageType {
            mti,
            kind: match mti {
                0b10 => "SMS-STATUS-REPORT",
                0b00 => "SMS-DELIVER",
                _ => "reserved type",
            },
        });
    }
    let message_reference = reader.octet("TP-MR")?;
    let recipient = Address::decode(&mut reader, "TP-DA")?;
    let protocol_id = reader.octet("TP-PID")?;
    let coding = DataCoding::decode(reader.octet("TP-DCS")?);
    let validity = match first & VPF_MASK {
        0 => None,
        VPF_RELATIVE => Some(Validity::Relative(relative_period(reader.octet("TP-VP")?))),
        VPF_ABSOLUTE => Some(Validity::Absolute(Timestamp::decode(&mut reader, "TP-VP")?)),
        _ => {
            let mut octets = [0u8; 7];
            octets.copy_from_slice(reader.take(7, "TP-VP")?);
            Some(Validity::Enhanced(octets))
        }
    };
    let (concat, text) = user_data::decode(&mut reader, &coding, first & UDHI != 0)?;
    Ok(Submit {
        smsc,
        message_reference,
        recipient,
        reject_duplicates: first & RD != 0,
        status_report: first & SRR != 0,
        reply_path: first & RP != 0,
        protocol_id,
        coding,
        validity,
        concat,
        text,
    })
}

/// TS 23.040 §9.2.3.12.1, rounding up.
fn relative_validity(period: Duration) -> Result<u8, EncodeError> {
    const MINUTE: u64 = 60;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;
    const WEEK: u64 = 7 * DAY;
    let seconds = period.as_secs() + u64::from(period.subsec_nanos() > 0);
    let steps = |unit: u64| seconds.div_ceil(unit);
    let value = if seconds <= 12 * HOUR {
        steps(5 * MINUTE).max(1) - 1
    } else if seconds <= DAY {
        143 + (seconds - 12 * HOUR).div_ceil(30 * MINUTE)
    } else if seconds <= 30 * DAY {
        166 + steps(DAY)
    } else {
        192 + steps(WEEK)
    };
    u8::try_from(value).map_err(|_| EncodeError::ValidityTooLong { seconds })
}

fn relative_period(value: u8) -> Duration {
    let minutes = match value {
        0..=143 => (u64::from(value) + 1) * 5,
        144..=167 => 12 * 60 + (u64::from(value) - 143) * 30,
        168..=196 => (u64::from(value) - 166) * 24 * 60,
        197..=255 => (u64::from(value) - 192) * 7 * 24 * 60,
    };
    Duration::from_secs(minutes * 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modem::pdu::dcs::Alphabet;
    use crate::modem::pdu::hex::{from_hex, to_hex};
    use proptest::prelude::*;

    #[test]
    fn relative_validity_table() {
        // python-gsmmodem test_pdu.py TestRelativeValidityPeriod; ModemManager's 5 minutes
        // (test_create_pdu_*: TP-VP 0x00); the ends of each range of TS 23.040 §9.2.3.12.1.
        let minutes = |m: u64| Duration::from_secs(m * 60);
        let table: &[(Duration, u8)] = &[
            (minutes(5), 0),
            (minutes(30), 5),
            (minutes(16 * 60), 151),
            (minutes(3 * 24 * 60), 169),
            (minutes(5 * 7 * 24 * 60), 197),
            (minutes(12 * 60), 143),
            (minutes(24 * 60), 167),
            (minutes(30 * 24 * 60), 196),
            (minutes(63 * 7 * 24 * 60), 255),
        ];
        for &(period, value) in table {
            assert_eq!(relative_validity(period), Ok(value), "{period:?}");
            assert_eq!(relative_period(value), period, "{value}");
        }
        // Rounding up, never down.
        assert_eq!(relative_validity(Duration::ZERO), Ok(0));
        assert_eq!(relative_validity(minutes(6)), Ok(1));
        assert_eq!(
            relative_validity(Duration::from_secs(12 * 3600 + 1)),
            Ok(144)
        );
        assert_eq!(relative_validity(minutes(24 * 60 + 1)), Ok(168));
        assert_eq!(relative_validity(minutes(30 * 24 * 60 + 1)), Ok(197));
        assert!(matches!(
            relative_validity(minutes(63 * 7 * 24 * 60 + 1)),
            Err(EncodeError::ValidityTooLong { .. })
        ));
    }

    #[test]
    fn every_relative_value_round_trips() {
        for value in 0..=u8::MAX {
            assert_eq!(relative_validity(relative_period(value)), Ok(value));
        }
    }

    #[test]
    fn classic_submit() {
        // dreamfabric.com/sms "SMS-SUBMIT example": "hellohello" to +46708251358, TP-VP 0xAA
        // (4 days).
        let hex = "0011000B916407281553F80000AA0AE8329BFD4697D9EC37";
        let submit = decode_submit(&from_hex(hex).unwrap()).unwrap();
        assert_eq!(submit.smsc, None);
        assert_eq!(submit.recipient, Address::international("46708251358"));
        assert_eq!(submit.text, "hellohello");
        assert_eq!(
            submit.validity,
            Some(Validity::Relative(Duration::from_secs(4 * 86400)))
        );
        assert_eq!(submit.coding.class, None);
        let opts = SubmitOptions {
            validity: submit.validity,
            ..SubmitOptions::default()
        };
        let pdus = encode_submit(&submit.recipient, "hellohello", &opts).unwrap();
        assert_eq!(pdus.len(), 1);
        assert_eq!(pdus[0].to_hex(), hex);
        assert_eq!(pdus[0].tpdu_len, 23);
    }

    #[test]
    fn modemmanager_creator_vectors() {
        // ModemManager src/tests/test-sms-part-3gpp.c, test_create_pdu_*_no_smsc (validity 5
        // minutes) and test_create_pdu_gsm_no_validity. Same layout as ours: TP-MR 0, no class.
        let to = Address::international("+15555551234");
        let five_minutes = SubmitOptions {
            validity: Some(Validity::Relative(Duration::from_secs(300))),
            ..SubmitOptions::default()
        };
        let table: &[(&Address, &str, &SubmitOptions, &str)] = &[
            (
                &to,
                "Да здравствует король, детка!",
                &five_minutes,
                "0011000B915155551532F40008003A041404300020043704340440043004320441044204320443043504420020043A043E0440043E043B044C002C0020043404350442043A04300021",
            ),
            (
                &to,
                "Hi there...Tue 17th Jan 2012 05:30.18 pm (GMT+1) ΔΔΔΔΔ",
                &five_minutes,
                "0011000B915155551532F400000036C834888E2ECBCB2E978B5A2F8362373A1AA40CBB4132584C0682D57433982B8603C1DB20D4B1495DC552200804028100",
            ),
            (
                // 25 septets: the last one alone in the final octet.
                &Address::international("+15556661234"),
                "This is really cool ΔΔΔΔΔ",
                &SubmitOptions::default(),
                "0001000B915155661632F400001954747A0E4ACF41F27298CDCE83C6EF371B0481402010",
            ),
        ];
        for &(to, text, opts, hex) in table {
            let pdus = encode_submit(to, text, opts).unwrap();
            assert_eq!(pdus.len(), 1, "{text}");
            assert_eq!(pdus[0].to_hex(), hex, "{text}");
            let back = decode_submit(&pdus[0].bytes).unwrap();
            assert_eq!(back.text, text);
            assert_eq!(back.recipient, *to);
        }
    }

    #[test]
    fn python_gsmmodem_vectors() {
        // python-gsmmodem test/test_pdu.py test_encodeSmsSubmit: our encoder differs only by
        // those tests' reference numbers and reject-duplicates flags, so decode them and
        // compare what matters.
        let hello = "0001000B917228001011F100000CC8329BFD065DDF72363904";
        let pdus = encode_submit(
            &Address::international("+27820001111"),
            "Hello World!",
            &SubmitOptions::default(),
        )
        .unwrap();
        assert_eq!(pdus[0].to_hex(), hello);

        // Absolute validity (TP-VPF 11), UCS-2 with a real SMSC, 8-bit data.
        let absolute = decode_submit(
            &from_hex("0019000B917228001011F100003170013193008017D474BB3CA787DB70903DCC4E93D3F43C885E9ED301")
                .unwrap(),
        )
        .unwrap();
        assert_eq!(absolute.text, "Timestamp validity test");
        let Some(Validity::Absolute(at)) = absolute.validity else {
            panic!("{:?}", absolute.validity)
        };
        assert_eq!(at.to_string(), "2013-07-10T13:39:00+02:00");
        let opts = SubmitOptions {
            validity: absolute.validity,
            ..SubmitOptions::default()
        };
        let again = encode_submit(&absolute.recipient, &absolute.text, &opts).unwrap();
        assert_eq!(
            decode_submit(&again[0].bytes).unwrap().validity,
            absolute.validity
        );

        let ucs2 = decode_submit(
            &from_hex("07914346466554F601000B914316565811F9000806304253F68449").unwrap(),
        )
        .unwrap();
        assert_eq!(ucs2.smsc, Some(Address::international("34646456456")));
        assert_eq!(ucs2.recipient, Address::international("34616585119"));
        assert_eq!(ucs2.text, "あ叶葉");

        let eight_bit = decode_submit(
            &from_hex("0591721891F101000B917228214365F700040C48656C6C6F20776F726C6421").unwrap(),
        )
        .unwrap();
        assert_eq!(eight_bit.coding.alphabet, Alphabet::EightBit);
        assert_eq!(eight_bit.text, "Hello world!");

        // SUBMIT stored by a phone (ModemManager test_pdu_stored_by_us): national number, UCS-2.
        let stored = decode_submit(
            &from_hex("002100098136397339F70008224F60597D4F60597D4F60597D4F60597D4F60597D4F60597D4F60597D4F60597D4F60")
                .unwrap(),
        )
        .unwrap();
        assert_eq!(stored.recipient, Address::unknown("639337937"));
        assert_eq!(stored.text, "你好你好你好你好你好你好你好你好你");
        assert!(stored.status_report);

        // The "invalid UDL" UCS-2 vector of python-gsmmodem (UDL 160, 14 octets present): a
        // length that lies is a typed error here, not a guess.
        assert!(matches!(
            decode_submit(&from_hex("0041010C910661345542F60008A0050003000301306F3044").unwrap()),
            Err(DecodeError::UserDataLength { udl: 160, .. })
        ));
    }

    #[test]
    fn concatenated_lorem_ipsum() {
        // python-gsmmodem test_encodeSmsSubmit_concatenated: three 8-bit-reference parts with
        // reference 0, TP-RD set (first octet 0x45). Ours clears TP-RD (0x41); every other
        // octet, fill bit included, must match.
        let text = "Lorem ipsum dolor sit amet, consectetur adipisicing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.Ut enim ad minim veniam, quinostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat.Duis aute irure dolor in reprehenderit in voluptate velit esse cillum doloe eu fugiat nulla pariatur.Excepteur sint occaecat cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum";
        let expected = [
            "0045000B915121551532F40000A0050003000301986F79B90D4AC3E7F53688FC66BFE5A0799A0E0AB7CB741668FC76CFCB637A995E9783C2E4343C3D4F8FD3EE33A8CC4ED359A079990C22BF41E5747DDE7E9341F4721BFE9683D2EE719A9C26D7DD74509D0E6287C56F791954A683C86FF65B5E06B5C36777181466A7E3F5B0AB4A0795DDE936284C06B5D3EE741B642FBBD3E1360B14AFA7DD",
            "0045000B915121551532F40000A0050003000302DE73BABC4E0695F165F9384D0FD3D36F37A8CE6687DBE337881D16BFE5E939C89D9EA741753A28CC4EC7EB6938A88C0795C3A0F1BBDD7E93DFA0F1DB3D2FC7EB61BA8B584FCF41E13ABD0C4ACBEBF23288FC66BFE5A0B41B242FC3E56574D94D2ECBD37450DA0DB2BFD975383D4C2F83EC65769A0E2ACFE765D038CD66D7DB20F29BFD2E83CA",
            "0045000B915121551532F400008C050003000303EA2073FD9C0ED341EE3A9B1D06C1C3F274985E97BB8AF871194E2FD7E5A079DA4D07BDC7E370791CA683C675789A1CA687E920F7DB0D82CBDF6972D94D6781E675371D947683C675363C0C8AD7D3A0B7D99C1EA7C32072795E96D7DD7450FBCD66A7E9A0B03BDD06A5C9A0F29C0E6287C56F79BD0D",
        ];
        let pdus = encode_submit(
            &Address::international("+15125551234"),
            text,
            &SubmitOptions::default(),
        )
        .unwrap();
        assert_eq!(pdus.len(), 3);
        let mut joined = String::new();
        for (pdu, want) in pdus.iter().zip(expected) {
            let mut want = from_hex(want).unwrap();
            want[1] &= !RD;
            assert_eq!(to_hex(&pdu.bytes), to_hex(&want));
            assert_eq!(pdu.tpdu_len, want.len() - 1);
            joined += &decode_submit(&want).unwrap().text;
        }
        assert_eq!(joined, text);
    }

    #[test]
    fn options_set_their_bits() {
        let opts = SubmitOptions {
            status_report: true,
            validity: Some(Validity::Enhanced([0x01, 0x02, 0, 0, 0, 0, 0])),
            concat_reference: 0xAB,
        };
        let pdus = encode_submit(
            &Address::international("447400123456"),
            &"x".repeat(200),
            &opts,
        )
        .unwrap();
        assert_eq!(pdus.len(), 2);
        for (i, pdu) in pdus.iter().enumerate() {
            let submit = decode_submit(&pdu.bytes).unwrap();
            assert!(submit.status_report);
            assert!(!submit.reject_duplicates);
            assert_eq!(submit.message_reference, 0);
            assert_eq!(submit.validity, opts.validity);
            assert_eq!(
                submit.concat,
                Some(Concat {
                    reference: 0xAB,
                    total: 2,
                    seq: i as u8 + 1
                })
            );
            assert_eq!(submit.coding.raw, 0x00);
            assert_eq!(pdu.tpdu()[0], MTI_SUBMIT | VPF_ENHANCED | SRR | UDHI);
        }
    }

    #[test]
    fn refuses_what_cannot_be_sent() {
        let to = Address::international("447400123456");
        assert_eq!(
            encode_submit(&to, &"x".repeat(153 * 256), &SubmitOptions::default()),
            Err(EncodeError::TooManyParts { parts: 256 })
        );
        assert_eq!(
            encode_submit(&to, &"x".repeat(153 * 255), &SubmitOptions::default()).map(|p| p.len()),
            Ok(255)
        );
        assert!(matches!(
            encode_submit(
                &Address::international("+44 74"),
                "hi",
                &SubmitOptions::default()
            ),
            Err(EncodeError::InvalidAddress { .. })
        ));
        assert!(matches!(
            encode_submit(
                &to,
                "hi",
                &SubmitOptions {
                    validity: Some(Validity::Relative(Duration::from_secs(u64::MAX))),
                    ..SubmitOptions::default()
                }
            ),
            Err(EncodeError::ValidityTooLong { .. })
        ));
    }

    #[test]
    fn decode_submit_rejects_other_types() {
        let deliver =
            from_hex("07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37")
                .unwrap();
        assert!(matches!(
            decode_submit(&deliver),
            Err(DecodeError::UnexpectedMessageType { mti: 0, .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode_submit(&bytes);
        }
    }
}
