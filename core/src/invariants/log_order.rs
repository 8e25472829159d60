//! Every replica's log keeps log start ≤ high watermark ≤ log end and its leader epochs
//! increasing (Kafka's log design; KIP-101 for the epoch cache). Consecutive offsets are kept by
//! construction (appends assert them) and checked in full by `PartitionLog::validate_records`.

use crate::broker::{Broker, Replica};
use crate::ids::TopicPartition;

use super::Violation;

pub fn check(broker: &Broker, partition: &TopicPartition, replica: &Replica) -> Result<(), Violation> {
    replica.log.validate().map_err(|error| Violation::Log { broker: broker.id(), partition: partition.clone(), error })
}
