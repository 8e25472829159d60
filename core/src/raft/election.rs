//! Elections: Vote and pre-vote (Raft §5.2 and §5.4.1, KIP-996), BeginQuorumEpoch and
//! EndQuorumEpoch (KIP-595), and the rules every message obeys about epochs (Raft §5.1).
//!
//! Vote granting: at most one vote per epoch, persisted, only for a candidate whose log is
//! at least as up-to-date (last epoch, then log end offset), and never while this node knows
//! the epoch's leader. A pre-vote changes nothing at the receiver; it is granted on the same
//! log check, unless the receiver leads, resigned, or follows a leader it has fetched from
//! (KRaft's `hasFetchedFromLeader`), so a node cut off from a healthy leader cannot win one.

use super::message::{
    BeginQuorumEpochRequest, BeginQuorumEpochResponse, EndQuorumEpochRequest, Message, RaftError, VoteRequest,
    VoteResponse,
};
use super::node::RaftNode;
use super::output::RaftEvent;
use super::state::{FollowerState, RoleState};
use super::{Epoch, ReplicaId};

impl<T: Clone> RaftNode<T> {
    /// Raft §5.1: a message from a later epoch moves this node to that epoch, as a follower
    /// when the message names the leader and otherwise as unattached.
    pub(super) fn observe_epoch(&mut self, now_ms: u64, epoch: Epoch, leader: Option<ReplicaId>) {
        if epoch <= self.epoch() {
            return;
        }
        match leader.filter(|&leader| leader != self.id) {
            Some(leader) => self.become_follower(now_ms, epoch, leader),
            None => self.become_unattached(now_ms, epoch),
        }
    }

    /// KRaft's `maybeHandleCommonResponse`: also follow a leader named for the current epoch.
    pub(super) fn observe_leader(&mut self, now_ms: u64, epoch: Epoch, leader: Option<ReplicaId>) {
        self.observe_epoch(now_ms, epoch, leader);
        let Some(leader) = leader.filter(|&leader| leader != self.id) else {
            return;
        };
        if epoch != self.epoch() {
            return;
        }
        match &self.role {
            // A prospective node that remembers this leader is checking whether it is still
            // there; hearing its name again is no news (KRaft: only a node without a leader
            // transitions on a response).
            RoleState::Follower(FollowerState { leader: known, .. })
            | RoleState::Prospective { leader: Some(known), .. }
                if *known == leader => {}
            RoleState::Follower(follower) => {
                panic!("election safety: epoch {epoch} has two leaders, {} and {leader}", follower.leader)
            }
            RoleState::Leader(_) | RoleState::Resigned { .. } => {
                panic!("election safety: {} led epoch {epoch}, yet {leader} claims it", self.id)
            }
            _ => self.become_follower(now_ms, epoch, leader),
        }
    }

    pub(super) fn handle_vote_request(&mut self, now_ms: u64, from: ReplicaId, request: VoteRequest) {
        if !self.is_voter() || !self.config.is_voter(from) {
            self.answer_vote(from, request.pre_vote, false, Some(RaftError::InconsistentVoterSet));
            return;
        }
        if request.epoch < self.epoch() {
            self.answer_vote(from, request.pre_vote, false, Some(RaftError::FencedLeaderEpoch));
            return;
        }
        // A pre-vote's epoch is the sender's current one, so it is as real as any other.
        self.observe_epoch(now_ms, request.epoch, None);
        let log_ok = self.log().is_behind_or_equal(request.last_offset_epoch, request.last_offset);
        let granted =
            if request.pre_vote { self.can_grant_pre_vote(log_ok) } else { self.can_grant_vote(from, log_ok) };
        if granted {
            if !request.pre_vote {
                self.grant_vote(now_ms, from);
            }
            self.trace(RaftEvent::VoteGranted { epoch: self.epoch(), candidate: from, pre_vote: request.pre_vote });
        }
        self.answer_vote(from, request.pre_vote, granted, None);
    }

    fn can_grant_pre_vote(&self, log_ok: bool) -> bool {
        match &self.role {
            RoleState::Leader(_) | RoleState::Resigned { .. } => false,
            RoleState::Follower(follower) => log_ok && !follower.has_fetched_from_leader,
            RoleState::Unattached { .. } | RoleState::Prospective { .. } | RoleState::Candidate { .. } => log_ok,
        }
    }

