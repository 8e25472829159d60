//! The client-side oracle: what the producer was told was written, checked against what the
//! cluster can still serve (in the manner of openraft's turmoil oracle). A write the producer
//! saw acknowledged and that the current leader no longer holds is lost; which writes those are
//! is what the lab shows when `acks=1` or an unclean election costs data.

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::ids::{Offset, TopicPartition};
use crate::message::Acks;
use crate::partition_log::PartitionLog;

/// A produce the client saw acknowledged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcknowledgedWrite {
    pub request_id: u64,
    pub partition: TopicPartition,
    pub offset: Offset,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub acks: Acks,
    pub at_ms: u64,
}

impl AcknowledgedWrite {
    /// Whether `log` holds this write at its offset. A write below the log start was removed
    /// by retention, and one a newer record with its key replaced was compacted: neither is lost.
    pub fn is_held_by(&self, log: &PartitionLog) -> bool {
        if self.offset < log.log_start_offset() {
            return true;
        }
        let same = |key: &Option<bytes::Bytes>| key.as_deref() == self.key.as_deref();
        if let Some(record) = log.record_at(self.offset) {
            return same(&record.key) && record.value.as_deref() == self.value.as_deref();
        }
        // A compacted log keeps only the newest record per key: a newer one supersedes this.
        log.config().cleanup_policy.compacts()
            && self.key.is_some()
            && log.records().any(|record| record.offset > self.offset && same(&record.key))
    }
}

/// The acknowledged writes the current leaders do not hold. `leader_log` gives the log of a
/// partition's current leader, or none while it has no leader (nothing can be judged then).
pub fn lost_writes<'a, 'l>(
    acknowledged: &'a [AcknowledgedWrite],
    leader_log: impl Fn(&TopicPartition) -> Option<&'l PartitionLog>,
) -> Vec<&'a AcknowledgedWrite> {
    acknowledged.iter().filter(|write| leader_log(&write.partition).is_some_and(|log| !write.is_held_by(log))).collect()
}
