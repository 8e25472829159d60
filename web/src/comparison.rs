//! Two runs side by side: the same settings, seed and actions, with one setting different
//! (`acks=1` against `acks=all`, say), moving through time together, so that what the one
//! setting costs or saves shows as the difference between the two sides.
//!
//! Each side is a [`Recording`] of its own. The difference is never applied by changing how the
//! cluster behaves: it is written in the core's command language, either as lines run on each
//! side at time 0 (`set min.insync.replicas=2`) or by rewriting each action's line (a `produce`
//! that does not name its `acks` gets the side's). Every other line goes to both sides as typed,
//! and advancing, stepping and seeking move both to the same moment.
//!
//! A comparison is shared as a link ([`crate::share`] with `compare=`): its settings, its
//! difference and the lines as typed, with their times; opening it sets both sides up again
//! and replays the lines.
//!
//! What each side reports ([`SideReport`]) comes from the core: the writes its producer saw
//! acknowledged and, of those, the ones the current leaders no longer hold (the core's oracle,
//! `Simulation::lost_writes`), and each partition's leader and high watermark.

use kafkalab_core::command::Command;
use kafkalab_core::ids::{BrokerId, TopicPartition};
use kafkalab_core::trace::TraceEvent;

use crate::lab::TICK_MS;
use crate::panels::is_internal_topic;
use crate::share::{Settings, Share};
use crate::timeline::{Action, Recording};

mod difference;

pub use difference::{Difference, Side};

/// An acknowledged write the cluster no longer holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LostRecord {
    pub partition: TopicPartition,
    pub offset: i64,
}

/// One partition as a side's summary shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionOutcome {
    pub partition: TopicPartition,
    /// As the controller's metadata says; none while it has no leader.
    pub leader: Option<BrokerId>,
    /// The leader's high watermark; none while it has no leader.
    pub high_watermark: Option<i64>,
}

/// What the core knows of one side's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SideReport {
    /// The side's title: `acks=1`.
    pub label: String,
    pub now_ms: u64,
    /// Writes the producers saw acknowledged (with an offset: `acks=0` tells none).
    pub acknowledged: usize,
    /// Writes the producers were told failed (`error` and `NAME failed` trace lines).
    pub failed: usize,
    /// The acknowledged writes the partitions' current leaders do not hold.
    pub lost: Vec<LostRecord>,
    /// Every partition of the learner's topics (not the internal ones), in order.
    pub partitions: Vec<PartitionOutcome>,
}

impl SideReport {
    /// `orders/0@1, orders/0@2`: the lost records as the summary lists them.
    pub fn lost_list(&self) -> String {
        let records: Vec<String> = self.lost.iter().map(|l| format!("{}@{}", l.partition, l.offset)).collect();
        records.join(", ")
    }

    /// One sentence for a screen reader: `acks=1: 3 acknowledged, 3 of them lost, 0 failed`.
    pub fn sentence(&self) -> String {
        format!(
            "{}: {} acknowledged, {} of them lost, {} failed",
            self.label,
            self.acknowledged,
            self.lost.len(),
            self.failed
        )
    }
}

/// A scenario that shows a difference in a few clicks: actions at set times, then the run
/// shown at `show_at_ms`, for the learner to play on from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preset {
    pub title: &'static str,
    /// What to watch for, in a sentence or two.
    pub story: &'static str,
    pub difference: Difference,
    /// `(time_ms, line)`, in time order, run on both sides (rewritten for the difference).
    pub script: &'static [(u64, &'static str)],
    pub show_at_ms: u64,
}

