//! Lessons: a lesson is a Markdown file of narration with fenced blocks in the command
//! language, parsed here into typed steps, played by a learner in a [`Session`] and replayed
//! headless by the [`runner`].
//!
//! The format is documented for teachers in `lessons/README.md`. In short:
//!
//! ````text
//! # Title
//! Introduction.
//! ```cluster            the starting cluster: seed, brokers, topics, settings
//! ## Step: A title       a step: narration and, in the order written,
//! ```kafkalab            actions the lesson performs (command lines)
//! ```task                something the learner does: goal, check, hint, solution, within
//! ```predict             a question: question, choice / answer, proof, explain
//! ```wait                until <check> within <duration>
//! ````
//!
//! The pieces, one concept per file:
//! - [`model`]: what a parsed lesson is made of;
//! - [`markdown`]: the file cut into its title, step headings, narration and fenced blocks;
//! - [`cluster`]: the ```` ```cluster ```` block, read into a [`crate::ClusterConfig`];
//! - [`check`]: what tasks, predictions and waits check: an [`crate::expectation::Expectation`]
//!   or one of the lesson's own observations of the run (acknowledged and lost writes, errors,
//!   log start, records, batches, bytes and keys);
//! - [`fields`]: the `name: value` lines of task and prediction blocks, and durations;
//! - [`mod@parse`]: the lesson assembled from those pieces, with errors naming file and line;
//! - [`references`]: every topic, partition and broker a lesson names must exist when named;
//! - [`error`]: a parse error: file, line, what is wrong;
//! - [`session`]: a lesson played interactively, step by step, by a learner in the page: the one
//!   implementation of what a lesson's parts mean;
//! - [`progress`]: where the learner stands in a step, part by part;
//! - [`runner`]: the lesson replayed headless, as CI runs it, into a [`report::Replay`]: a
//!   session driven by a learner who follows every instruction;
//! - [`report`]: what a replay did, or where and why it failed.

pub mod check;
pub mod cluster;
pub mod error;
pub mod fields;
pub mod markdown;
pub mod model;
pub mod parse;
pub mod progress;
pub mod references;
pub mod report;
pub mod runner;
pub mod session;

pub use check::Check;
pub use error::LessonError;
pub use model::{Actions, Lesson, Located, Part, Prediction, Step, Task, Wait};
pub use parse::parse;
pub use progress::{PartProgress, StepProgress};
pub use report::{FailureKind, Replay, RunFailure};
pub use runner::replay;
pub use session::{AnswerError, Session};
