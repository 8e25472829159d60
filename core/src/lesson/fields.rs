//! The `name: value` lines of ```` ```task ```` and ```` ```predict ```` blocks, and durations
//! (`15s`, `500ms`) as the command language writes them.
//!
//! Blank lines and lines starting with `#` (comments for the lesson's reviewers) are skipped.

use alloc::format;
use alloc::vec::Vec;

use super::error::LineError;

/// One `name: value` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Field<'a> {
    pub(crate) line: usize,
    pub(crate) name: &'a str,
    pub(crate) value: &'a str,
}

/// Reads a block's lines as fields named from `names`; `block` names the block in errors.
pub(crate) fn fields<'a>(body: &[(usize, &'a str)], block: &str, names: &[&str]) -> Result<Vec<Field<'a>>, LineError> {
    let mut fields = Vec::new();
    for &(line, text) in body {
        let text = text.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let expected = names.join(", ");
        let (name, value) = text.split_once(':').ok_or_else(|| {
            LineError::new(line, format!("in {block}: expected name: value, where name is one of {expected}"))
        })?;
        let name = name.trim();
        if !names.contains(&name) {
            return Err(LineError::new(line, format!("in {block}: unknown field {name:?}; expected {expected}")));
        }
        let value = value.trim();
        if value.is_empty() {
            return Err(LineError::new(line, format!("in {block}: {name}: needs a value")));
        }
        fields.push(Field { line, name, value });
    }
    Ok(fields)
}

/// `500ms`, `15s` or `2min`, in milliseconds.
pub(crate) fn duration_ms(text: &str) -> Result<u64, &'static str> {
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = text.strip_suffix("min") {
        (n, 60_000)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1_000)
    } else {
        return Err("a duration needs a unit: ms, s or min, as in 15s");
    };
    number.parse::<u64>().ok().and_then(|n| n.checked_mul(scale)).ok_or("not a duration; write one such as 15s")
}
