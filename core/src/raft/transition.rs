//! A node's role transitions (KIP-595's state machine, with KIP-996's Prospective): each
//! `become_*` leaves the old role's state behind, persists what Raft (Figure 2) requires
//! before anything is sent, and says what it did in the trace.

use super::leader::LeaderState;
use super::log::Payload;
use super::message::{EndQuorumEpochRequest, Message, VoteRequest};
use super::node::RaftNode;
use super::output::{RaftEvent, ResignReason};
use super::quorum::VoteTally;
use super::state::{Election, Fetcher, FollowerState, RoleState};
use super::{Epoch, ReplicaId};

impl<T: Clone> RaftNode<T> {
    /// Moves to `epoch` (never back); a new epoch starts without a vote.
    pub(super) fn set_epoch(&mut self, epoch: Epoch) {
        assert!(epoch >= self.epoch(), "epoch went back from {} to {epoch}", self.epoch());
        if epoch > self.epoch() {
            self.persistent.quorum.epoch = epoch;
            self.persistent.quorum.voted_for = None;
        }
    }

    pub(super) fn become_unattached(&mut self, now_ms: u64, epoch: Epoch) {
        self.set_epoch(epoch);
        let election_deadline_ms = if self.is_voter() { now_ms + self.election_timeout_ms() } else { u64::MAX };
        let fetcher = Fetcher { next_fetch_ms: now_ms, ..Fetcher::default() };
        self.role = RoleState::Unattached { election_deadline_ms, fetcher };
        self.trace(RaftEvent::Unattached { epoch, voted_for: self.voted_for() });
        self.poll_fetcher(now_ms);
    }

    /// Raft §5.2: at most one vote per epoch, persisted before the answer goes out; granting
    /// it restarts the election timer.
    pub(super) fn grant_vote(&mut self, now_ms: u64, candidate: ReplicaId) {
        let voted_for = self.persistent.quorum.voted_for;
        assert!(voted_for.is_none_or(|v| v == candidate), "second vote in epoch {}", self.epoch());
        self.persistent.quorum.voted_for = Some(candidate);
        self.become_unattached(now_ms, self.epoch());
    }

    pub(super) fn become_follower(&mut self, now_ms: u64, epoch: Epoch, leader: ReplicaId) {
        assert_ne!(leader, self.id, "a node does not follow itself");
        self.set_epoch(epoch);
        self.role = RoleState::Follower(FollowerState {
            leader,
            fetch_deadline_ms: now_ms + self.config.fetch_timeout_ms,
            has_fetched_from_leader: false,
            fetcher: Fetcher { next_fetch_ms: now_ms, ..Fetcher::default() },
        });
        self.trace(RaftEvent::Follower { epoch, leader });
        self.poll_fetcher(now_ms);
    }

    /// KIP-996: ask the other voters whether they would vote, without bumping the epoch.
    pub(super) fn become_prospective(&mut self, now_ms: u64) {
        assert!(self.is_voter(), "observers never campaign");
        let leader = match &self.role {
            RoleState::Follower(follower) => Some(follower.leader),
            _ => None,
        };
        let election = self.new_election(now_ms);
        self.role = RoleState::Prospective { election, leader };
        self.trace(RaftEvent::Prospective { epoch: self.epoch() });
        self.request_votes(true);
        if self.tally_won() {
            self.become_candidate(now_ms);
        }
    }

    /// KIP-996: a pre-vote round that was lost or timed out goes back to the leader it knew
    /// (which it may reach again), or to waiting.
    pub(super) fn end_pre_vote_round(&mut self, now_ms: u64) {
        match self.leader() {
            Some(leader) if leader != self.id => self.become_follower(now_ms, self.epoch(), leader),
            _ => self.become_unattached(now_ms, self.epoch()),
        }
    }

    /// Raft §5.2: bump the epoch, vote for itself, ask the others.
    pub(super) fn become_candidate(&mut self, now_ms: u64) {
        assert!(matches!(self.role, RoleState::Prospective { .. }), "only a prospective node becomes candidate");
        self.set_epoch(self.epoch().next());
        self.persistent.quorum.voted_for = Some(self.id);
        let election = self.new_election(now_ms);
        self.role = RoleState::Candidate { election };
        self.trace(RaftEvent::Candidate { epoch: self.epoch() });
        self.request_votes(false);
        if self.tally_won() {
            self.become_leader(now_ms);
        }
    }

    /// Won the epoch: append LeaderChange so this epoch has an entry to commit (§5.4.2), and
    /// tell the voters with BeginQuorumEpoch (sent from the tick, until acknowledged).
    pub(super) fn become_leader(&mut self, now_ms: u64) {
        assert!(self.tally_won(), "a leader won its election");
        let epoch = self.epoch();
        let voters = self.config.voters.clone();
        let start = self.persistent.log.append_as_leader(epoch, Payload::LeaderChange { leader: self.id, voters });
        let timeout = self.config.check_quorum_timeout_ms();
        self.role = RoleState::Leader(LeaderState::new(now_ms, self.id, &self.config.voters, start, timeout));
        self.trace(RaftEvent::Leader { epoch, epoch_start_offset: start });
        self.tick_leader(now_ms);
        self.maybe_advance_leader_high_watermark();
    }

    pub(super) fn become_resigned(&mut self, now_ms: u64, reason: ResignReason) {
        let RoleState::Leader(leader) = &self.role else { unreachable!("only a leader resigns") };
        // Held fetches are dropped: their senders ask again, and learn there is no leader.
        let preferred_successors = leader.preferred_successors();
        let election_deadline_ms = now_ms + self.election_timeout_ms();
        self.role = RoleState::Resigned { election_deadline_ms };
        self.trace(RaftEvent::Resigned { epoch: self.epoch(), reason });
        for &voter in &preferred_successors {
            let request =
                EndQuorumEpochRequest { epoch: self.epoch(), preferred_successors: preferred_successors.clone() };
            self.send(voter, Message::EndQuorumEpoch(request));
        }
    }

    pub(super) fn new_election(&mut self, now_ms: u64) -> Election {
        Election {
            tally: VoteTally::new(self.config.voters.len(), self.id),
            election_deadline_ms: now_ms + self.election_timeout_ms(),
        }
    }

    pub(super) fn request_votes(&mut self, pre_vote: bool) {
        let request = VoteRequest {
            epoch: self.epoch(),
            last_offset_epoch: self.persistent.log.last_epoch(),
            last_offset: self.log_end_offset(),
            pre_vote,
        };
        for voter in self.config.voters.clone() {
            if voter != self.id {
                self.send(voter, Message::Vote(request.clone()));
            }
        }
    }

    pub(super) fn tally_won(&self) -> bool {
        match &self.role {
            RoleState::Prospective { election, .. } | RoleState::Candidate { election } => election.tally.is_won(),
            _ => false,
        }
    }

    /// KIP-595's randomized election timeout, uniform in `[timeout, 2 * timeout)`.
    pub(super) fn election_timeout_ms(&mut self) -> u64 {
        let timeout = self.config.election_timeout_ms;
        self.rng.between(timeout, 2 * timeout - 1)
    }
}
