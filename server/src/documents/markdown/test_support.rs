//! Helpers shared by the tests of the markdown modules: documents made from Markdown or
//! built by hand the way a Tiptap client would, and accessors for the Yjs tree.

use std::collections::HashMap;
use std::sync::Arc;

use yrs::types::{Attrs, Delta};
use yrs::{
    Any, Doc, GetString, In, OffsetKind, Options, ReadTxn, Text, Transact, TransactionMut,
    XmlElementPrelim, XmlElementRef, XmlFragment, XmlFragmentRef, XmlOut, XmlTextPrelim,
    XmlTextRef,
};

use super::schema::{Marks, Node};
use super::{export_html, export_markdown, import_markdown};

pub(super) fn new_doc() -> (Doc, XmlFragmentRef) {
    let doc = Doc::with_options(Options {
        offset_kind: OffsetKind::Utf16,
        ..Default::default()
    });
    let fragment = doc.get_or_insert_xml_fragment("default");
    (doc, fragment)
}

pub(super) fn import(markdown: &str) -> (Doc, XmlFragmentRef) {
    let (doc, fragment) = new_doc();
    {
        let mut txn = doc.transact_mut();
        import_markdown(&mut txn, &fragment, markdown).expect("imports");
    }
    (doc, fragment)
}

pub(super) fn to_markdown(markdown: &str) -> String {
    let (doc, fragment) = import(markdown);
    let txn = doc.transact();
    export_markdown(&txn, &fragment)
}

pub(super) fn to_html(markdown: &str) -> String {
    let (doc, fragment) = import(markdown);
    let txn = doc.transact();
    export_html(&txn, &fragment)
}

pub(super) fn children<T: ReadTxn, P: XmlFragment>(txn: &T, parent: &P) -> Vec<XmlOut> {
    parent.children(txn).collect()
}

pub(super) fn element(out: &XmlOut) -> XmlElementRef {
    match out {
        XmlOut::Element(el) => el.clone(),
        other => panic!("expected an element, got {other:?}"),
    }
}

pub(super) fn text(out: &XmlOut) -> XmlTextRef {
    match out {
        XmlOut::Text(t) => t.clone(),
        other => panic!("expected a text, got {other:?}"),
    }
}

pub(super) fn tag(out: &XmlOut) -> String {
    element(out).tag().to_string()
}

pub(super) fn plain<T: ReadTxn>(txn: &T, t: &XmlTextRef) -> String {
    AsRef::<yrs::TextRef>::as_ref(t).get_string(txn)
}

pub(super) fn empty_map() -> Any {
    Any::Map(Arc::new(HashMap::new()))
}

/// Builds a paragraph the way a Tiptap client would, with arbitrary formatting attributes.
pub(super) fn push_paragraph(
    txn: &mut TransactionMut,
    fragment: &XmlFragmentRef,
    runs: &[(&str, Attrs)],
) {
    let p = fragment.push_back(txn, XmlElementPrelim::empty("paragraph"));
    let delta: Vec<Delta<In>> = runs
        .iter()
        .map(|(t, a)| Delta::Inserted(In::Any(Any::from(*t)), Some(Box::new(a.clone()))))
        .collect();
    let t = p.push_back(txn, XmlTextPrelim::new(""));
    t.apply_delta(txn, delta);
}

pub(super) fn link_attrs(key: &str, href: &str) -> Attrs {
    let mut map = HashMap::new();
    map.insert("href".to_string(), Any::from(href));
    map.insert("target".to_string(), Any::from("_blank"));
    map.insert("rel".to_string(), Any::from("noopener noreferrer nofollow"));
    map.insert("class".to_string(), Any::Null);
    let mut attrs = Attrs::new();
    attrs.insert(Arc::from(key), Any::Map(Arc::new(map)));
    attrs
}

/// Every non-blank character of a tree with its marks and the path of block names.
pub(super) fn signature(nodes: &[Node], path: &str, out: &mut Vec<(String, char, Marks)>) {
    for node in nodes {
        match node {
            Node::Element(el) => signature(&el.children, &format!("{path}/{}", el.name), out),
            Node::Text(runs) => {
                for run in runs {
                    for c in run.text.chars().filter(|c| !c.is_whitespace()) {
                        out.push((path.to_string(), c, run.marks.clone()));
                    }
                }
            }
        }
    }
}
