//! One group's offsets: the committed ones, the commits whose append is still in flight, and the
//! transactional ones waiting for their transaction's marker (KIP-98, KIP-447).
//!
//! Which of two writes for one partition wins is decided by their order in the offsets log, as
//! in Kafka (`CommitRecordMetadataAndOffset.olderThan`). The coordinator's append tokens grow in
//! the order it asks for appends, which is the order the partition leader writes them, so a
//! token stands in for the record's offset; loaded records count as older than every new one.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use super::records::OffsetCommitValue;
use crate::ids::{Offset, TopicPartition};

/// A committed offset with what was committed alongside it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffsetAndMetadata {
    pub offset: Offset,
    pub leader_epoch: i32,
    pub metadata: Arc<str>,
    pub commit_timestamp_ms: u64,
}

impl OffsetAndMetadata {
    /// The record value Kafka writes for it (version 3).
    pub fn to_record(&self) -> OffsetCommitValue {
        OffsetCommitValue {
            offset: self.offset.0,
            leader_epoch: self.leader_epoch,
            metadata: self.metadata.clone(),
            commit_timestamp_ms: i64::try_from(self.commit_timestamp_ms).unwrap_or(i64::MAX),
            expire_timestamp_ms: None,
        }
    }

    /// The offset a stored record holds.
    pub fn from_record(value: &OffsetCommitValue) -> OffsetAndMetadata {
        OffsetAndMetadata {
            offset: Offset(value.offset),
            leader_epoch: value.leader_epoch,
            metadata: value.metadata.clone(),
            commit_timestamp_ms: u64::try_from(value.commit_timestamp_ms).unwrap_or(0),
        }
    }
}

/// A committed offset and the position of its record in the log (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Stored {
    value: OffsetAndMetadata,
    log_order: u64,
}

/// A transactional offset: `log_order` is set once its append completed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct PendingTxn {
    value: OffsetAndMetadata,
    log_order: Option<u64>,
}

/// One group's offsets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct GroupOffsets {
    committed: BTreeMap<TopicPartition, Stored>,
    /// Plain commits whose append is in flight, counted per partition.
    in_flight: BTreeMap<TopicPartition, u32>,
    /// Transactional offsets per producer id.
    pending_txn: BTreeMap<i64, BTreeMap<TopicPartition, PendingTxn>>,
}

impl GroupOffsets {
    pub(crate) fn get(&self, partition: &TopicPartition) -> Option<&OffsetAndMetadata> {
        self.committed.get(partition).map(|stored| &stored.value)
    }

    pub(crate) fn committed(&self) -> impl Iterator<Item = (&TopicPartition, &OffsetAndMetadata)> {
        self.committed.iter().map(|(partition, stored)| (partition, &stored.value))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.committed.is_empty() && self.in_flight.is_empty() && self.pending_txn.is_empty()
    }

    /// Whether a write for `partition` is not settled yet (KIP-447's unstable offsets).
    pub(crate) fn has_pending(&self, partition: &TopicPartition) -> bool {
        self.in_flight.contains_key(partition)
            || self.pending_txn.values().any(|offsets| offsets.contains_key(partition))
    }

    /// A record read back from the log while loading: the latest record wins, so it replaces.
    pub(crate) fn load(&mut self, partition: TopicPartition, value: OffsetAndMetadata) {
        self.committed.insert(partition, Stored { value, log_order: 0 });
    }

    /// A plain commit was sent to the log.
    pub(crate) fn prepare(&mut self, partitions: impl IntoIterator<Item = TopicPartition>) {
        for partition in partitions {
            *self.in_flight.entry(partition).or_insert(0) += 1;
        }
    }

    fn settle(&mut self, partition: &TopicPartition) {
        if let Some(count) = self.in_flight.get_mut(partition) {
            *count -= 1;
            if *count == 0 {
                self.in_flight.remove(partition);
            }
        }
    }

    /// A plain commit's append completed (`Ok`) or failed.
    pub(crate) fn complete(&mut self, offsets: &[(TopicPartition, OffsetAndMetadata)], log_order: u64, ok: bool) {
        for (partition, value) in offsets {
            self.settle(partition);
            if ok {
                self.put_if_newer(partition.clone(), value.clone(), log_order);
            }
        }
    }

    fn put_if_newer(&mut self, partition: TopicPartition, value: OffsetAndMetadata, log_order: u64) {
        let newer = self.committed.get(&partition).is_none_or(|stored| stored.log_order < log_order);
        if newer {
            self.committed.insert(partition, Stored { value, log_order });
        }
    }

