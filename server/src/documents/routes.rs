//! `/api/documents…`: create, list, read, rename, archive, membership and content.

use std::sync::Arc;

use axum::extract::{FromRef, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{AuthUser, Identity, Role, TokenKeys};
use crate::cluster::Notice;
use crate::documents::DocumentsContext;
use crate::documents::attribution::{self, AttributionResponse, ClientsResponse, MAX_CLIENTS_PAGE};
use crate::documents::changes;
use crate::documents::content::{self, Format};
use crate::documents::model::*;
use crate::error::{ApiJson, ApiPath, ApiQuery, ApiResult, AppError, ErrorResponse};
use crate::ids::{DocId, OrgId, UserId};
use crate::limits::quota::{self, Creation};
use crate::storage::Db;
use crate::sync::close::{self, CloseReason};

/// Largest Markdown accepted for a new document, in bytes.
const MAX_MARKDOWN_BYTES: usize = 2 * 1024 * 1024;

/// The routes of this module, each with its OpenAPI operation: `routes!` takes the path
/// and method from the handler's `#[utoipa::path]`, so they are written once.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    DocumentsContext: FromRef<S>,
    Arc<TokenKeys>: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list_documents, create_document))
        .routes(routes!(import_document))
        .routes(routes!(get_document, rename_document, archive_document))
        .routes(routes!(list_members))
        .routes(routes!(set_org_member, remove_org_member))
        .routes(routes!(set_user_member, remove_user_member))
        .routes(routes!(document_markdown))
        .routes(routes!(document_html))
        .routes(routes!(document_text))
        .routes(routes!(document_attribution))
        .routes(routes!(document_attribution_clients))
}

/// The row of a document the caller was just authorized on; 404 if it went in between.
pub(crate) async fn document_row(db: &Db, id: &DocId) -> ApiResult<DocumentRow> {
    db.document(id)
        .await?
        .ok_or_else(|| AppError::NotFound("no such document".into()))
}

pub(crate) fn check_title(title: &str) -> ApiResult<String> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE_CHARS {
        return Err(AppError::Unprocessable(format!(
            "the title must be 1 to {MAX_TITLE_CHARS} characters"
        )));
    }
    if title.chars().any(char::is_control) {
        return Err(AppError::Unprocessable(
            "the title contains control characters".into(),
        ));
    }
    Ok(title.to_owned())
}

/// Live documents the caller can see, with the caller's role, most recently edited
/// first; with `?archived=true`, the archived ones the caller owns, whose audit trails
/// stay readable at `…/audit`.
#[utoipa::path(get, path = "/api/documents", tag = "documents", security(("bearer" = [])),
    params(ListDocumentsQuery),
    responses((status = 200, body = [DocumentResponse]), (status = 400, body = ErrorResponse), (status = 401, body = ErrorResponse)))]
pub async fn list_documents(
    State(state): State<DocumentsContext>,
    AuthUser(who): AuthUser,
    ApiQuery(query): ApiQuery<ListDocumentsQuery>,
) -> ApiResult<ApiJson<Vec<DocumentResponse>>> {
    let archived = query.archived.unwrap_or(false);
    let docs = state
        .db
        .documents_for(&who.user, &who.org, archived)
        .await?;
    Ok(ApiJson(
        docs.into_iter()
            .filter(|(_, role)| !archived || *role == Role::Owner)
            .map(|(row, role)| DocumentResponse::new(row, role))
            .collect(),
    ))
}

