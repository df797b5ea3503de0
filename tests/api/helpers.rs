//! Test support: servers (in-process and as a real process), databases and a
//! y-websocket client holding a yrs `Doc`, all from the shared kit
//! (`forankra-testkit`, which the benchmarks use too); what is here is the tests' own
//! vocabulary on top of it (`both_dbs!`, `TestApp`, `Draft`, API calls).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};

use forankra::{AppState, Config};
use forankra_testkit::app::RunningApp;
use forankra_testkit::process::{Serve, ServerProcess};
use forankra_testkit::token;

/// The tests' name for the kit's y-websocket client.
pub use forankra_testkit::client::YClient as WsClient;
pub use forankra_testkit::client::{WAIT, new_doc};
pub use forankra_testkit::database::{Backend, TestDb, postgres_available};

/// How long the tokens tests sign stay valid.
const TOKEN_TTL: Duration = Duration::from_secs(3600);

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

/// The name tests give a user in their tokens.
fn display_name(user: &str, org: &str) -> String {
    format!("{user} i {org}")
}

/// A server running in this process.
pub struct TestApp {
    pub addr: SocketAddr,
    pub state: AppState,
    /// Declared before the database so a dropped app stops its server first.
    server: Option<RunningApp>,
    pub db: TestDb,
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
        let server = RunningApp::start(config).await?;
        Ok(Self {
            addr: server.addr(),
            state: server.state().clone(),
            db,
            server: Some(server),
            http: reqwest::Client::new(),
        })
    }

    /// Shuts down gracefully and hands back the database for a restart.
    pub async fn stop(mut self) -> Result<TestDb> {
        if let Some(server) = self.server.take() {
            server.stop().await?;
        }
        Ok(self.db.take())
    }

    pub fn token(&self, user: &str, org: &str) -> String {
        token::sign(
            &self.state.tokens,
            user,
            &display_name(user, org),
            org,
            TOKEN_TTL,
        )
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

/// The path of the `forankra` binary built by this `cargo test` run.
pub fn binary_path() -> Result<PathBuf> {
    forankra_testkit::process::binary_beside_tests()
}

/// The `forankra` binary as a child process (for SIGKILL trials).
pub struct ProcessServer {
    process: ServerProcess,
    pub addr: SocketAddr,
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
        let serve = Serve::new(binary_path()?, db_url)
            .args(extra)
            .env_remove("FORANKRA_JWT_SECRET")
            .env_remove("FORANKRA_AUDIT_KEY_FILE")
            // The in-process servers' key, so a process and an in-process server can take
            // turns on one database (and no key file lands in the working directory).
            .env("FORANKRA_AUDIT_KEY", forankra::config::TEST_AUDIT_KEY)
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            );
        let process = ServerProcess::announced(&serve).await?;
        Ok(Self {
            addr: process.addr(),
            process,
        })
    }

    pub fn ws_url(&self, doc: &str, token: &str) -> String {
        self.process.ws_url(doc, token)
    }

    pub fn url(&self, path: &str) -> String {
        self.process.url(path)
    }

    /// Whether the process has exited (a crash included).
    pub fn has_exited(&mut self) -> Result<bool> {
        self.process.has_exited()
    }

    /// A token this server accepts, signed with its `--jwt-secret`.
    pub fn token(secret: &str, user: &str, org: &str) -> String {
        token::hs256(secret, user, &display_name(user, org), org, TOKEN_TTL).expect("token")
    }

    /// Sends SIGTERM (a graceful shutdown, as an orchestrator stops a node) and waits
    /// until the process has exited.
    pub async fn terminate(mut self) -> Result<std::process::ExitStatus> {
        Ok(self.process.terminate().await?.0)
    }

    /// Kills it with SIGKILL and reaps it.
    pub async fn kill(mut self) -> Result<()> {
        self.process.kill().await
    }
}

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