/// `acks=1` against `acks=all`: the leader of `orders/0` (broker 1, with the default seed) is
/// cut off from its followers, takes three records, then dies; a follower without them takes
/// over. With `acks=1` the producer was told all three were written; with `acks=all` it was
/// told none were, and it loses none.
pub const ACKS_PRESET: Preset = Preset {
    title: "acks=1 vs acks=all: the leader takes writes its followers never fetch, then dies",
    story: "Broker 1 leads orders/0. It is cut off from its followers (split 1 | 2 3), takes three records, \
            then dies. Play on: once a follower takes over, the acks=1 side has lost what it was told was \
            written; the acks=all side was never told so.",
    difference: Difference::Acks,
    script: &[
        (5_000, "split 1 | 2 3"),
        (5_000, "produce orders partition=0 value=first"),
        (5_000, "produce orders partition=0 value=second"),
        (5_000, "produce orders partition=0 value=third"),
        (5_100, "kill 1"),
        (5_100, "heal"),
    ],
    show_at_ms: 5_100,
};

/// The presets the page offers.
pub const PRESETS: &[Preset] = &[ACKS_PRESET];

/// Two recordings of the same run but for one [`Difference`], always at the same moment.
///
/// Invariant: both sides' clocks are equal after every call.
#[derive(Clone)]
pub struct Comparison {
    settings: Settings,
    difference: Difference,
    sides: [Recording; 2],
    records_produced: u64,
    /// The lines run on both sides, as typed (before each side's rewriting), with their times:
    /// what a link to the comparison replays. Setup lines are not among them.
    actions: Vec<Action>,
}

impl Comparison {
    /// Two fresh runs of `settings`, each with its side of `difference` set up: at time 0, or,
    /// when the setup deletes and creates a topic, once both sides' metadata shows it done.
    pub fn new(settings: Settings, difference: Difference) -> Result<Self, String> {
        let recording =
            || Recording::new(settings.config()).map_err(|e| format!("the settings describe no cluster: {e}"));
        let mut comparison = Comparison {
            settings,
            difference,
            sides: [recording()?, recording()?],
            records_produced: 0,
            actions: Vec::new(),
        };
        let [left, right] = Side::BOTH.map(|side| difference.setup_lines(side));
        for (left, right) in left.iter().zip(&right) {
            for (side, line) in Side::BOTH.into_iter().zip([left, right]) {
                comparison.sides[side.index()].act(line).map_err(|e| format!("{}: {e}", difference.label(side)))?;
            }
            match Command::parse(left) {
                Ok(Command::DeleteTopic { name }) => comparison.settle(&name, false)?,
                Ok(Command::CreateTopic { name, .. }) => comparison.settle(&name, true)?,
                _ => {}
            }
        }
        Ok(comparison)
    }

    /// Runs both sides until the committed metadata of each shows topic `name` (or its absence),
    /// so a topic deleted during setup is gone before it is created again.
    fn settle(&mut self, name: &str, exists: bool) -> Result<(), String> {
        /// Setup that takes longer than this has failed (the admin client gives up after 30 s).
        const SETUP_LIMIT_MS: u64 = 60_000;
        let settled = |side: &Recording| side.simulation().metadata().partition_count(name).is_some() == exists;
        while !self.sides.iter().all(settled) {
            if self.now_ms() >= SETUP_LIMIT_MS {
                return Err(format!(
                    "topic {name} was not {} during setup",
                    if exists { "created" } else { "deleted" }
                ));
            }
            self.advance(TICK_MS);
        }
        Ok(())
    }

    /// A preset played with the default settings, shown at its `show_at_ms`.
    pub fn from_preset(preset: &Preset) -> Result<Self, String> {
        let mut comparison = Self::new(Settings::default(), preset.difference)?;
        for &(at_ms, line) in preset.script {
            comparison.advance(at_ms.saturating_sub(comparison.now_ms()));
            comparison.act(line)?;
        }
        comparison.advance(preset.show_at_ms.saturating_sub(comparison.now_ms()));
        Ok(comparison)
    }

