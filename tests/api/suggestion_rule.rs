//! The owners' rule that changes be suggested in a phase (issue 16): while the round is
//! in a phase the owners chose, an editor's direct updates are not stored, on the
//! socket that was already open, while the editor's suggestions still work; owners keep
//! editing; lifting the rule lets editors write again. The rule and each change of it
//! are in the audit trail.

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::both_dbs;
use crate::helpers::*;

const DRAFT: &str = "# Plan\n\nSkolorna erbjuder läxhjälp varje vecka.\n";
const UTB: &str = "utbildningsforvaltningen";

async fn put_round(draft: &Draft, body: Value) -> Result<Value> {
    let path = format!("/api/documents/{}/remiss", draft.doc);
    let (status, round) = call(
        &draft.app,
        reqwest::Method::PUT,
        &path,
        &draft.owner,
        Some(body),
    )
    .await?;
    anyhow::ensure!(status == 200, "PUT remiss: {status} {round}");
    Ok(round)
}

/// Waits until a fresh client of the owner's holds `expected` as its paragraphs (after
/// the heading).
async fn text_becomes(draft: &Draft, expected: &[&str]) -> Result<()> {
    let mut watcher = WsClient::connect(&draft.app.ws_url(&draft.doc, &draft.owner)).await?;
    let wanted: Vec<String> = std::iter::once("Plan")
        .chain(expected.iter().copied())
        .map(str::to_owned)
        .collect();
    watcher
        .wait_for(|c| c.paragraphs() == wanted)
        .await
        .with_context(|| {
            format!(
                "the text never became {wanted:?}: {:?}",
                watcher.paragraphs()
            )
        })
}

