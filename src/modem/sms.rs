//! SMS storage and transfer in PDU mode (3GPP TS 27.005 §3, §4): the values the modem
//! reports about stored messages, and the raw PDUs going in and out.
//!
//! This layer moves PDUs as bytes; [`crate::modem::pdu`] gives them meaning.

use std::fmt;

use super::fields::{self, Fields, ParseError};
use super::pdu::{self, DecodeError, Incoming};

/// A message storage area (TS 27.005 §3.1 `<mem1>`..`<mem3>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Storage {
    /// `"SM"`: the SIM card.
    Sim,
    /// `"ME"`: the modem's own memory.
    Modem,
    /// `"MT"`: SIM and modem memory together.
    Both,
    /// `"SR"`: status report storage.
    StatusReports,
    /// `"BM"`: cell broadcast messages.
    Broadcast,
    /// Anything else, as the modem spelled it.
    Other(String),
}

impl Storage {
    /// From the name the modem uses.
    pub fn from_name(name: &str) -> Self {
        match name.trim().trim_matches('"').to_ascii_uppercase().as_str() {
            "SM" => Storage::Sim,
            "ME" => Storage::Modem,
            "MT" => Storage::Both,
            "SR" => Storage::StatusReports,
            "BM" => Storage::Broadcast,
            _ => Storage::Other(name.trim().trim_matches('"').to_owned()),
        }
    }

    /// The name as used in commands.
    pub fn name(&self) -> &str {
        match self {
            Storage::Sim => "SM",
            Storage::Modem => "ME",
            Storage::Both => "MT",
            Storage::StatusReports => "SR",
            Storage::Broadcast => "BM",
            Storage::Other(name) => name,
        }
    }
}

impl fmt::Display for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `<stat>` of a stored message in PDU mode (TS 27.005 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageStatus {
    /// 0: received, not yet read.
    ReceivedUnread,
    /// 1: received, read.
    ReceivedRead,
    /// 2: stored, not sent.
    StoredUnsent,
    /// 3: stored, sent.
    StoredSent,
    /// Any other value.
    Other(u8),
}

impl MessageStatus {
    /// From the numeric `<stat>`.
    pub fn from_code(code: u8) -> Self {
        match code {
            0 => MessageStatus::ReceivedUnread,
            1 => MessageStatus::ReceivedRead,
            2 => MessageStatus::StoredUnsent,
            3 => MessageStatus::StoredSent,
            other => MessageStatus::Other(other),
        }
    }

    /// Whether this is a message someone sent to us (as opposed to a draft or a sent copy).
    pub fn is_received(self) -> bool {
        matches!(
            self,
            MessageStatus::ReceivedUnread | MessageStatus::ReceivedRead
        )
    }
}

/// The PDU line of a stored or delivered message: bytes when it was hexadecimal, or the line
/// itself when it was not, so that even a corrupt entry can be recorded and deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawPdu {
    /// The decoded octets (SMSC address first, as the modem lists them).
    Bytes(Vec<u8>),
    /// A line that was not an even number of hex digits.
    BadHex(String),
}

impl RawPdu {
    /// From a hex line as the modem sent it.
    pub fn from_hex_line(line: &str) -> Self {
        match hex_to_bytes(line.trim()) {
            Some(bytes) => RawPdu::Bytes(bytes),
            None => RawPdu::BadHex(line.to_owned()),
        }
    }

    /// The octets, if the line was valid hexadecimal.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            RawPdu::Bytes(b) => Some(b),
            RawPdu::BadHex(_) => None,
        }
    }

    /// The message it holds (TS 23.040), or why it cannot be read: a bad hex line gives the
    /// codec's hex error, naming the position of the first bad character.
    pub fn decode(&self) -> Result<Incoming, DecodeError> {
        match self {
            RawPdu::Bytes(bytes) => pdu::decode_incoming(bytes),
            RawPdu::BadHex(line) => pdu::decode_incoming(&pdu::from_hex(line)?),
        }
    }
}

/// A message held in the modem's storage, as listed by `AT+CMGL` or read by `AT+CMGR`.
/// [`StoredPdu::decode`] gives its content; when that fails, the raw PDU and the
/// (storage, index) key are still here so the caller can keep it and delete it: a bad PDU
/// must never wedge the SIM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPdu {
    /// The storage area it is in.
    pub storage: Storage,
    /// Its slot there: (storage, index) is the key for reading and deleting it.
    pub index: u32,
    /// Read, unread, draft...
    pub status: MessageStatus,
    /// `<length>`: TPDU octets, the SMSC address not counted.
    pub tpdu_len: u16,
    /// The PDU itself.
    pub pdu: RawPdu,
}

