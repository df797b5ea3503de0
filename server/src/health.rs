//! `GET /healthz` for load balancers and `GET /metrics` for Prometheus.

use std::sync::atomic::Ordering::Relaxed;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiJson;
use crate::state::AppState;

/// The routes of this module, each with its OpenAPI operation: `routes!` takes the path
/// and method from the handler's `#[utoipa::path]`, so they are written once.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(metrics))
}

/// The answer of `/healthz`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HealthResponse {
    /// `ok`, or `unavailable` when the database cannot be reached.
    pub status: &'static str,
    pub rooms_open: usize,
}

/// 200 when this node can reach its database, 503 otherwise.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, body = HealthResponse), (status = 503, body = HealthResponse)))]
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let rooms_open = state.rooms.open_rooms();
    match state.db.ping().await {
        Ok(()) => (
            StatusCode::OK,
            ApiJson(HealthResponse {
                status: "ok",
                rooms_open,
            }),
        ),
        Err(error) => {
            tracing::error!(%error, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                ApiJson(HealthResponse {
                    status: "unavailable",
                    rooms_open,
                }),
            )
        }
    }
}

/// Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    state
        .metrics
        .rooms_open
        .store(state.rooms.open_rooms() as i64, Relaxed);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
