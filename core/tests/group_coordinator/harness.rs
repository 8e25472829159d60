//! The harness the group coordinator scenarios run on: it plays the broker, keeping a clock
//! and the timers the coordinator sets, appending the records it asks for to an in-memory log
//! (at once, or when a test says so), and filing the responses by request id.

use bytes::Bytes;
use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::group::protocol::{GroupRequest, GroupResponse, GroupState, JoinedMember, OffsetToCommit, Protocol};
use kafkalab_core::group::{AppendToken, GroupConfig, GroupCoordinator, GroupEvent, GroupOutput, GroupTimer};
use kafkalab_core::ids::{Offset, TopicPartition};
use kafkalab_core::message::NodeId;
use std::collections::BTreeMap;
use std::sync::Arc;

pub const SESSION_MS: u64 = 10_000;
pub const REBALANCE_MS: u64 = 30_000;
/// Two members joining an empty group at once: the second one arrives during
/// `group.initial.rebalance.delay.ms` (3 s), which extends it once more (Kafka's
/// `InitialDelayedJoin`), so the first generation forms after 6 s.
pub const FIRST_GENERATION_MS: u64 = 6_000;

pub type Records = Vec<(Bytes, Option<Bytes>)>;

pub struct Harness {
    pub coordinator: GroupCoordinator,
    pub now_ms: u64,
    pub timers: Vec<(u64, u64, GroupTimer)>,
    pub next_timer: u64,
    pub responses: BTreeMap<u64, GroupResponse>,
    pub next_request: u64,
    /// Appends not yet completed, in order.
    pub appends: Vec<(AppendToken, Records, Option<i64>)>,
    pub log: Records,
    pub events: Vec<GroupEvent>,
    /// Complete every append as soon as it is asked for.
    pub auto_append: bool,
    /// Every output, for the determinism check.
    pub trace: Vec<String>,
}

impl Harness {
    pub fn new() -> Harness {
        let config = GroupConfig { offsets_topic_num_partitions: 1, ..GroupConfig::default() };
        let mut coordinator = GroupCoordinator::new(config).unwrap();
        coordinator.load_partition(0, 0, Vec::new());
        let mut harness = Harness {
            coordinator,
            now_ms: 0,
            timers: Vec::new(),
            next_timer: 0,
            responses: BTreeMap::new(),
            next_request: 0,
            appends: Vec::new(),
            log: Vec::new(),
            events: Vec::new(),
            auto_append: true,
            trace: Vec::new(),
        };
        harness.drain();
        harness
    }

    pub fn drain(&mut self) {
        loop {
            let outputs = self.coordinator.take_outputs();
            if outputs.is_empty() {
                return;
            }
            for output in outputs {
                self.trace.push(format!("{} {output:?}", self.now_ms));
                match output {
                    GroupOutput::Respond { request_id, response, .. } => {
                        assert!(self.responses.insert(request_id, response).is_none(), "answered twice");
                    }
                    GroupOutput::SetTimer { after_ms, timer } => {
                        self.next_timer += 1;
                        self.timers.push((self.now_ms + after_ms, self.next_timer, timer));
                    }
                    GroupOutput::Append { records, producer, token, .. } => {
                        self.appends.push((token, records, producer.map(|p| p.producer_id)))
                    }
                    GroupOutput::Event(event) => self.events.push(event),
                }
            }
            if self.auto_append {
                self.complete_appends(Ok(()));
            }
        }
    }

    /// Completes every append in flight with `result`.
    fn complete_appends(&mut self, result: Result<(), ErrorCode>) {
        for (token, records, _) in std::mem::take(&mut self.appends) {
            if result.is_ok() {
                self.log.extend(records);
            }
            self.coordinator.append_completed(self.now_ms, token, result);
        }
    }

    /// Completes every append in flight with `result` and collects what follows.
    pub fn settle(&mut self, result: Result<(), ErrorCode>) {
        self.complete_appends(result);
        self.drain();
    }

    pub fn send(&mut self, request: GroupRequest) -> u64 {
        self.next_request += 1;
        let id = self.next_request;
        self.coordinator.handle_request(self.now_ms, NodeId::Client(kafkalab_core::ids::ClientId(1)), id, request);
        self.drain();
        id
    }

    /// Moves the clock on, firing due timers in order.
    pub fn advance(&mut self, ms: u64) {
        let end = self.now_ms + ms;
        loop {
            self.timers.sort_by_key(|(due, seq, _)| (*due, *seq));
            if self.timers.first().is_none_or(|(due, _, _)| *due > end) {
                break;
            }
            let (due, _, timer) = self.timers.remove(0);
            self.now_ms = due;
            self.coordinator.handle_timer(self.now_ms, timer);
            self.drain();
        }
        self.now_ms = end;
    }

    pub fn response(&self, id: u64) -> Option<&GroupResponse> {
        self.responses.get(&id)
    }

    pub fn join_request(&mut self, member_id: &str, instance: Option<&str>, metadata: &[u8]) -> u64 {
        self.send(GroupRequest::JoinGroup {
            group_id: "g".into(),
            session_timeout_ms: SESSION_MS,
            rebalance_timeout_ms: REBALANCE_MS,
            member_id: member_id.into(),
            group_instance_id: instance.map(Arc::from),
            protocol_type: "consumer".into(),
            protocols: vec![Protocol { name: "range".into(), metadata: Bytes::copy_from_slice(metadata) }],
            reason: None,
        })
    }

