//! The names Tiptap's schema uses and the small intermediate tree every direction goes
//! through.
//!
//! The names are what y-tiptap stores (element names, formatting attribute keys); the tree
//! (`Node`) is one Yjs XML child as plain data, so that the Yjs reader serves all exporters
//! and one writer serves the importer.

use yrs::Any;

// Node type names of Tiptap's StarterKit, as y-tiptap stores them (element names).
pub(super) const PARAGRAPH: &str = "paragraph";
pub(super) const HEADING: &str = "heading";
pub(super) const BULLET_LIST: &str = "bulletList";
pub(super) const ORDERED_LIST: &str = "orderedList";
pub(super) const LIST_ITEM: &str = "listItem";
pub(super) const BLOCKQUOTE: &str = "blockquote";
pub(super) const CODE_BLOCK: &str = "codeBlock";
pub(super) const HORIZONTAL_RULE: &str = "horizontalRule";
pub(super) const HARD_BREAK: &str = "hardBreak";

// Mark names (formatting attribute keys on the `XmlText`).
pub(super) const BOLD: &str = "bold";
pub(super) const ITALIC: &str = "italic";
pub(super) const STRIKE: &str = "strike";
pub(super) const CODE: &str = "code";
pub(super) const UNDERLINE: &str = "underline";
pub(super) const LINK: &str = "link";

/// The attributes Tiptap's Link extension gives every link it makes (its `HTMLAttributes`
/// defaults), so our links are indistinguishable from ones made in the editor.
pub(super) const LINK_TARGET: &str = "_blank";
pub(super) const LINK_REL: &str = "noopener noreferrer nofollow";

/// One child of a Yjs XML node: an element (a ProseMirror node) or a text (a run of
/// ProseMirror text nodes).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    Element(Element),
    Text(Vec<Run>),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Element {
    pub(super) name: String,
    pub(super) attrs: Vec<(String, Any)>,
    pub(super) children: Vec<Node>,
}

impl Element {
    pub(super) fn new(name: &str, attrs: Vec<(String, Any)>, children: Vec<Node>) -> Self {
        Element {
            name: name.to_string(),
            attrs,
            children,
        }
    }

    pub(super) fn attr(&self, key: &str) -> Option<&Any> {
        self.attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// An integer attribute; numbers may arrive as integers, floats or (from odd clients)
    /// numeric strings.
    pub(super) fn int_attr(&self, key: &str) -> Option<i64> {
        match self.attr(key)? {
            Any::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Any::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub(super) fn str_attr(&self, key: &str) -> Option<&str> {
        match self.attr(key)? {
            Any::String(s) => Some(s),
            _ => None,
        }
    }
}

/// Text with one set of marks.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Run {
    pub(super) text: String,
    pub(super) marks: Marks,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Marks {
    pub(super) bold: bool,
    pub(super) italic: bool,
    pub(super) strike: bool,
    pub(super) underline: bool,
    pub(super) code: bool,
    pub(super) link: Option<LinkMark>,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct LinkMark {
    pub(super) href: String,
    pub(super) title: Option<String>,
}

pub(super) fn empty_paragraph() -> Node {
    Node::Element(Element::new(PARAGRAPH, Vec::new(), Vec::new()))
}

pub(super) fn is_element(node: &Node, name: &str) -> bool {
    matches!(node, Node::Element(el) if el.name == name)
}