/// Creates a document, optionally from Markdown; the caller's organisation owns it.
#[utoipa::path(post, path = "/api/documents", tag = "documents", security(("bearer" = [])),
    request_body = CreateDocumentRequest,
    responses((status = 201, body = DocumentResponse), (status = 422, body = ErrorResponse),
        (status = 429, body = ErrorResponse, description = "The user's document quota is spent",
            headers(("Retry-After" = u64, description = "Seconds until one more is allowed")))))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn create_document(
    State(state): State<DocumentsContext>,
    AuthUser(who): AuthUser,
    ApiJson(request): ApiJson<CreateDocumentRequest>,
) -> ApiResult<(StatusCode, ApiJson<DocumentResponse>)> {
    let title = check_title(&request.title)?;
    quota::check(&state.db, &state.limits, &who.user, Creation::Document).await?;
    let initial_update = match request.markdown.as_deref() {
        Some(md) if md.len() > MAX_MARKDOWN_BYTES => {
            return Err(AppError::PayloadTooLarge(format!(
                "the Markdown is over {MAX_MARKDOWN_BYTES} bytes"
            )));
        }
        Some(md) if !md.trim().is_empty() => {
            let md = md.to_owned();
            Some(
                tokio::task::spawn_blocking(move || content::update_from_markdown(&md))
                    .await
                    .map_err(anyhow::Error::from)?
                    .map_err(|e| AppError::Unprocessable(e.to_string()))?,
            )
        }
        _ => None,
    };
    let id = DocId::generate();
    let mut tx = state.db.transaction_for(&id).await?;
    let row = changes::create(&mut tx, &id, &who, &title, initial_update).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(DocumentResponse::new(row, Role::Owner)),
    ))
}

/// Creates a document from a Word file (.docx, the raw body), like `POST /api/documents`
/// with Markdown: headings, paragraphs, lists, links, bold and italic come along, tables as
/// one paragraph per row; what the editor cannot hold (images, comments, footnotes, text
/// boxes, tracked changes' marks …) is listed in `notCarried` by kind and count.
/// The body is bounded by `--max-body-bytes`, each unpacked part by its own limit. Its
/// media type may be Word's own or `application/octet-stream` (declared here, so generic
/// clients can send bytes): the file itself is checked, never the header.
#[utoipa::path(post, path = "/api/documents/import", tag = "documents", security(("bearer" = [])),
    params(ImportDocumentQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = ImportDocumentResponse),
        (status = 413, body = ErrorResponse, description = "The file is over --max-body-bytes"),
        (status = 422, body = ErrorResponse, description = "Not a readable .docx (an .odt, damaged, encrypted, a zip bomb, too deep or too large), or no title"),
        (status = 429, body = ErrorResponse, description = "The user's document quota is spent",
            headers(("Retry-After" = u64, description = "Seconds until one more is allowed")))))]
#[tracing::instrument(skip_all, fields(user = %who.user, bytes = body.len()))]
pub async fn import_document(
    State(state): State<DocumentsContext>,
    AuthUser(who): AuthUser,
    ApiQuery(query): ApiQuery<ImportDocumentQuery>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, ApiJson<ImportDocumentResponse>)> {
    let given = query
        .title
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let given = given.map(check_title).transpose()?;
    quota::check(&state.db, &state.limits, &who.user, Creation::Document).await?;
    let bytes = body.to_vec();
    let (word, update) = tokio::task::spawn_blocking(move || {
        let word = crate::documents::word::read_docx(bytes)?;
        let update = content::update_from_word(&word);
        Ok::<_, crate::documents::word::WordError>((word, update))
    })
    .await
    .map_err(anyhow::Error::from)?
    .map_err(|e| AppError::Unprocessable(e.to_string()))?;
    let title = match given {
        Some(title) => title,
        // The file's own title may be long or hold tabs: keep what a title may hold.
        None => check_title(&title_from_file(word.title.as_deref())).map_err(|_| {
            AppError::Unprocessable(
                "give a title: the Word document has no usable title property or heading".into(),
            )
        })?,
    };
    let id = DocId::generate();
    let mut tx = state.db.transaction_for(&id).await?;
    let row = changes::create(&mut tx, &id, &who, &title, Some(update)).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(ImportDocumentResponse {
            document: DocumentResponse::new(row, Role::Owner),
            not_carried: word.not_carried,
        }),
    ))
}

