//! JoinGroup: new members (KIP-394's two-step join), known members joining again, and static
//! members coming back under a new member id (KIP-345, KIP-814), as Kafka's classic coordinator
//! handles them (`doNewMemberJoinGroup`, `doCurrentMemberJoinGroup`,
//! `updateStaticMemberAndRebalance`).

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use bytes::Bytes;

use super::classic_group::Group;
use super::effects::{AfterStore, Cx};
use super::event::{GroupEvent, RebalanceReason};
use super::member::{Member, Waiter};
use super::output::GroupTimer;
use super::protocol::{GroupResponse, GroupState, InstanceId, MemberId, Protocol};
use crate::error_code::ErrorCode;

/// A JoinGroup request's fields, with who to answer.
#[derive(Clone, Debug)]
pub(crate) struct JoinArgs {
    pub(crate) waiter: Waiter,
    pub(crate) session_timeout_ms: u64,
    pub(crate) rebalance_timeout_ms: u64,
    pub(crate) member_id: MemberId,
    pub(crate) group_instance_id: Option<InstanceId>,
    pub(crate) protocol_type: Arc<str>,
    pub(crate) protocols: Vec<Protocol>,
}

impl Group {
    /// A JoinGroup for this group, its session timeout already checked.
    pub(crate) fn handle_join(&mut self, cx: &mut Cx<'_>, args: JoinArgs) {
        if !self.supports_protocols(&args.protocol_type, &args.protocols) {
            self.refuse_join(cx, &args, ErrorCode::InconsistentGroupProtocol);
        } else if !self.accepts_joining_member(&args.member_id, cx.config.group_max_size) {
            self.refuse_join(cx, &args, ErrorCode::GroupMaxSizeReached);
        } else if args.member_id.is_empty() {
            self.join_new_member(cx, args);
        } else {
            self.join_known_member(cx, args);
        }
        if self.state == GroupState::PreparingRebalance {
            self.try_complete_join(cx);
        }
    }

    fn refuse_join(&self, cx: &mut Cx<'_>, args: &JoinArgs, error: ErrorCode) {
        cx.out.respond(args.waiter, GroupResponse::join_error(args.member_id.clone(), error));
    }

    fn join_new_member(&mut self, cx: &mut Cx<'_>, args: JoinArgs) {
        let prefix = if args.protocol_type.is_empty() { "member" } else { &args.protocol_type };
        let new_member_id = cx.out.new_member_id(prefix, |id| {
            self.members.contains_key(id)
                || self.pending_members.contains(id)
                || self.static_members.values().any(|m| m.as_ref() == id)
        });
        if let Some(instance) = args.group_instance_id.clone() {
            match self.static_members.get(&instance).cloned() {
                Some(old_member_id) => self.rejoin_static_member(cx, args, instance, old_member_id, new_member_id),
                None => self.add_member_and_rebalance(cx, args, new_member_id),
            }
            return;
        }
        // KIP-394: hand out the id and wait for the member to come back with it.
        self.pending_members.insert(new_member_id.clone());
        let timer = GroupTimer::PendingMember { group_id: self.id.clone(), member_id: new_member_id.clone() };
        cx.out.set_timer(args.session_timeout_ms, timer);
        cx.out.event(GroupEvent::MemberIdRequired { group_id: self.id.clone(), member_id: new_member_id.clone() });
        cx.out.respond(args.waiter, GroupResponse::join_error(new_member_id, ErrorCode::MemberIdRequired));
    }

    fn join_known_member(&mut self, cx: &mut Cx<'_>, args: JoinArgs) {
        let member_id = args.member_id.clone();
        if self.pending_members.remove(&member_id) {
            self.add_member_and_rebalance(cx, args, member_id);
            return;
        }
        if self.is_static_member_fenced(args.group_instance_id.as_ref(), &member_id) {
            return self.refuse_join(cx, &args, ErrorCode::FencedInstanceId);
        }
        let Some(member) = self.members.get(&member_id) else {
            return self.refuse_join(cx, &args, ErrorCode::UnknownMemberId);
        };
        let unchanged = member.matches(&args.protocols);
        match self.state {
            GroupState::PreparingRebalance => {
                self.update_member_and_rebalance(cx, args, RebalanceReason::MetadataChanged { member_id })
            }
            GroupState::CompletingRebalance if unchanged => {
                // A retried JoinGroup: the same answer again.
                self.touch(cx, &member_id);
                let response = self.join_response(&member_id, false);
                cx.out.respond(args.waiter, response);
            }
            GroupState::CompletingRebalance => {
                self.update_member_and_rebalance(cx, args, RebalanceReason::MetadataChanged { member_id })
            }
            GroupState::Stable if self.is_leader(&member_id) => {
                self.update_member_and_rebalance(cx, args, RebalanceReason::LeaderRejoined { member_id })
            }
            GroupState::Stable if !unchanged => {
                self.update_member_and_rebalance(cx, args, RebalanceReason::MetadataChanged { member_id })
            }
            GroupState::Stable => {
                // Nothing changed: the member keeps its generation and assignment.
                self.touch(cx, &member_id);
                let response = self.join_response(&member_id, false);
                cx.out.respond(args.waiter, response);
            }
            GroupState::Empty | GroupState::Dead => self.refuse_join(cx, &args, ErrorCode::UnknownMemberId),
        }
    }

