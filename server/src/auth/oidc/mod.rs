//! Signing in through an OpenID Provider (Entra ID, Keycloak, or any certified one):
//! the authorization code flow with PKCE, this server being the relying party.
//!
//! Built on reqwest and jsonwebtoken, which the server already had, rather than the
//! `openidconnect` crate: the part of the protocol a server-side confidential client
//! needs (discovery, one redirect, one back-channel code exchange, ID token checks) is
//! about 400 lines here, against some 40 more crates to build.
//!
//! - [`flow`]: the state, nonce and PKCE verifier of one sign-in, carried in a short-lived
//!   HMAC-sealed cookie, so any node of a cluster can finish what another began.
//! - [`provider`]: discovery, the signing keys (refetched when an ID token names an
//!   unknown `kid`: the provider rotated), the code exchange and the ID token checks.
//! - [`signin`]: claims to a user of a mapped organisation, created or updated.
//! - [`page`]: the refusal pages a browser lands on, Swedish unless it prefers English.
//! - [`routes`]: `/auth/oidc/login`, `/auth/oidc/callback`, `POST /api/logout`,
//!   `GET /api/auth/methods`.

pub mod flow;
pub mod page;
pub mod provider;
pub mod routes;
pub mod signin;

pub use provider::{FLAG_PROVIDER_ID, Oidc, Providers, provider_path};

/// Why a sign-in through the provider failed.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("OpenID Connect sign-in is not configured on this server")]
    NotConfigured,
    #[error("the identity provider could not be reached or answered badly: {0}")]
    Provider(String),
    #[error("the identity provider refused: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        error: String,
        description: Option<String>,
    },
    #[error("the sign-in could not be matched to one started here: {0}")]
    Flow(String),
    #[error("the ID token was refused: {0}")]
    IdToken(String),
    #[error("the ID token has no usable `{0}` claim")]
    MissingClaim(String),
    #[error("no organisation is mapped for {claim} = {values:?}")]
    Unmapped { claim: String, values: Vec<String> },
    #[error("the values {values:?} map to several organisations")]
    Ambiguous { values: Vec<String> },
    #[error("this account is disabled")]
    Disabled,
    #[error(transparent)]
    Store(#[from] crate::storage::StoreError),
    #[error("signing the session: {0}")]
    Session(#[from] crate::auth::AuthError),
}
