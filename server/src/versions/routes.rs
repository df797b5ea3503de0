//! `/api/documents/{id}/versions…`: save (owners), list, read, Markdown, diff.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRef, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use yrs::{ReadTxn, StateVector, Transact};

use crate::auth::{AuthUser, Role, TokenKeys};
use crate::documents::content::{self, Format};
use crate::error::{ApiJson, ApiPath, ApiQuery, ApiResult, AppError, ErrorResponse};
use crate::ids::{DocId, OrgId, UserId, VersionId};
use crate::storage::authorship;
use crate::storage::now_ms;
use crate::versions::VersionsContext;
use crate::versions::authors::{self, Authorship, Side, attribute};
use crate::versions::changes;
use crate::versions::diff::{diff_paragraphs, paragraphs};
use crate::versions::model::*;
use crate::versions::store::NewVersion;

/// What `to` says for the live text.
const CURRENT: &str = "current";

/// The routes of this module, each with its OpenAPI operation: `routes!` takes the path
/// and method from the handler's `#[utoipa::path]`, so they are written once.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    VersionsContext: FromRef<S>,
    Arc<TokenKeys>: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list_versions, save_version))
        .routes(routes!(diff_versions))
        .routes(routes!(get_version))
        .routes(routes!(version_markdown))
}

fn check_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::Unprocessable(format!(
            "the name must be 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(AppError::Unprocessable(
            "the name contains control characters".into(),
        ));
    }
    Ok(name.to_owned())
}

fn no_such_version() -> AppError {
    AppError::NotFound("no such version".into())
}

/// A version id from a path or a query; text that cannot be an id names no version (404).
fn version_in_path(raw: &str) -> ApiResult<VersionId> {
    VersionId::parse(raw).map_err(|_| no_such_version())
}

/// Runs CPU-bound work (decoding a state, diffing) off the async workers.
async fn blocking<R: Send + 'static>(work: impl FnOnce() -> R + Send + 'static) -> ApiResult<R> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::Internal(e.into()))
}

/// The stored state of a version as a fresh `Doc`, handed to `read`.
async fn read_version<R: Send + 'static>(
    state: &VersionsContext,
    doc: &DocId,
    vid: &VersionId,
    read: impl FnOnce(&yrs::Doc) -> R + Send + 'static,
) -> ApiResult<R> {
    let bytes = state
        .db
        .version_state(doc, vid)
        .await?
        .ok_or_else(no_such_version)?;
    blocking(move || read(&content::doc_from_parts(None, [bytes.as_slice()]))).await
}

/// Saves the document as it stands now as a named version (owners). Versions are
/// never changed or deleted.
#[utoipa::path(post, path = "/api/documents/{id}/versions", tag = "remiss", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = CreateVersionRequest,
    responses((status = 201, body = VersionResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn save_version(
    State(state): State<VersionsContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<CreateVersionRequest>,
) -> ApiResult<(StatusCode, ApiJson<VersionResponse>)> {
    let doc = crate::auth::authorize(&state.db, &who, &id, Role::Owner)
        .await?
        .doc;
    let name = check_name(&request.name)?;
    // Read through the room: its Doc holds exactly what is durable.
    let bytes = state
        .rooms
        .read(&doc, |d| {
            d.transact()
                .encode_state_as_update_v1(&StateVector::default())
        })
        .await
        .map_err(|e| AppError::Unavailable(e.to_string()))?;
    let (bytes, count) = blocking(move || {
        let count = paragraphs(&content::doc_from_parts(None, [bytes.as_slice()])).len();
        (bytes, count)
    })
    .await?;
    let row = VersionRow {
        id: VersionId::generate(),
        doc_id: doc.clone(),
        name,
        paragraphs: i64::try_from(count).unwrap_or(i64::MAX),
        created_by: who.user.to_string(),
        created_by_name: who.name.clone(),
        created_by_org: who.org.to_string(),
        created_at: now_ms(),
    };
    let version = NewVersion {
        id: &row.id,
        doc: &doc,
        name: &row.name,
        state: &bytes,
        paragraphs: row.paragraphs,
        created_by: &row.created_by,
        created_by_name: &row.created_by_name,
        created_by_org: &row.created_by_org,
        created_at: row.created_at,
    };
    let mut tx = state.db.transaction_for(&doc).await?;
    changes::save(&mut tx, &version, &who).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, ApiJson(row.into())))
}

