//! Published PDUs and the field failures of other codecs, decoded end to end.
//!
//! Sources, cited per vector:
//! - [dreamfabric] "SMS and the PDU format", Lars Pettersson (dreamfabric.com/sms), the
//!   classic SMS-SUBMIT and SMS-DELIVER examples.
//! - [MM] ModemManager, src/tests/test-sms-part-3gpp.c (real PDUs from networks: KPN, SFR, ...).
//! - [pygsm] python-gsmmodem, test/test_pdu.py.
//! - [amro] amro.blogspot.com/2007/09/receiving-sms-status-report-message.html.
//! - [ruby] schnack/pdu_sms README.
//! - [gsm-modem] "SMS messages and the PDU format", Lars Pettersson (gsm-modem.de).

use std::time::Duration;

use super::*;

fn incoming(hex: &str) -> Incoming {
    decode_incoming(&from_hex(hex).unwrap()).unwrap_or_else(|e| panic!("{hex}: {e}"))
}

fn deliver(hex: &str) -> Deliver {
    match incoming(hex) {
        Incoming::Deliver(deliver) => deliver,
        other => panic!("{hex}: not a DELIVER: {other:?}"),
    }
}

fn report(hex: &str) -> StatusReport {
    match incoming(hex) {
        Incoming::StatusReport(report) => report,
        other => panic!("{hex}: not a STATUS-REPORT: {other:?}"),
    }
}

fn intl(digits: &str) -> Address {
    Address::international(digits)
}

struct DeliverVector {
    source: &'static str,
    hex: &'static str,
    smsc: Option<Address>,
    sender: Address,
    timestamp: &'static str,
    text: &'static str,
    concat: Option<Concat>,
}

