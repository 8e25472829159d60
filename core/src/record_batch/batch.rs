//! [`RecordBatch`]: one validated batch, held as the bytes Kafka would store or send.
//!
//! A `RecordBatch` only exists for bytes that passed [`RecordBatch::parse`] (or came from the
//! encoder), so its accessors read fixed positions without checking again, and its record
//! iterator decodes records that are known to be well formed. A gzip batch is decompressed once,
//! when parsed or encoded, and keeps its decompressed records beside its bytes, so reading its
//! records costs what reading a plain batch's does. The two fields a broker assigns,
//! base offset and partition leader epoch, can be rewritten in place: they lie before the CRC's
//! range, so the CRC stays valid without being recomputed.

use bytes::{Bytes, BytesMut};

use super::attributes::{BatchAttributes, Compression, TimestampType};
use super::crc32c;
use super::cursor::Cursor;
use super::error::{BatchError, UnsupportedCompression};
use super::gzip;
use super::header::*;
use super::record::Record;
use crate::ids::{LeaderEpoch, Offset};

/// One record batch (magic 2) over its exact bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordBatch {
    bytes: Bytes,
    /// A gzip batch's records section, decompressed (and checked) once. `None` for a plain
    /// batch, whose records are read in place, and for codecs the lab does not implement.
    decompressed: Option<Bytes>,
}

impl RecordBatch {
    /// Checks that `bytes` is exactly one well-formed batch: the length, the magic byte, the
    /// CRC, the codec id and, for an uncompressed or gzip batch, that the records (decompressed
    /// first) match the records count and fill the section exactly. Snappy, lz4 and zstd
    /// records are not checked: they are carried as they came.
    pub fn parse(bytes: Bytes) -> Result<RecordBatch, BatchError> {
        check_length(&bytes)?;
        let magic = bytes[MAGIC_POSITION] as i8;
        if magic != MAGIC {
            return Err(BatchError::UnsupportedMagic { magic });
        }
        let stored = read_u32(&bytes, CRC_POSITION);
        let computed = crc32c::checksum(&bytes[ATTRIBUTES_POSITION..]);
        if stored != computed {
            return Err(BatchError::CrcMismatch { stored, computed });
        }
        let attributes = BatchAttributes::from_bits(read_u16(&bytes, ATTRIBUTES_POSITION))
            .map_err(|unknown| BatchError::UnknownCompression { id: unknown.id })?;
        check_offsets(&bytes)?;
        let count = read_i32(&bytes, RECORDS_COUNT_POSITION);
        if count < 0 {
            return Err(BatchError::NegativeRecordCount { count });
        }
        let decompressed = match attributes.compression() {
            Compression::None => {
                check_records(&bytes, RECORDS_POSITION, count)?;
                None
            }
            Compression::Gzip => {
                let section = &bytes[RECORDS_POSITION..];
                let records =
                    Bytes::from(gzip::decompress(section, gzip::MAX_DECOMPRESSED_BYTES).map_err(BatchError::Gzip)?);
                check_records(&records, 0, count).map_err(|error| BatchError::InDecompressedRecords {
                    compression: Compression::Gzip,
                    error: alloc::boxed::Box::new(error),
                })?;
                Some(records)
            }
            Compression::Snappy | Compression::Lz4 | Compression::Zstd => None,
        };
        Ok(RecordBatch { bytes, decompressed })
    }

    /// Wraps bytes the encoder just wrote, with the records it compressed when it compressed
    /// them. Debug builds parse them to prove it.
    pub(crate) fn from_encoder(bytes: Bytes, decompressed: Option<Bytes>) -> RecordBatch {
        let batch = RecordBatch { bytes, decompressed };
        debug_assert_eq!(
            RecordBatch::parse(batch.bytes.clone()).as_ref(),
            Ok(&batch),
            "encoder wrote an invalid batch"
        );
        batch
    }

