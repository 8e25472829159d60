//! The KRaft controller quorum, told as scenarios: three controllers elect an active
//! controller and the brokers register with it; when it dies another takes over and partition
//! leadership keeps failing over; an active controller cut off from the others commits
//! nothing and follows the new leader once healed; in the combined layout one kill can take a
//! partition leader and the active controller at once; a split vote resolves itself.

use kafkalab_core::command::NodeName;
use kafkalab_core::config::ControllerLayout;
use kafkalab_core::ids::{BrokerId, ControllerId, LeaderEpoch, TopicPartition};
use kafkalab_core::metadata::MetadataRecord;
use kafkalab_core::raft::{Epoch, Payload, RaftEvent, Role};
use kafkalab_core::simulation::CommandError;
use kafkalab_core::trace::TraceEvent;
use kafkalab_core::{ClusterConfig, Command, Simulation};

fn config(seed: u64, controller_layout: ControllerLayout) -> ClusterConfig {
    ClusterConfig { seed, controller_layout, ..ClusterConfig::default() }
}

fn run(simulation: &mut Simulation, line: &str) {
    let command = Command::parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
    simulation.apply(&command).unwrap_or_else(|e| panic!("{line}: {e}"));
}

/// Advances in 10 ms steps until `done` holds, for at most `limit_ms`; returns how long it took.
fn run_until(simulation: &mut Simulation, limit_ms: u64, done: impl Fn(&Simulation) -> bool) -> u64 {
    let start_ms = simulation.now_ms();
    while !done(simulation) {
        assert!(simulation.now_ms() - start_ms < limit_ms, "not within {limit_ms} ms");
        simulation.advance(10);
    }
    simulation.now_ms() - start_ms
}

/// A running lab: an active controller elected, every broker registered with it.
fn lab(config: ClusterConfig) -> Simulation {
    let mut simulation = Simulation::new(config).expect("a valid config");
    run_until(&mut simulation, 10_000, |s| s.active_controller().is_some());
    simulation.advance(100);
    simulation
}

fn orders(index: i32) -> TopicPartition {
    TopicPartition::new("orders", index)
}

fn quorum_events(simulation: &Simulation) -> Vec<(ControllerId, RaftEvent)> {
    simulation
        .trace()
        .iter()
        .filter_map(|line| match &line.event {
            TraceEvent::Quorum { controller, event } => Some((*controller, event.clone())),
            _ => None,
        })
        .collect()
}

/// Whether the committed metadata, or any controller's committed image, names this topic.
fn committed_anywhere(simulation: &Simulation, topic: &str) -> bool {
    simulation.controllers().any(|c| c.image().topics.contains_key(topic))
        || simulation.committed_metadata().iter().any(|entry| match &entry.payload {
            Payload::Data(batch) => {
                batch.iter().any(|r| matches!(r, MetadataRecord::Topic { name, .. } if name == topic))
            }
            Payload::LeaderChange { .. } => false,
        })
}

#[test]
fn a_controller_quorum_elects_an_active_controller_at_start_and_brokers_register_with_it() {
    let mut sim = Simulation::new(ClusterConfig::default()).unwrap();
    // KRaft's election timeout is drawn from [1 s, 2 s): one controller asks for pre-votes,
    // then votes, and leads epoch 1 a few milliseconds later.
    let elected_after_ms = run_until(&mut sim, 5_000, |s| s.active_controller().is_some());
    assert!((1_000..2_100).contains(&elected_after_ms), "elected after {elected_after_ms} ms");
    sim.advance(200);
    let view = sim.view();
    let active = view.active_controller.unwrap();
    for controller in &view.controllers {
        let expected_role = if controller.id == active { Role::Leader } else { Role::Follower };
        assert_eq!((controller.role, controller.epoch, controller.leader), (expected_role, Epoch(1), Some(active)));
    }
    // Each broker's observer of the metadata log found the leader, and each broker registered
    // with it: the registration is committed, so every controller's image has its epoch.
    for broker in 1..=3 {
        let observer = sim.broker(BrokerId(broker)).unwrap().metadata_log();
        assert_eq!(observer.leader().map(|r| r.0), Some(active.0), "broker {broker} knows the leader");
        let registered = sim.trace().iter().any(|l| l.event == TraceEvent::Registered { broker: BrokerId(broker) });
        assert!(registered, "broker {broker} registered");
        for controller in sim.controllers() {
            assert!(controller.image().brokers[&BrokerId(broker)].broker_epoch.is_some());
        }
    }
    // The trace tells the quorum's story in KRaft's words, apart from the partitions'.
    let lines: Vec<String> = sim.trace().iter().map(|l| l.event.to_string()).collect();
    assert!(lines.contains(&format!("controller {active} leader at epoch 1, LeaderChange at offset 0")), "{lines:?}");
    assert!(lines.iter().any(|l| l.starts_with("controller ") && l.contains("vote for")));
}

