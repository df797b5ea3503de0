//! The hash chain that makes the audit trail tamper-evident.
//!
//! Each entry's hash covers the previous entry's hash and every stored field of its own,
//! so editing a row, deleting one or swapping two breaks every hash from there on. The
//! first entry chains from a hash of the document id, so rows cannot be moved between
//! documents either.
//!
//! Order alone can be rewritten by someone with write access to the database (recompute
//! every later hash) or shortened (drop the last entries), so each entry also carries a
//! MAC under a key kept outside the database ([`super::key`]) and the trail's end is
//! fixed by a signed head ([`super::head`]); [`verify`] checks all three.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Entry;
use super::head::Head;
use super::key::AuditKey;

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

/// The MAC of `entry` (its number and hash, which covers every other field) under
/// `key`; see [`super::key`].
pub fn mac(key: &AuditKey, doc_id: &str, entry: &Entry) -> String {
    key.sign(&mac_parts(doc_id, &entry.seq.to_string(), &entry.hash))
}

fn mac_parts<'a>(doc_id: &'a str, seq: &'a str, hash: &'a str) -> [&'a str; 4] {
    ["entry", doc_id, seq, hash]
}

/// What is wrong with the first bad entry (or the head), as a stable code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Breach {
    /// The entry does not carry the next number: one before it is missing.
    OutOfSequence,
    /// The entry does not chain from the one before it.
    LinkBroken,
    /// The entry's fields do not give its stored hash.
    HashMismatch,
    /// A keyed entry has no MAC (after the legacy marker).
    MacMissing,
    /// The entry's MAC is not the key's: it was rewritten, even if the hashes were
    /// recomputed.
    MacMismatch,
    /// Entries after this one's predecessor were removed from the end: the head names
    /// more entries than are stored.
    Truncated,
    /// An entry beyond the head: added without the key.
    BeyondHead,
    /// The last entry's hash is not the one the head names.
    HeadMismatch,
    /// The head's MAC is not the key's: the head itself was rewritten.
    HeadForged,
    /// The trail has no head: it was removed, perhaps with every entry.
    HeadMissing,
}

/// The outcome of checking a whole trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// True when every entry chains and is authenticated, and the trail ends where its
    /// authenticated head says.
    pub valid: bool,
    /// How many entries were checked.
    pub entries: usize,
    /// The number of the first bad entry (for `truncated`, the first missing one);
    /// `null` when valid or when only the head is bad.
    pub first_broken: Option<i64>,
    /// What is wrong there; `null` when valid.
    pub reason: Option<Breach>,
    /// Entries `1..=legacyUntil` were written before the trail was keyed: their order and
    /// content are hash-checked, but not authenticated with the key.
    pub legacy_until: i64,
}

impl Verification {
    fn broken(entries: usize, legacy_until: i64, at: Option<i64>, reason: Breach) -> Self {
        Self {
            valid: false,
            entries,
            first_broken: at,
            reason: Some(reason),
            legacy_until,
        }
    }
}

