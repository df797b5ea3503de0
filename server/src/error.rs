//! One error type for every HTTP handler.
//!
//! Each domain module has its own error enum; they all convert into [`AppError`], which
//! decides the status code and the JSON body `{"error": code, "message": text}`. Server
//! faults (5xx) are logged with their cause and answered with generic text, so a database
//! message never reaches a client (realworld-axum-sqlx `http/error.rs` does the same).

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::storage::StoreError;

/// The body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorResponse {
    /// A stable machine-readable code, e.g. `not_found`.
    pub error: &'static str,
    /// A sentence for people.
    pub message: String,
}

/// Everything a handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unprocessable(String),
    /// 422 with a code more precise than `unprocessable`, e.g. `webhook_internal_address`.
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// The remiss round no longer takes this contribution (after the svarsdatum or in
    /// `avslutad`); the message names the date or the phase.
    #[error("{0}")]
    RemissClosed(String),
    /// A 409 whose body carries more than `{error, message}`: `code` and `message`, then
    /// each field of `details` (an object), e.g. the quotes of `anchor_changed`.
    #[error("{message}")]
    ConflictWithDetails {
        code: &'static str,
        message: String,
        details: serde_json::Value,
    },
    /// The document is archived (`DELETE /api/documents/{id}`): 410 `document_archived`.
    #[error("{0}")]
    Archived(String),
    /// The comment belongs to a decision: its thread is resolved, or was when it was
    /// sealed, so its text can no longer change.
    #[error("{0}")]
    ThreadResolved(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    /// A limit was hit; the client may try again after `retry_after`.
    #[error("{message}")]
    TooManyRequests {
        message: String,
        retry_after: std::time::Duration,
    },
    #[error("the service is unavailable: {0}")]
    Unavailable(String),
    #[error("storage failure")]
    Storage(#[from] StoreError),
    #[error("internal failure")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Self::Unprocessable(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable"),
            Self::Refused { code, .. } => (StatusCode::UNPROCESSABLE_ENTITY, code),
            Self::RemissClosed(_) => (StatusCode::CONFLICT, "remiss_closed"),
            Self::ConflictWithDetails { code, .. } => (StatusCode::CONFLICT, code),
            Self::Archived(_) => (StatusCode::GONE, "document_archived"),
            Self::ThreadResolved(_) => (StatusCode::CONFLICT, "thread_resolved"),
            Self::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::Storage(StoreError::AuditTrailBroken(_)) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "audit_trail_broken")
            }
            Self::Storage(_) | Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = if status.is_server_error() {
            tracing::error!(error = ?self, "request failed");
            match &self {
                Self::Unavailable(_) => self.to_string(),
                Self::Storage(StoreError::AuditTrailBroken(_)) => {
                    "this document's audit trail does not verify, so the server records nothing \
                     more in it; an owner can see why at GET /api/documents/{id}/audit/verify"
                        .to_owned()
                }
                _ => "the server failed to handle the request; it has been logged".to_owned(),
            }
        } else {
            self.to_string()
        };
        if let Self::ConflictWithDetails { details, .. } = &self {
            let mut body = serde_json::json!({ "error": code, "message": message });
            if let (Some(body), Some(details)) = (body.as_object_mut(), details.as_object()) {
                for (key, value) in details {
                    body.entry(key.clone()).or_insert_with(|| value.clone());
                }
            }
            return (status, Json(body)).into_response();
        }
        let mut response = (
            status,
            Json(ErrorResponse {
                error: code,
                message,
            }),
        )
            .into_response();
        if let Self::TooManyRequests { retry_after, .. } = self {
            // Whole seconds, rounded up, so a client never comes back too early.
            let secs = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        response
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::JsonDataError(e) => Self::Unprocessable(e.body_text()),
            JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Self::PayloadTooLarge("the request body is too large".to_owned())
            }
            other => Self::BadRequest(other.body_text()),
        }
    }
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> Self {
        Self::BadRequest(rejection.body_text())
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> Self {
        Self::BadRequest(rejection.body_text())
    }
}

impl From<crate::ids::IdError> for AppError {
    fn from(e: crate::ids::IdError) -> Self {
        Self::BadRequest(e.to_string())
    }
}

/// `Json` whose rejections answer in our JSON error format instead of axum's plain text.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct ApiJson<T>(pub T);

impl<T: Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

/// `Path` with JSON rejections.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct ApiPath<T>(pub T);

/// `Query` with JSON rejections.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct ApiQuery<T>(pub T);

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, AppError>;
