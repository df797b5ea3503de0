//! The [`Writer`] for HTML: a whole page, every user text entity-encoded.

use super::Writer;
use crate::documents::markdown::escape_html;

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
        out.push_str("</title>\n</head>\n<body>\n");
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
}
