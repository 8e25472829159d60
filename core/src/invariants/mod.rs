//! Rules every run must keep, checked by the simulator after every event, one rule per module,
//! each citing where the rule comes from: the partitions' replication (log order, one leader
//! per leader epoch, leader high watermarks, committed records), the metadata quorum's Raft
//! (election safety, state machine safety) and consumer groups (one owner per partition in a
//! generation, committed offsets that never go backwards). Two rules are oracles run at the end
//! of a run instead: `read_committed` consumers process committed records only
//! ([`check_processed_records`]), and a consume-transform-produce pipeline's committed output
//! holds each input record's result once ([`exactly_once`]).
//!
//! A violation is a bug in the model, never a legitimate outcome, so the simulator stops with
//! the seed that reproduces it. Some rules need memory across events (the highest high
//! watermark a leader reached, the records known committed); [`Invariants`] keeps it.

mod committed_offsets;
mod committed_records;
mod election_safety;
mod exactly_once;
mod group_ownership;
mod leader_high_watermark;
mod log_order;
mod read_committed;
mod single_leader;
mod state_machine_safety;

use alloc::string::String;
use core::fmt;

use crate::broker::{Broker, Replica};
use crate::command::ClientName;
use crate::consumer::Consumer;
use crate::ids::{BrokerId, ControllerId, LeaderEpoch, Offset, TopicPartition};
use crate::metadata::MetadataBatch;
use crate::partition_log::LogError;
use crate::raft::{Epoch, RaftNode, ReplicaId};

pub use committed_offsets::CommittedOffsets;
pub use committed_records::CommittedRecords;
pub use election_safety::ElectionSafety;
pub use exactly_once::{check_pipeline_outputs, check_pipelines_caught_up, ExactlyOnceViolation};
pub use group_ownership::{disjoint_per_generation, Ownership, OwnershipView};
pub use leader_high_watermark::LeaderHighWatermarks;
pub use read_committed::{check_processed_records, BatchFates, RecordFate};
pub use state_machine_safety::StateMachineSafety;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// A replica's log broke log start ≤ HW ≤ LEO or its offset order.
    Log { broker: BrokerId, partition: TopicPartition, error: LogError },
    /// Two brokers lead one partition at the same leader epoch.
    TwoLeadersInOneEpoch { partition: TopicPartition, leader_epoch: LeaderEpoch, brokers: (BrokerId, BrokerId) },
    /// A leader's high watermark moved backwards within its epoch.
    HighWatermarkWentBack { broker: BrokerId, partition: TopicPartition, from: Offset, to: Offset },
    /// A committed record was lost or replaced, with unclean election off.
    CommittedRecordLost { partition: TopicPartition, offset: Offset, leader: BrokerId },
    /// Two controllers led the metadata quorum in one epoch (Raft §5.2).
    TwoControllersLeadOneEpoch { epoch: Epoch, controllers: (ControllerId, ControllerId) },
    /// A replica of the metadata log committed an entry other than the one committed at that
    /// offset before (Raft §5.4.3).
    CommittedMetadataDiverged { replica: ReplicaId, offset: Offset, agreed_epoch: Epoch, found_epoch: Epoch },
    /// Two members of one group owned one partition in the same generation.
    PartitionOwnedTwice {
        group: String,
        generation_id: i32,
        partition: TopicPartition,
        owners: (String, String),
        view: OwnershipView,
    },
    /// A group's committed offset for a partition went backwards without a reset.
    CommittedOffsetWentBack { group: String, partition: TopicPartition, broker: BrokerId, from: Offset, to: Offset },
    /// A `read_committed` consumer processed a record of an aborted or open transaction (or
    /// one the log does not hold as a record).
    ReadCommittedProcessedUncommitted {
        client: ClientName,
        partition: TopicPartition,
        offset: Offset,
        fate: RecordFate,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Log { broker, partition, error } => write!(f, "broker {broker} {partition}: {error}"),
            Violation::TwoLeadersInOneEpoch { partition, leader_epoch, brokers } => {
                write!(f, "{partition}: brokers {} and {} both lead at epoch {leader_epoch}", brokers.0, brokers.1)
            }
            Violation::HighWatermarkWentBack { broker, partition, from, to } => {
                write!(f, "broker {broker} leads {partition} and its high watermark went back from {from} to {to}")
            }
            Violation::CommittedRecordLost { partition, offset, leader } => write!(
                f,
                "{partition}: the committed record at offset {offset} is not on leader {leader} (unclean election is off)"
            ),
            Violation::TwoControllersLeadOneEpoch { epoch, controllers } => write!(
                f,
                "election safety: controllers {} and {} both led the metadata quorum at epoch {epoch}",
                controllers.0, controllers.1
            ),
            Violation::CommittedMetadataDiverged { replica, offset, agreed_epoch, found_epoch } => write!(
                f,
                "state machine safety: replica {replica} committed an entry of epoch {found_epoch} at metadata \
                 offset {offset}, where one of epoch {agreed_epoch} was committed"
            ),
            Violation::PartitionOwnedTwice { group, generation_id, partition, owners, view } => {
                let seen = match view {
                    OwnershipView::Members => String::from("as the consumers believe"),
                    OwnershipView::Coordinator(broker) => alloc::format!("as coordinator {broker} stored it"),
                };
                write!(
                    f,
                    "group {group:?} generation {generation_id}: {partition} is owned by both {} and {} ({seen})",
                    owners.0, owners.1
                )
            }
            Violation::CommittedOffsetWentBack { group, partition, broker, from, to } => write!(
                f,
                "group {group:?}'s committed offset for {partition} went back from {from} to {to} on coordinator \
                 {broker} (no reset was asked for)"
            ),
            Violation::ReadCommittedProcessedUncommitted { client, partition, offset, fate } => {
                let what = match fate {
                    RecordFate::Aborted => "a record of an aborted transaction",
                    RecordFate::Open => "a record of a transaction still open",
                    RecordFate::Control => "a transaction marker",
                    RecordFate::Missing => "an offset the log does not hold",
                    RecordFate::NotTransactional | RecordFate::Committed => "a committed record",
                };
                write!(f, "{client} reads with isolation.level=read_committed and processed {what}: {partition} offset {offset}")
            }
        }
    }
}

