//! `/api/documents/{id}/threads…`: open, list, reply, edit, resolve, reopen, re-anchor,
//! accept or reject a proposal.

use std::sync::Arc;

use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use yrs::updates::encoder::Encode;
use yrs::{ReadTxn, Transact};

use crate::auth::{AuthUser, Role, TokenKeys};
use crate::comments::CommentsContext;
use crate::comments::anchor::{self, Anchor};
use crate::comments::changes::{self, Change, author};
use crate::comments::decisions::{self, Claimed};
use crate::comments::events::{self, ThreadEvent};
use crate::comments::model::*;
use crate::comments::store::NewThread;
use crate::comments::{following, mentions, proposal, revisions};
use crate::error::{ApiJson, ApiPath, ApiQuery, ApiResult, AppError, ErrorResponse};
use crate::ids::{CommentId, DocId, ThreadId};
use crate::limits::quota::{self, Creation};
use crate::sync::authorship::Author;
use crate::sync::room::EditError;
use crate::versions::model::VersionRef;

/// Longest comment, motivation or proposal, in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;

/// The routes of this module, each with its OpenAPI operation: `routes!` takes the path
/// and method from the handler's `#[utoipa::path]`, so they are written once.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    CommentsContext: FromRef<S>,
    Arc<TokenKeys>: FromRef<S>,
{
    OpenApiRouter::new()
        .merge(revisions::router())
        .merge(mentions::router())
        .merge(following::router())
        .routes(routes!(list_threads, create_thread))
        .routes(routes!(get_thread))
        .routes(routes!(reply))
        .routes(routes!(edit_comment, delete_comment))
        .routes(routes!(resolve_thread))
        .routes(routes!(reopen_thread))
        .routes(routes!(reanchor_thread))
        .routes(routes!(accept_proposal))
        .routes(routes!(reject_proposal))
}

/// A suggestion's text as typed: kept exactly (its spaces are part of the change), only
/// its length and its paragraph breaks counted; required, and `""` proposes a deletion.
fn suggested_text(proposal: Option<&str>) -> ApiResult<String> {
    let text = proposal.ok_or_else(|| {
        AppError::Unprocessable("a suggestion needs a proposal (\"\" deletes the range)".into())
    })?;
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(AppError::Unprocessable(format!(
            "the proposal is over {MAX_TEXT_CHARS} characters"
        )));
    }
    // Each "\n" is a paragraph break on accept (comments/span.rs).
    if text.split('\n').count() > crate::comments::span::MAX_SPAN_BLOCKS {
        return Err(
            anchor::AnchorError::from(crate::comments::span::SpanError::TooManyBreaks).into(),
        );
    }
    Ok(text.to_owned())
}

pub(crate) fn check_text(text: &str, what: &str, required: bool) -> ApiResult<String> {
    let trimmed = text.trim();
    if required && trimmed.is_empty() {
        return Err(AppError::Unprocessable(format!("the {what} is empty")));
    }
    if trimmed.chars().count() > MAX_TEXT_CHARS {
        return Err(AppError::Unprocessable(format!(
            "the {what} is over {MAX_TEXT_CHARS} characters"
        )));
    }
    Ok(trimmed.to_owned())
}

impl From<anchor::AnchorError> for AppError {
    fn from(e: anchor::AnchorError) -> Self {
        AppError::Unprocessable(e.to_string())
    }
}

fn comment_response(row: CommentRow) -> CommentResponse {
    let deleted = row.deleted_at.is_some();
    CommentResponse {
        id: row.id.into(),
        body: if deleted { String::new() } else { row.body },
        org_name: row.org_name.unwrap_or_else(|| row.org_id.clone()),
        author: row.author_id,
        author_name: row.author_name,
        org: row.org_id,
        created_at: row.created_at,
        edited_at: row.edited_at,
        deleted,
        deleted_at: row.deleted_at,
        deleted_by: row.deleted_by,
        sealed: row.sealed_at.is_some(),
        mentions: if deleted { Vec::new() } else { row.mentions },
    }
}

