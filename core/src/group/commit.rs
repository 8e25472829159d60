//! OffsetCommit, OffsetFetch and TxnOffsetCommit, transaction completion, and the expiry of old
//! offsets (`offsets.retention.minutes`, KIP-211), as Kafka's classic coordinator and its
//! `GroupMetadataManager` handle them.
//!
//! A commit is answered only after its records are in the log; until then OffsetFetch does not
//! see it (and reports UNSTABLE_OFFSET_COMMIT for it to a `require_stable` fetch, as for a
//! transaction's offsets before its marker).

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::classic_group::Group;
use super::coordinator::{GroupCoordinator, PartitionStatus};
use super::effects::{client_error_for_append, Cx, PendingAppend};
use super::event::GroupEvent;
use super::member::Waiter;
use super::offsets::OffsetAndMetadata;
use super::output::{AppendToken, GroupTimer};
use super::protocol::{CommittedOffset, GroupId, GroupRequest, GroupResponse, GroupState, InstanceId, OffsetToCommit};
use super::records::RecordKey;
use crate::error_code::ErrorCode;
use crate::ids::TopicPartition;
use crate::transaction::protocol::ProducerIdAndEpoch;

impl Group {
    /// Kafka's checks for a plain commit: from outside the group only while it has no members;
    /// from a member only in its current generation, and not while the assignment is pending.
    fn check_commit(
        &mut self,
        cx: &mut Cx<'_>,
        generation_id: i32,
        member_id: &str,
        instance: Option<&InstanceId>,
    ) -> Result<(), ErrorCode> {
        if generation_id < 0 && self.state == GroupState::Empty {
            return Ok(());
        }
        self.check_member(member_id, instance, generation_id)?;
        match self.state {
            GroupState::CompletingRebalance => Err(ErrorCode::RebalanceInProgress),
            GroupState::Stable | GroupState::PreparingRebalance => {
                // A commit counts as being heard from (Kafka's completeAndScheduleNextHeartbeat).
                let member_id = self.members.get_key_value(member_id).map(|(id, _)| id.clone()).expect("checked");
                self.touch(cx, &member_id);
                Ok(())
            }
            GroupState::Empty | GroupState::Dead => Err(ErrorCode::UnknownMemberId),
        }
    }

    /// Kafka's checks for a transactional commit (KIP-447): a member id and generation, when
    /// given, must be current.
    fn check_txn_commit(
        &self,
        generation_id: i32,
        member_id: &str,
        instance: Option<&InstanceId>,
    ) -> Result<(), ErrorCode> {
        if generation_id < 0 && self.state == GroupState::Empty {
            return Ok(());
        }
        if !member_id.is_empty() && !self.members.contains_key(member_id) {
            return Err(ErrorCode::UnknownMemberId);
        }
        if self.is_static_member_fenced(instance, member_id) {
            return Err(ErrorCode::FencedInstanceId);
        }
        if generation_id >= 0 && generation_id != self.generation_id {
            return Err(ErrorCode::IllegalGeneration);
        }
        Ok(())
    }

    fn fetch_offsets(&self, partitions: Option<Vec<TopicPartition>>, require_stable: bool) -> Vec<CommittedOffset> {
        let partitions = partitions.unwrap_or_else(|| self.offsets.committed().map(|(p, _)| p.clone()).collect());
        partitions.into_iter().map(|partition| self.fetch_offset(partition, require_stable)).collect()
    }

    fn fetch_offset(&self, partition: TopicPartition, require_stable: bool) -> CommittedOffset {
        if require_stable && self.offsets.has_pending(&partition) {
            return unknown_offset(partition, Some(ErrorCode::UnstableOffsetCommit));
        }
        match self.offsets.get(&partition) {
            Some(value) => CommittedOffset {
                partition,
                offset: Some(value.offset),
                leader_epoch: value.leader_epoch,
                metadata: value.metadata.clone(),
                error: None,
            },
            None => unknown_offset(partition, None),
        }
    }
}

fn unknown_offset(partition: TopicPartition, error: Option<ErrorCode>) -> CommittedOffset {
    CommittedOffset { partition, offset: None, leader_epoch: -1, metadata: Arc::from(""), error }
}

