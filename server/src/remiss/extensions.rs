//! `/api/documents/{id}/remiss/extensions…`: an invited organisation asks for a later
//! svarsdatum with a reason; the owners grant it (with the date they choose) or refuse
//! it (with a reason), per organisation, and may grant one unasked. Each is appended
//! with its audit entry in one transaction (the entry raises the notifications:
//! `extension_requested` to the owners, `extension_decided` to the organisation), and
//! nothing is ever edited: a decision is a new row beside its request. The rows and the
//! effective svarsdatum are in `consultation::extensions`.

use axum::extract::State;
use serde_json::json;

use crate::audit::Action;
use crate::auth::{AuthUser, Identity, Role};
use crate::consultation::deadline;
use crate::consultation::extensions::{
    self, DecisionRequest, ExtensionRequest, ExtensionsResponse, NewDecision,
};
use crate::consultation::model::Phase;
use crate::error::{ApiJson, ApiPath, ApiResult, AppError, ErrorResponse};
use crate::ids::{DocId, OrgId};
use crate::remiss::RemissContext;
use crate::storage::Tx;
use crate::webhooks;

/// Longest reason, in characters.
pub const MAX_REASON_CHARS: usize = 2000;

/// Requests of one organisation that may await a decision at once.
pub const MAX_PENDING: i64 = 1;

/// A checked reason: trimmed, bounded, no control characters but line breaks.
fn check_reason(text: &str) -> ApiResult<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AppError::Unprocessable("a reason is required".into()));
    }
    if text.chars().count() > MAX_REASON_CHARS {
        return Err(AppError::Unprocessable(format!(
            "the reason is over {MAX_REASON_CHARS} characters"
        )));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(AppError::Unprocessable(
            "the reason contains control characters".into(),
        ));
    }
    Ok(text.to_owned())
}

/// A checked date, `YYYY-MM-DD`, later than `after` (the date it extends).
fn check_later(text: &str, after: &str) -> ApiResult<String> {
    let date = deadline::parse_date(text.trim())
        .map_err(AppError::Unprocessable)?
        .to_string();
    if date.as_str() <= after {
        return Err(AppError::Unprocessable(format!(
            "the new svarsdatum must be later than {after}"
        )));
    }
    Ok(date)
}

/// The round's svarsdatum, refusing a round without one or one that is closed.
async fn open_round_deadline(tx: &mut Tx, doc: &DocId) -> ApiResult<String> {
    let round = tx.remiss_round(doc).await?;
    if round.phase == Phase::Avslutad {
        return Err(AppError::RemissClosed(
            "the remiss round is closed (avslutad): its svarsdatum can no longer change".into(),
        ));
    }
    round
        .deadline
        .ok_or_else(|| AppError::Unprocessable("the round has no svarsdatum to extend".into()))
}

/// `who`'s organisation asks for a later svarsdatum: refused with 403 unless it is
/// invited, 422 unless the date is later than its current one, 409 while an earlier
/// request awaits a decision. Returns the request's number.
pub async fn request(
    tx: &mut Tx,
    doc: &DocId,
    who: &Identity,
    date: &str,
    reason: &str,
) -> ApiResult<i64> {
    if !tx.is_remiss_invitee(doc, &who.org).await? {
        return Err(AppError::Forbidden(
            "your organisation is not invited to this remiss".into(),
        ));
    }
    let round = open_round_deadline(tx, doc).await?;
    let granted = tx.granted_date(doc, &who.org).await?;
    let current = extensions::effective(Some(&round), granted.as_deref()).unwrap_or(round);
    let date = check_later(date, &current)?;
    let reason = check_reason(reason)?;
    if tx.pending_extension_requests(doc, &who.org).await? >= MAX_PENDING {
        return Err(AppError::Conflict(
            "your organisation's earlier request awaits the owners' decision".into(),
        ));
    }
    let seq = tx
        .insert_extension_request(doc, who, &date, &reason)
        .await?;
    let detail = json!({ "org": who.org, "request": seq, "date": date, "reason": reason,
        "deadline": current });
    webhooks::record_in(tx, doc, Some(who), Action::ExtensionRequested, detail).await?;
    Ok(seq)
}

