//! The command language, parsed and printed: every command, its errors with their columns, and
//! the round trip from text to command and back.

use kafkalab_core::command::{ClientName, Command, NodeName, Setting, SplitMember};
use kafkalab_core::ids::{BrokerId, ControllerId};
use kafkalab_core::message::Acks;
use kafkalab_core::partition_log::LogConfig;
#[test]
fn parses_each_command() {
    assert_eq!(Command::parse("kill 2"), Ok(Command::Kill { node: NodeName::Broker(BrokerId(2)) }));
    assert_eq!(Command::parse("  restart 3 "), Ok(Command::Restart { node: NodeName::Broker(BrokerId(3)) }));
    assert_eq!(Command::parse("kill c2"), Ok(Command::Kill { node: NodeName::Controller(ControllerId(2)) }));
    assert_eq!(Command::parse("advance 500ms"), Ok(Command::Advance { ms: 500 }));
    assert_eq!(Command::parse("advance 2s"), Ok(Command::Advance { ms: 2000 }));
    assert_eq!(
        Command::parse("produce orders key=alice value=\"10 euros\" acks=1"),
        Ok(Command::Produce {
            topic: "orders".to_string(),
            partition: None,
            key: Some("alice".to_string()),
            value: Some("10 euros".to_string()),
            acks: Acks::Leader,
            producer: None,
        })
    );
}

#[test]
fn printing_then_parsing_gives_the_same_command() {
    for line in
        ["kill 1", "restart 2", "advance 250ms", "advance 3s", "produce orders partition=2 key=k value=\"a b\" acks=0"]
    {
        let command = Command::parse(line).unwrap();
        assert_eq!(command.to_string(), line);
        assert_eq!(Command::parse(&command.to_string()), Ok(command));
    }
}

#[test]
fn splits_heal_and_loss() {
    let b = |id| SplitMember::Node(NodeName::Broker(BrokerId(id)));
    let c = |id| SplitMember::Node(NodeName::Controller(ControllerId(id)));
    assert_eq!(Command::parse("split 1 | 2 3"), Ok(Command::Split { groups: vec![vec![b(1)], vec![b(2), b(3)]] }));
    assert_eq!(
        Command::parse("split 1|2 controller"),
        Ok(Command::Split { groups: vec![vec![b(1)], vec![b(2), SplitMember::AllControllers]] })
    );
    assert_eq!(
        Command::parse("split 1 c1 | 2 c2 c3"),
        Ok(Command::Split { groups: vec![vec![b(1), c(1)], vec![b(2), c(2), c(3)]] })
    );
    assert_eq!(Command::parse("heal"), Ok(Command::Heal));
    assert_eq!(Command::parse("loss 15%"), Ok(Command::Loss { percent: 15 }));
    for line in [
        "split 1 | 2 3",
        "split 1 controller | 2 | 3",
        "split 1 c1 | 2 3 c2 c3",
        "kill c3",
        "restart c1",
        "heal",
        "loss 0%",
        "shutdown 2",
        "create-topic payments partitions=6 replication-factor=3",
        "create-topic users partitions=1 replication-factor=3 cleanup.policy=compact segment.ms=1000",
        "create-topic clicks partitions=1 replication-factor=1 retention.ms=60000 retention.bytes=4096",
        "alter-topic orders partitions=6",
        "elect-preferred",
        "elect-preferred orders/0 orders/2",
        "set min.insync.replicas=2",
        "set unclean.leader.election.enable=true",
    ] {
        assert_eq!(Command::parse(line).unwrap().to_string(), line);
    }
    assert!(Command::parse("split 1 2").unwrap_err().message.contains("two groups"));
    assert_eq!(Command::parse("split 1 | 1").unwrap_err().column, 11);
    assert!(Command::parse("split | 1").unwrap_err().message.contains("empty group"));
    assert!(Command::parse("loss 101%").unwrap_err().message.contains("0% to 100%"));
    assert!(Command::parse("loss 5").is_err());
    assert_eq!(Command::parse("heal now").unwrap_err().column, 6);
    assert_eq!(
        Command::parse("create-topic t"),
        Ok(Command::CreateTopic {
            name: "t".into(),
            partitions: 1,
            replication_factor: 1,
            config: LogConfig::default()
        })
    );
    assert!(Command::parse("alter-topic t").unwrap_err().message.contains("partitions=N"));
    assert!(Command::parse("alter-topic t replication-factor=2").unwrap_err().message.contains("unknown setting"));
    assert!(Command::parse("set retention.ms=5").unwrap_err().message.contains("unknown setting"));
    assert!(Command::parse("elect-preferred orders").unwrap_err().message.contains("not a partition"));
}

