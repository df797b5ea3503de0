//! Who is in a room: the awareness states of its clients.
//!
//! Follows y-protocols' `applyAwarenessUpdate` rules (a newer clock wins; an equal clock
//! with a null state removes). yrs has no expiry, and a socket that drops never says
//! goodbye, so the room remembers which connection announced which client ids and, when
//! the connection goes, announces their removal itself.
//!
//! A client id belongs to the connection that announced it first: another connection
//! may neither change nor remove it (before, one user could overwrite or erase another's
//! cursor, issue 13 finding 8), except a connection of the same user, which is how a tab
//! that reconnects before the server noticed its old socket is gone takes its id back.
//! Every state is checked by [`validate`] in the connection's task before it reaches a
//! room: a state that is not JSON made a stock Node y-websocket client exit when relayed.

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
/// Largest awareness state accepted, in bytes. A Tiptap caret state (user name, colour,
/// two relative positions) is a few hundred bytes.
pub const MAX_STATE_BYTES: usize = 16 * 1024;

/// Why an awareness update is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PresenceError {
    #[error("an awareness state is not valid JSON, or nests deeper than 128 levels")]
    NotJson,
    #[error("an awareness state is larger than {MAX_STATE_BYTES} bytes")]
    TooLarge,
}

/// Checks every entry of a client's awareness update: each state must be JSON (`null`
/// removes) and at most [`MAX_STATE_BYTES`]. It is parsed into a value, not skipped
/// over, so serde_json's recursion limit (128) applies: `IgnoredAny` walks any depth,
/// and a 5,000-deep array would be relayed to clients that parse presence recursively
/// (a yrs client turns it into nested `Any`).
pub fn validate(update: &AwarenessUpdate) -> Result<(), PresenceError> {
    for entry in update.clients.values() {
        if entry.json.len() > MAX_STATE_BYTES {
            return Err(PresenceError::TooLarge);
        }
        serde_json::from_str::<serde_json::Value>(&entry.json)
            .map_err(|_| PresenceError::NotJson)?;
    }
    Ok(())
}

/// Merges the awareness updates of one frame into one, keeping each client's newest
/// entry, so a frame packed with presence messages is relayed once, not once each.
pub fn coalesce(updates: impl IntoIterator<Item = AwarenessUpdate>) -> AwarenessUpdate {
    let mut clients: HashMap<ClientID, AwarenessUpdateEntry> = HashMap::new();
    for update in updates {
        for (client, entry) in update.clients {
            match clients.get(&client) {
                Some(kept) if kept.clock > entry.clock => {}
                Some(kept) if kept.clock == entry.clock && &*entry.json != NULL_STATE => {}
                _ => {
                    clients.insert(client, entry);
                }
            }
        }
    }
    AwarenessUpdate { clients }
}

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

/// Who announced a client id: a connection, on behalf of a user (`None` for the
/// pseudo-connections standing for other nodes' clients).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Holder {
    conn: ConnId,
    user: Option<Arc<str>>,
}

/// The awareness states of a room.
#[derive(Debug, Default)]
pub struct Presence {
    states: HashMap<ClientID, State>,
    holders: HashMap<ClientID, Holder>,
    owned: HashMap<ConnId, HashSet<ClientID>>,
}

impl Presence {
    /// Applies an update sent by `conn` of `user`; returns the entries that were newer
    /// than what the room had and that `conn` may set, which is what to relay.
    pub fn apply(
        &mut self,
        conn: ConnId,
        user: &str,
        update: &AwarenessUpdate,
    ) -> Option<AwarenessUpdate> {
        let holder = Holder {
            conn,
            user: Some(user.into()),
        };
        self.apply_from(holder, update, true)
    }

    /// Applies an update relayed by another node, whose clients all stand behind one
    /// pseudo-connection (so the per-connection limit does not apply). It may not touch
    /// an id a connection of this node holds.
    pub fn apply_remote(
        &mut self,
        conn: ConnId,
        update: &AwarenessUpdate,
    ) -> Option<AwarenessUpdate> {
        let holder = Holder { conn, user: None };
        self.apply_from(holder, update, false)
    }

    fn apply_from(
        &mut self,
        holder: Holder,
        update: &AwarenessUpdate,
        limited: bool,
    ) -> Option<AwarenessUpdate> {
        let mut accepted = HashMap::new();
        for (&client, entry) in &update.clients {
            if !self.may_set(&holder, client, limited) {
                continue;
            }
            let newer = match self.states.get(&client) {
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
                self.take(client, holder.clone());
                accepted.insert(client, entry.clone());
            }
        }
        (!accepted.is_empty()).then_some(AwarenessUpdate { clients: accepted })
    }

    /// Whether `holder` may set or remove `client`: it holds it already; or the id is
    /// free (nobody holds it, or its state was removed), or held by the same user on
    /// another connection, or by another node when `holder` is one too (each node checks
    /// its own connections); and taking it keeps a connection within its limit.
    fn may_set(&self, holder: &Holder, client: ClientID, limited: bool) -> bool {
        let free = match self.holders.get(&client) {
            None => true,
            Some(current) if current.conn == holder.conn => return true,
            Some(current) => {
                current.user == holder.user
                    || self.states.get(&client).is_some_and(State::is_removed)
            }
        };
        free && (!limited
            || self
                .owned
                .get(&holder.conn)
                .is_none_or(|owned| owned.len() < MAX_CLIENTS_PER_CONN))
    }

