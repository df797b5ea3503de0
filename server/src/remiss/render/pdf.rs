//! The [`Writer`] for PDF: PDF/A-2a, tagged, laid out by the Typst compiler
//! (`typst`, `typst-pdf`) with fonts from `typst-assets` compiled into the binary.
//!
//! Why this shape:
//! - **User text never becomes Typst code.** The blocks are collected here and handed to
//!   one fixed template (`pdf.typ`) as JSON data; the template shows every text as a
//!   string. There is no escaping to get wrong: a comment holding `#eval("…")`, `*`, `$`,
//!   `]` or backslashes is printed as it was written.
//! - **Archival and accessible at once.** PDF/A-2a requires a tagged PDF: headings are
//!   tagged as headings (and bookmarked), tables as tables with header cells, the
//!   reading order is the order written, the document language is `sv`. The metadata
//!   carries the title, the owning organisation as author and the creation time.
//! - **No outside world.** The compiler sees the template, the data and the embedded
//!   fonts, nothing else: no file system, no packages, no network.

use std::sync::LazyLock;

use serde::Serialize;
use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards, Timestamp};

use super::docx::Meta;
use super::{Piece, Table, Writer};

/// The template every read-out is set in.
const TEMPLATE: &str = include_str!("pdf.typ");
/// Where the template finds the read-out (`json("/data.json")`).
const DATA_PATH: &str = "/data.json";
/// The template's own path, for the compiler's diagnostics.
const MAIN_PATH: &str = "/main.typ";

/// A PDF being written.
#[derive(Debug, Default)]
pub struct Pdf {
    meta: Meta,
    blocks: Vec<Block>,
}

/// One block of the read-out as the template reads it (`item.kind`, …).
#[derive(Debug, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Block {
    Heading {
        level: u8,
        text: String,
    },
    Paragraph {
        text: String,
    },
    /// A paragraph of the draft whose links are links (`link` in the template).
    Linked {
        pieces: Vec<PdfPiece>,
    },
    Quote {
        text: String,
    },
    Field {
        label: String,
        value: String,
    },
    Table {
        caption: String,
        header: Vec<String>,
        rows: Vec<Vec<String>>,
        /// Per column: `None` for as wide as its text, or its share of the width left.
        widths: Vec<Option<usize>>,
    },
}

/// A piece of a linked paragraph: text, with the address it links to, if any.
#[derive(Debug, Serialize)]
struct PdfPiece {
    text: String,
    href: Option<String>,
}

/// What the template is given.
#[derive(Serialize)]
struct Data<'a> {
    title: &'a str,
    author: &'a str,
    running_header: &'a str,
    /// Whether the pages are turned sideways (A4 landscape), for wide tables.
    landscape: bool,
    blocks: &'a [Block],
}

/// A table with more columns than this turns the document's pages sideways: the
/// compilation's points (eight columns) and a matrix of five or more organisations
/// read as tables there, as remissammanställningar usually are, instead of columns a
/// word wide.
const PORTRAIT_COLUMNS: usize = 5;

impl Pdf {
    /// A new document with this metadata (the same as the DOCX's).
    pub fn new(meta: Meta) -> Self {
        Self {
            meta,
            blocks: Vec::new(),
        }
    }

