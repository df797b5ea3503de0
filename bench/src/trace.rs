//! The B4 editing trace (`automerge-paper.json.gz`): every keystroke of writing a paper,
//! replayed into a yrs document one patch per transaction, so each patch becomes one
//! update as an editor would send it.
//!
//! The format (shared/data/editing-traces-README.md): `{ startContent: "", endContent,
//! txns: [{ patches: [[position, deleted, inserted], …] }] }`, positions in Unicode code
//! points, patches in a transaction independent (descending positions). The replay goes
//! into one `paragraph` of the "default" XmlFragment, the shape our documents have, and
//! must end with `endContent`: that is the check that the replay is right.

use std::io::Read as _;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use yrs::types::xml::XmlOut;
use yrs::{
    Doc, GetString, ReadTxn, Text, Transact, XmlElementPrelim, XmlFragment, XmlTextPrelim,
    XmlTextRef,
};

use crate::client::new_doc;
use crate::typing::FRAGMENT;

/// One patch: at `position` delete `deleted` characters, then insert `inserted`.
#[derive(Debug, Deserialize)]
pub struct Patch(pub u32, pub u32, pub String);

#[derive(Debug, Deserialize)]
struct Txn {
    patches: Vec<Patch>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TraceFile {
    start_content: String,
    end_content: String,
    txns: Vec<Txn>,
}

/// A trace read from disk.
pub struct Trace {
    pub patches: Vec<Patch>,
    pub end_content: String,
}

/// Reads a gzipped trace.
pub fn load(path: &Path) -> Result<Trace> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut json = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut json)
        .with_context(|| format!("decompressing {}", path.display()))?;
    let trace: TraceFile = serde_json::from_str(&json).context("parsing the trace")?;
    if !trace.start_content.is_empty() {
        bail!("the trace does not start from an empty document");
    }
    // Positions are code points; the `Doc` counts UTF-16 units. They agree in the BMP.
    if trace.end_content.chars().any(|c| c.len_utf16() > 1) {
        bail!("the trace has characters outside the BMP; positions would need converting");
    }
    Ok(Trace {
        patches: trace.txns.into_iter().flat_map(|t| t.patches).collect(),
        end_content: trace.end_content,
    })
}

/// The trace as updates, and the document they built.
pub struct Replayed {
    /// One v1 update per patch, in order.
    pub updates: Vec<Vec<u8>>,
    pub doc: Doc,
}

/// Replays every patch into a paragraph of a fresh document, one transaction (so one
/// update) per patch; checks the result against `endContent`.
pub fn replay(trace: &Trace) -> Result<Replayed> {
    let replayed = replay_unchecked(trace)?;
    check(&replayed.doc, &trace.end_content).context("the replay")?;
    Ok(replayed)
}

/// [`replay`] without the final check, for a prefix of the trace.
pub fn replay_unchecked(trace: &Trace) -> Result<Replayed> {
    let doc = new_doc();
    let fragment = doc.get_or_insert_xml_fragment(FRAGMENT);
    let mut updates = Vec::with_capacity(trace.patches.len());
    let mut text: Option<XmlTextRef> = None;
    for Patch(position, deleted, inserted) in &trace.patches {
        let mut txn = doc.transact_mut();
        match &text {
            Some(t) => {
                if *deleted > 0 {
                    t.remove_range(&mut txn, *position, *deleted);
                }
                if !inserted.is_empty() {
                    t.insert(&mut txn, *position, inserted);
                }
            }
            None => {
                if *position != 0 || *deleted != 0 {
                    bail!("the trace's first patch does not insert at 0");
                }
                let paragraph = fragment.insert(&mut txn, 0, XmlElementPrelim::empty("paragraph"));
                text = Some(paragraph.insert(&mut txn, 0, XmlTextPrelim::new(inserted.as_str())));
            }
        }
        updates.push(txn.encode_update_v1());
    }
    Ok(Replayed { updates, doc })
}

/// The text of the first paragraph of the fragment, if there is one.
pub fn paragraph_text(doc: &Doc) -> Option<String> {
    let txn = doc.transact();
    let fragment = txn.get_xml_fragment(FRAGMENT)?;
    let XmlOut::Element(paragraph) = fragment.get(&txn, 0)? else {
        return None;
    };
    let XmlOut::Text(text) = paragraph.get(&txn, 0)? else {
        return None;
    };
    Some(text.get_string(&txn))
}

/// Checks that `doc`'s paragraph holds `expected`.
pub fn check(doc: &Doc, expected: &str) -> Result<()> {
    match paragraph_text(doc) {
        Some(text) if text == expected => Ok(()),
        Some(text) => bail!(
            "the text differs from endContent: {} characters against {}",
            text.chars().count(),
            expected.chars().count()
        ),
        None => bail!("the document has no paragraph"),
    }
}
