//! The main part (`word/document.xml`) read into paragraphs, in one pass.
//!
//! WordprocessingML keeps a paragraph's meaning in its properties (style, list
//! numbering, outline level) and its text in runs with their own formatting; the reader
//! keeps both as it walks and closes a [`Block`] at each paragraph's end. What the
//! editor's model cannot hold is skipped as a whole subtree and counted by name
//! ([`Counts`]), so the user is told what did not come along: images, drawings and text
//! boxes, comments, footnotes, equations, embedded objects. Tracked changes are taken as
//! they would read accepted (insertions kept, deletions dropped) and counted. A table
//! becomes the editor's table (`table` > `tableRow` > `tableHeader`/`tableCell` >
//! paragraphs), its first row the header row; a table nested in a cell gives its
//! paragraphs to that cell.
//!
//! `mc:AlternateContent` carries the same object twice (a modern `Choice` and a legacy
//! `Fallback`); only the `Choice` is read, so nothing is counted twice.

use super::WordError;
use super::styles::{Level, Numbering, Relationships, RunFlags, Styles};
use super::xml::{Step, Tag, walk};
use crate::documents::markdown::href::{EDITOR_SCHEMES, href_allowed};
use crate::documents::markdown::schema::{
    Element, HARD_BREAK, LinkMark, Marks, Node, PARAGRAPH, Run, TABLE, TABLE_CELL, TABLE_HEADER,
    TABLE_ROW, cell_attrs, empty_paragraph,
};

/// What the editor cannot hold, counted by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub images: u32,
    pub drawings: u32,
    pub text_boxes: u32,
    pub comments: u32,
    pub footnotes: u32,
    pub endnotes: u32,
    pub tracked_changes: u32,
    pub equations: u32,
    pub embedded_objects: u32,
    /// Page headers and footers holding text (read from their own parts).
    pub headers_footers: u32,
}

/// What the body read, with the relationship ids of the page headers and footers its
/// sections use (their text lives in parts of their own).
pub struct Body {
    pub blocks: Vec<Block>,
    pub counts: Counts,
    pub header_footer_ids: Vec<String>,
}

/// One paragraph of the document, as the editor will hold it.
#[derive(Debug)]
pub struct Block {
    /// The heading level, for a heading.
    pub heading: Option<u8>,
    /// The list level's numbering and the level (0–8), for a list item.
    pub list: Option<(Level, u8)>,
    /// Text runs and hard breaks.
    pub inline: Vec<Node>,
    /// A whole table instead of a paragraph (`heading`, `list` and `inline` are empty).
    pub table: Option<Node>,
}

/// Word's list levels are 0–8.
const MAX_LIST_LEVEL: u8 = 8;

/// Reads the blocks of `xml`; stops with [`WordError::TooManyNodes`] past `max_nodes`.
pub fn read(
    xml: &str,
    parts: (&Styles, &Numbering, &Relationships),
    max_nodes: usize,
) -> Result<Body, WordError> {
    let (styles, numbering, rels) = parts;
    let mut reader = BodyReader {
        styles,
        numbering,
        rels,
        stack: Vec::new(),
        skip: None,
        paragraph: None,
        run: None,
        links: Vec::new(),
        table: None,
        blocks: Vec::new(),
        counts: Counts::default(),
        nodes: 0,
        header_footer_ids: Vec::new(),
    };
    let mut overflow = false;
    walk(xml, super::package::DOCUMENT_PART, |step| {
        if overflow {
            return;
        }
        reader.step(step);
        overflow = reader.nodes > max_nodes;
    })?;
    if overflow {
        return Err(WordError::TooManyNodes(max_nodes));
    }
    Ok(Body {
        blocks: reader.blocks,
        counts: reader.counts,
        header_footer_ids: reader.header_footer_ids,
    })
}

/// A subtree being skipped: where it started and what was seen inside.
struct Skip {
    depth: usize,
    kind: Skipped,
    saw_image: bool,
    saw_text_box: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Skipped {
    /// Counted where it started, or not counted at all.
    Silent,
    /// A drawing or legacy picture: classified at its end by what it held.
    Drawing,
    /// An embedded (OLE) object.
    Object,
}

#[derive(Default)]
struct Paragraph {
    style: Option<String>,
    num_id: Option<String>,
    num_level: Option<u8>,
    outline: Option<u8>,
    inline: Vec<Node>,
}

#[derive(Default)]
struct RunState {
    flags: RunFlags,
    style: Option<String>,
}

/// An open table (the outermost one; nested tables add their paragraphs to its current
/// cell).
#[derive(Default)]
struct Table {
    nesting: usize,
    /// The finished rows, each a list of cells.
    rows: Vec<Node>,
    /// The current row's finished cells.
    cells: Vec<Node>,
    /// The current cell's paragraphs.
    cell: Vec<Node>,
}

struct BodyReader<'a> {
    styles: &'a Styles,
    numbering: &'a Numbering,
    rels: &'a Relationships,
    stack: Vec<String>,
    skip: Option<Skip>,
    paragraph: Option<Paragraph>,
    run: Option<RunState>,
    links: Vec<Option<LinkMark>>,
    table: Option<Table>,
    blocks: Vec<Block>,
    counts: Counts,
    nodes: usize,
    header_footer_ids: Vec<String>,
}

