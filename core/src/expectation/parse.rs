//! Reading an expectation line: a subject (a word and its operands), a comparison, a value. Each
//! error names the column where the line stops making sense and what was expected there.

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::quorum::{MetadataRecordType, ROLES};
use super::{Comparison, Expectation, Subject, Value, WORDS};
use crate::command::{error, parse_partition, tokenize, ClientName, ParseError, Token};
use crate::group::protocol::GroupState;
use crate::ids::{BrokerId, ControllerId, TopicPartition};
use crate::raft::Role;
use crate::transaction::protocol::TransactionState;
use crate::view::BrokerStatus;

/// Every group state, in Kafka's names.
const GROUP_STATES: [GroupState; 5] = [
    GroupState::Empty,
    GroupState::PreparingRebalance,
    GroupState::CompletingRebalance,
    GroupState::Stable,
    GroupState::Dead,
];

/// Every transaction state, in Kafka's names.
const TRANSACTION_STATES: [TransactionState; 8] = [
    TransactionState::Empty,
    TransactionState::Ongoing,
    TransactionState::PrepareCommit,
    TransactionState::PrepareAbort,
    TransactionState::CompleteCommit,
    TransactionState::CompleteAbort,
    TransactionState::PrepareEpochFence,
    TransactionState::Dead,
];

/// The line's tokens, read left to right.
struct Reader<'t, 'a> {
    tokens: &'t [Token<'a>],
    next: usize,
    /// The column just past the line, where a missing word is reported.
    end: usize,
}

impl<'t, 'a> Reader<'t, 'a> {
    fn take(&mut self, what: &str) -> Result<&'t Token<'a>, ParseError> {
        let token = self.tokens.get(self.next).ok_or_else(|| error(self.end, format!("expected {what}")))?;
        self.next += 1;
        Ok(token)
    }

    fn peek(&self) -> Option<&'t Token<'a>> {
        self.tokens.get(self.next)
    }

    fn rest(&self) -> &'t [Token<'a>] {
        &self.tokens[self.next.min(self.tokens.len())..]
    }

    fn partition(&mut self) -> Result<TopicPartition, ParseError> {
        parse_partition(self.take("a partition, such as orders/0")?)
    }

    /// A group id: any word, as long as it is not where the comparison goes.
    fn group(&mut self, after: &str) -> Result<String, ParseError> {
        let what = format!("a group id, such as billing, {after}");
        let token = self.take(&what)?;
        if is_comparison(&token.text) || token.text.is_empty() {
            return Err(error(token.column, format!("expected {what}")));
        }
        Ok(token.text.clone())
    }

    fn client(&mut self) -> Result<ClientName, ParseError> {
        ClientName::parse(self.take("a client name, such as alice")?)
    }

    /// `on N` after a partition, if it is there.
    fn on_broker(&mut self) -> Result<Option<BrokerId>, ParseError> {
        if self.peek().is_none_or(|t| t.text != "on") {
            return Ok(None);
        }
        self.next += 1;
        parse_broker(self.take("a broker id after \"on\"")?).map(Some)
    }

    /// `on cN` (or `on N`), if it is there.
    fn on_controller(&mut self) -> Result<Option<ControllerId>, ParseError> {
        if self.peek().is_none_or(|t| t.text != "on") {
            return Ok(None);
        }
        self.next += 1;
        parse_controller(self.take("a controller after \"on\", such as c2")?).map(Some)
    }

    /// A metadata record type, by KRaft's name.
    fn record_type(&mut self) -> Result<MetadataRecordType, ParseError> {
        let token = self.take("a metadata record type, such as RegisterBrokerRecord")?;
        MetadataRecordType::from_name(&token.text).ok_or_else(|| {
            let names: Vec<&str> = MetadataRecordType::ALL.iter().map(|kind| kind.name()).collect();
            error(token.column, format!("{:?} is not a metadata record type: {}", token.raw, names.join(", ")))
        })
    }
}

fn is_comparison(text: &str) -> bool {
    ["==", "!=", "<", "<=", ">", ">="].contains(&text)
}

