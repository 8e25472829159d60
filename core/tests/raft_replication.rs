//! Replication by Fetch in the KRaft quorum: what is committed stays committed and is applied
//! in one order everywhere; a cut-off leader commits nothing; observers follow but never count.

mod raft_network;

use kafkalab_core::raft::{
    Epoch, FetchRequest, Message, Output, PersistentState, RaftConfig, RaftError, RaftNode, ReplicaId, Role,
    VoteRequest,
};
use kafkalab_core::rng::Rng;
use kafkalab_core::Offset;
use raft_network::{Faults, Network, N1, N2, N3};

fn elect(network: &mut Network) -> ReplicaId {
    network.run_until_true(10_000, |n| n.stable_leader().is_some());
    network.stable_leader().unwrap().0
}

fn others(leader: ReplicaId) -> Vec<ReplicaId> {
    [N1, N2, N3].into_iter().filter(|&id| id != leader).collect()
}

#[test]
fn raft_5_4_committed_entries_survive_leader_changes_and_apply_in_one_order_everywhere() {
    let mut network = Network::three_voters(42, Faults::none());
    let first = elect(&mut network);
    for entry in ["a", "b", "c"] {
        network.propose(first, entry).unwrap();
    }
    network.run_for(200);
    assert_eq!(network.committed_data(), ["a", "b", "c"]);
    let committed_before = network.oracle.committed.clone();

    // The leader crashes; the other two elect a new one, which keeps a, b, c.
    network.crash(first);
    let second = elect(&mut network);
    assert_ne!(second, first);
    network.propose(second, "d").unwrap();
    network.propose(second, "e").unwrap();
    network.run_for(200);
    network.restart(first);

    // Then the second leader crashes too, after the first came back.
    network.run_for(500);
    network.crash(second);
    let third = elect(&mut network);
    network.propose(third, "f").unwrap();
    network.restart(second);
    network.run_for(3_000);

    assert_eq!(network.committed_data(), ["a", "b", "c", "d", "e", "f"]);
    for (offset, entry) in &committed_before {
        assert_eq!(network.oracle.committed.get(offset), Some(entry), "offset {offset} changed after commit");
    }
    // Every node, restarted or not, applied the same entries in the same order (control
    // records, one per epoch, shown as `*`).
    let reference = network.applied(third);
    assert!(reference.len() >= 9, "{reference:?}");
    for id in [N1, N2, N3] {
        assert_eq!(network.applied(id), reference, "node {id}");
        assert_eq!(network.node(id).log().entries(), network.node(third).log().entries(), "log matching, node {id}");
        network.node(id).check_log().unwrap();
    }
}

#[test]
fn raft_5_4_2_a_partitioned_old_leader_commits_nothing_and_truncates_its_tail_after_the_heal() {
    let mut network = Network::three_voters(7, Faults::none());
    let old_leader = elect(&mut network);
    network.propose(old_leader, "before").unwrap();
    network.run_for(100);
    assert_eq!(network.committed_data(), ["before"]);

    // Cut off from the majority, it still takes proposals for a while, but cannot commit them.
    network.isolate(old_leader);
    let lost_offset = network.propose(old_leader, "lost-1").unwrap();
    network.propose(old_leader, "lost-2").unwrap();
    network.run_for(1_000);
    network.propose(old_leader, "lost-3").unwrap();
    let new_leader = {
        network.run_until_true(10_000, |n| n.leaders().iter().any(|&l| l != old_leader));
        *network.leaders().iter().find(|&&l| l != old_leader).unwrap()
    };
    network.propose(new_leader, "after").unwrap();
    network.run_for(5_000);
    assert_eq!(network.committed_data(), ["before", "after"]);
    assert!(network.node(old_leader).high_watermark() <= lost_offset, "the old leader's hw never covered its tail");
    assert_ne!(network.node(old_leader).role(), Role::Leader, "check quorum made it step down");

    // After the heal it follows the new leader and drops the tail nobody else has.
    network.heal();
    network.run_until_true(5_000, |n| n.stable_leader().is_some_and(|(l, _)| l == new_leader));
    network.run_for(1_000);
    let truncations = network.trace().iter().filter(|l| l.contains(&format!("node {old_leader}: truncate"))).count();
    assert!(truncations >= 1, "it truncated\n{}", network.trace_tail(30));
    assert_eq!(network.node(old_leader).log().entries(), network.node(new_leader).log().entries());
    assert_eq!(network.applied(old_leader), network.applied(new_leader));
    assert!(network.applied(old_leader).iter().all(|entry| !entry.starts_with("lost")));
}

