//! The browser app, served from the built `web/dist` folder at `/`.
//!
//! Unknown paths fall back to `index.html` so the app's own routes survive a reload.

use std::convert::Infallible;
use std::path::Path;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;
use tower_http::services::{ServeDir, ServeFile};

/// Page shown when no web app was built.
const NOT_BUILT: &str = "<!doctype html><html lang=\"sv\"><head><meta charset=\"utf-8\"><title>Förankra</title></head>\
<body><main><h1>Förankra</h1><p>Servern körs, men webbappen är inte byggd. Kör <code>npm ci && npm run build</code> i <code>web/</code>.</p>\
<p lang=\"en\">The server is running, but the web app is not built.</p></main></body></html>";

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
        None => BoxCloneSyncService::new(tower::service_fn(|_req: Request<Body>| async {
            Ok::<_, Infallible>((StatusCode::OK, Html(NOT_BUILT)).into_response())
        })),
    }
}
