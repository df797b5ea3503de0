//! HTML export, safe to show in a browser as is.
//!
//! Every text and attribute is entity-encoded and links keep only http(s), mailto and
//! relative addresses, so a hostile document cannot inject markup or script.

use yrs::{ReadTxn, XmlFragmentRef};

use super::blocks::{Block, Cell, classify, has_header_row, item_blocks, table_rows};
use super::href::{HTML_SCHEMES, href_allowed};
use super::inline::{InlineKind, Span, Step, inline_items, walk_inline};
use super::read::read_fragment;
use super::schema::Node;
use crate::html_text::escape_into as escape_html;

/// An HTML fragment (<h1>…, <p>, <ul><li><p>…, <table> with <th scope>, <strong>, <em>,
/// <s>, <code>, <a href>),
/// every text and attribute HTML-escaped; hrefs limited to http, https, mailto and
/// relative URLs (others dropped) so a hostile document cannot inject script.
///
/// A link whose href is refused keeps its text without the `<a>`. Top-level blocks are
/// separated by newlines.
pub fn export_html<T: ReadTxn>(txn: &T, fragment: &XmlFragmentRef) -> String {
    let nodes = read_fragment(txn, fragment);
    let mut out = String::new();
    for node in &nodes {
        let before = out.len();
        html_block(node, &mut out);
        if out.len() > before {
            out.push('\n');
        }
    }
    out
}

fn html_block(node: &Node, out: &mut String) {
    match classify(node) {
        Block::Paragraph(children) => {
            out.push_str("<p>");
            html_inline(children, out);
            out.push_str("</p>");
        }
        Block::Heading(level, children) => {
            out.push_str(&format!("<h{level}>"));
            html_inline(children, out);
            out.push_str(&format!("</h{level}>"));
        }
        Block::Code(language, text) => {
            out.push_str("<pre><code");
            if let Some(language) = language {
                out.push_str(" class=\"language-");
                escape_html(language, out);
                out.push('"');
            }
            out.push('>');
            escape_html(&text, out);
            out.push_str("</code></pre>");
        }
        Block::Rule => out.push_str("<hr>"),
        Block::BulletList(items) => {
            out.push_str("<ul>");
            html_items(items, out);
            out.push_str("</ul>");
        }
        Block::OrderedList(start, items) => {
            if start == 1 {
                out.push_str("<ol>");
            } else {
                out.push_str(&format!("<ol start=\"{start}\">"));
            }
            html_items(items, out);
            out.push_str("</ol>");
        }
        Block::Quote(children) => {
            out.push_str("<blockquote>");
            children.iter().for_each(|c| html_block(c, out));
            out.push_str("</blockquote>");
        }
        Block::Table(rows) => html_table(rows, out),
        Block::Container(children) => children.iter().for_each(|c| html_block(c, out)),
        Block::Skip => {}
    }
}

/// A table: a header row (all `tableHeader`) goes in `<thead>` with `scope="col"`; a
/// header cell elsewhere heads its row (`scope="row"`).
fn html_table(rows: &[Node], out: &mut String) {
    let rows = table_rows(rows);
    let head = has_header_row(&rows);
    out.push_str("<table>");
    for (i, row) in rows.iter().enumerate() {
        let in_head = head && i == 0;
        if in_head {
            out.push_str("<thead>");
        } else if i == usize::from(head) {
            out.push_str("<tbody>");
        }
        out.push_str("<tr>");
        for cell in row {
            html_cell(cell, in_head, out);
        }
        out.push_str("</tr>");
        if in_head {
            out.push_str("</thead>");
        }
    }
    if rows.len() > usize::from(head) {
        out.push_str("</tbody>");
    }
    out.push_str("</table>");
}

fn html_cell(cell: &Cell<'_>, in_head: bool, out: &mut String) {
    let tag = if cell.header { "th" } else { "td" };
    out.push('<');
    out.push_str(tag);
    if cell.header {
        out.push_str(if in_head {
            " scope=\"col\""
        } else {
            " scope=\"row\""
        });
    }
    if cell.colspan > 1 {
        out.push_str(&format!(" colspan=\"{}\"", cell.colspan));
    }
    if cell.rowspan > 1 {
        out.push_str(&format!(" rowspan=\"{}\"", cell.rowspan));
    }
    out.push('>');
    cell.blocks.iter().for_each(|b| html_block(b, out));
    out.push_str("</");
    out.push_str(tag);
    out.push('>');
}

