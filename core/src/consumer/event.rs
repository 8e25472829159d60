//! What a consumer reports about itself, one short line each: the moments of the group
//! protocol, the offset commits and resets, and the application's polls, for the trace, the
//! page and tests.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use crate::error_code::ErrorCode;
use crate::ids::{BrokerId, Offset, TopicPartition};

use super::config::AutoOffsetReset;

/// Something worth telling about a consumer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsumerEvent {
    /// FindCoordinator named the group's coordinator.
    CoordinatorFound { broker: BrokerId },
    /// The coordinator stopped answering or said it no longer coordinates the group.
    CoordinatorLost { broker: BrokerId },
    /// The connection to `broker` broke: its `requests` in flight (fetches and group requests)
    /// failed, to be sent again.
    Disconnected { broker: BrokerId, requests: usize },
    /// The member will join again; `reason` is Kafka's reason, sent in JoinGroup.
    RejoinNeeded { reason: Arc<str> },
    /// JoinGroup succeeded: the member is in generation `generation_id`.
    Joined { generation_id: i32, member_id: Arc<str>, leader: bool, protocol: Arc<str> },
    /// SyncGroup handed the member these partitions in addition to what it owned.
    Assigned { partitions: Vec<TopicPartition> },
    /// The member gave these partitions up cleanly (its offsets could be committed first).
    Revoked { partitions: Vec<TopicPartition> },
    /// The member lost these partitions: its generation was reset, so another member may
    /// already own them, and nothing of them is committed.
    Lost { partitions: Vec<TopicPartition> },
    /// The coordinator stored these committed offsets.
    Committed { offsets: Vec<(TopicPartition, Offset)> },
    /// An offset commit failed; `error` is `None` when the member was not part of an active
    /// group, so nothing was sent (Kafka's `CommitFailedException`).
    CommitFailed { error: Option<ErrorCode> },
    /// No committed offset, or the position is out of range: `auto.offset.reset` moved it.
    OffsetReset { partition: TopicPartition, strategy: AutoOffsetReset, offset: Offset },
    /// A poll returned `records` records to the application.
    Polled { records: usize },
    /// The application spent longer than `max.poll.interval.ms` since its last poll.
    PollTimeoutExpired,
    /// The member sent LeaveGroup.
    LeftGroup { member_id: Arc<str> },
    /// A fatal group error: the consumer stops (FENCED_INSTANCE_ID, say).
    Failed { error: ErrorCode },
    /// The consumer closed cleanly.
    Closed,
}

/// A partition list as `t/0 t/1`, or `-` when empty.
struct Partitions<'a>(&'a [TopicPartition]);

impl fmt::Display for Partitions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("-");
        }
        for (i, partition) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{partition}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ConsumerEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConsumerEvent::CoordinatorFound { broker } => write!(f, "coordinator is broker {broker}"),
            ConsumerEvent::CoordinatorLost { broker } => write!(f, "lost coordinator broker {broker}"),
            ConsumerEvent::Disconnected { broker, requests } => {
                write!(f, "connection to broker {broker} broke, {requests} requests in flight failed")
            }
            ConsumerEvent::RejoinNeeded { reason } => write!(f, "rejoin needed: {reason}"),
            ConsumerEvent::Joined { generation_id, member_id, leader, protocol } => {
                let role = if *leader { "leader" } else { "follower" };
                write!(f, "joined generation {generation_id} as {role} ({member_id}, {protocol})")
            }
            ConsumerEvent::Assigned { partitions } => write!(f, "assigned {}", Partitions(partitions)),
            ConsumerEvent::Revoked { partitions } => write!(f, "revoked {}", Partitions(partitions)),
            ConsumerEvent::Lost { partitions } => write!(f, "lost {}", Partitions(partitions)),
            ConsumerEvent::Committed { offsets } => {
                f.write_str("committed")?;
                for (partition, offset) in offsets {
                    write!(f, " {partition}@{offset}")?;
                }
                Ok(())
            }
            ConsumerEvent::CommitFailed { error: Some(error) } => write!(f, "commit failed: {error}"),
            ConsumerEvent::CommitFailed { error: None } => write!(f, "commit failed: not part of an active group"),
            ConsumerEvent::OffsetReset { partition, strategy, offset } => {
                write!(f, "reset {partition} to {offset} ({})", strategy.name())
            }
            ConsumerEvent::Polled { records } => write!(f, "poll returned {records} records"),
            ConsumerEvent::PollTimeoutExpired => write!(f, "max.poll.interval.ms expired since the last poll"),
            ConsumerEvent::LeftGroup { member_id } => write!(f, "left the group ({member_id})"),
            ConsumerEvent::Failed { error } => write!(f, "failed: {error}"),
            ConsumerEvent::Closed => write!(f, "closed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    #[test]
    fn events_print_one_short_line() {
        let joined =
            ConsumerEvent::Joined { generation_id: 3, member_id: "m-1".into(), leader: true, protocol: "range".into() };
        assert_eq!(joined.to_string(), "joined generation 3 as leader (m-1, range)");
        let revoked =
            ConsumerEvent::Revoked { partitions: vec![TopicPartition::new("t", 0), TopicPartition::new("t", 2)] };
        assert_eq!(revoked.to_string(), "revoked t/0 t/2");
        assert_eq!(ConsumerEvent::Lost { partitions: vec![] }.to_string(), "lost -");
        let committed = ConsumerEvent::Committed { offsets: vec![(TopicPartition::new("t", 1), Offset(7))] };
        assert_eq!(committed.to_string(), "committed t/1@7");
        assert!(!ConsumerEvent::CommitFailed { error: None }.to_string().contains('\n'));
    }
}
