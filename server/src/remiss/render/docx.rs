//! The [`Writer`] for Word (DOCX), built with docx-rs rather than hand-written XML; its
//! text elements escape what they are given.
//!
//! What a registrator and a screen reader look for, and how it gets there:
//! - headings in Word's own "heading N" styles with an outline level, so the navigation
//!   pane and a screen reader's heading list find them;
//! - tables whose first row is a header row (`w:tblHeader`, repeated on every page and
//!   announced as column headers);
//! - a running header with the diarienummer and title, "Sida N av M" in the footer;
//! - core properties: title, creator (the owning organisation), created and modified now,
//!   language sv-SE.
//!
//! docx-rs 0.4.22 has no setter for the title and creator of the core properties (it
//! writes "unknown" and 1970) nor for a table header row, and it leaves the Normal style
//! without `w:default`; so [`Docx::finish`] replaces the core part with one written here
//! and fixes the other two in the XML it built ([`mark_header_rows`],
//! [`default_normal_style`]).

use std::io::Cursor;

use docx_rs::{
    AlignmentType, BreakType, Docx as Package, Footer, Header, Hyperlink, HyperlinkType, NumPages,
    PageNum, Paragraph, Run, Shading, Style, StyleType, Table as DocxTable, TableCell, TableRow,
    WidthType,
};

use super::{Piece, Table, Writer};

/// Heading sizes in half-points, level 1 to 4.
const HEADING_HALF_POINTS: [usize; 4] = [36, 30, 26, 24];
/// How far a quote is indented, in twentieths of a point (0.5 inch).
const QUOTE_INDENT_TWIPS: i32 = 720;
/// A table as wide as the text: 100 % in fiftieths of a percent.
const FULL_WIDTH_PCT50: usize = 5000;
/// The width of the text on an A4 page with docx-rs's default margins (11,906 − 2 ×
/// 1,701 twips), shared evenly by a table's columns: the table grid (`w:tblGrid`) that
/// Word and other readers lay the cells out by.
const TEXT_WIDTH_TWIPS: usize = 8504;
/// The shade behind a header row (text is bold as well, so colour is not the only cue).
const HEADER_FILL: &str = "E8EDF3";
/// docx-rs writes this in a row's properties for `cant_split`; header rows are the only
/// rows made so, and [`mark_header_rows`] adds `w:tblHeader` beside it.
const CANT_SPLIT: &str = "<w:cantSplit />";

/// What the package says about itself, and the running header.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    /// The document title (core property `dc:title`).
    pub title: String,
    /// Who made it: the owning organisation (`dc:creator`).
    pub author: String,
    /// When, RFC 3339 UTC (`dcterms:created` and `dcterms:modified`).
    pub created: String,
    /// The line at the top of every page, e.g. "KS 2019/1939 · Remissammanställning: …".
    pub running_header: String,
}

/// A Word document being written.
#[derive(Debug, Default)]
pub struct Docx {
    meta: Meta,
    blocks: Vec<Block>,
}

/// A body element, in order (boxed: a docx-rs paragraph is ~2.4 KB, a table 600 B).
#[derive(Debug)]
enum Block {
    Paragraph(Box<Paragraph>),
    Table(Box<DocxTable>),
}

impl Docx {
    /// A new document with this metadata.
    pub fn new(meta: Meta) -> Self {
        Self {
            meta,
            blocks: Vec::new(),
        }
    }

    /// The finished document as the bytes of a .docx file.
    pub fn finish(self) -> anyhow::Result<Vec<u8>> {
        let mut package = Package::new()
            .header(Header::new().add_paragraph(
                Paragraph::new().add_run(Run::new().add_text(&self.meta.running_header).size(18)),
            ))
            .footer(
                Footer::new().add_paragraph(
                    Paragraph::new()
                        .align(AlignmentType::Center)
                        .add_run(Run::new().add_text("Sida "))
                        .add_page_num(PageNum::new())
                        .add_run(Run::new().add_text(" av "))
                        .add_num_pages(NumPages::new()),
                ),
            );
        for (i, size) in HEADING_HALF_POINTS.iter().enumerate() {
            let level = i + 1;
            package = package.add_style(
                Style::new(format!("Heading{level}"), StyleType::Paragraph)
                    .name(format!("heading {level}"))
                    .outline_lvl(i)
                    .size(*size)
                    .bold(),
            );
        }
        for block in self.blocks {
            package = match block {
                Block::Paragraph(p) => package.add_paragraph(*p),
                Block::Table(t) => package.add_table(*t),
            };
        }
        let mut xml = package.build();
        xml.doc_props.core = core_properties(&self.meta).into_bytes();
        xml.document = mark_header_rows(&xml.document)?;
        xml.styles = default_normal_style(&xml.styles)?;
        let mut bytes = Cursor::new(Vec::new());
        xml.pack(&mut bytes)?;
        Ok(bytes.into_inner())
    }

