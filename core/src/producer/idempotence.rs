//! The idempotent producer's state (the idempotence half of Kafka's `TransactionManager`): its
//! producer id and epoch, and per partition the next sequence number, the last acknowledged
//! one and the sequences sent but not yet settled.
//!
//! ```text
//!  Uninitialized --InitProducerId--> Requesting --ok--> Assigned --sequence lost--> BumpNeeded
//!        ^                               | error                                       |
//!        '---- (retry.backoff.ms) -------'          Requesting (current id) <----------'
//! ```
//!
//! - Sequences are given when a batch is first drained and kept on retries, so a broker that
//!   wrote a batch whose answer was lost recognises the retry as a duplicate.
//! - A batch that already has a sequence may only be sent when it is the partition's lowest
//!   unsettled one: after a failure, the batches behind it wait and go again in order (Kafka's
//!   `shouldStopDrainBatchesForPartition`), which is how the idempotent producer keeps order.
//! - When a sequence is lost for good (a sent batch expired or failed), or the broker says
//!   OUT_OF_ORDER_SEQUENCE_NUMBER for the batch it should be expecting next, the producer bumps
//!   its epoch (KIP-360): once nothing is in flight it sends InitProducerId with its current
//!   id and epoch, and on the answer starts every partition's sequences again at 0 with the
//!   new epoch, re-numbering the batches still waiting to be retried.
//!
//! A transactional producer gets its id from its transaction coordinator instead (see
//! [`super::transaction`]); a sequence lost in a transaction makes it abortable, and the epoch
//! is bumped after the abort.

use alloc::collections::{BTreeMap, BTreeSet};

use crate::ids::{BrokerId, TopicPartition};
use crate::transaction::protocol::ProducerIdAndEpoch;

/// Where the producer stands in getting a producer id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProducerIdState {
    /// None asked for yet, or the last request failed: ask (again) when the sender runs.
    Uninitialized,
    /// An InitProducerId is in flight.
    Requesting {
        request_id: u64,
        broker: BrokerId,
    },
    /// Waiting out `retry.backoff.ms` after a failed InitProducerId.
    BackingOff,
    Assigned(ProducerIdAndEpoch),
    /// A sequence was lost: bump the epoch once nothing is in flight. No batch is drained
    /// meanwhile.
    BumpNeeded(ProducerIdAndEpoch),
}

/// One partition's sequence numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartitionSequences {
    /// The base sequence the next new batch gets.
    pub next_sequence: i32,
    /// The last sequence the broker acknowledged.
    pub last_acked_sequence: Option<i32>,
    /// Base sequences of batches drained and not yet acknowledged or failed, retries included.
    pub unsettled: BTreeSet<i32>,
}

/// The idempotent producer's id, epoch and sequences.
#[derive(Clone, Debug)]
pub struct Idempotence {
    state: ProducerIdState,
    /// The id and epoch to bump from (kept across a failed bump request).
    bump_from: Option<ProducerIdAndEpoch>,
    /// Which broker to ask next: brokers are tried in turn after errors.
    next_broker: usize,
    partitions: BTreeMap<TopicPartition, PartitionSequences>,
}

/// `sequence + count`, wrapping past `i32::MAX` to 0 as Kafka's `DefaultRecordBatch.incrementSequence`.
pub fn increment_sequence(sequence: i32, count: i32) -> i32 {
    if sequence > i32::MAX - count {
        count - (i32::MAX - sequence) - 1
    } else {
        sequence + count
    }
}

impl Default for Idempotence {
    fn default() -> Self {
        Idempotence::new()
    }
}

impl Idempotence {
    pub fn new() -> Self {
        Idempotence {
            state: ProducerIdState::Uninitialized,
            bump_from: None,
            next_broker: 0,
            partitions: BTreeMap::new(),
        }
    }

    pub fn state(&self) -> ProducerIdState {
        self.state
    }

    /// The id and epoch batches may be sent under now; `None` while getting or bumping one.
    pub fn producer(&self) -> Option<ProducerIdAndEpoch> {
        match self.state {
            ProducerIdState::Assigned(producer) => Some(producer),
            _ => None,
        }
    }

    /// The id and epoch the producer holds, even while a bump is due (EndTxn names it).
    pub fn current(&self) -> Option<ProducerIdAndEpoch> {
        match self.state {
            ProducerIdState::Assigned(producer) | ProducerIdState::BumpNeeded(producer) => Some(producer),
            _ => None,
        }
    }

    /// Whether an InitProducerId should go out now: none is in flight or backing off, and
    /// either none was had yet or a bump is due and `nothing_in_flight`.
    pub fn wants_producer_id(&self, nothing_in_flight: bool) -> bool {
        match self.state {
            ProducerIdState::Uninitialized => true,
            ProducerIdState::BumpNeeded(_) => nothing_in_flight,
            _ => false,
        }
    }

    /// Picks the broker to ask among `brokers` and records the request; returns the broker and
    /// the id and epoch to bump from (NONE for a fresh id).
    pub fn request_sent(&mut self, request_id: u64, brokers: &[BrokerId]) -> Option<(BrokerId, ProducerIdAndEpoch)> {
        if brokers.is_empty() {
            return None;
        }
        if let ProducerIdState::BumpNeeded(current) = self.state {
            self.bump_from = Some(current);
        }
        let broker = brokers[self.next_broker % brokers.len()];
        self.state = ProducerIdState::Requesting { request_id, broker };
        Some((broker, self.bump_from.unwrap_or(ProducerIdAndEpoch::NONE)))
    }

