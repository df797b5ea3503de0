//! Each directory change as one use case: the change and its administration log entry
//! in the caller's transaction. The API (`admin::routes`) and the command line
//! (`cli::admin`) both call these, begin and commit; `actor` is the administrator, or
//! `None` for the command line.
//!
//! A change that ends a user's sign-ins (disabling, a new organisation, a new password)
//! stamps `sessions_revoked_at`; the caller then has the running node reread its ended
//! sign-ins and its rooms' membership, so the old tokens and open sockets stop at once.

use serde_json::json;

use crate::admin::AdminError;
use crate::admin::log::{AdminAction, record};
use crate::auth::directory::NewUser;
use crate::ids::{OrgId, UserId};
use crate::storage::Tx;

/// What an edit of a user may change; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct UserEdit {
    pub name: Option<String>,
    /// `Some(None)` removes the address.
    pub email: Option<Option<String>>,
    pub org: Option<OrgId>,
}

/// Whether a change ended the user's sign-ins (so the caller must tell the live side).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignIns {
    Kept,
    Ended,
}

/// Adds an organisation.
pub async fn add_org(
    tx: &mut Tx,
    actor: Option<&UserId>,
    id: &OrgId,
    name: &str,
) -> Result<(), AdminError> {
    tx.add_org(id, name).await?;
    let detail = json!({ "name": name });
    record(tx, actor, AdminAction::OrgAdded, id.as_str(), &detail).await?;
    Ok(())
}

/// Renames an organisation.
pub async fn rename_org(
    tx: &mut Tx,
    actor: Option<&UserId>,
    id: &OrgId,
    name: &str,
) -> Result<(), AdminError> {
    tx.rename_org(id, name).await?;
    let detail = json!({ "name": name });
    record(tx, actor, AdminAction::OrgRenamed, id.as_str(), &detail).await?;
    Ok(())
}

/// Adds a user (with a password hash, or none: identity provider or token sign-in).
pub async fn add_user(
    tx: &mut Tx,
    actor: Option<&UserId>,
    user: &NewUser,
) -> Result<(), AdminError> {
    tx.add_user(user).await?;
    let detail = json!({
        "name": user.name,
        "org": user.org.as_str(),
        "email": user.email,
        "admin": user.admin,
        "password": user.password_hash.is_some(),
    });
    record(tx, actor, AdminAction::UserAdded, user.id.as_str(), &detail).await?;
    Ok(())
}

/// Changes a user's name, e-mail address or organisation. A new organisation ends
/// their sign-ins: their tokens and open sockets speak for the old one.
pub async fn edit_user(
    tx: &mut Tx,
    actor: Option<&UserId>,
    id: &UserId,
    edit: UserEdit,
) -> Result<SignIns, AdminError> {
    let current = tx
        .directory_user(id)
        .await?
        .ok_or_else(|| crate::auth::directory::DirectoryError::NoSuchUser(id.to_string()))?;
    if edit.name.is_some() || edit.email.is_some() {
        let name = edit.name.unwrap_or(current.name);
        let email = edit.email.unwrap_or(current.email);
        tx.set_profile(id, &name, email.as_deref()).await?;
        let detail = json!({ "name": name, "email": email });
        record(tx, actor, AdminAction::UserEdited, id.as_str(), &detail).await?;
    }
    match edit.org {
        Some(org) if org.as_str() != current.org_id => {
            tx.move_user(id, &org).await?;
            let detail = json!({ "from": current.org_id, "to": org.as_str() });
            record(tx, actor, AdminAction::UserMoved, id.as_str(), &detail).await?;
            Ok(SignIns::Ended)
        }
        _ => Ok(SignIns::Kept),
    }
}

/// Refuses a change that would leave no active administrator, when `id` is one.
async fn keep_an_admin(tx: &mut Tx, id: &UserId) -> Result<(), AdminError> {
    let Some(user) = tx.directory_user(id).await? else {
        return Ok(());
    };
    let active_admin = user.is_admin != 0 && user.disabled_at.is_none();
    if active_admin && tx.other_active_admins(id).await? == 0 {
        return Err(AdminError::LastAdmin(id.to_string()));
    }
    Ok(())
}

/// Disables a user (ending their sign-ins) or enables them again.
pub async fn set_disabled(
    tx: &mut Tx,
    actor: Option<&UserId>,
    id: &UserId,
    disabled: bool,
) -> Result<SignIns, AdminError> {
    if disabled {
        keep_an_admin(tx, id).await?;
    }
    tx.set_disabled(id, disabled).await?;
    let (action, sign_ins) = if disabled {
        (AdminAction::UserDisabled, SignIns::Ended)
    } else {
        (AdminAction::UserEnabled, SignIns::Kept)
    };
    record(tx, actor, action, id.as_str(), &json!({})).await?;
    Ok(sign_ins)
}

/// Gives or takes the server-wide administrator role.
pub async fn set_admin(
    tx: &mut Tx,
    actor: Option<&UserId>,
    id: &UserId,
    admin: bool,
) -> Result<(), AdminError> {
    if !admin {
        keep_an_admin(tx, id).await?;
    }
    tx.set_admin(id, admin).await?;
    let action = if admin {
        AdminAction::AdminGranted
    } else {
        AdminAction::AdminRevoked
    };
    record(tx, actor, action, id.as_str(), &json!({})).await?;
    Ok(())
}

/// Sets a user's password (an Argon2 hash; the password itself never reaches the log)
/// and ends their other sign-ins.
pub async fn set_password(
    tx: &mut Tx,
    actor: Option<&UserId>,
    id: &UserId,
    hash: &str,
) -> Result<SignIns, AdminError> {
    tx.set_password(id, hash).await?;
    record(tx, actor, AdminAction::PasswordSet, id.as_str(), &json!({})).await?;
    Ok(SignIns::Ended)
}

/// Maps a provider's claim value to an organisation (replacing an earlier mapping).
pub async fn map_org(
    tx: &mut Tx,
    actor: Option<&UserId>,
    provider: &str,
    claim_value: &str,
    org: &OrgId,
) -> Result<(), AdminError> {
    tx.map_org(provider, claim_value, org).await?;
    let detail = json!({ "provider": provider, "value": claim_value, "org": org.as_str() });
    record(tx, actor, AdminAction::MappingSet, claim_value, &detail).await?;
    Ok(())
}

/// Removes a mapping: the value no longer signs anyone in.
pub async fn unmap_org(
    tx: &mut Tx,
    actor: Option<&UserId>,
    provider: &str,
    claim_value: &str,
) -> Result<(), AdminError> {
    if !tx.unmap_org(provider, claim_value).await? {
        return Err(AdminError::NoSuchMapping {
            provider: provider.to_owned(),
            claim_value: claim_value.to_owned(),
        });
    }
    let detail = json!({ "provider": provider, "value": claim_value });
    record(tx, actor, AdminAction::MappingRemoved, claim_value, &detail).await?;
    Ok(())
}
