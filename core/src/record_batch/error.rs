//! What can be wrong with a batch's bytes, and where.
//!
//! Every position is a byte offset from the start of the batch (its base offset field), so a
//! message points at the byte a hex dump would show (inside a compressed batch's records, from
//! the start of the decompressed records, and the message says so). Kafka reports the same conditions as
//! `CorruptRecordException` or `InvalidRecordException`; here each has its own variant.

use alloc::boxed::Box;
use core::fmt;

use super::attributes::Compression;
use super::gzip::GzipError;
use super::header::{
    ATTRIBUTES_POSITION, BASE_OFFSET_POSITION, BATCH_LENGTH_POSITION, CRC_POSITION, MAGIC, MAGIC_POSITION,
    MIN_BATCH_LENGTH, RECORDS_COUNT_POSITION, RECORDS_POSITION,
};

/// Why [`RecordBatch::parse`](super::RecordBatch::parse) rejected a buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BatchError {
    /// The buffer ends before the batch does: `needed` bytes, `available` present. Fewer than 12
    /// bytes means even the batch length could not be read.
    Truncated { needed: usize, available: usize },
    /// The buffer continues after the batch's declared end.
    TrailingBytes { batch_end: usize, available: usize },
    /// `batch length` is smaller than a header with no records.
    BatchLengthTooSmall { batch_length: i32 },
    /// The magic byte is not 2.
    UnsupportedMagic { magic: i8 },
    /// The stored CRC does not match the bytes it covers.
    CrcMismatch { stored: u32, computed: u32 },
    /// Attribute bits 0-2 name no codec.
    UnknownCompression { id: u8 },
    /// `base offset + last offset delta + 1` does not fit in an offset.
    OffsetOverflow { base_offset: i64, last_offset_delta: i32 },
    /// The records count is negative.
    NegativeRecordCount { count: i32 },
    /// The batch ended after `found` records of the `declared` count.
    FewerRecordsThanCount { declared: i32, found: usize },
    /// Bytes remain after the `declared` records.
    BytesAfterLastRecord { declared: i32, position: usize },
    /// Record number `index` (from 0) is malformed.
    Record { index: usize, error: RecordError },
    /// The records section of a gzip batch is not valid gzip.
    Gzip(GzipError),
    /// The records of a compressed batch, once decompressed, are malformed. The positions in
    /// `error` count from the start of the decompressed records, not of the batch.
    InDecompressedRecords { compression: Compression, error: Box<BatchError> },
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchError::Truncated { needed, available } => {
                write!(f, "batch truncated: needs {needed} bytes, only {available} present")
            }
            BatchError::TrailingBytes { batch_end, available } => write!(
                f,
                "{} bytes follow the batch's end at offset {batch_end} (batch length at offset {BATCH_LENGTH_POSITION})",
                available - batch_end
            ),
            BatchError::BatchLengthTooSmall { batch_length } => write!(
                f,
                "batch length {batch_length} at offset {BATCH_LENGTH_POSITION} is below the minimum {MIN_BATCH_LENGTH}"
            ),
            BatchError::UnsupportedMagic { magic } => {
                write!(f, "magic byte {magic} at offset {MAGIC_POSITION}; only magic {MAGIC} is supported")
            }
            BatchError::CrcMismatch { stored, computed } => write!(
                f,
                "CRC at offset {CRC_POSITION} is {stored:#010x} but bytes {ATTRIBUTES_POSITION}.. give {computed:#010x}"
            ),
            BatchError::UnknownCompression { id } => {
                write!(f, "compression codec id {id} in the attributes at offset {ATTRIBUTES_POSITION} is not defined")
            }
            BatchError::OffsetOverflow { base_offset, last_offset_delta } => write!(
                f,
                "base offset {base_offset} at offset {BASE_OFFSET_POSITION} plus last offset delta \
                 {last_offset_delta} overflows"
            ),
            BatchError::NegativeRecordCount { count } => {
                write!(f, "records count {count} at offset {RECORDS_COUNT_POSITION} is negative")
            }
            BatchError::FewerRecordsThanCount { declared, found } => write!(
                f,
                "records count at offset {RECORDS_COUNT_POSITION} is {declared} but the batch ends after {found}"
            ),
            BatchError::BytesAfterLastRecord { declared, position } => {
                write!(f, "bytes remain at offset {position} after the {declared} records the batch declares")
            }
            BatchError::Record { index, error } => write!(f, "record {index}: {error}"),
            BatchError::Gzip(error) => write!(f, "the records section at offset {RECORDS_POSITION}: {error}"),
            BatchError::InDecompressedRecords { compression, error } => write!(
                f,
                "in the {compression}-decompressed records (offsets count from their first byte): {error}"
            ),
        }
    }
}