#[test]
fn published_delivers() {
    let vectors = [
        DeliverVector {
            source: "[dreamfabric] SMS-DELIVER example (sender type 0xC8: subscriber number)",
            hex: "07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37",
            smsc: Some(intl("27381000015")),
            sender: Address {
                kind: TypeOfNumber::Other(0b100),
                value: "27838890001".into(),
            },
            timestamp: "1999-03-29T15:16:59+02:00",
            text: "hellohello",
            concat: None,
        },
        DeliverVector {
            source: "[gsm-modem] \"How are you?\"",
            hex: "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07",
            smsc: Some(intl("31624000000")),
            sender: intl("31641600986"),
            timestamp: "2002-08-26T19:37:41+00:00",
            text: "How are you?",
            concat: None,
        },
        DeliverVector {
            source: "[MM] test_pdu1: extension-table characters",
            hex: "07912104442961F4040B916171957291F800001120821105050A6AC8B2BC7C9A83C220F6DB7D2ECB41EDF27C1E3E97411BDE06754FD3D1A0F9BB5D0695F1F4B29B5C2683C6E8B03C3CA697E5F34D6AE303D1D1F2F7DD0D4ABB59A0797D8C0685E7A00028EC26832A960B28EC2683BE6050780EBA97D96C17",
            smsc: Some(intl("12404492164")),
            sender: intl("16175927198"),
            timestamp: "2011-02-28T11:50:50-05:00",
            text: "Here's a longer message [{with some extended characters}] thrown in, such as £ and ΩΠΨ and §¿ as well.",
            concat: None,
        },
        DeliverVector {
            source: "[MM] test_pdu2: alphanumeric sender, UCS-2",
            hex: "07919730071111F10414D04937BD2C7797E9D3E614000811309291024061080442043504410442",
            smsc: Some(intl("79037011111")),
            sender: Address::alphanumeric("InternetSMS"),
            timestamp: "2011-03-29T19:20:04+04:00",
            text: "тест",
            concat: None,
        },
        DeliverVector {
            source: "[MM] test_pdu3_natl: type of number 'unknown' (0x81)",
            hex: "07912143658709F1040B818100551512F20000111010214365000AE8329BFD4697D9EC37",
            smsc: Some(intl("12345678901")),
            sender: Address::unknown("18005551212"),
            timestamp: "2011-01-01T12:34:56+00:00",
            text: "hellohello",
            concat: None,
        },
        DeliverVector {
            source: "[MM] test_pdu_dcsf1: SFR, DCS 0xF1 (class 1), 160 septets, sender type 0x85",
            hex: "07913306091093F0040485810000F111604231805180A049B7F90D9A1AA5A01668F8769BD3E4B29B9E2EB359A03FC85D06A9C3ED707A0EA2CBC3EE79BB4CA7CBCBA05643617DA7C76990FD4D979741EE77DD5E0ED741ED371D442E83E0E1F9BC0CD281E677D9B84C06C1DF7539E85C9097E520FB9B2E2F83C6EF369C5E064D8D52D0BC2E07DDEF77D7DC2C7799E5A0771D040FCB41F402BB0047BFDD6550B80ECAD966",
            smsc: Some(intl("33609001390")),
            sender: Address::unknown("1800"),
            timestamp: "2011-06-24T13:08:15+02:00",
            text: "Info SFR - Confidentiel, à ne jamais transmettre -\r\nVoici votre nouveau mot de passe : sw2ced pour gérer votre compte SFR sur www.sfr.fr ou par téléphone au 963",
            concat: None,
        },
        DeliverVector {
            source: "[MM] test_pdu_udhi: KPN welcome, 16-bit reference: 7-octet header, no fill bit",
            hex: "07911356131313F64004850120390011609232239180A006080400100201D7327BFD6EB340E2321BF46E83EA7790F59D1E97DBE1341B442F83C465763D3DA797E56537C81D0ECB41AB59CC1693C16031D96C064241E5656838AF03A96230982A269BCD462917C8FA4E8FCBED709A0D7ABBE9F6B0FB5C7683D27350984D4FABC9A0B33C4C4FCF5D20EBFB2D079DCB62793DBD06D9C36E50FB2D4E97D9A0B49B5E96BBCB",
            smsc: Some(intl("31653131316")),
            sender: Address::unknown("1002"),
            timestamp: "2011-06-29T23:32:19+02:00",
            text: "Welkom, bel om uw Voicemail te beluisteren naar +31612001233 (PrePay: *100*1233#). Voicemail ontvangen is altijd gratis. Voor gebruik van mobiel interne",
            concat: Some(Concat {
                reference: 0x0010,
                total: 2,
                seq: 1,
            }),
        },
        DeliverVector {
            source: "[ruby] alphanumeric sender \"Tele2\" (9 semi-octets)",
            hex: "07911732547698F00009D0D432BB2C0300005111713115142108E8329BFD0E8542",
            smsc: Some(intl("71234567890")),
            sender: Address::alphanumeric("Tele2"),
            timestamp: "2015-11-17T13:51:41+03:00",
            text: "hello!!!",
            concat: None,
        },
        DeliverVector {
            source: "[pygsm] test_decode: 6-octet SMSC field",
            hex: "06917228195339040B917228214365F700003130805120618005D4F29C2E03",
            smsc: Some(intl("2782913593")),
            sender: intl("27821234567"),
            timestamp: "2013-03-08T15:02:16+02:00",
            text: "Test2",
            concat: None,
        },
        DeliverVector {
            source: "[pygsm] test_decode: GMT+8",
            hex: "07915892000000F0040B915892214365F700007040213252242331493A283D0795C3F33C88FE06C9CB6132885EC6D341EDF27C1E3E97E7207B3A0C0A5241E377BB1D7693E72E",
            smsc: Some(intl("85290000000")),
            sender: intl("85291234567"),
            timestamp: "2007-04-12T23:25:42+08:00",
            text: "It is easy to read text messages via AT commands.",
            concat: None,
        },
        DeliverVector {
            source: "[pygsm] test_decode: '@' first, escapes",
            hex: "06917228195339040B917228214365F70000313062315352800A800D8A5E98D337A910",
            smsc: Some(intl("2782913593")),
            sender: intl("27821234567"),
            timestamp: "2013-03-26T13:35:25+02:00",
            text: "@{tést}!",
            concat: None,
        },
        DeliverVector {
            source: "[pygsm] test_decode: concatenation header '1 of 1', TP-RP set",
            hex: "0591721891F1400781721881F800003160526104848059050003C30101916536FB1DCABEEB2074D85E064941B19CAB060319A5C522289C96D3D3ED32286C0FA7D96131BBEC024941B19CAB0603DDD36C36A88C87A7E565D0DB0D82C55EB0DB4B068BCD5C20",
            smsc: Some(intl("2781191")),
            sender: Address::unknown("2781188"),
            timestamp: "2013-06-25T16:40:48+02:00",
            text: "Hello!You have R 19.50 FREE airtime available. R 19.50 will expire on 01/07/2013. ",
            concat: Some(Concat {
                reference: 0xC3,
                total: 1,
                seq: 1,
            }),
        },
    ];
    for v in vectors {
        let d = deliver(v.hex);
        assert_eq!(d.smsc, v.smsc, "{}", v.source);
        assert_eq!(d.sender, v.sender, "{}", v.source);
        assert_eq!(d.timestamp.to_string(), v.timestamp, "{}", v.source);
        assert_eq!(d.text, v.text, "{}", v.source);
        assert_eq!(d.concat, v.concat, "{}", v.source);
    }
}

