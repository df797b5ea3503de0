//! "Saved" markers (`sync::room::saving`): the answer to a marker means the server holds
//! every update the connection sent before it, so a browser may stop saying its text is
//! kept only locally. The answer survives a SIGKILL right after it; a read-only
//! connection's marker is never answered; a malformed marker closes with 4400.

use anyhow::{Context, Result};
use serde_json::{Value, json};
use yrs::sync::Message;

use crate::both_dbs;
use crate::helpers::*;

const SECRET: &str = "saved-markers-mean-durable";

async fn create_doc(server: &ProcessServer, token: &str) -> Result<String> {
    let created: Value = reqwest::Client::new()
        .post(server.url("/api/documents"))
        .bearer_auth(token)
        .json(&json!({ "title": "Sparat" }))
        .send()
        .await?
        .json()
        .await?;
    Ok(created["id"].as_str().context("id")?.to_owned())
}

/// Sets the client's presence and waits for the server's echo of it.
async fn echo_presence(client: &mut WsClient) -> Result<()> {
    let me = client.doc.client_id().get();
    client
        .set_presence(1, r#"{"user":{"name":"Sparare"}}"#)
        .await?;
    client.wait_for(|c| c.presence.contains_key(&me)).await
}

both_dbs!(
    a_sigkill_right_after_the_answer_loses_nothing_sent_before_the_marker,
    |backend| async move {
        let db = TestDb::fresh(backend).await?;
        let server = ProcessServer::start(&db.url, SECRET, &[]).await?;
        let token = ProcessServer::token(SECRET, "anna", "stadsledningskontoret");
        let doc = create_doc(&server, &token).await?;

        let mut writer = WsClient::connect(&server.ws_url(&doc, &token)).await?;
        for i in 0..200 {
            writer
                .append_paragraph(&format!("Skrivet offline {i}"))
                .await?;
        }
        writer.mark_saved(42).await?;
        writer.wait_for(|c| c.saved.contains(&42)).await?;
        // Nobody else read the updates: only the answer says they are stored.
        server.kill().await?;

        let server = ProcessServer::start(&db.url, SECRET, &[]).await?;
        let after = WsClient::connect(&server.ws_url(&doc, &token)).await?;
        let paragraphs = after.paragraphs();
        assert_eq!(
            paragraphs.len(),
            200,
            "the answer came before the text was stored"
        );
        assert_eq!(paragraphs[199], "Skrivet offline 199");
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    a_viewers_marker_is_not_answered_and_an_editors_is,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let doc = app
            .create_doc(&owner, "Sparat", Some("Första stycket."))
            .await?;
        assert_eq!(
            app.set_role(&owner, &doc, "kulturforvaltningen", "viewer")
                .await?,
            200
        );
        let viewer_token = app.token("vera", "kulturforvaltningen");

        let mut viewer = WsClient::connect(&app.ws_url(&doc, &viewer_token)).await?;
        viewer.append_paragraph("En läsares text").await?;
        viewer.mark_saved(1).await?;
        // The room handles the marker and the presence after it in order (neither takes
        // the priority lane): an answer due at once would arrive before the echo.
        echo_presence(&mut viewer).await?;
        assert!(
            viewer.saved.is_empty(),
            "a dropped update was reported saved"
        );

        let mut editor = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        editor.mark_saved(1).await?;
        echo_presence(&mut editor).await?;
        assert_eq!(editor.saved, vec![1], "nothing unsaved: answered at once");
        editor.append_paragraph("En ägares text").await?;
        editor.mark_saved(2).await?;
        editor.wait_for(|c| c.saved == [1, 2]).await?;
        let reader = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        assert_eq!(reader.paragraphs(), ["Första stycket.", "En ägares text"]);
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    a_marker_that_is_not_one_varuint_closes_with_4400,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let doc = app.create_doc(&owner, "Sparat", Some("Text.")).await?;
        let mut client = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        let mut other = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        // A varuint and a stray byte after it.
        client
            .send_message(Message::Custom(101, vec![0x05, 0x00]))
            .await?;
        let (code, reason) = client.expect_close().await?;
        assert_eq!(code, 4400, "{reason}");
        other.append_paragraph("Still here").await?;
        other.mark_saved(9).await?;
        other.wait_for(|c| c.saved == [9]).await?;
        Ok::<_, anyhow::Error>(())
    }
);