#[test]
fn killing_the_active_controller_elects_another_in_bounded_time_and_partitions_still_fail_over() {
    let mut sim = lab(config(1, ControllerLayout::Dedicated));
    let old = sim.active_controller().unwrap();
    run(&mut sim, &format!("kill c{old}"));
    // The followers give up on it after the fetch timeout (2 s), then one campaigns within an
    // election timeout (under 2 s).
    let failover_ms = run_until(&mut sim, 6_000, |s| s.active_controller().is_some());
    assert!(failover_ms <= 4_200, "failover took {failover_ms} ms");
    let new = sim.active_controller().unwrap();
    assert_ne!(new, old);
    assert!(sim.view().controller(new).unwrap().epoch > Epoch(1));

    // The new active controller does the old one's job: broker 1, leader of orders/0, dies,
    // and after the session timeout orders/0 gets a leader from its ISR.
    sim.advance(1_000);
    run(&mut sim, "kill 1");
    sim.advance(8_000);
    assert_eq!(sim.view().partition(&orders(0)).unwrap().leader, Some(BrokerId(1)), "not before the timeout");
    sim.advance(3_000);
    let p0 = sim.view().partition(&orders(0)).unwrap().clone();
    assert_eq!((p0.leader, p0.leader_epoch), (Some(BrokerId(2)), LeaderEpoch(1)));
    let tp = orders(0);
    assert!(sim.broker(BrokerId(2)).unwrap().replica(&tp).unwrap().is_leader(), "broker 2 learned it from the log");
    run(&mut sim, "produce orders partition=0 value=after-failover acks=all");
    sim.advance(500);
    assert_eq!(sim.acknowledged().len(), 1);
}

#[test]
fn an_isolated_old_active_controller_commits_nothing_and_follows_the_new_leader_after_the_heal() {
    let mut sim = lab(config(1, ControllerLayout::Dedicated));
    let old = sim.active_controller().unwrap();
    let old_epoch = sim.view().controller(old).unwrap().epoch;
    let others: Vec<String> = sim.config().controller_ids().filter(|&c| c != old).map(|c| format!("c{c}")).collect();
    run(&mut sim, &format!("split c{old} | 1 2 3 {}", others.join(" ")));
    // Still leading as far as it knows, it takes an admin request (the client is in no group)
    // and appends the topic, but no follower fetches it: it cannot commit.
    run(&mut sim, "create-topic isolated partitions=1 replication-factor=1");
    sim.advance(50);
    let stale = sim.controller(old).unwrap();
    let appended = stale.raft().log().entries().iter().any(|entry| {
        matches!(&entry.payload, Payload::Data(batch)
            if batch.iter().any(|r| matches!(r, MetadataRecord::Topic { name, .. } if name == "isolated")))
    });
    assert!(appended, "the old leader appended the topic");
    assert!(stale.raft().high_watermark() < stale.raft().log_end_offset(), "but it is not committed");

    // The majority elects a new leader at a later epoch; the old one resigns by check quorum.
    run_until(&mut sim, 10_000, |s| s.active_controller().is_some_and(|c| c != old));
    let new = sim.active_controller().unwrap();
    assert!(sim.view().controller(new).unwrap().epoch > old_epoch);
    run_until(&mut sim, 5_000, |s| s.view().controller(old).unwrap().role != Role::Leader);
    assert!(!committed_anywhere(&sim, "isolated"), "an isolated leader commits nothing");
    sim.advance(5_000);
    assert!(!committed_anywhere(&sim, "isolated"));
    let brokers_know = (1..=3).any(|b| sim.broker(BrokerId(b)).unwrap().image().topics.contains_key("isolated"));
    assert!(!brokers_know, "no broker's metadata has it");

    // Healed, it follows the new leader: its uncommitted tail is truncated away.
    run(&mut sim, "heal");
    run_until(&mut sim, 10_000, |s| {
        let view = s.view();
        let old = view.controller(old).unwrap();
        old.role == Role::Follower
            && old.leader == Some(new)
            && old.high_watermark == view.controller(new).unwrap().high_watermark
    });
    let truncated = quorum_events(&sim).iter().any(|(c, e)| *c == old && matches!(e, RaftEvent::Truncated { .. }));
    assert!(truncated, "controller {old} dropped its divergent tail");
    assert!(!committed_anywhere(&sim, "isolated"));
    let images: Vec<_> = sim.controllers().map(|c| c.image().clone()).collect();
    assert!(images.windows(2).all(|pair| pair[0] == pair[1]), "every controller agrees");
    // The request was never answered: the client reports a time-out, not a topic.
    sim.advance(30_000);
    let timed_out = sim.trace().iter().any(|l| {
        matches!(&l.event, TraceEvent::AdminFailed { what, error, .. }
            if what.starts_with("create-topic isolated") && *error == kafkalab_core::error_code::ErrorCode::RequestTimedOut)
    });
    assert!(timed_out);
}

