//! Replication by Fetch (KIP-595): followers and observers pull from the leader, which
//! checks that their log matches its own (Raft §5.3's consistency check, done with KIP-320's
//! diverging epoch), hands out entries, and moves the high watermark once a majority of
//! voters hold an entry of its own epoch (Raft §5.4.2). Followers learn the high watermark
//! from the answers.
//!
//! A fetch with nothing new is held by the leader up to the fetch max wait and answered as
//! soon as entries or a new high watermark arrive, so an idle quorum still hears from its
//! leader twice a second, well within the fetch timeout.

use super::message::{FetchData, FetchRequest, FetchResponse, Message, RaftError};
use super::node::RaftNode;
use super::output::{Output, RaftEvent};
use super::state::RoleState;
use super::{Epoch, ReplicaId};
use crate::ids::Offset;

impl<T: Clone> RaftNode<T> {
    /// Sends this node's one outstanding fetch when it is due, or again when its answer is
    /// overdue. A follower fetches from its leader; an observer with no leader asks the voters
    /// in turn, and the one it asks tells it who leads.
    pub(super) fn poll_fetcher(&mut self, now_ms: u64) {
        let is_voter = self.is_voter();
        let voters = &self.config.voters;
        let (target, fetcher) = match &mut self.role {
            RoleState::Follower(follower) => (follower.leader, &mut follower.fetcher),
            RoleState::Unattached { fetcher, .. } if !is_voter => (voters[fetcher.probe_index % voters.len()], fetcher),
            _ => return,
        };
        if let Some(since_ms) = fetcher.in_flight_since_ms {
            if now_ms < since_ms + self.config.request_timeout_ms {
                return;
            }
            fetcher.in_flight_since_ms = None;
            fetcher.probe_index += 1;
        }
        if now_ms < fetcher.next_fetch_ms {
            return;
        }
        fetcher.in_flight_since_ms = Some(now_ms);
        let request = FetchRequest {
            epoch: self.persistent.quorum.epoch,
            fetch_offset: self.persistent.log.end_offset(),
            last_fetched_epoch: self.persistent.log.last_epoch(),
        };
        self.send(target, Message::Fetch(request));
    }

    /// The leader's side (KRaft's `handleFetchRequest`).
    pub(super) fn handle_fetch_request(&mut self, now_ms: u64, from: ReplicaId, request: FetchRequest) {
        if request.epoch < self.epoch() {
            self.refuse_fetch(from, &request, RaftError::FencedLeaderEpoch);
            return;
        }
        self.observe_epoch(now_ms, request.epoch, None);
        let is_voter = self.config.is_voter(from);
        let check_quorum_timeout_ms = self.config.check_quorum_timeout_ms();
        let diverging = self.persistent.log.divergence(request.fetch_offset, request.last_fetched_epoch);
        let RoleState::Leader(leader) = &mut self.role else {
            self.refuse_fetch(from, &request, RaftError::NotLeaderOrFollower);
            return;
        };
        // A new fetch supersedes one held for the same replica: its sender gave up on it.
        leader.parked.remove(&from);
        let matched_end = diverging.is_none().then_some(request.fetch_offset);
        leader.record_fetch(now_ms, from, is_voter, matched_end, check_quorum_timeout_ms);
        let high_watermark = self.high_watermark;
        if let Some(diverging_epoch) = diverging {
            let data =
                FetchData { entries: alloc::vec::Vec::new(), high_watermark, diverging_epoch: Some(diverging_epoch) };
            self.answer_fetch_with(from, request.fetch_offset, request.last_fetched_epoch, Ok(data));
            return;
        }
        self.maybe_advance_leader_high_watermark();
        let RoleState::Leader(leader) = &mut self.role else { unreachable!("still the leader") };
        let knows_high_watermark = leader.replicas.get(&from).and_then(|progress| progress.last_sent_high_watermark)
            == Some(self.high_watermark);
        if request.fetch_offset < self.persistent.log.end_offset() || !knows_high_watermark {
            self.answer_fetch(from, request.fetch_offset, request.last_fetched_epoch);
        } else {
            let parked = super::leader::ParkedFetch {
                fetch_offset: request.fetch_offset,
                last_fetched_epoch: request.last_fetched_epoch,
                deadline_ms: now_ms + self.config.fetch_max_wait_ms,
            };
            leader.parked.insert(from, parked);
        }
    }

    fn refuse_fetch(&mut self, to: ReplicaId, request: &FetchRequest, error: RaftError) {
        self.answer_fetch_with(to, request.fetch_offset, request.last_fetched_epoch, Err(error));
    }

    /// Answers a fetch whose position matches this leader's log: entries from there on.
    fn answer_fetch(&mut self, to: ReplicaId, fetch_offset: Offset, last_fetched_epoch: Option<Epoch>) {
        let entries = self.persistent.log.read_from(fetch_offset, self.config.max_fetch_entries);
        let high_watermark = self.high_watermark;
        if let RoleState::Leader(leader) = &mut self.role {
            if let Some(progress) = leader.replicas.get_mut(&to) {
                progress.last_sent_high_watermark = Some(high_watermark);
            }
        }
        let data = FetchData { entries, high_watermark, diverging_epoch: None };
        self.answer_fetch_with(to, fetch_offset, last_fetched_epoch, Ok(data));
    }

