//! One node of the KRaft quorum: the inputs it takes, its role transitions, and its timers.
//!
//! Inputs are [`RaftNode::handle_message`], [`RaftNode::handle_tick`], [`RaftNode::propose`]
//! and [`RaftNode::resign`]; outputs come out of [`RaftNode::take_outputs`], and
//! [`RaftNode::next_deadline_ms`] says when the next tick is due. Each input applies the
//! common rules first (a later epoch moves the node to it, Raft §5.1), then dispatches on the
//! role, to the handlers in `election.rs` and `replication.rs`. The transitions, in
//! `transition.rs`, follow KIP-595 and KIP-996:
//!
//! ```text
//! from                 on                                              to
//! Unattached (voter)   election timeout                                Prospective
//! Follower             fetch timeout                                   Prospective (an observer: Unattached)
//! Prospective          pre-votes from a majority                       Candidate: epoch + 1, votes for itself
//! Prospective          a majority refused, or election timeout         Follower of the leader it knew, else Unattached
//! Candidate            votes from a majority                           Leader: appends LeaderChange
//! Candidate            election timeout                                Prospective
//! Leader               check quorum fails, or resign()                 Resigned: sends EndQuorumEpoch
//! Resigned             election timeout                                Prospective
//! Unattached, Prosp.   grants a vote                                   Unattached (voted), timer restarted
//! any                  a message from a later epoch                    Follower if it names the leader, else Unattached
//! not leading          BeginQuorumEpoch or a response naming the       Follower
//!                      leader of its epoch
//! ```
//!
//! Observers (nodes outside the voter set) are only ever Unattached or Follower: they look for
//! the leader by fetching from the voters in turn, and never vote or campaign.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use super::config::{RaftConfig, RaftConfigError};
use super::leader::ReplicaProgress;
use super::log::{Payload, RaftLog};
use super::message::{BeginQuorumEpochRequest, Message};
use super::output::{NotLeader, Output, RaftEvent, ResignReason};
use super::state::{Fetcher, PersistentState, Role, RoleState};
use super::{Epoch, ReplicaId};
use crate::ids::Offset;
use crate::rng::Rng;

/// A node of the metadata quorum, voter or observer. See the module docs for the protocol.
#[derive(Clone, Debug)]
pub struct RaftNode<T> {
    pub(super) id: ReplicaId,
    pub(super) config: RaftConfig,
    pub(super) persistent: PersistentState<T>,
    pub(super) role: RoleState,
    /// Entries below it are committed; volatile, so a restarted node learns it again.
    pub(super) high_watermark: Offset,
    pub(super) rng: Rng,
    now_ms: u64,
    outputs: Vec<Output<T>>,
}

impl<T: Clone> RaftNode<T> {
    /// A node with what it persisted before (`PersistentState::default()` the first time).
    /// It does nothing until [`RaftNode::start`].
    pub fn new(
        id: ReplicaId,
        config: RaftConfig,
        persistent: PersistentState<T>,
        rng: Rng,
    ) -> Result<Self, RaftConfigError> {
        config.validate()?;
        if let Some(voted_for) = persistent.quorum.voted_for.filter(|&v| !config.is_voter(v)) {
            return Err(RaftConfigError::VotedForNotAVoter { voted_for });
        }
        if persistent.log.last_epoch() > Some(persistent.quorum.epoch) {
            return Err(RaftConfigError::LogAheadOfEpoch);
        }
        let role = RoleState::Unattached { election_deadline_ms: u64::MAX, fetcher: Fetcher::default() };
        Ok(RaftNode { id, config, persistent, role, high_watermark: Offset(0), rng, now_ms: 0, outputs: Vec::new() })
    }

    /// Starts (or restarts after a crash) as Unattached in the persisted epoch.
    pub fn start(&mut self, now_ms: u64) {
        self.advance_clock(now_ms);
        self.become_unattached(now_ms, self.epoch());
        self.validate();
    }

    // ----- the view -----

    pub fn id(&self) -> ReplicaId {
        self.id
    }

    pub fn config(&self) -> &RaftConfig {
        &self.config
    }

    pub fn is_voter(&self) -> bool {
        self.config.is_voter(self.id)
    }

    pub fn role(&self) -> Role {
        self.role.role()
    }

    pub fn epoch(&self) -> Epoch {
        self.persistent.quorum.epoch
    }

