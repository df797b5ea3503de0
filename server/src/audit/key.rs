//! The key that authenticates the audit trail, kept outside the database.
//!
//! The hash chain alone proves order: someone who can write the database can rewrite an
//! entry and recompute every later hash, or drop the last entries, and the chain still
//! checks. Each entry and each document's head therefore also carry an HMAC-SHA256 made
//! with a key that does not live in the database: a file (`--audit-key-file`, by default
//! `<sqlite file>.audit-key` beside the database, or `forankra-audit.key` in the working
//! directory on PostgreSQL) or the environment (`FORANKRA_AUDIT_KEY`). Write access to
//! the database alone then no longer suffices to forge an entry or a head.
//!
//! The database keeps a check value (an HMAC of a fixed text) so that a start with a
//! missing or different key is refused with a clear error instead of silently writing a
//! second, unrelated trail. Every PostgreSQL node must be given the same key.
//!
//! The key in use is process-wide, like the webhook wake-up: entries are appended from
//! many handlers (and from use cases holding only a transaction), and a server process
//! serves one database. [`install`] refuses a second, different key in one process.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::Sha256;

use crate::on_pool;
use crate::storage::{Db, StoreError};

type HmacSha256 = Hmac<Sha256>;

/// Fewest bytes a key may have: HMAC-SHA256 gains nothing beyond 32, and loses below.
pub const MIN_KEY_BYTES: usize = 32;

/// Where the `settings` table keeps the key's check value.
pub const KEY_CHECK_SETTING: &str = "audit_key_check";

/// The file name used on PostgreSQL when no key file is named.
pub const DEFAULT_KEY_FILE: &str = "forankra-audit.key";

/// Where the key comes from (a setting, so it is defined with the others).
pub use crate::config::KeySource;

/// Why the key could not be set up. Each is fatal at start: serving with the wrong key
/// would make every new entry unverifiable.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the audit key {0} is shorter than {MIN_KEY_BYTES} bytes")]
    TooShort(String),
    #[error("reading or creating the audit key file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the audit key file {0} is missing, but this database's audit trail was written with a \
         key: restore the file from your backup (docs/OPERATIONS.md, \"The audit key\"); a new \
         key would make the trail unverifiable"
    )]
    Missing(PathBuf),
    #[error(
        "the audit key given does not match the key this database's audit trail was written \
         with: give every node the same --audit-key-file / FORANKRA_AUDIT_KEY"
    )]
    Mismatch,
    #[error(
        "this database holds keyed audit entries but no longer the check of their key: \
         somebody changed the settings table; restore it from a backup"
    )]
    CheckGone,
    #[error("another audit key is already in use in this process")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An HMAC-SHA256 key. Its `Debug` never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct AuditKey(Arc<[u8]>);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(..)")
    }
}

impl AuditKey {
    /// A key from its bytes; `what` names the source in the error.
    pub fn new(bytes: &[u8], what: &str) -> Result<Self, KeyError> {
        if bytes.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort(what.to_owned()));
        }
        Ok(Self(Arc::from(bytes)))
    }

    fn hmac(&self, parts: &[&str]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        for part in parts {
            // Length-prefixed, as in the chain hash, so no two part lists collide.
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac
    }

    /// The MAC of `parts`, hex.
    pub fn sign(&self, parts: &[&str]) -> String {
        hex::encode(self.hmac(parts).finalize().into_bytes())
    }

    /// Whether `mac` (hex) is the MAC of `parts`, compared in constant time.
    pub fn verifies(&self, parts: &[&str], mac: &str) -> bool {
        hex::decode(mac).is_ok_and(|bytes| self.hmac(parts).verify_slice(&bytes).is_ok())
    }

    /// What the database keeps to recognise this key; reveals nothing of it.
    pub fn check_value(&self) -> String {
        self.sign(&["forankra-audit-key-check"])
    }
}

/// The key file used when none is named: beside a SQLite file, in the working
/// directory for PostgreSQL.
pub fn default_key_path(database_url: &str) -> PathBuf {
    if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        return PathBuf::from(DEFAULT_KEY_FILE);
    }
    let path = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .unwrap_or(database_url);
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path == ":memory:" {
        return PathBuf::from(DEFAULT_KEY_FILE);
    }
    PathBuf::from(format!("{path}.audit-key"))
}

