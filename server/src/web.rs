//! The browser app at `/`.
//!
//! A release build carries the app built into `web/dist` (rust-embed), so one binary is
//! the whole product; a debug build reads the same folder from disk at run time.
//! `--web-dir` serves another folder instead. Unknown paths without a file extension
//! get `index.html`, so the app's own routes survive a reload.

use std::convert::Infallible;
use std::path::Path;

use axum::body::Body;
use axum::http::{HeaderValue, Request};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;
use tower_http::services::{ServeDir, ServeFile};

/// Page shown when no web app was built.
const NOT_BUILT: &str = "<!doctype html><html lang=\"sv\"><head><meta charset=\"utf-8\"><title>Förankra</title></head>\
<body><main><h1>Förankra</h1><p>Servern körs, men webbappen är inte byggd. Kör <code>npm ci && npm run build</code> i <code>web/</code>.</p>\
<p lang=\"en\">The server is running, but the web app is not built.</p></main></body></html>";

/// The built web app, embedded at compile time in release builds.
#[derive(rust_embed::RustEmbed)]
#[folder = "../web/dist"]
#[allow_missing = true]
struct Embedded;

/// A service for every path no route claimed.
pub fn service(dir: Option<&Path>) -> BoxCloneSyncService<Request<Body>, Response, Infallible> {
    match dir {
        Some(dir) => {
            let serve = ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html")));
            BoxCloneSyncService::new(ServiceExt::<Request<Body>>::map_response(
                serve,
                IntoResponse::into_response,
            ))
        }
        None => BoxCloneSyncService::new(tower::service_fn(|request: Request<Body>| async move {
            Ok::<_, Infallible>(embedded(request.uri().path()))
        })),
    }
}

/// Whether this binary carries a built web app.
pub fn has_embedded_app() -> bool {
    Embedded::get("index.html").is_some()
}

fn embedded(path: &str) -> Response {
    let path = path.trim_start_matches('/');
    let is_asset = path
        .rsplit('/')
        .next()
        .is_some_and(|name| name.contains('.'));
    let (name, file) = match Embedded::get(path).filter(|_| !path.is_empty()) {
        Some(file) => (path, file),
        None if is_asset => return StatusCode::NOT_FOUND.into_response(),
        None => match Embedded::get("index.html") {
            Some(index) => ("index.html", index),
            None => return (StatusCode::OK, Html(NOT_BUILT)).into_response(),
        },
    };
    let mime = file.metadata.mimetype();
    // Vite fingerprints everything under assets/: those never change; the page itself
    // must be revalidated so a new release is picked up.
    let cache = if name.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = Response::new(Body::from(file.data.into_owned()));
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(mime) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}
