//! One way to write a read-out, four formats.
//!
//! The report and the compilation are written once, as a sequence of headings,
//! paragraphs, quotes and labelled fields, against the [`Writer`] trait; Markdown, HTML
//! and DOCX each implement it. So the three formats cannot disagree about what a
//! compilation contains, and every user text passes through the format's own escaping
//! (`escape_md`, `escape_html`, or docx-rs's XML writer) at one place.

pub mod docx;
pub mod html;
pub mod labels;
pub mod markdown;

/// A document being written, block by block.
pub trait Writer {
    /// A heading, level 1 to 4.
    fn heading(&mut self, level: u8, text: &str);
    /// A paragraph of plain text (line breaks kept).
    fn paragraph(&mut self, text: &str);
    /// Quoted text: a passage of the draft or an organisation's own words.
    fn quote(&mut self, text: &str);
    /// A labelled value, e.g. "Svarsdatum: 2020-11-30"; consecutive fields form a list.
    fn field(&mut self, label: &str, value: &str);
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
}
