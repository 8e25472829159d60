//! The tools' command lines: what each flag becomes, and mistakes named with the usage.

use super::*;

fn parse_strs(args: &[&str]) -> Result<Invocation, UsageError> {
    crate::cli::parse(args.iter().map(OsString::from))
}

fn tool(args: &[&str]) -> Tool {
    match parse_strs(args) {
        Ok(Invocation::Tool(tool)) => tool,
        other => panic!("{args:?} gave {other:?}"),
    }
}

fn mistake(args: &[&str]) -> String {
    parse_strs(args).expect_err("a usage error").0
}

#[test]
fn topics_create_takes_partitions_replication_and_repeated_configs() {
    let Tool::Topics(options) = tool(&[
        "topics",
        "--bootstrap-server",
        "localhost:19092",
        "--create",
        "--topic",
        "payments",
        "--partitions=6",
        "--replication-factor",
        "3",
        "--config",
        "cleanup.policy=compact",
        "--config",
        "retention.ms=1000",
    ]) else {
        panic!("a topics tool");
    };
    assert_eq!(options.bootstrap, "localhost:19092");
    let TopicsAction::Create(topic) = options.action else { panic!("create") };
    assert_eq!((topic.name.as_str(), topic.partitions, topic.replication_factor), ("payments", Some(6), Some(3)));
    assert_eq!(topic.configs.len(), 2);
    assert_eq!(topic.configs[1], ("retention.ms".to_string(), "1000".to_string()));
}

#[test]
fn topics_actions_and_their_defaults() {
    let Tool::Topics(options) = tool(&["topics", "--list"]) else { panic!("topics") };
    assert_eq!(options.bootstrap, DEFAULT_BOOTSTRAP);
    assert_eq!(options.action, TopicsAction::List);
    let Tool::Topics(options) = tool(&["topics", "--describe"]) else { panic!("topics") };
    assert_eq!(options.action, TopicsAction::Describe { topic: None });
    let Tool::Topics(options) = tool(&["topics", "--alter", "--topic", "t", "--partitions", "4"]) else {
        panic!("topics")
    };
    assert_eq!(options.action, TopicsAction::Alter { topic: "t".to_string(), partitions: 4 });
    let Tool::Topics(options) = tool(&["topics", "--delete", "--topic", "t"]) else { panic!("topics") };
    assert_eq!(options.action, TopicsAction::Delete { topic: "t".to_string() });
}

#[test]
fn produce_reads_kafkas_properties_and_acks() {
    let Tool::Produce(options) = tool(&[
        "produce",
        "--topic",
        "orders",
        "--property",
        "parse.key=true",
        "--property",
        "key.separator=:",
        "--acks",
        "1",
    ]) else {
        panic!("produce")
    };
    assert!(options.parse_key);
    assert_eq!(options.key_separator, ":");
    assert_eq!(options.acks, Acks::Leader);
    let Tool::Produce(options) = tool(&["produce", "--topic", "orders"]) else { panic!("produce") };
    assert_eq!((options.acks, options.parse_key, options.key_separator.as_str()), (Acks::All, false, "\t"));
}

#[test]
fn consume_takes_group_limits_and_print_properties() {
    let Tool::Consume(options) = tool(&[
        "consume",
        "--topic",
        "orders",
        "--from-beginning",
        "--group",
        "billing",
        "--property",
        "print.key=true",
        "--property",
        "key.separator=|",
        "--max-messages",
        "5",
        "--timeout-ms",
        "2000",
    ]) else {
        panic!("consume")
    };
    assert!(options.from_beginning);
    assert_eq!(options.group.as_deref(), Some("billing"));
    assert!(options.print.key && options.print.value);
    assert_eq!(options.print.key_separator, "|");
    assert_eq!((options.max_messages, options.timeout_ms), (Some(5), Some(2000)));
}

#[test]
fn groups_and_broker_commands() {
    let Tool::Groups(options) = tool(&["groups", "--describe", "--group", "g"]) else { panic!("groups") };
    assert_eq!(options.action, GroupsAction::Describe { group: "g".to_string() });
    let Tool::Broker(options) = tool(&["broker", "kill", "2", "--admin", "127.0.0.1:18080"]) else { panic!("broker") };
    assert_eq!((options.action, options.broker, options.admin.as_str()), (BrokerAction::Kill, 2, "127.0.0.1:18080"));
    let Tool::Broker(options) = tool(&["broker", "shutdown", "3"]) else { panic!("broker") };
    assert_eq!((options.action, options.admin.as_str()), (BrokerAction::Shutdown, DEFAULT_ADMIN));
}

#[test]
fn a_bad_flag_is_named_and_followed_by_the_usage() {
    let message = mistake(&["topics", "--list", "--bogus"]);
    let mut lines = message.lines();
    assert_eq!(lines.next(), Some("unknown flag --bogus for topics (see kafkalab topics --help)"));
    assert!(lines.next().is_some_and(|l| l.starts_with("Usage: kafkalab topics")), "{message}");
    assert!(!message.contains("Options:"), "only the usage lines: {message}");
}

#[test]
fn mistakes_name_the_flag_or_value_at_fault() {
    for (args, needle) in [
        (&["topics"][..], "exactly one of --create"),
        (&["topics", "--list", "--describe"][..], "exactly one of"),
        (&["topics", "--create"][..], "--create needs --topic"),
        (&["topics", "--create", "--topic", "t", "--partitions", "0"][..], "--partitions"),
        (&["topics", "--create", "--topic", "t", "--config", "nonsense"][..], "--config"),
        (&["topics", "--alter", "--topic", "t"][..], "--alter needs --partitions"),
        (&["produce"][..], "missing --topic"),
        (&["produce", "--topic"][..], "missing value for --topic"),
        (&["produce", "--topic", "t", "--acks", "2"][..], "--acks"),
        (&["produce", "--topic", "t", "--property", "parse.key=maybe"][..], "parse.key"),
        (&["produce", "--topic", "t", "--property", "print.key=true"][..], "unknown --property print.key"),
        (&["consume", "--topic", "t", "--max-messages", "-1"][..], "--max-messages"),
        (&["consume", "--topic", "t", "--from-beginning=yes"][..], "--from-beginning takes no value"),
        (&["consume", "--topic", "a", "--topic", "b"][..], "--topic is given twice"),
        (&["groups", "--describe"][..], "missing --group"),
        (&["broker", "kill"][..], "an action"),
        (&["broker", "explode", "1"][..], "unknown action explode"),
        (&["broker", "kill", "one"][..], "the broker id"),
    ] {
        let message = mistake(args);
        assert!(message.lines().next().is_some_and(|l| l.contains(needle)), "{args:?}: {message}");
    }
}
