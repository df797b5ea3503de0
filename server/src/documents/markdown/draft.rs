//! The draft as the read-outs write it (`remiss::version_export`): headings, paragraphs
//! whose links stay links, and tables as rows of cell texts.
//!
//! Every Writer (DOCX, PDF, HTML, Markdown) gets the same blocks, so no format can show a
//! link another refuses: only http, https and mailto addresses stay links
//! ([`HTML_SCHEMES`]), others keep their text.

use yrs::{ReadTxn, XmlFragmentRef};

use super::blocks::{Block, classify, has_header_row, table_rows};
use super::href::{HTML_SCHEMES, href_allowed};
use super::read::read_fragment;
use super::schema::{HARD_BREAK, Node};
use super::text::{Urls, block_text};

/// A piece of a paragraph: text, or text linked to an address that is safe to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Link { text: String, href: String },
}

/// One top-level block of the draft as a read-out writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DraftBlock {
    /// A heading, level 1 to 6, as plain text.
    Heading(u8, String),
    /// A paragraph (or a list, quote or code block as its lines), newlines kept.
    Paragraph(Vec<Piece>),
    /// A table: each row's cell texts (a link as "text (address)"), and whether the first
    /// row is a header row.
    Table {
        rows: Vec<Vec<String>>,
        header: bool,
    },
}

/// The draft's top-level blocks, empty ones left out.
pub fn draft_blocks<T: ReadTxn>(txn: &T, fragment: &XmlFragmentRef) -> Vec<DraftBlock> {
    read_fragment(txn, fragment)
        .iter()
        .filter_map(draft_block)
        .collect()
}

fn draft_block(node: &Node) -> Option<DraftBlock> {
    let block = match classify(node) {
        Block::Heading(level, _) => DraftBlock::Heading(level, block_text(node, Urls::Hidden)),
        Block::Paragraph(children) => DraftBlock::Paragraph(pieces(children)),
        Block::Table(rows) => {
            let rows = table_rows(rows);
            let header = has_header_row(&rows);
            DraftBlock::Table {
                rows: rows
                    .iter()
                    .map(|row| {
                        row.iter()
                            .map(|cell| {
                                let texts: Vec<String> = cell
                                    .blocks
                                    .iter()
                                    .map(|b| block_text(b, Urls::Shown))
                                    .filter(|t| !t.is_empty())
                                    .collect();
                                texts.join("\n")
                            })
                            .collect()
                    })
                    .collect(),
                header,
            }
        }
        _ => DraftBlock::Paragraph(vec![Piece::Text(block_text(node, Urls::Shown))]),
    };
    let empty = match &block {
        DraftBlock::Heading(_, text) => text.trim().is_empty(),
        DraftBlock::Paragraph(pieces) => pieces.iter().all(|p| match p {
            Piece::Text(t) => t.trim().is_empty(),
            Piece::Link { .. } => false,
        }),
        DraftBlock::Table { rows, .. } => rows.is_empty(),
    };
    (!empty).then_some(block)
}

/// A paragraph's inline content as pieces: runs under one safe link become one link.
fn pieces(children: &[Node]) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    let mut push = |piece: Piece| match (out.last_mut(), piece) {
        (Some(Piece::Text(last)), Piece::Text(more)) => last.push_str(&more),
        (
            Some(Piece::Link { text, href }),
            Piece::Link {
                text: more,
                href: next,
            },
        ) if *href == next => text.push_str(&more),
        (_, piece) => out.push(piece),
    };
    for child in children {
        match child {
            Node::Text(runs) => {
                for run in runs {
                    match run.marks.link.as_ref() {
                        Some(link) if href_allowed(&link.href, HTML_SCHEMES) => push(Piece::Link {
                            text: run.text.clone(),
                            href: link.href.clone(),
                        }),
                        _ => push(Piece::Text(run.text.clone())),
                    }
                }
            }
            Node::Element(el) if el.name == HARD_BREAK => push(Piece::Text("\n".into())),
            Node::Element(_) => push(Piece::Text(block_text(child, Urls::Hidden))),
        }
    }
    out
}