/// The stored anchors of some threads, in their order.
pub fn anchors_of(rows: &[(ThreadRow, Vec<CommentRow>)]) -> Vec<Anchor> {
    rows.iter()
        .map(|(t, _)| Anchor {
            start: t.anchor_start.clone(),
            end: t.anchor_end.clone(),
        })
        .collect()
}

/// Builds responses, resolving every anchor in one read of the document.
pub(crate) async fn respond(
    state: &CommentsContext,
    doc: &DocId,
    rows: Vec<(ThreadRow, Vec<CommentRow>)>,
) -> ApiResult<Vec<ThreadResponse>> {
    let anchors = anchors_of(&rows);
    let resolved = state
        .rooms
        .read(doc, move |d| anchor::resolve_all(d, &anchors))
        .await
        .map_err(|e| AppError::Unavailable(e.to_string()))?;
    Ok(rows
        .into_iter()
        .zip(resolved)
        .map(|((row, comments), now)| thread_response(row, comments, now))
        .collect())
}

/// A thread row, its comments and its anchor as resolved now, as JSON.
pub fn thread_response(
    row: ThreadRow,
    comments: Vec<CommentRow>,
    now: anchor::Resolved,
) -> ThreadResponse {
    let state = now.state(&row.original_quote);
    let resolution = match (row.outcome, row.resolved_at) {
        (Some(outcome), Some(resolved_at)) => Some(ResolutionResponse {
            outcome,
            motivation: row.motivation.unwrap_or_default(),
            resolved_by: row.resolved_by.unwrap_or_default(),
            resolved_by_name: row.resolved_by_name.unwrap_or_default(),
            resolved_at,
        }),
        _ => None,
    };
    ThreadResponse {
        anchor: AnchorResponse {
            start: STANDARD.encode(&row.anchor_start),
            end: STANDARD.encode(&row.anchor_end),
            paragraph: now.paragraph.filter(|_| state != AnchorState::Orphaned),
            quote: now.quote,
            original_quote: row.original_quote,
            original_paragraph: row.original_paragraph,
            state,
        },
        version: STANDARD.encode(&row.doc_version),
        named_version: VersionRef::from_columns(row.named_version_id, row.named_version_name),
        status: row.status,
        stance: row.stance,
        proposal: row.proposal,
        kind: row.kind,
        org_name: row.org_name.unwrap_or_else(|| row.org_id.clone()),
        author: row.author_id,
        author_name: row.author_name,
        org: row.org_id,
        resolution,
        comments: comments.into_iter().map(comment_response).collect(),
        id: row.id.into(),
        document: row.doc_id.into(),
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

/// A thread id from a path or a notice; text that cannot be an id names no thread (404).
pub(crate) fn thread_in_path(raw: &str) -> ApiResult<ThreadId> {
    ThreadId::parse(raw).map_err(|_| no_such_thread())
}

/// A comment id from a path; text that cannot be an id names no comment (404).
pub(crate) fn comment_in_path(raw: &str) -> ApiResult<CommentId> {
    CommentId::parse(raw).map_err(|_| AppError::NotFound("no such comment".into()))
}

fn no_such_thread() -> AppError {
    AppError::NotFound("no such thread".into())
}

/// One thread with its anchor resolved against the current text, by an id as text (the
/// cluster's notices carry it so).
pub async fn thread_by_id(
    state: &CommentsContext,
    doc: &DocId,
    thread_id: &str,
) -> ApiResult<ThreadResponse> {
    thread_now(state, doc, &thread_in_path(thread_id)?).await
}

/// One thread with its anchor resolved against the current text.
pub async fn thread_now(
    state: &CommentsContext,
    doc: &DocId,
    thread_id: &ThreadId,
) -> ApiResult<ThreadResponse> {
    let row = load_thread(state, doc, thread_id).await?;
    respond(state, doc, vec![row])
        .await?
        .pop()
        .ok_or_else(no_such_thread)
}

/// Loads one thread, resolves it, tells the room's subscribers, and returns it.
pub(crate) async fn publish_thread(
    state: &CommentsContext,
    doc: &DocId,
    thread_id: &ThreadId,
) -> ApiResult<ThreadResponse> {
    let thread = thread_now(state, doc, thread_id).await?;
    events::publish(
        state,
        doc,
        ThreadEvent::Thread {
            thread: Box::new(thread.clone()),
        },
    )
    .await;
    Ok(thread)
}

pub(crate) async fn load_thread(
    state: &CommentsContext,
    doc: &DocId,
    thread_id: &ThreadId,
) -> ApiResult<(ThreadRow, Vec<CommentRow>)> {
    state
        .db
        .thread(doc, thread_id)
        .await?
        .ok_or_else(no_such_thread)
}

/// Opens a thread on a range (commenters, editors, owners).
#[utoipa::path(post, path = "/api/documents/{id}/threads", tag = "threads", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = CreateThreadRequest,
    responses((status = 201, body = ThreadResponse), (status = 403, body = ErrorResponse),
        (status = 409, description = "remiss_closed: after the svarsdatum or in phase avslutad", body = ErrorResponse),
        (status = 422, body = ErrorResponse),
        (status = 429, body = ErrorResponse, description = "The user's thread quota is spent",
            headers(("Retry-After" = u64, description = "Seconds until one more is allowed")))))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn create_thread(
    State(state): State<CommentsContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<CreateThreadRequest>,
) -> ApiResult<(StatusCode, ApiJson<ThreadResponse>)> {
    let crate::auth::Grant { doc, role } =
        crate::auth::authorize(&state.db, &who, &id, Role::Commenter).await?;
    let suggestion = request.kind == ThreadKind::Suggestion;
    let body = check_text(&request.body, "comment", !suggestion)?;
    let mentioned = mentions::parse(request.mentions.as_deref())?;
    quota::check(&state.db, &state.limits, &who.user, Creation::Thread).await?;
    let proposal = if suggestion {
        Some(suggested_text(request.proposal.as_deref())?)
    } else {
        request
            .proposal
            .as_deref()
            .map(|p| check_text(p, "proposal", false))
            .transpose()?
    };
    let stance = changes::stance_with(request.stance, proposal.as_deref());
    let anchor = Anchor::decode(&request.anchor.start, &request.anchor.end)?;
    let probe = anchor.clone();
    let (resolved, version) = state
        .rooms
        .read(&doc, move |d| {
            let resolved = if suggestion {
                anchor::resolve_new_suggestion(d, &probe)
            } else {
                anchor::resolve_new(d, &probe)
            };
            (resolved, d.transact().state_vector().encode_v1())
        })
        .await
        .map_err(|e| AppError::Unavailable(e.to_string()))?;
    let (resolved, anchor) = resolved?;
    if suggestion && proposal.as_deref() == Some(resolved.quote.as_str()) {
        return Err(AppError::Unprocessable(
            "the suggestion changes nothing: its text is the text it replaces".into(),
        ));
    }
    let thread_id = ThreadId::generate();
    let new = NewThread {
        id: &thread_id,
        comment_id: &CommentId::generate(),
        doc: &doc,
        anchor_start: &anchor.start,
        anchor_end: &anchor.end,
        quote: &resolved.quote,
        paragraph: resolved.paragraph,
        block: resolved.block.as_deref(),
        doc_version: &version,
        author: author(&who),
        stance,
        proposal: proposal.as_deref(),
        kind: request.kind,
        body: &body,
    };
    let mut tx = state.db.transaction_for(&doc).await?;
    changes::open_thread(&mut tx, &who, role, &new, &mentioned).await?;
    tx.commit().await?;
    let thread = publish_thread(&state, &doc, &thread_id).await?;
    Ok((StatusCode::CREATED, ApiJson(thread)))
}

/// Threads with their anchors resolved against the current text, oldest first.
#[utoipa::path(get, path = "/api/documents/{id}/threads", tag = "threads", security(("bearer" = [])),
    params(("id" = String, Path), ThreadFilter),
    responses((status = 200, body = [ThreadResponse]), (status = 403, body = ErrorResponse)))]