    /// The comparison a link describes: `share.compare`'s difference set up on both sides, the
    /// link's lines replayed at their times, shown at its moment. A line both sides refuse
    /// refuses the link.
    pub fn from_share(share: &Share) -> Result<Self, String> {
        let difference = share.compare.ok_or("the link is to a single run, not a comparison")?;
        let mut comparison = Self::new(share.settings, difference)?;
        for (index, action) in share.actions.iter().enumerate() {
            let refuse = |why: String| format!("action {} ({} ms: {}): {why}", index + 1, action.at_ms, action.line);
            let now = comparison.now_ms();
            if action.at_ms < now {
                return Err(refuse(format!("it comes before the setup or the action above it ended ({now} ms)")));
            }
            comparison.advance(action.at_ms - now);
            if let [Err(why), Err(_)] = comparison.act_on_both(&action.line) {
                return Err(refuse(why));
            }
        }
        comparison.records_produced = comparison.actions.len() as u64;
        let end = comparison.now_ms().max(share.at_ms).max(share.end_ms);
        comparison.advance(end - comparison.now_ms());
        comparison.seek(share.at_ms);
        Ok(comparison)
    }

    /// What a link to the comparison, at the present moment, holds.
    pub fn share(&self) -> Share {
        Share {
            settings: self.settings,
            actions: self.actions.clone(),
            at_ms: self.now_ms(),
            end_ms: self.horizon_ms(),
            compare: Some(self.difference),
        }
    }

    pub fn settings(&self) -> Settings {
        self.settings
    }

    pub fn difference(&self) -> Difference {
        self.difference
    }

    pub fn side(&self, side: Side) -> &Recording {
        &self.sides[side.index()]
    }

    /// The moment both sides show.
    pub fn now_ms(&self) -> u64 {
        self.sides[0].now_ms()
    }

    /// The furthest moment both sides have reached.
    pub fn horizon_ms(&self) -> u64 {
        self.sides.iter().map(Recording::horizon_ms).min().expect("two sides")
    }

    /// The lines run up to the present, oldest first: a line both sides ran alike once, a line
    /// each ran its own way as `left ⇄ right`.
    pub fn history(&self) -> Vec<String> {
        let [left, right] = Side::BOTH.map(|side| self.side(side).past_actions());
        let mut lines: Vec<String> = left
            .iter()
            .zip(right)
            .map(|(l, r)| if l.line == r.line { l.line.clone() } else { format!("{} ⇄ {}", l.line, r.line) })
            .collect();
        // A line one side refused leaves the other with more.
        let longer = if left.len() > right.len() { left } else { right };
        lines.extend(longer[lines.len()..].iter().map(|a| a.line.clone()));
        lines
    }

    /// Runs one line on both sides (each rewritten for its side of the difference); `advance`
    /// moves both along the timeline. The error names the side that refused, or says once
    /// what both refused.
    pub fn act(&mut self, line: &str) -> Result<(), String> {
        if let Ok(Command::Advance { ms }) = Command::parse(line) {
            self.advance(ms);
            return Ok(());
        }
        let difference = self.difference;
        let [left, right] = self.act_on_both(line);
        match (left, right) {
            (Ok(()), Ok(())) => Ok(()),
            (Err(left), Err(right)) if left == right => Err(left),
            (left, right) => {
                let refused = [left.err(), right.err()];
                let messages: Vec<String> = Side::BOTH
                    .into_iter()
                    .zip(refused)
                    .filter_map(|(side, error)| Some(format!("{}: {}", difference.label(side), error?)))
                    .collect();
                Err(messages.join("; "))
            }
        }
    }

    /// Runs a line on each side, rewritten for it; a line either side took is recorded for
    /// links, and, as on each side, acting at an earlier moment replaces the later actions.
    fn act_on_both(&mut self, line: &str) -> [Result<(), String>; 2] {
        let difference = self.difference;
        let now = self.now_ms();
        let results = Side::BOTH.map(|side| self.sides[side.index()].act(&difference.rewrite(side, line)));
        self.check_clocks();
        if results.iter().any(Result::is_ok) {
            self.actions.retain(|a| a.at_ms <= now);
            // As typed: printing the parsed command would name the default acks, and then no
            // side would rewrite it when the link is replayed.
            self.actions.push(Action { at_ms: now, line: line.trim().to_string() });
        }
        results
    }

