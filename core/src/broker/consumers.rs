//! The leader's side of consuming: a consumer's fetch gets whole batches from its offset, but
//! only committed ones, below the high watermark (Kafka's `read_uncommitted` consumers read up
//! to it); with nothing committed to give, the fetch waits on the leader up to
//! `fetch.max.wait.ms`, as Kafka's long poll does, and is answered as soon as the high
//! watermark passes its offset.

use super::*;

/// `fetch.max.wait.ms` (Kafka's consumer default: 500).
const CONSUMER_FETCH_MAX_WAIT_MS: u64 = 500;
/// `max.partition.fetch.bytes` (Kafka's consumer default: 1 MiB).
const CONSUMER_FETCH_MAX_BYTES: usize = 1_048_576;

impl Broker {
    pub(super) fn handle_consumer_fetch(
        &mut self,
        from: NodeId,
        fetch_id: u64,
        partition: TopicPartition,
        fetch_offset: Offset,
    ) {
        let check = match self.replicas.get(&partition) {
            None => Err(ErrorCode::UnknownTopicOrPartition),
            Some(Replica { role: Role::Follower(_), .. }) => Err(ErrorCode::NotLeaderOrFollower),
            Some(Replica { log, .. })
                if fetch_offset < log.log_start_offset() || fetch_offset > log.log_end_offset() =>
            {
                Err(ErrorCode::OffsetOutOfRange)
            }
            Some(_) => Ok(()),
        };
        if let Err(error) = check {
            let log_start_offset = self.replicas.get(&partition).map_or(Offset(0), |r| r.log.log_start_offset());
            let message = Message::ConsumerFetchResponse { fetch_id, partition, log_start_offset, result: Err(error) };
            self.send(from, message);
            return;
        }
        let replica = self.replicas.get_mut(&partition).expect("checked above");
        if fetch_offset < replica.log.high_watermark() {
            self.respond_consumer_fetch(&partition, from, fetch_id, fetch_offset);
            return;
        }
        let Role::Leader(leadership) = &mut replica.role else { unreachable!("checked above") };
        leadership.parked_consumer_fetches.push(ParkedConsumerFetch { from, fetch_id, fetch_offset });
        self.set_timer(CONSUMER_FETCH_MAX_WAIT_MS, Timer::ConsumerFetchWaitExpired { partition, fetch_id });
    }

    /// Answers the parked consumer fetches `which` picks, with what is committed for each.
    pub(super) fn answer_parked_consumer_fetches(
        &mut self,
        partition: &TopicPartition,
        which: impl Fn(&ParkedConsumerFetch) -> bool,
    ) {
        let Some(Replica { role: Role::Leader(leadership), .. }) = self.replicas.get_mut(partition) else {
            return;
        };
        if leadership.parked_consumer_fetches.is_empty() {
            return;
        }
        let (answer, keep): (Vec<_>, Vec<_>) = leadership.parked_consumer_fetches.drain(..).partition(|p| which(p));
        leadership.parked_consumer_fetches = keep;
        for parked in answer {
            self.respond_consumer_fetch(partition, parked.from, parked.fetch_id, parked.fetch_offset);
        }
    }

    fn respond_consumer_fetch(
        &mut self,
        partition: &TopicPartition,
        from: NodeId,
        fetch_id: u64,
        fetch_offset: Offset,
    ) {
        let log = &self.replicas[partition].log;
        let high_watermark = log.high_watermark();
        let batches = log
            .read(fetch_offset, CONSUMER_FETCH_MAX_BYTES)
            .into_iter()
            .take_while(|batch| batch.last_offset() < high_watermark)
            .collect();
        let log_start_offset = log.log_start_offset();
        let message = Message::ConsumerFetchResponse {
            fetch_id,
            partition: partition.clone(),
            log_start_offset,
            result: Ok(batches),
        };
        self.send(from, message);
    }
}
