//! The partition log's typed errors: why an append was refused ([`AppendError`], Kafka's
//! `InvalidRecordException`, `RecordBatchTooLargeException` and `UnexpectedAppendOffsetException`
//! by another name), why a configuration is impossible ([`ConfigError`]), and which ordering a
//! log broke ([`LogError`], what `validate` and `validate_records` report).

use core::fmt;

use crate::ids::{LeaderEpoch, Offset};
use crate::record_batch::{BatchError, Compression};

/// Why [`PartitionLog::append_as_leader`](super::PartitionLog::append_as_leader) or
/// [`append_as_follower`](super::PartitionLog::append_as_follower) refused a batch. Nothing is
/// appended when one is returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AppendError {
    /// A leader epoch below 0 (-1 is "no epoch", which a leader never appends under).
    InvalidLeaderEpoch { epoch: LeaderEpoch },
    /// A leader append under an epoch older than the newest this log has seen: a deposed
    /// leader's write (Kafka fences it with `FENCED_LEADER_EPOCH` before it reaches the log).
    StaleLeaderEpoch { epoch: LeaderEpoch, latest: LeaderEpoch },
    /// A batch with no records that is not a control batch (Kafka's `LogValidator`: "Invalid
    /// reported count for record batch: 0").
    EmptyBatch,
    /// The records count disagrees with the offsets the batch spans (Kafka: "Inconsistent batch
    /// offset range and count of records").
    RecordCountMismatch { record_count: i32, last_offset_delta: i32 },
    /// Record `index` of a producer's batch does not have offset delta `index`.
    RecordOffsetDeltaMismatch { index: usize, offset_delta: i32 },
    /// A record without a key sent to a compacted topic (Kafka: "Compacted topic cannot accept
    /// message without key").
    KeylessRecordInCompactedTopic { index: usize },
    /// A producer's batch compressed with a codec the lab does not implement (snappy, lz4,
    /// zstd): its records cannot be checked, so it is refused (`UNSUPPORTED_COMPRESSION_TYPE`).
    UnsupportedCompression { compression: Compression },
    /// The batch alone is larger than a segment may be (`RecordBatchTooLargeException`).
    BatchLargerThanSegment { size_bytes: u64, segment_bytes: u64 },
    /// Assigning offsets from the log end would overflow an offset.
    OffsetOverflow { log_end: Offset, last_offset_delta: i32 },
    /// A follower batch that starts below where the log (or the previous batch) ends
    /// (`UnexpectedAppendOffsetException`).
    OffsetBelowLogEnd { base_offset: Offset, log_end: Offset },
    /// A follower batch whose offset range ends before it starts.
    NegativeLastOffsetDelta { base_offset: Offset, last_offset_delta: i32 },
    /// Record `index` of a follower batch is out of order or outside the batch's offsets.
    RecordOffsetOutOfOrder { base_offset: Offset, index: usize },
    /// A producer batch or marker under an epoch older than the producer's latest: a zombie
    /// producer (Kafka's `InvalidProducerEpochException`).
    InvalidProducerEpoch { producer_id: i64, epoch: i16, current: i16 },
    /// A batch whose first sequence does not follow the producer's last one (`last_sequence`,
    /// -1 when none is cached), or a new epoch's batch not starting at 0; also a retry of a batch
    /// older than the five a log remembers (Kafka's `OutOfOrderSequenceException`).
    OutOfOrderSequence { producer_id: i64, epoch: i16, first_sequence: i32, last_sequence: i32 },
    /// A non-transactional batch from a producer whose transaction is open (Kafka's
    /// `InvalidTxnStateException`).
    NonTransactionalBatchInTransaction { producer_id: i64 },
    /// A marker from a transaction coordinator older than the one that wrote the producer's last
    /// marker (Kafka's `TransactionCoordinatorFencedException`).
    CoordinatorEpochFenced { producer_id: i64, coordinator_epoch: i32, current: i32 },
}

