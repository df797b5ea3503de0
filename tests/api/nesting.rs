//! Nesting that would overflow a stack is refused at the door, and a document planted
//! with it before the door was there cannot take the server down (issue 13, items 1
//! and 3). These run the real binary as a process: a stack overflow aborts a process,
//! which an in-process server would turn into a failed test run rather than a finding.

use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::{Value, json};
use yrs::sync::{Message, SyncMessage};
use yrs::{Array, ReadTxn, Transact};

use forankra::sync::nesting::{self, hostile};

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
        assert!(!self.server.has_exited()?, "the server process exited");
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

/// Every read-out of the document, each answered without a server error.
async fn read_everything(app: &TestApp, owner: &str, doc: &str) -> Result<()> {
    use reqwest::Method;
    let (status, version) = call(
        app,
        Method::POST,
        &format!("/api/documents/{doc}/versions"),
        owner,
        Some(json!({ "name": "Djup" })),
    )
    .await?;
    assert!(status < 500, "saving a version: {status} {version}");
    let vid = version["id"].as_str().unwrap_or("none").to_owned();
    for path in [
        "markdown",
        "html",
        "text",
        "threads",
        "report",
        "compilation",
        "versions",
        &format!("versions/{vid}"),
        &format!("versions/{vid}/markdown"),
        &format!("versions/diff?from={vid}&to=current"),
    ] {
        let (status, body) = call(
            app,
            Method::GET,
            &format!("/api/documents/{doc}/{path}"),
            owner,
            None,
        )
        .await?;
        assert!(status < 500, "{path}: {status} {body}");
    }
    Ok(())
}

both_dbs!(
    a_planted_deep_document_cannot_take_the_server_down,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let doc = app
            .create_doc(&owner, "Planterad", Some("Första stycket om skolan."))
            .await?;
        {
            let client = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
            let anchor = client.anchor_for("skolan")?;
            open_thread(&app, &owner, &doc, anchor, "Förankrat", None).await?;
        }
        // 25,000 elements, each the only child of the one before (530 KB from a browser;
        // 150 KB here): what an editor could store before the bound, and what crashed
        // every report on it afterwards.
        let deep = hostile::nested_elements(777, 0, "default", 25_000, "blockquote");
        let db = app.stop().await?;
        let app = TestApp::spawn_on(db, |_| {}).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        plant_update(&app, &doc, &deep).await?;

        let mut editor = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        // With no origin, the planted tree is the first block.
        assert_eq!(editor.paragraphs().len(), 2, "{:?}", editor.paragraphs());
        read_everything(&app, &owner, &doc).await?;

        // Editing it is refused with a reason (yrs would delete the tree recursively),
        // and the server goes on serving it.
        editor.append_paragraph("Efter").await?;
        let (code, reason) = editor.expect_close().await?;
        assert_eq!(code, 4400, "{reason}");
        assert!(reason.contains("read-only"), "{reason}");
        let watcher = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        assert_eq!(watcher.paragraphs().len(), 2);

        // And after a restart.
        let db = app.stop().await?;
        let app = TestApp::spawn_on(db, |_| {}).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        read_everything(&app, &owner, &doc).await?;
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    elements_nested_past_the_bound_close_the_sender_and_are_not_stored,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let doc = app.create_doc(&owner, "Djup", Some("Början")).await?;
        let mut watcher = WsClient::connect(&app.ws_url(&doc, &owner)).await?;

        // 25,000 levels in one update.
        let mut hostile = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        let deep = hostile::nested_elements(5151, 0, "default", 25_000, "blockquote");
        hostile.send_message(update_frame(deep)).await?;
        let (code, reason) = hostile.expect_close().await?;
        assert_eq!(code, 4400, "{reason}");
        assert!(reason.contains("nest deeper"), "{reason}");

        // 100 levels are accepted; 40 more hung under the deepest of them are not, since
        // the depth of the element they hang under counts.
        let mut editor = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        let hundred = hostile::nested_elements(5252, 0, "default", 100, "blockquote");
        editor.send_message(update_frame(hundred)).await?;
        watcher.wait_for(|c| c.paragraphs().len() == 2).await?;
        let under = hostile::nested_elements_under(5353, 0, (5252, 99), 40, "blockquote");
        editor.send_message(update_frame(under)).await?;
        let (code, reason) = editor.expect_close().await?;
        assert_eq!(code, 4400, "{reason}");

        // Nothing refused was stored: a restart serves the two blocks and the 100 levels.
        let db = app.stop().await?;
        let app = TestApp::spawn_on(db, |_| {}).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let fresh = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        assert_eq!(fresh.paragraphs().len(), 2);
        assert!(!nesting::tree_too_deep(&fresh.doc));
        let mut watcher = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        let mut writer = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        writer.append_paragraph("Efter").await?;
        watcher.wait_for(|c| c.paragraphs().len() == 3).await?;
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    deeply_nested_json_bodies_and_presence_are_refused,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let doc = app.create_doc(&owner, "Djup", Some("Början")).await?;
        // serde_json stops at 128 levels: a 100,000-deep request body is a 4xx.
        let body = format!(
            "{{\"title\": {}1{}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let response = app
            .http
            .post(app.url("/api/documents"))
            .bearer_auth(&owner)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;
        assert!(response.status().is_client_error(), "{}", response.status());
        // Presence is checked before it is relayed (valid JSON, at most 16 KiB, parsed
        // with serde_json's depth limit): deep presence closes its sender with 4400, small
        // or large, and nobody else receives it.
        let mut watcher = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        for depth in [5_000, 50_000] {
            let mut sender = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
            let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            sender.set_presence(1, &deep).await?;
            let (code, reason) = sender.expect_close().await?;
            assert_eq!(code, 4400, "{depth} levels: {reason}");
        }
        watcher
            .set_presence(1, r#"{"user":{"name":"Anna"}}"#)
            .await?;
        watcher
            .wait_for(|c| c.presence.values().any(|p| p.contains("Anna")))
            .await?;
        assert!(
            watcher.presence.values().all(|p| !p.starts_with("[[")),
            "deep presence was relayed"
        );
        let (status, _) = app.get_text(&owner, "/healthz").await?;
        assert_eq!(status, 200);
        Ok::<_, anyhow::Error>(())
    }
);
