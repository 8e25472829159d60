//! At most one leader per partition and leader epoch: the controller hands out each epoch once,
//! so two brokers that both lead under the same epoch mean the metadata was corrupted (Kafka's
//! replication design; the same rule as Raft's election safety, §5.2 of the Raft paper).

use crate::broker::{Broker, Replica, Role};
use crate::ids::TopicPartition;

use super::Violation;

/// If `broker` leads `partition`, no other broker leads it at the same epoch (a broker still
/// holding a deleted topic's partition of the same name, not yet told, leads another partition).
pub fn check(
    broker: &Broker,
    partition: &TopicPartition,
    replica: &Replica,
    brokers: &[&Broker],
) -> Result<(), Violation> {
    let Role::Leader(leadership) = &replica.role else { return Ok(()) };
    for other in brokers.iter().filter(|b| b.id() != broker.id()) {
        let Some(Replica { role: Role::Leader(theirs), topic_id, .. }) = other.replica(partition) else { continue };
        if *topic_id != replica.topic_id {
            continue;
        }
        if theirs.leader_epoch == leadership.leader_epoch {
            return Err(Violation::TwoLeadersInOneEpoch {
                partition: partition.clone(),
                leader_epoch: leadership.leader_epoch,
                brokers: (other.id(), broker.id()),
            });
        }
    }
    Ok(())
}
