//! `GET /api/me/events`: the live bell as Server-Sent Events.
//!
//! Server-Sent Events rather than a second WebSocket: the stream only flows one way, the
//! browser's `EventSource` sends the session cookie by itself (same origin, a GET, so no
//! CSRF header is needed), and a plain HTTP response passes every proxy that passes the
//! API. Every page holds one, the document list too (it has no document socket).
//!
//! What it sends (each `data` one JSON object):
//! - `event: bell`, `{"unread": n, "latest": notification|null}`: at once on connecting,
//!   then whenever either changed ([`crate::notifications::live`] says when to look);
//! - `event: end`, `{"reason": "…"}`: the token expired, or its user was disabled or had
//!   their sessions ended (checked every [`RECHECK`]); the stream closes after it;
//! - a comment line every [`KEEP_ALIVE`], so proxies and the browser see it alive.
//!
//! Bounds: [`MAX_STREAMS_PER_USER`](crate::notifications::live::MAX_STREAMS_PER_USER)
//! per user and node (429 beyond), nothing buffered per reader but the latest
//! generation (the response is pulled as the socket drains, and a reread happens only
//! when the client takes the next event), and every stream ends at shutdown.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::Serialize;
use tokio::time::{Interval, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

use crate::auth::extractor::presented_token;
use crate::auth::{AuthError, AuthUser, TokenKeys};
use crate::error::{ApiResult, AppError, ErrorResponse};
use crate::ids::UserId;
use crate::notifications::NotificationsContext;
use crate::notifications::live::Subscription;
use crate::notifications::model::{NotificationResponse, NotificationRow};
use crate::storage::{Db, StoreError};

/// How often an open stream checks that its token still holds (the ended sign-ins are
/// reread on the same beat, `--membership-recheck`).
pub const RECHECK: Duration = Duration::from_secs(1);

/// Comment lines keep an idle stream alive through proxies that cut silent responses.
pub const KEEP_ALIVE: Duration = Duration::from_secs(20);

/// How long a refused client should wait before opening another stream.
const RETRY_AFTER_FULL: Duration = Duration::from_secs(30);

/// The bell's state: what an `event: bell` carries.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BellEvent {
    /// My unread notifications.
    pub unread: i64,
    /// My newest notification, read or not.
    pub latest: Option<NotificationResponse>,
}

/// Why the stream ended: what an `event: end` carries.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EndEvent {
    /// The token's refusal (expired, account disabled, sign-in ended).
    pub reason: String,
}

/// My notification bell, live: the unread count and newest item at once and after every
/// change (Server-Sent Events, `event: bell`), until the token stops holding
/// (`event: end`).
#[utoipa::path(get, path = "/api/me/events", tag = "notifications", security(("bearer" = [])),
    responses(
        (status = 200, content_type = "text/event-stream", body = BellEvent,
            description = "`event: bell` with a BellEvent at once and after each change; `event: end` with an EndEvent before the stream closes"),
        (status = 401, body = ErrorResponse),
        (status = 429, body = ErrorResponse, description = "too many open streams for this user")))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn events(
    State(state): State<NotificationsContext>,
    State(tokens): State<Arc<TokenKeys>>,
    AuthUser(who): AuthUser,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let token = presented_token(&headers)
        .ok_or(AuthError::Missing)?
        .to_owned();
    let subscription =
        state
            .bells
            .subscribe(&who.user)
            .map_err(|full| AppError::TooManyRequests {
                message: full.to_string(),
                retry_after: RETRY_AFTER_FULL,
            })?;
    let mut recheck = tokio::time::interval_at(tokio::time::Instant::now() + RECHECK, RECHECK);
    recheck.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let feed = Feed {
        db: state.db,
        tokens,
        token,
        user: who.user,
        subscription,
        shutdown: state.shutdown,
        recheck,
        sent: None,
        ended: false,
    };
    let stream = futures_util::stream::unfold(feed, Feed::next);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// One open stream's state.
struct Feed {
    db: Db,
    tokens: Arc<TokenKeys>,
    token: String,
    user: UserId,
    subscription: Subscription,
    shutdown: CancellationToken,
    recheck: Interval,
    /// What the client was last sent: the count and the newest item's id and read state.
    sent: Option<(i64, Option<(String, bool)>)>,
    ended: bool,
}

/// What ended a wait.
enum Wake {
    /// The inbox may have changed.
    Changed,
    /// The token no longer holds, for this reason.
    Refused(String),
    /// The server is shutting down.
    Stop,
}

impl Feed {
    /// The next event: the bell when it differs from what was sent, or the end.
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Self)> {
        if self.ended {
            return None;
        }
        // The first event goes at once; later ones wait for a change.
        let mut look = self.sent.is_none();
        loop {
            if !look {
                match self.wait().await {
                    Wake::Changed => {}
                    Wake::Refused(reason) => return self.end(reason),
                    Wake::Stop => return None,
                }
            }
            look = false;
            let bell = match bell(&self.db, &self.user).await {
                Ok(bell) => bell,
                Err(error) => {
                    // The client reconnects with backoff and rereads then.
                    tracing::warn!(%error, "reading the bell for an event stream failed");
                    return None;
                }
            };
            let seen = (
                bell.unread,
                bell.latest
                    .as_ref()
                    .map(|n| (n.id.to_string(), n.read_at.is_some())),
            );
            if self.sent.as_ref() != Some(&seen) {
                self.sent = Some(seen);
                let event = Event::default().event("bell").json_data(&bell).ok()?;
                return Some((Ok(event), self));
            }
        }
    }

    /// The last event: why the stream closes.
    fn end(mut self, reason: String) -> Option<(Result<Event, Infallible>, Self)> {
        self.ended = true;
        tracing::info!(user = %self.user, %reason, "an event stream ended");
        let event = Event::default()
            .event("end")
            .json_data(EndEvent { reason })
            .ok()?;
        Some((Ok(event), self))
    }

    /// Waits until the inbox may have changed, the token stops holding or shutdown.
    async fn wait(&mut self) -> Wake {
        loop {
            tokio::select! {
                changed = self.subscription.changes.changed() => {
                    return if changed.is_ok() { Wake::Changed } else { Wake::Stop };
                }
                _ = self.recheck.tick() => {
                    if let Err(refused) = self.tokens.verify_bearer(&self.token) {
                        return Wake::Refused(refused.to_string());
                    }
                }
                () = self.shutdown.cancelled() => return Wake::Stop,
            }
        }
    }
}

async fn bell(db: &Db, user: &UserId) -> Result<BellEvent, StoreError> {
    let latest = db
        .inbox(user, None, 1)
        .await?
        .into_iter()
        .next()
        .map(NotificationRow::into_response);
    Ok(BellEvent {
        unread: db.unread_count(user).await?,
        latest,
    })
}
