//! Threads and comments: rows, vocabularies and the JSON the API speaks.

use serde::{Deserialize, Serialize};
use sqlx::FromRow;

use crate::comments::mentions::{MentionRequest, MentionResponse};
use crate::ids::{CommentId, DocId, ThreadId};
use crate::vocabulary::text_vocabulary;

/// Kept for callers being moved to [`crate::ids::new_id`].
pub use crate::ids::new_id;

/// What an organisation says about the passage (the remiss vocabulary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stance {
    /// Supports the passage.
    Tillstyrker,
    /// Opposes it.
    Avstyrker,
    /// Proposes a change (may carry replacement text).
    Andringsforslag,
    /// Has no objection.
    IngenErinran,
}

/// How the owners handled a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Taken into account.
    Beaktad,
    /// Partly taken into account.
    DelvisBeaktad,
    /// Not taken into account.
    EjBeaktad,
    /// Noted.
    Noterad,
}

/// Open or resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ThreadStatus {
    Open,
    Resolved,
}

/// Whether the anchored text is still as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnchorState {
    /// The quote is unchanged.
    Attached,
    /// The text is there but differs from the original quote.
    Changed,
    /// All of the anchored text was deleted.
    Orphaned,
}

/// How a thread shows in the editor: a margin comment, or a suggestion made by typing in
/// the text (suggesting mode), shown inline as a tracked change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ThreadKind {
    /// A comment on a range, perhaps with a whole-range proposal.
    #[default]
    Comment,
    /// An insertion (collapsed anchor), deletion (empty proposal) or replacement typed
    /// in the text.
    Suggestion,
}

text_vocabulary!(ThreadKind, "thread kind" { Comment = "comment", Suggestion = "suggestion" });
text_vocabulary!(Stance, "stance" { Tillstyrker = "tillstyrker", Avstyrker = "avstyrker", Andringsforslag = "andringsforslag", IngenErinran = "ingen_erinran" });
text_vocabulary!(Outcome, "outcome" { Beaktad = "beaktad", DelvisBeaktad = "delvis_beaktad", EjBeaktad = "ej_beaktad", Noterad = "noterad" });
text_vocabulary!(ThreadStatus, "thread status" { Open = "open", Resolved = "resolved" });

/// A `threads` row.
#[derive(Debug, Clone, FromRow)]
pub struct ThreadRow {
    pub id: ThreadId,
    pub doc_id: DocId,
    pub anchor_start: Vec<u8>,
    pub anchor_end: Vec<u8>,
    pub original_quote: String,
    pub original_paragraph: i64,
    pub doc_version: Vec<u8>,
    pub author_id: String,
    pub author_name: String,
    pub org_id: String,
    pub org_name: Option<String>,
    pub stance: Option<Stance>,
    pub proposal: Option<String>,
    pub kind: ThreadKind,
    pub status: ThreadStatus,
    pub outcome: Option<Outcome>,
    pub motivation: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_by_name: Option<String>,
    pub resolved_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The latest named version saved at or before `created_at` (both columns or neither).
    pub named_version_id: Option<String>,
    pub named_version_name: Option<String>,
}

/// A `comments` row with its organisation's name.
#[derive(Debug, Clone, FromRow)]
pub struct CommentRow {
    pub id: CommentId,
    pub thread_id: ThreadId,
    pub author_id: String,
    pub author_name: String,
    pub org_id: String,
    pub org_name: Option<String>,
    pub body: String,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    pub deleted_at: Option<i64>,
    pub deleted_by: Option<String>,
    pub deleted_by_name: Option<String>,
    /// When the thread was first resolved with this comment in it.
    pub sealed_at: Option<i64>,
    /// Whom its latest wording @mentions (filled by the store after the query).
    #[sqlx(skip)]
    pub mentions: Vec<MentionResponse>,
}

/// A `comment_revisions` row.
#[derive(Debug, Clone, FromRow)]
pub struct RevisionRow {
    pub body: String,
    pub edited_at: i64,
    pub edited_by: String,
    pub edited_by_name: String,
}

/// One wording of a comment (`GET …/comments/{cid}/revisions`), oldest first; the first
/// is the text as received.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevisionResponse {
    pub body: String,
    /// Epoch milliseconds: when this wording was written (the first: when received).
    pub edited_at: i64,
    /// The user id of who wrote it.
    pub edited_by: String,
    pub edited_by_name: String,
}

impl From<RevisionRow> for RevisionResponse {
    fn from(row: RevisionRow) -> Self {
        Self {
            body: row.body,
            edited_at: row.edited_at,
            edited_by: row.edited_by,
            edited_by_name: row.edited_by_name,
        }
    }
}

/// A range as two Yjs relative positions, standard base64 of `Y.encodeRelativePosition`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AnchorRequest {
    pub start: String,
    pub end: String,
}

/// `POST /api/documents/{id}/threads`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateThreadRequest {
    pub anchor: AnchorRequest,
    /// The first comment, plain text.
    pub body: String,
    pub stance: Option<Stance>,
    /// Replacement text for the anchored range (a change proposal); `""` proposes to
    /// delete it. Any stance may carry one (none given: `andringsforslag`).
    pub proposal: Option<String>,
    /// `suggestion` for a change typed in the text (suggesting mode): it needs a
    /// proposal, its anchor may be collapsed (an insertion at that point), its proposal
    /// and body are kept as typed (not trimmed; the body may be empty), and it lies within
    /// one paragraph. Default `comment`.
    #[serde(default)]
    pub kind: ThreadKind,
    /// Whom the first comment @mentions (at most 20); the body carries the visible text.
    #[serde(default)]
    pub mentions: Option<Vec<MentionRequest>>,
}

