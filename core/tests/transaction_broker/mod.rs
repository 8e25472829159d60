//! A broker hosting one transaction coordinator, for the coordinator's scenario tests: it keeps
//! the records committed to `__transaction_state`, commits appends when told to, and has helpers
//! to build requests and pick responses, appends and markers out of the outputs.

#![allow(dead_code)]

use bytes::Bytes;
use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::message::NodeId;
use kafkalab_core::transaction::protocol::{ProducerIdAndEpoch, TransactionState, TxnMarker, TxnRequest, TxnResponse};
use kafkalab_core::transaction::{
    partition_for, AppendToken, MarkerToken, TransactionCoordinator, TransactionLogKey, TransactionLogValue, TxnConfig,
    TxnOutput,
};
use kafkalab_core::TopicPartition;
use std::sync::Arc;

pub const CLIENT: NodeId = NodeId::Client(kafkalab_core::ids::ClientId(1));
pub const TXN: &str = "my-txn";
pub const TIMEOUT_MS: u64 = 60_000;

/// A broker hosting one coordinator: it keeps the records committed to `__transaction_state`
/// and commits each append when told to.
pub struct Broker {
    pub coordinator: TransactionCoordinator,
    pub now_ms: u64,
    /// Records committed, per partition, in order.
    pub log: Vec<(i32, Bytes, Option<Bytes>)>,
    /// Every output seen, in order.
    pub seen: Vec<TxnOutput>,
    pub next_request_id: u64,
}

impl Broker {
    /// A coordinator leading `TXN`'s partition at coordinator epoch 1, with producer ids from 0.
    pub fn new() -> Broker {
        let mut broker = Broker::without_ids();
        broker.coordinator.producer_id_block_granted(0, 0, 1000);
        broker.coordinator.take_outputs();
        broker
    }

    pub fn without_ids() -> Broker {
        let mut coordinator = TransactionCoordinator::new(TxnConfig::default());
        coordinator.load_partition(0, txn_partition(), 1, Vec::new());
        coordinator.take_outputs();
        Broker { coordinator, now_ms: 0, log: Vec::new(), seen: Vec::new(), next_request_id: 0 }
    }

    /// Sends `request` and returns its outputs, committing no append.
    pub fn send_raw(&mut self, request: TxnRequest) -> (u64, Vec<TxnOutput>) {
        self.next_request_id += 1;
        self.coordinator.handle_request(self.now_ms, CLIENT, self.next_request_id, request);
        (self.next_request_id, self.take())
    }

    /// Sends `request`, commits every append it leads to, and returns its response.
    pub fn send(&mut self, request: TxnRequest) -> TxnResponse {
        let (request_id, outputs) = self.send_raw(request);
        let outputs = self.commit_appends(outputs);
        response_to(&outputs, request_id).unwrap_or_else(|| panic!("no answer to {request_id}: {outputs:#?}"))
    }

    pub fn take(&mut self) -> Vec<TxnOutput> {
        let outputs = self.coordinator.take_outputs();
        self.coordinator.validate();
        self.seen.extend(outputs.iter().cloned());
        outputs
    }

    /// Commits the appends among `outputs`, and those they lead to; returns all outputs.
    pub fn commit_appends(&mut self, mut outputs: Vec<TxnOutput>) -> Vec<TxnOutput> {
        let mut index = 0;
        while index < outputs.len() {
            if let TxnOutput::Append { partition_index, key, value, token } = outputs[index].clone() {
                self.log.push((partition_index, key, value));
                self.coordinator.append_completed(self.now_ms, token, Ok(()));
                let more = self.take();
                outputs.extend(more);
            }
            index += 1;
        }
        outputs
    }

    /// Reports the markers of `token` written and commits the completion record.
    pub fn markers_written(&mut self, token: MarkerToken) -> Vec<TxnOutput> {
        self.coordinator.markers_written(self.now_ms, token);
        let outputs = self.take();
        self.commit_appends(outputs)
    }

