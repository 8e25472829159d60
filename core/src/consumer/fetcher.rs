//! The consumer's fetching (`Fetcher` and `SubscriptionState`): a position per assigned
//! partition, at most one fetch in flight per partition to its leader, the fetched records
//! buffered until a poll takes them, and `auto.offset.reset`.
//!
//! A partition is fetched again only once a poll has drained its buffered records, as in Kafka,
//! where a partition with buffered data is not fetchable; so the position (the next offset a
//! poll returns) is always where the next fetch starts.
//!
//! Resetting needs an offset from the leader: the log start for `earliest`, and for `latest`
//! the log end a consumer may read, the high watermark (the last stable offset for
//! `read_committed`, as ListOffsets would answer). The model has no ListOffsets, so the
//! consumer sends a fetch as its probe, from offset 0, and reads both values off the answer
//! (every answer carries the log start, successful ones the high watermark and last stable
//! offset), discarding any records. A probe told OFFSET_OUT_OF_RANGE (the log no longer starts
//! at 0) learns the log start, and a `latest` reset probes once more from there.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use crate::error_code::ErrorCode;
use crate::ids::{BrokerId, Offset, TopicPartition};
use crate::message::{ConsumerFetchData, IsolationLevel, Message};
use crate::record_batch::NO_PARTITION_LEADER_EPOCH;

use super::config::AutoOffsetReset;
use super::records::{consumable_records, ConsumedRecord};
use super::{ClientMetadata, Consumer, ConsumerEvent, ConsumerTimer};

/// One assigned partition's fetch state.
#[derive(Clone, Debug, Default)]
struct PartitionFetch {
    /// The next offset a poll returns; `None` until known.
    position: Option<Offset>,
    /// The leader epoch of the record before the position, -1 when unknown.
    position_epoch: i32,
    /// Resetting by `auto.offset.reset`: the offset the probe fetch asks for.
    probe: Option<Offset>,
    /// The fetch awaiting its answer, and the leader it went to.
    in_flight: Option<(u64, BrokerId)>,
    backoff: bool,
    high_watermark: Option<Offset>,
    last_stable_offset: Option<Offset>,
    /// Fetched records no poll has taken yet, in offset order.
    buffer: VecDeque<ConsumedRecord>,
    /// Where the position goes once the buffer is drained (past trailing control batches).
    buffer_end: Offset,
}

/// The assigned partitions' positions and fetched records.
#[derive(Clone, Debug, Default)]
pub(super) struct Fetcher {
    partitions: BTreeMap<TopicPartition, PartitionFetch>,
    /// Partitions with buffered records, in the order their fetches completed: polls drain
    /// them in this order, as Kafka's queue of completed fetches.
    completed: VecDeque<TopicPartition>,
}

impl Fetcher {
    pub(super) fn assigned(&self) -> impl Iterator<Item = &TopicPartition> {
        self.partitions.keys()
    }

    pub(super) fn positions(&self) -> BTreeMap<TopicPartition, Offset> {
        self.partitions.iter().filter_map(|(p, state)| state.position.map(|offset| (p.clone(), offset))).collect()
    }

    /// Each known position with its leader epoch, to commit.
    pub(super) fn consumed(&self) -> impl Iterator<Item = (&TopicPartition, Offset, i32)> {
        self.partitions.iter().filter_map(|(p, state)| state.position.map(|offset| (p, offset, state.position_epoch)))
    }

    pub(super) fn lag(&self, isolation: IsolationLevel) -> BTreeMap<TopicPartition, i64> {
        self.partitions
            .iter()
            .filter_map(|(p, state)| {
                let end = match isolation {
                    IsolationLevel::ReadUncommitted => state.high_watermark?,
                    IsolationLevel::ReadCommitted => state.last_stable_offset?,
                };
                Some((p.clone(), end.0 - state.position?.0))
            })
            .collect()
    }

