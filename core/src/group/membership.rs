//! How a group moves through a rebalance: starting one, ending the join phase, handing out the
//! new generation, installing the stored assignment, and dropping members that went quiet.
//!
//! These follow Kafka's classic `GroupCoordinator` (`prepareRebalance`, `onCompleteJoin`,
//! `removeMemberAndUpdateGroup`, `propagateAssignment`, the heartbeat and pending-sync
//! expirations). Every timer is checked against the state when it fires, so stale timers are
//! harmless.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use bytes::Bytes;

use super::classic_group::{Group, JoinPhase};
use super::effects::{AfterStore, Cx, PendingAppend};
use super::event::{GroupEvent, RebalanceReason, RemovalReason};
use super::output::GroupTimer;
use super::protocol::{GroupResponse, GroupState, MemberId};
use super::records::RecordKey;
use crate::error_code::ErrorCode;

impl Group {
    /// The member was heard from: its session starts over.
    pub(crate) fn touch(&mut self, cx: &mut Cx<'_>, member_id: &MemberId) {
        let Some(member) = self.members.get_mut(member_id) else { return };
        member.last_heard_ms = cx.now_ms;
        let timer = GroupTimer::Session { group_id: self.id.clone(), member_id: member_id.clone() };
        cx.out.set_timer(member.session_timeout_ms, timer);
    }

    /// Kafka's `maybePrepareRebalance`: start one unless one is already under way.
    pub(crate) fn maybe_prepare_rebalance(&mut self, cx: &mut Cx<'_>, reason: RebalanceReason) {
        if matches!(self.state, GroupState::Stable | GroupState::CompletingRebalance | GroupState::Empty) {
            self.prepare_rebalance(cx, reason);
        }
    }

    /// Starts a join phase: every member must send JoinGroup again.
    pub(crate) fn prepare_rebalance(&mut self, cx: &mut Cx<'_>, reason: RebalanceReason) {
        if self.state == GroupState::CompletingRebalance {
            // The assignment being computed is for a generation that will not happen.
            self.reset_and_propagate_assignment_error(cx, ErrorCode::RebalanceInProgress);
        }
        self.pending_sync.clear();
        let rebalance_timeout_ms = self.rebalance_timeout_ms();
        let phase = if self.state == GroupState::Empty {
            let delay_ms = cx.config.group_initial_rebalance_delay_ms;
            JoinPhase::Initial {
                deadline_ms: cx.now_ms + delay_ms,
                remaining_ms: rebalance_timeout_ms.saturating_sub(delay_ms),
                new_member_added: false,
            }
        } else {
            JoinPhase::Delayed { deadline_ms: cx.now_ms + rebalance_timeout_ms }
        };
        self.rebalance = cx.out.new_rebalance();
        self.join_phase = Some(phase);
        cx.out.event(GroupEvent::RebalanceStarted {
            group_id: self.id.clone(),
            generation_id: self.generation_id,
            reason,
        });
        self.transition(cx, GroupState::PreparingRebalance);
        self.arm_join_timer(cx);
        self.try_complete_join(cx);
    }

    fn arm_join_timer(&mut self, cx: &mut Cx<'_>) {
        let deadline_ms = match self.join_phase {
            Some(JoinPhase::Initial { deadline_ms, .. } | JoinPhase::Delayed { deadline_ms }) => deadline_ms,
            None => return,
        };
        let timer = GroupTimer::Join { group_id: self.id.clone(), rebalance: self.rebalance };
        cx.out.set_timer(deadline_ms.saturating_sub(cx.now_ms), timer);
    }

    /// A new member arrived during the first rebalance: the initial delay may be extended.
    pub(crate) fn note_new_member(&mut self) {
        if let Some(JoinPhase::Initial { new_member_added, .. }) = &mut self.join_phase {
            *new_member_added = true;
        }
    }

    /// Ends the join phase early once every member joined (not during the initial delay).
    pub(crate) fn try_complete_join(&mut self, cx: &mut Cx<'_>) {
        if self.state == GroupState::PreparingRebalance
            && matches!(self.join_phase, Some(JoinPhase::Delayed { .. }))
            && self.has_all_members_joined()
        {
            self.complete_join(cx);
        }
    }

