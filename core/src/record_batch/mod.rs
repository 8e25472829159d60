//! Kafka's record batch, magic 2: the unit producers send, logs store and fetches return.
//!
//! Byte-compatible with Apache Kafka's `DefaultRecordBatch` and `DefaultRecord`
//! (<https://kafka.apache.org/documentation/#recordbatch>), so the native server can store what
//! real clients send and hand it back unchanged. Sans-IO and `no_std`: bytes in, bytes out.
//!
//! - [`encode()`] and [`encode_compressed`] write a batch from a [`BatchHeader`] and records;
//! - [`RecordBatch::parse`] validates one batch (length, magic, CRC-32C, codec, records) and
//!   gives typed errors that name the byte offset at fault;
//! - a [`RecordBatch`] reads every header field, iterates its records (plain or gzip; snappy,
//!   lz4 and zstd are carried as opaque bytes), and rewrites the two fields a leader assigns,
//!   base offset and partition leader epoch, without touching the CRC;
//! - [`split_batches`] splits concatenated batches, reporting a torn last batch apart from
//!   corruption;
//! - [`TransactionMarker`] reads and writes control batches' commit and abort markers;
//! - [`BatchAnatomy`] labels a batch's bytes field by field, for showing them.
//!
//! The pieces: [`anatomy`], [`header`] (layout and [`BatchHeader`]), [`attributes`], [`record`], [`batch`],
//! [`encode`](mod@encode), [`gzip`] (with [`crc32`] for its trailer), [`split`], [`control`],
//! [`error`], [`varint`] and [`crc32c`] (both CRCs built by `crc_table`).

pub mod anatomy;
pub mod attributes;
pub mod batch;
pub mod control;
pub mod crc32;
pub mod crc32c;
mod crc_table;
mod cursor;
pub mod encode;
pub mod error;
pub mod gzip;
pub mod header;
pub mod record;
pub mod split;
#[cfg(test)]
pub(crate) mod test_batches;
pub mod varint;

pub use anatomy::{BatchAnatomy, BatchField, CompressedRecords, FieldKind};
pub use attributes::{BatchAttributes, Compression, TimestampType, UnknownCompression};
pub use batch::{RecordBatch, Records};
pub use control::{control_record_type, ControlError, ControlRecordType, TransactionMarker, TransactionResult};
pub use encode::{concatenate, encode, encode_compressed, EncodeError};
pub use error::{BatchError, RecordError, RecordField, UnsupportedCompression};
pub use gzip::GzipError;
pub use header::{BatchHeader, NO_PARTITION_LEADER_EPOCH, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE};
pub use record::{Record, RecordHeader};
pub use split::{split_batches, SplitBatches, SplitError, TornTail};
