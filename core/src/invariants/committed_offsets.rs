//! A group's committed offset for a partition never goes backwards. Consumers commit the
//! position after what they processed, positions only move forward within a generation, and a
//! commit from an older generation is fenced (ILLEGAL_GENERATION), so what the coordinator
//! holds as committed only grows; a coordinator failover reloads the offsets from the
//! `__consumer_offsets` log (Kafka's `GroupMetadataManager.loadGroupsAndOffsets`), whose
//! committed records every new leader holds, so the new coordinator starts where the old one
//! stood.
//!
//! The exception Kafka has, an explicit reset (`kafka-consumer-groups --reset-offsets`, or an
//! application that seeks back and commits), does not exist in the command language yet, so no
//! exception is made; nor does offset expiry (`offsets.retention.minutes`, seven days), which
//! no run lasts long enough to reach. A deposed coordinator that has not heard of its successor
//! yet is still holding what it held: once a coordinator of a newer leader epoch of the offsets
//! partition reported a value, an older one's report is not compared.

use alloc::collections::BTreeMap;
use alloc::string::String;

use crate::broker::{Broker, Role};
use crate::group::protocol::GroupId;
use crate::ids::{BrokerId, LeaderEpoch, Offset, TopicPartition};
use crate::placement::CONSUMER_OFFSETS_TOPIC;

use super::Violation;

/// The highest committed offset seen per group and partition, with the leader epoch of the
/// offsets partition under which it was reported.
#[derive(Clone, Debug, Default)]
pub struct CommittedOffsets {
    highest: BTreeMap<(GroupId, TopicPartition), (Offset, LeaderEpoch)>,
}

impl CommittedOffsets {
    /// Checks the committed offsets of every group `broker` coordinates.
    pub fn check(&mut self, broker: &Broker) -> Result<(), Violation> {
        let coordinator = broker.group_coordinator();
        for group in coordinator.groups() {
            let offsets_partition = TopicPartition::new(CONSUMER_OFFSETS_TOPIC, group.partition_index);
            let Some(Role::Leader(leadership)) = broker.replica(&offsets_partition).map(|r| &r.role) else {
                continue; // it is handing the partition over: its groups go with the next event
            };
            for (partition, committed) in group.offsets.committed() {
                self.observe(broker.id(), group.id(), partition, committed.offset, leadership.leader_epoch)?;
            }
        }
        Ok(())
    }

    /// One coordinator's report: `group` has `offset` committed for `partition`.
    pub fn observe(
        &mut self,
        broker: BrokerId,
        group: &GroupId,
        partition: &TopicPartition,
        offset: Offset,
        leader_epoch: LeaderEpoch,
    ) -> Result<(), Violation> {
        let Some((highest, epoch)) = self.highest.get_mut(&(group.clone(), partition.clone())) else {
            self.highest.insert((group.clone(), partition.clone()), (offset, leader_epoch));
            return Ok(());
        };
        if offset < *highest && leader_epoch >= *epoch {
            return Err(Violation::CommittedOffsetWentBack {
                group: String::from(group.as_ref()),
                partition: partition.clone(),
                broker,
                from: *highest,
                to: offset,
            });
        }
        if offset > *highest {
            *highest = offset;
        }
        *epoch = (*epoch).max(leader_epoch);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::sync::Arc;

    fn orders(p: i32) -> TopicPartition {
        TopicPartition::new("orders", p)
    }

    #[test]
    fn a_commit_lower_than_one_seen_before_is_a_violation() {
        let mut offsets = CommittedOffsets::default();
        let group: GroupId = Arc::from("billing");
        offsets.observe(BrokerId(1), &group, &orders(0), Offset(10), LeaderEpoch(0)).unwrap();
        offsets.observe(BrokerId(1), &group, &orders(0), Offset(12), LeaderEpoch(0)).unwrap();
        let violation = offsets.observe(BrokerId(2), &group, &orders(0), Offset(7), LeaderEpoch(1)).unwrap_err();
        assert_eq!(
            violation,
            Violation::CommittedOffsetWentBack {
                group: "billing".into(),
                partition: orders(0),
                broker: BrokerId(2),
                from: Offset(12),
                to: Offset(7),
            }
        );
    }

    #[test]
    fn each_group_and_partition_is_followed_on_its_own() {
        let mut offsets = CommittedOffsets::default();
        let (billing, audit): (GroupId, GroupId) = (Arc::from("billing"), Arc::from("audit"));
        offsets.observe(BrokerId(1), &billing, &orders(0), Offset(10), LeaderEpoch(0)).unwrap();
        assert_eq!(offsets.observe(BrokerId(1), &audit, &orders(0), Offset(3), LeaderEpoch(0)), Ok(()));
        assert_eq!(offsets.observe(BrokerId(1), &billing, &orders(1), Offset(3), LeaderEpoch(0)), Ok(()));
    }

    #[test]
    fn a_deposed_coordinator_still_holding_an_older_value_is_not_compared() {
        let mut offsets = CommittedOffsets::default();
        let group: GroupId = Arc::from("billing");
        offsets.observe(BrokerId(2), &group, &orders(0), Offset(20), LeaderEpoch(3)).unwrap();
        assert_eq!(offsets.observe(BrokerId(1), &group, &orders(0), Offset(15), LeaderEpoch(2)), Ok(()));
        // The newest coordinator's own value still may not fall.
        assert!(offsets.observe(BrokerId(2), &group, &orders(0), Offset(19), LeaderEpoch(3)).is_err());
    }
}