    /// The join timer of rebalance `rebalance` fired.
    pub(crate) fn on_join_timer(&mut self, cx: &mut Cx<'_>, rebalance: u64) {
        if self.state != GroupState::PreparingRebalance || self.rebalance != rebalance {
            return;
        }
        match self.join_phase {
            Some(JoinPhase::Initial { deadline_ms, remaining_ms, new_member_added }) if cx.now_ms >= deadline_ms => {
                if new_member_added && remaining_ms > 0 {
                    let delay_ms = cx.config.group_initial_rebalance_delay_ms.min(remaining_ms);
                    self.join_phase = Some(JoinPhase::Initial {
                        deadline_ms: cx.now_ms + delay_ms,
                        remaining_ms: remaining_ms - delay_ms,
                        new_member_added: false,
                    });
                    self.arm_join_timer(cx);
                } else {
                    self.complete_join(cx);
                }
            }
            Some(JoinPhase::Delayed { deadline_ms }) if cx.now_ms >= deadline_ms => self.complete_join(cx),
            _ => {}
        }
    }

    /// Kafka's `onCompleteJoin`: drop dynamic members that did not join again, then start the
    /// next generation and answer every held JoinGroup.
    fn complete_join(&mut self, cx: &mut Cx<'_>) {
        let late: Vec<MemberId> = self
            .members
            .values()
            .filter(|member| !member.is_awaiting_join() && member.group_instance_id.is_none())
            .map(|member| member.member_id.clone())
            .collect();
        for member_id in late {
            self.remove_quietly(cx, &member_id, RemovalReason::RebalanceTimeout);
        }
        if !self.members.is_empty() && !self.elect_joined_leader() {
            // Only static members that have not come back: wait another rebalance timeout for
            // them to join again or for their sessions to run out.
            self.join_phase = Some(JoinPhase::Delayed { deadline_ms: cx.now_ms + self.rebalance_timeout_ms() });
            self.arm_join_timer(cx);
            return;
        }
        self.join_phase = None;
        self.generation_id += 1;
        if self.members.is_empty() {
            self.protocol_name = None;
            self.transition(cx, GroupState::Empty);
            cx.out.event(GroupEvent::GenerationCompleted {
                group_id: self.id.clone(),
                generation_id: self.generation_id,
                leader: None,
                members: 0,
            });
            self.store(cx, BTreeMap::new(), AfterStore::Nothing);
            return;
        }
        self.protocol_name = self.select_protocol();
        self.transition(cx, GroupState::CompletingRebalance);
        cx.out.event(GroupEvent::GenerationCompleted {
            group_id: self.id.clone(),
            generation_id: self.generation_id,
            leader: self.leader.clone(),
            members: self.members.len(),
        });
        self.pending_sync = self.members.keys().cloned().collect();
        let timer = GroupTimer::Sync { group_id: self.id.clone(), generation_id: self.generation_id };
        cx.out.set_timer(self.rebalance_timeout_ms(), timer);
        let ids: Vec<MemberId> = self.members.keys().cloned().collect();
        for member_id in ids {
            let waiter = self.members.get_mut(&member_id).and_then(|member| member.awaiting_join.take());
            if let Some(waiter) = waiter {
                let response = self.join_response(&member_id, false);
                cx.out.respond(waiter, response);
            }
            self.touch(cx, &member_id);
        }
    }

    /// Kafka's `maybeElectNewJoinedLeader`: a leader that did not join again hands over to a
    /// member that did. False when no member joined.
    fn elect_joined_leader(&mut self) -> bool {
        if self.leader.as_ref().and_then(|leader| self.members.get(leader)).is_some_and(|m| m.is_awaiting_join()) {
            return true;
        }
        match self.members.values().find(|member| member.is_awaiting_join()) {
            Some(member) => {
                self.leader = Some(member.member_id.clone());
                true
            }
            None => false,
        }
    }

    /// The JoinGroup answer for `member_id` in the current generation: the leader gets every
    /// member's metadata.
    pub(crate) fn join_response(&self, member_id: &MemberId, skip_assignment: bool) -> GroupResponse {
        let is_leader = self.is_leader(member_id);
        GroupResponse::JoinGroup {
            error: None,
            generation_id: self.generation_id,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol_name.clone(),
            leader: self.leader.clone().unwrap_or_else(|| MemberId::from("")),
            skip_assignment,
            member_id: member_id.clone(),
            members: if is_leader { self.current_member_metadata() } else { Vec::new() },
        }
    }

    /// Appends the group metadata record (with `assignment`), remembering what waits on it.
    pub(crate) fn store(&mut self, cx: &mut Cx<'_>, assignment: BTreeMap<MemberId, Bytes>, then: AfterStore) {
        let key = RecordKey::GroupMetadata { group: self.id.clone() }.encode();
        let value = self.to_record(&assignment).encode();
        let pending = PendingAppend::Group { group_id: self.id.clone(), partition_index: self.partition_index, then };
        cx.out.append(alloc::vec![(key, Some(value))], None, pending);
    }

