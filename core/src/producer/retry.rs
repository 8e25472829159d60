//! Which produce errors are worth a retry, and how long to wait before it.
//!
//! Retriable are the errors whose Java exception extends `RetriableException` (many through
//! `InvalidMetadataException`, after which Kafka refreshes its metadata). The wait doubles
//! with each retry from `retry.backoff.ms` up to `retry.backoff.max.ms` (KIP-580, Kafka 3.7+),
//! with Kafka's ±20% jitter drawn from the producer's seeded generator.

use crate::error_code::ErrorCode;
use crate::rng::Rng;

/// Kafka's `CommonClientConfigs.RETRY_BACKOFF_JITTER`, in per mille.
const JITTER_PER_MILLE: u64 = 200;

/// Whether Kafka's producer retries a batch that failed with `error` (its exception is a
/// `RetriableException`).
pub fn is_retriable(error: ErrorCode) -> bool {
    matches!(
        error,
        ErrorCode::UnknownTopicOrPartition
            | ErrorCode::LeaderNotAvailable
            | ErrorCode::NotLeaderOrFollower
            | ErrorCode::RequestTimedOut
            | ErrorCode::NotEnoughReplicas
            | ErrorCode::NotEnoughReplicasAfterAppend
            | ErrorCode::CorruptMessage
            | ErrorCode::FencedLeaderEpoch
            | ErrorCode::UnknownLeaderEpoch
            | ErrorCode::UnknownTopicId
            | ErrorCode::NotController
            | ErrorCode::CoordinatorLoadInProgress
            | ErrorCode::CoordinatorNotAvailable
            | ErrorCode::NotCoordinator
            | ErrorCode::ConcurrentTransactions
    )
}

/// Errors that mean another producer session owns this producer id: fatal.
pub fn is_fencing(error: ErrorCode) -> bool {
    matches!(error, ErrorCode::ProducerFenced | ErrorCode::InvalidProducerEpoch)
}

/// The pause before retry number `retry` (1 for the first): `retry.backoff.ms * 2^(retry-1)`,
/// jittered by ±20%, never above `retry.backoff.max.ms` (Kafka's `ExponentialBackoff`).
pub fn backoff_ms(retry: u32, retry_backoff_ms: u64, retry_backoff_max_ms: u64, rng: &mut Rng) -> u64 {
    let doublings = retry.saturating_sub(1).min(32);
    let term = retry_backoff_ms.saturating_mul(1u64 << doublings);
    if retry_backoff_max_ms <= retry_backoff_ms {
        // Kafka: no growth when the maximum is not above the start, and no jitter either.
        return retry_backoff_ms;
    }
    let term = term.min(retry_backoff_max_ms);
    let factor = rng.between(1_000 - JITTER_PER_MILLE, 1_000 + JITTER_PER_MILLE);
    (term.saturating_mul(factor) / 1_000).min(retry_backoff_max_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter_and_stops_at_the_maximum() {
        let mut rng = Rng::new(3);
        for (retry, base) in [(1, 100), (2, 200), (3, 400), (4, 800)] {
            let wait = backoff_ms(retry, 100, 1_000, &mut rng);
            assert!((base * 8 / 10..=base * 12 / 10).contains(&wait), "retry {retry}: {wait}");
        }
        for retry in 5..40 {
            let wait = backoff_ms(retry, 100, 1_000, &mut rng);
            assert!((800..=1_000).contains(&wait), "retry {retry}: {wait}");
        }
        assert_eq!(backoff_ms(7, 100, 100, &mut rng), 100);
    }

    #[test]
    fn leadership_and_replication_errors_are_retriable_record_errors_are_not() {
        assert!(is_retriable(ErrorCode::NotLeaderOrFollower));
        assert!(is_retriable(ErrorCode::NotEnoughReplicas));
        assert!(!is_retriable(ErrorCode::MessageTooLarge));
        assert!(!is_retriable(ErrorCode::InvalidRecord));
        assert!(!is_retriable(ErrorCode::OutOfOrderSequenceNumber));
    }
}