    /// Lets `ms` of simulated time pass on both sides.
    pub fn advance(&mut self, ms: u64) {
        self.sides.iter_mut().for_each(|side| side.advance(ms));
        self.check_clocks();
    }

    /// Moves both sides to the next moment either has something happen in (an event or a
    /// recorded action). False when neither has anything left.
    pub fn step(&mut self) -> bool {
        let now = self.now_ms();
        let next = self
            .sides
            .iter()
            .filter_map(|side| {
                let next_action = side.actions().get(side.past_actions().len()).map(|a| a.at_ms);
                [side.simulation().next_event_ms(), next_action].into_iter().flatten().min()
            })
            .min();
        let Some(next) = next else { return false };
        self.advance(next.saturating_sub(now));
        true
    }

    /// Back to the latest event either side traced before the present, or 100 ms back.
    pub fn step_back(&mut self) {
        let now = self.now_ms();
        let previous = self.sides.iter().filter_map(Recording::previous_event_ms).max();
        self.seek(previous.unwrap_or(now.saturating_sub(TICK_MS)));
    }

    /// Shows both sides at `at_ms`, up to the furthest moment both have reached.
    pub fn seek(&mut self, at_ms: u64) {
        let target = at_ms.min(self.horizon_ms());
        self.sides.iter_mut().for_each(|side| side.seek(target));
        self.check_clocks();
    }

    /// A click on a broker: kill it on both sides when it runs on the left, else restart it.
    pub fn toggle_broker(&mut self, broker: BrokerId) -> Result<(), String> {
        let alive = self.sides[0].simulation().is_alive(broker);
        self.act(&if alive { format!("kill {broker}") } else { format!("restart {broker}") })
    }

    /// The Produce button: one record without a key to `orders`, without naming acks, so the
    /// difference applies.
    pub fn produce_one(&mut self) -> Result<(), String> {
        self.records_produced += 1;
        self.act(&format!("produce orders value=record-{}", self.records_produced))
    }

    /// What the core knows of `side`'s outcome at the present moment.
    pub fn report(&self, side: Side) -> SideReport {
        let simulation = self.side(side).simulation();
        let failed = simulation
            .trace()
            .iter()
            .filter(|line| matches!(line.event, TraceEvent::ProduceFailed { .. } | TraceEvent::ClientFailed { .. }))
            .count();
        let lost = simulation
            .lost_writes()
            .into_iter()
            .map(|write| LostRecord { partition: write.partition.clone(), offset: write.offset.0 })
            .collect();
        let view = simulation.view();
        let partitions = view
            .partitions
            .iter()
            .filter(|p| !is_internal_topic(&p.partition.topic))
            .map(|p| PartitionOutcome {
                partition: p.partition.clone(),
                leader: p.leader,
                high_watermark: p
                    .leader
                    .and_then(|leader| p.replicas.iter().find(|r| r.broker == leader).map(|r| r.high_watermark.0)),
            })
            .collect();
        SideReport {
            label: self.difference.label(side),
            now_ms: simulation.now_ms(),
            acknowledged: simulation.acknowledged().len(),
            failed,
            lost,
            partitions,
        }
    }

