//! Election safety (Raft §5.2, Figure 3): at most one leader can be elected in a given term.
//! KRaft calls the term the epoch: every controller that ever leads is recorded with its epoch,
//! and a second controller leading the same epoch, at any time, is a violation.

use alloc::collections::BTreeMap;

use crate::ids::ControllerId;
use crate::metadata::MetadataBatch;
use crate::raft::{Epoch, RaftNode, Role};

use super::Violation;

/// The leader of every epoch seen so far.
#[derive(Clone, Debug, Default)]
pub struct ElectionSafety {
    leaders: BTreeMap<Epoch, ControllerId>,
}

impl ElectionSafety {
    pub fn check(&mut self, controller: ControllerId, raft: &RaftNode<MetadataBatch>) -> Result<(), Violation> {
        if raft.role() != Role::Leader {
            return Ok(());
        }
        let epoch = raft.epoch();
        let leader = *self.leaders.entry(epoch).or_insert(controller);
        if leader != controller {
            return Err(Violation::TwoControllersLeadOneEpoch { epoch, controllers: (leader, controller) });
        }
        Ok(())
    }
}
