//! Word (.docx) into a new document: headings, paragraphs, bulleted and numbered lists
//! (nested), links, bold, italic, underline and strike, and tables (the first row as the
//! header row). Everything else the editor cannot hold (images,
//! drawings, text boxes, comments, footnotes, equations, embedded objects, page headers
//! and footers that hold text, the marks of tracked changes) is counted and named to the
//! user ([`NotCarried`]), never dropped silently.
//!
//! Why a reader of our own over zip + quick-xml rather than docx-rs's `read_docx`: the
//! upload is hostile, and `read_docx` unpacks every part (images included) with no bound
//! and builds its whole model recursively; here only the five XML parts we need are
//! unpacked, each through its own size limit (`package`), the walk is a loop with a
//! depth bound (`xml`), and the node count is bounded as Markdown's is
//! ([`MAX_IMPORT_NODES`]). The result goes through the Markdown importer's writer, so
//! the CRDT has exactly the shape Tiptap writes.
//!
//! OpenDocument (.odt) is a different format (`content.xml`, another vocabulary) that no
//! library we use reads; it is recognised and refused with a clear message.

mod body;
mod package;
mod styles;
mod tree;
mod xml;

use serde::Serialize;

use crate::documents::markdown::MAX_IMPORT_NODES;
use crate::documents::markdown::schema::Node;

pub use package::{MAX_DOCUMENT_XML_BYTES, MAX_SIDE_PART_BYTES};
pub use xml::MAX_XML_DEPTH;

/// Why a file was not imported. Every one is the file's fault (422).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WordError {
    #[error("the file is not a Word document (.docx): it is not a ZIP package")]
    NotAZip,
    #[error(
        "the file is an OpenDocument text (.odt); Förankra imports Word (.docx): save it as .docx and import that"
    )]
    OpenDocument,
    #[error("the file is a ZIP package but not a Word document: it has no word/document.xml")]
    NoDocumentPart,
    #[error("the Word document is encrypted or password protected")]
    Encrypted,
    #[error("the package holds more than {0} files")]
    TooManyEntries(usize),
    #[error("{part} unpacks to more than {limit} bytes")]
    PartTooLarge { part: String, limit: u64 },
    #[error("{0} in the Word document is damaged or not well-formed XML")]
    BrokenPart(String),
    #[error("the Word document nests elements deeper than {0} levels")]
    TooDeep(usize),
    #[error("the Word document holds more than {0} paragraphs, text runs and breaks")]
    TooManyNodes(usize),
}

/// What the editor could not hold, by kind and count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotCarried {
    pub kind: NotCarriedKind,
    pub count: u32,
}

/// A kind of content the import could not carry as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotCarriedKind {
    /// Pictures (left out).
    Image,
    /// Shapes, charts and other drawings (left out).
    Drawing,
    /// Text boxes, with their text (left out).
    TextBox,
    /// Comments (left out; open threads on the new document instead).
    Comment,
    /// Footnotes (the reference and the note left out).
    Footnote,
    /// Endnotes (left out).
    Endnote,
    /// Tracked changes: the text reads as if they were accepted, the marks are gone.
    TrackedChange,
    /// Equations (left out).
    Equation,
    /// Embedded objects (left out).
    EmbeddedObject,
    /// Page headers and footers holding text (left out).
    HeaderFooter,
}

/// A Word document read for the editor.
#[derive(Debug)]
pub struct WordImport {
    /// The blocks, ready for [`crate::documents::content::update_from_word`].
    pub(in crate::documents) blocks: Vec<Node>,
    /// The title in the document's properties, else its first heading.
    pub title: Option<String>,
    /// What did not come along as it was, in a fixed order.
    pub not_carried: Vec<NotCarried>,
}

