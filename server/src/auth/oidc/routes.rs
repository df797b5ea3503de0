//! `GET /auth/oidc/login`, `GET /auth/oidc/callback` (the flag-given provider, or the
//! first), `GET /auth/oidc/{provider}/login` and `/callback` (each provider of
//! `--oidc-providers`), `POST /api/logout` and `GET /api/auth/methods`.
//!
//! The first two are browser navigations (redirects and, on refusal, an HTML page); the
//! other two are the web app's calls. A successful sign-in ends in the session cookie
//! ([`crate::auth::session`]) and a redirect to the web app, exactly as a password
//! sign-in ends in the cookie and the JSON answer.

use std::sync::Arc;

use axum::extract::{FromRef, Path, RawQuery, State};
use axum::http::header::{CACHE_CONTROL, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{AppendHeaders, Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::TokenKeys;
use crate::auth::oidc::flow::{FLOW_COOKIE, FLOW_COOKIE_PATH, FLOW_TTL, Flow};
use crate::auth::oidc::page::{self, Lang};
use crate::auth::oidc::{Oidc, OidcError, Providers, signin};
use crate::auth::routes::LOGIN_TOKEN_TTL;
use crate::auth::session::{self, SESSION_COOKIE};
use crate::config::Config;
use crate::error::ApiJson;
use crate::storage::Db;

/// Longest `code` or `state` looked at; real ones are under 100 characters.
const MAX_PARAM_CHARS: usize = 2048;

/// What these routes need of the server's state.
#[derive(Clone)]
pub struct OidcContext {
    pub db: Db,
    pub tokens: Arc<TokenKeys>,
    pub providers: Arc<Providers>,
    pub config: Arc<Config>,
}

/// The cookie that remembers, for the logout, which provider signed the browser in and
/// with which ID token (`{provider}.{id_token}`): sent only to `POST /api/logout`.
pub const IDP_COOKIE: &str = "forankra_idp";
const IDP_COOKIE_PATH: &str = "/api/logout";
/// Longest ID token kept for the logout: a browser drops cookies over 4 KiB, and an ID
/// token that large (a long `groups` claim) is left out; the logout then sends
/// `client_id` alone.
const MAX_KEPT_ID_TOKEN: usize = 3500;

impl<S> FromRef<S> for OidcContext
where
    Db: FromRef<S>,
    Arc<TokenKeys>: FromRef<S>,
    Arc<Providers>: FromRef<S>,
    Arc<Config>: FromRef<S>,
{
    fn from_ref(state: &S) -> Self {
        Self {
            db: Db::from_ref(state),
            tokens: Arc::from_ref(state),
            providers: Arc::from_ref(state),
            config: Arc::from_ref(state),
        }
    }
}

/// The routes of this module.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    OidcContext: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(start_sign_in))
        .routes(routes!(finish_sign_in))
        .routes(routes!(start_sign_in_at))
        .routes(routes!(finish_sign_in_at))
        .routes(routes!(logout))
        .routes(routes!(sign_in_methods))
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Starts a sign-in at the identity provider: a fresh state, nonce and PKCE verifier,
/// sealed into a cookie, and a redirect to the provider's authorization endpoint.
#[utoipa::path(get, path = "/auth/oidc/login", tag = "auth",
    responses((status = 303, description = "To the identity provider, with the sign-in cookie set"),
        (status = 404, description = "OpenID Connect is not configured (an HTML page)", content_type = "text/html"),
        (status = 502, description = "The provider's discovery document could not be read (an HTML page)", content_type = "text/html")))]
#[tracing::instrument(skip_all)]
pub async fn start_sign_in(State(ctx): State<OidcContext>, headers: HeaderMap) -> Response {
    let provider = ctx.providers.first().cloned();
    start(&ctx, provider.as_deref(), &headers).await
}

/// Starts a sign-in at one of the providers of `--oidc-providers`, by its id.
#[utoipa::path(get, path = "/auth/oidc/{provider}/login", tag = "auth",
    params(("provider" = String, Path, description = "The provider's id in the providers file")),
    responses((status = 303, description = "To the identity provider, with the sign-in cookie set"),
        (status = 404, description = "No such provider (an HTML page)", content_type = "text/html"),
        (status = 502, description = "The provider's discovery document could not be read (an HTML page)", content_type = "text/html")))]
