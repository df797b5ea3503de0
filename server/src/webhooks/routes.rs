//! `/api/documents/{id}/webhooks…` (owners): register, list, remove, and the deliveries
//! with every attempt.

use std::collections::HashMap;

use std::sync::Arc;

use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{AuthUser, Role, TokenKeys};
use crate::error::{ApiJson, ApiPath, ApiResult, AppError, ErrorResponse};
use crate::ids::{DeliveryId, DocId, WebhookId};
use crate::storage::now_ms;
use crate::webhooks::WebhooksContext;
use crate::webhooks::changes;
use crate::webhooks::model::*;
use crate::webhooks::signature::new_secret;
use crate::webhooks::target;

/// Most webhooks one document may have.
pub const MAX_WEBHOOKS_PER_DOCUMENT: usize = 20;

/// The routes of this module, each with its OpenAPI operation: `routes!` takes the path
/// and method from the handler's `#[utoipa::path]`, so they are written once.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    WebhooksContext: FromRef<S>,
    Arc<TokenKeys>: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(delete_webhook))
        .routes(routes!(list_deliveries))
}

impl From<target::TargetError> for AppError {
    fn from(e: target::TargetError) -> Self {
        AppError::Refused {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

/// The webhook `wid` (from a path) of `doc`, or 404: text that cannot be an id names no
/// webhook either.
async fn own_webhook(state: &WebhooksContext, doc: &DocId, wid: &str) -> ApiResult<WebhookRow> {
    let no_such_webhook = || AppError::NotFound("no such webhook".into());
    let wid = WebhookId::parse(wid).map_err(|_| no_such_webhook())?;
    state
        .db
        .webhook(&wid)
        .await?
        .filter(|w| w.doc_id == *doc)
        .ok_or_else(no_such_webhook)
}

/// Registers a URL for some of the document's events (owners). The answer carries the
/// signing secret; it is never shown again.
#[utoipa::path(post, path = "/api/documents/{id}/webhooks", tag = "remiss", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = CreateWebhookRequest,
    responses((status = 201, body = CreatedWebhookResponse), (status = 403, body = ErrorResponse),
        (status = 409, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn create_webhook(
    State(state): State<WebhooksContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<CreateWebhookRequest>,
) -> ApiResult<(StatusCode, ApiJson<CreatedWebhookResponse>)> {
    let doc = crate::auth::authorize(&state.db, &who, &id, Role::Owner)
        .await?
        .doc;
    let url = target::check_resolved(&request.url, state.config.webhook_allow_http).await?;
    let mut events = request.events;
    events.sort_by_key(|e| Event::ALL.iter().position(|a| a == e));
    events.dedup();
    if events.is_empty() {
        return Err(AppError::Unprocessable("name at least one event".into()));
    }
    if state.db.webhooks(&doc).await?.len() >= MAX_WEBHOOKS_PER_DOCUMENT {
        return Err(AppError::Conflict(format!(
            "a document has at most {MAX_WEBHOOKS_PER_DOCUMENT} webhooks"
        )));
    }
    let row = WebhookRow {
        id: WebhookId::generate(),
        doc_id: doc.clone(),
        url: url.to_string(),
        events: events
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join(","),
        secret: new_secret(),
        created_by: who.user.to_string(),
        created_at: now_ms(),
    };
    let mut tx = state.db.transaction_for(&doc).await?;
    changes::register(&mut tx, &doc, &row, &events, &who).await?;
    tx.commit().await?;
    let secret = row.secret.clone();
    Ok((
        StatusCode::CREATED,
        ApiJson(CreatedWebhookResponse {
            webhook: row.into(),
            secret,
        }),
    ))
}

/// The document's webhooks, without their secrets (owners).
#[utoipa::path(get, path = "/api/documents/{id}/webhooks", tag = "remiss", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = [WebhookResponse]), (status = 403, body = ErrorResponse)))]
pub async fn list_webhooks(
    State(state): State<WebhooksContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<Vec<WebhookResponse>>> {
    let doc = crate::auth::authorize(&state.db, &who, &id, Role::Owner)
        .await?
        .doc;
    let rows = state.db.webhooks(&doc).await?;
    Ok(ApiJson(rows.into_iter().map(Into::into).collect()))
}

/// Removes a webhook and its queued deliveries (owners).
#[utoipa::path(delete, path = "/api/documents/{id}/webhooks/{wid}", tag = "remiss", security(("bearer" = [])),
    params(("id" = String, Path), ("wid" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
pub async fn delete_webhook(
    State(state): State<WebhooksContext>,
    AuthUser(who): AuthUser,
    ApiPath((id, wid)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    let doc = crate::auth::authorize(&state.db, &who, &id, Role::Owner)
        .await?
        .doc;
    let hook = own_webhook(&state, &doc, &wid).await?;
    let mut tx = state.db.transaction_for(&doc).await?;
    changes::remove(&mut tx, &doc, &hook, &who).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A webhook's deliveries, oldest first, each with its attempts (owners).
#[utoipa::path(get, path = "/api/documents/{id}/webhooks/{wid}/deliveries", tag = "remiss", security(("bearer" = [])),
    params(("id" = String, Path), ("wid" = String, Path)),
    responses((status = 200, body = [DeliveryResponse]), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
pub async fn list_deliveries(
    State(state): State<WebhooksContext>,
    AuthUser(who): AuthUser,
    ApiPath((id, wid)): ApiPath<(String, String)>,
) -> ApiResult<ApiJson<Vec<DeliveryResponse>>> {
    let doc = crate::auth::authorize(&state.db, &who, &id, Role::Owner)
        .await?
        .doc;
    let hook = own_webhook(&state, &doc, &wid).await?;
    let (deliveries, attempts) = state.db.deliveries(&hook.id).await?;
    let mut by_delivery: HashMap<DeliveryId, Vec<AttemptResponse>> = HashMap::new();
    for attempt in attempts {
        by_delivery
            .entry(attempt.delivery_id.clone())
            .or_default()
            .push(attempt.into());
    }
    let list = deliveries
        .into_iter()
        .map(|d| DeliveryResponse {
            event: d.event,
            status: d.status,
            created_at: d.created_at,
            next_attempt_at: (d.status == DeliveryStatus::Pending).then_some(d.next_attempt_at),
            attempts: by_delivery.remove(&d.id).unwrap_or_default(),
            id: d.id.into(),
        })
        .collect();
    Ok(ApiJson(list))
}
