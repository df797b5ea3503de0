//! `/api/documents/{id}/remiss…`: the round, its invitees and their answers.

use std::sync::Arc;

use axum::extract::{FromRef, State};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{AuthUser, Role, TokenKeys};
use crate::comments::routes::MAX_TEXT_CHARS;
use crate::consultation::deadline;
use crate::consultation::model::{AnswerRequest, PhaseSet, RoundResponse, UpdateRoundRequest};
use crate::error::{ApiJson, ApiPath, ApiResult, AppError, ErrorResponse};
use crate::ids::{DocId, OrgId};
use crate::remiss::RemissContext;
use crate::remiss::changes::{self, RoundChange};
use crate::remiss::events;
use crate::remiss::exports;
use crate::remiss::extensions;
use crate::remiss::matrix::MatrixResponse;
use crate::remiss::round;
use crate::remiss::version_export;

/// Longest diarienummer, in characters.
const MAX_DIARIENUMMER_CHARS: usize = 100;

/// The routes of this module, each with its OpenAPI operation: `routes!` takes the path
/// and method from the handler's `#[utoipa::path]`, so they are written once.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    RemissContext: FromRef<S>,
    Arc<TokenKeys>: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(get_round, update_round))
        .routes(routes!(answer))
        .routes(routes!(
            extensions::list_extensions,
            extensions::request_extension
        ))
        .routes(routes!(extensions::decide_extension))
        .routes(routes!(exports::participation_report))
        .routes(routes!(exports::compilation))
        .routes(routes!(consensus_matrix))
        .routes(routes!(version_export::version_export))
}

/// The round, its invitees and their status (every member).
#[utoipa::path(get, path = "/api/documents/{id}/remiss", tag = "remiss", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = RoundResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
pub async fn get_round(
    State(state): State<RemissContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<RoundResponse>> {
    let doc = crate::auth::authorize(&state.db, &who, &id, Role::Viewer)
        .await?
        .doc;
    Ok(ApiJson(round::load(&state.db, &doc, Some(&who.org)).await?))
}

/// The consensus matrix (samsynsmatris) as data: paragraph by the draft's own section
/// numbering × organisation, each cell the points (thread, stance, outcome), contested
/// paragraphs first; the same rows the compilation prints (every member). Reading it is
/// not a download, so unlike the exports it leaves no audit entry.
#[utoipa::path(get, path = "/api/documents/{id}/remiss/matrix", tag = "remiss", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = MatrixResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
pub async fn consensus_matrix(
    State(state): State<RemissContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<MatrixResponse>> {
    let doc = crate::auth::authorize(&state.db, &who, &id, Role::Viewer)
        .await?
        .doc;
    let row = crate::documents::routes::document_row(&state.db, &doc).await?;
    let gathered = crate::remiss::gather::gather(&state, &doc, row).await?;
    let orgs = crate::remiss::compilation::organisations(&gathered);
    Ok(ApiJson(MatrixResponse::new(&gathered, orgs)))
}

/// Changes the diarienummer, phase, svarsdatum or the phases in which changes must be
/// suggested (owners); absent fields stay, `null` clears. While the round is in one of
/// `suggestionPhases`, editors' direct updates are not stored, on every open connection
/// on every node from the moment this answers.
#[utoipa::path(put, path = "/api/documents/{id}/remiss", tag = "remiss", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = UpdateRoundRequest,
    responses((status = 200, body = RoundResponse), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn update_round(
    State(state): State<RemissContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<UpdateRoundRequest>,
) -> ApiResult<ApiJson<RoundResponse>> {
    let doc = crate::auth::authorize(&state.db, &who, &id, Role::Owner)
        .await?
        .doc;
    let change = RoundChange {
        diarienummer: request
            .diarienummer
            .map(|given| given.as_deref().map(check_diarienummer).transpose())
            .transpose()?
            .map(Option::flatten),
        phase: request.phase,
        deadline: request
            .deadline
            .map(|given| given.as_deref().map(check_deadline).transpose())
            .transpose()?,
        suggestion_phases: request.suggestion_phases.as_deref().map(PhaseSet::of),
    };
    let mut tx = state.db.transaction_for(&doc).await?;
    changes::update_round(&mut tx, &doc, &who, change).await?;
    tx.commit().await?;
    present(&state, &doc, &who.org).await
}

/// A svarsdatum as given, checked and written back as `YYYY-MM-DD`.
fn check_deadline(text: &str) -> ApiResult<String> {
    Ok(deadline::parse_date(text.trim())
        .map_err(AppError::Unprocessable)?
        .to_string())
}

/// A trimmed diarienummer, `None` when blank.
fn check_diarienummer(text: &str) -> ApiResult<Option<String>> {
    let text = text.trim();
    if text.chars().count() > MAX_DIARIENUMMER_CHARS {
        return Err(AppError::Unprocessable(format!(
            "the diarienummer is over {MAX_DIARIENUMMER_CHARS} characters"
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(AppError::Unprocessable(
            "the diarienummer contains control characters".into(),
        ));
    }
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

/// Gives the caller's organisation's answer: `done` with its summary statement ("yttrande
/// lämnat") or `declined` ("avstår"). Answering again replaces the current answer and keeps
/// the earlier one as a submission. Answers the round.
#[utoipa::path(post, path = "/api/documents/{id}/remiss/response", tag = "remiss", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = AnswerRequest,
    responses((status = 200, body = RoundResponse), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse),
        (status = 409, description = "remiss_closed: after the svarsdatum or in phase avslutad the statements are kept as received", body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn answer(
    State(state): State<RemissContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<AnswerRequest>,
) -> ApiResult<ApiJson<RoundResponse>> {
    let crate::auth::Grant { doc, role } =
        crate::auth::authorize(&state.db, &who, &id, Role::Viewer).await?;
    let row = crate::documents::routes::document_row(&state.db, &doc).await?;
    if row.owner_org == who.org.as_str() {
        return Err(AppError::Forbidden(
            "the owner organisation answers nothing to itself".into(),
        ));
    }
    let statement = check_statement(request.statement.as_deref().unwrap_or(""))?;
    let mut tx = state.db.transaction_for(&doc).await?;
    let answer = request.status;
    changes::answer(&mut tx, &doc, &who, role, answer, statement.as_deref()).await?;
    tx.commit().await?;
    present(&state, &doc, &who.org).await
}

/// After a committed change: the round as it now stands, for the caller (its own
/// svarsdatum) and, live, for everyone with the document open (the round's svarsdatum;
/// each page rereads its own view when the event arrives).
async fn present(
    state: &RemissContext,
    doc: &DocId,
    caller: &OrgId,
) -> ApiResult<ApiJson<RoundResponse>> {
    events::publish(state, doc, round::load(&state.db, doc, None).await?).await;
    Ok(ApiJson(round::load(&state.db, doc, Some(caller)).await?))
}

fn check_statement(text: &str) -> ApiResult<Option<String>> {
    let text = text.trim();
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(AppError::Unprocessable(format!(
            "the statement is over {MAX_TEXT_CHARS} characters"
        )));
    }
    Ok((!text.is_empty()).then(|| text.to_owned()))
}
