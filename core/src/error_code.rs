//! Kafka's error codes, as the protocol numbers them, for the errors the model can produce.
//!
//! The numbers are the wire values (`org.apache.kafka.common.protocol.Errors`), so the native
//! server hands them to real clients unchanged.

use core::fmt;
use serde::{Deserialize, Serialize};

/// Declares the error codes once: variant, wire value and Kafka's name side by side.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $code:literal, $name:literal;)*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code the model knows, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The value on the wire.
            pub const fn code(self) -> i16 {
                match self {
                    $(ErrorCode::$variant => $code,)*
                }
            }

            /// Kafka's own name for it, as clients print it.
            pub fn name(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $name,)*
                }
            }
        }
    };
}

error_codes! {
    UnknownTopicOrPartition = 3, "UNKNOWN_TOPIC_OR_PARTITION";
    LeaderNotAvailable = 5, "LEADER_NOT_AVAILABLE";
    NotLeaderOrFollower = 6, "NOT_LEADER_OR_FOLLOWER";
    RequestTimedOut = 7, "REQUEST_TIMED_OUT";
    NotEnoughReplicas = 19, "NOT_ENOUGH_REPLICAS";
    NotEnoughReplicasAfterAppend = 20, "NOT_ENOUGH_REPLICAS_AFTER_APPEND";
    FencedLeaderEpoch = 74, "FENCED_LEADER_EPOCH";
    UnknownLeaderEpoch = 75, "UNKNOWN_LEADER_EPOCH";
    /// A produce whose batch uses a codec the broker cannot read (here snappy, lz4 and zstd).
    UnsupportedCompressionType = 76, "UNSUPPORTED_COMPRESSION_TYPE";
    UnsupportedVersion = 35, "UNSUPPORTED_VERSION";
    UnknownTopicId = 100, "UNKNOWN_TOPIC_ID";
    InvalidRequest = 42, "INVALID_REQUEST";
    StaleBrokerEpoch = 77, "STALE_BROKER_EPOCH";
    InvalidUpdateVersion = 108, "INVALID_UPDATE_VERSION";
    InvalidTopicException = 17, "INVALID_TOPIC_EXCEPTION";
    TopicAlreadyExists = 36, "TOPIC_ALREADY_EXISTS";
    InvalidPartitions = 37, "INVALID_PARTITIONS";
    InvalidReplicationFactor = 38, "INVALID_REPLICATION_FACTOR";
    InvalidConfig = 40, "INVALID_CONFIG";
    PreferredLeaderNotAvailable = 80, "PREFERRED_LEADER_NOT_AVAILABLE";
    ElectionNotNeeded = 84, "ELECTION_NOT_NEEDED";
    BrokerNotAvailable = 8, "BROKER_NOT_AVAILABLE";
    CorruptMessage = 2, "CORRUPT_MESSAGE";
    MessageTooLarge = 10, "MESSAGE_TOO_LARGE";
    InvalidRecord = 87, "INVALID_RECORD";
    OffsetOutOfRange = 1, "OFFSET_OUT_OF_RANGE";
    /// A request for the active controller reached a controller that is not active.
    NotController = 41, "NOT_CONTROLLER";
    OffsetMetadataTooLarge = 12, "OFFSET_METADATA_TOO_LARGE";
    CoordinatorLoadInProgress = 14, "COORDINATOR_LOAD_IN_PROGRESS";
    CoordinatorNotAvailable = 15, "COORDINATOR_NOT_AVAILABLE";
    NotCoordinator = 16, "NOT_COORDINATOR";
    InvalidRequiredAcks = 21, "INVALID_REQUIRED_ACKS";
    IllegalGeneration = 22, "ILLEGAL_GENERATION";
    InconsistentGroupProtocol = 23, "INCONSISTENT_GROUP_PROTOCOL";
    InvalidGroupId = 24, "INVALID_GROUP_ID";
    UnknownMemberId = 25, "UNKNOWN_MEMBER_ID";
    InvalidSessionTimeout = 26, "INVALID_SESSION_TIMEOUT";
    RebalanceInProgress = 27, "REBALANCE_IN_PROGRESS";
    InvalidCommitOffsetSize = 28, "INVALID_COMMIT_OFFSET_SIZE";
    OutOfOrderSequenceNumber = 45, "OUT_OF_ORDER_SEQUENCE_NUMBER";
    DuplicateSequenceNumber = 46, "DUPLICATE_SEQUENCE_NUMBER";
    InvalidProducerEpoch = 47, "INVALID_PRODUCER_EPOCH";
    InvalidTxnState = 48, "INVALID_TXN_STATE";
    InvalidProducerIdMapping = 49, "INVALID_PRODUCER_ID_MAPPING";
    InvalidTransactionTimeout = 50, "INVALID_TRANSACTION_TIMEOUT";
    ConcurrentTransactions = 51, "CONCURRENT_TRANSACTIONS";
    TransactionCoordinatorFenced = 52, "TRANSACTION_COORDINATOR_FENCED";
    UnknownProducerId = 59, "UNKNOWN_PRODUCER_ID";
    NonEmptyGroup = 68, "NON_EMPTY_GROUP";
    GroupIdNotFound = 69, "GROUP_ID_NOT_FOUND";
    MemberIdRequired = 79, "MEMBER_ID_REQUIRED";
    GroupMaxSizeReached = 81, "GROUP_MAX_SIZE_REACHED";
    FencedInstanceId = 82, "FENCED_INSTANCE_ID";
    UnstableOffsetCommit = 88, "UNSTABLE_OFFSET_COMMIT";
    ProducerFenced = 90, "PRODUCER_FENCED";
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn every_code_has_its_own_wire_value_and_name() {
        let mut codes: alloc::vec::Vec<i16> = ErrorCode::ALL.iter().map(|e| e.code()).collect();
        let mut names: alloc::vec::Vec<&str> = ErrorCode::ALL.iter().map(|e| e.name()).collect();
        codes.sort_unstable();
        codes.dedup();
        names.sort_unstable();
        names.dedup();
        assert_eq!(codes.len(), ErrorCode::ALL.len());
        assert_eq!(names.len(), ErrorCode::ALL.len());
        assert_eq!(ErrorCode::ProducerFenced.code(), 90);
        assert_eq!(ErrorCode::NotCoordinator.to_string(), "NOT_COORDINATOR (16)");
    }
}
