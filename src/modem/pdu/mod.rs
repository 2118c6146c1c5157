//! SMS PDU codec (pure, no I/O): 3GPP TS 23.040 layouts, TS 23.038 alphabets.

pub mod error;
pub mod gsm7;
pub mod hex;
pub mod septets;

pub use error::{DecodeError, EncodeError};
pub use hex::{from_hex, to_hex};