impl StoredPdu {
    /// The message (TS 23.040), or why it cannot be read.
    pub fn decode(&self) -> Result<Incoming, DecodeError> {
        self.pdu.decode()
    }
}

/// An SMS-SUBMIT ready for `AT+CMGS`: the PDU octets (SMSC address first; `00` means "the
/// SIM's default centre") and the TPDU length that `AT+CMGS=<length>` announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmitPdu {
    bytes: Vec<u8>,
    tpdu_len: u8,
}

/// Why a PDU cannot be handed to `AT+CMGS`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitPduError {
    /// The PDU is not hexadecimal.
    #[error("the PDU is not an even number of hex digits")]
    NotHex,
    /// The announced TPDU length does not match the octets (SMSC length byte + TPDU).
    #[error(
        "TPDU length {tpdu_len} does not match a {total}-octet PDU whose SMSC part is {smsc} octets"
    )]
    LengthMismatch {
        /// The length given.
        tpdu_len: usize,
        /// Octets in the PDU.
        total: usize,
        /// Octets of the SMSC part (length byte included).
        smsc: usize,
    },
    /// TS 23.040 caps a TPDU at 164 octets (SMS-SUBMIT with 140 octets of user data).
    #[error("TPDU of {0} octets is longer than an SMS-SUBMIT can be")]
    TooLong(usize),
}

/// Longest SMS-SUBMIT TPDU: 7 header octets, 12-octet address, 4 more, 140 user data.
const MAX_SUBMIT_TPDU: usize = 164;

impl SubmitPdu {
    /// From octets whose first is the SMSC address length, checking `tpdu_len` against them.
    pub fn new(bytes: Vec<u8>, tpdu_len: usize) -> Result<Self, SubmitPduError> {
        let smsc = bytes.first().map_or(0, |&n| usize::from(n) + 1);
        if tpdu_len > MAX_SUBMIT_TPDU {
            return Err(SubmitPduError::TooLong(tpdu_len));
        }
        if smsc.checked_add(tpdu_len) != Some(bytes.len()) || tpdu_len == 0 {
            return Err(SubmitPduError::LengthMismatch {
                tpdu_len,
                total: bytes.len(),
                smsc,
            });
        }
        Ok(SubmitPdu {
            bytes,
            tpdu_len: tpdu_len as u8,
        })
    }

    /// From the codec's output ([`pdu::encode_submit`]).
    pub fn from_pdu(pdu: pdu::Pdu) -> Result<Self, SubmitPduError> {
        SubmitPdu::new(pdu.bytes, pdu.tpdu_len)
    }

    /// From hexadecimal text, as printed by other tools.
    pub fn from_hex(hex: &str, tpdu_len: usize) -> Result<Self, SubmitPduError> {
        let bytes = hex_to_bytes(hex.trim()).ok_or(SubmitPduError::NotHex)?;
        SubmitPdu::new(bytes, tpdu_len)
    }

    /// The `<length>` of `AT+CMGS`.
    pub fn tpdu_len(&self) -> u8 {
        self.tpdu_len
    }

    /// The octets.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Upper-case hexadecimal, as sent after the prompt.
    pub fn to_hex(&self) -> String {
        bytes_to_hex(&self.bytes)
    }
}

/// `<mr>`: the message reference the network gave a submitted part (TS 23.040 §9.2.3.6).
/// Status reports carry it back, so it links a delivery report to the part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageReference(pub u8);

impl fmt::Display for MessageReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Used and total slots of one storage area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Messages stored.
    pub used: u32,
    /// Slots in all.
    pub total: u32,
}

impl Usage {
    /// Whether no slot is free (new messages then cannot be stored).
    pub fn is_full(self) -> bool {
        self.total > 0 && self.used >= self.total
    }
}

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.used, self.total)
    }
}

/// The three storage areas after `AT+CPMS` (TS 27.005 §3.2.2): read/delete, write/send,
/// and where new messages are received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageStatus {
    /// `<mem1>`: read and delete (`AT+CMGL`, `AT+CMGR`, `AT+CMGD`).
    pub read: (Storage, Usage),
    /// `<mem2>`: write and send.
    pub write: (Storage, Usage),
    /// `<mem3>`: where received messages go.
    pub receive: (Storage, Usage),
}

