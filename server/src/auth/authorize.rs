//! The one access check on a document, for every transport.
//!
//! HTTP handlers and the WebSocket admission used to check access each in their own
//! words (the socket repeated the HTTP check with close codes), and the two could drift:
//! a rule added to one would be missing from the other. Both now call [`authorize`] and
//! map the same typed [`AccessError`]: HTTP to a status (the `From` impl below), the
//! WebSocket to a close code (`sync::connection`). The check reads the document's
//! archival and its membership in one query.
//!
//! The order of the checks is part of the contract: an unknown document is "not found",
//! a caller without a role learns nothing more ("no access", even if the document is
//! archived), a role below the one needed says which role it would take, and only then
//! does an archived document answer "archived".

use crate::auth::access::{Member, PrincipalKind, Role, effective_role};
use crate::auth::jwt::Identity;
use crate::error::AppError;
use crate::ids::DocId;
use crate::on_pool;
use crate::storage::{Db, StoreError};

/// Why a caller may not do what it asked with a document.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The id is malformed or names no document (HTTP 404, close 4404).
    #[error("no such document")]
    NoSuchDocument,
    /// The caller holds no role on it (HTTP 403, close 4403).
    #[error("you have no access to this document")]
    NoAccess,
    /// The caller's role is weaker than the action needs (HTTP 403).
    #[error("this needs the {} role; you are {}", needed.as_str(), held.as_str())]
    RoleTooWeak { needed: Role, held: Role },
    /// The document is archived (HTTP 410 `document_archived`, close 4410).
    #[error("this document is archived; its owners can still read its audit trail")]
    Archived,
    /// The check could not read the database (HTTP 500, close 1011).
    #[error("the access check could not read the database")]
    Storage(#[from] StoreError),
}

/// What a successful check established: the parsed id and the caller's role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub doc: DocId,
    pub role: Role,
}

/// Whether an archived document still passes the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArchivedDocuments {
    Refused,
    Allowed,
}

/// Checks that `who` holds at least `needed` on the live document `doc` (the raw id from
/// a URL; a malformed one is simply not found).
pub async fn authorize(
    db: &Db,
    who: &Identity,
    doc: &str,
    needed: Role,
) -> Result<Grant, AccessError> {
    check(db, who, doc, needed, ArchivedDocuments::Refused).await
}

/// As [`authorize`], but an archived document passes too: for its audit trail, which
/// stays readable after the document is archived.
pub async fn authorize_archived(
    db: &Db,
    who: &Identity,
    doc: &str,
    needed: Role,
) -> Result<Grant, AccessError> {
    check(db, who, doc, needed, ArchivedDocuments::Allowed).await
}

async fn check(
    db: &Db,
    who: &Identity,
    doc: &str,
    needed: Role,
    archived: ArchivedDocuments,
) -> Result<Grant, AccessError> {
    let doc = DocId::parse(doc).map_err(|_| AccessError::NoSuchDocument)?;
    let facts = db
        .access_facts(&doc)
        .await?
        .ok_or(AccessError::NoSuchDocument)?;
    let role = decide(&facts, who, needed, archived)?;
    Ok(Grant { doc, role })
}

/// What the check needs to know about one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessFacts {
    pub archived: bool,
    pub members: Vec<Member>,
}

/// The decision itself, apart from the reading: see the module header for its order.
fn decide(
    facts: &AccessFacts,
    who: &Identity,
    needed: Role,
    archived: ArchivedDocuments,
) -> Result<Role, AccessError> {
    let held = effective_role(&facts.members, &who.user, &who.org).ok_or(AccessError::NoAccess)?;
    if held < needed {
        return Err(AccessError::RoleTooWeak { needed, held });
    }
    if facts.archived && archived == ArchivedDocuments::Refused {
        return Err(AccessError::Archived);
    }
    Ok(held)
}

impl From<AccessError> for AppError {
    fn from(error: AccessError) -> Self {
        match error {
            AccessError::NoSuchDocument => AppError::NotFound(error.to_string()),
            AccessError::NoAccess | AccessError::RoleTooWeak { .. } => {
                AppError::Forbidden(error.to_string())
            }
            AccessError::Archived => AppError::Archived(error.to_string()),
            AccessError::Storage(store) => AppError::Storage(store),
        }
    }
}

/// A membership row as stored: `principal_kind`, `principal_id`, `role`.
type MemberColumns = (String, String, String);

impl Member {
    /// Decodes a stored row; an unknown kind or role is a corrupt row, never skipped.
    pub fn decode((kind, id, role): MemberColumns) -> Result<Self, StoreError> {
        let kind = match kind.as_str() {
            "org" => PrincipalKind::Org,
            "user" => PrincipalKind::User,
            "disabled" => PrincipalKind::Disabled,
            "moved" => PrincipalKind::Moved,
            other => {
                return Err(StoreError::Corrupt(format!(
                    "unknown principal kind `{other}`"
                )));
            }
        };
        let role = role.parse().map_err(StoreError::Corrupt)?;
        Ok(Member { kind, id, role })
    }
}

