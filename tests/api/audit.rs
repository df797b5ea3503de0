//! The audit trail: every membership and thread change is recorded in order, only owners
//! read it, and tampering with a stored row is found by the verify endpoint.

use anyhow::{Result, ensure};
use reqwest::Method;
use serde_json::{Value, json};

use crate::both_dbs;
use crate::helpers::*;

const DRAFT: &str = "# Trygghetsprogram\n\nFörebyggande arbete i skolan är viktigt.\n";

fn actions(trail: &Value) -> Vec<String> {
    trail
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .filter_map(|e| e["action"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The trail as its owner reads it.
async fn owner_trail(draft: &Draft) -> Result<(u16, Value)> {
    let path = format!("/api/documents/{}/audit", draft.doc);
    call(&draft.app, Method::GET, &path, &draft.owner, None).await
}

/// The owner invites, changes a role; a commenter opens, replies, edits and deletes; the
/// owner resolves. Returns the draft and the commenter's token.
async fn a_worked_draft(backend: Backend) -> Result<(Draft, String)> {
    let draft = Draft::new(
        backend,
        "Trygghetsprogram",
        DRAFT,
        &[("utbildning", "viewer")],
    )
    .await?;
    let app = &draft.app;
    let doc = &draft.doc;
    ensure!(
        app.set_role(&draft.owner, doc, "utbildning", "commenter")
            .await?
            == 200
    );
    let sara = app.token("sara", "utbildning");
    let client = WsClient::connect(&app.ws_url(doc, &sara)).await?;
    let anchor = client.anchor_for("skolan")?;
    let thread = open_thread(
        app,
        &sara,
        doc,
        anchor,
        "Skolan <b>först</b>",
        Some("tillstyrker"),
    )
    .await?;
    let thread_id = thread["id"].as_str().unwrap_or_default().to_owned();
    let base = format!("/api/documents/{doc}/threads/{thread_id}");
    let (status, replied) = call(
        app,
        Method::POST,
        &format!("{base}/comments"),
        &sara,
        Some(json!({"body": "Ett tillägg"})),
    )
    .await?;
    ensure!(status == 201, "reply: {status} {replied}");
    let comment = replied["comments"][1]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let path = format!("{base}/comments/{comment}");
    let (status, _) = call(
        app,
        Method::PATCH,
        &path,
        &sara,
        Some(json!({"body": "Rättat"})),
    )
    .await?;
    ensure!(status == 200, "edit: {status}");
    let (status, _) = call(app, Method::DELETE, &path, &sara, None).await?;
    ensure!(status == 200, "delete: {status}");
    let resolution = json!({"outcome": "beaktad", "motivation": "Infört i avsnitt 2"});
    let (status, _) = call(
        app,
        Method::POST,
        &format!("{base}/resolve"),
        &draft.owner,
        Some(resolution),
    )
    .await?;
    ensure!(status == 200, "resolve: {status}");
    client.close().await?;
    Ok((draft, sara))
}

both_dbs!(
    every_change_is_recorded_in_order_for_owners_only,
    |backend| async move {
        let (draft, sara) = a_worked_draft(backend).await?;
        let (app, doc) = (&draft.app, &draft.doc);
        let path = format!("/api/documents/{doc}/audit");
        let (status, trail) = owner_trail(&draft).await?;
        ensure!(status == 200, "audit: {status} {trail}");
        let recorded = actions(&trail);
        let expected = [
            "document_created",
            "member_invited",
            "member_role_changed",
            "thread_opened",
            "comment_added",
            "comment_edited",
            "comment_deleted",
            "thread_resolved",
        ];
        for action in expected {
            ensure!(
                recorded.iter().any(|a| a == action),
                "{action} missing from {recorded:?}"
            );
        }
        let order: Vec<&String> = recorded
            .iter()
            .filter(|a| expected.contains(&a.as_str()))
            .collect();
        ensure!(order == expected, "out of order: {order:?}");
        let invited = &trail[1];
        ensure!(
            invited["detail"]["principal"] == "utbildning" && invited["detail"]["to"] == "viewer"
        );
        ensure!(invited["actor"]["id"] == "maria", "{invited}");
        let opened = trail
            .as_array()
            .and_then(|t| t.iter().find(|e| e["action"] == "thread_opened"));
        ensure!(
            opened.is_some_and(|e| e["org"] == "utbildning" && e["detail"]["quote"] == "skolan")
        );
        let (status, _) = call(app, Method::GET, &path, &sara, None).await?;
        ensure!(status == 403, "a commenter read the audit trail: {status}");
        let (status, verdict) = call(
            app,
            Method::GET,
            &format!("{path}/verify"),
            &draft.owner,
            None,
        )
        .await?;
        ensure!(status == 200 && verdict["valid"] == true, "{verdict}");
        ensure!(
            verdict["entries"].as_u64() == Some(recorded.len() as u64),
            "{verdict}"
        );
        Ok(())
    }
);

both_dbs!(tampering_with_a_row_is_detected, |backend| async move {
    let (draft, _) = a_worked_draft(backend).await?;
    let (app, doc) = (&draft.app, &draft.doc);
    // Somebody with database access softens what the commenter was told.
    let sql = "UPDATE audit_log SET detail = '{\"outcome\":\"ej_beaktad\"}' \
               WHERE doc_id = $1 AND action = 'thread_resolved'";
    let changed = match &app.state.db {
        forankra::storage::Db::Sqlite(pool) => sqlx::query(sql)
            .bind(doc)
            .execute(pool)
            .await?
            .rows_affected(),
        forankra::storage::Db::Postgres(pool) => sqlx::query(sql)
            .bind(doc)
            .execute(pool)
            .await?
            .rows_affected(),
    };
    ensure!(changed == 1);
    let (status, trail) = owner_trail(&draft).await?;
    ensure!(status == 200);
    let tampered = trail
        .as_array()
        .and_then(|t| t.iter().find(|e| e["action"] == "thread_resolved"))
        .and_then(|e| e["seq"].as_i64());
    let path = format!("/api/documents/{doc}/audit/verify");
    let (status, verdict) = call(app, Method::GET, &path, &draft.owner, None).await?;
    ensure!(status == 200 && verdict["valid"] == false, "{verdict}");
    ensure!(
        verdict["firstBroken"].as_i64() == tampered,
        "{verdict} vs {tampered:?}"
    );
    Ok(())
});

both_dbs!(
    the_trail_exports_as_csv_and_the_export_is_recorded,
    |backend| async move {
        let (draft, _) = a_worked_draft(backend).await?;
        let (app, doc) = (&draft.app, &draft.doc);
        let path = format!("/api/documents/{doc}/audit?format=csv");
        let (status, csv) = app.get_text(&draft.owner, &path).await?;
        ensure!(status == 200, "{status} {csv}");
        ensure!(csv.starts_with("nr,tid (ms),händelse"), "{csv}");
        ensure!(
            csv.contains("thread_resolved") && csv.contains("Infört i avsnitt 2"),
            "{csv}"
        );
        let (_, trail) = owner_trail(&draft).await?;
        let last = trail
            .as_array()
            .and_then(|t| t.last())
            .cloned()
            .unwrap_or_default();
        ensure!(
            last["action"] == "export_made" && last["detail"]["format"] == "csv",
            "{last}"
        );
        let (status, _) = call(
            app,
            Method::GET,
            &format!("/api/documents/{doc}/audit?format=pdf"),
            &draft.owner,
            None,
        )
        .await?;
        ensure!(status == 400);
        Ok(())
    }
);
