//! A cluster started from the disks of another: every node restarts as after a crash of the
//! whole cluster, and what the disks held comes back: the records, byte for byte on every
//! replica, topics created at runtime, and a group's committed offsets once its coordinator
//! has loaded `__consumer_offsets`. Each test names the claim it checks.

mod scenario;

use std::collections::BTreeMap;

use kafkalab_core::ids::{BrokerId, ControllerId, TopicPartition};
use kafkalab_core::storage::{ClusterDisks, RecoveryError};
use kafkalab_core::{ClusterConfig, Simulation};
use scenario::{lab, run};

/// A run that produced to `orders` and to a topic it created, and whose group `billing`
/// committed offsets; stopped with every client, so the disks are all that is left.
fn used_lab() -> Simulation {
    let mut lab = lab();
    run(&mut lab, "create-topic shipments partitions=2 replication-factor=3");
    lab.advance(2_000);
    for i in 0..12 {
        run(&mut lab, &format!("produce orders key=k{i} value=v{i} acks=all"));
        run(&mut lab, &format!("produce shipments key=s{i} value=w{i} acks=all"));
    }
    lab.advance(2_000);
    run(&mut lab, "consumer alice group=billing topics=orders auto.offset.reset=earliest");
    lab.advance(20_000);
    run(&mut lab, "stop alice");
    lab.advance(2_000);
    lab
}

/// Every partition's batches, as each broker holds them, as raw bytes.
fn batches_by_replica(lab: &Simulation, topic: &str) -> BTreeMap<(BrokerId, TopicPartition), Vec<Vec<u8>>> {
    lab.brokers()
        .flat_map(|broker| {
            broker.replicas().filter(|(partition, _)| &*partition.topic == topic).map(move |(partition, replica)| {
                let bytes = replica.log.batches().map(|batch| batch.as_bytes().to_vec()).collect();
                ((broker.id(), partition.clone()), bytes)
            })
        })
        .collect()
}

/// The group's committed offsets, as the broker coordinating it holds them.
fn committed(lab: &Simulation, group: &str) -> BTreeMap<String, i64> {
    lab.brokers()
        .filter(|broker| lab.is_alive(broker.id()))
        .map(|broker| broker.group_coordinator().committed_offsets(group))
        .find(|offsets| !offsets.is_empty())
        .unwrap_or_default()
        .into_iter()
        .map(|(partition, offset)| (partition.to_string(), offset.offset.0))
        .collect()
}

fn restarted(disks: &ClusterDisks) -> Simulation {
    let mut lab = Simulation::from_disks(ClusterConfig::default(), disks).expect("the disks start a cluster");
    lab.advance(15_000);
    lab
}

#[test]
fn every_replica_has_the_same_batches_byte_for_byte_after_a_restart_from_disk() {
    let before = used_lab();
    let disks = before.disks();
    let after = restarted(&disks);
    for topic in ["orders", "shipments"] {
        let expected = batches_by_replica(&before, topic);
        assert!(expected.values().any(|batches| !batches.is_empty()), "{topic} holds records");
        assert_eq!(batches_by_replica(&after, topic), expected, "{topic}");
    }
}

#[test]
fn a_topic_created_at_runtime_and_its_leaders_come_back_from_the_metadata_log() {
    let before = used_lab();
    let after = restarted(&before.disks());
    let shipments = TopicPartition::new("shipments", 1);
    let state = after.metadata().partition(&shipments).expect("the runtime topic is in the metadata");
    assert_eq!(state.replicas.len(), 3);
    let leader = state.leader.expect("a leader was elected");
    let replica = after.broker(leader).unwrap().replica(&shipments).unwrap();
    assert!(replica.is_leader(), "broker {leader} took up the leadership the metadata names");
    assert_eq!(
        replica.log.high_watermark(),
        before.broker(leader).unwrap().replica(&shipments).unwrap().log.log_end_offset()
    );
}

#[test]
fn a_groups_committed_offsets_come_back_once_its_coordinator_loads_consumer_offsets() {
    let before = used_lab();
    let offsets = committed(&before, "billing");
    assert_eq!(offsets.values().sum::<i64>(), 12, "alice committed past every record: {offsets:?}");
    let after = restarted(&before.disks());
    assert_eq!(committed(&after, "billing"), offsets);
}

#[test]
fn a_restarted_cluster_takes_new_writes_after_the_old_ones() {
    let before = used_lab();
    let mut after = restarted(&before.disks());
    let orders_0 = TopicPartition::new("orders", 0);
    let end_before = |lab: &Simulation| {
        let leader = lab.metadata().partition(&orders_0).and_then(|state| state.leader).unwrap();
        lab.broker(leader).unwrap().replica(&orders_0).unwrap().log.log_end_offset()
    };
    let old_end = end_before(&after);
    run(&mut after, "produce orders partition=0 key=new value=new acks=all");
    after.advance(2_000);
    assert_eq!(end_before(&after), old_end.next());
}

#[test]
fn empty_disks_start_a_new_cluster_event_for_event() {
    let mut fresh = Simulation::new(ClusterConfig::default()).unwrap();
    let mut recovered = Simulation::from_disks(ClusterConfig::default(), &ClusterDisks::default()).unwrap();
    fresh.advance(5_000);
    recovered.advance(5_000);
    assert_eq!(recovered.trace(), fresh.trace());
}

#[test]
fn disks_that_name_a_broker_the_cluster_lacks_are_refused() {
    let mut disks = lab().disks();
    let disk = disks.brokers[&BrokerId(1)].clone();
    disks.brokers.insert(BrokerId(9), disk);
    assert_eq!(
        Simulation::from_disks(ClusterConfig::default(), &disks).err(),
        Some(RecoveryError::UnknownBroker(BrokerId(9)))
    );
    let mut disks = lab().disks();
    let disk = disks.controllers[&ControllerId(1)].clone();
    disks.controllers.insert(ControllerId(4), disk);
    assert!(matches!(
        Simulation::from_disks(ClusterConfig::default(), &disks),
        Err(RecoveryError::UnknownController(ControllerId(4)))
    ));
}
