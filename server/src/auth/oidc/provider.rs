//! The provider as this server talks to it: discovery, signing keys, the code exchange
//! and the ID token's checks (OpenID Connect Core 1.0, 3.1.3.7).
//!
//! Discovery is read at the first sign-in, not at start, so a provider that is down
//! does not stop the server (password sign-in and bearer tokens go on working); a failed
//! read is tried again at the next sign-in. The signing keys are read then too, and again
//! whenever an ID token names a key id not among them: that is how a provider's key
//! rotation shows. The ID token only ever arrives over the back channel (our own TLS
//! request to the token endpoint), never from the browser, so an unknown `kid` cannot be
//! used by a client to make the server hammer the provider; refetches are still one at a
//! time.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use crate::auth::oidc::OidcError;
use crate::auth::oidc::flow::Flow;
use crate::config::OidcSettings;

/// How long one request to the provider may take.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);
/// Clock skew tolerated on the ID token's `exp`, `iat` and `nbf`.
const ID_TOKEN_LEEWAY_SECS: u64 = 60;
/// Largest answer read from the provider (discovery, keys, token); real ones are a few KiB.
const MAX_PROVIDER_BYTES: usize = 256 * 1024;
/// The scopes asked for: the ID token's subject, name and e-mail.
const SCOPES: &str = "openid profile email";
/// The signature algorithms accepted on an ID token: asymmetric only (an HMAC one would
/// be keyed by the client secret, which several parties hold).
const ACCEPTED_ALGORITHMS: [Algorithm; 7] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The parts of the provider's discovery document this server uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
}

/// The token endpoint's answer (RFC 6749 5.1 and 5.2).
#[derive(Debug, Deserialize)]
struct TokenResponse {
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

/// The id of the provider given by the `--oidc-*` flags: its routes are
/// `/auth/oidc/login` and `/auth/oidc/callback`.
pub const FLAG_PROVIDER_ID: &str = "default";

/// Where a provider's sign-in starts and ends on this server: the flag-given one keeps
/// the paths it always had, one from `--oidc-providers` has its id in them.
pub fn provider_path(id: &str, step: &str) -> String {
    if id == FLAG_PROVIDER_ID {
        format!("/auth/oidc/{step}")
    } else {
        format!("/auth/oidc/{id}/{step}")
    }
}

/// One configured OpenID Provider and what has been learnt of it.
pub struct Oidc {
    /// Its id here ([`FLAG_PROVIDER_ID`] for the flag-given one).
    pub id: String,
    /// The name on the login page's button; `None`: the web app's own wording.
    pub display_name: Option<String>,
    pub settings: OidcSettings,
    /// `{public-url}/auth/oidc/callback` (or `/auth/oidc/{id}/callback`), registered at
    /// the provider.
    pub redirect_uri: String,
    /// `{public-url}/`, where the provider sends the browser after signing out.
    pub post_logout_uri: String,
    /// Whether cookies are `Secure`.
    pub secure_cookies: bool,
    /// The key sign-in flows are sealed with ([`crate::auth::oidc::flow`]).
    pub flow_key: Vec<u8>,
    http: reqwest::Client,
    metadata: Mutex<Option<Arc<Metadata>>>,
    keys: Mutex<Arc<JwkSet>>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field("id", &self.id)
            .field("issuer", &self.settings.issuer)
            .finish_non_exhaustive()
    }
}

