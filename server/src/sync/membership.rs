//! Every open room's membership, reread on this node's own schedule.
//!
//! A role change reaches the rooms of the node that made it at once, and the other nodes
//! through a PostgreSQL notice. Notices are dropped under load (8,853–13,756 a run on
//! one node under a presence flood, issue 13 finding 10), and a change made without the
//! API (an operator's SQL, `forankra user disable`) sends none. So no revocation may
//! depend on a notice arriving: every [`DEFAULT_RECHECK`] (setting
//! `--membership-recheck`) each node rereads the members of each document it has open,
//! one query per room, and hands them to the room, which closes a connection whose
//! access is gone with 4403 and one whose role changed with 4100, exactly as for a
//! notice. A revocation therefore reaches every node's sockets within one interval
//! (plus the query), whatever happened to the notice. The same pass rereads whether the
//! owners require suggestions now (issue 16), for the same reason.

use std::time::Duration;

use crate::sync::SyncContext;

/// How often a node rereads the membership of its open documents.
pub const DEFAULT_RECHECK: Duration = crate::config::DEFAULT_MEMBERSHIP_RECHECK;
/// Shortest interval accepted: below it the rechecks would only load the database.
pub const MIN_RECHECK: Duration = Duration::from_millis(100);

/// Rereads the members of every open document each `interval` until shutdown.
pub async fn run(state: SyncContext, interval: Duration) {
    let interval = interval.max(MIN_RECHECK);
    let start = tokio::time::Instant::now() + interval;
    let mut ticks = tokio::time::interval_at(start, interval);
    // A slow database delays the next recheck instead of stacking them up.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => recheck(&state).await,
            () = state.shutdown.cancelled() => return,
        }
    }
}

/// One pass over the open rooms, side by side: a room whose queue is full (a flood)
/// must not hold up the revocations in the others.
async fn recheck(state: &SyncContext) {
    recheck_rooms(&state.db, &state.rooms).await;
}

/// Rereads the members of every open room now and hands them to the rooms: the
/// periodic pass, and an administrator's change that ended a user's sign-ins (so their
/// sockets on this node close at once rather than at the next tick).
pub async fn recheck_rooms(db: &crate::storage::Db, rooms: &crate::sync::RoomRegistry) {
    let open = rooms.open_ids().into_iter().map(|doc| async move {
        match db.members(&doc).await {
            Ok(members) => rooms.members_changed(&doc, members).await,
            // The rooms keep the roles they had; the next pass tries again.
            Err(error) => tracing::warn!(doc = %doc, %error, "rechecking members failed"),
        }
        // The owners' rule that changes be suggested rides on the round's notice; like
        // a role, it must not depend on that notice arriving.
        match db.suggestions_required(&doc).await {
            Ok(required) => rooms.set_owners_only(&doc, required).await,
            Err(error) => {
                tracing::warn!(doc = %doc, %error, "rechecking the suggestion rule failed")
            }
        }
    });
    futures_util::future::join_all(open).await;
}
