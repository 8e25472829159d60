//! The records of `__transaction_state`, byte for byte as Kafka writes them.
//!
//! Each record's key is a `TransactionLogKey` (version 0: the transactional id) and its value a
//! `TransactionLogValue`: the transactional id's producer id and epoch, timeout, state, the
//! partitions of its transaction and two timestamps. A null value is a tombstone. Both start
//! with their schema version as a big-endian i16.
//!
//! Values are written at version 0, the highest non-flexible version, which is what Kafka writes
//! until `transaction.version` 2 is enabled. Version 1 (flexible: compact strings and arrays and
//! tagged fields) is read too; its tagged fields (the previous and next producer ids and the
//! client's transaction version, all for KIP-890's second phase) are skipped, since this model
//! does not use them. Decoding never panics: bad bytes are a [`TxnRecordError`].

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use bytes::{BufMut, Bytes};
use core::fmt;

use super::protocol::{TransactionState, TransactionalId};

/// The only key version: Kafka's coordinator record type 0, the transaction log.
pub const TRANSACTION_LOG_KEY_VERSION: i16 = 0;
/// The value version this model writes.
pub const TRANSACTION_LOG_VALUE_VERSION: i16 = 0;
/// The first flexible value version, which this model reads but does not write.
pub const TRANSACTION_LOG_VALUE_FLEXIBLE_VERSION: i16 = 1;

/// A record's key: whose state the value is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransactionLogKey {
    pub transactional_id: TransactionalId,
}

/// One topic's partitions in a transaction (Kafka's `PartitionsSchema`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransactionPartitions {
    pub topic: Arc<str>,
    pub partition_ids: Vec<i32>,
}

/// A record's value: one transactional id's state, field for field as Kafka's schema has it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransactionLogValue {
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub transaction_timeout_ms: i32,
    pub transaction_status: TransactionState,
    /// Null for `Empty`, as Kafka writes it; the partitions grouped by topic otherwise.
    pub transaction_partitions: Option<Vec<TransactionPartitions>>,
    pub transaction_last_update_timestamp_ms: i64,
    /// -1 when no transaction has started.
    pub transaction_start_timestamp_ms: i64,
}

/// Why bytes are not a transaction log record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxnRecordError {
    /// The bytes end inside `field`.
    Truncated {
        field: &'static str,
    },
    /// A key of another coordinator record type, or a key version this model does not know.
    UnknownKeyVersion {
        version: i16,
    },
    UnknownValueVersion {
        version: i16,
    },
    /// A string or array length that is negative where null is not allowed.
    InvalidLength {
        field: &'static str,
        length: i64,
    },
    InvalidUtf8 {
        field: &'static str,
    },
    UnknownTransactionStatus {
        status: i8,
    },
    /// Bytes left over after the last field.
    TrailingBytes {
        count: usize,
    },
}

impl fmt::Display for TxnRecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TxnRecordError::Truncated { field } => write!(f, "the record ends inside {field}"),
            TxnRecordError::UnknownKeyVersion { version } => write!(f, "unknown key version {version}"),
            TxnRecordError::UnknownValueVersion { version } => write!(f, "unknown value version {version}"),
            TxnRecordError::InvalidLength { field, length } => write!(f, "invalid length {length} of {field}"),
            TxnRecordError::InvalidUtf8 { field } => write!(f, "{field} is not UTF-8"),
            TxnRecordError::UnknownTransactionStatus { status } => write!(f, "unknown transaction status {status}"),
            TxnRecordError::TrailingBytes { count } => write!(f, "{count} bytes after the last field"),
        }
    }
}

impl TransactionLogKey {
    pub fn encode(&self) -> Bytes {
        let mut out = Vec::with_capacity(4 + self.transactional_id.len());
        out.put_i16(TRANSACTION_LOG_KEY_VERSION);
        put_string(&mut out, &self.transactional_id);
        Bytes::from(out)
    }

    pub fn decode(bytes: &[u8]) -> Result<TransactionLogKey, TxnRecordError> {
        let mut reader = Reader { bytes };
        let version = reader.i16("key version")?;
        if version != TRANSACTION_LOG_KEY_VERSION {
            return Err(TxnRecordError::UnknownKeyVersion { version });
        }
        let transactional_id = reader.string("transactional_id", false)?;
        reader.finish()?;
        Ok(TransactionLogKey { transactional_id: Arc::from(transactional_id) })
    }
}

