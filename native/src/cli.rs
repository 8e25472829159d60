//! The command line, parsed by hand: `kafkalab serve [options]`, the tools' commands (parsed
//! in [`crate::tools::args`]) and the help texts.
//!
//! Every mistake becomes a [`UsageError`] naming the problem (for a tool, followed by its usage
//! lines); `main` prints it and exits with status 2.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

/// The most brokers one `serve` runs (each takes a port; the page draws a handful).
pub const MAX_BROKERS: i32 = 32;

pub const MAIN_HELP: &str = "\
kafkalab: Kafka Lab's native server and its Kafka tools

Usage:
  kafkalab serve [options]     serve the page and run the simulated brokers
  kafkalab topics [options]    create, list, describe, alter and delete topics
  kafkalab produce [options]   send lines from stdin as records (like kafka-console-producer)
  kafkalab consume [options]   print a topic's records (like kafka-console-consumer)
  kafkalab groups [options]    list and describe consumer groups (like kafka-consumer-groups)
  kafkalab broker ACTION N     kill, restart or shut down a broker of a running serve
  kafkalab --help              print this help

The tools speak the Kafka protocol: they work against any Kafka cluster too.
Run `kafkalab COMMAND --help` for a command's options.
";

pub const TOPICS_HELP: &str = "\
Usage: kafkalab topics [--bootstrap-server HOST:PORT] --create --topic T [--partitions N]
                       [--replication-factor R] [--config NAME=VALUE]...
       kafkalab topics [--bootstrap-server HOST:PORT] --list
       kafkalab topics [--bootstrap-server HOST:PORT] --describe [--topic T]
       kafkalab topics [--bootstrap-server HOST:PORT] --alter --topic T --partitions N
       kafkalab topics [--bootstrap-server HOST:PORT] --delete --topic T

Manages topics, as kafka-topics.sh does.

Options:
  --bootstrap-server HOST:PORT  a broker to start from (default 127.0.0.1:9092)
  --create                      create --topic
  --list                        print every topic's name
  --describe                    print each topic's partitions, leaders and in-sync replicas
  --alter                       grow --topic to --partitions partitions
  --delete                      delete --topic
  --topic T                     the topic
  --partitions N                partitions (--create: default the broker's num.partitions)
  --replication-factor R        replicas per partition (default the broker's)
  --config NAME=VALUE           a topic config such as cleanup.policy=compact (repeatable)
  -h, --help                    print this help
";

pub const PRODUCE_HELP: &str = "\
Usage: kafkalab produce [--bootstrap-server HOST:PORT] --topic T [--acks all|1|0]
                        [--property parse.key=true] [--property key.separator=SEP]

Sends each line of standard input as one record, as kafka-console-producer.sh does.

Options:
  --bootstrap-server HOST:PORT  a broker to start from (default 127.0.0.1:9092)
  --topic T                     the topic to produce to
  --acks all|1|0                replicas that must have a record (default all)
  --property parse.key=true     split each line into key and value at the separator
  --property key.separator=SEP  the separator (default a tab)
  -h, --help                    print this help
";

pub const CONSUME_HELP: &str = "\
Usage: kafkalab consume [--bootstrap-server HOST:PORT] --topic T [--from-beginning] [--group G]
                        [--property print.key=true] [--property key.separator=SEP]
                        [--max-messages N] [--timeout-ms MS]

Prints a topic's records, one per line, as kafka-console-consumer.sh does. Without --group it
reads every partition from the end (or the beginning); with --group it joins the group,
reads the partitions assigned to it from the group's committed offsets and commits.

Options:
  --bootstrap-server HOST:PORT  a broker to start from (default 127.0.0.1:9092)
  --topic T                     the topic to read
  --from-beginning              start where the log starts when there is no committed offset
  --group G                     consume as a member of consumer group G
  --property print.key=true     print each key before its value (also print.value,
                                print.partition, print.offset, print.timestamp)
  --property key.separator=SEP  what follows the key (default a tab)
  --max-messages N              stop after N records
  --timeout-ms MS               stop when no record came for MS milliseconds
  -h, --help                    print this help
";

pub const GROUPS_HELP: &str = "\
Usage: kafkalab groups [--bootstrap-server HOST:PORT] --list
       kafkalab groups [--bootstrap-server HOST:PORT] --describe --group G

Lists consumer groups, or shows where one stands on each partition (committed offset, log
end offset, lag and owner), as kafka-consumer-groups.sh does.

Options:
  --bootstrap-server HOST:PORT  a broker to start from (default 127.0.0.1:9092)
  --list                        print every group's name
  --describe                    print the group's partitions
  --group G                     the group
  -h, --help                    print this help
";

pub const BROKER_HELP: &str = "\
Usage: kafkalab broker (kill|restart|shutdown) N [--admin HOST:PORT]

Acts on broker N of a running `kafkalab serve`, through the admin endpoint on its page's port:
kill crashes it (its logs survive), restart starts it again, shutdown stops it cleanly.

Options:
  --admin HOST:PORT  the serve's page address (default 127.0.0.1:8080)
  -h, --help         print this help
";

pub const SERVE_HELP: &str = "\
Usage: kafkalab serve [--brokers N] [--host HOST] [--port PORT] [--http-port PORT] [--web-dir DIR]
                      [--data-dir DIR | --in-memory]

Serves the built page over HTTP and listens as N simulated Kafka brokers that answer
real clients (try `kcat -b 127.0.0.1:9092 -L`).

Options:
  --brokers N        how many brokers to run, 1 to 32 (default 3)
  --host HOST        the address to listen on and advertise (default 127.0.0.1)
  --port PORT        broker 1's port; broker i listens on PORT+i-1 (default 9092;
                     0 gives every broker a free port)
  --http-port PORT   the page's port (default 8080; 0 picks a free port)
  --web-dir DIR      the built page (default dist)
  --data-dir DIR     where the brokers keep their logs and the controllers their metadata,
                     recovered when serve starts again on it (default
                     $XDG_DATA_HOME/kafkalab/N-brokers, else ~/.local/share/kafkalab/N-brokers)
  --in-memory        keep nothing on disk: every serve starts a fresh cluster
  -h, --help         print this help
";

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invocation {
    /// Print this text and exit successfully.
    Help(&'static str),
    Serve(ServeOptions),
    /// One of the Kafka tools: `topics`, `produce`, `consume`, `groups` or `broker`.
    Tool(crate::tools::Tool),
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
    pub data_dir: DataDir,
}

/// Where `serve` keeps the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataDir {
    /// The per-user default for the number of brokers (see [`default_data_dir`]).
    Default,
    Path(PathBuf),
    /// Nowhere: `--in-memory`.
    InMemory,
}

/// `$XDG_DATA_HOME/kafkalab/N-brokers` (XDG's per-user data directory), else
/// `~/.local/share/kafkalab/N-brokers`, else `kafkalab-data/N-brokers` here. One per cluster
/// size, so a lab of 3 brokers and one of 5 never share a directory by default.
pub fn default_data_dir(broker_count: i32) -> PathBuf {
    let absolute = |value: Option<std::ffi::OsString>| value.map(PathBuf::from).filter(|path| path.is_absolute());
    let base = absolute(std::env::var_os("XDG_DATA_HOME"))
        .or_else(|| absolute(std::env::var_os("HOME")).map(|home| home.join(".local").join("share")))
        .map_or_else(|| PathBuf::from("kafkalab-data"), |data| data.join("kafkalab"));
    base.join(format!("{broker_count}-brokers"))
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            broker_count: 3,
            host: String::from("127.0.0.1"),
            first_broker_port: 9092,
            http_port: 8080,
            web_dir: PathBuf::from("dist"),
            data_dir: DataDir::Default,
        }
    }
}