#[tracing::instrument(skip_all, fields(provider = %provider))]
pub async fn start_sign_in_at(
    State(ctx): State<OidcContext>,
    Path(provider): Path<String>,
    headers: HeaderMap,
) -> Response {
    let found = ctx.providers.by_id(&provider).cloned();
    start(&ctx, found.as_deref(), &headers).await
}

async fn start(ctx: &OidcContext, oidc: Option<&Oidc>, headers: &HeaderMap) -> Response {
    let Some(oidc) = oidc else {
        return refusal(
            &OidcError::NotConfigured,
            headers,
            ctx.config.secure_cookies(),
        );
    };
    let flow = Flow::start(&oidc.id, unix_now());
    match oidc.authorization_url(&flow).await {
        Ok(location) => {
            let cookie = session::set_cookie(
                FLOW_COOKIE,
                &flow.seal(&oidc.flow_key),
                FLOW_COOKIE_PATH,
                oidc.secure_cookies,
                FLOW_TTL,
            );
            redirect(&location, cookie)
        }
        Err(error) => refusal(&error, headers, oidc.secure_cookies),
    }
}

/// What the provider sends the browser back with.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct CallbackQuery {
    /// The authorization code, on success.
    pub code: Option<String>,
    /// The state this server sent.
    pub state: Option<String>,
    /// The provider's error code, on refusal (e.g. `access_denied`).
    pub error: Option<String>,
    pub error_description: Option<String>,
}

impl CallbackQuery {
    /// Parses the query leniently (hostile input: repeated or unknown parameters, bad
    /// percent-encoding), so every answer is the HTML page rather than a plain-text
    /// rejection; the last value of a repeated parameter counts.
    fn parse(raw: Option<&str>) -> Self {
        let mut query = Self::default();
        for (key, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            let slot = match key.as_ref() {
                "code" => &mut query.code,
                "state" => &mut query.state,
                "error" => &mut query.error,
                "error_description" => &mut query.error_description,
                _ => continue,
            };
            *slot = Some(value.into_owned());
        }
        query
    }
}

/// Finishes a sign-in: checks the state against the sign-in cookie, redeems the code
/// (with the PKCE verifier), checks the ID token, maps the organisation, creates or
/// updates the user, sets the session cookie and sends the browser to the web app.
/// Every refusal is an HTML page (Swedish unless the browser prefers English).
#[utoipa::path(get, path = "/auth/oidc/callback", tag = "auth", params(CallbackQuery),
    responses((status = 303, description = "Signed in: the session cookie is set, on to the web app"),
        (status = 400, description = "Refused: no or another sign-in, a bad or replayed code, a bad ID token (an HTML page)", content_type = "text/html"),
        (status = 403, description = "The organisation is not mapped, or the account is disabled (an HTML page)", content_type = "text/html"),
        (status = 404, description = "OpenID Connect is not configured (an HTML page)", content_type = "text/html"),
        (status = 502, description = "The provider could not be reached (an HTML page)", content_type = "text/html")))]
#[tracing::instrument(skip_all)]
pub async fn finish_sign_in(
    State(ctx): State<OidcContext>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let provider = ctx.providers.first().cloned();
    finish_at(&ctx, provider.as_deref(), &headers, raw.as_deref()).await
}

/// Finishes a sign-in at one of the providers of `--oidc-providers`, as
/// `/auth/oidc/callback` does for the flag-given one.
#[utoipa::path(get, path = "/auth/oidc/{provider}/callback", tag = "auth",
    params(("provider" = String, Path, description = "The provider's id in the providers file"), CallbackQuery),
    responses((status = 303, description = "Signed in: the session cookie is set, on to the web app"),
        (status = 400, description = "Refused: no or another sign-in, a bad or replayed code, a bad ID token (an HTML page)", content_type = "text/html"),
        (status = 403, description = "The organisation is not mapped, or the account is disabled (an HTML page)", content_type = "text/html"),
        (status = 404, description = "No such provider (an HTML page)", content_type = "text/html"),
        (status = 502, description = "The provider could not be reached (an HTML page)", content_type = "text/html")))]
#[tracing::instrument(skip_all, fields(provider = %provider))]
pub async fn finish_sign_in_at(
    State(ctx): State<OidcContext>,
    Path(provider): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let found = ctx.providers.by_id(&provider).cloned();
    finish_at(&ctx, found.as_deref(), &headers, raw.as_deref()).await
}

