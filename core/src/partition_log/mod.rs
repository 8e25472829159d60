//! One replica's partition log, holding Kafka record batches (magic 2) exactly as the leader
//! stamped them, in segments, with retention and compaction (Kafka's `UnifiedLog` and
//! `LocalLog`, without files).
//!
//! ```text
//!  log start                                         high watermark    log end
//!  v                                                  v                 v
//!  | segment 0 | segment 1 | ... | segment n-1 | active segment         |
//!  '------------ closed segments -------------'  appends go here
//!  retention deletes closed segments whole; compaction thins them, leaving offset gaps
//! ```
//!
//! - A leader appends a producer's batch by writing only its base offset and partition leader
//!   epoch, which lie outside the CRC, so the stored bytes are the producer's bytes; a follower
//!   appends the leader's batches byte for byte.
//! - The active segment rolls before it would pass `segment.bytes` or once it is older than
//!   `segment.ms` ([`segment`]).
//! - The leader-epoch cache answers `OffsetsForLeaderEpoch`; truncation (KIP-101) cuts at batch
//!   boundaries ([`epochs`]).
//! - Retention deletes whole segments by age and size ([`retention`]); compaction keeps the
//!   newest record per key, offsets unchanged ([`compaction`]).
//! - Idempotent and transactional producers' batches are checked against each producer's
//!   state: a retry is recognised and not written twice, a zombie epoch or a sequence gap is
//!   refused ([`producer_state`]); markers end transactions, aborted ones are indexed for
//!   `read_committed` fetches ([`transaction_index`]), and open ones hold the last stable offset
//!   back. Truncation and retention keep that state consistent (`producer_state_manager`).
//! - [`PartitionLog::recover`] rebuilds a log from what a broker's disk held (`recovery`).
//! - [`PartitionLog::validate`] checks the cheap orderings after every event;
//!   [`PartitionLog::validate_records`] re-parses every batch.
//!
//! Offsets are never reused: deleting or compacting never moves the log end offset. Only a
//! follower's truncation gives offsets back, for the leader's records to take.

pub mod compaction;
pub mod config;
pub mod epochs;
pub mod error;
pub mod log_record;
mod log_validator;
pub mod producer_state;
mod producer_state_manager;
mod recovery;
pub mod retention;
pub mod segment;
pub mod transaction_index;
mod validation;

use alloc::vec;
use alloc::vec::Vec;

use crate::ids::{LeaderEpoch, Offset};
use crate::record_batch::{RecordBatch, TransactionMarker, TransactionResult};
use producer_state::{ProducerAppend, Verdict};
use producer_state_manager::ProducerStateManager;

pub use compaction::CompactionOutcome;
pub use config::{CleanupPolicy, LogConfig, SettingError};
pub use epochs::{EpochEntry, LeaderEpochCache};
pub use error::{AppendError, ConfigError, LogError};
pub use log_record::{single_record_batch, LogRecord};
pub use producer_state::{BatchMetadata, ProducerView, BATCHES_TO_RETAIN};
pub use retention::RetentionOutcome;
pub use segment::Segment;
pub use transaction_index::AbortedTransaction;

/// Where a leader put a producer's batch, or, for a retry of one of the producer's last
/// [`BATCHES_TO_RETAIN`] batches, where the original went (Kafka answers the retry with the
/// original's offsets and writes nothing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    pub first_offset: Offset,
    pub last_offset: Offset,
    /// The batch was a retry: nothing was written, the offsets are the original's.
    pub duplicate: bool,
}

/// A partition log on one broker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionLog {
    config: LogConfig,
    /// Oldest first, never empty: the last is the active segment. The first one's base offset
    /// is the log start offset.
    segments: Vec<Segment>,
    high_watermark: Offset,
    epochs: LeaderEpochCache,
    /// Idempotent and transactional producers, their transactions and the aborted ones.
    producers: ProducerStateManager,
}

impl PartitionLog {
    pub fn new(config: LogConfig) -> Self {
        PartitionLog {
            config,
            segments: vec![Segment::new(Offset(0), 0)],
            high_watermark: Offset(0),
            epochs: LeaderEpochCache::default(),
            producers: ProducerStateManager::default(),
        }
    }

