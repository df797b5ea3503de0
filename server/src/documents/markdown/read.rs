//! The Yjs `XmlFragment` read back into the intermediate tree.
//!
//! Whatever a client stored is accepted: unknown nodes and marks are kept or skipped,
//! hashed mark names (`link--a1B2c3D4`) lose their suffix, values that are not XML are
//! ignored, and anything nested deeper than `MAX_DEPTH` is flattened to its text without
//! recursion.

use yrs::types::Attrs;
use yrs::types::text::YChange;
use yrs::{
    Any, Array, ArrayRef, Out, ReadTxn, Text, Xml, XmlElementRef, XmlFragmentRef, XmlTextRef,
};

use super::MAX_DEPTH;
use super::schema::{
    BOLD, CODE, Element, ITALIC, LINK, LinkMark, Marks, Node, Run, STRIKE, UNDERLINE,
};

pub(super) fn read_fragment<T: ReadTxn>(txn: &T, fragment: &XmlFragmentRef) -> Vec<Node> {
    read_children(txn, AsRef::<ArrayRef>::as_ref(fragment), 0)
}

/// Children of an XML node, read as an array so that a stray non-XML value (which a
/// hostile client could insert) is skipped instead of ending the iteration.
fn read_children<T: ReadTxn>(txn: &T, array: &ArrayRef, depth: usize) -> Vec<Node> {
    let mut nodes = Vec::new();
    for value in array.iter(txn) {
        match value {
            Out::YXmlElement(el) => nodes.push(Node::Element(read_element(txn, &el, depth + 1))),
            Out::YXmlText(text) => nodes.push(Node::Text(read_runs(txn, &text))),
            Out::YXmlFragment(frag) => {
                let children = if depth + 1 >= MAX_DEPTH {
                    flat_text(txn, Out::YXmlFragment(frag))
                } else {
                    read_children(txn, AsRef::<ArrayRef>::as_ref(&frag), depth + 1)
                };
                nodes.push(Node::Element(Element::new("", Vec::new(), children)));
            }
            _ => {}
        }
    }
    nodes
}

fn read_element<T: ReadTxn>(txn: &T, el: &XmlElementRef, depth: usize) -> Element {
    let name = el.try_tag().map(|t| t.to_string()).unwrap_or_default();
    let attrs = el
        .attributes(txn)
        .filter_map(|(key, value)| match value {
            Out::Any(any) => Some((key.to_string(), any)),
            _ => None,
        })
        .collect();
    let children = if depth >= MAX_DEPTH {
        flat_text(txn, Out::YXmlElement(el.clone()))
    } else {
        read_children(txn, AsRef::<ArrayRef>::as_ref(el), depth)
    };
    Element {
        name,
        attrs,
        children,
    }
}

/// All text below a node too deep to read as structure, gathered without recursion.
fn flat_text<T: ReadTxn>(txn: &T, root: Out) -> Vec<Node> {
    let mut text = String::new();
    let mut stack = vec![root];
    while let Some(value) = stack.pop() {
        match value {
            Out::YXmlText(t) => {
                for run in read_runs(txn, &t) {
                    text.push_str(&run.text);
                }
            }
            Out::YXmlElement(el) => {
                let children: Vec<Out> = AsRef::<ArrayRef>::as_ref(&el).iter(txn).collect();
                stack.extend(children.into_iter().rev());
            }
            Out::YXmlFragment(frag) => {
                let children: Vec<Out> = AsRef::<ArrayRef>::as_ref(&frag).iter(txn).collect();
                stack.extend(children.into_iter().rev());
            }
            _ => {}
        }
    }
    if text.is_empty() {
        Vec::new()
    } else {
        vec![Node::Text(vec![Run {
            text,
            marks: Marks::default(),
        }])]
    }
}

fn read_runs<T: ReadTxn>(txn: &T, text: &XmlTextRef) -> Vec<Run> {
    text.diff(txn, YChange::identity)
        .into_iter()
        .filter_map(|diff| match diff.insert {
            Out::Any(Any::String(s)) => Some(Run {
                text: s.to_string(),
                marks: read_marks(diff.attributes.as_deref()),
            }),
            _ => None,
        })
        .collect()
}

fn read_marks(attrs: Option<&Attrs>) -> Marks {
    let mut marks = Marks::default();
    for (key, value) in attrs.into_iter().flatten() {
        if matches!(value, Any::Null | Any::Undefined) {
            continue;
        }
        match mark_name(key) {
            BOLD => marks.bold = true,
            ITALIC => marks.italic = true,
            STRIKE => marks.strike = true,
            UNDERLINE => marks.underline = true,
            CODE => marks.code = true,
            LINK => {
                if let Any::Map(map) = value
                    && let Some(Any::String(href)) = map.get("href")
                {
                    let title = match map.get("title") {
                        Some(Any::String(t)) if !t.is_empty() => Some(t.to_string()),
                        _ => None,
                    };
                    marks.link = Some(LinkMark {
                        href: href.to_string(),
                        title,
                    });
                }
            }
            _ => {}
        }
    }
    marks
}

