//! A run as a recording: the cluster settings (with the seed) and the learner's actions, each a
//! command line at a simulated time. The simulator is deterministic, so these alone say the
//! whole run, and any moment of it can be shown again by replaying them: that is how the page
//! rewinds, how a fork works and how a shared link reproduces a run.
//!
//! Replaying from time 0 grows slower as a run grows longer, so the recording keeps
//! checkpoints: copies of the simulation taken every [`CHECKPOINT_INTERVAL_MS`] of simulated
//! time. A seek starts from the nearest checkpoint at or before its target (or from the present
//! state, when that is nearer) and replays only from there. There are never more than
//! [`MAX_CHECKPOINTS`]: past that, every other one is dropped and the interval doubles, so a
//! long run keeps checkpoints evenly spread over its whole length.
//!
//! Positions on the timeline are whole milliseconds: the state at `t` is the state after every
//! event due at or before `t` and every action taken at or before `t`. Splitting a stretch of
//! time into several `Simulation::advance` calls runs the same events in the same order as one
//! call, so where the page's timer happened to tick does not change the run.
//!
//! Time passing is not an action: `advance 5s` typed in the console moves along the timeline
//! like the play button does, and replays what was recorded on the way.
//!
//! The simulation records the network's traffic of the last [`TRAFFIC_KEEP_MS`], for the
//! drawing of messages in flight and the sequence diagram. The record is part of the
//! simulation, so checkpoints carry it and a seek shows the traffic as it was.

use std::collections::BTreeMap;

use kafkalab_core::config::ConfigError;
use kafkalab_core::{ClusterConfig, Command, Simulation};

/// Simulated time between two checkpoints, until the run is long enough to need thinning.
pub const CHECKPOINT_INTERVAL_MS: u64 = 10_000;

/// The most checkpoints a recording keeps (each is a whole copy of the simulation).
pub const MAX_CHECKPOINTS: usize = 20;

/// How much simulated time of network traffic the page's simulations keep.
pub const TRAFFIC_KEEP_MS: u64 = 5_000;

/// One thing the learner did: a command line of the core's language, at a simulated time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Action {
    pub at_ms: u64,
    /// The command as the core prints it, which parses back to the same command.
    pub line: String,
}

/// The simulation at a checkpoint, and how many of the actions it has applied.
#[derive(Clone)]
struct Checkpoint {
    simulation: Simulation,
    applied: usize,
}

/// A run that can be replayed, rewound to any moment up to the furthest reached, and forked.
///
/// Invariants: `current` has applied exactly `actions[..applied]`, which are every action at or
/// before its clock; `actions` is ordered by time; every checkpoint lies at or before
/// `horizon_ms` and has applied a prefix of `actions`.
#[derive(Clone)]
pub struct Recording {
    config: ClusterConfig,
    actions: Vec<Action>,
    current: Simulation,
    applied: usize,
    /// The furthest time this run (its present future) has been played to.
    horizon_ms: u64,
    checkpoints: BTreeMap<u64, Checkpoint>,
    interval_ms: u64,
    max_checkpoints: usize,
}

impl Recording {
    /// A new run at time 0, with the default checkpoint spacing.
    pub fn new(config: ClusterConfig) -> Result<Self, ConfigError> {
        Self::with_checkpoints(config, CHECKPOINT_INTERVAL_MS, MAX_CHECKPOINTS)
    }

    /// A new run at time 0 that checkpoints every `interval_ms` and keeps at most
    /// `max_checkpoints` (at least 2: the start and one more).
    pub fn with_checkpoints(
        config: ClusterConfig,
        interval_ms: u64,
        max_checkpoints: usize,
    ) -> Result<Self, ConfigError> {
        assert!(interval_ms > 0 && max_checkpoints >= 2, "checkpoints need a spacing and room for two");
        let mut current = Simulation::new(config.clone())?;
        current.record_traffic(TRAFFIC_KEEP_MS);
        let start = Checkpoint { simulation: current.clone(), applied: 0 };
        Ok(Recording {
            config,
            actions: Vec::new(),
            current,
            applied: 0,
            horizon_ms: 0,
            checkpoints: BTreeMap::from([(0, start)]),
            interval_ms,
            max_checkpoints,
        })
    }

