//! `/api/notifications…`: the inbox (a page, the unread count, mark read), the settings
//! per kind, the unsubscribe link (no sign-in: its token is the authority) and, for
//! administrators, the e-mails that could not be sent.

use std::sync::Arc;

use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::response::Html;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{AuthUser, TokenKeys};
use crate::error::{ApiJson, ApiPath, ApiQuery, ApiResult, AppError, ErrorResponse};
use crate::html_text::escape;
use crate::ids::NotificationId;
use crate::notifications::NotificationsContext;
use crate::notifications::live;
use crate::notifications::model::*;
use crate::notifications::preferences::{self, Language};
use crate::notifications::unsubscribe;

/// Default and largest page of the inbox.
const DEFAULT_PAGE: i64 = 30;
const MAX_PAGE: i64 = 100;

/// The routes of this module, each with its OpenAPI operation.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    NotificationsContext: FromRef<S>,
    Arc<TokenKeys>: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(mark_read))
        .routes(routes!(mark_all_read))
        .routes(routes!(list_settings))
        .routes(routes!(set_setting))
        .routes(routes!(unsubscribe_page, unsubscribe))
        .routes(routes!(list_troubled_mail))
        .routes(routes!(crate::notifications::stream::events))
        .routes(routes!(
            preferences::get_preferences,
            preferences::set_preferences
        ))
}

/// A page of the inbox.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    /// The `nextBefore` of the previous page.
    pub before: Option<String>,
    /// How many (1–100, default 30).
    pub limit: Option<i64>,
}

/// My notifications, newest first, with the unread count.
#[utoipa::path(get, path = "/api/notifications", tag = "notifications", security(("bearer" = [])),
    params(InboxQuery), responses((status = 200, body = InboxResponse)))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn list_notifications(
    State(state): State<NotificationsContext>,
    AuthUser(who): AuthUser,
    ApiQuery(query): ApiQuery<InboxQuery>,
) -> ApiResult<ApiJson<InboxResponse>> {
    let limit = query.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AppError::BadRequest(format!("limit must be 1–{MAX_PAGE}")));
    }
    let before = match query.before.as_deref() {
        Some(id) => Some(
            NotificationId::parse(id)
                .map_err(|_| AppError::BadRequest("`before` is not a notification id".into()))?,
        ),
        None => None,
    };
    let rows = state
        .db
        .inbox(&who.user, before.as_ref(), limit + 1)
        .await?;
    let more = rows.len() as i64 > limit;
    let items: Vec<NotificationResponse> = rows
        .into_iter()
        .take(limit as usize)
        .map(NotificationRow::into_response)
        .collect();
    let next_before = if more {
        items.last().map(|i| i.id.clone())
    } else {
        None
    };
    let unread = state.db.unread_count(&who.user).await?;
    Ok(ApiJson(InboxResponse {
        unread,
        items,
        next_before,
    }))
}

/// Marks one of my notifications read.
#[utoipa::path(post, path = "/api/notifications/{nid}/read", tag = "notifications", security(("bearer" = [])),
    params(("nid" = String, Path)), responses((status = 200, body = UnreadResponse), (status = 404, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn mark_read(
    State(state): State<NotificationsContext>,
    AuthUser(who): AuthUser,
    ApiPath(nid): ApiPath<String>,
) -> ApiResult<ApiJson<UnreadResponse>> {
    let none = || AppError::NotFound("no such notification".into());
    let id = NotificationId::parse(&nid).map_err(|_| none())?;
    if !state.db.mark_read(&who.user, &id).await? {
        return Err(none());
    }
    live::announce(&state.db, &state.bells, &who.user).await?;
    Ok(ApiJson(UnreadResponse {
        unread: state.db.unread_count(&who.user).await?,
    }))
}

/// Marks all my notifications read.
#[utoipa::path(post, path = "/api/notifications/read-all", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = UnreadResponse)))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn mark_all_read(
    State(state): State<NotificationsContext>,
    AuthUser(who): AuthUser,
) -> ApiResult<ApiJson<UnreadResponse>> {
    state.db.mark_all_read(&who.user).await?;
    live::announce(&state.db, &state.bells, &who.user).await?;
    Ok(ApiJson(UnreadResponse {
        unread: state.db.unread_count(&who.user).await?,
    }))
}

/// How I want each kind of notification (`both` where I never chose).
#[utoipa::path(get, path = "/api/notifications/settings", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = Vec<SettingResponse>)))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn list_settings(
    State(state): State<NotificationsContext>,
    AuthUser(who): AuthUser,
) -> ApiResult<ApiJson<Vec<SettingResponse>>> {
    let settings = state.db.notification_settings(&who.user).await?;
    Ok(ApiJson(
        settings
            .into_iter()
            .map(|(kind, channel)| SettingResponse { kind, channel })
            .collect(),
    ))
}

