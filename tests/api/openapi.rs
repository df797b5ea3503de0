//! The OpenAPI document describes exactly the JSON API the server serves: every
//! `/api/...` route the router holds is in the document and every documented operation
//! is served, method for method. Routes are registered once (`utoipa_axum::routes!`),
//! so this only fails when a route is added around that registration.

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{Backend, TestApp};

/// `/api` routes deliberately outside the document: the document itself and the JSON
/// 404 for unknown API paths.
const UNDOCUMENTED_API_PATHS: [&str; 3] = ["/api", "/api/{*rest}", "/api/openapi.json"];

/// The methods an OpenAPI path item may hold, lower case as the document has them.
const OPERATIONS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_lists_exactly_the_served_api_paths() -> Result<()> {
    let app = TestApp::spawn(Backend::Sqlite).await?;
    let spec = document(&app).await?;
    let mut expected: BTreeSet<String> = documented_paths(&spec)
        .into_iter()
        .filter(|path| path.starts_with("/api"))
        .collect();
    expected.extend(UNDOCUMENTED_API_PATHS.map(String::from));

    let router = forankra::app::router(app.state.clone());
    let served = api_paths_in_debug(&format!("{router:?}"));
    assert!(
        !served.is_empty(),
        "no /api path found in the router's Debug output"
    );
    let undocumented: Vec<_> = served.difference(&expected).collect();
    let unserved: Vec<_> = expected.difference(&served).collect();
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "served but not documented: {undocumented:?}; documented but not served: \
         {unserved:?} (register routes with utoipa_axum::routes! in the module's router())"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_path_serves_exactly_its_documented_methods() -> Result<()> {
    let app = TestApp::spawn(Backend::Sqlite).await?;
    let spec = document(&app).await?;
    for path in documented_paths(&spec) {
        let documented: BTreeSet<String> = OPERATIONS
            .into_iter()
            .filter(|op| spec["paths"][&path].get(op).is_some())
            .map(str::to_uppercase)
            .collect();
        // A method no route takes gets 405 with the methods the route does take.
        let response = app
            .http
            .request(Method::TRACE, app.url(&with_sample_params(&path)))
            .send()
            .await?;
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
        let allow = response
            .headers()
            .get("allow")
            .with_context(|| format!("{path}: no Allow header"))?
            .to_str()?;
        let served: BTreeSet<String> = allow
            .split(',')
            .map(|m| m.trim().to_owned())
            // axum answers HEAD wherever it answers GET.
            .filter(|m| m != "HEAD" || documented.contains("HEAD"))
            .collect();
        assert_eq!(served, documented, "{path}: served and documented methods");
    }
    Ok(())
}

async fn document(app: &TestApp) -> Result<Value> {
    Ok(app
        .http
        .get(app.url("/api/openapi.json"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

fn documented_paths(spec: &Value) -> Vec<String> {
    spec["paths"]
        .as_object()
        .map(|paths| paths.keys().cloned().collect())
        .unwrap_or_default()
}

/// The `/api` paths in axum's `Debug` output of a router. axum has no public way to
/// list a router's routes; its `Debug` prints every route's path as a quoted string.
/// Should that format change, this finds nothing and the comparison fails loudly.
fn api_paths_in_debug(debug: &str) -> BTreeSet<String> {
    debug
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|quoted| *quoted == "/api" || quoted.starts_with("/api/"))
        .map(str::to_owned)
        .collect()
}

/// `/api/documents/{id}` → `/api/documents/p`: a concrete path the route matches.
fn with_sample_params(template: &str) -> String {
    template
        .split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                "p"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}
