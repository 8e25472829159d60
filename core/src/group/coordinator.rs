//! The group coordinator a broker runs for the `__consumer_offsets` partitions it leads: it
//! routes each request to its group, keeps the groups of loaded partitions in memory, and asks
//! the broker to append every change it must not lose.
//!
//! ```text
//!                         +------------------------------+
//!  handle_request ------> |  GroupCoordinator            | ----> take_outputs():
//!  handle_timer --------> |   partitions: loading/active |         Respond { to, request_id, .. }
//!  append_completed ----> |   groups: members, offsets   |         SetTimer { after_ms, timer }
//!  load/unload_partition->|   appends in flight          |         Append { partition, records, .. }
//!  complete_transaction ->|                              |         Event(GroupEvent)
//!                         +------------------------------+
//! ```
//!
//! The coordinator never writes a log. It answers a request that changes what must survive a
//! failover (an assignment, a commit, a static member's new id) only after the broker reports
//! the append committed, as Kafka does; a failed append answers with Kafka's mapping of the
//! error. Loading is modelled as instantaneous by `load_partition`; a broker that reads the log
//! asynchronously calls `begin_loading` first, and requests meanwhile get
//! COORDINATOR_LOAD_IN_PROGRESS.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use bytes::Bytes;

use super::classic_group::Group;
use super::config::{GroupConfig, GroupConfigError};
use super::effects::{client_error_for_append, AfterStore, Cx, Effects, PendingAppend};
use super::event::{GroupEvent, RebalanceReason};
use super::join::JoinArgs;
use super::member::Waiter;
use super::offsets::OffsetAndMetadata;
use super::output::{AppendToken, GroupOutput, GroupTimer};
use super::protocol::{DescribedMember, GroupId, GroupRequest, GroupResponse, GroupState};
use super::records::{GroupMetadataValue, OffsetCommitValue, RecordKey};
use super::sync::SyncArgs;
use crate::error_code::ErrorCode;
use crate::ids::TopicPartition;
use crate::message::NodeId;
use crate::placement::partition_for;

/// Whether an offsets partition this broker leads is ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionStatus {
    Loading,
    Active,
}

/// The coordinator of the groups whose `__consumer_offsets` partitions this broker leads.
#[derive(Clone, Debug)]
pub struct GroupCoordinator {
    pub(crate) config: GroupConfig,
    pub(crate) partitions: BTreeMap<i32, PartitionStatus>,
    pub(crate) groups: BTreeMap<GroupId, Group>,
    pub(crate) effects: Effects,
}

impl GroupCoordinator {
    /// A coordinator that leads no partition yet.
    pub fn new(config: GroupConfig) -> Result<GroupCoordinator, GroupConfigError> {
        config.validate()?;
        Ok(GroupCoordinator {
            config,
            partitions: BTreeMap::new(),
            groups: BTreeMap::new(),
            effects: Effects::default(),
        })
    }

    /// A coordinator whose member ids carry `scope` (such as the broker and its start count),
    /// as Kafka's carry a UUID: two coordinators never hand out the same id.
    pub fn with_member_id_scope(mut self, scope: &str) -> Self {
        self.effects.member_id_scope = alloc::string::String::from(scope);
        self
    }

    pub fn config(&self) -> &GroupConfig {
        &self.config
    }

    /// Everything the coordinator wants done since the last call, in order.
    pub fn take_outputs(&mut self) -> Vec<GroupOutput> {
        core::mem::take(&mut self.effects.outputs)
    }

    /// The partition of `__consumer_offsets` that holds `group_id`.
    pub fn partition_for(&self, group_id: &str) -> i32 {
        partition_for(group_id, self.config.offsets_topic_num_partitions)
    }