async fn finish_at(
    ctx: &OidcContext,
    oidc: Option<&Oidc>,
    headers: &HeaderMap,
    raw: Option<&str>,
) -> Response {
    let secure = ctx.config.secure_cookies();
    match finish(ctx, oidc, headers, CallbackQuery::parse(raw)).await {
        Ok(cookies) => {
            let mut response = redirect("/", cookies.session);
            let set = response.headers_mut();
            set.append(
                SET_COOKIE,
                session::clear_cookie(FLOW_COOKIE, FLOW_COOKIE_PATH, secure),
            );
            set.append(SET_COOKIE, cookies.idp);
            response
        }
        Err(error) => refusal(&error, headers, secure),
    }
}

/// What a finished sign-in sets: the session, and what the logout needs.
struct SignedIn {
    session: HeaderValue,
    idp: HeaderValue,
}

/// The checks behind [`finish_sign_in`]; the cookies on success.
async fn finish(
    ctx: &OidcContext,
    oidc: Option<&Oidc>,
    headers: &HeaderMap,
    query: CallbackQuery,
) -> Result<SignedIn, OidcError> {
    let oidc = oidc.ok_or(OidcError::NotConfigured)?;
    let too_long = |v: &Option<String>| v.as_ref().is_some_and(|v| v.len() > MAX_PARAM_CHARS);
    if too_long(&query.code) || too_long(&query.state) {
        return Err(OidcError::Flow("a parameter is too long".into()));
    }
    let sealed = session::cookie_value(headers, FLOW_COOKIE).ok_or_else(|| {
        OidcError::Flow("no sign-in was started in this browser, or it has ended".into())
    })?;
    let state = query
        .state
        .ok_or_else(|| OidcError::Flow("the answer has no state".into()))?;
    let flow = Flow::open(sealed, &oidc.flow_key, &state, unix_now()).map_err(OidcError::Flow)?;
    if flow.provider != oidc.id {
        return Err(OidcError::Flow(
            "the sign-in was started at another identity provider".into(),
        ));
    }
    if let Some(error) = query.error {
        let description = query
            .error_description
            .map(|d| d.chars().take(300).collect());
        return Err(OidcError::Refused { error, description });
    }
    let code = query
        .code
        .ok_or_else(|| OidcError::Flow("the answer has no code".into()))?;
    let (claims, id_token) = oidc.redeem(&code, &flow).await?;
    let identity = signin::sign_in(&ctx.db, &oidc.settings, &claims).await?;
    let token = ctx.tokens.issue(&identity, LOGIN_TOKEN_TTL)?;
    tracing::info!(user = %identity.user, org = %identity.org, provider = %oidc.id, "signed in through the identity provider");
    let kept = if id_token.len() <= MAX_KEPT_ID_TOKEN {
        format!("{}.{id_token}", oidc.id)
    } else {
        oidc.id.clone()
    };
    Ok(SignedIn {
        session: session::session_cookie(&token, oidc.secure_cookies, LOGIN_TOKEN_TTL),
        idp: session::set_cookie(
            IDP_COOKIE,
            &kept,
            IDP_COOKIE_PATH,
            oidc.secure_cookies,
            LOGIN_TOKEN_TTL,
        ),
    })
}

