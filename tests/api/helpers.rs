//! Test support: servers (in-process and as a real process), databases and a
//! y-websocket client holding a yrs `Doc`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use yrs::sync::{Awareness, AwarenessUpdate, Message, SyncMessage};
use yrs::types::xml::XmlOut;
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{
    Doc, GetString, OffsetKind, Options, ReadTxn, StateVector, Transact, TransactionMut, Update,
    XmlElementPrelim, XmlFragment, XmlFragmentRef, XmlTextPrelim,
};

use forankra::auth::Identity;
use forankra::ids::{OrgId, UserId};
use forankra::{App, AppState, Config};

/// How long any single wait in a test may take before it fails.
pub const WAIT: Duration = Duration::from_secs(20);

/// Runs a test body once per database backend: `sqlite` always, `postgres` when
/// `TEST_DATABASE_URL` is set (and fails under `CI=true` when it is not).
#[macro_export]
macro_rules! both_dbs {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let f = $body;
                f($crate::helpers::Backend::Sqlite)
                    .await
                    .expect("test failed on SQLite");
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if !$crate::helpers::postgres_available(concat!(module_path!(), "::postgres")) {
                    return;
                }
                let f = $body;
                f($crate::helpers::Backend::Postgres)
                    .await
                    .expect("test failed on PostgreSQL");
            }
        }
    };
}

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Whether PostgreSQL tests can run; says loudly when one is skipped, and fails under CI.
pub fn postgres_available(test: &str) -> bool {
    if std::env::var("TEST_DATABASE_URL").is_ok() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("{test}: CI=true but TEST_DATABASE_URL is not set; PostgreSQL tests must run in CI");
    }
    eprintln!(
        "SKIPPED {test}: set TEST_DATABASE_URL=postgres://USER@HOST/DB to run it on PostgreSQL"
    );
    false
}

/// A fresh, empty database that is removed when dropped.
pub struct TestDb {
    pub url: String,
    backend: Backend,
    _dir: Option<tempfile::TempDir>,
    pg_admin: Option<(String, String)>,
}

impl TestDb {
    pub async fn fresh(backend: Backend) -> Result<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir()?;
                let url = dir.path().join("forankra.db").display().to_string();
                Ok(Self {
                    url,
                    backend,
                    _dir: Some(dir),
                    pg_admin: None,
                })
            }
            Backend::Postgres => {
                let admin = std::env::var("TEST_DATABASE_URL").context("TEST_DATABASE_URL")?;
                let name = format!("forankra_test_{}", uuid_like());
                let mut conn = sqlx_connect(&admin).await?;
                sqlx_execute(&mut conn, &format!("CREATE DATABASE {name}")).await?;
                let url = replace_db_name(&admin, &name);
                Ok(Self {
                    url,
                    backend,
                    _dir: None,
                    pg_admin: Some((admin, name)),
                })
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg_admin.take() {
            // Drop runs outside async; a short-lived runtime on its own thread does the SQL.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                rt.block_on(async {
                    let mut conn = sqlx_connect(&admin).await?;
                    sqlx_execute(
                        &mut conn,
                        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                    )
                    .await
                })
            })
            .join();
        }
    }
}

async fn sqlx_connect(url: &str) -> Result<forankra_tests::PgConnection> {
    forankra_tests::pg_connect(url).await
}

async fn sqlx_execute(conn: &mut forankra_tests::PgConnection, sql: &str) -> Result<()> {
    forankra_tests::pg_execute(conn, sql).await
}

fn replace_db_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let prefix = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}{:x}", nanos, std::process::id())
}

