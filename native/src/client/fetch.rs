//! Reading: where a partition's log starts and ends (ListOffsets), and records from partition
//! leaders (Fetch), one request per leader, the leaders asked at once.
//!
//! A [`Fetcher`] keeps a position per partition of one topic and moves it past what it
//! returns. Fetch long-polls: a leader with nothing new holds the request up to
//! `fetch.max.wait.ms`. No fetch sessions (KIP-227): every request is a full one. Batches are
//! decoded by the protocol crate's `RecordBatchDecoder`; transaction markers are skipped and a
//! batch cut off at the end of a response is left for the next fetch.

use std::collections::BTreeMap;

use bytes::{Buf, Bytes};
use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::{BrokerId, FetchRequest, FetchResponse, ListOffsetsRequest, TopicName};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::RecordBatchDecoder;
use tokio::task::JoinSet;

use super::bootstrap::Client;
use super::connection::Connection;
use super::{check, ClientError, RETRY_BACKOFF, RETRY_DEADLINE};

/// ListOffsets' timestamp for the log end (the high watermark).
pub const LATEST: i64 = -1;
/// ListOffsets' timestamp for the log start.
pub const EARLIEST: i64 = -2;

/// ListOffsets v7 is the newest with nothing the tools need beyond it.
const LIST_OFFSETS_VERSION: i16 = 7;
/// Fetch v12 is the newest that names topics (v13 uses topic ids).
const FETCH_VERSION: i16 = 12;
/// `fetch.max.wait.ms`, Kafka's default.
const FETCH_MAX_WAIT_MS: i32 = 500;
/// `max.partition.fetch.bytes`, Kafka's default.
const PARTITION_MAX_BYTES: i32 = 1024 * 1024;
/// `fetch.max.bytes`, Kafka's default.
const FETCH_MAX_BYTES: i32 = 50 * 1024 * 1024;
/// A batch's size field sits after its base offset; both come before the counted bytes.
const BATCH_HEADER_BYTES: usize = 12;

/// A record as the consumer hands it out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumedRecord {
    pub partition: i32,
    pub offset: i64,
    pub timestamp: i64,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
}

/// The offset at `timestamp` ([`LATEST`], [`EARLIEST`]) of each of `topic`'s `partitions`,
/// asked of their leaders, retried while leaders move.
pub async fn list_offsets(
    client: &mut Client,
    topic: &str,
    partitions: &[i32],
    timestamp: i64,
) -> Result<BTreeMap<i32, i64>, ClientError> {
    let deadline = tokio::time::Instant::now() + RETRY_DEADLINE;
    let mut offsets = BTreeMap::new();
    loop {
        let mut by_leader: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
        for &partition in partitions.iter().filter(|p| !offsets.contains_key(*p)) {
            if let Some(leader) = client.metadata().leader(topic, partition) {
                by_leader.entry(leader).or_default().push(partition);
            }
        }
        let mut last_error = None;
        for (leader, wanted) in by_leader {
            let request = list_offsets_request(topic, &wanted, timestamp);
            let response = match client.broker(leader).await {
                Ok(connection) => connection.call(&request, LIST_OFFSETS_VERSION).await,
                Err(error) => Err(error),
            };
            let response = match response {
                Ok(response) => response,
                Err(error) if retriable(&error) => {
                    client.forget(leader);
                    last_error = Some(error);
                    continue;
                }
                Err(error) => return Err(error),
            };
            for answer in response.topics.iter().flat_map(|t| &t.partitions) {
                match check(answer.error_code, || format!("listing the offsets of {topic}-{}", answer.partition_index))
                {
                    Ok(()) => {
                        offsets.insert(answer.partition_index, answer.offset);
                    }
                    Err(error) if error.is_retriable() => last_error = Some(error),
                    Err(error) => return Err(error),
                }
            }
        }
        if partitions.iter().all(|p| offsets.contains_key(p)) {
            return Ok(offsets);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(last_error.unwrap_or_else(|| no_leader(topic)));
        }
        tokio::time::sleep(RETRY_BACKOFF).await;
        client.refresh(Some(&[topic])).await?;
    }
}

/// Reads one topic's partitions from their positions on.
#[derive(Debug)]
pub struct Fetcher {
    topic: String,
    positions: BTreeMap<i32, i64>,
    /// Where a position the log no longer has moves to ([`EARLIEST`] or [`LATEST`]):
    /// `auto.offset.reset`.
    reset: i64,
}

