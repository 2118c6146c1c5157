//! What travels over AT in PDU mode (TS 27.005 §3.1): an SMSC address field, then the TPDU.
//! `AT+CMGS=<length>` and `+CMGL`/`+CMGR`/`+CMT` count only the TPDU octets (§3.5.1,
//! §3.4.2), so the two lengths must never be confused: [`Pdu`] carries both.

use super::address::Address;
use super::error::{DecodeError, EncodeError};
use super::hex;
use super::reader::Reader;

/// One PDU ready for the modem: SMSC prefix plus TPDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pdu {
    /// The SMSC prefix (0x00 = use the SIM's SMSC) followed by the TPDU.
    pub bytes: Vec<u8>,
    /// TPDU octets only: the `<length>` of `AT+CMGS=<length>` (TS 27.005 §3.5.1) and of
    /// `+CMGL: <index>,<stat>,,<length>`.
    pub tpdu_len: usize,
}

impl Pdu {
    /// A PDU with the "use the SIM's SMSC" prefix (a single 0x00).
    pub(crate) fn with_default_smsc(tpdu: Vec<u8>) -> Self {
        let tpdu_len = tpdu.len();
        let mut bytes = Vec::with_capacity(tpdu_len + 1);
        bytes.push(0x00);
        bytes.extend(tpdu);
        Pdu { bytes, tpdu_len }
    }

    /// Upper-case hex, as written after the `>` prompt of `AT+CMGS`.
    pub fn to_hex(&self) -> String {
        hex::to_hex(&self.bytes)
    }

    /// The TPDU without its SMSC prefix.
    pub fn tpdu(&self) -> &[u8] {
        &self.bytes[self.bytes.len() - self.tpdu_len..]
    }

    /// The same TPDU behind an explicit SMSC address, as real modems list received messages
    /// (the virtual modem uses this to look like one). `tpdu_len` is unchanged.
    pub fn with_smsc(&self, smsc: &Address) -> Result<Pdu, EncodeError> {
        let mut bytes = smsc.encode_smsc()?;
        bytes.extend_from_slice(self.tpdu());
        Ok(Pdu {
            bytes,
            tpdu_len: self.tpdu_len,
        })
    }
}

/// Split PDU-mode bytes into the SMSC address (`None` for a 0x00 prefix) and the TPDU.
/// The virtual modem uses it to check `AT+CMGS=<length>` against the TPDU it received.
pub fn split_smsc(bytes: &[u8]) -> Result<(Option<Address>, &[u8]), DecodeError> {
    let mut reader = Reader::new(bytes);
    let smsc = Address::decode_smsc(&mut reader)?;
    Ok((smsc, reader.rest()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modem::pdu::hex::from_hex;

    #[test]
    fn split_and_resmsc() {
        // The classic SMS-DELIVER (dreamfabric.com/sms): SMSC +27381000015.
        let bytes =
            from_hex("07917283010010F5040BC87238880900F10000993092516195800AE8329BFD4697D9EC37")
                .unwrap();
        let (smsc, tpdu) = split_smsc(&bytes).unwrap();
        let smsc = smsc.unwrap();
        assert_eq!(smsc, Address::international("27381000015"));
        assert_eq!(tpdu.len(), bytes.len() - 8);

        let plain = Pdu::with_default_smsc(tpdu.to_vec());
        assert_eq!(plain.tpdu_len, tpdu.len());
        assert_eq!(plain.bytes[0], 0x00);
        assert_eq!(plain.tpdu(), tpdu);
        let real = plain.with_smsc(&smsc).unwrap();
        assert_eq!(real.bytes, bytes);
        assert_eq!(real.tpdu_len, plain.tpdu_len);
        assert!(real.to_hex().starts_with("07917283010010F5"));

        assert!(matches!(
            split_smsc(&[]),
            Err(DecodeError::Truncated {
                field: "SMSC address",
                ..
            })
        ));
        assert!(matches!(
            split_smsc(&[0x07, 0x91, 0x72]),
            Err(DecodeError::Truncated {
                field: "SMSC address",
                needed: 6,
                available: 1
            })
        ));
    }
}