    /// Answers every held SyncGroup with the members' assignments, or with `error`.
    pub(crate) fn propagate_assignment(&mut self, cx: &mut Cx<'_>, error: Option<ErrorCode>) {
        let ids: Vec<MemberId> = self.members.keys().cloned().collect();
        for member_id in ids {
            let Some(member) = self.members.get_mut(&member_id) else { continue };
            let Some(waiter) = member.awaiting_sync.take() else { continue };
            let response = GroupResponse::SyncGroup {
                error,
                protocol_type: self.protocol_type.clone(),
                protocol_name: self.protocol_name.clone(),
                assignment: if error.is_none() { member.assignment.clone() } else { Bytes::new() },
            };
            cx.out.respond(waiter, response);
            self.touch(cx, &member_id);
        }
    }

    fn reset_and_propagate_assignment_error(&mut self, cx: &mut Cx<'_>, error: ErrorCode) {
        for member in self.members.values_mut() {
            member.assignment = Bytes::new();
        }
        self.propagate_assignment(cx, Some(error));
    }

    /// Removes a member, answering its held requests, without deciding about a rebalance.
    fn remove_quietly(&mut self, cx: &mut Cx<'_>, member_id: &MemberId, reason: RemovalReason) {
        let Some(member) = self.remove(member_id) else { return };
        if let Some(waiter) = member.awaiting_join {
            cx.out.respond(waiter, GroupResponse::join_error(member_id.clone(), ErrorCode::UnknownMemberId));
        }
        if let Some(waiter) = member.awaiting_sync {
            cx.out.respond(waiter, GroupResponse::sync_error(ErrorCode::UnknownMemberId));
        }
        cx.out.event(GroupEvent::MemberRemoved { group_id: self.id.clone(), member_id: member_id.clone(), reason });
    }

    /// Kafka's `removeMemberAndUpdateGroup`: the rest rebalance (or the join phase may now end).
    pub(crate) fn remove_member_and_update(&mut self, cx: &mut Cx<'_>, member_id: &MemberId, reason: RemovalReason) {
        self.remove_quietly(cx, member_id, reason);
        match self.state {
            GroupState::Stable | GroupState::CompletingRebalance => {
                let reason = RebalanceReason::MemberRemoved { member_id: member_id.clone(), reason };
                self.maybe_prepare_rebalance(cx, reason);
            }
            GroupState::PreparingRebalance => self.try_complete_join(cx),
            GroupState::Empty | GroupState::Dead => {}
        }
    }

    /// A KIP-394 member id that was never used (or left) is forgotten.
    pub(crate) fn remove_pending_member(&mut self, cx: &mut Cx<'_>, member_id: &MemberId) -> bool {
        let removed = self.pending_members.remove(member_id);
        if removed && self.state == GroupState::PreparingRebalance {
            self.try_complete_join(cx);
        }
        removed
    }

    /// A member's session timer fired: remove it if it has not been heard from since.
    pub(crate) fn on_session_timer(&mut self, cx: &mut Cx<'_>, member_id: &MemberId) {
        let Some(member) = self.members.get(member_id) else { return };
        if cx.now_ms < member.session_deadline_ms() {
            return; // heard from since: every `touch` armed a later timer
        }
        if member.awaiting_join.is_some() || member.awaiting_sync.is_some() {
            // A held request keeps a member alive (Kafka's `shouldKeepAlive`); the join or sync
            // phase ends within the rebalance timeout and restarts the session.
            self.touch(cx, member_id);
            return;
        }
        self.remove_member_and_update(cx, member_id, RemovalReason::SessionTimeout);
    }

    /// The pending-sync timer of `generation_id` fired: members that never sent SyncGroup are
    /// removed and the group rebalances (Kafka's `onExpirePendingSync`).
    pub(crate) fn on_sync_timer(&mut self, cx: &mut Cx<'_>, generation_id: i32) {
        let in_phase = matches!(self.state, GroupState::CompletingRebalance | GroupState::Stable);
        if !in_phase || generation_id != self.generation_id || self.pending_sync.is_empty() {
            return;
        }
        let late: Vec<MemberId> = self.pending_sync.iter().cloned().collect();
        for member_id in &late {
            self.remove_quietly(cx, member_id, RemovalReason::SyncTimeout);
        }
        let reason = RebalanceReason::MemberRemoved { member_id: late[0].clone(), reason: RemovalReason::SyncTimeout };
        self.prepare_rebalance(cx, reason);
    }
}
