//! What each node keeps on disk, as plain values: the state a driver with a disk reads out of a
//! running cluster, writes down, and hands back to start the cluster again (sans-IO, like
//! raft-rs's `Storage`: the core says what must survive, the driver decides how to keep it).
//!
//! ```text
//!  Simulation::disks()                         Simulation::from_disks(config, disks)
//!  ---------------------> ClusterDisks ------------------------------------------->
//!                          brokers:      BrokerDisk     per partition: segments of
//!                                                       record batches (Kafka's .log
//!                                                       bytes), high watermark, epochs
//!                          controllers:  ControllerDisk quorum state + metadata log
//! ```
//!
//! A broker's disk is its partition logs, as Kafka's log directory holds them: each log's
//! segments of record batches (the real magic-2 bytes), its high watermark (Kafka's
//! `replication-offset-checkpoint`) and its leader-epoch cache (`leader-epoch-checkpoint`). A
//! controller's disk is its replica of the metadata log with the Raft epoch and vote (KRaft's
//! `__cluster_metadata-0` and `quorum-state`). Everything else, group and transaction
//! coordinators, producer state, the images built from the metadata, is rebuilt at start from
//! these, as Kafka rebuilds it: committed offsets come back because `__consumer_offsets` is a
//! log like any other.
//!
//! Starting from disks is a restart of every node after a crash ([`crate::Simulation::from_disks`]):
//! logs are recovered (producer state replayed from their batches), controllers replay their
//! metadata log once a leader commits it again, and brokers register anew.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;

use crate::config::ConfigError;
use crate::ids::{BrokerId, ControllerId, Offset, TopicPartition};
use crate::metadata::MetadataBatch;
use crate::partition_log::{EpochEntry, LogError, PartitionLog};
use crate::raft::{PersistentState, RaftConfigError};
use crate::record_batch::RecordBatch;

/// One segment as a `.log` file holds it: its base offset (the file's name) and its batches,
/// back to back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSegment {
    pub base_offset: Offset,
    pub batches: Vec<RecordBatch>,
}

/// One partition log as a broker's disk holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredLog {
    /// Oldest first; the first one's base offset is the log start offset, the last one is the
    /// active segment. Never empty for a log read out of a broker.
    pub segments: Vec<StoredSegment>,
    /// The last checkpointed high watermark; recovery caps it at the log end.
    pub high_watermark: Offset,
    /// The leader-epoch checkpoint; `None` when it was lost, and recovery rebuilds the cache
    /// from the batches' partition leader epochs (as Kafka does without the file).
    pub epochs: Option<Vec<EpochEntry>>,
    /// The id of the topic the log belongs to (Kafka's `partition.metadata` file); `None` when
    /// it was not kept, and the broker then takes the id its metadata gives the topic's name.
    pub topic_id: Option<u64>,
}

impl StoredLog {
    /// What `log` keeps on disk.
    pub fn of(log: &PartitionLog) -> StoredLog {
        StoredLog {
            segments: log
                .segments()
                .iter()
                .map(|segment| StoredSegment {
                    base_offset: segment.base_offset(),
                    batches: segment.batches().to_vec(),
                })
                .collect(),
            high_watermark: log.high_watermark(),
            epochs: Some(log.epoch_entries().to_vec()),
            topic_id: None,
        }
    }

    /// Every batch, in offset order.
    pub fn batches(&self) -> impl Iterator<Item = &RecordBatch> + '_ {
        self.segments.iter().flat_map(|segment| segment.batches.iter())
    }
}

/// A broker's log directory: its partition logs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BrokerDisk {
    pub partitions: BTreeMap<TopicPartition, StoredLog>,
}

/// A controller's `__cluster_metadata` directory: the Raft epoch and vote, and its replica of
/// the metadata log, every entry it holds, committed or not (Raft persists the whole log: an
/// entry a follower acknowledged may be what made it committed).
pub type ControllerDisk = PersistentState<MetadataBatch>;

/// Every node's disk.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterDisks {
    pub brokers: BTreeMap<BrokerId, BrokerDisk>,
    pub controllers: BTreeMap<ControllerId, ControllerDisk>,
}

/// Why a disk cannot start its node. A driver reading files checks each batch's CRC and order
/// and truncates what fails before it gets here; these catch what is left.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecoveryError {
    /// The configuration itself is not one the core can run.
    Config(ConfigError),
    /// A disk names a broker or controller the configuration does not have.
    UnknownBroker(BrokerId),
    UnknownController(ControllerId),
    /// A partition log's segments or batches are out of order.
    Log {
        partition: TopicPartition,
        error: LogError,
    },
    /// A controller's quorum state and log do not fit its configuration.
    Quorum {
        controller: ControllerId,
        error: RaftConfigError,
    },
}

impl fmt::Display for RecoveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecoveryError::Config(error) => write!(f, "{error}"),
            RecoveryError::UnknownBroker(id) => write!(f, "the disk of broker {id}, which the cluster does not have"),
            RecoveryError::UnknownController(id) => {
                write!(f, "the disk of controller {id}, which the cluster does not have")
            }
            RecoveryError::Log { partition, error } => write!(f, "the log of {partition}: {error}"),
            RecoveryError::Quorum { controller, error } => {
                write!(f, "the metadata log of controller {controller}: {error}")
            }
        }
    }
}
