//! One group's state: its members, generation, chosen protocol, leader, the phase of its
//! rebalance, and its offsets. The rules that move it between states live in `membership.rs`,
//! `join.rs` and `sync.rs`; this file holds the data and the questions asked of it.
//!
//! ```text
//!            join                       all joined / timeout           leader's sync stored
//!  Empty ------------> PreparingRebalance ---------------> CompletingRebalance -----> Stable
//!    ^                  ^   ^  (no members left: Empty)          |                     |
//!    |                  |   +------ join, leave, timeout --------+                     |
//!    |                  +-------------------- join (new or changed), leave, timeout ---+
//!    +-- offsets expired: Dead (removed)
//! ```

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::sync::Arc;
use alloc::vec::Vec;
use bytes::Bytes;

use super::effects::Cx;
use super::event::GroupEvent;
use super::member::Member;
use super::offsets::GroupOffsets;
use super::protocol::{GroupId, GroupState, InstanceId, JoinedMember, MemberId, Protocol};
use super::records::{GroupMetadataValue, MemberMetadataRecord};

/// How the current join phase ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JoinPhase {
    /// The first rebalance of an empty group (Kafka's `InitialDelayedJoin`): it waits
    /// `group.initial.rebalance.delay.ms`, again while new members keep arriving, until
    /// `remaining_ms` of the rebalance timeout are used up. Only the timer ends it.
    Initial { deadline_ms: u64, remaining_ms: u64, new_member_added: bool },
    /// Any other rebalance (`DelayedJoin`): it ends when every member joined again, or at the
    /// deadline.
    Delayed { deadline_ms: u64 },
}

/// A consumer group (or any group of Kafka's classic protocol).
#[derive(Clone, Debug)]
pub struct Group {
    pub(crate) id: GroupId,
    pub(crate) partition_index: i32,
    pub(crate) state: GroupState,
    pub(crate) state_timestamp_ms: u64,
    pub(crate) generation_id: i32,
    /// Set by the first member; `None` for a group that only stores offsets.
    pub(crate) protocol_type: Option<Arc<str>>,
    pub(crate) protocol_name: Option<Arc<str>>,
    pub(crate) leader: Option<MemberId>,
    pub(crate) members: BTreeMap<MemberId, Member>,
    /// KIP-394: ids handed out with MEMBER_ID_REQUIRED, not yet used to join.
    pub(crate) pending_members: BTreeSet<MemberId>,
    /// KIP-345: each static member's current member id.
    pub(crate) static_members: BTreeMap<InstanceId, MemberId>,
    /// Members of the new generation that have not sent SyncGroup yet.
    pub(crate) pending_sync: BTreeSet<MemberId>,
    pub(crate) join_phase: Option<JoinPhase>,
    /// Which rebalance the join timer belongs to.
    pub(crate) rebalance: u64,
    pub(crate) offsets: GroupOffsets,
}

impl Group {
    pub(crate) fn new(id: GroupId, partition_index: i32, now_ms: u64) -> Group {
        Group {
            id,
            partition_index,
            state: GroupState::Empty,
            state_timestamp_ms: now_ms,
            generation_id: 0,
            protocol_type: None,
            protocol_name: None,
            leader: None,
            members: BTreeMap::new(),
            pending_members: BTreeSet::new(),
            static_members: BTreeMap::new(),
            pending_sync: BTreeSet::new(),
            join_phase: None,
            rebalance: 0,
            offsets: GroupOffsets::default(),
        }
    }

    pub fn id(&self) -> &GroupId {
        &self.id
    }

    pub fn state(&self) -> GroupState {
        self.state
    }

    pub fn generation_id(&self) -> i32 {
        self.generation_id
    }

    pub fn protocol_type(&self) -> Option<&Arc<str>> {
        self.protocol_type.as_ref()
    }

    pub fn protocol_name(&self) -> Option<&Arc<str>> {
        self.protocol_name.as_ref()
    }

    pub fn leader(&self) -> Option<&MemberId> {
        self.leader.as_ref()
    }

    pub fn members(&self) -> impl Iterator<Item = &Member> {
        self.members.values()
    }

    pub fn member(&self, member_id: &str) -> Option<&Member> {
        self.members.get(member_id)
    }

