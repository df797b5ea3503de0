//! Documents over HTTP: create (from Markdown), list, read, rename, delete, export.

use serde_json::json;

use crate::both_dbs;
use crate::helpers::*;

const DRAFT: &str = "# Stockholms stads trygghetsprogram\n\n\
## Förebyggande arbete\n\n\
Förebyggande arbete i skolan är viktigt.\n\n\
- Förskola\n- Fritidsverksamhet för unga 16–29 år\n";

both_dbs!(
    a_document_made_from_markdown_reads_back_in_every_format,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let doc = app
            .create_doc(&owner, "Trygghetsprogram 2020–2023", Some(DRAFT))
            .await?;

        let (status, markdown) = app
            .get_text(&owner, &format!("/api/documents/{doc}/markdown"))
            .await?;
        assert_eq!(status, 200);
        assert!(
            markdown.contains("# Stockholms stads trygghetsprogram"),
            "{markdown}"
        );
        assert!(markdown.contains("## Förebyggande arbete"), "{markdown}");
        assert!(
            markdown.contains("Fritidsverksamhet för unga 16–29 år"),
            "{markdown}"
        );
        let (_, text) = app
            .get_text(&owner, &format!("/api/documents/{doc}/text"))
            .await?;
        assert!(
            text.contains("Förebyggande arbete i skolan är viktigt.") && !text.contains('#'),
            "{text}"
        );
        let (_, html) = app
            .get_text(&owner, &format!("/api/documents/{doc}/html"))
            .await?;
        assert!(html.contains("<h2>Förebyggande arbete</h2>"), "{html}");

        // A live client sees the same tree Tiptap would: heading, heading, paragraph, list.
        let client = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        let paragraphs = client.paragraphs();
        assert_eq!(paragraphs[2], "Förebyggande arbete i skolan är viktigt.");

        // Edits made live show up in the export.
        let mut client = client;
        client.append_paragraph("Tillagt i editorn.").await?;
        let mut other = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        other
            .wait_for(|c| c.paragraphs().len() == paragraphs.len() + 1)
            .await?;
        let (_, markdown) = app
            .get_text(&owner, &format!("/api/documents/{doc}/markdown"))
            .await?;
        assert!(
            markdown.trim_end().ends_with("Tillagt i editorn."),
            "{markdown}"
        );
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    documents_are_listed_renamed_and_deleted_by_role,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let first = app.create_doc(&owner, "Första", None).await?;
        let second = app.create_doc(&owner, "Andra", None).await?;
        app.set_role(&owner, &second, "utbildningsforvaltningen", "commenter")
            .await?;
        let sara = app.token("sara", "utbildningsforvaltningen");

        let (_, mine) = app.get_text(&sara, "/api/documents").await?;
        let mine: serde_json::Value = serde_json::from_str(&mine)?;
        let list = mine.as_array().cloned().unwrap_or_default();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0]["id"], second.as_str());
        assert_eq!(list[0]["role"], "commenter");
        assert_eq!(list[0]["ownerOrgName"], "stadsledningskontoret");

        let rename = |token: String, id: String| {
            let app = &app;
            async move {
                app.http
                    .patch(app.url(&format!("/api/documents/{id}")))
                    .bearer_auth(token)
                    .json(&json!({"title": "Nytt namn"}))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
            }
        };
        assert_eq!(rename(sara.clone(), second.clone()).await?, 403);
        assert_eq!(rename(owner.clone(), second.clone()).await?, 200);

        let mut live = WsClient::connect(&app.ws_url(&first, &owner)).await?;
        let deleted = app
            .http
            .delete(app.url(&format!("/api/documents/{first}")))
            .bearer_auth(&owner)
            .send()
            .await?;
        assert_eq!(deleted.status(), 204);
        // Archived, not deleted (tests/api/trail.rs has the rest).
        assert_eq!(live.expect_close().await?.0, 4410);
        let (status, _) = app
            .get_text(&owner, &format!("/api/documents/{first}"))
            .await?;
        assert_eq!(status, 410);
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(health_metrics_and_openapi_answer, |backend| async move {
    let app = TestApp::spawn(backend).await?;
    let health = app.http.get(app.url("/healthz")).send().await?;
    assert_eq!(health.status(), 200);
    let owner = app.token("anna", "stadsledningskontoret");
    let doc = app.create_doc(&owner, "Mätvärden", None).await?;
    let mut a = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
    let mut b = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
    a.append_paragraph("mätning").await?;
    b.wait_for(|c| c.paragraphs().len() == 1).await?;
    assert_eq!(app.metric("forankra_connections").await?, 2.0);
    assert_eq!(app.metric("forankra_rooms_open").await?, 1.0);
    app.metric_reaches("forankra_updates_relayed_total", 1.0)
        .await?;
    assert!(app.metric("forankra_relay_latency_seconds_count").await? >= 1.0);

    let spec: serde_json::Value = app
        .http
        .get(app.url("/api/openapi.json"))
        .send()
        .await?
        .json()
        .await?;
    for path in [
        "/api/login",
        "/api/documents",
        "/api/documents/{id}/members/{org_id}",
        "/api/documents/{id}/markdown",
    ] {
        assert!(spec["paths"].get(path).is_some(), "{path} is documented");
    }
    Ok::<_, anyhow::Error>(())
});

both_dbs!(
    the_web_app_is_served_with_its_routes_falling_back_to_the_page,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let root = app.http.get(app.url("/")).send().await?;
        assert_eq!(root.status(), 200);
        let content_type = root
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        assert!(content_type.starts_with("text/html"), "{content_type}");
        let page = root.text().await?;
        assert!(page.contains("Förankra"), "{page}");
        // A route of the app itself gets the same page; a missing asset does not.
        let route = app
            .http
            .get(app.url("/d/trygghetsprogram-2020-2023"))
            .send()
            .await?;
        assert_eq!(route.status(), 200);
        assert_eq!(route.text().await?, page);
        let asset = app
            .http
            .get(app.url("/assets/finns-inte.js"))
            .send()
            .await?;
        assert_eq!(asset.status(), 404);
        Ok::<_, anyhow::Error>(())
    }
);
