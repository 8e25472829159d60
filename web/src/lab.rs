//! The page's session with the simulator: it runs command lines, keeps them (so a run can be
//! replayed), and turns a click on a broker into `kill N` or `restart N`.
//!
//! The run is either the free lab or a lesson's: in a lesson, the lab drives the lesson's own
//! simulation through its [`LessonRun`], so what the learner does in the lab is what the
//! lesson's tasks check.
//!
//! Nothing here decides how the cluster behaves; that is `kafkalab-core`'s job.

use kafkalab_core::ids::BrokerId;
use kafkalab_core::simulation::CommandError;
use kafkalab_core::trace::TraceLine;
use kafkalab_core::view::{BrokerStatus, ClusterView};
use kafkalab_core::{ClusterConfig, Command, Simulation};

use crate::lessons::LessonRun;

/// How much simulated time one tick of the page's timer covers at 1× speed.
pub const TICK_MS: u64 = 100;

/// The speeds the page offers, as multiples of real time.
pub const SPEEDS: [u64; 4] = [1, 3, 10, 30];

/// One run of the simulator in the page, with the commands that shaped it.
pub struct Lab {
    run: Run,
    history: Vec<String>,
    records_produced: u64,
}

/// Whose simulation the lab drives (both boxed: the lab moves between signals whole).
enum Run {
    Free(Box<Simulation>),
    Lesson(Box<LessonRun>),
}

impl Lab {
    /// The three-broker lab: topic `orders` with 3 partitions replicated 3 ways.
    pub fn new(seed: u64) -> Self {
        let config = ClusterConfig { seed, ..ClusterConfig::default() };
        let simulation = Simulation::new(config).expect("the default cluster config is valid");
        Lab { run: Run::Free(Box::new(simulation)), history: Vec::new(), records_produced: 0 }
    }

    /// The lab of a lesson: its cluster, as the lesson has shaped it so far.
    pub fn in_lesson(lesson: LessonRun) -> Self {
        Lab { run: Run::Lesson(Box::new(lesson)), history: Vec::new(), records_produced: 0 }
    }

    /// The lesson being played, if any.
    pub fn lesson(&self) -> Option<&LessonRun> {
        match &self.run {
            Run::Lesson(lesson) => Some(lesson),
            Run::Free(_) => None,
        }
    }

    pub fn lesson_mut(&mut self) -> Option<&mut LessonRun> {
        match &mut self.run {
            Run::Lesson(lesson) => Some(lesson),
            Run::Free(_) => None,
        }
    }

    fn simulation(&self) -> &Simulation {
        match &self.run {
            Run::Free(simulation) => simulation,
            Run::Lesson(lesson) => lesson.session().simulation(),
        }
    }

    /// Runs a command; in a lesson, the lesson then notices what it did.
    fn apply(&mut self, command: &Command) -> Result<(), CommandError> {
        match &mut self.run {
            Run::Free(simulation) => simulation.apply(command),
            Run::Lesson(lesson) => lesson.session_mut().apply(command),
        }
    }

    pub fn view(&self) -> ClusterView {
        self.simulation().view()
    }

    /// The commands run so far, in order, as typed.
    pub fn history(&self) -> &[String] {
        &self.history
    }

    /// The last `count` trace lines, oldest first.
    pub fn recent_trace(&self, count: usize) -> &[TraceLine] {
        let trace = self.simulation().trace();
        &trace[trace.len().saturating_sub(count)..]
    }

    /// Parses and runs one command line; the error says what is wrong and where.
    pub fn run_line(&mut self, line: &str) -> Result<(), String> {
        let command = Command::parse(line).map_err(|e| format!("{line:?}: {e}"))?;
        self.apply(&command).map_err(|e| format!("{command}: {e}"))?;
        self.history.push(command.to_string());
        Ok(())
    }

    /// Lets simulated time pass for one timer tick at `speed`× (not recorded as a command:
    /// the page records its ticks as `advance` only when a run is shared). In a lesson, only
    /// while the lesson awaits time (see [`Lab::clock_held`]).
    pub fn tick(&mut self, speed: u64) {
        match &mut self.run {
            Run::Free(simulation) => simulation.advance(TICK_MS * speed),
            Run::Lesson(lesson) if lesson.session().awaits_time() => lesson.session_mut().advance(TICK_MS * speed),
            Run::Lesson(_) => {}
        }
    }

    /// Whether a lesson holds the clock: as in CI, time runs on its own only during a wait or
    /// once the learner has acted on a task, never between steps or during a prediction.
    pub fn clock_held(&self) -> bool {
        self.lesson().is_some_and(|lesson| !lesson.session().awaits_time())
    }

    /// A click on a broker: kill it when it runs, restart it when it is down.
    pub fn toggle_broker(&mut self, broker: BrokerId) -> Result<(), String> {
        let line =
            if self.simulation().is_alive(broker) { format!("kill {broker}") } else { format!("restart {broker}") };
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
        lab.tick(10);
        for _ in 0..3 {
            lab.produce_one().unwrap();
        }
        for _ in 0..10 {
            lab.tick(1);
        }
        let view = lab.view();
        let ends: Vec<i64> = (0..3)
            .map(|p| view.partition(&TopicPartition::new("orders", p)).unwrap().replicas[0].log_end_offset.0)
            .collect();
        assert_eq!(ends, [1, 1, 1], "null keys go round robin, one record per partition");
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
        lab.tick(10);
        assert_eq!(lab.view().now_ms, before);
        let mut free = Lab::new(1);
        assert!(!free.clock_held());
        free.tick(10);
        assert_eq!(free.view().now_ms, 10 * TICK_MS);
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
}
