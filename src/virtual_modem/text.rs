//! The text layer over raw PDUs, for tests and the demo: deliver "an SMS from +44… saying …"
//! (split into concatenated parts as a phone would), and read back what the DTE sent as
//! whole texts. Built on the project's codec (`crate::modem::pdu`); the modem itself only
//! checks PDU structure, independently of that codec.

use std::collections::HashMap;
use std::time::Duration;

use crate::modem::pdu::{self, Address, Concat, EncodeError, TypeOfNumber, encode_deliver};

use super::sms::{Delivery, SentPdu};
use super::{VirtualModem, VmError};

/// A message the DTE sent, its parts decoded and joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentSms {
    /// The recipient, `+` prefixed when the DTE addressed it internationally.
    pub to: String,
    pub text: String,
    /// How many SMS-SUBMITs it took.
    pub parts: u8,
    /// False when some parts of a concatenated message never went out.
    pub complete: bool,
    /// The message references the modem gave the parts, in the order they were sent.
    pub mrs: Vec<u8>,
}

/// How a test's "from" string is addressed: `+…` international, digits national (leading
/// 0) or unknown (short codes), anything else an alphanumeric sender name.
pub(crate) fn sender_address(from: &str) -> Address {
    let digits = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
    };
    match from.strip_prefix('+') {
        Some(rest) if digits(rest) => Address::international(rest),
        _ if digits(from) && from.starts_with('0') => Address::national(from),
        _ if digits(from) => Address::unknown(from),
        _ => Address::alphanumeric(from),
    }
}

fn address_text(address: &Address) -> String {
    match address.kind {
        TypeOfNumber::International => format!("+{}", address.value),
        _ => address.value.clone(),
    }
}

struct Building {
    to: String,
    concat: Concat,
    parts: Vec<Option<String>>,
    mrs: Vec<u8>,
    /// Position of the first part among all sent, to keep messages in sending order.
    first_seen: usize,
}

impl Building {
    fn finish(self) -> (usize, SentSms) {
        let complete = self.parts.iter().all(Option::is_some);
        let text = self.parts.into_iter().flatten().collect();
        let sms = SentSms {
            to: self.to,
            text,
            parts: self.concat.total,
            complete,
            mrs: self.mrs,
        };
        (self.first_seen, sms)
    }
}

/// Joins the parts of concatenated messages (keyed by recipient, reference and total). A
/// part whose position was already filled starts a new copy of the message, so a resent
/// message shows up twice, as the recipient's phone would show it.
pub(crate) fn reassemble(sent: &[SentPdu]) -> Result<Vec<SentSms>, VmError> {
    let mut done: Vec<(usize, SentSms)> = Vec::new();
    let mut open: HashMap<(String, u16, u8), Building> = HashMap::new();
    for (position, part) in sent.iter().enumerate() {
        let submit = pdu::decode_submit(&part.pdu).map_err(|source| VmError::Undecodable {
            mr: part.mr,
            source,
        })?;
        let to = address_text(&submit.recipient);
        let Some(concat) = submit.concat else {
            done.push((
                position,
                SentSms {
                    to,
                    text: submit.text,
                    parts: 1,
                    complete: true,
                    mrs: vec![part.mr],
                },
            ));
            continue;
        };
        let key = (to.clone(), concat.reference, concat.total);
        let slot = usize::from(concat.seq) - 1;
        let taken = open
            .get(&key)
            .is_some_and(|b| b.parts.get(slot).is_some_and(Option::is_some));
        if taken && let Some(previous) = open.remove(&key) {
            done.push(previous.finish());
        }
        let building = open.entry(key.clone()).or_insert_with(|| Building {
            to,
            concat,
            parts: vec![None; usize::from(concat.total)],
            mrs: Vec::new(),
            first_seen: position,
        });
        if let Some(cell) = building.parts.get_mut(slot) {
            *cell = Some(submit.text);
        }
        building.mrs.push(part.mr);
        if building.parts.iter().all(Option::is_some)
            && let Some(finished) = open.remove(&key)
        {
            done.push(finished.finish());
        }
    }
    done.extend(open.into_values().map(Building::finish));
    done.sort_by_key(|(first_seen, _)| *first_seen);
    Ok(done.into_iter().map(|(_, sms)| sms).collect())
}

impl VirtualModem {
    /// The PDUs (SMSC address + SMS-DELIVER) a network would deliver for `text` from `from`,
    /// without delivering them: for tests that reorder, drop or repeat parts.
    pub fn sms_pdus(&self, from: &str, text: &str) -> Result<Vec<Vec<u8>>, VmError> {
        let (smsc, reference) = self.shared.with(|m| {
            let reference = m.next_concat_ref;
            m.next_concat_ref = m.next_concat_ref.wrapping_add(1);
            (m.net.smsc.clone(), reference)
        });
        let smsc = Address::international(&smsc);
        let stamp = pdu::Timestamp::from_jiff(jiff::Timestamp::now(), jiff::tz::Offset::UTC);
        encode_deliver(&sender_address(from), text, stamp, u16::from(reference))?
            .iter()
            .map(|part| Ok(part.with_smsc(&smsc)?.bytes))
            .collect()
    }

