//! Accepting a change proposal: the replacement made in the document by the server.
//!
//! The room's `Doc` only ever holds what is durable, so the edit is not made on it.
//! Instead a scratch copy makes the replacement, and the resulting update goes through
//! the room's normal path: stored, then applied and relayed to every client like any
//! editor's update.
//!
//! A proposal was written against the text the thread was opened on. When the anchored
//! text has changed since (an editor typed over it), replacing "the anchor" blindly
//! replaced whatever the anchor covered by then, which left fragments of the old wording
//! beside the new. So [`accept`] applies a proposal only when the anchored text is what
//! the decision was made on: the original quote, or the current quote the owner was
//! shown and confirmed (`expectedQuote`). Both the check and the replacement run on the
//! same state of the document, inside the room, so no edit can slip in between.

use yrs::branch::BranchPtr;
use yrs::types::xml::XmlOut;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{
    Assoc, Doc, IndexedSequence, ReadTxn, StateVector, StickyIndex, Text, Transact, Update,
    XmlTextRef,
};

use crate::comments::anchor::{self, Anchor};
use crate::comments::model::{AnchorConflictResponse, AnchorState};
use crate::comments::span::{self, SpanError};
use crate::documents::content::new_doc;
use crate::error::AppError;

/// Why a proposal cannot be applied automatically.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProposalError {
    /// All of the anchored text is deleted: there is nothing to replace.
    #[error("the anchored text is gone; edit the document by hand or move the thread")]
    Orphaned { original_quote: String },
    /// The anchored text is no longer what the proposal was written against, and the
    /// request did not confirm the text as it is now.
    #[error(
        "the anchored text has changed since the proposal was made; confirm the current text with expectedQuote"
    )]
    Changed {
        quote: String,
        original_quote: String,
    },
    /// The range runs over blocks a change may not span (a table, a list, too many);
    /// see `span`.
    #[error("{0}; edit the document by hand")]
    SpansBlocks(#[from] SpanError),
    /// The decision's claim is too old to make the edit under (`comments::decisions`).
    #[error("the decision took too long and was not applied; try again")]
    TooLate,
}

impl From<ProposalError> for AppError {
    fn from(e: ProposalError) -> Self {
        let message = e.to_string();
        let (code, quote, original_quote) = match e {
            ProposalError::Changed {
                quote,
                original_quote,
            } => ("anchor_changed", quote, original_quote),
            ProposalError::Orphaned { original_quote } => {
                ("anchor_orphaned", String::new(), original_quote)
            }
            ProposalError::SpansBlocks(_) => return AppError::Conflict(message),
            ProposalError::TooLate => return AppError::Unavailable(message),
        };
        let body = AnchorConflictResponse {
            error: code,
            message: message.clone(),
            quote: Some(quote),
            original_quote: Some(original_quote),
        };
        AppError::ConflictWithDetails {
            code,
            message,
            details: serde_json::to_value(body).unwrap_or_default(),
        }
    }
}

/// An owner's decision to accept a thread's proposal.
#[derive(Debug, Clone)]
pub struct Acceptance {
    /// The thread's anchor as stored.
    pub anchor: Anchor,
    /// The text the thread was opened on.
    pub original_quote: String,
    /// The current text the owner saw and confirmed, when it differed from the original.
    pub expected_quote: Option<String>,
    /// The proposed wording.
    pub proposal: String,
    /// The Yjs client id to write the edit under (the decision's claim names it), and
    /// the moment after which the edit must not be made; `None`: a fresh one, any time.
    pub claim: Option<(u64, tokio::time::Instant)>,
}

/// Checks that the anchored text is what the owner decided on, then makes the update that
/// puts the proposal in its place (see [`replacement`]).
pub fn accept(doc: &Doc, acceptance: &Acceptance) -> Result<(Vec<u8>, Anchor), ProposalError> {
    if let Some((_, deadline)) = acceptance.claim
        && tokio::time::Instant::now() > deadline
    {
        return Err(ProposalError::TooLate);
    }
    let now = anchor::resolve(doc, &acceptance.anchor);
    if now.state(&acceptance.original_quote) == AnchorState::Orphaned {
        return Err(ProposalError::Orphaned {
            original_quote: acceptance.original_quote.clone(),
        });
    }
    let decided_on = acceptance
        .expected_quote
        .as_deref()
        .unwrap_or(&acceptance.original_quote);
    if now.quote != decided_on {
        return Err(ProposalError::Changed {
            quote: now.quote,
            original_quote: acceptance.original_quote.clone(),
        });
    }
    let client = acceptance.claim.map(|(client, _)| client);
    replacement_as(doc, &acceptance.anchor, &acceptance.proposal, client).map_err(|e| match e {
        ProposalError::Orphaned { .. } => ProposalError::Orphaned {
            original_quote: acceptance.original_quote.clone(),
        },
        other => other,
    })
}

