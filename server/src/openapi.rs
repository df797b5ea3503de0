//! `GET /api/openapi.json`, generated from the handlers' annotations so it cannot drift
//! from the code.

use axum::Router;
use axum::routing::get;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::app::AppState;
use crate::error::ApiJson;

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
        crate::documents::routes::delete_document,
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
    modifiers(&BearerAuth),
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

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route(
        "/api/openapi.json",
        get(|| async { ApiJson(ApiDoc::openapi()) }),
    )
}