    fn add_member_and_rebalance(&mut self, cx: &mut Cx<'_>, args: JoinArgs, member_id: MemberId) {
        let member = Member {
            member_id: member_id.clone(),
            group_instance_id: args.group_instance_id.clone(),
            client_id: Arc::from(""),
            client_host: Arc::from(""),
            protocol_type: args.protocol_type,
            protocols: args.protocols,
            rebalance_timeout_ms: args.rebalance_timeout_ms,
            session_timeout_ms: args.session_timeout_ms,
            assignment: Bytes::new(),
            last_heard_ms: cx.now_ms,
            awaiting_join: Some(args.waiter),
            awaiting_sync: None,
        };
        if self.state == GroupState::PreparingRebalance && self.generation_id == 0 {
            self.note_new_member();
        }
        self.add(member);
        cx.out.event(GroupEvent::MemberJoined {
            group_id: self.id.clone(),
            member_id: member_id.clone(),
            group_instance_id: args.group_instance_id,
        });
        self.touch(cx, &member_id);
        self.maybe_prepare_rebalance(cx, RebalanceReason::MemberJoined { member_id });
    }

    fn update_member_and_rebalance(&mut self, cx: &mut Cx<'_>, args: JoinArgs, reason: RebalanceReason) {
        let member = self.members.get_mut(&args.member_id).expect("a known member");
        member.protocols = args.protocols;
        member.rebalance_timeout_ms = args.rebalance_timeout_ms;
        member.session_timeout_ms = args.session_timeout_ms;
        // A repeated JoinGroup replaces the held one, whose client has given up on it (Kafka
        // drops the older callback the same way).
        member.awaiting_join = Some(args.waiter);
        self.touch(cx, &args.member_id);
        self.maybe_prepare_rebalance(cx, reason);
    }

    /// KIP-345: a static member restarted and joined with its instance id and no member id. It
    /// takes over the old member's place (the old id is fenced from now on).
    fn rejoin_static_member(
        &mut self,
        cx: &mut Cx<'_>,
        args: JoinArgs,
        instance: InstanceId,
        old_member_id: MemberId,
        new_member_id: MemberId,
    ) {
        let old = self.replace_static_member(&old_member_id, &new_member_id);
        if let Some(waiter) = old.awaiting_join {
            cx.out.respond(waiter, GroupResponse::join_error(old_member_id.clone(), ErrorCode::FencedInstanceId));
        }
        if let Some(waiter) = old.awaiting_sync {
            cx.out.respond(waiter, GroupResponse::sync_error(ErrorCode::FencedInstanceId));
        }
        cx.out.event(GroupEvent::StaticMemberReplaced {
            group_id: self.id.clone(),
            group_instance_id: instance,
            old_member_id: old_member_id.clone(),
            new_member_id: new_member_id.clone(),
        });
        let member = self.members.get_mut(&new_member_id).expect("just replaced");
        let old_protocols = core::mem::replace(&mut member.protocols, args.protocols);
        let old_timeouts = (member.rebalance_timeout_ms, member.session_timeout_ms);
        member.rebalance_timeout_ms = args.rebalance_timeout_ms;
        member.session_timeout_ms = args.session_timeout_ms;
        member.awaiting_join = Some(args.waiter);
        self.touch(cx, &new_member_id);
        match self.state {
            GroupState::Stable if self.select_protocol() == self.protocol_name => {
                // No rebalance: persist the new member id, then answer with the current
                // generation (see `complete_static_rejoin`).
                let assignment: BTreeMap<MemberId, Bytes> =
                    self.members.values().map(|m| (m.member_id.clone(), m.assignment.clone())).collect();
                let then = AfterStore::StaticRejoin { old_member_id, new_member_id, old_protocols, old_timeouts };
                self.store(cx, assignment, then);
            }
            GroupState::Stable | GroupState::CompletingRebalance => {
                self.prepare_rebalance(cx, RebalanceReason::StaticMemberReplaced { member_id: new_member_id })
            }
            // Already rebalancing: the member simply takes part.
            GroupState::PreparingRebalance | GroupState::Empty | GroupState::Dead => {}
        }
    }

    /// The append of a static member's new id completed (`error` is the client's error).
    pub(crate) fn complete_static_rejoin(&mut self, cx: &mut Cx<'_>, then: AfterStore, error: Option<ErrorCode>) {
        let AfterStore::StaticRejoin { old_member_id, new_member_id, old_protocols, old_timeouts } = then else {
            return;
        };
        let Some(member) = self.members.get_mut(&new_member_id) else { return };
        let Some(waiter) = member.awaiting_join.take() else { return };
        let Some(error) = error else {
            // KIP-814: a returning leader learns it leads, but must not compute a new assignment.
            let skip_assignment = self.is_leader(&new_member_id);
            let response = self.join_response(&new_member_id, skip_assignment);
            cx.out.respond(waiter, response);
            return;
        };
        // Undo the swap: the old member id stays the one that counts.
        member.protocols = old_protocols;
        (member.rebalance_timeout_ms, member.session_timeout_ms) = old_timeouts;
        self.replace_static_member(&new_member_id, &old_member_id);
        self.touch(cx, &old_member_id);
        let mut response = self.join_response(&MemberId::from(""), false);
        if let GroupResponse::JoinGroup { error: slot, members, .. } = &mut response {
            *slot = Some(error);
            members.clear();
        }
        cx.out.respond(waiter, response);
    }
}
