//! Control batches: the transaction markers a transaction coordinator has leaders write.
//!
//! A control batch has the control attribute set and holds one record whose key says what kind
//! of control record it is, and whose value for a commit or abort marker names the
//! coordinator's epoch:
//!
//! ```text
//! key:   version int16 (0), type int16 (0 abort, 1 commit; 2-6 are KRaft's own)
//! value: version int16 (0), coordinator epoch int32
//! ```
//!
//! Decoding follows Kafka's `ControlRecordType.parseTypeId` and `EndTransactionMarker`: a
//! negative version is corruption, a newer version is read as version 0 (fields are only ever
//! appended), and a value shorter than six bytes is rejected.

use alloc::vec::Vec;
use bytes::{BufMut, Bytes};
use core::fmt;

use super::attributes::{BatchAttributes, Compression, TimestampType};
use super::batch::{read_i16, read_i32, RecordBatch};
use super::encode::{encode, EncodeError};
use super::header::{BatchHeader, NO_SEQUENCE};
use super::record::Record;
use crate::ids::{LeaderEpoch, Offset};

const KEY_BYTES: usize = 4;
const MARKER_VALUE_BYTES: usize = 6;

/// The kind of a control record, from its key (Kafka's `ControlRecordType`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlRecordType {
    Abort,
    Commit,
    LeaderChange,
    SnapshotHeader,
    SnapshotFooter,
    KraftVersion,
    KraftVoters,
    /// A type this code does not know; consumers skip it.
    Unknown(i16),
}

impl ControlRecordType {
    pub const fn from_id(id: i16) -> Self {
        match id {
            0 => ControlRecordType::Abort,
            1 => ControlRecordType::Commit,
            2 => ControlRecordType::LeaderChange,
            3 => ControlRecordType::SnapshotHeader,
            4 => ControlRecordType::SnapshotFooter,
            5 => ControlRecordType::KraftVersion,
            6 => ControlRecordType::KraftVoters,
            other => ControlRecordType::Unknown(other),
        }
    }

    pub const fn id(self) -> i16 {
        match self {
            ControlRecordType::Abort => 0,
            ControlRecordType::Commit => 1,
            ControlRecordType::LeaderChange => 2,
            ControlRecordType::SnapshotHeader => 3,
            ControlRecordType::SnapshotFooter => 4,
            ControlRecordType::KraftVersion => 5,
            ControlRecordType::KraftVoters => 6,
            ControlRecordType::Unknown(id) => id,
        }
    }
}

/// Whether a transaction's records count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransactionResult {
    Abort,
    Commit,
}

/// A commit or abort marker: the one record of a transaction marker control batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransactionMarker {
    pub result: TransactionResult,
    /// The epoch of the transaction coordinator that wrote it, so a zombie coordinator's
    /// markers can be fenced.
    pub coordinator_epoch: i32,
}

/// Why a control record or batch could not be read as a transaction marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlError {
    /// The batch's control attribute is not set.
    NotControlBatch,
    /// The batch is compressed with a codec the lab does not implement, so its record is not
    /// readable here (Kafka never compresses control batches).
    Compressed { compression: Compression },
    /// A control batch must hold exactly one record.
    RecordCount { count: usize },
    /// The key is null or shorter than its four bytes.
    KeyTooShort { length: Option<usize> },
    /// The key or value version is negative, which Kafka treats as corruption.
    NegativeVersion { version: i16 },
    /// The control record is not a commit or abort marker.
    NotTransactionMarker { record_type: ControlRecordType },
    /// The value is null or shorter than its six bytes.
    ValueTooShort { length: Option<usize> },
}

impl fmt::Display for ControlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ControlError::NotControlBatch => write!(f, "the batch's control attribute (bit 5) is not set"),
            ControlError::Compressed { compression } => {
                write!(f, "the control batch is compressed with {compression}")
            }
            ControlError::RecordCount { count } => write!(f, "a control batch holds one record, this one {count}"),
            ControlError::KeyTooShort { length: None } => write!(f, "the control record's key is null"),
            ControlError::KeyTooShort { length: Some(length) } => {
                write!(f, "the control record's key has {length} bytes, fewer than {KEY_BYTES}")
            }
            ControlError::NegativeVersion { version } => write!(f, "control record version {version} is negative"),
            ControlError::NotTransactionMarker { record_type } => {
                write!(f, "control record type {} is not a commit or abort marker", record_type.id())
            }
            ControlError::ValueTooShort { length: None } => write!(f, "the transaction marker's value is null"),
            ControlError::ValueTooShort { length: Some(length) } => {
                write!(f, "the transaction marker's value has {length} bytes, fewer than {MARKER_VALUE_BYTES}")
            }
        }
    }
}