#[test]
fn kip_595_observers_replicate_the_log_and_learn_the_high_watermark_but_never_vote_or_count() {
    let observer = ReplicaId(4);
    let mut network = Network::new(9, RaftConfig::default(), &[observer], Faults::none());
    let leader = elect(&mut network);
    for entry in ["a", "b", "c"] {
        network.propose(leader, entry).unwrap();
    }
    network.run_for(500);
    let node = network.node(observer);
    assert_eq!((node.role(), node.leader()), (Role::Follower, Some(leader)));
    assert_eq!(node.log().entries(), network.node(leader).log().entries());
    assert_eq!(node.high_watermark(), network.node(leader).high_watermark());
    assert_eq!(network.applied(observer), network.applied(leader));

    // With both other voters down, the leader and the observer hold a new entry: two of
    // four nodes, but only one of three voters, so it is not committed.
    for voter in others(leader) {
        network.crash(voter);
    }
    let offset = network.propose(leader, "not-yet").unwrap();
    network.run_for(1_000);
    assert_eq!(network.node(observer).log_end_offset(), offset.next(), "the observer has it");
    assert!(network.node(leader).high_watermark() <= offset, "but it does not count toward the high watermark");
    assert_eq!(network.committed_data(), ["a", "b", "c"]);

    // Alone for a long time, the observer never campaigns; it asks the voters who leads.
    network.isolate(observer);
    network.run_for(20_000);
    let observer_lines: Vec<&String> =
        network.trace().iter().filter(|l| l.contains(&format!("node {observer}:"))).collect();
    assert!(observer_lines
        .iter()
        .all(|l| !l.contains("prospective") && !l.contains("candidate") && !l.contains("vote")));
    assert!(matches!(network.node(observer).role(), Role::Follower | Role::Unattached));

    // And a vote request to an observer is refused as INCONSISTENT_VOTER_SET.
    let mut lone =
        RaftNode::<String>::new(observer, RaftConfig::default(), PersistentState::default(), Rng::new(1)).unwrap();
    lone.start(0);
    let request = VoteRequest { epoch: Epoch(9), last_offset_epoch: None, last_offset: Offset(0), pre_vote: false };
    lone.handle_message(1, N1, Message::Vote(request));
    let refused = lone.take_outputs().into_iter().any(|output| {
        matches!(output, Output::Send { message: Message::VoteResponse(r), .. }
            if !r.vote_granted && r.error == Some(RaftError::InconsistentVoterSet))
    });
    assert!(refused);
    assert_eq!(lone.voted_for(), None);
}

/// A quorum of one: it elects itself, and commits on its own. Returns it and the time.
fn single_voter_leader() -> (RaftNode<String>, u64) {
    let config = RaftConfig { voters: vec![N1], ..RaftConfig::default() };
    let mut node = RaftNode::new(N1, config, PersistentState::default(), Rng::new(3)).unwrap();
    node.start(0);
    let now_ms = node.next_deadline_ms();
    node.handle_tick(now_ms);
    assert_eq!((node.role(), node.epoch()), (Role::Leader, Epoch(1)));
    node.propose("solo".to_string()).unwrap();
    assert_eq!(node.high_watermark(), Offset(2), "LeaderChange and the entry");
    node.take_outputs();
    (node, now_ms)
}

fn fetch_answer(node: &mut RaftNode<String>) -> Option<(Epoch, Option<ReplicaId>, Result<usize, RaftError>)> {
    node.take_outputs().into_iter().find_map(|output| match output {
        Output::Send { message: Message::FetchResponse(r), .. } => {
            Some((r.epoch, r.leader, r.result.map(|data| data.entries.len())))
        }
        _ => None,
    })
}

