//! The head of a document's trail: how many entries it has and the hash of the last,
//! authenticated with the audit key.
//!
//! A chain shows that no entry was changed or removed *between* others, but removing the
//! last entries leaves a shorter chain that still checks. The head, rewritten in the same
//! transaction as every append and signed with a key the database does not hold, names
//! the true end, so a shortened trail no longer matches it; a head rewritten to fit the
//! shorter trail no longer carries a valid MAC.
//!
//! Appends continue from the head, not from the last row found: if rows were removed,
//! the next entry still follows the lost ones, so the gap stays visible. A trail whose
//! head is missing or forged is not extended at all (the append fails), so the server
//! never signs over tampering. A trail may only begin (no head, no entries) with
//! `document_created`: a trail wiped together with its head cannot be restarted as if
//! nothing had been there.

use super::Entry;
use super::chain;
use super::key::{AuditKey, KEY_CHECK_SETTING, KeyError};
use crate::ids::DocId;
use crate::on_pool;
use crate::storage::{BeginWrite, Db, StoreError};

/// One document's head row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Head {
    /// The number of the last entry (0: none yet).
    pub seq: i64,
    /// The hash of the last entry (the genesis hash when there is none).
    pub hash: String,
    /// Entries `1..=legacy_until` were written before the trail was keyed and have no MAC.
    pub legacy_until: i64,
    /// HMAC over the document id and the three fields above.
    pub mac: String,
}

impl Head {
    fn parts<'a>(doc: &'a str, seq: &'a str, hash: &'a str, legacy: &'a str) -> [&'a str; 5] {
        ["head", doc, seq, hash, legacy]
    }

    /// A head signed with `key`.
    pub fn signed(key: &AuditKey, doc: &str, seq: i64, hash: &str, legacy_until: i64) -> Self {
        let (s, l) = (seq.to_string(), legacy_until.to_string());
        Self {
            seq,
            hash: hash.to_owned(),
            legacy_until,
            mac: key.sign(&Self::parts(doc, &s, hash, &l)),
        }
    }

    /// Whether the MAC is the key's for these fields of `doc`.
    pub fn authentic(&self, key: &AuditKey, doc: &str) -> bool {
        let (s, l) = (self.seq.to_string(), self.legacy_until.to_string());
        key.verifies(&Self::parts(doc, &s, &self.hash, &l), &self.mac)
    }
}

/// Where a document's next entry goes, decided from its stored head.
#[derive(Debug, Clone)]
pub struct Tip {
    key: AuditKey,
    seq: i64,
    prev_hash: String,
    legacy_until: i64,
}

impl Tip {
    /// Continues from an authentic head; starts a trail that has neither head nor
    /// entries with its `document_created` entry; refuses anything else (a head removed
    /// or forged).
    pub fn from_stored(
        key: AuditKey,
        doc: &str,
        head: Option<Head>,
        has_entries: bool,
        action: &str,
    ) -> Result<Self, StoreError> {
        let refuse = |why: &str| {
            StoreError::AuditTrailBroken(format!(
                "the audit trail of {doc} {why}; refusing to extend it (GET …/audit/verify)"
            ))
        };
        match head {
            Some(head) if head.authentic(&key, doc) => Ok(Self {
                key,
                seq: head.seq,
                prev_hash: head.hash,
                legacy_until: head.legacy_until,
            }),
            Some(_) => Err(refuse("has a head that does not verify")),
            None if has_entries || action != super::Action::DocumentCreated.as_str() => {
                Err(refuse("has lost its head"))
            }
            None => Ok(Self {
                key,
                seq: 0,
                prev_hash: chain::genesis(doc),
                legacy_until: 0,
            }),
        }
    }

    /// Numbers, chains, hashes and signs `entry` as the next entry.
    pub fn extend(&self, doc: &str, entry: &mut Entry) {
        entry.seq = self.seq + 1;
        entry.prev_hash.clone_from(&self.prev_hash);
        entry.hash = chain::hash(doc, entry);
        entry.mac = Some(chain::mac(&self.key, doc, entry));
    }

    /// The head once `entry` (made by [`Tip::extend`]) is stored.
    pub fn head_after(&self, doc: &str, entry: &Entry) -> Head {
        Head::signed(&self.key, doc, entry.seq, &entry.hash, self.legacy_until)
    }
}

/// Reads the head of `$doc` inside the open transaction `$tx` and decides where the
/// next entry, `$entry`, goes. A macro for the same reason as `queue_webhook_deliveries!`: one SQL
/// text, two transaction types. Evaluates to `Result<Tip, StoreError>`.
#[macro_export]
macro_rules! audit_tip {
    ($tx:ident, $doc:expr, $entry:expr) => {
        async {
            let head: Option<$crate::audit::head::Head> = sqlx::query_as(
                "SELECT seq, hash, legacy_until, mac FROM audit_heads WHERE doc_id = $1",
            )
            .bind($doc.as_str())
            .fetch_optional(&mut *$tx)
            .await?;
            let any: Option<i64> =
                sqlx::query_scalar("SELECT seq FROM audit_log WHERE doc_id = $1 LIMIT 1")
                    .bind($doc.as_str())
                    .fetch_optional(&mut *$tx)
                    .await?;
            $crate::audit::head::Tip::from_stored(
                $crate::audit::key::current()?,
                $doc.as_str(),
                head,
                any.is_some(),
                &$entry.action,
            )
        }
    };
}

