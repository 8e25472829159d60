//! What the traffic record says of one message: a few words on what it carries, and whether
//! it is background chatter that a reader of the sequence diagram may hide.
//!
//! Background is what repeats whether or not anything happens: the metadata log's fetches
//! (controllers' and brokers' Raft fetches), broker heartbeats, and a follower's long-poll
//! fetches that neither bring records nor confirm any. A follower's fetch from a higher offset
//! than its last one confirms the records it got, which is what moves the high watermark and
//! completes an `acks=all` produce: that one is not background.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;

use crate::ids::{BrokerId, Offset, TopicPartition};
use crate::message::{Acks, AdminRequest, Message};
use crate::raft;
use crate::record_batch::RecordBatch;

/// Each follower's latest fetch offset per partition, as the record has seen them.
pub(super) type FetchPositions = BTreeMap<(BrokerId, TopicPartition), Offset>;

/// The message's summary, and whether it is background.
pub(super) fn describe(message: &Message, fetched: &mut FetchPositions) -> (String, bool) {
    match message {
        Message::Produce { partition, batch, acks, .. } => {
            (format!("{partition} {} acks={}", records(core::slice::from_ref(batch)), acks_name(*acks)), false)
        }
        Message::ProduceResponse { partition, result, .. } => match result {
            Ok(offset) => (format!("{partition} offset {offset}"), false),
            Err(error) => (format!("{partition} {}", error.name()), false),
        },
        Message::Fetch { follower, partition, fetch_offset, .. } => {
            let previous = fetched.insert((*follower, partition.clone()), *fetch_offset);
            let confirms = previous.is_some_and(|previous| *fetch_offset > previous);
            (format!("{partition} from {fetch_offset}"), !confirms)
        }
        Message::FetchResponse { partition, result, .. } => match result {
            Ok(data) if data.batches.is_empty() => {
                (format!("{partition} nothing new, HW {}", data.high_watermark), true)
            }
            Ok(data) => (format!("{partition} {}, HW {}", records(&data.batches), data.high_watermark), false),
            Err(error) => (format!("{partition} {}", error.name()), false),
        },
        Message::ConsumerFetch { partition, fetch_offset, .. } => (format!("{partition} from {fetch_offset}"), false),
        Message::ConsumerFetchResponse { partition, result, .. } => match result {
            Ok(data) => (format!("{partition} {}, HW {}", records(&data.batches), data.high_watermark), false),
            Err(error) => (format!("{partition} {}", error.name()), false),
        },
        Message::ClientFetch { request, .. } => (partitions(request.partitions.iter().map(|p| &p.partition)), false),
        Message::ClientFetchResponse { partitions, .. } => {
            let count: i64 = partitions
                .iter()
                .filter_map(|p| p.result.as_ref().ok())
                .map(|data| data.batches.iter().map(|b| i64::from(b.record_count())).sum::<i64>())
                .sum();
            (format!("{count} record{}", plural(count)), false)
        }
        Message::AlterPartition { partition, isr, .. } => (format!("{partition} ISR {}", brokers(isr)), false),
        Message::AlterPartitionResponse { result, state } => match result {
            Ok(()) => (format!("{} ISR {}", state.partition, brokers(&state.isr)), false),
            Err(error) => (format!("{} {}", state.partition, error.name()), false),
        },
        Message::BrokerHeartbeat { broker_epoch, want_shut_down, .. } => {
            (format!("broker epoch {broker_epoch}"), !*want_shut_down)
        }
        Message::BrokerHeartbeatResponse { result, .. } => match result {
            Ok(()) => (String::new(), true),
            Err(error) => (String::from(error.name()), false),
        },
        Message::BrokerRegistrationResponse { broker_epoch, .. } => (format!("broker epoch {broker_epoch}"), false),
        Message::Raft(message) => raft_summary(message),
        Message::Admin { request, .. } => (String::from(admin_name(request)), false),
        Message::AdminResponse { result, .. } => match result {
            Ok(()) => (String::from("done"), false),
            Err(error) => (String::from(error.code.name()), false),
        },
        Message::FindCoordinator { key, .. } => (String::from(&**key), false),
        Message::FindCoordinatorResponse { result, .. } => match result {
            Ok(broker) => (format!("broker {broker}"), false),
            Err(error) => (String::from(error.name()), false),
        },
        Message::WriteTxnMarkers { markers, .. } => {
            (format!("{} marker{}", markers.len(), plural(markers.len())), false)
        }
        _ => (String::new(), false),
    }
}