/// The update that replaces the anchored range, exactly as it resolves now, with
/// `replacement`, and the anchor of the replacement text (so the thread keeps pointing at
/// what it proposed). A collapsed range takes `replacement` at its point (an insertion);
/// an empty `replacement` deletes the range (the anchor left is collapsed where it was).
/// Nothing at all (a collapsed range and no text) is refused as orphaned.
pub fn replacement(
    doc: &Doc,
    anchor: &Anchor,
    replacement: &str,
) -> Result<(Vec<u8>, Anchor), ProposalError> {
    replacement_as(doc, anchor, replacement, None)
}

/// [`replacement`], written under Yjs client id `client` when given (a fresh one
/// otherwise), so the decision that claimed the thread can later tell whether it was
/// stored (`comments::decisions`).
fn replacement_as(
    doc: &Doc,
    anchor: &Anchor,
    replacement: &str,
    client: Option<u64>,
) -> Result<(Vec<u8>, Anchor), ProposalError> {
    let scratch = match client {
        Some(id) => Doc::with_options(yrs::Options {
            client_id: yrs::ClientID::new(id),
            offset_kind: yrs::OffsetKind::Utf16,
            ..yrs::Options::default()
        }),
        None => new_doc(),
    };
    {
        let state = doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let update = Update::decode_v1(&state).map_err(|_| gone())?;
        scratch
            .transact_mut()
            .apply_update(update)
            .map_err(|_| gone())?;
    }
    let mut txn = scratch.transact_mut();
    let start = StickyIndex::decode_v1(&anchor.start)
        .ok()
        .and_then(|s| s.get_offset(&txn))
        .ok_or_else(gone)?;
    let end = StickyIndex::decode_v1(&anchor.end)
        .ok()
        .and_then(|s| s.get_offset(&txn))
        .ok_or_else(gone)?;
    if start.branch.id() != end.branch.id() {
        let units = anchor::resolve(doc, anchor).quote.encode_utf16().count();
        return across_blocks(&mut txn, (start, end), units, replacement);
    }
    if start.branch.is_deleted()
        || end.index < start.index
        || (end.index == start.index && replacement.is_empty())
    {
        return Err(gone());
    }
    let Ok(XmlOut::Text(text)) = XmlOut::try_from(start.branch) else {
        return Err(SpanError::Structure.into());
    };
    if replacement.contains('\n') {
        // Paragraph breaks: the paragraph is split as Enter would split it.
        let span = span::within(&txn, text, start.index, end.index)?;
        return joined(&mut txn, &span, replacement);
    }
    if end.index > start.index {
        text.remove_range(&mut txn, start.index, end.index - start.index);
    }
    if !replacement.is_empty() {
        text.insert(&mut txn, start.index, replacement);
    }
    let inserted = replacement.encode_utf16().count() as u32;
    let new_anchor =
        anchor_of(&txn, &text, start.index, start.index + inserted).ok_or_else(gone)?;
    Ok((txn.encode_update_v1(), new_anchor))
}

/// The replacement of a range running from one block's text into a later one's: the
/// blocks joined as `span::join` does, checked against the same limits a new suggestion
/// is (the document may have changed shape since: a table put between them).
fn across_blocks(
    txn: &mut yrs::TransactionMut,
    (start, end): (yrs::Offset, yrs::Offset),
    units: usize,
    replacement: &str,
) -> Result<(Vec<u8>, Anchor), ProposalError> {
    if start.branch.is_deleted() || end.branch.is_deleted() {
        return Err(gone());
    }
    let (Ok(XmlOut::Text(first)), Ok(XmlOut::Text(last))) =
        (XmlOut::try_from(start.branch), XmlOut::try_from(end.branch))
    else {
        return Err(SpanError::Structure.into());
    };
    let span = span::locate(txn, (first, start.index), (last, end.index), units)?;
    joined(txn, &span, replacement)
}

/// Makes `span::join` and anchors the thread on the text it put in (which may now run
/// from the first paragraph into a new one).
fn joined(
    txn: &mut yrs::TransactionMut,
    span: &span::Span,
    replacement: &str,
) -> Result<(Vec<u8>, Anchor), ProposalError> {
    let (last, end) = span::join(txn, span, replacement)?;
    let start = span
        .first
        .sticky_index(txn, span.from, Assoc::After)
        .or_else(|| anchor::position_after(txn, &span.first, span.from))
        .ok_or_else(gone)?;
    let end = anchor::position_after(txn, &last, end).ok_or_else(gone)?;
    let new_anchor = Anchor {
        start: start.encode_v1(),
        end: end.encode_v1(),
    };
    Ok((txn.encode_update_v1(), new_anchor))
}

/// Nothing is left to replace (the positions no longer resolve, or cover no text).
fn gone() -> ProposalError {
    ProposalError::Orphaned {
        original_quote: String::new(),
    }
}

fn anchor_of<T: ReadTxn>(txn: &T, text: &XmlTextRef, from: u32, to: u32) -> Option<Anchor> {
    let start = text.sticky_index(txn, from, Assoc::After)?;
    // Both ends stick to the character after them, as every stored anchor does (anchor.rs).
    let end = anchor::position_after(txn, text, to)?;
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
