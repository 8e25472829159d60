//! A lesson replayed headless, as CI runs it: a [`Session`] driven by a learner who follows
//! every instruction. The lesson player drives the same session, so a lesson means the same
//! thing in the page and in CI.
//!
//! Each step's parts run in the order written:
//! - an action block's commands are applied (the session does that as soon as it is reached);
//! - a task must not be done already (all its checks holding before the learner acts would
//!   make it a task that asks for nothing); its solution is applied, then time runs in steps of
//!   [`POLL_MS`] until its checks hold, for at most its `within`;
//! - a prediction is answered with its answer;
//! - a wait runs time the same way until its check holds;
//! - a prediction's proofs are checked at the end of its step, once the step has run on and
//!   the simulation shows the truth.
//!
//! Nothing is random but the seeded simulation, so the same lesson gives the same run, event for
//! event. The simulator checks its invariants on every event and panics on a violation, naming
//! the seed; that stops a replay too.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::model::{Lesson, Part, Task};
use super::progress::{ActionsProgress, PartProgress, Proof, TaskProgress, WaitProgress};
use super::report::{FailureKind, Replay, RunFailure, StepEvent, StepReport};
use super::session::Session;
pub use super::session::POLL_MS;

/// Plays the lesson from its cluster to its last step.
pub fn replay(lesson: &Lesson) -> Result<Replay, Box<RunFailure>> {
    let mut session = Session::new(lesson.clone())?;
    let mut steps = Vec::new();
    for index in 0..lesson.steps.len() {
        if index > 0 {
            session.enter_step(index)?;
        }
        steps.push(play_step(&mut session)?);
    }
    Ok(Replay { steps, simulation: session.simulation().clone() })
}

/// Plays what is left of the session's current step in the learner's place, up to its end.
pub(super) fn play_step(session: &mut Session) -> Result<StepReport, Box<RunFailure>> {
    let step_index = session.step();
    let step = session.lesson().steps[step_index].clone();
    let file = session.lesson().file.clone();
    let fail = |line: usize, kind: FailureKind| {
        Box::new(RunFailure { file: file.clone(), line, step: step_index + 1, step_title: step.title.clone(), kind })
    };
    // When each task's solution ran, to say how long its checks took to hold.
    let mut solved_at_ms = BTreeMap::new();
    loop {
        if let Some((line, kind)) = first_failure(session, &step.parts) {
            return Err(fail(line, kind));
        }
        let cursor = session.progress().cursor;
        match step.parts.get(cursor) {
            None => break,
            Some(Part::Task(task)) => {
                if let Err((line, error)) = session.apply_all(&task.solution) {
                    let command = task.solution.iter().find(|c| c.line == line).map(|c| c.value.to_string());
                    return Err(fail(
                        line,
                        FailureKind::CommandRefused { command: command.unwrap_or_default(), error },
                    ));
                }
                // `within` counts from the end of the solution (which may itself let time pass).
                let solved_ms = session.simulation().now_ms();
                solved_at_ms.insert(cursor, solved_ms);
                run_until_done(session, cursor, task, solved_ms).map_err(|(line, kind)| fail(line, kind))?;
            }
            Some(Part::Prediction(prediction)) => {
                session.answer(cursor, prediction.answer).expect("an unanswered prediction takes its answer");
            }
            // The session ends the wait when its check holds or its bound has passed.
            Some(Part::Wait(_)) => session.advance(POLL_MS),
            Some(part) => unreachable!("the session is never held up by {part:?}"),
        }
    }
    let progress = session.progress();
    for (part, state) in step.parts.iter().zip(&progress.parts) {
        if let (Part::Prediction(_), PartProgress::Prediction(state)) = (part, state) {
            if let Proof::Fails { line, mismatch } = &state.proof {
                let kind = FailureKind::PredictionWrong { mismatch: Box::new(mismatch.clone()) };
                return Err(fail(*line, kind));
            }
        }
    }
    Ok(StepReport {
        title: step.title.clone(),
        line: step.line,
        started_at_ms: progress.started_at_ms,
        ended_at_ms: session.simulation().now_ms(),
        events: events(&step.parts, &progress.parts, &solved_at_ms),
    })
}

/// Runs time until the task at `index` is done, for at most its `within` after its solution.
fn run_until_done(
    session: &mut Session,
    index: usize,
    task: &Task,
    solved_at_ms: u64,
) -> Result<(), (usize, FailureKind)> {
    loop {
        if matches!(session.progress().parts[index], PartProgress::Task(TaskProgress::Done { .. })) {
            return Ok(());
        }
        let waited_ms = session.simulation().now_ms() - solved_at_ms;
        if waited_ms >= task.within_ms {
            let mismatch = task
                .checks
                .iter()
                .find_map(|check| check.value.check(session.simulation()).err().map(|m| (check.line, m)));
            let (line, mismatch) = mismatch.expect("a task not done has a check that does not hold");
            return Err((line, FailureKind::TaskNotDone { mismatch: Box::new(mismatch), within_ms: task.within_ms }));
        }
        session.advance(POLL_MS.min(task.within_ms - waited_ms));
    }
}

/// The first part behind the learner that went wrong, in the order written.
fn first_failure(session: &Session, parts: &[Part]) -> Option<(usize, FailureKind)> {
    let progress = session.progress();
    parts.iter().zip(&progress.parts).take(progress.cursor).find_map(|(part, state)| match (part, state) {
        (_, PartProgress::Actions(ActionsProgress::Refused { line, command, error })) => {
            Some((*line, FailureKind::CommandRefused { command: command.clone(), error: error.clone() }))
        }
        (Part::Task(task), PartProgress::Task(TaskProgress::Done { on_arrival: true, .. })) => {
            let checks: Vec<String> = task.checks.iter().map(|c| c.value.to_string()).collect();
            Some((task.line, FailureKind::TaskAlreadyDone { checks: checks.join("` and `") }))
        }
        (Part::Wait(wait), PartProgress::Wait(WaitProgress::TimedOut { mismatch })) => Some((
            wait.line,
            FailureKind::WaitTimedOut { mismatch: Box::new(mismatch.clone()), within_ms: wait.within_ms },
        )),
        _ => None,
    })
}

/// What the step did, part by part, with the predictions confirmed last.
fn events(parts: &[Part], states: &[PartProgress], solved_at_ms: &BTreeMap<usize, u64>) -> Vec<StepEvent> {
    let mut events = Vec::new();
    let mut confirmed = Vec::new();
    for (index, (part, state)) in parts.iter().zip(states).enumerate() {
        match (part, state) {
            (Part::Actions(actions), PartProgress::Actions(ActionsProgress::Ran { .. })) => {
                events.push(StepEvent::ActionsRun { line: actions.line, commands: actions.commands.len() })
            }
            (Part::Task(task), PartProgress::Task(TaskProgress::Done { at_ms, .. })) => {
                // A task the learner did before CI took over took no time of CI's.
                let after_ms = solved_at_ms.get(&index).map_or(0, |solved| at_ms.saturating_sub(*solved));
                events.push(StepEvent::TaskDone { line: task.line, after_ms });
            }
            (Part::Wait(wait), PartProgress::Wait(WaitProgress::Satisfied { after_ms })) => {
                events.push(StepEvent::WaitOver { line: wait.line, after_ms: *after_ms })
            }
            (Part::Prediction(prediction), PartProgress::Prediction(_)) => {
                confirmed.push(StepEvent::PredictionConfirmed { line: prediction.line })
            }
            _ => {}
        }
    }
    events.extend(confirmed);
    events
}
