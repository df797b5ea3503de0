//! Building and running a server: its state ([`crate::state`]) and the router.
//!
//! `App::build` binds the listener first (port 0 is fine), so tests learn the port
//! before the server runs, and everything else is constructed from a [`Config`] alone.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::http::Request;
use axum::routing::{any, get};
use base64::Engine;
use rand::RngCore;
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_http::trace::TraceLayer;

use crate::auth::TokenKeys;
use crate::auth::oidc::{FLAG_PROVIDER_ID, Oidc, Providers};
use crate::cluster::Cluster;
use crate::config::{Config, JwtConfig};
use crate::error::AppError;
use crate::limits::Limits;
use crate::metrics::Metrics;
use crate::remiss::activity::FirstOpens;
use crate::storage::Db;
use crate::storage::journal::Journal;
use crate::sync::RoomRegistry;
use crate::sync::hooks::Hooks;
use crate::sync::live::Reloaders;
use crate::sync::remote::RemoteRooms;
use crate::sync::room::{RoomContext, RoomSettings};
use crate::webhooks::delivery::DeliverySettings;

/// Kept for callers being moved to [`crate::state::AppState`].
pub use crate::state::AppState;

/// A server bound to its address, ready to run.
pub struct App {
    listener: TcpListener,
    state: AppState,
    tracker: TaskTracker,
    /// How other nodes' live events are rebuilt here (for the cluster listener).
    reloaders: Reloaders,
}

