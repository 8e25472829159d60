//! Exactly once, end to end: a consume-transform-produce pipeline (a consumer with `output=`
//! and `transactional.id=`, see `crate::simulation::pipelines`) writes each input record's
//! result to its output topic once, however often its application crashed, was restarted or
//! replaced. This is Kafka's exactly-once guarantee: the results and the consumer's offsets
//! are committed in one transaction (KIP-98, `sendOffsetsToTransaction`), so a
//! `read_committed` reader of the output sees the result of each input record the group has
//! committed past exactly once; a new instance with the same `transactional.id` fences the old
//! one and aborts its open transaction (KIP-98, KIP-129 for the per-task transactional
//! producer of Kafka Streams), and an instance with another `transactional.id` that took the
//! partitions over in a rebalance is fenced by the group's generation on `TxnOffsetCommit` and
//! reads no offset still pending in a transaction (KIP-447).
//!
//! An oracle, run once at the end of a run like [`super::check_processed_records`]: it reads
//! the partitions' leaders' logs below their high watermarks. The pipeline's application
//! writes each record's key and value unchanged, so an output record is told from another by
//! its key and value, and the sweep gives every input record a value of its own. A record
//! counts when a `read_committed` reader sees it: written outside any transaction, or in a
//! transaction whose marker is a COMMIT ([`BatchFates`]). Two rules:
//!
//! - safety ([`check_pipeline_outputs`]): no output record appears more often than its input
//!   record does in the input topics (a producer retry without idempotence may have written
//!   an input record twice; then two results are right). A result with no input at all is a
//!   violation too (a result of an aborted input record, say).
//! - liveness ([`check_pipelines_caught_up`], after the faults are healed and the pipelines
//!   had time to finish): the output holds exactly the results of the input records below the
//!   group's committed offsets, each as often as its input appears there.
//!
//! An output topic is assumed written by its pipelines only. A partition with no leader now,
//! or whose log no longer starts at 0 (retention removed records), cannot be judged; the
//! pipeline is skipped.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use bytes::Bytes;
use core::fmt;

use crate::group::partition_for;
use crate::ids::{Offset, TopicPartition};
use crate::partition_log::PartitionLog;
use crate::simulation::ClientKind;
use crate::Simulation;

use super::{BatchFates, RecordFate};

/// A record's key and value: what a pipeline copies from an input record to its result.
pub type Content = (Option<Bytes>, Option<Bytes>);

/// How many times each key and value appears.
pub type ContentCounts = BTreeMap<Content, usize>;

/// An output topic that broke exactly once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExactlyOnceViolation {
    /// Committed results of one input record appear more often than the input record.
    /// `record` names the input record by key and value (`key=k1 value=v7`).
    Duplicated { output: String, record: String, in_output: usize, in_input: usize },
    /// After the heal, the output does not hold the results of exactly the input records the
    /// groups committed past: some lost (`in_output` lower) or committed without their offsets.
    NotExactlyTheCommittedInput {
        output: String,
        groups: Vec<String>,
        record: String,
        in_output: usize,
        committed_past: usize,
    },
}

impl fmt::Display for ExactlyOnceViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExactlyOnceViolation::Duplicated { output, record, in_output, in_input } => write!(
                f,
                "{output} holds the committed result of {record} {in_output} times, the input {in_input} times"
            ),
            ExactlyOnceViolation::NotExactlyTheCommittedInput { output, groups, record, in_output, committed_past } => {
                write!(
                    f,
                    "{output} holds the committed result of {record} {in_output} times, groups {groups:?} \
                     committed past it {committed_past} times"
                )
            }
        }
    }
}