fn html_items(items: &[Node], out: &mut String) {
    for item in items {
        out.push_str("<li>");
        item_blocks(item).iter().for_each(|b| html_block(b, out));
        out.push_str("</li>");
    }
}

fn html_inline(children: &[Node], out: &mut String) {
    let items = inline_items(children, |span| match span {
        Span::Link(link) => href_allowed(&link.href, HTML_SCHEMES),
        _ => true,
    });
    walk_inline(&items, |step| match step {
        Step::Open(Span::Link(link)) => {
            out.push_str("<a href=\"");
            escape_html(&link.href, out);
            out.push('"');
            if let Some(title) = &link.title {
                out.push_str(" title=\"");
                escape_html(title, out);
                out.push('"');
            }
            out.push('>');
        }
        Step::Open(Span::Bold) => out.push_str("<strong>"),
        Step::Open(Span::Italic) => out.push_str("<em>"),
        Step::Open(Span::Strike) => out.push_str("<s>"),
        Step::Open(Span::Underline) => out.push_str("<u>"),
        Step::Close(Span::Link(_)) => out.push_str("</a>"),
        Step::Close(Span::Bold) => out.push_str("</strong>"),
        Step::Close(Span::Italic) => out.push_str("</em>"),
        Step::Close(Span::Strike) => out.push_str("</s>"),
        Step::Close(Span::Underline) => out.push_str("</u>"),
        Step::Item(item) => match &item.kind {
            InlineKind::Text(text) | InlineKind::Other(text) => escape_html(text, out),
            InlineKind::Code(code) => {
                out.push_str("<code>");
                escape_html(code, out);
                out.push_str("</code>");
            }
            InlineKind::Break => out.push_str("<br>"),
        },
    });
}

#[cfg(test)]
mod tests {
    use yrs::Transact;

    use super::super::export_markdown;
    use super::super::test_support::{link_attrs, new_doc, push_paragraph, to_html};
    use super::*;

    #[test]
    fn html_escapes_text_and_drops_script_links() {
        let html = to_html(
            "<script>alert('x')</script>\n\nText med <b onclick=\"x()\">fet</b> & \"citat\".\n",
        );
        assert_eq!(
            html,
            "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</p>\n\
             <p>Text med &lt;b onclick=&quot;x()&quot;&gt;fet&lt;/b&gt; &amp; &quot;citat&quot;.</p>\n"
        );

        // Markdown links to script are refused already on import.
        let html = to_html("[klicka](javascript:alert(1)) [ok](https://example.se/?a=1&b=\"2\")\n");
        assert_eq!(
            html,
            "<p>klicka <a href=\"https://example.se/?a=1&amp;b=&quot;2&quot;\">ok</a></p>\n"
        );

        // A hostile client can still store any href: export drops it.
        let (doc, fragment) = new_doc();
        {
            let mut txn = doc.transact_mut();
            for href in [
                "javascript:alert(1)",
                "JaVaScRiPt:alert(1)",
                " java\tscript:alert(1)",
                "data:text/html,<script>alert(1)</script>",
                "vbscript:x",
            ] {
                push_paragraph(&mut txn, &fragment, &[("farlig", link_attrs("link", href))]);
            }
            push_paragraph(
                &mut txn,
                &fragment,
                &[("relativ", link_attrs("link", "/docs?a=<b>"))],
            );
            push_paragraph(
                &mut txn,
                &fragment,
                &[("e-post", link_attrs("link", "mailto:a@example.se"))],
            );
        }
        let txn = doc.transact();
        let html = export_html(&txn, &fragment);
        assert_eq!(
            html,
            "<p>farlig</p>\n".repeat(5)
                + "<p><a href=\"/docs?a=&lt;b&gt;\">relativ</a></p>\n\
                   <p><a href=\"mailto:a@example.se\">e-post</a></p>\n"
        );
        assert!(!export_markdown(&txn, &fragment).contains("script:"));
    }

