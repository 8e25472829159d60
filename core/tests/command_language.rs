//! The command language, parsed and printed: every command, its errors with their columns, and
//! the round trip from text to command and back.

use kafkalab_core::command::{Command, NodeName, SplitMember};
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
    let e = Command::parse("kill two").unwrap_err();
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
