//! A lesson's text into a [`Lesson`]: the title, the cluster, and steps whose blocks are read
//! with the command language's own parsers ([`Command::parse`], [`Check::parse`]).
//!
//! Every error names the file, the line and what is wrong; the parser never panics, whatever
//! the text (a property test feeds it random text).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::check::Check;
use super::cluster::parse_cluster;
use super::error::{LessonError, LineError};
use super::fields::{duration_ms, fields, Field};
use super::markdown::{split, Item};
use super::model::{Actions, Lesson, Located, Part, Prediction, Step, Task, Wait};
use super::references;
use crate::command::Command;

/// Parses the text of the lesson file `file` (the name is only used in errors and kept in the
/// lesson, so pass it as the teacher knows it: `lessons/03-acks.md`).
pub fn parse(file: &str, text: &str) -> Result<Lesson, LessonError> {
    let mut lesson = parse_items(text).map_err(|e| e.in_file(file))?;
    references::check(&lesson).map_err(|e| e.in_file(file))?;
    lesson.file = file.to_string();
    Ok(lesson)
}

fn parse_items(text: &str) -> Result<Lesson, LineError> {
    let mut title: Option<(usize, String)> = None;
    let mut introduction = String::new();
    let mut cluster = None;
    let mut steps: Vec<Step> = Vec::new();
    for item in split(text)? {
        match item {
            Item::Title { line, text } => {
                if title.is_some() {
                    return Err(LineError::new(line, "a lesson has one title; start a step with ## Step: <title>"));
                }
                if text.is_empty() {
                    return Err(LineError::new(line, "the title is empty"));
                }
                title = Some((line, text.to_string()));
            }
            Item::Text { line, text } if title.is_none() => {
                if !text.trim().is_empty() {
                    return Err(LineError::new(line, "a lesson starts with its title: # <title>"));
                }
            }
            Item::Block { line, .. } | Item::Step { line, .. } if title.is_none() => {
                return Err(LineError::new(line, "a lesson starts with its title: # <title>"));
            }
            Item::Step { line, title } => {
                if title.is_empty() {
                    return Err(LineError::new(line, "the step has no title: ## Step: <title>"));
                }
                steps.push(Step { title: title.to_string(), line, parts: Vec::new() });
            }
            Item::Block { line, kind: "cluster", body } => {
                if !steps.is_empty() {
                    return Err(LineError::new(line, "the ```cluster block goes before the first step"));
                }
                if cluster.is_some() {
                    return Err(LineError::new(line, "a lesson has one ```cluster block"));
                }
                cluster = Some((line, parse_cluster(line, &body)?));
            }
            Item::Text { text, .. } => match steps.last_mut() {
                Some(step) => {
                    let text = text.trim_matches('\n');
                    if !text.trim().is_empty() {
                        step.parts.push(Part::Narration(format!("{text}\n")));
                    }
                }
                None => introduction.push_str(&text),
            },
            Item::Block { line, kind, body } => {
                let Some(step) = steps.last_mut() else {
                    return Err(LineError::new(
                        line,
                        format!("a ```{kind} block belongs in a step (## Step: <title>)"),
                    ));
                };
                step.parts.extend(parse_block(line, kind, &body)?);
            }
        }
    }
    let Some((title_line, title)) = title else {
        return Err(LineError::new(1, "a lesson starts with its title: # <title>"));
    };
    let Some((cluster_line, cluster)) = cluster else {
        return Err(LineError::new(title_line, "the lesson has no ```cluster block describing its starting cluster"));
    };
    if steps.is_empty() {
        return Err(LineError::new(title_line, "the lesson has no steps: add one with ## Step: <title>"));
    }
    let introduction = introduction.trim_matches('\n').to_string();
    Ok(Lesson { file: String::new(), title, introduction, cluster, cluster_line, steps })
}

fn parse_block(line: usize, kind: &str, body: &[(usize, &str)]) -> Result<Vec<Part>, LineError> {
    Ok(match kind {
        "kafkalab" => alloc::vec![Part::Actions(parse_actions(line, body)?)],
        "task" => alloc::vec![Part::Task(parse_task(line, body)?)],
        "predict" => alloc::vec![Part::Prediction(parse_prediction(line, body)?)],
        _ => parse_waits(line, body)?.into_iter().map(Part::Wait).collect(),
    })
}

/// The lines of a block that say something: not blank, not a `#` comment.
fn meaningful<'a>(body: &'a [(usize, &'a str)]) -> impl Iterator<Item = (usize, &'a str)> + 'a {
    body.iter().map(|&(line, text)| (line, text.trim())).filter(|(_, text)| !text.is_empty() && !text.starts_with('#'))
}

fn command(line: usize, text: &str, context: &str) -> Result<Located<Command>, LineError> {
    Command::parse(text).map(|value| Located { line, value }).map_err(|e| LineError::from_parse(line, context, &e))
}

fn check(line: usize, text: &str, context: &str) -> Result<Located<Check>, LineError> {
    Check::parse(text).map(|value| Located { line, value }).map_err(|e| LineError::from_parse(line, context, &e))
}

