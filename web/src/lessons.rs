//! The lessons in the page: the course embedded at build time, one lesson being played (a
//! [`Session`] of the core and the learner's answers), what the player shows of it, and the
//! progress kept in the browser between visits.
//!
//! Plain Rust, tested on the host; `lesson_player` draws a [`StepView`] and calls back here.
//! What a lesson's parts mean (when a task is done, when a wait is over) is the core's
//! [`Session`]'s business, not this module's.

use std::collections::BTreeMap;

use kafkalab_core::lesson::progress::{ActionsProgress, PartProgress, Proof, TaskProgress, WaitProgress};
use kafkalab_core::lesson::{self, Part, Session};

use crate::markdown::{blocks, Block};

/// A lesson file, embedded in the page.
#[derive(Clone, Copy, Debug)]
pub struct LessonFile {
    /// The file's name in `lessons/`, such as `01-replication-and-the-isr.md`.
    pub name: &'static str,
    pub text: &'static str,
}

// `LESSONS`: written by build.rs from the files in `lessons/`.
include!(concat!(env!("OUT_DIR"), "/lessons.rs"));

/// Where the browser keeps the name of the lesson file open in the player.
pub const CURRENT_KEY: &str = "kafkalab.lesson";

/// Where the browser keeps the learner's [`Saved`] progress through the lesson file `name`.
pub fn progress_key(name: &str) -> String {
    format!("kafkalab.lesson.{name}")
}

/// The title of a lesson's text: its `# ` line, without parsing the rest.
pub fn title_of(text: &str) -> &str {
    text.lines().find_map(|line| line.strip_prefix("# ")).map_or("Untitled lesson", str::trim)
}

/// The position of the lesson file `name` in the course.
pub fn index_of(name: &str) -> Option<usize> {
    LESSONS.iter().position(|lesson| lesson.name == name)
}

/// What the browser keeps of a learner's way through one lesson.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Saved {
    /// The step they were on, 0-based.
    pub step: usize,
    /// Their answers: (step, part) to the index of the choice they made.
    pub answers: BTreeMap<(usize, usize), usize>,
}

impl Saved {
    /// As stored: `step 3` then one `answer STEP PART CHOICE` line per answer.
    pub fn encode(&self) -> String {
        let mut text = format!("step {}\n", self.step);
        for ((step, part), choice) in &self.answers {
            text.push_str(&format!("answer {step} {part} {choice}\n"));
        }
        text
    }

    /// Reads what [`Saved::encode`] wrote; lines it does not understand are skipped, so a
    /// damaged record loses at most those lines.
    pub fn decode(text: &str) -> Saved {
        let mut saved = Saved::default();
        for line in text.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            let numbers: Option<Vec<usize>> = words.iter().skip(1).map(|w| w.parse().ok()).collect();
            match (words.first(), numbers.as_deref()) {
                (Some(&"step"), Some(&[step])) => saved.step = step,
                (Some(&"answer"), Some(&[step, part, choice])) => {
                    saved.answers.insert((step, part), choice);
                }
                _ => {}
            }
        }
        saved
    }
}

/// One lesson being played in the page.
pub struct LessonRun {
    index: usize,
    session: Session,
    saved: Saved,
}

impl LessonRun {
    /// Opens lesson `index` of [`LESSONS`] where `saved` left it: on its step, with its answers.
    pub fn open(index: usize, saved: Saved) -> Result<LessonRun, String> {
        let file = LESSONS.get(index).ok_or_else(|| format!("there is no lesson {index}"))?;
        let parsed = lesson::parse(&format!("lessons/{}", file.name), file.text).map_err(|e| e.to_string())?;
        let step = saved.step.min(parsed.steps.len() - 1);
        let session = Session::new(parsed).map_err(|e| e.to_string())?;
        let mut run = LessonRun { index, session, saved };
        if step > 0 {
            run.go_to(step)?;
        } else {
            run.restore_answers();
        }
        Ok(run)
    }

    /// The lesson's position in [`LESSONS`].
    pub fn index(&self) -> usize {
        self.index
    }

