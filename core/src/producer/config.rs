//! [`ProducerConfig`]: the producer's settings under Kafka's names, with the Kafka 4.x client's
//! defaults (`ProducerConfig.java` in Apache Kafka), and [`ProducerConfig::validate`], which
//! refuses what `KafkaProducer`'s constructor refuses with a `ConfigException`.
//!
//! Kafka tells apart a setting left at its default from one the user set: with
//! `enable.idempotence` left alone, `acks=1` or `retries=0` quietly turn idempotence off, but
//! the same values with `enable.idempotence=true` set explicitly are an error. The model keeps
//! that distinction with `Option`s: `None` means "not set, use the default".

use alloc::sync::Arc;
use core::fmt;
use serde::{Deserialize, Serialize};

use crate::message::Acks;
use crate::record_batch::Compression;

/// Kafka's cap on in-flight requests per connection for an idempotent producer
/// (`MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION_FOR_IDEMPOTENCE`): the broker remembers the last five
/// batches per producer, so more could not be deduplicated.
pub const MAX_IN_FLIGHT_FOR_IDEMPOTENCE: u32 = 5;

/// How records without an explicit partition are spread (Kafka's `partitioner.class`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PartitionerKind {
    /// No `partitioner.class` (Kafka 3.3+'s built-in partitioner): keyed records by murmur2,
    /// the others sticky to one partition until `batch.size` bytes have gone to it (KIP-794).
    #[default]
    BuiltIn,
    /// `org.apache.kafka.clients.producer.RoundRobinPartitioner`: every record to the next
    /// available partition in turn, keys ignored.
    RoundRobin,
}

/// A producer's settings. Times are milliseconds, sizes bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerConfig {
    /// `acks` (all).
    pub acks: Acks,
    /// `enable.idempotence` (true). `None`: not set by the user, so Kafka's default applies,
    /// which `acks` other than all or `retries=0` turn off; see [`ProducerConfig::idempotence`].
    pub enable_idempotence: Option<bool>,
    /// `batch.size` (16384): a batch takes records until the next would take it past this.
    pub batch_size: u32,
    /// `linger.ms` (5): how long a batch that is not full waits for more records.
    pub linger_ms: u64,
    /// `compression.type` (none): the codec of every batch the producer sends. The lab
    /// implements none and gzip; [`validate`](Self::validate) refuses the others.
    pub compression_type: Compression,
    /// `retries` (2147483647): how many times a failed batch is sent again.
    pub retries: u32,
    /// `retry.backoff.ms` (100): the first pause before a retry.
    pub retry_backoff_ms: u64,
    /// `retry.backoff.max.ms` (1000): the pause doubles with each retry up to this (KIP-580).
    pub retry_backoff_max_ms: u64,
    /// `delivery.timeout.ms` (120000): how long after a batch is created its records may take to
    /// be acknowledged, retries included, before they fail.
    pub delivery_timeout_ms: u64,
    /// `request.timeout.ms` (30000): how long to wait for a broker's answer before the request
    /// counts as failed (REQUEST_TIMED_OUT) and its batches are retried.
    pub request_timeout_ms: u64,
    /// `max.in.flight.requests.per.connection` (5): requests sent to one broker and not yet
    /// answered.
    pub max_in_flight_requests_per_connection: u32,
    /// `max.request.size` (1048576): the largest record (with its batch overhead) accepted.
    pub max_request_size: u32,
    /// `partitioner.class` (none: the built-in partitioner).
    pub partitioner: PartitionerKind,
    /// `partitioner.ignore.keys` (false): with the built-in partitioner, treat keyed records as
    /// if they had none (sticky).
    pub partitioner_ignore_keys: bool,
    /// `transactional.id` (none): makes the producer transactional. Requires idempotence.
    pub transactional_id: Option<Arc<str>>,
    /// `transaction.timeout.ms` (60000), sent with InitProducerId.
    pub transaction_timeout_ms: u64,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            acks: Acks::All,
            enable_idempotence: None,
            batch_size: 16_384,
            linger_ms: 5,
            compression_type: Compression::None,
            retries: i32::MAX as u32,
            retry_backoff_ms: 100,
            retry_backoff_max_ms: 1_000,
            delivery_timeout_ms: 120_000,
            request_timeout_ms: 30_000,
            max_in_flight_requests_per_connection: 5,
            max_request_size: 1_048_576,
            partitioner: PartitionerKind::BuiltIn,
            partitioner_ignore_keys: false,
            transactional_id: None,
            transaction_timeout_ms: 60_000,
        }
    }
}