/// Stores the head after `$entry` in `$tx`. Evaluates to `Result<(), sqlx::Error>`.
#[macro_export]
macro_rules! audit_advance_head {
    ($tx:ident, $doc:expr, $tip:expr, $entry:expr) => {
        async {
            let head = $tip.head_after($doc.as_str(), $entry);
            sqlx::query(
                "INSERT INTO audit_heads (doc_id, seq, hash, legacy_until, mac) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (doc_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, \
                 legacy_until = excluded.legacy_until, mac = excluded.mac",
            )
            .bind($doc.as_str())
            .bind(head.seq)
            .bind(&head.hash)
            .bind(head.legacy_until)
            .bind(&head.mac)
            .execute(&mut *$tx)
            .await
            .map(|_| ())
        }
    };
}

/// The stored head of a document's trail, if any.
pub async fn load(db: &Db, doc: &DocId) -> Result<Option<Head>, StoreError> {
    Ok(on_pool!(db, pool => {
        sqlx::query_as::<_, Head>(
            "SELECT seq, hash, legacy_until, mac FROM audit_heads WHERE doc_id = $1",
        )
        .bind(doc.as_str())
        .fetch_optional(pool)
        .await?
    }))
}

/// What the start-up check found.
enum Start {
    /// The key matches the one the trail was written with.
    Known,
    /// First start with a key: this many trails were adopted as legacy.
    Adopted(usize),
    /// Another node stored its check first; compare again.
    Lost,
    Mismatch,
    CheckGone,
}

/// At start: compares `key` with the check value kept in the database. On the first
/// start with a key (no check stored and nothing keyed yet), stores the check and gives
/// every existing document a signed head with `legacy_until` = its last entry, all in one
/// transaction, so a racing node either sees all of it or none.
pub async fn adopt_or_check(db: &Db, key: &AuditKey) -> Result<(), KeyError> {
    loop {
        match start(db, key).await? {
            Start::Known => return Ok(()),
            Start::Adopted(trails) => {
                tracing::info!(
                    trails,
                    "the audit trail is keyed from now on; earlier entries are marked legacy"
                );
                return Ok(());
            }
            Start::Lost => continue,
            Start::Mismatch => return Err(KeyError::Mismatch),
            Start::CheckGone => return Err(KeyError::CheckGone),
        }
    }
}

async fn start(db: &Db, key: &AuditKey) -> Result<Start, StoreError> {
    let check = key.check_value();
    Ok(on_pool!(db, pool => {
        let mut tx = pool.begin_write().await?;
        let stored: Option<String> =
            sqlx::query_scalar("SELECT value FROM settings WHERE key = $1")
                .bind(KEY_CHECK_SETTING)
                .fetch_optional(&mut *tx)
                .await?;
        match stored {
            Some(stored) if stored == check => Start::Known,
            Some(_) => Start::Mismatch,
            None => {
                let keyed: i64 = sqlx::query_scalar(
                    "SELECT (SELECT COUNT(*) FROM audit_heads) + (SELECT COUNT(*) FROM audit_log WHERE mac IS NOT NULL)",
                )
                .fetch_one(&mut *tx)
                .await?;
                if keyed > 0 {
                    return Ok(Start::CheckGone);
                }
                let stored = sqlx::query(
                    "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                )
                .bind(KEY_CHECK_SETTING)
                .bind(&check)
                .execute(&mut *tx)
                .await?;
                if stored.rows_affected() == 0 {
                    return Ok(Start::Lost);
                }
                let trails: Vec<(String, Option<i64>, Option<String>)> = sqlx::query_as(
                    "SELECT d.id, l.seq, l.hash FROM documents d LEFT JOIN audit_log l \
                     ON l.doc_id = d.id AND l.seq = (SELECT MAX(seq) FROM audit_log m WHERE m.doc_id = d.id)",
                )
                .fetch_all(&mut *tx)
                .await?;
                for (doc, seq, hash) in &trails {
                    let seq = seq.unwrap_or(0);
                    let hash = hash.clone().unwrap_or_else(|| chain::genesis(doc));
                    let head = Head::signed(key, doc, seq, &hash, seq);
                    sqlx::query(
                        "INSERT INTO audit_heads (doc_id, seq, hash, legacy_until, mac) VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (doc_id) DO NOTHING",
                    )
                    .bind(doc)
                    .bind(head.seq)
                    .bind(&head.hash)
                    .bind(head.legacy_until)
                    .bind(&head.mac)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Start::Adopted(trails.len())
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> AuditKey {
        AuditKey::new(&[byte; 32], "test").expect("key")
    }

    #[test]
    fn a_head_is_authentic_only_for_its_document_fields_and_key() {
        let head = Head::signed(&key(1), "d", 5, "abc", 2);
        assert!(head.authentic(&key(1), "d"));
        assert!(!head.authentic(&key(2), "d"));
        assert!(!head.authentic(&key(1), "e"));
        let shortened = Head {
            seq: 4,
            ..head.clone()
        };
        assert!(!shortened.authentic(&key(1), "d"));
        let more_legacy = Head {
            legacy_until: 5,
            ..head
        };
        assert!(!more_legacy.authentic(&key(1), "d"));
    }

    #[test]
    fn a_trail_without_its_head_or_with_a_forged_one_is_not_extended() {
        let first = "document_created";
        assert!(Tip::from_stored(key(1), "d", None, true, first).is_err());
        let forged = Head::signed(&key(2), "d", 3, "abc", 0);
        assert!(Tip::from_stored(key(1), "d", Some(forged), true, first).is_err());
        assert!(Tip::from_stored(key(1), "d", None, false, "thread_opened").is_err());
        let fresh = Tip::from_stored(key(1), "d", None, false, first).expect("new trail");
        assert_eq!((fresh.seq, fresh.prev_hash), (0, chain::genesis("d")));
    }
}
