//! The documented API and `GET /api/openapi.json`, built from one registration.
//!
//! Each module's `router()` registers its handlers with `utoipa_axum::routes!`, which
//! takes the path and method from the handler's `#[utoipa::path]` annotation and adds
//! the route and its OpenAPI entry together. The served router and the document are
//! the two halves of the same [`OpenApiRouter`], so a route cannot be served without
//! being described, nor described without being served (issue 19: the routes used to
//! be listed twice, in the routers and in a `paths(...)` list here, free to drift).
//! The web app's types are generated from this document: `web/src/api/openapi.json`
//! is a copy of it, checked by the test at the bottom of this file.

use axum::Router;
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiJson;
use crate::state::AppState;

/// The path the document is served at (itself a plain route, not part of the document).
pub const DOCUMENT_PATH: &str = "/api/openapi.json";

/// The document's frame: title, description, tags and the bearer scheme. Its paths and
/// schemas come from the modules' routers.
#[derive(OpenApi)]
#[openapi(
    info(title = "Förankra", description = "Real-time collaborative drafting: documents, membership, content. \
        Real-time editing itself is the y-websocket protocol at GET /ws/{doc_id}?token=JWT."),
    // `IntoParams` refers to a parameter's schema without registering it: the
    // `?format=` of the remiss read-outs needs its enum here, or the `$ref` dangles.
    components(schemas(crate::remiss::render::Format)),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Logging in and who I am"),
        (name = "documents", description = "Drafts"),
        (name = "members", description = "Which organisations and users take part, with which role"),
        (name = "content", description = "A draft's text as Markdown, HTML or plain text"),
        (name = "threads", description = "Comment threads anchored to the text: open, reply, resolve with an outcome, proposals. \
            Live events: send a WebSocket message of type 100 on the document's socket to receive every thread change as type 100 + JSON."),
        (name = "remiss", description = "The remiss round: invitees and their status, versions, the participation report, the compilation, the audit trail, webhooks"),
        (name = "notifications", description = "My inbox (what happened that concerns me), how I want each kind (in the app, by e-mail, both, none), unsubscribing from an e-mail's link, and the mail queue for administrators"),
        (name = "admin", description = "Server-wide administration (administrators only): organisations, users, the identity providers' organisation mapping, the administration log"),
        (name = "operations", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Declares the refusals every API operation can answer with, in the JSON error
/// format, where its annotation does not already: 400 for a malformed path or body,
/// 401 without a valid token, 403 and 404 for a document or thread the caller cannot
/// reach, 410 for a document that is archived (every route under it but its audit trail),
/// 413 and 422 for bodies too large or of the wrong shape. These come from the
/// shared extractors (`ApiJson`, `ApiPath`, `AuthUser`) rather than from each handler,
/// so they are added here once; schemathesis checks that nothing else is answered.
struct ErrorResponses;

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/api/") {
                continue;
            }
            let has_params = path.contains('{');
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let secured = operation.security.is_some();
                let has_body = operation.request_body.is_some();
                let refusals = [
                    (400, true, "Malformed path, query or body"),
                    (401, secured, "No valid token"),
                    (
                        403,
                        secured && has_params,
                        "The token gives no access to this",
                    ),
                    (404, has_params, "No such document, thread or member"),
                    (
                        410,
                        path.starts_with("/api/documents/{id}"),
                        "The document is archived; its owners can still read and verify its audit trail",
                    ),
                    (413, has_body, "The body is over the size limit"),
                    (422, has_body, "The body has the wrong shape or values"),
                ];
                for (status, applies, description) in refusals {
                    if applies {
                        operation
                            .responses
                            .responses
                            .entry(status.to_string())
                            .or_insert_with(|| error_response(description).into());
                    }
                }
            }
        }
    }
}

fn error_response(description: &str) -> utoipa::openapi::Response {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorResponse")))
                .build(),
        )
        .build()
}

/// Every documented route of the server, each registered once with its OpenAPI entry.
fn documented_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(crate::auth::routes::router())
        .merge(crate::auth::oidc::routes::router())
        .merge(crate::documents::routes::router())
        .merge(crate::comments::routes::router())
        .merge(crate::comments::suggestions::router())
        .merge(crate::audit::routes::router())
        .merge(crate::remiss::routes::router())
        .merge(crate::versions::routes::router())
        .merge(crate::webhooks::routes::router())
        .merge(crate::notifications::routes::router())
        .merge(crate::admin::routes::router())
        .merge(crate::health::router())
}

/// Splits the registrations into the router that serves them and the finished
/// document. The shared refusals are added after the split, because they are
/// derived from the operations the routers contributed.
fn split() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut document) = documented_routes().split_for_parts();
    ErrorResponses.modify(&mut document);
    (router, document)
}

/// The OpenAPI document of the routes [`router`] serves.
pub fn document() -> utoipa::openapi::OpenApi {
    split().1
}

/// The documented routes, and the document itself at [`DOCUMENT_PATH`].
pub fn router() -> Router<AppState> {
    let (router, document) = split();
    router.route(
        DOCUMENT_PATH,
        get(move || std::future::ready(ApiJson(document.clone()))),
    )
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// Set to rewrite the web app's copy of the document instead of comparing it.
    const WRITE_ENV: &str = "FORANKRA_WRITE_OPENAPI";

    fn web_copy() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web/src/api/openapi.json")
    }

    fn rendered() -> String {
        let mut json = document()
            .to_pretty_json()
            .expect("the document serializes");
        json.push('\n');
        json
    }

    /// The web app's types are generated from `web/src/api/openapi.json`
    /// (`npm run gen:api`); a document that changed without it would leave them stale.
    #[test]
    fn the_web_copy_of_the_document_is_current() {
        let path = web_copy();
        if std::env::var_os(WRITE_ENV).is_some() {
            std::fs::write(&path, rendered()).expect("writing the web copy");
            return;
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == rendered(),
            "web/src/api/openapi.json is not the served document: run `{WRITE_ENV}=1 cargo \
             test -p forankra --lib openapi::`, then `npm run gen:api` in web/, and commit both"
        );
    }
}