/// The owners' decision on organisation `decision.org`: a grant needs a date later than
/// the round's svarsdatum, a refusal a reason and a request. A request is decided once
/// (409). Returns the decision's number.
pub async fn decide(tx: &mut Tx, doc: &DocId, decision: &NewDecision<'_>) -> ApiResult<i64> {
    if !tx.is_remiss_invitee(doc, decision.org).await? {
        return Err(AppError::NotFound(
            "that organisation is not invited to this remiss".into(),
        ));
    }
    let round = open_round_deadline(tx, doc).await?;
    match decision.request {
        Some(seq) => match tx.extension_request(doc, seq).await? {
            Some((org, _)) if org != decision.org.as_str() => {
                return Err(AppError::Unprocessable(format!(
                    "request {seq} is not that organisation's"
                )));
            }
            Some((_, true)) => {
                return Err(AppError::Conflict(format!(
                    "request {seq} was already decided"
                )));
            }
            Some(_) => {}
            None => return Err(AppError::NotFound(format!("no extension request {seq}"))),
        },
        None if decision.granted_date.is_none() => {
            return Err(AppError::Unprocessable(
                "a refusal answers a request: give its number".into(),
            ));
        }
        None => {}
    }
    if let Some(date) = decision.granted_date {
        check_later(date, &round)?;
    } else if decision.reason.is_none() {
        return Err(AppError::Unprocessable("a refusal needs its reason".into()));
    }
    let seq = tx.insert_extension_decision(doc, decision).await?;
    let (action, detail) = match decision.granted_date {
        Some(date) => (
            Action::ExtensionGranted,
            json!({ "org": decision.org, "request": decision.request, "decision": seq,
                "date": date, "reason": decision.reason, "deadline": round }),
        ),
        None => (
            Action::ExtensionRefused,
            json!({ "org": decision.org, "request": decision.request, "decision": seq,
                "reason": decision.reason, "deadline": round }),
        ),
    };
    webhooks::record_in(tx, doc, Some(decision.by), action, detail).await?;
    Ok(seq)
}

/// The requests and decisions the caller may see: owners every organisation's, an
/// invitee its own.
async fn visible(
    state: &RemissContext,
    doc: &DocId,
    who: &Identity,
    role: Role,
) -> ApiResult<ExtensionsResponse> {
    let requests = state.db.extension_requests(doc).await?;
    let decisions = state.db.extension_decisions(doc).await?;
    let only = (role != Role::Owner).then_some(&who.org);
    Ok(extensions::response(requests, decisions, only))
}

/// Requests for a later svarsdatum and the owners' decisions, oldest first: every
/// organisation's for owners, the caller's organisation's for others.
#[utoipa::path(get, path = "/api/documents/{id}/remiss/extensions", tag = "remiss", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = ExtensionsResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse)))]
pub async fn list_extensions(
    State(state): State<RemissContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<ExtensionsResponse>> {
    let crate::auth::Grant { doc, role } =
        crate::auth::authorize(&state.db, &who, &id, Role::Viewer).await?;
    Ok(ApiJson(visible(&state, &doc, &who, role).await?))
}

/// Asks, for the caller's invited organisation, for a later svarsdatum with a reason
/// (at most 2000 characters). Kept as received; the owners are notified.
#[utoipa::path(post, path = "/api/documents/{id}/remiss/extensions", tag = "remiss", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = ExtensionRequest,
    responses((status = 200, body = ExtensionsResponse), (status = 403, body = ErrorResponse),
        (status = 409, description = "a request awaits a decision, or the round is avslutad (remiss_closed)", body = ErrorResponse),
        (status = 422, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn request_extension(
    State(state): State<RemissContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ExtensionRequest>,
) -> ApiResult<ApiJson<ExtensionsResponse>> {
    let crate::auth::Grant { doc, role } =
        crate::auth::authorize(&state.db, &who, &id, Role::Viewer).await?;
    let mut tx = state.db.transaction_for(&doc).await?;
    request(&mut tx, &doc, &who, &body.date, &body.reason).await?;
    tx.commit().await?;
    Ok(ApiJson(visible(&state, &doc, &who, role).await?))
}

/// Grants (with a date later than the round's svarsdatum) or refuses (with a reason) an
/// organisation's request, or grants a later svarsdatum unasked (owners). The
/// organisation's members are notified.
#[utoipa::path(post, path = "/api/documents/{id}/remiss/extensions/decisions", tag = "remiss", security(("bearer" = [])),
    params(("id" = String, Path)), request_body = DecisionRequest,
    responses((status = 200, body = ExtensionsResponse), (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 409, description = "the request was decided already, or the round is avslutad (remiss_closed)", body = ErrorResponse),
        (status = 422, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn decide_extension(
    State(state): State<RemissContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<DecisionRequest>,
) -> ApiResult<ApiJson<ExtensionsResponse>> {
    let doc = crate::auth::authorize(&state.db, &who, &id, Role::Owner)
        .await?
        .doc;
    let org = OrgId::parse(&body.org).map_err(|_| {
        AppError::NotFound("that organisation is not invited to this remiss".into())
    })?;
    let granted_date = match (body.grant, body.date.as_deref()) {
        (true, Some(date)) => Some(date.trim().to_owned()),
        (true, None) => {
            return Err(AppError::Unprocessable(
                "a grant needs its svarsdatum".into(),
            ));
        }
        (false, _) => None,
    };
    let reason = body
        .reason
        .as_deref()
        .filter(|r| !r.trim().is_empty())
        .map(check_reason)
        .transpose()?;
    let decision = NewDecision {
        org: &org,
        request: body.request,
        granted_date: granted_date.as_deref(),
        reason: reason.as_deref(),
        by: &who,
    };
    let mut tx = state.db.transaction_for(&doc).await?;
    decide(&mut tx, &doc, &decision).await?;
    tx.commit().await?;
    Ok(ApiJson(visible(&state, &doc, &who, Role::Owner).await?))
}
