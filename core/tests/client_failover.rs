//! Clients through a broker crash: a client whose broker dies hears it at once (the connection
//! is reset, and a later one refused), so it fails what it had in flight there and carries on at
//! the new leader or coordinator as soon as one is elected, instead of waiting out
//! `request.timeout.ms` (30 s).

mod scenario;

use kafkalab_core::consumer::{Consumer, MemberState};
use kafkalab_core::ids::{BrokerId, TopicPartition};
use kafkalab_core::simulation::ClientKind;
use kafkalab_core::trace::TraceEvent;
use kafkalab_core::Simulation;
use scenario::{lab, run};

fn orders(partition: i32) -> TopicPartition {
    TopicPartition::new("orders", partition)
}

fn leader(simulation: &Simulation, partition: &TopicPartition) -> Option<BrokerId> {
    simulation.metadata().partition(partition).and_then(|state| state.leader)
}

/// When the trace's `client` acknowledgements for `partition` came, in order.
fn acknowledged_at(simulation: &Simulation, client: &str, partition: &TopicPartition) -> Vec<u64> {
    simulation
        .trace()
        .iter()
        .filter(|line| {
            matches!(&line.event, TraceEvent::ClientDelivered { client: c, partition: p, .. }
                if c.0 == client && p == partition)
        })
        .map(|line| line.at_ms)
        .collect()
}

/// The lines a named client wrote to the trace about itself.
fn client_lines(simulation: &Simulation, client: &str) -> Vec<(u64, String)> {
    simulation
        .trace()
        .iter()
        .filter_map(|line| match &line.event {
            TraceEvent::Client { client: c, event } if c.0 == client => Some((line.at_ms, event.clone())),
            _ => None,
        })
        .collect()
}

/// Producer `p` sends `count` records to orders/0, `v<n>` numbered on from `sent`, one every
/// `every_ms`.
fn produce(simulation: &mut Simulation, sent: &mut usize, count: usize, every_ms: u64) {
    for _ in 0..count {
        run(simulation, &format!("produce orders partition=0 value=v{sent} producer=p"));
        *sent += 1;
        simulation.advance(every_ms);
    }
}

#[test]
fn an_idempotent_producer_moves_to_the_new_leader_within_a_second_and_writes_every_acknowledged_record_once_in_order() {
    let mut lab = lab();
    let partition = orders(0);
    run(&mut lab, "producer p acks=all enable.idempotence=true linger.ms=0");
    let old_leader = leader(&lab, &partition).expect("orders/0 has a leader");
    let mut sent = 0;
    produce(&mut lab, &mut sent, 10, 100);
    assert_eq!(acknowledged_at(&lab, "p", &partition).len(), 10);
    produce(&mut lab, &mut sent, 3, 0);
    run(&mut lab, &format!("kill {}", old_leader.0)); // with three batches in flight to it
    let killed_ms = lab.now_ms();
    let mut elected_ms = None;
    while elected_ms.is_none() {
        produce(&mut lab, &mut sent, 1, 100);
        if leader(&lab, &partition).is_some_and(|l| l != old_leader) {
            elected_ms = Some(lab.now_ms());
        }
        assert!(lab.now_ms() < killed_ms + 30_000, "a new leader is elected");
    }
    let elected_ms = elected_ms.unwrap();
    produce(&mut lab, &mut sent, 20, 100);
    lab.advance(5_000);

    let acks = acknowledged_at(&lab, "p", &partition);
    let first_after = acks.iter().copied().find(|&at| at > killed_ms).expect("acknowledged after the crash");
    assert!(
        first_after <= elected_ms + 1_500,
        "the producer wrote to the new leader {} ms after the election (elected at {elected_ms})",
        first_after - elected_ms
    );
    let lines = client_lines(&lab, "p");
    assert!(
        lines.iter().any(|(_, line)| line.contains(&format!("connection to broker {} broke", old_leader.0))),
        "the producer heard of the broken connection: {lines:?}"
    );
    assert!(!lines.iter().any(|(_, line)| line.contains("timed out")), "no request waited out its timeout");

    let new_leader = leader(&lab, &partition).unwrap();
    let log = &lab.broker(new_leader).unwrap().replica(&partition).unwrap().log;
    let values: Vec<String> =
        log.records().map(|r| String::from_utf8(r.value.expect("a value").to_vec()).unwrap()).collect();
    let expected: Vec<String> = (0..sent).map(|i| format!("v{i}")).collect();
    assert_eq!(values, expected, "every record in the log once, in the order sent");
    let acknowledged: Vec<&kafkalab_core::oracle::AcknowledgedWrite> =
        lab.acknowledged().iter().filter(|w| w.partition == partition).collect();
    assert_eq!(acknowledged.len(), sent, "every record acknowledged");
    for write in acknowledged {
        let record = log.record_at(write.offset).expect("the acknowledged offset is in the log");
        assert_eq!(record.value.as_deref(), write.value.as_deref(), "acknowledged at {}", write.offset);
    }
    assert!(lab.lost_writes().is_empty());
}