    /// Newly assigned partitions: positions unknown until OffsetFetch answers.
    pub(super) fn add(&mut self, partitions: &[TopicPartition]) {
        for partition in partitions {
            self.partitions.entry(partition.clone()).or_insert_with(|| PartitionFetch {
                position_epoch: NO_PARTITION_LEADER_EPOCH.0,
                ..PartitionFetch::default()
            });
        }
    }

    /// Revoked or lost partitions: their buffered records are dropped, and answers to their
    /// fetches in flight will be ignored.
    pub(super) fn remove(&mut self, partitions: &[TopicPartition]) {
        for partition in partitions {
            self.partitions.remove(partition);
        }
        self.completed.retain(|partition| !partitions.contains(partition));
    }

    /// Partitions waiting for their committed offset.
    pub(super) fn awaiting_committed(&self) -> Vec<TopicPartition> {
        self.partitions
            .iter()
            .filter(|(_, state)| state.position.is_none() && state.probe.is_none())
            .map(|(p, _)| p.clone())
            .collect()
    }

    pub(super) fn is_awaiting_committed(&self, partition: &TopicPartition) -> bool {
        self.partitions.get(partition).is_some_and(|state| state.position.is_none() && state.probe.is_none())
    }

    /// Starts from the committed `offset`.
    pub(super) fn set_position(&mut self, partition: &TopicPartition, offset: Offset, leader_epoch: i32) {
        if let Some(state) = self.partitions.get_mut(partition) {
            state.position = Some(offset);
            state.position_epoch = leader_epoch;
        }
    }

    /// No committed offset: find where `auto.offset.reset` points with a probe from 0.
    pub(super) fn begin_reset(&mut self, partition: &TopicPartition) {
        if let Some(state) = self.partitions.get_mut(partition) {
            state.position = None;
            state.probe = Some(Offset(0));
        }
    }

    pub(super) fn end_backoff(&mut self, partition: &TopicPartition) {
        if let Some(state) = self.partitions.get_mut(partition) {
            state.backoff = false;
        }
    }

    pub(super) fn has_records(&self) -> bool {
        !self.completed.is_empty()
    }

    /// A poll: up to `max` buffered records, partition by partition in the order their fetches
    /// completed, moving each partition's position past what it returns.
    pub(super) fn take_records(&mut self, max: usize) -> Vec<ConsumedRecord> {
        let mut taken = Vec::new();
        while taken.len() < max {
            let Some(partition) = self.completed.front() else { break };
            let state = self.partitions.get_mut(partition).expect("completed partitions are assigned");
            while taken.len() < max {
                let Some(record) = state.buffer.pop_front() else { break };
                state.position = Some(record.offset.next());
                state.position_epoch = record.leader_epoch.0;
                taken.push(record);
            }
            if !state.buffer.is_empty() {
                break;
            }
            state.position = state.position.max(Some(state.buffer_end));
            self.completed.pop_front();
        }
        taken
    }
}

impl Consumer {
    /// Sends a fetch for every partition that has a position (or a probe), no fetch in flight,
    /// no back-off and no buffered records.
    pub(super) fn send_fetches(&mut self, cluster: &dyn ClientMetadata) {
        let wanted: Vec<(TopicPartition, Offset)> = self
            .fetcher
            .partitions
            .iter()
            .filter(|(_, state)| state.in_flight.is_none() && !state.backoff && state.buffer.is_empty())
            .filter_map(|(p, state)| state.probe.or(state.position).map(|offset| (p.clone(), offset)))
            .collect();
        for (partition, fetch_offset) in wanted {
            let Some(leader) = cluster.leader(&partition) else {
                self.fetch_backoff(&partition);
                continue;
            };
            let fetch_id = self.request_id();
            self.fetcher.partitions.get_mut(&partition).expect("listed above").in_flight = Some((fetch_id, leader));
            let timer = ConsumerTimer::FetchTimeout { partition: partition.clone(), fetch_id };
            self.set_timer(self.config.request_timeout_ms, timer);
            let isolation = self.config.isolation_level;
            self.send(leader, Message::ConsumerFetch { fetch_id, partition, fetch_offset, isolation });
        }
    }