/// The type a control record's key names.
pub fn control_record_type(key: Option<&[u8]>) -> Result<ControlRecordType, ControlError> {
    let key = match key {
        Some(key) if key.len() >= KEY_BYTES => key,
        other => return Err(ControlError::KeyTooShort { length: other.map(<[u8]>::len) }),
    };
    let version = read_i16(key, 0);
    if version < 0 {
        return Err(ControlError::NegativeVersion { version });
    }
    Ok(ControlRecordType::from_id(read_i16(key, 2)))
}

impl TransactionMarker {
    /// Reads a control record as a commit or abort marker.
    pub fn from_record(record: &Record) -> Result<TransactionMarker, ControlError> {
        let result = match control_record_type(record.key.as_deref())? {
            ControlRecordType::Abort => TransactionResult::Abort,
            ControlRecordType::Commit => TransactionResult::Commit,
            record_type => return Err(ControlError::NotTransactionMarker { record_type }),
        };
        let value = match record.value.as_deref() {
            Some(value) if value.len() >= MARKER_VALUE_BYTES => value,
            other => return Err(ControlError::ValueTooShort { length: other.map(<[u8]>::len) }),
        };
        let version = read_i16(value, 0);
        if version < 0 {
            return Err(ControlError::NegativeVersion { version });
        }
        Ok(TransactionMarker { result, coordinator_epoch: read_i32(value, 2) })
    }

    /// The marker as the one record of its batch: offset and timestamp deltas 0, version 0
    /// key and value, no headers.
    pub fn to_record(self) -> Record {
        let record_type = match self.result {
            TransactionResult::Abort => ControlRecordType::Abort,
            TransactionResult::Commit => ControlRecordType::Commit,
        };
        let mut key = Vec::with_capacity(KEY_BYTES);
        key.put_i16(0);
        key.put_i16(record_type.id());
        let mut value = Vec::with_capacity(MARKER_VALUE_BYTES);
        value.put_i16(0);
        value.put_i32(self.coordinator_epoch);
        Record::new(0, 0, Some(Bytes::from(key)), Some(Bytes::from(value)))
    }

    /// The marker's batch as Kafka writes it (`MemoryRecords.withEndTransactionMarker`):
    /// transactional and control attributes, create time, no sequence, one record. Fails only
    /// if `base_offset` is the largest offset, leaving no next offset.
    pub fn to_batch(
        self,
        base_offset: Offset,
        timestamp_ms: i64,
        partition_leader_epoch: LeaderEpoch,
        producer_id: i64,
        producer_epoch: i16,
    ) -> Result<RecordBatch, EncodeError> {
        let attributes = BatchAttributes::new(Compression::None, TimestampType::CreateTime)
            .with_transactional(true)
            .with_control(true);
        let header = BatchHeader {
            partition_leader_epoch,
            attributes,
            producer_id,
            producer_epoch,
            base_sequence: NO_SEQUENCE,
            ..BatchHeader::new(base_offset, timestamp_ms)
        };
        encode(&header, &[self.to_record()])
    }
}

impl RecordBatch {
    /// The commit or abort marker this control batch carries.
    pub fn transaction_marker(&self) -> Result<TransactionMarker, ControlError> {
        if !self.is_control() {
            return Err(ControlError::NotControlBatch);
        }
        let mut records =
            self.records().map_err(|unsupported| ControlError::Compressed { compression: unsupported.compression })?;
        match (records.next(), records.next()) {
            (Some(record), None) => TransactionMarker::from_record(&record),
            (None, _) => Err(ControlError::RecordCount { count: 0 }),
            (Some(_), Some(_)) => Err(ControlError::RecordCount { count: 2 + records.count() }),
        }
    }
}
