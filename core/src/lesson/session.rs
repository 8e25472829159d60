//! A lesson played interactively: the driver the lesson player in the page uses, and the one
//! the headless [`super::runner`] uses too, so a lesson means the same thing in both.
//!
//! Sans-IO like the rest of the core: the session owns the lesson and its [`Simulation`], and
//! moves only when told to.
//!
//! ```text
//!   Session::new(lesson)       the cluster block's simulation, on the first step
//!   enter_step(i)              Next (from step i-1: the rest of it is played as CI plays it)
//!                              or Back/jump (rebuilt from the seed by playing steps 0..i)
//!   apply(command)             the learner acts in the lab (a console line, a click)
//!   advance(ms)                time passes (the page's timer)
//!   answer(part, choice)       the learner answers a prediction
//!   progress()                 per part: done, waiting, answered, right, proved
//!   awaits_time()              whether the page should let time run on its own now
//! ```
//!
//! After every one of these the session *settles*: from the part the learner is on, actions run
//! as soon as they are reached, a task is done once all its checks hold, a prediction lets the
//! learner past once answered, and a wait ends when its check holds or its bound has passed.
//! When every part is behind the learner, the step's predictions are checked against what the
//! simulation shows. Time moves in slices of at most [`POLL_MS`] and never past the end of a
//! wait's bound, so a wait ends at the same simulated time in the page and in CI.
//!
//! As in CI, the clock only moves when something moves it: the lesson's own `advance`, the
//! learner's commands, and the page's timer while [`Session::awaits_time`] says the learner is
//! waiting on the simulation (a wait, or a task they have acted on), never while they read or
//! think about a prediction.
//!
//! Same seed and same calls give the same run, event for event: Back rebuilds the run from the
//! seed rather than undoing anything.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use core::fmt;

use super::model::{Actions, Lesson, Part};
use super::progress::WaitProgress;
use super::progress::{ActionsProgress, PartProgress, PredictionProgress, Proof, StepProgress, TaskProgress};
use super::report::{FailureKind, RunFailure};
use super::runner;
use crate::command::Command;
use crate::simulation::{CommandError, Simulation};

/// How far time moves between two looks at the checks of the part the learner is on.
pub const POLL_MS: u64 = 100;

/// One learner's run through one lesson.
#[derive(Clone, Debug)]
pub struct Session {
    lesson: Lesson,
    simulation: Simulation,
    progress: StepProgress,
    /// How much of the network's traffic the simulation keeps (see
    /// [`Simulation::record_traffic`]); 0, the default, keeps none.
    traffic_keep_ms: u64,
}

/// Why [`Session::answer`] refused an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnswerError {
    /// The current step has no prediction at that part.
    NotAPrediction,
    /// The prediction has no choice with that index.
    NoSuchChoice,
    /// The prediction was answered already; the first answer counts.
    AlreadyAnswered,
}

impl fmt::Display for AnswerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AnswerError::NotAPrediction => "that part of the step is not a prediction",
            AnswerError::NoSuchChoice => "the prediction has no such choice",
            AnswerError::AlreadyAnswered => "the prediction is answered already",
        })
    }
}

impl Session {
    /// Starts the lesson: its cluster, on its first step (whose leading actions have run).
    /// Fails only if the cluster block describes no cluster the simulator can run.
    pub fn new(lesson: Lesson) -> Result<Session, Box<RunFailure>> {
        assert!(!lesson.steps.is_empty(), "a parsed lesson has at least one step");
        let simulation = starting_simulation(&lesson)?;
        let progress = StepProgress::start(0, &lesson.steps[0], simulation.now_ms());
        let mut session = Session { lesson, simulation, progress, traffic_keep_ms: 0 };
        session.settle();
        Ok(session)
    }

    pub fn lesson(&self) -> &Lesson {
        &self.lesson
    }

    /// The run as it stands: draw this.
    pub fn simulation(&self) -> &Simulation {
        &self.simulation
    }

    /// Keeps the network's last `keep_ms` of traffic for drawing, from now on and in every
    /// step replayed later (it changes nothing the lesson checks).
    pub fn record_traffic(&mut self, keep_ms: u64) {
        self.traffic_keep_ms = keep_ms;
        self.simulation.record_traffic(keep_ms);
    }

    /// The index of the current step, 0-based.
    pub fn step(&self) -> usize {
        self.progress.step
    }

    /// Where the learner stands in the current step.
    pub fn progress(&self) -> &StepProgress {
        &self.progress
    }

