//! The servers under test, each started as its own process on a free loopback port.
//!
//! A child process rather than the in-process server of [`crate::server`]: the peers are
//! node programs and a Rust binary, so only a process of its own measures every server
//! the same way (its RSS and CPU from `/proc`, its own runtime and allocator, its own
//! cores), and ours runs as operators run it: `forankra serve` from the release build.
//! The peers are started by the one-line scripts in `bench/peers/`, which `exec` the
//! server, so the process sampled is the server itself and not a shell.
//!
//! Each target knows its URL scheme and framing: ours `ws://HOST/ws/ID?token=JWT` (the
//! document created over HTTP first), y-websocket `ws://HOST/DOC`, y-sweet
//! `ws://HOST/d/DOC/ws/DOC` (its provider's server URL `…/d/DOC/ws` plus the room, as
//! `WebsocketProvider` joins them), Hocuspocus one URL with the document named in every
//! message.
//! The in-process [`Hub`] is the floor: a relay with no CRDT and no storage.
//!
//! y-sweet's documents are created over its HTTP API (`POST /doc/new`) before any client
//! connects, as an application using y-sweet does (it creates the document, then hands
//! clients a token). Its socket handler also creates a missing document, but two first
//! connections at once each load one and the second replaces the first, so the clients
//! of a run split across two copies (seen as runs with every receipt missing).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use forankra_testkit::harness::HARNESS_FLAGS;
use forankra_testkit::process::{Serve, ServerProcess, free_addr};
use forankra_testkit::token;
use futures_util::{StreamExt, TryStreamExt};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::process::Command;

use crate::client::Framing;
use crate::echo::Hub;

/// Longest any single HTTP request may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the tokens the harness signs stay valid.
const TOKEN_TTL: Duration = Duration::from_secs(6 * 3600);
/// Documents created over HTTP at once.
const CREATE_CONCURRENCY: usize = 8;
/// The organisation every client acts for; it creates, so owns, every document.
const ORG: &str = "bench";

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetKind {
    /// Förankra, `target/release/forankra serve` on a fresh SQLite file.
    Forankra,
    /// The y-websocket reference server with its LevelDB persistence.
    YWebsocket,
    /// Hocuspocus with its SQLite extension.
    Hocuspocus,
    /// y-sweet with its filesystem store (skipped when not installed).
    YSweet,
    /// The floor: a relay with no CRDT and no storage, in the harness's own process.
    Hub,
}

impl TargetKind {
    /// Every peer and ours, the floor first.
    pub const ALL: [TargetKind; 5] = [
        TargetKind::Hub,
        TargetKind::Forankra,
        TargetKind::YWebsocket,
        TargetKind::Hocuspocus,
        TargetKind::YSweet,
    ];

    /// Name and version, for tables.
    pub fn label(self) -> &'static str {
        match self {
            TargetKind::Forankra => "Förankra",
            TargetKind::YWebsocket => "y-websocket 0.1.1",
            TargetKind::Hocuspocus => "Hocuspocus 4.7.0",
            TargetKind::YSweet => "y-sweet 0.9.1",
            TargetKind::Hub => "loopback relay floor",
        }
    }

    /// What the server promises about an update it relays.
    pub fn durability(self) -> &'static str {
        match self {
            TargetKind::Forankra => {
                "stored (SQLite WAL, committed) before it is relayed; survives a process crash"
            }
            TargetKind::YWebsocket => {
                "relayed at once; queued to LevelDB (no fsync) after; a crash loses the queue"
            }
            TargetKind::Hocuspocus => {
                "relayed at once; whole state to SQLite 2 s after the last change (at most 10 s)"
            }
            TargetKind::YSweet => {
                "relayed at once; whole state to the store at a checkpoint (10 s while dirty)"
            }
            TargetKind::Hub => "nothing kept: bytes forwarded, no CRDT",
        }
    }
}

/// Where the programs under test are.
#[derive(Debug, Clone, clap::Args)]
pub struct Programs {
    /// The release build of our server.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release/forankra"))]
    pub forankra_bin: PathBuf,
    /// The folder with the peers' start scripts and their `node_modules` (`npm ci` there).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/peers"))]
    pub peers_dir: PathBuf,
    /// The y-sweet binary (default: where `bench/peers/install-y-sweet.sh` puts it).
    #[arg(long, env = "Y_SWEET_BIN")]
    pub y_sweet_bin: Option<PathBuf>,
}

