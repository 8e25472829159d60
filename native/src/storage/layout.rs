//! Where things live in the data directory, named as Kafka names them:
//!
//! ```text
//! <data-dir>/.lock                                    held by the server using the directory
//! <data-dir>/kafkalab.properties                      broker.count=N (the cluster's shape)
//! <data-dir>/broker-<N>/replication-offset-checkpoint every partition's high watermark
//! <data-dir>/broker-<N>/<topic>-<partition>/
//!     00000000000000000000.log                        record batches back to back
//!     00000000000000000000.index                      offset index of that segment
//!     leader-epoch-checkpoint                         the leader-epoch cache
//! <data-dir>/controller-<N>/__cluster_metadata-0/
//!     quorum-state                                    Raft epoch and vote (JSON)
//!     00000000000000000000.log                        metadata log entries (JSON lines)
//! ```
//!
//! Kafka names a segment's files by its base offset, zero-padded to 20 digits, and a
//! partition's directory `<topic>-<partition>` (topic names may hold `-`, so the partition is
//! after the last one).

use std::path::{Path, PathBuf};

use kafkalab_core::ids::{BrokerId, ControllerId, Offset, TopicPartition};

/// The file a server holds an exclusive lock on while it uses the directory (Kafka keeps a
/// `.lock` in each log directory for the same reason).
pub const LOCK_FILE: &str = ".lock";
/// The file holding the cluster's shape, so a data directory is not served as another cluster.
pub const CLUSTER_FILE: &str = "kafkalab.properties";
/// Each broker's high watermarks (Kafka's `ReplicaManager.HighWatermarkFilename`).
pub const HIGH_WATERMARK_FILE: &str = "replication-offset-checkpoint";
/// Each partition's leader-epoch cache (Kafka's `LeaderEpochCheckpointFile`).
pub const LEADER_EPOCH_FILE: &str = "leader-epoch-checkpoint";
/// A controller's epoch and vote (KRaft's `quorum-state`).
pub const QUORUM_STATE_FILE: &str = "quorum-state";
/// The directory of the metadata log, as KRaft names its topic-partition.
pub const METADATA_LOG_DIR: &str = "__cluster_metadata-0";
pub const LOG_SUFFIX: &str = ".log";
pub const INDEX_SUFFIX: &str = ".index";

pub fn broker_dir(root: &Path, broker: BrokerId) -> PathBuf {
    root.join(format!("broker-{}", broker.0))
}

pub fn controller_dir(root: &Path, controller: ControllerId) -> PathBuf {
    root.join(format!("controller-{}", controller.0)).join(METADATA_LOG_DIR)
}

/// `broker-3` names broker 3.
pub fn parse_broker_dir(name: &str) -> Option<BrokerId> {
    name.strip_prefix("broker-")?.parse().ok().filter(|&id| id > 0).map(BrokerId)
}

/// `controller-2` names controller 2.
pub fn parse_controller_dir(name: &str) -> Option<ControllerId> {
    name.strip_prefix("controller-")?.parse().ok().filter(|&id| id > 0).map(ControllerId)
}

pub fn partition_dir(broker_dir: &Path, partition: &TopicPartition) -> PathBuf {
    broker_dir.join(format!("{}-{}", partition.topic, partition.partition.0))
}

/// `orders-eu-2` is partition 2 of `orders-eu`.
pub fn parse_partition_dir(name: &str) -> Option<TopicPartition> {
    let (topic, partition) = name.rsplit_once('-')?;
    let partition: i32 = partition.parse().ok().filter(|&p| p >= 0)?;
    (!topic.is_empty()).then(|| TopicPartition::new(topic, partition))
}

/// `00000000000000000042`: a base offset as Kafka writes it in file names.
pub fn file_stem(base_offset: Offset) -> String {
    format!("{:020}", base_offset.0)
}

pub fn segment_path(partition_dir: &Path, base_offset: Offset) -> PathBuf {
    partition_dir.join(format!("{}{LOG_SUFFIX}", file_stem(base_offset)))
}

pub fn index_path(partition_dir: &Path, base_offset: Offset) -> PathBuf {
    partition_dir.join(format!("{}{INDEX_SUFFIX}", file_stem(base_offset)))
}

/// The base offset a `.log` file's name gives, if it is one.
pub fn parse_segment_name(name: &str) -> Option<Offset> {
    let stem = name.strip_suffix(LOG_SUFFIX)?;
    (stem.len() == 20 && stem.bytes().all(|b| b.is_ascii_digit())).then(|| stem.parse().ok().map(Offset)).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_as_kafka_writes_them() {
        assert_eq!(file_stem(Offset(42)), "00000000000000000042");
        assert_eq!(parse_segment_name("00000000000000000042.log"), Some(Offset(42)));
        assert_eq!(parse_segment_name("00000000000000000042.index"), None);
        assert_eq!(parse_segment_name("42.log"), None);
        let partition = TopicPartition::new("orders-eu", 2);
        let dir = partition_dir(Path::new("/d/broker-1"), &partition);
        assert_eq!(dir, Path::new("/d/broker-1/orders-eu-2"));
        assert_eq!(parse_partition_dir("orders-eu-2"), Some(partition));
        assert_eq!(parse_partition_dir("orders"), None);
        assert_eq!(parse_broker_dir("broker-3"), Some(BrokerId(3)));
        assert_eq!(parse_controller_dir("controller-0"), None);
    }
}
