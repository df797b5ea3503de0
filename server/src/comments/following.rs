//! Following threads and documents (issue 17): who hears of a new reply or a new thread.
//!
//! A user follows a thread they wrote in, or opened in the web app, until they choose
//! otherwise; they can follow or unfollow any thread, and the whole document. The
//! choices are rows of `follows` (`thread_id` '' for the document), so an explicit
//! choice always wins over the automatic one: unfollowing a thread one wrote in stops its
//! replies reaching one, and opening it again does not undo that.
//!
//! Whom that reaches is decided in `notifications::raise`, which reads `follows` in SQL
//! (the thread's followers for `thread_reply`, the document's for `thread_opened`), with
//! the same rule as [`Db::following`] here:
//! a thread is followed when its row says so, or when it has no row and the user wrote
//! in it or follows the document.
//!
//! A choice is the user's own preference, not part of the record, so it is written
//! straight to the pool without an audit entry.

use std::sync::Arc;

use axum::extract::{FromRef, State};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{AuthUser, Role, TokenKeys};
use crate::comments::CommentsContext;
use crate::comments::routes::thread_in_path;
use crate::error::{ApiJson, ApiPath, ApiResult, AppError, ErrorResponse};
use crate::ids::{DocId, ThreadId, UserId};
use crate::on_pool;
use crate::storage::{Db, StoreError, now_ms};

/// What the caller follows in one document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FollowingResponse {
    /// The whole document: every new thread, and every reply in a thread not unfollowed.
    pub document: bool,
    /// The ids of the threads whose replies reach the caller, oldest first.
    pub threads: Vec<String>,
}

/// `PUT …/following`: follow (`true`) or stop following (`false`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowRequest {
    pub following: bool,
}

/// How a choice is written: chosen by the user, or made automatically (kept only when
/// the user never chose).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Choice {
    Chosen(bool),
    Automatic,
}

impl Db {
    /// Writes `user`'s choice for `doc`'s thread `thread` ('' : the document).
    async fn set_follow(
        &self,
        user: &UserId,
        doc: &DocId,
        thread: &str,
        choice: Choice,
    ) -> Result<(), StoreError> {
        let (following, on_conflict) = match choice {
            Choice::Chosen(following) => (
                following,
                "DO UPDATE SET following = excluded.following, updated_at = excluded.updated_at",
            ),
            Choice::Automatic => (true, "DO NOTHING"),
        };
        let sql = format!(
            "INSERT INTO follows (user_id, doc_id, thread_id, following, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (user_id, doc_id, thread_id) {on_conflict}"
        );
        on_pool!(self, pool => {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(user.as_str())
                .bind(doc.as_str())
                .bind(thread)
                .bind(i64::from(following))
                .bind(now_ms())
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// What `user` follows in `doc` (see the module's rule).
    pub async fn following(
        &self,
        user: &UserId,
        doc: &DocId,
    ) -> Result<FollowingResponse, StoreError> {
        let document: i64 = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM follows WHERE user_id = $1 AND doc_id = $2 \
                 AND thread_id = '' AND following = 1")
                .bind(user.as_str())
                .bind(doc.as_str())
                .fetch_one(pool)
                .await?
        });
        let threads: Vec<String> = on_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT t.id FROM threads t WHERE t.doc_id = $2 AND (EXISTS (SELECT 1 FROM follows f \
                 WHERE f.user_id = $1 AND f.doc_id = $2 AND f.thread_id = t.id AND f.following = 1) \
                 OR (NOT EXISTS (SELECT 1 FROM follows f WHERE f.user_id = $1 AND f.doc_id = $2 AND f.thread_id = t.id) \
                 AND (t.author_id = $1 OR EXISTS (SELECT 1 FROM comments c WHERE c.thread_id = t.id AND c.author_id = $1) \
                 OR EXISTS (SELECT 1 FROM follows f WHERE f.user_id = $1 AND f.doc_id = $2 AND f.thread_id = '' \
                 AND f.following = 1)))) ORDER BY t.created_at, t.id",
            )
            .bind(user.as_str())
            .bind(doc.as_str())
            .fetch_all(pool)
            .await?
        });
        Ok(FollowingResponse {
            document: document > 0,
            threads,
        })
    }

    async fn has_thread(&self, doc: &DocId, thread: &ThreadId) -> Result<bool, StoreError> {
        let found: i64 = on_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM threads WHERE id = $1 AND doc_id = $2")
                .bind(thread.as_str())
                .bind(doc.as_str())
                .fetch_one(pool)
                .await?
        });
        Ok(found > 0)
    }
}

