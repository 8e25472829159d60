//! The tools' command lines: the flags each takes, in Kafka's tools' spelling
//! (`--bootstrap-server`, `--from-beginning`, `--property print.key=true`), parsed into a
//! [`Tool`]. A mistake names the flag and ends with the command's usage lines.

use std::collections::BTreeMap;
use std::ffi::OsString;

use super::{
    BrokerOptions, ConsumeOptions, GroupsAction, GroupsOptions, ProduceOptions, Tool, TopicsAction, TopicsOptions,
};
use crate::cli::{Invocation, UsageError, BROKER_HELP, CONSUME_HELP, GROUPS_HELP, PRODUCE_HELP, TOPICS_HELP};
use crate::client::admin::NewTopic;
use crate::client::produce::Acks;
use crate::http_admin::BrokerAction;

/// Where the tools look for a broker when no `--bootstrap-server` is given: `serve`'s first.
pub const DEFAULT_BOOTSTRAP: &str = "127.0.0.1:9092";
/// Where `broker` looks for `serve`'s admin endpoint: the page's default address.
pub const DEFAULT_ADMIN: &str = "127.0.0.1:8080";
/// Kafka's console tools' default `key.separator`.
pub const DEFAULT_KEY_SEPARATOR: &str = "\t";

/// The flags one command takes.
struct Spec {
    command: &'static str,
    help: &'static str,
    /// Flags followed by a value.
    valued: &'static [&'static str],
    /// Flags standing alone.
    switches: &'static [&'static str],
    /// Valued flags that may be given more than once.
    repeatable: &'static [&'static str],
}

/// A command line split into its flags and the words between them.
#[derive(Debug, Default)]
struct Flags {
    values: BTreeMap<&'static str, Vec<String>>,
    switches: Vec<&'static str>,
    positionals: Vec<String>,
}

impl Flags {
    fn value(&self, flag: &str) -> Option<&str> {
        self.values.get(flag).and_then(|v| v.last()).map(String::as_str)
    }

    fn all(&self, flag: &str) -> &[String] {
        self.values.get(flag).map_or(&[], Vec::as_slice)
    }

    fn has(&self, flag: &str) -> bool {
        self.switches.contains(&flag)
    }

    fn bootstrap(&self) -> String {
        self.value("--bootstrap-server").unwrap_or(DEFAULT_BOOTSTRAP).to_string()
    }
}

/// Parses the arguments after `kafkalab COMMAND`.
pub fn parse(command: &str, args: impl Iterator<Item = OsString>) -> Result<Invocation, UsageError> {
    let spec = spec(command);
    let Some(flags) = split(&spec, args)? else {
        return Ok(Invocation::Help(spec.help));
    };
    let tool = match command {
        "topics" => topics(&spec, &flags)?,
        "produce" => produce(&spec, &flags)?,
        "consume" => consume(&spec, &flags)?,
        "groups" => groups(&spec, &flags)?,
        _ => broker(&spec, &flags)?,
    };
    Ok(Invocation::Tool(tool))
}

fn spec(command: &str) -> Spec {
    const BOOTSTRAP: &str = "--bootstrap-server";
    match command {
        "topics" => Spec {
            command: "topics",
            help: TOPICS_HELP,
            valued: &[BOOTSTRAP, "--topic", "--partitions", "--replication-factor", "--config"],
            switches: &["--create", "--list", "--describe", "--alter", "--delete"],
            repeatable: &["--config"],
        },
        "produce" => Spec {
            command: "produce",
            help: PRODUCE_HELP,
            valued: &[BOOTSTRAP, "--topic", "--property", "--acks"],
            switches: &[],
            repeatable: &["--property"],
        },
        "consume" => Spec {
            command: "consume",
            help: CONSUME_HELP,
            valued: &[BOOTSTRAP, "--topic", "--group", "--property", "--max-messages", "--timeout-ms"],
            switches: &["--from-beginning"],
            repeatable: &["--property"],
        },
        "groups" => Spec {
            command: "groups",
            help: GROUPS_HELP,
            valued: &[BOOTSTRAP, "--group"],
            switches: &["--list", "--describe"],
            repeatable: &[],
        },
        _ => Spec { command: "broker", help: BROKER_HELP, valued: &["--admin"], switches: &[], repeatable: &[] },
    }
}

