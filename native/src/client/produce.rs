//! Producing: records into a topic, each partition's records as one record batch (v2, no
//! compression, built by the protocol crate's `RecordBatchEncoder`), sent to the partition's
//! leader in one Produce request per leader.
//!
//! A keyed record goes where the Java client's default partitioner puts it (murmur2 of the
//! key, [`kafkalab_core::partitioner`]); records without a key stick to one partition per
//! call and the next call moves on, like Kafka's sticky partitioner (KIP-480).
//!
//! Partitions whose leader moved or whose broker stopped answering are retried after a
//! metadata refresh until [`RETRY_DEADLINE`]. Without idempotence (the tools do not ask for a
//! producer id) a batch retried after a lost connection may be written twice, as with
//! `enable.idempotence=false`.

use std::collections::BTreeMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{ProduceRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType, NO_PARTITION_LEADER_EPOCH,
    NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE,
};
use kafkalab_core::partitioner::partition_for_key;

use super::bootstrap::Client;
use super::{check, ClientError, RETRY_BACKOFF, RETRY_DEADLINE};

/// Produce v9 is the newest before topic ids (v13) that every broker since 2.8 serves; the
/// fields the tools fill are the same up to v12.
const PRODUCE_VERSION: i16 = 9;

/// How long the leader may wait for the in-sync replicas (`request.timeout.ms`'s share).
const PRODUCE_TIMEOUT_MS: i32 = 30_000;

/// Kafka's `acks`: how many replicas must have a record before the producer hears back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acks {
    /// `acks=0`: no answer at all.
    None,
    /// `acks=1`: the leader has it.
    Leader,
    /// `acks=all` (-1): every in-sync replica has it.
    All,
}

impl Acks {
    /// The value on the wire.
    pub fn code(self) -> i16 {
        match self {
            Acks::None => 0,
            Acks::Leader => 1,
            Acks::All => -1,
        }
    }

    /// `0`, `1`, `all` or `-1`, as the console producer takes them.
    pub fn parse(text: &str) -> Option<Acks> {
        match text {
            "0" => Some(Acks::None),
            "1" => Some(Acks::Leader),
            "all" | "-1" => Some(Acks::All),
            _ => None,
        }
    }
}

/// One record to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingRecord {
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
}

/// What a partition's leader said about its batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivered {
    pub partition: i32,
    /// The first record's offset; -1 with `acks=0`, which gets no answer.
    pub base_offset: i64,
    pub record_count: usize,
}

/// Sends records to one topic.
#[derive(Debug)]
pub struct Producer {
    topic: String,
    acks: Acks,
    /// The partition records without a key go to in the next call.
    sticky_partition: i32,
}

impl Producer {
    /// A producer to `topic` with `acks`.
    pub fn new(topic: &str, acks: Acks) -> Producer {
        Producer { topic: topic.to_string(), acks, sticky_partition: 0 }
    }

    /// Sends `records`, each partition's share as one batch; returns what each partition's
    /// leader acknowledged.
    pub async fn send(
        &mut self,
        client: &mut Client,
        records: Vec<OutgoingRecord>,
    ) -> Result<Vec<Delivered>, ClientError> {
        let topic = client.topic(&self.topic).await?;
        let partition_count = i32::try_from(topic.partitions.len()).unwrap_or(i32::MAX).max(1);
        let sticky = self.sticky_partition % partition_count;
        self.sticky_partition = (sticky + 1) % partition_count;
        let mut pending = BTreeMap::new();
        for (partition, records) in partition_records(records, partition_count, sticky) {
            pending.insert(partition, (encode_batch(&records, now_ms())?, records.len()));
        }
        let deadline = Instant::now() + RETRY_DEADLINE;
        let mut delivered = Vec::new();
        loop {
            let last_error = self.send_round(client, &mut pending, &mut delivered).await?;
            if pending.is_empty() {
                delivered.sort_by_key(|d| d.partition);
                return Ok(delivered);
            }
            if Instant::now() >= deadline {
                return Err(last_error.unwrap_or_else(|| ClientError::Lost {
                    address: self.topic.clone(),
                    reason: "no partition leader answered".to_string(),
                }));
            }
            tokio::time::sleep(RETRY_BACKOFF).await;
            client.refresh(Some(&[&self.topic])).await?;
        }
    }