    /// Whether the learner is held up by something that takes simulated time: a wait, or a task
    /// they have acted on (its checks may take time to hold). Otherwise the clock should stand
    /// still: nothing runs between steps, or while a prediction is being thought about.
    pub fn awaits_time(&self) -> bool {
        matches!(
            self.progress.parts.get(self.progress.cursor),
            Some(
                PartProgress::Wait(WaitProgress::Waiting { .. })
                    | PartProgress::Task(TaskProgress::Pending { acted: true })
            )
        )
    }

    /// The last step is complete.
    pub fn is_finished(&self) -> bool {
        self.progress.step + 1 == self.lesson.steps.len() && self.progress.is_complete()
    }

    /// Goes to step `index`. The next step continues the learner's run, after playing what is
    /// left of the current step as CI does (solutions for tasks not done, waits run out). Any
    /// other step, or a next step the learner's run cannot reach that way, is rebuilt from the
    /// seed by playing steps `0..index` as CI does. Fails only if the lesson itself does not
    /// replay (CI makes sure every lesson does).
    pub fn enter_step(&mut self, index: usize) -> Result<(), Box<RunFailure>> {
        assert!(index < self.lesson.steps.len(), "step {index} of a lesson of {} steps", self.lesson.steps.len());
        if index == self.progress.step + 1 && runner::play_step(self).is_ok() {
            self.begin(index);
            return Ok(());
        }
        self.simulation = starting_simulation(&self.lesson)?;
        self.simulation.record_traffic(self.traffic_keep_ms);
        self.begin(0);
        for next in 1..=index {
            runner::play_step(self)?;
            self.begin(next);
        }
        Ok(())
    }

    /// The learner acts in the lab: a console line, a click on a broker.
    pub fn apply(&mut self, command: &Command) -> Result<(), CommandError> {
        let result = self.simulation.apply(command);
        self.mark_acted();
        self.settle();
        result
    }

    /// Lets `ms` of simulated time pass, looking at the checks every [`POLL_MS`].
    pub fn advance(&mut self, ms: u64) {
        let mut left_ms = ms;
        while left_ms > 0 {
            let mut slice_ms = left_ms.min(POLL_MS);
            if let Some(remaining_ms) = self.wait_remaining_ms() {
                slice_ms = slice_ms.min(remaining_ms);
            }
            self.simulation.advance(slice_ms);
            left_ms -= slice_ms;
            self.settle();
        }
    }

    /// The learner picks choice `choice` of the prediction at part `part` of the current step;
    /// returns whether it is the right answer. A prediction may be answered before the learner
    /// reaches it (a saved answer restored); it holds them up until it is answered.
    pub fn answer(&mut self, part: usize, choice: usize) -> Result<bool, AnswerError> {
        let step = &self.lesson.steps[self.progress.step];
        let Some(Part::Prediction(prediction)) = step.parts.get(part) else {
            return Err(AnswerError::NotAPrediction);
        };
        if choice >= prediction.choices.len() {
            return Err(AnswerError::NoSuchChoice);
        }
        let right = choice == prediction.answer;
        let PartProgress::Prediction(state) = &mut self.progress.parts[part] else {
            unreachable!("progress parts mirror the step's parts");
        };
        if state.chosen.is_some() {
            return Err(AnswerError::AlreadyAnswered);
        }
        state.chosen = Some(choice);
        self.settle();
        Ok(right)
    }

    /// Runs commands as one move, looking at the checks only after the last: a task's solution,
    /// played in the learner's place. The first refused command stops it.
    pub(super) fn apply_all(&mut self, commands: &[super::Located<Command>]) -> Result<(), (usize, CommandError)> {
        let result = commands
            .iter()
            .try_for_each(|command| self.simulation.apply(&command.value).map_err(|error| (command.line, error)));
        self.mark_acted();
        self.settle();
        result
    }

    /// The learner did something while on a task.
    fn mark_acted(&mut self) {
        if let Some(PartProgress::Task(TaskProgress::Pending { acted })) =
            self.progress.parts.get_mut(self.progress.cursor)
        {
            *acted = true;
        }
    }

    /// Enters step `index` with the run as it stands.
    fn begin(&mut self, index: usize) {
        self.progress = StepProgress::start(index, &self.lesson.steps[index], self.simulation.now_ms());
        self.settle();
    }

