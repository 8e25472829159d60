//! The page's session with the simulator: a [`Recording`] of the run that the page plays,
//! rewinds and forks, and the page's own actions (a click on a broker becomes `kill N` or
//! `restart N`).
//!
//! Nothing here decides how the cluster behaves; that is `kafkalab-core`'s job.

use kafkalab_core::ids::BrokerId;
use kafkalab_core::trace::TraceLine;
use kafkalab_core::view::{BrokerStatus, ClusterView};

use crate::share::{Settings, Share};
use crate::timeline::Recording;

/// How often the page's timer ticks while playing, in real milliseconds.
pub const TICK_MS: u64 = 100;

/// How fast the page plays, as a position on a log scale: position `p` is `10^(p/4)`× real
/// time, from 0.1× at [`Speed::SLOWEST`] to 100× at [`Speed::FASTEST`]; four positions make
/// ten times faster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Speed(pub i32);

impl Speed {
    pub const SLOWEST: Speed = Speed(-4);
    pub const FASTEST: Speed = Speed(8);
    /// About 3× real time, as the page starts.
    pub const DEFAULT: Speed = Speed(2);

    /// The multiple of real time.
    pub fn factor(self) -> f64 {
        10f64.powf(f64::from(self.0) / 4.0)
    }

    /// Simulated milliseconds per tick of the page's timer.
    pub fn tick_ms(self) -> u64 {
        (TICK_MS as f64 * self.factor()).round().max(1.0) as u64
    }

    pub fn faster(self) -> Speed {
        Speed((self.0 + 1).min(Self::FASTEST.0))
    }

    pub fn slower(self) -> Speed {
        Speed((self.0 - 1).max(Self::SLOWEST.0))
    }

    /// `0.32×`, `3.2×`, `10×`: two significant digits.
    pub fn label(self) -> String {
        let factor = self.factor();
        if factor >= 10.0 {
            format!("{factor:.0}×")
        } else if factor >= 1.0 {
            format!("{factor:.1}×")
        } else {
            format!("{factor:.2}×")
        }
    }
}

/// One run of the simulator in the page, recorded so it can be rewound and shared.
pub struct Lab {
    settings: Settings,
    recording: Recording,
    records_produced: u64,
}

impl Lab {
    /// The three-broker lab: topic `orders` with 3 partitions replicated 3 ways.
    pub fn new(seed: u64) -> Self {
        Self::with_settings(Settings { seed, ..Settings::default() }).expect("the default cluster config is valid")
    }

    /// A fresh run with these settings; the error says why they describe no cluster.
    pub fn with_settings(settings: Settings) -> Result<Self, String> {
        let recording =
            Recording::new(settings.config()).map_err(|e| format!("the settings describe no cluster: {e}"))?;
        Ok(Lab { settings, recording, records_produced: 0 })
    }

    /// The run a link describes, replayed and shown at the link's moment.
    pub fn from_share(share: &Share) -> Result<Self, String> {
        let recording = Recording::replay(share.settings.config(), &share.actions, share.at_ms, share.end_ms)?;
        let records_produced = share.actions.len() as u64;
        Ok(Lab { settings: share.settings, recording, records_produced })
    }

    /// What a link to this run, at the present moment, holds.
    pub fn share(&self) -> Share {
        Share {
            settings: self.settings,
            actions: self.recording.actions().to_vec(),
            at_ms: self.recording.now_ms(),
            end_ms: self.recording.horizon_ms(),
        }
    }

    pub fn view(&self) -> ClusterView {
        self.recording.simulation().view()
    }

    pub fn recording(&self) -> &Recording {
        &self.recording
    }

    /// The commands run up to the present moment, in order, as the core prints them.
    pub fn history(&self) -> Vec<String> {
        self.recording.past_actions().iter().map(|a| a.line.clone()).collect()
    }

    /// The last `count` trace lines, oldest first.
    pub fn recent_trace(&self, count: usize) -> &[TraceLine] {
        let trace = self.recording.simulation().trace();
        &trace[trace.len().saturating_sub(count)..]
    }

    /// Parses and runs one command line; the error says what is wrong and where. When the
    /// run is rewound, an action forks it (see [`Recording::act`]).
    pub fn run_line(&mut self, line: &str) -> Result<(), String> {
        self.recording.act(line)
    }

    /// Lets `ms` of simulated time pass along the timeline.
    pub fn advance(&mut self, ms: u64) {
        self.recording.advance(ms);
    }

    /// Runs the next event (every event due in its millisecond).
    pub fn step(&mut self) {
        self.recording.step();
    }

    /// Back to the previous event of the trace, or 100 ms back when there is none.
    pub fn step_back(&mut self) {
        let now = self.recording.now_ms();
        self.seek(self.recording.previous_event_ms().unwrap_or(now.saturating_sub(TICK_MS)));
    }

