//! Elections in the KRaft quorum: a cold start, a split vote, votes that survive a restart,
//! and KIP-996's pre-vote and check quorum keeping a healthy leader in place.

mod raft_network;

use kafkalab_core::raft::{
    BeginQuorumEpochRequest, Epoch, FetchData, FetchResponse, Message, PersistentState, QuorumState, RaftConfig,
    RaftNode, Role, VoteRequest,
};
use kafkalab_core::rng::Rng;
use kafkalab_core::Offset;
use raft_network::{Faults, Network, N1, N2, N3};

#[test]
fn kip_595_a_cold_start_of_three_voters_elects_one_leader_that_everyone_agrees_on() {
    let mut election_times_ms = Vec::new();
    for seed in 0..200 {
        let mut network = Network::three_voters(seed, Faults::none());
        // The first timeout fires within [1000, 2000) ms; a pre-vote and a vote round trip
        // take a few ms more. A split vote costs another timeout, so allow two.
        let elected_ms = network.run_until_true(5_000, |n| n.stable_leader().is_some());
        election_times_ms.push(elected_ms);
        let (leader, epoch) = network.stable_leader().expect("a leader");
        for id in [N1, N2, N3] {
            assert_eq!(network.node(id).epoch(), epoch, "seed {seed}");
            assert_eq!(network.node(id).leader(), Some(leader), "seed {seed}");
        }
    }
    election_times_ms.sort_unstable();
    let median = election_times_ms[election_times_ms.len() / 2];
    let max = election_times_ms[election_times_ms.len() - 1];
    println!("cold-start election over 200 seeds: median {median} ms, max {max} ms");
    assert!((1_000..2_100).contains(&median), "median {median} ms");
}

#[test]
fn raft_5_2_a_split_vote_is_resolved_by_randomized_timeouts() {
    // Line the three election timeouts up and make every message take exactly 5 ms: all three
    // ask for pre-votes at once, all get them, and all become candidates of epoch 1 together,
    // each voting for itself. Nobody can win epoch 1.
    let mut network = Network::three_voters(11, Faults::fixed_delay(5));
    let latest_timeout_ms = [N1, N2, N3].iter().map(|&id| network.node(id).next_deadline_ms()).max().unwrap();
    network.fire_all_timers_at(latest_timeout_ms);
    network.run_for(20);
    for id in [N1, N2, N3] {
        let node = network.node(id);
        assert_eq!((node.role(), node.epoch(), node.voted_for()), (Role::Candidate, Epoch(1), Some(id)));
    }
    // The candidates' next timeouts are drawn independently, so one of them starts the next
    // round alone and wins it.
    network.faults = Faults::none();
    network.run_until_true(5_000, |n| n.stable_leader().is_some());
    let (_, epoch) = network.stable_leader().unwrap();
    assert!(epoch >= Epoch(2), "epoch 1 had no winner");
    assert_eq!(network.oracle.leaders.get(&Epoch(1)), None, "nobody led the split epoch");
}

#[test]
fn raft_5_2_a_vote_survives_a_restart_so_a_voter_votes_once_per_epoch() {
    let config = RaftConfig::default();
    let mut voter = RaftNode::<String>::new(N1, config.clone(), PersistentState::default(), Rng::new(1)).unwrap();
    voter.start(0);
    let ask =
        |epoch| Message::Vote(VoteRequest { epoch, last_offset_epoch: None, last_offset: Offset(0), pre_vote: false });
    voter.handle_message(10, N2, ask(Epoch(1)));
    assert_eq!(voter.voted_for(), Some(N2));
    assert!(granted(&mut voter));

    // Crash: only the persistent state is left. The restarted node remembers its vote.
    let persisted = voter.persistent_state().clone();
    assert_eq!(persisted.quorum, QuorumState { epoch: Epoch(1), voted_for: Some(N2) });
    let mut restarted = RaftNode::<String>::new(N1, config, persisted, Rng::new(2)).unwrap();
    restarted.start(20);
    restarted.handle_message(30, N3, ask(Epoch(1)));
    assert!(!granted(&mut restarted), "a second candidate of epoch 1 gets no vote");
    restarted.handle_message(40, N2, ask(Epoch(1)));
    assert!(granted(&mut restarted), "the same candidate may ask again");
    restarted.handle_message(50, N3, ask(Epoch(2)));
    assert!(granted(&mut restarted), "a new epoch brings a new vote");
}

#[test]
fn raft_5_4_1_a_voter_refuses_a_candidate_whose_log_is_less_up_to_date() {
    let mut network = Network::three_voters(3, Faults::none());
    network.run_until_true(5_000, |n| n.stable_leader().is_some());
    let (leader, _) = network.stable_leader().unwrap();
    network.propose(leader, "a").unwrap();
    network.run_for(100);
    // A stranger's empty log is behind every voter's, whatever epoch it claims.
    let follower = [N1, N2, N3].into_iter().find(|&id| id != leader).unwrap();
    let mut voter =
        RaftNode::new(follower, RaftConfig::default(), network.node(follower).persistent_state().clone(), Rng::new(5))
            .unwrap();
    voter.start(0);
    let epoch = Epoch(voter.epoch().0 + 5);
    let candidate = [N1, N2, N3].into_iter().find(|&id| id != follower).unwrap();
    voter.handle_message(
        1,
        candidate,
        Message::Vote(VoteRequest { epoch, last_offset_epoch: None, last_offset: Offset(0), pre_vote: false }),
    );
    assert!(!granted(&mut voter));
    assert_eq!((voter.epoch(), voter.voted_for()), (epoch, None), "it moved to the new epoch without voting");
}

