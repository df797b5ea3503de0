//! Roles on a document and how a caller's role is derived from the membership rows.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

use crate::ids::{OrgId, UserId};

/// A role on one document. The order is the order of power: an owner can do everything an
/// editor can, and so on down to a viewer, who only reads.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Commenter,
    Editor,
    Owner,
}

impl Role {
    /// The name stored in the database and used in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Commenter => "commenter",
            Role::Editor => "editor",
            Role::Owner => "owner",
        }
    }

    /// Whether document updates from this role are stored and relayed.
    pub fn can_edit(self) -> bool {
        self >= Role::Editor
    }

    /// Whether this role may open threads and reply.
    pub fn can_comment(self) -> bool {
        self >= Role::Commenter
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "commenter" => Ok(Role::Commenter),
            "editor" => Ok(Role::Editor),
            "owner" => Ok(Role::Owner),
            other => Err(format!("unknown role `{other}`")),
        }
    }
}

/// Whether a membership row names an organisation or a single user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PrincipalKind {
    Org,
    User,
    /// Never stored: the access check adds one for each disabled user of a document's
    /// member organisations (and direct members), so that user holds no role at all,
    /// on the next request and, through the membership recheck, on open sockets.
    #[serde(skip)]
    Disabled,
    /// Never stored: a user whose organisation an administrator changed lately, with the
    /// organisation they now belong to (`id` is `"{user} {org}"`; neither id may hold a
    /// space). A connection whose token still names another organisation holds no role,
    /// so the membership recheck closes it with 4403.
    #[serde(skip)]
    Moved,
}

impl PrincipalKind {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Org => "org",
            PrincipalKind::User => "user",
            PrincipalKind::Disabled => "disabled",
            PrincipalKind::Moved => "moved",
        }
    }
}

/// One membership row: a principal and its role on a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub kind: PrincipalKind,
    pub id: String,
    pub role: Role,
}

/// The strongest role any row gives this user, directly or through its organisation;
/// none for a disabled user, nor for a moved one whose token names their old
/// organisation.
pub fn effective_role(members: &[Member], user: &UserId, org: &OrgId) -> Option<Role> {
    let ended = members.iter().any(|m| match m.kind {
        PrincipalKind::Disabled => m.id == user.as_str(),
        PrincipalKind::Moved => {
            m.id.split_once(' ')
                .is_some_and(|(u, now)| u == user.as_str() && now != org.as_str())
        }
        PrincipalKind::Org | PrincipalKind::User => false,
    });
    if ended {
        return None;
    }
    members
        .iter()
        .filter(|m| match m.kind {
            PrincipalKind::Org => m.id == org.as_str(),
            PrincipalKind::User => m.id == user.as_str(),
            PrincipalKind::Disabled | PrincipalKind::Moved => false,
        })
        .map(|m| m.role)
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(kind: PrincipalKind, id: &str, role: Role) -> Member {
        Member {
            kind,
            id: id.to_owned(),
            role,
        }
    }

    #[test]
    fn the_strongest_of_org_and_user_roles_wins() {
        let members = [
            member(PrincipalKind::Org, "utbildning", Role::Commenter),
            member(PrincipalKind::User, "anna", Role::Editor),
            member(PrincipalKind::Org, "stadsledning", Role::Owner),
        ];
        let org = OrgId::parse("utbildning").unwrap();
        let anna = UserId::parse("anna").unwrap();
        let bo = UserId::parse("bo").unwrap();
        assert_eq!(effective_role(&members, &anna, &org), Some(Role::Editor));
        assert_eq!(effective_role(&members, &bo, &org), Some(Role::Commenter));
        let other = OrgId::parse("kultur").unwrap();
        assert_eq!(effective_role(&members, &bo, &other), None);
    }

    #[test]
    fn a_disabled_user_holds_no_role() {
        let members = [
            member(PrincipalKind::Org, "utbildning", Role::Owner),
            member(PrincipalKind::User, "anna", Role::Editor),
            member(PrincipalKind::Disabled, "anna", Role::Viewer),
        ];
        let org = OrgId::parse("utbildning").unwrap();
        let anna = UserId::parse("anna").unwrap();
        let bo = UserId::parse("bo").unwrap();
        assert_eq!(effective_role(&members, &anna, &org), None);
        assert_eq!(effective_role(&members, &bo, &org), Some(Role::Owner));
    }

    #[test]
    fn a_moved_user_holds_no_role_under_their_old_organisation_only() {
        let members = [
            member(PrincipalKind::Org, "utbildning", Role::Editor),
            member(PrincipalKind::Org, "kultur", Role::Viewer),
            member(PrincipalKind::Moved, "anna kultur", Role::Viewer),
        ];
        let anna = UserId::parse("anna").unwrap();
        let old = OrgId::parse("utbildning").unwrap();
        let new = OrgId::parse("kultur").unwrap();
        assert_eq!(effective_role(&members, &anna, &old), None);
        assert_eq!(effective_role(&members, &anna, &new), Some(Role::Viewer));
        let bo = UserId::parse("bo").unwrap();
        assert_eq!(effective_role(&members, &bo, &old), Some(Role::Editor));
    }
}