/// The routes of this module.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    CommentsContext: FromRef<S>,
    Arc<TokenKeys>: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(get_following, follow_document))
        .routes(routes!(follow_thread))
        .routes(routes!(thread_opened))
}

/// What the caller follows in this document. Any member may ask.
#[utoipa::path(get, path = "/api/documents/{id}/following", tag = "threads", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = FollowingResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn get_following(
    State(state): State<CommentsContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<FollowingResponse>> {
    let doc = crate::auth::authorize(&state.db, &who, &id, Role::Viewer)
        .await?
        .doc;
    Ok(ApiJson(state.db.following(&who.user, &doc).await?))
}

/// Follows the whole document (every new thread, and replies in threads not unfollowed)
/// or stops following it. Any member may.
#[utoipa::path(put, path = "/api/documents/{id}/following", tag = "threads", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = FollowRequest,
    responses((status = 200, body = FollowingResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn follow_document(
    State(state): State<CommentsContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<FollowRequest>,
) -> ApiResult<ApiJson<FollowingResponse>> {
    let doc = crate::auth::authorize(&state.db, &who, &id, Role::Viewer)
        .await?
        .doc;
    let choice = Choice::Chosen(request.following);
    state.db.set_follow(&who.user, &doc, "", choice).await?;
    Ok(ApiJson(state.db.following(&who.user, &doc).await?))
}

/// Follows one thread (its replies reach the caller) or stops following it, even one
/// the caller wrote in. Any member may.
#[utoipa::path(put, path = "/api/documents/{id}/threads/{thread_id}/following", tag = "threads",
    security(("bearer" = [])),
    params(("id" = String, Path), ("thread_id" = String, Path)), request_body = FollowRequest,
    responses((status = 200, body = FollowingResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn follow_thread(
    State(state): State<CommentsContext>,
    AuthUser(who): AuthUser,
    ApiPath((id, thread_id)): ApiPath<(String, String)>,
    ApiJson(request): ApiJson<FollowRequest>,
) -> ApiResult<ApiJson<FollowingResponse>> {
    let (doc, thread) = member_thread(&state, &who, &id, &thread_id).await?;
    let choice = Choice::Chosen(request.following);
    state
        .db
        .set_follow(&who.user, &doc, thread.as_str(), choice)
        .await?;
    Ok(ApiJson(state.db.following(&who.user, &doc).await?))
}

/// Tells the server the caller opened a thread (the web app does when a thread card is
/// opened): they follow it from now on, unless they chose not to.
#[utoipa::path(post, path = "/api/documents/{id}/threads/{thread_id}/opened", tag = "threads",
    security(("bearer" = [])),
    params(("id" = String, Path), ("thread_id" = String, Path)),
    responses((status = 200, body = FollowingResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn thread_opened(
    State(state): State<CommentsContext>,
    AuthUser(who): AuthUser,
    ApiPath((id, thread_id)): ApiPath<(String, String)>,
) -> ApiResult<ApiJson<FollowingResponse>> {
    let (doc, thread) = member_thread(&state, &who, &id, &thread_id).await?;
    state
        .db
        .set_follow(&who.user, &doc, thread.as_str(), Choice::Automatic)
        .await?;
    Ok(ApiJson(state.db.following(&who.user, &doc).await?))
}

/// The document (the caller a member of it) and one of its threads (else 404).
async fn member_thread(
    state: &CommentsContext,
    who: &crate::auth::Identity,
    id: &str,
    thread_id: &str,
) -> ApiResult<(DocId, ThreadId)> {
    let doc = crate::auth::authorize(&state.db, who, id, Role::Viewer)
        .await?
        .doc;
    let thread = thread_in_path(thread_id)?;
    if !state.db.has_thread(&doc, &thread).await? {
        return Err(AppError::NotFound("no such thread".into()));
    }
    Ok((doc, thread))
}
