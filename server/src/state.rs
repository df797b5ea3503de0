//! The state every handler shares, split into the parts a handler or use case may need.
//!
//! `AppState` used to live in `app.rs`, which also imports every router: every module
//! whose handlers took the state imported `app`, and `app` imported them, so the whole
//! server was one import cycle. Here it depends only on what it holds, so a product
//! module depends on the state without depending on every other product module.
//!
//! Each field is a sub-state with its own type, and `FromRef` (derived) lets a handler or
//! extractor take just that part (`State<Db>`, `State<Arc<TokenKeys>>`): the access
//! check needs the database, the token extractor only the keys, the login throttle only
//! the limits. A function generic over `S where Db: FromRef<S>` works with any state that
//! has a database, tests' included.

use std::sync::Arc;

use axum::extract::FromRef;
use tokio_util::sync::CancellationToken;

use crate::auth::TokenKeys;
use crate::auth::oidc::Providers;
use crate::cluster::Cluster;
use crate::comments::decisions::Decisions;
use crate::config::Config;
use crate::documents::OpenTracker;
use crate::limits::Limits;
use crate::metrics::Metrics;
use crate::notifications::live::Bells;
use crate::storage::Db;
use crate::storage::journal::Journal;
use crate::sync::RoomRegistry;

/// What every handler can reach; cheap to clone (every field is a handle).
#[derive(Clone, FromRef)]
pub struct AppState {
    /// The settings the server started with.
    pub config: Arc<Config>,
    /// Storage: the pool on either backend.
    pub db: Db,
    /// The update log's single writer (group commit).
    pub journal: Journal,
    /// The link to the other nodes (a no-op on SQLite).
    pub cluster: Cluster,
    /// The keys tokens are checked (and, for ours, signed) with.
    pub tokens: Arc<TokenKeys>,
    /// The OpenID Providers users sign in through (none, one or several).
    pub providers: Arc<Providers>,
    /// The open rooms.
    pub rooms: RoomRegistry,
    pub metrics: Arc<Metrics>,
    /// Told of document reads and invitations (`remiss::activity::FirstOpens`).
    pub opens: Arc<dyn OpenTracker>,
    /// Connections per address and the login throttle.
    pub limits: Arc<Limits>,
    /// One decision on a document's proposals at a time (`comments::decisions`).
    pub decisions: Arc<Decisions>,
    /// The open notification streams, rung when a user's inbox changes.
    pub bells: Bells,
    /// Cancelled when the server starts shutting down; sockets and rooms watch it.
    pub shutdown: CancellationToken,
}
