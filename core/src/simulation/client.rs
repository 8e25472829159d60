//! The client a person drives: a producer and an admin client (its consumer is in `consumer`).
//!
//! Its own metadata requests are not simulated: it reads where to go from the committed
//! metadata (the producer, a partition's leader) and from the quorum (the admin client, the
//! active controller), as a client that has just refreshed its metadata would know it. Like
//! Kafka's admin client, it asks again after NOT_CONTROLLER or while no controller is active,
//! every `retry.backoff.ms`, until `request.timeout.ms` runs out.

use alloc::string::ToString;
use alloc::vec::Vec;
use bytes::Bytes;

use crate::command::Command;
use crate::error_code::ErrorCode;
use crate::ids::{ClientId, TopicPartition};
use crate::message::{Acks, AdminRequest, Message, NodeId, Timer};
use crate::oracle::{self, AcknowledgedWrite};
use crate::partition_log::single_record_batch;
use crate::partitioner::partition_for_key;
use crate::trace::TraceEvent;

use super::{AdminInFlight, CommandError, Event, Simulation};

/// The admin client's pause before asking again (`retry.backoff.ms`, Kafka: 100).
const ADMIN_RETRY_BACKOFF_MS: u64 = 100;

/// A produce the client has sent and not yet heard back about.
#[derive(Clone, Debug)]
pub struct InFlight {
    partition: TopicPartition,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    acks: Acks,
}

impl Simulation {
    pub(super) fn choose_partition(
        &mut self,
        topic: &str,
        partition: Option<i32>,
        key: Option<&str>,
    ) -> Result<TopicPartition, CommandError> {
        let count =
            self.metadata().partition_count(topic).ok_or_else(|| CommandError::UnknownTopic(topic.to_string()))?;
        let index = match (partition, key) {
            (Some(p), _) if (0..count).contains(&p) => p,
            (Some(p), _) => return Err(CommandError::UnknownPartition(TopicPartition::new(topic, p))),
            (None, Some(key)) => partition_for_key(key.as_bytes(), count),
            (None, None) => {
                let next = self.next_partition.entry(topic.to_string()).or_insert(0);
                let p = *next;
                *next = (p + 1) % count;
                p
            }
        };
        Ok(TopicPartition::new(topic, index))
    }

    fn next_request_id(&mut self) -> u64 {
        let request_id = self.next_request_id;
        self.next_request_id += 1;
        request_id
    }

    fn set_client_timer(&mut self, after_ms: u64, timer: Timer) {
        self.schedule(
            self.now_ms + after_ms,
            Event::Timer { node: NodeId::Client(ClientId::CONSOLE), incarnation: 0, timer },
        );
    }

    /// The producer sends to the leader the committed metadata names.
    pub(super) fn send_produce(
        &mut self,
        partition: TopicPartition,
        key: Option<Vec<u8>>,
        value: Option<Vec<u8>>,
        acks: Acks,
    ) {
        let request_id = self.next_request_id();
        let leader = self.metadata().partition(&partition).and_then(|s| s.leader);
        let Some(leader) = leader else {
            let error = ErrorCode::LeaderNotAvailable;
            self.record(TraceEvent::ProduceFailed { request_id, partition, error });
            return;
        };
        // The producer encodes the record as Kafka's clients do: a record batch (of one record,
        // until the producer model batches), stamped with its create time.
        let timestamp_ms = i64::try_from(self.now_ms).unwrap_or(i64::MAX);
        let batch = single_record_batch(timestamp_ms, key.clone().map(Bytes::from), value.clone().map(Bytes::from));
        self.record(TraceEvent::ProduceSent { request_id, partition: partition.clone(), leader });
        if acks != Acks::None {
            self.in_flight.insert(request_id, InFlight { partition: partition.clone(), key, value, acks });
            self.set_client_timer(self.config.request_timeout_ms, Timer::RequestTimeout { request_id });
        }
        let message = Message::Produce { request_id, partition, batch, acks };
        self.schedule_send(NodeId::Client(ClientId::CONSOLE), NodeId::Broker(leader), message);
    }

