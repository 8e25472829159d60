//! The one setting a [`super::Comparison`]'s two sides differ in, and how each side writes it
//! in the core's command language: lines run before anything else, or each action's line
//! rewritten (`produce orders value=a` becomes `... acks=1` on one side, `... acks=all` on the
//! other). Nothing here changes how the cluster behaves.

use kafkalab_core::command::{Command, Setting};

/// The one setting the two sides differ in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Difference {
    /// The producer's `acks`: 1 on the left, all on the right, for every `produce` and
    /// `producer` line that does not name its own.
    Acks,
    /// The cluster's `min.insync.replicas`: 1 against 2.
    MinInsyncReplicas,
    /// The cluster's `unclean.leader.election.enable`: false against true.
    UncleanLeaderElection,
    /// The replication factor of topic `orders`: 1 against 3 (both sides delete the topic and
    /// create it again with their own, before anything else happens).
    ReplicationFactor,
}

/// One of the two runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Left,
    Right,
}

impl Side {
    pub const BOTH: [Side; 2] = [Side::Left, Side::Right];

    pub(super) fn index(self) -> usize {
        match self {
            Side::Left => 0,
            Side::Right => 1,
        }
    }

    /// `left` or `right`, for `data-side` attributes.
    pub fn name(self) -> &'static str {
        match self {
            Side::Left => "left",
            Side::Right => "right",
        }
    }
}

impl Difference {
    pub const ALL: [Difference; 4] = [
        Difference::Acks,
        Difference::MinInsyncReplicas,
        Difference::UncleanLeaderElection,
        Difference::ReplicationFactor,
    ];

    /// The setting's name as Kafka writes it (the replication factor as `create-topic` takes it).
    pub fn key(self) -> &'static str {
        match self {
            Difference::Acks => "acks",
            Difference::MinInsyncReplicas => "min.insync.replicas",
            Difference::UncleanLeaderElection => "unclean.leader.election.enable",
            Difference::ReplicationFactor => "replication-factor",
        }
    }

    pub fn from_key(key: &str) -> Option<Difference> {
        Difference::ALL.into_iter().find(|d| d.key() == key)
    }

    /// The setting's value on `side`.
    pub fn value(self, side: Side) -> &'static str {
        let [left, right] = match self {
            Difference::Acks => ["1", "all"],
            Difference::MinInsyncReplicas => ["1", "2"],
            Difference::UncleanLeaderElection => ["false", "true"],
            Difference::ReplicationFactor => ["1", "3"],
        };
        [left, right][side.index()]
    }

    /// What a side is titled: `acks=1`, `acks=all`.
    pub fn label(self, side: Side) -> String {
        format!("{}={}", self.key(), self.value(side))
    }

    /// The lines each side runs before any action, to take its value (both sides run as many).
    pub fn setup_lines(self, side: Side) -> Vec<String> {
        let value = self.value(side);
        match self {
            Difference::Acks => Vec::new(),
            Difference::MinInsyncReplicas | Difference::UncleanLeaderElection => {
                vec![format!("set {}={value}", self.key())]
            }
            Difference::ReplicationFactor => vec![
                String::from("delete-topic orders"),
                format!("create-topic orders partitions=3 replication-factor={value}"),
            ],
        }
    }

    /// An action's line as `side` runs it: with `acks`, a console `produce` or a `producer`
    /// that does not name its acks gets the side's; every other line is left as typed (a line
    /// that does not parse too: running it says why).
    pub fn rewrite(self, side: Side, line: &str) -> String {
        if self != Difference::Acks || names_acks(line) {
            return line.to_string();
        }
        let value = self.value(side);
        match Command::parse(line) {
            Ok(Command::Produce { producer: None, .. }) => format!("{} acks={value}", line.trim_end()),
            Ok(Command::Producer { name, mut settings }) => {
                settings.push(Setting { key: String::from("acks"), value: value.to_string() });
                Command::Producer { name, settings }.to_string()
            }
            _ => line.to_string(),
        }
    }
}

/// Whether a line names `acks=` as a word of its own, outside quotes (`value="acks=1"` does not).
fn names_acks(line: &str) -> bool {
    let mut quoted = false;
    let mut word_start = true;
    for (index, c) in line.char_indices() {
        if c == '"' {
            quoted = !quoted;
        }
        if !quoted && word_start && line[index..].starts_with("acks=") {
            return true;
        }
        word_start = !quoted && (c == ' ' || c == '\t');
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_acks_a_produce_that_names_none_takes_each_sides_and_one_that_names_its_own_keeps_it() {
        let d = Difference::Acks;
        assert_eq!(d.rewrite(Side::Left, "produce orders value=a"), "produce orders value=a acks=1");
        assert_eq!(d.rewrite(Side::Right, "produce orders value=a"), "produce orders value=a acks=all");
        assert_eq!(d.rewrite(Side::Left, "produce orders acks=all value=a"), "produce orders acks=all value=a");
        assert_eq!(
            d.rewrite(Side::Left, r#"produce orders value="acks=0 x""#),
            r#"produce orders value="acks=0 x" acks=1"#,
            "acks= inside a quoted value is not the record's acks"
        );
        assert_eq!(d.rewrite(Side::Left, "produce orders value=a producer=p1"), "produce orders value=a producer=p1");
        assert_eq!(d.rewrite(Side::Right, "producer p1 linger.ms=5"), "producer p1 linger.ms=5 acks=all");
        assert_eq!(d.rewrite(Side::Left, "producer p1 acks=0"), "producer p1 acks=0");
        assert_eq!(d.rewrite(Side::Left, "kill 2"), "kill 2");
        assert_eq!(Difference::MinInsyncReplicas.rewrite(Side::Left, "produce orders"), "produce orders");
    }
}
