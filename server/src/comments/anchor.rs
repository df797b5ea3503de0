//! Resolving a thread's anchor against the current document.
//!
//! An anchor is two Yjs relative positions (yrs `StickyIndex`) made in the browser from
//! the selection, so they follow the text through every later edit. To report what a
//! thread points at now, the document's `default` fragment is laid out as one linear
//! text (each XmlText in document order, joined by "\n"); both positions are mapped into
//! it and the quote is what lies between them. Positions may sit inside an XmlText (the
//! usual case) or between the children of an element or of the fragment (y-prosemirror
//! makes those at block boundaries), which map to where that child's text begins.
//!
//! ## Which character each end sticks to
//! A Yjs position sticks to one character: `Assoc::After` to the one at its index (the
//! position is just before it), `Assoc::Before` to the one before its index. When that
//! character is deleted, the position falls back to where the deletion began, and Yjs
//! (and yrs) put text typed in that place *after* the deleted characters. So an end that
//! sticks to the range's own last character shrinks when someone types over the end of
//! the range: ProseMirror keeps the typed word's first letter if it matches, deletes the
//! rest, and the end falls back to just after that letter ("…kartläggning, o").
//!
//! Both ends therefore stick to the character *after* them (`Assoc::After`): the start
//! to the range's first character, the end to the first character past the range (or to
//! the end of its paragraph). Text that replaces the end of the range is then inside it,
//! as is text typed right after its last character: a range that grows is caught by the
//! `anchor_changed` check when a proposal is accepted and shown to the owner; one that
//! shrank left fragments behind. The server re-encodes every new anchor this way
//! ([`resolve_new`]) whatever association the client sent, so one rule holds for all
//! clients. Anchors stored before (their end sticking to their last character) resolve
//! as they always did: if that character is typed over they read `changed`, and accepting
//! their proposal asks the owner first.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use yrs::branch::BranchPtr;
use yrs::types::xml::XmlOut;
use yrs::updates::decoder::Decode;
use yrs::{
    Array, ArrayRef, BranchID, Doc, GetString, ReadTxn, StickyIndex, TextRef, Transact, XmlTextRef,
};

use crate::comments::model::AnchorState;
use crate::documents::content::FRAGMENT;
use crate::sync::protocol::untrusted;

/// Longest encoded position accepted (a relative position is a few dozen bytes).
const MAX_POSITION_BYTES: usize = 1024;

