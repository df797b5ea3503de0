//! Accepting a change proposal: the replacement made in the document by the server.
//!
//! The room's `Doc` only ever holds what is durable, so the edit is not made on it.
//! Instead a scratch copy makes the replacement, and the resulting update goes through
//! the room's normal path: stored, then applied and relayed to every client like any
//! editor's update.

use yrs::branch::BranchPtr;
use yrs::types::xml::XmlOut;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{
    Assoc, Doc, IndexedSequence, ReadTxn, StateVector, StickyIndex, Text, Transact, Update,
    XmlTextRef,
};

use crate::comments::anchor::Anchor;
use crate::documents::content::new_doc;

/// Why a proposal cannot be applied automatically.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProposalError {
    #[error("the anchored text is gone; edit the document by hand")]
    Gone,
    #[error("the anchored text spans several paragraphs; edit the document by hand")]
    SpansBlocks,
}

/// The update that replaces the anchored range with `replacement`, and the anchor of the
/// replacement text (so the thread keeps pointing at what it proposed).
pub fn replacement(
    doc: &Doc,
    anchor: &Anchor,
    replacement: &str,
) -> Result<(Vec<u8>, Anchor), ProposalError> {
    let scratch = new_doc();
    {
        let state = doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let update = Update::decode_v1(&state).map_err(|_| ProposalError::Gone)?;
        scratch
            .transact_mut()
            .apply_update(update)
            .map_err(|_| ProposalError::Gone)?;
    }
    let mut txn = scratch.transact_mut();
    let start = StickyIndex::decode_v1(&anchor.start)
        .ok()
        .and_then(|s| s.get_offset(&txn))
        .ok_or(ProposalError::Gone)?;
    let end = StickyIndex::decode_v1(&anchor.end)
        .ok()
        .and_then(|s| s.get_offset(&txn))
        .ok_or(ProposalError::Gone)?;
    if start.branch.id() != end.branch.id() {
        return Err(ProposalError::SpansBlocks);
    }
    if start.branch.is_deleted() || end.index <= start.index {
        return Err(ProposalError::Gone);
    }
    let Ok(XmlOut::Text(text)) = XmlOut::try_from(start.branch) else {
        return Err(ProposalError::SpansBlocks);
    };
    text.remove_range(&mut txn, start.index, end.index - start.index);
    text.insert(&mut txn, start.index, replacement);
    let inserted = replacement.encode_utf16().count() as u32;
    let new_anchor =
        anchor_of(&txn, &text, start.index, start.index + inserted).ok_or(ProposalError::Gone)?;
    Ok((txn.encode_update_v1(), new_anchor))
}

fn anchor_of<T: ReadTxn>(txn: &T, text: &XmlTextRef, from: u32, to: u32) -> Option<Anchor> {
    let start = text.sticky_index(txn, from, Assoc::After)?;
    let end = text.sticky_index(txn, to, Assoc::Before)?;
    Some(Anchor {
        start: start.encode_v1(),
        end: end.encode_v1(),
    })
}

/// The anchor of `[from, to)` in the XmlText `branch` (for tests and the demo's threads).
pub fn anchor_in_text<T: ReadTxn>(
    txn: &T,
    branch: BranchPtr,
    from: u32,
    to: u32,
) -> Option<Anchor> {
    anchor_of(txn, &XmlTextRef::from(branch), from, to)
}