/// A field of a record, to say which one a [`RecordError`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordField {
    Length,
    Attributes,
    TimestampDelta,
    OffsetDelta,
    KeyLength,
    Key,
    ValueLength,
    Value,
    HeaderCount,
    HeaderKeyLength,
    HeaderKey,
    HeaderValueLength,
    HeaderValue,
}

impl RecordField {
    pub const fn name(self) -> &'static str {
        match self {
            RecordField::Length => "length",
            RecordField::Attributes => "attributes",
            RecordField::TimestampDelta => "timestamp delta",
            RecordField::OffsetDelta => "offset delta",
            RecordField::KeyLength => "key length",
            RecordField::Key => "key",
            RecordField::ValueLength => "value length",
            RecordField::Value => "value",
            RecordField::HeaderCount => "header count",
            RecordField::HeaderKeyLength => "header key length",
            RecordField::HeaderKey => "header key",
            RecordField::HeaderValueLength => "header value length",
            RecordField::HeaderValue => "header value",
        }
    }
}

/// Why one record inside an uncompressed batch could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordError {
    /// The record (or the batch, for its length) ended inside `field`, which starts at `position`.
    Truncated { field: RecordField, position: usize },
    /// A variable-length integer in `field` runs past its maximum length.
    OverlongVarint { field: RecordField, position: usize },
    /// The record's length is negative or larger than what is left of the batch.
    LengthOutOfRange { length: i32, available: usize, position: usize },
    /// A key or value length below -1, or a negative header key length. Kafka's reader treats
    /// any negative key or value length as null, but no Kafka writer produces one below -1.
    InvalidLength { field: RecordField, length: i32, position: usize },
    /// A negative header count, or more headers than bytes left in the record.
    InvalidHeaderCount { count: i32, position: usize },
    /// A header key that is not UTF-8 (Kafka header keys are strings).
    HeaderKeyNotUtf8 { position: usize },
    /// The fields took `read` bytes but the record's length said `declared`.
    LengthMismatch { declared: i32, read: usize, position: usize },
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::Truncated { field, position } => {
                write!(f, "the record ends inside its {} at offset {position}", field.name())
            }
            RecordError::OverlongVarint { field, position } => {
                write!(f, "the {} at offset {position} is a variable-length integer longer than allowed", field.name())
            }
            RecordError::LengthOutOfRange { length, available, position } => {
                write!(f, "record length {length} at offset {position} does not fit the {available} bytes left")
            }
            RecordError::InvalidLength { field, length, position } => {
                write!(f, "{} {length} at offset {position} is not a valid length", field.name())
            }
            RecordError::InvalidHeaderCount { count, position } => {
                write!(f, "header count {count} at offset {position} is negative or exceeds the record")
            }
            RecordError::HeaderKeyNotUtf8 { position } => write!(f, "header key at offset {position} is not UTF-8"),
            RecordError::LengthMismatch { declared, read, position } => write!(
                f,
                "record at offset {position} declares {declared} bytes after its length but its fields take {read}"
            ),
        }
    }
}

/// The records of a batch compressed with a codec this crate does not implement (snappy, lz4 or
/// zstd) were asked for. Kafka answers a produce of such a batch, where it cannot read it, with
/// `UNSUPPORTED_COMPRESSION_TYPE`; here such a batch is carried as opaque bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnsupportedCompression {
    pub compression: Compression,
}

impl fmt::Display for UnsupportedCompression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the records are compressed with {}, which the lab does not implement (only none and gzip); they are \
             carried as opaque bytes from offset {}",
            self.compression, RECORDS_POSITION
        )
    }
}
