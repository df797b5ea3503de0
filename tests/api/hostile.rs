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
        // The writer pushes about 1 MB a round to fill the stalled client's outbox; the
        // per-connection byte rate (1 MiB/s by default) would close the writer first.
        let app = TestApp::spawn_with(backend, |c| c.limits.byte_rate = u32::MAX).await?;
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

both_dbs!(
    an_update_whose_parent_is_missing_harms_nothing,
    |backend| async move {
        use yrs::sync::{Message, SyncMessage};
        use yrs::types::xml::XmlOut;
        use yrs::{ReadTxn, Transact, XmlElementPrelim, XmlFragment, XmlTextPrelim};

        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let doc = app
            .create_doc(&owner, "Föräldralös", Some("Början"))
            .await?;
        let url = app.ws_url(&doc, &owner);
        let mut steady = WsClient::connect(&url).await?;
        let mut watcher = WsClient::connect(&url).await?;

        // Made elsewhere: a paragraph, then text inside it. Only the second change is
        // sent at first, so the server gets an item whose parent it has never seen.
        let scratch = new_doc();
        let frag = scratch.get_or_insert_xml_fragment("default");
        let parent = {
            let mut txn = scratch.transact_mut();
            frag.insert(&mut txn, 0, XmlElementPrelim::empty("paragraph"));
            txn.encode_update_v1()
        };
        let before_child = scratch.transact().state_vector();
        {
            let mut txn = scratch.transact_mut();
            let Some(XmlOut::Element(paragraph)) = frag.get(&txn, 0) else {
                anyhow::bail!("no paragraph");
            };
            paragraph.insert(&mut txn, 0, XmlTextPrelim::new("barn"));
        }
        let orphan = scratch.transact().encode_diff_v1(&before_child);
        let mut hostile = WsClient::connect(&url).await?;
        hostile
            .send_message(Message::Sync(SyncMessage::Update(orphan)))
            .await?;

        // The room goes on, and nobody sees a trace of the orphan.
        steady.append_paragraph("Efter").await?;
        watcher.wait_for(|c| c.paragraphs().len() == 2).await?;
        assert_eq!(watcher.paragraphs(), vec!["Början", "Efter"]);
        let fresh = WsClient::connect(&url).await?;
        assert_eq!(fresh.paragraphs(), vec!["Början", "Efter"]);
        let (status, text) = app
            .get_text(&owner, &format!("/api/documents/{doc}/text"))
            .await?;
        assert_eq!(status, 200);
        assert!(!text.contains("barn"), "{text}");

        // When the parent does arrive, every client converges on the same document.
        hostile
            .send_message(Message::Sync(SyncMessage::Update(parent)))
            .await?;
        watcher.wait_for(|c| c.paragraphs().len() == 3).await?;
        steady.wait_for(|c| c.paragraphs().len() == 3).await?;
        let late = WsClient::connect(&url).await?;
        assert_eq!(late.paragraphs(), watcher.paragraphs());
        assert_eq!(steady.paragraphs(), watcher.paragraphs());
        Ok::<_, anyhow::Error>(())
    }
);

/// Markup and SQL an attacker types into any text field.
pub const PAYLOADS: [&str; 3] = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(2)</script>",
    "'); DROP TABLE threads; --",
];

