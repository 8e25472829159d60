//! The group coordinator's settings, with Kafka's broker config names and defaults.

use core::fmt;
use serde::{Deserialize, Serialize};

/// Everything that shapes the coordinator's behaviour besides its inputs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupConfig {
    /// `offsets.topic.num.partitions` (50): how many partitions `__consumer_offsets` has, which
    /// decides the partition (and so the coordinator) of each group.
    pub offsets_topic_num_partitions: i32,
    /// `group.initial.rebalance.delay.ms` (3000): how long the first rebalance of an empty
    /// group waits for more members, extended while more arrive (up to the rebalance timeout).
    pub group_initial_rebalance_delay_ms: u64,
    /// `group.min.session.timeout.ms` (6000): the shortest session timeout a member may ask for.
    pub group_min_session_timeout_ms: u64,
    /// `group.max.session.timeout.ms` (1800000): the longest session timeout a member may ask for.
    pub group_max_session_timeout_ms: u64,
    /// `group.max.size` (`Integer.MAX_VALUE`, unlimited): the most members a group may have.
    pub group_max_size: u32,
    /// `offsets.retention.minutes` (10080, seven days): how long the offsets of a group stay
    /// after it became empty (or, for a group that never had members, after each commit).
    pub offsets_retention_minutes: u64,
    /// `offsets.retention.check.interval.ms` (600000): how often expired offsets are removed.
    pub offsets_retention_check_interval_ms: u64,
    /// `offset.metadata.max.bytes` (4096): the longest metadata string a commit may carry.
    pub offset_metadata_max_bytes: usize,
}

impl Default for GroupConfig {
    fn default() -> Self {
        GroupConfig {
            offsets_topic_num_partitions: 50,
            group_initial_rebalance_delay_ms: 3_000,
            group_min_session_timeout_ms: 6_000,
            group_max_session_timeout_ms: 1_800_000,
            group_max_size: i32::MAX as u32,
            offsets_retention_minutes: 10_080,
            offsets_retention_check_interval_ms: 600_000,
            offset_metadata_max_bytes: 4_096,
        }
    }
}

impl GroupConfig {
    /// `offsets.retention.minutes` in milliseconds.
    pub fn offsets_retention_ms(&self) -> u64 {
        self.offsets_retention_minutes.saturating_mul(60_000)
    }

    /// Rejects settings no coordinator could run with, before anything starts.
    pub fn validate(&self) -> Result<(), GroupConfigError> {
        if self.offsets_topic_num_partitions <= 0 {
            return Err(GroupConfigError::NoOffsetsPartitions);
        }
        if self.group_min_session_timeout_ms > self.group_max_session_timeout_ms {
            return Err(GroupConfigError::SessionTimeoutBoundsReversed);
        }
        if self.group_max_size == 0 {
            return Err(GroupConfigError::ZeroGroupMaxSize);
        }
        if self.offsets_retention_minutes == 0 {
            return Err(GroupConfigError::ZeroOffsetsRetention);
        }
        if self.offsets_retention_check_interval_ms == 0 {
            return Err(GroupConfigError::ZeroRetentionCheckInterval);
        }
        Ok(())
    }
}

/// A configuration no coordinator could run with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupConfigError {
    NoOffsetsPartitions,
    SessionTimeoutBoundsReversed,
    ZeroGroupMaxSize,
    ZeroOffsetsRetention,
    ZeroRetentionCheckInterval,
}

impl fmt::Display for GroupConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GroupConfigError::NoOffsetsPartitions => write!(f, "offsets.topic.num.partitions must be positive"),
            GroupConfigError::SessionTimeoutBoundsReversed => {
                write!(f, "group.min.session.timeout.ms is larger than group.max.session.timeout.ms")
            }
            GroupConfigError::ZeroGroupMaxSize => write!(f, "group.max.size must be at least 1"),
            GroupConfigError::ZeroOffsetsRetention => write!(f, "offsets.retention.minutes must be positive"),
            GroupConfigError::ZeroRetentionCheckInterval => {
                write!(f, "offsets.retention.check.interval.ms must be positive")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_kafkas_and_valid() {
        let config = GroupConfig::default();
        assert_eq!(config.validate(), Ok(()));
        assert_eq!(config.offsets_topic_num_partitions, 50);
        assert_eq!(config.group_initial_rebalance_delay_ms, 3_000);
        assert_eq!(config.group_min_session_timeout_ms, 6_000);
        assert_eq!(config.group_max_session_timeout_ms, 1_800_000);
        assert_eq!(config.group_max_size, 2_147_483_647);
        assert_eq!(config.offsets_retention_ms(), 7 * 24 * 60 * 60 * 1000);
    }

    #[test]
    fn reversed_session_timeout_bounds_are_rejected() {
        let config = GroupConfig {
            group_min_session_timeout_ms: 10_000,
            group_max_session_timeout_ms: 9_000,
            ..GroupConfig::default()
        };
        assert_eq!(config.validate(), Err(GroupConfigError::SessionTimeoutBoundsReversed));
    }

    #[test]
    fn zero_partitions_are_rejected() {
        let config = GroupConfig { offsets_topic_num_partitions: 0, ..GroupConfig::default() };
        assert_eq!(config.validate(), Err(GroupConfigError::NoOffsetsPartitions));
    }
}