both_dbs!(
    an_editors_direct_edits_stop_on_the_open_socket_when_the_phase_requires_suggestions,
    |backend| async move {
        let draft = Draft::new(backend, "Plan", DRAFT, &[(UTB, "editor")]).await?;
        let app = &draft.app;
        let editor_token = app.token("ulla", UTB);
        let mut editor = WsClient::connect(&app.ws_url(&draft.doc, &editor_token)).await?;
        editor.subscribe_round_events().await?;

        // In beredning the editor writes directly.
        editor.append_paragraph("Skrivet i beredning.").await?;
        text_becomes(
            &draft,
            &[
                "Skolorna erbjuder läxhjälp varje vecka.",
                "Skrivet i beredning.",
            ],
        )
        .await?;

        // The owners require suggestions in remiss: not in force yet (beredning).
        let round = put_round(&draft, json!({ "suggestionPhases": ["remiss"] })).await?;
        assert_eq!(round["suggestionPhases"], json!(["remiss"]), "{round}");
        assert_eq!(round["suggestionsRequired"], false, "{round}");
        editor.append_paragraph("Också i beredning.").await?;
        text_becomes(
            &draft,
            &[
                "Skolorna erbjuder läxhjälp varje vecka.",
                "Skrivet i beredning.",
                "Också i beredning.",
            ],
        )
        .await?;

        // The round goes to remiss: the rule holds, and the open socket hears it.
        let round = put_round(&draft, json!({ "phase": "remiss" })).await?;
        assert_eq!(round["suggestionsRequired"], true, "{round}");
        editor
            .wait_for(|c| {
                c.events
                    .iter()
                    .any(|e| e["type"] == "round" && e["round"]["suggestionsRequired"] == true)
            })
            .await
            .context("the round event saying the rule holds")?;

        // The editor's next update, on the same socket, is not stored.
        let dropped_before = app
            .metric("forankra_updates_dropped_read_only_total")
            .await?;
        editor.append_paragraph("Direkt i remiss.").await?;
        app.metric_reaches(
            "forankra_updates_dropped_read_only_total",
            dropped_before + 1.0,
        )
        .await?;
        // The owner still edits directly; a fresh client sees the owner's paragraph and
        // never the editor's.
        let mut owner = WsClient::connect(&app.ws_url(&draft.doc, &draft.owner)).await?;
        owner.append_paragraph("Ägaren skriver.").await?;
        let stored = [
            "Skolorna erbjuder läxhjälp varje vecka.",
            "Skrivet i beredning.",
            "Också i beredning.",
            "Ägaren skriver.",
        ];
        text_becomes(&draft, &stored).await?;
        let (_, markdown) = app
            .get_text(
                &draft.owner,
                &format!("/api/documents/{}/markdown", draft.doc),
            )
            .await?;
        assert!(!markdown.contains("Direkt i remiss"), "{markdown}");

        // The editor's suggestion works, and accepting it changes the text, which the
        // editor's own open socket receives.
        let anchor = editor.anchor_for("varje vecka")?;
        let request =
            json!({ "anchor": anchor, "body": "", "proposal": "varje dag", "kind": "suggestion" });
        let (status, thread) = call(
            app,
            reqwest::Method::POST,
            &format!("/api/documents/{}/threads", draft.doc),
            &editor_token,
            Some(request),
        )
        .await?;
        assert_eq!(status, 201, "{thread}");
        let id = thread["id"].as_str().context("id")?;
        let (status, accepted) = call(
            app,
            reqwest::Method::POST,
            &format!("/api/documents/{}/threads/{id}/proposal/accept", draft.doc),
            &draft.owner,
            Some(json!({})),
        )
        .await?;
        assert_eq!(status, 200, "{accepted}");
        let changed = "Skolorna erbjuder läxhjälp varje dag.";
        editor
            .wait_for(|c| c.paragraphs().get(1).map(String::as_str) == Some(changed))
            .await
            .context("the editor's socket receives the accepted suggestion")?;
        text_becomes(&draft, &[changed, stored[1], stored[2], stored[3]]).await?;

        // Lifting the rule lets editors write again. (A new client: the first one's
        // document holds an update the server never stored, and Yjs applies a client's
        // updates only in order; the web app never gets there, as it keeps an editor
        // suggesting while the rule holds.)
        let round = put_round(&draft, json!({ "suggestionPhases": [] })).await?;
        assert_eq!(round["suggestionsRequired"], false, "{round}");
        let mut again = WsClient::connect(&app.ws_url(&draft.doc, &editor_token)).await?;
        again.append_paragraph("Åter direkt.").await?;
        text_becomes(
            &draft,
            &[changed, stored[1], stored[2], stored[3], "Åter direkt."],
        )
        .await?;

        // Each change of the rule is in the trail, with what it replaced.
        let (status, trail) = call(
            app,
            reqwest::Method::GET,
            &format!("/api/documents/{}/audit", draft.doc),
            &draft.owner,
            None,
        )
        .await?;
        assert_eq!(status, 200, "{trail}");
        let changes: Vec<&Value> = trail
            .as_array()
            .context("entries")?
            .iter()
            .filter(|e| e["action"] == "remiss_changed")
            .collect();
        assert!(
            changes
                .iter()
                .any(|e| e["detail"]["from"]["suggestionPhases"] == json!([])
                    && e["detail"]["to"]["suggestionPhases"] == json!(["remiss"])),
            "{trail}"
        );
        assert!(
            changes.iter().any(
                |e| e["detail"]["from"]["suggestionPhases"] == json!(["remiss"])
                    && e["detail"]["to"]["suggestionPhases"] == json!([])
            ),
            "{trail}"
        );
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    the_suggestion_rule_is_for_owners_and_takes_only_phases,
    |backend| async move {
        let draft = Draft::new(backend, "Plan", DRAFT, &[(UTB, "editor")]).await?;
        let editor = draft.app.token("ulla", UTB);
        let path = format!("/api/documents/{}/remiss", draft.doc);
        let (status, body) = call(
            &draft.app,
            reqwest::Method::PUT,
            &path,
            &editor,
            Some(json!({ "suggestionPhases": ["remiss"] })),
        )
        .await?;
        assert_eq!(status, 403, "{body}");
        let (status, body) = call(
            &draft.app,
            reqwest::Method::PUT,
            &path,
            &draft.owner,
            Some(json!({ "suggestionPhases": ["utkast"] })),
        )
        .await?;
        assert!(status == 400 || status == 422, "{status} {body}");
        let (status, round) = call(&draft.app, reqwest::Method::GET, &path, &editor, None).await?;
        assert_eq!(status, 200, "{round}");
        assert_eq!(round["suggestionPhases"], json!([]));
        assert_eq!(round["suggestionsRequired"], false);
        Ok::<_, anyhow::Error>(())
    }
);
