//! Request bodies over `--max-body-bytes`.
//!
//! `DefaultBodyLimit` makes the extractors refuse them with 413. Our `ApiJson` already
//! answers that in the JSON error format; this layer catches any other extractor's
//! plain-text 413 so every refusal looks the same, and counts them all.
//!
//! A refused body is left unread, so the connection cannot carry another request: the
//! answer says `Connection: close`. Without it a client put the connection back in its
//! pool and its next request failed on the socket the server had closed (a flaky
//! "broken pipe" in the Word import test, seen in CI).

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AppError;
use crate::metrics::Metrics;

/// Counts 413 answers and turns any that are not JSON into our error format.
pub async fn oversized_bodies(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE {
        return response;
    }
    metrics.limit_hits.body_size.fetch_add(1, Relaxed);
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let mut response = if is_json {
        response
    } else {
        AppError::PayloadTooLarge("the request body is too large".into()).into_response()
    };
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
