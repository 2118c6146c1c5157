//! SMS PDU codec (pure, no I/O): 3GPP TS 23.040 layouts, TS 23.038 alphabets.

pub mod gsm7;
