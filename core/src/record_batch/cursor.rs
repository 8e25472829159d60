//! A read position inside a batch's bytes, for decoding records field by field.
//!
//! Positions are counted from the start of the batch, so every error can say at which byte of
//! the batch it found the problem. Reads never run past `end`, which for a record is the end of
//! its declared length; slices of the batch are taken without copying.

use bytes::Bytes;

use super::error::{RecordError, RecordField};
use super::varint::{self, VarintError};

pub(crate) struct Cursor<'a> {
    bytes: &'a Bytes,
    position: usize,
    end: usize,
}

impl<'a> Cursor<'a> {
    /// Reads `bytes[position..end]`.
    pub(crate) fn new(bytes: &'a Bytes, position: usize, end: usize) -> Self {
        assert!(position <= end && end <= bytes.len(), "cursor range {position}..{end} outside {}", bytes.len());
        Cursor { bytes, position, end }
    }

    pub(crate) fn position(&self) -> usize {
        self.position
    }

    pub(crate) fn remaining(&self) -> usize {
        self.end - self.position
    }

    /// A cursor over the next `length` bytes; this one moves past them.
    pub(crate) fn split_off(&mut self, length: usize) -> Cursor<'a> {
        assert!(length <= self.remaining(), "split of {length} bytes with {} remaining", self.remaining());
        let part = Cursor::new(self.bytes, self.position, self.position + length);
        self.position += length;
        part
    }

    pub(crate) fn read_u8(&mut self, field: RecordField) -> Result<u8, RecordError> {
        let byte = *self.unread().first().ok_or(RecordError::Truncated { field, position: self.position })?;
        self.position += 1;
        Ok(byte)
    }

    pub(crate) fn read_varint(&mut self, field: RecordField) -> Result<i32, RecordError> {
        let (value, length) = varint::read_varint(self.unread()).map_err(|error| self.varint_error(error, field))?;
        self.position += length;
        Ok(value)
    }

    pub(crate) fn read_varlong(&mut self, field: RecordField) -> Result<i64, RecordError> {
        let (value, length) = varint::read_varlong(self.unread()).map_err(|error| self.varint_error(error, field))?;
        self.position += length;
        Ok(value)
    }

    /// The next `length` bytes as a slice of the batch, without copying.
    pub(crate) fn take(&mut self, length: usize, field: RecordField) -> Result<Bytes, RecordError> {
        if length > self.remaining() {
            return Err(RecordError::Truncated { field, position: self.position });
        }
        let taken = self.bytes.slice(self.position..self.position + length);
        self.position += length;
        Ok(taken)
    }

    fn unread(&self) -> &'a [u8] {
        &self.bytes[self.position..self.end]
    }

    fn varint_error(&self, error: VarintError, field: RecordField) -> RecordError {
        match error {
            VarintError::Truncated => RecordError::Truncated { field, position: self.position },
            VarintError::Overlong => RecordError::OverlongVarint { field, position: self.position },
        }
    }
}