/// Why an anchor cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AnchorError {
    #[error("the anchor's {0} is not standard base64")]
    NotBase64(&'static str),
    #[error("the anchor's {0} is too long")]
    TooLong(&'static str),
    #[error("the anchor's {0} is not a Yjs relative position")]
    NotAPosition(&'static str),
    #[error("the anchor does not point into this document's text")]
    Unresolvable,
    #[error("the anchor covers no text: select the passage to comment on")]
    Empty,
    /// A range over several blocks that a suggestion may not cover (see `span`).
    #[error(transparent)]
    Span(#[from] crate::comments::span::SpanError),
}

/// A decoded pair of positions, with the bytes as they were sent (kept verbatim).
#[derive(Debug, Clone)]
pub struct Anchor {
    pub start: Vec<u8>,
    pub end: Vec<u8>,
}

impl Anchor {
    /// Decodes and checks both positions.
    pub fn decode(start: &str, end: &str) -> Result<Self, AnchorError> {
        Ok(Self {
            start: decode_position(start, "start")?,
            end: decode_position(end, "end")?,
        })
    }

    /// The positions as the API shows them.
    pub fn encoded(&self) -> (String, String) {
        (STANDARD.encode(&self.start), STANDARD.encode(&self.end))
    }
}

fn decode_position(text: &str, which: &'static str) -> Result<Vec<u8>, AnchorError> {
    if text.len() > MAX_POSITION_BYTES * 2 {
        return Err(AnchorError::TooLong(which));
    }
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|_| AnchorError::NotBase64(which))?;
    untrusted(|| StickyIndex::decode_v1(&bytes)).ok_or(AnchorError::NotAPosition(which))?;
    Ok(bytes)
}

/// The XML children of an element or fragment. `XmlFragment::children` stops at the first
/// child that is not XML, which a hostile client can insert; reading the children as an
/// array skips such entries instead.
fn xml_children<T: ReadTxn>(txn: &T, node: &impl AsRef<ArrayRef>) -> Vec<XmlOut> {
    node.as_ref()
        .iter(txn)
        .filter_map(|out| XmlOut::try_from(out).ok())
        .collect()
}

/// The branch id of an XML node (a fragment is no node of the text).
fn node_id(node: &XmlOut) -> Option<BranchID> {
    match node {
        XmlOut::Text(t) => Some(branch_of(t).id()),
        XmlOut::Element(e) => Some(branch_of(e).id()),
        XmlOut::Fragment(_) => None,
    }
}

/// A block's identity as text, `client:clock` of the Yjs item that made it. y-prosemirror
/// edits a paragraph's text in place, so the id stays while the paragraph is written in
/// or moved; splitting one keeps it for the first half. A root has no item and no key.
pub fn block_key(id: &BranchID) -> Option<String> {
    match id {
        BranchID::Nested(id) => Some(format!("{}:{}", id.client, id.clock)),
        BranchID::Root(_) => None,
    }
}

/// The branch behind an XML node, for comparing positions by branch id.
fn branch_of(node: &impl AsRef<yrs::branch::Branch>) -> BranchPtr {
    BranchPtr::from(node.as_ref())
}

/// What an anchor points at now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// Index of the top-level block holding the start; `None` when nothing is left.
    pub paragraph: Option<i64>,
    /// That block's Yjs id as `client:clock`: the paragraph's identity, kept while its
    /// text is edited or moved (see [`block_key`]); `None` when nothing is left.
    pub block: Option<String>,
    /// The text between start and end now.
    pub quote: String,
    /// Where the start lies in the whole text (UTF-16 units), for sorting threads in
    /// document order; `None` when nothing is left.
    pub offset: Option<usize>,
}

impl Resolved {
    /// All of the anchored text is gone.
    pub fn is_orphaned(&self) -> bool {
        self.quote.is_empty()
    }

    /// Whether the anchored text is still what it was when the thread was opened. A
    /// collapsed anchor (an insertion point: the original quote is empty) covers no text
    /// by design, so it is attached while its point still resolves into the document and
    /// orphaned once its paragraph is gone; both of its ends stick to the same character,
    /// so text typed there by others moves the point along and never lands inside it.
    pub fn state(&self, original_quote: &str) -> AnchorState {
        if original_quote.is_empty() {
            if self.paragraph.is_some() {
                AnchorState::Attached
            } else {
                AnchorState::Orphaned
            }
        } else if self.is_orphaned() {
            AnchorState::Orphaned
        } else if self.quote == original_quote {
            AnchorState::Attached
        } else {
            AnchorState::Changed
        }
    }
}

/// The document's text laid out linearly, in UTF-16 units as Yjs counts them.
struct Layout {
    text: Vec<u16>,
    /// Where each XmlText starts.
    spans: HashMap<BranchID, usize>,
    /// Where the text of each element begins and ends.
    elements: HashMap<BranchID, (usize, usize)>,
    /// Each top-level block, in order: where its text starts, and its branch.
    blocks: Vec<(usize, Option<BranchID>)>,
}

impl Layout {
    fn build<T: ReadTxn>(txn: &T, fragment: &yrs::XmlFragmentRef) -> Self {
        let mut layout = Layout {
            text: Vec::new(),
            spans: HashMap::new(),
            elements: HashMap::new(),
            blocks: Vec::new(),
        };
        let mut first = true;
        for child in xml_children(txn, fragment) {
            layout
                .blocks
                .push((layout.next_start(first), node_id(&child)));
            layout.visit(txn, child, &mut first);
        }
        layout
    }

    fn next_start(&self, first: bool) -> usize {
        if first { 0 } else { self.text.len() + 1 }
    }

    /// Lays out `node` and everything below it. Iterative, with an explicit stack: a
    /// document may hold elements nested far deeper than a thread's stack allows (one
    /// stored before the nesting bound: 25,000 levels crashed the thread list).
    fn visit<T: ReadTxn>(&mut self, txn: &T, node: XmlOut, first: &mut bool) {
        enum Step {
            Enter(XmlOut),
            /// Leave an element: its id and where its text began.
            Exit(BranchID, usize),
        }
        let mut steps = vec![Step::Enter(node)];
        while let Some(step) = steps.pop() {
            match step {
                Step::Enter(XmlOut::Text(text)) => {
                    if !*first {
                        self.text.push(u16::from(b'\n'));
                    }
                    *first = false;
                    let branch = branch_of(&text);
                    self.spans.insert(branch.id(), self.text.len());
                    let plain = TextRef::from(branch).get_string(txn);
                    self.text.extend(plain.encode_utf16());
                }
                Step::Enter(XmlOut::Element(element)) => {
                    let id = branch_of(&element).id();
                    steps.push(Step::Exit(id, self.next_start(*first)));
                    let children = xml_children(txn, &element);
                    steps.extend(children.into_iter().rev().map(Step::Enter));
                }
                Step::Enter(XmlOut::Fragment(_)) => {}
                Step::Exit(id, enter) => {
                    // An element without text of its own sits where the next text would
                    // start.
                    let exit = if *first { 0 } else { self.text.len() };
                    self.elements.insert(id, (enter.min(exit), exit));
                }
            }
        }
    }

    /// Maps a relative position to an offset in the layout.
    fn locate<T: ReadTxn>(&self, txn: &T, position: &[u8]) -> Option<usize> {
        let sticky = StickyIndex::decode_v1(position).ok()?;
        let offset = sticky.get_offset(txn)?;
        if offset.branch.is_deleted() {
            return None;
        }
        let index = offset.index as usize;
        if let Some(&start) = self.spans.get(&offset.branch.id()) {
            return Some((start + index).min(self.text.len()));
        }
        // A position between the children of an element or of the fragment: where the
        // index-th child's text begins, or the end of the container's text.
        let children: Vec<XmlOut> = match XmlOut::try_from(offset.branch).ok()? {
            XmlOut::Element(e) => xml_children(txn, &e),
            XmlOut::Fragment(f) => xml_children(txn, &f),
            XmlOut::Text(_) => return None,
        };
        match children.get(index) {
            Some(child) => self.start_of(child),
            None => children.last().and_then(|c| self.end_of(c)).or(Some(0)),
        }
    }

    fn start_of(&self, node: &XmlOut) -> Option<usize> {
        match node {
            XmlOut::Text(t) => self.spans.get(&branch_of(t).id()).copied(),
            XmlOut::Element(e) => self.elements.get(&branch_of(e).id()).map(|r| r.0),
            XmlOut::Fragment(_) => None,
        }
    }

    fn end_of(&self, node: &XmlOut) -> Option<usize> {
        match node {
            XmlOut::Text(t) => {
                let start = *self.spans.get(&branch_of(t).id())?;
                let len = self.text[start..]
                    .iter()
                    .position(|&c| c == u16::from(b'\n'))
                    .unwrap_or(self.text.len() - start);
                Some(start + len)
            }
            XmlOut::Element(e) => self.elements.get(&branch_of(e).id()).map(|r| r.1),
            XmlOut::Fragment(_) => None,
        }
    }

    fn block_of(&self, offset: usize) -> Option<i64> {
        self.block_index(offset).map(|i| i as i64)
    }

    fn block_index(&self, offset: usize) -> Option<usize> {
        let index = self.blocks.partition_point(|&(start, _)| start <= offset);
        index.checked_sub(1)
    }

    /// The identity of the top-level block holding `offset`.
    fn block_key_of(&self, offset: usize) -> Option<String> {
        block_key(self.blocks.get(self.block_index(offset)?)?.1.as_ref()?)
    }
}

/// Resolves an anchor against the document's current text.
pub fn resolve(doc: &Doc, anchor: &Anchor) -> Resolved {
    resolve_all(doc, std::slice::from_ref(anchor))
        .pop()
        .unwrap_or(Resolved {
            paragraph: None,
            block: None,
            quote: String::new(),
            offset: None,
        })
}

/// Resolves many anchors, laying the document out once.
pub fn resolve_all(doc: &Doc, anchors: &[Anchor]) -> Vec<Resolved> {
    let gone = || Resolved {
        paragraph: None,
        block: None,
        quote: String::new(),
        offset: None,
    };
    let txn = doc.transact();
    let Some(fragment) = txn.get_xml_fragment(FRAGMENT) else {
        return anchors.iter().map(|_| gone()).collect();
    };
    let layout = Layout::build(&txn, &fragment);
    anchors
        .iter()
        .map(|anchor| {
            match (
                layout.locate(&txn, &anchor.start),
                layout.locate(&txn, &anchor.end),
            ) {
                (Some(start), Some(end)) if end > start => Resolved {
                    paragraph: layout.block_of(start),
                    block: layout.block_key_of(start),
                    quote: String::from_utf16_lossy(&layout.text[start..end]),
                    offset: Some(start),
                },
                (Some(start), Some(_)) => Resolved {
                    paragraph: layout.block_of(start),
                    block: layout.block_key_of(start),
                    quote: String::new(),
                    offset: Some(start),
                },
                _ => gone(),
            }
        })
        .collect()
}

/// Resolves an anchor for a new thread: it must point into the text and cover some.
/// Returns it too with both ends sticking to the character after them (see the module
/// comment), which is the anchor to store.
pub fn resolve_new(doc: &Doc, anchor: &Anchor) -> Result<(Resolved, Anchor), AnchorError> {
    let resolved = resolve(doc, anchor);
    match resolved.paragraph {
        None => Err(AnchorError::Unresolvable),
        Some(_) if resolved.is_orphaned() => Err(AnchorError::Empty),
        Some(_) => Ok((resolved, settled(doc, anchor))),
    }
}

/// Resolves the anchor of a new suggestion: both ends in paragraph text, the start
/// before or at the end; a collapsed anchor is allowed (an insertion at that point), and
/// a range may run from one paragraph into a later one within the limits `span` sets
/// (the server makes the change in those texts when it is accepted). Returned as
/// [`resolve_new`] does.
pub fn resolve_new_suggestion(
    doc: &Doc,
    anchor: &Anchor,
) -> Result<(Resolved, Anchor), AnchorError> {
    let resolved = resolve(doc, anchor);
    if resolved.paragraph.is_none() {
        return Err(AnchorError::Unresolvable);
    }
    check_suggestion_ends(doc, anchor, resolved.quote.encode_utf16().count())?;
    Ok((resolved, settled(doc, anchor)))
}

/// Both ends of the anchor lie in a text, start before or at end: in the same text, or
/// in the texts of paragraphs a suggestion may span (`span::locate`).
fn check_suggestion_ends(
    doc: &Doc,
    anchor: &Anchor,
    quote_units: usize,
) -> Result<(), AnchorError> {
    let txn = doc.transact();
    let offset = |position: &[u8]| {
        StickyIndex::decode_v1(position)
            .ok()
            .and_then(|sticky| sticky.get_offset(&txn))
    };
    let (Some(start), Some(end)) = (offset(&anchor.start), offset(&anchor.end)) else {
        return Err(AnchorError::Unresolvable);
    };
    if start.branch.is_deleted() || end.branch.is_deleted() {
        return Err(AnchorError::Unresolvable);
    }
    let (Ok(XmlOut::Text(first)), Ok(XmlOut::Text(last))) =
        (XmlOut::try_from(start.branch), XmlOut::try_from(end.branch))
    else {
        return Err(crate::comments::span::SpanError::Structure.into());
    };
    if start.branch.id() == end.branch.id() {
        return if start.index <= end.index {
            Ok(())
        } else {
            Err(crate::comments::span::SpanError::Reversed.into())
        };
    }
    crate::comments::span::locate(&txn, (first, start.index), (last, end.index), quote_units)?;
    Ok(())
}

/// The anchor with each end re-encoded to stick to the character after it, where the end
/// lies inside a text; an end between blocks is kept as it was sent.
fn settled(doc: &Doc, anchor: &Anchor) -> Anchor {
    let txn = doc.transact();
    Anchor {
        start: stick_after(&txn, &anchor.start),
        end: stick_after(&txn, &anchor.end),
    }
}

/// The position before index `index` of `text`, sticking to the character there: at the
/// end of the text, to the end itself, as npm `yjs` makes it (yrs's `sticky_index` has no
/// position after the last character with `Assoc::After`).
pub fn position_after<T: ReadTxn>(txn: &T, text: &XmlTextRef, index: u32) -> Option<StickyIndex> {
    use yrs::{Assoc, IndexScope, IndexedSequence, Text};
    text.sticky_index(txn, index, Assoc::After).or_else(|| {
        (index == text.len(txn))
            .then(|| StickyIndex::new(IndexScope::from_branch(branch_of(text)), Assoc::After))
    })
}

fn stick_after<T: ReadTxn>(txn: &T, position: &[u8]) -> Vec<u8> {
    use yrs::updates::encoder::Encode;
    let Some(offset) = StickyIndex::decode_v1(position)
        .ok()
        .and_then(|sticky| sticky.get_offset(txn))
    else {
        return position.to_vec();
    };
    match XmlOut::try_from(offset.branch) {
        Ok(XmlOut::Text(text)) => position_after(txn, &text, offset.index)
            .map(|sticky| sticky.encode_v1())
            .unwrap_or_else(|| position.to_vec()),
        _ => position.to_vec(),
    }
}

/// An anchor around the first occurrence of `quote` within one XmlText of the document
/// (for seeding threads from text, as the demo does).
pub fn anchor_for_quote(doc: &Doc, quote: &str) -> Option<Anchor> {
    use yrs::updates::encoder::Encode;
    use yrs::{Assoc, IndexedSequence};
    let txn = doc.transact();
    let fragment = txn.get_xml_fragment(FRAGMENT)?;
    let mut pending = xml_children(&txn, &fragment);
    while !pending.is_empty() {
        let node = pending.remove(0);
        match node {
            XmlOut::Text(text) => {
                let plain = TextRef::from(branch_of(&text)).get_string(&txn);
                if let Some(at) = plain.find(quote) {
                    let from = plain[..at].encode_utf16().count() as u32;
                    let to = from + quote.encode_utf16().count() as u32;
                    let start = text.sticky_index(&txn, from, Assoc::After)?;
                    let end = position_after(&txn, &text, to)?;
                    return Some(Anchor {
                        start: start.encode_v1(),
                        end: end.encode_v1(),
                    });
                }
            }
            XmlOut::Element(element) => {
                let mut children = xml_children(&txn, &element);
                children.append(&mut pending);
                pending = children;
            }
            XmlOut::Fragment(_) => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use yrs::updates::decoder::Decode;
    use yrs::{Text, Update, WriteTxn, XmlFragment};

    use super::*;
    use crate::documents::content::{new_doc, update_from_markdown};

    fn draft(markdown: &str) -> Doc {
        let doc = new_doc();
        let update =
            Update::decode_v1(&update_from_markdown(markdown).expect("import")).expect("markdown");
        doc.transact_mut().apply_update(update).expect("apply");
        doc
    }

    /// Types `typed` over `[at, at + len)` of the first paragraph's text as ProseMirror
    /// does: the first letter (shared with the old text) stays, the rest is deleted, and
    /// the rest of the typing goes in after that letter.
    fn type_over(doc: &Doc, at: u32, len: u32, typed: &str) {
        let mut txn = doc.transact_mut();
        let fragment = txn.get_or_insert_xml_fragment(FRAGMENT);
        let Some(XmlOut::Element(paragraph)) = fragment.get(&txn, 0) else {
            panic!("no paragraph");
        };
        let Some(XmlOut::Text(text)) = paragraph.get(&txn, 0) else {
            panic!("no text");
        };
        text.remove_range(&mut txn, at + 1, len - 1);
        text.insert(&mut txn, at + 1, &typed[1..]);
    }

    #[test]
    fn an_anchor_at_the_end_of_a_paragraph_keeps_words_typed_over_its_end() {
        let doc = draft("Förebyggande arbete i skolan.\n");
        let anchor = anchor_for_quote(&doc, "arbete i skolan.").expect("anchor");
        assert_eq!(resolve(&doc, &anchor).quote, "arbete i skolan.");
        // "skolan." starts at UTF-16 index 22 ("Förebyggande arbete i " is 22 units).
        type_over(&doc, 22, 7, "skolorna.");
        assert_eq!(resolve(&doc, &anchor).quote, "arbete i skolorna.");
    }

    #[test]
    fn a_new_anchor_is_stored_with_its_end_on_the_next_character() {
        let doc = draft("Förebyggande arbete i skolan är viktigt.\n");
        // As a client with the old association sends it: the end on "n" of "skolan".
        let sent = {
            use yrs::updates::encoder::Encode;
            use yrs::{Assoc, IndexedSequence};
            let txn = doc.transact();
            let fragment = txn.get_xml_fragment(FRAGMENT).expect("fragment");
            let Some(XmlOut::Element(paragraph)) = fragment.get(&txn, 0) else {
                panic!("no paragraph");
            };
            let Some(XmlOut::Text(text)) = paragraph.get(&txn, 0) else {
                panic!("no text");
            };
            let start = text.sticky_index(&txn, 13, Assoc::After).expect("start");
            let end = text.sticky_index(&txn, 28, Assoc::Before).expect("end");
            Anchor {
                start: start.encode_v1(),
                end: end.encode_v1(),
            }
        };
        let (resolved, stored) = resolve_new(&doc, &sent).expect("resolves");
        assert_eq!(resolved.quote, "arbete i skolan");
        type_over(&doc, 22, 6, "skolorna");
        assert_eq!(resolve(&doc, &stored).quote, "arbete i skolorna");
        // What the client sent would have shrunk to a fragment of the word.
        assert_eq!(resolve(&doc, &sent).quote, "arbete i s");
    }
}