both_dbs!(
    markup_and_sql_in_every_text_field_come_back_verbatim,
    |backend| async move {
        use reqwest::Method;

        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let all = PAYLOADS.join(" ");
        let org = forankra::ids::OrgId::parse("stadsledningskontoret")?;
        app.state.db.upsert_org(&org, &all).await?;
        for payload in PAYLOADS {
            let title = format!("Titel {payload}");
            let markdown =
                format!("Stycke med ordet\n\n{payload}\n\n<div onclick=\"x()\">rå</div>\n");
            let doc = app.create_doc(&owner, &title, Some(&markdown)).await?;
            let base = format!("/api/documents/{doc}");
            let (_, meta) = call(&app, Method::GET, &base, &owner, None).await?;
            assert_eq!(meta["title"], title);
            let (_, text) = app.get_text(&owner, &format!("{base}/text")).await?;
            assert!(
                text.contains(payload),
                "imported text keeps {payload}: {text}"
            );

            let client = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
            let anchor = client.anchor_for("ordet")?;
            let (status, thread) = call(
                &app,
                Method::POST,
                &format!("{base}/threads"),
                &owner,
                Some(serde_json::json!({"anchor": anchor, "body": payload})),
            )
            .await?;
            assert_eq!(status, 201, "{thread}");
            let threads = format!(
                "{base}/threads/{}",
                thread["id"].as_str().unwrap_or_default()
            );
            let reply = serde_json::json!({"body": payload});
            let (status, replied) = call(
                &app,
                Method::POST,
                &format!("{threads}/comments"),
                &owner,
                Some(reply),
            )
            .await?;
            assert_eq!(status, 201, "{replied}");
            assert_eq!(replied["comments"][1]["body"], payload);
            let resolve = serde_json::json!({"outcome": "noterad", "motivation": payload});
            let (status, resolved) = call(
                &app,
                Method::POST,
                &format!("{threads}/resolve"),
                &owner,
                Some(resolve),
            )
            .await?;
            assert_eq!(status, 200, "{resolved}");

            let (status, listed) =
                call(&app, Method::GET, &format!("{base}/threads"), &owner, None).await?;
            assert_eq!(status, 200, "the threads table is still there: {listed}");
            let listed = &listed[0];
            assert_eq!(listed["comments"][0]["body"], payload);
            assert_eq!(listed["comments"][1]["body"], payload);
            assert_eq!(listed["resolution"]["motivation"], payload);
        }
        let (_, orgs) = call(&app, Method::GET, "/api/organisations", &owner, None).await?;
        let names: Vec<&str> = orgs
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o["name"].as_str())
            .collect();
        assert!(names.contains(&all.as_str()), "{orgs}");
        let (_, me) = call(&app, Method::GET, "/api/me", &owner, None).await?;
        assert_eq!(me["orgName"], all);
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(ten_thousand_connections_come_and_go, |backend| async move {
    const TOTAL: usize = 10_000;
    const AT_ONCE: usize = 100;
    let app =
        TestApp::spawn_with(backend, |c| c.limits.connections_per_ip = 2 * TOTAL as u32).await?;
    let owner = app.token("anna", "stadsledningskontoret");
    let doc = app.create_doc(&owner, "Genomfart", Some("Kvar")).await?;
    let url = app.ws_url(&doc, &owner);
    let mut steady = WsClient::connect(&url).await?;
    for _ in 0..TOTAL / AT_ONCE {
        let mut wave = tokio::task::JoinSet::new();
        for i in 0..AT_ONCE {
            let url = url.clone();
            wave.spawn(async move {
                // Every tenth one syncs first; all vanish without a close frame.
                if i % 10 == 0 {
                    WsClient::connect(&url).await.map(drop)
                } else {
                    WsClient::connect_unsynced(&url).await.map(drop)
                }
            });
        }
        while let Some(joined) = wave.join_next().await {
            joined??;
        }
    }
    tokio::time::timeout(WAIT, async {
        while app.metric("forankra_connections").await? > 1.0 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        Ok::<_, anyhow::Error>(())
    })
    .await??;
    assert_eq!(app.state.limits.connections.open([127, 0, 0, 1].into()), 1);
    steady.append_paragraph("Fortfarande här").await?;
    let mut fresh = WsClient::connect(&url).await?;
    fresh.wait_for(|c| c.paragraphs().len() == 2).await?;
    assert_eq!(fresh.paragraphs(), vec!["Kvar", "Fortfarande här"]);
    Ok::<_, anyhow::Error>(())
});
