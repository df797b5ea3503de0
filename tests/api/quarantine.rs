//! A stored update that makes yrs panic does not take its document down: the room sets
//! it aside and goes on (server/src/sync/quarantine.rs).
//!
//! The decode-time checks refuse every such update fuzzing has found, so no client can
//! store one today. These tests plant one straight into the log, as an older server
//! (or a yrs bug not yet found) could have left it, and look at what users see.

use anyhow::{Context, ensure};
use forankra::on_pool;

use crate::both_dbs;
use crate::helpers::*;

/// Found by fuzzing: an update naming one client twice (ids differing above bit 53).
/// Decoding it panics in a debug build, applying it in a release build.
fn panicking_update() -> anyhow::Result<Vec<u8>> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/open/update-integrate-panic");
    std::fs::read(&path).with_context(|| path.display().to_string())
}

/// Where the entry at `seq` is now: (in the log, in quarantine).
async fn whereabouts(app: &TestApp, doc: &str, seq: i64) -> anyhow::Result<(i64, i64)> {
    on_pool!(&app.state.db, pool => {
        let (logged, quarantined): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM document_updates WHERE doc_id = $1 AND seq = $2), \
                    (SELECT COUNT(*) FROM quarantined_updates WHERE doc_id = $1 AND seq = $2)",
        )
        .bind(doc)
        .bind(seq)
        .fetch_one(pool)
        .await?;
        Ok((logged, quarantined))
    })
}

/// A server, an owner's token and a two-paragraph document.
async fn a_draft(backend: Backend) -> anyhow::Result<(TestApp, String, String)> {
    let app = TestApp::spawn(backend).await?;
    let owner = app.token("anna", "stadsledningskontoret");
    let markdown = "# Trygghetsprogram\n\nFörsta stycket.";
    let doc = app.create_doc(&owner, "Karantän", Some(markdown)).await?;
    Ok((app, owner, doc))
}

both_dbs!(
    a_document_whose_log_holds_a_panicking_update_still_opens,
    |backend| async move {
        let (app, owner, doc) = a_draft(backend).await?;
        let seq = plant_update(&app, &doc, &panicking_update()?).await?;

        let mut client = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        ensure!(client.paragraphs() == ["Trygghetsprogram", "Första stycket."]);
        ensure!(app.metric("forankra_updates_quarantined_total").await? == 1.0);
        ensure!(whereabouts(&app, &doc, seq).await? == (0, 1));

        // The document goes on being edited, and a restart does not find it again.
        client.append_paragraph("Skrivet efter karantänen.").await?;
        let mut other = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        other.wait_for(|c| c.paragraphs().len() == 3).await?;
        let db = app.stop().await?;
        let app = TestApp::spawn_on(db, |_| {}).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let again = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        ensure!(again.paragraphs()[2] == "Skrivet efter karantänen.");
        ensure!(app.metric("forankra_updates_quarantined_total").await? == 0.0);
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    a_room_that_meets_a_panicking_update_rebuilds_and_keeps_its_editors,
    |backend| async move {
        let (app, owner, doc) = a_draft(backend).await?;
        let mut writer = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        let mut reader = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        // Planted behind the open room's back: its next commit finds a gap in the log,
        // reads the entry to catch up, and applying it panics.
        let seq = plant_update(&app, &doc, &panicking_update()?).await?;
        writer.append_paragraph("Andra stycket.").await?;
        reader.wait_for(|c| c.paragraphs().len() == 3).await?;
        // The room finishes its catch-up before it serves another command, so this read
        // comes after the rebuild.
        let (status, markdown) = app
            .get_text(&owner, &format!("/api/documents/{doc}/markdown"))
            .await?;
        ensure!(
            status == 200 && markdown.contains("Andra stycket."),
            "{status} {markdown}"
        );
        // The update scan (`sync::nesting`) refuses this entry before yrs decodes it, so
        // the catch-up sets it aside without a panic; the rebuild stays the net for
        // panics no scan knows of.
        ensure!(app.metric("forankra_apply_panics_total").await? == 0.0);
        ensure!(app.metric("forankra_updates_quarantined_total").await? == 1.0);
        ensure!(whereabouts(&app, &doc, seq).await? == (0, 1));

        // Both editors are still connected and in step.
        writer.append_paragraph("Tredje stycket.").await?;
        reader.wait_for(|c| c.paragraphs().len() == 4).await?;
        reader.append_paragraph("Fjärde stycket.").await?;
        writer.wait_for(|c| c.paragraphs().len() == 5).await?;
        ensure!(writer.paragraphs() == reader.paragraphs());
        Ok::<_, anyhow::Error>(())
    }
);