impl Expectation {
    pub fn parse(line: &str) -> Result<Expectation, ParseError> {
        let tokens = tokenize(line)?;
        let mut reader = Reader { tokens: &tokens, next: 0, end: line.len() + 1 };
        let subject = parse_subject(&mut reader)?;
        let comparison_token = reader.take("a comparison: == != < <= > >=")?;
        let comparison = Comparison::parse(comparison_token)?;
        let value = parse_value(&subject, reader.rest(), reader.end)?;
        if !matches!(value, Value::Number(_)) && !matches!(comparison, Comparison::Equal | Comparison::NotEqual) {
            return Err(error(comparison_token.column, "only == and != compare a value that is not a number"));
        }
        Ok(Expectation { subject, comparison, value })
    }
}

fn parse_subject(reader: &mut Reader<'_, '_>) -> Result<Subject, ParseError> {
    let words = WORDS.join(", ");
    let verb = reader.take(&format!("an expectation, starting with one of {words}"))?;
    let subject = match verb.text.as_str() {
        "controller" => Subject::ActiveController,
        "role" => Subject::ControllerRole(parse_controller(reader.take("a controller, such as c2")?)?),
        "controller-epoch" => Subject::ControllerEpoch(reader.on_controller()?),
        "metadata" => {
            let kind = reader.record_type()?;
            Subject::MetadataRecords(kind, reader.on_controller()?)
        }
        "broker" => Subject::Broker(parse_broker(reader.take("a broker id")?)?),
        "leader" | "epoch" | "isr" | "hw" | "leo" | "lso" => {
            let partition = reader.partition()?;
            let on_column = reader.peek().map(|t| t.column);
            let on = reader.on_broker()?;
            match verb.text.as_str() {
                "hw" => Subject::HighWatermark(partition, on),
                "leo" => Subject::LogEndOffset(partition, on),
                "lso" => Subject::LastStableOffset(partition, on),
                _ if on.is_some() => {
                    return Err(error(on_column.unwrap_or(reader.end), "\"on\" only goes with hw, leo or lso"))
                }
                "leader" => Subject::Leader(partition),
                "epoch" => Subject::Epoch(partition),
                _ => Subject::Isr(partition),
            }
        }
        "group" => Subject::Group(reader.group("before the comparison")?),
        "generation" => Subject::Generation(reader.group("before the comparison")?),
        "members" => Subject::Members(reader.group("before the comparison")?),
        "duplicates" => Subject::Duplicates(reader.group("before the comparison")?),
        "owner" => {
            let partition = reader.partition()?;
            Subject::Owner(partition, reader.group("after the partition")?)
        }
        "committed" | "lag" => {
            let group = reader.group("before the partition")?;
            let partition = reader.partition()?;
            if verb.text == "lag" {
                Subject::Lag(group, partition)
            } else {
                Subject::Committed(group, partition)
            }
        }
        "processed" => Subject::Processed(reader.client()?),
        "client" => Subject::Client(reader.client()?),
        "transaction" => Subject::Transaction(reader.client()?),
        other => return Err(error(verb.column, format!("unknown expectation {other:?}; expected one of {words}"))),
    };
    Ok(subject)
}

/// A controller: `c2`, or `2` as `controller == 2` takes it.
fn parse_controller(token: &Token<'_>) -> Result<ControllerId, ParseError> {
    let digits = token.text.strip_prefix('c').unwrap_or(&token.text);
    digits
        .parse()
        .map(ControllerId)
        .map_err(|_| error(token.column, format!("{:?} is not a controller, such as c2", token.raw)))
}

pub(crate) fn parse_broker(token: &Token<'_>) -> Result<BrokerId, ParseError> {
    token.text.parse().map(BrokerId).map_err(|_| error(token.column, format!("{:?} is not a broker id", token.raw)))
}

