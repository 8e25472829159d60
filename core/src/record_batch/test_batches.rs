//! Batches for unit tests: plain or transactional data batches and transaction markers, built
//! the way producers and partition leaders build them.

use alloc::vec::Vec;

use super::{encode, BatchAttributes, BatchHeader, Compression, Record, RecordBatch, TimestampType};
use super::{TransactionMarker, TransactionResult};
use crate::ids::{LeaderEpoch, Offset};

/// A batch of `records` at `base`; transactional, from producer `producer_id` at epoch 0 and
/// sequence 0, when one is given.
pub(crate) fn batch_of(base: i64, records: Vec<Record>, producer_id: Option<i64>) -> RecordBatch {
    let mut header = BatchHeader::new(Offset(base), 0).fitted_to(&records);
    if let Some(producer_id) = producer_id {
        header.producer_id = producer_id;
        header.producer_epoch = 0;
        header.base_sequence = 0;
        header.attributes = BatchAttributes::new(Compression::None, TimestampType::CreateTime).with_transactional(true);
    }
    encode(&header, &records).expect("a test batch encodes")
}

/// `producer_id`'s commit or abort marker at `base`.
pub(crate) fn marker(base: i64, producer_id: i64, result: TransactionResult) -> RecordBatch {
    TransactionMarker { result, coordinator_epoch: 0 }
        .to_batch(Offset(base), 0, LeaderEpoch(0), producer_id, 0)
        .expect("a test marker encodes")
}
