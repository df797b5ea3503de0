//! Suggestions across paragraphs (issue 16): deleting or replacing text that runs from
//! one paragraph into a later one, as Word's track changes allow.
//!
//! Such a suggestion's anchor starts in one block's text and ends in a later block's.
//! Accepting it does what an editor's own edit does: the range's text goes, the first
//! and last paragraphs are joined (the first keeps its kind, the last one's remaining
//! text follows the proposal with its formatting marks), and the paragraphs between are
//! removed. The whole change is one Yjs update made on a scratch copy, so it reaches
//! every client through the room like any edit.
//!
//! What may be spanned is kept to what that join means without surprise:
//! - only top-level `paragraph` and `heading` blocks: a range that crosses a table, a
//!   list, a quote or any other structure is refused (joining a paragraph with a table
//!   cell or a list item has no single obvious result, and silently flattening it would
//!   lose structure the owner never saw go);
//! - the first and last block hold only their text (no hard break or other inline
//!   element between texts), so "the rest of the last paragraph" is one text;
//! - at most [`MAX_SPAN_BLOCKS`] blocks and [`MAX_SPAN_UNITS`] characters: a suggestion
//!   is a reviewable change, and the inline drawing of a whole chapter struck through
//!   helps nobody (a rewrite that big is an editor's job, or a comment's).
//!
//! The conflict rule needs nothing new: the quote of a range over several blocks is
//! their texts joined by "\n" (`anchor::Layout`), so any change inside any part of the
//! range makes the quote differ from the original and accepting answers
//! `anchor_changed` with both texts.
//!
//! A proposal may also break paragraphs: each "\n" in it starts a new `paragraph` on
//! accept (Enter while suggesting), at most [`MAX_SPAN_BLOCKS`] lines. The same join
//! makes it, so the text after the range follows the last line with its marks.
//!
//! Attribution: the last paragraph's remaining text is moved into the first, which in
//! Yjs is a new insertion. It is written, like the proposal, under the suggesting user
//! and organisation (one update has one writer), exactly as joining two paragraphs by
//! hand in the editor credits the person who joined them.

use yrs::types::Attrs;
use yrs::types::xml::XmlOut;
use yrs::{
    Any, Array, Out, ReadTxn, Text, TransactionMut, WriteTxn, XmlElementPrelim, XmlFragment,
    XmlTextPrelim, XmlTextRef,
};

use crate::documents::content::FRAGMENT;

/// Most top-level blocks one suggestion may touch (first and last included).
pub const MAX_SPAN_BLOCKS: usize = 10;

/// Most characters (UTF-16 units, as Yjs and the editor count; paragraph breaks count
/// one each) a suggestion across paragraphs may replace.
pub const MAX_SPAN_UNITS: usize = 5_000;

/// The block kinds a suggestion may run across.
const SPANNABLE: [&str; 2] = ["paragraph", "heading"];

/// Why a range over several blocks cannot be a suggestion.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SpanError {
    #[error(
        "a suggestion across paragraphs may only run over paragraphs and headings, not into a table, a list or another structure"
    )]
    Structure,
    #[error("the suggestion's end lies before its start")]
    Reversed,
    #[error("a suggestion may span at most {MAX_SPAN_BLOCKS} paragraphs")]
    TooManyBlocks,
    #[error(
        "a suggestion across paragraphs may replace at most {MAX_SPAN_UNITS} characters; comment on the passage instead"
    )]
    TooLong,
    #[error(
        "the first or last paragraph holds a line break or other inline element; suggest within the paragraph instead"
    )]
    InlineContent,
    #[error("a suggestion may add at most {} paragraph breaks", MAX_SPAN_BLOCKS - 1)]
    TooManyBreaks,
}

/// Where a range over several blocks starts and ends, in the document as it is now.
#[derive(Debug, Clone)]
pub struct Span {
    /// The first block's text and the index of the range's start in it.
    pub first: XmlTextRef,
    pub from: u32,
    /// The last block's text and the index of the range's end in it.
    pub last: XmlTextRef,
    pub to: u32,
    /// The blocks' places among the fragment's entries (raw array indices).
    pub first_block: u32,
    pub last_block: u32,
}

/// Checks that `[from in first, to in last)` runs over top-level paragraphs and headings
/// within the limits, and says where they are. `quote_units` is the length of the text
/// the range covers now.
pub fn locate<T: ReadTxn>(
    txn: &T,
    (first, from): (XmlTextRef, u32),
    (last, to): (XmlTextRef, u32),
    quote_units: usize,
) -> Result<Span, SpanError> {
    let first_block = top_level_block(txn, &first)?;
    let last_block = top_level_block(txn, &last)?;
    if last_block < first_block {
        return Err(SpanError::Reversed);
    }
    if last_block == first_block {
        // Two texts in one paragraph: an inline element lies between them.
        return Err(SpanError::InlineContent);
    }
    if (last_block - first_block) as usize + 1 > MAX_SPAN_BLOCKS {
        return Err(SpanError::TooManyBlocks);
    }
    if quote_units > MAX_SPAN_UNITS {
        return Err(SpanError::TooLong);
    }
    let fragment = txn.get_xml_fragment(FRAGMENT).ok_or(SpanError::Structure)?;
    for index in first_block..=last_block {
        match fragment.get(txn, index) {
            Some(XmlOut::Element(block)) if SPANNABLE.contains(&block.tag().as_ref()) => {
                let ends = index == first_block || index == last_block;
                if ends && block.len(txn) != 1 {
                    return Err(SpanError::InlineContent);
                }
            }
            _ => return Err(SpanError::Structure),
        }
    }
    Ok(Span {
        first,
        from,
        last,
        to,
        first_block,
        last_block,
    })
}

