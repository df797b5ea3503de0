//! Identifiers as newtypes, parsed once at the edge.
//!
//! Ids arrive from URLs, JSON bodies and token claims, all of them hostile. Parsing them
//! into a newtype at the boundary means the rest of the code never sees an empty id, a
//! 10 MB id or one with control characters in it, and cannot mix a user id up with an
//! organisation id.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest id accepted anywhere: long enough for UUIDs and identity-provider subjects.
pub const MAX_ID_CHARS: usize = 128;

/// Why a string is not a valid id.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdError {
    #[error("id is empty")]
    Empty,
    #[error("id is longer than {MAX_ID_CHARS} characters")]
    TooLong,
    #[error("id contains a character that is not allowed")]
    BadCharacter,
}

fn check_id(raw: &str, allowed: impl Fn(char) -> bool) -> Result<(), IdError> {
    if raw.is_empty() {
        return Err(IdError::Empty);
    }
    if raw.chars().count() > MAX_ID_CHARS {
        return Err(IdError::TooLong);
    }
    if !raw.chars().all(allowed) {
        return Err(IdError::BadCharacter);
    }
    Ok(())
}

/// Document ids appear in URL paths, so they are kept to URL-safe ASCII.
fn url_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'
}

/// Principal ids come from identity providers (e-mail addresses, HSA ids, UUIDs), so any
/// printable character is allowed except white space and control characters.
fn printable(c: char) -> bool {
    !c.is_control() && !c.is_whitespace()
}

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident, $allowed:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Checks `raw` and wraps it.
            pub fn parse(raw: impl Into<String>) -> Result<Self, IdError> {
                let raw = raw.into();
                check_id(&raw, $allowed)?;
                Ok(Self(raw))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(raw: String) -> Result<Self, IdError> {
                Self::parse(raw)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A document (one draft, one room).
    DocId,
    url_safe
);
id_type!(
    /// A user: the `sub` claim of a token.
    UserId,
    printable
);
id_type!(
    /// An organisation (förvaltning): the `org` claim of a token.
    OrgId,
    printable
);

impl DocId {
    /// A fresh random id for a new document.
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }
}

/// A new id for a row of any entity (thread, comment, version, webhook, delivery).
/// Time-ordered (UUIDv7, monotonic within this process), so rows written in the same
/// millisecond still list in the order they were written.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_hostile_ids() {
        assert_eq!(DocId::parse(""), Err(IdError::Empty));
        assert_eq!(DocId::parse("a/b"), Err(IdError::BadCharacter));
        assert_eq!(DocId::parse("x".repeat(129)), Err(IdError::TooLong));
        assert_eq!(UserId::parse("anna\n"), Err(IdError::BadCharacter));
        assert!(UserId::parse("anna.lindqvist@stockholm.se").is_ok());
        assert!(OrgId::parse("utbildningsförvaltningen").is_ok());
    }
}
