//! Each change to a document as one use case in one transaction: the change's rows and
//! its audit entry (with the webhook deliveries it queues) commit together or not at all.
//! Creating a document and changing its membership used to commit the change and then
//! append the audit entry separately, so a crash between them left a change the trail
//! never recorded.
//!
//! As in `comments::changes`, each function takes the caller's [`Tx`] (begun with
//! [`crate::storage::Db::transaction_for`], so the document's lock comes first) and leaves
//! the commit to it; handlers, the CLI and the demo check access, begin, call, commit,
//! and then tell the live side (rooms, other nodes) what changed.

use serde_json::json;

use crate::audit::Action;
use crate::auth::{Identity, PrincipalKind, Role};
use crate::documents::model::DocumentRow;
use crate::documents::store::NewDocument;
use crate::error::{ApiResult, AppError};
use crate::ids::{DocId, OrgId, UserId};
use crate::storage::Tx;
use crate::webhooks;

/// Creates document `id` titled `title`, owned by the caller's organisation, with its
/// first content, and records it; returns its row.
pub async fn create(
    tx: &mut Tx,
    id: &DocId,
    who: &Identity,
    title: &str,
    initial_update: Option<Vec<u8>>,
) -> ApiResult<DocumentRow> {
    tx.ensure_user(&who.user, &who.name, &who.org).await?;
    tx.create_document(NewDocument {
        id,
        title,
        owner_org: &who.org,
        created_by: &who.user,
        initial_clients: initial_update
            .as_deref()
            .map(crate::documents::attribution::clients_of)
            .transpose()?
            .unwrap_or_default(),
        initial_update,
    })
    .await?;
    let detail = json!({ "title": title });
    webhooks::record_in(tx, id, Some(who), Action::DocumentCreated, detail).await?;
    tx.document(id)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the new document vanished")))
}

/// Archives the document and records it; 410 if it already was.
pub async fn archive(tx: &mut Tx, id: &DocId, who: &Identity) -> ApiResult<()> {
    if !tx.archive_document(id, &who.user).await? {
        return Err(AppError::Archived(
            "this document is already archived".into(),
        ));
    }
    webhooks::record_in(tx, id, Some(who), Action::DocumentArchived, json!({})).await?;
    Ok(())
}

/// Gives an organisation `role` on the document; the owning organisation stays owner.
pub async fn set_org_role(
    tx: &mut Tx,
    (id, owner_org): (&DocId, &str),
    who: &Identity,
    org: &OrgId,
    role: Role,
) -> ApiResult<()> {
    if org.as_str() == owner_org && role != Role::Owner {
        return Err(AppError::Conflict(
            "the owning organisation stays owner".into(),
        ));
    }
    tx.ensure_org(org, org.as_str()).await?;
    let change = Membership::new(id, PrincipalKind::Org, org.as_str());
    change.set(tx, who, role).await
}

/// Takes an organisation's role away; the owning organisation cannot be removed.
pub async fn remove_org(
    tx: &mut Tx,
    (id, owner_org): (&DocId, &str),
    who: &Identity,
    org: &str,
) -> ApiResult<()> {
    if org == owner_org {
        return Err(AppError::Conflict(
            "the owning organisation cannot be removed".into(),
        ));
    }
    let change = Membership::new(id, PrincipalKind::Org, org);
    change
        .remove(tx, who, "that organisation has no role here")
        .await
}

/// Gives one user `role` on the document, whatever their organisation's.
pub async fn set_user_role(
    tx: &mut Tx,
    id: &DocId,
    who: &Identity,
    user: &UserId,
    role: Role,
) -> ApiResult<()> {
    let change = Membership::new(id, PrincipalKind::User, user.as_str());
    change.set(tx, who, role).await
}

/// Takes a user's own role away.
pub async fn remove_user(tx: &mut Tx, id: &DocId, who: &Identity, user: &str) -> ApiResult<()> {
    let change = Membership::new(id, PrincipalKind::User, user);
    change
        .remove(tx, who, "that user has no role of their own here")
        .await
}

/// A change to one principal's role; the role it had is read in the same transaction,
/// so the audit trail can say whether it was an invitation, a change or a removal.
struct Membership<'a> {
    doc: &'a DocId,
    kind: PrincipalKind,
    principal: &'a str,
}

impl<'a> Membership<'a> {
    fn new(doc: &'a DocId, kind: PrincipalKind, principal: &'a str) -> Self {
        Self {
            doc,
            kind,
            principal,
        }
    }

    async fn set(&self, tx: &mut Tx, who: &Identity, role: Role) -> ApiResult<()> {
        let before = tx.member_role(self.doc, self.kind, self.principal).await?;
        tx.set_member(self.doc, self.kind, self.principal, role, &who.user)
            .await?;
        self.record(tx, who, before, Some(role)).await
    }

    async fn remove(&self, tx: &mut Tx, who: &Identity, none: &str) -> ApiResult<()> {
        let before = tx.member_role(self.doc, self.kind, self.principal).await?;
        if !tx
            .remove_member(self.doc, self.kind, self.principal)
            .await?
        {
            return Err(AppError::NotFound(none.to_owned()));
        }
        self.record(tx, who, before, None).await
    }

    /// Setting the role a principal already had records nothing.
    async fn record(
        &self,
        tx: &mut Tx,
        who: &Identity,
        before: Option<Role>,
        after: Option<Role>,
    ) -> ApiResult<()> {
        let action = match (before, after) {
            (None, Some(_)) => Action::MemberInvited,
            (Some(b), Some(a)) if b != a => Action::MemberRoleChanged,
            (Some(_), None) => Action::MemberRemoved,
            _ => return Ok(()),
        };
        let detail = json!({
            "kind": self.kind.as_str(),
            "principal": self.principal,
            "from": before.map(Role::as_str),
            "to": after.map(Role::as_str),
        });
        webhooks::record_in(tx, self.doc, Some(who), action, detail).await?;
        Ok(())
    }
}
