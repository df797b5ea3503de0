//! `POST /api/login`, `GET /api/me`, `PUT /api/me/password`, `GET /api/organisations`
//! and `POST /api/ws-ticket`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, FromRef, State};
use axum::http::HeaderValue;
use axum::http::header::SET_COOKIE;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

use crate::auth::jwt::Identity;
use crate::auth::password::{hash_password, verify_password};
use crate::auth::session;
use crate::auth::{AuthUser, TokenKeys};
use crate::config::Config;
use crate::error::{ApiJson, ApiResult, AppError};
use crate::ids::{OrgId, UserId};
use crate::limits::{ClientIp, Limits, LoginLimit, Throttled};
use crate::metrics::Metrics;
use crate::storage::Db;

/// How long a token from a password login lasts: a working day.
pub const LOGIN_TOKEN_TTL: Duration = Duration::from_secs(12 * 3600);
/// Longest username or password looked at; longer input is refused (422
/// `credentials_too_long`) before the throttle or the hash sees it.
pub const MAX_CREDENTIAL_CHARS: usize = 256;
/// Largest login body: two fields of [`MAX_CREDENTIAL_CHARS`] with room for JSON
/// escapes. Larger bodies get 413 before they are parsed (the general limit is 4 MiB,
/// and issue 13 sent 4 MB usernames).
const MAX_LOGIN_BODY_BYTES: usize = 16 * 1024;

/// What these routes need of the server's state; any state with these parts provides it,
/// so this module does not depend on the whole `AppState`.
#[derive(Clone)]
pub struct LoginContext {
    pub db: Db,
    /// Whether the session cookie is `Secure` (`--public-url` is https).
    pub config: Arc<Config>,
    pub tokens: Arc<TokenKeys>,
    pub limits: Arc<Limits>,
    pub metrics: Arc<Metrics>,
}

impl<S> FromRef<S> for LoginContext
where
    Db: FromRef<S>,
    Arc<Config>: FromRef<S>,
    Arc<TokenKeys>: FromRef<S>,
    Arc<Limits>: FromRef<S>,
    Arc<Metrics>: FromRef<S>,
{
    fn from_ref(state: &S) -> Self {
        Self {
            db: Db::from_ref(state),
            config: Arc::from_ref(state),
            tokens: Arc::from_ref(state),
            limits: Arc::from_ref(state),
            metrics: Arc::from_ref(state),
        }
    }
}

/// The routes of this module, each with its OpenAPI operation: `routes!` takes the path
/// and method from the handler's `#[utoipa::path]`, so they are written once.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    LoginContext: FromRef<S>,
    Arc<TokenKeys>: FromRef<S>,
    Arc<Limits>: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(login).layer(DefaultBodyLimit::max(MAX_LOGIN_BODY_BYTES)))
        .routes(routes!(me))
        .routes(routes!(list_organisations))
        .routes(routes!(ws_ticket))
        .routes(routes!(change_password).layer(DefaultBodyLimit::max(MAX_LOGIN_BODY_BYTES)))
}

/// The caller's current password and the new one.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// Changes the caller's own password.
///
/// The current password is checked under the login throttle (keyed by the user id), so
/// a stolen token cannot be used to guess it. The change ends the user's other
/// sign-ins; the answer carries a fresh token for this one.
#[utoipa::path(put, path = "/api/me/password", tag = "auth", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = crate::error::ErrorResponse),
        (status = 422, body = crate::error::ErrorResponse, description = "New password under 10 characters, or a field over 256"),
        (status = 429, body = crate::error::ErrorResponse, description = "Too many wrong current passwords")))]
