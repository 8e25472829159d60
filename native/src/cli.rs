//! The command line, parsed by hand: `kafkalab serve [options]` and the help texts.
//!
//! Every mistake becomes one [`UsageError`] line naming the problem; `main` prints it and
//! exits with status 2.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

/// The most brokers one `serve` runs (each takes a port; the page draws a handful).
pub const MAX_BROKERS: i32 = 32;

pub const MAIN_HELP: &str = "\
kafkalab: Kafka Lab's native server

Usage:
  kafkalab serve [options]   serve the page and run the simulated brokers
  kafkalab --help            print this help

Run `kafkalab serve --help` for the options.
";

pub const SERVE_HELP: &str = "\
Usage: kafkalab serve [--brokers N] [--host HOST] [--port PORT] [--http-port PORT] [--web-dir DIR]

Serves the built page over HTTP and listens as N simulated Kafka brokers that answer
real clients (try `kcat -b 127.0.0.1:9092 -L`).

Options:
  --brokers N        how many brokers to run, 1 to 32 (default 3)
  --host HOST        the address to listen on and advertise (default 127.0.0.1)
  --port PORT        broker 1's port; broker i listens on PORT+i-1 (default 9092;
                     0 gives every broker a free port)
  --http-port PORT   the page's port (default 8080; 0 picks a free port)
  --web-dir DIR      the built page (default dist)
  -h, --help         print this help
";

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invocation {
    /// Print this text and exit successfully.
    Help(&'static str),
    Serve(ServeOptions),
}

/// The options of `kafkalab serve`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServeOptions {
    pub broker_count: i32,
    pub host: String,
    /// Broker 1's port; broker `i` gets `first_broker_port + i - 1` (all free ports if 0).
    pub first_broker_port: u16,
    pub http_port: u16,
    pub web_dir: PathBuf,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            broker_count: 3,
            host: String::from("127.0.0.1"),
            first_broker_port: 9092,
            http_port: 8080,
            web_dir: PathBuf::from("dist"),
        }
    }
}

impl ServeOptions {
    /// The port broker `index` (0-based) listens on.
    pub fn broker_port(&self, index: i32) -> u16 {
        if self.first_broker_port == 0 {
            return 0;
        }
        // `parse` has checked that the last broker's port fits.
        u16::try_from(i32::from(self.first_broker_port) + index).unwrap_or(0)
    }
}

/// A command line that cannot be carried out, as one line for the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Invocation, UsageError> {
    let mut args = args.into_iter();
    let Some(command) = args.next() else {
        return Err(UsageError("missing command (see kafkalab --help)".to_string()));
    };
    match command.to_str() {
        Some("-h" | "--help" | "help") => Ok(Invocation::Help(MAIN_HELP)),
        Some("serve") => parse_serve(args),
        _ => Err(UsageError(format!("unknown command {} (see kafkalab --help)", command.to_string_lossy()))),
    }
}

fn parse_serve(mut args: impl Iterator<Item = OsString>) -> Result<Invocation, UsageError> {
    let mut options = ServeOptions::default();
    while let Some(arg) = args.next() {
        let arg = arg.to_string_lossy().into_owned();
        if arg == "-h" || arg == "--help" {
            return Ok(Invocation::Help(SERVE_HELP));
        }
        // Both `--port 9092` and `--port=9092`.
        let (flag, inline_value) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_string(), Some(OsString::from(value))),
            _ => (arg.clone(), None),
        };
        if !matches!(flag.as_str(), "--brokers" | "--host" | "--port" | "--http-port" | "--web-dir") {
            return Err(UsageError(format!(
                "unknown {} {arg} for serve (see kafkalab serve --help)",
                if arg.starts_with('-') { "flag" } else { "argument" }
            )));
        }
        let value = inline_value
            .or_else(|| args.next())
            .ok_or_else(|| UsageError(format!("missing value for {flag} (see kafkalab serve --help)")))?;
        match flag.as_str() {
            "--brokers" => options.broker_count = parse_broker_count(&value)?,
            "--host" => options.host = parse_host(&value)?,
            "--port" => options.first_broker_port = parse_port(&flag, &value)?,
            "--http-port" => options.http_port = parse_port(&flag, &value)?,
            _ => options.web_dir = PathBuf::from(value),
        }
    }
    check_port_range(&options)?;
    Ok(Invocation::Serve(options))
}

