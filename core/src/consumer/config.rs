//! The consumer's settings, with the Java client's names (`ConsumerConfig`) and its current
//! defaults, and the check that rejects impossible combinations before a consumer starts.
//!
//! `fetch.max.wait.ms` is kept for completeness: the model's `ConsumerFetch` carries no wait
//! bound, so the leader applies Kafka's default of 500 ms to every consumer fetch.

use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use crate::assignor::{AssignorName, RebalanceProtocol};
use crate::message::IsolationLevel;

/// Where a consumer starts in a partition its group has no committed offset for
/// (`auto.offset.reset`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub enum AutoOffsetReset {
    /// At the log start offset: everything still in the log.
    Earliest,
    /// At the log end the consumer may read (the high watermark, or the last stable offset for
    /// `read_committed`): only what is written from now on. Kafka's default.
    Latest,
}

impl AutoOffsetReset {
    /// Kafka's value for the setting.
    pub const fn name(self) -> &'static str {
        match self {
            AutoOffsetReset::Earliest => "earliest",
            AutoOffsetReset::Latest => "latest",
        }
    }

    /// The strategy Kafka spells `name`.
    pub fn parse(name: &str) -> Option<AutoOffsetReset> {
        [AutoOffsetReset::Earliest, AutoOffsetReset::Latest].into_iter().find(|reset| reset.name() == name)
    }
}

/// Everything that shapes a consumer besides its inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerConfig {
    /// `group.id`: the group to join. Kafka's default is none (a consumer without a group);
    /// this model always joins one, so the empty default fails [`validate`](Self::validate).
    pub group_id: Arc<str>,
    /// `group.instance.id`: set for a static member (KIP-345), which keeps its assignment across
    /// restarts within the session timeout and sends no LeaveGroup when it closes.
    pub group_instance_id: Option<Arc<str>>,
    /// `session.timeout.ms` (45000): the coordinator drops a member silent this long.
    pub session_timeout_ms: u64,
    /// `heartbeat.interval.ms` (3000): time between heartbeats while the member is stable.
    pub heartbeat_interval_ms: u64,
    /// `max.poll.interval.ms` (300000): the longest the application may spend between polls
    /// before the member leaves the group; also the rebalance timeout sent in JoinGroup.
    pub max_poll_interval_ms: u64,
    /// `max.poll.records` (500): the most records one poll returns.
    pub max_poll_records: usize,
    /// `auto.offset.reset` (latest).
    pub auto_offset_reset: AutoOffsetReset,
    /// `enable.auto.commit` (true): commit the consumed positions every
    /// `auto.commit.interval.ms`, before a rebalance and on close.
    pub enable_auto_commit: bool,
    /// `auto.commit.interval.ms` (5000).
    pub auto_commit_interval_ms: u64,
    /// `isolation.level` (read_uncommitted).
    pub isolation_level: IsolationLevel,
    /// `partition.assignment.strategy` (range, cooperative-sticky), in order of preference.
    pub partition_assignment_strategy: Vec<AssignorName>,
    /// `fetch.max.wait.ms` (500): see the module documentation.
    pub fetch_max_wait_ms: u64,
    /// `request.timeout.ms` (30000): an unanswered request is given up on after this long.
    pub request_timeout_ms: u64,
    /// `retry.backoff.ms` (100): the pause before retrying after a failure.
    pub retry_backoff_ms: u64,
}

impl Default for ConsumerConfig {
    fn default() -> Self {
        ConsumerConfig {
            group_id: Arc::from(""),
            group_instance_id: None,
            session_timeout_ms: 45_000,
            heartbeat_interval_ms: 3_000,
            max_poll_interval_ms: 300_000,
            max_poll_records: 500,
            auto_offset_reset: AutoOffsetReset::Latest,
            enable_auto_commit: true,
            auto_commit_interval_ms: 5_000,
            isolation_level: IsolationLevel::ReadUncommitted,
            partition_assignment_strategy: vec![AssignorName::Range, AssignorName::CooperativeSticky],
            fetch_max_wait_ms: 500,
            request_timeout_ms: 30_000,
            retry_backoff_ms: 100,
        }
    }
}

impl ConsumerConfig {
    /// The defaults, in group `group_id`.
    pub fn for_group(group_id: &str) -> Self {
        ConsumerConfig { group_id: Arc::from(group_id), ..ConsumerConfig::default() }
    }

    /// The rebalance protocol: the newest one every configured assignor supports, as Kafka's
    /// `ConsumerCoordinator` picks it. The default list holds `range`, so it is eager.
    pub fn rebalance_protocol(&self) -> RebalanceProtocol {
        let all_cooperative = self
            .partition_assignment_strategy
            .iter()
            .all(|assignor| assignor.rebalance_protocol() == RebalanceProtocol::Cooperative);
        if all_cooperative {
            RebalanceProtocol::Cooperative
        } else {
            RebalanceProtocol::Eager
        }
    }