#[tracing::instrument(skip_all, fields(user = %identity.user))]
pub async fn change_password(
    State(state): State<LoginContext>,
    ClientIp(ip): ClientIp,
    AuthUser(identity): AuthUser,
    ApiJson(request): ApiJson<ChangePasswordRequest>,
) -> ApiResult<SignedIn> {
    if request.current_password.chars().count() > MAX_CREDENTIAL_CHARS
        || request.new_password.chars().count() > MAX_CREDENTIAL_CHARS
    {
        return Err(AppError::Refused {
            code: "credentials_too_long",
            message: format!("passwords are at most {MAX_CREDENTIAL_CHARS} characters"),
        });
    }
    crate::auth::directory::check_new_password(&request.new_password).map_err(|e| {
        AppError::Refused {
            code: "password_too_short",
            message: e.to_string(),
        }
    })?;
    let attempt = state
        .limits
        .logins
        .attempt(identity.user.as_str(), ip)
        .map_err(|throttled| login_throttled(&state, throttled))?;
    let hash = state.db.password_hash(&identity.user).await?;
    if !verify_password(hash, request.current_password).await? {
        return Err(AppError::Unauthorized(
            "the current password is wrong".into(),
        ));
    }
    attempt.succeeded();
    let new_hash = hash_password(request.new_password).await?;
    let mut tx = state.db.transaction().await?;
    tx.set_password(&identity.user, &new_hash)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    tx.commit().await?;
    // This node refuses the older tokens now, not at its next recheck.
    state.tokens.revocations().refresh(&state.db).await?;
    let token = state.tokens.issue(&identity, LOGIN_TOKEN_TTL)?;
    let user = me_response(&state, identity).await?;
    Ok(signed_in(&state, ApiJson(LoginResponse { token, user })))
}

/// A single-use ticket to open one WebSocket with.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TicketResponse {
    /// Send as `?token=` on `GET /ws/{doc_id}`; good once.
    pub ticket: String,
    /// Seconds it is good for.
    pub expires_in: u64,
}

/// Issues a single-use WebSocket ticket (30 s) for the caller, so a page opens its socket
/// without putting its long-lived token in the URL. A ticket is refused as a bearer
/// token, and a second socket with it closes with 4401.
#[utoipa::path(post, path = "/api/ws-ticket", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = TicketResponse), (status = 401, body = crate::error::ErrorResponse)))]
pub async fn ws_ticket(
    State(state): State<LoginContext>,
    AuthUser(identity): AuthUser,
) -> ApiResult<ApiJson<TicketResponse>> {
    Ok(ApiJson(TicketResponse {
        ticket: state.tokens.issue_ticket(&identity)?,
        expires_in: crate::auth::jwt::TICKET_TTL.as_secs(),
    }))
}

/// Credentials for a password login.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// A token and who it is for.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer …`. The browser need not keep it: the answer also
    /// sets the HttpOnly session cookie, and the WebSocket takes a ticket
    /// (`POST /api/ws-ticket`).
    pub token: String,
    pub user: MeResponse,
}

/// The caller as the server sees them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MeResponse {
    pub id: String,
    pub name: String,
    pub org: String,
    pub org_name: String,
    /// A server-wide administrator: the web app shows "Administration".
    pub admin: bool,
    /// Signs in with a password here (and so may change it).
    pub has_password: bool,
}

/// An organisation that can be invited to a document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrganisationResponse {
    pub id: String,
    pub name: String,
}

/// Logs in with a username and password and returns a token.
///
/// Failed attempts slow down the account from that address and are capped per client
/// address (429 with `Retry-After`); a throttled attempt is refused before the password
/// is looked at, so the answer says nothing about it. Fields over 256 characters are
/// refused (422) before anything about them is kept.
#[utoipa::path(post, path = "/api/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = crate::error::ErrorResponse),
        (status = 413, body = crate::error::ErrorResponse, description = "Body over 16 KiB"),
        (status = 422, body = crate::error::ErrorResponse, description = "A field over 256 characters"),
        (status = 429, body = crate::error::ErrorResponse, description = "Too many failed attempts",
            headers(("Retry-After" = u64, description = "Seconds until the next attempt counts")))))]
#[tracing::instrument(skip(state, request), fields(username = tracing::field::Empty))]
pub async fn login(
    State(state): State<LoginContext>,
    ClientIp(ip): ClientIp,
    ApiJson(request): ApiJson<LoginRequest>,
) -> ApiResult<SignedIn> {
    if request.username.chars().count() > MAX_CREDENTIAL_CHARS
        || request.password.chars().count() > MAX_CREDENTIAL_CHARS
    {
        return Err(AppError::Refused {
            code: "credentials_too_long",
            message: format!(
                "the username and password are at most {MAX_CREDENTIAL_CHARS} characters each"
            ),
        });
    }
    tracing::Span::current().record("username", request.username.as_str());
    let attempt = state
        .limits
        .logins
        .attempt(&request.username, ip)
        .map_err(|throttled| login_throttled(&state, throttled))?;
    let response = check_login(&state, request).await?;
    attempt.succeeded();
    Ok(signed_in(&state, response))
}