fn redirect(location: &str, cookie: HeaderValue) -> Response {
    match HeaderValue::from_str(location) {
        Ok(location) => (
            StatusCode::SEE_OTHER,
            [
                (LOCATION, location),
                (SET_COOKIE, cookie),
                (CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
        )
            .into_response(),
        Err(_) => refusal_page(
            StatusCode::BAD_GATEWAY,
            "Inloggningen kunde inte slutföras",
            "Identitetsleverantörens adress går inte att använda.",
            Lang::Sv,
        ),
    }
}

/// The HTML page for a refused sign-in, removing the sign-in cookie.
fn refusal(error: &OidcError, headers: &HeaderMap, secure: bool) -> Response {
    match error {
        OidcError::Provider(_) | OidcError::Store(_) | OidcError::Session(_) => {
            tracing::error!(%error, "OpenID Connect sign-in failed");
        }
        _ => tracing::warn!(%error, "OpenID Connect sign-in refused"),
    }
    let lang = Lang::from_headers(headers);
    let (status, title, message) = page::explain(error, lang);
    let mut response = refusal_page(status, title, &message, lang);
    response.headers_mut().append(
        SET_COOKIE,
        session::clear_cookie(FLOW_COOKIE, FLOW_COOKIE_PATH, secure),
    );
    response
}

fn refusal_page(status: StatusCode, title: &str, message: &str, lang: Lang) -> Response {
    (
        status,
        [(CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        Html(page::render(title, message, lang)),
    )
        .into_response()
}

/// Where the browser goes after signing out.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogoutResponse {
    /// The identity provider's end-session URL, for a user who signed in there (so the
    /// provider's own sign-in ends too); `null`: stay in the web app.
    pub redirect: Option<String>,
}

/// Signs the browser out: removes the session cookie. A bearer token is not affected
/// (it expires, or an administrator ends the user's sign-ins).
#[utoipa::path(post, path = "/api/logout", tag = "auth",
    responses((status = 200, body = LogoutResponse, description = "The session cookie is removed")))]
#[tracing::instrument(skip_all)]
pub async fn logout(State(ctx): State<OidcContext>, headers: HeaderMap) -> impl IntoResponse {
    let signed_in_there = session::cookie_value(&headers, SESSION_COOKIE)
        .and_then(|token| ctx.tokens.verify_bearer(token).ok())
        .is_some_and(|identity| identity.user.as_str().starts_with("oidc-"));
    let redirect = if signed_in_there {
        end_session(&ctx, session::cookie_value(&headers, IDP_COOKIE)).await
    } else {
        None
    };
    let secure = ctx.config.secure_cookies();
    // `AppendHeaders`: a plain header array would keep only the last `Set-Cookie`.
    (
        AppendHeaders([
            (
                SET_COOKIE,
                session::clear_cookie(SESSION_COOKIE, "/", secure),
            ),
            (
                SET_COOKIE,
                session::clear_cookie(IDP_COOKIE, IDP_COOKIE_PATH, secure),
            ),
        ]),
        ApiJson(LogoutResponse { redirect }),
    )
}

/// The end-session URL of the provider the browser signed in at (from the logout
/// cookie, with its ID token as the hint), or of the first provider without a hint.
async fn end_session(ctx: &OidcContext, kept: Option<&str>) -> Option<String> {
    let (provider, id_token) = match kept.map(|k| k.split_once('.').unwrap_or((k, ""))) {
        Some((id, token)) => (
            ctx.providers.by_id(id),
            Some(token).filter(|t| !t.is_empty()),
        ),
        None => (ctx.providers.first(), None),
    };
    provider?.end_session_url(id_token).await
}

/// One identity provider on the login page.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignInProvider {
    pub id: String,
    /// The button's label; `null`: the web app's own ("Logga in med organisationens konto").
    pub name: Option<String>,
    /// Where the button leads (`/auth/oidc/login` or `/auth/oidc/{id}/login`).
    pub login_url: String,
}

/// How one may sign in on this server.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SignInMethods {
    /// `POST /api/login` with a username and password.
    pub password: bool,
    /// Whether any identity provider is configured.
    pub oidc: bool,
    /// Each identity provider, one button each.
    pub providers: Vec<SignInProvider>,
}

/// Which sign-in methods this server offers, for the login page.
#[utoipa::path(get, path = "/api/auth/methods", tag = "auth",
    responses((status = 200, body = SignInMethods)))]
pub async fn sign_in_methods(State(ctx): State<OidcContext>) -> ApiJson<SignInMethods> {
    let providers = ctx
        .providers
        .all()
        .iter()
        .map(|p| SignInProvider {
            id: p.id.clone(),
            name: p.display_name.clone(),
            login_url: crate::auth::oidc::provider_path(&p.id, "login"),
        })
        .collect();
    ApiJson(SignInMethods {
        password: ctx.tokens.can_issue(),
        oidc: !ctx.providers.is_empty(),
        providers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callback_query_is_read_leniently() {
        let q = CallbackQuery::parse(Some("code=a&state=b&state=c&x=1&error_description=%ZZ"));
        assert_eq!(q.code.as_deref(), Some("a"));
        assert_eq!(q.state.as_deref(), Some("c"));
        assert!(q.error.is_none() && q.error_description.is_some());
        assert!(CallbackQuery::parse(None).code.is_none());
    }
}
