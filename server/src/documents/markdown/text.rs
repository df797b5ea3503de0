//! Plain text export, and the per-block texts that comment anchors report.
//!
//! No markup at all: one line per paragraph, heading or list item, blocks separated by a
//! blank line.

use yrs::{ReadTxn, XmlFragmentRef};

use super::blocks::{Block, classify, plain_inline};
use super::read::read_fragment;
use super::schema::Node;

/// Plain text: one line per paragraph/heading/list item, blocks separated by a blank
/// line, no markup.
///
/// Hard breaks are newlines; the paragraphs of a list or list item are consecutive lines;
/// empty blocks and rules are left out.
pub fn export_text<T: ReadTxn>(txn: &T, fragment: &XmlFragmentRef) -> String {
    let nodes = read_fragment(txn, fragment);
    let mut blocks = Vec::new();
    for node in &nodes {
        text_blocks(node, &mut blocks);
    }
    let mut out = blocks.join("\n\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

fn text_blocks(node: &Node, out: &mut Vec<String>) {
    match classify(node) {
        Block::Quote(children) | Block::Container(children) => {
            for child in children {
                text_blocks(child, out);
            }
        }
        _ => {
            let text = block_text(node);
            if !text.is_empty() {
                out.push(text);
            }
        }
    }
}

/// The text of one block: its lines (each paragraph, heading, item, code line) joined by
/// newlines.
fn block_text(node: &Node) -> String {
    let mut lines = Vec::new();
    block_lines(node, &mut lines);
    lines.retain(|l| !l.is_empty());
    lines.join("\n")
}

fn block_lines(node: &Node, out: &mut Vec<String>) {
    match classify(node) {
        Block::Paragraph(children) | Block::Heading(_, children) => {
            out.push(plain_inline(children))
        }
        Block::Code(_, text) => out.push(text),
        Block::Rule | Block::Skip => {}
        Block::BulletList(children)
        | Block::OrderedList(_, children)
        | Block::Quote(children)
        | Block::Container(children) => {
            for child in children {
                block_lines(child, out);
            }
        }
    }
}

/// The plain text of each top-level block, in order (lists: their items' text joined by
/// "\n"). Used to report which paragraph a comment is anchored to.
///
/// There is exactly one entry per top-level child of the fragment that the editor shows
/// (empty ones give ""), so an index here is the editor's block index.
pub fn block_texts<T: ReadTxn>(txn: &T, fragment: &XmlFragmentRef) -> Vec<String> {
    read_fragment(txn, fragment)
        .iter()
        .map(block_text)
        .collect()
}

/// The heading level of each top-level block (`None` for anything but a heading), one
/// entry per entry of [`block_texts`]: what the read-outs number the draft's sections by.
pub fn block_heading_levels<T: ReadTxn>(txn: &T, fragment: &XmlFragmentRef) -> Vec<Option<u8>> {
    read_fragment(txn, fragment)
        .iter()
        .map(|node| match classify(node) {
            Block::Heading(level, _) => Some(level),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use yrs::Transact;

    use super::super::test_support::import;
    use super::*;

    #[test]
    fn block_texts_follow_top_level_blocks() {
        let (doc, fragment) = import(
            "# Mål\n\n- ett\n- två\n  - tre\n\n> citat ett\n>\n> citat två\n\nrad\\\nbryt\n\n```\nkod\n```\n\n---\n",
        );
        let txn = doc.transact();
        assert_eq!(
            block_texts(&txn, &fragment),
            vec![
                "Mål",
                "ett\ntvå\ntre",
                "citat ett\ncitat två",
                "rad\nbryt",
                "kod",
                "",
                ""
            ]
        );
        assert_eq!(
            block_heading_levels(&txn, &fragment),
            vec![Some(1), None, None, None, None, None, None]
        );
        assert_eq!(
            export_text(&txn, &fragment),
            "Mål\n\nett\ntvå\ntre\n\ncitat ett\n\ncitat två\n\nrad\nbryt\n\nkod\n"
        );
    }
}
