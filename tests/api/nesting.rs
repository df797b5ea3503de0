//! Nesting that would overflow a stack is refused at the door, and a document planted
//! with it before the door was there cannot take the server down (issue 13, items 1
//! and 3). These run the real binary as a process: a stack overflow aborts a process,
//! which an in-process server would turn into a failed test run rather than a finding.

use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::{Value, json};
use yrs::sync::{Message, SyncMessage};
use yrs::{Array, ReadTxn, Transact};

use forankra::sync::nesting::hostile;

use crate::both_dbs;
use crate::helpers::*;

const SECRET: &str = "test-secret-for-nesting";

/// A `forankra serve` process with one document, its owner, a viewer and an editor.
struct Served {
    server: ProcessServer,
    http: reqwest::Client,
    doc: String,
    owner: String,
    viewer: String,
    editor: String,
}

impl Served {
    async fn start(db: &TestDb) -> Result<Self> {
        let server = ProcessServer::start(&db.url, SECRET, &[]).await?;
        Self::on(server).await
    }

    async fn on(server: ProcessServer) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()?;
        let owner = ProcessServer::token(SECRET, "anna", "stadsledningskontoret");
        let viewer = ProcessServer::token(SECRET, "vera", "revisionen");
        let editor = ProcessServer::token(SECRET, "erik", "utbildningsforvaltningen");
        let created: Value = http
            .post(server.url("/api/documents"))
            .bearer_auth(&owner)
            .json(&json!({ "title": "Djup", "markdown": "Första stycket" }))
            .send()
            .await?
            .json()
            .await?;
        let doc = created["id"].as_str().context("id")?.to_owned();
        let served = Self {
            server,
            http,
            doc,
            owner,
            viewer,
            editor,
        };
        served.set_role("revisionen", "viewer").await?;
        served
            .set_role("utbildningsforvaltningen", "editor")
            .await?;
        Ok(served)
    }

    async fn set_role(&self, org: &str, role: &str) -> Result<()> {
        let status = self
            .http
            .put(
                self.server
                    .url(&format!("/api/documents/{}/members/{org}", self.doc)),
            )
            .bearer_auth(&self.owner)
            .json(&json!({ "role": role }))
            .send()
            .await?
            .status();
        anyhow::ensure!(status.is_success(), "set_role: {status}");
        Ok(())
    }

    async fn client(&self, token: &str) -> Result<WsClient> {
        WsClient::connect(&self.server.ws_url(&self.doc, token)).await
    }

    /// The process has not exited and answers its health check.
    async fn assert_alive(&mut self) -> Result<()> {
        assert!(
            self.server.child.try_wait()?.is_none(),
            "the server process exited"
        );
        let health = self.http.get(self.server.url("/healthz")).send().await?;
        assert_eq!(health.status(), 200);
        Ok(())
    }
}

fn update_frame(update: Vec<u8>) -> Message {
    Message::Sync(SyncMessage::Update(update))
}

both_dbs!(
    deeply_nested_values_close_the_sender_and_the_server_lives,
    |backend| async move {
        let db = TestDb::fresh(backend).await?;
        let mut served = Served::start(&db).await?;
        let mut steady = served.client(&served.owner).await?;
        let mut watcher = served.client(&served.owner).await?;

        // 20,000 levels (40 KB) aborted the process before the scan; 7,000 did too.
        for (who, token) in [("viewer", &served.viewer), ("editor", &served.editor)] {
            for depth in [20_000, 7_000] {
                let mut hostile = served.client(token).await?;
                let update = hostile::nested_any(4242, "a", depth, 1);
                hostile.send_message(update_frame(update)).await?;
                let (code, reason) = hostile.expect_close().await?;
                assert_eq!(code, 4400, "{who}, {depth} levels: {reason}");
                assert!(reason.contains("nested"), "{who}: {reason}");
            }
        }
        served.assert_alive().await?;

        // A long but shallow value from an editor is stored and relayed as before.
        let mut editor = served.client(&served.editor).await?;
        let flat = hostile::nested_any(4343, "a", 1, 10_000);
        editor.send_message(update_frame(flat)).await?;
        watcher
            .wait_for(|c| {
                let txn = c.doc.transact();
                txn.get_array("a").is_some_and(|a| a.len(&txn) == 1)
            })
            .await?;

        // Everyone else keeps editing; nothing deep was stored.
        steady.append_paragraph("Efter attacken").await?;
        watcher
            .wait_for(|c| c.paragraphs() == ["Första stycket", "Efter attacken"])
            .await?;
        served.assert_alive().await?;
        served.server.kill().await?;
        let mut again = Served::on(ProcessServer::start(&db.url, SECRET, &[]).await?).await?;
        again.assert_alive().await?;
        Ok::<_, anyhow::Error>(())
    }
);
