//! The batch header: where each fixed field sits, and the fields a writer chooses.
//!
//! ```text
//! offset  size  field
//!      0     8  base offset
//!      8     4  batch length      (bytes after this field, to the end of the batch)
//!     12     4  partition leader epoch
//!     16     1  magic             (2)
//!     17     4  crc               (CRC-32C of bytes 21 .. end)
//!     21     2  attributes
//!     23     4  last offset delta
//!     27     8  base timestamp
//!     35     8  max timestamp
//!     43     8  producer id
//!     51     2  producer epoch
//!     53     4  base sequence
//!     57     4  records count
//!     61        records
//! ```
//!
//! All integers are big-endian. Base offset and partition leader epoch sit before the CRC's
//! range, so a broker can assign them without recomputing it (Kafka's `DefaultRecordBatch`).

use crate::ids::{LeaderEpoch, Offset};

use super::attributes::BatchAttributes;
use super::record::Record;

pub const BASE_OFFSET_POSITION: usize = 0;
pub const BATCH_LENGTH_POSITION: usize = 8;
pub const PARTITION_LEADER_EPOCH_POSITION: usize = 12;
pub const MAGIC_POSITION: usize = 16;
pub const CRC_POSITION: usize = 17;
pub const ATTRIBUTES_POSITION: usize = 21;
pub const LAST_OFFSET_DELTA_POSITION: usize = 23;
pub const BASE_TIMESTAMP_POSITION: usize = 27;
pub const MAX_TIMESTAMP_POSITION: usize = 35;
pub const PRODUCER_ID_POSITION: usize = 43;
pub const PRODUCER_EPOCH_POSITION: usize = 51;
pub const BASE_SEQUENCE_POSITION: usize = 53;
pub const RECORDS_COUNT_POSITION: usize = 57;
/// Where the records begin; also the size of a batch with none (Kafka's `RECORD_BATCH_OVERHEAD`).
pub const RECORDS_POSITION: usize = 61;
pub const HEADER_BYTES: usize = RECORDS_POSITION;
/// Base offset and batch length: the bytes `batch length` does not count (Kafka's `LOG_OVERHEAD`).
pub const LOG_OVERHEAD_BYTES: usize = 12;
/// The smallest valid `batch length`: a header and no records.
pub const MIN_BATCH_LENGTH: i32 = (HEADER_BYTES - LOG_OVERHEAD_BYTES) as i32;

/// The only format this module reads and writes.
pub const MAGIC: i8 = 2;

/// Kafka's "none" values (`RecordBatch.NO_PRODUCER_ID` and friends).
pub const NO_PRODUCER_ID: i64 = -1;
pub const NO_PRODUCER_EPOCH: i16 = -1;
pub const NO_SEQUENCE: i32 = -1;
pub const NO_PARTITION_LEADER_EPOCH: LeaderEpoch = LeaderEpoch(-1);
pub const NO_TIMESTAMP: i64 = -1;

/// The header fields a writer chooses. Length, magic, CRC and records count follow from the
/// records and are filled in by the encoder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchHeader {
    /// The offset of the first record; the leader assigns it on append.
    pub base_offset: Offset,
    /// The epoch of the leader that appended the batch; producers send -1.
    pub partition_leader_epoch: LeaderEpoch,
    pub attributes: BatchAttributes,
    /// The last record's offset minus `base_offset`. Kept even when compaction empties the
    /// batch, so it is a field and not derived from the records.
    pub last_offset_delta: i32,
    /// The first record's timestamp, or the delete horizon when that attribute is set.
    pub base_timestamp_ms: i64,
    pub max_timestamp_ms: i64,
    /// The idempotent or transactional producer, or [`NO_PRODUCER_ID`].
    pub producer_id: i64,
    pub producer_epoch: i16,
    /// The producer's sequence number of the first record, or [`NO_SEQUENCE`].
    pub base_sequence: i32,
}

impl BatchHeader {
    /// A header for a plain, non-idempotent batch: no producer, no leader epoch yet, create
    /// time, no compression, timestamps `base_timestamp_ms`, a single record's offset delta.
    pub fn new(base_offset: Offset, base_timestamp_ms: i64) -> Self {
        BatchHeader {
            base_offset,
            partition_leader_epoch: NO_PARTITION_LEADER_EPOCH,
            attributes: BatchAttributes::default(),
            last_offset_delta: 0,
            base_timestamp_ms,
            max_timestamp_ms: base_timestamp_ms,
            producer_id: NO_PRODUCER_ID,
            producer_epoch: NO_PRODUCER_EPOCH,
            base_sequence: NO_SEQUENCE,
        }
    }

    /// Sets `last_offset_delta` and `max_timestamp_ms` from the records, as Kafka's producer
    /// does: the largest offset delta, and the base timestamp plus the largest timestamp delta.
    /// With no records the header is returned unchanged.
    pub fn fitted_to(mut self, records: &[Record]) -> Self {
        if let Some(last) = records.iter().map(|record| record.offset_delta).max() {
            self.last_offset_delta = last;
        }
        if let Some(largest) = records.iter().map(|record| record.timestamp_delta).max() {
            self.max_timestamp_ms = self.base_timestamp_ms.wrapping_add(largest);
        }
        self
    }
}