    /// Rebuilds a recorded run: replays `actions` from the start, refusing the first one that
    /// is out of time order or that the simulation refuses, plays on to `end_ms` (or the last
    /// action, when later), then shows `at_ms` (the whole run stays recorded, so the learner
    /// can move on to what came after).
    pub fn replay(config: ClusterConfig, actions: &[Action], at_ms: u64, end_ms: u64) -> Result<Self, String> {
        let mut recording = Self::new(config).map_err(|e| format!("the settings describe no cluster: {e}"))?;
        for (index, action) in actions.iter().enumerate() {
            let refuse = |why: String| format!("action {} ({} ms: {}): {why}", index + 1, action.at_ms, action.line);
            if action.at_ms < recording.now_ms() {
                return Err(refuse(String::from("it comes before the action above it")));
            }
            recording.run_to(action.at_ms);
            recording.act(&action.line).map_err(refuse)?;
        }
        let end = recording.now_ms().max(at_ms).max(end_ms);
        recording.run_to(end);
        recording.seek(at_ms);
        Ok(recording)
    }

    pub fn config(&self) -> &ClusterConfig {
        &self.config
    }

    /// The simulation at the present position.
    pub fn simulation(&self) -> &Simulation {
        &self.current
    }

    /// The present position on the timeline.
    pub fn now_ms(&self) -> u64 {
        self.current.now_ms()
    }

    /// The furthest time reached: the timeline's end.
    pub fn horizon_ms(&self) -> u64 {
        self.horizon_ms
    }

    /// True when the present position is before the furthest reached: acting now forks.
    pub fn is_rewound(&self) -> bool {
        self.now_ms() < self.horizon_ms
    }

    /// Every recorded action, including those after the present position.
    pub fn actions(&self) -> &[Action] {
        &self.actions
    }

    /// The actions taken up to the present position.
    pub fn past_actions(&self) -> &[Action] {
        &self.actions[..self.applied]
    }

