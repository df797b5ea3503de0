//! Registering and removing a webhook, each as one use case in one transaction: the
//! webhook's row and its audit entry commit together (they used to be two commits). See
//! `documents::changes` for the convention.

use serde_json::json;

use crate::audit::Action;
use crate::auth::Identity;
use crate::error::{ApiResult, AppError};
use crate::ids::DocId;
use crate::storage::Tx;
use crate::webhooks::model::{Event, WebhookRow};

/// Stores the webhook `row` of document `doc` (for `events`) and records it.
pub async fn register(
    tx: &mut Tx,
    doc: &DocId,
    row: &WebhookRow,
    events: &[Event],
    who: &Identity,
) -> ApiResult<()> {
    tx.insert_webhook(row).await?;
    let detail = json!({"webhook": row.id, "url": row.url, "events": events});
    super::record_in(tx, doc, Some(who), Action::WebhookRegistered, detail).await?;
    Ok(())
}

/// Removes the webhook `hook` of document `doc` with its deliveries and records it; 404
/// if it is already gone.
pub async fn remove(tx: &mut Tx, doc: &DocId, hook: &WebhookRow, who: &Identity) -> ApiResult<()> {
    if !tx.delete_webhook(doc, &hook.id).await? {
        return Err(AppError::NotFound("no such webhook".into()));
    }
    let detail = json!({"webhook": hook.id, "url": hook.url});
    super::record_in(tx, doc, Some(who), Action::WebhookRemoved, detail).await?;
    Ok(())
}
