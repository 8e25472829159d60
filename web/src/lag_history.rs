//! Consumer lag over time, for the lag chart: the page samples each group's lag (the sum over
//! its partitions of the leader's log end offset minus the committed offset, as the core's
//! [`ClusterView::total_lag`] gives it) as the run plays, and draws the last minute of it.
//!
//! A sample is a reading of the view, never a decision: rewinding drops the samples after the
//! moment shown, so a forked run draws its own future.

use kafkalab_core::view::ClusterView;

use crate::panels::is_internal_topic;

/// At most one sample per this much simulated time.
pub const SAMPLE_MS: u64 = 250;
/// How much simulated time the chart shows.
pub const WINDOW_MS: u64 = 60_000;

/// One group's total lag at a moment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    pub at_ms: u64,
    pub group: String,
    pub lag: i64,
}

/// The samples taken so far, oldest first, no older than [`WINDOW_MS`] before the newest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LagHistory {
    samples: Vec<Sample>,
}

impl LagHistory {
    /// Reads the view's lags. A view earlier than the newest sample means the run was rewound:
    /// the samples after it go first.
    pub fn record(&mut self, view: &ClusterView) {
        let now = view.now_ms;
        self.samples.retain(|s| s.at_ms <= now);
        if self.samples.last().is_some_and(|last| now < last.at_ms + SAMPLE_MS) {
            return;
        }
        for group in view.groups.iter().filter(|g| !is_internal_topic(&g.group_id)) {
            if let Some(lag) = view.total_lag(&group.group_id) {
                self.samples.push(Sample { at_ms: now, group: group.group_id.clone(), lag });
            }
        }
        let oldest = now.saturating_sub(WINDOW_MS);
        let keep_from = self.samples.partition_point(|s| s.at_ms < oldest);
        self.samples.drain(..keep_from);
    }

    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }

    /// The groups sampled, in the order they were first seen.
    pub fn groups(&self) -> Vec<String> {
        let mut groups: Vec<String> = Vec::new();
        for sample in &self.samples {
            if !groups.contains(&sample.group) {
                groups.push(sample.group.clone());
            }
        }
        groups
    }

    /// The highest lag sampled (at least 1, so an idle chart still has a scale).
    pub fn max_lag(&self) -> i64 {
        self.samples.iter().map(|s| s.lag).max().unwrap_or(0).max(1)
    }

    /// A group's line in a chart `width` × `height` whose right edge is `now_ms` and whose left
    /// edge is [`WINDOW_MS`] earlier: SVG polyline points, `x,y` pairs.
    pub fn polyline(&self, group: &str, now_ms: u64, width: f64, height: f64) -> String {
        let max = self.max_lag() as f64;
        let start = now_ms.saturating_sub(WINDOW_MS);
        self.samples
            .iter()
            .filter(|s| s.group == group && s.at_ms >= start && s.at_ms <= now_ms)
            .map(|s| {
                let x = width - (now_ms - s.at_ms) as f64 / WINDOW_MS as f64 * width;
                let y = height - s.lag as f64 / max * height;
                format!("{x:.1},{y:.1}")
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A group's newest lag.
    pub fn latest(&self, group: &str) -> Option<i64> {
        self.samples.iter().rev().find(|s| s.group == group).map(|s| s.lag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::Lab;

    /// A group that has committed, then falls behind while records keep coming and its only
    /// consumer is dead.
    fn lagging_lab() -> (Lab, LagHistory) {
        let mut lab = Lab::new(1);
        let mut history = LagHistory::default();
        lab.advance(1_000);
        lab.run_line("consumer alice group=billing topics=orders auto.offset.reset=earliest").unwrap();
        lab.advance(10_000);
        history.record(&lab.view());
        lab.run_line("kill alice").unwrap();
        for n in 0..6 {
            lab.run_line(&format!("produce orders value=v{n} acks=all")).unwrap();
            lab.advance(500);
            history.record(&lab.view());
        }
        (lab, history)
    }

    #[test]
    fn the_lag_grows_by_each_record_produced_while_the_group_has_no_live_consumer() {
        let (lab, history) = lagging_lab();
        assert_eq!(lab.view().total_lag("billing"), Some(6));
        let lags: Vec<i64> = history.samples().iter().map(|s| s.lag).collect();
        assert_eq!(lags, [0, 1, 2, 3, 4, 5, 6]);
        assert_eq!(history.groups(), ["billing"]);
        assert_eq!(history.latest("billing"), Some(6));
    }

    #[test]
    fn rewinding_drops_the_samples_after_the_moment_shown() {
        let (mut lab, mut history) = lagging_lab();
        let before = history.samples().len();
        lab.seek(12_000);
        history.record(&lab.view());
        assert!(history.samples().len() < before);
        assert!(history.samples().iter().all(|s| s.at_ms <= 12_000));
    }

    #[test]
    fn the_line_spans_the_chart_with_the_highest_lag_at_the_top() {
        let (lab, history) = lagging_lab();
        let line = history.polyline("billing", lab.view().now_ms, 600.0, 100.0);
        let points: Vec<(f64, f64)> = line
            .split(' ')
            .map(|p| {
                let (x, y) = p.split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect();
        assert_eq!(points.len(), 7);
        assert_eq!(points.last().unwrap(), &(600.0, 0.0), "the newest, highest lag is at the top right");
        assert_eq!(points[0].1, 100.0, "no lag at first: the bottom");
    }

    #[test]
    fn samples_closer_than_the_sampling_interval_are_skipped() {
        let mut lab = Lab::new(1);
        let mut history = LagHistory::default();
        lab.advance(1_000);
        lab.run_line("consumer alice group=billing topics=orders").unwrap();
        lab.advance(10_000);
        history.record(&lab.view());
        lab.advance(100);
        history.record(&lab.view());
        assert_eq!(history.samples().len(), 1);
    }
}