#[test]
fn dcs_details_of_published_delivers() {
    // [MM] test_pdu_dcsf1: class 1 incoming is read, not an error.
    let sfr = deliver(
        "07913306091093F0040485810000F111604231805180A049B7F90D9A1AA5A01668F8769BD3E4B29B9E2EB359A03FC85D06A9C3ED707A0EA2CBC3EE79BB4CA7CBCBA05643617DA7C76990FD4D979741EE77DD5E0ED741ED371D442E83E0E1F9BC0CD281E677D9B84C06C1DF7539E85C9097E520FB9B2E2F83C6EF369C5E064D8D52D0BC2E07DDEF77D7DC2C7799E5A0771D040FCB41F402BB0047BFDD6550B80ECAD966",
    );
    assert_eq!(sfr.coding.class, Some(MessageClass::Class1));
    assert_eq!(sfr.coding.alphabet, Alphabet::Gsm7);
    // [MM] test_pdu3_8bit: 8-bit data, read as ISO 8859-1, octets recoverable.
    let data =
        deliver("07912143658709F1040B918100551512F20004111010214365000AE8329BFD4697D9EC37DE");
    assert_eq!(data.coding.alphabet, Alphabet::EightBit);
    let octets: Vec<u8> = data.text.chars().map(|c| c as u8).collect();
    assert_eq!(
        octets,
        [0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37, 0xDE]
    );
    // [MM] test_pdu_dcsf_8bit: the same data behind DCS 0xF4 (8-bit, class 0).
    let flash =
        deliver("07912143658709F1040B918100551512F200F4111010214365000AE8329BFD4697D9EC37DE");
    assert_eq!(flash.coding.class, Some(MessageClass::Class0));
    assert_eq!(flash.text, data.text);
    // [MM] test_pdu3_nzpid: TP-PID 0xFF is carried, not interpreted.
    let pid = deliver("07912143658709F1040B918100551512F2FF00111010214365000AE8329BFD4697D9EC37");
    assert_eq!(pid.protocol_id, 0xFF);
    assert!(!pid.is_silent());
    // [MM] test_pdu_insufficient_data: UDL 11 with 9 octets of data.
    assert!(matches!(
        decode_incoming(
            &from_hex("07912143658709F1040B918100551512F20000111010214365000BE8329BFD4697D9EC37")
                .unwrap()
        ),
        Err(DecodeError::UserDataLength { udl: 11, .. })
    ));
}

#[test]
fn published_multipart_through_the_assembler() {
    // [MM] test_pdu_multipart: two parts, 8-bit reference 0x4C, via two different SMSCs.
    let parts = [
        "07912160130320F5440B916171056429F5000021405291650569A00500034C0201A9E8F41C949E83C2207B599E07B1DFEE33885E9ED341E4F23C7D7697C920FA1B54C697E5E3F4BC0C6AD7D9F434081E96D341E3303C2C4EB3D3F4BC0B94A483E6E8779D4D06CDD1EF3BA80E0785E7A0B7BB0C6A97E7F3F0B9CC02B9DF7450780EA2DFDF2C50780EA2A3CBA0BA9B5C96B3F369F71954768FDFE4B4FB0C9297E1F2F2BCECA6CF41",
        "07912160130320F6440B916171056429F5000021405291651569320500034C0202E9E8301D44479741F0B09C3E0785E56590BCCC0ED3CB6410FD0D7ABBCBA0B0FB4D4797E52E10",
    ];
    let mut assembler = Assembler::new(Duration::from_secs(600));
    let mut out = Vec::new();
    // Second part first: order must not matter.
    for (id, hex) in parts.iter().enumerate().rev() {
        let d = deliver(hex);
        assert_eq!(d.concat.map(|c| (c.reference, c.total)), Some((0x4C, 2)));
        let received = d.timestamp.to_jiff().unwrap();
        let pushed = assembler.push(Part {
            id,
            sender: d.sender,
            concat: d.concat,
            text: d.text,
            received,
        });
        out.extend(pushed.unwrap());
    }
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].sender, intl("16175046925"));
    assert_eq!(out[0].ids, [0, 1]);
    assert_eq!(
        out[0].text,
        "This is a very long test designed to exercise multi part capability. It should show up as one message, not as two, as the underlying encoding represents that the parts are related to one another. "
    );
}

