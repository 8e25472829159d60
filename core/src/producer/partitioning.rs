//! Which partition a record goes to when the caller names none.
//!
//! - With a key (and `partitioner.ignore.keys=false`): murmur2 of the key modulo the partition
//!   count, as the Java client ([`crate::partitioner::partition_for_key`]).
//! - Without one, the built-in partitioner of Kafka 3.3+ (KIP-794, `BuiltInPartitioner`):
//!   records stick to one partition until at least `batch.size` bytes have gone to it, and the
//!   batch there is full, then a new partition is picked at random among those with a leader
//!   (the switch happens anyway past twice `batch.size`). Kafka's adaptive weighting by queue
//!   length (`partitioner.adaptive.partitioning.enable`) is left out: the pick is uniform, from
//!   the producer's seeded [`Rng`], and may land on the same partition again, as in Kafka.
//! - With `partitioner.class=RoundRobinPartitioner`: each record, keyed or not, to the next
//!   available partition in turn (a counter per topic).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::string::ToString;

use super::config::PartitionerKind;
use crate::partitioner::partition_for_key;
use crate::rng::Rng;

/// The partitioner's memory: the sticky partition per topic and round-robin counters.
#[derive(Clone, Debug)]
pub struct Partitioner {
    kind: PartitionerKind,
    ignore_keys: bool,
    /// `batch.size`: how much goes to a sticky partition before it may switch.
    sticky_batch_size: u64,
    sticky: BTreeMap<String, StickyPartition>,
    round_robin: BTreeMap<String, u32>,
}

/// The partition records without a key currently go to, and the bytes they took there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StickyPartition {
    pub partition: i32,
    pub produced_bytes: u64,
}

/// The partitioner's choice for one record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    pub partition: i32,
    /// The record follows the sticky partition, so its bytes count towards a switch.
    pub sticky: bool,
}

impl Partitioner {
    pub fn new(kind: PartitionerKind, ignore_keys: bool, batch_size: u32) -> Self {
        assert!(batch_size > 0, "the sticky partitioner needs a positive batch.size");
        Partitioner {
            kind,
            ignore_keys,
            sticky_batch_size: u64::from(batch_size),
            sticky: BTreeMap::new(),
            round_robin: BTreeMap::new(),
        }
    }

    /// The partition for a record of `topic` with `key`. `available` lists the partitions
    /// that have a leader, ascending; `partition_count` is the topic's size.
    pub fn choose(
        &mut self,
        topic: &str,
        key: Option<&[u8]>,
        partition_count: i32,
        available: &[i32],
        rng: &mut Rng,
    ) -> Choice {
        assert!(partition_count > 0, "a topic has at least one partition");
        if self.kind == PartitionerKind::RoundRobin {
            let counter = self.round_robin.entry(topic.to_string()).or_insert(0);
            let next = *counter;
            *counter = counter.wrapping_add(1);
            let next = (next & 0x7fff_ffff) as usize;
            let partition = if available.is_empty() {
                (next % partition_count as usize) as i32
            } else {
                available[next % available.len()]
            };
            return Choice { partition, sticky: false };
        }
        if let (Some(key), false) = (key, self.ignore_keys) {
            return Choice { partition: partition_for_key(key, partition_count), sticky: false };
        }
        let partition = match self.sticky.get(topic) {
            Some(current) if current.partition < partition_count => current.partition,
            _ => {
                let partition = random_partition(partition_count, available, rng);
                self.sticky.insert(topic.to_string(), StickyPartition { partition, produced_bytes: 0 });
                partition
            }
        };
        Choice { partition, sticky: true }
    }

    /// Counts `appended_bytes` against the sticky partition of `topic` and switches it when
    /// enough has gone there: at `batch.size` if `batch_full` (the batch being filled there is
    /// full, so switching does not leave a small batch behind), at twice that regardless.
    /// Returns the new sticky partition when it switched.
    pub fn record_appended(
        &mut self,
        topic: &str,
        appended_bytes: u64,
        batch_full: bool,
        partition_count: i32,
        available: &[i32],
        rng: &mut Rng,
    ) -> Option<i32> {
        let sticky = self.sticky.get_mut(topic)?;
        sticky.produced_bytes += appended_bytes;
        let enough = sticky.produced_bytes >= self.sticky_batch_size;
        if (enough && batch_full) || sticky.produced_bytes >= 2 * self.sticky_batch_size {
            let partition = random_partition(partition_count, available, rng);
            *sticky = StickyPartition { partition, produced_bytes: 0 };
            return Some(partition);
        }
        None
    }

    /// The sticky partition of `topic`, if records without a key have gone to it.
    pub fn sticky_partition(&self, topic: &str) -> Option<StickyPartition> {
        self.sticky.get(topic).copied()
    }
}

/// A uniform pick among the available partitions, or among all when none has a leader
/// (Kafka's `BuiltInPartitioner.nextPartition` without load statistics).
fn random_partition(partition_count: i32, available: &[i32], rng: &mut Rng) -> i32 {
    if available.is_empty() {
        rng.between(0, partition_count as u64 - 1) as i32
    } else {
        available[rng.between(0, available.len() as u64 - 1) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sticky_partition_switches_only_when_the_batch_is_full_until_twice_batch_size() {
        let mut partitioner = Partitioner::new(PartitionerKind::BuiltIn, false, 100);
        let mut rng = Rng::new(1);
        let first = partitioner.choose("t", None, 3, &[0, 1, 2], &mut rng);
        assert!(first.sticky);
        assert_eq!(partitioner.record_appended("t", 150, false, 3, &[0, 1, 2], &mut rng), None);
        assert_eq!(partitioner.sticky_partition("t").map(|s| s.produced_bytes), Some(150));
        assert!(partitioner.record_appended("t", 50, false, 3, &[0, 1, 2], &mut rng).is_some());
        assert_eq!(partitioner.sticky_partition("t").map(|s| s.produced_bytes), Some(0));
    }

    #[test]
    fn keyed_records_ignore_stickiness_unless_told_to_ignore_keys() {
        let mut rng = Rng::new(1);
        let mut keyed = Partitioner::new(PartitionerKind::BuiltIn, false, 100);
        let choice = keyed.choose("t", Some(b"21"), 3, &[0, 1, 2], &mut rng);
        assert_eq!(choice, Choice { partition: partition_for_key(b"21", 3), sticky: false });
        let mut ignoring = Partitioner::new(PartitionerKind::BuiltIn, true, 100);
        assert!(ignoring.choose("t", Some(b"21"), 3, &[0, 1, 2], &mut rng).sticky);
    }

    #[test]
    fn round_robin_skips_partitions_without_a_leader() {
        let mut rng = Rng::new(1);
        let mut partitioner = Partitioner::new(PartitionerKind::RoundRobin, false, 100);
        let picks: alloc::vec::Vec<i32> =
            (0..4).map(|_| partitioner.choose("t", Some(b"k"), 3, &[0, 2], &mut rng).partition).collect();
        assert_eq!(picks, [0, 2, 0, 2]);
    }
}