/// A Word file's title property or first heading as a title: control characters
/// dropped, cut at [`MAX_TITLE_CHARS`].
fn title_from_file(title: Option<&str>) -> String {
    title
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_TITLE_CHARS)
        .collect()
}

/// A document's metadata and the caller's role.
#[utoipa::path(get, path = "/api/documents/{id}", tag = "documents", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = DocumentResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
pub async fn get_document(
    State(state): State<DocumentsContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<DocumentResponse>> {
    let crate::auth::Grant { doc: id, role } =
        crate::auth::authorize(&state.db, &who, &id, Role::Viewer).await?;
    let row = document_row(&state.db, &id).await?;
    state.opens.opened(&id, &who);
    Ok(ApiJson(DocumentResponse::new(row, role)))
}

/// Renames a document (owners).
#[utoipa::path(patch, path = "/api/documents/{id}", tag = "documents", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = UpdateDocumentRequest,
    responses((status = 200, body = DocumentResponse), (status = 403, body = ErrorResponse)))]
pub async fn rename_document(
    State(state): State<DocumentsContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<UpdateDocumentRequest>,
) -> ApiResult<ApiJson<DocumentResponse>> {
    let crate::auth::Grant { doc: id, role } =
        crate::auth::authorize(&state.db, &who, &id, Role::Owner).await?;
    let title = check_title(&request.title)?;
    state.db.rename_document(&id, &title).await?;
    let row = document_row(&state.db, &id).await?;
    Ok(ApiJson(DocumentResponse::new(row, role)))
}

/// Archives a document (owners): it leaves every list, every other route answers 410
/// `document_archived`, and open editors are closed with 4410. Nothing is deleted: the
/// audit trail stays readable and verifiable by the owners (`/audit`, `/audit/verify`),
/// and the archiving itself is its last entry. `forankra purge` deletes for good.
#[utoipa::path(delete, path = "/api/documents/{id}", tag = "documents", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 204, description = "archived"), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse), (status = 410, description = "already archived", body = ErrorResponse)))]
pub async fn archive_document(
    State(state): State<DocumentsContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let id = crate::auth::authorize(&state.db, &who, &id, Role::Owner)
        .await?
        .doc;
    let mut tx = state.db.transaction_for(&id).await?;
    changes::archive(&mut tx, &id, &who).await?;
    tx.commit().await?;
    state
        .rooms
        .close_document(
            &id,
            CloseReason::new(close::ARCHIVED, "the document is archived"),
        )
        .await;
    state
        .cluster
        .publish(Notice::Archived { d: id.to_string() });
    Ok(StatusCode::NO_CONTENT)
}

/// Who has which role on the document. Every member may see it: that is the point.
#[utoipa::path(get, path = "/api/documents/{id}/members", tag = "members", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = [MemberResponse]), (status = 403, body = ErrorResponse)))]
pub async fn list_members(
    State(state): State<DocumentsContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<Vec<MemberResponse>>> {
    let id = crate::auth::authorize(&state.db, &who, &id, Role::Viewer)
        .await?
        .doc;
    member_list(&state, &id).await.map(ApiJson)
}

async fn member_list(state: &DocumentsContext, id: &DocId) -> ApiResult<Vec<MemberResponse>> {
    let rows = state.db.member_rows(id).await?;
    rows.into_iter()
        .map(|row| {
            MemberResponse::try_from(row).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))
        })
        .collect()
}

