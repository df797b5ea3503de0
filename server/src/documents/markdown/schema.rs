//! The names Tiptap's schema uses and the small intermediate tree every direction goes
//! through.
//!
//! The names are what y-tiptap stores (element names, formatting attribute keys); the tree
//! (`Node`) is one Yjs XML child as plain data, so that the Yjs reader serves all exporters
//! and one writer serves the importer.

use yrs::Any;

// Node type names of Tiptap's StarterKit, as y-tiptap stores them (element names).
pub(in crate::documents) const PARAGRAPH: &str = "paragraph";
pub(in crate::documents) const HEADING: &str = "heading";
pub(in crate::documents) const BULLET_LIST: &str = "bulletList";
pub(in crate::documents) const ORDERED_LIST: &str = "orderedList";
pub(in crate::documents) const LIST_ITEM: &str = "listItem";
pub(in crate::documents) const BLOCKQUOTE: &str = "blockquote";
pub(in crate::documents) const CODE_BLOCK: &str = "codeBlock";
pub(in crate::documents) const HORIZONTAL_RULE: &str = "horizontalRule";
pub(in crate::documents) const HARD_BREAK: &str = "hardBreak";

// Node type names of Tiptap's table extensions (`@tiptap/extension-table`): a `table`
// holds `tableRow`s, a row holds `tableHeader` and `tableCell`s, and a cell holds blocks
// (at least one paragraph). Cells always store `colspan` and `rowspan` (numbers, default
// 1); `colwidth` is null unless a column was resized, so it is absent.
pub(in crate::documents) const TABLE: &str = "table";
pub(in crate::documents) const TABLE_ROW: &str = "tableRow";
pub(in crate::documents) const TABLE_HEADER: &str = "tableHeader";
pub(in crate::documents) const TABLE_CELL: &str = "tableCell";
/// The most columns or rows a cell may span as read out: a hostile client can store any
/// number, and an exporter writes the attribute as it reads it.
pub(in crate::documents) const MAX_SPAN: i64 = 100;

// Mark names (formatting attribute keys on the `XmlText`).
pub(in crate::documents) const BOLD: &str = "bold";
pub(in crate::documents) const ITALIC: &str = "italic";
pub(in crate::documents) const STRIKE: &str = "strike";
pub(in crate::documents) const CODE: &str = "code";
pub(in crate::documents) const UNDERLINE: &str = "underline";
pub(in crate::documents) const LINK: &str = "link";

/// The attributes Tiptap's Link extension gives every link it makes (its `HTMLAttributes`
/// defaults), so our links are indistinguishable from ones made in the editor.
pub(in crate::documents) const LINK_TARGET: &str = "_blank";
pub(in crate::documents) const LINK_REL: &str = "noopener noreferrer nofollow";

/// One child of a Yjs XML node: an element (a ProseMirror node) or a text (a run of
/// ProseMirror text nodes).
#[derive(Debug, Clone, PartialEq)]
pub(in crate::documents) enum Node {
    Element(Element),
    Text(Vec<Run>),
}

#[derive(Debug, Clone, PartialEq)]
pub(in crate::documents) struct Element {
    pub(in crate::documents) name: String,
    pub(in crate::documents) attrs: Vec<(String, Any)>,
    pub(in crate::documents) children: Vec<Node>,
}

impl Element {
    pub(in crate::documents) fn new(
        name: &str,
        attrs: Vec<(String, Any)>,
        children: Vec<Node>,
    ) -> Self {
        Element {
            name: name.to_string(),
            attrs,
            children,
        }
    }

    pub(in crate::documents) fn attr(&self, key: &str) -> Option<&Any> {
        self.attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// An integer attribute; numbers may arrive as integers, floats or (from odd clients)
    /// numeric strings.
    pub(in crate::documents) fn int_attr(&self, key: &str) -> Option<i64> {
        match self.attr(key)? {
            Any::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Any::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub(in crate::documents) fn str_attr(&self, key: &str) -> Option<&str> {
        match self.attr(key)? {
            Any::String(s) => Some(s),
            _ => None,
        }
    }
}

/// Text with one set of marks.
#[derive(Debug, Clone, PartialEq)]
pub(in crate::documents) struct Run {
    pub(in crate::documents) text: String,
    pub(in crate::documents) marks: Marks,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub(in crate::documents) struct Marks {
    pub(in crate::documents) bold: bool,
    pub(in crate::documents) italic: bool,
    pub(in crate::documents) strike: bool,
    pub(in crate::documents) underline: bool,
    pub(in crate::documents) code: bool,
    pub(in crate::documents) link: Option<LinkMark>,
}

#[derive(Debug, Clone, PartialEq)]
pub(in crate::documents) struct LinkMark {
    pub(in crate::documents) href: String,
    pub(in crate::documents) title: Option<String>,
}

pub(in crate::documents) fn empty_paragraph() -> Node {
    Node::Element(Element::new(PARAGRAPH, Vec::new(), Vec::new()))
}

pub(in crate::documents) fn is_element(node: &Node, name: &str) -> bool {
    matches!(node, Node::Element(el) if el.name == name)
}

/// The attributes Tiptap gives a new table cell or header cell.
pub(in crate::documents) fn cell_attrs() -> Vec<(String, Any)> {
    vec![
        ("colspan".to_string(), Any::from(1i64)),
        ("rowspan".to_string(), Any::from(1i64)),
    ]
}