fn parse_value(subject: &Subject, tokens: &[Token<'_>], end: usize) -> Result<Value, ParseError> {
    let first = tokens.first().ok_or_else(|| error(end, "expected a value to compare with"))?;
    let text = first.text.as_str();
    let value = match subject {
        _ if text == "none" => Value::None,
        Subject::Broker(_) => match text {
            "alive" => Value::Status(BrokerStatus::Alive),
            "fenced" => Value::Status(BrokerStatus::Fenced),
            "dead" => Value::Status(BrokerStatus::Dead),
            other => {
                return Err(error(first.column, format!("{other:?} is not a broker state: alive, fenced or dead")))
            }
        },
        Subject::Client(_) => match text {
            "alive" => Value::Alive(true),
            "dead" => Value::Alive(false),
            other => return Err(error(first.column, format!("{other:?} is not a client state: alive or dead"))),
        },
        Subject::Group(_) => Value::GroupState(named(first, &GROUP_STATES, |s| s.name(), "a group state")?),
        Subject::Transaction(_) => {
            Value::TransactionState(named(first, &TRANSACTION_STATES, |s| s.name(), "a transaction state")?)
        }
        Subject::Owner(..) => Value::Client(ClientName::parse(first)?),
        Subject::ControllerRole(_) => Value::Role(named(first, &ROLES, role_name, "a controller role")?),
        Subject::ActiveController if text.starts_with('c') => Value::Number(
            text[1..].parse().map_err(|_| error(first.column, format!("{:?} is not a controller", first.raw)))?,
        ),
        Subject::Isr(_) if text.starts_with('[') => return parse_brokers(tokens, end),
        Subject::Isr(_) => return Err(error(first.column, "an ISR is written as a list, such as [1 3]")),
        _ => Value::Number(
            text.parse().map_err(|_| error(first.column, format!("{:?} is not a number or none", first.raw)))?,
        ),
    };
    match tokens.get(1) {
        Some(extra) => Err(error(extra.column, format!("unexpected {:?}", extra.raw))),
        None => Ok(value),
    }
}

/// One of `all`, by its Kafka name (in any case).
fn named<T: Copy>(token: &Token<'_>, all: &[T], name: fn(T) -> &'static str, what: &str) -> Result<T, ParseError> {
    all.iter().copied().find(|&state| name(state).eq_ignore_ascii_case(&token.text)).ok_or_else(|| {
        let names: Vec<&str> = all.iter().map(|&state| name(state)).collect();
        error(token.column, format!("{:?} is not {what}: {} or none", token.raw, names.join(", ")))
    })
}

/// A Raft role's name as KRaft writes it (`leader`).
fn role_name(role: Role) -> &'static str {
    match role {
        Role::Leader => "leader",
        Role::Follower => "follower",
        Role::Candidate => "candidate",
        Role::Prospective => "prospective",
        Role::Unattached => "unattached",
        Role::Resigned => "resigned",
    }
}

/// `[1 3]`, `[1, 3]` or `[]`, possibly split over several tokens.
fn parse_brokers(tokens: &[Token<'_>], end: usize) -> Result<Value, ParseError> {
    let mut text = String::new();
    let mut last = 0;
    for (index, token) in tokens.iter().enumerate() {
        text.push_str(&token.text);
        text.push(' ');
        last = index;
        if token.text.ends_with(']') {
            break;
        }
    }
    if let Some(extra) = tokens.get(last + 1) {
        return Err(error(extra.column, format!("unexpected {:?} after the list", extra.raw)));
    }
    let inner = text
        .trim()
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .ok_or_else(|| error(end, "a list of brokers needs its closing ]"))?;
    let brokers = inner
        .split([' ', ','])
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse().map(BrokerId).map_err(|_| error(tokens[0].column, format!("{part:?} is not a broker id")))
        })
        .collect::<Result<BTreeSet<_>, _>>()?;
    Ok(Value::Brokers(brokers))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn column_of(line: &str) -> (usize, String) {
        let e = Expectation::parse(line).unwrap_err();
        (e.column, e.message)
    }

    #[test]
    fn a_group_id_in_double_quotes_may_hold_spaces() {
        let expectation = Expectation::parse("members \"night shift\" == 2").unwrap();
        assert_eq!(expectation.subject, Subject::Members("night shift".to_string()));
    }

    #[test]
    fn a_comparison_where_the_group_goes_says_a_group_was_expected() {
        let (column, message) = column_of("group == Stable");
        assert_eq!(column, 7);
        assert!(message.contains("expected a group id"), "{message}");
    }

    #[test]
    fn state_names_are_read_in_any_case_and_offered_when_wrong() {
        let expectation = Expectation::parse("group billing == stable").unwrap();
        assert_eq!(expectation.value, Value::GroupState(GroupState::Stable));
        let (column, message) = column_of("transaction alice == Committed");
        assert_eq!(column, 22);
        assert!(message.contains("CompleteCommit"), "{message}");
    }
}
