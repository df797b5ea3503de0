//! The CRDT the sync core serves: one yrs `Doc` whose ProseMirror tree lives in the
//! `XmlFragment` named `default`, as Tiptap's Collaboration extension keeps it.
//!
//! The room creates, rebuilds and checks documents of this shape, so the shape belongs
//! to the sync core; `documents::content` re-exports it for the product code that renders
//! and imports content.

use yrs::updates::decoder::Decode;
use yrs::{Doc, OffsetKind, Options, Update, XmlFragmentRef};

use crate::storage::snapshot::{Encoding, Snapshot};
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

/// Applies a snapshot and stored log entries to `doc` in one transaction; an entry that
/// does not decode or apply is logged and skipped (yrs leaves the `Doc` intact then).
pub fn apply_stored<'a>(
    doc: &Doc,
    snapshot: Option<&Snapshot>,
    updates: impl IntoIterator<Item = &'a [u8]>,
) {
    use yrs::Transact;
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

/// Decoding is written here rather than in `storage::snapshot`, so storage needs nothing
/// from the sync core: a v1 snapshot may predate the nesting scan as a log entry may.
impl Snapshot {
    /// The snapshot as an update to apply.
    pub fn decode(&self) -> Result<Update, String> {
        match self.encoding {
            Encoding::V1 => decode_stored(&self.data),
            Encoding::V2 => Update::decode_v2(&self.data).map_err(|e| e.to_string()),
        }
    }
}
