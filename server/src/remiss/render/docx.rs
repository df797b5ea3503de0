//! The [`Writer`] for Word (DOCX), built with docx-rs rather than hand-written XML; its
//! text elements escape what they are given.

use std::io::Cursor;

use docx_rs::{BreakType, Docx as Package, Paragraph, Run, Style, StyleType};

use super::Writer;

/// Heading sizes in half-points, level 1 to 4.
const HEADING_HALF_POINTS: [usize; 4] = [36, 30, 26, 24];
/// How far a quote is indented, in twentieths of a point (0.5 inch).
const QUOTE_INDENT_TWIPS: i32 = 720;

/// A Word document being written.
#[derive(Debug, Default)]
pub struct Docx {
    paragraphs: Vec<Paragraph>,
}

impl Docx {
    /// The finished document as the bytes of a .docx file.
    pub fn finish(self) -> anyhow::Result<Vec<u8>> {
        let mut package = Package::new();
        for (i, size) in HEADING_HALF_POINTS.iter().enumerate() {
            let level = i + 1;
            package = package.add_style(
                Style::new(format!("Heading{level}"), StyleType::Paragraph)
                    .name(format!("heading {level}"))
                    .size(*size)
                    .bold(),
            );
        }
        for paragraph in self.paragraphs {
            package = package.add_paragraph(paragraph);
        }
        let mut bytes = Cursor::new(Vec::new());
        package.pack(&mut bytes)?;
        Ok(bytes.into_inner())
    }
}

/// Runs for `text`, its line breaks kept as breaks.
fn text_runs(mut paragraph: Paragraph, text: &str, style: impl Fn(Run) -> Run) -> Paragraph {
    for (i, line) in text.lines().enumerate() {
        let mut run = Run::new();
        if i > 0 {
            run = run.add_break(BreakType::TextWrapping);
        }
        paragraph = paragraph.add_run(style(run.add_text(line)));
    }
    paragraph
}

impl Writer for Docx {
    fn heading(&mut self, level: u8, text: &str) {
        let level = level.clamp(1, HEADING_HALF_POINTS.len() as u8);
        let paragraph = Paragraph::new()
            .style(&format!("Heading{level}"))
            .keep_next(true);
        self.paragraphs.push(text_runs(paragraph, text, |r| r));
    }

    fn paragraph(&mut self, text: &str) {
        self.paragraphs
            .push(text_runs(Paragraph::new(), text, |r| r));
    }

    fn quote(&mut self, text: &str) {
        let paragraph = Paragraph::new().indent(Some(QUOTE_INDENT_TWIPS), None, None, None);
        self.paragraphs
            .push(text_runs(paragraph, text, |r| r.italic()));
    }

    fn field(&mut self, label: &str, value: &str) {
        let paragraph = Paragraph::new().add_run(Run::new().add_text(format!("{label}: ")).bold());
        self.paragraphs.push(text_runs(paragraph, value, |r| r));
    }
}