    /// One request to each leader of a pending partition; what is acknowledged leaves
    /// `pending`. Returns the last retriable error, or the first that is not.
    async fn send_round(
        &self,
        client: &mut Client,
        pending: &mut BTreeMap<i32, (Bytes, usize)>,
        delivered: &mut Vec<Delivered>,
    ) -> Result<Option<ClientError>, ClientError> {
        let mut by_leader: BTreeMap<i32, BTreeMap<i32, Bytes>> = BTreeMap::new();
        for (partition, (batch, _)) in pending.iter() {
            if let Some(leader) = client.metadata().leader(&self.topic, *partition) {
                by_leader.entry(leader).or_default().insert(*partition, batch.clone());
            }
        }
        let mut last_error = None;
        for (leader, batches) in by_leader {
            let request = produce_request(&self.topic, &batches, self.acks);
            let outcome = match client.broker(leader).await {
                Ok(connection) if self.acks == Acks::None => {
                    let version = connection.version::<ProduceRequest>(PRODUCE_VERSION)?;
                    connection.send_only(&request, version).await.map(|()| None)
                }
                Ok(connection) => connection.call(&request, PRODUCE_VERSION).await.map(Some),
                Err(error) => Err(error),
            };
            let response = match outcome {
                Ok(response) => response,
                Err(error) if error.is_retriable() || matches!(error, ClientError::Unreachable { .. }) => {
                    client.forget(leader);
                    last_error = Some(error);
                    continue;
                }
                Err(error) => return Err(error),
            };
            let Some(response) = response else {
                for partition in batches.keys() {
                    let (_, record_count) = pending.remove(partition).expect("pending");
                    delivered.push(Delivered { partition: *partition, base_offset: -1, record_count });
                }
                continue;
            };
            for answer in response.responses.iter().flat_map(|t| &t.partition_responses) {
                let doing = || format!("producing to {}-{}", self.topic, answer.index);
                match check(answer.error_code, doing) {
                    Ok(()) => {
                        if let Some((_, record_count)) = pending.remove(&answer.index) {
                            delivered.push(Delivered {
                                partition: answer.index,
                                base_offset: answer.base_offset,
                                record_count,
                            });
                        }
                    }
                    Err(error) if error.is_retriable() => last_error = Some(error),
                    Err(error) => return Err(error),
                }
            }
        }
        Ok(last_error)
    }
}

/// Each partition's records, in the order given: a keyed record by its key's hash, one
/// without a key to `sticky`.
pub fn partition_records(
    records: Vec<OutgoingRecord>,
    partition_count: i32,
    sticky: i32,
) -> BTreeMap<i32, Vec<OutgoingRecord>> {
    let mut partitions: BTreeMap<i32, Vec<OutgoingRecord>> = BTreeMap::new();
    for record in records {
        let partition = match &record.key {
            Some(key) => partition_for_key(key, partition_count),
            None => sticky,
        };
        partitions.entry(partition).or_default().push(record);
    }
    partitions
}

/// One record batch (magic 2, uncompressed, no producer id) holding `records`, all stamped
/// with `timestamp_ms`.
pub fn encode_batch(records: &[OutgoingRecord], timestamp_ms: i64) -> Result<Bytes, ClientError> {
    let records: Vec<Record> = records
        .iter()
        .zip(0i64..)
        .map(|(record, offset)| Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: NO_PARTITION_LEADER_EPOCH,
            producer_id: NO_PRODUCER_ID,
            producer_epoch: NO_PRODUCER_EPOCH,
            timestamp_type: TimestampType::Creation,
            offset,
            // The encoder keeps records in one batch while offset minus sequence is constant,
            // and takes the first record's as the batch's base sequence: -1, no producer id.
            sequence: NO_SEQUENCE.wrapping_add(i32::try_from(offset).unwrap_or(i32::MAX)),
            timestamp: timestamp_ms,
            key: record.key.clone(),
            value: record.value.clone(),
            headers: Default::default(),
        })
        .collect();
    let mut batch = BytesMut::new();
    let options = RecordEncodeOptions { version: 2, compression: Compression::None };
    RecordBatchEncoder::encode(&mut batch, &records, &options)
        .map_err(|e| ClientError::Protocol(format!("cannot encode a record batch: {e}")))?;
    Ok(batch.freeze())
}

