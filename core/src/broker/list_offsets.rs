//! ListOffsets as a partition leader answers it: the log start (earliest), the end a consumer
//! may read to (latest: the high watermark, or the last stable offset for `read_committed`),
//! the record with the largest timestamp, or the first record at or after a timestamp, always
//! among the records a consumer could read.

use super::*;

/// Which offset ListOffsets asks for (Kafka's special timestamps -2, -1 and -3, or a time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffsetSpec {
    Earliest,
    Latest,
    MaxTimestamp,
    /// The first record whose timestamp is at or after this many ms.
    Timestamp(i64),
}

/// The answer: an offset, its record's timestamp (`None` for earliest and latest) and the
/// leader epoch; `offset` is `None` when no readable record is that late.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListedOffset {
    pub offset: Option<Offset>,
    pub timestamp_ms: Option<i64>,
    pub leader_epoch: LeaderEpoch,
}

impl Broker {
    /// Answers ListOffsets for `partition` as its leader (NOT_LEADER_OR_FOLLOWER elsewhere).
    pub fn list_offsets(
        &self,
        partition: &TopicPartition,
        spec: OffsetSpec,
        isolation: IsolationLevel,
    ) -> Result<ListedOffset, ErrorCode> {
        let replica = self.replicas.get(partition).ok_or(ErrorCode::UnknownTopicOrPartition)?;
        if !replica.is_leader() {
            return Err(ErrorCode::NotLeaderOrFollower);
        }
        let log = &replica.log;
        let end = match isolation {
            IsolationLevel::ReadUncommitted => log.high_watermark(),
            IsolationLevel::ReadCommitted => log.last_stable_offset(),
        };
        let leader_epoch = replica.leader_epoch();
        let readable = || log.records().filter(|r| !r.is_control).take_while(move |r| r.offset < end);
        let found = |record: Option<(Offset, i64)>| ListedOffset {
            offset: record.map(|(offset, _)| offset),
            timestamp_ms: record.map(|(_, timestamp)| timestamp),
            leader_epoch,
        };
        Ok(match spec {
            OffsetSpec::Earliest => {
                ListedOffset { offset: Some(log.log_start_offset()), timestamp_ms: None, leader_epoch }
            }
            OffsetSpec::Latest => ListedOffset { offset: Some(end), timestamp_ms: None, leader_epoch },
            OffsetSpec::MaxTimestamp => {
                // The first of equal timestamps, as Kafka answers.
                let best = readable().fold(None, |best: Option<(Offset, i64)>, r| match best {
                    Some((_, t)) if t >= r.timestamp_ms => best,
                    _ => Some((r.offset, r.timestamp_ms)),
                });
                match best {
                    Some(best) => found(Some(best)),
                    None => ListedOffset { offset: Some(end), timestamp_ms: None, leader_epoch },
                }
            }
            OffsetSpec::Timestamp(ms) => {
                found(readable().find(|r| r.timestamp_ms >= ms).map(|r| (r.offset, r.timestamp_ms)))
            }
        })
    }
}