/// Splits the arguments into flags and positionals; `None` when help is asked for.
fn split(spec: &Spec, mut args: impl Iterator<Item = OsString>) -> Result<Option<Flags>, UsageError> {
    let mut flags = Flags::default();
    while let Some(arg) = args.next() {
        let arg = arg.to_string_lossy().into_owned();
        if arg == "-h" || arg == "--help" {
            return Ok(None);
        }
        if !arg.starts_with("--") {
            flags.positionals.push(arg);
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) => (name.to_string(), Some(value.to_string())),
            None => (arg.clone(), None),
        };
        if let Some(&switch) = spec.switches.iter().find(|s| **s == name) {
            if inline.is_some() {
                return Err(usage(spec, &format!("{switch} takes no value")));
            }
            flags.switches.push(switch);
        } else if let Some(&flag) = spec.valued.iter().find(|f| **f == name) {
            let value = match inline {
                Some(value) => value,
                None => args
                    .next()
                    .map(|v| v.to_string_lossy().into_owned())
                    .ok_or_else(|| usage(spec, &format!("missing value for {flag}")))?,
            };
            let values = flags.values.entry(flag).or_default();
            if !values.is_empty() && !spec.repeatable.contains(&flag) {
                return Err(usage(spec, &format!("{flag} is given twice")));
            }
            values.push(value);
        } else {
            return Err(usage(spec, &format!("unknown flag {name} for {}", spec.command)));
        }
    }
    Ok(Some(flags))
}

fn topics(spec: &Spec, flags: &Flags) -> Result<Tool, UsageError> {
    let actions = ["--create", "--list", "--describe", "--alter", "--delete"];
    let chosen: Vec<&str> = actions.iter().copied().filter(|a| flags.has(a)).collect();
    let [action] = chosen.as_slice() else {
        return Err(usage(spec, "topics needs exactly one of --create, --list, --describe, --alter, --delete"));
    };
    no_positionals(spec, flags)?;
    let topic = |needed_by: &str| {
        flags.value("--topic").map(str::to_string).ok_or_else(|| usage(spec, &format!("{needed_by} needs --topic")))
    };
    let partitions = flags.value("--partitions").map(|v| positive(spec, "--partitions", v)).transpose()?;
    let action = match *action {
        "--create" => {
            let replication_factor = flags
                .value("--replication-factor")
                .map(|v| {
                    positive(spec, "--replication-factor", v)
                        .and_then(|n| i16::try_from(n).map_err(|_| usage(spec, "--replication-factor is too large")))
                })
                .transpose()?;
            let configs = flags.all("--config").iter().map(|c| config(spec, c)).collect::<Result<_, _>>()?;
            TopicsAction::Create(NewTopic { name: topic("--create")?, partitions, replication_factor, configs })
        }
        "--list" => TopicsAction::List,
        "--describe" => TopicsAction::Describe { topic: flags.value("--topic").map(str::to_string) },
        "--alter" => {
            let partitions = partitions.ok_or_else(|| usage(spec, "--alter needs --partitions"))?;
            TopicsAction::Alter { topic: topic("--alter")?, partitions }
        }
        _ => TopicsAction::Delete { topic: topic("--delete")? },
    };
    Ok(Tool::Topics(TopicsOptions { bootstrap: flags.bootstrap(), action }))
}

fn produce(spec: &Spec, flags: &Flags) -> Result<Tool, UsageError> {
    no_positionals(spec, flags)?;
    let topic = required(spec, flags, "--topic")?;
    let acks = match flags.value("--acks") {
        None => Acks::All,
        Some(v) => Acks::parse(v)
            .ok_or_else(|| usage(spec, &format!("invalid value {v:?} for --acks: expected all, 1 or 0")))?,
    };
    let mut options = ProduceOptions {
        bootstrap: flags.bootstrap(),
        topic,
        acks,
        parse_key: false,
        key_separator: DEFAULT_KEY_SEPARATOR.to_string(),
    };
    for (name, value) in properties(spec, flags)? {
        match name.as_str() {
            "parse.key" => options.parse_key = boolean(spec, &name, &value)?,
            "key.separator" => options.key_separator = value,
            _ => return Err(usage(spec, &format!("unknown --property {name} for produce"))),
        }
    }
    Ok(Tool::Produce(options))
}