    pub fn voted_for(&self) -> Option<ReplicaId> {
        self.persistent.quorum.voted_for
    }

    /// The leader of the current epoch, if this node knows it (a prospective node remembers
    /// the leader it followed, as KRaft's `ProspectiveState` does).
    pub fn leader(&self) -> Option<ReplicaId> {
        match &self.role {
            RoleState::Follower(follower) => Some(follower.leader),
            RoleState::Leader(_) => Some(self.id),
            RoleState::Prospective { leader, .. } => *leader,
            _ => None,
        }
    }

    pub fn log(&self) -> &RaftLog<T> {
        &self.persistent.log
    }

    pub fn log_end_offset(&self) -> Offset {
        self.persistent.log.end_offset()
    }

    pub fn high_watermark(&self) -> Offset {
        self.high_watermark
    }

    /// What the driver must keep across a crash.
    pub fn persistent_state(&self) -> &PersistentState<T> {
        &self.persistent
    }

    /// On the leader, how far each other replica has fetched.
    pub fn replica_progress(&self) -> Option<&BTreeMap<ReplicaId, ReplicaProgress>> {
        match &self.role {
            RoleState::Leader(leader) => Some(&leader.replicas),
            _ => None,
        }
    }

    /// When [`RaftNode::handle_tick`] next has something to do.
    pub fn next_deadline_ms(&self) -> u64 {
        let fetcher_deadline = |fetcher: &Fetcher| match fetcher.in_flight_since_ms {
            Some(since) => since + self.config.request_timeout_ms,
            None => fetcher.next_fetch_ms,
        };
        match &self.role {
            RoleState::Unattached { election_deadline_ms, .. } if self.is_voter() => *election_deadline_ms,
            RoleState::Unattached { fetcher, .. } => fetcher_deadline(fetcher),
            RoleState::Follower(follower) => follower.fetch_deadline_ms.min(fetcher_deadline(&follower.fetcher)),
            RoleState::Prospective { election, .. } | RoleState::Candidate { election } => {
                election.election_deadline_ms
            }
            RoleState::Leader(leader) => leader.next_deadline_ms(),
            RoleState::Resigned { election_deadline_ms } => *election_deadline_ms,
        }
    }

    /// Everything the node asked for since the last call, in order.
    pub fn take_outputs(&mut self) -> Vec<Output<T>> {
        core::mem::take(&mut self.outputs)
    }

    // ----- inputs -----

    pub fn handle_message(&mut self, now_ms: u64, from: ReplicaId, message: Message<T>) {
        self.advance_clock(now_ms);
        if from == self.id {
            debug_assert!(false, "node {} got a message from itself", self.id);
            return;
        }
        match message {
            Message::Vote(request) => self.handle_vote_request(now_ms, from, request),
            Message::VoteResponse(response) => self.handle_vote_response(now_ms, from, response),
            Message::BeginQuorumEpoch(request) => self.handle_begin_quorum_epoch(now_ms, from, request),
            Message::BeginQuorumEpochResponse(response) => {
                self.handle_begin_quorum_epoch_response(now_ms, from, response)
            }
            Message::EndQuorumEpoch(request) => self.handle_end_quorum_epoch(now_ms, from, request),
            Message::Fetch(request) => self.handle_fetch_request(now_ms, from, request),
            Message::FetchResponse(response) => self.handle_fetch_response(now_ms, from, response),
        }
        self.validate();
    }

    /// Fires whatever timers are due at `now_ms`; calling it early is harmless.
    pub fn handle_tick(&mut self, now_ms: u64) {
        self.advance_clock(now_ms);
        match &self.role {
            RoleState::Unattached { election_deadline_ms, .. } if self.is_voter() => {
                if now_ms >= *election_deadline_ms {
                    self.become_prospective(now_ms);
                }
            }
            RoleState::Unattached { .. } => self.poll_fetcher(now_ms),
            RoleState::Follower(follower) if now_ms >= follower.fetch_deadline_ms => {
                if self.is_voter() {
                    self.become_prospective(now_ms);
                } else {
                    self.become_unattached(now_ms, self.epoch());
                }
            }
            RoleState::Follower(_) => self.poll_fetcher(now_ms),
            RoleState::Prospective { election, .. } if now_ms >= election.election_deadline_ms => {
                self.end_pre_vote_round(now_ms)
            }
            RoleState::Candidate { election } if now_ms >= election.election_deadline_ms => {
                self.become_prospective(now_ms)
            }
            RoleState::Prospective { .. } | RoleState::Candidate { .. } => {}
            RoleState::Leader(_) => self.tick_leader(now_ms),
            RoleState::Resigned { election_deadline_ms } if now_ms >= *election_deadline_ms => {
                self.become_prospective(now_ms)
            }
            RoleState::Resigned { .. } => {}
        }
        self.validate();
    }

