//! The shape of a document's CRDT: one yrs `Doc` whose ProseMirror tree lives in the
//! `XmlFragment` named `default`, as Tiptap's Collaboration extension keeps it.

use yrs::updates::decoder::Decode;
use yrs::{Doc, OffsetKind, Options, ReadTxn, StateVector, Transact, Update, XmlFragmentRef};

use crate::documents::markdown;
use crate::storage::snapshot::Snapshot;
use crate::sync::nesting;

/// The fragment Tiptap's Collaboration extension edits (its `field` option).
pub const FRAGMENT: &str = "default";

/// A new `Doc` counting text offsets in UTF-16 code units, as Yjs and ProseMirror do, so
/// that indices in anchors, quotes and Markdown import agree with the browser.
pub fn new_doc() -> Doc {
    Doc::with_options(Options {
        offset_kind: OffsetKind::Utf16,
        ..Options::default()
    })
}

/// The document's fragment, created if this `Doc` has never seen it.
pub fn fragment(doc: &Doc) -> XmlFragmentRef {
    doc.get_or_insert_xml_fragment(FRAGMENT)
}

/// The whole state of a new document holding `markdown`, as one v1 update.
pub fn update_from_markdown(text: &str) -> Result<Vec<u8>, markdown::ImportError> {
    let doc = new_doc();
    let frag = fragment(&doc);
    let mut txn = doc.transact_mut();
    markdown::import_markdown(&mut txn, &frag, text)?;
    Ok(txn.encode_state_as_update_v1(&StateVector::default()))
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

/// Applies a snapshot and stored log entries to `doc` in one transaction; an entry that
/// does not decode or apply is logged and skipped (yrs leaves the `Doc` intact then).
pub fn apply_stored<'a>(
    doc: &Doc,
    snapshot: Option<&Snapshot>,
    updates: impl IntoIterator<Item = &'a [u8]>,
) {
    let mut txn = doc.transact_mut();
    let decoded = snapshot
        .map(Snapshot::decode)
        .into_iter()
        .chain(updates.into_iter().map(decode_stored));
    for update in decoded {
        match update {
            Ok(update) => {
                if let Err(error) = txn.apply_update(update) {
                    tracing::warn!(%error, "a stored update could not be applied");
                }
            }
            Err(error) => tracing::warn!(%error, "a stored update does not decode"),
        }
    }
}

/// Decodes a stored v1 update, after the scan that keeps yrs's recursive decoder off
/// nesting it cannot survive (`sync::nesting`): stored bytes may predate that scan at
/// the door (issue 13), so they are scanned again on every load.
pub fn decode_stored(bytes: &[u8]) -> Result<Update, String> {
    nesting::scan_update_v1(bytes).map_err(|e| e.to_string())?;
    Update::decode_v1(bytes).map_err(|e| e.to_string())
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