/// The index among the fragment's entries of the top-level block whose text `text` is;
/// a text anywhere else (a list item, a table cell) is a structure a span may not cross.
fn top_level_block<T: ReadTxn>(txn: &T, text: &XmlTextRef) -> Result<u32, SpanError> {
    use yrs::types::xml::Xml;
    let Some(XmlOut::Element(block)) = text.parent() else {
        return Err(SpanError::Structure);
    };
    // Top-level when it is one of the fragment's own entries (the root's type may read as
    // undefined in a document loaded from updates, so its parent is not asked).
    let fragment = txn.get_xml_fragment(FRAGMENT).ok_or(SpanError::Structure)?;
    let target = yrs::branch::BranchPtr::from(AsRef::<yrs::branch::Branch>::as_ref(&block)).id();
    AsRef::<yrs::ArrayRef>::as_ref(&fragment)
        .iter(txn)
        .position(|entry| match entry {
            Out::YXmlElement(element) => {
                yrs::branch::BranchPtr::from(AsRef::<yrs::branch::Branch>::as_ref(&element)).id()
                    == target
            }
            _ => false,
        })
        .map(|at| at as u32)
        .ok_or(SpanError::Structure)
}

/// Makes the change on `txn`: the range's text removed, `replacement` put at its start,
/// the last block's remaining text (with its marks) appended after it, and the blocks
/// after the first up to the last removed. Each "\n" in `replacement` is a paragraph
/// break: the text after it goes into a new `paragraph` after the first block, and the
/// remaining text follows the last line. Returns the text and index where the
/// replacement ends.
pub fn join(
    txn: &mut TransactionMut,
    span: &Span,
    replacement: &str,
) -> Result<(XmlTextRef, u32), SpanError> {
    let lines: Vec<&str> = replacement.split('\n').collect();
    if lines.len() > MAX_SPAN_BLOCKS {
        return Err(SpanError::TooManyBreaks);
    }
    let rest = remaining(txn, &span.last, span.to)?;
    let first_len = span.first.len(txn);
    if span.from > first_len {
        return Err(SpanError::Structure);
    }
    span.first
        .remove_range(txn, span.from, first_len - span.from);
    let fragment = txn.get_or_insert_xml_fragment(FRAGMENT);
    if span.last_block > span.first_block {
        fragment.remove_range(
            txn,
            span.first_block + 1,
            span.last_block - span.first_block,
        );
    }
    let mut text = span.first.clone();
    let mut at = span.from;
    for (n, line) in lines.iter().enumerate() {
        if n > 0 {
            let paragraph = fragment.insert(
                txn,
                span.first_block + n as u32,
                XmlElementPrelim::empty("paragraph"),
            );
            text = paragraph.insert(txn, 0, XmlTextPrelim::new(""));
            at = 0;
        }
        if !line.is_empty() {
            text.insert(txn, at, line);
            at += line.encode_utf16().count() as u32;
        }
    }
    let end_of_replacement = (text.clone(), at);
    for (chunk, attributes) in rest {
        let units = chunk.encode_utf16().count() as u32;
        // Explicit attributes (none for plain text) so the moved words keep exactly their
        // own marks and take none from the words they now follow.
        text.insert_with_attributes(txn, at, &chunk, attributes);
        at += units;
    }
    Ok(end_of_replacement)
}

/// The span of a range within one text whose replacement breaks it into paragraphs: the
/// text must be a top-level paragraph's or heading's only content, as for a range across
/// paragraphs.
pub fn within<T: ReadTxn>(
    txn: &T,
    text: XmlTextRef,
    from: u32,
    to: u32,
) -> Result<Span, SpanError> {
    let block = top_level_block(txn, &text)?;
    let fragment = txn.get_xml_fragment(FRAGMENT).ok_or(SpanError::Structure)?;
    match fragment.get(txn, block) {
        Some(XmlOut::Element(element)) if SPANNABLE.contains(&element.tag().as_ref()) => {
            if element.len(txn) != 1 {
                return Err(SpanError::InlineContent);
            }
        }
        _ => return Err(SpanError::Structure),
    }
    Ok(Span {
        first: text.clone(),
        from,
        last: text,
        to,
        first_block: block,
        last_block: block,
    })
}

/// The text of `text` from `from` on, as chunks with their formatting attributes.
fn remaining<T: ReadTxn>(
    txn: &T,
    text: &XmlTextRef,
    from: u32,
) -> Result<Vec<(String, Attrs)>, SpanError> {
    let mut skip = from as usize;
    let mut rest = Vec::new();
    for diff in text.diff(txn, |_| ()) {
        let Out::Any(Any::String(chunk)) = diff.insert else {
            return Err(SpanError::InlineContent);
        };
        let units: Vec<u16> = chunk.encode_utf16().collect();
        if skip >= units.len() {
            skip -= units.len();
            continue;
        }
        let kept = String::from_utf16_lossy(&units[skip..]);
        skip = 0;
        rest.push((kept, diff.attributes.map(|a| *a).unwrap_or_default()));
    }
    Ok(rest)
}
