//! `/api/documents/{id}/audit…`: read, export and verify a document's audit trail
//! (owners only: it names every person who took part). These routes also serve archived
//! documents: the trail outlives the document's place in lists and the editor.

use std::sync::Arc;

use axum::extract::{FromRef, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::audit::AuditContext;
use crate::audit::chain::{self, Verification};
use crate::audit::{self, Action, Entry};
use crate::auth::authorize_archived;
use crate::auth::{AuthUser, Role, TokenKeys};
use crate::csv_cell::cell;
use crate::error::{ApiJson, ApiPath, ApiQuery, ApiResult, AppError, ErrorResponse};

/// The routes of this module, each with its OpenAPI operation: `routes!` takes the path
/// and method from the handler's `#[utoipa::path]`, so they are written once.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    AuditContext: FromRef<S>,
    Arc<TokenKeys>: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(audit_trail))
        .routes(routes!(verify_trail))
}

/// Who did something.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActorResponse {
    pub id: String,
    pub name: String,
}

/// One entry of the trail.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntryResponse {
    /// 1, 2, 3… per document.
    pub seq: i64,
    pub at: i64,
    /// e.g. `thread_opened`; see the `Action` schema.
    pub action: String,
    /// `null` for the server's own doings (webhook deliveries).
    pub actor: Option<ActorResponse>,
    pub org: Option<String>,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
    /// HMAC-SHA256 of the entry under the audit key, so that an exported copy can be
    /// checked by whoever holds the key; `null` for entries from before keys.
    pub mac: Option<String>,
}

impl From<Entry> for AuditEntryResponse {
    fn from(e: Entry) -> Self {
        let actor = e
            .actor_id
            .zip(e.actor_name)
            .map(|(id, name)| ActorResponse { id, name });
        Self {
            seq: e.seq,
            at: e.at,
            action: e.action,
            actor,
            org: e.org_id,
            detail: serde_json::from_str(&e.detail).unwrap_or(serde_json::Value::Null),
            prev_hash: e.prev_hash,
            hash: e.hash,
            mac: e.mac,
        }
    }
}

/// How to read the trail.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    /// `json` (default) or `csv` (an export, itself recorded in the trail).
    pub format: Option<String>,
}

/// The document's audit trail, oldest first (owners).
#[utoipa::path(get, path = "/api/documents/{id}/audit", tag = "remiss", security(("bearer" = [])),
    params(("id" = String, Path), AuditQuery),
    responses((status = 200, body = [AuditEntryResponse]), (status = 200, content_type = "text/csv", body = String),
        (status = 400, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
pub async fn audit_trail(
    State(state): State<AuditContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> ApiResult<Response> {
    let doc = authorize_archived(&state.db, &who, &id, Role::Owner)
        .await?
        .doc;
    match query.format.as_deref().unwrap_or("json") {
        "json" => {
            let entries = audit::entries(&state.db, &doc).await?;
            let body: Vec<AuditEntryResponse> = entries.into_iter().map(Into::into).collect();
            Ok(ApiJson(body).into_response())
        }
        "csv" => {
            audit::record(
                &state.db,
                &doc,
                Some(&who),
                Action::ExportMade,
                json!({"what": "audit", "format": "csv"}),
            )
            .await?;
            let entries = audit::entries(&state.db, &doc).await?;
            let csv = to_csv(&entries).map_err(|e| AppError::Internal(e.into()))?;
            let disposition = format!("attachment; filename=\"granskningslogg-{doc}.csv\"");
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                csv,
            )
                .into_response())
        }
        other => Err(AppError::BadRequest(format!(
            "unknown format `{other}`: use json or csv"
        ))),
    }
}

/// Checks the whole trail (owners): the hash chain, each entry's MAC under the audit key,
/// and that the trail ends where its signed head says, so rewritten entries (even with
/// the later hashes recomputed) and entries removed from the end are both reported, with
/// the first bad entry's number and a reason code.
#[utoipa::path(get, path = "/api/documents/{id}/audit/verify", tag = "remiss", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Verification), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
pub async fn verify_trail(
    State(state): State<AuditContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<Verification>> {
    let doc = authorize_archived(&state.db, &who, &id, Role::Owner)
        .await?
        .doc;
    let key = audit::key::current()?;
    let head = audit::head::load(&state.db, &doc).await?;
    let entries = audit::entries(&state.db, &doc).await?;
    Ok(ApiJson(chain::verify(
        &key,
        doc.as_str(),
        &entries,
        head.as_ref(),
    )))
}

/// The trail as CSV with Swedish column names, one row per entry, hashes and MACs
/// included so an exported copy can be checked later. Every text cell goes through the compilation's
/// formula guard, since names and details are typed by users.
fn to_csv(entries: &[Entry]) -> Result<String, csv::Error> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record([
        "nr",
        "tid (ms)",
        "händelse",
        "användare",
        "namn",
        "organisation",
        "detaljer",
        "föregående hash",
        "hash",
        "mac",
    ])?;
    for e in entries {
        out.write_record([
            e.seq.to_string().as_str(),
            e.at.to_string().as_str(),
            &cell(&e.action),
            &cell(e.actor_id.as_deref().unwrap_or("")),
            &cell(e.actor_name.as_deref().unwrap_or("")),
            &cell(e.org_id.as_deref().unwrap_or("")),
            &cell(&e.detail),
            &e.prev_hash,
            &e.hash,
            e.mac.as_deref().unwrap_or(""),
        ])?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
