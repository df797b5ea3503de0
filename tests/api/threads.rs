//! Comment threads: anchors made by npm yjs resolve on the server, the thread lifecycle,
//! live events, and change proposals.

use std::path::PathBuf;
use std::process::Stdio;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::both_dbs;
use crate::helpers::*;

const DRAFT: &str = "# Trygghetsprogram\n\n\
Förebyggande arbete i skolan är viktigt.\n\n\
Programmet gäller 2020–2023 och ska följas upp årligen.\n";

/// An anchor made by the npm `yjs` package under Node, from a live WebsocketProvider.
pub(crate) async fn node_anchor(
    app: &TestApp,
    doc: &str,
    token: &str,
    word: &str,
) -> Result<Value> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node");
    let output = tokio::process::Command::new("node")
        .current_dir(&dir)
        .arg("anchor.mjs")
        .args([
            "--url",
            &format!("ws://{}/ws", app.addr),
            "--doc",
            doc,
            "--token",
            token,
            "--find",
            word,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(WAIT, output)
        .await
        .context("node timed out")??;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let result: Value = serde_json::from_str(stdout.lines().last().context("no output")?)?;
    if result["ok"] != true {
        bail!(
            "anchor.mjs: {result} {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(result)
}

both_dbs!(
    anchors_made_by_npm_yjs_resolve_and_follow_the_text,
    |backend| async move {
        let Draft { app, owner, doc } = Draft::new(
            backend,
            "Ankare",
            DRAFT,
            &[("utbildningsforvaltningen", "commenter")],
        )
        .await?;
        let sara = app.token("sara", "utbildningsforvaltningen");

        let made = node_anchor(&app, &doc, &sara, "skolan").await?;
        assert_eq!(made["paragraph"], 1);
        assert_eq!(made["index"], 22, "UTF-16 index of 'skolan' after å/ä/ö");
        let anchor = json!({ "start": made["start"], "end": made["end"] });
        let thread = open_thread(
            &app,
            &sara,
            &doc,
            anchor,
            "Skolan nämns men inte förskolan.",
            Some("andringsforslag"),
        )
        .await?;
        assert_eq!(thread["anchor"]["quote"], "skolan");
        assert_eq!(thread["anchor"]["paragraph"], 1);
        assert_eq!(thread["anchor"]["state"], "attached");
        assert_eq!(thread["stance"], "andringsforslag");
        assert_eq!(
            thread["comments"][0]["body"],
            "Skolan nämns men inte förskolan."
        );
        assert_eq!(thread["comments"][0]["author"], "sara");

        // Text typed before the range moves it; text typed inside changes the quote.
        let mut editor = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        editor
            .edit(|txn, frag| {
                use yrs::{Text, XmlFragment};
                if let Some(yrs::XmlOut::Element(p)) = frag.get(txn, 1)
                    && let Some(yrs::XmlOut::Text(t)) = p.get(txn, 0)
                {
                    t.insert(txn, 0, "Det ");
                    t.insert(txn, 4 + 22 + 3, "-ÅLDERN");
                }
            })
            .await?;
        let mut check = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        check
            .wait_for(|c| c.paragraphs().get(1).is_some_and(|p| p.contains("ÅLDERN")))
            .await?;
        let (_, threads) = call(
            &app,
            reqwest::Method::GET,
            &format!("/api/documents/{doc}/threads"),
            &sara,
            None,
        )
        .await?;
        let listed = &threads[0];
        assert_eq!(listed["anchor"]["quote"], "sko-ÅLDERNlan");
        assert_eq!(listed["anchor"]["originalQuote"], "skolan");
        assert_eq!(listed["anchor"]["state"], "changed");
        assert_eq!(listed["status"], "open");

        // Deleting the whole passage orphans the thread; it is not lost.
        editor
            .edit(|txn, frag| {
                use yrs::XmlFragment;
                frag.remove_range(txn, 1, 1);
            })
            .await?;
        check.wait_for(|c| c.paragraphs().len() == 2).await?;
        let (_, threads) = call(
            &app,
            reqwest::Method::GET,
            &format!("/api/documents/{doc}/threads"),
            &sara,
            None,
        )
        .await?;
        assert_eq!(threads.as_array().map(Vec::len), Some(1));
        assert_eq!(threads[0]["anchor"]["state"], "orphaned");
        assert_eq!(threads[0]["anchor"]["originalQuote"], "skolan");

        // Its author moves it to new text.
        let moved = check.anchor_for("årligen")?;
        let (status, thread) = call(
            &app,
            reqwest::Method::PUT,
            &format!(
                "/api/documents/{doc}/threads/{}/anchor",
                threads[0]["id"].as_str().unwrap_or("")
            ),
            &sara,
            Some(json!({ "anchor": moved })),
        )
        .await?;
        assert_eq!(status, 200, "{thread}");
        assert_eq!(thread["anchor"]["quote"], "årligen");
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    a_thread_is_answered_and_resolved_with_an_outcome,
    |backend| async move {
        let Draft { app, owner, doc } = Draft::new(
            backend,
            "Livscykel",
            DRAFT,
            &[
                ("arbetsmarknadsforvaltningen", "commenter"),
                ("kulturforvaltningen", "viewer"),
            ],
        )
        .await?;
        let leila = app.token("leila", "arbetsmarknadsforvaltningen");
        let viewer = app.token("ingrid", "kulturforvaltningen");
        let reader = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        let anchor = reader.anchor_for("2020–2023")?;

        let (status, _) = call(
            &app,
            reqwest::Method::POST,
            &format!("/api/documents/{doc}/threads"),
            &viewer,
            Some(json!({ "anchor": anchor, "body": "Läsare får inte" })),
        )
        .await?;
        assert_eq!(status, 403);
        let (status, _) = call(
            &app,
            reqwest::Method::POST,
            &format!("/api/documents/{doc}/threads"),
            &leila,
            Some(json!({ "anchor": anchor, "body": "ok", "stance": "kanske" })),
        )
        .await?;
        assert_eq!(status, 422);
        let (status, _) = call(
            &app,
            reqwest::Method::POST,
            &format!("/api/documents/{doc}/threads"),
            &leila,
            Some(json!({ "anchor": { "start": "inte base64!", "end": "AAAA" }, "body": "x" })),
        )
        .await?;
        assert_eq!(status, 422);

        let thread = open_thread(
            &app,
            &leila,
            &doc,
            anchor,
            "Giltighetstiden bör ses över.",
            Some("avstyrker"),
        )
        .await?;
        let id = thread["id"].as_str().context("id")?.to_owned();
        let base = format!("/api/documents/{doc}/threads/{id}");

        // The owner answers; the author edits, then deletes, its own comment.
        let (status, answered) = call(
            &app,
            reqwest::Method::POST,
            &format!("{base}/comments"),
            &owner,
            Some(json!({ "body": "Vi förlänger till 2026." })),
        )
        .await?;
        assert_eq!(status, 201);
        assert_eq!(answered["comments"].as_array().map(Vec::len), Some(2));
        let first = answered["comments"][0]["id"]
            .as_str()
            .context("comment id")?
            .to_owned();
        let (status, _) = call(
            &app,
            reqwest::Method::PATCH,
            &format!("{base}/comments/{first}"),
            &owner,
            Some(json!({ "body": "kapat" })),
        )
        .await?;
        assert_eq!(status, 403, "only its author may edit a comment");
        let (status, edited) = call(
            &app,
            reqwest::Method::PATCH,
            &format!("{base}/comments/{first}"),
            &leila,
            Some(json!({ "body": "Giltighetstiden bör revideras." })),
        )
        .await?;
        assert_eq!(status, 200);
        assert_eq!(
            edited["comments"][0]["body"],
            "Giltighetstiden bör revideras."
        );
        assert!(edited["comments"][0]["editedAt"].is_i64());

        // Only owners resolve; the outcome and motivation are recorded.
        let resolve = json!({ "outcome": "delvis_beaktad", "motivation": "Perioden förlängs, men uppföljningen är kvar." });
        let (status, _) = call(
            &app,
            reqwest::Method::POST,
            &format!("{base}/resolve"),
            &leila,
            Some(resolve.clone()),
        )
        .await?;
        assert_eq!(status, 403);
        let (status, resolved) = call(
            &app,
            reqwest::Method::POST,
            &format!("{base}/resolve"),
            &owner,
            Some(resolve),
        )
        .await?;
        assert_eq!(status, 200, "{resolved}");
        assert_eq!(resolved["status"], "resolved");
        assert_eq!(resolved["resolution"]["outcome"], "delvis_beaktad");
        assert_eq!(resolved["resolution"]["resolvedBy"], "maria");

        // Filters.
        let list = |query: &'static str| {
            let (app, doc, token) = (&app, doc.clone(), leila.clone());
            async move {
                call(
                    app,
                    reqwest::Method::GET,
                    &format!("/api/documents/{doc}/threads{query}"),
                    &token,
                    None,
                )
                .await
            }
        };
        assert_eq!(
            list("?status=resolved").await?.1.as_array().map(Vec::len),
            Some(1)
        );
        assert_eq!(
            list("?status=open").await?.1.as_array().map(Vec::len),
            Some(0)
        );
        assert_eq!(
            list("?org=arbetsmarknadsforvaltningen&stance=avstyrker&paragraph=2")
                .await?
                .1
                .as_array()
                .map(Vec::len),
            Some(1)
        );
        assert_eq!(
            list("?paragraph=1").await?.1.as_array().map(Vec::len),
            Some(0)
        );
        assert_eq!(list("?status=nonsense").await?.0, 400);

        let (status, reopened) = call(
            &app,
            reqwest::Method::POST,
            &format!("{base}/reopen"),
            &owner,
            None,
        )
        .await?;
        assert_eq!(status, 200);
        assert_eq!(reopened["status"], "open");
        assert!(reopened["resolution"].is_null());

        // What was decided on stays as it was, even after reopening.
        let (status, refused) = call(
            &app,
            reqwest::Method::DELETE,
            &format!("{base}/comments/{first}"),
            &leila,
            None,
        )
        .await?;
        assert_eq!(
            (status, refused["error"].as_str()),
            (409, Some("thread_resolved")),
            "{refused}"
        );
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    thread_changes_reach_open_clients_live,
    |backend| async move {
        let Draft { app, owner, doc } = Draft::new(
            backend,
            "Live",
            DRAFT,
            &[("utbildningsforvaltningen", "commenter")],
        )
        .await?;
        let sara = app.token("sara", "utbildningsforvaltningen");
        let mut watcher = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        watcher.subscribe_events().await?;
        let mut stock = WsClient::connect(&app.ws_url(&doc, &owner)).await?;

        let anchor = watcher.anchor_for("viktigt")?;
        let thread =
            open_thread(&app, &sara, &doc, anchor, "Instämmer.", Some("tillstyrker")).await?;
        watcher.wait_for(|c| !c.events.is_empty()).await?;
        assert_eq!(watcher.events[0]["type"], "thread");
        assert_eq!(watcher.events[0]["thread"]["id"], thread["id"]);
        assert_eq!(watcher.events[0]["thread"]["anchor"]["quote"], "viktigt");

        let id = thread["id"].as_str().context("id")?;
        call(
            &app,
            reqwest::Method::POST,
            &format!("/api/documents/{doc}/threads/{id}/comments"),
            &owner,
            Some(json!({ "body": "Tack!" })),
        )
        .await?;
        watcher.wait_for(|c| c.events.len() == 2).await?;
        assert_eq!(watcher.events[1]["thread"]["comments"][1]["body"], "Tack!");

        // A stock client that never subscribed gets no unknown message types, and still syncs.
        stock.append_paragraph("Vanlig klient").await?;
        watcher
            .wait_for(|c| c.paragraphs().iter().any(|p| p == "Vanlig klient"))
            .await?;
        assert!(stock.events.is_empty());
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    an_accepted_proposal_changes_the_text_for_everyone,
    |backend| async move {
        let Draft { app, owner, doc } = Draft::new(
            backend,
            "Förslag",
            DRAFT,
            &[("arbetsmarknadsforvaltningen", "commenter")],
        )
        .await?;
        let leila = app.token("leila", "arbetsmarknadsforvaltningen");
        let mut watcher = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        watcher.subscribe_events().await?;

        let proposal = |word: &str, text: &str| json!({ "anchor": watcher.anchor_for(word).ok(), "body": "Förslag", "proposal": text });
        let accepted_request = proposal("2020–2023", "2020–2026");
        let rejected_request = proposal("årligen", "vartannat år");
        let path = format!("/api/documents/{doc}/threads");
        let (_, accepted) = call(
            &app,
            reqwest::Method::POST,
            &path,
            &leila,
            Some(accepted_request),
        )
        .await?;
        let (_, rejected) = call(
            &app,
            reqwest::Method::POST,
            &path,
            &leila,
            Some(rejected_request),
        )
        .await?;
        assert_eq!(accepted["stance"], "andringsforslag");
        assert_eq!(accepted["proposal"], "2020–2026");

        let accept = format!(
            "{path}/{}/proposal/accept",
            accepted["id"].as_str().unwrap_or("")
        );
        let (status, _) = call(
            &app,
            reqwest::Method::POST,
            &accept,
            &leila,
            Some(json!({})),
        )
        .await?;
        assert_eq!(status, 403, "only owners decide");
        let (status, done) = call(
            &app,
            reqwest::Method::POST,
            &accept,
            &owner,
            Some(json!({ "motivation": "Vi förlänger." })),
        )
        .await?;
        assert_eq!(status, 200, "{done}");
        assert_eq!(done["status"], "resolved");
        assert_eq!(done["resolution"]["outcome"], "beaktad");
        assert_eq!(done["anchor"]["quote"], "2020–2026");
        // Every client got the new text, before the event that says the thread is resolved.
        watcher
            .wait_for(|c| c.events.iter().any(|e| e["thread"]["status"] == "resolved"))
            .await?;
        assert!(
            watcher.paragraphs()[2].contains("gäller 2020–2026 och"),
            "{:?}",
            watcher.paragraphs()
        );
        let (_, markdown) = app
            .get_text(&owner, &format!("/api/documents/{doc}/markdown"))
            .await?;
        assert!(
            markdown.contains("2020–2026") && !markdown.contains("2020–2023"),
            "{markdown}"
        );
        let (status, _) = call(
            &app,
            reqwest::Method::POST,
            &accept,
            &owner,
            Some(json!({})),
        )
        .await?;
        assert_eq!(status, 409, "already decided");

        let reject = format!(
            "{path}/{}/proposal/reject",
            rejected["id"].as_str().unwrap_or("")
        );
        let (status, done) = call(
            &app,
            reqwest::Method::POST,
            &reject,
            &owner,
            Some(json!({ "motivation": "Årlig uppföljning behövs." })),
        )
        .await?;
        assert_eq!(status, 200);
        assert_eq!(done["resolution"]["outcome"], "ej_beaktad");
        assert_eq!(done["anchor"]["quote"], "årligen");
        Ok::<_, anyhow::Error>(())
    }
);