    /// Someone texts the SIM: the text is split into parts as a phone would and each part
    /// delivered in order (see [`deliver_pdu`](Self::deliver_pdu)).
    pub fn deliver_sms(&self, from: &str, text: &str) -> Result<Vec<Delivery>, VmError> {
        self.sms_pdus(from, text)?
            .iter()
            .map(|pdu| self.deliver_pdu(pdu))
            .collect()
    }

    /// What the DTE sent, decoded and reassembled, in sending order.
    pub fn sent(&self) -> Result<Vec<SentSms>, VmError> {
        reassemble(&self.sent_pdus())
    }

    /// Waits until at least `count` complete messages were sent; returns all sent so far.
    pub async fn wait_sms(&self, count: usize, timeout: Duration) -> Result<Vec<SentSms>, VmError> {
        let what = format!("{count} complete SMS sent");
        self.wait_until(timeout, &what, |vm| {
            // An undecodable PDU ends the wait so the caller sees the error below.
            vm.sent().map_or(true, |sent| {
                sent.iter().filter(|s| s.complete).count() >= count
            })
        })
        .await?;
        self.sent()
    }
}

impl From<EncodeError> for VmError {
    fn from(source: EncodeError) -> VmError {
        VmError::Encode(source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modem::pdu::{SubmitOptions, encode_submit};

    fn sent_parts(to: &str, text: &str, reference: u8, first_mr: u8) -> Vec<SentPdu> {
        let options = SubmitOptions {
            concat_reference: reference,
            ..SubmitOptions::default()
        };
        encode_submit(&sender_address(to), text, &options)
            .expect("encode")
            .into_iter()
            .enumerate()
            .map(|(i, pdu)| SentPdu {
                mr: first_mr.wrapping_add(i as u8),
                destination: to.to_string(),
                pdu: pdu.bytes,
            })
            .collect()
    }

    #[test]
    fn senders_are_addressed_like_a_network_would() {
        let table = [
            ("+447400123456", TypeOfNumber::International, "447400123456"),
            ("07400123456", TypeOfNumber::National, "07400123456"),
            ("88088", TypeOfNumber::Unknown, "88088"),
            ("Vodafone", TypeOfNumber::Alphanumeric, "Vodafone"),
            ("+44 74", TypeOfNumber::Alphanumeric, "+44 74"),
        ];
        for (from, kind, value) in table {
            let address = sender_address(from);
            assert_eq!(
                (address.kind, address.value.as_str()),
                (kind, value),
                "{from}"
            );
        }
    }

    #[test]
    fn single_and_multipart_messages_are_joined_in_sending_order() {
        let long = "x".repeat(200);
        let mut sent = sent_parts("+447400111111", &long, 7, 10);
        sent.extend(sent_parts("+447400222222", "short", 0, 12));
        let joined = reassemble(&sent).expect("decodes");
        assert_eq!(joined.len(), 2);
        assert_eq!(joined[0].to, "+447400111111");
        assert_eq!(joined[0].text, long);
        assert_eq!((joined[0].parts, joined[0].complete), (2, true));
        assert_eq!(joined[0].mrs, vec![10, 11]);
        assert_eq!(joined[1].text, "short");
    }

    #[test]
    fn interleaved_missing_and_repeated_parts() {
        let a = sent_parts("+447400111111", &"a".repeat(200), 1, 0);
        let b = sent_parts("+447400222222", &"b".repeat(200), 1, 10);
        // A1, B1, A2, B2 again... then A1 resent without its second part.
        let sent = vec![
            a[0].clone(),
            b[0].clone(),
            a[1].clone(),
            b[1].clone(),
            a[0].clone(),
        ];
        let joined = reassemble(&sent).expect("decodes");
        let summary: Vec<(&str, bool, usize)> = joined
            .iter()
            .map(|s| (s.to.as_str(), s.complete, s.text.len()))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("+447400111111", true, 200),
                ("+447400222222", true, 200),
                ("+447400111111", false, 153),
            ]
        );
    }

    #[test]
    fn garbage_is_an_error_naming_the_message_reference() {
        let sent = vec![SentPdu {
            mr: 42,
            destination: "+447400111111".into(),
            pdu: vec![0x00, 0x04, 0x00],
        }];
        assert!(matches!(
            reassemble(&sent),
            Err(VmError::Undecodable { mr: 42, .. })
        ));
    }
}
