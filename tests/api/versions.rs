//! Named versions: saved by owners, read back as Markdown, compared paragraph by
//! paragraph with later versions and the live text, and named by threads.

use anyhow::{Result, bail};
use reqwest::Method;
use serde_json::{Value, json};

use crate::both_dbs;
use crate::helpers::*;

const DRAFT: &str = "# Trygghetsprogram\n\n\
Förebyggande arbete i skolan är viktigt.\n\n\
Programmet gäller 2020–2023 och ska följas upp årligen.\n";

async fn save_version(app: &TestApp, token: &str, doc: &str, name: &str) -> Result<Value> {
    let (status, version) = call(
        app,
        Method::POST,
        &format!("/api/documents/{doc}/versions"),
        token,
        Some(json!({ "name": name })),
    )
    .await?;
    if status != 201 {
        bail!("save version: {status} {version}");
    }
    Ok(version)
}

async fn comment_on(app: &TestApp, token: &str, doc: &str, anchor: Value) -> Result<Value> {
    open_thread(app, token, doc, anchor, "Nämn förskolan också.", None).await
}

/// Inserts `words` into the second block's text at UTF-16 offset `at`, and appends a
/// paragraph, in one update from a y-websocket client; returns once the server relays it.
async fn edit_draft(app: &TestApp, token: &str, doc: &str, at: u32, words: &str) -> Result<()> {
    let mut editor = WsClient::connect(&app.ws_url(doc, token)).await?;
    let words = words.to_owned();
    editor
        .edit(move |txn, frag| {
            use yrs::{Text, XmlFragment};
            if let Some(yrs::XmlOut::Element(p)) = frag.get(txn, 1)
                && let Some(yrs::XmlOut::Text(t)) = p.get(txn, 0)
            {
                t.insert(txn, at, &words);
            }
        })
        .await?;
    editor
        .append_paragraph("Uppföljningen redovisas för kommunstyrelsen.")
        .await?;
    let mut watcher = WsClient::connect(&app.ws_url(doc, token)).await?;
    watcher
        .wait_for(|c| c.paragraphs().iter().any(|p| p.contains("kommunstyrelsen")))
        .await?;
    Ok::<_, anyhow::Error>(())
}

