//! SMS-STATUS-REPORT (TS 23.040 §9.2.2.3): the network's word on a message the daemon sent
//! with TP-SRR set, matched to it by the message reference `+CMGS: <mr>` returned.

use super::address::Address;
use super::envelope::Pdu;
use super::error::{DecodeError, EncodeError};
use super::reader::Reader;
use super::timestamp::Timestamp;

const MTI_STATUS_REPORT: u8 = 0b10;
const NO_MORE_MESSAGES: u8 = 0x04;

/// TP-Status (TS 23.040 §9.2.3.15), the octet as sent; [`DeliveryStatus::outcome`] says
/// what it means for the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeliveryStatus(pub u8);

/// The four families of TP-Status, plus the reserved half of the octet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryOutcome {
    /// 0x00-0x1F: transaction completed (received, forwarded without confirmation,
    /// replaced, or an SC-specific completion).
    Delivered,
    /// 0x20-0x3F: temporary error, the SMSC is still trying; another report may follow.
    StillTrying,
    /// 0x40-0x5F: permanent error, the SMSC gave up (unknown number, expired, ...).
    PermanentFailure,
    /// 0x60-0x7F: temporary error, but the SMSC is not trying any more.
    TemporaryFailure,
    /// 0x80-0xFF: reserved by the spec; treat as "unknown", never as delivered.
    Reserved,
}

impl DeliveryStatus {
    /// Short message received by the SME.
    pub const RECEIVED: DeliveryStatus = DeliveryStatus(0x00);
    /// Temporary error, SC still trying: no response from SME.
    pub const NO_RESPONSE_STILL_TRYING: DeliveryStatus = DeliveryStatus(0x22);
    /// Permanent error: validity period expired.
    pub const VALIDITY_EXPIRED: DeliveryStatus = DeliveryStatus(0x46);
    /// Temporary error, SC not trying any more: SME busy.
    pub const BUSY_GAVE_UP: DeliveryStatus = DeliveryStatus(0x61);

    pub fn outcome(self) -> DeliveryOutcome {
        match self.0 {
            0x00..=0x1F => DeliveryOutcome::Delivered,
            0x20..=0x3F => DeliveryOutcome::StillTrying,
            0x40..=0x5F => DeliveryOutcome::PermanentFailure,
            0x60..=0x7F => DeliveryOutcome::TemporaryFailure,
            0x80..=0xFF => DeliveryOutcome::Reserved,
        }
    }
}

/// A decoded SMS-STATUS-REPORT. The optional parameters after TP-ST (TP-PI and what it
/// announces) are not read: the daemon needs the outcome, and some networks append
/// malformed ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReport {
    pub smsc: Option<Address>,
    /// TP-MR of the SMS-SUBMIT this reports on (`+CMGS: <mr>`).
    pub message_reference: u8,
    /// TP-RA: the number the message was sent to.
    pub recipient: Address,
    /// TP-SCTS: when the SMSC received the SMS-SUBMIT.
    pub submitted: Timestamp,
    /// TP-DT: when the status below was reached (delivered, or the last attempt).
    pub discharged: Timestamp,
    pub status: DeliveryStatus,
}

/// Decode the TPDU after the SMSC prefix, its first octet already known to be a report.
pub(crate) fn decode(smsc: Option<Address>, tpdu: &[u8]) -> Result<StatusReport, DecodeError> {
    let mut reader = Reader::new(tpdu);
    reader.octet("first octet")?;
    let message_reference = reader.octet("TP-MR")?;
    let recipient = Address::decode(&mut reader, "TP-RA")?;
    let submitted = Timestamp::decode(&mut reader, "TP-SCTS")?;
    let discharged = Timestamp::decode(&mut reader, "TP-DT")?;
    let status = DeliveryStatus(reader.octet("TP-ST")?);
    Ok(StatusReport {
        smsc,
        message_reference,
        recipient,
        submitted,
        discharged,
        status,
    })
}

/// Encode a status report as the network would send it (for the virtual modem), with the
/// 0x00 SMSC prefix and no optional parameters.
pub fn encode_status_report(
    message_reference: u8,
    recipient: &Address,
    submitted: Timestamp,
    discharged: Timestamp,
    status: DeliveryStatus,
) -> Result<Pdu, EncodeError> {
    let mut tpdu = vec![MTI_STATUS_REPORT | NO_MORE_MESSAGES, message_reference];
    tpdu.extend(recipient.encode()?);
    tpdu.extend(submitted.encode()?);
    tpdu.extend(discharged.encode()?);
    tpdu.push(status.0);
    Ok(Pdu::with_default_smsc(tpdu))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes() {
        let table = [
            (0x00, DeliveryOutcome::Delivered),
            (0x02, DeliveryOutcome::Delivered),
            (0x1F, DeliveryOutcome::Delivered),
            (0x20, DeliveryOutcome::StillTrying),
            (0x30, DeliveryOutcome::StillTrying),
            (0x40, DeliveryOutcome::PermanentFailure),
            (0x46, DeliveryOutcome::PermanentFailure),
            (0x61, DeliveryOutcome::TemporaryFailure),
            (0x7F, DeliveryOutcome::TemporaryFailure),
            (0x80, DeliveryOutcome::Reserved),
            (0xFF, DeliveryOutcome::Reserved),
        ];
        for (status, outcome) in table {
            assert_eq!(DeliveryStatus(status).outcome(), outcome, "{status:#04x}");
        }
    }
}