/// Gives an organisation a role on the document (owners).
#[utoipa::path(put, path = "/api/documents/{id}/members/{org_id}", tag = "members", security(("bearer" = [])),
    params(("id" = String, Path), ("org_id" = String, Path)), request_body = SetMemberRequest,
    responses((status = 200, body = [MemberResponse]), (status = 403, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
pub async fn set_org_member(
    State(state): State<DocumentsContext>,
    AuthUser(who): AuthUser,
    ApiPath((id, org)): ApiPath<(String, String)>,
    ApiJson(request): ApiJson<SetMemberRequest>,
) -> ApiResult<ApiJson<Vec<MemberResponse>>> {
    let id = crate::auth::authorize(&state.db, &who, &id, Role::Owner)
        .await?
        .doc;
    let row = document_row(&state.db, &id).await?;
    let org = OrgId::parse(org)?;
    let mut tx = state.db.transaction_for(&id).await?;
    changes::set_org_role(&mut tx, (&id, &row.owner_org), &who, &org, request.role).await?;
    tx.commit().await?;
    if org.as_str() != row.owner_org {
        state.opens.invited(&id, &org).await?;
    }
    membership_changed(&state, &id).await
}

/// Takes an organisation's role away and closes its connections (owners).
#[utoipa::path(delete, path = "/api/documents/{id}/members/{org_id}", tag = "members", security(("bearer" = [])),
    params(("id" = String, Path), ("org_id" = String, Path)),
    responses((status = 200, body = [MemberResponse]), (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
pub async fn remove_org_member(
    State(state): State<DocumentsContext>,
    AuthUser(who): AuthUser,
    ApiPath((id, org)): ApiPath<(String, String)>,
) -> ApiResult<ApiJson<Vec<MemberResponse>>> {
    let id = crate::auth::authorize(&state.db, &who, &id, Role::Owner)
        .await?
        .doc;
    let row = document_row(&state.db, &id).await?;
    let mut tx = state.db.transaction_for(&id).await?;
    changes::remove_org(&mut tx, (&id, &row.owner_org), &who, &org).await?;
    tx.commit().await?;
    membership_changed(&state, &id).await
}

/// Gives one user a role on the document, whatever their organisation's (owners).
#[utoipa::path(put, path = "/api/documents/{id}/user-members/{user_id}", tag = "members", security(("bearer" = [])),
    params(("id" = String, Path), ("user_id" = String, Path)), request_body = SetMemberRequest,
    responses((status = 200, body = [MemberResponse]), (status = 403, body = ErrorResponse)))]
pub async fn set_user_member(
    State(state): State<DocumentsContext>,
    AuthUser(who): AuthUser,
    ApiPath((id, user)): ApiPath<(String, String)>,
    ApiJson(request): ApiJson<SetMemberRequest>,
) -> ApiResult<ApiJson<Vec<MemberResponse>>> {
    let grant = crate::auth::authorize(&state.db, &who, &id, Role::Owner).await?;
    let user = UserId::parse(user)?;
    let mut tx = state.db.transaction_for(&grant.doc).await?;
    changes::set_user_role(&mut tx, &grant.doc, &who, &user, request.role).await?;
    tx.commit().await?;
    let id = grant.doc;
    membership_changed(&state, &id).await
}

/// Takes a user's own role away (owners).
#[utoipa::path(delete, path = "/api/documents/{id}/user-members/{user_id}", tag = "members", security(("bearer" = [])),
    params(("id" = String, Path), ("user_id" = String, Path)),
    responses((status = 200, body = [MemberResponse]), (status = 404, body = ErrorResponse)))]
pub async fn remove_user_member(
    State(state): State<DocumentsContext>,
    AuthUser(who): AuthUser,
    ApiPath((id, user)): ApiPath<(String, String)>,
) -> ApiResult<ApiJson<Vec<MemberResponse>>> {
    let grant = crate::auth::authorize(&state.db, &who, &id, Role::Owner).await?;
    let mut tx = state.db.transaction_for(&grant.doc).await?;
    changes::remove_user(&mut tx, &grant.doc, &who, &user).await?;
    tx.commit().await?;
    let id = grant.doc;
    membership_changed(&state, &id).await
}

/// Pushes the new membership to the live room, so revoked or lowered roles take effect
/// on open sockets now, and answers with the new list.
async fn membership_changed(
    state: &DocumentsContext,
    id: &DocId,
) -> ApiResult<ApiJson<Vec<MemberResponse>>> {
    let members = state.db.members(id).await?;
    state.rooms.members_changed(id, members).await;
    state.cluster.publish(Notice::Members { d: id.to_string() });
    member_list(state, id).await.map(ApiJson)
}