pub async fn list_threads(
    State(state): State<CommentsContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(filter): ApiQuery<ThreadFilter>,
) -> ApiResult<ApiJson<Vec<ThreadResponse>>> {
    let doc = crate::auth::authorize(&state.db, &who, &id, Role::Viewer)
        .await?
        .doc;
    let rows = state.db.threads(&doc).await?;
    let rows = rows
        .into_iter()
        .filter(|(t, _)| filter.status.is_none_or(|s| t.status == s))
        .filter(|(t, _)| filter.org.as_deref().is_none_or(|o| t.org_id == o))
        .filter(|(t, _)| filter.stance.is_none_or(|s| t.stance == Some(s)))
        .filter(|(t, _)| filter.kind.is_none_or(|k| t.kind == k))
        .collect();
    let mut threads = respond(&state, &doc, rows).await?;
    if let Some(paragraph) = filter.paragraph {
        threads.retain(|t| t.anchor.paragraph == Some(paragraph));
    }
    Ok(ApiJson(threads))
}

/// One thread.
#[utoipa::path(get, path = "/api/documents/{id}/threads/{thread_id}", tag = "threads", security(("bearer" = [])),
    params(("id" = String, Path), ("thread_id" = String, Path)),
    responses((status = 200, body = ThreadResponse), (status = 404, body = ErrorResponse)))]
