//! Bad input gets a clear refusal and harms nothing else.

use serde_json::json;

use crate::both_dbs;
use crate::helpers::*;

both_dbs!(
    malformed_and_oversized_frames_leave_the_room_working,
    |backend| async move {
        let app = TestApp::spawn_with(backend, |c| c.max_message_bytes = 64 * 1024).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let doc = app
            .create_doc(&owner, "Tålig", Some("Första stycket"))
            .await?;
        let mut steady = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        let mut watcher = WsClient::connect(&app.ws_url(&doc, &owner)).await?;

        let valid = {
            let mut scratch = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
            let update = scratch.append_paragraph("giltig").await?;
            watcher.wait_for(|c| c.paragraphs().len() == 2).await?;
            yrs::sync::Message::Sync(yrs::sync::SyncMessage::Update(update))
        };
        let valid = yrs::updates::encoder::Encode::encode_v1(&valid);
        let cases: Vec<(&str, Vec<u8>, u16)> = vec![
            ("truncated", valid[..valid.len() - 4].to_vec(), 4400),
            (
                "update that does not decode",
                vec![0, 2, 4, 0xff, 0xfe, 0xfd, 0xfc],
                4400,
            ),
            ("unknown sync type", vec![0, 7, 0], 4400),
            ("empty", vec![], 4400),
            (
                "state vector that does not decode",
                vec![0, 0, 3, 0xff, 0xff, 0xff],
                4400,
            ),
            ("oversized", vec![0; 100 * 1024], 4413),
        ];
        for (name, frame, expected) in cases {
            let mut hostile = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
            hostile.send_raw(frame).await?;
            let (code, reason) = hostile.expect_close().await?;
            assert_eq!(code, expected, "{name}: {reason}");
            assert!(!reason.is_empty(), "{name} gets a reason");
        }
        let mut texter = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        texter.send_text("hej").await?;
        assert_eq!(texter.expect_close().await?.0, 4400);

        // The room still works for everyone else, and nothing stored was harmed.
        steady.wait_for(|c| c.paragraphs().len() == 2).await?;
        steady.append_paragraph("Efter attackerna").await?;
        watcher.wait_for(|c| c.paragraphs().len() == 3).await?;
        assert_eq!(
            watcher.paragraphs(),
            vec!["Första stycket", "giltig", "Efter attackerna"]
        );
        let (_, text) = app
            .get_text(&owner, &format!("/api/documents/{doc}/text"))
            .await?;
        assert!(text.contains("Efter attackerna"), "{text}");
        assert!(app.metric("forankra_malformed_messages_total").await? >= 7.0);
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    unknown_documents_and_outsiders_are_refused_with_their_codes,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let doc = app
            .create_doc(&owner, "Privat", Some("Inte för alla"))
            .await?;
        let outsider = app.token("okand", "kulturforvaltningen");
        for (url, expected) in [
            (app.ws_url("finns-inte", &owner), 4404),
            (app.ws_url("..%2F..%2Fetc", &owner), 4404),
            (app.ws_url(&doc, &outsider), 4403),
        ] {
            let mut client = WsClient::connect_unsynced(&url).await?;
            let (code, reason) = client.expect_close().await?;
            assert_eq!(code, expected, "{url}: {reason}");
            assert!(client.paragraphs().is_empty());
        }
        let (status, _) = app
            .get_text(&outsider, &format!("/api/documents/{doc}/markdown"))
            .await?;
        assert_eq!(status, 403);
        let (status, body) = app.get_text(&owner, "/api/documents/finns-inte").await?;
        assert_eq!(status, 404);
        assert!(body.contains(r#""error":"not_found""#));
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    bad_json_gets_a_json_error_and_markup_is_kept_verbatim,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let url = app.url("/api/documents");
        let broken = app
            .http
            .post(&url)
            .bearer_auth(&owner)
            .header("content-type", "application/json")
            .body("{\"title\": ")
            .send()
            .await?;
        assert_eq!(broken.status(), 400);
        let body: serde_json::Value = broken.json().await?;
        assert_eq!(body["error"], "bad_request");
        let empty = app
            .http
            .post(&url)
            .bearer_auth(&owner)
            .json(&json!({"title": "   "}))
            .send()
            .await?;
        assert_eq!(empty.status(), 422);

        let title = "<script>alert(1)</script>'; DROP TABLE documents; --";
        let doc = app
            .create_doc(
                &owner,
                title,
                Some("<img src=x onerror=alert(1)> och **fet** text"),
            )
            .await?;
        let (_, meta) = app
            .get_text(&owner, &format!("/api/documents/{doc}"))
            .await?;
        let meta: serde_json::Value = serde_json::from_str(&meta)?;
        assert_eq!(meta["title"], title);
        let (_, html) = app
            .get_text(&owner, &format!("/api/documents/{doc}/html"))
            .await?;
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;img"), "{html}");
        let (status, _) = app.get_text(&owner, "/api/documents").await?;
        assert_eq!(status, 200);
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    a_client_that_never_reads_is_disconnected_and_the_room_goes_on,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let doc = app.create_doc(&owner, "Långsam läsare", None).await?;
        // A socket with a tiny receive buffer that is never read from.
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.set_recv_buffer_size(4096)?;
        let stream = socket.connect(app.addr).await?;
        let (mut stalled, _) =
            tokio_tungstenite::client_async(app.ws_url(&doc, &owner), stream).await?;

        let mut writer = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        let mut reader = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        let block = "trygghet ".repeat(2000);
        let mut sent = 0;
        while app
            .metric("forankra_slow_clients_disconnected_total")
            .await?
            < 1.0
        {
            for _ in 0..50 {
                writer.append_paragraph(&block).await?;
                sent += 1;
            }
            reader.wait_for(|c| c.paragraphs().len() == sent).await?;
            assert!(sent < 20_000, "the stalled client was never disconnected");
        }
        // Everyone else kept up all along, and the stalled socket was cut off.
        writer.append_paragraph("Sista stycket").await?;
        reader
            .wait_for(|c| c.paragraphs().last().is_some_and(|p| p == "Sista stycket"))
            .await?;
        let ended = tokio::time::timeout(WAIT, async {
            use futures_util::StreamExt;
            while let Some(Ok(_)) = stalled.next().await {}
        })
        .await;
        assert!(ended.is_ok(), "the stalled socket was not closed");
        Ok::<_, anyhow::Error>(())
    }
);