    fn push(&mut self, paragraph: Paragraph) {
        self.blocks.push(Block::Paragraph(Box::new(paragraph)));
    }
}

/// The core properties part (docProps/core.xml), every value escaped.
fn core_properties(meta: &Meta) -> String {
    format!(
        concat!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n",
            "<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" ",
            "xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/terms/\" ",
            "xmlns:dcmitype=\"http://purl.org/dc/dcmitype/\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">",
            "<dc:title>{title}</dc:title><dc:creator>{author}</dc:creator>",
            "<cp:lastModifiedBy>{author}</cp:lastModifiedBy><dc:language>sv-SE</dc:language>",
            "<dcterms:created xsi:type=\"dcterms:W3CDTF\">{created}</dcterms:created>",
            "<dcterms:modified xsi:type=\"dcterms:W3CDTF\">{created}</dcterms:modified>",
            "<cp:revision>1</cp:revision></cp:coreProperties>"
        ),
        title = xml_escape(&meta.title),
        author = xml_escape(&meta.author),
        created = xml_escape(&meta.created),
    )
}

/// Adds `w:tblHeader` to every row docx-rs marked `cantSplit` (only header rows are).
/// User text cannot contain the marker: docx-rs escapes `<` in text.
fn mark_header_rows(document: &[u8]) -> anyhow::Result<Vec<u8>> {
    let text = std::str::from_utf8(document)?;
    Ok(text
        .replace(CANT_SPLIT, "<w:cantSplit /><w:tblHeader />")
        .into_bytes())
}