/// A server running in this process.
pub struct TestApp {
    pub addr: SocketAddr,
    pub state: AppState,
    pub db: TestDb,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<()>>>,
    pub http: reqwest::Client,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Result<Self> {
        Self::spawn_on(TestDb::fresh(backend).await?, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> Result<Self> {
        Self::spawn_on(TestDb::fresh(backend).await?, configure).await
    }

    /// Starts a server on an existing database (for restarts).
    pub async fn spawn_on(db: TestDb, configure: impl FnOnce(&mut Config)) -> Result<Self> {
        forankra::telemetry::init_for_tests();
        let mut config = Config::for_tests(db.url.clone());
        configure(&mut config);
        let app = App::build(config).await?;
        let addr = app.local_addr();
        let state = app.state().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        Ok(Self {
            addr,
            state,
            db,
            stop: Some(stop),
            task: Some(task),
            http: reqwest::Client::new(),
        })
    }

    /// Shuts down gracefully and hands back the database for a restart.
    pub async fn stop(mut self) -> Result<TestDb> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(WAIT, task)
                .await
                .context("shutdown timed out")???;
        }
        let placeholder = TestDb {
            url: String::new(),
            backend: self.db.backend,
            _dir: None,
            pg_admin: None,
        };
        Ok(std::mem::replace(&mut self.db, placeholder))
    }

