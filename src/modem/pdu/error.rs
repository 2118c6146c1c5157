//! The codec's two error types. Decoding reads bytes from a modem and must never panic,
//! whatever they hold: every way a PDU can be wrong is a variant here, carrying the field
//! (named as in TS 23.040) and the numbers a field engineer needs to see what the modem sent.

use thiserror::Error;

/// Why bytes from the modem (or the daemon, for the virtual modem) are not a PDU we can read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("hex PDU has an odd number of digits ({digits})")]
    OddHexLength { digits: usize },

    #[error("hex PDU has {found:?} at position {position}, not a hex digit")]
    InvalidHex { position: usize, found: char },

    #[error("PDU ends inside {field}: {needed} octet(s) needed, {available} left")]
    Truncated {
        field: &'static str,
        needed: usize,
        available: usize,
    },

    #[error("{field} holds semi-octet {nibble:#x}, not a digit (TS 23.040 §9.1.2.3)")]
    BadSemiOctet { field: &'static str, nibble: u8 },

    #[error("TP-MTI {mti:#04b} is an {kind}, not a message this decoder accepts here")]
    UnexpectedMessageType { mti: u8, kind: &'static str },

    #[error(
        "TP-UDL says {udl} {unit}, which needs {needed} octet(s) of user data; the PDU has {available}"
    )]
    UserDataLength {
        udl: u8,
        unit: &'static str,
        needed: usize,
        available: usize,
    },

    #[error("malformed user data header: {reason}")]
    MalformedHeader { reason: String },

    #[error("TP-DCS {dcs:#04x} marks the text as compressed (TS 23.042), which is not supported")]
    Compressed { dcs: u8 },
}

/// Why a text or address cannot be turned into PDUs.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    #[error("address {value:?} cannot be encoded: {reason}")]
    InvalidAddress { value: String, reason: &'static str },

    #[error(
        "text needs {parts} SMS parts; concatenation allows at most 255 (TS 23.040 §9.2.3.24.1)"
    )]
    TooManyParts { parts: usize },

    #[error(
        "validity period {seconds} s is beyond the relative format's 63 weeks (TS 23.040 §9.2.3.12.1)"
    )]
    ValidityTooLong { seconds: u64 },

    #[error("timestamp field {field} = {value} does not fit two semi-octets")]
    InvalidTimestamp { field: &'static str, value: i32 },
}
