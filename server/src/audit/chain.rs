//! The hash chain that makes the audit trail tamper-evident.
//!
//! Each entry's hash covers the previous entry's hash and every stored field of its own,
//! so editing a row, deleting one or swapping two breaks every hash from there on. The
//! first entry chains from a hash of the document id, so rows cannot be moved between
//! documents either. This detects tampering by someone with write access to the
//! database; it does not prevent a rewrite of the whole chain (for that, export it).

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Entry;

/// What the first entry of a document's trail chains from.
pub fn genesis(doc_id: &str) -> String {
    hex::encode(Sha256::digest(format!("forankra-audit:{doc_id}")))
}

/// The hash of `entry` given the hash it chains from (its `prev_hash`).
pub fn hash(doc_id: &str, entry: &Entry) -> String {
    let mut h = Sha256::new();
    for field in [
        doc_id,
        &entry.prev_hash,
        &entry.seq.to_string(),
        &entry.at.to_string(),
        &entry.action,
        entry.actor_id.as_deref().unwrap_or(""),
        entry.actor_name.as_deref().unwrap_or(""),
        entry.org_id.as_deref().unwrap_or(""),
        &entry.detail,
    ] {
        // Length-prefixed, so no two different field lists hash alike.
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    hex::encode(h.finalize())
}

/// The outcome of checking a whole trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// True when every entry chains correctly from the first.
    pub valid: bool,
    /// How many entries were checked.
    pub entries: usize,
    /// The first entry whose hash, link or number is wrong.
    pub first_broken: Option<i64>,
}

/// Walks the trail in order and reports the first entry that does not chain.
pub fn verify(doc_id: &str, entries: &[Entry]) -> Verification {
    let mut prev = genesis(doc_id);
    let first_broken = entries.iter().enumerate().find_map(|(i, entry)| {
        let expected_seq = i as i64 + 1;
        let ok = entry.seq == expected_seq
            && entry.prev_hash == prev
            && entry.hash == hash(doc_id, entry);
        prev.clone_from(&entry.hash);
        (!ok).then_some(entry.seq)
    });
    Verification {
        valid: first_broken.is_none(),
        entries: entries.len(),
        first_broken,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(doc: &str, n: i64) -> Vec<Entry> {
        let mut prev = genesis(doc);
        (1..=n)
            .map(|seq| {
                let mut e = Entry {
                    seq,
                    at: 1000 + seq,
                    action: "thread_opened".into(),
                    actor_id: Some("u".into()),
                    actor_name: Some("U".into()),
                    org_id: Some("o".into()),
                    detail: format!("{{\"n\":{seq}}}"),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                e.hash = hash(doc, &e);
                prev.clone_from(&e.hash);
                e
            })
            .collect()
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let v = verify("d", &chain("d", 5));
        assert_eq!((v.valid, v.entries, v.first_broken), (true, 5, None));
    }

    #[test]
    fn an_edited_detail_breaks_the_chain_at_that_entry() {
        let mut entries = chain("d", 5);
        entries[2].detail = "{\"n\":99}".into();
        assert_eq!(verify("d", &entries).first_broken, Some(3));
    }

    #[test]
    fn a_deleted_entry_is_noticed() {
        let mut entries = chain("d", 5);
        entries.remove(1);
        assert_eq!(verify("d", &entries).first_broken, Some(3));
    }

    #[test]
    fn a_trail_moved_to_another_document_does_not_verify() {
        assert!(!verify("other", &chain("d", 2)).valid);
    }
}