    pub fn token(&self, user: &str, org: &str) -> String {
        let identity = Identity {
            user: UserId::parse(user).expect("user id"),
            name: format!("{user} i {org}"),
            org: OrgId::parse(org).expect("org id"),
        };
        self.state
            .tokens
            .issue(&identity, Duration::from_secs(3600))
            .expect("token")
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn ws_url(&self, doc: &str, token: &str) -> String {
        format!("ws://{}/ws/{doc}?token={token}", self.addr)
    }

    pub async fn create_doc(
        &self,
        token: &str,
        title: &str,
        markdown: Option<&str>,
    ) -> Result<String> {
        let mut body = json!({ "title": title });
        if let Some(md) = markdown {
            body["markdown"] = json!(md);
        }
        let response = self
            .http
            .post(self.url("/api/documents"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await?;
        if response.status() != 201 {
            bail!(
                "create document: {} {}",
                response.status(),
                response.text().await?
            );
        }
        let doc: Value = response.json().await?;
        Ok(doc["id"].as_str().context("id")?.to_owned())
    }

    /// Gives an organisation a role; returns the HTTP status.
    pub async fn set_role(&self, token: &str, doc: &str, org: &str, role: &str) -> Result<u16> {
        let response = self
            .http
            .put(self.url(&format!("/api/documents/{doc}/members/{org}")))
            .bearer_auth(token)
            .json(&json!({ "role": role }))
            .send()
            .await?;
        Ok(response.status().as_u16())
    }

    pub async fn get_text(&self, token: &str, path: &str) -> Result<(u16, String)> {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await?;
        Ok((response.status().as_u16(), response.text().await?))
    }

    pub async fn metric(&self, name: &str) -> Result<f64> {
        let text = self
            .http
            .get(self.url("/metrics"))
            .send()
            .await?
            .text()
            .await?;
        metric_value(&text, name)
    }

    /// Scrapes `/metrics` until `name` reads `value` (failing after [`WAIT`]). A room
    /// counts a relay right after handing the frame to the sockets' writers, so a client
    /// can hold the update a moment before the counter moves.
    pub async fn metric_reaches(&self, name: &str, value: f64) -> Result<()> {
        tokio::time::timeout(WAIT, async {
            loop {
                if self.metric(name).await? == value {
                    return Ok(());
                }
                tokio::task::yield_now().await;
            }
        })
        .await
        .with_context(|| format!("{name} never reached {value}"))?
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Reads one sample from Prometheus text.
pub fn metric_value(text: &str, name: &str) -> Result<f64> {
    text.lines()
        .find_map(|line| {
            line.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(' '))
        })
        .ok_or_else(|| anyhow!("metric {name} missing"))?
        .trim()
        .parse()
        .context("metric value")
}

/// A server with one document owned by Stadsledningskontoret (user `maria`) and the given
/// organisations invited with their roles: where most thread tests start.
pub struct Draft {
    pub app: TestApp,
    /// The owner's token.
    pub owner: String,
    pub doc: String,
}

impl Draft {
    pub async fn new(
        backend: Backend,
        title: &str,
        markdown: &str,
        invited: &[(&str, &str)],
    ) -> Result<Self> {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("maria", "stadsledningskontoret");
        let doc = app.create_doc(&owner, title, Some(markdown)).await?;
        for (org, role) in invited {
            let status = app.set_role(&owner, &doc, org, role).await?;
            if status != 200 {
                bail!("inviting {org} as {role}: {status}");
            }
        }
        Ok(Self { app, owner, doc })
    }
}

/// The `forankra` binary as a child process (for SIGKILL trials).
pub struct ProcessServer {
    pub child: tokio::process::Child,
    pub addr: SocketAddr,
}

/// The path of the `forankra` binary built by this `cargo test` run.
pub fn binary_path() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .context("target dir")?;
    let bin = dir.join(format!("forankra{}", std::env::consts::EXE_SUFFIX));
    if !bin.exists() {
        bail!(
            "{} not found: build it first with `cargo build --bins` (scripts/test does)",
            bin.display()
        );
    }
    Ok(bin)
}

impl ProcessServer {
    /// Starts `forankra serve` on a free port and waits for its "listening" line.
    pub async fn start(db_url: &str, secret: &str, extra: &[&str]) -> Result<Self> {
        let mut args = vec!["--jwt-secret", secret];
        args.extend_from_slice(extra);
        Self::start_with(db_url, &args).await
    }

    /// Starts a server that uses the secret kept in its database.
    pub async fn start_without_secret(db_url: &str) -> Result<Self> {
        Self::start_with(db_url, &[]).await
    }

    async fn start_with(db_url: &str, extra: &[&str]) -> Result<Self> {
        let mut child = tokio::process::Command::new(binary_path()?)
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--database-url", db_url])
            .args(extra)
            .env_remove("FORANKRA_JWT_SECRET")
            .env_remove("FORANKRA_AUDIT_KEY_FILE")
            // The in-process servers' key, so a process and an in-process server can take
            // turns on one database (and no key file lands in the working directory).
            .env("FORANKRA_AUDIT_KEY", forankra::config::TEST_AUDIT_KEY)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let stderr = child.stderr.take().context("stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let addr = tokio::time::timeout(WAIT, async {
            while let Some(line) = lines.next_line().await? {
                if let Some(rest) = line.split("address=").nth(1) {
                    let addr: SocketAddr =
                        rest.split_whitespace().next().unwrap_or_default().parse()?;
                    return Ok(addr);
                }
            }
            bail!("the server exited before listening")
        })
        .await
        .context("server start timed out")??;
        // Keep draining stderr so the child never blocks on a full pipe; the lines go to
        // the test's output, which the harness shows when the test fails.
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("[{addr}] {line}");
            }
        });
        Ok(Self { child, addr })
    }

    pub fn ws_url(&self, doc: &str, token: &str) -> String {
        format!("ws://{}/ws/{doc}?token={token}", self.addr)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A token this server accepts, signed with its `--jwt-secret`.
    pub fn token(secret: &str, user: &str, org: &str) -> String {
        let identity = Identity {
            user: UserId::parse(user).expect("user id"),
            name: format!("{user} i {org}"),
            org: OrgId::parse(org).expect("org id"),
        };
        forankra::auth::TokenKeys::hs256(secret.as_bytes())
            .issue(&identity, Duration::from_secs(3600))
            .expect("token")
    }

    /// Sends SIGTERM (a graceful shutdown, as an orchestrator stops a node) and waits
    /// until the process has exited.
    pub async fn terminate(mut self) -> Result<std::process::ExitStatus> {
        let pid = self.child.id().context("the server already exited")?;
        let sent = tokio::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await?;
        if !sent.success() {
            bail!("kill -TERM {pid} failed");
        }
        Ok(tokio::time::timeout(WAIT, self.child.wait())
            .await
            .context("the server did not exit after SIGTERM")??)
    }

    pub async fn kill(mut self) -> Result<()> {
        self.child.start_kill()?; // SIGKILL
        self.child.wait().await?;
        Ok(())
    }
}