    pub fn state(&self) -> TransactionState {
        self.coordinator.transaction(TXN).expect("known").state()
    }

    pub fn records(&self) -> Vec<(Bytes, Option<Bytes>)> {
        self.log.iter().map(|(_, key, value)| (key.clone(), value.clone())).collect()
    }

    /// InitProducerId for `TXN` and the producer it is given.
    pub fn init(&mut self) -> ProducerIdAndEpoch {
        init_result(&self.send(init(Some(TXN), ProducerIdAndEpoch::NONE))).expect("InitProducerId succeeds")
    }

    /// A producer with an Ongoing transaction on `orders/0` and `orders/1`.
    pub fn ongoing(&mut self) -> ProducerIdAndEpoch {
        let producer = self.init();
        let response = self.send(add(producer, &[("orders", 0), ("orders", 1)]));
        assert_eq!(add_errors(&response), vec![None, None]);
        assert_eq!(self.state(), TransactionState::Ongoing);
        producer
    }
}

pub fn txn_partition() -> i32 {
    partition_for(TXN, 50)
}

pub fn init(id: Option<&str>, current: ProducerIdAndEpoch) -> TxnRequest {
    TxnRequest::InitProducerId { transactional_id: id.map(Arc::from), transaction_timeout_ms: TIMEOUT_MS, current }
}

pub fn add(producer: ProducerIdAndEpoch, partitions: &[(&str, i32)]) -> TxnRequest {
    let partitions = partitions.iter().map(|(topic, index)| TopicPartition::new(*topic, *index)).collect();
    TxnRequest::AddPartitionsToTxn { transactional_id: Arc::from(TXN), producer, partitions }
}

pub fn end(producer: ProducerIdAndEpoch, committed: bool) -> TxnRequest {
    TxnRequest::EndTxn { transactional_id: Arc::from(TXN), producer, committed }
}

pub fn response_to(outputs: &[TxnOutput], id: u64) -> Option<TxnResponse> {
    outputs.iter().find_map(|output| match output {
        TxnOutput::Respond { request_id, response, .. } if *request_id == id => Some(response.clone()),
        _ => None,
    })
}

pub fn add_errors(response: &TxnResponse) -> Vec<Option<ErrorCode>> {
    let TxnResponse::AddPartitionsToTxn { results } = response else {
        panic!("not an AddPartitionsToTxn response: {response:?}")
    };
    results.iter().map(|(_, error)| *error).collect()
}

pub fn end_error(response: &TxnResponse) -> Option<ErrorCode> {
    let TxnResponse::EndTxn { error } = response else { panic!("not an EndTxn response: {response:?}") };
    *error
}

pub fn init_result(response: &TxnResponse) -> Result<ProducerIdAndEpoch, ErrorCode> {
    let TxnResponse::InitProducerId { result } = response else {
        panic!("not an InitProducerId response: {response:?}")
    };
    *result
}

pub fn markers(outputs: &[TxnOutput]) -> Vec<(TxnMarker, MarkerToken)> {
    outputs
        .iter()
        .filter_map(|output| match output {
            TxnOutput::WriteMarkers { marker, token } => Some((marker.clone(), *token)),
            _ => None,
        })
        .collect()
}

pub fn appends(outputs: &[TxnOutput]) -> Vec<(TransactionLogValue, AppendToken)> {
    outputs
        .iter()
        .filter_map(|output| match output {
            TxnOutput::Append { key, value, token, .. } => {
                assert_eq!(TransactionLogKey::decode(key).unwrap().transactional_id.as_ref(), TXN);
                Some((TransactionLogValue::decode(value.as_ref().unwrap()).unwrap(), *token))
            }
            _ => None,
        })
        .collect()
}

pub fn appended_states(outputs: &[TxnOutput]) -> Vec<TransactionState> {
    appends(outputs).iter().map(|(value, _)| value.transaction_status).collect()
}
