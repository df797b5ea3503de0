//! Markdown into the document: writes the parsed blocks into the Yjs `XmlFragment`.
//!
//! Parsing is `parse`'s job; this module writes the resulting tree with exactly the
//! element, attribute and delta shape y-tiptap would write itself, so that the editor does
//! not "repair" the document on first open.

use std::collections::HashMap;
use std::sync::Arc;

use yrs::types::xml::{XmlDeltaPrelim, XmlIn};
use yrs::types::{Attrs, Delta};
use yrs::{Any, In, TransactionMut, Xml, XmlElementPrelim, XmlFragment, XmlFragmentRef};

use super::parse::{ImportError, parse_markdown};
use super::schema::{
    BOLD, CODE, ITALIC, LINK, LINK_REL, LINK_TARGET, Marks, Node, PARAGRAPH, STRIKE, UNDERLINE,
};

/// Appends the blocks parsed from `markdown` to the end of `fragment`.
///
/// The blocks are written in the shape Tiptap itself would write (see the module header),
/// so the document opens in the editor without being rewritten. Raw HTML is kept as literal
/// text, links with a scheme Tiptap would refuse (`javascript:` and the like) lose their
/// link, and if the fragment then does not end with a paragraph an empty one is appended,
/// as Tiptap's TrailingNode would do on first open.
/// Markdown with more than [`super::MAX_IMPORT_NODES`] nodes is refused before anything is
/// written.
pub fn import_markdown(
    txn: &mut TransactionMut,
    fragment: &XmlFragmentRef,
    markdown: &str,
) -> Result<(), ImportError> {
    let blocks = parse_markdown(markdown)?;
    import_nodes(txn, fragment, &blocks);
    Ok(())
}

/// Appends already-shaped blocks (from Markdown or another importer, e.g. `documents::word`)
/// to the end of `fragment`, then Tiptap's trailing empty paragraph if needed. The caller
/// bounds the nesting and the node count as `parse` does.
pub(in crate::documents) fn import_nodes(
    txn: &mut TransactionMut,
    fragment: &XmlFragmentRef,
    blocks: &[Node],
) {
    let at = fragment.len(txn);
    write_children(txn, fragment, at, blocks);
    let len = fragment.len(txn);
    let ends_with_paragraph = len > 0
        && matches!(
            fragment.get(txn, len - 1),
            Some(yrs::XmlOut::Element(el)) if el.try_tag().is_some_and(|t| &**t == PARAGRAPH)
        );
    if !ends_with_paragraph {
        fragment.push_back(txn, XmlElementPrelim::empty(PARAGRAPH));
    }
}

/// Writes `nodes` into `parent` at index `at`, last first.
///
/// yrs finds an index by walking the parent's children from the first, so appending
/// one block after another costs time in the square of their number: 100 KB of headings
/// took 6.5 s and 2 MB did not finish in 7 minutes (issue 13, item 4). Inserting each
/// node at the same index, from the last to the first, walks only the children that were
/// there before the import (none for a new document), so the import is linear. The
/// document reads the same; only the new items' origins point right instead of left,
/// as when a user types a list bottom-up.
fn write_children<P: XmlFragment>(txn: &mut TransactionMut, parent: &P, at: u32, nodes: &[Node]) {
    for node in nodes.iter().rev() {
        write_node(txn, parent, at, node);
    }
}

/// Writes one node (recursively) at index `at` of `parent`. Depth is bounded by the
/// parser.
fn write_node<P: XmlFragment>(txn: &mut TransactionMut, parent: &P, at: u32, node: &Node) {
    match node {
        Node::Element(el) => {
            let y = parent.insert(txn, at, XmlElementPrelim::empty(el.name.as_str()));
            for (key, value) in &el.attrs {
                y.insert_attribute(txn, key.as_str(), value.clone());
            }
            write_children(txn, &y, 0, &el.children);
        }
        Node::Text(runs) => {
            // Like y-tiptap's createTypeFromTextNodes: one XmlText filled by one delta, so
            // no offsets are computed here (and the doc's OffsetKind cannot shift anything).
            let delta = runs
                .iter()
                .filter(|run| !run.text.is_empty())
                .map(|run| {
                    Delta::Inserted(
                        In::Any(Any::from(run.text.as_str())),
                        Some(Box::new(mark_attrs(&run.marks))),
                    )
                })
                .collect();
            parent.insert(
                txn,
                at,
                XmlIn::Text(XmlDeltaPrelim {
                    attributes: HashMap::new(),
                    delta,
                }),
            );
        }
    }
}