    pub(crate) fn is_leader(&self, member_id: &str) -> bool {
        self.leader.as_deref() == Some(member_id)
    }

    /// Moves to `to`, stamping the time (stored as the current state timestamp).
    pub(crate) fn transition(&mut self, cx: &mut Cx<'_>, to: GroupState) {
        assert!(
            valid_transition(self.state, to),
            "group {}: {:?} -> {:?} is not a Kafka transition",
            self.id,
            self.state,
            to
        );
        let from = self.state;
        self.state = to;
        self.state_timestamp_ms = cx.now_ms;
        cx.out.event(GroupEvent::StateChanged { group_id: self.id.clone(), from, to });
    }

    /// Kafka's `supportsProtocols`: an empty group takes any type with some protocol; otherwise
    /// the type must match and one of the protocols must be spoken by every member.
    pub(crate) fn supports_protocols(&self, protocol_type: &str, protocols: &[Protocol]) -> bool {
        if self.members.is_empty() {
            return !protocol_type.is_empty() && !protocols.is_empty();
        }
        self.protocol_type.as_deref() == Some(protocol_type)
            && protocols.iter().any(|p| self.members.values().all(|member| member.supports(&p.name)))
    }

    /// Kafka's `selectProtocol`: among the protocols every member speaks, the one most members
    /// prefer (each votes for its first common one). Ties go to the name that sorts first.
    pub(crate) fn select_protocol(&self) -> Option<Arc<str>> {
        let first = self.members.values().next()?;
        let candidates: Vec<&str> = first
            .protocols
            .iter()
            .map(|p| p.name.as_ref())
            .filter(|name| self.members.values().all(|member| member.supports(name)))
            .collect();
        let mut votes: BTreeMap<&Arc<str>, usize> = BTreeMap::new();
        for member in self.members.values() {
            if let Some(vote) = member.vote(&candidates) {
                *votes.entry(vote).or_insert(0) += 1;
            }
        }
        let most = votes.values().copied().max()?;
        votes.into_iter().find(|(_, count)| *count == most).map(|(name, _)| name.clone())
    }

    /// The group's rebalance timeout: the largest of its members'.
    pub(crate) fn rebalance_timeout_ms(&self) -> u64 {
        self.members.values().map(|member| member.rebalance_timeout_ms).max().unwrap_or(0)
    }

    /// Every member joined in this phase and no KIP-394 member is still on its way.
    pub(crate) fn has_all_members_joined(&self) -> bool {
        self.members.values().all(Member::is_awaiting_join) && self.pending_members.is_empty()
    }

    /// KIP-345: the instance id now belongs to another member id.
    pub(crate) fn is_static_member_fenced(&self, group_instance_id: Option<&InstanceId>, member_id: &str) -> bool {
        group_instance_id
            .and_then(|instance| self.static_members.get(instance))
            .is_some_and(|current| current.as_ref() != member_id)
    }

    /// Kafka's `acceptJoiningMember`: whether `group.max.size` leaves room for this member.
    pub(crate) fn accepts_joining_member(&self, member_id: &str, max_size: u32) -> bool {
        let max_size = max_size as usize;
        match self.state {
            GroupState::Empty | GroupState::Dead => true,
            GroupState::PreparingRebalance => {
                self.members.get(member_id).is_some_and(Member::is_awaiting_join)
                    || self.members.values().filter(|m| m.is_awaiting_join()).count() < max_size
            }
            GroupState::CompletingRebalance | GroupState::Stable => {
                self.members.contains_key(member_id) || self.members.len() < max_size
            }
        }
    }

    /// Adds a member; the first one sets the protocol type and becomes leader.
    pub(crate) fn add(&mut self, member: Member) {
        if self.members.is_empty() {
            self.protocol_type = Some(member.protocol_type.clone());
        }
        if self.leader.is_none() {
            self.leader = Some(member.member_id.clone());
        }
        if let Some(instance) = &member.group_instance_id {
            self.static_members.insert(instance.clone(), member.member_id.clone());
        }
        self.members.insert(member.member_id.clone(), member);
    }