/// y-tiptap stores a mark type that may overlap itself as `name--<8 base64 chars>`
/// (`hashedMarkNameRegex`); this gives back the mark's name.
fn mark_name(key: &str) -> &str {
    let bytes = key.as_bytes();
    if bytes.len() > 10 {
        let (name, suffix) = key.split_at(key.len() - 10);
        if suffix.starts_with("--")
            && suffix[2..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        {
            return name;
        }
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Arc;

    use yrs::{Transact, XmlElementPrelim, XmlFragment, XmlTextPrelim};

    use super::super::test_support::{
        children, element, empty_map, import, link_attrs, new_doc, push_paragraph,
    };
    use super::super::{block_texts, export_html, export_markdown, export_text};

    #[test]
    fn reads_what_tiptap_writes() {
        // Built by hand as y-tiptap writes it: hashed mark names, a float level, an unknown
        // node with text, an unknown inline node, underline.
        let (doc, fragment) = new_doc();
        {
            let mut txn = doc.transact_mut();
            let h = fragment.push_back(&mut txn, XmlElementPrelim::empty("heading"));
            h.insert_attribute(&mut txn, "level", Any::from(3.0f64));
            h.push_back(&mut txn, XmlTextPrelim::new("Trygghet för äldre och unga"));
            let mut u = Attrs::new();
            u.insert(Arc::from("underline"), empty_map());
            let mut b = Attrs::new();
            b.insert(Arc::from("bold--a1B2c3D4"), empty_map());
            push_paragraph(
                &mut txn,
                &fragment,
                &[
                    ("under", u),
                    (" och ", Attrs::new()),
                    ("fet", b),
                    (" ", Attrs::new()),
                    ("länk", link_attrs("link--Zz09+/=a", "https://example.se")),
                ],
            );
            let p = element(&children(&txn, &fragment)[1]);
            let mention = p.push_back(&mut txn, XmlElementPrelim::empty("mention"));
            mention.push_back(&mut txn, XmlTextPrelim::new(" @Anna"));
            let tasks = fragment.push_back(&mut txn, XmlElementPrelim::empty("taskList"));
            let task = tasks.push_back(&mut txn, XmlElementPrelim::empty("taskItem"));
            task.insert_attribute(&mut txn, "checked", Any::Bool(true));
            let tp = task.push_back(&mut txn, XmlElementPrelim::empty("paragraph"));
            tp.push_back(&mut txn, XmlTextPrelim::new("En uppgift"));
            fragment.push_back(&mut txn, XmlElementPrelim::empty("paragraph"));
        }
        let txn = doc.transact();
        assert_eq!(
            export_markdown(&txn, &fragment),
            "### Trygghet för äldre och unga\n\nunder och **fet** [länk](https://example.se) @Anna\n\nEn uppgift\n"
        );
        assert_eq!(
            export_html(&txn, &fragment),
            "<h3>Trygghet för äldre och unga</h3>\n\
             <p><u>under</u> och <strong>fet</strong> <a href=\"https://example.se\">länk</a> @Anna</p>\n\
             <p>En uppgift</p>\n<p></p>\n"
        );
        assert_eq!(
            block_texts(&txn, &fragment),
            vec![
                "Trygghet för äldre och unga".to_string(),
                "under och fet länk @Anna".to_string(),
                "En uppgift".to_string(),
                String::new()
            ]
        );
        assert_eq!(
            export_text(&txn, &fragment),
            "Trygghet för äldre och unga\n\nunder och fet länk (https://example.se) @Anna\n\nEn uppgift\n"
        );
    }

    #[test]
    fn skips_values_that_are_not_xml() {
        let (doc, fragment) = import("Ett.\n");
        {
            let mut txn = doc.transact_mut();
            AsRef::<ArrayRef>::as_ref(&fragment).push_back(&mut txn, Any::from("skräp"));
            let p = fragment.push_back(&mut txn, XmlElementPrelim::empty("paragraph"));
            p.push_back(&mut txn, XmlTextPrelim::new("Två."));
        }
        let txn = doc.transact();
        assert_eq!(export_markdown(&txn, &fragment), "Ett.\n\nTvå.\n");
    }

    #[test]
    fn mark_names_lose_their_hash() {
        assert_eq!(mark_name("link--abcdEF12"), "link");
        assert_eq!(mark_name("comment--a+/=b0Z9"), "comment");
        assert_eq!(mark_name("bold"), "bold");
        assert_eq!(mark_name("x--abc"), "x--abc");
    }
}