impl TransactionLogValue {
    /// Version 0, as Kafka writes it.
    pub fn encode(&self) -> Bytes {
        let mut out = Vec::with_capacity(64);
        out.put_i16(TRANSACTION_LOG_VALUE_VERSION);
        out.put_i64(self.producer_id);
        out.put_i16(self.producer_epoch);
        out.put_i32(self.transaction_timeout_ms);
        out.put_i8(self.transaction_status.id());
        match &self.transaction_partitions {
            None => out.put_i32(-1),
            Some(topics) => {
                out.put_i32(length_i32(topics.len()));
                for topic in topics {
                    put_string(&mut out, &topic.topic);
                    out.put_i32(length_i32(topic.partition_ids.len()));
                    for id in &topic.partition_ids {
                        out.put_i32(*id);
                    }
                }
            }
        }
        out.put_i64(self.transaction_last_update_timestamp_ms);
        out.put_i64(self.transaction_start_timestamp_ms);
        Bytes::from(out)
    }

    /// Reads version 0 or 1.
    pub fn decode(bytes: &[u8]) -> Result<TransactionLogValue, TxnRecordError> {
        let mut reader = Reader { bytes };
        let version = reader.i16("value version")?;
        let flexible = match version {
            TRANSACTION_LOG_VALUE_VERSION => false,
            TRANSACTION_LOG_VALUE_FLEXIBLE_VERSION => true,
            _ => return Err(TxnRecordError::UnknownValueVersion { version }),
        };
        let producer_id = reader.i64("producer_id")?;
        let producer_epoch = reader.i16("producer_epoch")?;
        let transaction_timeout_ms = reader.i32("transaction_timeout_ms")?;
        let status = reader.i8("transaction_status")?;
        let transaction_status =
            TransactionState::from_id(status).ok_or(TxnRecordError::UnknownTransactionStatus { status })?;
        let transaction_partitions = reader.partitions(flexible)?;
        let transaction_last_update_timestamp_ms = reader.i64("transaction_last_update_timestamp_ms")?;
        let transaction_start_timestamp_ms = reader.i64("transaction_start_timestamp_ms")?;
        if flexible {
            reader.skip_tagged_fields()?;
        }
        reader.finish()?;
        Ok(TransactionLogValue {
            producer_id,
            producer_epoch,
            transaction_timeout_ms,
            transaction_status,
            transaction_partitions,
            transaction_last_update_timestamp_ms,
            transaction_start_timestamp_ms,
        })
    }
}

fn put_string(out: &mut Vec<u8>, value: &str) {
    let length = i16::try_from(value.len()).expect("a transaction log string is at most 32767 bytes");
    out.put_i16(length);
    out.put_slice(value.as_bytes());
}

fn length_i32(length: usize) -> i32 {
    i32::try_from(length).expect("an array of the transaction log fits an i32 length")
}