    fn check_clocks(&self) {
        assert_eq!(self.sides[0].now_ms(), self.sides[1].now_ms(), "the two sides move through time together");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafkalab_core::view::BrokerStatus;

    fn comparison(difference: Difference) -> Comparison {
        Comparison::new(Settings::default(), difference).unwrap()
    }

    fn lost_offsets(report: &SideReport) -> Vec<(String, i64)> {
        report.lost.iter().map(|l| (l.partition.to_string(), l.offset)).collect()
    }

    #[test]
    fn a_produced_record_is_sent_with_each_sides_acks() {
        let mut both = comparison(Difference::Acks);
        both.advance(5_000);
        both.produce_one().unwrap();
        let lines = Side::BOTH.map(|side| both.side(side).actions()[0].line.clone());
        assert_eq!(lines, ["produce orders value=record-1 acks=1", "produce orders value=record-1 acks=all"]);
    }

    #[test]
    fn a_cluster_setting_is_set_on_each_side_at_time_zero() {
        for (difference, name) in [
            (Difference::MinInsyncReplicas, kafkalab_core::metadata::ConfigName::MinInsyncReplicas),
            (Difference::UncleanLeaderElection, kafkalab_core::metadata::ConfigName::UncleanLeaderElectionEnable),
        ] {
            let mut both = comparison(difference);
            assert!(both.side(Side::Left).actions().iter().all(|a| a.at_ms == 0));
            both.advance(5_000);
            let values = Side::BOTH.map(|side| both.side(side).simulation().metadata().config.value(name));
            assert_eq!(values, [difference.value(Side::Left), difference.value(Side::Right)], "{difference:?}");
        }
    }

    #[test]
    fn the_replication_factor_side_recreates_orders_with_its_number_of_replicas() {
        let mut both = comparison(Difference::ReplicationFactor);
        let ready = both.now_ms();
        assert!(ready > 0 && ready < 10_000, "the setup waited for the deletion and the creation: {ready}");
        both.advance(5_000);
        for (side, replicas) in [(Side::Left, 1), (Side::Right, 3)] {
            let view = both.side(side).simulation().view();
            let orders: Vec<usize> =
                view.partitions.iter().filter(|p| &*p.partition.topic == "orders").map(|p| p.replicas.len()).collect();
            assert_eq!(orders, [replicas; 3], "{side:?}");
        }
    }

    #[test]
    fn a_line_runs_on_both_sides_and_time_moves_both_together() {
        let mut both = comparison(Difference::Acks);
        both.advance(2_000);
        both.act("kill 2").unwrap();
        for side in Side::BOTH {
            assert_eq!(both.side(side).simulation().view().broker(BrokerId(2)).unwrap().status, BrokerStatus::Dead);
        }
        both.act("advance 3s").unwrap();
        assert_eq!(both.now_ms(), 5_000);
        assert!(both.step());
        let stepped = both.now_ms();
        assert!(stepped > 5_000);
        assert_eq!(both.side(Side::Left).now_ms(), both.side(Side::Right).now_ms());
        both.step_back();
        assert!(both.now_ms() < stepped);
        both.seek(1_000);
        assert_eq!((both.now_ms(), both.horizon_ms()), (1_000, stepped));
        both.seek(u64::MAX);
        assert_eq!(both.now_ms(), stepped, "a seek stops at the furthest moment reached");
        assert_eq!(
            both.side(Side::Left).simulation().view().broker(BrokerId(2)).unwrap().status,
            BrokerStatus::Dead,
            "the kill was replayed on the way"
        );
    }

    #[test]
    fn the_history_shows_a_shared_line_once_and_a_rewritten_one_with_both_forms() {
        let mut both = comparison(Difference::MinInsyncReplicas);
        both.act("kill 3").unwrap();
        assert_eq!(
            both.history(),
            ["set min.insync.replicas=1 ⇄ set min.insync.replicas=2", "kill 3"],
            "the setup is part of each side's run"
        );
    }

    #[test]
    fn a_summary_lists_the_lost_records_and_says_the_counts_in_a_sentence() {
        let report = SideReport {
            label: String::from("acks=1"),
            now_ms: 0,
            acknowledged: 3,
            failed: 1,
            lost: vec![
                LostRecord { partition: TopicPartition::new("orders", 0), offset: 1 },
                LostRecord { partition: TopicPartition::new("orders", 2), offset: 0 },
            ],
            partitions: Vec::new(),
        };
        assert_eq!(report.lost_list(), "orders/0@1, orders/2@0");
        assert_eq!(report.sentence(), "acks=1: 3 acknowledged, 2 of them lost, 1 failed");
    }

    #[test]
    fn a_line_both_sides_refuse_is_reported_once_and_recorded_on_neither() {
        let mut both = comparison(Difference::Acks);
        let error = both.act("restart 1").unwrap_err();
        assert!(error.contains("already running") && !error.contains("acks="), "{error}");
        assert!(Side::BOTH.iter().all(|&side| both.side(side).actions().is_empty()));
    }

    #[test]
    fn the_acks_preset_loses_acknowledged_records_with_acks_1_and_none_with_acks_all() {
        let mut both = Comparison::from_preset(&ACKS_PRESET).unwrap();
        assert_eq!(both.now_ms(), ACKS_PRESET.show_at_ms);
        let at_split = both.side(Side::Left).simulation().view();
        assert!(at_split.broker(BrokerId(1)).unwrap().status == BrokerStatus::Dead);
        both.seek(5_000);
        let orders_0 = TopicPartition::new("orders", 0);
        assert_eq!(
            both.side(Side::Left).simulation().view().partition(&orders_0).unwrap().leader,
            Some(BrokerId(1)),
            "the preset kills the leader of orders/0"
        );
        both.seek(ACKS_PRESET.show_at_ms);
        both.advance(30_000);
        let (left, right) = (both.report(Side::Left), both.report(Side::Right));
        assert_eq!((left.label.as_str(), right.label.as_str()), ("acks=1", "acks=all"));
        assert_eq!(left.now_ms, right.now_ms);
        assert_eq!(left.acknowledged, 3, "broker 1 alone acknowledged each record");
        assert_eq!(lost_offsets(&left), [("orders/0".into(), 0), ("orders/0".into(), 1), ("orders/0".into(), 2)]);
        assert_eq!((right.acknowledged, right.lost.len()), (0, 0), "acks=all was never told they were written");
        assert_eq!(right.failed, 3, "each of its records timed out (request.timeout.ms) unanswered");
        for report in [&left, &right] {
            let partition = report.partitions.iter().find(|p| p.partition == orders_0).unwrap();
            assert!(matches!(partition.leader, Some(BrokerId(2 | 3))), "a follower took over: {partition:?}");
            assert_eq!(partition.high_watermark, Some(0), "it never had the three records");
            assert_eq!(report.partitions.len(), 3, "the internal topics are left out");
        }
    }

    #[test]
    fn a_link_to_a_comparison_reopens_it_at_the_same_moment_with_the_same_outcome() {
        let mut both = Comparison::from_preset(&ACKS_PRESET).unwrap();
        both.advance(30_000);
        both.seek(20_000);
        let link = crate::share::encode(&both.share());
        assert!(link.starts_with("compare=acks&"), "{link}");
        assert!(link.contains("produce%20orders%20partition%3D0%20value%3Dfirst"), "the line as typed: {link}");
        assert!(!link.contains("acks%3D1"), "not a side's rewriting: {link}");

        let reopened = Comparison::from_share(&crate::share::decode(&link).unwrap()).unwrap();
        assert_eq!((reopened.now_ms(), reopened.horizon_ms()), (20_000, both.horizon_ms()));
        assert_eq!(reopened.history(), both.history());
        for side in Side::BOTH {
            assert_eq!(reopened.report(side), both.report(side), "{side:?}");
            assert_eq!(reopened.side(side).simulation().view(), both.side(side).simulation().view());
        }
    }

    #[test]
    fn acting_at_an_earlier_moment_replaces_the_later_lines_in_the_link() {
        let mut both = comparison(Difference::MinInsyncReplicas);
        both.advance(2_000);
        both.act("kill 2").unwrap();
        both.advance(2_000);
        both.act("restart 2").unwrap();
        both.seek(3_000);
        both.act("produce orders value=forked").unwrap();
        let lines: Vec<(u64, String)> = both.share().actions.into_iter().map(|a| (a.at_ms, a.line)).collect();
        assert_eq!(lines, [(2_000, "kill 2".into()), (3_000, "produce orders value=forked".into())]);
        assert!(Comparison::from_share(&Share { compare: None, ..both.share() }).is_err(), "a single run's link");
    }
}
