//! The shape of a document's CRDT: one yrs `Doc` whose ProseMirror tree lives in the
//! `XmlFragment` named `default`, as Tiptap's Collaboration extension keeps it. The
//! shape itself is the sync core's (`sync::crdt`); this module renders and imports it.

use yrs::{Doc, ReadTxn, StateVector, Transact};

use crate::documents::markdown;
use crate::storage::snapshot::Snapshot;

pub use crate::sync::crdt::{FRAGMENT, apply_stored, decode_stored, fragment, new_doc};

/// The whole state of a new document holding `markdown`, as one v1 update.
pub fn update_from_markdown(text: &str) -> Result<Vec<u8>, markdown::ImportError> {
    let doc = new_doc();
    let frag = fragment(&doc);
    let mut txn = doc.transact_mut();
    markdown::import_markdown(&mut txn, &frag, text)?;
    Ok(txn.encode_state_as_update_v1(&StateVector::default()))
}

/// The whole state of a new document holding what was read from a Word file, as one v1
/// update.
pub fn update_from_word(word: &crate::documents::word::WordImport) -> Vec<u8> {
    let doc = new_doc();
    let frag = fragment(&doc);
    let mut txn = doc.transact_mut();
    markdown::import_nodes(&mut txn, &frag, &word.blocks);
    txn.encode_state_as_update_v1(&StateVector::default())
}

/// Builds a `Doc` from a snapshot and the updates after it, skipping (and logging) any
/// stored update that cannot be applied rather than refusing the whole document. For
/// data the server wrote itself; a room loads through `sync::quarantine::rebuild`.
pub fn doc_from_parts<'a>(
    snapshot: Option<&Snapshot>,
    updates: impl IntoIterator<Item = &'a [u8]>,
) -> Doc {
    let doc = new_doc();
    apply_stored(&doc, snapshot, updates);
    doc
}

/// The three read-outs of a document's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Html,
    Text,
}

/// Renders the document in `format`.
pub fn render(doc: &Doc, format: Format) -> String {
    let txn = doc.transact();
    let Some(frag) = txn.get_xml_fragment(FRAGMENT) else {
        return String::new();
    };
    match format {
        Format::Markdown => markdown::export_markdown(&txn, &frag),
        Format::Html => markdown::export_html(&txn, &frag),
        Format::Text => markdown::export_text(&txn, &frag),
    }
}
