//! SMS-DELIVER (TS 23.040 §9.2.2.1): what an employee's phone sent, as the modem lists it.
//! The encoder exists for the virtual modem, which injects messages the way a network would.

use super::address::Address;
use super::dcs::DataCoding;
use super::envelope::Pdu;
use super::error::{DecodeError, EncodeError};
use super::gsm7::ConcatHeader;
use super::reader::Reader;
use super::submit::UDHI;
use super::timestamp::Timestamp;
use super::udh::Concat;
use super::user_data;

/// TP-MMS set: "no more messages are waiting", what a network sends for a lone message.
const NO_MORE_MESSAGES: u8 = 0x04;

/// A decoded SMS-DELIVER.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deliver {
    pub smsc: Option<Address>,
    pub sender: Address,
    /// TP-SCTS: when the network received the message.
    pub timestamp: Timestamp,
    /// TP-PID (TS 23.040 §9.2.3.9); see [`Deliver::is_silent`].
    pub protocol_id: u8,
    pub coding: DataCoding,
    /// Set when this is one part of a concatenated message.
    pub concat: Option<Concat>,
    /// The text of this part. GSM 7-bit and UCS-2 as the phone wrote it; 8-bit data as
    /// ISO 8859-1, one character per octet (lossless; see `user_data`).
    pub text: String,
}

impl Deliver {
    /// TP-PID 0x40, "Short Message Type 0" (TS 23.040 §9.2.3.9): the network pings the phone;
    /// the message must be acknowledged and discarded, never shown or answered.
    pub fn is_silent(&self) -> bool {
        self.protocol_id == 0x40
    }
}

/// Decode the TPDU after the SMSC prefix, its first octet already known to be a DELIVER.
pub(crate) fn decode(smsc: Option<Address>, tpdu: &[u8]) -> Result<Deliver, DecodeError> {
    let mut reader = Reader::new(tpdu);
    let first = reader.octet("first octet")?;
    let sender = Address::decode(&mut reader, "TP-OA")?;
    let protocol_id = reader.octet("TP-PID")?;
    let coding = DataCoding::decode(reader.octet("TP-DCS")?);
    let timestamp = Timestamp::decode(&mut reader, "TP-SCTS")?;
    let (concat, text) = user_data::decode(&mut reader, &coding, first & UDHI != 0)?;
    Ok(Deliver {
        smsc,
        sender,
        timestamp,
        protocol_id,
        coding,
        concat,
        text,
    })
}

/// Encode `text` from `from` as the network would deliver it: one SMS-DELIVER per part,
/// split by [`gsm7::plan_for`], GSM 7-bit or UCS-2 with no message class. A multipart text
/// carries a concatenation header with `concat_reference`: the 8-bit form when it fits in
/// an octet, the 16-bit form (one unit less per part) above 255, so both paths of a decoder
/// can be exercised. The SMSC prefix is 0x00; [`Pdu::with_smsc`] puts a real one in.
pub fn encode_deliver(
    from: &Address,
    text: &str,
    timestamp: Timestamp,
    concat_reference: u16,
) -> Result<Vec<Pdu>, EncodeError> {
    let address = from.encode()?;
    let scts = timestamp.encode()?;
    let header = if concat_reference > 0xFF {
        ConcatHeader::SixteenBitRef
    } else {
        ConcatHeader::EightBitRef
    };
    let parts = user_data::split(text, header, concat_reference)?;
    Ok(parts
        .into_iter()
        .map(|part| {
            let first = if part.has_header {
                NO_MORE_MESSAGES | UDHI
            } else {
                NO_MORE_MESSAGES
            };
            let mut tpdu = vec![first];
            tpdu.extend(&address);
            tpdu.extend([0x00, part.dcs]);
            tpdu.extend(scts);
            tpdu.extend(part.user_data);
            Pdu::with_default_smsc(tpdu)
        })
        .collect())
}
