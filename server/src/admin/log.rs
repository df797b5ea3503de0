//! The administration log: one entry per directory change, written in the change's own
//! transaction, so a change is never stored without its entry.

use serde::Serialize;
use serde_json::Value;
use sqlx::FromRow;

use crate::ids::{UserId, new_id};
use crate::storage::{Db, StoreError, Tx, now_ms};
use crate::{on_pool, on_tx};

/// Most entries one read returns.
pub const MAX_ENTRIES: i64 = 500;

/// What an administrator (or the command line) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminAction {
    OrgAdded,
    OrgRenamed,
    UserAdded,
    UserEdited,
    UserMoved,
    UserDisabled,
    UserEnabled,
    PasswordSet,
    AdminGranted,
    AdminRevoked,
    MappingSet,
    MappingRemoved,
}

impl AdminAction {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrgAdded => "org.added",
            Self::OrgRenamed => "org.renamed",
            Self::UserAdded => "user.added",
            Self::UserEdited => "user.edited",
            Self::UserMoved => "user.moved",
            Self::UserDisabled => "user.disabled",
            Self::UserEnabled => "user.enabled",
            Self::PasswordSet => "user.password_set",
            Self::AdminGranted => "user.admin_granted",
            Self::AdminRevoked => "user.admin_revoked",
            Self::MappingSet => "mapping.set",
            Self::MappingRemoved => "mapping.removed",
        }
    }
}

/// Writes one entry inside the change's transaction, and traces it.
pub async fn record(
    tx: &mut Tx,
    actor: Option<&UserId>,
    action: AdminAction,
    subject: &str,
    detail: &Value,
) -> Result<(), StoreError> {
    let actor = actor.map(UserId::as_str);
    tracing::info!(
        actor = actor.unwrap_or("command line"),
        action = action.as_str(),
        subject,
        %detail,
        "administration"
    );
    on_tx!(tx, conn => {
        sqlx::query(
            "INSERT INTO admin_log (id, at, actor, action, subject, detail) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new_id())
        .bind(now_ms())
        .bind(actor)
        .bind(action.as_str())
        .bind(subject)
        .bind(detail.to_string())
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// One entry as the administration page shows it.
#[derive(Debug, Clone, FromRow, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminLogEntry {
    /// Epoch milliseconds.
    pub at: i64,
    /// The administrator's user id; `null`: the command line.
    pub actor: Option<String>,
    pub action: String,
    /// The organisation, user or mapping changed.
    pub subject: String,
    /// What was set (JSON text; never a password).
    pub detail: String,
}

impl Db {
    /// The newest entries first, at most `limit`.
    pub async fn admin_log(&self, limit: i64) -> Result<Vec<AdminLogEntry>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, AdminLogEntry>(
                "SELECT at, actor, action, subject, detail FROM admin_log \
                 ORDER BY at DESC, id DESC LIMIT $1",
            )
            .bind(limit.clamp(1, MAX_ENTRIES))
            .fetch_all(pool)
            .await?)
        })
    }
}