    /// A dynamic member's two-step join (KIP-394): returns its id and the held join's request id.
    pub fn join_new(&mut self, metadata: &[u8]) -> (Arc<str>, u64) {
        let first = self.join_request("", None, metadata);
        let GroupResponse::JoinGroup { error: Some(ErrorCode::MemberIdRequired), member_id, .. } =
            self.response(first).unwrap().clone()
        else {
            panic!("expected MEMBER_ID_REQUIRED, got {:?}", self.response(first))
        };
        let second = self.join_request(&member_id, None, metadata);
        (member_id, second)
    }

    pub fn sync(&mut self, member_id: &str, generation_id: i32, assignments: Vec<(&str, &[u8])>) -> u64 {
        self.send(GroupRequest::SyncGroup {
            group_id: "g".into(),
            generation_id,
            member_id: member_id.into(),
            group_instance_id: None,
            protocol_type: Some("consumer".into()),
            protocol_name: Some("range".into()),
            assignments: assignments.into_iter().map(|(m, a)| (Arc::from(m), Bytes::copy_from_slice(a))).collect(),
        })
    }

    pub fn heartbeat(&mut self, member_id: &str, instance: Option<&str>, generation_id: i32) -> Option<ErrorCode> {
        let id = self.send(GroupRequest::Heartbeat {
            group_id: "g".into(),
            generation_id,
            member_id: member_id.into(),
            group_instance_id: instance.map(Arc::from),
        });
        match self.response(id) {
            Some(GroupResponse::Heartbeat { error }) => *error,
            other => panic!("no heartbeat answer: {other:?}"),
        }
    }

    pub fn commit(&mut self, member_id: &str, generation_id: i32, partition: i32, offset: i64) -> u64 {
        self.send(GroupRequest::OffsetCommit {
            group_id: "g".into(),
            generation_id,
            member_id: member_id.into(),
            group_instance_id: None,
            offsets: vec![commit_of(partition, offset)],
        })
    }

    pub fn fetch(&mut self, partition: i32, require_stable: bool) -> (Option<Offset>, Option<ErrorCode>) {
        let id = self.send(GroupRequest::OffsetFetch {
            group_id: "g".into(),
            partitions: Some(vec![TopicPartition::new("orders", partition)]),
            require_stable,
        });
        match self.response(id) {
            Some(GroupResponse::OffsetFetch { error: None, offsets }) => (offsets[0].offset, offsets[0].error),
            other => panic!("no offset fetch answer: {other:?}"),
        }
    }

    pub fn state(&self) -> GroupState {
        self.coordinator.group("g").map(|g| g.state()).unwrap_or(GroupState::Dead)
    }

    pub fn generation(&self) -> i32 {
        self.coordinator.group("g").unwrap().generation_id()
    }

    /// Two dynamic members, `a` the leader, in a stable first generation with assignments.
    pub fn stable_pair(&mut self) -> (Arc<str>, Arc<str>) {
        let (a, join_a) = self.join_new(b"sub-a");
        let (b, join_b) = self.join_new(b"sub-b");
        self.advance(FIRST_GENERATION_MS);
        assert!(joined(self.response(join_a)).is_some() && joined(self.response(join_b)).is_some());
        let sync_b = self.sync(&b, 1, vec![]);
        let sync_a = self.sync(&a, 1, vec![(&a, b"p0"), (&b, b"p1")]);
        assert_eq!(assignment(self.response(sync_a)), Some(Bytes::from_static(b"p0")));
        assert_eq!(assignment(self.response(sync_b)), Some(Bytes::from_static(b"p1")));
        assert_eq!(self.state(), GroupState::Stable);
        (a, b)
    }
}

pub fn commit_of(partition: i32, offset: i64) -> OffsetToCommit {
    OffsetToCommit {
        partition: TopicPartition::new("orders", partition),
        offset: Offset(offset),
        leader_epoch: 2,
        metadata: "".into(),
    }
}

/// A successful JoinGroup answer: (generation, leader, members listed).
pub fn joined(response: Option<&GroupResponse>) -> Option<(i32, Arc<str>, Vec<JoinedMember>)> {
    match response? {
        GroupResponse::JoinGroup { error: None, generation_id, leader, members, .. } => {
            Some((*generation_id, leader.clone(), members.clone()))
        }
        _ => None,
    }
}

pub fn join_error(response: Option<&GroupResponse>) -> Option<ErrorCode> {
    match response? {
        GroupResponse::JoinGroup { error, .. } => *error,
        other => panic!("not a join answer: {other:?}"),
    }
}

pub fn assignment(response: Option<&GroupResponse>) -> Option<Bytes> {
    match response? {
        GroupResponse::SyncGroup { error: None, assignment, .. } => Some(assignment.clone()),
        _ => None,
    }
}

pub fn sync_error(response: Option<&GroupResponse>) -> Option<ErrorCode> {
    match response? {
        GroupResponse::SyncGroup { error, .. } => *error,
        other => panic!("not a sync answer: {other:?}"),
    }
}

pub fn commit_errors(response: Option<&GroupResponse>) -> Vec<Option<ErrorCode>> {
    match response {
        Some(GroupResponse::OffsetCommit { results } | GroupResponse::TxnOffsetCommit { results }) => {
            results.iter().map(|(_, error)| *error).collect()
        }
        other => panic!("not a commit answer: {other:?}"),
    }
}