pub async fn get_thread(
    State(state): State<CommentsContext>,
    AuthUser(who): AuthUser,
    ApiPath((id, thread_id)): ApiPath<(String, String)>,
) -> ApiResult<ApiJson<ThreadResponse>> {
    let doc = crate::auth::authorize(&state.db, &who, &id, Role::Viewer)
        .await?
        .doc;
    let thread_id = thread_in_path(&thread_id)?;
    Ok(ApiJson(thread_now(&state, &doc, &thread_id).await?))
}

/// Replies in a thread (commenters, editors, owners).
#[utoipa::path(post, path = "/api/documents/{id}/threads/{thread_id}/comments", tag = "threads", security(("bearer" = [])),
    params(("id" = String, Path), ("thread_id" = String, Path)), request_body = CommentRequest,
    responses((status = 201, body = ThreadResponse), (status = 403, body = ErrorResponse),
        (status = 409, description = "remiss_closed: after the svarsdatum or in phase avslutad, for all but the owners", body = ErrorResponse)))]
pub async fn reply(
    State(state): State<CommentsContext>,
    AuthUser(who): AuthUser,
    ApiPath((id, thread_id)): ApiPath<(String, String)>,
    ApiJson(request): ApiJson<CommentRequest>,
) -> ApiResult<(StatusCode, ApiJson<ThreadResponse>)> {
    let crate::auth::Grant { doc, role } =
        crate::auth::authorize(&state.db, &who, &id, Role::Commenter).await?;
    let thread_id = thread_in_path(&thread_id)?;
    let body = check_text(&request.body, "comment", true)?;
    let mentioned = mentions::parse(request.mentions.as_deref())?;
    let mut tx = state.db.transaction_for(&doc).await?;
    let on = Change::new(&doc, &who, role, &thread_id);
    changes::reply(&mut tx, on, &CommentId::generate(), &body, &mentioned).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(publish_thread(&state, &doc, &thread_id).await?),
    ))
}

/// Edits one's own comment. The earlier wording is kept as a revision (`…/revisions`).
#[utoipa::path(patch, path = "/api/documents/{id}/threads/{thread_id}/comments/{comment_id}", tag = "threads",
    security(("bearer" = [])),
    params(("id" = String, Path), ("thread_id" = String, Path), ("comment_id" = String, Path)), request_body = CommentRequest,
    responses((status = 200, body = ThreadResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, description = "thread_resolved: the thread is resolved, or was when the comment was in it; \
            remiss_closed: after the svarsdatum or in phase avslutad, for all but the owners", body = ErrorResponse)))]