#[test]
fn kip_996_an_isolated_follower_rejoins_without_disrupting_the_stable_leader() {
    // Over many seeds and isolation lengths, so the heal lands in every phase of the loner's
    // cycle of looking for a leader (prospective, then following again).
    for seed in 0..40 {
        let mut network = Network::three_voters(seed, Faults::none());
        network.run_until_true(5_000, |n| n.stable_leader().is_some());
        let (leader, epoch) = network.stable_leader().unwrap();
        let loner = [N1, N2, N3].into_iter().find(|&id| id != leader).unwrap();
        // Everyone's log is the same, so only pre-vote's leader check can turn the loner down.
        network.propose(leader, "a").unwrap();
        network.run_for(500);

        network.isolate(loner);
        network.run_for(5_000 + seed * 523);
        // Cut off, it went looking for a leader again and again, but never won a pre-vote,
        // so it never bumped its epoch.
        let rounds = network.trace().iter().filter(|l| l.contains(&format!("node {loner}: prospective"))).count();
        assert!(rounds >= 1, "seed {seed}: it kept trying ({rounds} rounds)");
        assert_eq!(network.node(loner).epoch(), epoch, "seed {seed}");
        assert_eq!(network.leaders(), vec![leader], "seed {seed}: the majority kept its leader");

        network.heal();
        network.run_for(5_000);
        assert_eq!(network.stable_leader(), Some((leader, epoch)), "seed {seed}: same leader, same epoch");
    }
}

#[test]
fn kip_996_a_follower_grants_pre_votes_only_until_it_has_fetched_from_its_leader() {
    let mut follower =
        RaftNode::<String>::new(N1, RaftConfig::default(), PersistentState::default(), Rng::new(1)).unwrap();
    follower.start(0);
    follower.handle_message(10, N2, Message::BeginQuorumEpoch(BeginQuorumEpochRequest { epoch: Epoch(1) }));
    assert_eq!((follower.role(), follower.leader()), (Role::Follower, Some(N2)));
    let pre_vote = || {
        Message::Vote(VoteRequest { epoch: Epoch(1), last_offset_epoch: None, last_offset: Offset(0), pre_vote: true })
    };

    // It has not reached its leader yet: maybe the leader is gone, so it may help N3.
    follower.take_outputs();
    follower.handle_message(20, N3, pre_vote());
    assert!(granted(&mut follower));

    // Once a fetch succeeded, the leader is known to be alive: no pre-vote for anyone.
    let answer = FetchResponse {
        epoch: Epoch(1),
        leader: Some(N2),
        fetch_offset: Offset(0),
        last_fetched_epoch: None,
        result: Ok(FetchData { entries: Vec::new(), high_watermark: Offset(0), diverging_epoch: None }),
    };
    follower.handle_message(30, N2, Message::FetchResponse(answer));
    follower.take_outputs();
    follower.handle_message(40, N3, pre_vote());
    assert!(!granted(&mut follower));
    assert_eq!((follower.epoch(), follower.voted_for()), (Epoch(1), None), "a pre-vote changes nothing");
}

#[test]
fn kip_996_an_isolated_leader_resigns_by_check_quorum_and_the_majority_elects_another() {
    let mut network = Network::three_voters(5, Faults::none());
    network.run_until_true(5_000, |n| n.stable_leader().is_some());
    let (old_leader, old_epoch) = network.stable_leader().unwrap();
    network.isolate(old_leader);
    let isolated_at_ms = network.now_ms();
    // No majority fetches from it: after 1.5 x the fetch timeout it resigns.
    network.run_until_true(4_000, |n| n.node(old_leader).role() != Role::Leader);
    let resigned_after_ms = network.now_ms() - isolated_at_ms;
    assert!((2_900..=3_100).contains(&resigned_after_ms), "resigned after {resigned_after_ms} ms");
    assert_eq!(network.node(old_leader).role(), Role::Resigned);
    // Meanwhile the other two elected a leader of a later epoch.
    network.run_until_true(10_000, |n| n.leaders().iter().any(|&l| n.node(l).epoch() > old_epoch));
    network.heal();
    network.run_until_true(5_000, |n| n.stable_leader().is_some());
    let (new_leader, new_epoch) = network.stable_leader().unwrap();
    assert_ne!(new_leader, old_leader);
    assert!(new_epoch > old_epoch);
}

#[test]
fn kip_595_a_graceful_resignation_hands_over_quickly_with_end_quorum_epoch() {
    let mut network = Network::three_voters(8, Faults::none());
    network.run_until_true(5_000, |n| n.stable_leader().is_some());
    let (leader, epoch) = network.stable_leader().unwrap();
    let resigned_at_ms = network.now_ms();
    network.resign(leader).unwrap();
    network.run_until_true(5_000, |n| n.stable_leader().is_some_and(|(_, e)| e > epoch));
    let handover_ms = network.now_ms() - resigned_at_ms;
    // The most caught-up successor campaigns at once instead of waiting out the fetch timeout.
    assert!(handover_ms < 1_000, "handover took {handover_ms} ms");
}

fn granted(node: &mut RaftNode<String>) -> bool {
    node.take_outputs().into_iter().any(|output| {
        matches!(output, kafkalab_core::raft::Output::Send { message: Message::VoteResponse(r), .. } if r.vote_granted)
    })
}