    #[test]
    fn tables_have_header_cells_with_scope_and_safe_links() {
        let html = to_html(
            "| Förvaltning | Budget |\n| --- | --- |\n| Skola <b> | [plan](https://example.se/?a=1&b=2) [x](javascript:alert(1)) |\n",
        );
        assert_eq!(
            html,
            "<table><thead><tr><th scope=\"col\"><p>Förvaltning</p></th><th scope=\"col\"><p>Budget</p></th></tr></thead>\
             <tbody><tr><td><p>Skola &lt;b&gt;</p></td><td><p><a href=\"https://example.se/?a=1&amp;b=2\">plan</a> x</p></td></tr></tbody></table>\n\
             <p></p>\n"
        );
    }

    #[test]
    fn hostile_table_shapes_are_shown_through_their_content() {
        // What a hostile client can store: a paragraph straight in a table and in a row,
        // a span far too large, a header cell in a body row, a table without rows.
        let (doc, fragment) = new_doc();
        {
            use yrs::{Any, Xml, XmlElementPrelim, XmlFragment, XmlTextPrelim};
            let mut txn = doc.transact_mut();
            let table = fragment.push_back(&mut txn, XmlElementPrelim::empty("table"));
            let stray = table.push_back(&mut txn, XmlElementPrelim::empty("paragraph"));
            stray.push_back(&mut txn, XmlTextPrelim::new("lös"));
            let row = table.push_back(&mut txn, XmlElementPrelim::empty("tableRow"));
            let head = row.push_back(&mut txn, XmlElementPrelim::empty("tableHeader"));
            head.insert_attribute(&mut txn, "colspan", Any::from(1_000_000i64));
            head.insert_attribute(&mut txn, "rowspan", Any::from("x"));
            let p = head.push_back(&mut txn, XmlElementPrelim::empty("paragraph"));
            p.push_back(&mut txn, XmlTextPrelim::new("Rad"));
            let p = row.push_back(&mut txn, XmlElementPrelim::empty("paragraph"));
            p.push_back(&mut txn, XmlTextPrelim::new("cell?"));
            fragment.push_back(&mut txn, XmlElementPrelim::empty("table"));
        }
        let txn = doc.transact();
        assert_eq!(
            export_html(&txn, &fragment),
            "<table><tbody><tr><td><p>lös</p></td></tr>\
             <tr><th scope=\"row\" colspan=\"100\"><p>Rad</p></th><td><p>cell?</p></td></tr></tbody></table>\n\
             <table></table>\n"
        );
        // Markdown pads a merged cell's columns (at most 100), text keeps the words.
        let markdown = export_markdown(&txn, &fragment);
        assert!(markdown.starts_with("| lös |"), "{markdown}");
        assert_eq!(
            markdown.lines().nth(2).map(|l| l.matches('|').count()),
            Some(102)
        );
        assert_eq!(
            super::super::export_text(&txn, &fragment),
            "lös\nRad\tcell?\n"
        );
    }

    #[test]
    fn html_export_covers_the_blocks() {
        let html = to_html(
            "## Mål\n\n- ett **fet**\n- två\n  1. inre\n\n4. fyra\n\n> citat\n\n```sh\necho <hej>\n```\n\n---\n\nrad\\\nbryt `kod` ~~s~~ *k*\n",
        );
        assert_eq!(
            html,
            "<h2>Mål</h2>\n\
             <ul><li><p>ett <strong>fet</strong></p></li><li><p>två</p><ol><li><p>inre</p></li></ol></li></ul>\n\
             <ol start=\"4\"><li><p>fyra</p></li></ol>\n\
             <blockquote><p>citat</p></blockquote>\n\
             <pre><code class=\"language-sh\">echo &lt;hej&gt;</code></pre>\n\
             <hr>\n\
             <p>rad<br>bryt <code>kod</code> <s>s</s> <em>k</em></p>\n"
        );
    }
}