/// Walks the trail in order and reports the first entry that does not chain or is not
/// authenticated, then whether the trail ends where the head says.
pub fn verify(
    key: &AuditKey,
    doc_id: &str,
    entries: &[Entry],
    head: Option<&Head>,
) -> Verification {
    let count = entries.len();
    // Every document has a head from its first entry (or from the first keyed start);
    // none at all means the trail was removed with it.
    let Some(head) = head else {
        return Verification::broken(count, 0, None, Breach::HeadMissing);
    };
    let legacy = head.legacy_until;
    let mut prev = genesis(doc_id);
    for (i, entry) in entries.iter().enumerate() {
        let breach = if entry.seq != i as i64 + 1 {
            Some(Breach::OutOfSequence)
        } else if entry.prev_hash != prev {
            Some(Breach::LinkBroken)
        } else if entry.hash != hash(doc_id, entry) {
            Some(Breach::HashMismatch)
        } else {
            match &entry.mac {
                None if entry.seq > legacy => Some(Breach::MacMissing),
                None => None,
                Some(m)
                    if !key
                        .verifies(&mac_parts(doc_id, &entry.seq.to_string(), &entry.hash), m) =>
                {
                    Some(Breach::MacMismatch)
                }
                Some(_) => None,
            }
        };
        if let Some(breach) = breach {
            return Verification::broken(count, legacy, Some(entry.seq), breach);
        }
        prev.clone_from(&entry.hash);
    }
    let stored = count as i64;
    let breach = if !head.authentic(key, doc_id) {
        Some((None, Breach::HeadForged))
    } else if stored < head.seq {
        Some((Some(stored + 1), Breach::Truncated))
    } else if stored > head.seq {
        Some((Some(head.seq + 1), Breach::BeyondHead))
    } else if head.hash != prev {
        Some((Some(head.seq), Breach::HeadMismatch))
    } else {
        None
    };
    match breach {
        Some((at, reason)) => Verification::broken(count, legacy, at, reason),
        None => Verification {
            valid: true,
            entries: count,
            first_broken: None,
            reason: None,
            legacy_until: legacy,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> AuditKey {
        AuditKey::new(&[byte; 32], "test").expect("key")
    }

    /// A trail of `n` entries, the first `legacy` of them unkeyed, with its head.
    fn trail(doc: &str, n: i64, legacy: i64) -> (Vec<Entry>, Head) {
        let mut prev = genesis(doc);
        let entries: Vec<Entry> = (1..=n)
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
                    mac: None,
                };
                e.hash = hash(doc, &e);
                if seq > legacy {
                    e.mac = Some(mac(&key(1), doc, &e));
                }
                prev.clone_from(&e.hash);
                e
            })
            .collect();
        (entries, Head::signed(&key(1), doc, n, &prev, legacy))
    }

    fn check(entries: &[Entry], head: &Head) -> (bool, Option<i64>, Option<Breach>) {
        let v = verify(&key(1), "d", entries, Some(head));
        (v.valid, v.first_broken, v.reason)
    }

    /// What an attacker without the key can do: recompute the plain hashes from `from` on.
    fn rehash(entries: &mut [Entry], from: usize) {
        for i in from..entries.len() {
            if i > 0 {
                entries[i].prev_hash = entries[i - 1].hash.clone();
            }
            entries[i].hash = hash("d", &entries[i]);
        }
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let (entries, head) = trail("d", 5, 0);
        let v = verify(&key(1), "d", &entries, Some(&head));
        assert_eq!((v.valid, v.entries, v.first_broken), (true, 5, None));
    }

    #[test]
    fn an_edited_detail_breaks_the_chain_at_that_entry() {
        let (mut entries, head) = trail("d", 5, 0);
        entries[2].detail = "{\"n\":99}".into();
        assert_eq!(
            check(&entries, &head),
            (false, Some(3), Some(Breach::HashMismatch))
        );
    }

    #[test]
    fn a_rewrite_with_recomputed_hashes_fails_on_the_mac() {
        let (mut entries, head) = trail("d", 5, 0);
        entries[2].detail = "{\"n\":99}".into();
        rehash(&mut entries, 2);
        assert_eq!(
            check(&entries, &head),
            (false, Some(3), Some(Breach::MacMismatch))
        );
        entries[2].mac = None;
        assert_eq!(
            check(&entries, &head),
            (false, Some(3), Some(Breach::MacMissing))
        );
    }

    #[test]
    fn a_deleted_entry_is_noticed() {
        let (mut entries, head) = trail("d", 5, 0);
        entries.remove(1);
        assert_eq!(
            check(&entries, &head),
            (false, Some(3), Some(Breach::OutOfSequence))
        );
    }

    #[test]
    fn removing_the_last_entries_is_noticed_and_a_shortened_head_is_forged() {
        let (mut entries, head) = trail("d", 5, 0);
        entries.truncate(3);
        assert_eq!(
            check(&entries, &head),
            (false, Some(4), Some(Breach::Truncated))
        );
        let shortened = Head {
            seq: 3,
            hash: entries[2].hash.clone(),
            ..head
        };
        assert_eq!(
            check(&entries, &shortened),
            (false, None, Some(Breach::HeadForged))
        );
    }

    #[test]
    fn legacy_entries_verify_without_a_mac_but_only_up_to_the_marker() {
        let (entries, head) = trail("d", 5, 3);
        let v = verify(&key(1), "d", &entries, Some(&head));
        assert_eq!((v.valid, v.legacy_until), (true, 3));
        let (mut entries, head) = trail("d", 5, 3);
        entries[3].mac = None;
        assert_eq!(
            check(&entries, &head),
            (false, Some(4), Some(Breach::MacMissing))
        );
    }

    #[test]
    fn a_trail_needs_its_head_and_the_right_key() {
        let (entries, head) = trail("d", 2, 0);
        let v = verify(&key(1), "d", &entries, None);
        assert_eq!((v.valid, v.reason), (false, Some(Breach::HeadMissing)));
        assert!(!verify(&key(1), "d", &[], None).valid);
        assert!(!verify(&key(2), "d", &entries, Some(&head)).valid);
    }

    #[test]
    fn a_trail_moved_to_another_document_does_not_verify() {
        let (entries, head) = trail("d", 2, 0);
        assert!(!verify(&key(1), "other", &entries, Some(&head)).valid);
    }
}