    /// Appends `entry` to the log, if this node leads; returns its offset. It is committed
    /// once a majority of voters have it, and comes out in `Output::Committed` then.
    pub fn propose(&mut self, entry: T) -> Result<Offset, NotLeader> {
        if !matches!(self.role, RoleState::Leader(_)) {
            return Err(NotLeader { epoch: self.epoch(), leader: self.leader() });
        }
        let offset = self.persistent.log.append_as_leader(self.epoch(), Payload::Data(entry));
        self.answer_parked_fetches();
        self.maybe_advance_leader_high_watermark();
        self.validate();
        Ok(offset)
    }

    /// Steps down gracefully, telling the voters with EndQuorumEpoch so one takes over soon.
    pub fn resign(&mut self, now_ms: u64) -> Result<(), NotLeader> {
        self.advance_clock(now_ms);
        if !matches!(self.role, RoleState::Leader(_)) {
            return Err(NotLeader { epoch: self.epoch(), leader: self.leader() });
        }
        self.become_resigned(now_ms, ResignReason::Requested);
        self.validate();
        Ok(())
    }

    pub(super) fn tick_leader(&mut self, now_ms: u64) {
        let RoleState::Leader(leader) = &mut self.role else { unreachable!("tick_leader on a leader") };
        if leader.check_quorum_failed(now_ms) {
            self.become_resigned(now_ms, ResignReason::CheckQuorumFailed);
            return;
        }
        let begin_quorum_due: Vec<ReplicaId> = if now_ms >= leader.next_begin_quorum_ms {
            leader.next_begin_quorum_ms = now_ms + self.config.request_timeout_ms;
            leader.unacknowledged.iter().copied().collect()
        } else {
            Vec::new()
        };
        for voter in begin_quorum_due {
            self.send(voter, Message::BeginQuorumEpoch(BeginQuorumEpochRequest { epoch: self.epoch() }));
        }
        self.answer_expired_fetches(now_ms);
    }

    // ----- plumbing -----

    fn advance_clock(&mut self, now_ms: u64) {
        assert!(now_ms >= self.now_ms, "time went back from {} to {now_ms}", self.now_ms);
        self.now_ms = now_ms;
    }

    pub(super) fn send(&mut self, to: ReplicaId, message: Message<T>) {
        self.outputs.push(Output::Send { to, message });
    }

    pub(super) fn trace(&mut self, event: RaftEvent) {
        self.outputs.push(Output::Trace(event));
    }

    pub(super) fn emit(&mut self, output: Output<T>) {
        self.outputs.push(output);
    }

    /// The invariants that hold after every input; cheap enough to check every time.
    fn validate(&self) {
        let log = &self.persistent.log;
        assert!(self.high_watermark <= log.end_offset(), "hw {} > log end {}", self.high_watermark, log.end_offset());
        assert!(log.last_epoch() <= Some(self.epoch()), "the log holds an entry from a later epoch");
        if !self.is_voter() {
            assert!(matches!(self.role(), Role::Unattached | Role::Follower), "an observer only follows");
        }
        match &self.role {
            RoleState::Candidate { .. } | RoleState::Leader(_) => {
                assert_eq!(self.voted_for(), Some(self.id), "a candidate votes for itself")
            }
            _ => {}
        }
        if let RoleState::Leader(leader) = &self.role {
            let start = log.entry(leader.epoch_start_offset).map(|entry| entry.epoch);
            assert_eq!(start, Some(self.epoch()), "the leader's epoch starts with its LeaderChange entry");
        }
    }

    /// The whole-log check (offsets contiguous, epochs ordered): linear, so tests call it.
    pub fn check_log(&self) -> Result<(), super::log::RaftLogError> {
        self.persistent.log.validate()
    }
}