    /// How long the wait the learner is on may still run, if they are on one.
    fn wait_remaining_ms(&self) -> Option<u64> {
        let index = self.progress.cursor;
        let Some(Part::Wait(wait)) = self.lesson.steps[self.progress.step].parts.get(index) else {
            return None;
        };
        let PartProgress::Wait(WaitProgress::Waiting { since_ms }) = self.progress.parts[index] else {
            return None;
        };
        Some(wait.within_ms.saturating_sub(self.simulation.now_ms() - since_ms))
    }

    /// Moves the learner past every part that no longer holds them up; at the end of the step,
    /// checks the predictions.
    fn settle(&mut self) {
        let Session { lesson, simulation, progress, .. } = self;
        let parts = &lesson.steps[progress.step].parts;
        while progress.cursor < parts.len() {
            let index = progress.cursor;
            if !settle_part(simulation, &parts[index], &mut progress.parts[index]) {
                return;
            }
            progress.cursor += 1;
        }
        for (part, state) in parts.iter().zip(&mut progress.parts) {
            if let (Part::Prediction(prediction), PartProgress::Prediction(state)) = (part, state) {
                if state.proof == Proof::Pending {
                    state.proof = prediction
                        .proofs
                        .iter()
                        .find_map(|proof| {
                            proof
                                .value
                                .check(simulation)
                                .err()
                                .map(|mismatch| Proof::Fails { line: proof.line, mismatch })
                        })
                        .unwrap_or(Proof::Holds);
                }
            }
        }
    }
}

/// Brings one part up to date; returns whether the learner is past it.
fn settle_part(simulation: &mut Simulation, part: &Part, state: &mut PartProgress) -> bool {
    let now_ms = simulation.now_ms();
    match (part, state) {
        (Part::Narration(_), _) => true,
        (Part::Actions(actions), PartProgress::Actions(state)) => {
            if *state == ActionsProgress::NotRun {
                *state = run_actions(simulation, actions);
            }
            true
        }
        (Part::Task(task), PartProgress::Task(state)) => {
            if matches!(state, TaskProgress::Done { .. }) {
                return true;
            }
            let on_arrival = *state == TaskProgress::NotReached;
            if task.checks.iter().all(|check| check.value.check(simulation).is_ok()) {
                *state = TaskProgress::Done { at_ms: now_ms, on_arrival };
                true
            } else {
                *state = TaskProgress::Pending { acted: matches!(state, TaskProgress::Pending { acted: true }) };
                false
            }
        }
        (Part::Prediction(_), PartProgress::Prediction(PredictionProgress { chosen, .. })) => chosen.is_some(),
        (Part::Wait(wait), PartProgress::Wait(state)) => {
            let since_ms = match state {
                WaitProgress::Satisfied { .. } | WaitProgress::TimedOut { .. } => return true,
                WaitProgress::NotStarted => now_ms,
                WaitProgress::Waiting { since_ms } => *since_ms,
            };
            let waited_ms = now_ms - since_ms;
            match wait.until.check(simulation) {
                Ok(()) => *state = WaitProgress::Satisfied { after_ms: waited_ms },
                Err(mismatch) if waited_ms >= wait.within_ms => *state = WaitProgress::TimedOut { mismatch },
                Err(_) => {
                    *state = WaitProgress::Waiting { since_ms };
                    return false;
                }
            }
            true
        }
        (part, state) => unreachable!("progress {state:?} does not match part {part:?}"),
    }
}

fn run_actions(simulation: &mut Simulation, actions: &Actions) -> ActionsProgress {
    for command in &actions.commands {
        if let Err(error) = simulation.apply(&command.value) {
            return ActionsProgress::Refused { line: command.line, command: command.value.to_string(), error };
        }
    }
    ActionsProgress::Ran { at_ms: simulation.now_ms() }
}

