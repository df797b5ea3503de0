//! One way to write a read-out, five formats.
//!
//! The report and the compilation are written once, as a sequence of headings,
//! paragraphs, quotes, labelled fields and tables, against the [`Writer`] trait; Markdown,
//! HTML, DOCX and PDF each implement it. So the formats cannot disagree about what a
//! compilation contains, and every user text passes through the format's own escaping
//! (`escape_md`, `html_text::escape_into`, docx-rs's XML writer) at one place, or, for
//! PDF, is handed to the layout as data and never parsed at all.

pub mod docx;
pub mod html;
pub mod labels;
pub mod markdown;
pub mod pdf;

pub use crate::documents::markdown::Piece;

/// A document being written, block by block.
pub trait Writer {
    /// A heading, level 1 to 4.
    fn heading(&mut self, level: u8, text: &str);
    /// A paragraph of plain text (line breaks kept).
    fn paragraph(&mut self, text: &str);
    /// A paragraph of the draft whose links stay links (a DOCX hyperlink, an HTML
    /// `<a href>`, a Markdown link). The pieces' addresses were checked by
    /// `documents::markdown::draft_blocks` (http, https, mailto); a writer that has no
    /// links writes each as "text (address)".
    fn linked_paragraph(&mut self, pieces: &[Piece]) {
        self.paragraph(&pieces_as_text(pieces));
    }
    /// Quoted text: a passage of the draft or an organisation's own words.
    fn quote(&mut self, text: &str);
    /// A labelled value, e.g. "Svarsdatum: 2020-11-30"; consecutive fields form a list.
    fn field(&mut self, label: &str, value: &str);
    /// A table with a caption and a header row, so a screen reader can name each cell's
    /// column (HTML `<th scope>`, a repeated DOCX header row, a Markdown header line).
    fn table(&mut self, table: &Table);
}

/// A table of text: every row as wide as the header (missing cells are empty, extra
/// ones dropped by the writers). Cells may hold line breaks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// What the table shows, written above it.
    pub caption: String,
    /// The column headings.
    pub header: Vec<String>,
    /// The rows, each a list of cells; the first cell names the row.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these column headings.
    pub fn new(caption: impl Into<String>, header: &[&str]) -> Self {
        Self {
            caption: caption.into(),
            header: header.iter().map(|h| (*h).to_owned()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The rows, each exactly as wide as the header.
    pub fn even_rows(&self) -> impl Iterator<Item = Vec<&str>> {
        let width = self.header.len();
        self.rows.iter().map(move |row| {
            (0..width)
                .map(|i| row.get(i).map(String::as_str).unwrap_or_default())
                .collect()
        })
    }
}

/// Linked pieces as plain text: each link as "text (address)", unless its text is the
/// address.
pub fn pieces_as_text(pieces: &[Piece]) -> String {
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Link { text, href } => {
                out.push_str(text);
                let bare = href.strip_prefix("mailto:").unwrap_or(href);
                if text != href && text != bare {
                    out.push_str(&format!(" ({href})"));
                }
            }
        }
    }
    out
}

/// The output formats a read-out can be asked for (`?format=`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Json,
    Markdown,
    Html,
    Docx,
    Csv,
    /// PDF/A-2a, tagged.
    Pdf,
}
