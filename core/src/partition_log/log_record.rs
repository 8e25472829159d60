//! [`LogRecord`]: one record as a reader of the log sees it, with the offset, epoch, timestamp
//! and producer sequence its batch gives it (what Kafka's `Record` accessors compute from
//! `DefaultRecordBatch` and `DefaultRecord`); and [`single_record_batch`], the batch a plain
//! producer sends for one record.

use alloc::vec;
use bytes::Bytes;

use crate::ids::{LeaderEpoch, Offset};
use crate::record_batch::header::NO_SEQUENCE;
use crate::record_batch::{encode, BatchHeader, Record, RecordBatch, TimestampType};

/// A decoded record with everything its batch says about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRecord {
    pub offset: Offset,
    /// The partition leader epoch of its batch: the leader that appended it.
    pub leader_epoch: LeaderEpoch,
    /// Create time (base timestamp plus the record's delta), or for a batch with log append
    /// time, the batch's max timestamp, as Kafka reads it.
    pub timestamp_ms: i64,
    pub key: Option<Bytes>,
    /// `None` is a tombstone: on a compacted topic, the key is deleted.
    pub value: Option<Bytes>,
    pub batch_base_offset: Offset,
    pub producer_id: i64,
    /// The batch's base sequence plus the record's offset delta, wrapping as Kafka's do;
    /// -1 for a batch without a producer sequence.
    pub sequence: i32,
    pub is_control: bool,
}

impl LogRecord {
    pub fn is_tombstone(&self) -> bool {
        self.value.is_none()
    }
}

/// The records of `batch`, decoded. A compressed batch yields none: this crate carries
/// compressed records as opaque bytes and never decompresses them.
pub(super) fn decode(batch: &RecordBatch) -> impl Iterator<Item = LogRecord> + '_ {
    let context = BatchContext::of(batch);
    batch.records().into_iter().flatten().map(move |record| context.log_record(record))
}

/// The header fields every record of a batch shares.
#[derive(Clone, Copy)]
pub(super) struct BatchContext {
    base_offset: Offset,
    leader_epoch: LeaderEpoch,
    base_timestamp_ms: i64,
    /// Set for log-append-time batches, whose records all carry the batch's max timestamp.
    append_time_ms: Option<i64>,
    producer_id: i64,
    base_sequence: i32,
    is_control: bool,
}

impl BatchContext {
    pub(super) fn of(batch: &RecordBatch) -> BatchContext {
        let append_time_ms = match batch.timestamp_type() {
            TimestampType::CreateTime => None,
            TimestampType::LogAppendTime => Some(batch.max_timestamp_ms()),
        };
        BatchContext {
            base_offset: batch.base_offset(),
            leader_epoch: batch.partition_leader_epoch(),
            base_timestamp_ms: batch.base_timestamp_ms(),
            append_time_ms,
            producer_id: batch.producer_id(),
            base_sequence: batch.base_sequence(),
            is_control: batch.is_control(),
        }
    }

    /// The record's absolute timestamp.
    pub(super) fn timestamp_ms(&self, record: &Record) -> i64 {
        self.append_time_ms.unwrap_or(self.base_timestamp_ms.wrapping_add(record.timestamp_delta))
    }

    pub(super) fn log_record(&self, record: Record) -> LogRecord {
        let sequence = if self.base_sequence < 0 {
            NO_SEQUENCE
        } else {
            (self.base_sequence as i64 + record.offset_delta as i64).rem_euclid(1i64 << 31) as i32
        };
        LogRecord {
            offset: record.offset(self.base_offset),
            leader_epoch: self.leader_epoch,
            timestamp_ms: self.timestamp_ms(&record),
            batch_base_offset: self.base_offset,
            producer_id: self.producer_id,
            sequence,
            is_control: self.is_control,
            key: record.key,
            value: record.value,
        }
    }
}

/// A batch of one record from a plain producer: no producer id, epoch or sequence, create
/// time `timestamp_ms`, base offset 0 until a leader assigns one.
///
/// Panics only if key and value together approach 2 GiB, more than the format can hold.
pub fn single_record_batch(timestamp_ms: i64, key: Option<Bytes>, value: Option<Bytes>) -> RecordBatch {
    let records = vec![Record::new(0, 0, key, value)];
    let header = BatchHeader::new(Offset(0), timestamp_ms);
    match encode(&header, &records) {
        Ok(batch) => batch,
        Err(error) => panic!("a single record batch could not be encoded: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record_batch::BatchAttributes;
    use alloc::vec::Vec;

    #[test]
    fn a_single_record_batch_is_a_plain_producers() {
        let batch = single_record_batch(7, Some(Bytes::from_static(b"k")), None);
        assert_eq!((batch.producer_id(), batch.producer_epoch(), batch.base_sequence()), (-1, -1, -1));
        assert_eq!((batch.record_count(), batch.last_offset_delta(), batch.max_timestamp_ms()), (1, 0, 7));
        let records: Vec<LogRecord> = decode(&batch).collect();
        assert_eq!(records.len(), 1);
        assert_eq!((records[0].key.as_deref(), records[0].value.as_deref()), (Some(&b"k"[..]), None));
        assert_eq!((records[0].timestamp_ms, records[0].sequence), (7, -1));
    }

    #[test]
    fn decoded_records_carry_their_batch_offsets_and_sequences() {
        let records = [Record::new(0, 0, None, None), Record::new(1, 5, None, None)];
        let header = BatchHeader {
            base_offset: Offset(10),
            partition_leader_epoch: LeaderEpoch(3),
            producer_id: 42,
            producer_epoch: 0,
            base_sequence: i32::MAX,
            ..BatchHeader::new(Offset(10), 100)
        }
        .fitted_to(&records);
        let decoded: Vec<LogRecord> = decode(&encode(&header, &records).unwrap()).collect();
        assert_eq!(decoded.iter().map(|r| r.offset.0).collect::<Vec<_>>(), [10, 11]);
        assert_eq!(decoded.iter().map(|r| r.timestamp_ms).collect::<Vec<_>>(), [100, 105]);
        assert_eq!(decoded.iter().map(|r| r.sequence).collect::<Vec<_>>(), [i32::MAX, 0]);
        assert!(decoded.iter().all(|r| r.leader_epoch == LeaderEpoch(3) && r.producer_id == 42));
    }

    #[test]
    fn log_append_time_records_carry_the_batch_max_timestamp() {
        let records = [Record::new(0, 0, None, None), Record::new(1, 5, None, None)];
        let header = BatchHeader {
            attributes: BatchAttributes::new(crate::record_batch::Compression::None, TimestampType::LogAppendTime),
            max_timestamp_ms: 999,
            last_offset_delta: 1,
            ..BatchHeader::new(Offset(0), 100)
        };
        let batch = encode(&header, &records).unwrap();
        assert!(decode(&batch).all(|r| r.timestamp_ms == 999));
    }
}