    /// The batch's bytes, exactly as stored or sent.
    pub fn as_bytes(&self) -> &Bytes {
        &self.bytes
    }

    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }

    /// The whole batch in bytes: `batch length` plus the 12 bytes before it counts.
    pub fn size_bytes(&self) -> usize {
        self.bytes.len()
    }

    pub fn base_offset(&self) -> Offset {
        Offset(read_i64(&self.bytes, BASE_OFFSET_POSITION))
    }

    pub fn batch_length(&self) -> i32 {
        read_i32(&self.bytes, BATCH_LENGTH_POSITION)
    }

    pub fn partition_leader_epoch(&self) -> LeaderEpoch {
        LeaderEpoch(read_i32(&self.bytes, PARTITION_LEADER_EPOCH_POSITION))
    }

    pub fn magic(&self) -> i8 {
        self.bytes[MAGIC_POSITION] as i8
    }

    /// The stored CRC-32C (valid, since the batch was parsed).
    pub fn crc(&self) -> u32 {
        read_u32(&self.bytes, CRC_POSITION)
    }

    pub fn attributes(&self) -> BatchAttributes {
        match BatchAttributes::from_bits(read_u16(&self.bytes, ATTRIBUTES_POSITION)) {
            Ok(attributes) => attributes,
            Err(unknown) => unreachable!("parse rejected codec id {}", unknown.id),
        }
    }

    pub fn compression(&self) -> Compression {
        self.attributes().compression()
    }

    pub fn timestamp_type(&self) -> TimestampType {
        self.attributes().timestamp_type()
    }

    pub fn is_transactional(&self) -> bool {
        self.attributes().is_transactional()
    }

    pub fn is_control(&self) -> bool {
        self.attributes().is_control()
    }

    pub fn last_offset_delta(&self) -> i32 {
        read_i32(&self.bytes, LAST_OFFSET_DELTA_POSITION)
    }

    pub fn base_timestamp_ms(&self) -> i64 {
        read_i64(&self.bytes, BASE_TIMESTAMP_POSITION)
    }

    pub fn max_timestamp_ms(&self) -> i64 {
        read_i64(&self.bytes, MAX_TIMESTAMP_POSITION)
    }

    /// The delete horizon the log cleaner set, held in the base timestamp field (KIP-534).
    pub fn delete_horizon_ms(&self) -> Option<i64> {
        self.attributes().has_delete_horizon().then(|| self.base_timestamp_ms())
    }

    pub fn producer_id(&self) -> i64 {
        read_i64(&self.bytes, PRODUCER_ID_POSITION)
    }

    pub fn producer_epoch(&self) -> i16 {
        read_i16(&self.bytes, PRODUCER_EPOCH_POSITION)
    }

    pub fn base_sequence(&self) -> i32 {
        read_i32(&self.bytes, BASE_SEQUENCE_POSITION)
    }

    /// The sequence of the last record, wrapping past `i32::MAX` to 0 as Kafka's sequences do.
    pub fn last_sequence(&self) -> i32 {
        let base = self.base_sequence();
        if base < 0 {
            return NO_SEQUENCE;
        }
        (base as i64 + self.last_offset_delta() as i64).rem_euclid(1i64 << 31) as i32
    }

    /// The records count field.
    pub fn record_count(&self) -> i32 {
        read_i32(&self.bytes, RECORDS_COUNT_POSITION)
    }

    /// Base offset plus last offset delta (parse checked it does not overflow).
    pub fn last_offset(&self) -> Offset {
        Offset(self.base_offset().0 + self.last_offset_delta() as i64)
    }

    /// The offset after the batch: where the next batch starts.
    pub fn next_offset(&self) -> Offset {
        self.last_offset().next()
    }

    /// The header fields as a value, e.g. to encode a modified copy.
    pub fn header(&self) -> BatchHeader {
        BatchHeader {
            base_offset: self.base_offset(),
            partition_leader_epoch: self.partition_leader_epoch(),
            attributes: self.attributes(),
            last_offset_delta: self.last_offset_delta(),
            base_timestamp_ms: self.base_timestamp_ms(),
            max_timestamp_ms: self.max_timestamp_ms(),
            producer_id: self.producer_id(),
            producer_epoch: self.producer_epoch(),
            base_sequence: self.base_sequence(),
        }
    }

    /// The records section as stored: records for an uncompressed batch, the codec's output
    /// for a compressed one.
    pub fn records_section(&self) -> Bytes {
        self.bytes.slice(RECORDS_POSITION..)
    }

    /// The records section uncompressed, in bytes: what the batch would take without its codec
    /// (minus the header). `None` for a codec the lab does not implement.
    pub fn uncompressed_records_bytes(&self) -> Option<usize> {
        match (&self.decompressed, self.compression()) {
            (_, Compression::None) => Some(self.bytes.len() - RECORDS_POSITION),
            (decompressed, _) => decompressed.as_ref().map(Bytes::len),
        }
    }

    /// The records, decoded one at a time (from the decompressed records for gzip). A batch
    /// compressed with snappy, lz4 or zstd says which codec it uses instead.
    pub fn records(&self) -> Result<Records<'_>, UnsupportedCompression> {
        match (&self.decompressed, self.compression()) {
            (_, Compression::None) => {
                Ok(Records { cursor: Cursor::new(&self.bytes, RECORDS_POSITION, self.bytes.len()) })
            }
            (Some(records), _) => Ok(Records { cursor: Cursor::new(records, 0, records.len()) }),
            (None, compression) => Err(UnsupportedCompression { compression }),
        }
    }

    /// Assigns the base offset, as the leader does on append. Only bytes 0..8 change; they lie
    /// outside the CRC's range, so the CRC stays valid as stored.
    ///
    /// Panics if the batch's last offset would overflow: offsets come from the log, not input.
    pub fn set_base_offset(&mut self, base_offset: Offset) {
        let last_offset_delta = self.last_offset_delta();
        assert!(
            offsets_fit(base_offset.0, last_offset_delta),
            "base offset {base_offset} with last offset delta {last_offset_delta} overflows"
        );
        self.rewrite(BASE_OFFSET_POSITION, &base_offset.0.to_be_bytes());
    }

    /// Stamps the leader's epoch, as the leader does on append. Only bytes 12..16 change; they
    /// lie outside the CRC's range, so the CRC stays valid as stored.
    pub fn set_partition_leader_epoch(&mut self, epoch: LeaderEpoch) {
        self.rewrite(PARTITION_LEADER_EPOCH_POSITION, &epoch.0.to_be_bytes());
    }

    /// Overwrites bytes before the CRC's range; in place when this batch is the buffer's only
    /// owner, otherwise on a copy.
    fn rewrite(&mut self, position: usize, new_bytes: &[u8]) {
        assert!(position + new_bytes.len() <= CRC_POSITION, "only fields before the CRC may be rewritten");
        let bytes = core::mem::take(&mut self.bytes);
        let mut writable = bytes.try_into_mut().unwrap_or_else(|shared| BytesMut::from(&shared[..]));
        writable[position..position + new_bytes.len()].copy_from_slice(new_bytes);
        self.bytes = writable.freeze();
    }
}

