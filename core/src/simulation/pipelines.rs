//! Consume-transform-produce: a consumer whose application writes each record's result to an
//! output topic through a transactional producer, and commits its offsets in the same
//! transaction (`sendOffsetsToTransaction`, then `commitTransaction`). A crash anywhere leaves
//! either both the results and the offsets or neither, so a `read_committed` reader of the
//! output sees every input record exactly once.
//!
//! The producer is a client of its own on the network, named after the consumer (`alice-tx`),
//! with the `transactional.id` the consumer line gives; both belong to one application, so
//! they crash, restart and stop together. A restart brings a new producer instance, which
//! fences the old one and has the coordinator abort its open transaction.

use alloc::sync::Arc;
use alloc::vec::Vec;
use bytes::Bytes;

use crate::command::ClientName;
use crate::group::protocol::OffsetToCommit;
use crate::ids::{Offset, TopicPartition};
use crate::producer::{GroupMetadata, ProducerRecord, TransactionState};
use crate::trace::TraceEvent;

use super::clients::ClientKind;
use super::Simulation;

/// What ties a consumer to its transactional producer.
#[derive(Clone, Debug)]
pub struct Pipeline {
    /// Where the results go.
    pub output: Arc<str>,
    /// The producer's client name.
    pub producer: ClientName,
    /// Results waiting for the producer to be ready for a transaction.
    waiting: Vec<(Option<Bytes>, Option<Bytes>)>,
    /// The consumer asked to commit these offsets in the transaction.
    commit_requested: Option<(Vec<OffsetToCommit>, GroupMetadata)>,
    /// The offsets of the transaction being committed, told to the consumer when it ends.
    committing: Option<Vec<(TopicPartition, Offset)>>,
    /// A result of this transaction could not be sent: it is aborted instead of committed.
    failed: bool,
}

impl Pipeline {
    pub(super) fn new(output: Arc<str>, producer: ClientName) -> Pipeline {
        Pipeline { output, producer, waiting: Vec::new(), commit_requested: None, committing: None, failed: false }
    }

    /// A restarted application starts with nothing in hand.
    pub(super) fn reset(&mut self) {
        self.waiting.clear();
        self.commit_requested = None;
        self.committing = None;
        self.failed = false;
    }
}

impl Simulation {
    /// The consumer at `index` finished processing a record: its result goes to the output.
    pub(super) fn pipeline_result(&mut self, index: usize, key: Option<Bytes>, value: Option<Bytes>) {
        if let Some(pipeline) = self.clients[index].pipeline.as_mut() {
            pipeline.waiting.push((key, value));
            self.pump_pipeline(index);
        }
    }

    /// The consumer at `index` asks to commit `offsets` with this poll's results.
    pub(super) fn pipeline_commit(&mut self, index: usize, offsets: Vec<OffsetToCommit>, group: GroupMetadata) {
        if let Some(pipeline) = self.clients[index].pipeline.as_mut() {
            pipeline.commit_requested = Some((offsets, group));
            self.pump_pipeline(index);
        }
    }

    /// The producer `producer` ended a transaction: tell the consumer it belongs to.
    pub(super) fn pipeline_transaction_ended(&mut self, producer: &ClientName, committed: bool) {
        let Some(index) =
            self.clients.iter().position(|c| c.pipeline.as_ref().is_some_and(|p| &p.producer == producer))
        else {
            return;
        };
        let now_ms = self.now_ms;
        let node = &mut self.clients[index];
        let offsets = node.pipeline.as_mut().and_then(|p| p.committing.take()).unwrap_or_default();
        if let ClientKind::Consumer(consumer) = &mut node.kind {
            consumer.transaction_done(now_ms, committed, &offsets);
        }
        self.collect_client_outputs(index);
    }

    /// The producer `producer` moved on (it may be ready for a transaction now): pump the
    /// pipeline it serves if results or a commit wait.
    pub(super) fn pipeline_producer_progressed(&mut self, producer: &ClientName) {
        let owner = self.clients.iter().position(|c| {
            c.pipeline.as_ref().is_some_and(|p| {
                &p.producer == producer
                    && p.committing.is_none()
                    && (!p.waiting.is_empty() || p.commit_requested.is_some())
            })
        });
        if let Some(index) = owner {
            self.pump_pipeline(index);
        }
    }

    /// Moves the consumer's results and commit into the producer as far as its transaction
    /// state allows: begin, send the results, then send the offsets and commit.
    pub(super) fn pump_pipeline(&mut self, index: usize) {
        let Some(pipeline) = &self.clients[index].pipeline else { return };
        if !self.clients[index].alive {
            return;
        }
        let Some(producer_index) = self.clients.iter().position(|c| c.name == pipeline.producer) else { return };
        let now_ms = self.now_ms;
        let image = &self.latest_metadata.1;
        let (head, tail) = self.clients.split_at_mut(index.max(producer_index));
        let (consumer_node, producer_node) = if index < producer_index {
            (&mut head[index], &mut tail[0])
        } else {
            (&mut tail[0], &mut head[producer_index])
        };
        let (Some(pipeline), ClientKind::Producer(producer)) =
            (consumer_node.pipeline.as_mut(), &mut producer_node.kind)
        else {
            return;
        };
        if pipeline.committing.is_some() {
            return; // one transaction at a time
        }
        let has_work = !pipeline.waiting.is_empty() || pipeline.commit_requested.is_some();
        if has_work && producer.transaction_state() == Some(TransactionState::Ready) {
            let _ = producer.begin_transaction();
        }
        if producer.transaction_state() != Some(TransactionState::InTransaction) {
            return; // not ready yet (initialising, or fenced: the application stops)
        }
        let mut failure = None;
        for (key, value) in pipeline.waiting.drain(..) {
            if pipeline.failed {
                continue; // the transaction will be aborted: its records are processed again
            }
            let kept = (key.clone(), value.clone());
            let record =
                ProducerRecord { topic: pipeline.output.clone(), partition: None, key, value, timestamp_ms: None };
            match producer.send(now_ms, record, image) {
                // Kept for the oracle, as the produce command keeps what it sends.
                Ok(id) => {
                    producer_node.unsettled.insert(id, kept);
                }
                // The application catches the exception and will abort rather than commit
                // offsets without this result.
                Err(error) => {
                    pipeline.failed = true;
                    failure = Some(alloc::string::ToString::to_string(&error));
                }
            }
        }
        let mut aborted_at_once = false;
        if let Some((offsets, group)) = pipeline.commit_requested.take() {
            let committing = offsets.iter().map(|o| (o.partition.clone(), o.offset)).collect();
            let sent = if pipeline.failed {
                producer.abort_transaction(now_ms, image)
            } else {
                producer
                    .send_offsets_to_transaction(now_ms, offsets, group, image)
                    .and_then(|()| producer.commit_transaction(now_ms, image))
            };
            match sent {
                Ok(()) => pipeline.committing = Some(committing),
                Err(error) => {
                    failure = Some(alloc::string::ToString::to_string(&error));
                    aborted_at_once = pipeline.failed;
                }
            }
            pipeline.failed = false;
        }
        let client = producer_node.name.clone();
        if let Some(event) = failure {
            self.record(TraceEvent::Client { client: client.clone(), event });
        }
        self.collect_client_outputs(producer_index);
        if aborted_at_once {
            // Nothing to abort at the coordinator: the consumer goes back to its offsets now.
            self.pipeline_transaction_ended(&client, false);
        }
    }
}
