//! Reading the run for drawing: brokers and partitions as the committed metadata says, the
//! replicas' logs as the brokers hold them, and each controller's Raft state and metadata log.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::ids::{ControllerId, Offset};
use crate::metadata::MetadataBatch;
use crate::raft::{LogEntry, Payload};
use crate::view::{
    BrokerStatus, BrokerView, ClusterView, ControllerView, MetadataEntryView, PartitionView, ReplicaView,
};

use super::{ControllerNode, Simulation};

impl Simulation {
    /// Everything as it stands now, for drawing.
    pub fn view(&self) -> ClusterView {
        let metadata = self.metadata();
        let brokers = self
            .brokers
            .iter()
            .map(|node| {
                let id = node.broker.id();
                let fenced = metadata.is_fenced(id);
                let status = match (node.alive, fenced) {
                    (false, _) => BrokerStatus::Dead,
                    (true, true) => BrokerStatus::Fenced,
                    (true, false) => BrokerStatus::Alive,
                };
                BrokerView { id, status, fenced }
            })
            .collect();
        let partitions = metadata
            .partitions
            .values()
            .map(|state| PartitionView {
                partition: state.partition.clone(),
                leader: state.leader,
                leader_epoch: state.leader_epoch,
                isr: state.isr.clone(),
                replicas: state
                    .replicas
                    .iter()
                    .map(|&broker| {
                        let log = self.broker(broker).and_then(|b| b.replica(&state.partition)).map(|r| &r.log);
                        ReplicaView {
                            broker,
                            is_leader: state.leader == Some(broker),
                            in_isr: state.isr.contains(&broker),
                            log_start_offset: log.map_or(Offset(0), |l| l.log_start_offset()),
                            log_end_offset: log.map_or(Offset(0), |l| l.log_end_offset()),
                            high_watermark: log.map_or(Offset(0), |l| l.high_watermark()),
                        }
                    })
                    .collect(),
            })
            .collect();
        ClusterView {
            now_ms: self.now_ms,
            brokers,
            partitions,
            controllers: self.controllers.iter().map(controller_view).collect(),
            active_controller: self.active_controller(),
            controller_layout: self.config.controller_layout,
        }
    }
}

fn controller_view(node: &ControllerNode) -> ControllerView {
    let raft = node.controller.raft();
    let high_watermark = raft.high_watermark();
    ControllerView {
        id: node.controller.id(),
        alive: node.alive,
        role: raft.role(),
        epoch: raft.epoch(),
        leader: raft.leader().map(|replica| ControllerId(replica.0)),
        log_end_offset: raft.log_end_offset(),
        high_watermark,
        entries: raft.log().entries().iter().map(|entry| entry_view(entry, high_watermark)).collect(),
    }
}

fn entry_view(entry: &LogEntry<MetadataBatch>, high_watermark: Offset) -> MetadataEntryView {
    let records: Vec<String> = match &entry.payload {
        Payload::Data(batch) => batch.iter().map(|record| format!("{record}")).collect(),
        Payload::LeaderChange { leader, .. } => alloc::vec![format!("LeaderChange leader {leader}")],
    };
    MetadataEntryView { offset: entry.offset, epoch: entry.epoch, records, committed: entry.offset < high_watermark }
}