#[test]
fn published_status_reports() {
    // [MM] test_pdu_not_stored: TP-ST 0x30, SC still trying.
    let r = report("07914356060013F1065A098136397339F7219011700463802190117004638030");
    assert_eq!(r.smsc, Some(intl("34656000311")));
    assert_eq!(r.message_reference, 0x5A);
    assert_eq!(r.recipient, Address::unknown("639337937"));
    assert_eq!(r.submitted.to_string(), "2012-09-11T07:40:36+02:00");
    assert_eq!(r.status.outcome(), DeliveryOutcome::StillTrying);

    // [pygsm] test_decode: delivered, reference 214.
    let r = report("0006D60B911326880736F4111011719551401110117195714000");
    assert_eq!(r.smsc, None);
    assert_eq!(r.message_reference, 214);
    assert_eq!(r.recipient, intl("31628870634"));
    assert_eq!(r.submitted.to_string(), "2011-01-11T17:59:15+01:00");
    assert_eq!(r.discharged.to_string(), "2011-01-11T17:59:17+01:00");
    assert_eq!(r.status, DeliveryStatus::RECEIVED);
    assert_eq!(r.status.outcome(), DeliveryOutcome::Delivered);

    // [pygsm] "semi-invalid status report PDU captured from a ZTE modem": odd SMSC type
    // octet, a '#' semi-octet in the number. Read as sent, without failing.
    let r = report("0297F1061C0F910B487228297020F5317062419272803170624192138000");
    assert_eq!(r.message_reference, 28);
    assert_eq!(r.recipient.value, "#08427829207025");
    assert_eq!(r.submitted.to_string(), "2013-07-26T14:29:27+02:00");
    assert_eq!(r.discharged.to_string(), "2013-07-26T14:29:31+02:00");

    // [amro] a +CDS PDU printed without its SMSC field; with the 0x00 prefix TS 27.005 §3.1
    // requires, it decodes.
    let r = report("0006000B910221815716F2709021510121807090215101718000");
    assert_eq!(r.recipient, intl("20121875612"));
    assert_eq!(r.submitted.to_string(), "2007-09-12T15:10:12+02:00");
    assert_eq!(r.discharged.to_string(), "2007-09-12T15:10:17+02:00");
    assert_eq!(r.status.outcome(), DeliveryOutcome::Delivered);
}

#[test]
fn status_report_round_trips_through_the_encoder() {
    let submitted = report("0006D60B911326880736F4111011719551401110117195714000").submitted;
    for status in [
        DeliveryStatus::RECEIVED,
        DeliveryStatus::NO_RESPONSE_STILL_TRYING,
        DeliveryStatus::VALIDITY_EXPIRED,
        DeliveryStatus::BUSY_GAVE_UP,
    ] {
        let pdu =
            encode_status_report(7, &intl("447400123456"), submitted, submitted, status).unwrap();
        assert_eq!(pdu.tpdu_len, pdu.bytes.len() - 1);
        let r = report(&pdu.to_hex());
        assert_eq!(r.message_reference, 7);
        assert_eq!(r.recipient, intl("447400123456"));
        assert_eq!(r.status, status);
        assert_eq!(r.discharged, submitted);
    }
    // [pygsm] reference 214 to +31628870634, encoded back to the same octets.
    let r = report("0006D60B911326880736F4111011719551401110117195714000");
    let pdu = encode_status_report(
        r.message_reference,
        &r.recipient,
        r.submitted,
        r.discharged,
        r.status,
    )
    .unwrap();
    assert_eq!(
        pdu.to_hex(),
        "0006D60B911326880736F4111011719551401110117195714000"
    );
}

#[test]
fn submit_from_pygsm_decodes() {
    // [pygsm] test_decode: SMS-SUBMIT with SMSC, TP-MR 0x0D, relative validity 3 days.
    let s = decode_submit(
        &from_hex("07911326040000F0310D0B911326880736F40000A90FF7FBDD454E87CDE1B0DB357EB701")
            .unwrap(),
    )
    .unwrap();
    assert_eq!(s.smsc, Some(intl("31624000000")));
    assert_eq!(s.message_reference, 0x0D);
    assert_eq!(s.recipient, intl("31628870634"));
    assert_eq!(
        s.validity,
        Some(Validity::Relative(Duration::from_secs(3 * 86400)))
    );
    assert_eq!(s.text, "www.diafaan.com");
}

