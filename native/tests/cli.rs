//! The `kafkalab` binary: one-line errors with the right exit status, and a real start,
//! answer and graceful stop.

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const KAFKALAB: &str = env!("CARGO_BIN_EXE_kafkalab");

fn kafkalab(args: &[&str]) -> Output {
    Command::new(KAFKALAB).args(args).output().expect("runs")
}

fn stderr_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr).lines().map(str::to_string).collect()
}

#[test]
fn a_bad_flag_is_one_line_and_status_2() {
    let output = kafkalab(&["serve", "--bogus"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr_lines(&output), ["kafkalab: unknown flag --bogus for serve (see kafkalab serve --help)"]);
}

#[test]
fn a_missing_or_bad_value_is_one_line_and_status_2() {
    for (args, needle) in [
        (&["serve", "--port"][..], "missing value for --port"),
        (&["serve", "--brokers", "many"][..], "--brokers"),
        (&["serve", "--http-port", "70000"][..], "--http-port"),
        (&["launch"][..], "unknown command launch"),
    ] {
        let output = kafkalab(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let lines = stderr_lines(&output);
        assert_eq!(lines.len(), 1, "{args:?}: {lines:?}");
        assert!(lines[0].contains(needle), "{args:?}: {lines:?}");
    }
}

#[test]
fn help_prints_usage_and_succeeds() {
    let output = kafkalab(&["--help"]);
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("kafkalab serve"));
    let output = kafkalab(&["serve", "--help"]);
    assert!(output.status.success());
    let usage = String::from_utf8_lossy(&output.stdout).to_string();
    for flag in ["--brokers", "--host", "--port", "--http-port", "--web-dir"] {
        assert!(usage.contains(flag), "{flag} in {usage}");
    }
}

#[test]
fn a_port_in_use_is_one_line_and_status_1() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("address").port();
    let web_dir = common::temp_dir("cli-port-in-use");
    let output = kafkalab(&[
        "serve",
        "--port",
        &port.to_string(),
        "--http-port",
        "0",
        "--web-dir",
        web_dir.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stderr_lines(&output), [format!("kafkalab: cannot listen on 127.0.0.1:{port}: address already in use")]);
}

#[test]
fn a_data_directory_another_server_holds_is_one_line_and_status_1() {
    let data_dir = common::temp_dir("cli-data-dir-locked");
    let _held = kafkalab_native::storage::DirectoryLock::take(&data_dir).expect("the test takes the lock");
    let web_dir = common::temp_dir("cli-data-dir-locked-web");
    let output = kafkalab(&[
        "serve",
        "--data-dir",
        data_dir.to_str().expect("utf-8 path"),
        "--port",
        "0",
        "--http-port",
        "0",
        "--web-dir",
        web_dir.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let lines = stderr_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains(".lock is locked by another kafkalab"), "{lines:?}");
    assert!(!data_dir.join("kafkalab.properties").exists(), "nothing was written to the directory in use");
}

#[test]
fn serve_starts_answers_and_stops_on_ctrl_c() {
    let mut child = Command::new(KAFKALAB)
        .args([
            "serve",
            "--in-memory",
            "--brokers",
            "2",
            "--port",
            "0",
            "--http-port",
            "0",
            "--web-dir",
            "/nonexistent/kafkalab-dist",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("a line");
    // "kafkalab: 2 brokers on 127.0.0.1:PORT1, 127.0.0.1:PORT2"
    assert!(first.starts_with("kafkalab: 2 brokers on "), "{first}");
    let address =
        first.trim().rsplit(", ").next().and_then(|a| a.split_whitespace().last()).expect("an address").to_string();

    let mut stream = std::net::TcpStream::connect(&address).expect("connect to broker 2");
    stream.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    // ApiVersions v0, correlation id 42, client id "t".
    let request = [0, 0, 0, 11, 0, 18, 0, 0, 0, 0, 0, 42, 0, 1, b't'];
    std::io::Write::write_all(&mut stream, &request).expect("send");
    let mut answer = [0u8; 10];
    std::io::Read::read_exact(&mut stream, &mut answer).expect("an answer");
    assert_eq!(&answer[4..8], &42i32.to_be_bytes(), "the correlation id");
    assert_eq!(&answer[8..10], &0i16.to_be_bytes(), "no error");

    // Ctrl-C, as the terminal would send it.
    let interrupted = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill runs");
    assert!(interrupted.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "kafkalab did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).expect("read");
    assert!(rest.contains("kafkalab: stopped"), "{rest}");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr).expect("read");
    assert!(stderr.contains("warning: no built page"), "{stderr}");
}
