//! `POST /api/ws-ticket`: a single-use, 30-second ticket opens one WebSocket, so a page
//! need not put its long-lived token in the socket's URL (issue 15).

use anyhow::{Context, Result};
use serde_json::Value;

use crate::both_dbs;
use crate::helpers::{TestApp, WsClient};

async fn ticket(app: &TestApp, token: &str) -> Result<String> {
    let response = app
        .http
        .post(app.url("/api/ws-ticket"))
        .bearer_auth(token)
        .send()
        .await?;
    anyhow::ensure!(response.status() == 200, "{}", response.status());
    let body: Value = response.json().await?;
    assert_eq!(body["expiresIn"], 30);
    Ok(body["ticket"].as_str().context("no ticket")?.to_owned())
}

both_dbs!(a_ticket_opens_one_socket_once, |backend| async move {
    let app = TestApp::spawn(backend).await?;
    let anna = app.token("anna", "stadsledningskontoret");
    let doc = app.create_doc(&anna, "Biljett", Some("Start")).await?;

    let without = app.http.post(app.url("/api/ws-ticket")).send().await?;
    assert_eq!(without.status(), 401);

    let one = ticket(&app, &anna).await?;
    // A ticket is no bearer token: a leaked one never reaches the API.
    let me = app
        .http
        .get(app.url("/api/me"))
        .bearer_auth(&one)
        .send()
        .await?;
    assert_eq!(me.status(), 401);

    let mut client = WsClient::connect(&app.ws_url(&doc, &one)).await?;
    client.append_paragraph("Med biljett").await?;
    let mut replay = WsClient::connect_unsynced(&app.ws_url(&doc, &one)).await?;
    let (code, reason) = replay.expect_close().await?;
    assert_eq!(code, 4401, "{reason}");
    assert!(reason.contains("already used"), "{reason}");

    // Without any credential the socket closes with 4401 too.
    let mut bare = WsClient::connect_unsynced(&format!("ws://{}/ws/{doc}", app.addr)).await?;
    let (code, reason) = bare.expect_close().await?;
    assert_eq!(code, 4401, "{reason}");

    // A fresh ticket opens the next socket, which sees the first one's edit.
    let mut next = WsClient::connect(&app.ws_url(&doc, &ticket(&app, &anna).await?)).await?;
    next.wait_for(|c| c.paragraphs().len() == 2).await?;
    Ok::<_, anyhow::Error>(())
});
