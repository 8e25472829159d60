//! Writing a batch: a header and records in, the exact bytes with a correct CRC out.
//!
//! The batch is sized first, so the buffer is allocated once and a batch too large for the
//! format's 32-bit length is refused before anything is written. A gzip header has its records
//! written to a buffer of their own and compressed ([`gzip`](super::gzip)) before the batch is
//! sized. The CRC is computed last, over the attributes field to the end, and written into its
//! slot.

use alloc::vec::Vec;
use bytes::{BufMut, Bytes, BytesMut};
use core::fmt;

use super::attributes::Compression;
use super::batch::RecordBatch;
use super::crc32c;
use super::error::BatchError;
use super::gzip;
use super::header::{BatchHeader, ATTRIBUTES_POSITION, CRC_POSITION, HEADER_BYTES, LOG_OVERHEAD_BYTES, MAGIC};
use super::record::Record;

/// Why a batch could not be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EncodeError {
    /// [`encode`] writes records plain or gzip-compressed; for snappy, lz4 and zstd, which the
    /// lab does not implement, compressing them is the caller's job, and the result goes
    /// through [`encode_compressed`].
    UnsupportedCompression { compression: Compression },
    /// [`encode_compressed`] was given a gzip payload that is not valid gzip, or whose records
    /// do not match the count.
    InvalidPayload(BatchError),
    /// [`encode_compressed`] was given a header that says the records are not compressed.
    PayloadNotCompressed,
    /// A negative records count for a compressed payload.
    NegativeRecordCount { count: i32 },
    /// The batch would exceed the format's maximum `batch length`, `i32::MAX`.
    BatchTooLarge { size_bytes: usize },
    /// More records than the records count field can say.
    TooManyRecords { count: usize },
    /// The header's offsets overflow: `base offset + last offset delta + 1` is not an offset.
    OffsetOverflow,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::UnsupportedCompression { compression } => write!(
                f,
                "the header says {compression}, which the lab does not implement; compress the records and use \
                 encode_compressed"
            ),
            EncodeError::InvalidPayload(error) => write!(f, "the compressed payload is invalid: {error}"),
            EncodeError::PayloadNotCompressed => write!(f, "the header says the records are not compressed"),
            EncodeError::NegativeRecordCount { count } => write!(f, "records count {count} is negative"),
            EncodeError::BatchTooLarge { size_bytes } => {
                write!(f, "a batch of {size_bytes} bytes exceeds the format's limit of 2^31 - 1 after the length")
            }
            EncodeError::TooManyRecords { count } => write!(f, "{count} records exceed the records count field"),
            EncodeError::OffsetOverflow => write!(f, "the base offset plus the last offset delta overflows"),
        }
    }
}

/// Writes a batch of `records` under `header`, compressing them with gzip when the header's
/// attributes say gzip.
///
/// The header is written as given: `last_offset_delta` and `max_timestamp_ms` are not derived
/// from the records (see [`BatchHeader::fitted_to`]), so any uncompressed batch Kafka wrote can
/// be rewritten byte for byte from its parsed header and records. (A gzip batch decodes to the
/// same records, but its compressed bytes depend on the compressor.)
pub fn encode(header: &BatchHeader, records: &[Record]) -> Result<RecordBatch, EncodeError> {
    let count = i32::try_from(records.len()).map_err(|_| EncodeError::TooManyRecords { count: records.len() })?;
    let records_size: usize = records.iter().map(Record::encoded_size).sum();
    match header.attributes.compression() {
        Compression::None => {
            let mut out = start_batch(header, count, records_size)?;
            for record in records {
                record.write(&mut out);
            }
            Ok(RecordBatch::from_encoder(finish_batch(out), None))
        }
        Compression::Gzip => {
            if records_size > gzip::MAX_DECOMPRESSED_BYTES {
                return Err(EncodeError::BatchTooLarge { size_bytes: HEADER_BYTES.saturating_add(records_size) });
            }
            let mut plain = BytesMut::with_capacity(records_size);
            for record in records {
                record.write(&mut plain);
            }
            let plain = plain.freeze();
            let payload = gzip::compress(&plain);
            let mut out = start_batch(header, count, payload.len())?;
            out.put_slice(&payload);
            Ok(RecordBatch::from_encoder(finish_batch(out), Some(plain)))
        }
        compression @ (Compression::Snappy | Compression::Lz4 | Compression::Zstd) => {
            Err(EncodeError::UnsupportedCompression { compression })
        }
    }
}

/// Writes a batch whose records section is `payload`, already compressed by the caller with
/// the codec the header names, holding `record_count` records. A gzip payload is checked as
/// [`RecordBatch::parse`] checks it; other codecs' payloads are carried unread.
pub fn encode_compressed(header: &BatchHeader, record_count: i32, payload: &[u8]) -> Result<RecordBatch, EncodeError> {
    if header.attributes.compression() == Compression::None {
        return Err(EncodeError::PayloadNotCompressed);
    }
    if record_count < 0 {
        return Err(EncodeError::NegativeRecordCount { count: record_count });
    }
    let mut out = start_batch(header, record_count, payload.len())?;
    out.put_slice(payload);
    RecordBatch::parse(finish_batch(out)).map_err(EncodeError::InvalidPayload)
}

/// Checks the size and offsets, then writes the 61-byte header with a zero CRC.
fn start_batch(header: &BatchHeader, record_count: i32, records_size: usize) -> Result<BytesMut, EncodeError> {
    let size_bytes = HEADER_BYTES.saturating_add(records_size);
    let batch_length =
        i32::try_from(size_bytes - LOG_OVERHEAD_BYTES).map_err(|_| EncodeError::BatchTooLarge { size_bytes })?;
    let next_offset =
        header.base_offset.0.checked_add(header.last_offset_delta as i64).and_then(|last| last.checked_add(1));
    if next_offset.is_none() {
        return Err(EncodeError::OffsetOverflow);
    }
    let mut out = BytesMut::with_capacity(size_bytes);
    out.put_i64(header.base_offset.0);
    out.put_i32(batch_length);
    out.put_i32(header.partition_leader_epoch.0);
    out.put_i8(MAGIC);
    out.put_u32(0); // The CRC, filled in by `finish_batch`.
    out.put_u16(header.attributes.bits());
    out.put_i32(header.last_offset_delta);
    out.put_i64(header.base_timestamp_ms);
    out.put_i64(header.max_timestamp_ms);
    out.put_i64(header.producer_id);
    out.put_i16(header.producer_epoch);
    out.put_i32(header.base_sequence);
    out.put_i32(record_count);
    assert_eq!(out.len(), HEADER_BYTES);
    Ok(out)
}

/// Fills in the CRC of a batch whose bytes are all written.
fn finish_batch(mut out: BytesMut) -> Bytes {
    let declared = i32::from_be_bytes([out[8], out[9], out[10], out[11]]);
    assert_eq!(declared as usize + LOG_OVERHEAD_BYTES, out.len(), "records wrote what they were sized at");
    let crc = crc32c::checksum(&out[ATTRIBUTES_POSITION..]);
    out[CRC_POSITION..ATTRIBUTES_POSITION].copy_from_slice(&crc.to_be_bytes());
    out.freeze()
}

/// Concatenates batches as a Produce request or Fetch response carries them.
pub fn concatenate(batches: &[RecordBatch]) -> Bytes {
    let mut out = Vec::with_capacity(batches.iter().map(RecordBatch::size_bytes).sum());
    for batch in batches {
        out.extend_from_slice(batch.as_bytes());
    }
    Bytes::from(out)
}
