//! Nothing a client saw is lost: across a graceful restart and across SIGKILL.

use anyhow::Context;

use crate::both_dbs;
use crate::helpers::*;

both_dbs!(
    a_restarted_server_serves_the_same_content,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let doc = app
            .create_doc(
                &owner,
                "Omstart",
                Some("# Trygghetsprogram\n\nFörsta stycket."),
            )
            .await?;
        let mut client = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        client
            .append_paragraph("Skrivet före omstarten, med å, ä och ö.")
            .await?;
        let mut other = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        other.wait_for(|c| c.paragraphs().len() == 3).await?;
        let before = other.paragraphs();
        // Graceful shutdown closes the sockets with 1012 so clients come back.
        let db = app.stop().await?;
        assert_eq!(client.expect_close().await?.0, 1012);

        let app = TestApp::spawn_on(db, |_| {}).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let again = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        assert_eq!(again.paragraphs(), before);
        assert_eq!(before[2], "Skrivet före omstarten, med å, ä och ö.");
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    sigkill_right_after_300_updates_loses_none_of_them,
    |backend| async move {
        let db = TestDb::fresh(backend).await?;
        let secret = "test-secret-for-sigkill";
        let server = ProcessServer::start(&db.url, secret, &[]).await?;
        let token = forankra_testkit::token::hs256(
            secret,
            "anna",
            "Anna",
            "stadsledningskontoret",
            std::time::Duration::from_secs(600),
        )?;
        let http = reqwest::Client::new();
        let created: serde_json::Value = http
            .post(server.url("/api/documents"))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "title": "SIGKILL" }))
            .send()
            .await?
            .json()
            .await?;
        let doc = created["id"].as_str().context("id")?.to_owned();

        let mut writer = WsClient::connect(&server.ws_url(&doc, &token)).await?;
        let mut watcher = WsClient::connect(&server.ws_url(&doc, &token)).await?;
        for i in 0..300 {
            writer.append_paragraph(&format!("Uppdatering {i}")).await?;
        }
        // The watcher has seen every update relayed: each was durable before the relay.
        watcher.wait_for(|c| c.paragraphs().len() == 300).await?;
        let seen = watcher.paragraphs();
        server.kill().await?;

        let server = ProcessServer::start(&db.url, secret, &[]).await?;
        let after = WsClient::connect(&server.ws_url(&doc, &token)).await?;
        assert_eq!(after.paragraphs().len(), 300);
        let mut expected = seen.clone();
        expected.sort();
        let mut got = after.paragraphs();
        got.sort();
        assert_eq!(got, expected);
        assert_eq!(after.state_vector(), watcher.state_vector());
        server.kill().await?;
        Ok::<_, anyhow::Error>(())
    }
);