async fn render(
    state: &DocumentsContext,
    who: &Identity,
    id: &str,
    format: Format,
) -> ApiResult<String> {
    let id = crate::auth::authorize(&state.db, who, id, Role::Viewer)
        .await?
        .doc;
    state
        .rooms
        .read(&id, move |doc| content::render(doc, format))
        .await
        .map_err(|e| AppError::Unavailable(e.to_string()))
}

fn text_response(body: String, content_type: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// The document as Markdown.
#[utoipa::path(get, path = "/api/documents/{id}/markdown", tag = "content", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, content_type = "text/markdown", body = String)))]
pub async fn document_markdown(
    State(state): State<DocumentsContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    Ok(text_response(
        render(&state, &who, &id, Format::Markdown).await?,
        "text/markdown; charset=utf-8",
    ))
}

/// The document as an HTML fragment (every text escaped).
#[utoipa::path(get, path = "/api/documents/{id}/html", tag = "content", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, content_type = "text/html", body = String)))]
pub async fn document_html(
    State(state): State<DocumentsContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    Ok(text_response(
        render(&state, &who, &id, Format::Html).await?,
        "text/html; charset=utf-8",
    ))
}

/// The document as plain text.
#[utoipa::path(get, path = "/api/documents/{id}/text", tag = "content", security(("bearer" = [])),
    params(("id" = String, Path)), responses((status = 200, content_type = "text/plain", body = String)))]
pub async fn document_text(
    State(state): State<DocumentsContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    Ok(text_response(
        render(&state, &who, &id, Format::Text).await?,
        "text/plain; charset=utf-8",
    ))
}

/// Who wrote the text standing in the document now: per paragraph the organisations
/// whose characters stand there, per organisation what it inserted and kept and what
/// it deleted (`documents::attribution`). Anyone who may read the document may see it.
#[utoipa::path(get, path = "/api/documents/{id}/attribution", tag = "content", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = AttributionResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[tracing::instrument(skip(state, who))]
pub async fn document_attribution(
    State(state): State<DocumentsContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<AttributionResponse>> {
    let id = crate::auth::authorize(&state.db, &who, &id, Role::Viewer)
        .await?
        .doc;
    Ok(ApiJson(
        attribution::read(&state.db, &state.rooms, &id).await?,
    ))
}

/// A page of the client ids of a document.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ClientsQuery {
    /// The `nextAfter` of the previous page.
    pub after: Option<i64>,
    /// How many (1–1000, default 1000).
    pub limit: Option<i64>,
}

/// Which organisation writes under each Yjs client id of the document, a page at a time
/// in client id order: the editor marks the text standing in it by organisation with
/// these ("Visa vem som skrivit", issue 16). Anyone who may read the document may see it.
#[utoipa::path(get, path = "/api/documents/{id}/attribution/clients", tag = "content", security(("bearer" = [])),
    params(("id" = String, Path), ClientsQuery),
    responses((status = 200, body = ClientsResponse), (status = 400, body = ErrorResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
#[tracing::instrument(skip(state, who))]
pub async fn document_attribution_clients(
    State(state): State<DocumentsContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<ClientsQuery>,
) -> ApiResult<ApiJson<ClientsResponse>> {
    let limit = query.limit.unwrap_or(MAX_CLIENTS_PAGE);
    if !(1..=MAX_CLIENTS_PAGE).contains(&limit) {
        return Err(AppError::BadRequest(format!(
            "limit must be 1–{MAX_CLIENTS_PAGE}"
        )));
    }
    let id = crate::auth::authorize(&state.db, &who, &id, Role::Viewer)
        .await?
        .doc;
    Ok(ApiJson(
        attribution::clients(&state.db, &id, query.after, limit).await?,
    ))
}