#[test]
fn incoming_dispatch_refuses_stored_submits() {
    // [MM] test_pdu_stored_by_us: +CMGL=4 lists this SMS-SUBMIT; it is not incoming.
    let stored = from_hex("002100098136397339F70008224F60597D4F60597D4F60597D4F60597D4F60597D4F60597D4F60597D4F60597D4F60").unwrap();
    assert!(matches!(
        decode_incoming(&stored),
        Err(DecodeError::UnexpectedMessageType { mti: 1, .. })
    ));
    // TP-MTI 11 is reserved: TS 23.040 §9.2.3.1 says read it as a DELIVER.
    let mut reserved =
        from_hex("07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37")
            .unwrap();
    reserved[8] |= 0x03;
    assert_eq!(deliver(&to_hex(&reserved)).text, "hellohello");
    // SMSC only, no TPDU.
    assert!(matches!(
        decode_incoming(&[0x00]),
        Err(DecodeError::Truncated {
            field: "first octet",
            ..
        })
    ));
}

/// The nine test messages other codecs failed (FIELD-NOTES, "SMS PDU crates"), each sent
/// through our encoder, hex and back, the decoder and the assembler.
mod field_failures {
    use super::*;

    const TIMESTAMP_HEX: &str = "52107151008580";

    fn timestamp() -> Timestamp {
        deliver(&format!("00040B914447000321F60000{TIMESTAMP_HEX}00")).timestamp
    }

    /// Encode as a network would deliver it, then read it back like the daemon does.
    fn via_deliver(text: &str, reference: u16) -> (Vec<Deliver>, String) {
        let pdus = encode_deliver(&intl("447400123456"), text, timestamp(), reference).unwrap();
        let parts: Vec<Deliver> = pdus.iter().map(|pdu| deliver(&pdu.to_hex())).collect();
        let mut assembler = Assembler::new(Duration::from_secs(600));
        let mut out = Vec::new();
        for (id, d) in parts.iter().enumerate() {
            let pushed = assembler.push(Part {
                id,
                sender: d.sender.clone(),
                concat: d.concat,
                text: d.text.clone(),
                received: d.timestamp.to_jiff().unwrap(),
            });
            out.extend(pushed.unwrap());
        }
        assert_eq!(out.len(), 1, "{text:?}");
        assert!(!out[0].incomplete);
        (parts, out.remove(0).text)
    }

    fn udl_of(pdu: &Pdu) -> usize {
        // SMS-DELIVER: first octet, TP-OA (14 octets for +447400123456), PID, DCS, SCTS.
        usize::from(pdu.tpdu()[1 + 8 + 2 + 7])
    }

    #[test]
    fn one_trailing_at_in_multipart_8bit_reference() {
        // 153 + 8 septets: part 2 has UDL 7 + 8 = 15 septets = 105 bits in 14 octets, 7 spare
        // bits, which a decoder counting octets reads as a 16th septet: '@'.
        let text = format!("{}{}", "a".repeat(153), "12345678");
        let pdus = encode_deliver(&intl("447400123456"), &text, timestamp(), 5).unwrap();
        assert_eq!(udl_of(&pdus[1]), 15);
        assert_eq!(pdus[1].tpdu().len() - (1 + 8 + 2 + 7 + 1), 14);
        let (parts, joined) = via_deliver(&text, 5);
        assert_eq!(parts[1].text, "12345678");
        assert_eq!(joined, text);
    }

    #[test]
    fn two_trailing_at_in_multipart_16bit_reference() {
        // 16-bit reference: header 8 septets, 152 per part. Part 2 with 15 septets: UDL 23,
        // 161 bits in 21 octets, 7 spare bits.
        let text = format!("{}{}", "b".repeat(152), "123456789012345");
        let pdus = encode_deliver(&intl("447400123456"), &text, timestamp(), 0x1234).unwrap();
        assert_eq!(udl_of(&pdus[1]), 23);
        assert_eq!(pdus[1].tpdu().len() - (1 + 8 + 2 + 7 + 1), 21);
        let (parts, joined) = via_deliver(&text, 0x1234);
        assert_eq!(parts[1].text, "123456789012345");
        assert_eq!(joined, text);
    }

