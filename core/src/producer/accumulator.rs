//! The record accumulator: a queue of batches per partition (Kafka's `RecordAccumulator`).
//!
//! A record joins the last batch of its partition's queue if it fits in `batch.size`, else it
//! opens a new batch. Only a queue's first batch can be sent; it is *sendable* when it is full
//! (or a later one exists), when `linger.ms` has passed since it was opened, when a flush is
//! under way, or, for a batch being retried, when its back-off is over. Whether it is actually
//! sent also depends on the leader and the in-flight limits, which the sender checks.
//!
//! A retried batch goes back to the front of its queue. For an idempotent producer it goes in
//! base-sequence order instead (`insertInSequenceOrder`), so batches resent after a failure
//! keep their order.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use super::batch::{PendingRecord, ProducerBatch};
use super::event::BatchId;
use crate::ids::TopicPartition;

/// Where an append went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    pub batch: BatchId,
    /// A new batch was opened for the record.
    pub new_batch: bool,
    /// Bytes the record added, with the batch header when the batch is new (as Kafka counts
    /// them for the sticky partitioner).
    pub appended_bytes: usize,
    /// The partition's last batch is full, so switching the sticky partition leaves no small
    /// batch behind (Kafka's `allBatchesFull`, which looks at the last batch only).
    pub all_batches_full: bool,
}

/// A waiting batch, for drawing and tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedBatch {
    pub batch: BatchId,
    pub partition: TopicPartition,
    pub records: usize,
    pub size_bytes: usize,
    pub age_ms: u64,
    /// Failed sends so far.
    pub retries: u32,
    pub base_sequence: Option<i32>,
}

/// Batches waiting to be sent, per partition.
#[derive(Clone, Debug, Default)]
pub struct Accumulator {
    batch_size: usize,
    queues: BTreeMap<TopicPartition, VecDeque<ProducerBatch>>,
    next_batch_id: u64,
}

impl Accumulator {
    pub fn new(batch_size: u32) -> Self {
        Accumulator { batch_size: batch_size as usize, queues: BTreeMap::new(), next_batch_id: 0 }
    }

    /// Adds `record` to the partition's last batch, or to a new one.
    pub fn append(&mut self, now_ms: u64, partition: &TopicPartition, record: PendingRecord) -> Appended {
        let batch_size = self.batch_size;
        let queue = self.queues.entry(partition.clone()).or_default();
        let record = match queue.back_mut() {
            Some(last) => match last.try_append(record, batch_size) {
                Ok(appended_bytes) => {
                    let all_batches_full = last.is_full(batch_size);
                    return Appended { batch: last.id, new_batch: false, appended_bytes, all_batches_full };
                }
                Err(record) => record,
            },
            None => record,
        };
        let id = BatchId(self.next_batch_id);
        self.next_batch_id += 1;
        let mut batch = ProducerBatch::new(id, partition.clone(), now_ms);
        let added = batch.try_append(record, batch_size).unwrap_or_else(|_| panic!("an empty batch takes a record"));
        let appended_bytes = batch.size_bytes;
        debug_assert_eq!(appended_bytes, added + crate::record_batch::header::HEADER_BYTES);
        queue.push_back(batch);
        let last = queue.back().expect("just pushed");
        Appended { batch: id, new_batch: true, appended_bytes, all_batches_full: last.is_full(batch_size) }
    }

    /// Whether the partition's first batch may go now, before leader and in-flight checks.
    pub fn head_sendable(&self, partition: &TopicPartition, now_ms: u64, linger_ms: u64, flushing: bool) -> bool {
        let Some(queue) = self.queues.get(partition) else { return false };
        let Some(head) = queue.front() else { return false };
        if let Some(retry_at_ms) = head.retry_at_ms {
            return now_ms >= retry_at_ms;
        }
        queue.len() > 1 || head.is_full(self.batch_size) || flushing || head.age_ms(now_ms) >= linger_ms
    }

    /// The partition's first batch.
    pub fn head(&self, partition: &TopicPartition) -> Option<&ProducerBatch> {
        self.queues.get(partition).and_then(VecDeque::front)
    }

    /// Takes the partition's first batch off its queue, closing it to further records.
    pub fn pop_head(&mut self, partition: &TopicPartition) -> Option<ProducerBatch> {
        let queue = self.queues.get_mut(partition)?;
        let mut batch = queue.pop_front()?;
        if queue.is_empty() {
            self.queues.remove(partition);
        }
        batch.closed = true;
        Some(batch)
    }

    /// Puts a batch back for a retry: at the front, or for an idempotent producer, before the
    /// first batch with a larger or no sequence.
    pub fn reenqueue(&mut self, batch: ProducerBatch) {
        let queue = self.queues.entry(batch.partition.clone()).or_default();
        let position = match batch.base_sequence {
            Some(sequence) => queue.iter().position(|queued| queued.base_sequence.is_none_or(|s| s > sequence)),
            None => Some(0),
        };
        queue.insert(position.unwrap_or(queue.len()), batch);
    }

    /// Removes and returns the batches whose `delivery.timeout.ms` has passed.
    pub fn expire(&mut self, now_ms: u64, delivery_timeout_ms: u64) -> Vec<ProducerBatch> {
        let mut expired = Vec::new();
        for queue in self.queues.values_mut() {
            let (gone, kept): (Vec<ProducerBatch>, Vec<ProducerBatch>) =
                queue.drain(..).partition(|batch| batch.age_ms(now_ms) >= delivery_timeout_ms);
            expired.extend(gone);
            queue.extend(kept);
        }
        self.queues.retain(|_, queue| !queue.is_empty());
        expired
    }

    /// Removes every batch (the producer hit a fatal error).
    pub fn take_all(&mut self) -> Vec<ProducerBatch> {
        let queues = core::mem::take(&mut self.queues);
        queues.into_values().flatten().collect()
    }

    /// The partitions with waiting batches, in order.
    pub fn partitions(&self) -> Vec<TopicPartition> {
        self.queues.keys().cloned().collect()
    }

    /// Every batch in every queue, mutable (an epoch bump re-sequences them).
    pub fn batches_mut(&mut self) -> impl Iterator<Item = &mut ProducerBatch> {
        self.queues.values_mut().flatten()
    }

    /// Whether any batch holds a record.
    pub fn is_empty(&self) -> bool {
        self.queues.is_empty()
    }

    /// The batches waiting, per partition in queue order.
    pub fn queued(&self, now_ms: u64) -> Vec<QueuedBatch> {
        self.queues
            .values()
            .flatten()
            .map(|batch| QueuedBatch {
                batch: batch.id,
                partition: batch.partition.clone(),
                records: batch.records.len(),
                size_bytes: batch.size_bytes,
                age_ms: batch.age_ms(now_ms),
                retries: batch.retries,
                base_sequence: batch.base_sequence,
            })
            .collect()
    }

    /// The id the next batch will get.
    pub fn next_batch_id(&self) -> BatchId {
        BatchId(self.next_batch_id)
    }

    /// The batch with this id, if it is waiting.
    pub fn find(&self, id: BatchId) -> Option<&ProducerBatch> {
        self.queues.values().flatten().find(|batch| batch.id == id)
    }
}
