//! One `forankra serve` process that the reliability scenarios (`crash`, `soak`) kill,
//! restart and watch: the real binary on a database that outlives it (a SQLite file or a
//! PostgreSQL database shared with other nodes), reached only over its sockets.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use forankra::auth::{Identity, TokenKeys};
use forankra::ids::{OrgId, UserId};
use serde_json::{Value, json};
use tokio::process::Command;

use crate::cluster::{execute, with_database};
use crate::target::{ServerProcess, free_addr};

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
    pub async fn stop(self) -> Result<Duration> {
        self.process.shut_down().await
    }

    /// The process id, for `/proc`.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// A token for `user` of the harness's organisation.
    pub fn token(&self, user: &str) -> Result<String> {
        let identity = Identity {
            user: UserId::parse(user)?,
            name: format!("Användare {user}"),
            org: OrgId::parse(ORG)?,
        };
        Ok(TokenKeys::hs256(self.spec.secret.as_bytes()).issue(&identity, TOKEN_TTL)?)
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

/// Flags that lift the caps meant for people, not for a harness: every client of a
/// scenario comes from 127.0.0.1, one connection may push a whole editing trace (the
/// B4 push sends 259,778 updates as fast as the server takes them), and one user creates
/// every document and thread (thousands of each), so the per-connection message and byte
/// rates, the per-address connection caps and the per-user creation quotas would refuse
/// the load being measured. A scenario's own `extra` flags must not
/// repeat these (clap refuses a flag given twice).
pub const HARNESS_FLAGS: &[&str] = &[
    "--ws-message-rate",
    "1000000000",
    "--ws-message-burst",
    "1000000000",
    "--ws-byte-rate",
    "4000000000",
    "--max-connections-per-ip",
    "1000000",
    "--max-http-connections-per-ip",
    "1000000",
    "--max-documents-per-user-hour",
    "0",
    "--max-documents-per-user",
    "0",
    "--max-threads-per-user-hour",
    "0",
    "--max-threads-per-user",
    "0",
];

async fn spawn(spec: &NodeSpec) -> Result<ServerProcess> {
    let addr = free_addr()?;
    let mut command = Command::new(&spec.bin);
    command
        .arg("serve")
        .arg("--listen")
        .arg(addr.to_string())
        .arg("--database-url")
        .arg(&spec.database_url)
        .arg("--jwt-secret")
        .arg(&spec.secret)
        .args(HARNESS_FLAGS)
        .args(&spec.extra)
        .env("RUST_LOG", "warn");
    ServerProcess::spawn(command, addr, &spec.log).await
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

/// A database for one run next to `admin_url` (PostgreSQL), created now and dropped by
/// [`drop_database`].
pub async fn create_database(admin_url: &str, name: &str) -> Result<String> {
    drop_database(admin_url, name).await?;
    execute(admin_url, &format!("CREATE DATABASE {name}")).await?;
    Ok(with_database(admin_url, name))
}

/// Drops a database made by [`create_database`].
pub async fn drop_database(admin_url: &str, name: &str) -> Result<()> {
    execute(
        admin_url,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await
}
