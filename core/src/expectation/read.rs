//! What a subject reads in the view: the value the run holds now, or `none` when there is no
//! such partition, replica, group or client.

use super::{quorum, Subject, Value};
use crate::ids::{BrokerId, TopicPartition};
use crate::view::{ClusterView, ReplicaView};

/// The subject's value in `view`.
pub(super) fn actual(subject: &Subject, view: &ClusterView) -> Value {
    let number = |n: Option<i64>| n.map_or(Value::None, Value::Number);
    match subject {
        Subject::Broker(id) => view.broker(*id).map_or(Value::None, |b| Value::Status(b.status)),
        Subject::ActiveController => number(view.active_controller.map(|c| i64::from(c.0))),
        Subject::ControllerRole(c) => quorum::role(view, *c).map_or(Value::None, Value::Role),
        Subject::ControllerEpoch(on) => number(quorum::epoch(view, *on)),
        Subject::MetadataRecords(kind, on) => number(quorum::records(view, *kind, *on)),
        Subject::Leader(p) => number(view.partition(p).and_then(|p| p.leader).map(|b| i64::from(b.0))),
        Subject::Epoch(p) => number(view.partition(p).map(|p| i64::from(p.leader_epoch.0))),
        Subject::Isr(p) => view.partition(p).map_or(Value::None, |p| Value::Brokers(p.isr.iter().copied().collect())),
        Subject::HighWatermark(p, on) => number(replica(view, p, *on).map(|r| r.high_watermark.0)),
        Subject::LogEndOffset(p, on) => number(replica(view, p, *on).map(|r| r.log_end_offset.0)),
        Subject::LastStableOffset(p, on) => number(replica(view, p, *on).map(|r| r.last_stable_offset.0)),
        Subject::Group(g) => view.group(g).and_then(|g| g.state).map_or(Value::None, Value::GroupState),
        Subject::Generation(g) => number(view.group(g).and_then(|g| g.generation_id).map(i64::from)),
        Subject::Members(g) => {
            number(view.group(g).filter(|g| g.coordinator.is_some()).map(|g| g.members.len() as i64))
        }
        Subject::Owner(p, g) => view.owner(g, p).map_or(Value::None, |c| Value::Client(c.name.clone())),
        Subject::Committed(g, p) => number(view.group(g).and_then(|g| g.committed_offset(p)).map(|o| o.0)),
        Subject::Lag(g, p) => number(view.lag(g, p)),
        Subject::Processed(c) => number(view.client(&c.0).map(|c| c.records_processed as i64)),
        Subject::Duplicates(g) => number(view.group(g).map(|g| g.duplicates as i64)),
        Subject::Client(c) => view.client(&c.0).map_or(Value::None, |c| Value::Alive(c.alive)),
        Subject::Transaction(c) => {
            view.client(&c.0).and_then(|c| c.transaction_state).map_or(Value::None, Value::TransactionState)
        }
    }
}

/// The partition's replica on `on`, or on its leader.
fn replica<'a>(view: &'a ClusterView, partition: &TopicPartition, on: Option<BrokerId>) -> Option<&'a ReplicaView> {
    let partition = view.partition(partition)?;
    let broker = on.or(partition.leader)?;
    partition.replicas.iter().find(|r| r.broker == broker)
}