pub async fn edit_comment(
    State(state): State<CommentsContext>,
    AuthUser(who): AuthUser,
    ApiPath((id, thread_id, comment_id)): ApiPath<(String, String, String)>,
    ApiJson(request): ApiJson<CommentRequest>,
) -> ApiResult<ApiJson<ThreadResponse>> {
    let crate::auth::Grant { doc, role } =
        crate::auth::authorize(&state.db, &who, &id, Role::Commenter).await?;
    let thread_id = thread_in_path(&thread_id)?;
    let comment_id = comment_in_path(&comment_id)?;
    let body = check_text(&request.body, "comment", true)?;
    let mentioned = mentions::parse(request.mentions.as_deref())?;
    let mut tx = state.db.transaction_for(&doc).await?;
    let on = Change::new(&doc, &who, role, &thread_id);
    changes::edit_comment(&mut tx, on, &comment_id, &body, &mentioned).await?;
    tx.commit().await?;
    Ok(ApiJson(publish_thread(&state, &doc, &thread_id).await?))
}

/// Deletes (withdraws) one's own comment: its place in the thread stays, marked `deleted`
/// with who and when and with an empty `body`; its text is kept for the owners and the
/// author's organisation (`…/revisions`).
#[utoipa::path(delete, path = "/api/documents/{id}/threads/{thread_id}/comments/{comment_id}", tag = "threads",
    security(("bearer" = [])),
    params(("id" = String, Path), ("thread_id" = String, Path), ("comment_id" = String, Path)),
    responses((status = 200, body = ThreadResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, description = "thread_resolved: the thread is resolved, or was when the comment was in it; \
            remiss_closed: after the svarsdatum or in phase avslutad, for all but the owners", body = ErrorResponse)))]
pub async fn delete_comment(
    State(state): State<CommentsContext>,
    AuthUser(who): AuthUser,
    ApiPath((id, thread_id, comment_id)): ApiPath<(String, String, String)>,
) -> ApiResult<ApiJson<ThreadResponse>> {
    let crate::auth::Grant { doc, role } =
        crate::auth::authorize(&state.db, &who, &id, Role::Commenter).await?;
    let thread_id = thread_in_path(&thread_id)?;
    let comment_id = comment_in_path(&comment_id)?;
    let mut tx = state.db.transaction_for(&doc).await?;
    let on = Change::new(&doc, &who, role, &thread_id);
    changes::delete_comment(&mut tx, on, &comment_id).await?;
    tx.commit().await?;
    Ok(ApiJson(publish_thread(&state, &doc, &thread_id).await?))
}

