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

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        // A column of ids decodes through the same check, so a stored id that would not
        // pass it fails the read instead of entering the code unchecked.
        $crate::vocabulary::stored_as_text!($name, |raw: &str| $name::parse(raw));
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

id_type!(
    /// A comment thread on a document.
    ThreadId,
    url_safe
);
id_type!(
    /// One comment (the first of a thread, or a reply).
    CommentId,
    url_safe
);
id_type!(
    /// A named version of a document.
    VersionId,
    url_safe
);
id_type!(
    /// A webhook registered on a document.
    WebhookId,
    url_safe
);
id_type!(
    /// One event queued for (or sent to) a webhook; receivers deduplicate by it
    /// (`X-Forankra-Delivery`).
    DeliveryId,
    url_safe
);

impl DocId {
    /// A fresh random id for a new document.
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().simple().to_string())
    }
}

/// A time-ordered id (UUIDv7, monotonic within this process), so rows written in the same
/// millisecond still list in the order they were written.
pub fn time_ordered() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

/// Gives each listed id type a `generate` making a fresh [`time_ordered`] id, for the
/// entities whose rows list in the order they were written.
macro_rules! generated_in_time_order {
    ($($name:ident),+) => {
        $(
            impl $name {
                /// A fresh time-ordered id for a new row (see [`time_ordered`]).
                pub fn generate() -> Self {
                    Self(time_ordered())
                }
            }
        )+
    };
}

id_type!(
    /// One notification in a user's inbox.
    NotificationId,
    url_safe
);
id_type!(
    /// One e-mail in the outbox: the notifications it carries, sent once.
    MailId,
    url_safe
);

generated_in_time_order!(
    ThreadId,
    CommentId,
    VersionId,
    WebhookId,
    DeliveryId,
    NotificationId,
    MailId
);

/// A new time-ordered id as bare text ([`time_ordered`]), for rows that have no id type.
pub fn new_id() -> String {
    time_ordered()
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
        assert_eq!(ThreadId::parse("a b"), Err(IdError::BadCharacter));
        assert_eq!(VersionId::parse("../v"), Err(IdError::BadCharacter));
        assert_eq!(WebhookId::parse(""), Err(IdError::Empty));
        assert_eq!(DeliveryId::parse("d\n"), Err(IdError::BadCharacter));
    }

    #[test]
    fn generated_thread_and_comment_ids_parse_and_sort_in_order() {
        let ids: Vec<ThreadId> = (0..500).map(|_| ThreadId::generate()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        let comment = CommentId::generate();
        assert_eq!(CommentId::parse(comment.as_str()), Ok(comment));
        let version = VersionId::generate();
        assert_eq!(VersionId::parse(version.as_str()), Ok(version));
        let webhook = WebhookId::generate();
        assert_eq!(WebhookId::parse(webhook.as_str()), Ok(webhook));
        let deliveries: Vec<DeliveryId> = (0..100).map(|_| DeliveryId::generate()).collect();
        assert!(deliveries.windows(2).all(|w| w[0] < w[1]));
    }

    #[tokio::test]
    async fn a_stored_id_that_fails_the_check_fails_the_read() {
        let pool = sqlx::SqlitePool::connect("sqlite::memory:")
            .await
            .expect("pool");
        let (id,): (ThreadId,) = sqlx::query_as("SELECT $1")
            .bind(ThreadId::parse("t1").expect("id"))
            .fetch_one(&pool)
            .await
            .expect("row");
        assert_eq!(id.as_str(), "t1");
        let error = sqlx::query_as::<_, (ThreadId,)>("SELECT 'a/b'")
            .fetch_one(&pool)
            .await
            .expect_err("not an id");
        assert!(matches!(error, sqlx::Error::ColumnDecode { .. }), "{error}");
    }
}
