//! Who is in a room: the awareness states of its clients.
//!
//! Follows y-protocols' `applyAwarenessUpdate` rules (a newer clock wins; an equal clock
//! with a null state removes). yrs has no expiry, and a socket that drops never says
//! goodbye, so the room remembers which connection announced which client ids and, when
//! the connection goes, announces their removal itself.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use yrs::ClientID;
use yrs::sync::awareness::{AwarenessUpdate, AwarenessUpdateEntry};

use crate::sync::ConnId;

/// Client ids one connection may announce. A browser tab uses one; the margin guards
/// the room against a connection that invents thousands.
const MAX_CLIENTS_PER_CONN: usize = 8;
/// The JSON a removed state carries on the wire.
const NULL_STATE: &str = "null";

#[derive(Debug)]
struct State {
    clock: u32,
    json: Arc<str>,
}

impl State {
    fn is_removed(&self) -> bool {
        &*self.json == NULL_STATE
    }
}

/// The awareness states of a room.
#[derive(Debug, Default)]
pub struct Presence {
    states: HashMap<ClientID, State>,
    owners: HashMap<ConnId, HashSet<ClientID>>,
}

impl Presence {
    /// Applies an update sent by `conn`; true if any entry was newer than what the room
    /// had, in which case the update is worth relaying.
    pub fn apply(&mut self, conn: ConnId, update: &AwarenessUpdate) -> bool {
        self.apply_from(conn, update, true)
    }

    /// Applies an update relayed by another node, whose clients all stand behind one
    /// pseudo-connection (so the per-connection limit does not apply).
    pub fn apply_remote(&mut self, conn: ConnId, update: &AwarenessUpdate) -> bool {
        self.apply_from(conn, update, false)
    }

    fn apply_from(&mut self, conn: ConnId, update: &AwarenessUpdate, limited: bool) -> bool {
        let mut changed = false;
        for (&client, entry) in &update.clients {
            if limited && !self.may_announce(conn, client) {
                continue;
            }
            let current = self.states.get(&client);
            let newer = match current {
                None => true,
                Some(state) => {
                    state.clock < entry.clock
                        || (state.clock == entry.clock
                            && &*entry.json == NULL_STATE
                            && !state.is_removed())
                }
            };
            if newer {
                self.states.insert(
                    client,
                    State {
                        clock: entry.clock,
                        json: entry.json.clone(),
                    },
                );
                self.owners.entry(conn).or_default().insert(client);
                changed = true;
            }
        }
        changed
    }

    fn may_announce(&self, conn: ConnId, client: ClientID) -> bool {
        match self.owners.get(&conn) {
            Some(owned) => owned.contains(&client) || owned.len() < MAX_CLIENTS_PER_CONN,
            None => true,
        }
    }

    /// Every live state, for a client that joins or asks; `None` when nobody is here.
    pub fn snapshot(&self) -> Option<AwarenessUpdate> {
        let clients: HashMap<_, _> = self
            .states
            .iter()
            .filter(|(_, s)| !s.is_removed())
            .map(|(&id, s)| {
                (
                    id,
                    AwarenessUpdateEntry {
                        clock: s.clock,
                        json: s.json.clone(),
                    },
                )
            })
            .collect();
        (!clients.is_empty()).then_some(AwarenessUpdate { clients })
    }

    /// Forgets a connection; returns the removal of its clients' states to announce.
    pub fn remove_conn(&mut self, conn: ConnId) -> Option<AwarenessUpdate> {
        let owned = self.owners.remove(&conn)?;
        let mut clients = HashMap::new();
        for client in owned {
            // Another connection may have taken the id over (a reconnecting tab): leave it.
            if self.owners.values().any(|o| o.contains(&client)) {
                continue;
            }
            if let Some(state) = self.states.remove(&client)
                && !state.is_removed()
            {
                let entry = AwarenessUpdateEntry {
                    clock: state.clock + 1,
                    json: NULL_STATE.into(),
                };
                clients.insert(client, entry);
            }
        }
        (!clients.is_empty()).then_some(AwarenessUpdate { clients })
    }

    /// Number of clients with a live state.
    pub fn len(&self) -> usize {
        self.states.values().filter(|s| !s.is_removed()).count()
    }

    /// Whether nobody has a live state.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(client: u64, clock: u32, json: &str) -> AwarenessUpdate {
        let mut clients = HashMap::new();
        clients.insert(
            ClientID::new(client),
            AwarenessUpdateEntry {
                clock,
                json: json.into(),
            },
        );
        AwarenessUpdate { clients }
    }

    #[test]
    fn newer_clocks_win_and_a_leaving_connection_is_announced() {
        let mut presence = Presence::default();
        assert!(presence.apply(1, &update(7, 1, r#"{"user":{"name":"Anna"}}"#)));
        assert!(!presence.apply(1, &update(7, 1, r#"{"user":{"name":"stale"}}"#)));
        assert!(presence.apply(1, &update(7, 2, r#"{"user":{"name":"Anna Å"}}"#)));
        assert_eq!(presence.len(), 1);
        let removal = presence.remove_conn(1).unwrap();
        let entry = &removal.clients[&ClientID::new(7)];
        assert_eq!((entry.clock, &*entry.json), (3, "null"));
        assert!(presence.is_empty());
        assert!(presence.remove_conn(1).is_none());
    }

    #[test]
    fn one_connection_cannot_flood_the_room_with_clients() {
        let mut presence = Presence::default();
        for client in 0..100 {
            presence.apply(1, &update(client, 1, "{}"));
        }
        assert_eq!(presence.len(), MAX_CLIENTS_PER_CONN);
    }
}