impl App {
    /// Connects to the database (migrating it), resolves the token keys, loads the demo
    /// if asked, and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db = Db::connect(&config.database_url)
            .await
            .context("opening the database")?;
        let tokens = Arc::new(token_keys(&db, &config.jwt).await?);
        tokens
            .revocations()
            .refresh(&db)
            .await
            .context("reading ended sign-ins")?;
        crate::audit::key::open(&db, &config.audit_key, &config.database_url)
            .await
            .context("setting up the audit key")?;
        crate::notifications::publish_mail_policy(
            &db,
            config.notify.smtp_url.is_some(),
            config.notify.batch_window,
            config.notify.digest_hour,
        )
        .await
        .context("storing the notification e-mail settings")?;
        let metrics = Arc::new(Metrics::default());
        let shutdown = CancellationToken::new();
        let tracker = TaskTracker::new();
        db.spawn_checkpoints(shutdown.clone());
        let cluster = match &db {
            Db::Postgres(pool) => Cluster::start(pool.clone(), shutdown.clone()),
            Db::Sqlite(_) => Cluster::single(),
        };
        let journal = Journal::start(db.clone(), cluster.append_notice(), Arc::clone(&metrics));
        let first_opens = FirstOpens::new(db.clone(), crate::remiss::SeenOpens::default());
        let hooks = sync_hooks(&first_opens);
        let ctx = RoomContext {
            journal: Arc::new(journal.clone()),
            cluster: cluster.clone(),
            hooks: Arc::new(hooks),
            metrics: Arc::clone(&metrics),
            settings: RoomSettings {
                idle_unload: config.room_idle_unload,
                compact_after_updates: config.compact_after_updates,
            },
            shutdown: shutdown.clone(),
        };
        let rooms = RoomRegistry::new(ctx, tracker.clone());
        tracker.spawn(crate::webhooks::delivery::run(
            db.clone(),
            DeliverySettings {
                retry_base: config.webhook_retry_base,
                allow_internal: config.webhook_allow_http,
            },
            shutdown.clone(),
        ));
        tracker.spawn(crate::auth::revocation::run(
            db.clone(),
            tokens.revocations().clone(),
            config.membership_recheck,
            shutdown.clone(),
        ));
        if config.demo {
            crate::demo::load(&db, &journal)
                .await
                .context("loading the demo")?;
        }
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        spawn_mail(&config, &db, &listener, &tracker, &shutdown)?;
        tracker.spawn(crate::remiss::reminders::run(db.clone(), shutdown.clone()));
        tracker.spawn(crate::notifications::digest::run(
            db.clone(),
            config.notify.digest_hour,
            shutdown.clone(),
        ));
        let limits = Arc::new(Limits::new(&config.limits));
        let providers = oidc_providers(&db, &config).await?;
        let bells = crate::notifications::live::Bells::start(&db, shutdown.clone());
        let state = AppState {
            providers,
            limits,
            config: Arc::new(config),
            db,
            journal,
            cluster,
            tokens,
            rooms,
            metrics,
            opens: Arc::new(first_opens),
            decisions: Arc::default(),
            bells,
            shutdown,
        };
        let reloaders = crate::comments::events::register_reload(
            Reloaders::default(),
            &crate::comments::CommentsContext::from_ref(&state),
        );
        let reloaders = crate::remiss::events::register_reload(
            reloaders,
            &crate::remiss::RemissContext::from_ref(&state),
        );
        Ok(Self {
            listener,
            state,
            tracker,
            reloaders,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.state.config.listen)
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// The shared state (for tests that reach past HTTP).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `signal` resolves, then closes every socket (code 1012, so clients
    /// reconnect), waits for each room to store and compact what it holds, and closes
    /// the database.
    pub async fn run_until(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            listener,
            state,
            tracker,
            reloaders,
        } = self;
        let shutdown = state.shutdown.clone();
        let db = state.db.clone();
        if let (Some(pool), Some(node)) = (state.cluster.pool(), state.cluster.node()) {
            tracing::info!(node, "clustered through PostgreSQL");
            let rooms = RemoteRooms::new(state.rooms.clone(), state.db.clone(), reloaders);
            let listener = crate::cluster::listener::run(
                Arc::new(rooms),
                Arc::new(state.bells.clone()),
                pool.clone(),
                node.to_owned(),
                shutdown.clone(),
            );
            tokio::spawn(listener);
        }
        tokio::spawn(crate::sync::membership::run(
            crate::sync::SyncContext::from_ref(&state),
            state.config.membership_recheck,
        ));
        let acceptor = crate::serve::Acceptor {
            header_read_timeout: state.config.limits.header_read_timeout,
            body_read_timeout: state.config.limits.body_read_timeout,
            per_address: Arc::clone(&state.limits.http_connections),
            budget: crate::serve::connection_budget(state.config.limits.max_connections),
            metrics: Arc::clone(&state.metrics),
        };
        let app = router(state);
        let stop = shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = signal => {},
                () = stop.cancelled() => {},
            }
            stop.cancel();
        });
        // The peer address feeds the per-address limits (`limits::ClientIp`), and
        // every socket is TCP_NODELAY: small frames (one keystroke each) leave at once.
        crate::serve::run(listener, app, acceptor, shutdown.clone()).await;
        shutdown.cancel();
        tracker.close();
        tracker.wait().await;
        db.close().await;
        Ok(())
    }
}

/// What the product attaches to the sync core, in order (see `sync::hooks`): first-open
/// recording on join, the thread events' message type, the round events' type.
fn sync_hooks(first_opens: &FirstOpens) -> Hooks {
    let hooks = Hooks::default().extension(first_opens.clone());
    crate::remiss::events::register(crate::comments::events::register(hooks))
}

/// Our HS256 secret (from the flag, or the one kept in the database) or the identity
/// provider's RS256 key.
pub async fn token_keys(db: &Db, jwt: &JwtConfig) -> anyhow::Result<TokenKeys> {
    Ok(match jwt {
        JwtConfig::Hs256(Some(secret)) => TokenKeys::hs256(secret.expose_secret().as_bytes()),
        JwtConfig::Hs256(None) => {
            let secret = db.setting_or_insert(JWT_SECRET_SETTING, new_secret).await?;
            TokenKeys::hs256(secret.as_bytes())
        }
        JwtConfig::Rs256 {
            public_pem,
            private_pem,
        } => TokenKeys::rs256(public_pem, private_pem.as_deref())?,
    })
}

