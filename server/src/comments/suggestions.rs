//! Deciding many suggestions at once: `POST /api/documents/{id}/suggestions/accept` and
//! `…/reject`, for one organisation's open proposals or for all of them (owners).
//!
//! A suggestion is any open thread carrying a proposal: those typed in the text
//! (`kind` `suggestion`) and whole-range change proposals alike. Each is decided through
//! exactly the path a single decision takes (`routes::accept_one`, `routes::reject_one`):
//! its own room edit, its own transaction and audit entries, its own live event. One
//! transaction for the lot would hold the document's write lock across many room edits,
//! and a failure half-way would have to undo edits already relayed to every client.
//!
//! Acceptance goes in document order (by where each anchor starts now), so two
//! suggestions on the same words are decided first-come in the text: once the first is
//! applied the second's anchored text differs from what it was written against, and it
//! is skipped as `anchor_changed`, never applied blindly. Every skipped suggestion is
//! listed with why and both texts, for the owner to decide on by hand.

use axum::extract::{FromRef, State};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{AuthUser, Identity, Role, TokenKeys};
use crate::comments::CommentsContext;
use crate::comments::anchor;
use crate::comments::model::{ThreadRow, ThreadStatus};
use crate::comments::routes::{Decision, accept_one, anchors_of, check_text, reject_one};
use crate::error::{ApiJson, ApiPath, ApiResult, AppError, ErrorResponse};
use crate::ids::{DocId, ThreadId};

/// The routes of this module.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    CommentsContext: FromRef<S>,
    std::sync::Arc<TokenKeys>: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(accept_suggestions))
        .routes(routes!(reject_suggestions))
}

/// Which suggestions to decide: one organisation's (`org`) or all (`all: true`), with a
/// motivation recorded on each.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BulkDecisionRequest {
    /// The organisation id whose open suggestions to decide.
    #[serde(default)]
    pub org: Option<String>,
    /// Decide every open suggestion (instead of `org`).
    #[serde(default)]
    pub all: bool,
    #[serde(default)]
    pub motivation: String,
}

/// A suggestion a bulk decision left open, and why.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SkippedSuggestion {
    pub thread: String,
    /// `anchor_changed` (its text changed since), `anchor_orphaned` (its text is gone)
    /// or `conflict` (e.g. it spans a table or too many paragraphs, or was decided meanwhile).
    pub error: String,
    pub message: String,
    /// The anchored text now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    /// The text it was written against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_quote: Option<String>,
}

/// What a bulk decision did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkDecisionResponse {
    /// The threads decided, in the order they were.
    pub decided: Vec<String>,
    /// Those left open, with why.
    pub skipped: Vec<SkippedSuggestion>,
}