    /// Shows the run at `at_ms`, up to the furthest time reached.
    pub fn seek(&mut self, at_ms: u64) {
        self.recording.seek(at_ms);
    }

    /// A click on a broker: kill it when it runs, restart it when it is down.
    pub fn toggle_broker(&mut self, broker: BrokerId) -> Result<(), String> {
        let alive = self.recording.simulation().is_alive(broker);
        let line = if alive { format!("kill {broker}") } else { format!("restart {broker}") };
        self.run_line(&line)
    }

    /// The Produce button: one record, without a key (spread round robin), `acks=all`.
    pub fn produce_one(&mut self) -> Result<(), String> {
        self.records_produced += 1;
        let line = format!("produce orders value=record-{} acks=all", self.records_produced);
        self.run_line(&line)
    }
}

/// What the page calls a broker's state.
pub fn status_label(status: BrokerStatus) -> &'static str {
    match status {
        BrokerStatus::Alive => "alive",
        BrokerStatus::Fenced => "fenced",
        BrokerStatus::Dead => "dead",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafkalab_core::ids::TopicPartition;

    #[test]
    fn clicking_a_broker_kills_it_and_clicking_again_restarts_it() {
        let mut lab = Lab::new(1);
        lab.toggle_broker(BrokerId(2)).unwrap();
        assert_eq!(lab.view().broker(BrokerId(2)).unwrap().status, BrokerStatus::Dead);
        lab.toggle_broker(BrokerId(2)).unwrap();
        assert_ne!(lab.view().broker(BrokerId(2)).unwrap().status, BrokerStatus::Dead);
        assert_eq!(lab.history(), ["kill 2", "restart 2"]);
    }

    #[test]
    fn produced_records_reach_every_replica_as_time_passes() {
        let mut lab = Lab::new(1);
        lab.advance(1_000);
        for _ in 0..3 {
            lab.produce_one().unwrap();
        }
        for _ in 0..10 {
            lab.advance(Speed(0).tick_ms());
        }
        let view = lab.view();
        let ends: Vec<i64> = (0..3)
            .map(|p| view.partition(&TopicPartition::new("orders", p)).unwrap().replicas[0].log_end_offset.0)
            .collect();
        assert_eq!(ends, [1, 1, 1], "null keys go round robin, one record per partition");
    }

    #[test]
    fn a_bad_line_is_refused_with_its_position_and_not_recorded() {
        let mut lab = Lab::new(1);
        let error = lab.run_line("kill 2x").unwrap_err();
        assert!(error.contains("column 6"), "{error}");
        let error = lab.run_line("restart 1").unwrap_err();
        assert!(error.contains("already running"), "{error}");
        assert!(lab.history().is_empty());
    }

    #[test]
    fn the_speed_scale_is_logarithmic_from_a_tenth_to_a_hundred() {
        assert_eq!(Speed::SLOWEST.tick_ms(), 10);
        assert_eq!(Speed(0).tick_ms(), TICK_MS);
        assert_eq!(Speed(4).tick_ms(), 10 * TICK_MS, "four positions make ten times faster");
        assert_eq!(Speed::FASTEST.tick_ms(), 100 * TICK_MS);
        assert_eq!(Speed::FASTEST.faster(), Speed::FASTEST);
        assert_eq!(Speed::SLOWEST.slower(), Speed::SLOWEST);
        let labels: Vec<String> = [-4, -2, 0, 2, 5, 8].into_iter().map(|p| Speed(p).label()).collect();
        assert_eq!(labels, ["0.10×", "0.32×", "1.0×", "3.2×", "18×", "100×"]);
    }

    #[test]
    fn a_shared_link_reopens_the_run_at_the_same_moment() {
        let mut lab = Lab::new(7);
        lab.advance(1_000);
        lab.produce_one().unwrap();
        lab.toggle_broker(BrokerId(1)).unwrap();
        lab.advance(12_000);
        lab.seek(6_000);
        let share = crate::share::decode(&crate::share::encode(&lab.share())).unwrap();
        let reopened = Lab::from_share(&share).unwrap();
        assert_eq!(reopened.view(), lab.view());
        assert_eq!(reopened.history(), ["produce orders value=record-1 acks=all", "kill 1"]);
        assert_eq!(reopened.recording().horizon_ms(), 13_000, "the rest of the run came along");
        let broken = Share { settings: Settings { seed: 1, brokers: 2 }, ..share };
        assert!(Lab::from_share(&broken).err().unwrap().contains("no cluster"));
    }

    #[test]
    fn stepping_back_returns_to_the_previous_event() {
        let mut lab = Lab::new(1);
        lab.advance(2_000);
        lab.toggle_broker(BrokerId(2)).unwrap();
        lab.advance(1);
        lab.step_back();
        assert_eq!(lab.recording().now_ms(), 2_000);
        assert_eq!(lab.view().broker(BrokerId(2)).unwrap().status, BrokerStatus::Dead, "the kill is that event");
    }
}