#[test]
fn kip_595_a_fetch_from_an_older_epoch_is_fenced_and_a_later_epoch_deposes_the_leader() {
    let (mut leader, now_ms) = single_voter_leader();
    let fetch = |epoch| Message::Fetch(FetchRequest { epoch, fetch_offset: Offset(0), last_fetched_epoch: None });

    leader.handle_message(now_ms + 10, ReplicaId(7), fetch(Epoch(0)));
    assert_eq!(fetch_answer(&mut leader), Some((Epoch(1), Some(N1), Err(RaftError::FencedLeaderEpoch))));

    leader.handle_message(now_ms + 20, ReplicaId(7), fetch(Epoch(1)));
    assert_eq!(fetch_answer(&mut leader), Some((Epoch(1), Some(N1), Ok(2))), "an observer gets the log");

    // Someone has seen epoch 2: a leader of epoch 1 is no longer one (Raft §5.1).
    leader.handle_message(now_ms + 30, ReplicaId(7), fetch(Epoch(2)));
    assert_eq!(fetch_answer(&mut leader), Some((Epoch(2), None, Err(RaftError::NotLeaderOrFollower))));
    assert_eq!(leader.role(), Role::Unattached);
    assert!(leader.propose("late".to_string()).is_err());
}

#[test]
fn raft_5_4_2_figure_8_an_old_epoch_entry_on_a_majority_is_not_committed_by_counting() {
    // Raft's Figure 8 on three voters. One entry per fetch response lets us stop the run
    // between a follower receiving an old entry and receiving the new leader's LeaderChange.
    let config = RaftConfig { max_fetch_entries: 1, ..RaftConfig::default() };
    let mut network = Network::new(8, config, &[], Faults::none());
    let a = elect(&mut network);
    network.propose(a, "base").unwrap();
    network.run_for(500);
    assert_eq!(network.committed_data(), ["base"]);

    // (a) A, cut off, appends X at offset k in its epoch; nobody else gets it.
    network.isolate(a);
    let k = network.propose(a, "X").unwrap();
    let epoch_of_x = network.node(a).epoch();

    // (b) The other two elect B; B is cut off the moment it wins, before C hears from it.
    network.partition(&[&others(a), &[a]]);
    network.run_until_true(10_000, |n| !n.leaders().iter().all(|&l| l == a));
    let b = *network.leaders().iter().find(|&&l| l != a).unwrap();
    let c = others(a).into_iter().find(|&id| id != b).unwrap();
    network.partition(&[&[a, c], &[b]]);
    assert!(network.node(c).log_end_offset() <= k, "C never got B's LeaderChange");

    // (c) A, with the longer log, wins C's vote for a later epoch, and C fetches X, alone.
    network.run_until_true(20_000, |n| {
        n.node(a).replica_progress().is_some_and(|p| p.get(&c).and_then(|r| r.end_offset) == Some(k.next()))
    });
    assert!(network.node(a).epoch() > epoch_of_x);
    assert_eq!(network.node(c).log().entry(k).map(|e| e.epoch), Some(epoch_of_x), "a majority holds X");
    // X is on a majority, but it is from an older epoch: counting replicas does not commit it.
    assert_eq!(network.node(a).high_watermark(), k, "Raft §5.4.2: no commit by counting");

    // (d) A dies before C gets A's LeaderChange. B, whose last epoch is later, wins C's vote
    // and overwrites X. Had X been committed, the oracle would have stopped the run here.
    network.crash(a);
    network.partition(&[&[b, c], &[a]]);
    network
        .run_until_true(20_000, |n| n.stable_leader().is_some_and(|(l, _)| l == b) && n.node(c).high_watermark() > k);
    assert_ne!(network.node(c).log().entry(k).map(|e| e.epoch), Some(epoch_of_x), "X was overwritten");
    assert_eq!(network.committed_data(), ["base"]);
}