/// Reads a .docx. CPU and memory are bounded by the limits above; call it off the async
/// runtime.
pub fn read_docx(bytes: Vec<u8>) -> Result<WordImport, WordError> {
    let mut package = package::Package::open(bytes)?;
    let document = package
        .part(package::DOCUMENT_PART, MAX_DOCUMENT_XML_BYTES)?
        .ok_or(WordError::NoDocumentPart)?;
    let side = |package: &mut package::Package, name| package.part(name, MAX_SIDE_PART_BYTES);
    let styles = match side(&mut package, "word/styles.xml")? {
        Some(xml) => styles::Styles::parse(&xml)?,
        None => styles::Styles::default(),
    };
    let numbering = match side(&mut package, "word/numbering.xml")? {
        Some(xml) => styles::Numbering::parse(&xml)?,
        None => styles::Numbering::default(),
    };
    let rels = match side(&mut package, "word/_rels/document.xml.rels")? {
        Some(xml) => styles::Relationships::parse(&xml)?,
        None => styles::Relationships::default(),
    };
    let core_title = match side(&mut package, "docProps/core.xml")? {
        Some(xml) => styles::core_title(&xml)?,
        None => None,
    };
    let body = body::read(&document, (&styles, &numbering, &rels), MAX_IMPORT_NODES)?;
    let mut counts = body.counts;
    counts.headers_footers =
        headers_and_footers_with_text(&mut package, &rels, &body.header_footer_ids)?;
    let title = core_title.or_else(|| first_heading(&body.blocks));
    Ok(WordImport {
        blocks: tree::tree(body.blocks),
        title,
        not_carried: not_carried(counts),
    })
}

/// How many of the page headers and footers the sections use hold any text: the editor
/// has none, so their text is named as not carried (an empty one, as Word makes for
/// every section, is not worth a word). At most [`MAX_HEADER_FOOTER_PARTS`] are opened.
fn headers_and_footers_with_text(
    package: &mut package::Package,
    rels: &styles::Relationships,
    ids: &[String],
) -> Result<u32, WordError> {
    let mut count = 0;
    for id in ids.iter().take(MAX_HEADER_FOOTER_PARTS) {
        let Some(target) = rels.target(id) else {
            continue;
        };
        let name = format!(
            "word/{}",
            target.trim_start_matches('/').trim_start_matches("word/")
        );
        let Some(xml) = package.part(&name, MAX_SIDE_PART_BYTES)? else {
            continue;
        };
        let mut in_text = false;
        let mut has_text = false;
        xml::walk(&xml, &name, |step| match step {
            xml::Step::Start(tag) if tag.name == "t" => in_text = true,
            xml::Step::End("t") => in_text = false,
            xml::Step::Text(text) if in_text && !text.trim().is_empty() => has_text = true,
            _ => {}
        })?;
        count += u32::from(has_text);
    }
    Ok(count)
}

/// Most header and footer parts opened (three of each per section in Word).
const MAX_HEADER_FOOTER_PARTS: usize = 60;

fn first_heading(blocks: &[body::Block]) -> Option<String> {
    let block = blocks.iter().find(|b| b.heading.is_some())?;
    let text: String = block
        .inline
        .iter()
        .filter_map(|node| match node {
            Node::Text(runs) => Some(runs.iter().map(|r| r.text.as_str()).collect::<String>()),
            Node::Element(_) => None,
        })
        .collect();
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (!text.is_empty()).then_some(text)
}

fn not_carried(counts: body::Counts) -> Vec<NotCarried> {
    use NotCarriedKind::*;
    [
        (Image, counts.images),
        (Drawing, counts.drawings),
        (TextBox, counts.text_boxes),
        (Comment, counts.comments),
        (Footnote, counts.footnotes),
        (Endnote, counts.endnotes),
        (TrackedChange, counts.tracked_changes),
        (Equation, counts.equations),
        (EmbeddedObject, counts.embedded_objects),
        (HeaderFooter, counts.headers_footers),
    ]
    .into_iter()
    .filter(|(_, count)| *count > 0)
    .map(|(kind, count)| NotCarried { kind, count })
    .collect()
}
