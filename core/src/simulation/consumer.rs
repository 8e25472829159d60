//! The client's consumer: Kafka's console consumer without a group, reading every partition of a
//! topic from the beginning (`auto.offset.reset=earliest`). It keeps a position per partition,
//! fetches from the partition's leader (which answers with committed records only, waiting up
//! to `fetch.max.wait.ms` when there are none), moves past what it got, and fetches again; it
//! follows the metadata when the leader moves, and backs off `retry.backoff.ms` after an error.
//! Groups, committed offsets and `poll` are the consumer model still to come.

use alloc::string::ToString;

use crate::error_code::ErrorCode;
use crate::ids::{BrokerId, ClientId, Offset, TopicPartition};
use crate::message::{ConsumerFetchData, IsolationLevel, Message, NodeId, Timer};
use crate::trace::TraceEvent;

use super::{CommandError, Simulation};

/// `retry.backoff.ms` (Kafka: 100).
const RETRY_BACKOFF_MS: u64 = 100;

/// Where the consumer stands in one partition.
#[derive(Clone, Debug, Default)]
pub struct ConsumerPosition {
    /// The next offset to read.
    pub position: Offset,
    /// Records read so far.
    pub records: u64,
    /// The fetch awaiting an answer, if one is, and the broker it went to.
    fetch_in_flight: Option<u64>,
    fetch_sent_to: Option<BrokerId>,
}

impl Simulation {
    /// Starts reading every partition of `topic` from the beginning.
    pub(super) fn start_consumer(&mut self, topic: &str) -> Result<(), CommandError> {
        let count =
            self.metadata().partition_count(topic).ok_or_else(|| CommandError::UnknownTopic(topic.to_string()))?;
        for index in 0..count {
            let partition = TopicPartition::new(topic, index);
            if self.consumers.contains_key(&partition) {
                continue;
            }
            self.consumers.insert(partition.clone(), ConsumerPosition::default());
            self.send_consumer_fetch(partition);
        }
        Ok(())
    }

    /// The consumer's positions and how much it has read, per partition.
    pub fn consumer_positions(&self) -> impl Iterator<Item = (&TopicPartition, &ConsumerPosition)> {
        self.consumers.iter()
    }

    pub(super) fn send_consumer_fetch(&mut self, partition: TopicPartition) {
        let Some(consumer) = self.consumers.get(&partition) else { return };
        let fetch_offset = consumer.position;
        let Some(leader) = self.metadata().partition(&partition).and_then(|s| s.leader) else {
            self.set_consumer_timer(RETRY_BACKOFF_MS, Timer::ConsumerRetry { partition });
            return;
        };
        let fetch_id = self.next_request_id;
        self.next_request_id += 1;
        let consumer = self.consumers.get_mut(&partition).expect("checked above");
        consumer.fetch_in_flight = Some(fetch_id);
        consumer.fetch_sent_to = Some(leader);
        let timeout = self.config.request_timeout_ms;
        self.set_consumer_timer(timeout, Timer::ConsumerFetchTimeout { partition: partition.clone(), fetch_id });
        let isolation = IsolationLevel::ReadUncommitted;
        let message = Message::ConsumerFetch { fetch_id, partition, fetch_offset, isolation };
        self.schedule_send(NodeId::Client(ClientId::CONSOLE), NodeId::Broker(leader), message);
    }

    /// The fetch `fetch_id` was on a broken connection: back off and ask the leader the
    /// metadata names then.
    fn consumer_disconnected(&mut self, fetch_id: u64, partition: TopicPartition) {
        let Some(consumer) = self.consumers.get_mut(&partition) else { return };
        if consumer.fetch_in_flight == Some(fetch_id) {
            consumer.fetch_in_flight = None;
            self.set_consumer_timer(RETRY_BACKOFF_MS, Timer::ConsumerRetry { partition });
        }
    }

    /// The consumer's connection to `broker` broke (refused, or reset by a crash): the fetches
    /// waiting there fail at once, as a real client's would. The console client's part of
    /// `client_disconnected`.
    pub(super) fn consumer_connections_lost(&mut self, broker: BrokerId) {
        let waiting: alloc::vec::Vec<(TopicPartition, u64)> = self
            .consumers
            .iter()
            .filter(|(_, c)| c.fetch_sent_to == Some(broker))
            .filter_map(|(p, c)| c.fetch_in_flight.map(|id| (p.clone(), id)))
            .collect();
        for (partition, fetch_id) in waiting {
            self.consumer_disconnected(fetch_id, partition);
        }
    }

    pub(super) fn consumer_fetch_timed_out(&mut self, partition: TopicPartition, fetch_id: u64) {
        if self.consumers.get(&partition).is_some_and(|c| c.fetch_in_flight == Some(fetch_id)) {
            self.send_consumer_fetch(partition);
        }
    }

    pub(super) fn consumer_receive(
        &mut self,
        fetch_id: u64,
        partition: TopicPartition,
        log_start_offset: Offset,
        result: Result<ConsumerFetchData, ErrorCode>,
    ) {
        let Some(consumer) = self.consumers.get_mut(&partition) else { return };
        if consumer.fetch_in_flight != Some(fetch_id) {
            return; // an answer to a fetch it has given up on
        }
        consumer.fetch_in_flight = None;
        let batches = match result {
            Ok(data) => data.batches,
            Err(ErrorCode::OffsetOutOfRange) => {
                // auto.offset.reset=earliest: start again from where the log now starts.
                consumer.position = log_start_offset;
                self.send_consumer_fetch(partition);
                return;
            }
            Err(_) => {
                self.set_consumer_timer(RETRY_BACKOFF_MS, Timer::ConsumerRetry { partition });
                return;
            }
        };
        let from = consumer.position;
        let mut read = 0;
        for batch in &batches {
            if let Ok(records) = batch.records() {
                let base = batch.base_offset().0;
                read += records.filter(|r| base + i64::from(r.offset_delta) >= from.0).count() as u64;
            }
            consumer.position = consumer.position.max(batch.next_offset());
        }
        consumer.records += read;
        let to = consumer.position;
        if to > from {
            self.record(TraceEvent::Consumed { partition: partition.clone(), from, to, records: read });
        }
        self.send_consumer_fetch(partition);
    }

    fn set_consumer_timer(&mut self, after_ms: u64, timer: Timer) {
        let at_ms = self.now_ms + after_ms;
        self.schedule(at_ms, super::Event::Timer { node: NodeId::Client(ClientId::CONSOLE), incarnation: 0, timer });
    }
}