    /// The InitProducerId `request_id` failed or timed out: try the next broker after a back-off.
    pub fn request_failed(&mut self, request_id: u64) -> bool {
        if !matches!(self.state, ProducerIdState::Requesting { request_id: r, .. } if r == request_id) {
            return false;
        }
        self.next_broker += 1;
        self.state = ProducerIdState::BackingOff;
        true
    }

    /// The back-off after a failed InitProducerId is over.
    pub fn backoff_over(&mut self) {
        if self.state == ProducerIdState::BackingOff {
            self.state = match self.bump_from {
                Some(current) => ProducerIdState::BumpNeeded(current),
                None => ProducerIdState::Uninitialized,
            };
        }
    }

    /// Whether `request_id` is the InitProducerId in flight.
    pub fn is_request(&self, request_id: u64) -> bool {
        matches!(self.state, ProducerIdState::Requesting { request_id: r, .. } if r == request_id)
    }

    /// A producer id and epoch arrived: every partition starts again at sequence 0.
    pub fn assigned(&mut self, producer: ProducerIdAndEpoch) {
        self.state = ProducerIdState::Assigned(producer);
        self.bump_from = None;
        self.partitions.clear();
    }

    /// Asks for an epoch bump (KIP-360); batches stop draining until it is done.
    pub fn bump_needed(&mut self) {
        if let ProducerIdState::Assigned(current) = self.state {
            self.state = ProducerIdState::BumpNeeded(current);
        }
    }

    /// Gives a new batch of `record_count` records its base sequence.
    pub fn assign_sequence(&mut self, partition: &TopicPartition, record_count: i32) -> i32 {
        let sequences = self.partitions.entry(partition.clone()).or_default();
        let base = sequences.next_sequence;
        sequences.next_sequence = increment_sequence(base, record_count);
        base
    }

    /// Whether a batch with `base_sequence` (`None`: not yet numbered) may be drained now.
    pub fn may_drain(&self, partition: &TopicPartition, base_sequence: Option<i32>) -> bool {
        let Some(sequence) = base_sequence else { return true };
        let lowest = self.partitions.get(partition).and_then(|s| s.unsettled.first().copied());
        lowest.is_none_or(|lowest| lowest == sequence)
    }

    /// The batch with `base_sequence` was sent.
    pub fn sent(&mut self, partition: &TopicPartition, base_sequence: i32) {
        self.partitions.entry(partition.clone()).or_default().unsettled.insert(base_sequence);
    }

    /// The batch from `base_sequence` to `last_sequence` was acknowledged.
    pub fn acknowledged(&mut self, partition: &TopicPartition, base_sequence: i32, last_sequence: i32) {
        let sequences = self.partitions.entry(partition.clone()).or_default();
        sequences.unsettled.remove(&base_sequence);
        sequences.last_acked_sequence = Some(last_sequence);
    }

    /// Whether `base_sequence` is the one the broker should be expecting next.
    pub fn is_next_sequence(&self, partition: &TopicPartition, base_sequence: i32) -> bool {
        let last = self.partitions.get(partition).and_then(|s| s.last_acked_sequence);
        base_sequence == last.map_or(0, |last| increment_sequence(last, 1))
    }

    /// The batch with `base_sequence` failed for good: its sequence is lost, so the epoch must
    /// be bumped before the partition's later sequences can be written.
    pub fn lost(&mut self, partition: &TopicPartition, base_sequence: i32) {
        if let Some(sequences) = self.partitions.get_mut(partition) {
            sequences.unsettled.remove(&base_sequence);
        }
        self.bump_needed();
    }

    /// The next sequence of `partition`, once a batch has been numbered there.
    pub fn next_sequence(&self, partition: &TopicPartition) -> Option<i32> {
        self.partitions.get(partition).map(|s| s.next_sequence)
    }

    /// Every partition's sequences.
    pub fn partitions(&self) -> &BTreeMap<TopicPartition, PartitionSequences> {
        &self.partitions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_wrap_at_i32_max_like_kafkas() {
        assert_eq!(increment_sequence(5, 3), 8);
        assert_eq!(increment_sequence(i32::MAX, 1), 0);
        assert_eq!(increment_sequence(i32::MAX - 1, 3), 1);
    }

    #[test]
    fn a_numbered_batch_drains_only_as_the_lowest_unsettled_sequence() {
        let mut idempotence = Idempotence::new();
        let partition = TopicPartition::new("t", 0);
        idempotence.assigned(ProducerIdAndEpoch { producer_id: 1, epoch: 0 });
        let a = idempotence.assign_sequence(&partition, 2);
        let b = idempotence.assign_sequence(&partition, 3);
        assert_eq!((a, b), (0, 2));
        idempotence.sent(&partition, a);
        idempotence.sent(&partition, b);
        assert!(idempotence.may_drain(&partition, Some(a)));
        assert!(!idempotence.may_drain(&partition, Some(b)));
        assert!(idempotence.may_drain(&partition, None));
        idempotence.acknowledged(&partition, a, 1);
        assert!(idempotence.may_drain(&partition, Some(b)));
        assert!(idempotence.is_next_sequence(&partition, b));
    }
}