const MAX_SLOTS: u64 = 1_000_000;

/// `+CPMS: <mem1>,<used1>,<total1>,<mem2>,<used2>,<total2>,<mem3>,<used3>,<total3>` (the
/// answer to `AT+CPMS?`). A modem that lists only `<mem1>` and `<mem2>` gets `<mem2>` as
/// `<mem3>`.
pub fn parse_cpms_query(line: &str) -> Result<StorageStatus, ParseError> {
    let p = fields::params(line, "+CPMS:")?;
    let err = |e| ParseError::new(line, e);
    let area = |i: usize| -> Result<(Storage, Usage), ParseError> {
        let name = p
            .optional_text(i)
            .ok_or_else(|| ParseError::new(line, format_args!("storage {} missing", i / 3 + 1)))?;
        let used = p.number(i + 1, MAX_SLOTS).map_err(err)? as u32;
        let total = p.number(i + 2, MAX_SLOTS).map_err(err)? as u32;
        Ok((Storage::from_name(&name), Usage { used, total }))
    };
    let read = area(0)?;
    let write = area(3)?;
    let receive = if p.len() >= 9 {
        area(6)?
    } else {
        write.clone()
    };
    Ok(StorageStatus {
        read,
        write,
        receive,
    })
}

/// `+CPMS: <used1>,<total1>,<used2>,<total2>,<used3>,<total3>` (the answer to setting the
/// storage), as three usages in mem1, mem2, mem3 order.
pub fn parse_cpms_set(line: &str) -> Result<[Usage; 3], ParseError> {
    let p = fields::params(line, "+CPMS:")?;
    let err = |e| ParseError::new(line, e);
    let usage = |i: usize| -> Result<Usage, ParseError> {
        Ok(Usage {
            used: p.number(i, MAX_SLOTS).map_err(err)? as u32,
            total: p.number(i + 1, MAX_SLOTS).map_err(err)? as u32,
        })
    };
    let first = usage(0)?;
    let second = if p.len() >= 4 { usage(2)? } else { first };
    let third = if p.len() >= 6 { usage(4)? } else { second };
    Ok([first, second, third])
}

/// `+CMGS: <mr>[,<scts>]` (TS 27.005 §3.5.1).
pub fn parse_cmgs(line: &str) -> Result<MessageReference, ParseError> {
    let p = fields::params(line, "+CMGS:")?;
    let mr = p.number(0, 255).map_err(|e| ParseError::new(line, e))?;
    Ok(MessageReference(mr as u8))
}

const MAX_INDEX: u64 = u32::MAX as u64;
const MAX_TPDU: u64 = 255;

/// `+CMTI: <mem>,<index>` and `+CDSI: <mem>,<index>` (TS 27.005 §3.4.1): where a new message
/// or status report was stored.
pub fn parse_stored_at(line: &str, prefix: &str) -> Result<(Storage, u32), ParseError> {
    let p = fields::params(line, prefix)?;
    let name = p
        .optional_text(0)
        .ok_or_else(|| ParseError::new(line, "storage missing"))?;
    let index = p
        .number(1, MAX_INDEX)
        .map_err(|e| ParseError::new(line, e))?;
    Ok((Storage::from_name(&name), index as u32))
}

/// The length field of a `+CMT: [<alpha>],<length>` or `+CDS: <length>` header (TS 27.005
/// §3.4.1): the last parameter.
pub fn parse_pdu_header_length(line: &str, prefix: &str) -> Result<u16, ParseError> {
    let p = fields::params(line, prefix)?;
    let last = p
        .len()
        .checked_sub(1)
        .ok_or_else(|| ParseError::new(line, "length missing"))?;
    let len = p
        .number(last, MAX_TPDU)
        .map_err(|e| ParseError::new(line, e))?;
    Ok(len as u16)
}

