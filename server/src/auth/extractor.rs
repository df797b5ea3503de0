//! The `AuthUser` extractor: a handler that takes one is only reached with a valid token.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::app::AppState;
use crate::auth::jwt::{AuthError, Identity};
use crate::error::AppError;

/// The caller, from `Authorization: Bearer <jwt>`.
#[derive(Debug, Clone)]
pub struct AuthUser(pub Identity);

impl From<AuthError> for AppError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::CannotIssue => AppError::BadRequest(e.to_string()),
            AuthError::BadKey(_) => AppError::Internal(anyhow::anyhow!(e)),
            _ => AppError::Unauthorized(e.to_string()),
        }
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or(AuthError::Missing)?
            .to_str()
            .map_err(|_| AuthError::Invalid("the Authorization header is not text".into()))?;
        let token = header
            .strip_prefix("Bearer ")
            .ok_or_else(|| AuthError::Invalid("expected `Authorization: Bearer <token>`".into()))?;
        Ok(AuthUser(state.tokens.verify(token.trim())?))
    }
}
