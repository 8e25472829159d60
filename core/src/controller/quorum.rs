//! The controller as a member of the metadata quorum: what its Raft replica reports, how
//! decisions become log entries, and when the answers that promise them go out.
//!
//! - Every controller applies committed batches to its committed image, in offset order.
//! - The Raft leader is the active controller. On becoming leader it rebuilds its speculative
//!   image from its whole log (entries of earlier leaders it holds will be committed by its own
//!   `LeaderChange`), and gives every broker a fresh session, as KRaft does, so that a failover
//!   does not fence brokers that heartbeated to the old leader.
//! - [`Controller::write`] proposes a decision's records as one batch and applies them to the
//!   speculative image at once. A response is held until the high watermark passes the log end
//!   as it was when the response was decided, so no broker or client hears of a change the
//!   quorum may still lose; on losing leadership the held responses are dropped (requesters
//!   ask again).
//! - A leader cut off from the majority can append, but never commit: its proposals reach no
//!   committed image, and the next leader's log truncates them away (Raft §5.4).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::ids::{BrokerId, Offset};
use crate::message::{Message, NodeId, Output};
use crate::metadata::{LogOutput, MetadataImage, MetadataRecord};
use crate::raft::{LogEntry, Payload};
use crate::trace::TraceEvent;

use super::{trace_of, Controller, PendingResponse};

impl Controller {
    /// Hands on what the metadata log produced, then follows its role: active while it leads.
    pub(super) fn drain_log(&mut self, now_ms: u64) {
        for output in self.log.take_outputs(now_ms) {
            match output {
                LogOutput::Driver(output) => self.outputs.push(output),
                LogOutput::Committed(entries) => self.apply_committed(entries),
                LogOutput::Event(event) => self.trace(TraceEvent::Quorum { controller: self.id, event }),
            }
        }
        match (self.log.is_leader(), self.active) {
            (true, false) => self.become_active(now_ms),
            (false, true) => self.become_inactive(),
            _ => {}
        }
        self.release_responses();
    }

    fn apply_committed(&mut self, entries: Vec<LogEntry<crate::metadata::MetadataBatch>>) {
        for entry in entries {
            assert_eq!(entry.offset, self.applied, "committed entries come in offset order from 0");
            self.applied = entry.offset.next();
            let Payload::Data(batch) = entry.payload else { continue };
            self.image.apply_batch(&batch);
            let events = batch.iter().filter_map(trace_of).collect();
            self.outputs.push(Output::MetadataCommitted { offset: entry.offset, events });
        }
    }

    fn become_active(&mut self, now_ms: u64) {
        self.speculative = MetadataImage::bootstrap(&self.config);
        for entry in self.log.raft().log().entries() {
            if let Payload::Data(batch) = &entry.payload {
                self.speculative.apply_batch(batch);
            }
        }
        let brokers: Vec<BrokerId> = self.speculative.brokers.keys().copied().collect();
        self.last_heartbeat_ms = brokers.into_iter().map(|broker| (broker, now_ms)).collect();
        self.pending.clear();
        self.active = true;
    }

    fn become_inactive(&mut self) {
        self.active = false;
        self.pending.clear();
        self.last_heartbeat_ms = BTreeMap::new();
        self.speculative = self.image.clone();
    }

    /// Proposes a decision's records as one batch, and applies them to the speculative image
    /// so the next decision sees them.
    pub(super) fn write(&mut self, records: Vec<MetadataRecord>) {
        if records.is_empty() {
            return;
        }
        assert!(self.active, "only the active controller writes");
        self.speculative.apply_batch(&records);
        self.log.propose(records).expect("the active controller leads the quorum");
    }

    /// Sends `message` once everything this controller has appended so far is committed.
    pub(super) fn respond_when_committed(&mut self, to: NodeId, message: Message) {
        let after = self.log.raft().log_end_offset();
        self.pending.push(PendingResponse { after, to, message });
        self.release_responses();
    }

    fn release_responses(&mut self) {
        let high_watermark = self.log.raft().high_watermark();
        if self.pending.iter().all(|pending| pending.after > high_watermark) {
            return;
        }
        let (due, waiting): (Vec<_>, Vec<_>) =
            self.pending.drain(..).partition(|pending| pending.after <= high_watermark);
        self.pending = waiting;
        for PendingResponse { to, message, .. } in due {
            self.send(to, message);
        }
    }

    /// Entries below this are committed, as far as this controller knows.
    pub fn high_watermark(&self) -> Offset {
        self.log.raft().high_watermark()
    }
}