impl Oidc {
    /// A provider reached from this server's `public_url`.
    pub fn new(
        provider: crate::config::OidcProvider,
        public_url: &url::Url,
        flow_key: Vec<u8>,
    ) -> anyhow::Result<Self> {
        let crate::config::OidcProvider {
            id,
            display_name,
            settings,
        } = provider;
        let base = public_url.as_str().trim_end_matches('/');
        let http = reqwest::Client::builder()
            .timeout(PROVIDER_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            redirect_uri: format!("{base}{}", provider_path(&id, "callback")),
            id,
            display_name,
            settings,
            post_logout_uri: format!("{base}/"),
            secure_cookies: public_url.scheme() == "https",
            flow_key,
            http,
            metadata: Mutex::new(None),
            keys: Mutex::new(Arc::new(JwkSet { keys: Vec::new() })),
        })
    }

    /// The discovery document, read once; its `issuer` must be the configured one.
    pub async fn metadata(&self) -> Result<Arc<Metadata>, OidcError> {
        let mut cached = self.metadata.lock().await;
        if let Some(metadata) = cached.as_ref() {
            return Ok(Arc::clone(metadata));
        }
        let issuer = &self.settings.issuer;
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let metadata: Metadata = self.get_json(&url).await?;
        if metadata.issuer != *issuer {
            return Err(OidcError::Provider(format!(
                "the discovery document names issuer {:?}, not the configured {issuer:?}",
                metadata.issuer
            )));
        }
        let metadata = Arc::new(metadata);
        *cached = Some(Arc::clone(&metadata));
        Ok(metadata)
    }

    /// Where to send the browser to sign in for `flow`.
    pub async fn authorization_url(&self, flow: &Flow) -> Result<String, OidcError> {
        let metadata = self.metadata().await?;
        let mut url = url::Url::parse(&metadata.authorization_endpoint)
            .map_err(|e| OidcError::Provider(format!("authorization_endpoint: {e}")))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("scope", SCOPES)
            .append_pair("state", &flow.state)
            .append_pair("nonce", &flow.nonce)
            .append_pair("code_challenge", &flow.challenge())
            .append_pair("code_challenge_method", "S256");
        Ok(url.into())
    }

    /// Where to send the browser to sign out at the provider too (RP-initiated logout),
    /// if it offers that. The ID token of the sign-in goes along as `id_token_hint` when
    /// it was kept: Keycloak (and the specification, for `post_logout_redirect_uri`)
    /// want it; `client_id` serves the providers that accept that instead.
    pub async fn end_session_url(&self, id_token_hint: Option<&str>) -> Option<String> {
        let metadata = self.metadata().await.ok()?;
        let mut url = url::Url::parse(metadata.end_session_endpoint.as_deref()?).ok()?;
        {
            let mut query = url.query_pairs_mut();
            if let Some(hint) = id_token_hint {
                query.append_pair("id_token_hint", hint);
            }
            query
                .append_pair("client_id", &self.settings.client_id)
                .append_pair("post_logout_redirect_uri", &self.post_logout_uri);
        }
        Some(url.into())
    }

    /// Exchanges the code for tokens (client_secret_basic when there is a secret) and
    /// returns the checked ID token's claims, and the ID token (the logout's hint).
    pub async fn redeem(
        &self,
        code: &str,
        flow: &Flow,
    ) -> Result<(Map<String, Value>, String), OidcError> {
        let metadata = self.metadata().await?;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &self.redirect_uri),
            ("code_verifier", &flow.verifier),
            ("client_id", &self.settings.client_id),
        ];
        let mut request = self.http.post(&metadata.token_endpoint).form(&form);
        if let Some(secret) = &self.settings.client_secret {
            // RFC 6749 2.3.1: both parts form-encoded before Basic.
            let id: String =
                url::form_urlencoded::byte_serialize(self.settings.client_id.as_bytes()).collect();
            let secret: String =
                url::form_urlencoded::byte_serialize(secret.expose_secret().as_bytes()).collect();
            request = request.basic_auth(id, Some(secret));
        }
        let response = request
            .send()
            .await
            .map_err(|e| OidcError::Provider(format!("token endpoint: {}", chain(&e))))?;
        let body = read_limited(response).await?;
        let tokens: TokenResponse = serde_json::from_slice(&body)
            .map_err(|e| OidcError::Provider(format!("token endpoint answer: {e}")))?;
        if let Some(error) = tokens.error {
            return Err(OidcError::Refused {
                error,
                description: tokens.error_description,
            });
        }
        let id_token = tokens
            .id_token
            .ok_or_else(|| OidcError::Provider("the token endpoint sent no id_token".into()))?;
        let claims = self
            .check_id_token(&id_token, &metadata, &flow.nonce)
            .await?;
        Ok((claims, id_token))
    }

    /// Signature (against the provider's keys), algorithm, issuer, audience, expiry and
    /// nonce, and `azp` when there are several audiences.
    async fn check_id_token(
        &self,
        token: &str,
        metadata: &Metadata,
        nonce: &str,
    ) -> Result<Map<String, Value>, OidcError> {
        let bad = |e: String| OidcError::IdToken(e);
        let header = jsonwebtoken::decode_header(token).map_err(|e| bad(e.to_string()))?;
        if !ACCEPTED_ALGORITHMS.contains(&header.alg) {
            return Err(bad(format!("algorithm {:?} is not accepted", header.alg)));
        }
        let key = self
            .key(metadata, header.kid.as_deref(), header.alg)
            .await?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[&self.settings.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = ID_TOKEN_LEEWAY_SECS;
        let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| bad(e.to_string()))?
            .claims;
        if claims.get("nonce").and_then(Value::as_str) != Some(nonce) {
            return Err(bad("the nonce is not this sign-in's".into()));
        }
        if let Some(Value::Array(audiences)) = claims.get("aud")
            && audiences.len() > 1
            && claims.get("azp").and_then(Value::as_str) != Some(&self.settings.client_id)
        {
            return Err(bad("several audiences and azp is not this client".into()));
        }
        Ok(claims)
    }

    /// The provider's key for `kid`, reading the key set again if it is not known.
    async fn key(
        &self,
        metadata: &Metadata,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<DecodingKey, OidcError> {
        let mut keys = self.keys.lock().await;
        if let Some(jwk) = pick_key(&keys, kid, alg) {
            return decoding_key(jwk);
        }
        let fresh: JwkSet = self.get_json(&metadata.jwks_uri).await?;
        tracing::info!(
            keys = fresh.keys.len(),
            ?kid,
            "read the identity provider's signing keys"
        );
        *keys = Arc::new(fresh);
        let jwk = pick_key(&keys, kid, alg).ok_or_else(|| {
            OidcError::IdToken(format!(
                "no signing key {kid:?} for {alg:?} at the provider"
            ))
        })?;
        decoding_key(jwk)
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, OidcError> {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| OidcError::Provider(format!("{url}: {}", chain(&e))))?;
        if !response.status().is_success() {
            return Err(OidcError::Provider(format!("{url}: {}", response.status())));
        }
        let body = read_limited(response).await?;
        serde_json::from_slice(&body).map_err(|e| OidcError::Provider(format!("{url}: {e}")))
    }
}