fn parse_broker_count(value: &OsString) -> Result<i32, UsageError> {
    value.to_str().and_then(|v| v.parse::<i32>().ok()).filter(|n| (1..=MAX_BROKERS).contains(n)).ok_or_else(|| {
        UsageError(format!(
            "invalid value {:?} for --brokers: expected a number from 1 to {MAX_BROKERS}",
            value.to_string_lossy()
        ))
    })
}

fn parse_host(value: &OsString) -> Result<String, UsageError> {
    value.to_str().filter(|v| !v.is_empty()).map(str::to_string).ok_or_else(|| {
        UsageError(format!(
            "invalid value {:?} for --host: expected an address such as 127.0.0.1",
            value.to_string_lossy()
        ))
    })
}

fn parse_port(flag: &str, value: &OsString) -> Result<u16, UsageError> {
    value.to_str().and_then(|v| v.parse::<u16>().ok()).ok_or_else(|| {
        UsageError(format!(
            "invalid value {:?} for {flag}: expected a port number from 0 to 65535",
            value.to_string_lossy()
        ))
    })
}

fn check_port_range(options: &ServeOptions) -> Result<(), UsageError> {
    let last = i32::from(options.first_broker_port) + options.broker_count - 1;
    if options.first_broker_port != 0 && last > i32::from(u16::MAX) {
        return Err(UsageError(format!(
            "--port {} leaves no room for {} brokers (the last would need port {last})",
            options.first_broker_port, options.broker_count
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(args: &[&str]) -> Result<Invocation, UsageError> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn serve_defaults_to_three_brokers_from_9092() {
        assert_eq!(parse_strs(&["serve"]), Ok(Invocation::Serve(ServeOptions::default())));
    }

    #[test]
    fn serve_takes_every_flag_in_both_forms() {
        let Ok(Invocation::Serve(options)) = parse_strs(&[
            "serve",
            "--brokers",
            "5",
            "--host=localhost",
            "--port",
            "19092",
            "--http-port=18080",
            "--web-dir",
            "web/dist",
        ]) else {
            panic!("parses");
        };
        assert_eq!(options.broker_count, 5);
        assert_eq!(options.host, "localhost");
        assert_eq!(options.broker_port(0), 19092);
        assert_eq!(options.broker_port(4), 19096);
        assert_eq!(options.http_port, 18080);
        assert_eq!(options.web_dir, PathBuf::from("web/dist"));
    }

    #[test]
    fn mistakes_are_one_line_naming_the_problem() {
        let message = |args: &[&str]| parse_strs(args).unwrap_err().0;
        assert_eq!(message(&["serve", "--bogus"]), "unknown flag --bogus for serve (see kafkalab serve --help)");
        assert_eq!(message(&["serve", "--port"]), "missing value for --port (see kafkalab serve --help)");
        assert!(message(&["serve", "--port", "nine"]).contains("--port"));
        assert!(message(&["serve", "--brokers", "0"]).contains("--brokers"));
        assert!(message(&["serve", "--port", "65535"]).contains("no room"));
        assert!(message(&["frobnicate"]).contains("unknown command frobnicate"));
        assert!(message(&[]).contains("missing command"));
        assert!(!message(&["serve", "--bogus"]).contains('\n'));
    }

    #[test]
    fn help_is_offered_at_both_levels() {
        assert_eq!(parse_strs(&["--help"]), Ok(Invocation::Help(MAIN_HELP)));
        assert_eq!(parse_strs(&["serve", "--port", "1", "-h"]), Ok(Invocation::Help(SERVE_HELP)));
    }
}