impl Fetcher {
    /// A fetcher reading `topic`'s partitions from `positions`.
    pub fn new(topic: &str, positions: BTreeMap<i32, i64>, reset: i64) -> Fetcher {
        Fetcher { topic: topic.to_string(), positions, reset }
    }

    /// The next offset to read, per partition.
    pub fn positions(&self) -> &BTreeMap<i32, i64> {
        &self.positions
    }

    /// One fetch from every leader at once; returns the records, in partition then offset
    /// order, and moves the positions past them.
    pub async fn poll(&mut self, client: &mut Client) -> Result<Vec<ConsumedRecord>, ClientError> {
        let mut by_leader: BTreeMap<i32, Vec<(i32, i64)>> = BTreeMap::new();
        let mut leaderless = false;
        for (&partition, &offset) in &self.positions {
            match client.metadata().leader(&self.topic, partition) {
                Some(leader) => by_leader.entry(leader).or_default().push((partition, offset)),
                None => leaderless = true,
            }
        }
        let mut tasks = JoinSet::new();
        let mut stale = leaderless;
        for (leader, wanted) in by_leader {
            let mut connection: Connection = match client.take(leader).await {
                Ok(connection) => connection,
                Err(error) if retriable(&error) => {
                    stale = true;
                    continue;
                }
                Err(error) => return Err(error),
            };
            let request = fetch_request(&self.topic, &wanted);
            tasks.spawn(async move {
                let response = connection.call(&request, FETCH_VERSION).await;
                (leader, connection, response)
            });
        }
        let mut records = Vec::new();
        let mut out_of_range = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let (leader, connection, response) = joined.map_err(|e| ClientError::Protocol(e.to_string()))?;
            client.put_back(leader, connection);
            match response {
                Ok(response) => stale |= self.read(&response, &mut records, &mut out_of_range)?,
                Err(error) if retriable(&error) => stale = true,
                Err(error) => return Err(error),
            }
        }
        if !out_of_range.is_empty() {
            let reset = list_offsets(client, &self.topic.clone(), &out_of_range, self.reset).await?;
            self.positions.extend(reset);
        }
        if stale {
            if records.is_empty() {
                tokio::time::sleep(RETRY_BACKOFF).await;
            }
            client.refresh(Some(&[&self.topic])).await?;
        }
        records.sort_by_key(|r| (r.partition, r.offset));
        Ok(records)
    }

    /// Takes the records of one response; returns whether some partition's leader moved.
    fn read(
        &mut self,
        response: &FetchResponse,
        records: &mut Vec<ConsumedRecord>,
        out_of_range: &mut Vec<i32>,
    ) -> Result<bool, ClientError> {
        let mut stale = false;
        for data in response.responses.iter().flat_map(|t| &t.partitions) {
            let partition = data.partition_index;
            match check(data.error_code, || format!("fetching {}-{partition}", self.topic)) {
                Ok(()) => {}
                Err(ClientError::Kafka { error: ResponseError::OffsetOutOfRange, .. }) => {
                    out_of_range.push(partition);
                    continue;
                }
                Err(error) if error.is_retriable() => {
                    stale = true;
                    continue;
                }
                Err(error) => return Err(error),
            }
            let Some(position) = self.positions.get_mut(&partition) else { continue };
            let batches = data.records.clone().unwrap_or_default();
            for record in decode_records(batches)? {
                if record.offset < *position {
                    continue; // a batch starts before the position
                }
                *position = record.offset + 1;
                if !record.control {
                    records.push(ConsumedRecord {
                        partition,
                        offset: record.offset,
                        timestamp: record.timestamp,
                        key: record.key,
                        value: record.value,
                    });
                }
            }
        }
        Ok(stale)
    }
}

/// Every whole batch in `bytes`, decoded; a batch cut off at the end is left out.
pub fn decode_records(mut bytes: Bytes) -> Result<Vec<kafka_protocol::records::Record>, ClientError> {
    let mut records = Vec::new();
    while bytes.len() >= BATCH_HEADER_BYTES {
        let size = (&bytes[8..12]).get_i32();
        let whole = usize::try_from(size).map(|size| BATCH_HEADER_BYTES + size).unwrap_or(usize::MAX);
        if whole > bytes.len() {
            break;
        }
        let mut batch = bytes.split_to(whole);
        let set = RecordBatchDecoder::decode(&mut batch)
            .map_err(|e| ClientError::Protocol(format!("cannot decode a record batch: {e}")))?;
        records.extend(set.records);
    }
    Ok(records)
}