/// Every configured provider: the flag-given one first, then those of
/// `--oidc-providers` in the file's order.
#[derive(Debug, Default)]
pub struct Providers {
    list: Vec<Arc<Oidc>>,
}

impl Providers {
    pub fn new(list: Vec<Arc<Oidc>>) -> Self {
        Self { list }
    }

    /// Every provider, in the login page's order.
    pub fn all(&self) -> &[Arc<Oidc>] {
        &self.list
    }

    /// The provider with this id.
    pub fn by_id(&self, id: &str) -> Option<&Arc<Oidc>> {
        self.list.iter().find(|p| p.id == id)
    }

    /// The provider of `/auth/oidc/login`: the flag-given one, else the first.
    pub fn first(&self) -> Option<&Arc<Oidc>> {
        self.list.first()
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// An error with its causes: reqwest's own text leaves out why a request failed.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The key named `kid` (or, when the token names none, the only key for `alg`), if it
/// may sign with `alg`.
fn pick_key<'a>(keys: &'a JwkSet, kid: Option<&str>, alg: Algorithm) -> Option<&'a Jwk> {
    let usable = |jwk: &&Jwk| {
        let alg_ok = jwk
            .common
            .key_algorithm
            .is_none_or(|key_alg| format!("{key_alg:?}") == format!("{alg:?}"));
        let use_ok = jwk
            .common
            .public_key_use
            .as_ref()
            .is_none_or(|u| *u == PublicKeyUse::Signature);
        alg_ok && use_ok
    };
    match kid {
        Some(kid) => keys.find(kid).filter(usable),
        None => {
            let mut candidates = keys.keys.iter().filter(usable);
            let only = candidates.next();
            if candidates.next().is_some() {
                return None;
            }
            only
        }
    }
}

fn decoding_key(jwk: &Jwk) -> Result<DecodingKey, OidcError> {
    DecodingKey::from_jwk(jwk).map_err(|e| OidcError::IdToken(format!("the provider's key: {e}")))
}

/// The body, refused past [`MAX_PROVIDER_BYTES`]; a 4xx/5xx from the token endpoint is
/// read too (it carries the OAuth error).
async fn read_limited(mut response: reqwest::Response) -> Result<Vec<u8>, OidcError> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| OidcError::Provider(e.to_string()))?
    {
        if body.len() + chunk.len() > MAX_PROVIDER_BYTES {
            return Err(OidcError::Provider("the answer is too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}
