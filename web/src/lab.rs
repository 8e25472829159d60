//! The page's session with the simulator: a [`Recording`] of the run that the page plays,
//! rewinds and forks, and the page's own actions (a click on a broker becomes `kill N` or
//! `restart N`).
//!
//! The run is either free play (the recording, with its timeline and share links) or a
//! lesson's: in a lesson, the lab drives the lesson's own simulation through its
//! [`LessonRun`], so what the learner does in the lab is what the lesson's tasks check; the
//! lesson's clock rule applies and there is no timeline to move along.
//!
//! Nothing here decides how the cluster behaves; that is `kafkalab-core`'s job.

use kafkalab_core::ids::BrokerId;
use kafkalab_core::trace::TraceLine;
use kafkalab_core::view::ClusterView;
use kafkalab_core::{Command, Simulation};

use crate::lessons::LessonRun;
use crate::share::{Settings, Share};
use crate::timeline::Recording;

/// A tenth of a simulated second: how far a step back goes when nothing was traced before the
/// present, and the stride of the page's own waits (a lesson's clock, a comparison's setup).
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
    /// 10×: the fastest speed at which single messages are drawn. Faster, a message's flight
    /// lasts a frame or two, so the drawing would only flicker (and pay for it).
    pub const FOLLOWABLE: Speed = Speed(4);

    /// The multiple of real time.
    pub fn factor(self) -> f64 {
        10f64.powf(f64::from(self.0) / 4.0)
    }

    /// Whether single messages are drawn at this speed (see [`Speed::FOLLOWABLE`]).
    pub fn follows_messages(self) -> bool {
        self <= Self::FOLLOWABLE
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

/// One run of the simulator in the page: free play, recorded so it can be rewound and shared,
/// or a lesson's.
pub struct Lab {
    run: Run,
    records_produced: u64,
}

/// Whose simulation the lab drives (boxed: the lab moves between signals whole).
enum Run {
    /// Free play: the run as a recording, and the settings a link to it carries.
    Free { settings: Settings, recording: Box<Recording> },
    /// A lesson, with the commands run in the lab, as the core prints them.
    Lesson { lesson: Box<LessonRun>, history: Vec<String> },
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
        Ok(Lab { run: Run::Free { settings, recording: Box::new(recording) }, records_produced: 0 })
    }

    /// The lab of a lesson: its cluster, as the lesson has shaped it so far.
    pub fn in_lesson(mut lesson: LessonRun) -> Self {
        lesson.session_mut().record_traffic(crate::timeline::TRAFFIC_KEEP_MS);
        Lab { run: Run::Lesson { lesson: Box::new(lesson), history: Vec::new() }, records_produced: 0 }
    }

    /// The run a link describes, replayed and shown at the link's moment.
    pub fn from_share(share: &Share) -> Result<Self, String> {
        let recording = Recording::replay(share.settings.config(), &share.actions, share.at_ms, share.end_ms)?;
        let records_produced = share.actions.len() as u64;
        Ok(Lab { run: Run::Free { settings: share.settings, recording: Box::new(recording) }, records_produced })
    }

    /// What a link to this run, at the present moment, holds; none in a lesson (a lesson is
    /// reopened from the progress the browser keeps, not from a link).
    pub fn share(&self) -> Option<Share> {
        let Run::Free { settings, recording } = &self.run else { return None };
        Some(Share {
            settings: *settings,
            actions: recording.actions().to_vec(),
            at_ms: recording.now_ms(),
            end_ms: recording.horizon_ms(),
            compare: None,
        })
    }

    /// The recording of a free run, which the timeline moves along; none in a lesson.
    pub fn recording(&self) -> Option<&Recording> {
        match &self.run {
            Run::Free { recording, .. } => Some(recording),
            Run::Lesson { .. } => None,
        }
    }

    fn recording_mut(&mut self) -> Option<&mut Recording> {
        match &mut self.run {
            Run::Free { recording, .. } => Some(recording),
            Run::Lesson { .. } => None,
        }
    }

    /// The lesson being played, if any.
    pub fn lesson(&self) -> Option<&LessonRun> {
        match &self.run {
            Run::Lesson { lesson, .. } => Some(lesson),
            Run::Free { .. } => None,
        }
    }

    pub fn lesson_mut(&mut self) -> Option<&mut LessonRun> {
        match &mut self.run {
            Run::Lesson { lesson, .. } => Some(lesson),
            Run::Free { .. } => None,
        }
    }

    /// The simulation the lab drives: the recording's at the moment shown, or the lesson's.
    pub fn simulation(&self) -> &Simulation {
        match &self.run {
            Run::Free { recording, .. } => recording.simulation(),
            Run::Lesson { lesson, .. } => lesson.session().simulation(),
        }
    }

    pub fn view(&self) -> ClusterView {
        self.simulation().view()
    }

    /// The furthest moment reached: the timeline's end (in a lesson, the present moment).
    pub fn horizon_ms(&self) -> u64 {
        self.recording().map_or_else(|| self.simulation().now_ms(), Recording::horizon_ms)
    }

    /// The commands run up to the present moment, in order, as the core prints them.
    pub fn history(&self) -> Vec<String> {
        match &self.run {
            Run::Free { recording, .. } => recording.past_actions().iter().map(|a| a.line.clone()).collect(),
            Run::Lesson { history, .. } => history.clone(),
        }
    }

    /// The last `count` trace lines, oldest first.
    pub fn recent_trace(&self, count: usize) -> &[TraceLine] {
        let trace = self.simulation().trace();
        &trace[trace.len().saturating_sub(count)..]
    }

    /// Parses and runs one command line; the error says what is wrong and where. When the
    /// run is rewound, an action forks it (see [`Recording::act`]); in a lesson, the lesson
    /// then notices what it did.
    pub fn run_line(&mut self, line: &str) -> Result<(), String> {
        let (lesson, history) = match &mut self.run {
            Run::Free { recording, .. } => return recording.act(line),
            Run::Lesson { lesson, history } => (lesson, history),
        };
        let command = Command::parse(line).map_err(|e| format!("{line:?}: {e}"))?;
        lesson.session_mut().apply(&command).map_err(|e| format!("{command}: {e}"))?;
        history.push(command.to_string());
        Ok(())
    }

    /// Lets `ms` of simulated time pass along the timeline; in a lesson, only while the
    /// lesson awaits time (see [`Lab::clock_held`]).
    pub fn advance(&mut self, ms: u64) {
        match &mut self.run {
            Run::Free { recording, .. } => recording.advance(ms),
            Run::Lesson { lesson, .. } if lesson.session().awaits_time() => lesson.session_mut().advance(ms),
            Run::Lesson { .. } => {}
        }
    }

    /// Whether a lesson holds the clock: as in CI, time runs on its own only during a wait or
    /// once the learner has acted on a task, never between steps or during a prediction.
    pub fn clock_held(&self) -> bool {
        self.lesson().is_some_and(|lesson| !lesson.session().awaits_time())
    }

    /// Runs the next event (every event due in its millisecond); nothing in a lesson.
    pub fn step(&mut self) {
        if let Some(recording) = self.recording_mut() {
            recording.step();
        }
    }

    /// Back to the previous event of the trace, or 100 ms back when there is none; nothing
    /// in a lesson.
    pub fn step_back(&mut self) {
        if let Some(recording) = self.recording() {
            let now = recording.now_ms();
            self.seek(recording.previous_event_ms().unwrap_or(now.saturating_sub(TICK_MS)));
        }
    }

    /// Shows the run at `at_ms`, up to the furthest time reached; nothing in a lesson.
    pub fn seek(&mut self, at_ms: u64) {
        if let Some(recording) = self.recording_mut() {
            recording.seek(at_ms);
        }
    }

    /// A click on a broker: kill it when it runs, restart it when it is down.
    pub fn toggle_broker(&mut self, broker: BrokerId) -> Result<(), String> {
        let alive = self.simulation().is_alive(broker);
        let line = if alive { format!("kill {broker}") } else { format!("restart {broker}") };
        self.run_line(&line)
    }

    /// The Produce button: one record, without a key (spread round robin), `acks=all`, to
    /// `orders` (in a lesson without it, to the lesson's first topic).
    pub fn produce_one(&mut self) -> Result<(), String> {
        let topics = &self.simulation().config().topics;
        let topic = match topics.iter().find(|t| t.name == "orders").or(topics.first()) {
            Some(topic) => topic.name.clone(),
            None => return Err(String::from("there is no topic to produce to; create one with create-topic")),
        };
        self.records_produced += 1;
        let line = format!("produce {topic} value=record-{} acks=all", self.records_produced);
        self.run_line(&line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafkalab_core::ids::TopicPartition;
    use kafkalab_core::view::BrokerStatus;

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
            lab.advance(TICK_MS);
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
        assert_eq!(Speed::SLOWEST.factor(), 0.1);
        assert_eq!(Speed(0).factor(), 1.0);
        assert_eq!(Speed(4).factor(), 10.0, "four positions make ten times faster");
        assert_eq!(Speed::FASTEST.factor(), 100.0);
        assert_eq!(Speed::FASTEST.faster(), Speed::FASTEST);
        assert_eq!(Speed::SLOWEST.slower(), Speed::SLOWEST);
        let labels: Vec<String> = [-4, -2, 0, 2, 5, 8].into_iter().map(|p| Speed(p).label()).collect();
        assert_eq!(labels, ["0.10×", "0.32×", "1.0×", "3.2×", "18×", "100×"]);
    }

    #[test]
    fn single_messages_are_followed_up_to_ten_times_real_time() {
        assert_eq!(Speed::FOLLOWABLE.label(), "10×");
        assert!(Speed::DEFAULT.follows_messages() && Speed::FOLLOWABLE.follows_messages());
        assert!(!Speed::FOLLOWABLE.faster().follows_messages() && !Speed::FASTEST.follows_messages());
    }

    #[test]
    fn in_a_lesson_the_clock_stands_still_once_the_step_is_done_and_runs_in_the_free_lab() {
        use crate::lessons::{PartView, Saved};
        use kafkalab_core::lesson::Part;
        let mut lab = Lab::in_lesson(LessonRun::open(0, Saved::default()).unwrap());
        let step = lab.lesson().unwrap().session().lesson().steps[0].clone();
        // Play the first step as a learner: the task's solution typed once, every answer right.
        let mut acted = false;
        while !lab.lesson().unwrap().view().complete {
            let (part, shown) = lab.lesson().unwrap().view().parts.last().cloned().unwrap();
            match (&step.parts[part], shown) {
                (Part::Task(task), PartView::Task { .. }) if !acted => {
                    acted = true;
                    for command in &task.solution {
                        lab.run_line(&command.value.to_string()).unwrap();
                    }
                }
                (Part::Prediction(p), PartView::Prediction(_)) => {
                    lab.lesson_mut().unwrap().answer(part, p.answer).unwrap()
                }
                _ => lab.lesson_mut().unwrap().session_mut().advance(TICK_MS),
            }
        }
        assert!(lab.clock_held(), "nothing runs between steps");
        let before = lab.view().now_ms;
        lab.advance(1_000);
        assert_eq!(lab.view().now_ms, before);
        let mut free = Lab::new(1);
        assert!(!free.clock_held());
        free.advance(1_000);
        assert_eq!(free.view().now_ms, 1_000);
    }

    #[test]
    fn a_lesson_has_no_timeline_to_move_along_and_no_link() {
        let mut lab = Lab::in_lesson(LessonRun::open(0, crate::lessons::Saved::default()).unwrap());
        lab.lesson_mut().unwrap().session_mut().advance(2_000);
        let now = lab.view().now_ms;
        assert!(now > 0, "the lesson's own clock ran");
        lab.seek(0);
        lab.step_back();
        lab.step();
        assert_eq!(lab.view().now_ms, now, "seek and step leave a lesson's clock alone");
        assert_eq!(lab.horizon_ms(), now);
        assert!(lab.recording().is_none());
        assert!(lab.share().is_none(), "a lesson is not shared as a link");
        let broker = lab.view().brokers[0].id;
        lab.toggle_broker(broker).unwrap();
        assert_eq!(lab.history(), [format!("kill {broker}")], "a lesson keeps the commands run in its lab");
    }

    #[test]
    fn a_shared_link_reopens_the_run_at_the_same_moment() {
        let mut lab = Lab::new(7);
        lab.advance(1_000);
        lab.produce_one().unwrap();
        lab.toggle_broker(BrokerId(1)).unwrap();
        lab.advance(12_000);
        lab.seek(6_000);
        let share = crate::share::decode(&crate::share::encode(&lab.share().unwrap())).unwrap();
        let reopened = Lab::from_share(&share).unwrap();
        assert_eq!(reopened.view(), lab.view());
        assert_eq!(reopened.history(), ["produce orders value=record-1 acks=all", "kill 1"]);
        assert_eq!(reopened.horizon_ms(), 13_000, "the rest of the run came along");
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
        assert_eq!(lab.view().now_ms, 2_000);
        assert_eq!(lab.view().broker(BrokerId(2)).unwrap().status, BrokerStatus::Dead, "the kill is that event");
    }
}
