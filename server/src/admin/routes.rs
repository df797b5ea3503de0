//! `/api/admin/...`: the administration page's API, for server-wide administrators.
//!
//! Every handler first checks that the caller is an active administrator, reading
//! `users.is_admin` at each request (a revoked role takes effect on the next one), then
//! checks the request's shape, begins, calls one use case of [`crate::admin::changes`],
//! commits, and, when the change ended someone's sign-ins, tells the live side: this
//! node rereads its ended sign-ins and the membership of its open rooms at once (the
//! other nodes do on their next recheck, within `--membership-recheck`).

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRef, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::admin::changes::{self, SignIns, UserEdit};
use crate::admin::log::AdminLogEntry;
use crate::auth::directory::{NewUser, UserRow, check_email, check_new_password};
use crate::auth::jwt::{Identity, check_name};
use crate::auth::password::hash_password;
use crate::auth::routes::{MAX_CREDENTIAL_CHARS, OrganisationResponse};
use crate::auth::{AuthUser, TokenKeys};
use crate::error::{ApiJson, ApiPath, ApiQuery, ApiResult, AppError, ErrorResponse};
use crate::ids::{OrgId, UserId};

/// Largest body of an administration request (a user with a password is well under 2 KiB).
const MAX_ADMIN_BODY_BYTES: usize = 16 * 1024;
/// Longest provider (issuer URL) or claim value in a mapping.
const MAX_MAPPING_CHARS: usize = 2048;

crate::sub_state! {
    /// What the administration routes need of the server's state.
    pub struct AdminContext {
        /// Storage: the directory and the administration log.
        pub db: crate::storage::Db,
        /// Ended sign-ins are reread into the keys' revocation list after a change.
        pub tokens: Arc<TokenKeys>,
        /// Open rooms, told of a moved or disabled user at once.
        pub rooms: crate::sync::RoomRegistry,
        /// The configured identity providers, for the mapping tab.
        pub providers: Arc<crate::auth::oidc::Providers>,
    }
}

/// The routes of this module.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    AdminContext: FromRef<S>,
    Arc<TokenKeys>: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list_orgs, add_org))
        .routes(routes!(rename_org))
        .routes(routes!(list_users, add_user))
        .routes(routes!(edit_user))
        .routes(routes!(set_active))
        .routes(routes!(set_admin))
        .routes(routes!(set_password))
        .routes(routes!(list_providers))
        .routes(routes!(list_mappings, set_mapping, remove_mapping))
        .routes(routes!(read_log))
        .layer(DefaultBodyLimit::max(MAX_ADMIN_BODY_BYTES))
}

/// Refuses anyone but an active administrator (403).
async fn require_admin(state: &AdminContext, who: &Identity) -> ApiResult<()> {
    let admin = state
        .db
        .user(&who.user)
        .await?
        .is_some_and(|u| u.is_admin != 0 && u.disabled_at.is_none());
    if !admin {
        return Err(AppError::Forbidden(
            "only administrators may do this".into(),
        ));
    }
    Ok(())
}

/// Ends what a change ended, on this node now: the old tokens (reread ended sign-ins)
/// and the open sockets (reread every open room's membership).
async fn sign_ins_changed(state: &AdminContext, change: SignIns) -> ApiResult<()> {
    if change == SignIns::Kept {
        return Ok(());
    }
    state.tokens.revocations().refresh(&state.db).await?;
    crate::sync::membership::recheck_rooms(&state.db, &state.rooms).await;
    Ok(())
}

fn name(raw: String) -> ApiResult<String> {
    check_name(raw).map_err(|e| AppError::Refused {
        code: "bad_name",
        message: e.to_string(),
    })
}

fn email(raw: Option<String>) -> ApiResult<Option<String>> {
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(email) => Ok(Some(
            check_email(email).map_err(crate::admin::AdminError::from)?,
        )),
    }
}