fn starting_simulation(lesson: &Lesson) -> Result<Simulation, Box<RunFailure>> {
    Simulation::new(lesson.cluster.clone()).map_err(|e| {
        Box::new(RunFailure {
            file: lesson.file.clone(),
            line: lesson.cluster_line,
            step: 0,
            step_title: String::new(),
            kind: FailureKind::InvalidCluster(e),
        })
    })
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;
    use alloc::vec::Vec;

    use super::*;
    use crate::lesson::parse;

    /// Step 1: part 0 narration, 1 task, 2 prediction, 3 narration, 4 wait. Step 2: part 0
    /// actions, 1 task.
    const LESSON: &str = "\
# A test lesson

Intro.

```cluster
brokers 3
topic orders partitions=3 replication-factor=3
```

## Step: Start

```kafkalab
advance 1s
```

## Step: Kill the leader

Read this first.

```task
goal: Kill broker 1.
check: broker 1 == dead
hint: kill 1
solution: kill 1
```

```predict
question: Who leads orders/0 once the controller notices?
choice: broker 1
answer: broker 2
proof: leader orders/0 == 2
```

The controller notices after the session timeout.

```wait
until leader orders/0 != 1 within 15s
```

## Step: Bring it back

```kafkalab
restart 1
```

```task
goal: Wait for broker 1 to rejoin the ISR.
check: isr orders/0 == [1 2 3]
within: 10s
hint: it catches up by itself
solution: advance 100ms
```
";

    fn session() -> Session {
        Session::new(parse("lessons/test.md", LESSON).unwrap()).unwrap()
    }

    fn kill(broker: &str) -> Command {
        Command::parse(&alloc::format!("kill {broker}")).unwrap()
    }

    fn trace(session: &Session) -> Vec<String> {
        session.simulation().trace().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_new_session_is_on_the_first_step_with_its_actions_run() {
        let session = session();
        assert_eq!(session.step(), 0);
        assert_eq!(session.simulation().now_ms(), 1_000);
        assert!(matches!(session.progress().parts[0], PartProgress::Actions(ActionsProgress::Ran { at_ms: 1_000 })));
        assert!(session.progress().is_complete());
        assert!(!session.is_finished());
    }

    #[test]
    fn a_task_holds_the_learner_up_until_their_own_command_does_it() {
        let mut session = session();
        session.enter_step(1).unwrap();
        assert_eq!(session.progress().cursor, 1, "the narration is read, the task holds them up");
        assert_eq!(session.progress().parts[1], PartProgress::Task(TaskProgress::Pending { acted: false }));
        assert!(!session.progress().is_reached(2), "the prediction is not shown yet");
        assert!(!session.awaits_time(), "the clock waits for the learner to act");
        session.advance(5_000);
        assert_eq!(session.progress().cursor, 1, "time alone does not do a task");
        session.apply(&Command::parse("produce orders value=a").unwrap()).unwrap();
        assert_eq!(session.progress().parts[1], PartProgress::Task(TaskProgress::Pending { acted: true }));
        assert!(session.awaits_time(), "once they have acted, the task's checks may need time");
        session.apply(&kill("1")).unwrap();
        assert_eq!(
            session.progress().parts[1],
            PartProgress::Task(TaskProgress::Done { at_ms: 6_000, on_arrival: false })
        );
        assert_eq!(session.progress().cursor, 2, "now the prediction holds them up");
        assert!(!session.awaits_time(), "the clock stands still while they think");
    }

    #[test]
    fn a_prediction_holds_the_learner_up_until_answered_and_is_proved_at_the_end_of_the_step() {
        let mut session = session();
        session.enter_step(1).unwrap();
        session.apply(&kill("1")).unwrap();
        session.advance(20_000);
        assert_eq!(session.progress().cursor, 2, "no time passing reveals the answer before it is given");
        let wait = &session.progress().parts[4];
        assert_eq!(wait, &PartProgress::Wait(WaitProgress::NotStarted), "the wait has not begun");

        assert_eq!(session.answer(2, 0), Ok(false), "broker 1 is the wrong choice");
        assert_eq!(session.answer(2, 1), Err(AnswerError::AlreadyAnswered), "the first answer counts");
        let PartProgress::Prediction(prediction) = &session.progress().parts[2] else { panic!() };
        assert_eq!(prediction.chosen, Some(0));
        // The leader moved during the 20 s, so the wait is over as soon as it is reached.
        assert!(matches!(session.progress().parts[4], PartProgress::Wait(WaitProgress::Satisfied { after_ms: 0 })));
        assert!(session.progress().is_complete());
        let PartProgress::Prediction(prediction) = &session.progress().parts[2] else { panic!() };
        assert_eq!(prediction.proof, Proof::Holds, "the lab shows the answer, broker 2");
    }

    #[test]
    fn answers_to_parts_that_are_not_predictions_or_to_choices_that_do_not_exist_are_refused() {
        let mut session = session();
        session.enter_step(1).unwrap();
        assert_eq!(session.answer(1, 0), Err(AnswerError::NotAPrediction));
        assert_eq!(session.answer(9, 0), Err(AnswerError::NotAPrediction));
        assert_eq!(session.answer(2, 2), Err(AnswerError::NoSuchChoice));
        assert_eq!(session.answer(2, 1), Ok(true), "answered before it is reached: it holds nobody up later");
        session.apply(&kill("1")).unwrap();
        assert_eq!(session.progress().cursor, 4, "past the task and the answered prediction, on the wait");
    }

    #[test]
    fn a_wait_ends_in_polls_when_its_check_holds_as_time_passes() {
        let mut session = session();
        session.enter_step(1).unwrap();
        session.apply(&kill("1")).unwrap();
        session.answer(2, 1).unwrap();
        let since_ms = session.simulation().now_ms();
        assert_eq!(session.progress().parts[4], PartProgress::Wait(WaitProgress::Waiting { since_ms }));
        assert!(session.awaits_time());
        session.advance(30_000);
        let PartProgress::Wait(WaitProgress::Satisfied { after_ms }) = session.progress().parts[4] else {
            panic!("{:?}", session.progress().parts[4]);
        };
        // The controller waits for broker.session.timeout.ms (9 s) before it moves leadership.
        assert!((9_000..=15_000).contains(&after_ms) && after_ms % POLL_MS == 0, "{after_ms}");
        assert!(session.progress().is_complete());
        assert!(!session.awaits_time(), "nothing runs between steps");
    }

    #[test]
    fn a_wait_whose_check_does_not_hold_in_time_times_out_and_the_lesson_goes_on() {
        let mut session = session();
        session.enter_step(1).unwrap();
        session.apply(&kill("1")).unwrap();
        session.answer(2, 1).unwrap();
        // With every node down, no controller is left to move leadership.
        session.apply(&kill("2")).unwrap();
        session.apply(&kill("3")).unwrap();
        session.advance(14_900);
        assert_eq!(session.progress().cursor, 4, "still waiting just before the bound");
        session.advance(10_000);
        let PartProgress::Wait(WaitProgress::TimedOut { mismatch }) = &session.progress().parts[4] else {
            panic!("{:?}", session.progress().parts[4]);
        };
        assert_eq!(mismatch.to_string(), "expected leader orders/0 != 1, but it is 1");
        assert!(session.progress().is_complete());
    }

    #[test]
    fn a_task_done_before_it_is_reached_is_done_on_arrival() {
        let mut session = session();
        session.apply(&kill("1")).unwrap();
        session.enter_step(1).unwrap();
        assert!(matches!(session.progress().parts[1], PartProgress::Task(TaskProgress::Done { on_arrival: true, .. })));
        assert_eq!(session.progress().cursor, 2);
    }

    #[test]
    fn an_action_the_learner_made_impossible_is_marked_refused_and_the_lesson_goes_on() {
        let mut session = session();
        session.enter_step(1).unwrap();
        session.apply(&kill("1")).unwrap();
        session.answer(2, 1).unwrap();
        session.advance(15_000);
        assert!(session.progress().is_complete());
        session.apply(&Command::parse("restart 1").unwrap()).unwrap();
        session.enter_step(2).unwrap();
        assert_eq!(session.step(), 2);
        let PartProgress::Actions(ActionsProgress::Refused { command, .. }) = &session.progress().parts[0] else {
            panic!("{:?}", session.progress().parts[0]);
        };
        assert_eq!(command, "restart 1");
        assert_eq!(session.progress().cursor, 1, "on the task after it");
    }

    #[test]
    fn next_from_an_unfinished_step_plays_the_rest_of_it_as_ci_does() {
        let mut session = session();
        session.enter_step(1).unwrap();
        session.enter_step(2).unwrap();
        assert_eq!(session.step(), 2);
        assert!(session.simulation().now_ms() >= 10_000, "the wait for the new leader ran");
        assert!(matches!(session.progress().parts[0], PartProgress::Actions(ActionsProgress::Ran { .. })));
    }

    #[test]
    fn back_rebuilds_the_run_from_the_seed_as_if_the_learner_had_followed_every_instruction() {
        let mut direct = session();
        direct.enter_step(1).unwrap();
        let mut wandering = session();
        wandering.enter_step(1).unwrap();
        wandering.apply(&kill("2")).unwrap();
        wandering.advance(3_000);
        wandering.enter_step(2).unwrap();
        wandering.enter_step(1).unwrap();
        assert_eq!(trace(&wandering), trace(&direct), "same seed, same lesson: the same run");
        assert_eq!(wandering.progress(), direct.progress());
    }

    #[test]
    fn the_last_step_completed_finishes_the_lesson() {
        let mut session = session();
        session.enter_step(2).unwrap();
        assert!(!session.is_finished());
        session.advance(10_000);
        assert!(session.is_finished(), "{:?}", session.progress());
    }
}
