//! Markdown export: the block structure (headings, paragraphs, lists, quotes, code,
//! rules).
//!
//! Inline content is written by `markdown_inline`; this module lays out the blocks so that
//! reading the output back gives the same tree (lists that would merge alternate their
//! marker, items that would read as a rule start on their own line).

use yrs::{ReadTxn, XmlFragmentRef};

use super::blocks::{Block, classify, item_blocks, table_rows};
use super::markdown_escape::looks_like_entity;
use super::markdown_inline::md_inline;
use super::read::read_fragment;
use super::schema::Node;

/// Markdown of the whole fragment (CommonMark: # headings, paragraphs, - and 1. lists
/// (nested), > quotes, ``` code, ---, GFM tables, **bold**, *italic*, ~~strike~~, `code`,
/// [text](href); escape characters that would otherwise be read as Markdown).
///
/// Reading the output back with [`import_markdown`](super::import_markdown) gives the same text and marks, except
/// for what CommonMark cannot say: empty paragraphs, underline, a link's target, rel and
/// class, hard breaks in headings or table cells (they become spaces) or at the end of a
/// paragraph, a cell's blocks (one line of text in GFM), merged cells, a table whose first
/// row is not a header row (GFM's first row always is), and
/// whitespace at the edge of bold, italic or strike text (moved outside it). Emphasis
/// that CommonMark's flanking rules would not read (`ord**"citat"**ord`) is kept by
/// writing the neighbouring letter as a character reference.
pub fn export_markdown<T: ReadTxn>(txn: &T, fragment: &XmlFragmentRef) -> String {
    let nodes = read_fragment(txn, fragment);
    let mut out = md_blocks(&nodes, false);
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

#[derive(Clone, Copy, PartialEq)]
enum ListKind {
    Bullet,
    Ordered,
}

/// Renders a sequence of blocks, separated by blank lines.
fn md_blocks(nodes: &[Node], in_item: bool) -> String {
    let mut out = String::new();
    let mut previous_paragraph = false;
    // Two lists of one kind in a row would merge when read back: alternate the marker.
    let mut previous_list: Option<(ListKind, bool)> = None;
    for node in nodes {
        let block = classify(node);
        let is_paragraph = matches!(block, Block::Paragraph(_));
        let mut list = None;
        let rendered = match block {
            Block::Paragraph(children) => md_inline(children, false),
            Block::Heading(level, children) => {
                let hashes = "#".repeat(usize::from(level));
                let text = md_inline(children, true);
                if text.is_empty() {
                    hashes
                } else {
                    format!("{hashes} {text}")
                }
            }
            Block::Code(language, text) => md_code_block(language, &text),
            Block::Rule => "---".to_string(),
            Block::BulletList(items) => {
                let alt = previous_list.is_some_and(|(k, a)| k == ListKind::Bullet && !a);
                list = Some((ListKind::Bullet, alt, 1));
                md_list(items, None, alt)
            }
            Block::OrderedList(start, items) => {
                let alt = previous_list.is_some_and(|(k, a)| k == ListKind::Ordered && !a);
                let start = start.clamp(0, 999_999_999);
                list = Some((ListKind::Ordered, alt, start));
                md_list(items, Some(start), alt)
            }
            Block::Quote(children) => {
                let body = md_blocks(children, false);
                if body.is_empty() {
                    ">".to_string()
                } else {
                    prefix_lines(&body, "> ", ">")
                }
            }
            Block::Table(rows) => md_table(rows),
            Block::Container(children) => md_blocks(children, in_item),
            Block::Skip => String::new(),
        };
        if rendered.is_empty() {
            continue;
        }
        if !out.is_empty() {
            // In a list item, a paragraph and the list nested under it stay tight, when
            // the list may interrupt a paragraph (bullets, or numbers from 1, not empty).
            let tight = in_item
                && previous_paragraph
                && list.is_some_and(|(kind, _, start)| kind == ListKind::Bullet || start == 1)
                && rendered.lines().next().is_some_and(|l| l.contains(' '));
            out.push_str(if tight { "\n" } else { "\n\n" });
        }
        out.push_str(&rendered);
        previous_paragraph = is_paragraph;
        previous_list = list.map(|(kind, alt, _)| (kind, alt));
    }
    out
}

/// A GFM table: the first row is the header row, as wide as the widest row (GFM reads a
/// shorter body row as ending in empty cells, so those are not padded), each cell one
/// line (its blocks joined by spaces) with `|` escaped.
fn md_table(rows: &[Node]) -> String {
    let rows: Vec<Vec<String>> = table_rows(rows)
        .iter()
        .map(|row| {
            let mut cells = Vec::new();
            for cell in row {
                let text = md_blocks(cell.blocks, false)
                    .replace("\\\n", " ")
                    .replace('\n', " ")
                    .replace('|', "\\|");
                cells.push(text);
                // A merged cell leaves the columns it covers empty.
                for _ in 1..cell.colspan {
                    cells.push(String::new());
                }
            }
            cells
        })
        .collect();
    let width = rows.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let line = |cells: &[String], width: usize| {
        let mut out = String::from("|");
        for i in 0..width {
            out.push(' ');
            out.push_str(cells.get(i).map(String::as_str).unwrap_or_default());
            out.push_str(" |");
        }
        out
    };
    let mut lines = Vec::with_capacity(rows.len() + 1);
    lines.push(line(
        rows.first().map(Vec::as_slice).unwrap_or_default(),
        width,
    ));
    lines.push(format!("|{}", " --- |".repeat(width)));
    for row in rows.iter().skip(1) {
        lines.push(line(row, row.len().max(1)));
    }
    lines.join("\n")
}

fn prefix_lines(body: &str, prefix: &str, empty_prefix: &str) -> String {
    body.split('\n')
        .map(|line| {
            if line.is_empty() {
                empty_prefix.to_string()
            } else {
                format!("{prefix}{line}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn md_list(items: &[Node], start: Option<i64>, alt: bool) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        let marker = match start {
            Some(start) => {
                let number = start.saturating_add(i64::try_from(i).unwrap_or(i64::MAX));
                format!("{number}{}", if alt { ')' } else { '.' })
            }
            None => (if alt { "*" } else { "-" }).to_string(),
        };
        if i > 0 {
            out.push('\n');
        }
        let body = md_blocks(item_blocks(item), true);
        if body.is_empty() {
            out.push_str(&marker);
            continue;
        }
        let indent = " ".repeat(marker.len() + 1);
        // `- ---` or `- - -` is a thematic break, not an item holding a rule or a list:
        // start such an item on the next line.
        let own_line = is_thematic_break(&format!(
            "{marker} {}",
            body.split('\n').next().unwrap_or_default()
        ));
        if own_line {
            out.push_str(&marker);
        }
        for (j, line) in body.split('\n').enumerate() {
            if j == 0 && !own_line {
                out.push_str(&marker);
                out.push(' ');
            } else {
                out.push('\n');
                if !line.is_empty() {
                    out.push_str(&indent);
                }
            }
            out.push_str(line);
        }
    }
    out
}

/// Whether a line would be read as a thematic break (`---`, `* * *`, `___`).
fn is_thematic_break(line: &str) -> bool {
    let mut marks = line.chars().filter(|c| !matches!(c, ' ' | '\t'));
    let Some(first) = marks.next() else {
        return false;
    };
    matches!(first, '-' | '*' | '_') && marks.clone().all(|c| c == first) && marks.count() >= 2
}

fn md_code_block(language: Option<&str>, text: &str) -> String {
    let longest = longest_run(text, '`');
    let fence = "`".repeat((longest + 1).max(3));
    // A backtick fence's info string may not contain backticks or (for us, who read its
    // first word) spaces; escapes and entities are decoded in it.
    let language: Vec<char> = language
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '`')
        .collect();
    let mut info = String::new();
    for (i, c) in language.iter().enumerate() {
        match c {
            '\\' => info.push_str("\\\\"),
            '&' if looks_like_entity(&language[i + 1..]) => info.push_str("\\&"),
            _ => info.push(*c),
        }
    }
    if text.is_empty() {
        format!("{fence}{info}\n{fence}")
    } else {
        format!("{fence}{info}\n{text}\n{fence}")
    }
}

fn longest_run(text: &str, ch: char) -> usize {
    let mut longest = 0;
    let mut current = 0;
    for c in text.chars() {
        if c == ch {
            current += 1;
            longest = longest.max(current);
        } else {
            current = 0;
        }
    }
    longest
}

#[cfg(test)]
mod tests {
    use super::super::test_support::to_markdown;

    #[test]
    fn every_construct_round_trips() {
        let cases = [
            "# Ett\n\n## Två\n\n### Tre\n\n#### Fyra\n\n##### Fem\n\n###### Sex\n",
            "Ett stycke.\n\nEtt till, med å ä ö.\n",
            "- ett\n- två\n  - tre\n    - fyra\n- fem\n",
            "1. ett\n2. två\n   1. tre\n3. fyra\n",
            "7. sju\n8. åtta\n",
            "- stycke ett\n\n  stycke två\n- nästa\n",
            "> citat\n>\n> andra stycket\n>\n> - lista i citat\n",
            "```rust\nfn main() {\n    println!(\"hej\");\n}\n```\n",
            "```\nutan språk\n\nmed tom rad\n```\n",
            "````\n```\ninuti\n```\n````\n",
            "Före\n\n---\n\nEfter\n",
            "**fet** *kursiv* ~~struken~~ `kod` [länk](https://example.se/a_b?x=1&y=2)\n",
            "**_fet och kursiv_** och **fet med *kursiv* inuti**\n",
            "[länk med **fet**](https://example.se \"En titel\")\n",
            "[relativ](/dokument/1) och [e-post](mailto:a@example.se)\n",
            "rad ett\\\nrad två\\\nrad tre\n",
            "``kod med ` i``\n",
            "Text med \\*stjärnor\\*, \\_understreck\\_, \\`backtick\\` och \\[hakar\\].\n",
            "\\# inte en rubrik\n\n1\\. inte en lista\n\n\\- inte heller\n\n\\> inget citat\n",
            "snake_case_namn och 5 < 6 och a & b och \\&amp;\n",
            "- \\[ \\] inte en uppgift\n",
            "1. ett\n\n- punkt\n",
            "- a\n\n* b\n",
            "1. a\n\n1) b\n",
            "| Förvaltning | Ansvar |\n| --- | --- |\n| Stadsledningskontoret | **Samordning** |\n| Skolförvaltningen | [Skolplan](https://example.se/skola) |\n",
            "| a \\| b | `c \\| d` |\n| --- | --- |\n|  | e |\n",
            "- i en lista\n\n  | A |\n  | --- |\n  | 1 |\n",
        ];
        for case in cases {
            assert_eq!(to_markdown(case), case, "round trip of {case:?}");
        }
    }

    #[test]
    fn tables_normalise_to_one_header_row_and_full_width() {
        // A short body row stays short (GFM reads the missing cells as empty); a long one
        // widens the header.
        assert_eq!(
            to_markdown("|A|B|\n|-|-|\n|1|\n"),
            "| A | B |\n| --- | --- |\n| 1 |  |\n"
        );
        assert_eq!(
            to_markdown("A | B\n--|--\nx<br>y | z\n"),
            "| A | B |\n| --- | --- |\n| x\\<br>y | z |\n"
        );
    }

    #[test]
    fn list_items_that_look_like_rules() {
        for markdown in ["-\n  ---\n", "-\n  - -\n"] {
            assert_eq!(to_markdown(markdown), markdown);
        }
        assert_eq!(to_markdown("- - -\n"), "---\n");
    }
}
