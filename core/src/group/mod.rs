//! Consumer groups on the broker side: the group coordinator (Kafka's classic group protocol)
//! and the committed offsets it keeps in the compacted `__consumer_offsets` topic.
//!
//! The pieces:
//! - [`protocol`]: the requests and responses;
//! - [`coordinator`]: the [`GroupCoordinator`] a broker runs for the offsets partitions it
//!   leads: routing, loading and unloading partitions, appends, timers;
//! - [`classic_group`] and [`member`]: one group's state and its members; the rules that move a group
//!   through a rebalance are in `membership.rs`, `join.rs` (JoinGroup) and `sync.rs` (SyncGroup,
//!   Heartbeat, LeaveGroup); commits and offset expiry are in `commit.rs`;
//! - [`offsets`]: one group's committed and pending offsets;
//! - [`records`]: the `__consumer_offsets` record formats, byte for byte as Kafka writes them;
//! - [`config`]: the settings, with Kafka's names and defaults;
//! - [`output`] and [`event`]: what the coordinator asks of its broker, and the trace.

pub mod classic_group;
mod commit;
pub mod config;
pub mod coordinator;
mod effects;
pub mod event;
mod join;
pub mod member;
mod membership;
pub mod offsets;
pub mod output;

pub mod protocol;
pub mod records;
mod sync;
mod wire;

pub use crate::placement::partition_for;
pub use classic_group::Group;
pub use config::{GroupConfig, GroupConfigError};
pub use coordinator::{GroupCoordinator, PartitionStatus};
pub use event::{GroupEvent, RebalanceReason, RemovalReason};
pub use member::Member;
pub use offsets::OffsetAndMetadata;
pub use output::{AppendToken, GroupOutput, GroupTimer};
pub use records::RecordError;