/// The rules, with what they remember between events.
#[derive(Clone, Debug, Default)]
pub struct Invariants {
    high_watermarks: LeaderHighWatermarks,
    committed: CommittedRecords,
    election_safety: ElectionSafety,
    metadata: StateMachineSafety,
    committed_offsets: CommittedOffsets,
}

impl Invariants {
    /// Checks the broker an event just changed (`brokers[changed]`): only it can have broken a
    /// rule. When the event concerned one partition (`scope`), only that partition's replica is
    /// checked; this keeps checking after every event cheap enough for long runs. The rules
    /// that compare brokers compare it with the others. `unclean_allowed` turns off the rule
    /// that committed records survive.
    pub fn check(
        &mut self,
        brokers: &[&Broker],
        changed: usize,
        scope: Option<&TopicPartition>,
        unclean_allowed: bool,
    ) -> Result<(), Violation> {
        let broker = brokers[changed];
        for (partition, replica) in in_scope(broker, scope) {
            log_order::check(broker, partition, replica)?;
            single_leader::check(broker, partition, replica, brokers)?;
            self.high_watermarks.check(broker, partition, replica)?;
            if !unclean_allowed {
                self.committed.check(broker, partition, replica)?;
            }
        }
        Ok(())
    }
}

impl Invariants {
    /// Checks a controller an event just changed: it leads no epoch another led, and what it
    /// has committed agrees with what every replica committed.
    pub fn check_controller(
        &mut self,
        controller: ControllerId,
        raft: &RaftNode<MetadataBatch>,
    ) -> Result<(), Violation> {
        self.election_safety.check(controller, raft)?;
        self.metadata.check(raft)
    }

    /// Checks the committed prefix of a broker's replica of the metadata log.
    pub fn check_metadata_observer(&mut self, raft: &RaftNode<MetadataBatch>) -> Result<(), Violation> {
        self.metadata.check(raft)
    }

    /// Checks the groups `broker` coordinates: no partition stored for two members of a
    /// `Stable` generation, no committed offset lower than one reported before.
    pub fn check_groups(&mut self, broker: &Broker) -> Result<(), Violation> {
        group_ownership::check_coordinator(broker)?;
        self.committed_offsets.check(broker)
    }

    /// Checks, among the live `consumers` (with their names), the members of `group` that
    /// believe they are `Stable`: no two of one generation own one partition.
    pub fn check_group_members<'a>(
        &mut self,
        group: &str,
        consumers: impl IntoIterator<Item = (&'a str, &'a Consumer)>,
    ) -> Result<(), Violation> {
        group_ownership::check_members(group, consumers)
    }

    /// The metadata log's committed entries, as agreed by every replica so far.
    pub fn committed_metadata(&self) -> &[crate::raft::LogEntry<MetadataBatch>] {
        self.metadata.committed()
    }
}

/// The replicas of `broker` an event may have changed: one partition's, or all.
fn in_scope<'a>(
    broker: &'a Broker,
    scope: Option<&'a TopicPartition>,
) -> impl Iterator<Item = (&'a TopicPartition, &'a Replica)> + 'a {
    let one = scope.map(|partition| broker.replica(partition).map(|replica| (partition, replica)));
    let all = scope.is_none().then(|| broker.replicas());
    one.into_iter().flatten().chain(all.into_iter().flatten())
}

/// The simulator's panic message: the violation and the seed that reproduces it.
pub fn describe(violation: &Violation, seed: u64) -> String {
    alloc::format!("invariant violated with seed {seed}: {violation}")
}
