//! The real server, started in this process for a scenario to measure (the kit's
//! [`RunningApp`], with the harness's limits lifted).
//!
//! In-process rather than a child process so a scenario can reach past HTTP into the
//! server's state (signing tokens, stored sizes, open rooms) without bench-only routes;
//! every client still goes through real sockets, so the measured path is the one a
//! browser takes. The database is a fresh SQLite file in a temporary directory, removed
//! when the server is dropped.

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use forankra::ids::DocId;
use forankra::storage::journal::StoredSize;
use forankra::{AppState, Config};
use forankra_testkit::app::RunningApp;
use forankra_testkit::{harness, token};
use serde_json::{Value, json};

/// Longest any single HTTP request to the server may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the server's state is polled while waiting for it to change.
const POLL_INTERVAL: Duration = Duration::from_millis(10);
/// How often a scenario's guard looks at the server's storage failures.
const FAILURE_POLL: Duration = Duration::from_millis(100);
/// How long the tokens a scenario signs stay valid.
const TOKEN_TTL: Duration = Duration::from_secs(3600);

/// A server running in this process on an ephemeral loopback port.
pub struct BenchServer {
    addr: SocketAddr,
    state: AppState,
    http: reqwest::Client,
    /// Dropping it stops the server.
    app: RunningApp,
    /// Declared last so the database outlives the server when dropped on an error path.
    _dir: tempfile::TempDir,
}

impl BenchServer {
    /// Starts a server on a fresh SQLite file, with `configure` applied to the test
    /// configuration (port 0 on 127.0.0.1).
    pub async fn start(configure: impl FnOnce(&mut Config)) -> Result<Self> {
        let dir = tempfile::tempdir().context("creating a temporary directory")?;
        let db_path = dir.path().join("forankra-bench.db");
        let config = configured(db_path.display().to_string(), configure);
        let app = RunningApp::start(config).await?;
        let http = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .build()
            .context("building the HTTP client")?;
        Ok(Self {
            addr: app.addr(),
            state: app.state().clone(),
            http,
            app,
            _dir: dir,
        })
    }

    /// A token for `user` of `org`, signed with the server's own key.
    pub fn token(&self, user: &str, org: &str) -> Result<String> {
        token::sign(
            &self.state.tokens,
            user,
            &format!("{user} ({org})"),
            org,
            TOKEN_TTL,
        )
    }

    /// Creates an empty document through the public API (so the caller's organisation
    /// owns it) and returns its id.
    pub async fn create_document(&self, token: &str, title: &str) -> Result<DocId> {
        let url = format!("http://{}/api/documents", self.addr);
        let response = self
            .http
            .post(url)
            .bearer_auth(token)
            .json(&json!({ "title": title }))
            .send()
            .await
            .context("POST /api/documents")?;
        let status = response.status();
        if status != reqwest::StatusCode::CREATED {
            let body = response.text().await.unwrap_or_default();
            bail!("POST /api/documents answered {status}: {body}");
        }
        let doc: Value = response.json().await.context("reading the new document")?;
        let id = doc["id"]
            .as_str()
            .context("the new document has no \"id\"")?;
        Ok(DocId::parse(id)?)
    }

    /// A gauge or counter from the server's `/metrics`.
    pub async fn metric(&self, name: &str) -> Result<f64> {
        crate::http::metric(&self.http, self.addr, name).await
    }

    /// Completes, with the error to report, as soon as the server counts a batch of
    /// updates it could not store. Such a batch's sender is disconnected and its readers
    /// never receive it, so a scenario raced against this fails at once with the cause
    /// instead of waiting out its deadline (the cluster run once sat for minutes behind
    /// PostgreSQL deadlocks).
    pub async fn storage_failed(&self, name: &str) -> anyhow::Error {
        let failures = || self.state.metrics.storage_failures.load(Relaxed);
        let before = failures();
        loop {
            tokio::time::sleep(FAILURE_POLL).await;
            let now = failures();
            if now > before {
                return anyhow::anyhow!(
                    "{name} could not store {} batch(es) of updates (see its log: \"storing updates failed\"); the figures would be wrong, so the run stops",
                    now - before
                );
            }
        }
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// POSTs a JSON body to `path` and returns the JSON answer (any 2xx).
    pub async fn post_json(&self, token: &str, path: &str, body: &Value) -> Result<Value> {
        crate::http::post_json(&self.http, self.addr, token, path, body).await
    }

    /// PUTs a JSON body to `path` (any 2xx).
    pub async fn put_json(&self, token: &str, path: &str, body: &Value) -> Result<()> {
        crate::http::put_json(&self.http, self.addr, token, path, body).await
    }

    /// The y-websocket URL of a document.
    pub fn ws_url(&self, doc: &DocId, token: &str) -> String {
        format!("ws://{}/ws/{doc}?token={token}", self.addr)
    }

    /// Bytes the database holds for a document (log and snapshot).
    pub async fn stored_size(&self, doc: &DocId) -> Result<StoredSize> {
        Ok(self.state.journal.stored_size(doc).await?)
    }

    /// Waits until no room is open; returns how long that took.
    pub async fn wait_until_unloaded(&self, limit: Duration) -> Result<Duration> {
        let rooms = self.state.rooms.clone();
        poll_until(limit, "every room to unload", move || {
            let open = rooms.open_rooms();
            async move { (open == 0).then_some(()) }
        })
        .await
        .map(|((), waited)| waited)
    }

    /// Waits until the document's log has been folded into a snapshot. A room leaves the
    /// registry before it writes its final snapshot, so an empty registry alone does not
    /// mean compaction is done.
    pub async fn wait_until_compacted(
        &self,
        doc: &DocId,
        limit: Duration,
    ) -> Result<(StoredSize, Duration)> {
        poll_until(limit, "the document to be compacted", || async {
            match self.stored_size(doc).await {
                Ok(size) if size.log_rows == 0 && size.snapshot_bytes > 0 => Some(size),
                _ => None,
            }
        })
        .await
    }

    /// Stops the server gracefully and waits for it (bounded).
    pub async fn stop(self) -> Result<()> {
        let Self { app, _dir, .. } = self;
        app.stop().await?;
        drop(_dir);
        Ok(())
    }
}

/// The configuration [`BenchServer::start`] runs with: the test configuration on
/// `database_url`, the harness's limits lifted, then `configure` applied.
fn configured(database_url: String, configure: impl FnOnce(&mut Config)) -> Config {
    let mut config = Config::for_tests(database_url);
    // As the kit's `HARNESS_FLAGS` for a process: the load comes from one address
    // and one user.
    harness::lift_limits(&mut config);
    configure(&mut config);
    config
}

/// The limits table for a scenario's report: what [`BenchServer::start`] with the same
/// `configure` sets, beside the shipped defaults.
pub fn limits_report(configure: impl FnOnce(&mut Config)) -> String {
    crate::limits::in_process(&configured(String::new(), configure))
}

/// Polls `check` until it yields a value or `limit` passes; returns the value and the
/// time waited.
async fn poll_until<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> Result<(T, Duration)>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = tokio::time::Instant::now();
    let deadline = started + limit;
    loop {
        if let Some(value) = check().await {
            return Ok((value, started.elapsed()));
        }
        if tokio::time::Instant::now() >= deadline {
            bail!("timed out after {limit:?} waiting for {what}");
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}
