//! Kafka's error codes, as the protocol numbers them, for the errors the model can produce.
//!
//! The numbers are the wire values (`org.apache.kafka.common.protocol.Errors`), so the native
//! server hands them to real clients unchanged.

use core::fmt;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ErrorCode {
    UnknownTopicOrPartition,
    LeaderNotAvailable,
    NotLeaderOrFollower,
    RequestTimedOut,
    NotEnoughReplicas,
    NotEnoughReplicasAfterAppend,
    FencedLeaderEpoch,
    UnknownLeaderEpoch,
    UnsupportedVersion,
    UnknownTopicId,
    InvalidRequest,
    StaleBrokerEpoch,
    InvalidUpdateVersion,
    InvalidTopicException,
    TopicAlreadyExists,
    InvalidPartitions,
    InvalidReplicationFactor,
    InvalidConfig,
    PreferredLeaderNotAvailable,
    ElectionNotNeeded,
    BrokerNotAvailable,
    CorruptMessage,
    MessageTooLarge,
    InvalidRecord,
    OffsetOutOfRange,
    /// A request for the active controller reached a controller that is not active.
    NotController,
}

impl ErrorCode {
    /// The value on the wire.
    pub const fn code(self) -> i16 {
        match self {
            ErrorCode::UnknownTopicOrPartition => 3,
            ErrorCode::LeaderNotAvailable => 5,
            ErrorCode::NotLeaderOrFollower => 6,
            ErrorCode::RequestTimedOut => 7,
            ErrorCode::UnsupportedVersion => 35,
            ErrorCode::NotEnoughReplicas => 19,
            ErrorCode::NotEnoughReplicasAfterAppend => 20,
            ErrorCode::FencedLeaderEpoch => 74,
            ErrorCode::UnknownLeaderEpoch => 75,
            ErrorCode::UnknownTopicId => 100,
            ErrorCode::InvalidRequest => 42,
            ErrorCode::StaleBrokerEpoch => 77,
            ErrorCode::InvalidUpdateVersion => 108,
            ErrorCode::InvalidTopicException => 17,
            ErrorCode::TopicAlreadyExists => 36,
            ErrorCode::InvalidPartitions => 37,
            ErrorCode::InvalidReplicationFactor => 38,
            ErrorCode::InvalidConfig => 40,
            ErrorCode::PreferredLeaderNotAvailable => 80,
            ErrorCode::ElectionNotNeeded => 84,
            ErrorCode::BrokerNotAvailable => 8,
            ErrorCode::CorruptMessage => 2,
            ErrorCode::MessageTooLarge => 10,
            ErrorCode::InvalidRecord => 87,
            ErrorCode::OffsetOutOfRange => 1,
            ErrorCode::NotController => 41,
        }
    }

    /// Kafka's own name for it, as clients print it.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::UnknownTopicOrPartition => "UNKNOWN_TOPIC_OR_PARTITION",
            ErrorCode::LeaderNotAvailable => "LEADER_NOT_AVAILABLE",
            ErrorCode::NotLeaderOrFollower => "NOT_LEADER_OR_FOLLOWER",
            ErrorCode::RequestTimedOut => "REQUEST_TIMED_OUT",
            ErrorCode::UnsupportedVersion => "UNSUPPORTED_VERSION",
            ErrorCode::NotEnoughReplicas => "NOT_ENOUGH_REPLICAS",
            ErrorCode::NotEnoughReplicasAfterAppend => "NOT_ENOUGH_REPLICAS_AFTER_APPEND",
            ErrorCode::FencedLeaderEpoch => "FENCED_LEADER_EPOCH",
            ErrorCode::UnknownLeaderEpoch => "UNKNOWN_LEADER_EPOCH",
            ErrorCode::UnknownTopicId => "UNKNOWN_TOPIC_ID",
            ErrorCode::InvalidRequest => "INVALID_REQUEST",
            ErrorCode::StaleBrokerEpoch => "STALE_BROKER_EPOCH",
            ErrorCode::InvalidUpdateVersion => "INVALID_UPDATE_VERSION",
            ErrorCode::InvalidTopicException => "INVALID_TOPIC_EXCEPTION",
            ErrorCode::TopicAlreadyExists => "TOPIC_ALREADY_EXISTS",
            ErrorCode::InvalidPartitions => "INVALID_PARTITIONS",
            ErrorCode::InvalidReplicationFactor => "INVALID_REPLICATION_FACTOR",
            ErrorCode::InvalidConfig => "INVALID_CONFIG",
            ErrorCode::PreferredLeaderNotAvailable => "PREFERRED_LEADER_NOT_AVAILABLE",
            ErrorCode::ElectionNotNeeded => "ELECTION_NOT_NEEDED",
            ErrorCode::BrokerNotAvailable => "BROKER_NOT_AVAILABLE",
            ErrorCode::CorruptMessage => "CORRUPT_MESSAGE",
            ErrorCode::MessageTooLarge => "MESSAGE_TOO_LARGE",
            ErrorCode::InvalidRecord => "INVALID_RECORD",
            ErrorCode::OffsetOutOfRange => "OFFSET_OUT_OF_RANGE",
            ErrorCode::NotController => "NOT_CONTROLLER",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.code())
    }
}
