//! One producer batch: records for one partition gathered until `batch.size`, sent as one
//! record batch (magic 2), kept until acknowledged so it can be retried unchanged (Kafka's
//! `ProducerBatch`).
//!
//! Its size is the exact uncompressed size: the 61-byte batch header plus each record as the
//! format writes it, with offset and timestamp deltas from the batch's first record. Kafka
//! estimates the same quantity (`MemoryRecordsBuilder.estimatedSizeInBytes`). With
//! `compression.type=gzip` the batch sent is smaller, but `batch.size` is still counted in
//! uncompressed bytes: Java scales its estimate by a compression ratio it learns from earlier
//! batches of the topic, starting at 1.0, which the model keeps at 1.0. So a gzip batch fills
//! after as many records as a plain one, and what compression saves shows on the wire and in
//! the log, not in how records are grouped.

use alloc::vec::Vec;
use bytes::Bytes;

use super::event::{BatchId, RecordId};
use crate::ids::{Offset, TopicPartition};
use crate::record_batch::header::HEADER_BYTES;
use crate::record_batch::{encode, BatchHeader, Compression, Record, RecordBatch};
use crate::transaction::protocol::ProducerIdAndEpoch;

/// A record waiting in a batch, with the id its outcome will name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingRecord {
    pub id: RecordId,
    pub timestamp_ms: i64,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
}

/// The bytes a lone record takes in a batch of its own: what `max.request.size` is checked
/// against (Kafka's `estimateSizeInBytesUpperBound`, here exact).
pub fn lone_record_size(key: &Option<Bytes>, value: &Option<Bytes>) -> usize {
    HEADER_BYTES + Record::new(0, 0, key.clone(), value.clone()).encoded_size()
}

/// Records for one partition, sent together.
#[derive(Clone, Debug)]
pub struct ProducerBatch {
    pub id: BatchId,
    pub partition: TopicPartition,
    pub records: Vec<PendingRecord>,
    /// When the batch was opened: `linger.ms` and `delivery.timeout.ms` count from here.
    pub created_ms: u64,
    /// The encoded size uncompressed: header and records.
    pub size_bytes: usize,
    /// Failed sends so far (Kafka's `attempts` after a re-enqueue): 0 until the first retry.
    pub retries: u32,
    /// While backing off before a retry: when the batch may go again.
    pub retry_at_ms: Option<u64>,
    /// Set when first drained: the producer id and epoch, and the base sequence, it keeps on
    /// every retry (an epoch bump gives it new ones).
    pub producer: Option<ProducerIdAndEpoch>,
    pub base_sequence: Option<i32>,
    /// Sent at least once: no longer takes records.
    pub closed: bool,
    /// Part of a transaction: the batch says so in its attributes.
    pub transactional: bool,
}

impl ProducerBatch {
    /// An empty batch for `partition`.
    pub fn new(id: BatchId, partition: TopicPartition, created_ms: u64) -> Self {
        ProducerBatch {
            id,
            partition,
            records: Vec::new(),
            created_ms,
            size_bytes: HEADER_BYTES,
            retries: 0,
            retry_at_ms: None,
            producer: None,
            base_sequence: None,
            closed: false,
            transactional: false,
        }
    }

    /// The bytes `record` would add as the batch's next record.
    fn record_size(&self, record: &PendingRecord) -> usize {
        let base_timestamp_ms = self.records.first().map_or(record.timestamp_ms, |first| first.timestamp_ms);
        let offset_delta = self.records.len() as i32;
        let timestamp_delta = record.timestamp_ms.wrapping_sub(base_timestamp_ms);
        Record::new(offset_delta, timestamp_delta, record.key.clone(), record.value.clone()).encoded_size()
    }

    /// Appends `record` if it fits in `batch_size` (the first record always fits: a record
    /// larger than `batch.size` gets a batch of its own). Returns the bytes added.
    pub fn try_append(&mut self, record: PendingRecord, batch_size: usize) -> Result<usize, PendingRecord> {
        if self.closed {
            return Err(record);
        }
        let size = self.record_size(&record);
        if !self.records.is_empty() && self.size_bytes + size > batch_size {
            return Err(record);
        }
        self.size_bytes += size;
        self.records.push(record);
        Ok(size)
    }