impl AppendError {
    /// The Kafka error code a producer gets for a batch the log refused.
    pub fn error_code(&self) -> crate::error_code::ErrorCode {
        use crate::error_code::ErrorCode;
        match self {
            AppendError::InvalidLeaderEpoch { .. } | AppendError::StaleLeaderEpoch { .. } => {
                ErrorCode::FencedLeaderEpoch
            }
            AppendError::BatchLargerThanSegment { .. } => ErrorCode::MessageTooLarge,
            AppendError::UnsupportedCompression { .. } => ErrorCode::UnsupportedCompressionType,
            AppendError::EmptyBatch
            | AppendError::RecordCountMismatch { .. }
            | AppendError::RecordOffsetDeltaMismatch { .. }
            | AppendError::KeylessRecordInCompactedTopic { .. }
            | AppendError::NegativeLastOffsetDelta { .. }
            | AppendError::RecordOffsetOutOfOrder { .. } => ErrorCode::InvalidRecord,
            AppendError::OffsetOverflow { .. } | AppendError::OffsetBelowLogEnd { .. } => ErrorCode::CorruptMessage,
            AppendError::InvalidProducerEpoch { .. } => ErrorCode::InvalidProducerEpoch,
            AppendError::OutOfOrderSequence { .. } => ErrorCode::OutOfOrderSequenceNumber,
            AppendError::NonTransactionalBatchInTransaction { .. } => ErrorCode::InvalidTxnState,
            AppendError::CoordinatorEpochFenced { .. } => ErrorCode::TransactionCoordinatorFenced,
        }
    }
}

impl fmt::Display for AppendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppendError::InvalidLeaderEpoch { epoch } => write!(f, "leader epoch {epoch} is not a valid epoch"),
            AppendError::StaleLeaderEpoch { epoch, latest } => {
                write!(f, "leader epoch {epoch} is older than the log's latest epoch {latest}")
            }
            AppendError::EmptyBatch => write!(f, "a batch with no records that is not a control batch"),
            AppendError::RecordCountMismatch { record_count, last_offset_delta } => write!(
                f,
                "records count {record_count} does not match last offset delta {last_offset_delta} \
                 (expected count = delta + 1)"
            ),
            AppendError::RecordOffsetDeltaMismatch { index, offset_delta } => {
                write!(f, "record {index} has offset delta {offset_delta}, expected {index}")
            }
            AppendError::KeylessRecordInCompactedTopic { index } => {
                write!(f, "record {index} has no key; a compacted topic cannot accept it")
            }
            AppendError::UnsupportedCompression { compression } => {
                write!(f, "the batch is compressed with {compression}; the lab reads only none and gzip")
            }
            AppendError::BatchLargerThanSegment { size_bytes, segment_bytes } => {
                write!(f, "a batch of {size_bytes} bytes exceeds segment.bytes {segment_bytes}")
            }
            AppendError::OffsetOverflow { log_end, last_offset_delta } => {
                write!(f, "log end {log_end} plus last offset delta {last_offset_delta} overflows an offset")
            }
            AppendError::OffsetBelowLogEnd { base_offset, log_end } => {
                write!(f, "batch base offset {base_offset} is below the log end offset {log_end}")
            }
            AppendError::NegativeLastOffsetDelta { base_offset, last_offset_delta } => {
                write!(f, "batch at {base_offset} has a negative last offset delta {last_offset_delta}")
            }
            AppendError::RecordOffsetOutOfOrder { base_offset, index } => {
                write!(f, "record {index} of the batch at {base_offset} is out of order or outside the batch")
            }
            AppendError::InvalidProducerEpoch { producer_id, epoch, current } => {
                write!(f, "producer {producer_id} epoch {epoch} is older than its latest epoch {current}")
            }
            AppendError::OutOfOrderSequence { producer_id, epoch, first_sequence, last_sequence } => write!(
                f,
                "producer {producer_id} epoch {epoch} sent sequence {first_sequence}, which does not follow \
                 its last sequence {last_sequence}"
            ),
            AppendError::NonTransactionalBatchInTransaction { producer_id } => {
                write!(f, "producer {producer_id} sent a non-transactional batch while its transaction is open")
            }
            AppendError::CoordinatorEpochFenced { producer_id, coordinator_epoch, current } => write!(
                f,
                "a marker for producer {producer_id} from coordinator epoch {coordinator_epoch} is older than \
                 coordinator epoch {current}"
            ),
        }
    }
}

/// A [`LogConfig`](super::LogConfig) no log can run with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// A segment smaller than a batch with no records could hold nothing.
    SegmentBytesTooSmall { segment_bytes: u64, minimum: u64 },
    /// `segment.ms` 0 would roll before every append (Kafka requires at least 1).
    SegmentMsZero,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::SegmentBytesTooSmall { segment_bytes, minimum } => {
                write!(f, "segment.bytes {segment_bytes} is below the minimum {minimum}")
            }
            ConfigError::SegmentMsZero => write!(f, "segment.ms must be at least 1"),
        }
    }
}

