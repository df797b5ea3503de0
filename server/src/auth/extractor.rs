//! The `AuthUser` extractor: a handler that takes one is only reached with a valid token,
//! from `Authorization: Bearer` (API clients) or the session cookie (the browser, under
//! the cross-site rules of [`crate::auth::session`]).

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::auth::jwt::{AuthError, Identity, TokenKeys};
use crate::auth::session;
use crate::error::AppError;

/// The caller, from `Authorization: Bearer <jwt>` or the session cookie.
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

/// Needs only the token keys, so any state that has them will do.
impl<S> FromRequestParts<S> for AuthUser
where
    S: Send + Sync,
    Arc<TokenKeys>: FromRef<S>,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let tokens = Arc::<TokenKeys>::from_ref(state);
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            let token = session::cookie_value(&parts.headers, session::SESSION_COOKIE)
                .ok_or(AuthError::Missing)?;
            session::check_csrf(&parts.method, &parts.headers)
                .map_err(|e| AppError::Forbidden(e.to_string()))?;
            return Ok(AuthUser(tokens.verify_bearer(token)?));
        };
        let header = header
            .to_str()
            .map_err(|_| AuthError::Invalid("the Authorization header is not text".into()))?;
        let token = header
            .strip_prefix("Bearer ")
            .ok_or_else(|| AuthError::Invalid("expected `Authorization: Bearer <token>`".into()))?;
        Ok(AuthUser(tokens.verify_bearer(token.trim())?))
    }
}

/// The token a request presents, read as the extractor reads it (the bearer header, else
/// the session cookie), for a long-lived response that must check it again later (the
/// notification stream ends when the token expires or its user is disabled).
pub fn presented_token(headers: &HeaderMap) -> Option<&str> {
    match headers.get(AUTHORIZATION) {
        Some(header) => header.to_str().ok()?.strip_prefix("Bearer ").map(str::trim),
        None => session::cookie_value(headers, session::SESSION_COOKIE),
    }
}