/// A document's membership rows, then a `disabled` row for each disabled user the rows
/// reach (through their organisation or directly): see [`PrincipalKind::Disabled`];
/// then a `moved` row for each user moved to another organisation within
/// [`MOVED_WINDOW_MS`] ($2 is the window's start): see [`PrincipalKind::Moved`].
const MEMBERS_WITH_DISABLED: &str = "SELECT principal_kind, principal_id, role \
     FROM document_members WHERE doc_id = $1 \
     UNION ALL \
     SELECT 'disabled', u.id, 'viewer' FROM document_members m \
     JOIN users u ON (m.principal_kind = 'org' AND u.org_id = m.principal_id) \
       OR (m.principal_kind = 'user' AND u.id = m.principal_id) \
     WHERE m.doc_id = $1 AND u.disabled_at IS NOT NULL \
     UNION ALL \
     SELECT 'moved', u.id || ' ' || u.org_id, 'viewer' FROM users u \
     WHERE u.sessions_revoked_at > $2";

/// How long a user's move to another organisation is shown to the rooms. Their old
/// tokens are refused from the move on (the session end), so only sockets already open
/// need the entry, and every node rereads its rooms each `--membership-recheck` (1 s):
/// ten minutes outlasts any recheck by far while keeping the list short. A session
/// ended for another reason (a password reset) gives an entry too, naming the
/// organisation the user still has: it closes nothing.
pub const MOVED_WINDOW_MS: i64 = 10 * 60 * 1000;

impl Db {
    /// The membership as access checks need it, disabled users marked.
    pub async fn members(&self, id: &DocId) -> Result<Vec<Member>, StoreError> {
        let rows: Vec<MemberColumns> = on_pool!(self, pool => {
            sqlx::query_as(MEMBERS_WITH_DISABLED)
                .bind(id.as_str())
                .bind(crate::storage::now_ms() - MOVED_WINDOW_MS)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(Member::decode).collect()
    }

    /// Whether the document is archived and who holds which role on it, in one query;
    /// `None` if there is no such document.
    pub async fn access_facts(&self, id: &DocId) -> Result<Option<AccessFacts>, StoreError> {
        type Row = (Option<i64>, Option<String>, Option<String>, Option<String>);
        let rows: Vec<Row> = on_pool!(self, pool => {
            sqlx::query_as(
                "SELECT d.archived_at, m.principal_kind, m.principal_id, m.role \
                 FROM documents d LEFT JOIN document_members m ON m.doc_id = d.id \
                 WHERE d.id = $1 \
                 UNION ALL \
                 SELECT d.archived_at, 'disabled', u.id, 'viewer' \
                 FROM documents d JOIN document_members m ON m.doc_id = d.id \
                 JOIN users u ON (m.principal_kind = 'org' AND u.org_id = m.principal_id) \
                   OR (m.principal_kind = 'user' AND u.id = m.principal_id) \
                 WHERE d.id = $1 AND u.disabled_at IS NOT NULL",
            )
            .bind(id.as_str())
            .fetch_all(pool)
            .await?
        });
        let Some((archived_at, ..)) = rows.first() else {
            return Ok(None);
        };
        let archived = archived_at.is_some();
        let members = rows
            .into_iter()
            .filter_map(|(_, kind, id, role)| Some((kind?, id?, role?)))
            .map(Member::decode)
            .collect::<Result<_, _>>()?;
        Ok(Some(AccessFacts { archived, members }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{OrgId, UserId};

    fn identity(user: &str, org: &str) -> Identity {
        Identity {
            user: UserId::parse(user).unwrap(),
            name: user.to_owned(),
            org: OrgId::parse(org).unwrap(),
        }
    }

    fn facts(archived: bool) -> AccessFacts {
        AccessFacts {
            archived,
            members: vec![
                Member::decode(("org".into(), "stadsledning".into(), "owner".into())).unwrap(),
                Member::decode(("org".into(), "utbildning".into(), "commenter".into())).unwrap(),
            ],
        }
    }

    #[test]
    fn a_strong_enough_role_passes() {
        let owner = identity("anna", "stadsledning");
        let role = decide(
            &facts(false),
            &owner,
            Role::Editor,
            ArchivedDocuments::Refused,
        );
        assert_eq!(role.unwrap(), Role::Owner);
    }

    #[test]
    fn a_weaker_role_names_both_roles() {
        let commenter = identity("bo", "utbildning");
        let refused = decide(
            &facts(false),
            &commenter,
            Role::Owner,
            ArchivedDocuments::Refused,
        );
        assert!(matches!(
            refused,
            Err(AccessError::RoleTooWeak {
                needed: Role::Owner,
                held: Role::Commenter
            })
        ));
    }

    #[test]
    fn a_stranger_learns_nothing_of_an_archived_document() {
        let stranger = identity("cia", "kultur");
        let refused = decide(
            &facts(true),
            &stranger,
            Role::Viewer,
            ArchivedDocuments::Refused,
        );
        assert!(matches!(refused, Err(AccessError::NoAccess)));
    }

    #[test]
    fn archived_documents_pass_only_where_allowed() {
        let owner = identity("anna", "stadsledning");
        let refused = decide(
            &facts(true),
            &owner,
            Role::Owner,
            ArchivedDocuments::Refused,
        );
        assert!(matches!(refused, Err(AccessError::Archived)));
        let allowed = decide(
            &facts(true),
            &owner,
            Role::Owner,
            ArchivedDocuments::Allowed,
        );
        assert_eq!(allowed.unwrap(), Role::Owner);
    }

    #[test]
    fn unknown_stored_values_are_errors() {
        let kind = Member::decode(("team".into(), "x".into(), "owner".into()));
        assert!(matches!(kind, Err(StoreError::Corrupt(_))));
        let role = Member::decode(("org".into(), "x".into(), "admin".into()));
        assert!(matches!(role, Err(StoreError::Corrupt(_))));
    }
}
