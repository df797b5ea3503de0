//! Each user's e-mail preferences: the language of their mail (Swedish by default,
//! English by choice) and whether e-mail goes at once or collected in one daily digest
//! (`digest`). `GET|PUT /api/me/preferences`; no row means Swedish, at once.

use axum::extract::State;
use serde::{Deserialize, Serialize};

use crate::auth::AuthUser;
use crate::error::{ApiJson, ApiResult};
use crate::ids::UserId;
use crate::notifications::NotificationsContext;
use crate::storage::{Db, StoreError, Tx, now_ms};
use crate::vocabulary::text_vocabulary;
use crate::{on_pool, on_tx};

/// The language of a user's e-mail (and of the web app, if the user wants).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    Sv,
    En,
}

text_vocabulary!(Language, "language" { Sv = "sv", En = "en" });

/// When a user's notification e-mail goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Digest {
    /// Each message as soon as it is due (batched per thread within the window).
    #[default]
    Immediate,
    /// Everything collected in one message a day, at the digest hour.
    Daily,
}

text_vocabulary!(Digest, "e-mail digest" { Immediate = "immediate", Daily = "daily" });

/// `GET|PUT /api/me/preferences`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, sqlx::FromRow, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct PreferencesResponse {
    pub language: Language,
    pub email_digest: Digest,
}

/// `PUT /api/me/preferences`: an absent field stays as it is.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreferencesRequest {
    pub language: Option<Language>,
    pub email_digest: Option<Digest>,
}

const SELECT: &str = "SELECT language, email_digest FROM user_preferences WHERE user_id = $1";

impl Db {
    /// `user`'s preferences, the defaults where none were chosen.
    pub async fn user_preferences(&self, user: &UserId) -> Result<PreferencesResponse, StoreError> {
        let row: Option<PreferencesResponse> = on_pool!(self, pool => {
            sqlx::query_as(SELECT).bind(user.as_str()).fetch_optional(pool).await?
        });
        Ok(row.unwrap_or_default())
    }

    /// Stores `user`'s preferences, whole.
    pub async fn set_user_preferences(
        &self,
        user: &UserId,
        preferences: PreferencesResponse,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO user_preferences (user_id, language, email_digest, updated_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (user_id) DO UPDATE SET language = excluded.language, \
                 email_digest = excluded.email_digest, updated_at = excluded.updated_at",
            )
            .bind(user.as_str())
            .bind(preferences.language)
            .bind(preferences.email_digest)
            .bind(now_ms())
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}

impl Tx {
    /// `user`'s preferences, read inside the transaction that queues their mail.
    pub async fn user_preferences(
        &mut self,
        user: &UserId,
    ) -> Result<PreferencesResponse, StoreError> {
        let row: Option<PreferencesResponse> = on_tx!(self, conn => {
            sqlx::query_as(SELECT).bind(user.as_str()).fetch_optional(&mut *conn).await?
        });
        Ok(row.unwrap_or_default())
    }
}

/// My e-mail language and digest setting.
#[utoipa::path(get, path = "/api/me/preferences", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = PreferencesResponse)))]
pub async fn get_preferences(
    State(state): State<NotificationsContext>,
    AuthUser(who): AuthUser,
) -> ApiResult<ApiJson<PreferencesResponse>> {
    Ok(ApiJson(state.db.user_preferences(&who.user).await?))
}

/// Sets my e-mail language (`sv`, `en`) and whether my e-mail goes at once
/// (`immediate`) or in one daily digest (`daily`).
#[utoipa::path(put, path = "/api/me/preferences", tag = "notifications", security(("bearer" = [])),
    request_body = PreferencesRequest, responses((status = 200, body = PreferencesResponse)))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn set_preferences(
    State(state): State<NotificationsContext>,
    AuthUser(who): AuthUser,
    ApiJson(request): ApiJson<PreferencesRequest>,
) -> ApiResult<ApiJson<PreferencesResponse>> {
    let current = state.db.user_preferences(&who.user).await?;
    let wanted = PreferencesResponse {
        language: request.language.unwrap_or(current.language),
        email_digest: request.email_digest.unwrap_or(current.email_digest),
    };
    state.db.set_user_preferences(&who.user, wanted).await?;
    Ok(ApiJson(wanted))
}