/// A reply, or an edit of one's own comment.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CommentRequest {
    pub body: String,
    /// Whom the comment @mentions (at most 20), each a member of the document; the body
    /// carries the visible text (e.g. `@Anna Berg`). An edit sends the whole list again:
    /// only principals no earlier wording mentioned are notified. Absent: none.
    #[serde(default)]
    pub mentions: Option<Vec<MentionRequest>>,
}

/// `POST …/resolve`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ResolveRequest {
    pub outcome: Outcome,
    /// Why: shown to the organisation that commented and in the compilation.
    #[serde(default)]
    pub motivation: String,
}

/// `POST …/proposal/accept` and `…/proposal/reject`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecideProposalRequest {
    #[serde(default)]
    pub motivation: String,
    /// Accept only: the anchored text as the owner saw it when it differed from the
    /// original (the `quote` of an `anchor_changed` answer). The proposal is applied only
    /// if the anchored text is still exactly this; without it, only if the anchor is
    /// `attached`.
    #[serde(default)]
    pub expected_quote: Option<String>,
}

/// The 409 answer to accepting a proposal: `anchor_changed` when the anchored text is not
/// the text it was written against (send `expectedQuote` = `quote` to accept anyway),
/// `anchor_orphaned` when it is all deleted (`quote` is empty); both carry the quotes.
/// Other refusals (`conflict`: already resolved, no proposal, a range over paragraphs a join may not span) carry
/// only `error` and `message`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnchorConflictResponse {
    /// `anchor_changed`, `anchor_orphaned` or `conflict`.
    pub error: &'static str,
    /// A sentence for people.
    pub message: String,
    /// The anchored text now (`anchor_changed`, `anchor_orphaned`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    /// The text when the thread was opened, which the proposal was written to replace
    /// (`anchor_changed`, `anchor_orphaned`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_quote: Option<String>,
}

/// `PUT …/anchor`: move a thread to a new range.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ReanchorRequest {
    pub anchor: AnchorRequest,
}

/// Filters of `GET /api/documents/{id}/threads`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ThreadFilter {
    pub status: Option<ThreadStatus>,
    /// Organisation id of the thread's author.
    pub org: Option<String>,
    pub stance: Option<Stance>,
    /// 0-based index of the top-level block holding the anchor's start.
    pub paragraph: Option<i64>,
    pub kind: Option<ThreadKind>,
}

/// A thread's anchor, resolved against the current text.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnchorResponse {
    pub start: String,
    pub end: String,
    /// 0-based index of the top-level block holding the start; `null` when orphaned.
    pub paragraph: Option<i64>,
    /// The text now between start and end.
    pub quote: String,
    /// The text when the thread was opened.
    pub original_quote: String,
    pub original_paragraph: i64,
    pub state: AnchorState,
}

/// One comment.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommentResponse {
    pub id: String,
    /// Plain text, the latest wording; empty once deleted (withdrawn). A withdrawn
    /// comment's text is kept: owners and the author's organisation read it, with every
    /// earlier wording, at `…/comments/{cid}/revisions`.
    pub body: String,
    /// The author's user id.
    pub author: String,
    pub author_name: String,
    pub org: String,
    pub org_name: String,
    pub created_at: i64,
    /// When it was last edited (its revisions list every wording).
    pub edited_at: Option<i64>,
    /// Withdrawn by its author: `body` is empty here.
    pub deleted: bool,
    /// When it was withdrawn.
    pub deleted_at: Option<i64>,
    /// The user id of who withdrew it.
    pub deleted_by: Option<String>,
    /// It was part of a resolved thread: it can no longer be edited or deleted.
    pub sealed: bool,
    /// Whom it @mentions, with their names: a client shows each `@name` in the body as a
    /// mention (as text). Empty once deleted.
    pub mentions: Vec<MentionResponse>,
}

/// How a thread was resolved.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResolutionResponse {
    pub outcome: Outcome,
    pub motivation: String,
    pub resolved_by: String,
    pub resolved_by_name: String,
    pub resolved_at: i64,
}

/// A thread with its comments and resolved anchor.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ThreadResponse {
    pub id: String,
    pub document: String,
    pub status: ThreadStatus,
    pub stance: Option<Stance>,
    /// Replacement text for the anchored range; `""` deletes it; with a collapsed anchor
    /// (`originalQuote` empty) it is inserted at that point.
    pub proposal: Option<String>,
    /// `comment` (a margin thread) or `suggestion` (typed in the text, shown inline).
    pub kind: ThreadKind,
    /// The user who opened it.
    pub author: String,
    pub author_name: String,
    pub org: String,
    pub org_name: String,
    pub anchor: AnchorResponse,
    /// Base64 of the document's state vector when the thread was opened.
    pub version: String,
    /// The named version the thread was opened on: the latest saved at or before then.
    pub named_version: Option<crate::versions::model::VersionRef>,
    pub resolution: Option<ResolutionResponse>,
    pub comments: Vec<CommentResponse>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_made_in_one_millisecond_still_sort_in_order() {
        let ids: Vec<String> = (0..2000).map(|_| new_id()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
    }
}