    /// An administrator's request goes to the active controller (Kafka's admin client reaches
    /// it through a broker, which forwards it).
    pub(super) fn send_admin(&mut self, command: &Command, request: AdminRequest) {
        let request_id = self.next_request_id();
        self.admin_in_flight.insert(request_id, AdminInFlight { what: command.to_string(), request });
        self.set_client_timer(self.config.request_timeout_ms, Timer::RequestTimeout { request_id });
        self.send_admin_request(request_id);
    }

    fn send_admin_request(&mut self, request_id: u64) {
        let Some(sent) = self.admin_in_flight.get(&request_id) else { return };
        let request = sent.request.clone();
        match self.active_controller() {
            Some(controller) => {
                let message = Message::Admin { request_id, request };
                self.schedule_send(NodeId::Client(ClientId::CONSOLE), NodeId::Controller(controller), message);
            }
            None => self.set_client_timer(ADMIN_RETRY_BACKOFF_MS, Timer::AdminRetry { request_id }),
        }
    }

    /// Every write the producer saw acknowledged, in the order it heard.
    pub fn acknowledged(&self) -> &[AcknowledgedWrite] {
        &self.acknowledged
    }

    /// The acknowledged writes that the partitions' current leaders no longer hold.
    pub fn lost_writes(&self) -> Vec<&AcknowledgedWrite> {
        oracle::lost_writes(&self.acknowledged, |partition| {
            let leader = self.metadata().partition(partition)?.leader?;
            Some(&self.broker(leader)?.replica(partition)?.log)
        })
    }

    pub(super) fn client_timer(&mut self, timer: Timer) {
        match timer {
            Timer::ConsumerRetry { partition } => self.send_consumer_fetch(partition),
            Timer::ConsumerFetchTimeout { partition, fetch_id } => self.consumer_fetch_timed_out(partition, fetch_id),
            Timer::AdminRetry { request_id } => self.send_admin_request(request_id),
            Timer::RequestTimeout { request_id } => {
                let error = ErrorCode::RequestTimedOut;
                if let Some(sent) = self.in_flight.remove(&request_id) {
                    self.record(TraceEvent::ProduceFailed { request_id, partition: sent.partition, error });
                } else if let Some(sent) = self.admin_in_flight.remove(&request_id) {
                    let message = "Timed out waiting for the active controller to answer.".to_string();
                    self.record(TraceEvent::AdminFailed { request_id, what: sent.what, error, message });
                }
            }
            _ => debug_assert!(false, "a node's timer sent to the client"),
        }
    }

    pub(super) fn client_receive(&mut self, message: Message) {
        if let Message::ConsumerFetchResponse { fetch_id, partition, log_start_offset, result } = message {
            self.consumer_receive(fetch_id, partition, log_start_offset, result);
            return;
        }
        if let Message::AdminResponse { request_id, result } = message {
            if result.as_ref().is_err_and(|e| e.code == ErrorCode::NotController) {
                self.set_client_timer(ADMIN_RETRY_BACKOFF_MS, Timer::AdminRetry { request_id });
                return;
            }
            let Some(sent) = self.admin_in_flight.remove(&request_id) else { return };
            let what = sent.what;
            self.record(match result {
                Ok(()) => TraceEvent::AdminDone { request_id, what },
                Err(e) => TraceEvent::AdminFailed { request_id, what, error: e.code, message: e.message },
            });
            return;
        }
        let Message::ProduceResponse { request_id, partition, result } = message else {
            return;
        };
        let Some(sent) = self.in_flight.remove(&request_id) else {
            return;
        };
        debug_assert_eq!(sent.partition, partition, "a response names the partition it answers for");
        match result {
            Ok(offset) => {
                self.acknowledged.push(AcknowledgedWrite {
                    request_id,
                    partition: partition.clone(),
                    offset,
                    key: sent.key,
                    value: sent.value,
                    acks: sent.acks,
                    at_ms: self.now_ms,
                });
                self.record(TraceEvent::ProduceAcked { request_id, partition, offset });
            }
            Err(error) => self.record(TraceEvent::ProduceFailed { request_id, partition, error }),
        }
    }
}