    /// The offsets partitions this coordinator leads, with their status.
    pub fn partitions(&self) -> impl Iterator<Item = (i32, PartitionStatus)> + '_ {
        self.partitions.iter().map(|(index, status)| (*index, *status))
    }

    /// Every group in memory, by group id.
    pub fn groups(&self) -> impl Iterator<Item = &Group> {
        self.groups.values()
    }

    pub fn group(&self, group_id: &str) -> Option<&Group> {
        self.groups.get(group_id)
    }

    /// The group's committed offsets (not the pending ones), by partition.
    pub fn committed_offsets(&self, group_id: &str) -> Vec<(TopicPartition, OffsetAndMetadata)> {
        let Some(group) = self.groups.get(group_id) else { return Vec::new() };
        group.offsets.committed().map(|(partition, value)| (partition.clone(), value.clone())).collect()
    }

    /// Splits the borrow: the handler context and the groups.
    pub(crate) fn parts(&mut self, now_ms: u64) -> (Cx<'_>, &mut BTreeMap<GroupId, Group>) {
        (Cx { now_ms, config: &self.config, out: &mut self.effects }, &mut self.groups)
    }

    /// Which partition `group_id` is in, if this coordinator can serve it now.
    fn route(&self, group_id: &str) -> Result<i32, ErrorCode> {
        if group_id.len() > i16::MAX as usize {
            return Err(ErrorCode::InvalidGroupId);
        }
        let partition_index = self.partition_for(group_id);
        match self.partitions.get(&partition_index) {
            None => Err(ErrorCode::NotCoordinator),
            Some(PartitionStatus::Loading) => Err(ErrorCode::CoordinatorLoadInProgress),
            Some(PartitionStatus::Active) => Ok(partition_index),
        }
    }

    /// A request from `from`; the answer comes out as a `Respond` now or later.
    pub fn handle_request(&mut self, now_ms: u64, from: NodeId, request_id: u64, request: GroupRequest) {
        let waiter = Waiter { to: from, request_id };
        let Some(group_id) = request.group_id().cloned() else {
            return self.list_groups(waiter);
        };
        let needs_id = matches!(
            request,
            GroupRequest::JoinGroup { .. }
                | GroupRequest::SyncGroup { .. }
                | GroupRequest::Heartbeat { .. }
                | GroupRequest::LeaveGroup { .. }
        );
        let routed =
            if needs_id && group_id.is_empty() { Err(ErrorCode::InvalidGroupId) } else { self.route(&group_id) };
        let partition_index = match routed {
            Ok(partition_index) => partition_index,
            Err(error) => return self.effects.respond(waiter, request.error_response(error)),
        };
        match request {
            GroupRequest::JoinGroup {
                session_timeout_ms,
                rebalance_timeout_ms,
                member_id,
                group_instance_id,
                protocol_type,
                protocols,
                ..
            } => {
                let args = JoinArgs {
                    waiter,
                    session_timeout_ms,
                    rebalance_timeout_ms,
                    member_id,
                    group_instance_id,
                    protocol_type,
                    protocols,
                };
                self.join(now_ms, group_id, partition_index, args)
            }
            GroupRequest::SyncGroup {
                generation_id,
                member_id,
                group_instance_id,
                protocol_type,
                protocol_name,
                assignments,
                ..
            } => {
                let args = SyncArgs {
                    waiter,
                    generation_id,
                    member_id,
                    group_instance_id,
                    protocol_type,
                    protocol_name,
                    assignments,
                };
                let (mut cx, groups) = self.parts(now_ms);
                match groups.get_mut(&group_id) {
                    Some(group) => group.handle_sync(&mut cx, args),
                    None => cx.out.respond(waiter, GroupResponse::sync_error(ErrorCode::UnknownMemberId)),
                }
            }
            GroupRequest::Heartbeat { generation_id, member_id, group_instance_id, .. } => {
                let (mut cx, groups) = self.parts(now_ms);
                let error = match groups.get_mut(&group_id) {
                    Some(group) => {
                        group.handle_heartbeat(&mut cx, &member_id, group_instance_id.as_ref(), generation_id)
                    }
                    None => Some(ErrorCode::UnknownMemberId),
                };
                cx.out.respond(waiter, GroupResponse::Heartbeat { error });
            }
            GroupRequest::LeaveGroup { members, .. } => {
                let (mut cx, groups) = self.parts(now_ms);
                let members = match groups.get_mut(&group_id) {
                    Some(group) => group.handle_leave(&mut cx, members),
                    None => members.into_iter().map(|m| (m, Some(ErrorCode::UnknownMemberId))).collect(),
                };
                cx.out.respond(waiter, GroupResponse::LeaveGroup { error: None, members });
            }
            GroupRequest::DescribeGroup { .. } => {
                let response = self.describe(&group_id);
                self.effects.respond(waiter, response);
            }
            request @ (GroupRequest::OffsetCommit { .. }
            | GroupRequest::OffsetFetch { .. }
            | GroupRequest::TxnOffsetCommit { .. }) => {
                self.handle_offsets_request(now_ms, waiter, group_id, partition_index, request)
            }
            GroupRequest::ListGroups => unreachable!("ListGroups has no group id"),
        }
    }

    fn join(&mut self, now_ms: u64, group_id: GroupId, partition_index: i32, args: JoinArgs) {
        let config = &self.config;
        if args.session_timeout_ms < config.group_min_session_timeout_ms
            || args.session_timeout_ms > config.group_max_session_timeout_ms
        {
            let response = GroupResponse::join_error(args.member_id, ErrorCode::InvalidSessionTimeout);
            return self.effects.respond(args.waiter, response);
        }
        if !self.groups.contains_key(&group_id) {
            if !args.member_id.is_empty() {
                let response = GroupResponse::join_error(args.member_id, ErrorCode::UnknownMemberId);
                return self.effects.respond(args.waiter, response);
            }
            self.groups.insert(group_id.clone(), Group::new(group_id.clone(), partition_index, now_ms));
        }
        let (mut cx, groups) = self.parts(now_ms);
        groups.get_mut(&group_id).expect("present").handle_join(&mut cx, args);
    }

    fn describe(&self, group_id: &str) -> GroupResponse {
        let Some(group) = self.groups.get(group_id) else {
            // Kafka describes a group it does not know as Dead, without an error.
            return GroupResponse::DescribeGroup {
                error: None,
                state: GroupState::Dead,
                protocol_type: Arc::from(""),
                protocol_name: Arc::from(""),
                members: Vec::new(),
            };
        };
        let stable = group.state == GroupState::Stable;
        let protocol = group.protocol_name.clone().filter(|_| stable).unwrap_or_else(|| Arc::from(""));
        let members = group
            .members
            .values()
            .map(|member| DescribedMember {
                member_id: member.member_id.clone(),
                group_instance_id: member.group_instance_id.clone(),
                client_id: member.client_id.clone(),
                metadata: if stable { member.metadata_for(&protocol) } else { Bytes::new() },
                assignment: if stable { member.assignment.clone() } else { Bytes::new() },
            })
            .collect();
        GroupResponse::DescribeGroup {
            error: None,
            state: group.state,
            protocol_type: group.protocol_type.clone().unwrap_or_else(|| Arc::from("")),
            protocol_name: protocol,
            members,
        }
    }

    fn list_groups(&mut self, waiter: Waiter) {
        let loading = self.partitions.values().any(|status| *status == PartitionStatus::Loading);
        let groups = self
            .groups
            .values()
            .map(|group| (group.id.clone(), group.protocol_type.clone().unwrap_or_else(|| Arc::from("")), group.state))
            .collect();
        let error = loading.then_some(ErrorCode::CoordinatorLoadInProgress);
        self.effects.respond(waiter, GroupResponse::ListGroups { error, groups });
    }

    /// Starts a rebalance of a group with members (the broker decides when: e.g. partitions
    /// were added to a topic its members subscribe to). Returns whether one started.
    pub fn trigger_rebalance(&mut self, now_ms: u64, group_id: &str, reason: &str) -> bool {
        let (mut cx, groups) = self.parts(now_ms);
        let Some(group) = groups.get_mut(group_id) else { return false };
        if !matches!(group.state, GroupState::Stable | GroupState::CompletingRebalance) {
            return false;
        }
        group.prepare_rebalance(&mut cx, RebalanceReason::Requested { reason: Arc::from(reason) });
        true
    }

    /// A timer the coordinator set has come due.
    pub fn handle_timer(&mut self, now_ms: u64, timer: GroupTimer) {
        let (mut cx, groups) = self.parts(now_ms);
        match timer {
            GroupTimer::Session { group_id, member_id } => {
                if let Some(group) = groups.get_mut(&group_id) {
                    group.on_session_timer(&mut cx, &member_id);
                }
            }
            GroupTimer::PendingMember { group_id, member_id } => {
                if let Some(group) = groups.get_mut(&group_id) {
                    group.remove_pending_member(&mut cx, &member_id);
                }
            }
            GroupTimer::Join { group_id, rebalance } => {
                if let Some(group) = groups.get_mut(&group_id) {
                    group.on_join_timer(&mut cx, rebalance);
                }
            }
            GroupTimer::Sync { group_id, generation_id } => {
                if let Some(group) = groups.get_mut(&group_id) {
                    group.on_sync_timer(&mut cx, generation_id);
                }
            }
            GroupTimer::OffsetsRetention { partition_index } => self.expire_offsets(now_ms, partition_index),
        }
    }

    /// The broker reports the outcome of the append named by `token`.
    pub fn append_completed(&mut self, now_ms: u64, token: AppendToken, result: Result<(), ErrorCode>) {
        let Some(pending) = self.effects.appends.remove(&token) else { return };
        match pending {
            PendingAppend::Group { group_id, then, .. } => {
                let error = result.err().map(|error| client_error_for_append(error, false));
                let (mut cx, groups) = self.parts(now_ms);
                let Some(group) = groups.get_mut(&group_id) else { return };
                match then {
                    then @ AfterStore::SyncAssignment { .. } => group.complete_sync_store(&mut cx, then, error),
                    then @ AfterStore::StaticRejoin { .. } => group.complete_static_rejoin(&mut cx, then, error),
                    AfterStore::Nothing => {}
                }
            }
            PendingAppend::Offsets { group_id, waiter, producer_id, offsets, results, .. } => {
                self.complete_offsets_append(token, group_id, waiter, producer_id, offsets, results, result)
            }
            PendingAppend::Tombstones { .. } => {}
        }
    }

    /// The broker will load `partition_index` (it just became its leader): requests for its
    /// groups get COORDINATOR_LOAD_IN_PROGRESS until `load_partition`.
    pub fn begin_loading(&mut self, partition_index: i32) {
        self.partitions.insert(partition_index, PartitionStatus::Loading);
    }

    /// Replays a partition's records (the latest value per key wins; a tombstone deletes) and
    /// serves its groups from now on. Members come back with a fresh session, so those that
    /// are gone time out. Unreadable records are skipped and counted in the event.
    pub fn load_partition(
        &mut self,
        now_ms: u64,
        partition_index: i32,
        records: impl IntoIterator<Item = (Bytes, Option<Bytes>)>,
    ) {
        if self.partitions.get(&partition_index) == Some(&PartitionStatus::Active) {
            self.unload_partition(partition_index);
        }
        let partitions = self.config.offsets_topic_num_partitions;
        let mut unreadable = 0;
        let mut latest: BTreeMap<RecordKey, Option<Bytes>> = BTreeMap::new();
        for (key, value) in records {
            match RecordKey::decode(&key) {
                Ok(key) if partition_for(key.group(), partitions) == partition_index => {
                    latest.insert(key, value);
                }
                _ => unreadable += 1,
            }
        }
        let mut loaded: BTreeMap<GroupId, Group> = BTreeMap::new();
        for (key, value) in latest {
            let Some(value) = value else { continue };
            match key {
                RecordKey::GroupMetadata { group } => match GroupMetadataValue::decode(&value) {
                    Ok(record) => {
                        let offsets = loaded.remove(&group).map(|g| g.offsets).unwrap_or_default();
                        let mut restored = Group::from_record(group.clone(), partition_index, &record, now_ms);
                        restored.offsets = offsets;
                        loaded.insert(group, restored);
                    }
                    Err(_) => unreadable += 1,
                },
                RecordKey::OffsetCommit { group, topic, partition } => match OffsetCommitValue::decode(&value) {
                    Ok(record) => {
                        let entry =
                            loaded.entry(group.clone()).or_insert_with(|| Group::new(group, partition_index, now_ms));
                        entry
                            .offsets
                            .load(TopicPartition::new(topic, partition), OffsetAndMetadata::from_record(&record));
                    }
                    Err(_) => unreadable += 1,
                },
            }
        }
        let count = loaded.len();
        let (mut cx, groups) = self.parts(now_ms);
        for (group_id, mut group) in loaded {
            let members: Vec<_> = group.members.keys().cloned().collect();
            for member_id in &members {
                group.touch(&mut cx, member_id);
            }
            groups.insert(group_id, group);
        }
        self.partitions.insert(partition_index, PartitionStatus::Active);
        self.effects.event(GroupEvent::PartitionLoaded {
            partition_index,
            groups: count,
            unreadable_records: unreadable,
        });
        let timer = GroupTimer::OffsetsRetention { partition_index };
        self.effects.set_timer(self.config.offsets_retention_check_interval_ms, timer);
    }

    /// Offsets a transaction of `producer_id` wrote to the partition before this coordinator
    /// loaded it, and whose marker is not in the log yet: they wait for it, as they did on the
    /// coordinator that wrote them (Kafka's loader keeps such offsets pending). Without this, a
    /// coordinator failover in mid-transaction would forget offsets the commit then makes the
    /// group's, and the group would process those records again.
    pub fn load_pending_transaction(
        &mut self,
        now_ms: u64,
        partition_index: i32,
        producer_id: i64,
        records: impl IntoIterator<Item = (Bytes, Option<Bytes>)>,
    ) {
        for (key, value) in records {
            let Ok(RecordKey::OffsetCommit { group, topic, partition }) = RecordKey::decode(&key) else { continue };
            let Some(record) = value.and_then(|v| OffsetCommitValue::decode(&v).ok()) else { continue };
            let entry = self.groups.entry(group.clone()).or_insert_with(|| Group::new(group, partition_index, now_ms));
            let written = [(TopicPartition::new(topic, partition), OffsetAndMetadata::from_record(&record))];
            entry.offsets.prepare_txn(producer_id, &written);
            // Written before any commit this coordinator makes: the earliest log order after
            // the loaded ones.
            entry.offsets.complete_txn_append(producer_id, &written, 1, true);
        }
    }

    /// This broker no longer leads `partition_index`: held requests and appends in flight are
    /// answered NOT_COORDINATOR and its groups are dropped from memory.
    pub fn unload_partition(&mut self, partition_index: i32) {
        self.partitions.remove(&partition_index);
        let ids: Vec<GroupId> =
            self.groups.values().filter(|g| g.partition_index == partition_index).map(|g| g.id.clone()).collect();
        for group_id in &ids {
            let group = self.groups.remove(group_id).expect("listed");
            for member in group.members.into_values() {
                if let Some(waiter) = member.awaiting_join {
                    let response = GroupResponse::join_error(member.member_id.clone(), ErrorCode::NotCoordinator);
                    self.effects.respond(waiter, response);
                }
                if let Some(waiter) = member.awaiting_sync {
                    self.effects.respond(waiter, GroupResponse::sync_error(ErrorCode::NotCoordinator));
                }
            }
        }
        let tokens: Vec<AppendToken> = self
            .effects
            .appends
            .iter()
            .filter(|(_, pending)| pending.partition_index() == partition_index)
            .map(|(token, _)| *token)
            .collect();
        for token in tokens {
            let pending = self.effects.appends.remove(&token).expect("listed");
            if let PendingAppend::Offsets { waiter, producer_id, mut results, .. } = pending {
                for (_, error) in results.iter_mut().filter(|(_, error)| error.is_none()) {
                    *error = Some(ErrorCode::NotCoordinator);
                }
                let response = match producer_id {
                    Some(_) => GroupResponse::TxnOffsetCommit { results },
                    None => GroupResponse::OffsetCommit { results },
                };
                self.effects.respond(waiter, response);
            }
        }
        self.effects.event(GroupEvent::PartitionUnloaded { partition_index, groups: ids.len() });
    }
}