    /// Lays the document out and writes it as PDF/A-2a. CPU work: call it off the async
    /// runtime.
    pub fn finish(self) -> anyhow::Result<Vec<u8>> {
        let data = serde_json::to_vec(&Data {
            title: &self.meta.title,
            author: &self.meta.author,
            running_header: &self.meta.running_header,
            landscape: self.blocks.iter().any(|block| {
                matches!(block, Block::Table { header, .. } if header.len() > PORTRAIT_COLUMNS)
            }),
            blocks: &self.blocks,
        })?;
        let created = created(&self.meta.created)?;
        let world = ReadOut::new(data, created);
        let compiled = typst::compile::<PagedDocument>(&world).output;
        let document = compiled.map_err(|errors| diagnostics("laying out", errors.as_slice()))?;
        let options = PdfOptions {
            ident: typst::foundations::Smart::Auto,
            timestamp: Some(Timestamp::new_utc(created)),
            standards: PdfStandards::new(&[PdfStandard::A_2a])
                .map_err(|e| anyhow::anyhow!("PDF standards: {}", e.message()))?,
            tagged: true,
            ..PdfOptions::default()
        };
        let bytes = typst_pdf::pdf(&document, &options)
            .map_err(|errors| diagnostics("writing PDF/A", errors.as_slice()))?;
        // Typst memoizes layout across compilations; a read-out is not laid out twice,
        // so its entries would only hold memory.
        typst::comemo::evict(0);
        Ok(bytes)
    }
}

/// `created` (RFC 3339, UTC) as a Typst date and time.
fn created(created: &str) -> anyhow::Result<Datetime> {
    let at: jiff::Timestamp = created.parse()?;
    let utc = at.to_zoned_datetime(jiff::tz::TimeZone::UTC);
    let byte = |n: i8| u8::try_from(n).unwrap_or_default();
    Datetime::from_ymd_hms(
        utc.year().into(),
        byte(utc.month()),
        byte(utc.day()),
        byte(utc.hour()),
        byte(utc.minute()),
        byte(utc.second()),
    )
    .ok_or_else(|| anyhow::anyhow!("{created} is not a date Typst takes"))
}

fn diagnostics(doing: &str, errors: &[SourceDiagnostic]) -> anyhow::Error {
    let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
    anyhow::anyhow!("{doing} the PDF failed: {}", messages.join("; "))
}

impl Writer for Pdf {
    fn heading(&mut self, level: u8, text: &str) {
        self.blocks.push(Block::Heading {
            level: level.clamp(1, 4),
            text: printable(text),
        });
    }

    fn paragraph(&mut self, text: &str) {
        self.blocks.push(Block::Paragraph {
            text: printable(text),
        });
    }

    fn linked_paragraph(&mut self, pieces: &[Piece]) {
        let pieces = pieces
            .iter()
            .map(|piece| match piece {
                Piece::Text(text) => PdfPiece {
                    text: printable(text),
                    href: None,
                },
                Piece::Link { text, href } => PdfPiece {
                    text: printable(text),
                    href: Some(printable(href)),
                },
            })
            .collect();
        self.blocks.push(Block::Linked { pieces });
    }

    fn quote(&mut self, text: &str) {
        self.blocks.push(Block::Quote {
            text: printable(text),
        });
    }

    fn field(&mut self, label: &str, value: &str) {
        self.blocks.push(Block::Field {
            label: printable(label),
            value: printable(value),
        });
    }

    fn table(&mut self, table: &Table) {
        let header: Vec<String> = table.header.iter().map(|h| printable(h)).collect();
        let rows: Vec<Vec<String>> = table
            .even_rows()
            .map(|row| row.into_iter().map(printable).collect())
            .collect();
        self.blocks.push(Block::Table {
            caption: printable(&table.caption),
            widths: column_widths(&header, &rows),
            header,
            rows,
        });
    }
}

/// A column whose longest line is at most this many characters is as wide as its text;
/// wider ones share what is left.
const NARROW_COLUMN: usize = 20;
/// A longer line than this earns a column no larger share.
const LONGEST_SHARE: usize = 60;

/// How the columns share the page: short ones (a stance, a count) keep their natural
/// width, so "Ställningstagande" is not squeezed to two letters a line; text columns
/// (a comment, a motivation) share the rest by the length of their longest line.
fn column_widths(header: &[String], rows: &[Vec<String>]) -> Vec<Option<usize>> {
    (0..header.len())
        .map(|i| {
            let longest = std::iter::once(&header[i])
                .chain(rows.iter().filter_map(|row| row.get(i)))
                .flat_map(|cell| cell.lines())
                .map(|line| line.chars().count())
                .max()
                .unwrap_or_default();
            (longest > NARROW_COLUMN).then_some(longest.min(LONGEST_SHARE))
        })
        .collect()
}