/// Accepts one organisation's open suggestions, or all, each exactly as suggested and in
/// document order; a suggestion whose text changed or is gone is skipped and listed.
#[utoipa::path(post, path = "/api/documents/{id}/suggestions/accept", tag = "threads",
    security(("bearer" = [])), params(("id" = String, Path)), request_body = BulkDecisionRequest,
    responses((status = 200, body = BulkDecisionResponse), (status = 403, body = ErrorResponse),
        (status = 422, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn accept_suggestions(
    State(state): State<CommentsContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<BulkDecisionRequest>,
) -> ApiResult<ApiJson<BulkDecisionResponse>> {
    decide_all(&state, &who, &id, &request, Verdict::Accept).await
}

/// Rejects one organisation's open suggestions, or all; the text is not touched.
#[utoipa::path(post, path = "/api/documents/{id}/suggestions/reject", tag = "threads",
    security(("bearer" = [])), params(("id" = String, Path)), request_body = BulkDecisionRequest,
    responses((status = 200, body = BulkDecisionResponse), (status = 403, body = ErrorResponse),
        (status = 422, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn reject_suggestions(
    State(state): State<CommentsContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<BulkDecisionRequest>,
) -> ApiResult<ApiJson<BulkDecisionResponse>> {
    decide_all(&state, &who, &id, &request, Verdict::Reject).await
}

/// What a bulk decision does to each suggestion it names.
#[derive(Debug, Clone, Copy)]
enum Verdict {
    /// Applied exactly as suggested, through the room.
    Accept,
    /// Closed; the text is not touched.
    Reject,
}

/// Decides the suggestions `request` names one by one, through the single decision's
/// path, collecting what was decided and what was skipped (owners only).
async fn decide_all(
    state: &CommentsContext,
    who: &Identity,
    id: &str,
    request: &BulkDecisionRequest,
    verdict: Verdict,
) -> ApiResult<ApiJson<BulkDecisionResponse>> {
    let crate::auth::Grant { doc, role } =
        crate::auth::authorize(&state.db, who, id, Role::Owner).await?;
    let motivation = check_text(&request.motivation, "motivation", false)?;
    let chosen = chosen(state, &doc, request).await?;
    let decision = Decision {
        doc: &doc,
        who,
        role,
        motivation: &motivation,
    };
    let mut answer = BulkDecisionResponse {
        decided: Vec::new(),
        skipped: Vec::new(),
    };
    for thread in chosen {
        let outcome = match verdict {
            Verdict::Accept => accept_one(state, &decision, &thread, None).await,
            Verdict::Reject => reject_one(state, &decision, &thread).await,
        };
        tally(&mut answer, thread, outcome)?;
    }
    Ok(ApiJson(answer))
}

/// Records one decision in the answer: done, or skipped for a conflict. Any other
/// failure (storage, an unavailable room) ends the bulk decision with that error; what
/// was decided before it stays decided, each in its own transaction.
fn tally<T>(
    answer: &mut BulkDecisionResponse,
    thread: ThreadId,
    outcome: ApiResult<T>,
) -> ApiResult<()> {
    let thread = String::from(thread);
    match outcome {
        Ok(_) => answer.decided.push(thread),
        Err(AppError::ConflictWithDetails {
            code,
            message,
            details,
        }) => {
            let text = |key: &str| details.get(key).and_then(|v| v.as_str()).map(String::from);
            answer.skipped.push(SkippedSuggestion {
                thread,
                error: code.into(),
                message,
                quote: text("quote"),
                original_quote: text("originalQuote"),
            });
        }
        Err(AppError::Conflict(message)) => answer.skipped.push(SkippedSuggestion {
            thread,
            error: "conflict".into(),
            message,
            quote: None,
            original_quote: None,
        }),
        Err(other) => return Err(other),
    }
    Ok(())
}

/// The open suggestions the request names, in document order (then oldest first).
async fn chosen(
    state: &CommentsContext,
    doc: &DocId,
    request: &BulkDecisionRequest,
) -> ApiResult<Vec<ThreadId>> {
    let org = match (&request.org, request.all) {
        (Some(org), false) => Some(org.clone()),
        (None, true) => None,
        _ => {
            return Err(AppError::Unprocessable(
                "name the suggestions: either \"org\" or \"all\": true".into(),
            ));
        }
    };
    let rows: Vec<_> = state
        .db
        .threads(doc)
        .await?
        .into_iter()
        .filter(|(t, _)| is_open_suggestion(t))
        .filter(|(t, _)| org.as_deref().is_none_or(|o| t.org_id == o))
        .collect();
    let anchors = anchors_of(&rows);
    let resolved = state
        .rooms
        .read(doc, move |d| anchor::resolve_all(d, &anchors))
        .await
        .map_err(|e| AppError::Unavailable(e.to_string()))?;
    let mut ordered: Vec<_> = rows
        .into_iter()
        .zip(resolved)
        .map(|((row, _), now)| (now.offset.unwrap_or(usize::MAX), row.created_at, row.id))
        .collect();
    ordered.sort();
    Ok(ordered.into_iter().map(|(_, _, id)| id).collect())
}

fn is_open_suggestion(thread: &ThreadRow) -> bool {
    thread.status == ThreadStatus::Open && thread.proposal.is_some()
}
