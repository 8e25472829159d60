//! A committed record is never lost: once a record is below a leader's high watermark, every
//! later leader holds the same record at the same offset, as long as leaders are only ever
//! elected from the ISR (Kafka's replication guarantee; KIP-101 fixed the truncation that
//! broke it). A record is known by its offset and the leader epoch it was written in: two
//! records at one offset with one epoch are the same record.

use alloc::collections::BTreeMap;

use crate::broker::{Broker, Replica, Role};
use crate::ids::{BrokerId, LeaderEpoch, Offset, TopicPartition};

use super::Violation;

/// The records seen committed, per partition (and topic id: a topic deleted and created again
/// starts afresh), by offset.
#[derive(Clone, Debug, Default)]
pub struct CommittedRecords {
    committed: BTreeMap<(TopicPartition, u64), BTreeMap<Offset, LeaderEpoch>>,
    /// The leader (and epoch) last checked per partition: a new one is checked in full.
    checked_leader: BTreeMap<(TopicPartition, u64), (BrokerId, LeaderEpoch)>,
}

impl CommittedRecords {
    pub fn check(&mut self, broker: &Broker, partition: &TopicPartition, replica: &Replica) -> Result<(), Violation> {
        {
            {
                let Role::Leader(leadership) = &replica.role else { return Ok(()) };
                if replica.log.config().cleanup_policy.compacts() {
                    return Ok(()); // compaction removes committed records by design
                }
                let leader = (broker.id(), leadership.leader_epoch);
                let key = (partition.clone(), replica.topic_id);
                let known = self.committed.entry(key.clone()).or_default();
                let new_leader = self.checked_leader.get(&key) != Some(&leader);
                if new_leader && self.checked_leader.get(&key).is_some_and(|old| old.1 > leader.1) {
                    return Ok(()); // a deposed leader that has not heard yet: its writes cannot commit
                }
                if new_leader {
                    for (&offset, &epoch) in known.iter() {
                        let held = replica.log.record_at(offset).map(|r| r.leader_epoch);
                        if held.is_some_and(|e| e != epoch)
                            || (held.is_none() && offset >= replica.log.log_start_offset())
                        {
                            return Err(Violation::CommittedRecordLost {
                                partition: partition.clone(),
                                offset,
                                leader: broker.id(),
                            });
                        }
                    }
                    self.checked_leader.insert(key, leader); // only on a leader change
                }
                let from = known.keys().next_back().map_or(replica.log.log_start_offset(), |last| last.next());
                let newly_committed = usize::try_from(replica.log.high_watermark().0 - from.0).unwrap_or(0);
                if newly_committed > 0 {
                    let high_watermark = replica.log.high_watermark();
                    for batch in replica.log.read(from, usize::MAX) {
                        if batch.base_offset() >= high_watermark {
                            break;
                        }
                        // A batch's records share its leader epoch; record each committed offset.
                        let first = batch.base_offset().max(from);
                        let last = batch.last_offset().min(Offset(high_watermark.0 - 1));
                        for offset in first.0..=last.0 {
                            known.insert(Offset(offset), batch.partition_leader_epoch());
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
