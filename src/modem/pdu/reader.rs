//! A cursor over PDU octets whose every read names the TS 23.040 field it is reading, so a
//! short PDU becomes `Truncated { field: "TP-SCTS", .. }` instead of an index panic.

use super::error::DecodeError;

pub(crate) struct Reader<'a> {
    octets: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(octets: &'a [u8]) -> Self {
        Reader { octets }
    }

    pub(crate) fn octet(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, field)?[0])
    }

    pub(crate) fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], DecodeError> {
        if n > self.octets.len() {
            return Err(DecodeError::Truncated {
                field,
                needed: n,
                available: self.octets.len(),
            });
        }
        let (head, tail) = self.octets.split_at(n);
        self.octets = tail;
        Ok(head)
    }

    /// Everything not read yet.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.octets
    }
}
