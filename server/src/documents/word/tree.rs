//! Word's flat paragraphs into the editor's tree.
//!
//! Word keeps a list as a run of paragraphs that each name a list and a level (0–8);
//! Tiptap nests lists: `bulletList`/`orderedList` → `listItem` → `paragraph`, then any
//! deeper list inside that item. Consecutive list paragraphs are folded with a stack of
//! open lists, one per level; a deeper level opens a list inside the last item, a
//! shallower one closes lists back up, and a change between bullets and numbers at the
//! same level starts a new list. Nesting follows the stack, not the level numbers, so
//! a jump from level 0 to 3 nests once; the stack is at most nine deep.

use yrs::Any;

use super::body::Block;
use super::styles::Level;
use crate::documents::markdown::schema::{
    BULLET_LIST, Element, HEADING, LIST_ITEM, Node, ORDERED_LIST, PARAGRAPH, empty_paragraph,
};

/// The editor's blocks for Word's paragraphs.
pub fn tree(blocks: Vec<Block>) -> Vec<Node> {
    let mut out = Vec::new();
    let mut lists = Lists::default();
    for block in blocks {
        if let Some(table) = block.table {
            lists.close_all(&mut out);
            out.push(table);
            continue;
        }
        match block.list {
            Some((level, depth)) => lists.item(&mut out, level, depth, block.inline),
            None => {
                lists.close_all(&mut out);
                out.push(plain_block(block.heading, block.inline));
            }
        }
    }
    lists.close_all(&mut out);
    out
}

fn plain_block(heading: Option<u8>, inline: Vec<Node>) -> Node {
    match heading {
        Some(level) => Node::Element(Element::new(
            HEADING,
            vec![("level".to_owned(), Any::from(i64::from(level)))],
            inline,
        )),
        None => Node::Element(Element::new(PARAGRAPH, Vec::new(), inline)),
    }
}

/// The open lists, outermost first, each with the Word level it stands for.
#[derive(Default)]
struct Lists {
    open: Vec<(u8, bool, Element)>,
}

impl Lists {
    fn item(&mut self, out: &mut Vec<Node>, level: Level, depth: u8, inline: Vec<Node>) {
        while self.open.last().is_some_and(|(d, _, _)| *d > depth) {
            self.close_one(out);
        }
        if self
            .open
            .last()
            .is_some_and(|(d, ordered, _)| *d == depth && *ordered != level.ordered)
        {
            self.close_one(out);
        }
        if self.open.last().is_none_or(|(d, _, _)| *d < depth) {
            self.open.push((depth, level.ordered, new_list(level)));
        }
        if let Some((_, _, list)) = self.open.last_mut() {
            let paragraph = Node::Element(Element::new(PARAGRAPH, Vec::new(), inline));
            list.children.push(Node::Element(Element::new(
                LIST_ITEM,
                Vec::new(),
                vec![paragraph],
            )));
        }
    }

    /// Closes the innermost list: into the last item of the list around it, or out.
    fn close_one(&mut self, out: &mut Vec<Node>) {
        let Some((_, _, list)) = self.open.pop() else {
            return;
        };
        let node = Node::Element(list);
        let Some((_, _, parent)) = self.open.last_mut() else {
            out.push(node);
            return;
        };
        match parent.children.last_mut() {
            Some(Node::Element(item)) => item.children.push(node),
            _ => parent.children.push(Node::Element(Element::new(
                LIST_ITEM,
                Vec::new(),
                vec![empty_paragraph(), node],
            ))),
        }
    }

    fn close_all(&mut self, out: &mut Vec<Node>) {
        while !self.open.is_empty() {
            self.close_one(out);
        }
    }
}

fn new_list(level: Level) -> Element {
    if level.ordered {
        Element::new(
            ORDERED_LIST,
            vec![("start".to_owned(), Any::from(level.start))],
            Vec::new(),
        )
    } else {
        Element::new(BULLET_LIST, Vec::new(), Vec::new())
    }
}