/// The configured OpenID Providers (the flag-given one first), with the key their
/// sign-in flows are sealed with (kept in the database, so every node of a cluster
/// shares it and it survives a restart).
async fn oidc_providers(db: &Db, config: &Config) -> anyhow::Result<Arc<Providers>> {
    let flagged = config
        .oidc
        .clone()
        .map(|settings| crate::config::OidcProvider {
            id: FLAG_PROVIDER_ID.to_owned(),
            display_name: None,
            settings,
        });
    let configured: Vec<_> = flagged
        .into_iter()
        .chain(config.oidc_providers.iter().cloned())
        .collect();
    if configured.is_empty() {
        return Ok(Arc::new(Providers::default()));
    }
    let public_url = config
        .public_url
        .as_ref()
        .context("OpenID Connect sign-in needs --public-url for its redirect URI")?;
    let key = db
        .setting_or_insert(OIDC_FLOW_KEY_SETTING, new_secret)
        .await
        .context("reading the sign-in flow key")?;
    let mut list = Vec::with_capacity(configured.len());
    for provider in configured {
        let oidc = Oidc::new(provider, public_url, key.clone().into_bytes())
            .context("setting up OpenID Connect")?;
        tracing::info!(provider = %oidc.id, issuer = %oidc.settings.issuer, redirect_uri = %oidc.redirect_uri, "OpenID Connect sign-in on");
        list.push(Arc::new(oidc));
    }
    Ok(Arc::new(Providers::new(list)))
}

/// Where the key that seals OpenID Connect sign-in flows is kept in `settings`.
pub const OIDC_FLOW_KEY_SETTING: &str = "oidc_flow_key";

/// Where the generated HS256 secret is kept in the `settings` table.
pub const JWT_SECRET_SETTING: &str = "jwt_secret";

/// 32 random bytes, base64: a fresh HS256 secret.
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Replaces the secret kept in the database (`forankra rotate-secret`): every token
/// signed with the old one stops working once the nodes restart and read the new one.
pub async fn rotate_secret(db: &Db) -> anyhow::Result<()> {
    db.set_setting(JWT_SECRET_SETTING, &new_secret())
        .await
        .context("storing the new secret")
}

/// Every route of the server.
pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    let web = crate::web::service(state.config.web_dir.as_deref());
    let oversized = axum::middleware::from_fn_with_state(
        Arc::clone(&state.metrics),
        crate::limits::body::oversized_bodies,
    );
    // The documented API (every module's routes, health and metrics) and its document;
    // the rest is served outside it.
    let router = crate::openapi::router()
        .route("/ws/{doc_id}", get(crate::sync::connection::upgrade))
        .route("/api", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
        .fallback_service(web)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(oversized);
    crate::security_headers::apply(router, &state.config.http)
        // Spans carry the path only: the query string of /ws holds the token.
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<Body>| {
            tracing::info_span!("http", method = %request.method(), path = %request.uri().path())
        }))
        .with_state(state)
}

async fn api_not_found() -> AppError {
    AppError::NotFound("no such API route".into())
}

/// Starts the notification e-mail worker when an SMTP server is configured; links in
/// the mail point at `--public-url`, or at the bound address.
fn spawn_mail(
    config: &Config,
    db: &Db,
    listener: &TcpListener,
    tracker: &TaskTracker,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
    let Some(url) = &config.notify.smtp_url else {
        return Ok(());
    };
    let transport = crate::notifications::outbox::transport(url)?;
    let public_url = match &config.public_url {
        Some(url) => url.as_str().trim_end_matches('/').to_owned(),
        None => format!(
            "http://{}",
            listener.local_addr().context("the bound address")?
        ),
    };
    let settings = crate::notifications::outbox::MailSettings {
        smtp_url: url.clone(),
        from: config.notify.mail_from.clone(),
        public_url,
        retry_base: config.notify.retry_base,
    };
    tracker.spawn(crate::notifications::outbox::run(
        db.clone(),
        settings,
        transport,
        shutdown.clone(),
    ));
    Ok(())
}