/// The information lines of `AT+CMGL=<stat>` in PDU mode: pairs of
/// `+CMGL: <index>,<stat>,[<alpha>],<length>` and the PDU line (TS 27.005 §3.4.2).
///
/// A header whose numbers are unreadable is an error (the index is what deleting needs). A
/// header without a hexadecimal PDU line after it gives [`RawPdu::BadHex`], so the entry can
/// still be deleted (the framer passes only hex lines here; anything else it reports as
/// unsolicited).
pub fn parse_cmgl(storage: &Storage, lines: &[String]) -> Result<Vec<StoredPdu>, ParseError> {
    let mut out = Vec::new();
    let mut iter = lines.iter().peekable();
    while let Some(line) = iter.next() {
        let p = fields::params(line, "+CMGL:")?;
        let err = |e| ParseError::new(line, e);
        let index = p.number(0, MAX_INDEX).map_err(err)? as u32;
        let status = MessageStatus::from_code(p.number(1, 255).map_err(err)? as u8);
        let last = p.len().saturating_sub(1).max(2);
        let tpdu_len = p.number(last, MAX_TPDU).map_err(err)? as u16;
        let pdu = match iter.next_if(|l| fields::after_prefix(l, "+CMGL:").is_none()) {
            Some(pdu_line) => RawPdu::from_hex_line(pdu_line),
            None => RawPdu::BadHex(String::new()),
        };
        out.push(StoredPdu {
            storage: storage.clone(),
            index,
            status,
            tpdu_len,
            pdu,
        });
    }
    Ok(out)
}

/// The information lines of `AT+CMGR=<index>` in PDU mode: `+CMGR: <stat>,[<alpha>],<length>`
/// and the PDU line (TS 27.005 §3.4.3). No lines means an empty slot (some modems answer an
/// empty slot with a bare `OK`, others with `+CMS ERROR: 321`).
pub fn parse_cmgr(
    storage: &Storage,
    index: u32,
    lines: &[String],
) -> Result<Option<StoredPdu>, ParseError> {
    let Some(header) = lines.first() else {
        return Ok(None);
    };
    let p = fields::params(header, "+CMGR:")?;
    let err = |e| ParseError::new(header, e);
    let status = MessageStatus::from_code(p.number(0, 255).map_err(err)? as u8);
    let last = p.len().saturating_sub(1).max(1);
    let tpdu_len = p.number(last, MAX_TPDU).map_err(err)? as u16;
    let pdu = match lines.get(1) {
        Some(line) => RawPdu::from_hex_line(line),
        None => RawPdu::BadHex(String::new()),
    };
    Ok(Some(StoredPdu {
        storage: storage.clone(),
        index,
        status,
        tpdu_len,
        pdu,
    }))
}

/// Hexadecimal text to octets; `None` unless it is an even number of hex digits.
pub fn hex_to_bytes(hex: &str) -> Option<Vec<u8>> {
    let digits = hex.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks_exact(2)
        .map(|pair| {
            let hi = (pair[0] as char).to_digit(16)?;
            let lo = (pair[1] as char).to_digit(16)?;
            Some((hi * 16 + lo) as u8)
        })
        .collect()
}

/// Octets to upper-case hexadecimal.
pub fn bytes_to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0x0F)] as char);
    }
    s
}

/// `+CMS ERROR` codes (TS 27.005 §3.2.5) that callers act on.
pub mod cms {
    /// ME failure.
    pub const ME_FAILURE: u16 = 300;
    /// Operation not allowed.
    pub const NOT_ALLOWED: u16 = 302;
    /// Operation not supported.
    pub const NOT_SUPPORTED: u16 = 303;
    /// Invalid PDU mode parameter (a malformed PDU).
    pub const INVALID_PDU_PARAMETER: u16 = 304;
    /// SIM not inserted.
    pub const SIM_NOT_INSERTED: u16 = 310;
    /// SIM PIN required.
    pub const SIM_PIN_REQUIRED: u16 = 311;
    /// SIM busy: try again shortly.
    pub const SIM_BUSY: u16 = 314;
    /// Memory failure.
    pub const MEMORY_FAILURE: u16 = 320;
    /// Invalid memory index: nothing stored there.
    pub const INVALID_INDEX: u16 = 321;
    /// Memory full.
    pub const MEMORY_FULL: u16 = 322;
    /// SMSC address unknown (no SMS centre configured on the SIM).
    pub const SMSC_UNKNOWN: u16 = 330;
    /// No network service.
    pub const NO_NETWORK: u16 = 331;
    /// Network timeout.
    pub const NETWORK_TIMEOUT: u16 = 332;
    /// Unknown error.
    pub const UNKNOWN: u16 = 500;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lines(s: &[&str]) -> Vec<String> {
        s.iter().map(|l| (*l).to_owned()).collect()
    }

