//! The [`Writer`] for Markdown: every user text escaped so it reads back literally.

use super::{Piece, Table, Writer};
use crate::documents::markdown::escape_md;

/// Markdown text being written.
#[derive(Debug, Default)]
pub struct Markdown {
    out: String,
    in_list: bool,
}

impl Markdown {
    /// The finished text.
    pub fn finish(self) -> String {
        self.out
    }

    /// Starts a new block: a blank line after whatever came before.
    fn block(&mut self) {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
        self.in_list = false;
    }

    /// Escaped text, each line starting afresh; `prefix` starts every line.
    fn lines(&mut self, text: &str, prefix: &str) {
        for (i, line) in text.lines().enumerate() {
            if i > 0 {
                // A hard line break inside one paragraph.
                self.out.push_str("\\\n");
            }
            self.out.push_str(prefix);
            escape_md(line.trim_end(), true, false, &mut self.out);
        }
        self.out.push('\n');
    }
}

impl Writer for Markdown {
    fn heading(&mut self, level: u8, text: &str) {
        self.block();
        self.out.push_str(&"#".repeat(level.clamp(1, 6).into()));
        self.out.push(' ');
        escape_md(text, false, true, &mut self.out);
        self.out.push('\n');
    }

    fn paragraph(&mut self, text: &str) {
        self.block();
        self.lines(text, "");
    }

    fn linked_paragraph(&mut self, pieces: &[Piece]) {
        self.block();
        let mut line = String::new();
        for piece in pieces {
            match piece {
                Piece::Text(text) => {
                    for (i, part) in text.split('\n').enumerate() {
                        if i > 0 {
                            // A hard line break inside one paragraph.
                            line.push_str("\\\n");
                        }
                        escape_md(
                            part,
                            line.is_empty() || line.ends_with('\n'),
                            false,
                            &mut line,
                        );
                    }
                }
                Piece::Link { text, href } => {
                    line.push('[');
                    escape_md(&text.replace('\n', " "), false, false, &mut line);
                    line.push_str("](<");
                    // Inside <…> only these end or break the destination.
                    line.push_str(
                        &href
                            .replace('<', "%3C")
                            .replace('>', "%3E")
                            .replace('\n', ""),
                    );
                    line.push_str(">)");
                }
            }
        }
        self.out.push_str(&line);
        self.out.push('\n');
    }

    fn quote(&mut self, text: &str) {
        self.block();
        self.lines(text, "> ");
    }

    fn field(&mut self, label: &str, value: &str) {
        if !self.in_list {
            self.block();
            self.in_list = true;
        }
        self.out.push_str("- **");
        escape_md(label, false, false, &mut self.out);
        self.out.push_str(":** ");
        escape_md(&value.replace('\n', " "), false, false, &mut self.out);
        self.out.push('\n');
    }

    fn table(&mut self, table: &Table) {
        self.block();
        self.out.push_str("**");
        escape_md(&table.caption, false, false, &mut self.out);
        self.out.push_str("**\n\n");
        let header: Vec<&str> = table.header.iter().map(String::as_str).collect();
        self.table_row(&header);
        self.out.push('|');
        self.out.push_str(&" --- |".repeat(header.len()));
        self.out.push('\n');
        for row in table.even_rows() {
            self.table_row(&row);
        }
    }
}

impl Markdown {
    /// One pipe-table row: each cell escaped, its pipes too, its lines joined by `<br>`
    /// (the only line break a GFM table cell knows).
    fn table_row(&mut self, cells: &[&str]) {
        self.out.push('|');
        for cell in cells {
            self.out.push(' ');
            let mut escaped = String::new();
            for (i, line) in cell.lines().enumerate() {
                if i > 0 {
                    escaped.push_str("<br>");
                }
                escape_md(line.trim(), false, false, &mut escaped);
            }
            self.out.push_str(&escaped.replace('|', "\\|"));
            self.out.push_str(" |");
        }
        self.out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_text_stays_text() {
        let mut md = Markdown::default();
        md.heading(1, "Remissammanställning");
        md.field("Organisation", "*Utbildning*");
        md.field("Ställningstagande", "Avstyrker");
        md.quote("# inte en rubrik\n<script>");
        assert_eq!(
            md.finish(),
            "# Remissammanställning\n\n- **Organisation:** \\*Utbildning\\*\n- **Ställningstagande:** Avstyrker\n\n> \\# inte en rubrik\\\n> \\<script>\n"
        );
    }

    #[test]
    fn table_cells_cannot_break_the_table() {
        let mut md = Markdown::default();
        let mut table = Table::new("Sammanfattning", &["Organisation", "Kommentar"]);
        table.row(vec!["A | B".into(), "rad ett\n<b>rad två</b>".into()]);
        table.row(vec!["kort".into()]);
        md.table(&table);
        assert_eq!(
            md.finish(),
            "**Sammanfattning**\n\n| Organisation | Kommentar |\n| --- | --- |\n| A \\| B | rad ett<br>\\<b>rad två\\</b> |\n| kort |  |\n"
        );
    }
}