fn within(field: &Field<'_>, block: &str) -> Result<u64, LineError> {
    duration_ms(field.value).map_err(|e| LineError::new(field.line, format!("in {block}: within: {e}")))
}

fn parse_actions(line: usize, body: &[(usize, &str)]) -> Result<Actions, LineError> {
    let commands = meaningful(body).map(|(l, text)| command(l, text, "in an action")).collect::<Result<Vec<_>, _>>()?;
    if commands.is_empty() {
        return Err(LineError::new(line, "the ```kafkalab block has no commands"));
    }
    Ok(Actions { line, commands })
}

/// The one field named `name`, which must be there.
fn one<'a>(all: &[Field<'a>], name: &str, block: &str, line: usize) -> Result<Field<'a>, LineError> {
    let mut found = all.iter().filter(|f| f.name == name);
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    let first = *found.next().ok_or_else(|| LineError::new(line, format!("{block} needs {article} {name}: line")))?;
    if let Some(second) = found.next() {
        return Err(LineError::new(second.line, format!("in {block}: {name}: is given twice")));
    }
    Ok(first)
}

fn at_most_one<'a>(all: &[Field<'a>], name: &str, block: &str) -> Result<Option<Field<'a>>, LineError> {
    let mut found = all.iter().filter(|f| f.name == name);
    let first = found.next().copied();
    if let Some(second) = found.next() {
        return Err(LineError::new(second.line, format!("in {block}: {name}: is given twice")));
    }
    Ok(first)
}

fn parse_task(line: usize, body: &[(usize, &str)]) -> Result<Task, LineError> {
    const BLOCK: &str = "a task";
    let all = fields(body, BLOCK, &["goal", "check", "hint", "solution", "within"])?;
    let goal = one(&all, "goal", BLOCK, line)?.value.to_string();
    let named = |name: &'static str| all.iter().filter(move |f| f.name == name);
    let checks = named("check").map(|f| check(f.line, f.value, "in a task's check")).collect::<Result<Vec<_>, _>>()?;
    let solution =
        named("solution").map(|f| command(f.line, f.value, "in a task's solution")).collect::<Result<Vec<_>, _>>()?;
    let hints: Vec<String> = named("hint").map(|f| f.value.to_string()).collect();
    let within_ms = at_most_one(&all, "within", BLOCK)?.map(|f| within(&f, BLOCK)).transpose()?.unwrap_or(0);
    for (missing, name) in [(checks.is_empty(), "check"), (hints.is_empty(), "hint"), (solution.is_empty(), "solution")]
    {
        if missing {
            return Err(LineError::new(line, format!("a task needs a {name}: line")));
        }
    }
    Ok(Task { line, goal, checks, hints, solution, within_ms })
}

fn parse_prediction(line: usize, body: &[(usize, &str)]) -> Result<Prediction, LineError> {
    const BLOCK: &str = "a prediction";
    let all = fields(body, BLOCK, &["question", "choice", "answer", "proof", "explain"])?;
    let question = one(&all, "question", BLOCK, line)?.value.to_string();
    one(&all, "answer", BLOCK, line)?;
    let options: Vec<&Field<'_>> = all.iter().filter(|f| f.name == "choice" || f.name == "answer").collect();
    if options.len() < 2 {
        return Err(LineError::new(
            line,
            "a prediction needs at least two choices: choice: lines and one answer: line",
        ));
    }
    let answer = options.iter().position(|f| f.name == "answer").unwrap_or(0);
    let choices = options.iter().map(|f| f.value.to_string()).collect();
    let proofs = all
        .iter()
        .filter(|f| f.name == "proof")
        .map(|f| check(f.line, f.value, "in a prediction's proof"))
        .collect::<Result<Vec<_>, _>>()?;
    if proofs.is_empty() {
        return Err(LineError::new(line, "a prediction needs a proof: line, a check that shows the answer is right"));
    }
    let explanation = at_most_one(&all, "explain", BLOCK)?.map(|f| f.value.to_string());
    Ok(Prediction { line, question, choices, answer, proofs, explanation })
}

/// `until <check> within <duration>`, one wait per line.
fn parse_waits(line: usize, body: &[(usize, &str)]) -> Result<Vec<Wait>, LineError> {
    const SHAPE: &str = "in a wait: write until <check> within <duration>, as in until leader orders/0 != 1 within 15s";
    let mut waits = Vec::new();
    for (number, text) in meaningful(body) {
        let rest = text.strip_prefix("until ").ok_or_else(|| LineError::new(number, SHAPE))?;
        let (until, duration) = rest.rsplit_once(" within ").ok_or_else(|| LineError::new(number, SHAPE))?;
        let until = check(number, until.trim(), "in a wait")?.value;
        let within_ms = duration_ms(duration.trim()).map_err(|e| LineError::new(number, format!("in a wait: {e}")))?;
        waits.push(Wait { line: number, until, within_ms });
    }
    if waits.is_empty() {
        return Err(LineError::new(line, "the ```wait block has no until ... within ... line"));
    }
    Ok(waits)
}