    fn can_grant_vote(&self, candidate: ReplicaId, log_ok: bool) -> bool {
        let vote_free = self.voted_for().is_none_or(|voted_for| voted_for == candidate);
        match &self.role {
            RoleState::Unattached { .. } => vote_free && log_ok,
            RoleState::Prospective { leader, .. } => leader.is_none() && vote_free && log_ok,
            // A candidate voted for itself; the others know this epoch's leader.
            _ => false,
        }
    }

    fn answer_vote(&mut self, to: ReplicaId, pre_vote: bool, vote_granted: bool, error: Option<RaftError>) {
        let response = VoteResponse { error, epoch: self.epoch(), leader: self.leader(), vote_granted, pre_vote };
        self.send(to, Message::VoteResponse(response));
    }

    pub(super) fn handle_vote_response(&mut self, now_ms: u64, from: ReplicaId, response: VoteResponse) {
        self.observe_leader(now_ms, response.epoch, response.leader);
        // Answers count only for the epoch asked about, and only from voters.
        if response.epoch != self.epoch() || response.error.is_some() || !self.config.is_voter(from) {
            return;
        }
        let (won, lost) = match &mut self.role {
            RoleState::Prospective { election, .. } if response.pre_vote => {
                election.tally.record(from, response.vote_granted);
                (election.tally.is_won(), election.tally.is_lost())
            }
            RoleState::Candidate { election } if !response.pre_vote => {
                election.tally.record(from, response.vote_granted);
                (election.tally.is_won(), false)
            }
            _ => return,
        };
        match (&self.role, won, lost) {
            (RoleState::Prospective { .. }, true, _) => self.become_candidate(now_ms),
            (RoleState::Prospective { .. }, false, true) => self.end_pre_vote_round(now_ms),
            (RoleState::Candidate { .. }, true, _) => self.become_leader(now_ms),
            _ => {}
        }
    }

    pub(super) fn handle_begin_quorum_epoch(&mut self, now_ms: u64, from: ReplicaId, request: BeginQuorumEpochRequest) {
        let error = if request.epoch < self.epoch() {
            Some(RaftError::FencedLeaderEpoch)
        } else {
            self.observe_leader(now_ms, request.epoch, Some(from));
            None
        };
        let response = BeginQuorumEpochResponse { error, epoch: self.epoch(), leader: self.leader() };
        self.send(from, Message::BeginQuorumEpochResponse(response));
    }

    pub(super) fn handle_begin_quorum_epoch_response(
        &mut self,
        now_ms: u64,
        from: ReplicaId,
        response: BeginQuorumEpochResponse,
    ) {
        // FENCED_LEADER_EPOCH from a voter of a later epoch makes a stale leader step down here.
        self.observe_leader(now_ms, response.epoch, response.leader);
        let epoch = self.epoch();
        if let RoleState::Leader(leader) = &mut self.role {
            if response.epoch == epoch && response.error.is_none() {
                leader.unacknowledged.remove(&from);
            }
        }
    }

    /// The leader resigned: its preferred successors campaign soon, the most caught up first,
    /// instead of waiting out the fetch timeout; all of them now grant pre-votes.
    pub(super) fn handle_end_quorum_epoch(&mut self, now_ms: u64, from: ReplicaId, request: EndQuorumEpochRequest) {
        self.observe_epoch(now_ms, request.epoch, None);
        let (epoch, me, step_ms) = (self.epoch(), self.id, self.config.election_timeout_ms / 2);
        if let RoleState::Follower(follower) = &mut self.role {
            if follower.leader == from && request.epoch == epoch {
                let rank = request.preferred_successors.iter().position(|&id| id == me).unwrap_or(usize::MAX / 2);
                let backoff_ms = step_ms.saturating_mul(rank as u64);
                follower.fetch_deadline_ms = follower.fetch_deadline_ms.min(now_ms.saturating_add(backoff_ms));
                follower.has_fetched_from_leader = false;
            }
        }
    }
}