/// A ListOffsets request for `partitions` of `topic` at `timestamp`, as a consumer asks it.
pub fn list_offsets_request(topic: &str, partitions: &[i32], timestamp: i64) -> ListOffsetsRequest {
    let partitions = partitions
        .iter()
        .map(|&p| ListOffsetsPartition::default().with_partition_index(p).with_timestamp(timestamp))
        .collect();
    ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_isolation_level(0)
        .with_topics(vec![ListOffsetsTopic::default().with_name(topic_name(topic)).with_partitions(partitions)])
}

/// A full, sessionless Fetch of `partitions` (index, offset) of `topic`.
pub fn fetch_request(topic: &str, partitions: &[(i32, i64)]) -> FetchRequest {
    let partitions = partitions
        .iter()
        .map(|&(partition, offset)| {
            FetchPartition::default()
                .with_partition(partition)
                .with_fetch_offset(offset)
                .with_partition_max_bytes(PARTITION_MAX_BYTES)
        })
        .collect();
    FetchRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_max_wait_ms(FETCH_MAX_WAIT_MS)
        .with_min_bytes(1)
        .with_max_bytes(FETCH_MAX_BYTES)
        .with_isolation_level(0)
        .with_session_id(0)
        .with_session_epoch(-1)
        .with_topics(vec![FetchTopic::default().with_topic(topic_name(topic)).with_partitions(partitions)])
}

pub(crate) fn topic_name(topic: &str) -> TopicName {
    TopicName(StrBytes::from_string(topic.to_string()))
}

/// Errors after which asking again, with fresh metadata, may work.
fn retriable(error: &ClientError) -> bool {
    error.is_retriable() || matches!(error, ClientError::Unreachable { .. })
}

fn no_leader(topic: &str) -> ClientError {
    ClientError::Lost { address: format!("the leaders of '{topic}'"), reason: "no leader answered".to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::produce::{encode_batch, OutgoingRecord};
    use bytes::BytesMut;

    fn batch(values: &[&'static str], base_offset: i64) -> Bytes {
        let records: Vec<_> = values
            .iter()
            .map(|v| OutgoingRecord { key: None, value: Some(Bytes::from_static(v.as_bytes())) })
            .collect();
        let mut bytes = BytesMut::from(&encode_batch(&records, 0).expect("encodes")[..]);
        bytes[..8].copy_from_slice(&base_offset.to_be_bytes());
        bytes.freeze()
    }

    #[test]
    fn whole_batches_decode_and_a_cut_off_one_waits() {
        let mut both = BytesMut::new();
        both.extend_from_slice(&batch(&["a", "b"], 10));
        let second = batch(&["c"], 12);
        both.extend_from_slice(&second[..second.len() - 3]);
        let records = decode_records(both.freeze()).expect("decodes");
        let offsets: Vec<i64> = records.iter().map(|r| r.offset).collect();
        assert_eq!(offsets, [10, 11]);
    }

    #[test]
    fn a_fetcher_skips_what_it_has_read_and_moves_past_the_rest() {
        use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
        let mut fetcher = Fetcher::new("orders", BTreeMap::from([(0, 11), (1, 0)]), EARLIEST);
        let response = FetchResponse::default().with_responses(vec![FetchableTopicResponse::default()
            .with_topic(topic_name("orders"))
            .with_partitions(vec![
                PartitionData::default().with_partition_index(0).with_records(Some(batch(&["a", "b", "c"], 10))),
                PartitionData::default().with_partition_index(1).with_error_code(6),
            ])]);
        let (mut records, mut out_of_range) = (Vec::new(), Vec::new());
        let stale = fetcher.read(&response, &mut records, &mut out_of_range).expect("reads");
        assert!(stale, "NOT_LEADER_OR_FOLLOWER asks for fresh metadata");
        let read: Vec<(i32, i64)> = records.iter().map(|r| (r.partition, r.offset)).collect();
        assert_eq!(read, [(0, 11), (0, 12)]);
        assert_eq!(fetcher.positions(), &BTreeMap::from([(0, 13), (1, 0)]));
    }

    #[test]
    fn requests_ask_as_a_consumer_does() {
        let fetch = fetch_request("orders", &[(0, 5), (2, 7)]);
        assert_eq!(fetch.replica_id, BrokerId(-1));
        assert_eq!(fetch.topics[0].partitions.iter().map(|p| p.fetch_offset).collect::<Vec<_>>(), [5, 7]);
        let list = list_offsets_request("orders", &[1], EARLIEST);
        assert_eq!(list.topics[0].partitions[0].timestamp, -2);
    }
}