/// docx-rs declares the "Normal" paragraph style without `w:default="1"`, so a paragraph
/// without a style of its own has none at all (python-docx reports `None`, and readers
/// disagree about its look). This marks Normal as the default.
fn default_normal_style(styles: &[u8]) -> anyhow::Result<Vec<u8>> {
    let text = std::str::from_utf8(styles)?;
    let plain = r#"<w:style w:type="paragraph" w:styleId="Normal">"#;
    anyhow::ensure!(
        text.contains(plain),
        "docx-rs no longer writes the Normal style as expected"
    );
    Ok(text
        .replacen(
            plain,
            r#"<w:style w:type="paragraph" w:styleId="Normal" w:default="1">"#,
            1,
        )
        .into_bytes())
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0.
            c if c.is_control() && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// Runs for `text`, its line breaks kept as breaks.
fn text_runs(mut paragraph: Paragraph, text: &str, style: impl Fn(Run) -> Run) -> Paragraph {
    for (i, line) in text.lines().enumerate() {
        let mut run = Run::new();
        if i > 0 {
            run = run.add_break(BreakType::TextWrapping);
        }
        paragraph = paragraph.add_run(style(run.add_text(xml_chars(line))));
    }
    paragraph
}

/// `text` without the characters XML 1.0 forbids (control characters other than tab,
/// U+FFFE and U+FFFF): a comment may hold them, and one of them in document.xml makes
/// Word refuse the whole file.
fn xml_chars(text: &str) -> String {
    text.chars()
        .filter(|c| (!c.is_control() || *c == '\t') && !matches!(c, '\u{fffe}' | '\u{ffff}'))
        .collect()
}

/// One table cell holding `text`.
fn cell(text: &str, header: bool) -> TableCell {
    let paragraph = text_runs(
        Paragraph::new(),
        text,
        |r| if header { r.bold() } else { r },
    );
    let cell = TableCell::new().add_paragraph(paragraph);
    if header {
        cell.shading(Shading::new().fill(HEADER_FILL))
    } else {
        cell
    }
}

impl Writer for Docx {
    fn heading(&mut self, level: u8, text: &str) {
        let level = level.clamp(1, HEADING_HALF_POINTS.len() as u8);
        let paragraph = Paragraph::new()
            .style(&format!("Heading{level}"))
            .keep_next(true);
        self.push(text_runs(paragraph, text, |r| r));
    }

    fn paragraph(&mut self, text: &str) {
        self.push(text_runs(Paragraph::new(), text, |r| r));
    }

    fn linked_paragraph(&mut self, pieces: &[Piece]) {
        let mut paragraph = Paragraph::new();
        let mut first = true;
        for piece in pieces {
            let (text, href) = match piece {
                Piece::Text(text) => (text, None),
                Piece::Link { text, href } => (text, Some(href)),
            };
            let mut runs = Vec::new();
            for (i, line) in text.split('\n').enumerate() {
                let mut run = Run::new();
                if i > 0 || (!first && line.is_empty() && text.starts_with('\n')) {
                    run = run.add_break(BreakType::TextWrapping);
                }
                // A link is underlined and blue, as Word shows its own hyperlinks.
                let run = run.add_text(xml_chars(line));
                runs.push(if href.is_some() {
                    run.underline("single").color("0563C1")
                } else {
                    run
                });
            }
            first = false;
            paragraph = match href {
                Some(href) => {
                    let link = runs.into_iter().fold(
                        Hyperlink::new(xml_chars(href), HyperlinkType::External),
                        Hyperlink::add_run,
                    );
                    paragraph.add_hyperlink(link)
                }
                None => runs.into_iter().fold(paragraph, Paragraph::add_run),
            };
        }
        self.push(paragraph);
    }

    fn quote(&mut self, text: &str) {
        let paragraph = Paragraph::new().indent(Some(QUOTE_INDENT_TWIPS), None, None, None);
        self.push(text_runs(paragraph, text, |r| r.italic()));
    }

    fn field(&mut self, label: &str, value: &str) {
        let paragraph = Paragraph::new().add_run(Run::new().add_text(format!("{label}: ")).bold());
        self.push(text_runs(paragraph, value, |r| r));
    }

    fn table(&mut self, table: &Table) {
        let caption = Paragraph::new().keep_next(true);
        self.push(text_runs(caption, &table.caption, |r| r.bold()));
        let header =
            TableRow::new(table.header.iter().map(|h| cell(h, true)).collect()).cant_split();
        let mut rows = vec![header];
        rows.extend(
            table
                .even_rows()
                .map(|row| TableRow::new(row.iter().map(|c| cell(c, false)).collect())),
        );
        let columns = table.header.len().max(1);
        let table = DocxTable::new(rows)
            .set_grid(vec![TEXT_WIDTH_TWIPS / columns; columns])
            .width(FULL_WIDTH_PCT50, WidthType::Pct);
        self.blocks.push(Block::Table(Box::new(table)));
        // Two tables in a row would merge into one in Word; a paragraph keeps them apart.
        self.push(Paragraph::new());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_xml_forbids_are_left_out() {
        assert_eq!(xml_chars("a\u{1}b\tc\u{ffff}d\u{7f}"), "ab\tcd");
    }

    #[test]
    fn metadata_is_escaped() {
        let core = core_properties(&Meta {
            title: "Plan <&> \"x\"".into(),
            author: "Stadsledningskontoret".into(),
            created: "2026-12-06T03:00:00Z".into(),
            running_header: String::new(),
        });
        assert!(core.contains("<dc:title>Plan &lt;&amp;&gt; &quot;x&quot;</dc:title>"));
        assert!(core.contains("<dc:creator>Stadsledningskontoret</dc:creator>"));
        assert!(core.contains(">2026-12-06T03:00:00Z</dcterms:created>"));
    }

    #[test]
    fn header_rows_are_marked_and_text_cannot_fake_one() {
        let mut docx = Docx::new(Meta::default());
        let mut table = Table::new("T", &["A", "B"]);
        table.row(vec![CANT_SPLIT.into(), "b".into()]);
        docx.table(&table);
        let bytes = docx.finish().expect("a package");
        assert!(bytes.starts_with(b"PK"));
        let marked =
            mark_header_rows(b"<w:trPr><w:cantSplit /></w:trPr><w:t>&lt;w:cantSplit /&gt;</w:t>")
                .expect("utf-8");
        assert_eq!(
            String::from_utf8(marked).expect("utf-8"),
            "<w:trPr><w:cantSplit /><w:tblHeader /></w:trPr><w:t>&lt;w:cantSplit /&gt;</w:t>"
        );
    }
}
