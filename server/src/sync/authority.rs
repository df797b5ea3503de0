//! What one connection may do to the document, as one cell its connection task, its
//! room and every update it sent share.
//!
//! Read-only used to be checked once, when the room took an update off its queue, and
//! only on the normal path: on SIGTERM the room stored what was still queued without
//! asking who sent it, and a viewer flooding updates at shutdown had 510–850
//! paragraphs saved (3 of 11 attempts, issue 13). Authority is therefore a property of
//! the connection that every path reads from the same place: the connection drops a
//! read-only client's updates before they reach the room's queue, and the room checks
//! the cell again at the moment of commit for every update it is about to store. A
//! role change (the membership recheck, a cluster notice, the members API) writes the
//! cell, so a demotion reaches the updates of that connection that are not yet stored.
//!
//! The second cell is the document's rule that changes must be suggested (issue 16: the
//! owners require it in a phase of the remiss round). While it holds, an editor's direct
//! updates are read-only in exactly the same way, through the same checks, while an
//! owner keeps editing (owners decide the suggestions). The room sets it on every
//! connection when the rule or the phase changes, so it too reaches queued updates.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use crate::auth::Role;
use crate::sync::authorship::Author;

/// A connection's current role, shared between its tasks, and who it writes as (its
/// token's user and organisation, which its updates are attributed to); cheap to clone.
#[derive(Debug, Clone)]
pub struct Authority {
    role: Arc<AtomicU8>,
    /// Direct edits are for owners only now (changes must be suggested).
    owners_only: Arc<AtomicBool>,
    author: Arc<Author>,
}

impl Authority {
    /// A cell holding `role`, for updates written by `author`.
    pub fn new(role: Role, author: Author) -> Self {
        Self {
            role: Arc::new(AtomicU8::new(encode(role))),
            owners_only: Arc::new(AtomicBool::new(false)),
            author: Arc::new(author),
        }
    }

    /// The authority of changes the server makes itself on `author`'s behalf (an owner
    /// accepting a proposal).
    pub fn server(author: Author) -> Self {
        Self::new(Role::Owner, author)
    }

    /// Who the updates carrying this authority are written by.
    pub fn author(&self) -> &Author {
        &self.author
    }

    /// The role as it is now.
    pub fn role(&self) -> Role {
        decode(self.role.load(Ordering::Acquire))
    }

    /// Changes the role for everything that shares this cell.
    pub fn set(&self, role: Role) {
        self.role.store(encode(role), Ordering::Release);
    }

    /// Requires (or stops requiring) that changes by anyone but an owner be suggested,
    /// for everything that shares this cell.
    pub fn set_owners_only(&self, owners_only: bool) {
        self.owners_only.store(owners_only, Ordering::Release);
    }

    /// Whether direct edits are for owners only now.
    pub fn owners_only(&self) -> bool {
        self.owners_only.load(Ordering::Acquire)
    }

    /// Whether updates carrying this authority may be stored now: the role allows
    /// editing, and while changes must be suggested, the role is owner.
    pub fn can_edit(&self) -> bool {
        let role = self.role();
        role.can_edit() && (role == Role::Owner || !self.owners_only())
    }
}

fn encode(role: Role) -> u8 {
    match role {
        Role::Viewer => 0,
        Role::Commenter => 1,
        Role::Editor => 2,
        Role::Owner => 3,
    }
}

/// Decodes what [`encode`] wrote; anything else (never written) reads as the least power.
fn decode(value: u8) -> Role {
    match value {
        3 => Role::Owner,
        2 => Role::Editor,
        1 => Role::Commenter,
        _ => Role::Viewer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_demotion_reaches_every_clone() {
        let author = Author {
            user: crate::ids::UserId::parse("anna").expect("user"),
            org: crate::ids::OrgId::parse("utbildning").expect("org"),
        };
        let connection = Authority::new(Role::Editor, author);
        let queued = connection.clone();
        assert!(queued.can_edit());
        connection.set(Role::Viewer);
        assert_eq!(queued.role(), Role::Viewer);
        assert!(!queued.can_edit());
        connection.set(Role::Editor);
        connection.set_owners_only(true);
        assert!(
            !queued.can_edit(),
            "an editor must suggest while the rule holds"
        );
        connection.set(Role::Owner);
        assert!(queued.can_edit(), "owners keep editing directly");
        connection.set(Role::Editor);
        connection.set_owners_only(false);
        assert!(queued.can_edit());
        for role in [Role::Viewer, Role::Commenter, Role::Editor, Role::Owner] {
            assert_eq!(decode(encode(role)), role);
        }
    }
}