#[test]
fn errors_say_what_and_where() {
    let e = Command::parse("kil 2").unwrap_err();
    assert_eq!(e.column, 1);
    assert!(e.message.contains("unknown command \"kil\""), "{e}");
    let e = Command::parse("kill 2x").unwrap_err();
    assert_eq!(e.column, 6);
    let e = Command::parse("advance 5").unwrap_err();
    assert!(e.message.contains("needs a unit"), "{e}");
    let e = Command::parse("produce orders acks=2").unwrap_err();
    assert_eq!((e.column, e.message.contains("acks must be")), (16, true));
    let e = Command::parse("produce orders value=\"open").unwrap_err();
    assert_eq!(e.message, "unclosed quote");
    let e = Command::parse("kill 2 3").unwrap_err();
    assert_eq!(e.column, 8);
    assert_eq!(Command::parse("").unwrap_err().message, "empty command");
}

fn setting(key: &str, value: &str) -> Setting {
    Setting { key: key.to_string(), value: value.to_string() }
}

#[test]
fn named_clients_are_started_driven_and_stopped_by_name() {
    let alice = ClientName("alice".to_string());
    assert_eq!(
        Command::parse("consumer alice group=billing topics=orders isolation.level=read_committed"),
        Ok(Command::Consumer {
            name: alice.clone(),
            settings: vec![
                setting("group", "billing"),
                setting("topics", "orders"),
                setting("isolation.level", "read_committed")
            ],
        })
    );
    assert_eq!(Command::parse("kill alice"), Ok(Command::KillClient { client: alice.clone() }));
    assert_eq!(Command::parse("restart alice"), Ok(Command::RestartClient { client: alice.clone() }));
    assert_eq!(Command::parse("stop alice"), Ok(Command::Stop { client: alice }));
    // Brokers and controllers keep their meaning.
    assert_eq!(Command::parse("kill c2"), Ok(Command::Kill { node: NodeName::Controller(ControllerId(2)) }));
    let Ok(Command::Produce { producer: Some(p1), .. }) = Command::parse("produce orders key=a value=1 producer=p1")
    else {
        panic!("produce through a named producer")
    };
    assert_eq!(p1, ClientName("p1".to_string()));
}

#[test]
fn client_commands_print_back_as_written() {
    for line in [
        "producer p1 acks=1 enable.idempotence=false linger.ms=20",
        "producer tx transactional.id=orders-tx",
        "consumer bob group=billing topics=orders,payments group.instance.id=bob commit=after-processing crash=after-processing:5",
        "produce orders key=a value=1 producer=p1",
        "begin tx",
        "commit tx",
        "abort tx",
        "stop bob",
        "kill bob",
        "restart bob",
    ] {
        let command = Command::parse(line).unwrap();
        assert_eq!(command.to_string(), line);
    }
}

#[test]
fn client_settings_are_checked_where_written() {
    let error = Command::parse("producer p1 acks=2").unwrap_err();
    assert_eq!((error.column, error.message.as_str()), (13, "acks=\"2\": expected 0 or 1 or all or -1"));
    let error = Command::parse("consumer alice group=g topics=orders colour=red").unwrap_err();
    assert_eq!(error.column, 38);
    assert!(error.message.starts_with("unknown consumer setting \"colour\""), "{}", error.message);
    let error = Command::parse("consumer alice topics=orders").unwrap_err();
    assert!(error.message.contains("needs group="), "{}", error.message);
    let error = Command::parse("produce orders value=1 acks=1 producer=p1").unwrap_err();
    assert_eq!((error.column, error.message.as_str()), (24, "acks is a setting of producer p1, not of one record"));
    let error = Command::parse("producer c2").unwrap_err();
    assert!(error.message.contains("not a client name"), "{}", error.message);
    let error = Command::parse("consumer a group=g topics=t crash=sometime").unwrap_err();
    assert!(error.message.contains("after-processing:N"), "{}", error.message);
}
