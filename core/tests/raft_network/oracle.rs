//! The oracle: what the cluster has agreed so far, and the Raft safety properties every event
//! is checked against (openraft `tests-turmoil/src/invariants/`, TigerBeetle's VOPR):
//! - election safety (Raft §5.2): at most one leader per epoch, by every node's account;
//! - state machine safety (Raft §5.4.3): an offset is committed with one entry, ever, and every
//!   node applies committed entries in offset order from 0;
//! - leader completeness (Raft §5.4): a new leader holds every entry committed in an earlier epoch.

use std::collections::BTreeMap;

use kafkalab_core::raft::{Epoch, LogEntry, RaftLog, ReplicaId};
use kafkalab_core::Offset;

use super::Entry;

#[derive(Default)]
pub struct Oracle {
    /// Every committed entry, with the epoch of the leader that committed it first (a leader
    /// hands out a newly committed entry before any follower can learn of it).
    pub committed: BTreeMap<Offset, (LogEntry<Entry>, Epoch)>,
    /// Every (epoch, leader) pair any node ever reported.
    pub leaders: BTreeMap<Epoch, ReplicaId>,
}

impl Oracle {
    /// Node `id`, now at `epoch`, applies `entries` after those in `applied`.
    pub fn apply(
        &mut self,
        id: ReplicaId,
        epoch: Epoch,
        applied: &mut Vec<LogEntry<Entry>>,
        entries: Vec<LogEntry<Entry>>,
    ) -> Result<(), String> {
        for entry in entries {
            if entry.offset != Offset(applied.len() as i64) {
                return Err(format!("node {id} applied offset {} after {} entries", entry.offset, applied.len()));
            }
            match self.committed.get(&entry.offset) {
                Some((committed, _)) if *committed != entry => {
                    return Err(format!(
                        "Raft §5.4.3 state machine safety: node {id} applied {entry:?} at {}, \
                         where {committed:?} was committed",
                        entry.offset
                    ));
                }
                Some(_) => {}
                None => {
                    self.committed.insert(entry.offset, (entry.clone(), epoch));
                }
            }
            applied.push(entry);
        }
        Ok(())
    }

    /// Raft §5.4: node `id`, just elected for `epoch`, holds every entry committed before it.
    pub fn check_leader_completeness(&self, id: ReplicaId, epoch: Epoch, log: &RaftLog<Entry>) -> Result<(), String> {
        for (offset, (entry, committed_in)) in &self.committed {
            if *committed_in < epoch && log.entry(*offset) != Some(entry) {
                return Err(format!(
                    "Raft §5.4 leader completeness: leader {id} of epoch {epoch} lacks offset {offset}, \
                     committed in epoch {committed_in}"
                ));
            }
        }
        Ok(())
    }

    /// Raft §5.2 election safety: node `id` says `leader` leads `epoch`.
    pub fn check_view(&mut self, id: ReplicaId, epoch: Epoch, leader: ReplicaId) -> Result<(), String> {
        let known = *self.leaders.entry(epoch).or_insert(leader);
        if known != leader {
            return Err(format!(
                "Raft §5.2 election safety: node {id} says {leader} leads epoch {epoch}, but {known} did"
            ));
        }
        Ok(())
    }
}
