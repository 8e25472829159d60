//! SyncGroup, Heartbeat and LeaveGroup for a group that exists, as Kafka's classic coordinator
//! answers them (`doSyncGroup`, `handleHeartbeat`, `handleLeaveGroup`).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use bytes::Bytes;

use super::classic_group::Group;
use super::effects::{AfterStore, Cx};
use super::event::{RebalanceReason, RemovalReason};
use super::member::Waiter;
use super::protocol::{GroupResponse, GroupState, InstanceId, LeavingMember, MemberId};
use crate::error_code::ErrorCode;

/// A SyncGroup request's fields, with who to answer.
#[derive(Clone, Debug)]
pub(crate) struct SyncArgs {
    pub(crate) waiter: Waiter,
    pub(crate) generation_id: i32,
    pub(crate) member_id: MemberId,
    pub(crate) group_instance_id: Option<InstanceId>,
    pub(crate) protocol_type: Option<alloc::sync::Arc<str>>,
    pub(crate) protocol_name: Option<alloc::sync::Arc<str>>,
    pub(crate) assignments: Vec<(MemberId, Bytes)>,
}

impl Group {
    /// The checks SyncGroup, Heartbeat and OffsetCommit share: the member must be the current
    /// holder of its id and of this generation.
    pub(crate) fn check_member(
        &self,
        member_id: &str,
        group_instance_id: Option<&InstanceId>,
        generation_id: i32,
    ) -> Result<(), ErrorCode> {
        if self.is_static_member_fenced(group_instance_id, member_id) {
            Err(ErrorCode::FencedInstanceId)
        } else if !self.members.contains_key(member_id) {
            Err(ErrorCode::UnknownMemberId)
        } else if generation_id != self.generation_id {
            Err(ErrorCode::IllegalGeneration)
        } else {
            Ok(())
        }
    }

    pub(crate) fn handle_sync(&mut self, cx: &mut Cx<'_>, args: SyncArgs) {
        if let Err(error) = self.check_member(&args.member_id, args.group_instance_id.as_ref(), args.generation_id) {
            return cx.out.respond(args.waiter, GroupResponse::sync_error(error));
        }
        let type_differs = args.protocol_type.is_some() && args.protocol_type != self.protocol_type;
        let name_differs = args.protocol_name.is_some() && args.protocol_name != self.protocol_name;
        if type_differs || name_differs {
            return cx.out.respond(args.waiter, GroupResponse::sync_error(ErrorCode::InconsistentGroupProtocol));
        }
        match self.state {
            GroupState::Empty | GroupState::Dead => {
                cx.out.respond(args.waiter, GroupResponse::sync_error(ErrorCode::UnknownMemberId))
            }
            GroupState::PreparingRebalance => {
                cx.out.respond(args.waiter, GroupResponse::sync_error(ErrorCode::RebalanceInProgress))
            }
            GroupState::CompletingRebalance => {
                self.pending_sync.remove(&args.member_id);
                self.members.get_mut(&args.member_id).expect("checked").awaiting_sync = Some(args.waiter);
                self.touch(cx, &args.member_id);
                if self.is_leader(&args.member_id) {
                    // Members the leader left out get an empty assignment; unknown ids are dropped.
                    let mut assignment: BTreeMap<MemberId, Bytes> =
                        self.members.keys().map(|id| (id.clone(), Bytes::new())).collect();
                    for (member_id, bytes) in args.assignments {
                        if let Some(slot) = assignment.get_mut(&member_id) {
                            *slot = bytes;
                        }
                    }
                    let then = AfterStore::SyncAssignment {
                        generation_id: self.generation_id,
                        assignment: assignment.clone(),
                    };
                    self.store(cx, assignment, then);
                }
            }
            GroupState::Stable => {
                self.pending_sync.remove(&args.member_id);
                let member = &self.members[&args.member_id];
                let response = GroupResponse::SyncGroup {
                    error: None,
                    protocol_type: self.protocol_type.clone(),
                    protocol_name: self.protocol_name.clone(),
                    assignment: member.assignment.clone(),
                };
                cx.out.respond(args.waiter, response);
                self.touch(cx, &args.member_id);
            }
        }
    }

    /// The append of the leader's assignment completed (`error` is the client's error). Only
    /// acts if the group is still waiting for that generation's assignment.
    pub(crate) fn complete_sync_store(&mut self, cx: &mut Cx<'_>, then: AfterStore, error: Option<ErrorCode>) {
        let AfterStore::SyncAssignment { generation_id, assignment } = then else { return };
        if self.state != GroupState::CompletingRebalance || self.generation_id != generation_id {
            return;
        }
        match error {
            None => {
                for (member_id, bytes) in assignment {
                    if let Some(member) = self.members.get_mut(&member_id) {
                        member.assignment = bytes;
                    }
                }
                self.propagate_assignment(cx, None);
                self.transition(cx, GroupState::Stable);
            }
            Some(error) => {
                for member in self.members.values_mut() {
                    member.assignment = Bytes::new();
                }
                self.propagate_assignment(cx, Some(error));
                self.maybe_prepare_rebalance(cx, RebalanceReason::StoreFailed { error });
            }
        }
    }

    pub(crate) fn handle_heartbeat(
        &mut self,
        cx: &mut Cx<'_>,
        member_id: &MemberId,
        group_instance_id: Option<&InstanceId>,
        generation_id: i32,
    ) -> Option<ErrorCode> {
        if let Err(error) = self.check_member(member_id, group_instance_id, generation_id) {
            return Some(error);
        }
        match self.state {
            GroupState::Empty | GroupState::Dead => Some(ErrorCode::UnknownMemberId),
            GroupState::PreparingRebalance => {
                self.touch(cx, member_id);
                Some(ErrorCode::RebalanceInProgress)
            }
            GroupState::CompletingRebalance | GroupState::Stable => {
                self.touch(cx, member_id);
                None
            }
        }
    }

    /// LeaveGroup: each named member goes, or gets its own error.
    pub(crate) fn handle_leave(
        &mut self,
        cx: &mut Cx<'_>,
        leaving: Vec<LeavingMember>,
    ) -> Vec<(LeavingMember, Option<ErrorCode>)> {
        leaving
            .into_iter()
            .map(|member| {
                let error = self.leave_one(cx, &member);
                (member, error)
            })
            .collect()
    }

    fn leave_one(&mut self, cx: &mut Cx<'_>, leaving: &LeavingMember) -> Option<ErrorCode> {
        if leaving.member_id.is_empty() {
            // An admin removes a static member by its instance id alone.
            let current = leaving.group_instance_id.as_ref().and_then(|instance| self.static_members.get(instance));
            let Some(member_id) = current.cloned() else { return Some(ErrorCode::UnknownMemberId) };
            self.remove_member_and_update(cx, &member_id, RemovalReason::Left);
            return None;
        }
        if self.remove_pending_member(cx, &leaving.member_id) {
            return None;
        }
        if self.is_static_member_fenced(leaving.group_instance_id.as_ref(), &leaving.member_id) {
            return Some(ErrorCode::FencedInstanceId);
        }
        if !self.members.contains_key(&leaving.member_id) {
            return Some(ErrorCode::UnknownMemberId);
        }
        self.remove_member_and_update(cx, &leaving.member_id, RemovalReason::Left);
        None
    }
}