/// The formatting attributes y-tiptap's `marksToAttributes` makes for these marks.
fn mark_attrs(marks: &Marks) -> Attrs {
    let empty = || Any::Map(Arc::new(HashMap::new()));
    let mut attrs = Attrs::new();
    for (on, name) in [
        (marks.bold, BOLD),
        (marks.italic, ITALIC),
        (marks.strike, STRIKE),
        (marks.underline, UNDERLINE),
        (marks.code, CODE),
    ] {
        if on {
            attrs.insert(Arc::from(name), empty());
        }
    }
    if let Some(link) = &marks.link {
        let mut map = HashMap::new();
        map.insert("href".to_string(), Any::from(link.href.as_str()));
        map.insert("target".to_string(), Any::from(LINK_TARGET));
        map.insert("rel".to_string(), Any::from(LINK_REL));
        map.insert("class".to_string(), Any::Null);
        map.insert(
            "title".to_string(),
            link.title.as_deref().map_or(Any::Null, Any::from),
        );
        attrs.insert(Arc::from(LINK), Any::Map(Arc::new(map)));
    }
    attrs
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use yrs::types::Attrs;
    use yrs::types::text::YChange;
    use yrs::{Any, Out, Text, Transact, Xml, XmlFragment};

    use super::super::test_support::{children, element, empty_map, import, plain, tag, text};
    use super::super::{block_texts, export_markdown, export_text, import_markdown};

    #[test]
    fn tree_shape_matches_y_tiptap() {
        let markdown = "## Rubrik\n\n**fet** *kursiv* ~~struken~~ `kod` [länk](https://example.se)\n\n\
                        rad ett\\\nrad två\n\n3. tre\n4. fyra\n   - inre\n\n```js\nlet a = 1;\n```\n\n\
                        ```\nx\n```\n\n> citat\n\n---\n";
        let (doc, fragment) = import(markdown);
        let txn = doc.transact();
        let blocks = children(&txn, &fragment);
        let names: Vec<String> = blocks.iter().map(tag).collect();
        assert_eq!(
            names,
            [
                "heading",
                "paragraph",
                "paragraph",
                "orderedList",
                "codeBlock",
                "codeBlock",
                "blockquote",
                "horizontalRule",
                "paragraph"
            ],
            "a document ending in a rule gets Tiptap's trailing paragraph"
        );

        // Node attributes: numbers stay numbers, null ones are absent.
        let level = element(&blocks[0]).get_attribute(&txn, "level");
        assert!(
            matches!(level, Some(Out::Any(Any::Number(yrs::Number::Int(2))))),
            "{level:?}"
        );
        let start = element(&blocks[3]).get_attribute(&txn, "start");
        assert!(
            matches!(start, Some(Out::Any(Any::Number(yrs::Number::Int(3))))),
            "{start:?}"
        );
        assert_eq!(
            element(&blocks[4]).get_attribute(&txn, "language"),
            Some(Out::Any(Any::from("js")))
        );
        assert_eq!(element(&blocks[5]).attributes(&txn).count(), 0);
        assert_eq!(element(&blocks[7]).len(&txn), 0);
        assert_eq!(
            element(&blocks[8]).len(&txn),
            0,
            "an empty paragraph has no text child"
        );

        // Marks are formatting attributes on one XmlText per run of text nodes.
        let inline = children(&txn, &element(&blocks[1]));
        assert_eq!(inline.len(), 1);
        let diff = text(&inline[0]).diff(&txn, YChange::identity);
        let runs: Vec<(String, Vec<String>)> = diff
            .iter()
            .map(|d| {
                let mut keys: Vec<String> = d
                    .attributes
                    .iter()
                    .flat_map(|a| a.keys().map(|k| k.to_string()))
                    .collect();
                keys.sort();
                (d.insert.clone().to_string(&txn), keys)
            })
            .collect();
        let expected: Vec<(String, Vec<String>)> = [
            ("fet", vec!["bold"]),
            (" ", vec![]),
            ("kursiv", vec!["italic"]),
            (" ", vec![]),
            ("struken", vec!["strike"]),
            (" ", vec![]),
            ("kod", vec!["code"]),
            (" ", vec![]),
            ("länk", vec!["link"]),
        ]
        .into_iter()
        .map(|(t, k)| (t.to_string(), k.into_iter().map(str::to_string).collect()))
        .collect();
        assert_eq!(runs, expected);
        let bold = diff[0]
            .attributes
            .as_ref()
            .and_then(|a| a.get("bold"))
            .cloned();
        assert_eq!(bold, Some(empty_map()));
        let link = diff[8]
            .attributes
            .as_ref()
            .and_then(|a| a.get("link"))
            .cloned();
        let mut expected_link = HashMap::new();
        expected_link.insert("href".to_string(), Any::from("https://example.se"));
        expected_link.insert("target".to_string(), Any::from("_blank"));
        expected_link.insert("rel".to_string(), Any::from("noopener noreferrer nofollow"));
        expected_link.insert("class".to_string(), Any::Null);
        expected_link.insert("title".to_string(), Any::Null);
        assert_eq!(link, Some(Any::Map(Arc::new(expected_link))));

        // A hard break is an element between two texts.
        let broken = children(&txn, &element(&blocks[2]));
        assert_eq!(broken.len(), 3);
        assert_eq!(plain(&txn, &text(&broken[0])), "rad ett");
        assert_eq!(tag(&broken[1]), "hardBreak");
        assert_eq!(plain(&txn, &text(&broken[2])), "rad två");

        // listItem > paragraph, nested lists inside the item.
        let items = children(&txn, &element(&blocks[3]));
        assert_eq!(
            items.iter().map(tag).collect::<Vec<_>>(),
            ["listItem", "listItem"]
        );
        let second = children(&txn, &element(&items[1]));
        assert_eq!(
            second.iter().map(tag).collect::<Vec<_>>(),
            ["paragraph", "bulletList"]
        );

        // Code keeps its text unmarked and without the final newline.
        let code = children(&txn, &element(&blocks[4]));
        assert_eq!(plain(&txn, &text(&code[0])), "let a = 1;");
        let code_diff = text(&code[0]).diff(&txn, YChange::identity);
        assert!(
            code_diff
                .iter()
                .all(|d| d.attributes.as_ref().is_none_or(|a| a.is_empty()))
        );

        let quote = children(&txn, &element(&blocks[6]));
        assert_eq!(quote.iter().map(tag).collect::<Vec<_>>(), ["paragraph"]);
    }

    #[test]
    fn tables_have_the_shape_tiptap_writes() {
        let (doc, fragment) = import("| A | B |\n| --- | --- |\n| 1 |  |\n");
        let txn = doc.transact();
        let blocks = children(&txn, &fragment);
        assert_eq!(
            blocks.iter().map(tag).collect::<Vec<_>>(),
            ["table", "paragraph"]
        );
        let table = element(&blocks[0]);
        assert_eq!(table.attributes(&txn).count(), 0);
        let rows = children(&txn, &table);
        assert_eq!(
            rows.iter().map(tag).collect::<Vec<_>>(),
            ["tableRow", "tableRow"]
        );
        let head = children(&txn, &element(&rows[0]));
        assert_eq!(
            head.iter().map(tag).collect::<Vec<_>>(),
            ["tableHeader", "tableHeader"]
        );
        let body = children(&txn, &element(&rows[1]));
        assert_eq!(
            body.iter().map(tag).collect::<Vec<_>>(),
            ["tableCell", "tableCell"]
        );
        for cell in head.iter().chain(&body) {
            let cell = element(cell);
            for key in ["colspan", "rowspan"] {
                assert!(
                    matches!(
                        cell.get_attribute(&txn, key),
                        Some(Out::Any(Any::Number(yrs::Number::Int(1))))
                    ),
                    "{key}"
                );
            }
            let inner = children(&txn, &cell);
            assert_eq!(inner.iter().map(tag).collect::<Vec<_>>(), ["paragraph"]);
        }
        // The empty cell holds one empty paragraph (Tiptap's `block+`).
        assert_eq!(element(&children(&txn, &element(&body[1]))[0]).len(&txn), 0);
        assert_eq!(
            plain(
                &txn,
                &text(&children(&txn, &element(&children(&txn, &element(&body[0]))[0]))[0])
            ),
            "1"
        );
    }

    #[test]
    fn utf16_offsets_are_not_shifted() {
        let (doc, fragment) =
            import("Förebyggande arbete i skolan är viktigt.\n\n😀 **fet** och *å*\n");
        {
            let mut txn = doc.transact_mut();
            let blocks = children(&txn, &fragment);
            let first = text(&children(&txn, &element(&blocks[0]))[0]);
            // The index npm yjs gives "skolan" (UTF-16 code units).
            assert_eq!(first.len(&txn), 40);
            first.insert(&mut txn, 22, "den ");
            let second = text(&children(&txn, &element(&blocks[1]))[0]);
            assert_eq!(second.len(&txn), 2 + 1 + 3 + 5 + 1);
            // Format "och" (UTF-16 offset 7) as bold, as a client would.
            let mut bold = Attrs::new();
            bold.insert(Arc::from("bold"), empty_map());
            second.format(&mut txn, 7, 3, bold);
        }
        let txn = doc.transact();
        assert_eq!(
            export_markdown(&txn, &fragment),
            "Förebyggande arbete i den skolan är viktigt.\n\n😀 **fet** **och** *å*\n"
        );
        assert_eq!(
            block_texts(&txn, &fragment),
            vec![
                "Förebyggande arbete i den skolan är viktigt.".to_string(),
                "😀 fet och å".to_string()
            ]
        );
    }

    #[test]
    fn appends_to_existing_content() {
        let (doc, fragment) = import("Först.\n");
        {
            let mut txn = doc.transact_mut();
            import_markdown(&mut txn, &fragment, "Sedan.\n").expect("imports");
        }
        let txn = doc.transact();
        assert_eq!(export_markdown(&txn, &fragment), "Först.\n\nSedan.\n");
        let (empty, empty_fragment) = import("");
        let txn = empty.transact();
        assert_eq!(block_texts(&txn, &empty_fragment), vec![String::new()]);
        assert_eq!(export_text(&txn, &empty_fragment), "");
    }
}