/// Sets how I want one kind: `in_app`, `email`, `both` or `none`.
#[utoipa::path(put, path = "/api/notifications/settings/{kind}", tag = "notifications", security(("bearer" = [])),
    params(("kind" = Kind, Path)), request_body = SettingRequest,
    responses((status = 200, body = SettingResponse), (status = 404, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn set_setting(
    State(state): State<NotificationsContext>,
    AuthUser(who): AuthUser,
    ApiPath(kind): ApiPath<String>,
    ApiJson(request): ApiJson<SettingRequest>,
) -> ApiResult<ApiJson<SettingResponse>> {
    let kind = kind
        .parse::<Kind>()
        .map_err(|_| AppError::NotFound(format!("no notification kind `{kind}`")))?;
    state
        .db
        .set_notification_channel(&who.user, kind, request.channel)
        .await?;
    Ok(ApiJson(SettingResponse {
        kind,
        channel: request.channel,
    }))
}

/// The unsubscribe link's token.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct UnsubscribeQuery {
    /// From the link in the e-mail.
    pub token: String,
}

/// The page an e-mail's unsubscribe link opens: it stops that kind of e-mail at once
/// (the inbox keeps it) and says so, in the user's language (Swedish unless they chose
/// English). No sign-in: the signed token names the user and the kind.
#[utoipa::path(get, path = "/api/notifications/unsubscribe", tag = "notifications",
    params(UnsubscribeQuery), responses((status = 200, content_type = "text/html", body = String),
        (status = 400, content_type = "text/html", body = String)))]
#[tracing::instrument(skip_all)]
pub async fn unsubscribe_page(
    State(state): State<NotificationsContext>,
    ApiQuery(query): ApiQuery<UnsubscribeQuery>,
) -> ApiResult<(StatusCode, Html<String>)> {
    let page = |status, lang: &str, body: String| {
        (
            status,
            Html(format!(
                "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>Förankra</title></head>\
             <body><main><h1>Förankra</h1><p>{body}</p></main></body></html>"
            )),
        )
    };
    match stop_email(&state, &query.token).await? {
        Some((user, kind)) => {
            let language = state.db.user_preferences(&user).await?.language;
            let words = crate::notifications::mail::words(language);
            let label = escape((words.label)(kind));
            let body = match language {
                Language::Sv => format!("Du får inte längre e-post om {label}. Aviseringarna finns kvar i Förankra."),
                Language::En => format!("You no longer get e-mail about {label}. The notifications stay in Förankra."),
            };
            Ok(page(StatusCode::OK, words.lang, body))
        }
        None => Ok(page(
            StatusCode::BAD_REQUEST,
            "sv",
            "Länken gick inte att använda. Kopiera hela länken från brevet, eller ändra inställningarna i Förankra.".into(),
        )),
    }
}

/// One-click unsubscribe (RFC 8058's POST to the same link).
#[utoipa::path(post, path = "/api/notifications/unsubscribe", tag = "notifications",
    params(UnsubscribeQuery), responses((status = 200, body = SettingResponse), (status = 400, body = ErrorResponse)))]
#[tracing::instrument(skip_all)]
pub async fn unsubscribe(
    State(state): State<NotificationsContext>,
    ApiQuery(query): ApiQuery<UnsubscribeQuery>,
) -> ApiResult<ApiJson<SettingResponse>> {
    let (user, kind) = check_token(&state, &query.token).await?;
    let channel = stop(&state, &user, kind).await?;
    Ok(ApiJson(SettingResponse { kind, channel }))
}

async fn check_token(
    state: &NotificationsContext,
    token: &str,
) -> ApiResult<(crate::ids::UserId, Kind)> {
    let key = unsubscribe::key(&state.db).await?;
    unsubscribe::verify(&key, token).map_err(|e| AppError::BadRequest(e.to_string()))
}

/// Stops e-mail of the token's kind; `None` for a token that does not check out.
async fn stop_email(
    state: &NotificationsContext,
    token: &str,
) -> ApiResult<Option<(crate::ids::UserId, Kind)>> {
    match check_token(state, token).await {
        Ok((user, kind)) => {
            stop(state, &user, kind).await?;
            Ok(Some((user, kind)))
        }
        Err(AppError::BadRequest(_)) => Ok(None),
        Err(other) => Err(other),
    }
}

async fn stop(
    state: &NotificationsContext,
    user: &crate::ids::UserId,
    kind: Kind,
) -> ApiResult<Channel> {
    let current = state
        .db
        .notification_settings(user)
        .await?
        .into_iter()
        .find(|(k, _)| *k == kind)
        .map_or(Channel::DEFAULT, |(_, c)| c);
    let channel = current.without_email();
    state
        .db
        .set_notification_channel(user, kind, channel)
        .await?;
    tracing::info!(%user, kind = kind.as_str(), "e-mail notifications stopped by the unsubscribe link");
    Ok(channel)
}

/// E-mails being retried or given up, newest first, with their last error
/// (administrators only).
#[utoipa::path(get, path = "/api/admin/mail", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = Vec<MailStatusResponse>), (status = 403, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn list_troubled_mail(
    State(state): State<NotificationsContext>,
    AuthUser(who): AuthUser,
) -> ApiResult<ApiJson<Vec<MailStatusResponse>>> {
    let admin = state
        .db
        .user(&who.user)
        .await?
        .is_some_and(|u| u.is_admin == 1);
    if !admin {
        return Err(AppError::Forbidden(
            "only administrators see the mail queue".into(),
        ));
    }
    Ok(ApiJson(state.db.troubled_mail(MAX_PAGE).await?))
}