impl BodyReader<'_> {
    fn step(&mut self, step: Step<'_>) {
        match step {
            Step::Start(tag) => {
                self.stack.push(tag.name.clone());
                if let Some(skip) = self.skip.as_mut() {
                    match tag.name.as_str() {
                        "blip" | "imagedata" => skip.saw_image = true,
                        "txbxContent" | "textbox" => skip.saw_text_box = true,
                        _ => {}
                    }
                    return;
                }
                self.start(&tag);
            }
            Step::End(name) => {
                let depth = self.stack.len();
                self.stack.pop();
                if let Some(skip) = &self.skip {
                    if skip.depth == depth {
                        self.end_skip();
                    }
                    return;
                }
                self.end(name);
            }
            Step::Text(text) => {
                if self.skip.is_none() && self.parent_is("t", 0) && self.run.is_some() {
                    self.push_text(&text);
                }
            }
        }
    }

    /// Whether the element `up` levels above the current one is `name` (0 = current).
    fn parent_is(&self, name: &str, up: usize) -> bool {
        self.stack
            .len()
            .checked_sub(up + 1)
            .and_then(|i| self.stack.get(i))
            .is_some_and(|n| n == name)
    }

    fn begin_skip(&mut self, kind: Skipped) {
        self.skip = Some(Skip {
            depth: self.stack.len(),
            kind,
            saw_image: false,
            saw_text_box: false,
        });
    }

    fn end_skip(&mut self) {
        let Some(skip) = self.skip.take() else {
            return;
        };
        let counts = &mut self.counts;
        match skip.kind {
            Skipped::Silent => {}
            _ if skip.saw_text_box => counts.text_boxes += 1,
            _ if skip.saw_image => counts.images += 1,
            Skipped::Object => counts.embedded_objects += 1,
            Skipped::Drawing => counts.drawings += 1,
        }
    }

    fn start(&mut self, tag: &Tag) {
        let name = tag.name.as_str();
        match name {
            "Fallback" | "sdtPr" | "sdtEndPr" | "instrText" | "delText" | "delInstrText" => {
                self.begin_skip(Skipped::Silent)
            }
            "del" | "moveFrom" => {
                self.counts.tracked_changes += 1;
                self.begin_skip(Skipped::Silent);
            }
            _ if name.ends_with("Change") => {
                self.counts.tracked_changes += 1;
                self.begin_skip(Skipped::Silent);
            }
            "ins" | "moveTo" if self.paragraph.is_some() => self.counts.tracked_changes += 1,
            "drawing" | "pict" => self.begin_skip(Skipped::Drawing),
            "object" | "altChunk" => self.begin_skip(Skipped::Object),
            "oMathPara" | "oMath" => {
                self.counts.equations += 1;
                self.begin_skip(Skipped::Silent);
            }
            "commentReference" => self.counts.comments += 1,
            "headerReference" | "footerReference" => {
                if let Some(id) = tag.attr("id")
                    && !self.header_footer_ids.iter().any(|known| known == id)
                {
                    self.header_footer_ids.push(id.to_owned());
                }
            }
            "footnoteReference" => self.counts.footnotes += 1,
            "endnoteReference" => self.counts.endnotes += 1,
            "tbl" => self.open_table(),
            "p" => self.paragraph = Some(Paragraph::default()),
            "r" if self.paragraph.is_some() => self.run = Some(RunState::default()),
            "hyperlink" if self.paragraph.is_some() => {
                let link = self.link(tag);
                self.links.push(link);
            }
            "tab" if self.run.is_some() && self.parent_is("r", 1) => self.push_text("\t"),
            "noBreakHyphen" if self.run.is_some() => self.push_text("-"),
            "br" | "cr" if self.run.is_some() && self.parent_is("r", 1) => {
                if matches!(tag.attr("type"), None | Some("textWrapping")) {
                    self.push_break();
                }
            }
            _ => self.property(tag),
        }
    }

    /// A paragraph or run property.
    fn property(&mut self, tag: &Tag) {
        let name = tag.name.as_str();
        let val = tag.attr("val");
        if self.parent_is("rPr", 1) && self.parent_is("r", 2) {
            if let Some(run) = self.run.as_mut() {
                match name {
                    "rStyle" => run.style = val.map(str::to_owned),
                    _ => run.flags.set(name, tag),
                }
            }
            return;
        }
        let in_ppr = self.parent_is("pPr", 1);
        let in_numpr = self.parent_is("numPr", 1);
        let Some(paragraph) = self.paragraph.as_mut() else {
            return;
        };
        match name {
            "pStyle" if in_ppr => paragraph.style = val.map(str::to_owned),
            "outlineLvl" if in_ppr => paragraph.outline = val.and_then(|v| v.parse().ok()),
            "numId" if in_numpr => paragraph.num_id = val.map(str::to_owned),
            "ilvl" if in_numpr => paragraph.num_level = val.and_then(|v| v.parse().ok()),
            _ => {}
        }
    }

    fn end(&mut self, name: &str) {
        match name {
            "p" => self.close_paragraph(),
            "r" => self.run = None,
            "hyperlink" if self.paragraph.is_some() => {
                self.links.pop();
            }
            "tc" => self.close_cell(),
            "tr" => self.close_row(),
            "tbl" => self.close_table(),
            _ => {}
        }
    }

    /// A hyperlink's mark: external links whose address the editor accepts; an internal
    /// link (to a bookmark) or a refused scheme keeps its text without a link.
    fn link(&self, tag: &Tag) -> Option<LinkMark> {
        let href = self.rels.target(tag.attr("id")?)?;
        let href = match tag.attr("anchor") {
            Some(anchor) => format!("{href}#{anchor}"),
            None => href.to_owned(),
        };
        href_allowed(&href, EDITOR_SCHEMES).then(|| LinkMark {
            href,
            title: tag.attr("tooltip").map(str::to_owned),
        })
    }

    fn marks(&self) -> Marks {
        let Some(run) = &self.run else {
            return Marks::default();
        };
        let style = run
            .style
            .as_deref()
            .map(|s| self.styles.run_flags(s))
            .unwrap_or_default();
        let flags = run.flags.over(style);
        let link = self.links.last().cloned().flatten();
        Marks {
            bold: flags.bold.unwrap_or(false),
            italic: flags.italic.unwrap_or(false),
            strike: flags.strike.unwrap_or(false),
            // A link is underlined by its character style; the editor shows links so.
            underline: flags.underline.unwrap_or(false) && link.is_none(),
            code: false,
            link,
        }
    }

    fn push_text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        let marks = self.marks();
        let Some(paragraph) = self.paragraph.as_mut() else {
            return;
        };
        if let Some(Node::Text(runs)) = paragraph.inline.last_mut() {
            match runs.last_mut() {
                Some(last) if last.marks == marks => last.text.push_str(text),
                _ => {
                    runs.push(Run {
                        text: text.to_owned(),
                        marks,
                    });
                    self.nodes += 1;
                }
            }
            return;
        }
        paragraph.inline.push(Node::Text(vec![Run {
            text: text.to_owned(),
            marks,
        }]));
        self.nodes += 1;
    }

    fn push_break(&mut self) {
        if let Some(paragraph) = self.paragraph.as_mut() {
            paragraph.inline.push(Node::Element(Element::new(
                HARD_BREAK,
                Vec::new(),
                Vec::new(),
            )));
            self.nodes += 1;
        }
    }

    fn close_paragraph(&mut self) {
        let Some(paragraph) = self.paragraph.take() else {
            return;
        };
        self.run = None;
        self.links.clear();
        let mut paragraph = paragraph;
        if let Some(table) = self.table.as_mut() {
            trim_ends(&mut paragraph.inline);
            if has_text(&paragraph.inline) {
                self.nodes += 1;
                let node = Element::new(PARAGRAPH, Vec::new(), paragraph.inline);
                table.cell.push(Node::Element(node));
            }
            return;
        }
        if !has_text(&paragraph.inline) {
            return;
        }
        trim_ends(&mut paragraph.inline);
        let heading = paragraph
            .style
            .as_deref()
            .and_then(|s| self.styles.heading_level(s))
            .or_else(|| paragraph.outline.filter(|o| *o < 6).map(|o| o + 1));
        let list = if heading.is_some() {
            None
        } else {
            self.list_of(&paragraph)
        };
        self.nodes += 1;
        self.blocks.push(Block {
            heading,
            list,
            inline: paragraph.inline,
            table: None,
        });
    }

    /// The list a paragraph is an item of: its own numbering, else its style's.
    fn list_of(&self, paragraph: &Paragraph) -> Option<(Level, u8)> {
        let num = match &paragraph.num_id {
            Some(num_id) => super::styles::NumRef {
                num_id: num_id.clone(),
                level: paragraph.num_level.unwrap_or(0),
            },
            None => self.styles.numbering(paragraph.style.as_deref()?)?,
        };
        let level = num.level.min(MAX_LIST_LEVEL);
        let numbered = super::styles::NumRef { level, ..num };
        self.numbering.level(&numbered).map(|l| (l, level))
    }

    fn open_table(&mut self) {
        match self.table.as_mut() {
            Some(table) => table.nesting += 1,
            None => {
                // A table inside a paragraph cannot be; close any paragraph left open.
                self.close_paragraph();
                self.table = Some(Table::default());
            }
        }
    }

    fn close_cell(&mut self) {
        let Some(table) = self.table.as_mut() else {
            return;
        };
        if table.nesting > 0 {
            return;
        }
        let mut blocks = std::mem::take(&mut table.cell);
        if blocks.is_empty() {
            // Tiptap's cell content is `block+`.
            blocks.push(empty_paragraph());
        }
        // The first row is the header row.
        let name = if table.rows.is_empty() {
            TABLE_HEADER
        } else {
            TABLE_CELL
        };
        table
            .cells
            .push(Node::Element(Element::new(name, cell_attrs(), blocks)));
        self.nodes += 1;
    }

    fn close_row(&mut self) {
        let Some(table) = self.table.as_mut() else {
            return;
        };
        if table.nesting > 0 {
            return;
        }
        let cells = std::mem::take(&mut table.cells);
        if cells.is_empty() {
            return;
        }
        table
            .rows
            .push(Node::Element(Element::new(TABLE_ROW, Vec::new(), cells)));
        self.nodes += 1;
    }

    fn close_table(&mut self) {
        match self.table.as_mut() {
            Some(table) if table.nesting > 0 => table.nesting -= 1,
            Some(_) => {
                let Some(table) = self.table.take() else {
                    return;
                };
                if table.rows.is_empty() {
                    return;
                }
                self.nodes += 1;
                self.blocks.push(Block {
                    heading: None,
                    list: None,
                    inline: Vec::new(),
                    table: Some(Node::Element(Element::new(TABLE, Vec::new(), table.rows))),
                });
            }
            None => {}
        }
    }
}