    pub fn file_name(&self) -> &'static str {
        LESSONS[self.index].name
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    /// For the lab: the learner's commands and the passing of time go to the session.
    pub fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }

    /// What to keep in the browser.
    pub fn saved(&self) -> &Saved {
        &self.saved
    }

    /// Next, Back, or a jump: enters step `step`, with the answers given there before.
    pub fn go_to(&mut self, step: usize) -> Result<(), String> {
        if step >= self.session.lesson().steps.len() {
            return Err(format!("the lesson has no step {}", step + 1));
        }
        self.session.enter_step(step).map_err(|e| e.to_string())?;
        self.saved.step = step;
        self.restore_answers();
        Ok(())
    }

    /// The learner picks `choice` for the prediction at `part` of the current step.
    pub fn answer(&mut self, part: usize, choice: usize) -> Result<(), String> {
        self.session.answer(part, choice).map_err(|e| e.to_string())?;
        self.saved.answers.insert((self.session.step(), part), choice);
        Ok(())
    }

    fn restore_answers(&mut self) {
        let step = self.session.step();
        for (&(_, part), &choice) in self.saved.answers.range((step, 0)..(step + 1, 0)) {
            // A lesson edited since the answer was saved may have moved its predictions.
            let _ = self.session.answer(part, choice);
        }
    }

    /// What the player shows now.
    pub fn view(&self) -> StepView {
        step_view(&self.session)
    }
}

