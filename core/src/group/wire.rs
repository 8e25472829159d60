//! The primitives of Kafka's non-flexible message encoding, as `__consumer_offsets` records use
//! them: big-endian integers, `string` (i16 length, then UTF-8), `nullable string` (length -1 for
//! null) and `bytes` (i32 length). Reading checks every length against what is left, so bad bytes
//! give an error, never a panic.

use alloc::sync::Arc;
use alloc::vec::Vec;
use bytes::Bytes;
use core::fmt;

/// Why a record could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordError {
    /// The bytes ended before the field did.
    Truncated,
    /// A length below -1, or -1 where null is not allowed.
    InvalidLength,
    /// A string that is not UTF-8.
    InvalidUtf8,
    /// Bytes left over after the last field.
    TrailingBytes,
    /// A key version this coordinator does not know (the new consumer protocol's records, say).
    UnknownKeyVersion(i16),
    /// A value version this coordinator does not read.
    UnknownValueVersion(i16),
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::Truncated => write!(f, "the record ends inside a field"),
            RecordError::InvalidLength => write!(f, "a field has an invalid length"),
            RecordError::InvalidUtf8 => write!(f, "a string is not UTF-8"),
            RecordError::TrailingBytes => write!(f, "bytes follow the last field"),
            RecordError::UnknownKeyVersion(version) => write!(f, "unknown key version {version}"),
            RecordError::UnknownValueVersion(version) => write!(f, "unknown value version {version}"),
        }
    }
}

/// Appends fields to a buffer.
#[derive(Default)]
pub(crate) struct Writer {
    buffer: Vec<u8>,
}

impl Writer {
    pub(crate) fn i16(&mut self, value: i16) {
        self.buffer.extend_from_slice(&value.to_be_bytes());
    }

    pub(crate) fn i32(&mut self, value: i32) {
        self.buffer.extend_from_slice(&value.to_be_bytes());
    }

    pub(crate) fn i64(&mut self, value: i64) {
        self.buffer.extend_from_slice(&value.to_be_bytes());
    }

    /// A `string`: Kafka's strings are at most `i16::MAX` bytes; the coordinator refuses longer
    /// group ids and metadata before they get here.
    pub(crate) fn string(&mut self, value: &str) {
        let length = i16::try_from(value.len()).expect("a Kafka string is at most 32767 bytes");
        self.i16(length);
        self.buffer.extend_from_slice(value.as_bytes());
    }

    pub(crate) fn nullable_string(&mut self, value: Option<&str>) {
        match value {
            Some(value) => self.string(value),
            None => self.i16(-1),
        }
    }

    pub(crate) fn bytes(&mut self, value: &[u8]) {
        let length = i32::try_from(value.len()).expect("Kafka bytes are at most 2^31-1 long");
        self.i32(length);
        self.buffer.extend_from_slice(value);
    }

    pub(crate) fn finish(self) -> Bytes {
        Bytes::from(self.buffer)
    }
}

/// Reads fields from a buffer, front to back.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { rest: bytes }
    }

    fn take(&mut self, count: usize) -> Result<&'a [u8], RecordError> {
        if self.rest.len() < count {
            return Err(RecordError::Truncated);
        }
        let (head, tail) = self.rest.split_at(count);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], RecordError> {
        let mut array = [0u8; N];
        array.copy_from_slice(self.take(N)?);
        Ok(array)
    }

    pub(crate) fn i16(&mut self) -> Result<i16, RecordError> {
        Ok(i16::from_be_bytes(self.array()?))
    }

    pub(crate) fn i32(&mut self) -> Result<i32, RecordError> {
        Ok(i32::from_be_bytes(self.array()?))
    }

    pub(crate) fn i64(&mut self) -> Result<i64, RecordError> {
        Ok(i64::from_be_bytes(self.array()?))
    }

    pub(crate) fn nullable_string(&mut self) -> Result<Option<Arc<str>>, RecordError> {
        let length = self.i16()?;
        if length == -1 {
            return Ok(None);
        }
        let length = usize::try_from(length).map_err(|_| RecordError::InvalidLength)?;
        let text = core::str::from_utf8(self.take(length)?).map_err(|_| RecordError::InvalidUtf8)?;
        Ok(Some(Arc::from(text)))
    }

    pub(crate) fn string(&mut self) -> Result<Arc<str>, RecordError> {
        self.nullable_string()?.ok_or(RecordError::InvalidLength)
    }

    pub(crate) fn bytes(&mut self) -> Result<Bytes, RecordError> {
        let length = usize::try_from(self.i32()?).map_err(|_| RecordError::InvalidLength)?;
        Ok(Bytes::copy_from_slice(self.take(length)?))
    }

    /// Every field was read: anything left is an error.
    pub(crate) fn end(self) -> Result<(), RecordError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(RecordError::TrailingBytes)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip_and_null_is_minus_one() {
        let mut writer = Writer::default();
        writer.string("ab");
        writer.nullable_string(None);
        writer.bytes(&[7]);
        let bytes = writer.finish();
        assert_eq!(&bytes[..], &[0, 2, b'a', b'b', 0xff, 0xff, 0, 0, 0, 1, 7]);
        let mut reader = Reader::new(&bytes);
        assert_eq!(reader.string().unwrap().as_ref(), "ab");
        assert_eq!(reader.nullable_string().unwrap(), None);
        assert_eq!(&reader.bytes().unwrap()[..], &[7]);
        assert_eq!(reader.end(), Ok(()));
    }

    #[test]
    fn a_length_past_the_end_is_truncated_not_a_panic() {
        assert_eq!(Reader::new(&[0, 9, b'a']).string(), Err(RecordError::Truncated));
        assert_eq!(Reader::new(&[0x7f, 0xff, 0xff, 0xff]).bytes(), Err(RecordError::Truncated));
        assert_eq!(Reader::new(&[0xff, 0xfe]).string(), Err(RecordError::InvalidLength));
        assert_eq!(Reader::new(&[0xff, 0xff]).string(), Err(RecordError::InvalidLength));
        assert_eq!(Reader::new(&[0, 1, 0xff]).string(), Err(RecordError::InvalidUtf8));
    }
}