/// Drops the spaces a paragraph starts or ends with (Word keeps them; in the editor they
/// are invisible, and the Markdown export would have to write them as entities).
fn trim_ends(inline: &mut Vec<Node>) {
    if let Some(Node::Text(runs)) = inline.first_mut()
        && let Some(run) = runs.first_mut()
    {
        run.text = run.text.trim_start().to_owned();
    }
    if let Some(Node::Text(runs)) = inline.last_mut()
        && let Some(run) = runs.last_mut()
    {
        run.text = run.text.trim_end().to_owned();
    }
    for node in inline.iter_mut() {
        if let Node::Text(runs) = node {
            runs.retain(|r| !r.text.is_empty());
        }
    }
    inline.retain(|node| !matches!(node, Node::Text(runs) if runs.is_empty()));
}

/// Whether inline content holds any visible text.
fn has_text(inline: &[Node]) -> bool {
    inline.iter().any(|node| match node {
        Node::Text(runs) => runs.iter().any(|r| !r.text.trim().is_empty()),
        Node::Element(_) => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: &str = r#"xmlns:w="w" xmlns:mc="mc" xmlns:r="r""#;

    fn read_body(body: &str, numbering: &str) -> (Vec<Block>, Counts) {
        let read = read_all(body, numbering);
        (read.blocks, read.counts)
    }

    fn read_all(body: &str, numbering: &str) -> Body {
        let xml = format!("<w:document {W}><w:body>{body}</w:body></w:document>");
        let numbering = Numbering::parse(&format!("<w:numbering {W}>{numbering}</w:numbering>"))
            .expect("numbering");
        let rels = Relationships::parse(
            r#"<Relationships><Relationship Id="rId1" Target="https://a.se/"/><Relationship Id="rId2" Target="javascript:alert(1)"/></Relationships>"#,
        )
        .expect("rels");
        read(&xml, (&Styles::default(), &numbering, &rels), 1000).expect("reads")
    }

    fn text(block: &Block) -> String {
        block
            .inline
            .iter()
            .map(|n| match n {
                Node::Text(runs) => runs.iter().map(|r| r.text.as_str()).collect(),
                Node::Element(_) => "\n".to_owned(),
            })
            .collect()
    }

    #[test]
    fn tracked_changes_read_as_accepted_and_are_counted() {
        let (blocks, counts) = read_body(
            r#"<w:p><w:r><w:t>Staden </w:t></w:r><w:del><w:r><w:delText>ska inte</w:delText></w:r></w:del><w:ins><w:r><w:t>ska</w:t></w:r></w:ins><w:r><w:rPr><w:b/><w:rPrChange><w:rPr><w:i/></w:rPr></w:rPrChange></w:rPr><w:t> bygga</w:t></w:r></w:p>"#,
            "",
        );
        assert_eq!(text(&blocks[0]), "Staden ska bygga");
        assert_eq!(counts.tracked_changes, 3);
        let Node::Text(runs) = &blocks[0].inline[0] else {
            panic!("text first")
        };
        let last = runs.last().expect("a run");
        assert!(last.marks.bold && !last.marks.italic, "{runs:?}");
    }

    #[test]
    fn alternate_content_counts_once_and_text_boxes_are_named() {
        let (blocks, counts) = read_body(
            r#"<w:p><w:r><w:t>Före</w:t></w:r><w:r><mc:AlternateContent><mc:Choice><w:drawing><wps:txbx xmlns:wps="wps"><w:txbxContent><w:p><w:r><w:t>I rutan</w:t></w:r></w:p></w:txbxContent></wps:txbx></w:drawing></mc:Choice><mc:Fallback><w:pict><v:textbox xmlns:v="v"><w:txbxContent><w:p><w:r><w:t>I rutan</w:t></w:r></w:p></w:txbxContent></v:textbox></w:pict></mc:Fallback></mc:AlternateContent></w:r><w:r><w:footnoteReference w:id="1"/></w:r></w:p>
               <w:p><w:r><w:drawing><a:blip xmlns:a="a" r:embed="rId9"/></w:drawing></w:r></w:p>"#,
            "",
        );
        assert_eq!(
            blocks.len(),
            1,
            "the paragraph holding only an image is left out"
        );
        assert_eq!(text(&blocks[0]), "Före");
        assert_eq!(counts.text_boxes, 1);
        assert_eq!(counts.images, 1);
        assert_eq!(counts.footnotes, 1);
    }

    #[test]
    fn lists_links_and_breaks() {
        let numbering = r#"<w:abstractNum w:abstractNumId="5"><w:lvl w:ilvl="0"><w:start w:val="3"/><w:numFmt w:val="decimal"/></w:lvl><w:lvl w:ilvl="1"><w:numFmt w:val="bullet"/></w:lvl></w:abstractNum><w:num w:numId="7"><w:abstractNumId w:val="5"/></w:num>"#;
        let (blocks, _) = read_body(
            r#"<w:p><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="7"/></w:numPr></w:pPr><w:r><w:t>Tre</w:t></w:r></w:p>
               <w:p><w:pPr><w:numPr><w:ilvl w:val="1"/><w:numId w:val="7"/></w:numPr></w:pPr><w:hyperlink r:id="rId1"><w:r><w:rPr><w:u w:val="single"/></w:rPr><w:t>länk</w:t></w:r></w:hyperlink><w:hyperlink r:id="rId2"><w:r><w:t> farlig</w:t></w:r></w:hyperlink></w:p>
               <w:p><w:r><w:t>rad ett</w:t><w:br/><w:t>rad två</w:t><w:br w:type="page"/></w:r></w:p>"#,
            numbering,
        );
        assert_eq!(
            blocks[0].list,
            Some((
                Level {
                    ordered: true,
                    start: 3
                },
                0
            ))
        );
        assert_eq!(
            blocks[1].list.map(|(l, d)| (l.ordered, d)),
            Some((false, 1))
        );
        let Node::Text(runs) = &blocks[1].inline[0] else {
            panic!("text")
        };
        let link = runs[0].marks.link.as_ref().expect("a link");
        assert_eq!(link.href, "https://a.se/");
        assert!(!runs[0].marks.underline, "a link is not also underlined");
        assert!(runs[1].marks.link.is_none(), "javascript: loses its link");
        assert_eq!(text(&blocks[2]), "rad ett\nrad två");

        let nodes = super::super::tree::tree(blocks);
        assert_eq!(
            nodes.len(),
            2,
            "one list holding a nested one, then a paragraph"
        );
    }
}