/// Reads big-endian fields from the front of a slice, never past its end.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, count: usize, field: &'static str) -> Result<&'a [u8], TxnRecordError> {
        if self.bytes.len() < count {
            return Err(TxnRecordError::Truncated { field });
        }
        let (taken, rest) = self.bytes.split_at(count);
        self.bytes = rest;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], TxnRecordError> {
        let mut array = [0u8; N];
        array.copy_from_slice(self.take(N, field)?);
        Ok(array)
    }

    fn i8(&mut self, field: &'static str) -> Result<i8, TxnRecordError> {
        Ok(i8::from_be_bytes(self.array(field)?))
    }

    fn i16(&mut self, field: &'static str) -> Result<i16, TxnRecordError> {
        Ok(i16::from_be_bytes(self.array(field)?))
    }

    fn i32(&mut self, field: &'static str) -> Result<i32, TxnRecordError> {
        Ok(i32::from_be_bytes(self.array(field)?))
    }

    fn i64(&mut self, field: &'static str) -> Result<i64, TxnRecordError> {
        Ok(i64::from_be_bytes(self.array(field)?))
    }

    /// An unsigned varint, as flexible versions write lengths and tags.
    fn unsigned_varint(&mut self, field: &'static str) -> Result<u32, TxnRecordError> {
        let mut value: u32 = 0;
        for shift in (0..35).step_by(7) {
            let byte = self.array::<1>(field)?[0];
            value |= u32::from(byte & 0x7F) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(TxnRecordError::InvalidLength { field, length: -1 })
    }

    /// An array or string length: i32 (or i16 for strings) when not flexible, the unsigned
    /// varint of length + 1 when flexible. `None` is null.
    fn length(&mut self, field: &'static str, flexible: bool, string: bool) -> Result<Option<usize>, TxnRecordError> {
        let length = match (flexible, string) {
            (true, _) => i64::from(self.unsigned_varint(field)?) - 1,
            (false, true) => i64::from(self.i16(field)?),
            (false, false) => i64::from(self.i32(field)?),
        };
        match length {
            -1 => Ok(None),
            length if length < 0 => Err(TxnRecordError::InvalidLength { field, length }),
            length => usize::try_from(length).map(Some).map_err(|_| TxnRecordError::InvalidLength { field, length }),
        }
    }

    fn string(&mut self, field: &'static str, flexible: bool) -> Result<String, TxnRecordError> {
        let length = self.length(field, flexible, true)?.ok_or(TxnRecordError::InvalidLength { field, length: -1 })?;
        let bytes = self.take(length, field)?;
        core::str::from_utf8(bytes).map(String::from).map_err(|_| TxnRecordError::InvalidUtf8 { field })
    }

    fn partitions(&mut self, flexible: bool) -> Result<Option<Vec<TransactionPartitions>>, TxnRecordError> {
        let Some(count) = self.length("transaction_partitions", flexible, false)? else {
            return Ok(None);
        };
        // Each entry takes at least 4 bytes: a bound that keeps a bad count from allocating much.
        let mut topics = Vec::with_capacity(count.min(self.bytes.len() / 4));
        for _ in 0..count {
            let topic = self.string("topic", flexible)?;
            let ids = self.length("partition_ids", flexible, false)?;
            let ids = ids.ok_or(TxnRecordError::InvalidLength { field: "partition_ids", length: -1 })?;
            let mut partition_ids = Vec::with_capacity(ids.min(self.bytes.len() / 4));
            for _ in 0..ids {
                partition_ids.push(self.i32("partition_ids")?);
            }
            if flexible {
                self.skip_tagged_fields()?;
            }
            topics.push(TransactionPartitions { topic: Arc::from(topic), partition_ids });
        }
        Ok(Some(topics))
    }

    fn skip_tagged_fields(&mut self) -> Result<(), TxnRecordError> {
        let count = self.unsigned_varint("tagged fields")?;
        for _ in 0..count {
            self.unsigned_varint("tag")?;
            let size = self.unsigned_varint("tagged field size")?;
            self.take(size as usize, "tagged field")?;
        }
        Ok(())
    }

    fn finish(self) -> Result<(), TxnRecordError> {
        match self.bytes.len() {
            0 => Ok(()),
            count => Err(TxnRecordError::TrailingBytes { count }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn prepare_commit_value() -> TransactionLogValue {
        TransactionLogValue {
            producer_id: 1000,
            producer_epoch: 2,
            transaction_timeout_ms: 60_000,
            transaction_status: TransactionState::PrepareCommit,
            transaction_partitions: Some(vec![TransactionPartitions {
                topic: Arc::from("orders"),
                partition_ids: vec![0, 2],
            }]),
            transaction_last_update_timestamp_ms: 1_700_000,
            transaction_start_timestamp_ms: 1_600_000,
        }
    }

    /// The value above, version 0, built by hand from Kafka's schema.
    const PREPARE_COMMIT_V0: &[u8] = &[
        0x00, 0x00, // version 0
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xE8, // producer_id 1000
        0x00, 0x02, // producer_epoch 2
        0x00, 0x00, 0xEA, 0x60, // transaction_timeout_ms 60000
        0x02, // transaction_status PrepareCommit
        0x00, 0x00, 0x00, 0x01, // one topic
        0x00, 0x06, b'o', b'r', b'd', b'e', b'r', b's', // topic "orders"
        0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, // partition_ids [0, 2]
        0x00, 0x00, 0x00, 0x00, 0x00, 0x19, 0xF0, 0xA0, // last update 1700000
        0x00, 0x00, 0x00, 0x00, 0x00, 0x18, 0x6A, 0x00, // start 1600000
    ];

    #[test]
    fn key_encodes_as_version_0_then_the_transactional_id() {
        let key = TransactionLogKey { transactional_id: Arc::from("my-txn") };
        let bytes = key.encode();
        assert_eq!(&bytes[..], &[0x00, 0x00, 0x00, 0x06, b'm', b'y', b'-', b't', b'x', b'n']);
        assert_eq!(TransactionLogKey::decode(&bytes), Ok(key));
    }

    #[test]
    fn value_encodes_byte_for_byte_as_kafkas_version_0() {
        let value = prepare_commit_value();
        assert_eq!(&value.encode()[..], PREPARE_COMMIT_V0);
        assert_eq!(TransactionLogValue::decode(PREPARE_COMMIT_V0), Ok(value));
    }

    #[test]
    fn empty_state_writes_null_partitions_and_no_start_time() {
        let value = TransactionLogValue {
            producer_id: 7,
            producer_epoch: 0,
            transaction_timeout_ms: 1,
            transaction_status: TransactionState::Empty,
            transaction_partitions: None,
            transaction_last_update_timestamp_ms: 0,
            transaction_start_timestamp_ms: -1,
        };
        let bytes = value.encode();
        // version, producer id, epoch, timeout, status, then the null array: -1.
        assert_eq!(&bytes[17..21], &[0xFF, 0xFF, 0xFF, 0xFF]);
        assert_eq!(&bytes[29..], &[0xFF; 8]);
        assert_eq!(TransactionLogValue::decode(&bytes), Ok(value));
    }

    #[test]
    fn flexible_version_1_is_read_and_its_tagged_fields_skipped() {
        let bytes: &[u8] = &[
            0x00, 0x01, // version 1
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xE8, // producer_id
            0x00, 0x02, // producer_epoch
            0x00, 0x00, 0xEA, 0x60, // timeout
            0x02, // status
            0x02, // compact array: one topic
            0x07, b'o', b'r', b'd', b'e', b'r', b's', // compact string "orders"
            0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, // compact array [0, 2]
            0x00, // the topic's tagged fields: none
            0x00, 0x00, 0x00, 0x00, 0x00, 0x19, 0xF0, 0xA0, // last update
            0x00, 0x00, 0x00, 0x00, 0x00, 0x18, 0x6A, 0x00, // start
            0x01, 0x02, 0x02, 0x00, 0x02, // one tagged field: ClientTransactionVersion (tag 2) = 2
        ];
        assert_eq!(TransactionLogValue::decode(bytes), Ok(prepare_commit_value()));
    }

    #[test]
    fn every_truncation_of_a_value_is_an_error_not_a_panic() {
        for end in 0..PREPARE_COMMIT_V0.len() {
            assert!(TransactionLogValue::decode(&PREPARE_COMMIT_V0[..end]).is_err(), "prefix of {end} bytes");
        }
    }

    #[test]
    fn bad_versions_statuses_lengths_and_trailing_bytes_are_errors() {
        let mut bad = PREPARE_COMMIT_V0.to_vec();
        bad[1] = 9;
        assert_eq!(TransactionLogValue::decode(&bad), Err(TxnRecordError::UnknownValueVersion { version: 9 }));
        let mut bad = PREPARE_COMMIT_V0.to_vec();
        bad[16] = 42;
        assert_eq!(TransactionLogValue::decode(&bad), Err(TxnRecordError::UnknownTransactionStatus { status: 42 }));
        let mut bad = PREPARE_COMMIT_V0.to_vec();
        bad[17..21].copy_from_slice(&(-2i32).to_be_bytes());
        assert!(matches!(TransactionLogValue::decode(&bad), Err(TxnRecordError::InvalidLength { length: -2, .. })));
        let mut bad = PREPARE_COMMIT_V0.to_vec();
        bad.push(0);
        assert_eq!(TransactionLogValue::decode(&bad), Err(TxnRecordError::TrailingBytes { count: 1 }));
        assert_eq!(
            TransactionLogKey::decode(&[0x00, 0x01, 0x00, 0x00]),
            Err(TxnRecordError::UnknownKeyVersion { version: 1 })
        );
        assert_eq!(
            TransactionLogKey::decode(&[0x00, 0x00, 0x00, 0x01, 0xFF]),
            Err(TxnRecordError::InvalidUtf8 { field: "transactional_id" })
        );
    }
}