    pub fn config(&self) -> &LogConfig {
        &self.config
    }

    /// Takes effect from the next append, retention or compaction, as Kafka's dynamic topic
    /// configs do.
    pub fn set_config(&mut self, config: LogConfig) {
        self.config = config;
    }

    /// The first offset the log holds; retention moves it up.
    pub fn log_start_offset(&self) -> Offset {
        self.segments[0].base_offset()
    }

    /// The offset the next batch will get (LEO).
    pub fn log_end_offset(&self) -> Offset {
        self.active().next_offset()
    }

    /// Records below this offset are committed: every in-sync replica has them.
    pub fn high_watermark(&self) -> Offset {
        self.high_watermark
    }

    /// Moves the high watermark; a value below the log start is raised to it.
    ///
    /// # Panics
    /// If `offset` is beyond the log end offset: the caller computed it wrongly.
    pub fn set_high_watermark(&mut self, offset: Offset) {
        assert!(offset <= self.log_end_offset(), "high watermark {offset} beyond log end {}", self.log_end_offset());
        self.high_watermark = offset.max(self.log_start_offset());
        self.producers.on_high_watermark(self.high_watermark);
    }

    /// The last stable offset (LSO): a `read_committed` consumer reads below it only. The high
    /// watermark, held back to the first offset of any open transaction, or of a completed one
    /// whose marker the high watermark has not yet passed (Kafka's `firstUnstableOffset`, never
    /// below the log start).
    pub fn last_stable_offset(&self) -> Offset {
        let unstable = self.producers.first_unstable_offset(self.high_watermark);
        unstable.map_or(self.high_watermark, |first| first.max(self.log_start_offset()).min(self.high_watermark))
    }

    /// The aborted transactions with a record in `from .. to`, in marker order: what a Fetch
    /// response tells a `read_committed` consumer reading that range (Kafka's
    /// `collectAbortedTransactions`). Transactions whose marker retention deleted are not
    /// reported.
    pub fn aborted_transactions(&self, from: Offset, to: Offset) -> Vec<AbortedTransaction> {
        self.producers.aborted_overlapping(from, to)
    }