    fn answer_fetch_with(
        &mut self,
        to: ReplicaId,
        fetch_offset: Offset,
        last_fetched_epoch: Option<Epoch>,
        result: Result<FetchData<T>, RaftError>,
    ) {
        let response =
            FetchResponse { epoch: self.epoch(), leader: self.leader(), fetch_offset, last_fetched_epoch, result };
        self.send(to, Message::FetchResponse(response));
    }

    /// New entries or a new high watermark: every held fetch has news now.
    pub(super) fn answer_parked_fetches(&mut self) {
        let RoleState::Leader(leader) = &mut self.role else { return };
        for (replica, parked) in leader.take_all_parked() {
            self.answer_fetch(replica, parked.fetch_offset, parked.last_fetched_epoch);
        }
    }

    pub(super) fn answer_expired_fetches(&mut self, now_ms: u64) {
        let RoleState::Leader(leader) = &mut self.role else { return };
        for (replica, parked) in leader.take_expired(now_ms) {
            self.answer_fetch(replica, parked.fetch_offset, parked.last_fetched_epoch);
        }
    }

    /// Raft §5.3 and §5.4.2: commit what a majority of voters hold, once that includes an
    /// entry of this leader's epoch.
    pub(super) fn maybe_advance_leader_high_watermark(&mut self) {
        let RoleState::Leader(leader) = &self.role else { return };
        let Some(candidate) = leader.high_watermark_candidate(self.persistent.log.end_offset()) else { return };
        if candidate > self.high_watermark {
            self.set_high_watermark(candidate);
            self.answer_parked_fetches();
        }
    }

    /// Moves the high watermark forward and hands out the entries it commits.
    pub(super) fn set_high_watermark(&mut self, high_watermark: Offset) {
        if high_watermark <= self.high_watermark {
            return;
        }
        assert!(high_watermark <= self.log_end_offset(), "hw {high_watermark} beyond the log end");
        let entries = self.persistent.log.slice(self.high_watermark, high_watermark).to_vec();
        self.high_watermark = high_watermark;
        self.trace(RaftEvent::HighWatermark { high_watermark });
        self.emit(Output::Committed { entries });
    }

    /// The follower's side (KRaft's `handleFetchResponse`).
    pub(super) fn handle_fetch_response(&mut self, now_ms: u64, from: ReplicaId, response: FetchResponse<T>) {
        self.observe_leader(now_ms, response.epoch, response.leader);
        let (epoch, log_end, last_epoch) = (self.epoch(), self.log_end_offset(), self.persistent.log.last_epoch());
        let is_voter = self.is_voter();
        let retry_backoff_ms = self.config.retry_backoff_ms;
        let is_follower = matches!(self.role, RoleState::Follower(_));
        let fetcher = match &mut self.role {
            RoleState::Follower(follower) if follower.leader == from && response.epoch == epoch => {
                &mut follower.fetcher
            }
            RoleState::Unattached { fetcher, .. } if !is_voter => fetcher,
            _ => return,
        };
        // Only the answer to the outstanding fetch, for the position this log is at, counts.
        let current = response.fetch_offset == log_end && response.last_fetched_epoch == last_epoch;
        if fetcher.in_flight_since_ms.is_none() || !current {
            return;
        }
        fetcher.in_flight_since_ms = None;
        match response.result {
            Ok(data) if is_follower => self.accept_fetched(now_ms, data),
            _ => {
                // No leader to fetch from there (yet): back off, and an observer asks the next voter.
                fetcher.next_fetch_ms = now_ms + retry_backoff_ms;
                fetcher.probe_index += 1;
            }
        }
        self.poll_fetcher(now_ms);
    }

    /// A successful fetch from the leader: truncate a divergent tail, or append and learn
    /// the high watermark.
    fn accept_fetched(&mut self, now_ms: u64, data: FetchData<T>) {
        let epoch = self.epoch();
        let RoleState::Follower(follower) = &mut self.role else { unreachable!("a follower fetched") };
        follower.fetch_deadline_ms = now_ms + self.config.fetch_timeout_ms;
        follower.has_fetched_from_leader = true;
        if let Some(diverging_epoch) = data.diverging_epoch {
            let to = self.persistent.log.truncation_offset(diverging_epoch);
            assert!(to >= self.high_watermark, "Raft §5.4: truncating to {to} would drop committed entries");
            if to < self.log_end_offset() {
                self.persistent.log.truncate_to(to);
                self.trace(RaftEvent::Truncated { to, diverging_epoch });
            }
            return;
        }
        // Entries from a later epoch than the leader's cannot come from a correct leader.
        if data.entries.iter().any(|entry| entry.epoch > epoch)
            || self.persistent.log.append_as_follower(&data.entries).is_err()
        {
            return;
        }
        // Below the log end, this log now equals the leader's, so its high watermark holds here.
        let high_watermark = data.high_watermark.min(self.log_end_offset());
        self.set_high_watermark(high_watermark);
    }
}
