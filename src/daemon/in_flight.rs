//! A part whose fate is unknown: it was on the serial line (recorded `sending` and committed
//! before `AT+CMGS`) when shiftsms died, or the modem took the PDU and never answered. The
//! network may have it, or not; nothing the modem can be asked will tell.
//!
//! # The rule
//!
//! - **A single-part message is not sent again.** It is marked `failed` with a reason that
//!   starts with [`IN_DOUBT`], and a WARN names the recipient. A second booking confirmation
//!   or a second copy of an offer is worse than a person checking: the log line and
//!   `shiftsms outbox --state failed` say whom to ask.
//! - **A part of a multipart message is sent again**, with the same concatenation reference
//!   (the outbox id modulo 256, see
//!   [`OutboundMessage::concat_ref`]) and the same sequence number. A handset that did
//!   receive the first copy discards the second as a duplicate segment (Android's
//!   `InboundSmsHandler` keys segments by sender, reference and sequence), so this cannot show
//!   the employee a second message, while not sending it would leave them with half a one.
//! - Parts that the network acknowledged (`+CMGS: <mr>` recorded) are never sent again.
//!
//! So after a crash at any instant at most one message per crash is in doubt, and it is
//! counted: [`recover`] reports how many.

use jiff::Timestamp;

use crate::store::outbox::{OutboundMessage, Outbox};
use crate::store::{Store, StoreError};

/// The start of the reason of a message failed because its fate is unknown.
pub const IN_DOUBT: &str = "in doubt:";

/// What was done with a part in doubt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Single part: failed, not sent again; the reason.
    GaveUp(String),
    /// Multipart: queued again to resend part `seq` and those after it.
    Resend { seq: u8 },
    /// Multipart, but its attempts are used up: failed; the reason.
    Exhausted(String),
}

/// A part in doubt.
#[derive(Debug, Clone, Copy)]
pub struct Doubt<'a> {
    /// The part (1-based) and how many the message has.
    pub seq: u8,
    pub of: u8,
    /// What happened (`no answer within 60s after the PDU was written`).
    pub why: &'a str,
    /// Whether the message may have another attempt.
    pub attempts_left: bool,
    /// When a resend may go.
    pub retry_at: Timestamp,
}

/// Apply [the rule](self) to `message`.
pub fn resolve(
    outbox: &Outbox<'_>,
    message: &OutboundMessage,
    doubt: Doubt<'_>,
    now: Timestamp,
) -> Result<Resolution, StoreError> {
    let Doubt {
        seq,
        of,
        why,
        attempts_left,
        retry_at,
    } = doubt;
    let id = message.id;
    if of <= 1 {
        let reason = format!(
            "{IN_DOUBT} {why}; not sent again so that it cannot arrive twice: ask {} whether it \
             arrived",
            message.recipient
        );
        outbox.fail(id, &reason, now)?;
        return Ok(Resolution::GaveUp(reason));
    }
    if !attempts_left {
        let reason = format!(
            "{IN_DOUBT} part {seq} of {of}: {why}; no attempts left ({} made)",
            message.attempts.max(1)
        );
        outbox.fail(id, &reason, now)?;
        return Ok(Resolution::Exhausted(reason));
    }
    outbox.attempt_failed(
        id,
        &format!(
            "part {seq} of {of} in doubt ({why}); it is sent again with the same reference, \
             which a phone that already has it discards"
        ),
        retry_at,
    )?;
    Ok(Resolution::Resend { seq })
}

/// What [`recover`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Single-part messages failed as in doubt: (message, recipient).
    pub in_doubt: Vec<OutboundMessage>,
    /// Multipart messages queued again to resend their part in doubt.
    pub resent: Vec<OutboundMessage>,
    /// Messages stopped between two parts (nothing in doubt), queued again.
    pub resumed: Vec<OutboundMessage>,
}

/// At start, before sending anything: settle every message a previous run left `sending`.
pub fn recover(store: &mut Store, now: Timestamp) -> Result<Recovered, StoreError> {
    let tx = store.transaction()?;
    let outbox = tx.outbox();
    let mut recovered = Recovered::default();
    for message in outbox.interrupted()? {
        let of = message.part_count.unwrap_or(1);
        match message.part_in_flight() {
            Some(seq) => {
                let doubt = Doubt {
                    seq,
                    of,
                    why: "shiftsms stopped while it was on the wire",
                    attempts_left: true,
                    retry_at: now,
                };
                match resolve(&outbox, &message, doubt, now)? {
                    Resolution::GaveUp(_) | Resolution::Exhausted(_) => {
                        recovered.in_doubt.push(message)
                    }
                    Resolution::Resend { .. } => recovered.resent.push(message),
                }
            }
            None => {
                let next = message.first_unsent_part();
                outbox.attempt_failed(
                    message.id,
                    &format!("shiftsms stopped between two parts; resuming at part {next}"),
                    now,
                )?;
                recovered.resumed.push(message);
            }
        }
    }
    tx.commit()?;
    Ok(recovered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::phone::E164;
    use crate::store::outbox::{Kind, OutboxState, Outgoing};

    fn t0() -> Timestamp {
        "2025-03-03T08:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_crash_leaves_one_single_part_in_doubt_and_resends_a_multipart_part() {
        let mut store = Store::open_in_memory().unwrap();
        let ann = E164::from_international("+447400123456").unwrap();
        let tx = store.transaction().unwrap();
        let queue = |text: &str| {
            tx.outbox()
                .queue(
                    &Outgoing {
                        recipient: &ann,
                        text,
                        kind: Kind::Broadcast,
                        cause: None,
                    },
                    t0(),
                )
                .unwrap()
        };
        let single = queue("one");
        let multi = queue("two parts");
        let between = queue("three parts");
        let untouched = queue("four");
        // single: on the wire. multi: part 1 sent, part 2 on the wire. between: part 1 sent.
        tx.outbox().begin_part(single, 1, 1, t0()).unwrap();
        tx.outbox().begin_part(multi, 1, 2, t0()).unwrap();
        tx.outbox().part_sent(multi, 1, 7, t0()).unwrap();
        tx.outbox().begin_part(multi, 2, 2, t0()).unwrap();
        tx.outbox().begin_part(between, 1, 3, t0()).unwrap();
        tx.outbox().part_sent(between, 1, 8, t0()).unwrap();
        tx.commit().unwrap();

        let recovered = recover(&mut store, t0()).unwrap();
        let ids = |list: &[OutboundMessage]| list.iter().map(|m| m.id).collect::<Vec<_>>();
        assert_eq!(ids(&recovered.in_doubt), [single]);
        assert_eq!(ids(&recovered.resent), [multi]);
        assert_eq!(ids(&recovered.resumed), [between]);

        let tx = store.read().unwrap();
        let get = |id| tx.outbox().get(id).unwrap().unwrap();
        let single = get(single);
        assert_eq!(single.state, OutboxState::Failed);
        let reason = single.last_error.unwrap();
        assert!(reason.starts_with(IN_DOUBT), "{reason}");
        assert!(reason.contains("+447400123456"), "{reason}");
        let multi = get(multi);
        assert_eq!(multi.state, OutboxState::Queued);
        assert_eq!(multi.first_unsent_part(), 2);
        assert_eq!(multi.part_in_flight(), None);
        let between = get(between);
        assert_eq!(between.state, OutboxState::Queued);
        assert_eq!(between.first_unsent_part(), 2);
        assert_eq!(get(untouched).state, OutboxState::Queued);
        drop(tx);
        // Nothing left to recover.
        assert_eq!(recover(&mut store, t0()).unwrap(), Recovered::default());
    }
}