    /// Removes a member; a leader that goes hands over to the first remaining member.
    pub(crate) fn remove(&mut self, member_id: &str) -> Option<Member> {
        let member = self.members.remove(member_id)?;
        if let Some(instance) = &member.group_instance_id {
            if self.static_members.get(instance).is_some_and(|id| id.as_ref() == member_id) {
                self.static_members.remove(instance);
            }
        }
        self.pending_sync.remove(member_id);
        if self.is_leader(member_id) {
            self.leader = self.members.keys().next().cloned();
        }
        Some(member)
    }

    /// Moves a static member to its new member id (KIP-345); the caller answers the old
    /// member's held requests.
    pub(crate) fn replace_static_member(&mut self, old_member_id: &str, new_member_id: &MemberId) -> Member {
        let old = self.members.remove(old_member_id).expect("the static member being replaced exists");
        let mut member = old.clone();
        member.member_id = new_member_id.clone();
        member.awaiting_join = None;
        member.awaiting_sync = None;
        if let Some(instance) = &member.group_instance_id {
            self.static_members.insert(instance.clone(), new_member_id.clone());
        }
        if self.pending_sync.remove(old_member_id) {
            self.pending_sync.insert(new_member_id.clone());
        }
        if self.is_leader(old_member_id) {
            self.leader = Some(new_member_id.clone());
        }
        self.members.insert(new_member_id.clone(), member);
        old
    }

    /// Every member with its metadata for the chosen protocol, as the leader's JoinGroup
    /// response lists them.
    pub(crate) fn current_member_metadata(&self) -> Vec<JoinedMember> {
        let protocol = self.protocol_name.as_deref().unwrap_or("");
        self.members
            .values()
            .map(|member| JoinedMember {
                member_id: member.member_id.clone(),
                group_instance_id: member.group_instance_id.clone(),
                metadata: member.metadata_for(protocol),
            })
            .collect()
    }

    /// The group metadata record for the current generation with `assignment`.
    pub(crate) fn to_record(&self, assignment: &BTreeMap<MemberId, Bytes>) -> GroupMetadataValue {
        let protocol = self.protocol_name.as_deref().unwrap_or("");
        GroupMetadataValue {
            protocol_type: self.protocol_type.clone().unwrap_or_else(|| Arc::from("")),
            generation: self.generation_id,
            protocol: self.protocol_name.clone(),
            leader: self.leader.clone(),
            current_state_timestamp_ms: i64::try_from(self.state_timestamp_ms).unwrap_or(i64::MAX),
            members: self
                .members
                .values()
                .map(|member| MemberMetadataRecord {
                    member_id: member.member_id.clone(),
                    group_instance_id: member.group_instance_id.clone(),
                    client_id: member.client_id.clone(),
                    client_host: member.client_host.clone(),
                    rebalance_timeout_ms: clamp_i32(member.rebalance_timeout_ms),
                    session_timeout_ms: clamp_i32(member.session_timeout_ms),
                    subscription: member.metadata_for(protocol),
                    assignment: assignment.get(&member.member_id).cloned().unwrap_or_default(),
                })
                .collect(),
        }
    }

    /// A group as its stored record describes it: Stable with its members, or Empty. Members
    /// are heard from "now", so their sessions start over.
    pub(crate) fn from_record(id: GroupId, partition_index: i32, value: &GroupMetadataValue, now_ms: u64) -> Group {
        let mut group = Group::new(id, partition_index, now_ms);
        group.generation_id = value.generation;
        group.protocol_type = (!value.protocol_type.is_empty()).then(|| value.protocol_type.clone());
        group.protocol_name = value.protocol.clone();
        group.state_timestamp_ms = u64::try_from(value.current_state_timestamp_ms).unwrap_or(now_ms);
        for record in &value.members {
            group.add(Member {
                member_id: record.member_id.clone(),
                group_instance_id: record.group_instance_id.clone(),
                client_id: record.client_id.clone(),
                client_host: record.client_host.clone(),
                protocol_type: value.protocol_type.clone(),
                protocols: alloc::vec![Protocol {
                    name: value.protocol.clone().unwrap_or_else(|| Arc::from("")),
                    metadata: record.subscription.clone(),
                }],
                rebalance_timeout_ms: u64::try_from(record.rebalance_timeout_ms).unwrap_or(0),
                session_timeout_ms: u64::try_from(record.session_timeout_ms).unwrap_or(0),
                assignment: record.assignment.clone(),
                last_heard_ms: now_ms,
                awaiting_join: None,
                awaiting_sync: None,
            });
        }
        group.leader = value.leader.clone().filter(|leader| group.members.contains_key(leader));
        if group.leader.is_none() {
            group.leader = group.members.keys().next().cloned();
        }
        group.state = if group.members.is_empty() { GroupState::Empty } else { GroupState::Stable };
        group
    }
}

