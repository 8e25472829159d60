//! The Markdown the lessons' narration is written in, read into blocks of styled text for the
//! lesson player to draw: paragraphs, bulleted and numbered lists, fenced code, and inside them
//! `**bold**`, `*emphasis*` and `` `code` ``.
//!
//! Only this subset is recognised; anything else stays as the text it is. The result is plain
//! text in spans, never HTML: the page puts it in text nodes, so a lesson cannot inject markup.

/// A block of narration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Block {
    Paragraph(Vec<Span>),
    /// A list: its items, numbered or bulleted.
    List {
        ordered: bool,
        items: Vec<Vec<Span>>,
    },
    /// A fenced code block's lines, shown as they are.
    Code(String),
}

/// A run of text in one style.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Span {
    Text(String),
    Strong(String),
    Emphasis(String),
    Code(String),
}

/// Reads `text` into blocks; blank lines separate paragraphs.
pub fn blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut list: Option<(bool, Vec<String>)> = None;
    let mut lines = text.lines();
    let flush = |blocks: &mut Vec<Block>, paragraph: &mut Vec<&str>, list: &mut Option<(bool, Vec<String>)>| {
        if !paragraph.is_empty() {
            blocks.push(Block::Paragraph(spans(&paragraph.join(" "))));
            paragraph.clear();
        }
        if let Some((ordered, items)) = list.take() {
            blocks.push(Block::List { ordered, items: items.iter().map(|item| spans(item)).collect() });
        }
    };
    while let Some(line) = lines.next() {
        let trimmed = line.trim();
        if let Some(ticks) = fence(trimmed) {
            flush(&mut blocks, &mut paragraph, &mut list);
            let mut code = Vec::new();
            for inner in lines.by_ref() {
                if inner.trim().len() >= ticks && inner.trim().bytes().all(|b| b == b'`') {
                    break;
                }
                code.push(inner);
            }
            blocks.push(Block::Code(code.join("\n")));
        } else if trimmed.is_empty() {
            flush(&mut blocks, &mut paragraph, &mut list);
        } else if let Some((ordered, item)) = list_item(trimmed) {
            if !paragraph.is_empty() || list.as_ref().is_some_and(|(o, _)| *o != ordered) {
                flush(&mut blocks, &mut paragraph, &mut list);
            }
            list.get_or_insert_with(|| (ordered, Vec::new())).1.push(item.to_string());
        } else if let Some((_, items)) = list.as_mut().filter(|_| line.starts_with([' ', '\t'])) {
            // An indented line continues the list item above it.
            let last = items.last_mut().expect("a list has an item");
            last.push(' ');
            last.push_str(trimmed);
        } else {
            if list.is_some() {
                flush(&mut blocks, &mut paragraph, &mut list);
            }
            paragraph.push(trimmed);
        }
    }
    flush(&mut blocks, &mut paragraph, &mut list);
    blocks
}

/// The number of backticks opening a fenced code block, if `line` opens one.
fn fence(line: &str) -> Option<usize> {
    let ticks = line.bytes().take_while(|b| *b == b'`').count();
    (ticks >= 3).then_some(ticks)
}

/// `- item`, `* item` or `1. item`: whether it is numbered, and the item's text.
fn list_item(line: &str) -> Option<(bool, &str)> {
    if let Some(rest) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
        return Some((false, rest.trim()));
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    let rest = line[digits..].strip_prefix(". ")?;
    (digits > 0).then(|| (true, rest.trim()))
}

/// Reads the inline styles of one paragraph or item. A marker with no closing partner is text.
pub fn spans(text: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(['`', '*']) {
        let (before, from) = rest.split_at(at);
        plain.push_str(before);
        let (marker, make): (&str, fn(String) -> Span) = if from.starts_with('`') {
            ("`", Span::Code)
        } else if from.starts_with("**") {
            ("**", Span::Strong)
        } else {
            ("*", Span::Emphasis)
        };
        let inner = &from[marker.len()..];
        match inner.find(marker).filter(|&end| end > 0) {
            Some(end) => {
                if !plain.is_empty() {
                    spans.push(Span::Text(core::mem::take(&mut plain)));
                }
                spans.push(make(inner[..end].to_string()));
                rest = &inner[end + marker.len()..];
            }
            None => {
                plain.push_str(marker);
                rest = inner;
            }
        }
    }
    plain.push_str(rest);
    if !plain.is_empty() {
        spans.push(Span::Text(plain));
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Span {
        Span::Text(s.to_string())
    }

    #[test]
    fn blank_lines_separate_paragraphs_and_wrapped_lines_join() {
        let blocks = blocks("One line\nwrapped here.\n\nA second paragraph.\n");
        assert_eq!(
            blocks,
            [
                Block::Paragraph(vec![text("One line wrapped here.")]),
                Block::Paragraph(vec![text("A second paragraph.")])
            ]
        );
    }

    #[test]
    fn bold_emphasis_and_code_become_styled_spans() {
        assert_eq!(
            spans("the **leader** of `orders/0`, a *replica*."),
            [
                text("the "),
                Span::Strong("leader".into()),
                text(" of "),
                Span::Code("orders/0".into()),
                text(", a "),
                Span::Emphasis("replica".into()),
                text("."),
            ]
        );
    }

    #[test]
    fn a_star_inside_code_is_not_emphasis_and_an_unclosed_marker_stays_text() {
        assert_eq!(spans("`a*b` and *c"), [Span::Code("a*b".into()), text(" and *c")]);
        assert_eq!(spans("2 * 3 = 6"), [text("2 * 3 = 6")]);
    }

    #[test]
    fn markup_in_the_text_is_kept_as_text_not_html() {
        assert_eq!(blocks("<script>alert(1)</script>"), [Block::Paragraph(vec![text("<script>alert(1)</script>")])]);
    }

    #[test]
    fn lists_numbered_or_not_and_code_blocks_are_their_own_blocks() {
        let blocks =
            blocks("Steps:\n- kill **1**\n- wait\n  longer\n\n1. first\n2. second\n\n```text\nkill 1\n```\nAfter.");
        assert_eq!(
            blocks,
            [
                Block::Paragraph(vec![text("Steps:")]),
                Block::List {
                    ordered: false,
                    items: vec![vec![text("kill "), Span::Strong("1".into())], vec![text("wait longer")]]
                },
                Block::List { ordered: true, items: vec![vec![text("first")], vec![text("second")]] },
                Block::Code("kill 1".into()),
                Block::Paragraph(vec![text("After.")]),
            ]
        );
    }

    #[test]
    fn every_lesson_narration_reads_without_leftover_markers() {
        for lesson in crate::lessons::LESSONS {
            for block in blocks(lesson.text) {
                if let Block::Paragraph(spans) = block {
                    for span in spans {
                        if let Span::Text(t) = span {
                            assert!(!t.contains("**"), "{}: unbalanced bold in {t:?}", lesson.name);
                        }
                    }
                }
            }
        }
    }
}