/// Broker `n` and controller `n` share node `n`: the seed whose first active controller is
/// controller 1, beside broker 1, which leads orders/0.
fn seed_where_controller_1_is_elected_first() -> u64 {
    (1..100)
        .find(|&seed| {
            let mut sim = Simulation::new(config(seed, ControllerLayout::Combined)).unwrap();
            run_until(&mut sim, 10_000, |s| s.active_controller().is_some());
            sim.active_controller() == Some(ControllerId(1))
        })
        .expect("some seed elects controller 1")
}

#[test]
fn in_the_combined_layout_killing_a_node_that_leads_orders_0_and_the_quorum_moves_both() {
    let mut sim = lab(config(seed_where_controller_1_is_elected_first(), ControllerLayout::Combined));
    assert_eq!(sim.active_controller(), Some(ControllerId(1)));
    assert_eq!(sim.view().partition(&orders(0)).unwrap().leader, Some(BrokerId(1)));
    run(&mut sim, "kill 1");
    let killed: Vec<String> = sim.trace().iter().rev().take(2).map(|l| l.event.to_string()).collect();
    assert_eq!(killed, ["kill controller 1", "kill broker 1"], "one node, two roles");
    run_until(&mut sim, 6_000, |s| s.active_controller().is_some());
    assert_ne!(sim.active_controller(), Some(ControllerId(1)));
    // The new active controller gave every broker a fresh session when it took over; broker 1
    // never heartbeats again, so it is fenced a session timeout later and orders/0 moves.
    run_until(&mut sim, 15_000, |s| s.view().partition(&orders(0)).unwrap().leader != Some(BrokerId(1)));
    let p0 = sim.view().partition(&orders(0)).unwrap().clone();
    assert!(p0.leader.is_some_and(|b| b != BrokerId(1)));
    assert_eq!(p0.leader_epoch, LeaderEpoch(1));
    // Node 1 comes back: its controller follows, its broker catches up from the log.
    run(&mut sim, "restart 1");
    sim.advance(5_000);
    let view = sim.view();
    let c1 = view.controller(ControllerId(1)).unwrap();
    assert_eq!((c1.role, c1.leader), (Role::Follower, view.active_controller));
    assert!(view.partitions.iter().all(|p| p.isr.contains(&BrokerId(1))), "broker 1 is back in sync");
}

#[test]
fn a_split_vote_resolves_in_a_later_epoch() {
    // With one of three controllers down, the two others need each other's vote. When their
    // election timeouts fire within a message's flight of each other, both win the other's
    // pre-vote, both become candidates of the same epoch and vote for themselves: nobody wins
    // it. Randomized timeouts (Raft §5.2) make the next round go to one of them. A slow
    // network (20 to 40 ms) widens the window; look for seeds where it happens.
    let mut split_votes = 0;
    for seed in 0..300 {
        let config = ClusterConfig {
            network_latency_min_ms: 20,
            network_latency_max_ms: 40,
            ..config(seed, ControllerLayout::Dedicated)
        };
        let mut sim = Simulation::new(config).unwrap();
        run(&mut sim, "kill c3");
        sim.advance(10_000);
        let events = quorum_events(&sim);
        let candidates = |epoch: Epoch| {
            events.iter().filter(|(_, e)| matches!(e, RaftEvent::Candidate { epoch: e } if *e == epoch)).count()
        };
        let led =
            |epoch: Epoch| events.iter().any(|(_, e)| matches!(e, RaftEvent::Leader { epoch: e, .. } if *e == epoch));
        let Some(split) = (1..5).map(Epoch).find(|&epoch| candidates(epoch) >= 2 && !led(epoch)) else { continue };
        split_votes += 1;
        let view = sim.view();
        let active = view.active_controller.unwrap_or_else(|| panic!("seed {seed}: the split vote stayed unresolved"));
        let epoch = view.controller(active).unwrap().epoch;
        assert!(epoch > split, "seed {seed}: a later epoch has the leader");
        let live = view.controllers.iter().filter(|c| c.alive);
        assert!(live.clone().all(|c| c.epoch == epoch && c.leader == Some(active)), "seed {seed}");
    }
    assert!(split_votes > 0, "no split vote in 300 starts");
    println!("{split_votes} split votes in 300 starts, each resolved");
}

