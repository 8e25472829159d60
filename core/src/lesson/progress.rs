//! How far a learner is through the step a [`super::Session`] is on: one [`PartProgress`] per
//! part of the step, and how many parts the learner has reached.
//!
//! A step is revealed part by part: the parts up to the first one that holds the learner up (a
//! task not done yet, a prediction not answered, a wait not over) are shown, the rest are not,
//! so narration that gives a prediction's answer away stays hidden until the learner answers.

use alloc::string::String;
use alloc::vec::Vec;

use super::check::CheckMismatch;
use super::model::{Part, Step};
use crate::simulation::CommandError;

/// The learner's progress through one step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepProgress {
    /// The step's index in the lesson, 0-based.
    pub step: usize,
    /// The simulated time the step was entered at.
    pub started_at_ms: u64,
    /// How many parts are behind the learner; the part at this index (if any) holds them up.
    /// Parts at `0..=cursor` are shown, the others are not yet.
    pub cursor: usize,
    /// One entry per part of the step, in order.
    pub parts: Vec<PartProgress>,
}

impl StepProgress {
    /// A step just entered: nothing reached yet.
    pub(crate) fn start(step_index: usize, step: &Step, now_ms: u64) -> Self {
        let parts = step
            .parts
            .iter()
            .map(|part| match part {
                Part::Narration(_) => PartProgress::Narration,
                Part::Actions(_) => PartProgress::Actions(ActionsProgress::NotRun),
                Part::Task(_) => PartProgress::Task(TaskProgress::NotReached),
                Part::Prediction(_) => PartProgress::Prediction(PredictionProgress::default()),
                Part::Wait(_) => PartProgress::Wait(WaitProgress::NotStarted),
            })
            .collect();
        StepProgress { step: step_index, started_at_ms: now_ms, cursor: 0, parts }
    }

    /// Every part is behind the learner and the predictions' proofs have been checked.
    pub fn is_complete(&self) -> bool {
        self.cursor == self.parts.len()
    }

    /// Whether the learner has reached part `index`, so it is shown.
    pub fn is_reached(&self, index: usize) -> bool {
        index <= self.cursor && index < self.parts.len()
    }
}

/// Where one part of the step stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PartProgress {
    /// Narration has nothing to do; it is shown once reached.
    Narration,
    Actions(ActionsProgress),
    Task(TaskProgress),
    Prediction(PredictionProgress),
    Wait(WaitProgress),
}

/// A ```` ```kafkalab ```` block: run as soon as the learner reaches it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActionsProgress {
    NotRun,
    /// Every command ran, at this simulated time.
    Ran {
        at_ms: u64,
    },
    /// The lab refused a command (the learner's own actions can make one impossible, such as
    /// killing a broker that is already dead); the rest of the block was skipped.
    Refused {
        line: usize,
        command: String,
        error: CommandError,
    },
}

/// A task: pending until all its checks hold while the learner is on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskProgress {
    NotReached,
    /// The learner is on it, and its checks do not all hold yet; `acted` once the learner has
    /// done something in the lab since reaching it (from then on its checks may need time).
    Pending {
        acted: bool,
    },
    Done {
        /// The simulated time its checks were seen to hold.
        at_ms: u64,
        /// The checks already held when the learner reached the task: the learner did it
        /// early, or (in a replay) the lesson asks for nothing.
        on_arrival: bool,
    },
}

/// A prediction: the learner's choice, and once the step is over, what the lab showed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PredictionProgress {
    /// The choice the learner made (an index into the prediction's choices); the first answer
    /// counts.
    pub chosen: Option<usize>,
    /// Whether the simulation bore the answer out, known at the end of the step.
    pub proof: Proof,
}

/// What the simulation showed about a prediction's answer, checked at the end of the step.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Proof {
    /// The step is not over yet.
    #[default]
    Pending,
    /// Every proof held: the lab shows the answer is right.
    Holds,
    /// The proof on `line` did not hold (the learner's own actions can change the outcome).
    Fails { line: usize, mismatch: CheckMismatch },
}

/// A wait: time runs until its check holds, for at most its bound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WaitProgress {
    NotStarted,
    /// Reached at this simulated time; the check does not hold yet.
    Waiting {
        since_ms: u64,
    },
    /// The check held this long after the wait began.
    Satisfied {
        after_ms: u64,
    },
    /// The check did not hold within the bound; the lesson goes on regardless.
    TimedOut {
        mismatch: CheckMismatch,
    },
}
