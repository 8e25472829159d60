//! The lessons in `lessons/` are data, and CI replays every one headless: each parses, each
//! task's solution does what its check asks (and the check did not already hold), each
//! prediction's answer is what the simulation then shows, each wait ends in time, and the
//! simulator's invariants hold throughout. Malformed lessons are refused with the file, the line
//! and what is wrong.

use std::path::{Path, PathBuf};

use kafkalab_core::lesson::report::StepEvent;
use kafkalab_core::lesson::{self, FailureKind, Lesson, Part};
use proptest::prelude::*;

fn lessons_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../lessons")
}

/// Every lesson file, as `lessons/<name>` with its text, in name order.
fn lesson_files() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(lessons_dir())
        .expect("the lessons directory")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "md") && !path.ends_with("README.md"))
        .map(|path| {
            let name = format!("lessons/{}", path.file_name().unwrap().to_string_lossy());
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

fn parsed(file: &str, text: &str) -> Lesson {
    lesson::parse(file, text).unwrap_or_else(|e| panic!("{e}"))
}

fn trace_text(lesson: &Lesson) -> Vec<String> {
    let replay = lesson::replay(lesson).unwrap_or_else(|failure| panic!("{failure}"));
    replay.simulation.trace().iter().map(ToString::to_string).collect()
}

#[test]
fn every_lesson_parses_and_replays_headless() {
    for (file, text) in lesson_files() {
        let lesson = parsed(&file, &text);
        let replay = lesson::replay(&lesson).unwrap_or_else(|failure| panic!("{failure}"));
        assert_eq!(replay.steps.len(), lesson.steps.len());
        let trace = replay.simulation.trace().len();
        assert!(trace > 20, "{file}: the lesson makes the cluster do something ({trace} trace lines)");
    }
}

#[test]
fn the_course_has_its_first_lessons_each_of_5_to_15_steps_with_something_to_do() {
    let files = lesson_files();
    assert!(files.len() >= 4, "the course has its first four lessons ({} found)", files.len());
    for (file, text) in files {
        let lesson = parsed(&file, &text);
        assert!((5..=15).contains(&lesson.steps.len()), "{file}: {} steps", lesson.steps.len());
        let tasks = lesson.steps.iter().flat_map(|s| &s.parts).filter(|p| matches!(p, Part::Task(_))).count();
        assert!(tasks >= 2, "{file}: the learner does things ({tasks} tasks)");
        for step in &lesson.steps {
            let blocks = step.parts.iter().filter(|p| !matches!(p, Part::Narration(_))).count();
            assert!(
                blocks > 0,
                "{file}:{}: step {:?} only talks; give it something to run or answer",
                step.line,
                step.title
            );
        }
        assert!(!lesson.introduction.is_empty(), "{file}: the lesson says what it is about");
    }
}

#[test]
fn replaying_a_lesson_twice_gives_the_same_trace() {
    for (file, text) in lesson_files() {
        let lesson = parsed(&file, &text);
        assert_eq!(trace_text(&lesson), trace_text(&lesson), "{file}");
    }
}

#[test]
fn the_report_says_when_things_happened() {
    let files = lesson_files();
    let (file, text) = files.iter().find(|(name, _)| name.ends_with("-replication-and-the-isr.md")).unwrap();
    let lesson = parsed(file, text);
    let replay = lesson::replay(&lesson).unwrap();
    let new_leader = replay.steps.iter().find(|s| s.title == "A new leader").expect("lesson 1 has the step");
    let waited = new_leader.events.iter().find_map(|e| match e {
        StepEvent::WaitOver { after_ms, .. } => Some(*after_ms),
        _ => None,
    });
    // The controller waits for broker.session.timeout.ms (9 s) before it moves leadership.
    assert!(waited.is_some_and(|ms| (5_000..=10_000).contains(&ms)), "{waited:?}");
    let step = lesson.steps.iter().find(|s| s.title == "A new leader").unwrap();
    let prediction_line = step.parts.iter().find_map(|p| match p {
        Part::Prediction(prediction) => Some(prediction.line),
        _ => None,
    });
    let confirmed = StepEvent::PredictionConfirmed { line: prediction_line.unwrap() };
    assert_eq!(new_leader.events.last(), Some(&confirmed), "the proofs are checked at the end of the step");
}

#[test]
fn the_readme_example_is_a_lesson_that_replays() {
    let readme = std::fs::read_to_string(lessons_dir().join("README.md")).unwrap();
    let start = readme.find("````markdown\n").expect("the README has an example") + "````markdown\n".len();
    let end = start + readme[start..].find("\n````\n").expect("the example ends");
    let lesson = parsed("lessons/README.md", &readme[start..end]);
    assert_eq!(lesson.title, "Leaders and followers");
    assert_eq!(lesson.steps.len(), 2);
    lesson::replay(&lesson).unwrap_or_else(|failure| panic!("{failure}"));
}

/// A small lesson that works; the error tests break one line of it at a time.
const GOOD: &[&str] = &[
    "# Broken on purpose",                            // 1
    "",                                               // 2
    "```cluster",                                     // 3
    "brokers 3",                                      // 4
    "topic orders partitions=3 replication-factor=3", // 5
    "```",                                            // 6
    "",                                               // 7
    "## Step: Start",                                 // 8
    "",                                               // 9
    "```kafkalab",                                    // 10
    "advance 1s",                                     // 11
    "```",                                            // 12
    "",                                               // 13
    "## Step: Kill the leader",                       // 14
    "",                                               // 15
    "```task",                                        // 16
    "goal: Kill the leader of orders/0.",             // 17
    "check: leader orders/0 != 1",                    // 18
    "within: 15s",                                    // 19
    "hint: kill 1",                                   // 20
    "solution: kill 1",                               // 21
    "```",                                            // 22
    "",                                               // 23
    "```predict",                                     // 24
    "question: Who leads?",                           // 25
    "choice: nobody",                                 // 26
    "answer: broker 2",                               // 27
    "proof: leader orders/0 == 2",                    // 28
    "```",                                            // 29
    "",                                               // 30
    "```wait",                                        // 31
    "until isr orders/0 == [2 3] within 15s",         // 32
    "```",                                            // 33
];

/// The good lesson with line `number` (1-based) replaced by `text`.
fn with_line(number: usize, text: &str) -> String {
    let mut lines: Vec<&str> = GOOD.to_vec();
    lines[number - 1] = text;
    lines.join("\n")
}

fn error_of(text: &str) -> String {
    match lesson::parse("lessons/03-acks.md", text) {
        Ok(_) => panic!("parsed, but should not have:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn the_good_lesson_replays() {
    let lesson = parsed("lessons/good.md", &GOOD.join("\n"));
    let replay = lesson::replay(&lesson).unwrap_or_else(|failure| panic!("{failure}"));
    assert_eq!(replay.steps[1].events.len(), 3);
}

#[test]
fn parse_errors_name_the_file_the_line_and_what_is_wrong() {
    let cases: &[(usize, &str, &str)] = &[
        (
            18,
            "check: leader orders != 1",
            "lessons/03-acks.md:18: in a task's check: column 8: \"orders\" is not a partition; write topic/index, as in orders/0",
        ),
        (
            11,
            "advnace 1s",
            "lessons/03-acks.md:11: in an action: column 1: unknown command \"advnace\"; expected kill, restart, shutdown, produce, consume, advance, split, heal, loss, create-topic, alter-topic, delete-topic, elect-preferred, set, producer, consumer, stop, begin, commit or abort",
        ),
        (
            11,
            "produce ordrs value=a",
            "lessons/03-acks.md:11: in an action: unknown topic \"ordrs\"; the lesson's topics here are orders",
        ),
        (21, "solution: kill 4", "lessons/03-acks.md:21: in a task's solution: there is no broker 4; the cluster has brokers 1 to 3"),
        (
            21,
            "solution: kill c4",
            "lessons/03-acks.md:21: in a task's solution: there is no controller c4; the cluster has controllers c1 to c3",
        ),
        (
            28,
            "proof: controller == 7",
            "lessons/03-acks.md:28: in a prediction's proof: there is no controller c7; the cluster has controllers c1 to c3",
        ),
        (
            32,
            "until isr orders/7 == [2 3] within 15s",
            "lessons/03-acks.md:32: in a wait: there is no partition orders/7; orders has partitions 0 to 2",
        ),
        (
            28,
            "proof: leader orders/0 == 5",
            "lessons/03-acks.md:28: in a prediction's proof: there is no broker 5; the cluster has brokers 1 to 3",
        ),
        (21, "# no solution", "lessons/03-acks.md:16: a task needs a solution: line"),
        (27, "choice: broker 2", "lessons/03-acks.md:24: a prediction needs an answer: line"),
        (
            20,
            "tip: kill 1",
            "lessons/03-acks.md:20: in a task: unknown field \"tip\"; expected goal, check, hint, solution, within",
        ),
        (19, "within: 15", "lessons/03-acks.md:19: in a task: within: a duration needs a unit: ms, s or min, as in 15s"),
        (
            32,
            "until isr orders/0 == [2 3]",
            "lessons/03-acks.md:32: in a wait: write until <check> within <duration>, as in until leader orders/0 != 1 within 15s",
        ),
        (
            32,
            "until isr orders/0 > [2 3] within 15s",
            "lessons/03-acks.md:32: in a wait: column 14: only == and != compare a value that is not a number",
        ),
        (14, "## Setp: Kill the leader", "lessons/03-acks.md:14: a second-level heading starts a step: write it as ## Step: <title>"),
        (33, "", "lessons/03-acks.md:31: this fenced block is never closed: end it with a line of ```"),
        (
            5,
            "topic orders partitions=3 replication-factor=4",
            "lessons/03-acks.md:5: in the cluster: topic orders: replication factor 4 needs that many brokers, and there are 3",
        ),
        (
            5,
            "topic orders partitions=three",
            "lessons/03-acks.md:5: in the cluster: column 14: \"three\" is not a number",
        ),
        (4, "brokers many", "lessons/03-acks.md:4: in the cluster: \"many\" is not a broker count from 1 to 64"),
        (1, "Broken on purpose", "lessons/03-acks.md:1: a lesson starts with its title: # <title>"),
        (8, "", "lessons/03-acks.md:10: a ```kafkalab block belongs in a step (## Step: <title>)"),
        (
            18,
            "check: leaders orders/0 != 1",
            "lessons/03-acks.md:18: in a task's check: column 1: unknown check \"leaders\"; expected one of leader, epoch, isr, hw, leo, lso, broker, controller, role, controller-epoch, metadata, group, generation, members, owner, committed, lag, processed, duplicates, client, transaction, acked, lost, errors, log-start, records, batches, bytes, value",
        ),
        (
            18,
            "check: errors orders/0 NOT_ENOUGH == 1",
            "lessons/03-acks.md:18: in a task's check: column 17: \"NOT_ENOUGH\" is not an error a producer is told; expected UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE, NOT_LEADER_OR_FOLLOWER, REQUEST_TIMED_OUT, NOT_ENOUGH_REPLICAS, NOT_ENOUGH_REPLICAS_AFTER_APPEND",
        ),
    ];
    for (line, replacement, expected) in cases {
        assert_eq!(&error_of(&with_line(*line, replacement)), expected, "line {line} as {replacement:?}");
    }
}

#[test]
fn a_lesson_without_a_cluster_or_steps_is_refused() {
    assert_eq!(
        error_of("# Title\n\nJust words.\n"),
        "lessons/03-acks.md:1: the lesson has no ```cluster block describing its starting cluster"
    );
    assert_eq!(
        error_of("# Title\n\n```cluster\nbrokers 1\n```\n"),
        "lessons/03-acks.md:1: the lesson has no steps: add one with ## Step: <title>"
    );
    assert_eq!(error_of(""), "lessons/03-acks.md:1: a lesson starts with its title: # <title>");
}

#[test]
fn a_topic_created_by_the_lesson_can_be_named_after_it_is_created() {
    let mut text = with_line(11, "create-topic payments partitions=2 replication-factor=2");
    text.push_str("\n\n```kafkalab\nadvance 1s\nproduce payments partition=1 value=a\n```\n");
    parsed("lessons/good.md", &text);
    let early = with_line(11, "produce payments value=a");
    assert!(error_of(&early).contains("unknown topic \"payments\""));
}

#[test]
fn a_task_that_is_already_done_at_the_start_fails_the_replay_with_a_clear_message() {
    let lesson = parsed("lessons/broken.md", &with_line(18, "check: leader orders/0 == 1"));
    let failure = lesson::replay(&lesson).unwrap_err();
    assert!(matches!(failure.kind, FailureKind::TaskAlreadyDone { .. }));
    assert_eq!(
        failure.to_string(),
        "lessons/broken.md:16: step 2 (Kill the leader): the task is already done before the learner acts: \
         `leader orders/0 == 1` holds at the start; a task must ask for a change"
    );
}

#[test]
fn a_wrong_prediction_and_a_wait_that_never_ends_fail_the_replay_at_their_lines() {
    let lesson = parsed("lessons/broken.md", &with_line(28, "proof: leader orders/0 == 3"));
    assert_eq!(
        lesson::replay(&lesson).unwrap_err().to_string(),
        "lessons/broken.md:28: step 2 (Kill the leader): the prediction's answer is not what the lab shows: \
         expected leader orders/0 == 3, but it is 2"
    );
    let lesson = parsed("lessons/broken.md", &with_line(32, "until isr orders/0 == [1 2 3] within 2s"));
    assert_eq!(
        lesson::replay(&lesson).unwrap_err().to_string(),
        "lessons/broken.md:32: step 2 (Kill the leader): the wait did not end within 2000 ms: \
         expected isr orders/0 == [1 2 3], but it is [2 3]"
    );
    let lesson = parsed("lessons/broken.md", &with_line(19, "within: 1s"));
    assert_eq!(
        lesson::replay(&lesson).unwrap_err().to_string(),
        "lessons/broken.md:18: step 2 (Kill the leader): the task's solution did not do it within 1000 ms: \
         expected leader orders/0 != 1, but it is 1"
    );
}

#[test]
fn a_command_the_lab_refuses_fails_the_replay_at_its_line() {
    let lesson = parsed("lessons/broken.md", &with_line(11, "restart 1"));
    assert_eq!(
        lesson::replay(&lesson).unwrap_err().to_string(),
        "lessons/broken.md:11: step 1 (Start): the lab refused `restart 1`: broker 1 is already running"
    );
}

/// Lines that look like a lesson's, so random lessons reach past the first error.
fn lesson_like_line() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        Just("# Title".to_string()),
        Just("## Step: one".to_string()),
        Just("## Step:".to_string()),
        Just("```cluster".to_string()),
        Just("```kafkalab".to_string()),
        Just("```task".to_string()),
        Just("```predict".to_string()),
        Just("```wait".to_string()),
        Just("```".to_string()),
        Just("````".to_string()),
        Just("brokers 3".to_string()),
        Just("topic orders partitions=3 replication-factor=3".to_string()),
        Just("goal: do it".to_string()),
        Just("check: leader orders/0 != 1".to_string()),
        Just("solution: kill 1".to_string()),
        Just("hint: kill 1".to_string()),
        Just("answer: yes".to_string()),
        Just("proof: value orders/0 key=\"a b\" == tombstone".to_string()),
        Just("until leader orders/0 == none within 1s".to_string()),
        "[a-z:=/ 0-9\"|#\\[\\]`-]{0,30}",
        "\\PC{0,20}",
    ];
    prop_oneof![
        fragment.clone(),
        (fragment.clone(), "[a-z0-9:=/ \"\\[\\]!<>-]{0,12}").prop_map(|(a, b)| format!("{a}{b}")),
        (
            "(goal|check|hint|solution|within|question|choice|answer|proof|explain|seed|brokers|topic|set|until): ?",
            "\\PC{0,24}"
        )
            .prop_map(|(a, b)| format!("{a}{b}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn no_text_makes_the_parser_panic(text in "\\PC{0,200}") {
        let _ = lesson::parse("lessons/random.md", &text);
    }

    #[test]
    fn no_lesson_like_text_makes_the_parser_panic(lines in proptest::collection::vec(lesson_like_line(), 0..40)) {
        let text = lines.join("\n");
        if let Err(e) = lesson::parse("lessons/random.md", &text) {
            prop_assert!(e.line >= 1 && e.line <= lines.len().max(1), "{e}");
            prop_assert!(e.to_string().starts_with("lessons/random.md:"));
        }
    }
}
