//! What the page's inspector shows of one broker, controller or group beyond
//! [`crate::view::ClusterView`]: the state a node holds for itself (the metadata a broker has
//! caught up to, the roles it holds, the groups it coordinates; whom a controller voted for; a
//! group's chosen protocol). Built on demand for the one thing inspected, not every frame.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::ids::{BrokerId, ControllerId, LeaderEpoch, Offset, TopicPartition};

use super::Simulation;

/// One broker as it sees itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerDetails {
    pub id: BrokerId,
    pub alive: bool,
    /// How far into the metadata log it has applied the committed records.
    pub applied_metadata_offset: Offset,
    /// The metadata log's committed end as it knows it.
    pub metadata_high_watermark: Offset,
    /// The active controller its metadata log follows, if it knows one.
    pub metadata_leader: Option<ControllerId>,
    /// Every replica it holds, with the role it holds it in, in partition order.
    pub replicas: Vec<HeldReplica>,
    /// The consumer groups it coordinates, by id.
    pub coordinated_groups: Vec<String>,
    /// The transactional ids whose transactions it coordinates.
    pub coordinated_transactions: Vec<String>,
}

/// A replica as the broker holding it sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldReplica {
    pub partition: TopicPartition,
    pub is_leader: bool,
    pub leader_epoch: LeaderEpoch,
    /// The leader it follows, for a follower that knows one.
    pub following: Option<BrokerId>,
    pub log_end_offset: Offset,
    pub high_watermark: Offset,
}

/// A group's protocol, as its coordinator chose it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupProtocol {
    /// `consumer` for consumer groups.
    pub protocol_type: Option<String>,
    /// The assignor the members agreed on (`range`, `cooperative-sticky`, ...).
    pub protocol_name: Option<String>,
}

impl Simulation {
    /// The broker's own state, alive or not (a dead one as it was when it crashed).
    pub fn broker_details(&self, id: BrokerId) -> Option<BrokerDetails> {
        let broker = self.broker(id)?;
        let metadata_log = broker.metadata_log();
        let replicas = broker
            .replicas()
            .map(|(partition, replica)| HeldReplica {
                partition: partition.clone(),
                is_leader: replica.is_leader(),
                leader_epoch: replica.leader_epoch(),
                following: match &replica.role {
                    crate::broker::Role::Leader(_) => None,
                    crate::broker::Role::Follower(following) => following.leader,
                },
                log_end_offset: replica.log.log_end_offset(),
                high_watermark: replica.log.high_watermark(),
            })
            .collect();
        Some(BrokerDetails {
            id,
            alive: self.is_alive(id),
            applied_metadata_offset: broker.applied_metadata_offset(),
            metadata_high_watermark: metadata_log.high_watermark(),
            metadata_leader: metadata_log.leader().map(|replica| ControllerId(replica.0)),
            replicas,
            coordinated_groups: broker.group_coordinator().groups().map(|g| g.id().to_string()).collect(),
            coordinated_transactions: broker
                .transaction_coordinator()
                .transactions()
                .map(|t| t.transactional_id.to_string())
                .collect(),
        })
    }

    /// Whom the controller voted for in its current epoch, if anyone.
    pub fn controller_voted_for(&self, id: ControllerId) -> Option<ControllerId> {
        self.controller(id)?.raft().voted_for().map(|replica| ControllerId(replica.0))
    }

    /// The protocol `coordinator` holds for `group_id`, if it holds the group.
    pub fn group_protocol(&self, coordinator: BrokerId, group_id: &str) -> Option<GroupProtocol> {
        let group = self.broker(coordinator)?.group_coordinator().group(group_id)?;
        Some(GroupProtocol {
            protocol_type: group.protocol_type().map(|p| p.to_string()),
            protocol_name: group.protocol_name().map(|p| p.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Command;
    use crate::config::ClusterConfig;

    fn run(simulation: &mut Simulation, line: &str) {
        simulation.apply(&Command::parse(line).unwrap()).unwrap();
    }

    #[test]
    fn a_broker_knows_the_replicas_it_leads_and_follows_and_how_far_its_metadata_got() {
        let mut simulation = Simulation::new(ClusterConfig::default()).unwrap();
        run(&mut simulation, "advance 2s");
        let details = simulation.broker_details(BrokerId(1)).unwrap();
        assert!(details.alive);
        assert!(details.applied_metadata_offset > Offset(0), "it caught up with the metadata log");
        assert!(details.metadata_leader.is_some());
        let view = simulation.view();
        for held in details.replicas.iter().filter(|r| &*r.partition.topic == "orders") {
            let leader = view.partition(&held.partition).unwrap().leader;
            assert_eq!(held.is_leader, leader == Some(BrokerId(1)), "{} agrees with the metadata", held.partition);
            if !held.is_leader {
                assert_eq!(held.following, leader);
            }
        }
        assert_eq!(details.replicas.iter().filter(|r| &*r.partition.topic == "orders").count(), 3);
        assert_eq!(simulation.broker_details(BrokerId(7)), None);
    }

    #[test]
    fn a_groups_coordinator_holds_its_protocol_and_a_controller_its_vote() {
        let mut simulation = Simulation::new(ClusterConfig::default()).unwrap();
        run(&mut simulation, "advance 1s");
        run(&mut simulation, "consumer alice group=billing topics=orders");
        run(&mut simulation, "advance 10s");
        let coordinator = simulation.view().group("billing").and_then(|g| g.coordinator).unwrap();
        let protocol = simulation.group_protocol(coordinator, "billing").unwrap();
        assert_eq!(protocol.protocol_type.as_deref(), Some("consumer"));
        assert!(protocol.protocol_name.is_some());
        assert!(simulation.broker_details(coordinator).unwrap().coordinated_groups.contains(&"billing".to_string()));
        let active = simulation.active_controller().unwrap();
        assert_eq!(simulation.controller_voted_for(active), Some(active), "a leader voted for itself");
    }
}