/// A y-websocket client: a WebSocket and a yrs `Doc`, kept in step.
pub struct WsClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub doc: Doc,
    pub presence: HashMap<u64, String>,
    pub synced: bool,
    pub closed: Option<(u16, String)>,
    pub frames_received: usize,
    /// Thread events received (after `subscribe_events`).
    pub events: Vec<Value>,
}

pub fn new_doc() -> Doc {
    Doc::with_options(Options {
        offset_kind: OffsetKind::Utf16,
        ..Options::default()
    })
}

impl WsClient {
    /// Connects and completes the handshake (our step 1 answered by the server's step 2).
    pub async fn connect(url: &str) -> Result<Self> {
        let mut client = Self::connect_unsynced(url).await?;
        let sv = client.state_vector();
        client
            .send_message(Message::Sync(SyncMessage::SyncStep1(sv)))
            .await?;
        client
            .wait_for(|c| c.synced)
            .await
            .context("waiting for sync step 2")?;
        Ok(client)
    }

    /// Moves to another server (as a provider does when its node goes away), keeping
    /// the document: both sides' sync steps bring each other up to date.
    pub async fn reconnect(&mut self, url: &str) -> Result<()> {
        let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url)).await??;
        self.ws = ws;
        self.closed = None;
        self.synced = false;
        let sv = self.state_vector();
        self.send_message(Message::Sync(SyncMessage::SyncStep1(sv)))
            .await?;
        self.wait_for(|c| c.synced).await
    }

    /// Opens the socket without any protocol messages.
    pub async fn connect_unsynced(url: &str) -> Result<Self> {
        let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url)).await??;
        Ok(Self::from_socket(ws))
    }

    /// A client on a socket opened elsewhere (custom headers, TCP options).
    pub fn from_socket(ws: WebSocketStream<MaybeTlsStream<TcpStream>>) -> Self {
        Self {
            ws,
            doc: new_doc(),
            presence: HashMap::new(),
            synced: false,
            closed: None,
            frames_received: 0,
            events: Vec::new(),
        }
    }

    pub async fn send_message(&mut self, message: Message) -> Result<()> {
        self.send_raw(message.encode_v1()).await
    }

    pub async fn send_raw(&mut self, bytes: Vec<u8>) -> Result<()> {
        self.ws.send(WsMessage::Binary(bytes.into())).await?;
        Ok(())
    }

    pub async fn send_text(&mut self, text: &str) -> Result<()> {
        self.ws.send(WsMessage::Text(text.into())).await?;
        Ok(())
    }

    /// Makes a local change and sends it as one update.
    pub async fn edit(
        &mut self,
        change: impl FnOnce(&mut TransactionMut, &XmlFragmentRef),
    ) -> Result<Vec<u8>> {
        let frag = self.doc.get_or_insert_xml_fragment("default");
        let update = {
            let mut txn = self.doc.transact_mut();
            change(&mut txn, &frag);
            txn.encode_update_v1()
        };
        self.send_message(Message::Sync(SyncMessage::Update(update.clone())))
            .await?;
        Ok(update)
    }

    /// Appends a paragraph locally only, as an editor does while offline.
    pub fn append_paragraph_offline(&mut self, text: &str) {
        let frag = self.doc.get_or_insert_xml_fragment("default");
        let mut txn = self.doc.transact_mut();
        let len = frag.len(&txn);
        let text = yrs::types::xml::XmlIn::from(XmlTextPrelim::new(text));
        frag.insert(&mut txn, len, XmlElementPrelim::new("paragraph", [text]));
    }

    /// Appends a paragraph, as Tiptap would.
    pub async fn append_paragraph(&mut self, text: &str) -> Result<Vec<u8>> {
        let text = text.to_owned();
        self.edit(move |txn, frag| {
            let len = frag.len(txn);
            frag.insert(
                txn,
                len,
                XmlElementPrelim::new(
                    "paragraph",
                    [yrs::types::xml::XmlIn::from(XmlTextPrelim::new(text))],
                ),
            );
        })
        .await
    }

    /// The text of each top-level block.
    pub fn paragraphs(&self) -> Vec<String> {
        let txn = self.doc.transact();
        let Some(frag) = txn.get_xml_fragment("default") else {
            return Vec::new();
        };
        frag.children(&txn)
            .map(|child| match child {
                XmlOut::Element(el) => el
                    .children(&txn)
                    .filter_map(|c| match c {
                        XmlOut::Text(t) => Some(t.get_string(&txn)),
                        _ => None,
                    })
                    .collect::<String>(),
                XmlOut::Text(t) => t.get_string(&txn),
                XmlOut::Fragment(_) => String::new(),
            })
            .collect()
    }

    pub fn state_vector(&self) -> StateVector {
        self.doc.transact().state_vector()
    }

    /// Sends our presence.
    pub async fn set_presence(&mut self, clock: u32, json: &str) -> Result<()> {
        let mut clients = HashMap::new();
        clients.insert(
            self.doc.client_id(),
            yrs::sync::awareness::AwarenessUpdateEntry {
                clock,
                json: json.into(),
            },
        );
        self.send_message(Message::Awareness(AwarenessUpdate { clients }))
            .await
    }

    /// Reads and handles messages until `done` holds, the socket closes, or `WAIT` passes.
    pub async fn wait_for(&mut self, done: impl Fn(&Self) -> bool) -> Result<()> {
        tokio::time::timeout(WAIT, async {
            while !done(self) {
                if self.closed.is_some() {
                    bail!("the server closed the socket: {:?}", self.closed);
                }
                self.read_one().await?;
            }
            Ok(())
        })
        .await
        .context("timed out")?
    }

    /// Waits for the server to close the socket; returns the code and reason.
    pub async fn expect_close(&mut self) -> Result<(u16, String)> {
        tokio::time::timeout(WAIT, async {
            while self.closed.is_none() {
                self.read_one().await?;
            }
            Ok::<_, anyhow::Error>(())
        })
        .await
        .context("timed out waiting for a close")??;
        self.closed.clone().context("closed")
    }

    async fn read_one(&mut self) -> Result<()> {
        let Some(message) = self.ws.next().await else {
            self.closed.get_or_insert((1006, "stream ended".into()));
            return Ok(());
        };
        match message {
            Ok(WsMessage::Binary(bytes)) => {
                self.frames_received += 1;
                self.handle_frame(&bytes).await
            }
            Ok(WsMessage::Close(frame)) => {
                let (code, reason) = frame
                    .map(|f| (u16::from(f.code), f.reason.to_string()))
                    .unwrap_or((u16::from(CloseCode::Status), String::new()));
                self.closed = Some((code, reason));
                Ok(())
            }
            Ok(_) => Ok(()),
            Err(error) => {
                self.closed.get_or_insert((1006, error.to_string()));
                Ok(())
            }
        }
    }

    async fn handle_frame(&mut self, bytes: &[u8]) -> Result<()> {
        let message = Message::decode_v1(bytes)?;
        match message {
            Message::Sync(SyncMessage::SyncStep1(sv)) => {
                let diff = self.doc.transact().encode_diff_v1(&sv);
                self.send_message(Message::Sync(SyncMessage::SyncStep2(diff)))
                    .await?;
            }
            Message::Sync(SyncMessage::SyncStep2(update)) => {
                self.doc
                    .transact_mut()
                    .apply_update(Update::decode_v1(&update)?)?;
                self.synced = true;
            }
            Message::Sync(SyncMessage::Update(update)) => {
                self.doc
                    .transact_mut()
                    .apply_update(Update::decode_v1(&update)?)?;
            }
            Message::Awareness(update) => {
                for (client, entry) in update.clients {
                    if &*entry.json == "null" {
                        self.presence.remove(&client.get());
                    } else {
                        self.presence.insert(client.get(), entry.json.to_string());
                    }
                }
            }
            Message::Custom(100, json) => self.events.push(serde_json::from_slice(&json)?),
            _ => {}
        }
        Ok(())
    }

    /// Asks the server for thread events on this socket, and waits until it has seen the
    /// request: the room answers one connection's messages in order, so the answer to a
    /// sync step 1 sent after it proves the subscription is in place.
    pub async fn subscribe_events(&mut self) -> Result<()> {
        self.send_message(Message::Custom(100, b"threads".to_vec()))
            .await?;
        self.synced = false;
        let sv = self.state_vector();
        self.send_message(Message::Sync(SyncMessage::SyncStep1(sv)))
            .await?;
        self.wait_for(|c| c.synced).await
    }

    /// A Yjs anchor (base64 relative positions) around the first occurrence of `word`.
    pub fn anchor_for(&self, word: &str) -> Result<Value> {
        use base64::Engine;
        use yrs::{Assoc, IndexedSequence};
        let txn = self.doc.transact();
        let frag = txn.get_xml_fragment("default").context("no content")?;
        for block in frag.children(&txn) {
            let XmlOut::Element(el) = block else { continue };
            for child in el.children(&txn) {
                let XmlOut::Text(text) = child else { continue };
                let plain = text.get_string(&txn);
                if let Some(byte_index) = plain.find(word) {
                    let index = plain[..byte_index].encode_utf16().count() as u32;
                    let len = word.encode_utf16().count() as u32;
                    let start = text
                        .sticky_index(&txn, index, Assoc::After)
                        .context("start")?;
                    let end = text
                        .sticky_index(&txn, index + len, Assoc::Before)
                        .context("end")?;
                    let b64 = base64::engine::general_purpose::STANDARD;
                    return Ok(
                        json!({ "start": b64.encode(start.encode_v1()), "end": b64.encode(end.encode_v1()) }),
                    );
                }
            }
        }
        bail!("{word} not found")
    }

    pub async fn close(mut self) -> Result<()> {
        self.ws.close(None).await?;
        while let Some(Ok(_)) = self.ws.next().await {}
        Ok(())
    }
}

