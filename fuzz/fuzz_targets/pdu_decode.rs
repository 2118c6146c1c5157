//! The SMS decoders fed arbitrary PDUs: what `+CMGL`/`+CMGR`/`+CMT`/`+CDS` hand over is
//! whatever a phone, a network or a broken modem produced (SMS-DELIVER, SMS-STATUS-REPORT,
//! SMS-SUBMIT read back by the virtual modem).
//!
//! Properties: no panic; a hex line decodes to the same as its bytes; a decoded DELIVER's
//! text, re-encoded as a DELIVER and decoded again, comes back the same.

#![no_main]

use libfuzzer_sys::fuzz_target;
use shiftsms::modem::pdu::{
    Incoming, decode_incoming, decode_submit, encode_deliver, from_hex, split_smsc, to_hex,
};

fuzz_target!(|bytes: &[u8]| {
    let decoded = decode_incoming(bytes);
    let _ = decode_submit(bytes);
    let _ = split_smsc(bytes);

    // The modem gives hex: the hex path must agree with the bytes path.
    let hex = to_hex(bytes);
    let from_line = from_hex(&hex).expect("our own hex parses");
    assert_eq!(from_line, bytes);
    // And arbitrary text as a "hex line" is an error, never a panic.
    if let Ok(text) = std::str::from_utf8(bytes) {
        if let Ok(octets) = from_hex(text) {
            let _ = decode_incoming(&octets);
        }
    }

    if let Ok(Incoming::Deliver(deliver)) = decoded {
        // What the daemon stores is the text; the text must survive being sent back out.
        let reference = deliver.concat.map_or(0, |c| c.reference);
        if let Ok(pdus) = encode_deliver(&deliver.sender, &deliver.text, deliver.timestamp, reference) {
            let mut joined = String::new();
            for pdu in pdus {
                match decode_incoming(&pdu.bytes) {
                    Ok(Incoming::Deliver(again)) => joined.push_str(&again.text),
                    other => panic!("re-encoded DELIVER decodes as {other:?}"),
                }
            }
            assert_eq!(joined, deliver.text);
        }
    }
});