/// The metadata log's fetches are background; votes and epoch changes are news.
fn raft_summary(message: &raft::Message<crate::metadata::MetadataBatch>) -> (String, bool) {
    match message {
        raft::Message::Fetch(request) => (format!("epoch {} from {}", request.epoch, request.fetch_offset), true),
        raft::Message::FetchResponse(response) => (format!("epoch {}", response.epoch), true),
        raft::Message::VoteResponse(response) => {
            let granted = if response.vote_granted { "granted" } else { "refused" };
            (format!("epoch {} {granted}", response.epoch), false)
        }
        other => (format!("epoch {}", other.epoch()), false),
    }
}

fn records(batches: &[RecordBatch]) -> String {
    let count: i64 = batches.iter().map(|b| i64::from(b.record_count())).sum();
    format!("{count} record{}", plural(count))
}

fn plural<N: PartialEq + From<u8>>(count: N) -> &'static str {
    if count == N::from(1) {
        ""
    } else {
        "s"
    }
}

fn acks_name(acks: Acks) -> &'static str {
    match acks {
        Acks::None => "0",
        Acks::Leader => "1",
        Acks::All => "all",
    }
}

fn brokers(list: &[BrokerId]) -> String {
    let mut text = String::from("[");
    for (index, broker) in list.iter().enumerate() {
        if index > 0 {
            text.push_str(", ");
        }
        text.push_str(&format!("{broker}"));
    }
    text.push(']');
    text
}

fn partitions<'a>(list: impl Iterator<Item = &'a TopicPartition>) -> String {
    let names: alloc::vec::Vec<String> = list.map(|p| format!("{p}")).collect();
    names.join(", ")
}

/// Kafka's admin API for the request.
fn admin_name(request: &AdminRequest) -> &'static str {
    match request {
        AdminRequest::CreateTopic { .. } => "CreateTopics",
        AdminRequest::CreatePartitions { .. } => "CreatePartitions",
        AdminRequest::ElectPreferredLeaders { .. } => "ElectLeaders",
        AdminRequest::AlterConfig { .. } => "IncrementalAlterConfigs",
        AdminRequest::DeleteTopic { .. } => "DeleteTopics",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::LeaderEpoch;
    use crate::message::FetchData;

    fn fetch(offset: i64) -> Message {
        Message::Fetch {
            follower: BrokerId(2),
            fetch_id: 1,
            partition: TopicPartition::new("orders", 0),
            leader_epoch: LeaderEpoch(1),
            fetch_offset: Offset(offset),
            last_fetched_epoch: None,
        }
    }

    #[test]
    fn a_follower_fetch_is_news_only_when_it_confirms_records_past_its_last_fetch() {
        let mut fetched = FetchPositions::new();
        assert!(describe(&fetch(3), &mut fetched).1, "the first fetch seen confirms nothing known");
        assert!(describe(&fetch(3), &mut fetched).1, "the same offset again is a long poll");
        let (summary, background) = describe(&fetch(5), &mut fetched);
        assert!(!background, "a higher offset confirms two records");
        assert_eq!(summary, "orders/0 from 5");
    }

    #[test]
    fn an_empty_fetch_response_is_background_and_one_with_records_is_not() {
        let mut fetched = FetchPositions::new();
        let response = |batches| Message::FetchResponse {
            fetch_id: 1,
            partition: TopicPartition::new("orders", 0),
            leader_epoch: LeaderEpoch(1),
            result: Ok(FetchData { batches, high_watermark: Offset(4), diverging_epoch: None }),
        };
        assert_eq!(
            describe(&response(alloc::vec![]), &mut fetched),
            (String::from("orders/0 nothing new, HW 4"), true)
        );
        let batch = crate::partition_log::single_record_batch(0, None, None);
        assert_eq!(
            describe(&response(alloc::vec![batch]), &mut fetched),
            (String::from("orders/0 1 record, HW 4"), false)
        );
    }

    #[test]
    fn a_produce_names_its_partition_records_and_acks() {
        let batch = crate::partition_log::single_record_batch(0, None, None);
        let produce =
            Message::Produce { request_id: 1, partition: TopicPartition::new("orders", 2), batch, acks: Acks::All };
        assert_eq!(describe(&produce, &mut FetchPositions::new()), (String::from("orders/2 1 record acks=all"), false));
    }
}