impl GroupCoordinator {
    /// OffsetCommit, OffsetFetch or TxnOffsetCommit for a group of an active partition.
    pub(crate) fn handle_offsets_request(
        &mut self,
        now_ms: u64,
        waiter: Waiter,
        group_id: GroupId,
        partition_index: i32,
        request: GroupRequest,
    ) {
        match request {
            GroupRequest::OffsetFetch { partitions, require_stable, .. } => {
                let offsets = match self.groups.get(&group_id) {
                    Some(group) => group.fetch_offsets(partitions, require_stable),
                    None => partitions.unwrap_or_default().into_iter().map(|p| unknown_offset(p, None)).collect(),
                };
                self.effects.respond(waiter, GroupResponse::OffsetFetch { error: None, offsets });
            }
            GroupRequest::OffsetCommit { generation_id, member_id, group_instance_id, offsets, .. } => {
                let (mut cx, groups) = self.parts(now_ms);
                let checked = match groups.get_mut(&group_id) {
                    Some(group) => group.check_commit(&mut cx, generation_id, &member_id, group_instance_id.as_ref()),
                    // Kafka keeps offsets for a group it does not manage (generation -1).
                    None if generation_id < 0 => Ok(()),
                    None => Err(ErrorCode::IllegalGeneration),
                };
                match checked {
                    Ok(()) => self.write_offsets(now_ms, waiter, group_id, partition_index, offsets, None),
                    Err(error) => self.effects.respond(waiter, GroupRequest::commit_error(&offsets, error, false)),
                }
            }
            GroupRequest::TxnOffsetCommit {
                producer_id,
                producer_epoch,
                generation_id,
                member_id,
                group_instance_id,
                offsets,
                ..
            } => {
                let checked = match self.groups.get(&group_id) {
                    Some(group) => group.check_txn_commit(generation_id, &member_id, group_instance_id.as_ref()),
                    None => Ok(()),
                };
                let producer = ProducerIdAndEpoch { producer_id, epoch: producer_epoch };
                match checked {
                    Ok(()) => self.write_offsets(now_ms, waiter, group_id, partition_index, offsets, Some(producer)),
                    Err(error) => self.effects.respond(waiter, GroupRequest::commit_error(&offsets, error, true)),
                }
            }
            other => unreachable!("{} is not an offsets request", other.name()),
        }
    }

    /// Appends the acceptable offsets; oversized metadata is refused per partition.
    fn write_offsets(
        &mut self,
        now_ms: u64,
        waiter: Waiter,
        group_id: GroupId,
        partition_index: i32,
        offsets: Vec<OffsetToCommit>,
        producer: Option<ProducerIdAndEpoch>,
    ) {
        let max_bytes = self.config.offset_metadata_max_bytes;
        let mut results = Vec::with_capacity(offsets.len());
        let mut written = Vec::new();
        let mut records = Vec::new();
        for commit in offsets {
            if commit.metadata.len() > max_bytes {
                results.push((commit.partition, Some(ErrorCode::OffsetMetadataTooLarge)));
                continue;
            }
            let value = OffsetAndMetadata {
                offset: commit.offset,
                leader_epoch: commit.leader_epoch,
                metadata: commit.metadata,
                commit_timestamp_ms: now_ms,
            };
            let key = RecordKey::OffsetCommit {
                group: group_id.clone(),
                topic: commit.partition.topic.clone(),
                partition: commit.partition.partition.0,
            };
            records.push((key.encode(), Some(value.to_record().encode())));
            results.push((commit.partition.clone(), None));
            written.push((commit.partition, value));
        }
        if written.is_empty() {
            let response = match producer {
                Some(_) => GroupResponse::TxnOffsetCommit { results },
                None => GroupResponse::OffsetCommit { results },
            };
            return self.effects.respond(waiter, response);
        }
        let group = self
            .groups
            .entry(group_id.clone())
            .or_insert_with(|| Group::new(group_id.clone(), partition_index, now_ms));
        match producer {
            Some(producer) => group.offsets.prepare_txn(producer.producer_id, &written),
            None => group.offsets.prepare(written.iter().map(|(partition, _)| partition.clone())),
        }
        let pending = PendingAppend::Offsets {
            group_id,
            partition_index,
            waiter,
            producer_id: producer.map(|p| p.producer_id),
            offsets: written,
            results,
        };
        self.effects.append(records, producer, pending);
    }

