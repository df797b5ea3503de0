//! Response headers that tell browsers to trust only what this server serves.
//!
//! The web app is built with Vite into plain files (module scripts and a stylesheet from
//! `/assets`, no inline script), so the Content-Security-Policy allows scripts, styles
//! and connections from this origin only. The editor sets caret colours through the
//! CSSOM (`element.style.x = …`), which `style-src` does not govern, so no
//! `'unsafe-inline'` is needed. Every other header closes a door the app never uses:
//! framing, MIME sniffing, referrers, powerful features, cross-origin windows.
//! CORS stays closed (no `Access-Control-*` headers at all) unless origins are listed
//! with `--cors-origin`, for a front end served from elsewhere.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// What the app may load: its own files, images from itself or `data:` URLs, and its
/// own API and WebSocket (CSP Level 3 `'self'` covers `ws:`/`wss:` to the same host).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
base-uri 'none'; form-action 'self'; object-src 'none'";

/// Powerful features the app never asks for.
const PERMISSIONS_POLICY: &str =
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), display-capture=()";

/// HSTS lifetime: one year.
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// Headers on every response.
const ALWAYS: [(HeaderName, &str); 6] = [
    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (
        HeaderName::from_static("permissions-policy"),
        PERMISSIONS_POLICY,
    ),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ),
];

/// The HTTP hardening settings (flags and environment in `cli`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpSettings {
    /// Origins allowed to call the API from another site; empty keeps CORS closed.
    pub cors_origins: Vec<String>,
    /// Send `Strict-Transport-Security`: only when clients reach the server over TLS.
    pub hsts: bool,
}

/// Adds the security headers, and CORS for the listed origins, to every route.
pub fn apply<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    settings: &HttpSettings,
) -> Router<S> {
    let router = router.layer(middleware::from_fn_with_state(
        Arc::new(settings.clone()),
        add_headers,
    ));
    match cors(&settings.cors_origins) {
        Some(cors) => router.layer(cors),
        None => router,
    }
}

/// Checks a `--cors-origin` value: `scheme://host[:port]`, nothing after.
pub fn parse_origin(value: &str) -> Result<String, String> {
    let origin = value.trim().trim_end_matches('/');
    let (scheme, rest) = origin
        .split_once("://")
        .ok_or_else(|| format!("{value:?} is not an origin like https://app.example.se"))?;
    let valid = matches!(scheme, "http" | "https")
        && !rest.is_empty()
        && !rest.contains(['/', '?', '#', '*', ' '])
        && HeaderValue::from_str(origin).is_ok();
    if valid {
        Ok(origin.to_owned())
    } else {
        Err(format!(
            "{value:?} is not an origin like https://app.example.se"
        ))
    }
}

async fn add_headers(
    State(settings): State<Arc<HttpSettings>>,
    request: Request,
    next: Next,
) -> Response {
    let api = request.uri().path().starts_with("/api");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in ALWAYS {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    if api {
        // Documents and tokens must not stay in shared or browser caches.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if settings.hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    response
}

/// A CORS layer for exactly these origins (checked by [`parse_origin`]), or none.
fn cors(origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bare_origins_are_accepted() {
        assert_eq!(
            parse_origin("https://app.example.se/"),
            Ok("https://app.example.se".to_owned())
        );
        assert!(parse_origin("http://localhost:5173").is_ok());
        for bad in [
            "*",
            "app.example.se",
            "https://",
            "https://a/b",
            "ftp://a",
            "https://a b",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }
}