async fn new_password_hash(password: String) -> ApiResult<String> {
    if password.chars().count() > MAX_CREDENTIAL_CHARS {
        return Err(AppError::Refused {
            code: "credentials_too_long",
            message: format!("a password is at most {MAX_CREDENTIAL_CHARS} characters"),
        });
    }
    check_new_password(&password).map_err(crate::admin::AdminError::from)?;
    Ok(hash_password(password).await?)
}

// ---- organisations ----

/// A new organisation.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct NewOrgRequest {
    /// Its id (as in tokens' `org` claim), e.g. `utbildningsforvaltningen`.
    pub id: String,
    pub name: String,
}

/// An organisation's new name.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RenameOrgRequest {
    pub name: String,
}

/// Every organisation, by name.
#[utoipa::path(get, path = "/api/admin/organisations", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = [OrganisationResponse]), (status = 403, body = ErrorResponse)))]
pub async fn list_orgs(
    State(state): State<AdminContext>,
    AuthUser(who): AuthUser,
) -> ApiResult<ApiJson<Vec<OrganisationResponse>>> {
    require_admin(&state, &who).await?;
    let orgs = state.db.orgs().await?;
    Ok(ApiJson(
        orgs.into_iter()
            .map(|o| OrganisationResponse {
                id: o.id,
                name: o.name,
            })
            .collect(),
    ))
}

/// Adds an organisation (409 if the id is taken).
#[utoipa::path(post, path = "/api/admin/organisations", tag = "admin", security(("bearer" = [])),
    request_body = NewOrgRequest,
    responses((status = 201, body = OrganisationResponse), (status = 403, body = ErrorResponse),
        (status = 409, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(admin = %who.user))]
pub async fn add_org(
    State(state): State<AdminContext>,
    AuthUser(who): AuthUser,
    ApiJson(request): ApiJson<NewOrgRequest>,
) -> ApiResult<(StatusCode, ApiJson<OrganisationResponse>)> {
    require_admin(&state, &who).await?;
    let id = OrgId::parse(request.id.trim())?;
    let name = name(request.name)?;
    let mut tx = state.db.transaction().await?;
    changes::add_org(&mut tx, Some(&who.user), &id, &name).await?;
    tx.commit().await?;
    let org = OrganisationResponse {
        id: id.to_string(),
        name,
    };
    Ok((StatusCode::CREATED, ApiJson(org)))
}

/// Renames an organisation.
#[utoipa::path(put, path = "/api/admin/organisations/{org_id}", tag = "admin", security(("bearer" = [])),
    params(("org_id" = String, Path)), request_body = RenameOrgRequest,
    responses((status = 200, body = OrganisationResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(admin = %who.user))]
pub async fn rename_org(
    State(state): State<AdminContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<RenameOrgRequest>,
) -> ApiResult<ApiJson<OrganisationResponse>> {
    require_admin(&state, &who).await?;
    let id = OrgId::parse(id)?;
    let name = name(request.name)?;
    let mut tx = state.db.transaction().await?;
    changes::rename_org(&mut tx, Some(&who.user), &id, &name).await?;
    tx.commit().await?;
    Ok(ApiJson(OrganisationResponse {
        id: id.to_string(),
        name,
    }))
}

// ---- users ----

/// A user as the administration page lists them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminUserResponse {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub org: String,
    pub org_name: String,
    /// Not disabled.
    pub active: bool,
    /// A server-wide administrator.
    pub admin: bool,
    /// Can sign in with a password.
    pub has_password: bool,
    /// Epoch milliseconds of the last sign-in, if any.
    pub last_sign_in_at: Option<i64>,
}

impl From<UserRow> for AdminUserResponse {
    fn from(u: UserRow) -> Self {
        Self {
            id: u.id,
            name: u.name,
            email: u.email,
            org: u.org_id,
            org_name: u.org_name,
            active: u.disabled_at.is_none(),
            admin: u.is_admin != 0,
            has_password: u.has_password != 0,
            last_sign_in_at: u.last_sign_in_at,
        }
    }
}