/// A sign-in's answer: the token in the body for API clients, and the same token in the
/// HttpOnly session cookie for the browser (`auth::session`).
type SignedIn = (
    [(axum::http::HeaderName, HeaderValue); 1],
    ApiJson<LoginResponse>,
);

fn signed_in(state: &LoginContext, ApiJson(response): ApiJson<LoginResponse>) -> SignedIn {
    let cookie = session::session_cookie(
        &response.token,
        state.config.secure_cookies(),
        LOGIN_TOKEN_TTL,
    );
    ([(SET_COOKIE, cookie)], ApiJson(response))
}

/// Counts a throttled login and answers it.
fn login_throttled(state: &LoginContext, throttled: Throttled) -> AppError {
    let hits = &state.metrics.limit_hits;
    let (counter, message) = match throttled.limit {
        LoginLimit::Account => (
            &hits.login_account,
            "too many failed logins for this account from this address",
        ),
        LoginLimit::Address => (&hits.login_ip, "too many failed logins from this address"),
    };
    counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    tracing::info!(?throttled.limit, "login throttled");
    AppError::TooManyRequests {
        message: format!("{message}; try again later"),
        retry_after: throttled.retry_after,
    }
}

/// The password check behind [`login`].
async fn check_login(
    state: &LoginContext,
    request: LoginRequest,
) -> ApiResult<ApiJson<LoginResponse>> {
    if !state.tokens.can_issue() {
        return Err(AppError::BadRequest(
            "password login is disabled: this server trusts an external identity provider".into(),
        ));
    }
    let row = state.db.find_login(request.username.trim()).await?;
    let hash = row.as_ref().and_then(|r| r.password_hash.clone());
    if !verify_password(hash, request.password).await? {
        return Err(AppError::Unauthorized("wrong username or password".into()));
    }
    let row = row.ok_or_else(|| AppError::Unauthorized("wrong username or password".into()))?;
    // Said only to whoever knows the password: it tells them nothing new.
    if row.disabled_at.is_some() {
        return Err(AppError::Unauthorized("this account is disabled".into()));
    }
    let identity = Identity {
        user: UserId::parse(row.id)?,
        name: row.name,
        org: OrgId::parse(row.org_id)?,
    };
    let token = state.tokens.issue(&identity, LOGIN_TOKEN_TTL)?;
    state.db.record_sign_in(&identity.user).await?;
    let user = me_response(state, identity).await?;
    Ok(ApiJson(LoginResponse { token, user }))
}

/// Who the token belongs to.
#[utoipa::path(get, path = "/api/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = MeResponse), (status = 401, body = crate::error::ErrorResponse)))]
pub async fn me(
    State(state): State<LoginContext>,
    AuthUser(identity): AuthUser,
) -> ApiResult<ApiJson<MeResponse>> {
    Ok(ApiJson(me_response(&state, identity).await?))
}

/// Every organisation known to this server, by name.
#[utoipa::path(get, path = "/api/organisations", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = [OrganisationResponse])))]
pub async fn list_organisations(
    State(state): State<LoginContext>,
    _caller: AuthUser,
) -> ApiResult<ApiJson<Vec<OrganisationResponse>>> {
    let orgs = state.db.orgs().await?;
    Ok(ApiJson(
        orgs.into_iter()
            .map(|o| OrganisationResponse {
                id: o.id,
                name: o.name,
            })
            .collect(),
    ))
}

async fn me_response(state: &LoginContext, identity: Identity) -> ApiResult<MeResponse> {
    let org_name = state
        .db
        .org(&identity.org)
        .await?
        .map_or_else(|| identity.org.to_string(), |o| o.name);
    let stored = state.db.user(&identity.user).await?;
    let admin = stored
        .as_ref()
        .is_some_and(|u| u.is_admin != 0 && u.disabled_at.is_none());
    let has_password = stored.is_some_and(|u| u.has_password != 0);
    Ok(MeResponse {
        id: identity.user.to_string(),
        name: identity.name,
        org: identity.org.to_string(),
        org_name,
        admin,
        has_password,
    })
}
