//! The transaction coordinator's settings, with Kafka's names and defaults.

use core::fmt;
use serde::{Deserialize, Serialize};

/// Everything that shapes a coordinator besides its inputs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnConfig {
    /// `transaction.max.timeout.ms` (900000, 15 minutes): the longest `transaction.timeout.ms` a
    /// producer may ask for; InitProducerId with more gets INVALID_TRANSACTION_TIMEOUT.
    pub transaction_max_timeout_ms: u64,
    /// `transaction.state.log.num.partitions` (50): partitions of `__transaction_state`, which
    /// place transactional ids on coordinators.
    pub transaction_state_log_num_partitions: i32,
    /// `offsets.topic.num.partitions` (50): partitions of `__consumer_offsets`, so that
    /// AddOffsetsToTxn finds the group's partition.
    pub offsets_topic_num_partitions: i32,
    /// `transaction.abort.timed.out.transaction.cleanup.interval.ms` (10000): how often the
    /// coordinator looks for transactions open longer than their timeout, to abort them.
    pub abort_timed_out_transaction_cleanup_interval_ms: u64,
    /// How many producer ids the controller hands out at once (Kafka's KRaft
    /// `AllocateProducerIds` gives blocks of 1000; it is a constant there, not a setting).
    pub producer_id_block_size: i64,
    /// `retry.backoff.ms` (100): the pause before trying again to write a transaction's
    /// completion after the append failed.
    pub retry_backoff_ms: u64,
}

impl Default for TxnConfig {
    fn default() -> Self {
        TxnConfig {
            transaction_max_timeout_ms: 900_000,
            transaction_state_log_num_partitions: 50,
            offsets_topic_num_partitions: 50,
            abort_timed_out_transaction_cleanup_interval_ms: 10_000,
            producer_id_block_size: 1_000,
            retry_backoff_ms: 100,
        }
    }
}

impl TxnConfig {
    /// Rejects settings no coordinator could run with, before anything starts.
    pub fn validate(&self) -> Result<(), TxnConfigError> {
        if self.transaction_max_timeout_ms == 0 || self.transaction_max_timeout_ms > i32::MAX as u64 {
            return Err(TxnConfigError::MaxTimeoutOutOfRange { max_timeout_ms: self.transaction_max_timeout_ms });
        }
        if self.transaction_state_log_num_partitions <= 0 {
            return Err(TxnConfigError::NoPartitions { topic: crate::placement::TRANSACTION_STATE_TOPIC });
        }
        if self.offsets_topic_num_partitions <= 0 {
            return Err(TxnConfigError::NoPartitions { topic: crate::placement::CONSUMER_OFFSETS_TOPIC });
        }
        if self.abort_timed_out_transaction_cleanup_interval_ms == 0 || self.retry_backoff_ms == 0 {
            return Err(TxnConfigError::ZeroInterval);
        }
        if self.producer_id_block_size <= 0 {
            return Err(TxnConfigError::EmptyProducerIdBlock);
        }
        Ok(())
    }
}

/// A configuration no coordinator could start from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxnConfigError {
    /// The maximum timeout must be positive and fit the log's 32-bit timeout field.
    MaxTimeoutOutOfRange {
        max_timeout_ms: u64,
    },
    NoPartitions {
        topic: &'static str,
    },
    /// A periodic check or back-off of 0 ms would run without end.
    ZeroInterval,
    EmptyProducerIdBlock,
}

impl fmt::Display for TxnConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TxnConfigError::MaxTimeoutOutOfRange { max_timeout_ms } => {
                write!(f, "transaction.max.timeout.ms must be between 1 and {}, not {max_timeout_ms}", i32::MAX)
            }
            TxnConfigError::NoPartitions { topic } => write!(f, "{topic} needs at least one partition"),
            TxnConfigError::ZeroInterval => write!(f, "intervals and back-offs must be longer than 0 ms"),
            TxnConfigError::EmptyProducerIdBlock => write!(f, "a producer id block holds at least one id"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_kafkas_and_valid() {
        let config = TxnConfig::default();
        assert_eq!(config.transaction_max_timeout_ms, 900_000);
        assert_eq!(config.transaction_state_log_num_partitions, 50);
        assert_eq!(config.abort_timed_out_transaction_cleanup_interval_ms, 10_000);
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn validate_rejects_impossible_settings() {
        let too_long = TxnConfig { transaction_max_timeout_ms: u64::from(u32::MAX), ..TxnConfig::default() };
        assert!(matches!(too_long.validate(), Err(TxnConfigError::MaxTimeoutOutOfRange { .. })));
        let no_partitions = TxnConfig { transaction_state_log_num_partitions: 0, ..TxnConfig::default() };
        assert!(matches!(no_partitions.validate(), Err(TxnConfigError::NoPartitions { .. })));
        let empty_block = TxnConfig { producer_id_block_size: 0, ..TxnConfig::default() };
        assert_eq!(empty_block.validate(), Err(TxnConfigError::EmptyProducerIdBlock));
    }
}
