//! Presence (awareness) from hostile clients: one frame packed with messages, states
//! that are not JSON, entries that belong to someone else (issue 13, findings 7 and 8).

use std::collections::HashMap;
use std::process::Stdio;

use anyhow::Context;
use yrs::sync::awareness::AwarenessUpdateEntry;
use yrs::sync::{AwarenessUpdate, Message};
use yrs::updates::encoder::Encode;

use crate::both_dbs;
use crate::helpers::*;
use crate::interop::{node_dir, node_result};

/// An awareness message setting `client`'s state to `json` at `clock`.
fn awareness(client: u64, clock: u32, json: &str) -> Message {
    let mut clients = HashMap::new();
    clients.insert(
        yrs::ClientID::new(client),
        AwarenessUpdateEntry {
            clock,
            json: json.into(),
        },
    );
    Message::Awareness(AwarenessUpdate { clients })
}

both_dbs!(
    one_frame_of_100000_presence_messages_closes_only_its_sender,
    |backend| async move {
        let draft = Draft::new(
            backend,
            "Närvaroflod",
            "Första stycket.",
            &[
                ("kulturforvaltningen", "viewer"),
                ("socialforvaltningen", "editor"),
            ],
        )
        .await?;
        let app = &draft.app;
        let viewer_token = app.token("lars", "kulturforvaltningen");
        let editor_token = app.token("helena", "socialforvaltningen");
        let mut flooder = WsClient::connect(&app.ws_url(&draft.doc, &viewer_token)).await?;
        let mut editor = WsClient::connect(&app.ws_url(&draft.doc, &editor_token)).await?;
        let mut reader = WsClient::connect(&app.ws_url(&draft.doc, &viewer_token)).await?;
        let mut owner = WsClient::connect(&app.ws_url(&draft.doc, &draft.owner)).await?;

        let client = flooder.doc.client_id().get();
        let mut frame = Vec::new();
        for clock in 1..=100_000 {
            frame.extend(
                awareness(
                    client,
                    clock,
                    r##"{"user":{"name":"Lars","color":"#a70"}}"##,
                )
                .encode_v1(),
            );
        }
        assert!(frame.len() > 4_500_000, "{} bytes", frame.len());
        flooder.send_raw(frame).await?;
        let (code, reason) = flooder.expect_close().await?;
        assert_eq!(code, 1008, "{reason}");

        // Everyone else stays connected and keeps receiving edits.
        owner.append_paragraph("Efter floden").await?;
        for client in [&mut editor, &mut reader] {
            client
                .wait_for(|c| c.paragraphs().iter().any(|p| p == "Efter floden"))
                .await?;
        }
        editor.append_paragraph("Redaktören svarar").await?;
        for client in [&mut owner, &mut reader] {
            client
                .wait_for(|c| c.paragraphs().iter().any(|p| p == "Redaktören svarar"))
                .await?;
        }
        assert_eq!(
            app.metric("forankra_slow_clients_disconnected_total")
                .await?,
            0.0
        );
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    one_connection_cannot_overwrite_or_erase_anothers_presence,
    |backend| async move {
        let draft = Draft::new(
            backend,
            "Närvaro",
            "Första stycket.",
            &[("kulturforvaltningen", "viewer")],
        )
        .await?;
        let app = &draft.app;
        let mallory_token = app.token("mallory", "kulturforvaltningen");
        let mut anna = WsClient::connect(&app.ws_url(&draft.doc, &draft.owner)).await?;
        let mut mallory = WsClient::connect(&app.ws_url(&draft.doc, &mallory_token)).await?;
        let mut watcher = WsClient::connect(&app.ws_url(&draft.doc, &draft.owner)).await?;

        let anna_id = anna.doc.client_id().get();
        let anna_state = r#"{"user":{"name":"Anna"}}"#;
        anna.set_presence(1, anna_state).await?;
        watcher
            .wait_for(|c| c.presence.get(&anna_id).map(String::as_str) == Some(anna_state))
            .await?;

        // Mallory rewrites Anna's entry, then erases it, then announces herself; the
        // room handles one connection's messages in order, so once her own entry is
        // seen the first two have been dealt with.
        mallory
            .send_message(awareness(anna_id, 50, r#"{"user":{"name":"Mallory"}}"#))
            .await?;
        mallory.send_message(awareness(anna_id, 51, "null")).await?;
        let mallory_id = mallory.doc.client_id().get();
        mallory
            .set_presence(1, r#"{"user":{"name":"Mallory"}}"#)
            .await?;
        watcher
            .wait_for(|c| c.presence.contains_key(&mallory_id))
            .await?;
        assert_eq!(
            watcher.presence.get(&anna_id).map(String::as_str),
            Some(anna_state)
        );

        // When Mallory leaves, only her own entry goes.
        mallory.close().await?;
        watcher
            .wait_for(|c| !c.presence.contains_key(&mallory_id))
            .await?;
        assert_eq!(
            watcher.presence.get(&anna_id).map(String::as_str),
            Some(anna_state)
        );
        // Anna can still renew her own.
        anna.set_presence(2, r#"{"user":{"name":"Anna Å"}}"#)
            .await?;
        watcher
            .wait_for(|c| {
                c.presence.get(&anna_id).map(String::as_str)
                    == Some(r#"{"user":{"name":"Anna Å"}}"#)
            })
            .await?;
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    presence_that_is_not_json_is_refused_and_a_stock_client_lives_on,
    |backend| async move {
        let draft = Draft::new(
            backend,
            "Ogiltig närvaro",
            "Första stycket.",
            &[("kulturforvaltningen", "viewer")],
        )
        .await?;
        let app = &draft.app;
        let dir = node_dir()?;
        let mut owner = WsClient::connect(&app.ws_url(&draft.doc, &draft.owner)).await?;
        let node = tokio::process::Command::new("node")
            .current_dir(&dir)
            .arg("interop.mjs")
            .args([
                "--url",
                &format!("ws://{}/ws", app.addr),
                "--doc",
                &draft.doc,
            ])
            .args(["--token", &app.token("karin", "kulturforvaltningen")])
            .args(["--expect", "Efter ogiltig närvaro"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting node")?;
        // The Node client is in the room once its presence is relayed.
        owner
            .wait_for(|c| c.presence.values().any(|s| s.contains("Node")))
            .await?;

        let mut attacker =
            WsClient::connect(&app.ws_url(&draft.doc, &app.token("lars", "kulturforvaltningen")))
                .await?;
        let id = attacker.doc.client_id().get();
        attacker
            .send_message(awareness(id, 1, "{\"user\": nope"))
            .await?;
        let (code, reason) = attacker.expect_close().await?;
        assert_eq!(code, 4400, "{reason}");
        assert!(!owner.presence.contains_key(&id));

        owner.append_paragraph("Efter ogiltig närvaro").await?;
        // Alive to the end: it saw the paragraph and exited cleanly.
        let result = node_result(node).await?;
        assert!(
            result["text"]
                .as_str()
                .is_some_and(|t| t.contains("Efter ogiltig närvaro"))
        );
        Ok::<_, anyhow::Error>(())
    }
);