/// `key=... value=...`, as the command language writes a record.
fn describe(content: &Content) -> String {
    let text = |bytes: &Option<Bytes>| match bytes {
        Some(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        None => "null".to_string(),
    };
    alloc::format!("key={} value={}", text(&content.0), text(&content.1))
}

/// The key and value of every record of `log` a `read_committed` reader sees below `below`
/// (and below the high watermark), counted.
pub fn readable_contents(log: &PartitionLog, below: Offset) -> ContentCounts {
    let fates = BatchFates::of(log.batches());
    let end = below.min(log.high_watermark());
    let mut counts = ContentCounts::new();
    for record in log.records().filter(|record| !record.is_control && record.offset < end) {
        if matches!(fates.fate_of(record.offset), RecordFate::NotTransactional | RecordFate::Committed) {
            *counts.entry((record.key, record.value)).or_insert(0) += 1;
        }
    }
    counts
}

/// Safety: no content appears in `output` more often than in `input`.
pub fn check_no_duplicates(
    topic: &str,
    input: &ContentCounts,
    output: &ContentCounts,
) -> Result<(), ExactlyOnceViolation> {
    for (content, &in_output) in output {
        let in_input = input.get(content).copied().unwrap_or(0);
        if in_output > in_input {
            return Err(ExactlyOnceViolation::Duplicated {
                output: topic.to_string(),
                record: describe(content),
                in_output,
                in_input,
            });
        }
    }
    Ok(())
}

/// Liveness: `output` holds each content exactly as often as `committed_past` does.
pub fn check_exactly_committed(
    topic: &str,
    groups: &BTreeSet<String>,
    committed_past: &ContentCounts,
    output: &ContentCounts,
) -> Result<(), ExactlyOnceViolation> {
    let contents: BTreeSet<&Content> = committed_past.keys().chain(output.keys()).collect();
    for content in contents {
        let in_output = output.get(content).copied().unwrap_or(0);
        let expected = committed_past.get(content).copied().unwrap_or(0);
        if in_output != expected {
            return Err(ExactlyOnceViolation::NotExactlyTheCommittedInput {
                output: topic.to_string(),
                groups: groups.iter().cloned().collect(),
                record: describe(content),
                in_output,
                committed_past: expected,
            });
        }
    }
    Ok(())
}

/// Each output topic of a pipeline, with the groups of the pipelines writing to it.
fn pipelines(simulation: &Simulation) -> BTreeMap<String, BTreeSet<String>> {
    let mut outputs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for client in simulation.clients() {
        if let (Some(pipeline), ClientKind::Consumer(consumer)) = (&client.pipeline, &client.kind) {
            let group = consumer.config().group_id.to_string();
            outputs.entry(pipeline.output.to_string()).or_default().insert(group);
        }
    }
    outputs
}

/// The current leader's log of `partition`, if it can be judged (led, nothing removed).
fn leader_log<'s>(simulation: &'s Simulation, partition: &TopicPartition) -> Option<&'s PartitionLog> {
    let leader = simulation.metadata().partition(partition)?.leader?;
    let log = &simulation.broker(leader)?.replica(partition)?.log;
    (log.log_start_offset() == Offset(0)).then_some(log)
}

/// The readable contents of every partition of `topic`, each below the offset `below` gives;
/// `None` if a partition cannot be judged.
fn topic_contents(
    simulation: &Simulation,
    topic: &str,
    below: impl Fn(&TopicPartition) -> Offset,
) -> Option<ContentCounts> {
    let mut counts = ContentCounts::new();
    for index in 0..simulation.metadata().partition_count(topic)? {
        let partition = TopicPartition::new(topic, index);
        for (content, n) in readable_contents(leader_log(simulation, &partition)?, below(&partition)) {
            *counts.entry(content).or_insert(0) += n;
        }
    }
    Some(counts)
}

/// The input topics of `groups`: those their consumers processed from or committed offsets for.
fn input_topics(simulation: &Simulation, groups: &BTreeSet<String>) -> BTreeSet<String> {
    let processed =
        simulation.processed().iter().filter(|r| groups.contains(&r.group)).map(|r| r.partition.topic.to_string());
    let committed = groups.iter().flat_map(|group| committed_offsets(simulation, group).into_keys());
    processed.chain(committed.map(|p| p.topic.to_string())).collect()
}

/// The offsets `group`'s coordinator (the leader of its `__consumer_offsets` partition) holds.
fn committed_offsets(simulation: &Simulation, group: &str) -> BTreeMap<TopicPartition, Offset> {
    let index = partition_for(group, simulation.config().offsets_topic_num_partitions);
    let offsets = TopicPartition::new("__consumer_offsets", index);
    let leader = simulation.metadata().partition(&offsets).and_then(|p| p.leader);
    let Some(broker) = leader.and_then(|leader| simulation.broker(leader)) else { return BTreeMap::new() };
    broker.group_coordinator().committed_offsets(group).into_iter().map(|(p, o)| (p, o.offset)).collect()
}

/// Safety for a simulation: in every pipeline's output topic, no input record's result is
/// committed twice. Call it at the end of a run.
pub fn check_pipeline_outputs(simulation: &Simulation) -> Result<(), ExactlyOnceViolation> {
    for (output, groups) in pipelines(simulation) {
        let Some(results) = topic_contents(simulation, &output, |_| Offset(i64::MAX)) else { continue };
        let mut input = ContentCounts::new();
        for topic in input_topics(simulation, &groups) {
            let Some(counts) = topic_contents(simulation, &topic, |_| Offset(i64::MAX)) else { return Ok(()) };
            for (content, n) in counts {
                *input.entry(content).or_insert(0) += n;
            }
        }
        check_no_duplicates(&output, &input, &results)?;
    }
    Ok(())
}

