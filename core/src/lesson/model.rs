//! What a parsed lesson is made of: a title, the starting cluster, and steps whose parts
//! (narration, actions, tasks, predictions, waits) keep the order they were written in, because
//! the lesson player shows them, and the runner plays them, in that order.
//!
//! Every part remembers the line it starts on, so a replay that fails can point at it.

use alloc::string::String;
use alloc::vec::Vec;

use super::check::Check;
use crate::command::Command;
use crate::config::ClusterConfig;

/// A value and the 1-based line of the lesson file it was written on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located<T> {
    pub line: usize,
    pub value: T,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lesson {
    /// The file name the lesson was parsed from, as given to [`super::parse()`].
    pub file: String,
    /// The text of the `# ` heading.
    pub title: String,
    /// Markdown between the title and the first step, without the cluster block.
    pub introduction: String,
    /// The cluster the lesson starts from.
    pub cluster: ClusterConfig,
    /// The line of the ```` ```cluster ```` block.
    pub cluster_line: usize,
    pub steps: Vec<Step>,
}

/// A `## Step: <title>` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub title: String,
    /// The line of its heading.
    pub line: usize,
    pub parts: Vec<Part>,
}

/// One piece of a step, in the order written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// Markdown for the learner to read (including any code block that is not a lesson block).
    Narration(String),
    Actions(Actions),
    Task(Task),
    Prediction(Prediction),
    Wait(Wait),
}

/// A ```` ```kafkalab ```` block: commands the lesson carries out itself, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actions {
    pub line: usize,
    pub commands: Vec<Located<Command>>,
}

/// A ```` ```task ````: something the learner must do in the lab.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Task {
    pub line: usize,
    /// What to do, in the learner's words (`goal:`).
    pub goal: String,
    /// All must hold for the task to be done (`check:`); none may hold all together before.
    pub checks: Vec<Located<Check>>,
    /// Shown one at a time when the learner asks (`hint:`).
    pub hints: Vec<String>,
    /// What CI does in the learner's place (`solution:`), in order.
    pub solution: Vec<Located<Command>>,
    /// How much simulated time the checks may take to hold after the solution (`within:`).
    pub within_ms: u64,
}

/// A ```` ```predict ````: a question the learner answers before the step runs on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prediction {
    pub line: usize,
    pub question: String,
    /// Every choice in the order written, the answer among them.
    pub choices: Vec<String>,
    /// Which of `choices` is right.
    pub answer: usize,
    /// Checked at the end of the step: the simulation shows the answer is right.
    pub proofs: Vec<Located<Check>>,
    /// Shown once the learner has answered (`explain:`), if given.
    pub explanation: Option<String>,
}

/// A line of a ```` ```wait ```` block: time runs until the check holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wait {
    pub line: usize,
    pub until: Check,
    /// The check must hold within this much simulated time.
    pub within_ms: u64,
}
