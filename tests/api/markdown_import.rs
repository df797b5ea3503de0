//! Markdown import is linear and bounded (issue 13, item 4): 100 KB of headings took
//! 6.5 s and 2 MB did not finish in 7 minutes, holding a core and gigabytes each.

use std::time::Duration;

use serde_json::{Value, json};

use crate::both_dbs;
use crate::helpers::*;

/// A client that gives up well after a linear import and well before a quadratic one,
/// so a regression fails the test instead of hanging the run.
fn patient_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("a client")
}

/// `POST /api/documents` with `markdown` as the first content.
async fn create(
    app: &TestApp,
    http: &reqwest::Client,
    owner: &str,
    markdown: &str,
) -> reqwest::Result<reqwest::Response> {
    http.post(app.url("/api/documents"))
        .bearer_auth(owner)
        .json(&json!({ "title": "Rubriker", "markdown": markdown }))
        .send()
        .await
}

both_dbs!(
    tens_of_thousands_of_headings_import_and_read_back,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let http = patient_client();
        // 40,000 headings in 160 KB: minutes with the old quadratic import.
        let headings = 40_000;
        let markdown = "# a\n".repeat(headings);
        let response = create(&app, &http, &owner, &markdown).await?;
        assert_eq!(response.status(), 201);
        let created: Value = response.json().await?;
        let doc = created["id"].as_str().expect("id");
        let text = http
            .get(app.url(&format!("/api/documents/{doc}/markdown")))
            .bearer_auth(&owner)
            .send()
            .await?
            .text()
            .await?;
        assert_eq!(text.matches("# a").count(), headings);
        assert!(text.starts_with("# a"), "the order is kept");
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    two_megabytes_of_headings_get_a_prompt_clear_refusal,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let http = patient_client();
        let markdown = "# a\n".repeat(2 * 1024 * 1024 / 4 - 1);
        let response = create(&app, &http, &owner, &markdown).await?;
        assert_eq!(response.status(), 422);
        let body: Value = response.json().await?;
        let message = body["message"].as_str().unwrap_or_default().to_owned();
        assert!(message.contains("100000"), "{body}");
        // Nothing was created.
        let listed: Value = http
            .get(app.url("/api/documents"))
            .bearer_auth(&owner)
            .send()
            .await?
            .json()
            .await?;
        assert_eq!(listed.as_array().map(Vec::len), Some(0), "{listed}");
        Ok::<_, anyhow::Error>(())
    }
);