impl ServeOptions {
    /// The data directory to use, if any.
    pub fn data_dir_path(&self) -> Option<PathBuf> {
        match &self.data_dir {
            DataDir::Default => Some(default_data_dir(self.broker_count)),
            DataDir::Path(path) => Some(path.clone()),
            DataDir::InMemory => None,
        }
    }

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
        Some(tool @ ("topics" | "produce" | "consume" | "groups" | "broker")) => crate::tools::args::parse(tool, args),
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
        if arg == "--in-memory" {
            options.data_dir = DataDir::InMemory;
            continue;
        }
        // Both `--port 9092` and `--port=9092`.
        let (flag, inline_value) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_string(), Some(OsString::from(value))),
            _ => (arg.clone(), None),
        };
        if !matches!(flag.as_str(), "--brokers" | "--host" | "--port" | "--http-port" | "--web-dir" | "--data-dir") {
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
            "--data-dir" => options.data_dir = DataDir::Path(PathBuf::from(value)),
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
    fn the_main_help_lists_every_command() {
        for command in ["serve", "topics", "produce", "consume", "groups", "broker"] {
            assert!(MAIN_HELP.contains(&format!("kafkalab {command} ")), "{command}");
            assert!(matches!(parse_strs(&[command, "--help"]), Ok(Invocation::Help(_))), "{command} --help");
        }
    }

    #[test]
    fn the_data_dir_is_per_user_by_default_named_by_flag_or_none_in_memory() {
        let options = |args: &[&str]| match parse_strs(args) {
            Ok(Invocation::Serve(options)) => options,
            other => panic!("{other:?}"),
        };
        let default = options(&["serve", "--brokers", "5"]).data_dir_path().expect("a default");
        assert!(default.ends_with("kafkalab/5-brokers"), "{}", default.display());
        assert_eq!(options(&["serve", "--data-dir=/tmp/lab"]).data_dir_path(), Some(PathBuf::from("/tmp/lab")));
        assert_eq!(options(&["serve", "--in-memory", "--port", "1"]).data_dir_path(), None);
    }

    #[test]
    fn help_is_offered_at_both_levels() {
        assert_eq!(parse_strs(&["--help"]), Ok(Invocation::Help(MAIN_HELP)));
        assert_eq!(parse_strs(&["serve", "--port", "1", "-h"]), Ok(Invocation::Help(SERVE_HELP)));
    }
}
