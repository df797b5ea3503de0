//! Markdown into the intermediate tree, following Tiptap's content rules.
//!
//! pulldown-cmark's event stream is folded into nested frames; closing a frame applies the
//! schema (a `listItem` starts with a paragraph, a quote is never empty, code is unmarked
//! text, the `code` mark stands alone), and container nesting stops at `MAX_DEPTH`.

use pulldown_cmark as cmark;
use yrs::Any;

use super::MAX_DEPTH;
use super::blocks::plain_inline;
use super::href::{EDITOR_SCHEMES, href_allowed};
use super::schema::{
    BLOCKQUOTE, BULLET_LIST, CODE_BLOCK, Element, HARD_BREAK, HEADING, HORIZONTAL_RULE, LIST_ITEM,
    LinkMark, Marks, Node, ORDERED_LIST, PARAGRAPH, Run, TABLE, TABLE_CELL, TABLE_HEADER,
    TABLE_ROW, cell_attrs, empty_paragraph, is_element,
};

/// What an open frame of the importer holds.
#[derive(Debug, Clone, Copy, PartialEq)]
enum FrameKind {
    /// Holds blocks: the document, lists, list items, quotes.
    Container,
    /// Holds inline content: paragraphs and headings.
    Inline,
    /// A paragraph we opened ourselves for text that came without one (tight list items).
    Implicit,
    /// A code block: raw text only.
    Code,
    /// An HTML block, kept as a paragraph of literal text.
    Html,
}

struct Frame {
    kind: FrameKind,
    element: Element,
}

/// Builds the tree from pulldown-cmark's event stream.
struct Importer {
    frames: Vec<Frame>,
    /// One entry per open container start tag: whether it got a frame (false past MAX_DEPTH,
    /// where its content goes to the deepest open container instead).
    containers: Vec<bool>,
    /// One entry per open table: whether its rows and cells get frames (false when the
    /// table, a row, a cell and its paragraph would not all fit under MAX_DEPTH; its cells
    /// then become paragraphs of the deepest open container).
    tables: Vec<bool>,
    /// Inside a GFM table's header row, whose cells are `tableHeader`s.
    table_head: bool,
    bold: u32,
    italic: u32,
    strike: u32,
    /// Open links and images; `None` for one whose destination we refused.
    links: Vec<Option<LinkMark>>,
    /// For each open image, the text counter when it started (to detect an empty alt text).
    images: Vec<usize>,
    texts: usize,
    /// Nodes built so far: finished blocks, text runs and breaks (see [`MAX_IMPORT_NODES`]).
    nodes: usize,
}

/// Most nodes one import may build: blocks, runs of text with one set of marks, and
/// hard breaks (content nested past `MAX_DEPTH` gets no node and costs none). A draft
/// programme has a few thousand paragraphs. Each node costs about 1 KB while importing
/// (the tree, yrs's items and the update; measured: 46,000 one-line headings, 92,000
/// nodes, peaked at 99 MB), so this bounds one import to about 100 MB. Without it, 2 MB
/// of one-line headings made a million nodes and held 1.1 GB (issue 13, item 4).
pub const MAX_IMPORT_NODES: usize = 100_000;

/// Why Markdown was not imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the Markdown holds more than {MAX_IMPORT_NODES} blocks, text runs and breaks")]
    TooManyNodes,
}

pub(super) fn parse_markdown(markdown: &str) -> Result<Vec<Node>, ImportError> {
    let mut importer = Importer {
        frames: vec![Frame {
            kind: FrameKind::Container,
            element: Element::new("doc", Vec::new(), Vec::new()),
        }],
        containers: Vec::new(),
        tables: Vec::new(),
        table_head: false,
        bold: 0,
        italic: 0,
        strike: 0,
        links: Vec::new(),
        images: Vec::new(),
        texts: 0,
        nodes: 0,
    };
    let options = cmark::Options::ENABLE_STRIKETHROUGH | cmark::Options::ENABLE_TABLES;
    for event in cmark::Parser::new_ext(markdown, options) {
        importer.event(event);
        if importer.nodes > MAX_IMPORT_NODES {
            return Err(ImportError::TooManyNodes);
        }
    }
    Ok(importer.finish())
}