    /// Every idempotent or transactional producer this log knows, by increasing producer id.
    pub fn producer_states(&self) -> impl Iterator<Item = ProducerView> + '_ {
        self.producers.producers().map(|(producer_id, entry)| ProducerView {
            producer_id,
            producer_epoch: entry.producer_epoch(),
            last_sequence: entry.last_sequence(),
            ongoing_transaction_first_offset: entry.ongoing_transaction_first_offset(),
            coordinator_epoch: entry.coordinator_epoch(),
        })
    }

    /// The last [`BATCHES_TO_RETAIN`] batches of `producer_id`'s current epoch, oldest first.
    pub fn producer_batches(&self, producer_id: i64) -> Vec<BatchMetadata> {
        self.producers.producer(producer_id).map(|entry| entry.batches().copied().collect()).unwrap_or_default()
    }

    /// The latest epoch in the leader-epoch cache, which a new leader's epoch enters before its
    /// first record.
    pub fn last_epoch(&self) -> Option<LeaderEpoch> {
        self.epochs.latest().map(|entry| entry.epoch)
    }

    /// The leader-epoch cache, oldest epoch first.
    pub fn epoch_entries(&self) -> &[EpochEntry] {
        self.epochs.entries()
    }

    /// A new leader records that its epoch starts at the log end, before appending anything
    /// (Kafka's `Partition.makeLeader`), so followers can find the divergence point even if it
    /// never writes. Epochs at or below the latest, or negative, change nothing.
    pub fn assign_epoch_start(&mut self, epoch: LeaderEpoch) {
        if epoch.0 >= 0 && self.last_epoch().is_none_or(|latest| epoch > latest) {
            self.epochs.assign(epoch, self.log_end_offset());
        }
    }

    /// Kafka's `OffsetsForLeaderEpoch` answer: the largest epoch at or below `epoch` that this
    /// log knows and the offset where it ends here (the next epoch's start, or the log end).
    /// See [`LeaderEpochCache::end_offset_for`] for an epoch older than every known one.
    pub fn end_offset_for_epoch(&self, epoch: LeaderEpoch) -> Option<(LeaderEpoch, Offset)> {
        self.epochs.end_offset_for(epoch, self.log_end_offset())
    }

    /// [`append_from_producer`](Self::append_from_producer), returning only the first and last
    /// offsets: the original's for a retried batch.
    pub fn append_as_leader(
        &mut self,
        epoch: LeaderEpoch,
        now_ms: u64,
        batch: RecordBatch,
    ) -> Result<(Offset, Offset), AppendError> {
        self.append_from_producer(epoch, now_ms, batch).map(|appended| (appended.first_offset, appended.last_offset))
    }

    /// Appends a producer's batch as the leader of `epoch` (Kafka's `appendAsLeader` for a
    /// client). Only the base offset (set to the log end) and the partition leader epoch are
    /// rewritten, both outside the CRC; the batch is never re-encoded. The active segment rolls
    /// first if the batch would take it past `segment.bytes` or it is older than `segment.ms`.
    ///
    /// A batch with a producer id is checked against that producer's state first
    /// ([`producer_state`]): a retry of one of its last five batches is not written again and
    /// comes back as a duplicate with the original's offsets; a zombie epoch, a sequence gap or
    /// a non-transactional batch inside a transaction is refused with nothing written.
    pub fn append_from_producer(
        &mut self,
        epoch: LeaderEpoch,
        now_ms: u64,
        batch: RecordBatch,
    ) -> Result<Appended, AppendError> {
        self.append_checked(epoch, now_ms, batch)
    }

    /// Writes a transaction marker for `producer_id` as the leader of `leader_epoch`, as a
    /// coordinator's WriteTxnMarkers asks, and returns its offset. It ends the producer's open
    /// transaction; an aborted one is indexed for [`aborted_transactions`](Self::aborted_transactions).
    /// Refused, with nothing written, under a producer epoch older than the producer's
    /// (`INVALID_PRODUCER_EPOCH`) or from a coordinator epoch older than its last marker's
    /// (`TRANSACTION_COORDINATOR_FENCED`).
    pub fn append_marker_as_leader(
        &mut self,
        leader_epoch: LeaderEpoch,
        now_ms: u64,
        producer_id: i64,
        producer_epoch: i16,
        committed: bool,
        coordinator_epoch: i32,
    ) -> Result<Offset, AppendError> {
        let result = if committed { TransactionResult::Commit } else { TransactionResult::Abort };
        let marker = TransactionMarker { result, coordinator_epoch };
        let log_end = self.log_end_offset();
        let timestamp_ms = i64::try_from(now_ms).unwrap_or(i64::MAX);
        let batch = marker
            .to_batch(log_end, timestamp_ms, leader_epoch, producer_id, producer_epoch)
            .map_err(|_| AppendError::OffsetOverflow { log_end, last_offset_delta: 0 })?;
        let appended = self.append_checked(leader_epoch, now_ms, batch)?;
        assert!(!appended.duplicate, "a marker is never a retry");
        Ok(appended.first_offset)
    }

    /// The leader's append: the log's checks, then the producer's, then the write.
    fn append_checked(
        &mut self,
        epoch: LeaderEpoch,
        now_ms: u64,
        mut batch: RecordBatch,
    ) -> Result<Appended, AppendError> {
        log_validator::check_leader_epoch(epoch, self.last_epoch())?;
        log_validator::check_leader_batch(&batch, &self.config)?;
        let (first, last) = log_validator::leader_offsets(&batch, self.log_end_offset())?;
        batch.set_base_offset(first);
        batch.set_partition_leader_epoch(epoch);
        let producer_append = ProducerAppend::of(&batch);
        if let Some(append) = &producer_append {
            if let Verdict::Duplicate(original) = self.producers.check(append)? {
                let (first_offset, last_offset) = (original.first_offset, original.last_offset);
                return Ok(Appended { first_offset, last_offset, duplicate: true });
            }
        }
        self.roll_if_needed(&batch, first, now_ms);
        self.epochs.assign(epoch, first);
        self.active_mut().append(batch, now_ms);
        assert_eq!(self.log_end_offset(), last.next(), "the log ends after the appended batch");
        if let Some(append) = producer_append {
            self.producers.apply(append, self.high_watermark);
        }
        Ok(Appended { first_offset: first, last_offset: last, duplicate: false })
    }

    /// Appends batches fetched from the leader exactly as it holds them: offsets already
    /// assigned, gaps left by compaction kept. Each must start at or after the log end (and the
    /// previous batch). Each batch's partition leader epoch enters the epoch cache. Rolls as a
    /// leader append does. Nothing is appended if any batch is refused. Producer batches and
    /// markers update the producer state unchecked: a follower trusts its leader's checks, and
    /// so can deduplicate and knows the open transactions once it leads.
    pub fn append_as_follower(&mut self, now_ms: u64, batches: &[RecordBatch]) -> Result<(), AppendError> {
        log_validator::check_follower_batches(batches, self.log_end_offset(), &self.config)?;
        for batch in batches {
            self.roll_if_needed(batch, batch.base_offset(), now_ms);
            self.epochs.assign(batch.partition_leader_epoch(), batch.base_offset());
            self.active_mut().append(batch.clone(), now_ms);
            if let Some(append) = ProducerAppend::of(batch) {
                self.producers.apply(append, self.high_watermark);
            }
        }
        Ok(())
    }

    /// What a fetch from `from` returns: whole batches, starting with the one holding `from`
    /// (which may start before it) or, if `from` is in a gap, the next one; then more while the
    /// total stays within `max_bytes`. At least one batch whenever one ends at or after `from`,
    /// as Kafka returns at least one batch however small the limit.
    ///
    /// Kafka answers a fetch outside log start ..= log end with `OFFSET_OUT_OF_RANGE`; callers
    /// check that with [`log_start_offset`](Self::log_start_offset) and
    /// [`log_end_offset`](Self::log_end_offset). Below the log start this reads from the start.
    pub fn read(&self, from: Offset, max_bytes: usize) -> Vec<RecordBatch> {
        let mut batches = Vec::new();
        let mut total_bytes = 0usize;
        for batch in self.batches_from(from) {
            if !batches.is_empty() && total_bytes.saturating_add(batch.size_bytes()) > max_bytes {
                break;
            }
            total_bytes += batch.size_bytes();
            batches.push(batch.clone());
        }
        batches
    }

    /// The record at `offset`, decoded; `None` below the log start, at or past the log end, in
    /// a gap compaction left, or inside a compressed batch.
    pub fn record_at(&self, offset: Offset) -> Option<LogRecord> {
        let batch = self.batches_from(offset).next()?;
        if batch.base_offset() > offset {
            return None;
        }
        log_record::decode(batch).find(|record| record.offset == offset)
    }

    /// Every record in offset order, decoded (compressed batches' records are skipped).
    pub fn records(&self) -> impl Iterator<Item = LogRecord> + '_ {
        self.batches().flat_map(log_record::decode)
    }

    /// Every batch in offset order, as stored.
    pub fn batches(&self) -> impl Iterator<Item = &RecordBatch> + '_ {
        self.segments.iter().flat_map(|segment| segment.batches())
    }

    /// The segments, oldest first; the last is the active one.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    pub fn active_segment(&self) -> &Segment {
        self.active()
    }

    pub fn size_bytes(&self) -> u64 {
        self.segments.iter().map(Segment::size_bytes).sum()
    }

    /// A follower drops everything at or above `offset` (KIP-101). A batch holding `offset` is
    /// dropped whole, as Kafka truncates at batch boundaries, so the log end may end up below
    /// `offset`. The high watermark falls to the log end if above it; epochs starting at or
    /// after the new log end leave the cache. At or beyond the log end nothing changes; below
    /// the log start the log is emptied and restarts there (Kafka's `truncateFullyAndStartAt`).
    /// A negative offset is taken as 0. The producer state is rebuilt from the batches that
    /// remain, forgetting transactions that began in the dropped tail; below the log start it
    /// is cleared.
    pub fn truncate_to(&mut self, offset: Offset) {
        let target = Offset(offset.0.max(0));
        if target >= self.log_end_offset() {
            // Nothing to drop, but an epoch this replica started as leader and never wrote in
            // may sit at the log end and conflict with the new leader's: Kafka's
            // `UnifiedLog.truncateTo` truncates the epoch cache at the log end all the same.
            self.epochs.truncate_from_end(self.log_end_offset());
            return;
        }
        if target < self.log_start_offset() {
            self.segments = vec![Segment::new(target, 0)];
            self.epochs.clear();
            self.high_watermark = target;
            self.producers = ProducerStateManager::default();
            return;
        }
        self.segments.retain(|segment| segment.base_offset() <= target);
        self.active_mut().truncate_to(target);
        let log_end = self.log_end_offset();
        self.epochs.truncate_from_end(log_end);
        self.high_watermark = self.high_watermark.min(log_end);
        self.producers.truncate_to(log_end, self.high_watermark);
    }

    /// Retention (`cleanup.policy` delete, or compact,delete): deletes whole old segments by
    /// `retention.ms`, then by `retention.bytes`, never the active one nor any reaching above the
    /// high watermark, and moves the log start to the first remaining segment's base. Producer
    /// state survives (Kafka keeps it in snapshots); aborted transactions whose marker was
    /// deleted leave the transaction index.
    pub fn enforce_retention(&mut self, now_ms: u64) -> RetentionOutcome {
        let plan = retention::plan(&self.segments, self.high_watermark, &self.config, now_ms);
        let deleted: Vec<Segment> = self.segments.drain(..plan.total()).collect();
        let log_start_offset = self.log_start_offset();
        if !deleted.is_empty() {
            self.epochs.truncate_from_start(log_start_offset);
            self.producers.truncate_from_start(log_start_offset, self.high_watermark);
        }
        assert!(self.high_watermark >= log_start_offset, "retention deleted above the high watermark");
        RetentionOutcome {
            segments_deleted_by_time: plan.by_time,
            segments_deleted_by_size: plan.by_size,
            records_deleted: deleted.iter().map(Segment::record_count).sum(),
            bytes_deleted: deleted.iter().map(Segment::size_bytes).sum(),
            log_start_offset,
        }
    }

    /// Compaction (`cleanup.policy` compact, or compact,delete): in the closed segments below
    /// the last stable offset and older than `min.compaction.lag.ms`, keeps only each key's
    /// newest record, and drops tombstones `delete.retention.ms` after they were written.
    /// Offsets never change. The rules are in [`compaction`]. Kafka's cleaner stops at the last
    /// stable offset, so an open transaction's records are never cleaned; producer state is
    /// never changed by compaction (see `producer_state_manager`).
    pub fn compact(&mut self, now_ms: u64) -> CompactionOutcome {
        let log_end = self.log_end_offset();
        let last_stable_offset = self.last_stable_offset();
        let outcome = compaction::compact(&mut self.segments, last_stable_offset, &self.config, now_ms);
        assert_eq!(self.log_end_offset(), log_end, "compaction never moves the log end");
        outcome
    }

    /// Rolls a new active segment starting at `base_offset` if `batch` should not go in the
    /// current one.
    fn roll_if_needed(&mut self, batch: &RecordBatch, base_offset: Offset, now_ms: u64) {
        assert!(base_offset >= self.log_end_offset(), "a new segment starts at or after the log end");
        if self.active().should_roll(batch.size_bytes() as u64, now_ms, &self.config) {
            self.segments.push(Segment::new(base_offset, now_ms));
        }
    }

    /// The batches from the one holding `from` (or the next after it) to the log end.
    fn batches_from(&self, from: Offset) -> impl Iterator<Item = &RecordBatch> + '_ {
        let first_segment = self.segments.partition_point(|segment| segment.base_offset() <= from).saturating_sub(1);
        self.segments[first_segment..].iter().enumerate().flat_map(move |(index, segment)| {
            let skip = if index == 0 { segment.position_of(from) } else { 0 };
            segment.batches()[skip..].iter()
        })
    }

    fn active(&self) -> &Segment {
        self.segments.last().expect("a log always has an active segment")
    }

    fn active_mut(&mut self) -> &mut Segment {
        self.segments.last_mut().expect("a log always has an active segment")
    }
}