    /// The append of a commit completed: the offsets count (or, for a transaction, wait for its
    /// marker) and the request is answered.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn complete_offsets_append(
        &mut self,
        token: AppendToken,
        group_id: GroupId,
        waiter: Waiter,
        producer_id: Option<i64>,
        offsets: Vec<(TopicPartition, OffsetAndMetadata)>,
        mut results: Vec<(TopicPartition, Option<ErrorCode>)>,
        result: Result<(), ErrorCode>,
    ) {
        let ok = result.is_ok();
        if let Some(group) = self.groups.get_mut(&group_id) {
            match producer_id {
                Some(producer_id) => group.offsets.complete_txn_append(producer_id, &offsets, token.0, ok),
                None => group.offsets.complete(&offsets, token.0, ok),
            }
            if ok {
                let transactional = producer_id.is_some();
                self.effects.event(GroupEvent::OffsetsCommitted { group_id, partitions: offsets.len(), transactional });
            }
        }
        let error = result.err().map(|error| client_error_for_append(error, true));
        for (_, slot) in results.iter_mut().filter(|(_, slot)| slot.is_none()) {
            *slot = error;
        }
        let response = match producer_id {
            Some(_) => GroupResponse::TxnOffsetCommit { results },
            None => GroupResponse::OffsetCommit { results },
        };
        self.effects.respond(waiter, response);
    }

    /// A commit (`committed`) or abort marker of `producer_id` landed in offsets partition
    /// `partition_index`: its pending offsets there become committed, or vanish.
    pub fn complete_transaction(&mut self, partition_index: i32, producer_id: i64, committed: bool) {
        for group in self.groups.values_mut().filter(|g| g.partition_index == partition_index) {
            if !group.offsets.has_producer(producer_id) {
                continue;
            }
            let partitions = group.offsets.complete_transaction(producer_id, committed);
            let group_id = group.id.clone();
            self.effects.event(GroupEvent::TransactionCompleted { group_id, producer_id, committed, partitions });
        }
    }

    /// Removes offsets past `offsets.retention.minutes` (KIP-211: a consumer group's offsets
    /// once it has been empty that long; a group without members' protocol, each offset that
    /// long after its commit), writes their tombstones, and removes empty groups left without
    /// offsets (Dead, with a tombstone for their metadata).
    pub(crate) fn expire_offsets(&mut self, now_ms: u64, partition_index: i32) {
        if self.partitions.get(&partition_index) != Some(&PartitionStatus::Active) {
            return;
        }
        let retention_ms = self.config.offsets_retention_ms();
        let mut records = Vec::new();
        let mut dead = Vec::new();
        let (mut cx, groups) = self.parts(now_ms);
        for group in groups.values_mut().filter(|g| g.partition_index == partition_index) {
            let expired = if !group.members.is_empty() {
                // Needs the members' subscriptions to know which topics are unused; kept.
                Vec::new()
            } else if group.protocol_type.is_some() {
                let empty_long_enough = now_ms >= group.state_timestamp_ms.saturating_add(retention_ms);
                group.offsets.expire(|_| empty_long_enough)
            } else {
                group.offsets.expire(|value| now_ms >= value.commit_timestamp_ms.saturating_add(retention_ms))
            };
            for partition in &expired {
                let key = RecordKey::OffsetCommit {
                    group: group.id.clone(),
                    topic: partition.topic.clone(),
                    partition: partition.partition.0,
                };
                records.push((key.encode(), None));
            }
            if !expired.is_empty() {
                cx.out.event(GroupEvent::OffsetsExpired { group_id: group.id.clone(), partitions: expired.len() });
            }
            if group.state == GroupState::Empty && group.offsets.is_empty() && group.pending_members.is_empty() {
                group.transition(&mut cx, GroupState::Dead);
                records.push((RecordKey::GroupMetadata { group: group.id.clone() }.encode(), None));
                dead.push(group.id.clone());
            }
        }
        for group_id in dead {
            groups.remove(&group_id);
        }
        if !records.is_empty() {
            cx.out.append(records, None, PendingAppend::Tombstones { partition_index });
        }
        let timer = GroupTimer::OffsetsRetention { partition_index };
        cx.out.set_timer(cx.config.offsets_retention_check_interval_ms, timer);
    }
}

impl GroupRequest {
    /// A commit refused as a whole: every partition gets `error`.
    fn commit_error(offsets: &[OffsetToCommit], error: ErrorCode, transactional: bool) -> GroupResponse {
        let results = offsets.iter().map(|o| (o.partition.clone(), Some(error))).collect();
        if transactional {
            GroupResponse::TxnOffsetCommit { results }
        } else {
            GroupResponse::OffsetCommit { results }
        }
    }
}