    /// Binds `client` to `holder`, releasing it from the connection that held it.
    fn take(&mut self, client: ClientID, holder: Holder) {
        if let Some(previous) = self.holders.get(&client)
            && previous.conn != holder.conn
            && let Some(owned) = self.owned.get_mut(&previous.conn)
        {
            owned.remove(&client);
        }
        self.owned.entry(holder.conn).or_default().insert(client);
        self.holders.insert(client, holder);
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

    /// Forgets a connection; returns the removal of the clients' states it still held,
    /// to announce.
    pub fn remove_conn(&mut self, conn: ConnId) -> Option<AwarenessUpdate> {
        let owned = self.owned.remove(&conn)?;
        let mut clients = HashMap::new();
        for client in owned {
            if self.holders.get(&client).is_none_or(|h| h.conn != conn) {
                continue;
            }
            self.holders.remove(&client);
            if let Some(state) = self.states.remove(&client)
                && !state.is_removed()
            {
                // At the state's own clock, as y-websocket's server does: receivers
                // take a null state at an equal clock as a removal, and the client's
                // next state (it bumps its clock when it reconnects) is newer for
                // them. One above would make them ignore that state too, leaving the
                // person missing until the protocol's renewal.
                let entry = AwarenessUpdateEntry {
                    clock: state.clock,
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
        let anna = "anna";
        assert!(
            presence
                .apply(1, anna, &update(7, 1, r#"{"user":{"name":"Anna"}}"#))
                .is_some()
        );
        assert!(
            presence
                .apply(1, anna, &update(7, 1, r#"{"user":{"name":"stale"}}"#))
                .is_none()
        );
        assert!(
            presence
                .apply(1, anna, &update(7, 2, r#"{"user":{"name":"Anna Å"}}"#))
                .is_some()
        );
        assert_eq!(presence.len(), 1);
        let removal = presence.remove_conn(1).unwrap();
        let entry = &removal.clients[&ClientID::new(7)];
        assert_eq!((entry.clock, &*entry.json), (2, "null"));
        assert!(presence.is_empty());
        assert!(presence.remove_conn(1).is_none());
    }

    #[test]
    fn one_connection_cannot_flood_the_room_with_clients() {
        let mut presence = Presence::default();
        for client in 0..100 {
            presence.apply(1, "anna", &update(client, 1, "{}"));
        }
        assert_eq!(presence.len(), MAX_CLIENTS_PER_CONN);
    }

    #[test]
    fn another_users_connection_cannot_change_or_erase_a_client() {
        let mut presence = Presence::default();
        assert!(
            presence
                .apply(1, "anna", &update(7, 1, r#"{"n":"Anna"}"#))
                .is_some()
        );
        assert!(
            presence
                .apply(2, "mallory", &update(7, 9, r#"{"n":"Mallory"}"#))
                .is_none()
        );
        assert!(
            presence
                .apply(2, "mallory", &update(7, 9, "null"))
                .is_none()
        );
        assert!(presence.remove_conn(2).is_none());
        assert_eq!(presence.len(), 1);
        // The same user on a new socket (a reconnecting tab) takes its id back, and the
        // old socket leaving then removes nothing.
        assert!(
            presence
                .apply(3, "anna", &update(7, 2, r#"{"n":"Anna"}"#))
                .is_some()
        );
        assert!(presence.remove_conn(1).is_none());
        assert_eq!(presence.len(), 1);
        assert!(presence.remove_conn(3).is_some());
        assert!(presence.is_empty());
    }

    #[test]
    fn an_id_whose_state_was_removed_is_free_again_across_nodes() {
        let mut presence = Presence::default();
        let (node_x, node_y) = (1 << 62, (1 << 62) + 1);
        assert!(presence.apply_remote(node_x, &update(7, 1, "{}")).is_some());
        assert!(
            presence
                .apply_remote(node_x, &update(7, 2, "null"))
                .is_some()
        );
        // The client moved to node Y: its presence arrives from there now.
        assert!(presence.apply_remote(node_y, &update(7, 3, "{}")).is_some());
        assert_eq!(presence.len(), 1);
        // Another node may not touch an id a connection here holds.
        assert!(presence.apply(5, "anna", &update(8, 1, "{}")).is_some());
        assert!(
            presence
                .apply_remote(node_y, &update(8, 9, "null"))
                .is_none()
        );
    }

    #[test]
    fn states_must_be_json_within_the_size_limit() {
        assert_eq!(validate(&update(1, 1, r#"{"user":{"name":"Å"}}"#)), Ok(()));
        assert_eq!(validate(&update(1, 1, "null")), Ok(()));
        assert_eq!(
            validate(&update(1, 1, "{not json")),
            Err(PresenceError::NotJson)
        );
        let big = format!("\"{}\"", "x".repeat(MAX_STATE_BYTES));
        assert_eq!(validate(&update(1, 1, &big)), Err(PresenceError::TooLarge));
    }

    #[test]
    fn a_frame_of_presence_messages_coalesces_to_the_newest_entry_each() {
        let merged = coalesce((1..=1000).map(|clock| update(7, clock, "{}")));
        assert_eq!(merged.clients.len(), 1);
        assert_eq!(merged.clients[&ClientID::new(7)].clock, 1000);
    }
}
