//! Who may write under which Yjs client id in a document, as a room checks it per update.
//!
//! Yjs names every inserted character by its client id, so binding each client id to
//! the user and organisation that first used it in a document attributes every
//! character (issue 16). That is only worth something if nobody can write under someone
//! else's id: an update whose new structs are under a client id bound to another user is
//! refused with [`close::FOREIGN_CLIENT_ID`](crate::sync::close::FOREIGN_CLIENT_ID).
//!
//! The check runs on the room's task for every update, so it must not touch the
//! database: the connection's scan already lists each client section of the update with
//! the clock it ends at ([`Written`], from `sync::nesting`, no extra decoding), and the
//! room keeps the document's bindings in memory ([`Authors`], loaded with the document).
//! A client id seen for the first time is bound in the cache at once and in the database
//! in the transaction that stores the update (`storage::authorship`); until that commit
//! succeeds the binding is *tentative* and every later update under it carries it again,
//! so a failed commit never leaves content stored without its binding. Another node may
//! bind the same id meanwhile: the journal checks under the document's row lock and
//! refuses the append, and the room learns the owner from that refusal.
//!
//! Only structs beyond what the document already holds count: a client's sync step 2
//! may carry other clients' structs the room already has (they change nothing), and old
//! documents hold content under ids bound to nobody (attributed to no one).

use std::collections::HashMap;

use yrs::StateVector;

use crate::ids::{OrgId, UserId};
use crate::storage::authorship::Binding;

/// Who wrote an update: the user and organisation of its connection's token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub user: UserId,
    pub org: OrgId,
}

/// One client's section of an update: its structs end before clock `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub client: u64,
    pub end: u32,
}

/// An update writes new structs under a client id bound to someone else.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("client id {client} belongs to another user in this document; reload the page")]
pub struct Foreign {
    pub client: u64,
}

#[derive(Debug, Clone)]
struct Bound {
    author: Author,
    /// Stored in the database (false until the commit carrying its binding succeeds).
    durable: bool,
}

/// The client ids bound in one document, as its room knows them.
#[derive(Debug, Default)]
pub struct Authors {
    bound: HashMap<u64, Bound>,
}

impl Authors {
    /// The bindings read from the database with the document.
    pub fn from_stored(bindings: &[Binding]) -> Self {
        let bound = bindings
            .iter()
            .map(|b| {
                let author = Author {
                    user: b.user_id.clone(),
                    org: b.org_id.clone(),
                };
                let durable = true;
                (b.client(), Bound { author, durable })
            })
            .collect();
        Self { bound }
    }

    /// Checks an update of `author` that writes `written`, against the document's
    /// state (asked for only when a client id is not already durably `author`'s, so a
    /// client typing away costs a map lookup per update). Gives the client ids whose
    /// binding the commit must store (new or still tentative), or [`Foreign`] if one is
    /// bound to another user.
    pub fn check(
        &mut self,
        author: &Author,
        written: &[Written],
        state: impl FnOnce() -> StateVector,
    ) -> Result<Vec<u64>, Foreign> {
        let known = |w: &Written| {
            self.bound
                .get(&w.client)
                .is_some_and(|b| b.durable && b.author.user == author.user)
        };
        if written.iter().all(known) {
            return Ok(Vec::new());
        }
        let state = state();
        let fresh = written
            .iter()
            .filter(|w| w.end > state.get(&yrs::ClientID::new(w.client)));
        if let Some(foreign) = fresh.clone().find(|w| {
            self.bound
                .get(&w.client)
                .is_some_and(|b| b.author.user != author.user)
        }) {
            return Err(Foreign {
                client: foreign.client,
            });
        }
        let mut binds = Vec::new();
        for w in fresh {
            let bound = self.bound.entry(w.client).or_insert_with(|| Bound {
                author: author.clone(),
                durable: false,
            });
            if !bound.durable && !binds.contains(&w.client) {
                binds.push(w.client);
            }
        }
        Ok(binds)
    }

    /// The bindings of a stored batch are durable now.
    pub fn stored(&mut self, binds: &[u64]) {
        for client in binds {
            if let Some(bound) = self.bound.get_mut(client) {
                bound.durable = true;
            }
        }
    }

    /// The journal found `client` bound to `owner` (by another node): believe it.
    pub fn taken(&mut self, client: u64, owner: Author) {
        let durable = true;
        self.bound.insert(
            client,
            Bound {
                author: owner,
                durable,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn author(user: &str, org: &str) -> Author {
        Author {
            user: UserId::parse(user).expect("user"),
            org: OrgId::parse(org).expect("org"),
        }
    }

    #[test]
    fn a_new_client_id_is_bound_to_its_first_writer_and_refused_to_others() {
        let mut authors = Authors::default();
        let anna = author("anna", "utbildning");
        let bo = author("bo", "miljo");
        let empty = StateVector::default();
        let writes = [Written { client: 7, end: 3 }];
        assert_eq!(authors.check(&anna, &writes, || empty.clone()), Ok(vec![7]));
        // Still tentative: the next update carries the binding again.
        assert_eq!(authors.check(&anna, &writes, || empty.clone()), Ok(vec![7]));
        authors.stored(&[7]);
        assert_eq!(authors.check(&anna, &writes, || empty.clone()), Ok(vec![]));
        assert_eq!(
            authors.check(&bo, &writes, || empty.clone()),
            Err(Foreign { client: 7 })
        );
    }

    #[test]
    fn structs_the_document_already_holds_are_not_a_claim() {
        let mut authors = Authors::from_stored(&[Binding {
            client_id: 7,
            user_id: UserId::parse("anna").expect("user"),
            org_id: OrgId::parse("utbildning").expect("org"),
        }]);
        let bo = author("bo", "miljo");
        let mut state = StateVector::default();
        state.set_max(yrs::ClientID::new(7), 10);
        let relayed = [
            Written { client: 7, end: 10 },
            Written { client: 9, end: 2 },
        ];
        assert_eq!(authors.check(&bo, &relayed, || state.clone()), Ok(vec![9]));
        let beyond = [Written { client: 7, end: 11 }];
        assert_eq!(
            authors.check(&bo, &beyond, || state.clone()),
            Err(Foreign { client: 7 })
        );
    }

    #[test]
    fn an_owner_learned_from_the_journal_wins() {
        let mut authors = Authors::default();
        let anna = author("anna", "utbildning");
        let bo = author("bo", "miljo");
        let empty = StateVector::default();
        let writes = [Written { client: 5, end: 1 }];
        assert_eq!(authors.check(&bo, &writes, || empty.clone()), Ok(vec![5]));
        authors.taken(5, anna.clone());
        assert_eq!(
            authors.check(&bo, &writes, || empty.clone()),
            Err(Foreign { client: 5 })
        );
        assert_eq!(authors.check(&anna, &writes, || empty.clone()), Ok(vec![]));
    }
}