/// An ordering the log broke. Every variant is a bug in the log, never bad input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogError {
    HighWatermarkAboveLogEnd {
        high_watermark: Offset,
        log_end: Offset,
    },
    HighWatermarkBelowLogStart {
        high_watermark: Offset,
        log_start: Offset,
    },
    /// Segment `index` ends before it starts, or past where segment `index + 1` starts.
    SegmentsOutOfOrder {
        index: usize,
    },
    /// Leader epoch cache entry `position` does not increase in epoch and start offset.
    EpochsNotIncreasing {
        position: usize,
    },
    /// Leader epoch cache entry `position` starts outside log start ..= log end.
    EpochStartOutOfRange {
        position: usize,
        start_offset: Offset,
    },
    /// A stored batch no longer parses (its CRC, length or records are wrong).
    BatchInvalid {
        base_offset: Offset,
        error: BatchError,
    },
    /// A batch starts before the previous one ends, or outside its segment.
    BatchOutOfOrder {
        base_offset: Offset,
        expected_at_least: Offset,
    },
    /// A batch ends past the end its segment records.
    BatchBeyondSegment {
        base_offset: Offset,
        segment_next_offset: Offset,
    },
    /// A record's offset delta is not above the previous record's, or is past the last offset delta.
    RecordOffsetsNotIncreasing {
        base_offset: Offset,
        index: usize,
    },
    /// A segment's recorded size or largest timestamp disagrees with its batches.
    SegmentSummaryWrong {
        segment_base_offset: Offset,
    },
    /// The last stable offset lies outside log start ..= high watermark.
    LastStableOffsetOutOfRange {
        last_stable_offset: Offset,
    },
    /// A producer's cached batch or open transaction reaches `offset`, at or past the log end.
    ProducerStateBeyondLogEnd {
        producer_id: i64,
        offset: Offset,
    },
    /// An indexed transaction ends at or past the log end, or before it begins.
    TransactionOutOfRange {
        producer_id: i64,
        first_offset: Offset,
    },
    /// A producer batch the state remembers lies outside the log or out of offset order.
    ProducerBatchOutOfRange {
        producer_id: i64,
        first_offset: Offset,
    },
    /// A producer batch's first sequence does not follow its producer's previous batch of the
    /// same epoch.
    SequenceNotContinued {
        producer_id: i64,
        first_offset: Offset,
    },
    /// Replaying the remembered producer batches does not give the producer state the log holds.
    ProducerStateNotReplayable,
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogError::HighWatermarkAboveLogEnd { high_watermark, log_end } => {
                write!(f, "high watermark {high_watermark} is above the log end offset {log_end}")
            }
            LogError::HighWatermarkBelowLogStart { high_watermark, log_start } => {
                write!(f, "high watermark {high_watermark} is below the log start offset {log_start}")
            }
            LogError::SegmentsOutOfOrder { index } => {
                write!(f, "segment {index} is out of order with its own end or the next segment")
            }
            LogError::EpochsNotIncreasing { position } => {
                write!(f, "leader epoch cache entry {position} does not increase")
            }
            LogError::EpochStartOutOfRange { position, start_offset } => {
                write!(f, "leader epoch cache entry {position} starts at {start_offset}, outside the log's offsets")
            }
            LogError::BatchInvalid { base_offset, error } => write!(f, "batch at {base_offset} is invalid: {error}"),
            LogError::BatchOutOfOrder { base_offset, expected_at_least } => {
                write!(f, "batch at {base_offset} starts below {expected_at_least}")
            }
            LogError::BatchBeyondSegment { base_offset, segment_next_offset } => {
                write!(f, "batch at {base_offset} ends past its segment's next offset {segment_next_offset}")
            }
            LogError::RecordOffsetsNotIncreasing { base_offset, index } => {
                write!(f, "record {index} of the batch at {base_offset} has an out-of-order offset delta")
            }
            LogError::SegmentSummaryWrong { segment_base_offset } => {
                write!(f, "segment at {segment_base_offset} records a size or timestamp its batches do not have")
            }
            LogError::LastStableOffsetOutOfRange { last_stable_offset } => {
                write!(f, "last stable offset {last_stable_offset} is outside log start ..= high watermark")
            }
            LogError::ProducerStateBeyondLogEnd { producer_id, offset } => {
                write!(f, "producer {producer_id}'s state reaches offset {offset}, at or past the log end")
            }
            LogError::TransactionOutOfRange { producer_id, first_offset } => {
                write!(
                    f,
                    "producer {producer_id}'s transaction from {first_offset} ends past the log end or before it began"
                )
            }
            LogError::ProducerBatchOutOfRange { producer_id, first_offset } => {
                write!(f, "producer {producer_id}'s batch at {first_offset} is outside the log or out of order")
            }
            LogError::SequenceNotContinued { producer_id, first_offset } => {
                write!(f, "producer {producer_id}'s batch at {first_offset} does not continue its sequence")
            }
            LogError::ProducerStateNotReplayable => {
                write!(f, "replaying the producer batches does not give the producer state held")
            }
        }
    }
}