/// The records of a batch, in order.
pub struct Records<'a> {
    cursor: Cursor<'a>,
}

impl Iterator for Records<'_> {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        if self.cursor.remaining() == 0 {
            return None;
        }
        match Record::read(&mut self.cursor) {
            Ok(record) => Some(record),
            Err(error) => unreachable!("parse validated every record: {error}"),
        }
    }
}

/// The buffer holds exactly the batch its length field describes.
fn check_length(bytes: &Bytes) -> Result<(), BatchError> {
    let available = bytes.len();
    if available < LOG_OVERHEAD_BYTES {
        return Err(BatchError::Truncated { needed: LOG_OVERHEAD_BYTES, available });
    }
    let batch_length = read_i32(bytes, BATCH_LENGTH_POSITION);
    if batch_length < MIN_BATCH_LENGTH {
        return Err(BatchError::BatchLengthTooSmall { batch_length });
    }
    let batch_end = LOG_OVERHEAD_BYTES + batch_length as usize;
    if available < batch_end {
        return Err(BatchError::Truncated { needed: batch_end, available });
    }
    if available > batch_end {
        return Err(BatchError::TrailingBytes { batch_end, available });
    }
    Ok(())
}

fn check_offsets(bytes: &Bytes) -> Result<(), BatchError> {
    let base_offset = read_i64(bytes, BASE_OFFSET_POSITION);
    let last_offset_delta = read_i32(bytes, LAST_OFFSET_DELTA_POSITION);
    if offsets_fit(base_offset, last_offset_delta) {
        Ok(())
    } else {
        Err(BatchError::OffsetOverflow { base_offset, last_offset_delta })
    }
}

/// `base + delta + 1` (the next offset) is representable.
fn offsets_fit(base_offset: i64, last_offset_delta: i32) -> bool {
    base_offset.checked_add(last_offset_delta as i64).and_then(|last| last.checked_add(1)).is_some()
}

/// Reads the declared number of records from `start` and checks they end exactly at the end of
/// `bytes`, as Kafka's record iterator does.
fn check_records(bytes: &Bytes, start: usize, declared: i32) -> Result<(), BatchError> {
    let mut cursor = Cursor::new(bytes, start, bytes.len());
    for index in 0..declared as usize {
        if cursor.remaining() == 0 {
            return Err(BatchError::FewerRecordsThanCount { declared, found: index });
        }
        Record::read(&mut cursor).map_err(|error| BatchError::Record { index, error })?;
    }
    if cursor.remaining() != 0 {
        return Err(BatchError::BytesAfterLastRecord { declared, position: cursor.position() });
    }
    Ok(())
}

fn read_array<const N: usize>(bytes: &[u8], position: usize) -> [u8; N] {
    let mut array = [0u8; N];
    array.copy_from_slice(&bytes[position..position + N]);
    array
}

pub(crate) fn read_i16(bytes: &[u8], position: usize) -> i16 {
    i16::from_be_bytes(read_array(bytes, position))
}

pub(crate) fn read_u16(bytes: &[u8], position: usize) -> u16 {
    u16::from_be_bytes(read_array(bytes, position))
}

pub(crate) fn read_i32(bytes: &[u8], position: usize) -> i32 {
    i32::from_be_bytes(read_array(bytes, position))
}

pub(crate) fn read_u32(bytes: &[u8], position: usize) -> u32 {
    u32::from_be_bytes(read_array(bytes, position))
}

pub(crate) fn read_i64(bytes: &[u8], position: usize) -> i64 {
    i64::from_be_bytes(read_array(bytes, position))
}

/// A batch travels in serialized form as its exact bytes, and is parsed (CRC checked) back.
impl serde::Serialize for RecordBatch {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.as_bytes())
    }
}

impl<'de> serde::Deserialize<'de> for RecordBatch {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let bytes: alloc::vec::Vec<u8> = serde::Deserialize::deserialize(deserializer)?;
        RecordBatch::parse(Bytes::from(bytes)).map_err(serde::de::Error::custom)
    }
}
