//! Version rows and the JSON the API speaks about them.

use serde::{Deserialize, Serialize};
use sqlx::FromRow;

use crate::ids::{DocId, VersionId};
pub use crate::versions::authors::{DiffAuthor, DiffUser};

/// Longest version name, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// A `versions` row without its state.
#[derive(Debug, Clone, FromRow)]
pub struct VersionRow {
    pub id: VersionId,
    pub doc_id: DocId,
    pub name: String,
    pub paragraphs: i64,
    pub created_by: String,
    pub created_by_name: String,
    pub created_by_org: String,
    pub created_at: i64,
}

/// `POST /api/documents/{id}/versions`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateVersionRequest {
    /// 1 to 200 characters, e.g. "Remissversion 2020-11-01".
    pub name: String,
}

/// Who saved a version.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatorResponse {
    pub id: String,
    pub name: String,
    /// The organisation id.
    pub org: String,
}

/// A named version (its text is at `…/versions/{vid}/markdown`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionResponse {
    pub id: String,
    pub name: String,
    /// Epoch milliseconds.
    pub created_at: i64,
    pub created_by: CreatorResponse,
    /// Top-level blocks holding text.
    pub paragraphs: i64,
}

impl From<VersionRow> for VersionResponse {
    fn from(row: VersionRow) -> Self {
        Self {
            id: row.id.into(),
            name: row.name,
            created_at: row.created_at,
            created_by: CreatorResponse {
                id: row.created_by,
                name: row.created_by_name,
                org: row.created_by_org,
            },
            paragraphs: row.paragraphs,
        }
    }
}

/// The version a thread was opened on: the latest saved at or before that moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VersionRef {
    pub id: String,
    pub name: String,
}

impl VersionRef {
    /// Pairs the two nullable columns a thread query selects.
    pub fn from_columns(id: Option<String>, name: Option<String>) -> Option<Self> {
        Some(Self {
            id: id?,
            name: name?,
        })
    }
}

/// `GET …/versions/diff`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DiffQuery {
    /// The older side: a version id.
    pub from: String,
    /// The newer side: a version id, or `current` (the default) for the live text.
    pub to: Option<String>,
}

/// What happened to one paragraph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParagraphChange {
    Added,
    Removed,
    Changed,
    Unchanged,
}

/// A word-level operation inside a changed paragraph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WordOp {
    Equal,
    Insert,
    Delete,
}

/// A run of words (with the white space between them) that one operation covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WordChange {
    pub op: WordOp,
    pub text: String,
    /// For an `insert`: who wrote the inserted text, one entry per organisation (an
    /// entry with `org: null` for text of unknown authorship). `null` otherwise, or when
    /// the diff ran out of time before attributing it.
    pub inserted_by: Option<Vec<DiffAuthor>>,
    /// For a `delete`: who deleted the text, likewise.
    pub deleted_by: Option<Vec<DiffAuthor>>,
}

impl WordChange {
    /// A run not attributed (yet).
    pub fn new(op: WordOp, text: String) -> Self {
        Self {
            op,
            text,
            inserted_by: None,
            deleted_by: None,
        }
    }
}

/// One paragraph of a diff, in the order of the newer text (removed ones where they were).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParagraphDiff {
    pub change: ParagraphChange,
    /// The text in `from`; `null` when added.
    pub before: Option<String>,
    /// The text in `to`; `null` when removed.
    pub after: Option<String>,
    /// Word-level operations; set for `changed` paragraphs only.
    pub words: Option<Vec<WordChange>>,
    /// For an `added` paragraph: who wrote it (as [`WordChange::inserted_by`]).
    pub inserted_by: Option<Vec<DiffAuthor>>,
    /// For a `removed` paragraph: who deleted it (as [`WordChange::deleted_by`]).
    pub deleted_by: Option<Vec<DiffAuthor>>,
}

/// `GET …/versions/diff`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DiffResponse {
    pub from: VersionResponse,
    /// `null` when comparing with the live text.
    pub to: Option<VersionResponse>,
    pub paragraphs: Vec<ParagraphDiff>,
}