    fn fetch_backoff(&mut self, partition: &TopicPartition) {
        if let Some(state) = self.fetcher.partitions.get_mut(partition) {
            state.backoff = true;
            let timer = ConsumerTimer::FetchRetry { partition: partition.clone() };
            self.set_timer(self.config.retry_backoff_ms, timer);
        }
    }

    /// The connection to `broker` broke: the fetches waiting there fail, and each partition
    /// is fetched again after `retry.backoff.ms` from the leader the metadata names then (Kafka
    /// fails the fetch session's partitions and refreshes its metadata). Returns how many failed.
    pub(super) fn fetches_disconnected(&mut self, broker: BrokerId) -> usize {
        let failed: Vec<TopicPartition> = self
            .fetcher
            .partitions
            .iter_mut()
            .filter(|(_, state)| state.in_flight.is_some_and(|(_, to)| to == broker))
            .map(|(partition, state)| {
                state.in_flight = None;
                partition.clone()
            })
            .collect();
        for partition in &failed {
            self.fetch_backoff(partition);
        }
        failed.len()
    }

    pub(super) fn on_fetch_timeout(&mut self, partition: &TopicPartition, fetch_id: u64) {
        if let Some(state) = self.fetcher.partitions.get_mut(partition) {
            if state.in_flight.is_some_and(|(id, _)| id == fetch_id) {
                state.in_flight = None;
            }
        }
    }

    pub(super) fn on_fetch_response(
        &mut self,
        fetch_id: u64,
        partition: TopicPartition,
        log_start_offset: Offset,
        result: Result<ConsumerFetchData, ErrorCode>,
    ) {
        let Some(state) = self.fetcher.partitions.get_mut(&partition) else { return };
        if state.in_flight.is_none_or(|(id, _)| id != fetch_id) {
            return; // an answer to a fetch given up on, or for an earlier assignment
        }
        state.in_flight = None;
        let probing = state.probe.is_some();
        match result {
            Ok(data) => {
                state.high_watermark = Some(data.high_watermark);
                state.last_stable_offset = Some(data.last_stable_offset);
                if probing {
                    let offset = match (self.config.auto_offset_reset, self.config.isolation_level) {
                        (AutoOffsetReset::Earliest, _) => log_start_offset,
                        (AutoOffsetReset::Latest, IsolationLevel::ReadUncommitted) => data.high_watermark,
                        (AutoOffsetReset::Latest, IsolationLevel::ReadCommitted) => data.last_stable_offset,
                    };
                    self.finish_reset(&partition, offset);
                } else {
                    self.buffer_fetched(&partition, &data);
                }
            }
            Err(ErrorCode::OffsetOutOfRange) => match self.config.auto_offset_reset {
                AutoOffsetReset::Earliest => self.finish_reset(&partition, log_start_offset),
                AutoOffsetReset::Latest => {
                    state.position = None;
                    state.probe = Some(log_start_offset);
                }
            },
            Err(_) => self.fetch_backoff(&partition),
        }
    }

    fn finish_reset(&mut self, partition: &TopicPartition, offset: Offset) {
        let Some(state) = self.fetcher.partitions.get_mut(partition) else { return };
        state.probe = None;
        state.position = Some(offset);
        state.position_epoch = NO_PARTITION_LEADER_EPOCH.0;
        let strategy = self.config.auto_offset_reset;
        self.event(ConsumerEvent::OffsetReset { partition: partition.clone(), strategy, offset });
    }

    fn buffer_fetched(&mut self, partition: &TopicPartition, data: &ConsumerFetchData) {
        let isolation = self.config.isolation_level;
        let state = self.fetcher.partitions.get_mut(partition).expect("the caller found it");
        let Some(position) = state.position else { return };
        let (records, next_offset) =
            consumable_records(partition, &data.batches, &data.aborted_transactions, isolation, position);
        if records.is_empty() {
            // Only control batches, aborted transactions or nothing: move past them now.
            state.position = Some(next_offset);
            return;
        }
        state.buffer = records.into();
        state.buffer_end = next_offset;
        self.fetcher.completed.push_back(partition.clone());
    }
}
