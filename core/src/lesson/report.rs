//! What a headless replay of a lesson did ([`Replay`]), or where and why it stopped
//! ([`RunFailure`]): the file, the step, the line, and what the simulation showed instead.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::check::CheckMismatch;
use crate::config::ConfigError;
use crate::simulation::{CommandError, Simulation};

/// A lesson played to its end.
#[derive(Clone, Debug)]
pub struct Replay {
    pub steps: Vec<StepReport>,
    /// The run as the lesson left it: its trace, view and acknowledged writes.
    pub simulation: Simulation,
}

/// What one step did, in simulated time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepReport {
    pub title: String,
    pub line: usize,
    pub started_at_ms: u64,
    pub ended_at_ms: u64,
    pub events: Vec<StepEvent>,
}

/// One lesson part played, with the line it was written on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepEvent {
    /// A ```` ```kafkalab ```` block's commands ran.
    ActionsRun { line: usize, commands: usize },
    /// A task's solution made its checks hold, this long after the solution ran.
    TaskDone { line: usize, after_ms: u64 },
    /// A prediction's proofs held at the end of the step.
    PredictionConfirmed { line: usize },
    /// A wait's check held after this long.
    WaitOver { line: usize, after_ms: u64 },
}

/// Where a replay stopped: the lesson, not the simulator, is wrong (or the simulator changed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunFailure {
    pub file: String,
    pub line: usize,
    /// 1-based; 0 for the cluster, before any step.
    pub step: usize,
    pub step_title: String,
    pub kind: FailureKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The cluster block describes no cluster the simulator can run.
    InvalidCluster(ConfigError),
    /// The simulator refused a command of an action or a solution.
    CommandRefused { command: String, error: CommandError },
    /// A task's checks all hold before the learner does anything: the task asks for nothing.
    TaskAlreadyDone { checks: String },
    /// A task's solution did not make its check hold in the time the task allows.
    TaskNotDone { mismatch: Box<CheckMismatch>, within_ms: u64 },
    /// The simulation contradicts a prediction's stated answer.
    PredictionWrong { mismatch: Box<CheckMismatch> },
    /// A wait's check did not hold within its bound.
    WaitTimedOut { mismatch: Box<CheckMismatch>, within_ms: u64 },
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureKind::InvalidCluster(e) => write!(f, "the cluster cannot run: {e}"),
            FailureKind::CommandRefused { command, error } => write!(f, "the lab refused `{command}`: {error}"),
            FailureKind::TaskAlreadyDone { checks } => write!(
                f,
                "the task is already done before the learner acts: `{checks}` holds at the start; \
                 a task must ask for a change"
            ),
            FailureKind::TaskNotDone { mismatch, within_ms } => {
                write!(f, "the task's solution did not do it within {within_ms} ms: {mismatch}")
            }
            FailureKind::PredictionWrong { mismatch } => {
                write!(f, "the prediction's answer is not what the lab shows: {mismatch}")
            }
            FailureKind::WaitTimedOut { mismatch, within_ms } => {
                write!(f, "the wait did not end within {within_ms} ms: {mismatch}")
            }
        }
    }
}

impl fmt::Display for RunFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.step == 0 {
            write!(f, "{}:{}: {}", self.file, self.line, self.kind)
        } else {
            write!(f, "{}:{}: step {} ({}): {}", self.file, self.line, self.step, self.step_title, self.kind)
        }
    }
}
