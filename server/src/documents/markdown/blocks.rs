//! How the exporters see a node at block level.
//!
//! Every exporter walks the same `Block` classification, so that unknown nodes (from a
//! newer editor or a hostile client) are shown the same way in Markdown, HTML and text:
//! through their content.

use super::schema::{
    BLOCKQUOTE, BULLET_LIST, CODE_BLOCK, HARD_BREAK, HEADING, HORIZONTAL_RULE, LIST_ITEM, MAX_SPAN,
    Node, ORDERED_LIST, PARAGRAPH, TABLE, TABLE_CELL, TABLE_HEADER, TABLE_ROW, is_element,
};

/// How an exporter treats a node at block level. Unknown nodes are shown through their
/// content: as a paragraph when they hold text, otherwise as their children.
pub(super) enum Block<'a> {
    Paragraph(&'a [Node]),
    Heading(u8, &'a [Node]),
    Code(Option<&'a str>, String),
    Rule,
    BulletList(&'a [Node]),
    OrderedList(i64, &'a [Node]),
    Quote(&'a [Node]),
    /// A table: its rows, read with [`table_rows`].
    Table(&'a [Node]),
    Container(&'a [Node]),
    Skip,
}

pub(super) fn classify(node: &Node) -> Block<'_> {
    let el = match node {
        Node::Text(_) => return Block::Paragraph(std::slice::from_ref(node)),
        Node::Element(el) => el,
    };
    let children = el.children.as_slice();
    match el.name.as_str() {
        PARAGRAPH => Block::Paragraph(children),
        HEADING => {
            // Tiptap renders a level it does not know as its first level, 1.
            let level = el
                .int_attr("level")
                .filter(|l| (1..=6).contains(l))
                .unwrap_or(1);
            Block::Heading(u8::try_from(level).unwrap_or(1), children)
        }
        CODE_BLOCK => Block::Code(
            el.str_attr("language").filter(|l| !l.is_empty()),
            plain_inline(children),
        ),
        HORIZONTAL_RULE => Block::Rule,
        HARD_BREAK => Block::Skip,
        BULLET_LIST => Block::BulletList(children),
        ORDERED_LIST => Block::OrderedList(el.int_attr("start").unwrap_or(1), children),
        BLOCKQUOTE => Block::Quote(children),
        TABLE => Block::Table(children),
        _ if children
            .iter()
            .any(|c| matches!(c, Node::Text(_)) || is_element(c, HARD_BREAK)) =>
        {
            Block::Paragraph(children)
        }
        _ => Block::Container(children),
    }
}

/// The blocks of one list item (a child of a list that is not a `listItem` is shown as an
/// item holding it).
pub(super) fn item_blocks(node: &Node) -> &[Node] {
    match node {
        Node::Element(el) if el.name == LIST_ITEM => &el.children,
        other => std::slice::from_ref(other),
    }
}

/// One cell of a table as the exporters see it.
pub(super) struct Cell<'a> {
    /// A `tableHeader` (a column's or a row's heading) rather than a `tableCell`.
    pub(super) header: bool,
    /// How many columns and rows it covers, each 1 to [`MAX_SPAN`].
    pub(super) colspan: i64,
    pub(super) rowspan: i64,
    /// Its blocks (Tiptap's cell content is `block+`).
    pub(super) blocks: &'a [Node],
}

/// The rows of a table, each a list of cells. A child of the table that is not a row
/// is read as a row holding one cell with it, and a child of a row that is not a cell
/// as a cell holding it, so nothing a client stored goes missing.
pub(super) fn table_rows(rows: &[Node]) -> Vec<Vec<Cell<'_>>> {
    rows.iter()
        .map(|row| match row {
            Node::Element(el) if el.name == TABLE_ROW => el.children.iter().map(cell).collect(),
            other => vec![cell(other)],
        })
        .collect()
}

fn cell(node: &Node) -> Cell<'_> {
    match node {
        Node::Element(el) if el.name == TABLE_CELL || el.name == TABLE_HEADER => {
            let span = |key| el.int_attr(key).unwrap_or(1).clamp(1, MAX_SPAN);
            Cell {
                header: el.name == TABLE_HEADER,
                colspan: span("colspan"),
                rowspan: span("rowspan"),
                blocks: &el.children,
            }
        }
        other => Cell {
            header: false,
            colspan: 1,
            rowspan: 1,
            blocks: std::slice::from_ref(other),
        },
    }
}

/// Whether the first row of a table is its header row: every cell a `tableHeader`.
pub(super) fn has_header_row(rows: &[Vec<Cell<'_>>]) -> bool {
    rows.first()
        .is_some_and(|row| !row.is_empty() && row.iter().all(|c| c.header))
}

/// Text of inline content: hard breaks become newlines, unknown inline nodes give their text.
pub(super) fn plain_inline(children: &[Node]) -> String {
    let mut out = String::new();
    for child in children {
        match child {
            Node::Text(runs) => runs.iter().for_each(|r| out.push_str(&r.text)),
            Node::Element(el) if el.name == HARD_BREAK => out.push('\n'),
            Node::Element(el) => out.push_str(&plain_inline(&el.children)),
        }
    }
    out
}
