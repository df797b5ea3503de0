//! Plain text export, and the per-block texts that comment anchors report.
//!
//! No markup at all: one line per paragraph, heading or list item, blocks separated by a
//! blank line; a table is one line per row with its cells separated by tabs. The export
//! writes a link as "text (address)"; the block texts that anchors quote keep only the
//! text, since a quote is what the reader sees.

use yrs::{ReadTxn, XmlFragmentRef};

use super::blocks::{Block, classify, table_rows};
use super::href::{HTML_SCHEMES, href_allowed};
use super::read::read_fragment;
use super::schema::{HARD_BREAK, Node};

/// Whether link addresses are written after their text.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Urls {
    Shown,
    Hidden,
}

/// Plain text: one line per paragraph/heading/list item, blocks separated by a blank
/// line, no markup.
///
/// Hard breaks are newlines; the paragraphs of a list or list item are consecutive lines;
/// a table row is one line, its cells separated by tabs; a link with an http(s) or
/// mailto address is "text (address)"; empty blocks and rules are left out.
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
            let text = block_text(node, Urls::Shown);
            if !text.is_empty() {
                out.push(text);
            }
        }
    }
}

/// The text of one block: its lines (each paragraph, heading, item, code line) joined by
/// newlines.
pub(super) fn block_text(node: &Node, urls: Urls) -> String {
    let mut lines = Vec::new();
    block_lines(node, urls, &mut lines);
    lines.retain(|l| !l.is_empty());
    lines.join("\n")
}

fn block_lines(node: &Node, urls: Urls, out: &mut Vec<String>) {
    match classify(node) {
        Block::Paragraph(children) | Block::Heading(_, children) => {
            out.push(inline_text(children, urls))
        }
        Block::Code(_, text) => out.push(text),
        Block::Rule | Block::Skip => {}
        Block::Table(rows) => {
            for row in table_rows(rows) {
                let cells: Vec<String> = row
                    .iter()
                    .map(|cell| {
                        let mut lines = Vec::new();
                        for block in cell.blocks {
                            block_lines(block, urls, &mut lines);
                        }
                        lines.retain(|l| !l.is_empty());
                        // A tab or line break inside a cell would split the row.
                        lines.join(" ").replace(['\t', '\n'], " ")
                    })
                    .collect();
                out.push(cells.join("\t").trim_end_matches('\t').to_string());
            }
        }
        Block::BulletList(children)
        | Block::OrderedList(_, children)
        | Block::Quote(children)
        | Block::Container(children) => {
            for child in children {
                block_lines(child, urls, out);
            }
        }
    }
}

/// Text of inline content: hard breaks become newlines, unknown inline nodes give their
/// text, and with `Urls::Shown` a link whose address is safe to show is followed by
/// " (address)" unless its text already is the address.
fn inline_text(children: &[Node], urls: Urls) -> String {
    let mut out = String::new();
    // The link being written: its address and where its text began.
    let mut open: Option<(String, usize)> = None;
    let close = |out: &mut String, open: &mut Option<(String, usize)>| {
        if let Some((href, start)) = open.take() {
            let text = &out[start..];
            let bare = href.strip_prefix("mailto:").unwrap_or(&href);
            if text != href && text != bare {
                out.push_str(&format!(" ({href})"));
            }
        }
    };
    for child in children {
        match child {
            Node::Text(runs) => {
                for run in runs {
                    let href = run
                        .marks
                        .link
                        .as_ref()
                        .map(|l| l.href.as_str())
                        .filter(|h| urls == Urls::Shown && href_allowed(h, HTML_SCHEMES));
                    if open.as_ref().map(|(h, _)| h.as_str()) != href {
                        close(&mut out, &mut open);
                        open = href.map(|h| (h.to_string(), out.len()));
                    }
                    out.push_str(&run.text);
                }
            }
            Node::Element(el) if el.name == HARD_BREAK => {
                close(&mut out, &mut open);
                out.push('\n');
            }
            Node::Element(el) => {
                close(&mut out, &mut open);
                out.push_str(&inline_text(&el.children, urls));
            }
        }
    }
    close(&mut out, &mut open);
    out
}

/// The plain text of each top-level block, in order (lists: their items' text joined by
/// "\n"; tables: a line per row, cells separated by tabs). Used to report which
/// paragraph a comment is anchored to, so links give their text only.
///
/// There is exactly one entry per top-level child of the fragment that the editor shows
/// (empty ones give ""), so an index here is the editor's block index.
pub fn block_texts<T: ReadTxn>(txn: &T, fragment: &XmlFragmentRef) -> Vec<String> {
    read_fragment(txn, fragment)
        .iter()
        .map(|node| block_text(node, Urls::Hidden))
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
    fn tables_are_tab_separated_rows_and_links_show_their_address() {
        let (doc, fragment) = import(
            "Se [beslutet](https://example.se/beslut) och <https://example.se>.\n\n\
             | Förvaltning | Budget |\n| --- | --- |\n| Skola | 12 [mnkr](mailto:a@example.se) |\n",
        );
        let txn = doc.transact();
        assert_eq!(
            export_text(&txn, &fragment),
            "Se beslutet (https://example.se/beslut) och https://example.se.\n\n\
             Förvaltning\tBudget\nSkola\t12 mnkr (mailto:a@example.se)\n"
        );
        // Anchors quote what the reader sees: no addresses.
        assert_eq!(
            block_texts(&txn, &fragment),
            vec![
                "Se beslutet och https://example.se.".to_string(),
                "Förvaltning\tBudget\nSkola\t12 mnkr".to_string(),
                String::new()
            ]
        );
    }

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
