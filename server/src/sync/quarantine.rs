//! Stored updates that make yrs panic are set aside, so that no single update can take
//! a document down.
//!
//! The room stores an update before it applies it (the `Doc` only ever holds what is
//! durable). So if applying a stored update panicked inside yrs, the room's task would
//! end, and every later load would replay the same entry and panic again: one editor
//! could make a document unopenable for good. `protocol::decode_update` refuses every
//! update shape fuzzing has found to do that; this module is the net for the ones not
//! yet found. Every application of stored or relayed bytes to a room's `Doc` runs under
//! [`guarded`]; when it panics, the room rebuilds its `Doc` from the database with
//! [`rebuild`], which applies entries one at a time and names those that panic, and the
//! journal moves them out of the log into the `quarantined_updates` table (kept for
//! the operator; nothing is deleted).
//!
//! A panic inside yrs while a transaction is open drops that transaction while
//! unwinding, and dropping it commits. Should the commit panic as well, the process
//! aborts: that is beyond what `catch_unwind` can catch, and the reason the decode-time
//! checks stay the first line.

use std::panic::{AssertUnwindSafe, catch_unwind};

use yrs::Doc;

use crate::storage::snapshot::{Encoding, Snapshot};
use crate::sync::crdt;
use crate::sync::nesting::{self, ScanError};

/// Applying updates panicked inside yrs; the `Doc` it happened on is not to be trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("yrs panicked applying an update: {0}")]
pub struct Panicked(pub String);

/// Runs `apply`, turning a panic into [`Panicked`].
pub fn guarded<T>(apply: impl FnOnce() -> T) -> Result<T, Panicked> {
    catch_unwind(AssertUnwindSafe(apply)).map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned());
        Panicked(message)
    })
}

/// A `Doc` rebuilt from what is stored, and the log entries left out of it.
pub struct Rebuilt {
    pub doc: Doc,
    /// Indexes (into the `updates` given to [`rebuild`]) of the entries whose decoding
    /// or application panicked.
    pub refused: Vec<usize>,
}

/// Why a document could not be rebuilt at all.
#[derive(Debug, thiserror::Error)]
pub enum RebuildError {
    /// The snapshot itself panics: leaving it out would leave out the document.
    #[error("the snapshot cannot be applied: {0}")]
    Snapshot(Panicked),
    /// The snapshot fails the scan that keeps yrs's decoder from overflowing the stack.
    #[error("the snapshot is refused: {0}")]
    SnapshotRefused(ScanError),
}