/// A setting `KafkaProducer` would refuse (its `ConfigException` messages, shortened).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// `enable.idempotence=true` set explicitly with `acks` other than all.
    IdempotenceRequiresAcksAll { acks: Acks },
    /// `enable.idempotence=true` set explicitly with `retries=0`.
    IdempotenceRequiresRetries,
    /// Idempotence on (by default or explicitly) with more than five requests in flight.
    IdempotenceAllowsAtMostFiveInFlight { max_in_flight: u32 },
    /// `transactional.id` without idempotence.
    TransactionsRequireIdempotence,
    /// `delivery.timeout.ms` below `linger.ms + request.timeout.ms` (Kafka throws when the user
    /// set `delivery.timeout.ms`; the model always does).
    DeliveryTimeoutTooShort { delivery_timeout_ms: u64, linger_plus_request_timeout_ms: u64 },
    /// `max.in.flight.requests.per.connection` below 1 (`atLeast(1)`).
    NoRequestsInFlight,
    /// `batch.size` of 0: Kafka accepts it (batching off); the model needs a positive size for
    /// the sticky partitioner, so it asks for at least 1.
    ZeroBatchSize,
    /// `transactional.id` set to the empty string (`NonEmptyString`).
    EmptyTransactionalId,
    /// `compression.type` snappy, lz4 or zstd: valid in Kafka, not implemented in the lab.
    UnsupportedCompressionType { compression: Compression },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::IdempotenceRequiresAcksAll { acks } => {
                write!(f, "must set acks to all in order to use the idempotent producer (acks is {})", acks_name(*acks))
            }
            ConfigError::IdempotenceRequiresRetries => {
                write!(f, "must set retries to non-zero when using the idempotent producer")
            }
            ConfigError::IdempotenceAllowsAtMostFiveInFlight { max_in_flight } => write!(
                f,
                "to use the idempotent producer, max.in.flight.requests.per.connection must be at most 5 \
                 (it is {max_in_flight})"
            ),
            ConfigError::TransactionsRequireIdempotence => {
                write!(f, "cannot set a transactional.id without also enabling idempotence")
            }
            ConfigError::DeliveryTimeoutTooShort { delivery_timeout_ms, linger_plus_request_timeout_ms } => write!(
                f,
                "delivery.timeout.ms ({delivery_timeout_ms}) should be equal to or larger than linger.ms + \
                 request.timeout.ms ({linger_plus_request_timeout_ms})"
            ),
            ConfigError::NoRequestsInFlight => write!(f, "max.in.flight.requests.per.connection must be at least 1"),
            ConfigError::ZeroBatchSize => write!(f, "batch.size must be at least 1 in the model"),
            ConfigError::EmptyTransactionalId => write!(f, "transactional.id must be non-empty"),
            ConfigError::UnsupportedCompressionType { compression } => {
                write!(f, "compression.type {compression} is not implemented in the lab; use none or gzip")
            }
        }
    }
}

/// `acks` as Kafka spells its values.
pub fn acks_name(acks: Acks) -> &'static str {
    match acks {
        Acks::None => "0",
        Acks::Leader => "1",
        Acks::All => "all",
    }
}

impl ProducerConfig {
    /// Whether the producer is idempotent, after Kafka's rules: on by default unless `acks` is
    /// not all or `retries` is 0; an explicit setting wins (and [`validate`](Self::validate)
    /// rejects an explicit `true` that conflicts).
    pub fn idempotence(&self) -> bool {
        match self.enable_idempotence {
            Some(explicit) => explicit,
            None => self.acks == Acks::All && self.retries > 0,
        }
    }