fn consume(spec: &Spec, flags: &Flags) -> Result<Tool, UsageError> {
    no_positionals(spec, flags)?;
    let number = |flag: &str| {
        flags.value(flag).map(|v| {
            v.parse::<u64>()
                .map_err(|_| usage(spec, &format!("invalid value {v:?} for {flag}: expected a whole number")))
        })
    };
    let mut options = ConsumeOptions {
        bootstrap: flags.bootstrap(),
        topic: required(spec, flags, "--topic")?,
        from_beginning: flags.has("--from-beginning"),
        group: flags.value("--group").map(str::to_string),
        print: super::console_consumer::Print::default(),
        max_messages: number("--max-messages").transpose()?,
        timeout_ms: number("--timeout-ms").transpose()?,
    };
    for (name, value) in properties(spec, flags)? {
        let print = &mut options.print;
        match name.as_str() {
            "print.key" => print.key = boolean(spec, &name, &value)?,
            "print.value" => print.value = boolean(spec, &name, &value)?,
            "print.partition" => print.partition = boolean(spec, &name, &value)?,
            "print.offset" => print.offset = boolean(spec, &name, &value)?,
            "print.timestamp" => print.timestamp = boolean(spec, &name, &value)?,
            "key.separator" => print.key_separator = value,
            _ => return Err(usage(spec, &format!("unknown --property {name} for consume"))),
        }
    }
    Ok(Tool::Consume(options))
}

fn groups(spec: &Spec, flags: &Flags) -> Result<Tool, UsageError> {
    no_positionals(spec, flags)?;
    let action = match (flags.has("--list"), flags.has("--describe")) {
        (true, false) => GroupsAction::List,
        (false, true) => GroupsAction::Describe { group: required(spec, flags, "--group")? },
        _ => return Err(usage(spec, "groups needs exactly one of --list, --describe")),
    };
    Ok(Tool::Groups(GroupsOptions { bootstrap: flags.bootstrap(), action }))
}

fn broker(spec: &Spec, flags: &Flags) -> Result<Tool, UsageError> {
    let [action, broker] = flags.positionals.as_slice() else {
        return Err(usage(spec, "broker needs an action (kill, restart or shutdown) and a broker id"));
    };
    let action = BrokerAction::parse(action).ok_or_else(|| {
        usage(spec, &format!("unknown action {action} for broker: expected kill, restart or shutdown"))
    })?;
    let broker = positive(spec, "the broker id", broker)?;
    let admin = flags.value("--admin").unwrap_or(DEFAULT_ADMIN).to_string();
    Ok(Tool::Broker(BrokerOptions { action, broker, admin }))
}

fn required(spec: &Spec, flags: &Flags, flag: &str) -> Result<String, UsageError> {
    flags.value(flag).map(str::to_string).ok_or_else(|| usage(spec, &format!("missing {flag}")))
}

fn no_positionals(spec: &Spec, flags: &Flags) -> Result<(), UsageError> {
    match flags.positionals.first() {
        Some(extra) => Err(usage(spec, &format!("unexpected argument {extra} for {}", spec.command))),
        None => Ok(()),
    }
}

fn positive(spec: &Spec, what: &str, value: &str) -> Result<i32, UsageError> {
    value
        .parse::<i32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| usage(spec, &format!("invalid value {value:?} for {what}: expected a positive number")))
}

fn config(spec: &Spec, text: &str) -> Result<(String, String), UsageError> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
        _ => Err(usage(spec, &format!("invalid value {text:?} for --config: expected NAME=VALUE"))),
    }
}

fn properties(spec: &Spec, flags: &Flags) -> Result<Vec<(String, String)>, UsageError> {
    flags
        .all("--property")
        .iter()
        .map(|p| match p.split_once('=') {
            Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
            _ => Err(usage(spec, &format!("invalid value {p:?} for --property: expected NAME=VALUE"))),
        })
        .collect()
}

fn boolean(spec: &Spec, name: &str, value: &str) -> Result<bool, UsageError> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(usage(spec, &format!("invalid value {value:?} for --property {name}: expected true or false"))),
    }
}

/// A mistake, then the command's usage lines (its help up to the first blank line).
fn usage(spec: &Spec, problem: &str) -> UsageError {
    let synopsis = spec.help.split("\n\n").next().unwrap_or_default();
    UsageError(format!("{problem} (see kafkalab {} --help)\n{synopsis}", spec.command))
}

#[cfg(test)]
#[path = "args_tests.rs"]
mod tests;