    /// Where the checkpoints are, in order.
    pub fn checkpoint_times(&self) -> impl Iterator<Item = u64> + '_ {
        self.checkpoints.keys().copied()
    }

    /// Runs one command line at the present position. `advance` moves along the timeline;
    /// anything else is an action: recorded, and when the position is rewound, it forks the
    /// run: the actions and the time after the present position are dropped. A refused
    /// command changes nothing.
    pub fn act(&mut self, line: &str) -> Result<(), String> {
        let command = Command::parse(line).map_err(|e| format!("{line:?}: {e}"))?;
        if let Command::Advance { ms } = command {
            self.advance(ms);
            return Ok(());
        }
        self.current.apply(&command).map_err(|e| format!("{command}: {e}"))?;
        self.fork();
        self.actions.push(Action { at_ms: self.now_ms(), line: command.to_string() });
        self.applied += 1;
        Ok(())
    }

    /// Lets `ms` of simulated time pass, replaying any actions recorded on the way.
    pub fn advance(&mut self, ms: u64) {
        self.run_to(self.now_ms() + ms);
    }

    /// Runs the next event: moves to the time of the next event (or recorded action), running
    /// every event due in that millisecond, so that the new position is one a seek can return
    /// to. False when nothing is left to happen.
    pub fn step(&mut self) -> bool {
        let next_action = self.actions.get(self.applied).map(|a| a.at_ms);
        let Some(target) = [self.current.next_event_ms(), next_action].into_iter().flatten().min() else {
            return false;
        };
        self.run_to(target.max(self.now_ms()));
        true
    }

    /// The time of the latest traced event before the present position, if any: where
    /// stepping back goes.
    pub fn previous_event_ms(&self) -> Option<u64> {
        let now = self.now_ms();
        self.current.trace().iter().rev().map(|line| line.at_ms).find(|&at_ms| at_ms < now)
    }

    /// Moves to `target_ms` (at most the furthest time reached), replaying from the nearest
    /// checkpoint at or before it, or from the present state when that is nearer.
    pub fn seek(&mut self, target_ms: u64) {
        let target_ms = target_ms.min(self.horizon_ms);
        let now = self.now_ms();
        let checkpoint = self.checkpoints.range(..=target_ms).next_back().map(|(&at, _)| at);
        match checkpoint {
            Some(at) if now > target_ms || at > now => {
                let checkpoint = &self.checkpoints[&at];
                self.current = checkpoint.simulation.clone();
                self.applied = checkpoint.applied;
            }
            Some(_) => {}
            None => unreachable!("the start is always checkpointed"),
        }
        self.run_to(target_ms);
        debug_assert_eq!(self.now_ms(), target_ms);
    }

    /// Drops the future: the actions after the present position, the checkpoints after it and
    /// the time reached beyond it.
    fn fork(&mut self) {
        let now = self.now_ms();
        self.actions.truncate(self.applied);
        self.checkpoints.retain(|&at, _| at <= now);
        self.horizon_ms = now;
    }

    /// Runs the present simulation forward to `target_ms`, applying the recorded actions due on
    /// the way and taking the checkpoints that are missing.
    fn run_to(&mut self, target_ms: u64) {
        assert!(target_ms >= self.now_ms(), "the simulation only runs forward; seek rewinds");
        loop {
            let now = self.now_ms();
            let action_at = self.actions.get(self.applied).map(|a| a.at_ms).filter(|&at| at <= target_ms);
            // The next checkpoint due: this very moment when it has none yet (an action taken
            // at a checkpoint's time, replayed, comes before the checkpoint).
            let mut boundary = now.div_ceil(self.interval_ms) * self.interval_ms;
            if boundary == now && self.checkpoints.contains_key(&now) {
                boundary += self.interval_ms;
            }
            let stop = action_at.unwrap_or(u64::MAX).min(boundary).min(target_ms);
            debug_assert!(stop >= now, "every recorded action at or before the present is applied");
            self.current.advance(stop - now);
            if action_at == Some(stop) {
                self.apply_recorded();
                continue;
            }
            if stop.is_multiple_of(self.interval_ms) && !self.checkpoints.contains_key(&stop) {
                self.take_checkpoint();
            }
            if stop == target_ms {
                break;
            }
        }
        self.horizon_ms = self.horizon_ms.max(target_ms);
    }

    /// Applies the next recorded action: it was applied at this moment before, from the same
    /// state, so it must succeed again.
    fn apply_recorded(&mut self) {
        let action = &self.actions[self.applied];
        let command = Command::parse(&action.line).expect("recorded actions are printed commands");
        if let Err(error) = self.current.apply(&command) {
            panic!("replay diverged: {} at {} ms applied before and now fails: {error}", action.line, action.at_ms);
        }
        self.applied += 1;
    }

    fn take_checkpoint(&mut self) {
        let checkpoint = Checkpoint { simulation: self.current.clone(), applied: self.applied };
        self.checkpoints.insert(self.now_ms(), checkpoint);
        while self.checkpoints.len() > self.max_checkpoints {
            self.interval_ms *= 2;
            let interval = self.interval_ms;
            self.checkpoints.retain(|&at, _| at % interval == 0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafkalab_core::ids::BrokerId;
    use kafkalab_core::view::BrokerStatus;

    fn recording() -> Recording {
        Recording::new(ClusterConfig::default()).unwrap()
    }

    /// A run with a kill, a produce and a restart, 40 s long.
    fn eventful_run() -> Recording {
        let mut run = recording();
        run.advance(1_000);
        run.act("produce orders value=a acks=all").unwrap();
        run.advance(11_500);
        run.act("kill 1").unwrap();
        run.advance(12_300);
        run.act("produce orders key=k value=b acks=all").unwrap();
        run.advance(3_000);
        run.act("restart 1").unwrap();
        run.advance(2_200);
        run.act("produce orders key=k value=c acks=all").unwrap();
        run.advance(10_000);
        run
    }

    #[test]
    fn seeking_back_then_forward_reproduces_the_straight_run() {
        let straight = eventful_run();
        let mut rewound = eventful_run();
        rewound.seek(5_000);
        rewound.seek(30_000);
        rewound.seek(14_000);
        rewound.advance(straight.now_ms() - 14_000);
        assert_eq!(rewound.now_ms(), 40_000);
        assert_eq!(rewound.simulation().view(), straight.simulation().view());
        assert_eq!(rewound.simulation().trace(), straight.simulation().trace());
    }

    #[test]
    fn the_run_records_its_traffic_and_a_seek_shows_it_as_it_was() {
        let mut run = eventful_run();
        let now = run.now_ms();
        let traffic = run.simulation().traffic();
        assert!(traffic.first().is_some_and(|t| t.sent_ms + TRAFFIC_KEEP_MS >= now && t.sent_ms >= now - 5_100));
        let mut straight = recording();
        straight.advance(1_000);
        straight.act("produce orders value=a acks=all").unwrap();
        straight.advance(11_500);
        straight.act("kill 1").unwrap();
        straight.advance(1_500);
        run.seek(14_000);
        assert!(!run.simulation().traffic().is_empty());
        assert_eq!(run.simulation().traffic(), straight.simulation().traffic());
    }

    #[test]
    fn a_seek_shows_the_run_as_it_was_at_that_time() {
        let mut run = eventful_run();
        let mut straight = recording();
        straight.advance(1_000);
        straight.act("produce orders value=a acks=all").unwrap();
        straight.advance(11_500);
        straight.act("kill 1").unwrap();
        straight.advance(4_000);
        run.seek(16_500);
        assert_eq!(run.simulation().view(), straight.simulation().view());
        assert_eq!(run.past_actions().len(), 2);
        assert_eq!(run.actions().len(), 5, "the future stays recorded until the learner acts");
        assert!(run.is_rewound());
    }

    #[test]
    fn the_state_at_an_actions_time_includes_the_action() {
        let mut run = eventful_run();
        run.seek(12_500);
        assert_eq!(run.simulation().view().broker(BrokerId(1)).unwrap().status, BrokerStatus::Dead);
        run.seek(12_499);
        assert_ne!(run.simulation().view().broker(BrokerId(1)).unwrap().status, BrokerStatus::Dead);
    }

    #[test]
    fn acting_at_an_earlier_time_replaces_the_future() {
        let mut run = eventful_run();
        run.seek(5_000);
        run.act("kill 3").unwrap();
        assert_eq!(run.horizon_ms(), 5_000, "the time reached after the fork is gone");
        assert_eq!(
            run.actions().iter().map(|a| a.line.as_str()).collect::<Vec<_>>(),
            ["produce orders value=a acks=all", "kill 3"]
        );
        assert!(run.checkpoint_times().all(|at| at <= 5_000));
        run.advance(20_000);
        let view = run.simulation().view();
        assert_eq!(view.broker(BrokerId(3)).unwrap().status, BrokerStatus::Dead);
        assert_ne!(view.broker(BrokerId(1)).unwrap().status, BrokerStatus::Dead, "the old future's kill 1 is gone");

        let mut straight = recording();
        straight.advance(1_000);
        straight.act("produce orders value=a acks=all").unwrap();
        straight.advance(4_000);
        straight.act("kill 3").unwrap();
        straight.advance(20_000);
        assert_eq!(run.simulation().trace(), straight.simulation().trace());
    }

    #[test]
    fn a_refused_command_neither_records_nor_forks() {
        let mut run = eventful_run();
        run.seek(5_000);
        assert!(run.act("restart 2").unwrap_err().contains("already running"));
        assert!(run.act("kill 2x").unwrap_err().contains("column 6"));
        assert_eq!((run.actions().len(), run.horizon_ms()), (5, 40_000));
    }

    #[test]
    fn advancing_from_a_rewound_position_replays_the_recorded_actions() {
        let mut run = eventful_run();
        run.seek(10_000);
        run.act("advance 3s").unwrap();
        assert_eq!(run.past_actions().len(), 2, "kill 1 at 12.5 s was replayed");
        assert_eq!(run.actions().len(), 5, "moving in time is not acting: nothing forked");
        assert_eq!(run.simulation().view().broker(BrokerId(1)).unwrap().status, BrokerStatus::Dead);
    }

    #[test]
    fn stepping_runs_exactly_the_events_of_the_next_millisecond() {
        let mut run = recording();
        run.advance(500);
        let next = run.simulation().next_event_ms().unwrap();
        let events = run.simulation().events_processed();
        assert!(run.step());
        assert_eq!(run.now_ms(), next);
        assert!(run.simulation().events_processed() > events);
        assert!(run.simulation().next_event_ms().unwrap() > next, "nothing due in that millisecond is left");
        let mut seeked = recording();
        seeked.advance(next);
        assert_eq!(seeked.simulation().view(), run.simulation().view());
    }

    #[test]
    fn stepping_back_goes_to_the_previous_traced_event() {
        let mut run = eventful_run();
        run.seek(12_501);
        assert_eq!(run.previous_event_ms(), Some(12_500), "the kill is the latest event before");
        run.seek(12_500);
        assert!(run.previous_event_ms().unwrap() < 12_500);
    }

    #[test]
    fn checkpoints_stay_few_and_evenly_spread_as_the_run_grows() {
        let mut run = recording();
        run.advance(CHECKPOINT_INTERVAL_MS * 3);
        assert_eq!(run.checkpoint_times().collect::<Vec<_>>(), [0, 10_000, 20_000, 30_000]);
        run.advance(600_000);
        let times: Vec<u64> = run.checkpoint_times().collect();
        assert!(times.len() <= MAX_CHECKPOINTS, "{times:?}");
        assert!(times.len() > MAX_CHECKPOINTS / 2, "{times:?}");
        let gap = times[1] - times[0];
        assert!(times.windows(2).all(|w| w[1] - w[0] == gap), "evenly spread: {times:?}");
        assert!(run.horizon_ms() - times.last().unwrap() < gap);
    }

    #[test]
    fn a_replayed_recording_matches_the_live_one_and_refuses_a_bad_action() {
        let live = eventful_run();
        let replayed = Recording::replay(ClusterConfig::default(), live.actions(), live.now_ms(), 0).unwrap();
        assert_eq!(replayed.simulation().trace(), live.simulation().trace());

        assert_eq!(replayed.checkpoint_times().collect::<Vec<_>>(), live.checkpoint_times().collect::<Vec<_>>());

        let halfway = Recording::replay(ClusterConfig::default(), live.actions(), 20_000, 40_000).unwrap();
        assert_eq!((halfway.now_ms(), halfway.horizon_ms(), halfway.actions().len()), (20_000, 40_000, 5));
        let mut rewound = live.clone();
        rewound.seek(20_000);
        assert_eq!(halfway.simulation().trace(), rewound.simulation().trace());

        let mut actions = live.actions().to_vec();
        actions[3].line = String::from("restart 2");
        let error = Recording::replay(ClusterConfig::default(), &actions, 0, 0).err().unwrap();
        assert!(error.starts_with("action 4 (27800 ms: restart 2)") && error.contains("already running"), "{error}");
        actions.swap(0, 1);
        let error = Recording::replay(ClusterConfig::default(), &actions, 0, 0).err().unwrap();
        assert!(error.contains("before the action above it"), "{error}");
    }
}