impl Importer {
    fn event(&mut self, event: cmark::Event<'_>) {
        use cmark::Event;
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) | Event::InlineMath(text) | Event::DisplayMath(text) => {
                self.text(&text)
            }
            Event::Code(text) => {
                // Tiptap's `code` mark excludes every other mark (ProseMirror rejects text
                // with both). Inside a link the link wins, since it carries the address.
                let marks = match self.current_link() {
                    Some(link) => Marks {
                        link: Some(link),
                        ..Marks::default()
                    },
                    None => Marks {
                        code: true,
                        ..Marks::default()
                    },
                };
                self.push_run(&text, marks);
            }
            Event::Html(html) | Event::InlineHtml(html) => self.text(&html),
            Event::FootnoteReference(label) => self.text(&format!("[^{label}]")),
            Event::SoftBreak => self.text(" "),
            Event::HardBreak => self.hard_break(),
            Event::Rule => {
                self.close_inline();
                self.attach(Node::Element(Element::new(
                    HORIZONTAL_RULE,
                    Vec::new(),
                    Vec::new(),
                )));
            }
            Event::TaskListMarker(done) => self.text(if done { "[x] " } else { "[ ] " }),
        }
    }

    fn start(&mut self, tag: cmark::Tag<'_>) {
        use cmark::Tag;
        match tag {
            Tag::Paragraph => self.open_inline(PARAGRAPH, Vec::new(), FrameKind::Inline),
            Tag::Heading { level, .. } => {
                let level = level as i64;
                let attrs = vec![("level".to_string(), Any::from(level))];
                self.open_inline(HEADING, attrs, FrameKind::Inline);
            }
            Tag::BlockQuote(_) => self.open_container(BLOCKQUOTE, Vec::new()),
            Tag::CodeBlock(kind) => {
                let language = match kind {
                    cmark::CodeBlockKind::Fenced(info) => {
                        info.split_whitespace().next().map(str::to_string)
                    }
                    cmark::CodeBlockKind::Indented => None,
                };
                // A null attribute is not stored (y-tiptap skips it).
                let attrs = language
                    .map(|l| vec![("language".to_string(), Any::from(l))])
                    .unwrap_or_default();
                self.open_inline(CODE_BLOCK, attrs, FrameKind::Code);
            }
            Tag::HtmlBlock => self.open_inline(PARAGRAPH, Vec::new(), FrameKind::Html),
            Tag::List(Some(start)) => {
                let start = i64::try_from(start).unwrap_or(i64::MAX);
                self.open_container(ORDERED_LIST, vec![("start".to_string(), Any::from(start))]);
            }
            Tag::List(None) => self.open_container(BULLET_LIST, Vec::new()),
            Tag::Item => self.open_container(LIST_ITEM, Vec::new()),
            Tag::Table(_) => {
                // table > tableRow > cell > paragraph: four more frames.
                let fits = self.frames.len() + 4 <= MAX_DEPTH;
                self.tables.push(fits);
                if fits {
                    self.open_container(TABLE, Vec::new());
                } else {
                    self.close_inline();
                    self.containers.push(false);
                }
            }
            Tag::TableHead => {
                self.table_head = true;
                self.open_table_part(TABLE_ROW, Vec::new());
            }
            Tag::TableRow => self.open_table_part(TABLE_ROW, Vec::new()),
            Tag::TableCell => {
                let name = if self.table_head {
                    TABLE_HEADER
                } else {
                    TABLE_CELL
                };
                self.open_table_part(name, cell_attrs());
            }
            Tag::Emphasis => self.italic += 1,
            Tag::Strong => self.bold += 1,
            Tag::Strikethrough => self.strike += 1,
            Tag::Link {
                link_type,
                dest_url,
                title,
                ..
            } => self.links.push(link_mark(link_type, &dest_url, &title)),
            Tag::Image {
                link_type,
                dest_url,
                title,
                ..
            } => {
                // StarterKit has no image node: keep the alt text, linked to the image.
                self.links.push(link_mark(link_type, &dest_url, &title));
                self.images.push(self.texts);
            }
            // Not enabled in our parser options; their text still arrives as text.
            _ => {}
        }
    }

    fn end(&mut self, tag: cmark::TagEnd) {
        use cmark::TagEnd;
        match tag {
            TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::CodeBlock | TagEnd::HtmlBlock => {
                self.close_inline()
            }
            TagEnd::BlockQuote(_)
            | TagEnd::List(_)
            | TagEnd::Item
            | TagEnd::TableHead
            | TagEnd::TableRow
            | TagEnd::TableCell
            | TagEnd::Table => {
                if tag == TagEnd::TableHead {
                    self.table_head = false;
                }
                if tag == TagEnd::Table {
                    self.tables.pop();
                }
                self.close_inline();
                if self.containers.pop() == Some(true) {
                    self.close_frame();
                }
            }
            TagEnd::Emphasis => self.italic = self.italic.saturating_sub(1),
            TagEnd::Strong => self.bold = self.bold.saturating_sub(1),
            TagEnd::Strikethrough => self.strike = self.strike.saturating_sub(1),
            TagEnd::Link => {
                self.links.pop();
            }
            TagEnd::Image => {
                let started = self.images.pop();
                if started == Some(self.texts)
                    && let Some(Some(link)) = self.links.last()
                {
                    // An image without alt text: show its address.
                    let href = link.href.clone();
                    self.text(&href);
                }
                self.links.pop();
            }
            _ => {}
        }
    }

    fn finish(mut self) -> Vec<Node> {
        self.close_inline();
        while self.frames.len() > 1 {
            self.close_frame();
        }
        self.frames
            .pop()
            .map(|root| root.element.children)
            .unwrap_or_default()
    }

    fn top_kind(&self) -> FrameKind {
        self.frames
            .last()
            .map_or(FrameKind::Container, |frame| frame.kind)
    }

    fn open_inline(&mut self, name: &str, attrs: Vec<(String, Any)>, kind: FrameKind) {
        self.close_inline();
        self.frames.push(Frame {
            kind,
            element: Element::new(name, attrs, Vec::new()),
        });
    }

    fn open_container(&mut self, name: &str, attrs: Vec<(String, Any)>) {
        self.close_inline();
        if self.frames.len() >= MAX_DEPTH {
            self.containers.push(false);
        } else {
            self.containers.push(true);
            self.frames.push(Frame {
                kind: FrameKind::Container,
                element: Element::new(name, attrs, Vec::new()),
            });
        }
    }

    /// Opens a row or cell of the innermost table, or (for a table too deep to keep its
    /// structure) only records it, so that its text goes to the enclosing container.
    fn open_table_part(&mut self, name: &str, attrs: Vec<(String, Any)>) {
        if self.tables.last() == Some(&true) {
            self.open_container(name, attrs);
        } else {
            self.close_inline();
            self.containers.push(false);
        }
    }

    /// Closes the open paragraph, heading or code block, if any.
    fn close_inline(&mut self) {
        if self.frames.len() > 1 && self.top_kind() != FrameKind::Container {
            self.close_frame();
        }
    }

    fn close_frame(&mut self) {
        if self.frames.len() <= 1 {
            return;
        }
        if let Some(frame) = self.frames.pop()
            && let Some(node) = finish_frame(frame)
        {
            self.attach(node);
        }
    }

    /// Adds a finished block to the innermost open container, keeping Tiptap's content
    /// rules: a list holds only list items.
    fn attach(&mut self, node: Node) {
        let Some(parent) = self.frames.last_mut() else {
            return;
        };
        let parent_is_list =
            parent.element.name == BULLET_LIST || parent.element.name == ORDERED_LIST;
        let node = if parent_is_list && !is_element(&node, LIST_ITEM) {
            let mut item = Element::new(LIST_ITEM, Vec::new(), vec![node]);
            normalize_list_item(&mut item);
            Node::Element(item)
        } else {
            node
        };
        parent.element.children.push(node);
        self.nodes += 1;
    }

    fn current_marks(&self) -> Marks {
        Marks {
            bold: self.bold > 0,
            italic: self.italic > 0,
            strike: self.strike > 0,
            underline: false,
            code: false,
            link: self.current_link(),
        }
    }

    /// The outermost link in effect (for `[![alt](img)](href)`, the link, not the image).
    fn current_link(&self) -> Option<LinkMark> {
        self.links.iter().flatten().next().cloned()
    }

    /// Literal text: raw in code and HTML blocks, with the current marks elsewhere.
    fn text(&mut self, text: &str) {
        match self.top_kind() {
            FrameKind::Code | FrameKind::Html => self.push_run(text, Marks::default()),
            _ => {
                let marks = self.current_marks();
                self.push_run(text, marks);
            }
        }
    }

    fn push_run(&mut self, text: &str, marks: Marks) {
        if text.is_empty() {
            return;
        }
        if self.top_kind() == FrameKind::Container {
            self.frames.push(Frame {
                kind: FrameKind::Implicit,
                element: Element::new(PARAGRAPH, Vec::new(), Vec::new()),
            });
        }
        self.texts += 1;
        let Some(frame) = self.frames.last_mut() else {
            return;
        };
        let children = &mut frame.element.children;
        if let Some(Node::Text(runs)) = children.last_mut() {
            if let Some(last) = runs.last_mut()
                && last.marks == marks
            {
                last.text.push_str(text);
            } else {
                runs.push(Run {
                    text: text.to_string(),
                    marks,
                });
                self.nodes += 1;
            }
        } else {
            children.push(Node::Text(vec![Run {
                text: text.to_string(),
                marks,
            }]));
            self.nodes += 1;
        }
    }

    fn hard_break(&mut self) {
        match self.top_kind() {
            FrameKind::Code | FrameKind::Html => self.push_run("\n", Marks::default()),
            kind => {
                if kind == FrameKind::Container {
                    self.frames.push(Frame {
                        kind: FrameKind::Implicit,
                        element: Element::new(PARAGRAPH, Vec::new(), Vec::new()),
                    });
                }
                if let Some(frame) = self.frames.last_mut() {
                    frame.element.children.push(Node::Element(Element::new(
                        HARD_BREAK,
                        Vec::new(),
                        Vec::new(),
                    )));
                    self.nodes += 1;
                }
            }
        }
    }
}