    /// A transactional commit was sent to the log.
    pub(crate) fn prepare_txn(&mut self, producer_id: i64, offsets: &[(TopicPartition, OffsetAndMetadata)]) {
        let pending = self.pending_txn.entry(producer_id).or_default();
        for (partition, value) in offsets {
            pending.insert(partition.clone(), PendingTxn { value: value.clone(), log_order: None });
        }
    }

    /// A transactional commit's append completed: the offsets wait for the marker. A failed
    /// append drops them.
    pub(crate) fn complete_txn_append(
        &mut self,
        producer_id: i64,
        offsets: &[(TopicPartition, OffsetAndMetadata)],
        log_order: u64,
        ok: bool,
    ) {
        let Some(pending) = self.pending_txn.get_mut(&producer_id) else { return };
        for (partition, value) in offsets {
            if pending.get(partition).is_some_and(|p| p.value == *value && p.log_order.is_none()) {
                if ok {
                    pending.insert(partition.clone(), PendingTxn { value: value.clone(), log_order: Some(log_order) });
                } else {
                    pending.remove(partition);
                }
            }
        }
        if pending.is_empty() {
            self.pending_txn.remove(&producer_id);
        }
    }

    /// The transaction of `producer_id` ended: on commit its written offsets become committed
    /// (unless a later plain commit for the partition is already in the log). Returns how many
    /// offsets it held.
    pub(crate) fn complete_transaction(&mut self, producer_id: i64, committed: bool) -> usize {
        let Some(pending) = self.pending_txn.remove(&producer_id) else { return 0 };
        let count = pending.len();
        if committed {
            for (partition, txn) in pending {
                if let Some(log_order) = txn.log_order {
                    self.put_if_newer(partition, txn.value, log_order);
                }
            }
        }
        count
    }

    pub(crate) fn has_producer(&self, producer_id: i64) -> bool {
        self.pending_txn.contains_key(&producer_id)
    }

    /// Removes the committed offsets `expired` says are too old (and that have nothing pending),
    /// returning their partitions.
    pub(crate) fn expire(&mut self, expired: impl Fn(&OffsetAndMetadata) -> bool) -> Vec<TopicPartition> {
        let gone: Vec<TopicPartition> = self
            .committed
            .iter()
            .filter(|(partition, stored)| expired(&stored.value) && !self.has_pending(partition))
            .map(|(partition, _)| partition.clone())
            .collect();
        for partition in &gone {
            self.committed.remove(partition);
        }
        gone
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn value(offset: i64) -> OffsetAndMetadata {
        OffsetAndMetadata { offset: Offset(offset), leader_epoch: -1, metadata: "".into(), commit_timestamp_ms: 0 }
    }

    #[test]
    fn a_commit_is_pending_until_its_append_completes() {
        let mut offsets = GroupOffsets::default();
        let tp = TopicPartition::new("t", 0);
        offsets.prepare([tp.clone()]);
        assert!(offsets.has_pending(&tp));
        assert_eq!(offsets.get(&tp), None);
        offsets.complete(&[(tp.clone(), value(4))], 1, true);
        assert!(!offsets.has_pending(&tp));
        assert_eq!(offsets.get(&tp), Some(&value(4)));
    }

    #[test]
    fn a_transaction_committed_after_a_later_plain_commit_does_not_overwrite_it() {
        let mut offsets = GroupOffsets::default();
        let tp = TopicPartition::new("t", 0);
        offsets.prepare_txn(7, &[(tp.clone(), value(10))]);
        offsets.complete_txn_append(7, &[(tp.clone(), value(10))], 1, true);
        offsets.prepare([tp.clone()]);
        offsets.complete(&[(tp.clone(), value(20))], 2, true);
        assert_eq!(offsets.complete_transaction(7, true), 1);
        assert_eq!(offsets.get(&tp), Some(&value(20)));
    }

    #[test]
    fn expiry_spares_partitions_with_pending_writes() {
        let mut offsets = GroupOffsets::default();
        let (a, b) = (TopicPartition::new("t", 0), TopicPartition::new("t", 1));
        offsets.load(a.clone(), value(1));
        offsets.load(b.clone(), value(2));
        offsets.prepare_txn(3, &[(b.clone(), value(5))]);
        assert_eq!(offsets.expire(|_| true), vec![a]);
        assert_eq!(offsets.get(&b), Some(&value(2)));
    }
}