/// Builds a `Doc` from a snapshot and the log after it. The usual case is one
/// transaction for everything; only if that panics are the entries applied one by one,
/// from a fresh `Doc` each time one is found to panic, so every entry kept was applied
/// to a `Doc` no panic had touched. An entry that fails to decode or apply without
/// panicking is logged and skipped, as yrs leaves the `Doc` intact then.
///
/// Entries the server would refuse at the door today (`sync::nesting`: values nested
/// deep enough to overflow the stack while decoding, and anything that does not parse)
/// are left out and named first, without being decoded: stored by an older server, they
/// would abort the process on every load rather than panic.
pub fn rebuild(snapshot: Option<&Snapshot>, updates: &[&[u8]]) -> Result<Rebuilt, RebuildError> {
    if let Some(Snapshot {
        encoding: Encoding::V1,
        data,
    }) = snapshot
    {
        nesting::scan_update_v1(data).map_err(RebuildError::SnapshotRefused)?;
    }
    let mut refused: Vec<usize> = (0..updates.len())
        .filter(|&i| nesting::scan_update_v1(updates[i]).is_err())
        .collect();
    let kept = || {
        updates
            .iter()
            .enumerate()
            .filter(|(i, _)| !refused.contains(i))
            .map(|(_, bytes)| *bytes)
    };
    let whole = guarded(|| {
        let doc = crdt::new_doc();
        crdt::apply_stored(&doc, snapshot, kept());
        doc
    });
    if let Ok(doc) = whole {
        return Ok(Rebuilt { doc, refused });
    }
    'fresh: loop {
        let doc = crdt::new_doc();
        guarded(|| crdt::apply_stored(&doc, snapshot, [])).map_err(RebuildError::Snapshot)?;
        for (index, bytes) in updates.iter().enumerate() {
            if refused.contains(&index) {
                continue;
            }
            if guarded(|| crdt::apply_stored(&doc, None, [*bytes])).is_err() {
                refused.push(index);
                continue 'fresh;
            }
        }
        return Ok(Rebuilt { doc, refused });
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use yrs::updates::decoder::Decode;
    use yrs::{GetString, ReadTxn, StateVector, Text, Transact, Update};

    use super::*;

    /// An update that makes yrs panic: found by fuzzing (see `fuzzing.rs`), refused at
    /// decode since, but exactly what an older server could have stored.
    fn panicking_update() -> Vec<u8> {
        let path =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/open/update-integrate-panic");
        std::fs::read(&path).expect("the input")
    }

    /// Another, found later: a client section of skips that makes yrs subtract past
    /// zero while integrating (`BlockStore::push_block`). It passes the decode checks of
    /// a release build; this is the net that catches it.
    fn skip_panicking_update() -> Vec<u8> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/open/update-skip-panic");
        std::fs::read(&path).expect("the input")
    }

    fn typed(client: u64, text: &str) -> Vec<u8> {
        let doc = Doc::with_client_id(client);
        doc.get_or_insert_text("t")
            .insert(&mut doc.transact_mut(), 0, text);
        doc.transact()
            .encode_state_as_update_v1(&StateVector::default())
    }

    fn text_of(doc: &Doc) -> String {
        doc.get_or_insert_text("t").get_string(&doc.transact())
    }

    #[test]
    fn the_input_does_panic_yrs_unguarded() {
        // Without this the tests below would prove nothing.
        let bad = panicking_update();
        // A debug build panics decoding it (a debug assertion), a release build applying it.
        let outcome = guarded(|| {
            let doc = crdt::new_doc();
            let update = Update::decode_v1(&bad).map_err(|e| e.to_string())?;
            doc.transact_mut()
                .apply_update(update)
                .map_err(|e| e.to_string())
        });
        assert!(
            matches!(outcome, Err(Panicked(_))),
            "decoding and applying it no longer panics: {outcome:?}"
        );
    }

    #[test]
    fn a_panicking_entry_is_left_out_and_named() {
        let first = typed(1, "Förankra ");
        let bad = panicking_update();
        let last = typed(2, "trygghet");
        let rebuilt = rebuild(None, &[&first, &bad, &last]).expect("rebuilds");
        assert_eq!(rebuilt.refused, vec![1]);
        let text = text_of(&rebuilt.doc);
        assert!(
            text.contains("Förankra") && text.contains("trygghet"),
            "{text}"
        );
    }

    #[test]
    fn two_panicking_entries_are_both_left_out() {
        let rebuilt = rebuild(
            None,
            &[
                &skip_panicking_update(),
                &typed(1, "kvar"),
                &panicking_update(),
            ],
        )
        .expect("rebuilds");
        assert_eq!(rebuilt.refused, vec![0, 2]);
        assert_eq!(text_of(&rebuilt.doc), "kvar");
    }

    #[test]
    fn a_log_without_a_panicking_entry_is_rebuilt_in_one_pass() {
        let rebuilt = rebuild(None, &[&typed(1, "ett"), &typed(2, "två")]).expect("rebuilds");
        assert!(rebuilt.refused.is_empty());
        assert_eq!(text_of(&rebuilt.doc).len(), "etttvå".len());
    }

    #[test]
    fn a_panicking_snapshot_is_an_error_not_an_empty_document() {
        let snapshot = Snapshot {
            encoding: crate::storage::snapshot::Encoding::V1,
            data: panicking_update(),
        };
        assert!(matches!(
            rebuild(Some(&snapshot), &[&typed(1, "x")]),
            Err(RebuildError::Snapshot(_) | RebuildError::SnapshotRefused(_))
        ));
    }

    #[test]
    fn guarded_passes_values_through_and_names_the_panic() {
        assert_eq!(guarded(|| 7), Ok(7));
        let err = guarded(|| -> u8 { panic!("boom {}", 1) }).unwrap_err();
        assert_eq!(err, Panicked("boom 1".into()));
    }
}