/// Turns a closed frame into its node, applying Tiptap's content rules; `None` drops it.
fn finish_frame(frame: Frame) -> Option<Node> {
    let mut element = frame.element;
    match frame.kind {
        FrameKind::Code => {
            let mut text = plain_inline(&element.children);
            // pulldown-cmark ends the code with a newline; ProseMirror's code does not.
            if text.ends_with('\n') {
                text.pop();
            }
            element.children = if text.is_empty() {
                Vec::new()
            } else {
                vec![Node::Text(vec![Run {
                    text,
                    marks: Marks::default(),
                }])]
            };
        }
        FrameKind::Html => {
            let text = plain_inline(&element.children);
            let mut children = Vec::new();
            for (i, line) in text.trim_end_matches(['\n', '\r']).split('\n').enumerate() {
                if i > 0 {
                    children.push(Node::Element(Element::new(
                        HARD_BREAK,
                        Vec::new(),
                        Vec::new(),
                    )));
                }
                let line = line.trim_end_matches('\r');
                if !line.is_empty() {
                    children.push(Node::Text(vec![Run {
                        text: line.to_string(),
                        marks: Marks::default(),
                    }]));
                }
            }
            element.children = children;
        }
        FrameKind::Inline | FrameKind::Implicit => {}
        FrameKind::Container => match element.name.as_str() {
            LIST_ITEM => normalize_list_item(&mut element),
            BLOCKQUOTE if element.children.is_empty() => {
                element.children.push(empty_paragraph());
            }
            BULLET_LIST | ORDERED_LIST if element.children.is_empty() => return None,
            // Tiptap's cell content is `block+`.
            TABLE_CELL | TABLE_HEADER if element.children.is_empty() => {
                element.children.push(empty_paragraph());
            }
            _ => {}
        },
    }
    Some(Node::Element(element))
}

