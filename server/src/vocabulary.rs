//! Closed vocabularies stored as text: stances, outcomes, statuses, phases, answers, roles.
//!
//! The database keeps each of these as a word (`'resolved'`, `'avslutad'`) under a CHECK
//! constraint, and the API speaks the same words. They used to travel through the code as
//! `String`s, parsed where they were used with a silent default for anything unknown, so
//! a row written by a newer version (or by hand) showed as `open` or `beredning` without
//! a trace. Here each word list becomes a column type: rows decode straight into the
//! enum, and a word the enum does not know fails the read with [`UnknownValue`] (a 500
//! that is logged, never a guess). Request bodies keep going through serde, so an unknown
//! word there is still the 4xx it always was.

/// A stored word that is not in its vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}` in the database")]
pub struct UnknownValue {
    /// What the word should have been, e.g. `thread status`.
    pub kind: &'static str,
    /// The word found.
    pub value: String,
}

/// Declares the stored word of each variant of an enum: `as_str`, `FromStr` (failing
/// with [`UnknownValue`]) and the sqlx column impls of [`stored_as_text!`]. `$kind`
/// names the vocabulary in the error.
macro_rules! text_vocabulary {
    ($ty:ty, $kind:literal { $($variant:ident = $text:literal),* $(,)? }) => {
        impl $ty {
            /// The word stored in the database and used in the API.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),* }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::vocabulary::UnknownValue;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $($text => Ok(Self::$variant),)*
                    other => Err($crate::vocabulary::UnknownValue {
                        kind: $kind,
                        value: other.to_owned(),
                    }),
                }
            }
        }

        $crate::vocabulary::stored_as_text!($ty, <$ty as std::str::FromStr>::from_str);
    };
}
pub(crate) use text_vocabulary;

/// Makes a type with an `as_str` method a TEXT column on every backend: it binds as that
/// text and decodes through `$parse` (`fn(&str) -> Result<Self, E>`), so text that does
/// not parse fails the query with `E` as the decode error ([`UnknownValue`] for the
/// vocabularies here, `IdError` for `ids`).
macro_rules! stored_as_text {
    ($ty:ty, $parse:expr) => {
        impl<DB: sqlx::Database> sqlx::Type<DB> for $ty
        where
            str: sqlx::Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as sqlx::Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as sqlx::Type<DB>>::compatible(ty)
            }
        }

        impl<'r, DB: sqlx::Database> sqlx::Decode<'r, DB> for $ty
        where
            &'r str: sqlx::Decode<'r, DB>,
        {
            fn decode(
                value: <DB as sqlx::Database>::ValueRef<'r>,
            ) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <&'r str as sqlx::Decode<'r, DB>>::decode(value)?;
                Ok(($parse)(text)?)
            }
        }

        impl<'q, DB: sqlx::Database> sqlx::Encode<'q, DB> for $ty
        where
            for<'a> &'a str: sqlx::Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as sqlx::Database>::ArgumentBuffer,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<'q, DB>>::encode(self.as_str(), buf)
            }
        }
    };
}
pub(crate) use stored_as_text;

// A membership's role is stored as its word too (`document_members.role`); the invitee
// rows of `remiss` read it.
stored_as_text!(
    crate::auth::Role,
    <crate::auth::Role as std::str::FromStr>::from_str
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;
    use sqlx::sqlite::SqlitePool;

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Colour {
        Red,
        Blue,
    }
    text_vocabulary!(Colour, "colour" { Red = "red", Blue = "blue" });

    async fn pool() -> SqlitePool {
        SqlitePool::connect("sqlite::memory:").await.expect("pool")
    }

    #[test]
    fn words_round_trip_and_strangers_are_named() {
        for colour in [Colour::Red, Colour::Blue] {
            assert_eq!(colour.as_str().parse::<Colour>(), Ok(colour));
        }
        assert_eq!(
            "green".parse::<Colour>(),
            Err(UnknownValue {
                kind: "colour",
                value: "green".into()
            })
        );
    }

    #[tokio::test]
    async fn a_row_decodes_into_the_enum_and_binds_as_its_word() {
        let pool = pool().await;
        let (colour, role): (Colour, Option<Role>) = sqlx::query_as("SELECT $1, 'editor'")
            .bind(Colour::Blue)
            .fetch_one(&pool)
            .await
            .expect("row");
        assert_eq!((colour, role), (Colour::Blue, Some(Role::Editor)));
        let (none,): (Option<Colour>,) = sqlx::query_as("SELECT NULL")
            .fetch_one(&pool)
            .await
            .expect("row");
        assert_eq!(none, None);
    }

    #[tokio::test]
    async fn an_unknown_stored_word_fails_the_read_instead_of_defaulting() {
        let pool = pool().await;
        let error = sqlx::query_as::<_, (Colour,)>("SELECT 'green'")
            .fetch_one(&pool)
            .await
            .expect_err("green is no colour");
        let sqlx::Error::ColumnDecode { source, .. } = error else {
            panic!("not a decode error: {error:?}");
        };
        assert_eq!(
            source.downcast_ref::<UnknownValue>(),
            Some(&UnknownValue {
                kind: "colour",
                value: "green".into()
            })
        );
        let error = sqlx::query_as::<_, (Role,)>("SELECT 'admin'")
            .fetch_one(&pool)
            .await
            .expect_err("admin is no role");
        assert!(
            error.to_string().contains("unknown role `admin`"),
            "{error}"
        );
    }
}