fn clamp_i32(value: u64) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// Kafka's `validPreviousStates`, read the other way round.
fn valid_transition(from: GroupState, to: GroupState) -> bool {
    use GroupState::*;
    match to {
        Dead => true,
        PreparingRebalance => matches!(from, Stable | CompletingRebalance | Empty),
        CompletingRebalance => from == PreparingRebalance,
        Stable => from == CompletingRebalance,
        Empty => from == PreparingRebalance,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn member(id: &str, protocols: &[&str]) -> Member {
        Member {
            member_id: id.into(),
            group_instance_id: None,
            client_id: "".into(),
            client_host: "".into(),
            protocol_type: "consumer".into(),
            protocols: protocols.iter().map(|name| Protocol { name: (*name).into(), metadata: Bytes::new() }).collect(),
            rebalance_timeout_ms: 1,
            session_timeout_ms: 10,
            assignment: Bytes::new(),
            last_heard_ms: 0,
            awaiting_join: None,
            awaiting_sync: None,
        }
    }

    #[test]
    fn select_protocol_picks_the_common_protocol_most_members_prefer() {
        let mut group = Group::new("g".into(), 0, 0);
        group.add(member("a", &["sticky", "range"]));
        group.add(member("b", &["range", "sticky"]));
        group.add(member("c", &["range", "roundrobin", "sticky"]));
        assert_eq!(group.select_protocol().as_deref(), Some("range"));
        assert!(group.supports_protocols("consumer", &[Protocol { name: "sticky".into(), metadata: Bytes::new() }]));
        assert!(
            !group.supports_protocols("consumer", &[Protocol { name: "roundrobin".into(), metadata: Bytes::new() }])
        );
        assert!(!group.supports_protocols("connect", &[Protocol { name: "range".into(), metadata: Bytes::new() }]));
    }

    #[test]
    fn the_first_member_leads_and_a_leaving_leader_hands_over() {
        let mut group = Group::new("g".into(), 0, 0);
        group.add(member("b", &["range"]));
        group.add(member("a", &["range"]));
        assert_eq!(group.leader().map(|l| l.as_ref()), Some("b"));
        group.remove("b");
        assert_eq!(group.leader().map(|l| l.as_ref()), Some("a"));
    }

    #[test]
    fn a_stored_group_loads_back_stable_with_its_members() {
        let mut group = Group::new("g".into(), 3, 0);
        group.add(member("a", &["range"]));
        group.generation_id = 4;
        group.protocol_name = Some("range".into());
        let assignment = BTreeMap::from([(MemberId::from("a"), Bytes::from_static(&[9]))]);
        let record = group.to_record(&assignment);
        let loaded = Group::from_record("g".into(), 3, &record, 100);
        assert_eq!((loaded.state(), loaded.generation_id()), (GroupState::Stable, 4));
        assert_eq!(loaded.member("a").map(|m| m.assignment.clone()), Some(Bytes::from_static(&[9])));
        assert_eq!(loaded.member("a").map(|m| m.last_heard_ms), Some(100));
        assert_eq!(loaded.to_record(&assignment).members, vec![record.members[0].clone()]);
    }

    #[test]
    fn only_kafkas_transitions_are_allowed() {
        assert!(valid_transition(GroupState::Empty, GroupState::PreparingRebalance));
        assert!(!valid_transition(GroupState::Empty, GroupState::Stable));
        assert!(!valid_transition(GroupState::PreparingRebalance, GroupState::Stable));
        assert!(valid_transition(GroupState::PreparingRebalance, GroupState::Empty));
    }
}
