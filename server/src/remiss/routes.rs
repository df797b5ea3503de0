//! `/api/documents/{id}/remiss…`: the round, its invitees and their answers.

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use serde_json::json;

use crate::audit::{self, Action};
use crate::auth::{AuthUser, Role};
use crate::comments::routes::MAX_TEXT_CHARS;
use crate::documents::routes::authorize;
use crate::error::{ApiJson, ApiPath, ApiResult, AppError, ErrorResponse};
use crate::remiss::deadline::Contribution;
use crate::remiss::model::{Answer, AnswerRequest, Phase, RoundResponse, UpdateRoundRequest};
use crate::remiss::round;
use crate::remiss::store::RoundUpdate;
use crate::remiss::{deadline, exports};
use crate::state::AppState;

/// Longest diarienummer, in characters.
const MAX_DIARIENUMMER_CHARS: usize = 100;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/documents/{id}/remiss",
            get(get_round).put(update_round),
        )
        .route("/api/documents/{id}/remiss/response", post(answer))
        .route(
            "/api/documents/{id}/report",
            get(exports::participation_report),
        )
        .route("/api/documents/{id}/compilation", get(exports::compilation))
}

/// The round, its invitees and their status (every member).
#[utoipa::path(get, path = "/api/documents/{id}/remiss", tag = "remiss", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = RoundResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
pub async fn get_round(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<RoundResponse>> {
    let (doc, _, _) = authorize(&state, &id, &who, Role::Viewer).await?;
    Ok(ApiJson(round::load(&state.db, &doc).await?))
}

/// Changes the diarienummer, phase or svarsdatum (owners); absent fields stay, `null`
/// clears.
#[utoipa::path(put, path = "/api/documents/{id}/remiss", tag = "remiss", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = UpdateRoundRequest,
    responses((status = 200, body = RoundResponse), (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn update_round(
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<UpdateRoundRequest>,
) -> ApiResult<ApiJson<RoundResponse>> {
    let (doc, _, _) = authorize(&state, &id, &who, Role::Owner).await?;
    // Read, change and audit in one transaction, so the entry's "from" is what was replaced.
    let mut tx = state.db.transaction_for(&doc).await?;
    let current = tx.remiss_round(&doc).await?;
    let diarienummer = match request.diarienummer {
        Some(given) => given
            .as_deref()
            .map(check_diarienummer)
            .transpose()?
            .flatten(),
        None => current.diarienummer.clone(),
    };
    let deadline = match request.deadline {
        Some(Some(date)) => Some(
            deadline::parse_date(date.trim())
                .map_err(AppError::Unprocessable)?
                .to_string(),
        ),
        Some(None) => None,
        None => current.deadline.clone(),
    };
    let phase = request
        .phase
        .or_else(|| Phase::parse(&current.phase))
        .unwrap_or_default();
    tx.set_remiss_round(
        &doc,
        &RoundUpdate {
            diarienummer: diarienummer.as_deref(),
            phase,
            deadline: deadline.as_deref(),
            by: &who.user,
        },
    )
    .await?;
    let detail = json!({
        "from": { "diarienummer": current.diarienummer, "phase": current.phase, "deadline": current.deadline },
        "to": { "diarienummer": diarienummer, "phase": phase, "deadline": deadline },
    });
    audit::record_in(&mut tx, &doc, Some(&who), Action::RemissChanged, detail).await?;
    tx.commit().await?;
    Ok(ApiJson(round::load(&state.db, &doc).await?))
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
    State(state): State<AppState>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<AnswerRequest>,
) -> ApiResult<ApiJson<RoundResponse>> {
    let (doc, row, role) = authorize(&state, &id, &who, Role::Viewer).await?;
    if row.owner_org == who.org.as_str() {
        return Err(AppError::Forbidden(
            "the owner organisation answers nothing to itself".into(),
        ));
    }
    let statement = check_statement(request.statement.as_deref().unwrap_or(""))?;
    if request.status == Answer::Done && statement.is_none() {
        return Err(AppError::Unprocessable(
            "a response (done) needs its summary statement".into(),
        ));
    }
    let invited = state
        .db
        .remiss_invitees(&doc)
        .await?
        .iter()
        .any(|i| i.org_id == who.org.as_str());
    let not_invited =
        || AppError::Forbidden("your organisation is not invited to this remiss".into());
    if !invited {
        return Err(not_invited());
    }
    let mut tx = state.db.transaction_for(&doc).await?;
    deadline::check_open(&mut tx, &doc, role, Contribution::Statement).await?;
    let submission = tx
        .submit_remiss_answer(&doc, &who, request.status, statement.as_deref())
        .await?
        .ok_or_else(not_invited)?;
    let action = match request.status {
        Answer::Done => Action::ResponseGiven,
        Answer::Declined => Action::ResponseDeclined,
    };
    let detail = json!({ "org": who.org, "statement": statement, "submission": submission });
    audit::record_in(&mut tx, &doc, Some(&who), action, detail).await?;
    tx.commit().await?;
    Ok(ApiJson(round::load(&state.db, &doc).await?))
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
