//! One record inside a batch, and its encoding.
//!
//! ```text
//! length             varint   bytes after this field, to the end of the record
//! attributes         int8     unused by Kafka (written as 0, ignored on read)
//! timestamp delta    varlong  from the batch's base timestamp
//! offset delta       varint   from the batch's base offset
//! key length         varint   -1 for a null key
//! key                bytes
//! value length       varint   -1 for a null value
//! value              bytes
//! header count       varint
//! headers            header key length varint, header key (UTF-8),
//!                    header value length varint (-1 for null), header value
//! ```
//!
//! Keys, values and header values are `Bytes` that share the batch's buffer when decoded.

use alloc::string::String;
use alloc::vec::Vec;
use bytes::{BufMut, Bytes};

use super::cursor::Cursor;
use super::error::{RecordError, RecordField};
use super::varint::{varint_size, varlong_size, write_varint, write_varlong};
use crate::ids::Offset;

/// A record header: a string key and an optional value. Keys may repeat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordHeader {
    pub key: String,
    pub value: Option<Bytes>,
}

/// A record as the batch format stores it: offset and timestamp relative to the batch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    /// Kafka writes 0 and ignores it; kept so a decoded record re-encodes to the same bytes.
    pub attributes: i8,
    pub timestamp_delta: i64,
    pub offset_delta: i32,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Vec<RecordHeader>,
}

impl Record {
    /// A record with no headers at `offset_delta`, stamped `timestamp_delta` after the batch.
    pub fn new(offset_delta: i32, timestamp_delta: i64, key: Option<Bytes>, value: Option<Bytes>) -> Self {
        Record { attributes: 0, timestamp_delta, offset_delta, key, value, headers: Vec::new() }
    }

    /// The record's offset in a batch whose base offset is `base_offset`.
    pub fn offset(&self, base_offset: Offset) -> Offset {
        Offset(base_offset.0.wrapping_add(self.offset_delta as i64))
    }

    /// The bytes after the length field.
    pub(crate) fn body_size(&self) -> usize {
        let headers: usize = self
            .headers
            .iter()
            .map(|header| length_prefixed_size(Some(header.key.len())) + nullable_size(&header.value))
            .sum();
        1 + varlong_size(self.timestamp_delta)
            + varint_size(self.offset_delta)
            + nullable_size(&self.key)
            + nullable_size(&self.value)
            + varint_size(wire_length(self.headers.len()))
            + headers
    }

    /// The whole record: length field and body.
    pub(crate) fn encoded_size(&self) -> usize {
        let body = self.body_size();
        varint_size(wire_length(body)) + body
    }

    /// Appends the record. The encoder has checked the whole batch fits in an i32 length, so
    /// every length inside does too.
    pub(crate) fn write(&self, out: &mut impl BufMut) {
        write_varint(wire_length(self.body_size()), out);
        out.put_i8(self.attributes);
        write_varlong(self.timestamp_delta, out);
        write_varint(self.offset_delta, out);
        write_nullable(&self.key, out);
        write_nullable(&self.value, out);
        write_varint(wire_length(self.headers.len()), out);
        for header in &self.headers {
            write_varint(wire_length(header.key.len()), out);
            out.put_slice(header.key.as_bytes());
            write_nullable(&header.value, out);
        }
    }

    /// Reads one record at the cursor, which must not extend past the batch.
    pub(crate) fn read(cursor: &mut Cursor<'_>) -> Result<Record, RecordError> {
        let start = cursor.position();
        let length = cursor.read_varint(RecordField::Length)?;
        let available = cursor.remaining();
        if length < 0 || length as usize > available {
            return Err(RecordError::LengthOutOfRange { length, available, position: start });
        }
        let mut body = cursor.split_off(length as usize);
        let record = Record::read_body(&mut body)?;
        if body.remaining() != 0 {
            let read = length as usize - body.remaining();
            return Err(RecordError::LengthMismatch { declared: length, read, position: start });
        }
        Ok(record)
    }

    fn read_body(body: &mut Cursor<'_>) -> Result<Record, RecordError> {
        let attributes = body.read_u8(RecordField::Attributes)? as i8;
        let timestamp_delta = body.read_varlong(RecordField::TimestampDelta)?;
        let offset_delta = body.read_varint(RecordField::OffsetDelta)?;
        let key = read_nullable(body, RecordField::KeyLength, RecordField::Key)?;
        let value = read_nullable(body, RecordField::ValueLength, RecordField::Value)?;
        let headers = read_headers(body)?;
        Ok(Record { attributes, timestamp_delta, offset_delta, key, value, headers })
    }
}

fn read_headers(body: &mut Cursor<'_>) -> Result<Vec<RecordHeader>, RecordError> {
    let position = body.position();
    let count = body.read_varint(RecordField::HeaderCount)?;
    // Each header takes at least two bytes, so a count above the bytes left is corrupt; checking
    // it first also keeps a corrupt count from reserving a huge vector.
    if count < 0 || count as usize > body.remaining() {
        return Err(RecordError::InvalidHeaderCount { count, position });
    }
    let mut headers = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let key_position = body.position();
        let key_length = body.read_varint(RecordField::HeaderKeyLength)?;
        if key_length < 0 {
            let field = RecordField::HeaderKeyLength;
            return Err(RecordError::InvalidLength { field, length: key_length, position: key_position });
        }
        let key_start = body.position();
        let key_bytes = body.take(key_length as usize, RecordField::HeaderKey)?;
        let key =
            core::str::from_utf8(&key_bytes).map_err(|_| RecordError::HeaderKeyNotUtf8 { position: key_start })?.into();
        let value = read_nullable(body, RecordField::HeaderValueLength, RecordField::HeaderValue)?;
        headers.push(RecordHeader { key, value });
    }
    Ok(headers)
}

fn read_nullable(
    body: &mut Cursor<'_>,
    length_field: RecordField,
    data_field: RecordField,
) -> Result<Option<Bytes>, RecordError> {
    let position = body.position();
    match body.read_varint(length_field)? {
        -1 => Ok(None),
        length if length < 0 => Err(RecordError::InvalidLength { field: length_field, length, position }),
        length => body.take(length as usize, data_field).map(Some),
    }
}

fn write_nullable(data: &Option<Bytes>, out: &mut impl BufMut) {
    match data {
        None => write_varint(-1, out),
        Some(data) => {
            write_varint(wire_length(data.len()), out);
            out.put_slice(data);
        }
    }
}

fn nullable_size(data: &Option<Bytes>) -> usize {
    length_prefixed_size(data.as_ref().map(Bytes::len))
}

fn length_prefixed_size(length: Option<usize>) -> usize {
    match length {
        None => varint_size(-1),
        Some(length) => varint_size(wire_length(length)) + length,
    }
}

/// A length as the format writes it. Lengths above `i32::MAX` cannot occur in a batch the
/// encoder accepted; while sizing a larger one, they saturate so the encoder can reject it.
fn wire_length(length: usize) -> i32 {
    i32::try_from(length).unwrap_or(i32::MAX)
}
