//! The browser's signed-in state: an HttpOnly cookie, and what guards it against
//! cross-site requests.
//!
//! After a password or OpenID Connect sign-in the server sets `forankra_session`, holding
//! the same 12-hour token an API client gets, `HttpOnly` (no script can read it, so an
//! injected script cannot carry it off), `SameSite=Lax` (a cross-site subrequest or form
//! post does not carry it; a top-level link does, for the callback's redirect) and
//! `Secure` when `--public-url` is https. Bearer tokens keep working for API clients and
//! win when both are present.
//!
//! A cookie is sent by the browser on its own, so a request that authenticates with it
//! and may change something (any method but GET, HEAD and OPTIONS) must also carry the
//! header [`CSRF_HEADER`]: a cross-site form cannot set a header, and a cross-site
//! `fetch` that sets one needs a CORS preflight this server refuses (its CORS allows only
//! `Authorization` and `Content-Type`). A request the browser marks
//! `Sec-Fetch-Site: cross-site` is refused too, header or not. The WebSocket never takes
//! the cookie: the page gets a 30-second single-use ticket with `POST /api/ws-ticket`.

use std::time::Duration;

use axum::http::header::COOKIE;
use axum::http::{HeaderMap, HeaderValue, Method};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "forankra_session";
/// The header a cookie-authenticated write must carry (any value).
pub const CSRF_HEADER: &str = "x-forankra-request";

/// Why a cookie-authenticated request was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CsrfError {
    #[error(
        "a request signed in by cookie that changes something needs the header `X-Forankra-Request`"
    )]
    MissingHeader,
    #[error("a cross-site request cannot use the sign-in cookie")]
    CrossSite,
}

/// The `Set-Cookie` value that signs the browser in with `token` for `max_age`.
pub fn set_cookie(
    name: &str,
    value: &str,
    path: &str,
    secure: bool,
    max_age: Duration,
) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let cookie = format!(
        "{name}={value}; Path={path}; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
        max_age.as_secs()
    );
    // Every part is ours: a token (base64url and dots) and fixed text.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The `Set-Cookie` value that signs the browser in.
pub fn session_cookie(token: &str, secure: bool, max_age: Duration) -> HeaderValue {
    set_cookie(SESSION_COOKIE, token, "/", secure, max_age)
}

/// The `Set-Cookie` value that removes a cookie.
pub fn clear_cookie(name: &str, path: &str, secure: bool) -> HeaderValue {
    set_cookie(name, "", path, secure, Duration::ZERO)
}

/// The value of cookie `name` in the request's `Cookie` headers, if any.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .filter(|value| !value.is_empty())
}

/// Refuses a cookie-authenticated request that could be forged by another site.
pub fn check_csrf(method: &Method, headers: &HeaderMap) -> Result<(), CsrfError> {
    let cross_site = headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"));
    if cross_site {
        return Err(CsrfError::CrossSite);
    }
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && !headers.contains_key(CSRF_HEADER) {
        return Err(CsrfError::MissingHeader);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn the_cookie_is_found_among_others_and_an_empty_one_is_none() {
        let h = headers(&[
            ("cookie", "a=1; forankra_session=tok.en; b=2"),
            ("cookie", "c=3"),
        ]);
        assert_eq!(cookie_value(&h, SESSION_COOKIE), Some("tok.en"));
        assert_eq!(cookie_value(&h, "c"), Some("3"));
        assert_eq!(
            cookie_value(&headers(&[("cookie", "forankra_session=")]), SESSION_COOKIE),
            None
        );
        assert_eq!(
            cookie_value(
                &headers(&[("cookie", "xforankra_session=t")]),
                SESSION_COOKIE
            ),
            None
        );
    }

    #[test]
    fn writes_need_the_header_and_cross_site_requests_are_refused() {
        assert_eq!(check_csrf(&Method::GET, &headers(&[])), Ok(()));
        assert_eq!(
            check_csrf(&Method::POST, &headers(&[])),
            Err(CsrfError::MissingHeader)
        );
        assert_eq!(
            check_csrf(&Method::POST, &headers(&[(CSRF_HEADER, "1")])),
            Ok(())
        );
        assert_eq!(
            check_csrf(&Method::GET, &headers(&[("sec-fetch-site", "cross-site")])),
            Err(CsrfError::CrossSite)
        );
        assert_eq!(
            check_csrf(
                &Method::POST,
                &headers(&[(CSRF_HEADER, "1"), ("sec-fetch-site", "same-origin")])
            ),
            Ok(())
        );
    }

    #[test]
    fn the_cookie_is_http_only_lax_and_secure_over_https() {
        let c = session_cookie("t", true, Duration::from_secs(60));
        assert_eq!(
            c,
            "forankra_session=t; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure"
        );
        let c = clear_cookie(SESSION_COOKIE, "/", false);
        assert_eq!(
            c,
            "forankra_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
        );
    }
}