/// Liveness for a simulation, once its faults are healed and the pipelines had time to finish
/// their transactions: every pipeline's output holds the result of each input record its
/// groups committed past, exactly once, and nothing else.
pub fn check_pipelines_caught_up(simulation: &Simulation) -> Result<(), ExactlyOnceViolation> {
    for (output, groups) in pipelines(simulation) {
        let Some(results) = topic_contents(simulation, &output, |_| Offset(i64::MAX)) else { continue };
        let mut committed_past = ContentCounts::new();
        for group in &groups {
            let offsets = committed_offsets(simulation, group);
            let topics: BTreeSet<String> = offsets.keys().map(|p| p.topic.to_string()).collect();
            for topic in topics {
                let below = |partition: &TopicPartition| offsets.get(partition).copied().unwrap_or(Offset(0));
                let Some(counts) = topic_contents(simulation, &topic, below) else { return Ok(()) };
                for (content, n) in counts {
                    *committed_past.entry(content).or_insert(0) += n;
                }
            }
        }
        check_exactly_committed(&output, &groups, &committed_past, &results)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record_batch::test_batches::{batch_of, marker};

    use crate::record_batch::{Record, RecordBatch, TransactionResult};
    use alloc::vec;

    fn batch(base: i64, values: &[&'static str], producer_id: Option<i64>) -> RecordBatch {
        let records: Vec<Record> = values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                Record::new(i as i32, 0, Some(Bytes::from_static(b"k")), Some(Bytes::from_static(v.as_bytes())))
            })
            .collect();
        batch_of(base, records, producer_id)
    }

    fn log_of(batches: &[RecordBatch], high_watermark: i64) -> PartitionLog {
        let mut log = PartitionLog::new(crate::partition_log::LogConfig::default());
        log.append_as_follower(0, batches).unwrap();
        log.set_high_watermark(Offset(high_watermark));
        log
    }

    fn counts(values: &[&'static str]) -> ContentCounts {
        let mut counts = ContentCounts::new();
        for value in values {
            *counts.entry((Some(Bytes::from_static(b"k")), Some(Bytes::from_static(value.as_bytes())))).or_insert(0) +=
                1;
        }
        counts
    }

    /// Output: `a` plain at 0; `b` in producer 7's aborted transaction (1, marker 2); `a`, `c`
    /// in its committed one (3-4, marker 5); `d` open at 6; `e` above the high watermark.
    fn output_log() -> PartitionLog {
        let batches = vec![
            batch(0, &["a"], None),
            batch(1, &["b"], Some(7)),
            marker(2, 7, TransactionResult::Abort),
            batch(3, &["a", "c"], Some(7)),
            marker(5, 7, TransactionResult::Commit),
            batch(6, &["d"], Some(7)),
            batch(7, &["e"], None),
        ];
        log_of(&batches, 7)
    }

    #[test]
    fn only_records_a_read_committed_reader_sees_below_the_high_watermark_count() {
        assert_eq!(readable_contents(&output_log(), Offset(i64::MAX)), counts(&["a", "a", "c"]));
        assert_eq!(readable_contents(&output_log(), Offset(4)), counts(&["a", "a"]), "below offset 4 only");
    }

    #[test]
    fn a_result_committed_twice_for_one_input_record_is_a_duplicate() {
        let output = readable_contents(&output_log(), Offset(i64::MAX));
        let violation = check_no_duplicates("shipments", &counts(&["a", "c", "d"]), &output).unwrap_err();
        assert!(
            matches!(&violation, ExactlyOnceViolation::Duplicated { in_output: 2, in_input: 1, .. }),
            "{violation:?}"
        );
        assert!(alloc::format!("{violation}").contains("value=a 2 times"), "{violation}");
    }

    #[test]
    fn an_input_record_written_twice_may_have_two_results_and_an_unknown_result_is_a_violation() {
        let output = readable_contents(&output_log(), Offset(i64::MAX));
        assert_eq!(check_no_duplicates("shipments", &counts(&["a", "a", "c"]), &output), Ok(()));
        assert!(matches!(
            check_no_duplicates("shipments", &counts(&["a", "a"]), &output),
            Err(ExactlyOnceViolation::Duplicated { in_input: 0, .. })
        ));
    }

    #[test]
    fn after_the_heal_the_output_is_exactly_the_input_committed_past() {
        let output = readable_contents(&output_log(), Offset(i64::MAX));
        let groups: BTreeSet<String> = [String::from("etl")].into();
        assert_eq!(check_exactly_committed("shipments", &groups, &counts(&["a", "a", "c"]), &output), Ok(()));
        let lost = check_exactly_committed("shipments", &groups, &counts(&["a", "a", "c", "z"]), &output);
        assert!(
            matches!(
                &lost,
                Err(ExactlyOnceViolation::NotExactlyTheCommittedInput { in_output: 0, committed_past: 1, .. })
            ),
            "{lost:?}"
        );
        let uncommitted_offsets = check_exactly_committed("shipments", &groups, &counts(&["a", "c"]), &output);
        assert!(matches!(
            uncommitted_offsets,
            Err(ExactlyOnceViolation::NotExactlyTheCommittedInput { in_output: 2, committed_past: 1, .. })
        ));
    }
}