/// Tiptap's `listItem` content is `paragraph block*`.
fn normalize_list_item(item: &mut Element) {
    if !item
        .children
        .first()
        .is_some_and(|c| is_element(c, PARAGRAPH))
    {
        item.children.insert(0, empty_paragraph());
    }
}

fn link_mark(link_type: cmark::LinkType, dest: &str, title: &str) -> Option<LinkMark> {
    let href = if link_type == cmark::LinkType::Email
        && !dest.to_ascii_lowercase().starts_with("mailto:")
    {
        format!("mailto:{dest}")
    } else {
        dest.to_string()
    };
    href_allowed(&href, EDITOR_SCHEMES).then(|| LinkMark {
        href,
        title: (!title.is_empty()).then(|| title.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use yrs::types::text::YChange;
    use yrs::{Text, Transact};

    use super::super::export_markdown;
    use super::super::test_support::{children, element, import, tag, text, to_markdown};
    use super::{ImportError, MAX_IMPORT_NODES, parse_markdown};

    #[test]
    fn nodes_past_the_limit_are_refused_and_up_to_it_imported() {
        // A heading is two nodes: the block and its text.
        let at_limit = "# a\n".repeat(MAX_IMPORT_NODES / 2);
        assert_eq!(
            parse_markdown(&at_limit).map(|b| b.len()),
            Ok(MAX_IMPORT_NODES / 2)
        );
        let over = "# a\n".repeat(MAX_IMPORT_NODES / 2 + 1);
        assert_eq!(parse_markdown(&over).err(), Some(ImportError::TooManyNodes));
        // Prose costs no nodes but its paragraphs: one long paragraph is one node.
        let prose = "Förankra ".repeat(200_000);
        assert_eq!(parse_markdown(&prose).map(|b| b.len()), Ok(1));
    }

    #[test]
    fn a_huge_table_is_refused_and_a_deep_one_flattened() {
        // 400 columns: each cell is a cell, a paragraph and (when not empty) a text.
        let header = "|a".repeat(400) + "|\n" + &"|-".repeat(400) + "|\n";
        let row = "|x".repeat(400) + "|\n";
        let huge = header.clone() + &row.repeat(200);
        assert_eq!(parse_markdown(&huge).err(), Some(ImportError::TooManyNodes));
        // Missing cells are filled in by the parser and cost nodes as well.
        let empty_rows = header + &"|x|\n".repeat(300);
        assert_eq!(
            parse_markdown(&empty_rows).err(),
            Some(ImportError::TooManyNodes)
        );
        // A table nested in 47 quotes has no room for its rows: its cells are paragraphs.
        let deep = ">".repeat(47) + " | A | B |\n" + &">".repeat(47) + " | - | - |\n";
        let (doc, fragment) = import(&deep);
        let txn = doc.transact();
        assert_eq!(super::super::block_texts(&txn, &fragment)[0], "A\nB");
    }

    #[test]
    fn list_items_always_start_with_a_paragraph() {
        let (doc, fragment) = import("- # rubrik i punkt\n-\n- - inre\n");
        let txn = doc.transact();
        let list = element(&children(&txn, &fragment)[0]);
        for item in children(&txn, &list) {
            let first = children(&txn, &element(&item));
            assert_eq!(tag(&first[0]), "paragraph");
        }
        assert_eq!(
            export_markdown(&txn, &fragment),
            "- # rubrik i punkt\n-\n- - inre\n"
        );
    }

    #[test]
    fn markdown_variants_normalise() {
        let cases = [
            ("Mjuk\nradbrytning", "Mjuk radbrytning\n"),
            (
                "Rubrik\n======\n\nUnder\n------\n",
                "# Rubrik\n\n## Under\n",
            ),
            ("* a\n* b\n", "- a\n- b\n"),
            ("    indenterad kod\n", "```\nindenterad kod\n```\n"),
            ("~~~python\nx = 1\n~~~\n", "```python\nx = 1\n```\n"),
            ("__fet__ _kursiv_ ~enkel~\n", "**fet** *kursiv* ~~enkel~~\n"),
            ("***\n", "---\n"),
            ("rad  \nbrytning\n", "rad\\\nbrytning\n"),
            (
                "<https://example.se>\n",
                "[https://example.se](https://example.se)\n",
            ),
            ("<a@example.se>\n", "[a@example.se](mailto:a@example.se)\n"),
            (
                "![Bild på skolan](https://example.se/b.png)\n",
                "[Bild på skolan](https://example.se/b.png)\n",
            ),
            (
                "[ref]\n\n[ref]: https://example.se\n",
                "[ref](https://example.se)\n",
            ),
            ("** inte fet**\n", "\\*\\* inte fet\\*\\*\n"),
            ("", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(to_markdown(input), expected, "normalising {input:?}");
        }
    }

    #[test]
    fn code_inside_a_link_keeps_the_link() {
        let (doc, fragment) = import("[`npm i`](https://example.se) och `kod`");
        let txn = doc.transact();
        let inline = children(&txn, &element(&children(&txn, &fragment)[0]));
        let diff = text(&inline[0]).diff(&txn, YChange::identity);
        let keys: Vec<Vec<String>> = diff
            .iter()
            .map(|d| {
                d.attributes
                    .iter()
                    .flat_map(|a| a.keys().map(|k| k.to_string()))
                    .collect()
            })
            .collect();
        assert_eq!(keys, [vec!["link"], vec![], vec!["code"]]);
    }
}