/// Consumer `name`'s view of its group: the coordinator it talks to, and its member state.
fn consumer<'a>(simulation: &'a Simulation, name: &str) -> &'a Consumer {
    match &simulation.client(name).expect("a client").kind {
        ClientKind::Consumer(consumer) => consumer,
        ClientKind::Producer(_) => panic!("{name} is a producer"),
    }
}

/// The offsets `broker`'s group coordinator holds for `group`, as (partition, offset).
fn offsets_at(simulation: &Simulation, broker: BrokerId, group: &str) -> Vec<(i32, i64)> {
    let coordinator = simulation.broker(broker).expect("a broker").group_coordinator();
    coordinator.committed_offsets(group).into_iter().map(|(p, o)| (p.partition.0, o.offset.0)).collect()
}

/// Every record consumer `name` processed, as (partition, offset), in order.
fn processed_by(simulation: &Simulation, name: &str) -> Vec<(i32, i64)> {
    simulation
        .processed()
        .iter()
        .filter(|r| r.client.0 == name)
        .map(|r| (r.partition.partition.0, r.offset.0))
        .collect()
}

#[test]
fn a_group_consumer_whose_coordinator_dies_finds_the_new_one_keeps_processing_and_its_commits_survive() {
    let mut lab = lab();
    run(&mut lab, "producer p acks=all enable.idempotence=true linger.ms=0");
    for i in 0..6 {
        run(&mut lab, &format!("produce orders partition={} value=a{i} producer=p", i % 3));
    }
    run(&mut lab, "consumer c group=billing topics=orders auto.offset.reset=earliest enable.auto.commit=false");
    lab.advance(15_000);
    assert_eq!(processed_by(&lab, "c").len(), 6);
    let old = consumer(&lab, "c").coordinator().expect("c found its coordinator");
    let committed = offsets_at(&lab, old, "billing");
    assert_eq!(committed, [(0, 2), (1, 2), (2, 2)], "c committed after processing");

    run(&mut lab, &format!("kill {}", old.0));
    let killed_ms = lab.now_ms();
    // The first broker after the old one to hold the group's offsets, and whom c was talking
    // to then: the offsets must come from the replicated log, not from a commit by c.
    let mut loaded = None;
    let new = loop {
        lab.advance(100);
        if loaded.is_none() {
            let others = (1..=3).map(BrokerId).filter(|&b| b != old);
            if let Some(broker) = others.into_iter().find(|&b| !offsets_at(&lab, b, "billing").is_empty()) {
                loaded = Some((broker, offsets_at(&lab, broker, "billing"), consumer(&lab, "c").coordinator()));
            }
        }
        match consumer(&lab, "c").coordinator() {
            Some(broker) if broker != old => break broker,
            _ => assert!(lab.now_ms() < killed_ms + 30_000, "c finds a new coordinator"),
        }
    };
    assert!(
        lab.now_ms() <= killed_ms + 15_000,
        "found {} ms after the crash: the session timeout and an election, not a request timeout",
        lab.now_ms() - killed_ms
    );
    let (loaded_by, offsets, talking_to) = loaded.expect("the new coordinator loaded the group");
    assert_eq!((loaded_by, offsets), (new, committed), "the new coordinator read c's commits from its log");
    assert_ne!(talking_to, Some(new), "before c reached it");
    let lines = client_lines(&lab, "c");
    assert!(lines.iter().any(|(_, l)| *l == format!("lost coordinator broker {}", old.0)), "{lines:?}");

    for i in 0..6 {
        run(&mut lab, &format!("produce orders partition={} value=b{i} producer=p", i % 3));
    }
    lab.advance(15_000);
    let processed = processed_by(&lab, "c");
    let mut expected: Vec<(i32, i64)> = (0..3).flat_map(|p| (0..4).map(move |o| (p, o))).collect();
    let mut sorted = processed.clone();
    sorted.sort();
    expected.sort();
    assert_eq!(sorted, expected, "every record processed once, none again after the coordinator moved");
    assert_eq!(consumer(&lab, "c").state(), MemberState::Stable);
    assert_eq!(offsets_at(&lab, new, "billing"), [(0, 4), (1, 4), (2, 4)], "and committed at the new coordinator");
}