/// Resolves a thread with an outcome and a motivation (owners).
#[utoipa::path(post, path = "/api/documents/{id}/threads/{thread_id}/resolve", tag = "threads", security(("bearer" = [])),
    params(("id" = String, Path), ("thread_id" = String, Path)), request_body = ResolveRequest,
    responses((status = 200, body = ThreadResponse), (status = 403, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
pub async fn resolve_thread(
    State(state): State<CommentsContext>,
    AuthUser(who): AuthUser,
    ApiPath((id, thread_id)): ApiPath<(String, String)>,
    ApiJson(request): ApiJson<ResolveRequest>,
) -> ApiResult<ApiJson<ThreadResponse>> {
    let crate::auth::Grant { doc, role } =
        crate::auth::authorize(&state.db, &who, &id, Role::Owner).await?;
    let thread_id = thread_in_path(&thread_id)?;
    let motivation = check_text(&request.motivation, "motivation", false)?;
    let mut tx = state.db.transaction_for(&doc).await?;
    let on = Change::new(&doc, &who, role, &thread_id);
    changes::resolve_thread(&mut tx, on, request.outcome, &motivation).await?;
    tx.commit().await?;
    Ok(ApiJson(publish_thread(&state, &doc, &thread_id).await?))
}

/// Opens a resolved thread again (owners).
#[utoipa::path(post, path = "/api/documents/{id}/threads/{thread_id}/reopen", tag = "threads", security(("bearer" = [])),
    params(("id" = String, Path), ("thread_id" = String, Path)),
    responses((status = 200, body = ThreadResponse), (status = 403, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
pub async fn reopen_thread(
    State(state): State<CommentsContext>,
    AuthUser(who): AuthUser,
    ApiPath((id, thread_id)): ApiPath<(String, String)>,
) -> ApiResult<ApiJson<ThreadResponse>> {
    let crate::auth::Grant { doc, role } =
        crate::auth::authorize(&state.db, &who, &id, Role::Owner).await?;
    let thread_id = thread_in_path(&thread_id)?;
    let mut tx = state.db.transaction_for(&doc).await?;
    changes::reopen_thread(&mut tx, Change::new(&doc, &who, role, &thread_id)).await?;
    tx.commit().await?;
    Ok(ApiJson(publish_thread(&state, &doc, &thread_id).await?))
}

/// Moves a thread to a new range, e.g. after its text was deleted (owners, or the
/// thread's author); the original quote stays.
#[utoipa::path(put, path = "/api/documents/{id}/threads/{thread_id}/anchor", tag = "threads", security(("bearer" = [])),
    params(("id" = String, Path), ("thread_id" = String, Path)), request_body = ReanchorRequest,
    responses((status = 200, body = ThreadResponse), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse),
        (status = 409, description = "remiss_closed: after the svarsdatum or in phase avslutad, for all but the owners", body = ErrorResponse)))]
pub async fn reanchor_thread(
    State(state): State<CommentsContext>,
    AuthUser(who): AuthUser,
    ApiPath((id, thread_id)): ApiPath<(String, String)>,
    ApiJson(request): ApiJson<ReanchorRequest>,
) -> ApiResult<ApiJson<ThreadResponse>> {
    let crate::auth::Grant { doc, role } =
        crate::auth::authorize(&state.db, &who, &id, Role::Commenter).await?;
    let thread_id = thread_in_path(&thread_id)?;
    let anchor = Anchor::decode(&request.anchor.start, &request.anchor.end)?;
    let (_, anchor) = state
        .rooms
        .read(&doc, move |d| anchor::resolve_new(d, &anchor))
        .await
        .map_err(|e| AppError::Unavailable(e.to_string()))??;
    let mut tx = state.db.transaction_for(&doc).await?;
    let on = Change::new(&doc, &who, role, &thread_id);
    changes::reanchor_thread(&mut tx, on, &anchor.start, &anchor.end).await?;
    tx.commit().await?;
    Ok(ApiJson(publish_thread(&state, &doc, &thread_id).await?))
}

/// Accepts a change proposal (owners): the server replaces the anchored text with the
/// proposal, as an edit every client receives, and resolves the thread as `beaktad`.
/// When the anchored text is not what the proposal was written against, it answers 409
/// `anchor_changed` with both texts, unless the request confirms the current one
/// (`expectedQuote`); see `proposal::accept`.
#[utoipa::path(post, path = "/api/documents/{id}/threads/{thread_id}/proposal/accept", tag = "threads",
    security(("bearer" = [])),
    params(("id" = String, Path), ("thread_id" = String, Path)), request_body = DecideProposalRequest,
    responses((status = 200, body = ThreadResponse), (status = 403, body = ErrorResponse),
        (status = 409, description = "anchor_changed: the anchored text is not the text the proposal was written against \
            (nor the expectedQuote sent); anchor_orphaned: it is all deleted; conflict: resolved, no proposal, or spans blocks a join may not (a table, a list, over 10 paragraphs)",
            body = AnchorConflictResponse)))]
pub async fn accept_proposal(
    State(state): State<CommentsContext>,
    AuthUser(who): AuthUser,
    ApiPath((id, thread_id)): ApiPath<(String, String)>,
    ApiJson(request): ApiJson<DecideProposalRequest>,
) -> ApiResult<ApiJson<ThreadResponse>> {
    let crate::auth::Grant { doc, role } =
        crate::auth::authorize(&state.db, &who, &id, Role::Owner).await?;
    let thread_id = thread_in_path(&thread_id)?;
    let motivation = check_text(&request.motivation, "motivation", false)?;
    let decision = Decision {
        doc: &doc,
        who: &who,
        role,
        motivation: &motivation,
    };
    let thread = accept_one(&state, &decision, &thread_id, request.expected_quote).await?;
    Ok(ApiJson(thread))
}

