//! A run as a link: the URL's fragment holds the seed, the cluster settings, the actions and the
//! moment shown, so that opening the link replays the run exactly (see [`crate::timeline`]).
//!
//! `#seed=1&brokers=3&t=40000&a=1000:produce%20orders%20value%3Da;12500:kill%201`
//!
//! - `seed`, `brokers`: the [`Settings`] (defaults 1 and 3);
//! - `t`: the time shown, in simulated milliseconds (default: the last action's time);
//! - `end`: how far the run had been played, when further than `t` (a link made while
//!   rewound still carries the rest of the run);
//! - `a`: the actions, `;`-separated, each `time_ms:command line` with the line
//!   percent-encoded as UTF-8, so spaces, `=`, `;`, `&`, `%` and any Unicode survive;
//! - `compare`: present when the link is to a comparison (Compare mode): the setting its two
//!   runs differ in, by [`Difference::key`] (`acks`, `min.insync.replicas`, ...). Its actions are the lines
//!   as typed, before each side's rewriting.
//!
//! Unknown keys are ignored, so a link made by a later version still opens.

use std::fmt;

use kafkalab_core::ClusterConfig;

use crate::comparison::Difference;
use crate::timeline::Action;

/// The cluster settings a link can carry; everything else is `ClusterConfig`'s default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    pub seed: u64,
    /// Brokers, numbered from 1.
    pub brokers: i32,
}

impl Default for Settings {
    fn default() -> Self {
        let config = ClusterConfig::default();
        Settings { seed: config.seed, brokers: config.broker_count }
    }
}

impl Settings {
    /// The cluster these settings describe (not yet validated: `Simulation::new` does that).
    pub fn config(&self) -> ClusterConfig {
        ClusterConfig { seed: self.seed, broker_count: self.brokers, ..ClusterConfig::default() }
    }
}

/// Everything a link holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Share {
    pub settings: Settings,
    pub actions: Vec<Action>,
    /// The moment the link shows.
    pub at_ms: u64,
    /// How far the run had been played: the timeline's end (at least `at_ms`).
    pub end_ms: u64,
    /// For a comparison, the setting its two runs differ in; none for a single run.
    pub compare: Option<Difference>,
}

/// Why a fragment is not a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShareError {
    /// `key=value` where the value should be a number.
    NotANumber { key: &'static str, value: String },
    /// An action without its `time_ms:` prefix, or with a time that is not a number.
    BadAction { index: usize, text: String },
    /// A `%` not followed by two hex digits, or escapes that are not UTF-8.
    BadEscape { text: String },
    /// `compare=` naming no setting the Compare mode knows.
    UnknownDifference { value: String },
}

impl fmt::Display for ShareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShareError::NotANumber { key, value } => write!(f, "the link's {key} is {value:?}, not a number"),
            ShareError::BadAction { index, text } => {
                write!(f, "the link's action {} is {text:?}, not time_ms:command", index + 1)
            }
            ShareError::BadEscape { text } => write!(f, "the link's {text:?} is not percent-encoded UTF-8"),
            ShareError::UnknownDifference { value } => {
                let known: Vec<&str> = Difference::ALL.iter().map(|d| d.key()).collect();
                write!(f, "the link compares {value:?}, which is none of {}", known.join(", "))
            }
        }
    }
}

/// The fragment (without `#`) for `share`.
pub fn encode(share: &Share) -> String {
    let actions: Vec<String> =
        share.actions.iter().map(|a| format!("{}:{}", a.at_ms, percent_encode(&a.line))).collect();
    let end = if share.end_ms > share.at_ms { format!("&end={}", share.end_ms) } else { String::new() };
    let compare = share.compare.map_or(String::new(), |d| format!("compare={}&", d.key()));
    format!(
        "{compare}seed={}&brokers={}&t={}{end}&a={}",
        share.settings.seed,
        share.settings.brokers,
        share.at_ms,
        actions.join(";")
    )
}

/// Reads a fragment, with or without its leading `#`.
pub fn decode(fragment: &str) -> Result<Share, ShareError> {
    let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
    let mut settings = Settings::default();
    let mut actions = Vec::new();
    let mut at_ms = None;
    let mut end_ms = 0;
    let mut compare = None;
    for pair in fragment.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "seed" => settings.seed = number("seed", value)?,
            "brokers" => settings.brokers = number("brokers", value)?,
            "t" => at_ms = Some(number("t", value)?),
            "end" => end_ms = number("end", value)?,
            "a" => actions = decode_actions(value)?,
            "compare" => {
                let unknown = || ShareError::UnknownDifference { value: value.to_string() };
                compare = Some(Difference::from_key(value).ok_or_else(unknown)?);
            }
            _ => {}
        }
    }
    let at_ms = at_ms.unwrap_or_else(|| actions.last().map_or(0, |a: &Action| a.at_ms));
    Ok(Share { settings, actions, at_ms, end_ms: end_ms.max(at_ms), compare })
}

fn number<T: std::str::FromStr>(key: &'static str, value: &str) -> Result<T, ShareError> {
    value.parse().map_err(|_| ShareError::NotANumber { key, value: value.to_string() })
}