/// `text` with its line breaks as `\n`, without other control characters (which have no
/// glyph), and with every character none of the embedded fonts has written as its code
/// point ("[U+1F600]"): PDF/A forbids showing a missing glyph, so one emoji in a comment
/// would otherwise make the whole read-out fail.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        for c in line.chars() {
            match c {
                '\t' => out.push(' '),
                c if c.is_control() => {}
                c if FONTS.covers(c) => out.push(c),
                c => out.push_str(&format!("[U+{:04X}]", u32::from(c))),
            }
        }
    }
    out
}

/// The fonts shipped in `typst-assets`, loaded once.
struct Fonts {
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
}

impl Fonts {
    /// Whether one of the fonts has a glyph for `c`.
    fn covers(&self, c: char) -> bool {
        self.fonts
            .iter()
            .any(|font| font.info().coverage.contains(u32::from(c)))
    }
}

static FONTS: LazyLock<Fonts> = LazyLock::new(|| {
    let fonts: Vec<Font> = typst_assets::fonts()
        .flat_map(|data| Font::iter(Bytes::new(data)))
        .collect();
    Fonts {
        book: LazyHash::new(FontBook::from_fonts(&fonts)),
        fonts,
    }
});

static LIBRARY: LazyLock<LazyHash<Library>> =
    LazyLock::new(|| LazyHash::new(Library::builder().build()));

/// The world one read-out is compiled in: the template, its data, the fonts.
struct ReadOut {
    main: Source,
    data_id: FileId,
    data: Bytes,
    today: Datetime,
}

impl ReadOut {
    fn new(data: Vec<u8>, today: Datetime) -> Self {
        Self {
            main: Source::new(file_id(MAIN_PATH), TEMPLATE.to_owned()),
            data_id: file_id(DATA_PATH),
            data: Bytes::new(data),
            today,
        }
    }
}

fn file_id(path: &str) -> FileId {
    let path = VirtualPath::new(path).expect("the two paths are constants and valid");
    FileId::new(RootedPath::new(VirtualRoot::Project, path))
}

impl World for ReadOut {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.data_id {
            Ok(self.data.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        Some(self.today)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> Meta {
        Meta {
            title: "Remissammanställning: Översiktsplan".into(),
            author: "Stadsledningskontoret".into(),
            created: "2026-12-06T07:00:00Z".into(),
            running_header: "KS 2026/1 · Remissammanställning: Översiktsplan".into(),
        }
    }

    #[test]
    fn a_read_out_becomes_a_pdf_a() {
        let mut pdf = Pdf::new(meta());
        pdf.heading(1, "Översiktsplan");
        pdf.paragraph("#eval(\"1 + 1\") *fet* $x$ ] \\ åäö 😀 中");
        let mut table = Table::new("Sammanfattning", &["Organisation", "Antal"]);
        table.row(vec!["Miljöförvaltningen".into(), "2".into()]);
        pdf.table(&table);
        let bytes = pdf.finish().expect("a PDF");
        assert!(bytes.starts_with(b"%PDF-"));
    }

    #[test]
    fn control_characters_are_left_out_and_lines_kept() {
        assert_eq!(printable("a\u{1}b\tc\r\nd"), "ab c\nd");
    }

    #[test]
    fn short_columns_keep_their_width_and_long_ones_share_the_rest() {
        let header = vec!["Organisation".to_owned(), "Synpunkt".to_owned()];
        let rows = vec![vec!["Miljö".to_owned(), "x".repeat(45)]];
        assert_eq!(column_widths(&header, &rows), [None, Some(45)]);
    }

    #[test]
    fn characters_no_font_has_are_named() {
        assert_eq!(printable("Bra 😀 åäö"), "Bra [U+1F600] åäö");
    }
}