both_dbs!(
    a_diff_shows_the_changed_and_the_added_paragraph,
    |backend| async move {
        let Draft { app, owner, doc } = Draft::new(backend, "Versioner", DRAFT, &[]).await?;
        let v1 = save_version(&app, &owner, &doc, "  Remissversion 2020-11-01 ").await?;
        assert_eq!(
            v1["name"], "Remissversion 2020-11-01",
            "the name is trimmed"
        );
        assert_eq!(v1["paragraphs"], 3);
        assert_eq!(v1["createdBy"]["id"], "maria");
        assert_eq!(v1["createdBy"]["org"], "stadsledningskontoret");
        assert!(v1["createdAt"].as_i64().is_some_and(|t| t > 0));

        // "Förebyggande arbete i skolan " is 29 UTF-16 units.
        edit_draft(&app, &owner, &doc, 29, "och förskolan ").await?;

        let v1_id = v1["id"].as_str().unwrap_or_default();
        let (status, diff) = call(
            &app,
            Method::GET,
            &format!("/api/documents/{doc}/versions/diff?from={v1_id}&to=current"),
            &owner,
            None,
        )
        .await?;
        assert_eq!(status, 200, "{diff}");
        assert_eq!(diff["from"]["id"], v1["id"]);
        assert_eq!(diff["to"], Value::Null);
        let changes: Vec<&str> = diff["paragraphs"]
            .as_array()
            .map(|ps| ps.iter().filter_map(|p| p["change"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(changes, ["unchanged", "changed", "unchanged", "added"]);
        let changed = &diff["paragraphs"][1];
        assert_eq!(
            changed["before"],
            "Förebyggande arbete i skolan är viktigt."
        );
        assert_eq!(
            changed["after"],
            "Förebyggande arbete i skolan och förskolan är viktigt."
        );
        let inserted: Vec<&str> = changed["words"]
            .as_array()
            .map(|ws| {
                ws.iter()
                    .filter(|w| w["op"] == "insert")
                    .filter_map(|w| w["text"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(inserted, ["och förskolan "]);
        assert_eq!(diff["paragraphs"][0]["words"], Value::Null);
        let added = &diff["paragraphs"][3];
        assert_eq!(added["before"], Value::Null);
        assert_eq!(
            added["after"],
            "Uppföljningen redovisas för kommunstyrelsen."
        );

        // Two saved versions compare the same way, and the answer names both.
        let v2 = save_version(&app, &owner, &doc, "Efter remissen").await?;
        assert_eq!(v2["paragraphs"], 4);
        let v2_id = v2["id"].as_str().unwrap_or_default();
        let (status, between) = call(
            &app,
            Method::GET,
            &format!("/api/documents/{doc}/versions/diff?from={v1_id}&to={v2_id}"),
            &owner,
            None,
        )
        .await?;
        assert_eq!(status, 200, "{between}");
        assert_eq!(between["to"]["id"], v2["id"]);
        assert_eq!(between["paragraphs"], diff["paragraphs"]);

        let (status, list) = call(
            &app,
            Method::GET,
            &format!("/api/documents/{doc}/versions"),
            &owner,
            None,
        )
        .await?;
        assert_eq!(status, 200);
        assert_eq!(list, json!([v1, v2]), "oldest first, as saved");

        let (_, trail) = call(
            &app,
            Method::GET,
            &format!("/api/documents/{doc}/audit"),
            &owner,
            None,
        )
        .await?;
        let saved: Vec<&Value> = trail
            .as_array()
            .map(|es| {
                es.iter()
                    .filter(|e| e["action"] == "version_saved")
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(saved.len(), 2, "{trail}");
        assert_eq!(saved[0]["detail"]["version"], v1["id"]);
        assert_eq!(saved[1]["detail"]["name"], "Efter remissen");
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    a_versions_markdown_is_the_text_it_was_saved_with,
    |backend| async move {
        let Draft { app, owner, doc } =
            Draft::new(backend, "Versioner", DRAFT, &[("polisen", "viewer")]).await?;
        let (_, before) = app
            .get_text(&owner, &format!("/api/documents/{doc}/markdown"))
            .await?;
        let v1 = save_version(&app, &owner, &doc, "Remissversion").await?;
        edit_draft(&app, &owner, &doc, 0, "Systematiskt ").await?;

        let (_, now) = app
            .get_text(&owner, &format!("/api/documents/{doc}/markdown"))
            .await?;
        assert!(now.contains("Systematiskt"), "{now}");
        let vid = v1["id"].as_str().unwrap_or_default();
        let viewer = app.token("per", "polisen");
        let (status, old) = app
            .get_text(
                &viewer,
                &format!("/api/documents/{doc}/versions/{vid}/markdown"),
            )
            .await?;
        assert_eq!(status, 200);
        assert_eq!(old, before);
        assert!(!old.contains("Systematiskt"));

        let (status, one) = call(
            &app,
            Method::GET,
            &format!("/api/documents/{doc}/versions/{vid}"),
            &viewer,
            None,
        )
        .await?;
        assert_eq!((status, &one), (200, &v1));
        let (status, missing) = call(
            &app,
            Method::GET,
            &format!("/api/documents/{doc}/versions/nope/markdown"),
            &viewer,
            None,
        )
        .await?;
        assert_eq!(
            (status, missing["error"].as_str()),
            (404, Some("not_found"))
        );
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    only_owners_save_versions_and_names_are_checked,
    |backend| async move {
        let Draft { app, owner, doc } = Draft::new(
            backend,
            "Versioner",
            DRAFT,
            &[("utbildningsforvaltningen", "editor")],
        )
        .await?;
        let editor = app.token("sara", "utbildningsforvaltningen");
        let path = format!("/api/documents/{doc}/versions");
        let (status, body) = call(
            &app,
            Method::POST,
            &path,
            &editor,
            Some(json!({ "name": "Min version" })),
        )
        .await?;
        assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")));
        for name in [json!("   "), json!("x".repeat(201)), json!("a\u{7}b")] {
            let (status, body) = call(
                &app,
                Method::POST,
                &path,
                &owner,
                Some(json!({ "name": name })),
            )
            .await?;
            assert_eq!(status, 422, "{name}: {body}");
        }
        let (status, _) = call(&app, Method::POST, &path, &owner, Some(json!({}))).await?;
        assert_eq!(status, 422, "the name is required");
        let (status, list) = call(&app, Method::GET, &path, &editor, None).await?;
        assert_eq!((status, list), (200, json!([])));
        // An unknown id and text that cannot be an id both name no version.
        let v1 = save_version(&app, &owner, &doc, "Remissversion").await?;
        let vid = v1["id"].as_str().unwrap_or_default();
        let too_long = "v".repeat(129);
        for bad in ["missing", "a%20b", "..%2Fv", too_long.as_str()] {
            for tail in [
                format!("diff?from={bad}"),
                format!("diff?from={vid}&to={bad}"),
                bad.to_owned(),
                format!("{bad}/markdown"),
            ] {
                let (status, body) =
                    call(&app, Method::GET, &format!("{path}/{tail}"), &editor, None).await?;
                assert_eq!(
                    (status, body["error"].as_str()),
                    (404, Some("not_found")),
                    "{tail}"
                );
            }
        }
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(a_stored_version_cannot_be_changed, |backend| async move {
    let Draft { app, owner, doc } = Draft::new(backend, "Versioner", DRAFT, &[]).await?;
    let v1 = save_version(&app, &owner, &doc, "Remissversion").await?;
    let id = v1["id"].as_str().unwrap_or_default().to_owned();
    let refused = forankra::on_pool!(&app.state.db, pool => {
        sqlx::query("UPDATE versions SET name = 'ändrad' WHERE id = $1")
            .bind(&id)
            .execute(pool)
            .await
            .is_err()
    });
    assert!(refused, "the database refuses to change a version");
    let (_, list) = call(
        &app,
        Method::GET,
        &format!("/api/documents/{doc}/versions"),
        &owner,
        None,
    )
    .await?;
    assert_eq!(list[0]["name"], "Remissversion");
    Ok::<_, anyhow::Error>(())
});

both_dbs!(
    a_thread_names_the_version_it_was_opened_on,
    |backend| async move {
        let Draft { app, owner, doc } = Draft::new(
            backend,
            "Versioner",
            DRAFT,
            &[("utbildningsforvaltningen", "commenter")],
        )
        .await?;
        let sara = app.token("sara", "utbildningsforvaltningen");
        let reader = WsClient::connect(&app.ws_url(&doc, &sara)).await?;
        let early = comment_on(&app, &sara, &doc, reader.anchor_for("skolan")?).await?;
        assert_eq!(early["namedVersion"], Value::Null);

        let v1 = save_version(&app, &owner, &doc, "Remissversion 2020-11-01").await?;
        let late = comment_on(&app, &sara, &doc, reader.anchor_for("årligen")?).await?;
        let named = json!({ "id": v1["id"], "name": "Remissversion 2020-11-01" });
        assert_eq!(late["namedVersion"], named);
        save_version(&app, &owner, &doc, "Senare").await?;

        let (status, threads) = call(
            &app,
            Method::GET,
            &format!("/api/documents/{doc}/threads"),
            &sara,
            None,
        )
        .await?;
        assert_eq!(status, 200);
        assert_eq!(threads[0]["id"], early["id"]);
        assert_eq!(threads[0]["namedVersion"], Value::Null);
        assert_eq!(
            threads[1]["namedVersion"], named,
            "a later version changes nothing"
        );
        assert!(threads[1]["version"].is_string(), "the state vector stays");
        Ok::<_, anyhow::Error>(())
    }
);

/// `count` paragraphs of `words` words each, no word shared with another `vocabulary`.
fn rewritten_paragraphs(vocabulary: &str, count: usize, words: usize) -> Vec<String> {
    (0..count)
        .map(|p| {
            (0..words)
                .map(|w| format!("{vocabulary}{}", (p * 7919 + w * 104_729) % 5_000))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

both_dbs!(
    a_diff_of_a_large_rewritten_document_answers_promptly,
    |backend| async move {
        // Issue 13: 7.5 s of CPU per diff request. 64 paragraphs of 600 words, each
        // rewritten with other words: a 64 × 64 replaced run whose pairing ran 4,096
        // word diffs.
        let before = rewritten_paragraphs("före", 64, 600);
        let after = rewritten_paragraphs("efter", 64, 600);
        let Draft { app, owner, doc } =
            Draft::new(backend, "Stort", &before.join("\n\n"), &[]).await?;
        let v1 = save_version(&app, &owner, &doc, "Före").await?;
        let mut editor = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        let replacement = after.clone();
        editor
            .edit(move |txn, frag| {
                use yrs::XmlFragment;
                let len = frag.len(txn);
                frag.remove_range(txn, 0, len);
                for (i, text) in replacement.into_iter().enumerate() {
                    let text = yrs::types::xml::XmlIn::from(yrs::XmlTextPrelim::new(text));
                    frag.insert(
                        txn,
                        i as u32,
                        yrs::XmlElementPrelim::new("paragraph", [text]),
                    );
                }
            })
            .await?;
        let mut watcher = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        watcher.wait_for(|c| c.paragraphs() == after).await?;

        // A client that gives up: a regression fails here rather than hanging.
        let client = reqwest::Client::builder().timeout(WAIT).build()?;
        let v1_id = v1["id"].as_str().unwrap_or_default();
        let response = client
            .get(app.url(&format!(
                "/api/documents/{doc}/versions/diff?from={v1_id}&to=current"
            )))
            .bearer_auth(&owner)
            .send()
            .await?;
        assert_eq!(response.status(), 200);
        let diff: Value = response.json().await?;
        let paragraphs = diff["paragraphs"].as_array().cloned().unwrap_or_default();
        let count = |change: &str| paragraphs.iter().filter(|p| p["change"] == change).count();
        assert_eq!(
            (count("removed"), count("added")),
            (64, 64),
            "nothing in common"
        );
        assert_eq!(paragraphs.len(), 128);
        Ok::<_, anyhow::Error>(())
    }
);
