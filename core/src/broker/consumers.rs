//! The leader's side of consuming: a consumer's fetch gets whole batches from its offset, but
//! only committed ones, below the high watermark for `read_uncommitted` and below the last stable
//! offset for `read_committed` (which also learns the aborted transactions to skip); with
//! nothing to give, the fetch waits on the leader up to `fetch.max.wait.ms`, as Kafka's long
//! poll does, and is answered as soon as that bound passes its offset.

use super::*;
use crate::message::ConsumerFetchData;
use crate::partition_log::AbortedTransaction;

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
        isolation: IsolationLevel,
    ) {
        let check = self.consumer_fetch_check(&partition, fetch_offset);
        if let Err(error) = check {
            let log_start_offset = self.replicas.get(&partition).map_or(Offset(0), |r| r.log.log_start_offset());
            let message = Message::ConsumerFetchResponse { fetch_id, partition, log_start_offset, result: Err(error) };
            self.send(from, message);
            return;
        }
        let replica = self.replicas.get_mut(&partition).expect("checked above");
        if fetch_offset < readable_end(&replica.log, isolation) {
            self.respond_consumer_fetch(&partition, from, fetch_id, fetch_offset, isolation);
            return;
        }
        let Role::Leader(leadership) = &mut replica.role else { unreachable!("checked above") };
        leadership.parked_consumer_fetches.push(ParkedConsumerFetch { from, fetch_id, fetch_offset, isolation });
        // Fetch ids are each client's own: the timer names the client too.
        self.set_timer(CONSUMER_FETCH_MAX_WAIT_MS, Timer::ConsumerFetchWaitExpired { partition, from, fetch_id });
    }

    /// Whether this broker can serve a consumer's fetch of `partition` from `fetch_offset`: it
    /// leads the partition and the offset is within its log (Kafka's errors otherwise).
    pub(super) fn consumer_fetch_check(
        &self,
        partition: &TopicPartition,
        fetch_offset: Offset,
    ) -> Result<(), ErrorCode> {
        match self.replicas.get(partition) {
            None => Err(ErrorCode::UnknownTopicOrPartition),
            Some(Replica { role: Role::Follower(_), .. }) => Err(ErrorCode::NotLeaderOrFollower),
            Some(Replica { log, .. })
                if fetch_offset < log.log_start_offset() || fetch_offset > log.log_end_offset() =>
            {
                Err(ErrorCode::OffsetOutOfRange)
            }
            Some(_) => Ok(()),
        }
    }

    /// Answers the parked consumer fetches that can now read something, and the clients'
    /// fetches held for this partition that now have enough.
    pub(super) fn answer_readable_consumer_fetches(&mut self, partition: &TopicPartition) {
        self.try_complete_delayed_fetches(partition);
        let Some(replica) = self.replicas.get(partition) else { return };
        let (high_watermark, last_stable) =
            (replica.log.high_watermark(), readable_end(&replica.log, IsolationLevel::ReadCommitted));
        self.answer_parked_consumer_fetches(partition, |parked| match parked.isolation {
            IsolationLevel::ReadUncommitted => parked.fetch_offset < high_watermark,
            IsolationLevel::ReadCommitted => parked.fetch_offset < last_stable,
        });
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
            self.respond_consumer_fetch(partition, parked.from, parked.fetch_id, parked.fetch_offset, parked.isolation);
        }
    }

    fn respond_consumer_fetch(
        &mut self,
        partition: &TopicPartition,
        from: NodeId,
        fetch_id: u64,
        fetch_offset: Offset,
        isolation: IsolationLevel,
    ) {
        let log = &self.replicas[partition].log;
        let data = committed_read(log, fetch_offset, isolation, CONSUMER_FETCH_MAX_BYTES);
        let log_start_offset = log.log_start_offset();
        let message = Message::ConsumerFetchResponse {
            fetch_id,
            partition: partition.clone(),
            log_start_offset,
            result: Ok(data),
        };
        self.send(from, message);
    }
}

/// What a consumer may read of `log` from `fetch_offset`: whole batches up to `max_bytes`
/// (at least one), all below the high watermark, or the last stable offset for
/// `read_committed`, with the aborted transactions among them.
pub(super) fn committed_read(
    log: &PartitionLog,
    fetch_offset: Offset,
    isolation: IsolationLevel,
    max_bytes: usize,
) -> ConsumerFetchData {
    let end = readable_end(log, isolation);
    let batches: Vec<RecordBatch> =
        log.read(fetch_offset, max_bytes).into_iter().take_while(|batch| batch.last_offset() < end).collect();
    let aborted_transactions = match (isolation, batches.last()) {
        (IsolationLevel::ReadCommitted, Some(last)) => aborted_transactions(log, fetch_offset, last.next_offset()),
        _ => Vec::new(),
    };
    ConsumerFetchData {
        batches,
        high_watermark: log.high_watermark(),
        last_stable_offset: readable_end(log, IsolationLevel::ReadCommitted),
        aborted_transactions,
    }
}

/// Where a consumer's reading stops: the high watermark, or for `read_committed` the last
/// stable offset (below the first offset of any transaction still open).
fn readable_end(log: &PartitionLog, isolation: IsolationLevel) -> Offset {
    match isolation {
        IsolationLevel::ReadUncommitted => log.high_watermark(),
        IsolationLevel::ReadCommitted => log.last_stable_offset(),
    }
}

/// The aborted transactions a `read_committed` reader of `[from, to)` must skip.
fn aborted_transactions(log: &PartitionLog, from: Offset, to: Offset) -> Vec<AbortedTransaction> {
    log.aborted_transactions(from, to)
}