/// An owner's decision on a document's proposals, as single and bulk decisions share it.
pub(crate) struct Decision<'a> {
    pub doc: &'a DocId,
    pub who: &'a crate::auth::Identity,
    pub role: Role,
    pub motivation: &'a str,
}

/// Accepts one thread's proposal: under the document's decision lock (so no other
/// decision applies it too), the room makes exactly the suggested change (see
/// `proposal::accept`), written under the suggesting user and organisation so the
/// authorship read-outs credit them, and one transaction resolves the thread as
/// `beaktad` with its audit entries; every client is told.
pub(crate) async fn accept_one(
    state: &CommentsContext,
    decision: &Decision<'_>,
    thread_id: &ThreadId,
    expected_quote: Option<String>,
) -> ApiResult<ThreadResponse> {
    let doc = decision.doc;
    let _decision = state.decisions.lock(doc).await;
    let (row, _) = open_proposal(state, doc, thread_id).await?;
    let writer = suggester(&row).unwrap_or_else(|| Author {
        user: decision.who.user.clone(),
        org: decision.who.org.clone(),
    });
    let written_by = writer.org.as_str().to_owned();
    let on = Change::new(doc, decision.who, decision.role, thread_id);
    // The thread is this decision's on every node before the room edit (see
    // `comments::decisions`).
    let mut tx = state.db.transaction_for(doc).await?;
    let claim = match decisions::claim(&mut tx, doc, thread_id).await? {
        Claimed::Fresh { client, deadline } => (client, deadline),
        Claimed::AlreadyApplied => {
            // A dead node's edit was stored: record it, without editing again.
            let anchor = (row.anchor_start.as_slice(), row.anchor_end.as_slice());
            changes::accept_proposal(&mut tx, on, anchor, decision.motivation, &written_by).await?;
            tx.set_decision_claim(thread_id, None, None).await?;
            tx.commit().await?;
            return publish_thread(state, doc, thread_id).await;
        }
    };
    tx.commit().await?;
    let acceptance = proposal::Acceptance {
        anchor: Anchor {
            start: row.anchor_start.clone(),
            end: row.anchor_end.clone(),
        },
        original_quote: row.original_quote.clone(),
        expected_quote,
        proposal: row.proposal.clone().unwrap_or_default(),
        claim: Some(claim),
    };
    let edited = state
        .rooms
        .edit(doc, writer, move |d| proposal::accept(d, &acceptance))
        .await;
    let moved = match edited {
        Ok(Ok(moved)) => moved,
        Ok(Err(refused)) => return Err(released(state, doc, thread_id, refused.into()).await),
        Err(error) => return Err(released(state, doc, thread_id, edit_failed(error)).await),
    };
    let mut tx = state.db.transaction_for(doc).await?;
    let moved = (moved.start.as_slice(), moved.end.as_slice());
    changes::accept_proposal(&mut tx, on, moved, decision.motivation, &written_by).await?;
    tx.set_decision_claim(thread_id, None, None).await?;
    tx.commit().await?;
    publish_thread(state, doc, thread_id).await
}

/// Lifts a decision's claim after its edit was not made, so the thread is free again at
/// once rather than after the lease, and hands back why. The client id stays: were the
/// edit stored after all, the next decision would find it. A failure to lift is logged;
/// the lease then ends the claim.
async fn released(
    state: &CommentsContext,
    doc: &DocId,
    thread: &ThreadId,
    error: AppError,
) -> AppError {
    let lifted = async {
        let mut tx = state.db.transaction_for(doc).await?;
        tx.set_decision_claim(thread, None, None).await?;
        tx.commit().await
    };
    if let Err(failure) = lifted.await {
        tracing::warn!(%failure, "lifting a decision's claim failed; it expires with its lease");
    }
    error
}

