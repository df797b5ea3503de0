//! The whole document, encoded once for every client that holds nothing of it.
//!
//! A fresh page load, a re-sync after a long absence and the storm benchmark's clients
//! send a sync step 1 with an empty state vector, and the answer is the whole document.
//! Encoding an 8-million-character document took tens of milliseconds of a core per
//! client, on the runtime's threads: 8 clients re-syncing it moved a small document's
//! edit latency p99 from 1.3 to 23.9 ms (docs/BENCHMARKS.md, storm). So the answer is
//! kept until the document changes (any write transaction on it, watched through yrs'
//! after-transaction hook), and only for documents large enough for that to matter: a
//! small one costs less to encode again than to keep in memory beside every open room.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use yrs::{Doc, ReadTxn, StateVector, Transact};

use crate::sync::protocol;

/// Answers at least this large are kept.
const KEEP_FROM_BYTES: usize = 64 * 1024;

/// The key of the room's observer on its `Doc`.
const OBSERVER: &str = "forankra-full-state";

/// The kept answer to an empty sync step 1, and whether the `Doc` changed since.
pub(super) struct FullState {
    kept: Option<Bytes>,
    /// Set by every write transaction on the `Doc` (`None`: the hook could not be set,
    /// so nothing is kept).
    changed: Option<Arc<AtomicBool>>,
}

impl FullState {
    /// Starts watching `doc` for changes.
    pub(super) fn watch(doc: &Doc) -> Self {
        let changed = Arc::new(AtomicBool::new(true));
        let flag = Arc::clone(&changed);
        let hooked = doc.observe_after_transaction(OBSERVER, move |_| {
            flag.store(true, Ordering::Release);
        });
        if let Err(error) = &hooked {
            tracing::warn!(%error, "watching the document for changes failed; full syncs are encoded each time");
        }
        Self {
            kept: None,
            changed: hooked.ok().map(|()| changed),
        }
    }

    /// The sync step 2 holding all of `doc`, kept from the last time if `doc` has not
    /// changed since.
    pub(super) fn step2(&mut self, doc: &Doc) -> Bytes {
        let unchanged = self
            .changed
            .as_ref()
            .is_some_and(|c| !c.swap(false, Ordering::AcqRel));
        if let (true, Some(kept)) = (unchanged, &self.kept) {
            return kept.clone();
        }
        let state = doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let frame = protocol::sync_step2(state);
        let keep = self.changed.is_some() && frame.len() >= KEEP_FROM_BYTES;
        self.kept = keep.then(|| frame.clone());
        frame
    }
}

#[cfg(test)]
mod tests {
    use yrs::{GetString, Text, Update, updates::decoder::Decode};

    use super::*;

    fn text_of(frame: &Bytes) -> String {
        let doc = Doc::new();
        let messages = protocol::parse_frame(frame, std::time::Instant::now()).expect("parses");
        for message in messages {
            if let protocol::Inbound::Update(incoming) = message {
                doc.transact_mut()
                    .apply_update(incoming.update)
                    .expect("applies");
            }
        }
        doc.get_or_insert_text("t").get_string(&doc.transact())
    }

    #[test]
    fn a_large_document_is_encoded_once_until_it_changes() {
        let doc = Doc::new();
        let text = doc.get_or_insert_text("t");
        text.insert(&mut doc.transact_mut(), 0, &"x".repeat(100_000));
        let mut full = FullState::watch(&doc);
        let first = full.step2(&doc);
        let again = full.step2(&doc);
        assert_eq!(
            first.as_ptr(),
            again.as_ptr(),
            "the kept frame, not a new one"
        );
        assert_eq!(text_of(&again).len(), 100_000);

        // A deletion changes no state vector, and still counts as a change.
        text.remove_range(&mut doc.transact_mut(), 0, 10);
        let after = full.step2(&doc);
        assert_ne!(first.as_ptr(), after.as_ptr());
        assert_eq!(text_of(&after).len(), 99_990);

        // So does an update applied from elsewhere.
        let other = Doc::new();
        other
            .get_or_insert_text("t")
            .insert(&mut other.transact_mut(), 0, "ny ");
        let update = other
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        doc.transact_mut()
            .apply_update(Update::decode_v1(&update).expect("decodes"))
            .expect("applies");
        assert_eq!(text_of(&full.step2(&doc)).len(), 99_993);
    }

    #[test]
    fn a_small_document_is_not_kept() {
        let doc = Doc::new();
        doc.get_or_insert_text("t")
            .insert(&mut doc.transact_mut(), 0, "kort");
        let mut full = FullState::watch(&doc);
        assert_eq!(text_of(&full.step2(&doc)), "kort");
        assert!(full.kept.is_none());
    }
}