fn decode_actions(value: &str) -> Result<Vec<Action>, ShareError> {
    value
        .split(';')
        .filter(|a| !a.is_empty())
        .enumerate()
        .map(|(index, text)| {
            let bad = || ShareError::BadAction { index, text: text.to_string() };
            let (at, line) = text.split_once(':').ok_or_else(bad)?;
            let at_ms = at.parse().map_err(|_| bad())?;
            Ok(Action { at_ms, line: percent_decode(line)? })
        })
        .collect()
}

/// Escapes every byte but the URL's unreserved characters (RFC 3986) and `/`.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for &byte in text.as_bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn percent_decode(text: &str) -> Result<String, ShareError> {
    let bad = || ShareError::BadEscape { text: text.to_string() };
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3).ok_or_else(bad)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(at_ms: u64, line: &str) -> Action {
        Action { at_ms, line: line.to_string() }
    }

    #[test]
    fn a_link_round_trips_awkward_command_lines() {
        let share = Share {
            settings: Settings { seed: 42, brokers: 5 },
            actions: vec![
                action(1_200, "kill 1"),
                action(1_200, "produce orders key=clé value=\"a b;c=d&e%f#g\" acks=all"),
                action(3_400, "produce orders key=🦀 value=ключ:значение"),
                action(9_000, "set min.insync.replicas=2"),
            ],
            at_ms: 5_000,
            end_ms: 12_000,
            compare: None,
        };
        let fragment = encode(&share);
        assert!(
            fragment.starts_with("seed=42&brokers=5&t=5000&end=12000&a=1200:kill%201;1200:produce%20orders"),
            "{fragment}"
        );
        let (_, encoded_actions) = fragment.split_once("a=").unwrap();
        assert!(encoded_actions.bytes().all(|b| b.is_ascii_graphic() && !b"\"#=&".contains(&b)), "{fragment}");
        let separators = fragment.matches(';').count() + fragment.matches('&').count();
        assert_eq!(separators, 4 + 3, "only the link's own separators are left unescaped: {fragment}");
        assert_eq!(decode(&fragment), Ok(share.clone()));
        assert_eq!(decode(&format!("#{fragment}")), Ok(share));
    }

    #[test]
    fn the_example_link_reads_as_documented() {
        let share = decode("#seed=1&brokers=3&a=1200:kill%201;3400:restart%201").unwrap();
        assert_eq!(share.settings, Settings { seed: 1, brokers: 3 });
        assert_eq!(share.actions, [action(1_200, "kill 1"), action(3_400, "restart 1")]);
        assert_eq!(share.at_ms, 3_400, "without t, the link shows its last action");
        assert_eq!(share.end_ms, 3_400);
        let at_the_end = Share { at_ms: 5_000, end_ms: 5_000, ..share };
        assert!(!encode(&at_the_end).contains("end="), "a link at the end of its run leaves end out");
        assert_eq!(decode(&encode(&at_the_end)), Ok(at_the_end));
    }

    #[test]
    fn missing_and_unknown_keys_fall_back_to_the_defaults() {
        let share = decode("theme=dark&").unwrap();
        assert_eq!(
            share,
            Share { settings: Settings::default(), actions: Vec::new(), at_ms: 0, end_ms: 0, compare: None }
        );
        assert_eq!(decode(""), Ok(share));
    }

    #[test]
    fn a_malformed_link_says_what_is_wrong() {
        assert_eq!(decode("seed=x"), Err(ShareError::NotANumber { key: "seed", value: String::from("x") }));
        assert_eq!(decode("a=kill%201"), Err(ShareError::BadAction { index: 0, text: String::from("kill%201") }));
        assert_eq!(decode("a=1:a;z:b"), Err(ShareError::BadAction { index: 1, text: String::from("z:b") }));
        assert!(matches!(decode("a=1:kill%2"), Err(ShareError::BadEscape { .. })));
        assert!(matches!(decode("a=1:%FF"), Err(ShareError::BadEscape { .. })), "not UTF-8");
        assert!(decode("t=-1").unwrap_err().to_string().contains("not a number"));
        let unknown = decode("compare=colour").unwrap_err();
        assert_eq!(unknown, ShareError::UnknownDifference { value: String::from("colour") });
        assert!(unknown.to_string().contains("none of acks"), "{unknown}");
    }

    #[test]
    fn a_comparison_link_names_its_difference_first() {
        let share = Share {
            settings: Settings::default(),
            actions: vec![action(5_000, "produce orders value=x")],
            at_ms: 6_000,
            end_ms: 6_000,
            compare: Some(Difference::MinInsyncReplicas),
        };
        let fragment = encode(&share);
        assert!(fragment.starts_with(&format!("compare={}&seed=1", Difference::MinInsyncReplicas.key())), "{fragment}");
        assert_eq!(decode(&fragment), Ok(share));
    }

    #[test]
    fn settings_become_the_cluster_config() {
        let config = Settings { seed: 7, brokers: 4 }.config();
        assert_eq!((config.seed, config.broker_count), (7, 4));
        assert_eq!(Settings::default().config().broker_count, ClusterConfig::default().broker_count);
    }
}