    /// No more records fit: it has reached `batch.size`, or it has been sent.
    pub fn is_full(&self, batch_size: usize) -> bool {
        self.closed || self.size_bytes >= batch_size
    }

    /// The record batch to send, its records compressed with `compression`: the producer's
    /// fields when idempotent, create times, base offset 0 for the leader to assign.
    pub fn encode(&self, compression: Compression) -> RecordBatch {
        let base_timestamp_ms = self.records.first().map_or(0, |first| first.timestamp_ms);
        let records: Vec<Record> = self
            .records
            .iter()
            .enumerate()
            .map(|(index, record)| {
                let timestamp_delta = record.timestamp_ms.wrapping_sub(base_timestamp_ms);
                Record::new(index as i32, timestamp_delta, record.key.clone(), record.value.clone())
            })
            .collect();
        let mut header = BatchHeader::new(Offset(0), base_timestamp_ms).fitted_to(&records);
        if let (Some(producer), Some(sequence)) = (self.producer, self.base_sequence) {
            header.producer_id = producer.producer_id;
            header.producer_epoch = producer.epoch;
            header.base_sequence = sequence;
        }
        header.attributes = header.attributes.with_transactional(self.transactional).with_compression(compression);
        match encode(&header, &records) {
            Ok(batch) => {
                debug_assert_eq!(
                    batch.uncompressed_records_bytes().map(|records| records + HEADER_BYTES),
                    Some(self.size_bytes),
                    "the size kept matches the encoding"
                );
                batch
            }
            Err(error) => panic!("a producer batch within max.request.size could not be encoded: {error}"),
        }
    }

    /// How long the batch has existed.
    pub fn age_ms(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(self.created_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: u64, value: &'static [u8]) -> PendingRecord {
        PendingRecord {
            id: RecordId(id),
            timestamp_ms: 1_000 + id as i64,
            key: None,
            value: Some(Bytes::from_static(value)),
        }
    }

    #[test]
    fn size_kept_is_the_encoded_size_and_fields_are_the_producers() {
        let mut batch = ProducerBatch::new(BatchId(0), TopicPartition::new("t", 0), 0);
        for id in 0..3 {
            assert!(batch.try_append(record(id, b"value"), 16_384).is_ok());
        }
        batch.producer = Some(ProducerIdAndEpoch { producer_id: 7, epoch: 2 });
        batch.base_sequence = Some(10);
        let encoded = batch.encode(Compression::None);
        assert_eq!(encoded.size_bytes(), batch.size_bytes);
        assert_eq!((encoded.producer_id(), encoded.producer_epoch(), encoded.base_sequence()), (7, 2, 10));
        assert_eq!((encoded.record_count(), encoded.last_sequence()), (3, 12));
        assert_eq!(encoded.max_timestamp_ms(), 1_002);
    }

    #[test]
    fn a_gzip_batch_of_repetitive_values_is_smaller_than_its_size_in_batch_size_terms() {
        let value: &'static [u8] = br#"{"customer":"alice","status":"pending","warehouse":"north"}"#;
        let mut batch = ProducerBatch::new(BatchId(0), TopicPartition::new("t", 0), 0);
        for id in 0..100 {
            assert!(batch.try_append(record(id, value), 16_384).is_ok());
        }
        let plain = batch.encode(Compression::None);
        let gzip = batch.encode(Compression::Gzip);
        assert_eq!(plain.size_bytes(), batch.size_bytes);
        assert_eq!(gzip.compression(), Compression::Gzip);
        assert!(
            gzip.size_bytes() * 5 < plain.size_bytes(),
            "gzip {} of {} bytes",
            gzip.size_bytes(),
            plain.size_bytes()
        );
        let values: Vec<_> = gzip.records().unwrap().map(|record| record.value).collect();
        assert_eq!(values, plain.records().unwrap().map(|record| record.value).collect::<Vec<_>>());
    }

    #[test]
    fn a_record_larger_than_batch_size_fills_a_batch_alone() {
        let mut batch = ProducerBatch::new(BatchId(0), TopicPartition::new("t", 0), 0);
        assert!(batch.try_append(record(0, &[0; 200]), 100).is_ok());
        assert!(batch.is_full(100));
        assert!(batch.try_append(record(1, b"x"), 100).is_err());
    }
}
