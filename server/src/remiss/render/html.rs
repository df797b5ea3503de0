//! The [`Writer`] for HTML: a whole page, every user text entity-encoded.

use super::{Piece, Table, Writer};
use crate::html_text::escape_into as escape_html;

/// The page's own style sheet: readable on screen and in print, tables with visible
/// borders and header rows that repeat on each printed page; nothing is told by colour
/// alone (headers are bold as well as shaded).
const STYLE: &str = "\
body { font-family: 'Liberation Sans', Arial, sans-serif; line-height: 1.5; color: #1a1a1a; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.8rem; } h2 { font-size: 1.4rem; margin-top: 2rem; border-bottom: 1px solid #767676; } h3 { font-size: 1.2rem; } h4 { font-size: 1.05rem; }
table { border-collapse: collapse; width: 100%; margin: 0.5rem 0 1.5rem; font-size: 0.95rem; }
caption { text-align: left; font-weight: bold; padding: 0.25rem 0; }
th, td { border: 1px solid #767676; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
thead th { background: #e8edf3; font-weight: bold; }
tbody th { font-weight: bold; }
blockquote { margin: 0.5rem 0 0.5rem 1.5rem; padding-left: 0.75rem; border-left: 3px solid #767676; font-style: italic; }
ul { padding-left: 1.25rem; }
@media print { body { max-width: none; margin: 0; } thead { display: table-header-group; } tr { break-inside: avoid; } h2, h3 { break-after: avoid; } }
";

/// An HTML page being written.
#[derive(Debug)]
pub struct Html {
    out: String,
    in_list: bool,
}

impl Html {
    /// A page titled `title` (lang="sv").
    pub fn new(title: &str) -> Self {
        let mut out = String::from(
            "<!DOCTYPE html>\n<html lang=\"sv\">\n<head>\n<meta charset=\"utf-8\">\n<title>",
        );
        escape_html(title, &mut out);
        out.push_str("</title>\n<style>\n");
        out.push_str(STYLE);
        out.push_str("</style>\n</head>\n<body>\n");
        Self {
            out,
            in_list: false,
        }
    }

    /// The finished page.
    pub fn finish(mut self) -> String {
        self.end_list();
        self.out.push_str("</body>\n</html>\n");
        self.out
    }

    fn end_list(&mut self) {
        if self.in_list {
            self.out.push_str("</ul>\n");
            self.in_list = false;
        }
    }

    /// Escaped text with its line breaks as `<br>`.
    fn text(&mut self, text: &str) {
        for (i, line) in text.lines().enumerate() {
            if i > 0 {
                self.out.push_str("<br>");
            }
            escape_html(line, &mut self.out);
        }
    }
}

impl Writer for Html {
    fn linked_paragraph(&mut self, pieces: &[Piece]) {
        self.end_list();
        self.out.push_str("<p>");
        for piece in pieces {
            match piece {
                Piece::Text(text) => self.text(text),
                Piece::Link { text, href } => {
                    self.out.push_str("<a href=\"");
                    escape_html(href, &mut self.out);
                    self.out.push_str("\">");
                    self.text(text);
                    self.out.push_str("</a>");
                }
            }
        }
        self.out.push_str("</p>\n");
    }

    fn heading(&mut self, level: u8, text: &str) {
        self.end_list();
        let level = level.clamp(1, 6);
        self.out.push_str(&format!("<h{level}>"));
        escape_html(text, &mut self.out);
        self.out.push_str(&format!("</h{level}>\n"));
    }

    fn paragraph(&mut self, text: &str) {
        self.end_list();
        self.out.push_str("<p>");
        self.text(text);
        self.out.push_str("</p>\n");
    }

    fn quote(&mut self, text: &str) {
        self.end_list();
        self.out.push_str("<blockquote><p>");
        self.text(text);
        self.out.push_str("</p></blockquote>\n");
    }

    fn field(&mut self, label: &str, value: &str) {
        if !self.in_list {
            self.out.push_str("<ul>\n");
            self.in_list = true;
        }
        self.out.push_str("<li><strong>");
        escape_html(label, &mut self.out);
        self.out.push_str(":</strong> ");
        self.text(value);
        self.out.push_str("</li>\n");
    }

    fn table(&mut self, table: &Table) {
        self.end_list();
        self.out.push_str("<table>\n<caption>");
        escape_html(&table.caption, &mut self.out);
        self.out.push_str("</caption>\n<thead><tr>");
        for heading in &table.header {
            self.out.push_str("<th scope=\"col\">");
            escape_html(heading, &mut self.out);
            self.out.push_str("</th>");
        }
        self.out.push_str("</tr></thead>\n<tbody>\n");
        for row in table.even_rows() {
            self.out.push_str("<tr>");
            for (i, cell) in row.iter().enumerate() {
                // The first cell names the row, so it is the row's header.
                let (open, close) = if i == 0 {
                    ("<th scope=\"row\">", "</th>")
                } else {
                    ("<td>", "</td>")
                };
                self.out.push_str(open);
                self.text(cell);
                self.out.push_str(close);
            }
            self.out.push_str("</tr>\n");
        }
        self.out.push_str("</tbody>\n</table>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_is_escaped() {
        let mut html = Html::new("<Rapport>");
        html.field("Organisation", "<img src=x onerror=alert(1)>");
        html.quote("\"citat\" & mer");
        let page = html.finish();
        assert!(page.contains("<title>&lt;Rapport&gt;</title>"));
        assert!(page.contains(
            "<li><strong>Organisation:</strong> &lt;img src=x onerror=alert(1)&gt;</li>\n</ul>"
        ));
        assert!(page.contains("<blockquote><p>&quot;citat&quot; &amp; mer</p></blockquote>"));
        assert!(!page.contains("<img"));
    }

    #[test]
    fn tables_have_headers_for_screen_readers() {
        let mut html = Html::new("R");
        let mut table = Table::new("Remissinstanser", &["Organisation", "Svar"]);
        table.row(vec!["<b>A</b>".into(), "svarat\nsent".into()]);
        html.table(&table);
        let page = html.finish();
        assert!(page.contains("<html lang=\"sv\">") && page.contains("<style>"));
        assert!(page.contains(
            "<table>\n<caption>Remissinstanser</caption>\n<thead><tr><th scope=\"col\">Organisation</th><th scope=\"col\">Svar</th></tr></thead>\n<tbody>\n<tr><th scope=\"row\">&lt;b&gt;A&lt;/b&gt;</th><td>svarat<br>sent</td></tr>\n</tbody>\n</table>"
        ), "{page}");
    }
}
