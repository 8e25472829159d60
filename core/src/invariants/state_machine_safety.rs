//! State machine safety (Raft §5.4.3, Figure 3): if a server has applied a log entry at a given
//! index to its state machine, no other server will ever apply a different log entry for the
//! same index. Here: the committed prefix of every replica of the metadata log (controllers and
//! brokers' observers alike) is a prefix of one committed log, so every committed image agrees.
//! A leader cut off from the majority can append but never commit, so nothing it alone wrote
//! can ever reach this log.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::ids::Offset;
use crate::metadata::MetadataBatch;
use crate::raft::{LogEntry, RaftNode, ReplicaId};

use super::Violation;

/// The committed log as first seen, and how far each replica has been checked against it.
#[derive(Clone, Debug, Default)]
pub struct StateMachineSafety {
    committed: Vec<LogEntry<MetadataBatch>>,
    checked: BTreeMap<ReplicaId, Offset>,
}

impl StateMachineSafety {
    /// Checks the entries `raft` has committed since its last check. A restarted replica's high
    /// watermark starts over, and so does its check.
    pub fn check(&mut self, raft: &RaftNode<MetadataBatch>) -> Result<(), Violation> {
        let high_watermark = raft.high_watermark();
        let checked = self.checked.entry(raft.id()).or_insert(Offset(0));
        if high_watermark < *checked {
            *checked = Offset(0);
        }
        for entry in raft.log().slice(*checked, high_watermark) {
            let index = entry.offset.0 as usize;
            match self.committed.get(index) {
                Some(agreed) if agreed != entry => {
                    return Err(Violation::CommittedMetadataDiverged {
                        replica: raft.id(),
                        offset: entry.offset,
                        agreed_epoch: agreed.epoch,
                        found_epoch: entry.epoch,
                    });
                }
                Some(_) => {}
                None => {
                    assert_eq!(index, self.committed.len(), "committed prefixes grow one entry at a time");
                    self.committed.push(entry.clone());
                }
            }
        }
        *checked = high_watermark;
        Ok(())
    }

    /// The committed metadata log as agreed so far.
    pub fn committed(&self) -> &[LogEntry<MetadataBatch>] {
        &self.committed
    }
}
