//! The client's document as Tiptap shapes it (paragraph elements with text in the
//! `"default"` XmlFragment), presence, and comment anchors: what a test does with a
//! document besides syncing it.

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use yrs::sync::{AwarenessUpdate, Message, SyncMessage};
use yrs::types::xml::{XmlIn, XmlOut};
use yrs::updates::encoder::Encode;
use yrs::{
    GetString, ReadTxn, Transact, TransactionMut, XmlElementPrelim, XmlFragment, XmlFragmentRef,
    XmlTextPrelim,
};

use super::YClient;

/// The XmlFragment Tiptap's Collaboration extension edits.
const FRAGMENT: &str = "default";

impl YClient {
    /// Makes a local change and sends it as one update; returns the update.
    pub async fn edit(
        &mut self,
        change: impl FnOnce(&mut TransactionMut, &XmlFragmentRef),
    ) -> Result<Vec<u8>> {
        let frag = self.doc.get_or_insert_xml_fragment(FRAGMENT);
        let update = {
            let mut txn = self.doc.transact_mut();
            change(&mut txn, &frag);
            txn.encode_update_v1()
        };
        self.send_message(Message::Sync(SyncMessage::Update(update.clone())))
            .await?;
        Ok(update)
    }

    /// Appends a paragraph locally only, as an editor does while offline.
    pub fn append_paragraph_offline(&mut self, text: &str) {
        let frag = self.doc.get_or_insert_xml_fragment(FRAGMENT);
        let mut txn = self.doc.transact_mut();
        let len = frag.len(&txn);
        let text = XmlIn::from(XmlTextPrelim::new(text));
        frag.insert(&mut txn, len, XmlElementPrelim::new("paragraph", [text]));
    }

    /// Appends a paragraph, as Tiptap would.
    pub async fn append_paragraph(&mut self, text: &str) -> Result<Vec<u8>> {
        let text = text.to_owned();
        self.edit(move |txn, frag| {
            let len = frag.len(txn);
            frag.insert(
                txn,
                len,
                XmlElementPrelim::new("paragraph", [XmlIn::from(XmlTextPrelim::new(text))]),
            );
        })
        .await
    }

    /// The text of each top-level block.
    pub fn paragraphs(&self) -> Vec<String> {
        let txn = self.doc.transact();
        let Some(frag) = txn.get_xml_fragment(FRAGMENT) else {
            return Vec::new();
        };
        frag.children(&txn)
            .map(|child| match child {
                XmlOut::Element(el) => el
                    .children(&txn)
                    .filter_map(|c| match c {
                        XmlOut::Text(t) => Some(t.get_string(&txn)),
                        _ => None,
                    })
                    .collect::<String>(),
                XmlOut::Text(t) => t.get_string(&txn),
                XmlOut::Fragment(_) => String::new(),
            })
            .collect()
    }

    /// Sends our presence.
    pub async fn set_presence(&mut self, clock: u32, json: &str) -> Result<()> {
        let mut clients = HashMap::new();
        clients.insert(
            self.doc.client_id(),
            yrs::sync::awareness::AwarenessUpdateEntry {
                clock,
                json: json.into(),
            },
        );
        self.send_message(Message::Awareness(AwarenessUpdate { clients }))
            .await
            .map(|_| ())
    }

    /// A Yjs anchor (base64 relative positions) around the first occurrence of `word`.
    pub fn anchor_for(&self, word: &str) -> Result<Value> {
        use base64::Engine;
        use yrs::{Assoc, IndexedSequence};
        let txn = self.doc.transact();
        let frag = txn.get_xml_fragment(FRAGMENT).context("no content")?;
        for block in frag.children(&txn) {
            let XmlOut::Element(el) = block else { continue };
            for child in el.children(&txn) {
                let XmlOut::Text(text) = child else { continue };
                let plain = text.get_string(&txn);
                if let Some(byte_index) = plain.find(word) {
                    let index = plain[..byte_index].encode_utf16().count() as u32;
                    let len = word.encode_utf16().count() as u32;
                    let start = text
                        .sticky_index(&txn, index, Assoc::After)
                        .context("start")?;
                    let end = text
                        .sticky_index(&txn, index + len, Assoc::Before)
                        .context("end")?;
                    let b64 = base64::engine::general_purpose::STANDARD;
                    return Ok(
                        json!({ "start": b64.encode(start.encode_v1()), "end": b64.encode(end.encode_v1()) }),
                    );
                }
            }
        }
        bail!("{word} not found")
    }
}