impl Programs {
    /// The y-sweet binary, wherever it is expected.
    pub fn y_sweet(&self) -> PathBuf {
        self.y_sweet_bin.clone().unwrap_or_else(|| {
            let home = std::env::var_os("HOME").unwrap_or_default();
            PathBuf::from(home).join(".cache/forankra-bench/y-sweet/bin/y-sweet")
        })
    }

    /// Why `kind` cannot run here, if it cannot.
    pub fn missing(&self, kind: TargetKind) -> Option<String> {
        match kind {
            TargetKind::Forankra if !self.forankra_bin.exists() => Some(format!(
                "{} is missing: cargo build --release -p forankra",
                self.forankra_bin.display()
            )),
            TargetKind::YWebsocket | TargetKind::Hocuspocus
                if !self.peers_dir.join("node_modules").exists() =>
            {
                Some(format!(
                    "{}/node_modules is missing: npm ci there",
                    self.peers_dir.display()
                ))
            }
            TargetKind::YSweet if !self.y_sweet().exists() => Some(format!(
                "y-sweet is not installed at {} (optional: bench/peers/install-y-sweet.sh, ~8 min)",
                self.y_sweet().display()
            )),
            _ => None,
        }
    }
}

/// One document's address on a target.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub url: String,
    pub framing: Framing,
}

/// A running server under test.
pub struct Target {
    kind: TargetKind,
    backend: Backend,
    /// Names documents uniquely across the targets of one run.
    next_doc: usize,
}

enum Backend {
    Ours(OursServer),
    Peer {
        process: ServerProcess,
        _data: tempfile::TempDir,
    },
    Hub(Hub),
}

impl Target {
    /// Starts `kind` with fresh, empty storage.
    pub async fn start(kind: TargetKind, programs: &Programs) -> Result<Self> {
        if let Some(why) = programs.missing(kind) {
            bail!("{} cannot run: {why}", kind.label());
        }
        let backend = match kind {
            TargetKind::Forankra => Backend::Ours(OursServer::start(&programs.forankra_bin).await?),
            TargetKind::Hub => Backend::Hub(Hub::start().await?),
            peer => {
                let data = tempfile::tempdir().context("creating the peer's data folder")?;
                let (script, store) = match peer {
                    TargetKind::YWebsocket => ("y-websocket.sh", data.path().join("leveldb")),
                    TargetKind::Hocuspocus => ("hocuspocus.sh", data.path().join("hocuspocus.db")),
                    _ => ("y-sweet.sh", data.path().join("store")),
                };
                let addr = free_addr()?;
                let mut command = Command::new(programs.peers_dir.join(script));
                command.arg(addr.port().to_string()).arg(&store);
                if peer == TargetKind::YSweet {
                    command.env("Y_SWEET_BIN", programs.y_sweet());
                }
                let process =
                    ServerProcess::probed(command, addr, &data.path().join("server.log")).await?;
                Backend::Peer {
                    process,
                    _data: data,
                }
            }
        };
        Ok(Self {
            kind,
            backend,
            next_doc: 0,
        })
    }

    /// Which server this is.
    pub fn kind(&self) -> TargetKind {
        self.kind
    }

    /// The server's process id, for `/proc` (none for the in-process floor).
    pub fn pid(&self) -> Option<u32> {
        match &self.backend {
            Backend::Ours(ours) => Some(ours.process.pid()),
            Backend::Peer { process, .. } => Some(process.pid()),
            Backend::Hub(_) => None,
        }
    }

    /// Makes `count` new documents and says where each is.
    pub async fn documents(&mut self, count: usize) -> Result<Vec<Endpoint>> {
        let first = self.next_doc;
        self.next_doc += count;
        let names = (first..first + count).map(|i| format!("bench-{i}"));
        match &self.backend {
            Backend::Ours(ours) => {
                futures_util::stream::iter(names)
                    .map(|name| async move {
                        let id = ours.create_document(&name).await?;
                        Ok::<_, anyhow::Error>(Endpoint {
                            url: ours.ws_url(&id),
                            framing: Framing::YWebsocket,
                        })
                    })
                    .buffered(CREATE_CONCURRENCY)
                    .try_collect()
                    .await
            }
            Backend::Peer { process, .. } => {
                let addr = process.addr();
                if self.kind == TargetKind::YSweet {
                    create_y_sweet_documents(addr, names.clone()).await?;
                }
                Ok(names
                    .map(|name| match self.kind {
                        TargetKind::Hocuspocus => Endpoint {
                            url: format!("ws://{addr}/"),
                            framing: Framing::hocuspocus(&name),
                        },
                        TargetKind::YSweet => Endpoint {
                            url: format!("ws://{addr}/d/{name}/ws/{name}"),
                            framing: Framing::YWebsocket,
                        },
                        _ => Endpoint {
                            url: format!("ws://{addr}/{name}"),
                            framing: Framing::YWebsocket,
                        },
                    })
                    .collect())
            }
            Backend::Hub(hub) => Ok(names
                .map(|name| Endpoint {
                    url: format!("ws://{}/{name}", hub.addr()),
                    framing: Framing::YWebsocket,
                })
                .collect()),
        }
    }

