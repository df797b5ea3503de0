//! `GET /api/documents/{id}/threads/{tid}/comments/{cid}/revisions`: every wording of a
//! comment, oldest first, the first being the text as received.
//!
//! A comment is an official record once received, so an edit adds a revision and a
//! delete withdraws the comment without erasing it. Who reads what: every member reads
//! the wordings of a live comment (its current text is shown to them anyway); a withdrawn
//! comment's wordings are for the owners, who keep the record, and for the author's own
//! organisation; anyone else gets 403.

use std::sync::Arc;

use axum::extract::{FromRef, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{AuthUser, Role, TokenKeys};
use crate::comments::CommentsContext;
use crate::comments::model::RevisionResponse;
use crate::comments::routes::{comment_in_path, thread_in_path};
use crate::error::{ApiJson, ApiPath, ApiResult, AppError, ErrorResponse};

/// The routes of this module, each with its OpenAPI operation: `routes!` takes the path
/// and method from the handler's `#[utoipa::path]`, so they are written once.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    CommentsContext: FromRef<S>,
    Arc<TokenKeys>: FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(list_revisions))
}

/// Every wording of a comment, oldest first (the first is the text as received). A
/// withdrawn comment's text stays readable here by the owners and the author's
/// organisation.
#[utoipa::path(get, path = "/api/documents/{id}/threads/{thread_id}/comments/{comment_id}/revisions",
    tag = "threads", security(("bearer" = [])),
    params(("id" = String, Path), ("thread_id" = String, Path), ("comment_id" = String, Path)),
    responses((status = 200, body = [RevisionResponse]),
        (status = 403, description = "a withdrawn comment, and the caller is neither an owner nor of its author's organisation", body = ErrorResponse),
        (status = 404, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn list_revisions(
    State(state): State<CommentsContext>,
    AuthUser(who): AuthUser,
    ApiPath((id, thread_id, comment_id)): ApiPath<(String, String, String)>,
) -> ApiResult<ApiJson<Vec<RevisionResponse>>> {
    let crate::auth::Grant { doc, role } =
        crate::auth::authorize(&state.db, &who, &id, Role::Viewer).await?;
    let thread_id = thread_in_path(&thread_id)?;
    let comment_id = comment_in_path(&comment_id)?;
    let (_, comments) = state
        .db
        .thread(&doc, &thread_id)
        .await?
        .ok_or_else(|| AppError::NotFound("no such thread".into()))?;
    let comment = comments
        .iter()
        .find(|c| c.id == comment_id)
        .ok_or_else(|| AppError::NotFound("no such comment".into()))?;
    if comment.deleted_at.is_some() && role != Role::Owner && comment.org_id != who.org.as_str() {
        return Err(AppError::Forbidden(
            "the comment was withdrawn; its text is kept for the owners and its author's organisation"
                .into(),
        ));
    }
    let revisions = state.db.revisions(&thread_id, &comment_id).await?;
    Ok(ApiJson(revisions.into_iter().map(Into::into).collect()))
}