    /// Rejects settings no consumer could run with, as the Java client does when it is built.
    pub fn validate(&self) -> Result<(), ConsumerConfigError> {
        if self.group_id.is_empty() {
            return Err(ConsumerConfigError::GroupIdRequired);
        }
        if self.group_instance_id.as_deref() == Some("") {
            return Err(ConsumerConfigError::EmptyGroupInstanceId);
        }
        if self.heartbeat_interval_ms == 0 || self.heartbeat_interval_ms >= self.session_timeout_ms {
            return Err(ConsumerConfigError::HeartbeatNotBelowSessionTimeout);
        }
        if self.max_poll_records == 0 {
            return Err(ConsumerConfigError::NoPollRecords);
        }
        if self.max_poll_interval_ms == 0 || self.request_timeout_ms == 0 {
            return Err(ConsumerConfigError::ZeroTimeout);
        }
        if self.enable_auto_commit && self.auto_commit_interval_ms == 0 {
            return Err(ConsumerConfigError::ZeroAutoCommitInterval);
        }
        let strategies = &self.partition_assignment_strategy;
        if strategies.is_empty() {
            return Err(ConsumerConfigError::NoAssignmentStrategy);
        }
        for (i, assignor) in strategies.iter().enumerate() {
            if strategies[..i].contains(assignor) {
                return Err(ConsumerConfigError::DuplicateAssignmentStrategy { assignor: *assignor });
            }
        }
        Ok(())
    }
}

/// A configuration no consumer could start with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsumerConfigError {
    GroupIdRequired,
    EmptyGroupInstanceId,
    /// Kafka: "Heartbeat must be set lower than the session timeout".
    HeartbeatNotBelowSessionTimeout,
    NoPollRecords,
    ZeroTimeout,
    ZeroAutoCommitInterval,
    NoAssignmentStrategy,
    DuplicateAssignmentStrategy {
        assignor: AssignorName,
    },
    /// The application's commit mode and `enable.auto.commit` disagree.
    CommitModeConflictsWithAutoCommit,
}

impl fmt::Display for ConsumerConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConsumerConfigError::GroupIdRequired => write!(f, "group.id is required to join a group"),
            ConsumerConfigError::EmptyGroupInstanceId => write!(f, "group.instance.id must not be empty"),
            ConsumerConfigError::HeartbeatNotBelowSessionTimeout => {
                write!(f, "heartbeat.interval.ms must be positive and lower than session.timeout.ms")
            }
            ConsumerConfigError::NoPollRecords => write!(f, "max.poll.records must be at least 1"),
            ConsumerConfigError::ZeroTimeout => {
                write!(f, "max.poll.interval.ms and request.timeout.ms must be positive")
            }
            ConsumerConfigError::ZeroAutoCommitInterval => {
                write!(f, "auto.commit.interval.ms must be positive when enable.auto.commit is true")
            }
            ConsumerConfigError::NoAssignmentStrategy => write!(f, "partition.assignment.strategy is empty"),
            ConsumerConfigError::DuplicateAssignmentStrategy { assignor } => {
                write!(f, "{} is listed twice in partition.assignment.strategy", assignor.name())
            }
            ConsumerConfigError::CommitModeConflictsWithAutoCommit => {
                write!(f, "the application commits automatically exactly when enable.auto.commit is true")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_kafkas_and_valid_once_a_group_is_named() {
        let config = ConsumerConfig::default();
        assert_eq!(config.validate(), Err(ConsumerConfigError::GroupIdRequired));
        let config = ConsumerConfig::for_group("g");
        assert_eq!(config.validate(), Ok(()));
        assert_eq!(
            (config.session_timeout_ms, config.heartbeat_interval_ms, config.max_poll_interval_ms),
            (45_000, 3_000, 300_000)
        );
        assert_eq!((config.max_poll_records, config.auto_commit_interval_ms), (500, 5_000));
        assert_eq!(config.auto_offset_reset, AutoOffsetReset::Latest);
        assert_eq!(config.partition_assignment_strategy, [AssignorName::Range, AssignorName::CooperativeSticky]);
    }

    #[test]
    fn default_strategy_list_rebalances_eagerly_and_cooperative_sticky_alone_cooperatively() {
        let config = ConsumerConfig::for_group("g");
        assert_eq!(config.rebalance_protocol(), RebalanceProtocol::Eager);
        let config = ConsumerConfig {
            partition_assignment_strategy: vec![AssignorName::CooperativeSticky],
            ..ConsumerConfig::for_group("g")
        };
        assert_eq!(config.rebalance_protocol(), RebalanceProtocol::Cooperative);
    }

    #[test]
    fn heartbeat_must_be_below_session_timeout() {
        let config = ConsumerConfig { heartbeat_interval_ms: 45_000, ..ConsumerConfig::for_group("g") };
        assert_eq!(config.validate(), Err(ConsumerConfigError::HeartbeatNotBelowSessionTimeout));
    }

    #[test]
    fn duplicate_strategies_are_rejected() {
        let config = ConsumerConfig {
            partition_assignment_strategy: vec![AssignorName::Range, AssignorName::Range],
            ..ConsumerConfig::for_group("g")
        };
        assert_eq!(
            config.validate(),
            Err(ConsumerConfigError::DuplicateAssignmentStrategy { assignor: AssignorName::Range })
        );
    }

    #[test]
    fn offset_reset_names_parse_back() {
        assert_eq!(AutoOffsetReset::parse("earliest"), Some(AutoOffsetReset::Earliest));
        assert_eq!(AutoOffsetReset::parse(AutoOffsetReset::Latest.name()), Some(AutoOffsetReset::Latest));
        assert_eq!(AutoOffsetReset::parse("none"), None);
    }
}