    /// Checks the settings as `ProducerConfig.postProcessAndValidateIdempotenceConfigs` and
    /// `KafkaProducer.configureDeliveryTimeout` do.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_in_flight_requests_per_connection < 1 {
            return Err(ConfigError::NoRequestsInFlight);
        }
        if self.batch_size == 0 {
            return Err(ConfigError::ZeroBatchSize);
        }
        if !matches!(self.compression_type, Compression::None | Compression::Gzip) {
            return Err(ConfigError::UnsupportedCompressionType { compression: self.compression_type });
        }
        if self.enable_idempotence == Some(true) {
            if self.retries == 0 {
                return Err(ConfigError::IdempotenceRequiresRetries);
            }
            if self.acks != Acks::All {
                return Err(ConfigError::IdempotenceRequiresAcksAll { acks: self.acks });
            }
        }
        // Kafka checks the in-flight cap while idempotence is still on, before a conflicting
        // default `acks` or `retries` turns it off.
        let idempotence_before_defaults = self.enable_idempotence.unwrap_or(true);
        if idempotence_before_defaults && self.max_in_flight_requests_per_connection > MAX_IN_FLIGHT_FOR_IDEMPOTENCE {
            return Err(ConfigError::IdempotenceAllowsAtMostFiveInFlight {
                max_in_flight: self.max_in_flight_requests_per_connection,
            });
        }
        if let Some(id) = &self.transactional_id {
            if id.is_empty() {
                return Err(ConfigError::EmptyTransactionalId);
            }
            if !self.idempotence() {
                return Err(ConfigError::TransactionsRequireIdempotence);
            }
        }
        let linger_plus_request_timeout_ms = self.linger_ms.saturating_add(self.request_timeout_ms);
        if self.delivery_timeout_ms < linger_plus_request_timeout_ms {
            return Err(ConfigError::DeliveryTimeoutTooShort {
                delivery_timeout_ms: self.delivery_timeout_ms,
                linger_plus_request_timeout_ms,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_kafka_4s_and_valid() {
        let config = ProducerConfig::default();
        assert_eq!(config.validate(), Ok(()));
        assert!(config.idempotence());
        assert_eq!((config.batch_size, config.linger_ms, config.retries), (16_384, 5, 2_147_483_647));
        assert_eq!((config.delivery_timeout_ms, config.request_timeout_ms), (120_000, 30_000));
    }

    #[test]
    fn acks_1_turns_default_idempotence_off_but_rejects_explicit_idempotence() {
        let implicit = ProducerConfig { acks: Acks::Leader, ..ProducerConfig::default() };
        assert_eq!(implicit.validate(), Ok(()));
        assert!(!implicit.idempotence());
        let explicit = ProducerConfig { enable_idempotence: Some(true), ..implicit };
        assert_eq!(explicit.validate(), Err(ConfigError::IdempotenceRequiresAcksAll { acks: Acks::Leader }));
    }

    #[test]
    fn retries_0_turns_default_idempotence_off_but_rejects_explicit_idempotence() {
        let implicit = ProducerConfig { retries: 0, ..ProducerConfig::default() };
        assert!(!implicit.idempotence());
        assert_eq!(implicit.validate(), Ok(()));
        let explicit = ProducerConfig { enable_idempotence: Some(true), ..implicit };
        assert_eq!(explicit.validate(), Err(ConfigError::IdempotenceRequiresRetries));
    }

    #[test]
    fn more_than_five_in_flight_needs_idempotence_off() {
        let six = ProducerConfig { max_in_flight_requests_per_connection: 6, ..ProducerConfig::default() };
        assert_eq!(six.validate(), Err(ConfigError::IdempotenceAllowsAtMostFiveInFlight { max_in_flight: 6 }));
        let off = ProducerConfig { enable_idempotence: Some(false), ..six };
        assert_eq!(off.validate(), Ok(()));
    }

    #[test]
    fn delivery_timeout_must_cover_linger_and_request_timeout() {
        let config = ProducerConfig { delivery_timeout_ms: 30_004, ..ProducerConfig::default() };
        assert_eq!(
            config.validate(),
            Err(ConfigError::DeliveryTimeoutTooShort {
                delivery_timeout_ms: 30_004,
                linger_plus_request_timeout_ms: 30_005
            })
        );
    }

    #[test]
    fn compression_is_none_by_default_and_only_none_or_gzip_is_accepted() {
        assert_eq!(ProducerConfig::default().compression_type, Compression::None);
        let gzip = ProducerConfig { compression_type: Compression::Gzip, ..ProducerConfig::default() };
        assert_eq!(gzip.validate(), Ok(()));
        let zstd = ProducerConfig { compression_type: Compression::Zstd, ..ProducerConfig::default() };
        let expected = ConfigError::UnsupportedCompressionType { compression: Compression::Zstd };
        assert_eq!(zstd.validate(), Err(expected));
    }

    #[test]
    fn transactional_id_requires_idempotence() {
        let config = ProducerConfig {
            transactional_id: Some("tx".into()),
            enable_idempotence: Some(false),
            ..ProducerConfig::default()
        };
        assert_eq!(config.validate(), Err(ConfigError::TransactionsRequireIdempotence));
    }
}