    #[test]
    fn three_trailing_at_in_single_part() {
        // 7 and 15 septets: 7 spare bits each. And 159 + 1 extension = 160 septets exactly.
        for text in [
            "abcdefg",
            "abcdefghijklmno",
            &format!("{}€", "x".repeat(158)),
        ] {
            let (parts, joined) = via_deliver(text, 0);
            assert_eq!(parts.len(), 1);
            assert_eq!(joined, text);
        }
    }

    #[test]
    fn four_first_character_kept_with_16bit_reference_gsm7() {
        let text = format!("X{}Y{}", "a".repeat(151), "b".repeat(40));
        let (parts, joined) = via_deliver(&text, 300);
        assert_eq!(parts.len(), 2);
        assert!(parts[0].text.starts_with('X'));
        assert!(parts[1].text.starts_with('Y'));
        assert_eq!(parts[0].concat.map(|c| c.reference), Some(300));
        assert_eq!(joined, text);
    }

    #[test]
    fn five_first_character_kept_with_16bit_reference_ucs2() {
        let text = format!("Ж{}Ю{}", "ж".repeat(65), "ю".repeat(10));
        let (parts, joined) = via_deliver(&text, 0xFFFF);
        assert_eq!(parts.len(), 2);
        assert!(parts[1].text.starts_with('Ю'));
        assert_eq!(joined, text);
    }

    #[test]
    fn six_euro_not_split_across_parts() {
        // 152 septets then '€' (escape + 0x65) would straddle the 153-septet boundary.
        let text = format!("{}€{}", "a".repeat(152), "b".repeat(20));
        let pdus = encode_submit(&intl("447400123456"), &text, &SubmitOptions::default()).unwrap();
        let parts: Vec<Submit> = pdus
            .iter()
            .map(|p| decode_submit(&p.bytes).unwrap())
            .collect();
        assert_eq!(parts[0].text, "a".repeat(152));
        assert!(parts[1].text.starts_with('€'));
        assert_eq!(
            parts.iter().map(|p| p.text.as_str()).collect::<String>(),
            text
        );
        let (_, joined) = via_deliver(&text, 9);
        assert_eq!(joined, text);
    }

    #[test]
    fn seven_emoji_not_split_across_parts() {
        // 66 UTF-16 units then an emoji (a surrogate pair) would straddle the 67-unit boundary.
        let text = format!("{}😀{}", "ж".repeat(66), "ж".repeat(5));
        let pdus = encode_submit(&intl("447400123456"), &text, &SubmitOptions::default()).unwrap();
        let parts: Vec<Submit> = pdus
            .iter()
            .map(|p| decode_submit(&p.bytes).unwrap())
            .collect();
        assert_eq!(parts[0].text, "ж".repeat(66));
        assert!(parts[1].text.starts_with('😀'));
        assert!(!parts.iter().any(|p| p.text.contains('\u{FFFD}')));
        let (_, joined) = via_deliver(&text, 9);
        assert_eq!(joined, text);
    }

    #[test]
    fn eight_emoji_not_split_with_16bit_reference() {
        // With the 7-octet header a part holds 66 units: the emoji would straddle 65|66.
        let text = format!("{}🎉{}", "ж".repeat(65), "ж".repeat(5));
        let (parts, joined) = via_deliver(&text, 1000);
        assert_eq!(parts[0].text, "ж".repeat(65));
        assert!(parts[1].text.starts_with('🎉'));
        assert_eq!(joined, text);
    }

    #[test]
    fn nine_outgoing_messages_carry_no_class() {
        for text in ["Shift XYZ123 booked", "Zoë booked 😀", &"long ".repeat(80)] {
            for pdu in
                encode_submit(&intl("447400123456"), text, &SubmitOptions::default()).unwrap()
            {
                let submit = decode_submit(&pdu.bytes).unwrap();
                assert!(
                    matches!(submit.coding.raw, 0x00 | 0x08),
                    "{:#04x}",
                    submit.coding.raw
                );
                assert_eq!(submit.coding.class, None);
            }
            for pdu in encode_deliver(&intl("447400123456"), text, timestamp(), 1).unwrap() {
                let Incoming::Deliver(d) = decode_incoming(&pdu.bytes).unwrap() else {
                    panic!("not a DELIVER")
                };
                assert_eq!(d.coding.class, None);
            }
        }
    }

    #[test]
    fn timestamp_fixture_is_what_it_says() {
        assert_eq!(timestamp().to_string(), "2025-01-17T15:00:58+02:00");
    }
}
