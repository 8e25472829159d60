//! `docs/console-exercises.md` walks a learner through Kafka's console exercises against
//! `kafkalab serve`. This test runs every ```` ```sh ```` block of it, in order, against one
//! fresh server (its ports put in place of 9092 and 8080), and checks that each line of the
//! ```` ```output ```` block under a command appears in what the command printed.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::TestServer;
use kafkalab_native::http::WebRoot;

/// One command of the page, with the lines its output must contain.
struct Exercise {
    line: usize,
    command: String,
    expected: Vec<String>,
}

fn exercises(text: &str) -> Vec<Exercise> {
    let mut exercises: Vec<Exercise> = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((number, line)) = lines.next() {
        let kind = match line.trim() {
            "```sh" => "sh",
            "```output" => "output",
            _ => continue,
        };
        let body: Vec<String> =
            lines.by_ref().map(|(_, l)| l).take_while(|l| l.trim() != "```").map(str::to_string).collect();
        if kind == "sh" {
            exercises.push(Exercise { line: number + 1, command: body.join("\n"), expected: Vec::new() });
        } else {
            let exercise = exercises.last_mut().expect("an output block follows a command");
            exercise.expected = body;
        }
    }
    exercises
}

/// Tabs and runs of spaces compare equal: the tools align columns with either.
fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test(flavor = "multi_thread")]
async fn every_console_exercise_runs_against_kafkalab_serve_as_the_page_shows() {
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/console-exercises.md");
    let text = std::fs::read_to_string(&page).expect("docs/console-exercises.md");
    let exercises = exercises(&text);
    assert!(exercises.len() >= 15, "the page has its exercises ({} found)", exercises.len());
    if !Path::new("/usr/bin/kcat").exists() {
        assert!(
            std::env::var_os("KAFKALAB_REQUIRE_CLIENTS").is_none(),
            "kcat is not installed: run scripts/setup.sh test"
        );
        eprintln!("note: kcat is not installed; skipping");
        return;
    }

    let server = TestServer::start(3, WebRoot::NotBuilt).await;
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let bootstrap = format!("127.0.0.1:{}", server.broker_ports[0]);
    let admin = format!("127.0.0.1:{}", server.http_port);
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_kafkalab"));
    let path = format!("{}:{}", binary.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());

    for exercise in exercises {
        let command = exercise.command.replace("127.0.0.1:9092", &bootstrap).replace("127.0.0.1:8080", &admin);
        let path = path.clone();
        let output = tokio::task::spawn_blocking(move || {
            Command::new("timeout").args(["90", "sh", "-c", &command]).env("PATH", path).output()
        })
        .await
        .expect("join")
        .expect("sh runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let line = exercise.line;
        assert!(
            output.status.success(),
            "docs/console-exercises.md:{line}: `{}` failed\n{stdout}\n{stderr}",
            exercise.command
        );
        let printed = squeeze(&stdout);
        for expected in &exercise.expected {
            assert!(
                printed.contains(&squeeze(expected)),
                "docs/console-exercises.md:{line}: `{}` did not print {expected:?}\n{stdout}\n{stderr}",
                exercise.command
            );
        }
    }
    server.stop().await;
}