/// A new user.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewUserRequest {
    /// Their id, also their login name when they get a password.
    pub id: String,
    pub name: String,
    pub org: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub admin: bool,
    /// At least 10 characters; without one the user signs in through an identity
    /// provider (or the administrator sets one later).
    #[serde(default)]
    pub password: Option<String>,
}

/// What to change of a user; a field left out is kept.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EditUserRequest {
    #[serde(default)]
    pub name: Option<String>,
    /// An empty string removes the address.
    #[serde(default)]
    pub email: Option<String>,
    /// A new organisation ends the user's sign-ins and closes their open sockets.
    #[serde(default)]
    pub org: Option<String>,
}

/// Whether the user may sign in.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ActiveRequest {
    pub active: bool,
}

/// Whether the user is a server-wide administrator.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AdminRequest {
    pub admin: bool,
}

/// The user's new password.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct PasswordRequest {
    pub password: String,
}

async fn user_response(state: &AdminContext, id: &UserId) -> ApiResult<ApiJson<AdminUserResponse>> {
    let row = state
        .db
        .user(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no user `{id}`")))?;
    Ok(ApiJson(row.into()))
}

/// Every user, by organisation and name.
#[utoipa::path(get, path = "/api/admin/users", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = [AdminUserResponse]), (status = 403, body = ErrorResponse)))]
pub async fn list_users(
    State(state): State<AdminContext>,
    AuthUser(who): AuthUser,
) -> ApiResult<ApiJson<Vec<AdminUserResponse>>> {
    require_admin(&state, &who).await?;
    let users = state.db.users().await?;
    Ok(ApiJson(users.into_iter().map(Into::into).collect()))
}

/// Adds a user to an existing organisation (409 if the id is taken).
#[utoipa::path(post, path = "/api/admin/users", tag = "admin", security(("bearer" = [])),
    request_body = NewUserRequest,
    responses((status = 201, body = AdminUserResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse, description = "No such organisation"),
        (status = 409, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(admin = %who.user))]
pub async fn add_user(
    State(state): State<AdminContext>,
    AuthUser(who): AuthUser,
    ApiJson(request): ApiJson<NewUserRequest>,
) -> ApiResult<(StatusCode, ApiJson<AdminUserResponse>)> {
    require_admin(&state, &who).await?;
    let password_hash = match request.password.filter(|p| !p.is_empty()) {
        Some(password) => Some(new_password_hash(password).await?),
        None => None,
    };
    let user = NewUser {
        id: UserId::parse(request.id.trim())?,
        name: name(request.name)?,
        org: OrgId::parse(request.org)?,
        email: email(request.email)?,
        admin: request.admin,
        password_hash,
    };
    let mut tx = state.db.transaction().await?;
    changes::add_user(&mut tx, Some(&who.user), &user).await?;
    tx.commit().await?;
    let ApiJson(added) = user_response(&state, &user.id).await?;
    Ok((StatusCode::CREATED, ApiJson(added)))
}

/// Changes a user's name, e-mail address or organisation. A new organisation ends
/// their sign-ins and closes their open sockets (4403) at once.
#[utoipa::path(patch, path = "/api/admin/users/{user_id}", tag = "admin", security(("bearer" = [])),
    params(("user_id" = String, Path)), request_body = EditUserRequest,
    responses((status = 200, body = AdminUserResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(admin = %who.user))]
pub async fn edit_user(
    State(state): State<AdminContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<EditUserRequest>,
) -> ApiResult<ApiJson<AdminUserResponse>> {
    require_admin(&state, &who).await?;
    let id = UserId::parse(id)?;
    let edit = UserEdit {
        name: request.name.map(name).transpose()?,
        email: request.email.map(|e| email(Some(e))).transpose()?,
        org: request.org.map(OrgId::parse).transpose()?,
    };
    let mut tx = state.db.transaction().await?;
    let change = changes::edit_user(&mut tx, Some(&who.user), &id, edit).await?;
    tx.commit().await?;
    sign_ins_changed(&state, change).await?;
    user_response(&state, &id).await
}

/// Disables a user (their sign-ins end and their sockets close at once) or enables them
/// again; 409 for the last active administrator.
#[utoipa::path(put, path = "/api/admin/users/{user_id}/active", tag = "admin", security(("bearer" = [])),
    params(("user_id" = String, Path)), request_body = ActiveRequest,
    responses((status = 200, body = AdminUserResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(admin = %who.user))]
pub async fn set_active(
    State(state): State<AdminContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<ActiveRequest>,
) -> ApiResult<ApiJson<AdminUserResponse>> {
    require_admin(&state, &who).await?;
    let id = UserId::parse(id)?;
    let mut tx = state.db.transaction().await?;
    let change = changes::set_disabled(&mut tx, Some(&who.user), &id, !request.active).await?;
    tx.commit().await?;
    sign_ins_changed(&state, change).await?;
    user_response(&state, &id).await
}

/// Makes a user a server-wide administrator or takes the role; 409 for the last active
/// administrator.
#[utoipa::path(put, path = "/api/admin/users/{user_id}/admin", tag = "admin", security(("bearer" = [])),
    params(("user_id" = String, Path)), request_body = AdminRequest,
    responses((status = 200, body = AdminUserResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse), (status = 409, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(admin = %who.user))]
pub async fn set_admin(
    State(state): State<AdminContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<AdminRequest>,
) -> ApiResult<ApiJson<AdminUserResponse>> {
    require_admin(&state, &who).await?;
    let id = UserId::parse(id)?;
    let mut tx = state.db.transaction().await?;
    changes::set_admin(&mut tx, Some(&who.user), &id, request.admin).await?;
    tx.commit().await?;
    user_response(&state, &id).await
}

/// Sets a user's password (their login name is their id unless they had one); their
/// other sign-ins end.
#[utoipa::path(put, path = "/api/admin/users/{user_id}/password", tag = "admin", security(("bearer" = [])),
    params(("user_id" = String, Path)), request_body = PasswordRequest,
    responses((status = 200, body = AdminUserResponse), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse),
        (status = 422, body = ErrorResponse, description = "Under 10 characters, or over 256")))]
