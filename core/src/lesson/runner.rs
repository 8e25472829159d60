//! A lesson replayed headless, as CI runs it and as the lesson player would with a learner who
//! follows every instruction.
//!
//! The cluster is built from the lesson's cluster block; then each step's parts run in the
//! order written:
//! - an action block's commands are applied;
//! - a task must not be done already (all its checks holding before the learner acts would
//!   make it a task that asks for nothing); its solution is applied, then time runs in steps of
//!   [`POLL_MS`] until its checks hold, for at most its `within`;
//! - a wait runs time the same way until its check holds;
//! - a prediction's proofs are checked at the end of its step, once the step has run on and
//!   the simulation shows the truth.
//!
//! Nothing is random but the seeded simulation, so the same lesson gives the same run, event for
//! event. The simulator checks its invariants on every event and panics on a violation, naming
//! the seed; that stops a replay too.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::check::{Check, CheckMismatch};
use super::model::{Lesson, Located, Part, Step, Task};
use super::report::{FailureKind, Replay, RunFailure, StepEvent, StepReport};
use crate::command::Command;
use crate::simulation::Simulation;

/// How far time moves between two looks at a task's or a wait's checks.
pub const POLL_MS: u64 = 100;

/// Plays the lesson from its cluster to its last step.
pub fn replay(lesson: &Lesson) -> Result<Replay, Box<RunFailure>> {
    let mut simulation = Simulation::new(lesson.cluster.clone()).map_err(|e| {
        Box::new(RunFailure {
            file: lesson.file.clone(),
            line: lesson.cluster_line,
            step: 0,
            step_title: String::new(),
            kind: FailureKind::InvalidCluster(e),
        })
    })?;
    let mut steps = Vec::new();
    for (index, step) in lesson.steps.iter().enumerate() {
        let report = play_step(&mut simulation, step).map_err(|failure| {
            let (line, kind) = *failure;
            Box::new(RunFailure {
                file: lesson.file.clone(),
                line,
                step: index + 1,
                step_title: step.title.clone(),
                kind,
            })
        })?;
        steps.push(report);
    }
    Ok(Replay { steps, simulation })
}

/// A failure inside a step: the line and what went wrong (boxed: the happy path stays small).
type StepFailure = Box<(usize, FailureKind)>;

fn play_step(simulation: &mut Simulation, step: &Step) -> Result<StepReport, StepFailure> {
    let started_at_ms = simulation.now_ms();
    let mut events = Vec::new();
    let mut proofs = Vec::new();
    for part in &step.parts {
        match part {
            Part::Narration(_) => {}
            Part::Actions(actions) => {
                apply_all(simulation, &actions.commands)?;
                events.push(StepEvent::ActionsRun { line: actions.line, commands: actions.commands.len() });
            }
            Part::Task(task) => {
                let after_ms = perform(simulation, task)?;
                events.push(StepEvent::TaskDone { line: task.line, after_ms });
            }
            Part::Prediction(prediction) => proofs.push(prediction),
            Part::Wait(wait) => {
                let after_ms =
                    run_until(simulation, core::slice::from_ref(&wait.until), wait.within_ms).map_err(|mismatch| {
                        Box::new((
                            wait.line,
                            FailureKind::WaitTimedOut { mismatch: Box::new(mismatch), within_ms: wait.within_ms },
                        ))
                    })?;
                events.push(StepEvent::WaitOver { line: wait.line, after_ms });
            }
        }
    }
    for prediction in proofs {
        for proof in &prediction.proofs {
            proof.value.check(simulation).map_err(|mismatch| {
                Box::new((proof.line, FailureKind::PredictionWrong { mismatch: Box::new(mismatch) }))
            })?;
        }
        events.push(StepEvent::PredictionConfirmed { line: prediction.line });
    }
    Ok(StepReport {
        title: step.title.clone(),
        line: step.line,
        started_at_ms,
        ended_at_ms: simulation.now_ms(),
        events,
    })
}

fn apply_all(simulation: &mut Simulation, commands: &[Located<Command>]) -> Result<(), StepFailure> {
    for command in commands {
        simulation.apply(&command.value).map_err(|error| {
            Box::new((command.line, FailureKind::CommandRefused { command: command.value.to_string(), error }))
        })?;
    }
    Ok(())
}

/// The learner's part, done by the solution: returns how long the checks took to hold.
fn perform(simulation: &mut Simulation, task: &Task) -> Result<u64, StepFailure> {
    let checks: Vec<Check> = task.checks.iter().map(|c| c.value.clone()).collect();
    if checks.iter().all(|check| check.check(simulation).is_ok()) {
        let text: Vec<String> = checks.iter().map(ToString::to_string).collect();
        return Err(Box::new((task.line, FailureKind::TaskAlreadyDone { checks: text.join("` and `") })));
    }
    apply_all(simulation, &task.solution)?;
    run_until(simulation, &checks, task.within_ms).map_err(|mismatch| {
        let line = task.checks.iter().find(|c| c.value == mismatch.check).map_or(task.line, |c| c.line);
        Box::new((line, FailureKind::TaskNotDone { mismatch: Box::new(mismatch), within_ms: task.within_ms }))
    })
}

/// Runs time in steps of [`POLL_MS`] until every check holds, for at most `within_ms`; returns
/// the time it took, or the first check that still fails at the end.
fn run_until(simulation: &mut Simulation, checks: &[Check], within_ms: u64) -> Result<u64, CheckMismatch> {
    let mut waited_ms = 0;
    loop {
        match checks.iter().try_for_each(|check| check.check(simulation)) {
            Ok(()) => return Ok(waited_ms),
            Err(mismatch) if waited_ms >= within_ms => return Err(mismatch),
            Err(_) => {
                let slice_ms = POLL_MS.min(within_ms - waited_ms);
                simulation.advance(slice_ms);
                waited_ms += slice_ms;
            }
        }
    }
}