/// The user and organisation that opened the thread, whom accepted text is attributed
/// to; `None` for a row whose ids no longer parse (then the accepting owner writes it).
fn suggester(row: &ThreadRow) -> Option<Author> {
    Some(Author {
        user: crate::ids::UserId::parse(row.author_id.as_str()).ok()?,
        org: crate::ids::OrgId::parse(row.org_id.as_str()).ok()?,
    })
}

/// Why the room made no edit, as the status that tells the client what to do: a stale
/// or deep document is a conflict (409), a deleted one is gone (410), a change the
/// server could not store is worth retrying (503), and a change it could not make or
/// apply is its own fault (500). The editor's own refusal comes back beside it, typed.
fn edit_failed(error: EditError) -> AppError {
    match error {
        EditError::Declined | EditError::ReadOnly => AppError::Conflict(error.to_string()),
        EditError::Deleted => AppError::Archived(error.to_string()),
        EditError::NotStored | EditError::MustReload | EditError::Room(_) => {
            AppError::Unavailable(error.to_string())
        }
        EditError::Malformed(_) | EditError::NotApplied | EditError::Unattributable(_) => {
            AppError::Internal(error.into())
        }
    }
}

/// Rejects a change proposal with a motivation (owners): resolved as `ej_beaktad`.
#[utoipa::path(post, path = "/api/documents/{id}/threads/{thread_id}/proposal/reject", tag = "threads",
    security(("bearer" = [])),
    params(("id" = String, Path), ("thread_id" = String, Path)), request_body = DecideProposalRequest,
    responses((status = 200, body = ThreadResponse), (status = 403, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
pub async fn reject_proposal(
    State(state): State<CommentsContext>,
    AuthUser(who): AuthUser,
    ApiPath((id, thread_id)): ApiPath<(String, String)>,
    ApiJson(request): ApiJson<DecideProposalRequest>,
) -> ApiResult<ApiJson<ThreadResponse>> {
    let crate::auth::Grant { doc, role } =
        crate::auth::authorize(&state.db, &who, &id, Role::Owner).await?;
    let thread_id = thread_in_path(&thread_id)?;
    let motivation = check_text(&request.motivation, "motivation", false)?;
    let decision = Decision {
        doc: &doc,
        who: &who,
        role,
        motivation: &motivation,
    };
    Ok(ApiJson(reject_one(&state, &decision, &thread_id).await?))
}

/// Rejects one thread's proposal under the document's decision lock (so an acceptance
/// under way finishes first and this one finds the thread resolved), and tells every
/// client. The text is not touched.
pub(crate) async fn reject_one(
    state: &CommentsContext,
    decision: &Decision<'_>,
    thread_id: &ThreadId,
) -> ApiResult<ThreadResponse> {
    let doc = decision.doc;
    let _decision = state.decisions.lock(doc).await;
    let mut tx = state.db.transaction_for(doc).await?;
    // An acceptance under way on another node holds the thread (409); a dead node's
    // acceptance whose edit was stored stands, and only accepting can record it.
    if decisions::claim(&mut tx, doc, thread_id).await? == Claimed::AlreadyApplied {
        return Err(AppError::Conflict(
            "an earlier acceptance of this proposal was applied to the text; accept it to record it"
                .into(),
        ));
    }
    let on = Change::new(doc, decision.who, decision.role, thread_id);
    changes::reject_proposal(&mut tx, on, decision.motivation).await?;
    tx.set_decision_claim(thread_id, None, None).await?;
    tx.commit().await?;
    publish_thread(state, doc, thread_id).await
}

pub(crate) async fn open_proposal(
    state: &CommentsContext,
    doc: &DocId,
    thread_id: &ThreadId,
) -> ApiResult<(ThreadRow, Vec<CommentRow>)> {
    let (row, comments) = load_thread(state, doc, thread_id).await?;
    if row.proposal.is_none() {
        return Err(AppError::Conflict("the thread carries no proposal".into()));
    }
    if row.status != ThreadStatus::Open {
        return Err(AppError::Conflict("the thread is already resolved".into()));
    }
    Ok((row, comments))
}