/// The lesson player's picture of the current step: only the parts the learner has reached,
/// and of a prediction, the answer and its proof only once the learner has answered.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StepView {
    pub lesson_title: String,
    /// 0-based.
    pub step: usize,
    pub steps: usize,
    pub step_title: String,
    /// The lesson's introduction, shown on the first step.
    pub introduction: Vec<Block>,
    /// `(part index, what it shows)` for each part reached, in order.
    pub parts: Vec<(usize, PartView)>,
    /// Every part of the step is behind the learner.
    pub complete: bool,
    /// The last step is complete.
    pub finished: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PartView {
    Narration(Vec<Block>),
    /// The lesson's own commands, as console lines, and why the lab refused one, if it did.
    Actions {
        commands: Vec<String>,
        refused: Option<String>,
    },
    Task {
        goal: String,
        hints: Vec<String>,
        done: bool,
    },
    Prediction(PredictionView),
    Wait {
        until: String,
        state: WaitState,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PredictionView {
    pub question: String,
    pub choices: Vec<String>,
    pub chosen: Option<usize>,
    /// `None` until the learner has answered.
    pub revealed: Option<Reveal>,
}

/// What a prediction shows once answered.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reveal {
    pub answer: usize,
    pub right: bool,
    pub explanation: Option<String>,
    /// The checks that prove the answer, as written.
    pub proofs: Vec<String>,
    pub proof: ProofState,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ProofState {
    /// Checked when the step is over.
    Pending,
    Holds,
    /// What the lab showed instead.
    Fails(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum WaitState {
    Waiting,
    Satisfied { after_ms: u64 },
    TimedOut(String),
}

/// The view of the session's current step.
pub fn step_view(session: &Session) -> StepView {
    let lesson = session.lesson();
    let progress = session.progress();
    let step = &lesson.steps[progress.step];
    let parts = step
        .parts
        .iter()
        .zip(&progress.parts)
        .enumerate()
        .filter(|(index, _)| progress.is_reached(*index))
        .map(|(index, (part, state))| (index, part_view(part, state)))
        .collect();
    StepView {
        lesson_title: lesson.title.clone(),
        step: progress.step,
        steps: lesson.steps.len(),
        step_title: step.title.clone(),
        introduction: if progress.step == 0 { blocks(&lesson.introduction) } else { Vec::new() },
        parts,
        complete: progress.is_complete(),
        finished: session.is_finished(),
    }
}

fn part_view(part: &Part, state: &PartProgress) -> PartView {
    match (part, state) {
        (Part::Narration(text), _) => PartView::Narration(blocks(text)),
        (Part::Actions(actions), PartProgress::Actions(state)) => PartView::Actions {
            commands: actions.commands.iter().map(|c| c.value.to_string()).collect(),
            refused: match state {
                ActionsProgress::Refused { command, error, .. } => Some(format!("{command}: {error}")),
                _ => None,
            },
        },
        (Part::Task(task), PartProgress::Task(state)) => PartView::Task {
            goal: task.goal.clone(),
            hints: task.hints.clone(),
            done: matches!(state, TaskProgress::Done { .. }),
        },
        (Part::Prediction(prediction), PartProgress::Prediction(state)) => {
            let revealed = state.chosen.map(|chosen| Reveal {
                answer: prediction.answer,
                right: chosen == prediction.answer,
                explanation: prediction.explanation.clone(),
                proofs: prediction.proofs.iter().map(|p| p.value.to_string()).collect(),
                proof: match &state.proof {
                    Proof::Pending => ProofState::Pending,
                    Proof::Holds => ProofState::Holds,
                    Proof::Fails { mismatch, .. } => ProofState::Fails(mismatch.to_string()),
                },
            });
            PartView::Prediction(PredictionView {
                question: prediction.question.clone(),
                choices: prediction.choices.clone(),
                chosen: state.chosen,
                revealed,
            })
        }
        (Part::Wait(wait), PartProgress::Wait(state)) => PartView::Wait {
            until: wait.until.to_string(),
            state: match state {
                WaitProgress::Satisfied { after_ms } => WaitState::Satisfied { after_ms: *after_ms },
                WaitProgress::TimedOut { mismatch } => WaitState::TimedOut(mismatch.to_string()),
                WaitProgress::NotStarted | WaitProgress::Waiting { .. } => WaitState::Waiting,
            },
        },
        (part, state) => unreachable!("progress {state:?} does not match part {part:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafkalab_core::lesson::Part;

    /// The first lesson of the course, whatever it is called.
    fn first() -> LessonRun {
        LessonRun::open(0, Saved::default()).unwrap()
    }

    /// The first step of the first lesson that has a prediction, and that prediction's part.
    fn first_prediction(run: &LessonRun) -> (usize, usize) {
        let lesson = run.session().lesson();
        lesson
            .steps
            .iter()
            .enumerate()
            .find_map(|(step, s)| {
                s.parts.iter().position(|p| matches!(p, Part::Prediction(_))).map(|part| (step, part))
            })
            .expect("the first lesson asks for a prediction")
    }

    #[test]
    fn the_course_embeds_every_lesson_file_but_the_readme_in_name_order() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../lessons");
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".md") && n != "README.md")
            .collect();
        names.sort();
        let embedded: Vec<&str> = LESSONS.iter().map(|l| l.name).collect();
        assert_eq!(embedded, names);
        assert!(LESSONS.iter().all(|l| l.text.starts_with("# ")), "each embedded text is its file's");
        assert_eq!(index_of(LESSONS[0].name), Some(0));
        assert_eq!(index_of("README.md"), None);
    }

    #[test]
    fn a_lesson_title_is_read_from_its_first_heading() {
        assert_eq!(title_of("# Leaders and followers\n\nText.\n## Step: x"), "Leaders and followers");
        assert_eq!(title_of("no heading"), "Untitled lesson");
    }

    #[test]
    fn saved_progress_reads_back_what_was_written_and_skips_what_it_does_not_understand() {
        let mut saved = Saved { step: 4, answers: BTreeMap::new() };
        saved.answers.insert((0, 3), 2);
        saved.answers.insert((5, 1), 0);
        assert_eq!(saved.encode(), "step 4\nanswer 0 3 2\nanswer 5 1 0\n");
        assert_eq!(Saved::decode(&saved.encode()), saved);
        let damaged = Saved::decode("step x\nanswer 1 2\nanswer 1 2 3\nwhatever\n");
        assert_eq!(damaged.step, 0);
        assert_eq!(damaged.answers.into_iter().collect::<Vec<_>>(), [((1, 2), 3)]);
    }

    #[test]
    fn the_first_step_shows_the_introduction_and_only_the_parts_the_learner_has_reached() {
        let run = first();
        let view = run.view();
        assert_eq!(view.step, 0);
        assert_eq!(view.steps, run.session().lesson().steps.len());
        assert!(!view.introduction.is_empty());
        let reached = run.session().progress().cursor;
        assert!(view.parts.iter().all(|(index, _)| *index <= reached));
    }

    #[test]
    fn a_prediction_shows_its_answer_and_proof_only_after_the_learner_answers() {
        let mut run = first();
        let (step, part) = first_prediction(&run);
        run.go_to(step).unwrap();
        // Do the step's tasks first (their solutions, as a learner would type them).
        let lesson = run.session().lesson().clone();
        for p in &lesson.steps[step].parts[..part] {
            if let Part::Task(task) = p {
                for command in &task.solution {
                    run.session_mut().apply(&command.value).unwrap();
                }
                run.session_mut().advance(task.within_ms);
            }
        }
        let shown = |run: &LessonRun| {
            run.view().parts.into_iter().find_map(|(i, p)| match p {
                PartView::Prediction(view) if i == part => Some(view),
                _ => None,
            })
        };
        let before = shown(&run).expect("the prediction is reached");
        assert_eq!(before.chosen, None);
        assert_eq!(before.revealed, None, "nothing of the answer is shown before answering");
        let Part::Prediction(prediction) = &lesson.steps[step].parts[part] else { unreachable!() };
        let wrong = (prediction.answer + 1) % prediction.choices.len();
        run.answer(part, wrong).unwrap();
        let after = shown(&run).unwrap();
        let reveal = after.revealed.expect("answered: the answer is shown");
        assert_eq!((after.chosen, reveal.answer, reveal.right), (Some(wrong), prediction.answer, false));
        assert_eq!(reveal.proofs.len(), prediction.proofs.len());
        assert_eq!(run.saved().answers.get(&(step, part)), Some(&wrong), "the answer is kept for the browser");
    }

    #[test]
    fn a_saved_step_and_its_answers_are_restored_when_the_lesson_is_opened_again() {
        let mut run = first();
        let (step, part) = first_prediction(&run);
        run.go_to(step).unwrap();
        run.answer(part, 0).unwrap();
        let saved = Saved::decode(&run.saved().encode());
        let again = LessonRun::open(0, saved).unwrap();
        assert_eq!(again.session().step(), step);
        let PartProgress::Prediction(state) = &again.session().progress().parts[part] else { panic!() };
        assert_eq!(state.chosen, Some(0));
        assert_eq!(again.view(), run.view(), "the same step, the same answer, shown the same way");
    }

    #[test]
    fn a_saved_step_past_the_end_of_an_edited_lesson_opens_its_last_step() {
        let mut run = LessonRun::open(0, Saved { step: 999, answers: BTreeMap::new() }).unwrap();
        assert_eq!(run.session().step(), run.session().lesson().steps.len() - 1);
        assert!(run.go_to(999).is_err());
    }

    #[test]
    fn a_learner_who_does_every_task_and_answers_every_prediction_finishes_the_first_lesson() {
        let mut run = first();
        let lesson = run.session().lesson().clone();
        for (index, step) in lesson.steps.iter().enumerate() {
            if index > 0 {
                let view = run.view();
                assert!(view.complete, "step {index} is reached with the one before complete: {view:?}");
                run.go_to(index).unwrap();
            }
            // Like the page: act on what is shown (once), let time run, until the step is complete.
            let mut acted = std::collections::BTreeSet::new();
            for _ in 0..400 {
                if run.view().complete {
                    break;
                }
                let (part, shown) = run.view().parts.last().cloned().expect("a part is shown");
                match (&step.parts[part], shown) {
                    (Part::Task(task), PartView::Task { done: false, .. }) if acted.insert(part) => {
                        for command in &task.solution {
                            run.session_mut().apply(&command.value).unwrap();
                        }
                    }
                    (Part::Prediction(p), PartView::Prediction(v)) if v.chosen.is_none() => {
                        run.answer(part, p.answer).unwrap()
                    }
                    _ => {}
                }
                run.session_mut().advance(300);
            }
        }
        let view = run.view();
        assert!(view.finished, "{view:?}");
        assert!(view.parts.iter().all(|(_, p)| !matches!(p, PartView::Task { done: false, .. })));
    }
}
