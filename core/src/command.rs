//! The command language: one line per thing a person, a lesson or a test does to a run.
//!
//! ```text
//! kill 2                                      crash broker 2 (its logs survive)
//! restart 2                                   start it again
//! produce orders key=alice value=10 acks=all  send one record (acks 0, 1 or all; default all)
//! produce orders partition=1 value="a b"      choose the partition; quote values with spaces
//! advance 500ms                               let simulated time pass (ms or s)
//! ```
//!
//! Lines are parsed into [`Command`]s and printed back in the same form, so a run's actions can
//! be stored (in a URL, a lesson) and replayed exactly.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

use crate::ids::BrokerId;
use crate::message::Acks;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    Kill { broker: BrokerId },
    Restart { broker: BrokerId },
    Produce { topic: String, partition: Option<i32>, key: Option<String>, value: Option<String>, acks: Acks },
    Advance { ms: u64 },
}

/// Why a line is not a command, and where in the line (1-based column).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

struct Token<'a> {
    column: usize,
    text: String,
    raw: &'a str,
}

fn error(column: usize, message: impl Into<String>) -> ParseError {
    ParseError { column, message: message.into() }
}

/// Splits on spaces; a double-quoted stretch (`value="a b"`) stays in one token.
fn tokenize(line: &str) -> Result<Vec<Token<'_>>, ParseError> {
    let mut tokens = Vec::new();
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b' ' || bytes[i] == b'\t' {
            i += 1;
            continue;
        }
        let start = i;
        let mut text = String::new();
        while i < bytes.len() && bytes[i] != b' ' && bytes[i] != b'\t' {
            if bytes[i] == b'"' {
                let quote = i;
                i += 1;
                let close = line[i..].find('"').ok_or_else(|| error(quote + 1, "unclosed quote"))?;
                text.push_str(&line[i..i + close]);
                i += close + 1;
            } else {
                let c = line[i..].chars().next().expect("inside the line");
                text.push(c);
                i += c.len_utf8();
            }
        }
        tokens.push(Token { column: start + 1, text, raw: &line[start..i] });
    }
    Ok(tokens)
}

fn parse_broker(token: Option<&Token<'_>>, end: usize) -> Result<BrokerId, ParseError> {
    let token = token.ok_or_else(|| error(end, "expected a broker id, such as 2"))?;
    token
        .text
        .parse::<i32>()
        .map(BrokerId)
        .map_err(|_| error(token.column, alloc::format!("{:?} is not a broker id", token.raw)))
}

fn parse_duration(token: &Token<'_>) -> Result<u64, ParseError> {
    let text = token.text.as_str();
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000)
    } else {
        return Err(error(token.column, alloc::format!("{text:?} needs a unit: ms or s, as in 500ms")));
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| error(token.column, alloc::format!("{text:?} is not a duration")))
}

impl Command {
    pub fn parse(line: &str) -> Result<Command, ParseError> {
        let tokens = tokenize(line)?;
        let end = line.len() + 1;
        let Some(verb) = tokens.first() else {
            return Err(error(1, "empty command"));
        };
        let command = match verb.text.as_str() {
            "kill" => Command::Kill { broker: parse_broker(tokens.get(1), end)? },
            "restart" => Command::Restart { broker: parse_broker(tokens.get(1), end)? },
            "advance" => {
                let token = tokens.get(1).ok_or_else(|| error(end, "expected a duration, such as 500ms"))?;
                Command::Advance { ms: parse_duration(token)? }
            }
            "produce" => return Self::parse_produce(&tokens, end),
            other => {
                return Err(error(
                    verb.column,
                    alloc::format!("unknown command {other:?}; expected kill, restart, produce or advance"),
                ))
            }
        };
        let expected = if matches!(command, Command::Produce { .. }) { usize::MAX } else { 2 };
        if let Some(extra) = tokens.get(expected) {
            return Err(error(extra.column, alloc::format!("unexpected {:?}", extra.raw)));
        }
        Ok(command)
    }

    fn parse_produce(tokens: &[Token<'_>], end: usize) -> Result<Command, ParseError> {
        let topic = tokens.get(1).ok_or_else(|| error(end, "expected a topic name"))?;
        let mut command =
            Command::Produce { topic: topic.text.clone(), partition: None, key: None, value: None, acks: Acks::All };
        let Command::Produce { partition, key, value, acks, .. } = &mut command else { unreachable!() };
        for token in &tokens[2..] {
            let (name, setting) = token
                .text
                .split_once('=')
                .ok_or_else(|| error(token.column, alloc::format!("expected name=value, found {:?}", token.raw)))?;
            match name {
                "key" => *key = Some(setting.to_string()),
                "value" => *value = Some(setting.to_string()),
                "partition" => {
                    *partition =
                        Some(setting.parse().map_err(|_| {
                            error(token.column, alloc::format!("partition {setting:?} is not a number"))
                        })?)
                }
                "acks" => {
                    *acks = match setting {
                        "0" => Acks::None,
                        "1" => Acks::Leader,
                        "all" | "-1" => Acks::All,
                        _ => {
                            return Err(error(
                                token.column,
                                alloc::format!("acks must be 0, 1 or all, not {setting:?}"),
                            ))
                        }
                    }
                }
                _ => {
                    return Err(error(
                        token.column,
                        alloc::format!("unknown setting {name:?}; expected key, value, partition or acks"),
                    ))
                }
            }
        }
        Ok(command)
    }
}

/// Writes a word, quoting it if it would not survive tokenizing.
struct Word<'a>(&'a str);

impl fmt::Display for Word<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() || self.0.contains([' ', '\t', '"']) {
            // Quotes inside a value cannot be written; the parser has no escapes yet.
            write!(f, "\"{}\"", self.0.replace('"', "'"))
        } else {
            write!(f, "{}", self.0)
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Kill { broker } => write!(f, "kill {broker}"),
            Command::Restart { broker } => write!(f, "restart {broker}"),
            Command::Advance { ms } if ms % 1000 == 0 && *ms > 0 => {
                write!(f, "advance {}s", ms / 1000)
            }
            Command::Advance { ms } => write!(f, "advance {ms}ms"),
            Command::Produce { topic, partition, key, value, acks } => {
                write!(f, "produce {topic}")?;
                if let Some(partition) = partition {
                    write!(f, " partition={partition}")?;
                }
                if let Some(key) = key {
                    write!(f, " key={}", Word(key))?;
                }
                if let Some(value) = value {
                    write!(f, " value={}", Word(value))?;
                }
                let acks = match acks {
                    Acks::None => "0",
                    Acks::Leader => "1",
                    Acks::All => "all",
                };
                write!(f, " acks={acks}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn parses_each_command() {
        assert_eq!(Command::parse("kill 2"), Ok(Command::Kill { broker: BrokerId(2) }));
        assert_eq!(Command::parse("  restart 3 "), Ok(Command::Restart { broker: BrokerId(3) }));
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
        for line in [
            "kill 1",
            "restart 2",
            "advance 250ms",
            "advance 3s",
            "produce orders partition=2 key=k value=\"a b\" acks=0",
        ] {
            let command = Command::parse(line).unwrap();
            assert_eq!(command.to_string(), line);
            assert_eq!(Command::parse(&command.to_string()), Ok(command));
        }
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
}