    #[test]
    fn cpms_query_table() {
        // From ModemManager's test table, and a SIM800 answer.
        let s = parse_cpms_query("+CPMS: \"ME\",1,100,\"MT\",5,100,\"TA\",1,100").unwrap();
        assert_eq!(
            s.read,
            (
                Storage::Modem,
                Usage {
                    used: 1,
                    total: 100
                }
            )
        );
        assert_eq!(
            s.write,
            (
                Storage::Both,
                Usage {
                    used: 5,
                    total: 100
                }
            )
        );
        assert_eq!(s.receive.0, Storage::Other("TA".into()));
        let s = parse_cpms_query("+CPMS: \"SM\",3,30,\"SM\",3,30,\"SM\",3,30").unwrap();
        assert_eq!(s.receive, (Storage::Sim, Usage { used: 3, total: 30 }));
        let s = parse_cpms_query("+CPMS: \"SM\",100,100,\"SR\",5,10").unwrap();
        assert!(s.read.1.is_full());
        assert_eq!(s.receive, s.write);
        assert!(parse_cpms_query("+CPMS: \"SM\",x,30").is_err());
        assert!(parse_cpms_query("+CPMS: ,1,2,\"SM\",1,2").is_err());
    }

    #[test]
    fn cpms_set_table() {
        let u = parse_cpms_set("+CPMS: 3,30,3,30,3,30").unwrap();
        assert_eq!(u[2], Usage { used: 3, total: 30 });
        let u = parse_cpms_set("+CPMS: 0,25,0,25").unwrap();
        assert_eq!(u[2], Usage { used: 0, total: 25 });
        assert!(parse_cpms_set("+CPMS: 99999999999,1").is_err());
    }

    #[test]
    fn cmgs_is_checked() {
        assert_eq!(parse_cmgs("+CMGS: 5").unwrap(), MessageReference(5));
        assert_eq!(parse_cmgs("+CMGS: 255").unwrap(), MessageReference(255));
        assert_eq!(
            parse_cmgs("+CMGS: 12,\"21/01/02,10:00:00+00\"").unwrap(),
            MessageReference(12)
        );
        // at-commands panics in debug on this and wraps in release.
        assert!(parse_cmgs("+CMGS: 9999999999").is_err());
        assert!(parse_cmgs("+CMGS: 256").is_err());
        assert!(parse_cmgs("+CMGS: -1").is_err());
    }

    #[test]
    fn stored_at_and_headers() {
        assert_eq!(
            parse_stored_at("+CMTI: \"SM\",3", "+CMTI:").unwrap(),
            (Storage::Sim, 3)
        );
        assert_eq!(
            parse_stored_at("+CMTI: \"ME\",0", "+CMTI:").unwrap(),
            (Storage::Modem, 0)
        );
        assert_eq!(
            parse_stored_at("+CDSI: \"SR\",12", "+CDSI:").unwrap(),
            (Storage::StatusReports, 12)
        );
        assert!(parse_stored_at("+CMTI: \"SM\",", "+CMTI:").is_err());
        assert!(parse_stored_at("+CMTI: \"SM\",99999999999", "+CMTI:").is_err());
        assert_eq!(parse_pdu_header_length("+CMT: ,23", "+CMT:").unwrap(), 23);
        assert_eq!(
            parse_pdu_header_length("+CMT: \"\",23", "+CMT:").unwrap(),
            23
        );
        assert_eq!(parse_pdu_header_length("+CDS: 24", "+CDS:").unwrap(), 24);
        assert!(parse_pdu_header_length("+CMT: ,", "+CMT:").is_err());
    }

