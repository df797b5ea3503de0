//! One `forankra serve` process that the reliability scenarios (`crash`, `soak`) kill,
//! restart and watch: the real binary on a database that outlives it (a SQLite file or a
//! PostgreSQL database shared with other nodes), reached only over its sockets.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use forankra_testkit::harness::HARNESS_FLAGS;
use forankra_testkit::process::{Serve, ServerProcess, free_addr};
use forankra_testkit::token;
use serde_json::{Value, json};

/// Longest any single HTTP request may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the tokens the harness signs stay valid.
const TOKEN_TTL: Duration = Duration::from_secs(6 * 3600);
/// The organisation the harness acts for; it creates, so owns, every document.
pub const ORG: &str = "tillforlitlighet";

/// How to start a node.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    pub bin: PathBuf,
    pub database_url: String,
    /// Signs the harness's tokens; every node of a cluster shares it.
    pub secret: String,
    /// Further `serve` options (e.g. `--room-idle 2s`).
    pub extra: Vec<String>,
    /// Where the server's log goes (appended across restarts).
    pub log: PathBuf,
}

/// A running (or killed) server process.
pub struct Node {
    spec: NodeSpec,
    process: ServerProcess,
    http: reqwest::Client,
}

impl Node {
    /// Starts the server on a free loopback port.
    pub async fn start(spec: NodeSpec) -> Result<Self> {
        let process = spawn(&spec).await?;
        let http = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .build()
            .context("building the HTTP client")?;
        Ok(Self {
            spec,
            process,
            http,
        })
    }

    /// Kills it with SIGKILL: no flush, no compaction, no goodbye to its clients.
    pub async fn kill(&mut self) -> Result<()> {
        self.process.kill().await
    }

    /// Starts it again on the same database (on a new port).
    pub async fn restart(&mut self) -> Result<()> {
        self.process = spawn(&self.spec).await?;
        Ok(())
    }

    /// Stops it gracefully.
    pub async fn stop(mut self) -> Result<Duration> {
        self.process.shut_down().await
    }

    /// The process id, for `/proc`.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// A token for `user` of the harness's organisation.
    pub fn token(&self, user: &str) -> Result<String> {
        token::hs256(
            &self.spec.secret,
            user,
            &format!("Användare {user}"),
            ORG,
            TOKEN_TTL,
        )
    }

    /// `http://HOST:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.process.addr())
    }

    /// The WebSocket URL of a document.
    pub fn ws_url(&self, doc: &str, token: &str) -> String {
        format!("ws://{}/ws/{doc}?token={token}", self.process.addr())
    }

    /// Creates an empty document and returns its id.
    pub async fn create_document(&self, token: &str, title: &str) -> Result<String> {
        let doc = self
            .post_json(token, "/api/documents", &json!({ "title": title }))
            .await?;
        doc["id"]
            .as_str()
            .map(str::to_owned)
            .context("the new document has no \"id\"")
    }

    /// POSTs a JSON body and returns the JSON answer (any 2xx).
    pub async fn post_json(&self, token: &str, path: &str, body: &Value) -> Result<Value> {
        crate::http::post_json(&self.http, self.process.addr(), token, path, body).await
    }

    /// A gauge or counter from `/metrics`.
    pub async fn metric(&self, name: &str) -> Result<f64> {
        crate::http::metric(&self.http, self.process.addr(), name).await
    }
}

async fn spawn(spec: &NodeSpec) -> Result<ServerProcess> {
    let addr = free_addr()?;
    let serve = Serve::new(&spec.bin, &spec.database_url)
        .args(["--jwt-secret", &spec.secret])
        .args(HARNESS_FLAGS)
        .args(&spec.extra)
        .env("RUST_LOG", "warn");
    ServerProcess::probed(serve.command(addr), addr, &spec.log).await
}

/// A secret no earlier run used.
pub fn fresh_secret() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("forankra-reliability-{nanos}")
}

/// The release build of the server, next to this crate.
pub fn default_bin() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/forankra")
}