#[tracing::instrument(skip_all, fields(admin = %who.user))]
pub async fn set_password(
    State(state): State<AdminContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<PasswordRequest>,
) -> ApiResult<ApiJson<AdminUserResponse>> {
    require_admin(&state, &who).await?;
    let id = UserId::parse(id)?;
    let hash = new_password_hash(request.password).await?;
    let mut tx = state.db.transaction().await?;
    let change = changes::set_password(&mut tx, Some(&who.user), &id, &hash).await?;
    tx.commit().await?;
    sign_ins_changed(&state, change).await?;
    user_response(&state, &id).await
}

// ---- identity providers and the organisation mapping ----

/// A configured identity provider.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderResponse {
    /// Its id in this server's configuration (its sign-in route).
    pub id: String,
    /// The name on the login page's button; `null`: the web app's own wording.
    pub name: Option<String>,
    /// Its issuer URL: the `provider` of its mappings.
    pub issuer: String,
    /// The ID token claim whose values are mapped.
    pub org_claim: String,
}

/// One claim value standing for one organisation.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MappingResponse {
    /// The provider's issuer URL.
    pub provider: String,
    pub claim_value: String,
    pub org: String,
}

/// A mapping to set (replacing one of the same provider and value).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MappingRequest {
    pub provider: String,
    pub claim_value: String,
    pub org: String,
}

/// The mapping to remove.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct MappingKey {
    /// The provider's issuer URL.
    pub provider: String,
    pub claim_value: String,
}