/// Keeps the `Awareness` type in scope for tests that build updates by hand.
pub type _Awareness = Awareness;

/// Calls the API and returns status and JSON body.
pub async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Result<(u16, Value)> {
    let mut request = app.http.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let text = response.text().await?;
    Ok((
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    ))
}

/// Opens a thread and fails unless the server answers 201.
pub async fn open_thread(
    app: &TestApp,
    token: &str,
    doc: &str,
    anchor: Value,
    body: &str,
    stance: Option<&str>,
) -> Result<Value> {
    let mut request = json!({ "anchor": anchor, "body": body });
    if let Some(stance) = stance {
        request["stance"] = json!(stance);
    }
    let (status, thread) = call(
        app,
        reqwest::Method::POST,
        &format!("/api/documents/{doc}/threads"),
        token,
        Some(request),
    )
    .await?;
    if status != 201 {
        bail!("open thread: {status} {thread}");
    }
    Ok(thread)
}

/// Appends `data` to the document's log as the journal would, behind the server's back
/// (as an older server, or a bug, could have left it); returns its position.
pub async fn plant_update(app: &TestApp, doc: &str, data: &[u8]) -> Result<i64> {
    forankra::on_pool!(&app.state.db, pool => {
        let (seq,): (i64,) =
            sqlx::query_as("UPDATE documents SET head_seq = head_seq + 1 WHERE id = $1 RETURNING head_seq")
                .bind(doc)
                .fetch_one(pool)
                .await?;
        sqlx::query("INSERT INTO document_updates (doc_id, seq, data, created_at) VALUES ($1, $2, $3, 0)")
            .bind(doc)
            .bind(seq)
            .bind(data)
            .execute(pool)
            .await?;
        Ok(seq)
    })
}