/// The document's named versions, oldest first.
#[utoipa::path(get, path = "/api/documents/{id}/versions", tag = "remiss", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = [VersionResponse]), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
pub async fn list_versions(
    State(state): State<VersionsContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<Vec<VersionResponse>>> {
    let doc = crate::auth::authorize(&state.db, &who, &id, Role::Viewer)
        .await?
        .doc;
    let rows = state.db.versions(&doc).await?;
    Ok(ApiJson(rows.into_iter().map(Into::into).collect()))
}

/// One named version.
#[utoipa::path(get, path = "/api/documents/{id}/versions/{vid}", tag = "remiss", security(("bearer" = [])),
    params(("id" = String, Path), ("vid" = String, Path)),
    responses((status = 200, body = VersionResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
pub async fn get_version(
    State(state): State<VersionsContext>,
    AuthUser(who): AuthUser,
    ApiPath((id, vid)): ApiPath<(String, String)>,
) -> ApiResult<ApiJson<VersionResponse>> {
    let doc = crate::auth::authorize(&state.db, &who, &id, Role::Viewer)
        .await?
        .doc;
    let vid = version_in_path(&vid)?;
    let row = state
        .db
        .version(&doc, &vid)
        .await?
        .ok_or_else(no_such_version)?;
    Ok(ApiJson(row.into()))
}

/// A named version's text as Markdown (the same renderer as the live document's).
#[utoipa::path(get, path = "/api/documents/{id}/versions/{vid}/markdown", tag = "remiss", security(("bearer" = [])),
    params(("id" = String, Path), ("vid" = String, Path)),
    responses((status = 200, content_type = "text/markdown", body = String), (status = 404, body = ErrorResponse)))]
pub async fn version_markdown(
    State(state): State<VersionsContext>,
    AuthUser(who): AuthUser,
    ApiPath((id, vid)): ApiPath<(String, String)>,
) -> ApiResult<Response> {
    let doc = crate::auth::authorize(&state.db, &who, &id, Role::Viewer)
        .await?
        .doc;
    let vid = version_in_path(&vid)?;
    let markdown =
        read_version(&state, &doc, &vid, |d| content::render(d, Format::Markdown)).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
        markdown,
    )
        .into_response())
}

/// Compares a version with another (or with the live text) paragraph by paragraph;
/// changed paragraphs carry word-level operations.
#[utoipa::path(get, path = "/api/documents/{id}/versions/diff", tag = "remiss", security(("bearer" = [])),
    params(("id" = String, Path), DiffQuery),
    responses((status = 200, body = DiffResponse), (status = 400, body = ErrorResponse),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
pub async fn diff_versions(
    State(state): State<VersionsContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<DiffQuery>,
) -> ApiResult<ApiJson<DiffResponse>> {
    let doc = crate::auth::authorize(&state.db, &who, &id, Role::Viewer)
        .await?
        .doc;
    let from = state
        .db
        .version(&doc, &version_in_path(&query.from)?)
        .await?
        .ok_or_else(no_such_version)?;
    let from_state = state
        .db
        .version_state(&doc, &from.id)
        .await?
        .ok_or_else(no_such_version)?;
    let (to, to_state) = match query.to.as_deref().unwrap_or(CURRENT) {
        CURRENT => {
            let live = state
                .rooms
                .read(&doc, |d| {
                    d.transact()
                        .encode_state_as_update_v1(&StateVector::default())
                })
                .await
                .map_err(|e| AppError::Unavailable(e.to_string()))?;
            (None, live)
        }
        vid => {
            let row = state
                .db
                .version(&doc, &version_in_path(vid)?)
                .await?
                .ok_or_else(no_such_version)?;
            let bytes = state
                .db
                .version_state(&doc, &row.id)
                .await?
                .ok_or_else(no_such_version)?;
            (Some(row.into()), bytes)
        }
    };
    // Read after the states: the journal stores bindings and deletions with the update
    // they come with, before any room or version holds it.
    let bindings = authorship::bindings(&state.db, &doc).await?;
    let deletions = authorship::deletions(&state.db, &doc).await?;
    let mut paragraphs = blocking(move || {
        let before = Side::read(&content::doc_from_parts(None, [from_state.as_slice()]));
        let after = Side::read(&content::doc_from_parts(None, [to_state.as_slice()]));
        let mut diff = diff_paragraphs(&before.texts, &after.texts);
        let who = Authorship::new(&bindings, &deletions).map_err(|e| {
            AppError::Internal(anyhow::Error::new(e).context("a stored delete set"))
        })?;
        attribute(&mut diff, &before, &after, &who);
        Ok::<_, AppError>(diff)
    })
    .await??;
    let (org_ids, user_ids) = authors::named(&paragraphs);
    let mut orgs = HashMap::new();
    for org in org_ids {
        if let Some(row) = state.db.org(&OrgId::parse(org.as_str())?).await? {
            orgs.insert(org, row.name);
        }
    }
    let mut users = HashMap::new();
    for user in user_ids {
        if let Some(row) = state.db.user(&UserId::parse(user.as_str())?).await? {
            users.insert(user, row.name);
        }
    }
    authors::name(&mut paragraphs, &orgs, &users);
    Ok(ApiJson(DiffResponse {
        from: from.into(),
        to,
        paragraphs,
    }))
}
