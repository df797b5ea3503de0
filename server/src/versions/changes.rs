//! Saving a version as one use case in one transaction: the version's row and its audit
//! entry commit together (they used to be two commits, and a crash between them left a
//! version the trail never mentioned). See `documents::changes` for the convention.

use serde_json::json;

use crate::audit::Action;
use crate::auth::Identity;
use crate::error::ApiResult;
use crate::storage::Tx;
use crate::versions::store::NewVersion;
use crate::webhooks;

/// Stores `version` and records who saved it.
pub async fn save(tx: &mut Tx, version: &NewVersion<'_>, who: &Identity) -> ApiResult<()> {
    tx.insert_version(version).await?;
    let detail = json!({
        "version": version.id,
        "name": version.name,
        "paragraphs": version.paragraphs,
    });
    webhooks::record_in(tx, version.doc, Some(who), Action::VersionSaved, detail).await?;
    Ok(())
}
