//! The demo: the draft programme with its organisations, roles and threads.

use crate::both_dbs;
use crate::helpers::*;

both_dbs!(
    the_demo_loads_the_draft_with_anchored_threads_once,
    |backend| async move {
        let app = TestApp::spawn_with(backend, |c| c.demo = true).await?;
        let seed = forankra::demo::seed()?;
        let owner = app.token("maria-holmberg", "stadsledningskontoret");
        let doc = forankra::demo::DEMO_DOC_ID;

        let (status, meta) = app
            .get_text(&owner, &format!("/api/documents/{doc}"))
            .await?;
        assert_eq!(status, 200);
        assert!(
            meta.contains("Stockholms stads trygghetsprogram 2020–2023"),
            "{meta}"
        );
        let (_, markdown) = app
            .get_text(&owner, &format!("/api/documents/{doc}/markdown"))
            .await?;
        assert!(
            markdown.starts_with("# Stockholms stads trygghetsprogram 2020–2023"),
            "{markdown}"
        );
        assert!(
            markdown.contains("## Förebyggande arbete")
                || markdown.contains("### Förebyggande arbete")
        );

        let (_, threads) = app
            .get_text(&owner, &format!("/api/documents/{doc}/threads"))
            .await?;
        let threads: serde_json::Value = serde_json::from_str(&threads)?;
        let threads = threads.as_array().cloned().unwrap_or_default();
        assert_eq!(threads.len(), seed.threads.len());
        for thread in &threads {
            assert_eq!(thread["anchor"]["state"], "attached", "{thread}");
            assert_eq!(thread["anchor"]["quote"], thread["anchor"]["originalQuote"]);
        }
        let resolved = threads.iter().filter(|t| t["status"] == "resolved").count();
        assert_eq!(
            resolved,
            seed.threads
                .iter()
                .filter(|t| t.resolution.is_some())
                .count()
        );

        // A commenter organisation sees the same threads; a second start adds nothing.
        let sara = app.token("sara-nyberg", "utbildningsforvaltningen");
        let (status, _) = app
            .get_text(&sara, &format!("/api/documents/{doc}/threads"))
            .await?;
        assert_eq!(status, 200);
        let db = app.stop().await?;
        let app = TestApp::spawn_on(db, |c| c.demo = true).await?;
        let (_, again) = app
            .get_text(&owner, &format!("/api/documents/{doc}/threads"))
            .await?;
        let again: serde_json::Value = serde_json::from_str(&again)?;
        assert_eq!(again.as_array().map(Vec::len), Some(seed.threads.len()));
        Ok::<_, anyhow::Error>(())
    }
);
