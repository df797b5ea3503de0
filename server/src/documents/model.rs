//! Document rows and the JSON the API speaks about them.

use serde::{Deserialize, Serialize};
use sqlx::FromRow;

use crate::auth::{PrincipalKind, Role};

/// Longest title accepted.
pub const MAX_TITLE_CHARS: usize = 300;

/// A `documents` row.
#[derive(Debug, Clone, FromRow)]
pub struct DocumentRow {
    pub id: String,
    pub title: String,
    pub owner_org: String,
    pub owner_org_name: String,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// When `DELETE /api/documents/{id}` archived it; `None` while live.
    pub archived_at: Option<i64>,
}

/// A membership row joined with the principal's display name.
#[derive(Debug, Clone, FromRow)]
pub struct MemberRow {
    pub principal_kind: String,
    pub principal_id: String,
    pub name: Option<String>,
    pub role: String,
    pub granted_by: String,
    pub granted_at: i64,
}

/// `POST /api/documents`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateDocumentRequest {
    /// The title, 1 to 300 characters.
    pub title: String,
    /// Optional first content: headings, paragraphs, lists, quotes, code, emphasis, links.
    pub markdown: Option<String>,
}

/// `PATCH /api/documents/{id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UpdateDocumentRequest {
    pub title: String,
}

/// A document and the caller's role on it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DocumentResponse {
    pub id: String,
    pub title: String,
    pub owner_org: String,
    pub owner_org_name: String,
    pub created_by: String,
    /// Epoch milliseconds.
    pub created_at: i64,
    /// Epoch milliseconds of the last stored edit.
    pub updated_at: i64,
    /// What the caller may do here.
    pub role: Role,
    /// When it was archived (epoch milliseconds); absent while live.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archived_at: Option<i64>,
}

/// `POST /api/documents/import` options.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportDocumentQuery {
    /// The title; without one, the Word document's title property, else its first
    /// heading.
    pub title: Option<String>,
}

/// `POST /api/documents/import`: the new document, and what of the Word file the editor
/// could not hold as it was (by kind and count; empty when everything came along).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportDocumentResponse {
    pub document: DocumentResponse,
    pub not_carried: Vec<crate::documents::word::NotCarried>,
}

/// `GET /api/documents` options.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ListDocumentsQuery {
    /// `true`: the archived documents the caller owns (their audit trails stay
    /// readable), instead of the live ones.
    pub archived: Option<bool>,
}

impl DocumentResponse {
    /// The response for `row` as seen by someone with `role`.
    pub fn new(row: DocumentRow, role: Role) -> Self {
        Self {
            id: row.id,
            title: row.title,
            owner_org: row.owner_org,
            owner_org_name: row.owner_org_name,
            created_by: row.created_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
            role,
            archived_at: row.archived_at,
        }
    }
}

/// `PUT /api/documents/{id}/members/{org_id}` and `…/user-members/{user_id}`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SetMemberRequest {
    pub role: Role,
}

/// One organisation or user with a role on a document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberResponse {
    pub kind: PrincipalKind,
    pub id: String,
    pub name: String,
    pub role: Role,
    pub granted_by: String,
    /// Epoch milliseconds.
    pub granted_at: i64,
}

impl TryFrom<MemberRow> for MemberResponse {
    type Error = String;
    fn try_from(row: MemberRow) -> Result<Self, String> {
        let kind = match row.principal_kind.as_str() {
            "org" => PrincipalKind::Org,
            "user" => PrincipalKind::User,
            other => return Err(format!("unknown principal kind `{other}`")),
        };
        Ok(Self {
            kind,
            name: row.name.unwrap_or_else(|| row.principal_id.clone()),
            id: row.principal_id,
            role: row.role.parse()?,
            granted_by: row.granted_by,
            granted_at: row.granted_at,
        })
    }
}
