//! `GET /api/openapi.json`, generated from the handlers' annotations so it cannot drift
//! from the code.

use axum::Router;
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::ApiJson;
use crate::state::AppState;

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(title = "Förankra", description = "Real-time collaborative drafting: documents, membership, content. \
        Real-time editing itself is the y-websocket protocol at GET /ws/{doc_id}?token=JWT."),
    paths(
        crate::auth::routes::login,
        crate::auth::routes::me,
        crate::auth::routes::list_organisations,
        crate::documents::routes::list_documents,
        crate::documents::routes::create_document,
        crate::documents::routes::get_document,
        crate::documents::routes::rename_document,
        crate::documents::routes::archive_document,
        crate::documents::routes::list_members,
        crate::documents::routes::set_org_member,
        crate::documents::routes::remove_org_member,
        crate::documents::routes::set_user_member,
        crate::documents::routes::remove_user_member,
        crate::documents::routes::document_markdown,
        crate::documents::routes::document_html,
        crate::documents::routes::document_text,
        crate::comments::routes::create_thread,
        crate::comments::routes::list_threads,
        crate::comments::routes::get_thread,
        crate::comments::routes::reply,
        crate::comments::routes::edit_comment,
        crate::comments::routes::delete_comment,
        crate::comments::routes::resolve_thread,
        crate::comments::routes::reopen_thread,
        crate::comments::routes::reanchor_thread,
        crate::comments::revisions::list_revisions,
        crate::comments::routes::accept_proposal,
        crate::comments::routes::reject_proposal,
        crate::audit::routes::audit_trail,
        crate::audit::routes::verify_trail,
        crate::remiss::routes::get_round,
        crate::remiss::routes::update_round,
        crate::remiss::routes::answer,
        crate::remiss::exports::participation_report,
        crate::remiss::exports::compilation,
        crate::versions::routes::save_version,
        crate::versions::routes::list_versions,
        crate::versions::routes::get_version,
        crate::versions::routes::version_markdown,
        crate::versions::routes::diff_versions,
        crate::webhooks::routes::create_webhook,
        crate::webhooks::routes::list_webhooks,
        crate::webhooks::routes::delete_webhook,
        crate::webhooks::routes::list_deliveries,
        crate::health::healthz,
        crate::health::metrics,
    ),
    modifiers(&BearerAuth, &ErrorResponses),
    tags(
        (name = "auth", description = "Logging in and who I am"),
        (name = "documents", description = "Drafts"),
        (name = "members", description = "Which organisations and users take part, with which role"),
        (name = "content", description = "A draft's text as Markdown, HTML or plain text"),
        (name = "threads", description = "Comment threads anchored to the text: open, reply, resolve with an outcome, proposals. \
            Live events: send a WebSocket message of type 100 on the document's socket to receive every thread change as type 100 + JSON."),
        (name = "remiss", description = "The remiss round: invitees and their status, versions, the participation report, the compilation, the audit trail, webhooks"),
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

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/openapi.json",
        get(|| async { ApiJson(ApiDoc::openapi()) }),
    )
}