static CURRENT: RwLock<Option<AuditKey>> = RwLock::new(None);

/// Makes `key` the one this process signs with. Installing the same key again is fine.
pub fn install(key: AuditKey) -> Result<(), KeyError> {
    let mut current = CURRENT.write().unwrap_or_else(|e| e.into_inner());
    match &*current {
        Some(existing) if *existing != key => Err(KeyError::Conflict),
        _ => {
            *current = Some(key);
            Ok(())
        }
    }
}

/// The key this process signs with, once [`install`]ed.
pub fn current() -> Result<AuditKey, StoreError> {
    CURRENT
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .ok_or_else(|| StoreError::Corrupt("no audit key is installed in this process".into()))
}

/// Resolves the key for `db`, checks it against the database (storing its check value
/// and adopting the unkeyed trails on the first start with a key), and installs it.
pub async fn open(db: &Db, source: &KeySource, database_url: &str) -> Result<AuditKey, KeyError> {
    let keyed = stored_check(db).await?.is_some();
    let key = match source {
        KeySource::Value(value) => AuditKey::new(
            value.expose_secret().trim().as_bytes(),
            "in --audit-key / FORANKRA_AUDIT_KEY",
        )?,
        KeySource::File(path) => read_or_create(path, keyed)?,
        KeySource::Default => read_or_create(&default_key_path(database_url), keyed)?,
    };
    super::head::adopt_or_check(db, &key).await?;
    install(key.clone())?;
    Ok(key)
}

async fn stored_check(db: &Db) -> Result<Option<String>, StoreError> {
    Ok(on_pool!(db, pool => {
        sqlx::query_scalar::<_, String>("SELECT value FROM settings WHERE key = $1")
            .bind(KEY_CHECK_SETTING)
            .fetch_optional(pool)
            .await?
    }))
}

/// Reads the key file; creates it with a fresh key (mode 0600) only while no trail of
/// this database is keyed yet.
fn read_or_create(path: &Path, keyed: bool) -> Result<AuditKey, KeyError> {
    let io = |source| KeyError::Io {
        path: path.to_owned(),
        source,
    };
    match std::fs::read(path) {
        Ok(bytes) => {
            warn_if_readable_by_others(path);
            AuditKey::new(trim(&bytes), &format!("in {}", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if keyed {
                return Err(KeyError::Missing(path.to_owned()));
            }
            let mut bytes = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
            let text = hex::encode(bytes);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            match options.open(path) {
                Ok(mut file) => {
                    file.write_all(format!("{text}\n").as_bytes())
                        .and_then(|()| file.sync_all())
                        .map_err(io)?;
                    tracing::warn!(path = %path.display(), "created a new audit key: back it up (docs/OPERATIONS.md)");
                    AuditKey::new(text.as_bytes(), "generated")
                }
                // Another process created it first: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    read_or_create(path, keyed)
                }
                Err(e) => Err(io(e)),
            }
        }
        Err(e) => Err(io(e)),
    }
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(path = %path.display(), "the audit key file is readable by other users: chmod 600 it");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_key_lives_beside_a_sqlite_file() {
        assert_eq!(
            default_key_path("/var/lib/forankra/forankra.db"),
            PathBuf::from("/var/lib/forankra/forankra.db.audit-key")
        );
        assert_eq!(
            default_key_path("sqlite:///data/f.db?mode=rwc"),
            PathBuf::from("/data/f.db.audit-key")
        );
        assert_eq!(
            default_key_path("postgres://db/forankra"),
            PathBuf::from(DEFAULT_KEY_FILE)
        );
    }

    #[test]
    fn a_short_key_is_refused_and_macs_depend_on_the_key() {
        assert!(AuditKey::new(b"short", "test").is_err());
        let a = AuditKey::new(&[1; 32], "a").expect("key");
        let b = AuditKey::new(&[2; 32], "b").expect("key");
        let mac = a.sign(&["d", "1", "h"]);
        assert!(a.verifies(&["d", "1", "h"], &mac));
        assert!(!b.verifies(&["d", "1", "h"], &mac));
        assert!(!a.verifies(&["d", "2", "h"], &mac));
        assert!(!a.verifies(&["d", "1", "h"], "not hex"));
    }
}