    #[test]
    fn cmgl_pairs_headers_and_pdus() {
        let got = parse_cmgl(
            &Storage::Sim,
            &lines(&[
                "+CMGL: 1,0,,30",
                "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07",
                "+CMGL: 7,1,\"\",5",
                "not hex",
                "+CMGL: 9,1,,5",
            ]),
        )
        .unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].index, 1);
        assert_eq!(got[0].status, MessageStatus::ReceivedUnread);
        assert_eq!(got[0].tpdu_len, 30);
        assert_eq!(got[0].pdu.bytes().map(<[u8]>::len), Some(38));
        assert_eq!(got[1].index, 7);
        assert_eq!(got[1].pdu, RawPdu::BadHex("not hex".into()));
        assert_eq!(got[2].index, 9);
        assert_eq!(got[2].pdu, RawPdu::BadHex(String::new()));
        assert!(parse_cmgl(&Storage::Sim, &lines(&["+CMGL: x,0,,23", "00"])).is_err());
        assert!(parse_cmgl(&Storage::Sim, &lines(&[])).unwrap().is_empty());
    }

    #[test]
    fn cmgr_reads_one() {
        let got = parse_cmgr(&Storage::Modem, 4, &lines(&["+CMGR: 1,,23", "0791"]))
            .unwrap()
            .unwrap();
        assert_eq!(got.index, 4);
        assert_eq!(got.status, MessageStatus::ReceivedRead);
        assert_eq!(got.pdu, RawPdu::Bytes(vec![0x07, 0x91]));
        assert_eq!(parse_cmgr(&Storage::Sim, 4, &[]).unwrap(), None);
        assert_eq!(got.storage, Storage::Modem);
        assert!(parse_cmgr(&Storage::Sim, 4, &lines(&["+CMGR: ,,"])).is_err());
    }

    #[test]
    fn submit_pdu_checks_length() {
        // SMSC "00" + 6-octet TPDU.
        let pdu = SubmitPdu::from_hex("00010005810180F60000", 9).unwrap();
        assert_eq!(pdu.tpdu_len(), 9);
        assert_eq!(pdu.to_hex(), "00010005810180F60000");
        assert!(SubmitPdu::from_hex("00010005810180F60000", 8).is_err());
        assert!(SubmitPdu::from_hex("0G", 1).is_err());
        assert!(SubmitPdu::new(vec![0], 0).is_err());
        assert!(SubmitPdu::new(vec![0; 200], 199).is_err());
    }

    /// Published examples: a Telit UC864 manual's `+CMGL` (a stored, unsent SUBMIT, listed
    /// too by `AT+CMGL=4`) and the PDU of Nordic's `AT+CMGS` example (SMSC included).
    #[test]
    fn published_vectors() {
        let got = parse_cmgl(
            &Storage::Sim,
            &lines(&[
                "+CMGL: 26,2,,17",
                "08812801009901025911640A8110567892820014A704C7D1B1DB",
            ]),
        )
        .unwrap();
        assert_eq!(got[0].index, 26);
        assert_eq!(got[0].status, MessageStatus::StoredUnsent);
        assert!(!got[0].status.is_received());
        assert_eq!(got[0].tpdu_len, 17);
        assert_eq!(got[0].pdu.bytes().map(<[u8]>::len), Some(26));
        // SIM800 writes no space after the colon.
        let got = parse_cmgl(&Storage::Sim, &lines(&["+CMGL:3,0,,17", "00"])).unwrap();
        assert_eq!(got[0].index, 3);

        let nordic = "069144888888F811000C9153481032547600000B20D4F29C9E769F4161D0BC3D07B5CBF379F89C769F416F7B590E62D3CB";
        assert_eq!(SubmitPdu::from_hex(nordic, 42).unwrap().tpdu_len(), 42);
    }

    #[test]
    fn stored_messages_decode_or_say_why() {
        let listed = parse_cmgl(
            &Storage::Sim,
            &lines(&[
                "+CMGL: 1,0,,30",
                "07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07",
                "+CMGL: 2,0,,3",
                "00040B",
                "+CMGL: 3,0,,3",
                "0G",
            ]),
        )
        .unwrap();
        match listed[0].decode().unwrap() {
            Incoming::Deliver(d) => assert_eq!(d.text, "How are you?"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            listed[1].decode(),
            Err(DecodeError::Truncated { .. })
        ));
        assert!(matches!(
            listed[2].decode(),
            Err(DecodeError::InvalidHex { .. })
        ));
        // Either way the key to delete it is there.
        assert_eq!(
            (listed[2].storage.clone(), listed[2].index),
            (Storage::Sim, 3)
        );
    }

    #[test]
    fn codec_output_is_accepted_for_sending() {
        let opts = pdu::SubmitOptions::default();
        let to = pdu::Address::international("+447400123456");
        let parts = pdu::encode_submit(&to, &"x".repeat(200), &opts).unwrap();
        assert_eq!(parts.len(), 2);
        for part in parts {
            let len = part.tpdu_len;
            let submit = SubmitPdu::from_pdu(part).unwrap();
            assert_eq!(usize::from(submit.tpdu_len()), len);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn hex_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(hex_to_bytes(&bytes_to_hex(&bytes)), Some(bytes));
        }

        #[test]
        fn cmgl_never_panics(ls in proptest::collection::vec("\\PC{0,40}", 0..6)) {
            let _ = parse_cmgl(&Storage::Sim, &ls);
        }
    }
}