    /// Stops the server (SIGTERM, bounded) and removes its data.
    pub async fn stop(self) -> Result<()> {
        match self.backend {
            Backend::Ours(ours) => ours.stop().await.map(|_| ()),
            Backend::Peer { mut process, _data } => process.shut_down().await.map(|_| ()),
            Backend::Hub(hub) => hub.stop().await,
        }
    }
}

/// Our server as a child process, on a SQLite file that outlives restarts.
pub struct OursServer {
    process: ServerProcess,
    bin: PathBuf,
    dir: tempfile::TempDir,
    secret: String,
    token: String,
    http: reqwest::Client,
}

impl OursServer {
    /// Starts `bin serve` on a fresh SQLite file with a secret of the harness's making.
    pub async fn start(bin: &Path) -> Result<Self> {
        let dir = tempfile::tempdir().context("creating the server's folder")?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let secret = format!("forankra-bench-{nanos}");
        let token = token::hs256(&secret, "bench-user", "Bench (bench)", ORG, TOKEN_TTL)?;
        let http = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .build()
            .context("building the HTTP client")?;
        let process = Self::spawn(bin, dir.path(), &secret).await?;
        Ok(Self {
            process,
            bin: bin.to_owned(),
            dir,
            secret,
            token,
            http,
        })
    }

    async fn spawn(bin: &Path, dir: &Path, secret: &str) -> Result<ServerProcess> {
        let addr = free_addr()?;
        let serve = Serve::new(bin, Self::db_path_in(dir).display().to_string())
            .args(["--jwt-secret", secret])
            .args(HARNESS_FLAGS)
            // Warnings only, as the peers run quiet: a line per connection is not free.
            .env("RUST_LOG", "warn");
        ServerProcess::probed(serve.command(addr), addr, &dir.join("server.log")).await
    }

    fn db_path_in(dir: &Path) -> PathBuf {
        dir.join("forankra.db")
    }

    /// The SQLite file.
    pub fn db_path(&self) -> PathBuf {
        Self::db_path_in(self.dir.path())
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Stops the server gracefully (it stores and compacts every open room), returning
    /// how long that took.
    pub async fn shut_down(&mut self) -> Result<Duration> {
        self.process.shut_down().await
    }

    /// Starts the server again on the same database and secret (on a new port).
    pub async fn start_again(&mut self) -> Result<()> {
        self.process = Self::spawn(&self.bin, self.dir.path(), &self.secret).await?;
        Ok(())
    }

    /// Creates an empty document through the public API and returns its id.
    pub async fn create_document(&self, title: &str) -> Result<String> {
        let url = format!("http://{}/api/documents", self.process.addr());
        let response = self
            .http
            .post(url)
            .bearer_auth(&self.token)
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
        doc["id"]
            .as_str()
            .map(str::to_owned)
            .context("the new document has no \"id\"")
    }

    /// The WebSocket URL of a document.
    pub fn ws_url(&self, doc: &str) -> String {
        format!("ws://{}/ws/{doc}?token={}", self.process.addr(), self.token)
    }

    /// A counter from `/metrics`.
    pub async fn metric(&self, name: &str) -> Result<u64> {
        Ok(crate::http::metric(&self.http, self.process.addr(), name).await? as u64)
    }

    /// Stops the server for good.
    pub async fn stop(mut self) -> Result<Duration> {
        self.process.shut_down().await
    }
}

/// Creates y-sweet documents `names` through its HTTP API, a few at a time. The harness
/// starts y-sweet without an auth key, so it ignores the bearer token `post_json` sends.
async fn create_y_sweet_documents(
    addr: std::net::SocketAddr,
    names: impl Iterator<Item = String>,
) -> Result<()> {
    let http = reqwest::Client::new();
    futures_util::stream::iter(names)
        .map(|name| {
            let http = http.clone();
            async move {
                let body = json!({ "docId": name });
                crate::http::post_json(&http, addr, "bench", "/doc/new", &body).await
            }
        })
        .buffer_unordered(CREATE_CONCURRENCY)
        .try_collect::<Vec<Value>>()
        .await?;
    Ok(())
}