/// Every identity provider this server is configured with.
#[utoipa::path(get, path = "/api/admin/providers", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = [ProviderResponse]), (status = 403, body = ErrorResponse)))]
pub async fn list_providers(
    State(state): State<AdminContext>,
    AuthUser(who): AuthUser,
) -> ApiResult<ApiJson<Vec<ProviderResponse>>> {
    require_admin(&state, &who).await?;
    Ok(ApiJson(
        state
            .providers
            .all()
            .iter()
            .map(|p| ProviderResponse {
                id: p.id.clone(),
                name: p.display_name.clone(),
                issuer: p.settings.issuer.clone(),
                org_claim: p.settings.org_claim.clone(),
            })
            .collect(),
    ))
}

async fn mappings(state: &AdminContext) -> ApiResult<ApiJson<Vec<MappingResponse>>> {
    let rows = state.db.org_mappings().await?;
    Ok(ApiJson(
        rows.into_iter()
            .map(|m| MappingResponse {
                provider: m.provider,
                claim_value: m.claim_value,
                org: m.org_id,
            })
            .collect(),
    ))
}

fn mapping_text(field: &str, value: &str) -> ApiResult<()> {
    if value.trim().is_empty() || value.chars().count() > MAX_MAPPING_CHARS {
        return Err(AppError::Refused {
            code: "bad_mapping",
            message: format!("{field} must be 1 to {MAX_MAPPING_CHARS} characters"),
        });
    }
    Ok(())
}

/// Every organisation mapping, by provider and value.
#[utoipa::path(get, path = "/api/admin/mappings", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = [MappingResponse]), (status = 403, body = ErrorResponse)))]
pub async fn list_mappings(
    State(state): State<AdminContext>,
    AuthUser(who): AuthUser,
) -> ApiResult<ApiJson<Vec<MappingResponse>>> {
    require_admin(&state, &who).await?;
    mappings(&state).await
}

/// Maps a provider's claim value to an organisation; answers every mapping.
#[utoipa::path(put, path = "/api/admin/mappings", tag = "admin", security(("bearer" = [])),
    request_body = MappingRequest,
    responses((status = 200, body = [MappingResponse]), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse, description = "No such organisation")))]
#[tracing::instrument(skip_all, fields(admin = %who.user))]
pub async fn set_mapping(
    State(state): State<AdminContext>,
    AuthUser(who): AuthUser,
    ApiJson(request): ApiJson<MappingRequest>,
) -> ApiResult<ApiJson<Vec<MappingResponse>>> {
    require_admin(&state, &who).await?;
    mapping_text("provider", &request.provider)?;
    mapping_text("claimValue", &request.claim_value)?;
    let org = OrgId::parse(request.org)?;
    let mut tx = state.db.transaction().await?;
    changes::map_org(
        &mut tx,
        Some(&who.user),
        request.provider.trim(),
        request.claim_value.trim(),
        &org,
    )
    .await?;
    tx.commit().await?;
    mappings(&state).await
}

/// Removes a mapping; answers every mapping left.
#[utoipa::path(delete, path = "/api/admin/mappings", tag = "admin", security(("bearer" = [])),
    params(MappingKey),
    responses((status = 200, body = [MappingResponse]), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(admin = %who.user))]
pub async fn remove_mapping(
    State(state): State<AdminContext>,
    AuthUser(who): AuthUser,
    ApiQuery(key): ApiQuery<MappingKey>,
) -> ApiResult<ApiJson<Vec<MappingResponse>>> {
    require_admin(&state, &who).await?;
    let mut tx = state.db.transaction().await?;
    changes::unmap_org(&mut tx, Some(&who.user), &key.provider, &key.claim_value).await?;
    tx.commit().await?;
    mappings(&state).await
}

/// The administration log, newest first (at most 500 entries).
#[utoipa::path(get, path = "/api/admin/log", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = [AdminLogEntry]), (status = 403, body = ErrorResponse)))]
pub async fn read_log(
    State(state): State<AdminContext>,
    AuthUser(who): AuthUser,
) -> ApiResult<ApiJson<Vec<AdminLogEntry>>> {
    require_admin(&state, &who).await?;
    Ok(ApiJson(
        state.db.admin_log(crate::admin::log::MAX_ENTRIES).await?,
    ))
}
