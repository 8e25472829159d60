//! The lesson file cut into the pieces the format gives meaning to: the `# ` title, `## Step:`
//! headings, fenced blocks with their info string, and the Markdown between them.
//!
//! Only what the format needs is recognised; everything else is narration and passes through
//! untouched. A heading inside a fenced block is not a heading, and a fence closes only with at
//! least as many backticks as opened it, as in CommonMark.

use alloc::string::String;
use alloc::vec::Vec;

use super::error::LineError;

/// One piece of a lesson file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Item<'a> {
    /// `# Title`.
    Title { line: usize, text: &'a str },
    /// `## Step: Title`.
    Step { line: usize, title: &'a str },
    /// A fenced block whose info string names a lesson block (`cluster`, `kafkalab`, ...).
    Block { line: usize, kind: &'a str, body: Vec<(usize, &'a str)> },
    /// Markdown for the reader, including code blocks that are not lesson blocks.
    Text { line: usize, text: String },
}

/// The info strings that make a fenced block part of the lesson rather than its narration.
pub(crate) const BLOCK_KINDS: [&str; 5] = ["cluster", "kafkalab", "task", "predict", "wait"];

/// A fence opening: how many backticks, and the info string after them.
fn fence(line: &str) -> Option<(usize, &str)> {
    let trimmed = line.trim_start();
    let ticks = trimmed.bytes().take_while(|b| *b == b'`').count();
    (ticks >= 3).then(|| (ticks, trimmed[ticks..].trim()))
}

fn closes(line: &str, ticks: usize) -> bool {
    let trimmed = line.trim();
    trimmed.len() >= ticks && trimmed.bytes().all(|b| b == b'`')
}

/// Cuts `text` into items; lines are numbered from 1.
pub(crate) fn split(text: &str) -> Result<Vec<Item<'_>>, LineError> {
    let mut items = Vec::new();
    let mut lines = text.lines().enumerate().map(|(index, line)| (index + 1, line));
    let mut prose: Option<(usize, String)> = None;
    let flush = |prose: &mut Option<(usize, String)>, items: &mut Vec<Item<'_>>| {
        if let Some((line, text)) = prose.take() {
            items.push(Item::Text { line, text });
        }
    };
    while let Some((number, line)) = lines.next() {
        if let Some((ticks, info)) = fence(line) {
            let mut body = Vec::new();
            let mut closed = false;
            for (inner_number, inner) in lines.by_ref() {
                if closes(inner, ticks) {
                    closed = true;
                    break;
                }
                body.push((inner_number, inner));
            }
            if !closed {
                return Err(LineError::new(number, "this fenced block is never closed: end it with a line of ```"));
            }
            let kind = info.split_whitespace().next().unwrap_or("");
            if BLOCK_KINDS.contains(&kind) {
                if let Some(extra) = info.split_whitespace().nth(1) {
                    return Err(LineError::new(
                        number,
                        alloc::format!("unexpected {extra:?} after ```{kind}: the info string is one word"),
                    ));
                }
                flush(&mut prose, &mut items);
                items.push(Item::Block { line: number, kind, body });
            } else {
                // Narration that happens to be code: kept whole, fences and all.
                let text = &mut prose.get_or_insert_with(|| (number, String::new())).1;
                text.push_str(line);
                text.push('\n');
                for (_, inner) in &body {
                    text.push_str(inner);
                    text.push('\n');
                }
                text.push_str(&"`".repeat(ticks));
                text.push('\n');
            }
        } else if let Some(rest) = heading(line, 1) {
            flush(&mut prose, &mut items);
            items.push(Item::Title { line: number, text: rest });
        } else if let Some(rest) = heading(line, 2) {
            let title = rest.strip_prefix("Step:").map(str::trim).ok_or_else(|| {
                LineError::new(number, "a second-level heading starts a step: write it as ## Step: <title>")
            })?;
            flush(&mut prose, &mut items);
            items.push(Item::Step { line: number, title });
        } else {
            let text = &mut prose.get_or_insert_with(|| (number, String::new())).1;
            text.push_str(line);
            text.push('\n');
        }
    }
    flush(&mut prose, &mut items);
    Ok(items)
}

/// The text of an ATX heading of exactly `level` (`#` or `##`), trimmed.
fn heading(line: &str, level: usize) -> Option<&str> {
    let hashes = line.bytes().take_while(|b| *b == b'#').count();
    if hashes != level {
        return None;
    }
    let rest = &line[level..];
    (rest.is_empty() || rest.starts_with([' ', '\t'])).then(|| rest.trim())
}