#[test]
fn a_restarted_controller_keeps_its_epoch_vote_and_log() {
    let mut sim = lab(config(3, ControllerLayout::Dedicated));
    let follower = sim.config().controller_ids().find(|&c| Some(c) != sim.active_controller()).unwrap();
    let before = sim.controller(follower).unwrap().raft().persistent_state().clone();
    assert!(before.log.end_offset().0 > 1, "it holds the registrations");
    run(&mut sim, &format!("kill c{follower}"));
    run(&mut sim, &format!("restart c{follower}"));
    let after = sim.controller(follower).unwrap();
    assert_eq!(after.raft().persistent_state(), &before, "epoch, vote and log survive the crash");
    assert_eq!(after.raft().high_watermark().0, 0, "the high watermark does not: it is learned again");
    sim.advance(2_000);
    let after = sim.controller(follower).unwrap();
    assert_eq!(after.image(), sim.controller(sim.active_controller().unwrap()).unwrap().image());
}

#[test]
fn the_view_shows_each_controller_and_its_metadata_log() {
    let sim = lab(config(1, ControllerLayout::Dedicated));
    let view = sim.view();
    assert_eq!(view.controllers.len(), 3);
    let active = view.controller(view.active_controller.unwrap()).unwrap();
    assert!(active.alive);
    assert_eq!(active.role, Role::Leader);
    assert_eq!(active.high_watermark, active.log_end_offset);
    assert_eq!(active.entries.len() as i64, active.log_end_offset.0);
    assert_eq!(active.entries[0].records, [format!("LeaderChange leader {}", active.id)]);
    let registrations: Vec<&String> =
        active.entries.iter().flat_map(|e| &e.records).filter(|r| r.starts_with("RegisterBroker")).collect();
    assert_eq!(registrations.len(), 3, "{registrations:?}");
    assert!(active.entries.iter().all(|e| e.committed));
}

#[test]
fn in_the_combined_layout_a_controller_and_its_broker_are_one_node() {
    let mut sim = lab(ClusterConfig::default());
    // `controller` names every controller, so in the combined layout it names every node.
    let refused = sim.apply(&Command::parse("split 1 | 2 3 controller").unwrap());
    assert_eq!(refused, Err(CommandError::InTwoGroups(NodeName::Controller(ControllerId(1)))));
    run(&mut sim, "kill c2");
    assert!(!sim.is_alive(BrokerId(2)), "c2 is node 2");
    assert_eq!(sim.apply(&Command::parse("kill 2").unwrap()), Err(CommandError::AlreadyDead(BrokerId(2).into())));
    run(&mut sim, "restart 2");
    assert!(sim.is_controller_alive(ControllerId(2)));
    run(&mut sim, "split c1 | 2 3");
    assert!(!sim.faults().connected(
        sim.host(kafkalab_core::message::NodeId::Broker(BrokerId(1))),
        sim.host(kafkalab_core::message::NodeId::Controller(ControllerId(2)))
    ));
}

#[test]
fn the_same_seed_gives_the_same_trace_with_controllers_failing() {
    let trace = || {
        let mut sim = Simulation::new(config(11, ControllerLayout::Dedicated)).unwrap();
        for line in [
            "advance 3s",
            "kill c1",
            "produce orders key=a value=1",
            "advance 4s",
            "kill c2",
            "restart c1",
            "split c3 | 1 2 3 c1 c2",
            "advance 6s",
            "heal",
            "restart c2",
            "advance 5s",
        ] {
            sim.apply(&Command::parse(line).unwrap()).unwrap();
        }
        sim.trace().iter().map(|l| l.to_string()).collect::<Vec<_>>()
    };
    let first = trace();
    assert!(first.iter().filter(|l| l.contains("controller ")).count() > 20);
    assert_eq!(first, trace());
}