/// A Produce request carrying one batch per partition of `topic`.
pub fn produce_request(topic: &str, batches: &BTreeMap<i32, Bytes>, acks: Acks) -> ProduceRequest {
    let partition_data = batches
        .iter()
        .map(|(partition, batch)| {
            PartitionProduceData::default().with_index(*partition).with_records(Some(batch.clone()))
        })
        .collect();
    let topic = TopicProduceData::default()
        .with_name(TopicName(StrBytes::from_string(topic.to_string())))
        .with_partition_data(partition_data);
    ProduceRequest::default()
        .with_transactional_id(None)
        .with_acks(acks.code())
        .with_timeout_ms(PRODUCE_TIMEOUT_MS)
        .with_topic_data(vec![topic])
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::records::RecordBatchDecoder;

    fn record(key: Option<&'static str>, value: &'static str) -> OutgoingRecord {
        OutgoingRecord {
            key: key.map(|k| Bytes::from_static(k.as_bytes())),
            value: Some(Bytes::from_static(value.as_bytes())),
        }
    }

    #[test]
    fn keyed_records_follow_the_java_partitioner_and_unkeyed_ones_stick_together() {
        let records =
            vec![record(Some("alice"), "1"), record(None, "2"), record(Some("alice"), "3"), record(None, "4")];
        let partitions = partition_records(records, 3, 2);
        let alice = partition_for_key(b"alice", 3);
        assert_eq!(partitions[&alice].iter().filter(|r| r.key.is_some()).count(), 2);
        let unkeyed: Vec<_> = partitions[&2].iter().filter(|r| r.key.is_none()).map(|r| r.value.clone()).collect();
        assert_eq!(unkeyed, [Some(Bytes::from_static(b"2")), Some(Bytes::from_static(b"4"))]);
    }

    #[test]
    fn a_batch_decodes_back_to_its_keys_values_and_offset_deltas() {
        let batch = encode_batch(&[record(Some("k"), "v"), record(None, "w")], 1_700_000_000_000).expect("encodes");
        let mut bytes = batch.clone();
        let set = RecordBatchDecoder::decode(&mut bytes).expect("decodes");
        assert_eq!(set.version, 2);
        let read: Vec<_> = set.records.iter().map(|r| (r.offset, r.key.clone(), r.value.clone())).collect();
        assert_eq!(
            read,
            [
                (0, Some(Bytes::from_static(b"k")), Some(Bytes::from_static(b"v"))),
                (1, None, Some(Bytes::from_static(b"w")))
            ]
        );
        assert!(set.records.iter().all(|r| r.timestamp == 1_700_000_000_000 && r.producer_id == -1));
    }

    #[test]
    fn the_cores_parser_accepts_the_batches() {
        let records = [record(Some("alice"), "1"), record(Some("alice"), "4"), record(None, "")];
        let batch = encode_batch(&records, 1_700_000_000_000).expect("encodes");
        let parsed = kafkalab_core::record_batch::RecordBatch::parse(batch).expect("one whole batch");
        assert_eq!(parsed.record_count(), 3);
        assert_eq!(parsed.base_sequence(), -1, "no producer id, no sequence");
    }

    #[test]
    fn the_request_carries_acks_and_one_batch_per_partition() {
        let batches = BTreeMap::from([(0, Bytes::from_static(b"a")), (2, Bytes::from_static(b"b"))]);
        let request = produce_request("orders", &batches, Acks::All);
        assert_eq!(request.acks, -1);
        assert_eq!(request.topic_data.len(), 1);
        assert_eq!(request.topic_data[0].name.0.as_str(), "orders");
        let indexes: Vec<i32> = request.topic_data[0].partition_data.iter().map(|p| p.index).collect();
        assert_eq!(indexes, [0, 2]);
    }

    #[test]
    fn acks_parse_as_the_console_producer_takes_them() {
        assert_eq!(Acks::parse("all"), Some(Acks::All));
        assert_eq!(Acks::parse("-1").map(Acks::code), Some(-1));
        assert_eq!(Acks::parse("0").map(Acks::code), Some(0));
        assert_eq!(Acks::parse("1"), Some(Acks::Leader));
        assert_eq!(Acks::parse("2"), None);
    }
}
