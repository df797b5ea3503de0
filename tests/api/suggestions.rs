//! Suggesting mode (issue 16): a commenter's insertion, deletion and replacement are
//! threads of kind `suggestion`, never changes to the document until an owner accepts
//! them; accepting applies exactly what was suggested, attributed to the suggesting
//! organisation and recorded in the audit trail; a bulk decision skips and lists the
//! suggestions whose text changed.

use anyhow::{Context, Result};
use serde_json::{Value, json};
use yrs::types::xml::XmlOut;
use yrs::{GetString, ReadTxn, Text, Transact, XmlFragment, XmlTextRef};

use crate::both_dbs;
use crate::helpers::*;

const DRAFT: &str = "# Plan\n\nSkolorna erbjuder läxhjälp varje vecka till alla elever.\n\nBiblioteken har öppet.\n";
const PARAGRAPH: &str = "Skolorna erbjuder läxhjälp varje vecka till alla elever.";
const UTB: &str = "utbildningsforvaltningen";
const KULTUR: &str = "kulturforvaltningen";

/// A draft owned by stadsledningskontoret with two commenting förvaltningar, and a
/// client of the first to make anchors with.
struct Scenario {
    draft: Draft,
    reader: WsClient,
    utb: String,
    kultur: String,
}

impl Scenario {
    async fn new(backend: Backend) -> Result<Self> {
        let draft = Draft::new(
            backend,
            "Plan",
            DRAFT,
            &[(UTB, "commenter"), (KULTUR, "commenter")],
        )
        .await?;
        let utb = draft.app.token("ulla", UTB);
        let kultur = draft.app.token("kalle", KULTUR);
        let reader = WsClient::connect(&draft.app.ws_url(&draft.doc, &utb)).await?;
        Ok(Self {
            draft,
            reader,
            utb,
            kultur,
        })
    }

    /// Suggests replacing `quote` with `proposal` (`""` deletes it).
    async fn replace(&self, token: &str, quote: &str, proposal: &str) -> Result<(u16, Value)> {
        let anchor = self.reader.anchor_for(quote)?;
        self.suggest(token, anchor, proposal).await
    }

    /// Suggests inserting `text` right after `word`.
    async fn insert_after(&self, token: &str, word: &str, text: &str) -> Result<(u16, Value)> {
        let anchor = point_after(&self.reader, word)?;
        self.suggest(token, anchor, text).await
    }

    async fn suggest(&self, token: &str, anchor: Value, proposal: &str) -> Result<(u16, Value)> {
        let request =
            json!({ "anchor": anchor, "body": "", "proposal": proposal, "kind": "suggestion" });
        call(
            &self.draft.app,
            reqwest::Method::POST,
            &format!("/api/documents/{}/threads", self.draft.doc),
            token,
            Some(request),
        )
        .await
    }

    /// Opens a suggestion and fails unless it is 201; returns its id.
    async fn suggested(&self, made: Result<(u16, Value)>) -> Result<String> {
        let (status, thread) = made?;
        anyhow::ensure!(status == 201, "suggest: {status} {thread}");
        Ok(thread["id"].as_str().context("id")?.to_owned())
    }

    async fn post(&self, path: &str, body: Value) -> Result<(u16, Value)> {
        call(
            &self.draft.app,
            reqwest::Method::POST,
            &format!("/api/documents/{}/{path}", self.draft.doc),
            &self.draft.owner,
            Some(body),
        )
        .await
    }

    async fn thread(&self, id: &str) -> Result<Value> {
        let path = format!("/api/documents/{}/threads/{id}", self.draft.doc);
        let (status, thread) = call(
            &self.draft.app,
            reqwest::Method::GET,
            &path,
            &self.draft.owner,
            None,
        )
        .await?;
        anyhow::ensure!(status == 200, "get thread: {status} {thread}");
        Ok(thread)
    }

    /// Waits until a fresh client sees the first paragraph (after the heading) as
    /// `expected`.
    async fn until_paragraph_is(&self, expected: &str) -> Result<()> {
        let app = &self.draft.app;
        let mut watcher =
            WsClient::connect(&app.ws_url(&self.draft.doc, &self.draft.owner)).await?;
        watcher
            .wait_for(|c| c.paragraphs().get(1).map(String::as_str) == Some(expected))
            .await
            .with_context(|| {
                format!(
                    "the paragraph never became {expected:?}: {:?}",
                    watcher.paragraphs()
                )
            })
    }

    async fn markdown(&self) -> Result<String> {
        let path = format!("/api/documents/{}/markdown", self.draft.doc);
        let (status, text) = self.draft.app.get_text(&self.draft.owner, &path).await?;
        anyhow::ensure!(status == 200, "markdown: {status}");
        Ok(text)
    }
}

/// A collapsed anchor (an insertion point) right after the first occurrence of `word`.
fn point_after(client: &WsClient, word: &str) -> Result<Value> {
    use base64::Engine;
    use yrs::updates::encoder::Encode;
    use yrs::{Assoc, IndexedSequence};
    let txn = client.doc.transact();
    let frag = txn.get_xml_fragment("default").context("no content")?;
    let text = paragraph_text(&txn, &frag).context("no paragraph")?;
    let plain = text.get_string(&txn);
    let at = plain.find(word).context("not in the paragraph")? + word.len();
    let index = plain[..at].encode_utf16().count() as u32;
    let point = text
        .sticky_index(&txn, index, Assoc::After)
        .context("point")?;
    let b64 = base64::engine::general_purpose::STANDARD.encode(point.encode_v1());
    Ok(json!({ "start": b64, "end": b64 }))
}

/// The first paragraph's text (the second block, after the heading).
fn paragraph_text<T: ReadTxn>(txn: &T, frag: &yrs::XmlFragmentRef) -> Option<XmlTextRef> {
    match frag.get(txn, 1)? {
        XmlOut::Element(paragraph) => match paragraph.get(txn, 0)? {
            XmlOut::Text(text) => Some(text),
            _ => None,
        },
        _ => None,
    }
}

/// The characters per organisation standing in block `index` (the attribution read-out).
async fn written_by(scenario: &Scenario, index: usize) -> Result<Vec<(String, u64)>> {
    let path = format!("/api/documents/{}/attribution", scenario.draft.doc);
    let (status, body) = call(
        &scenario.draft.app,
        reqwest::Method::GET,
        &path,
        &scenario.draft.owner,
        None,
    )
    .await?;
    anyhow::ensure!(status == 200, "attribution: {status} {body}");
    Ok(body["paragraphs"][index]["organisations"]
        .as_array()
        .map(|orgs| {
            orgs.iter()
                .map(|o| {
                    let org = o["org"].as_str().unwrap_or_default().to_owned();
                    (org, o["characters"].as_u64().unwrap_or(0))
                })
                .collect()
        })
        .unwrap_or_default())
}

both_dbs!(
    a_commenters_suggestions_change_the_text_only_once_accepted,
    |backend| async move {
        let s = Scenario::new(backend).await?;
        let (status, insertion) = s
            .insert_after(&s.utb, "läxhjälp", " och studiestöd")
            .await?;
        assert_eq!(status, 201, "{insertion}");
        assert_eq!(insertion["kind"], "suggestion");
        assert_eq!(insertion["stance"], "andringsforslag");
        assert_eq!(insertion["proposal"], " och studiestöd", "kept as typed");
        assert_eq!(insertion["anchor"]["originalQuote"], "");
        assert_eq!(insertion["anchor"]["state"], "attached");
        assert_eq!(insertion["anchor"]["paragraph"], 1);
        let deletion = s
            .suggested(s.replace(&s.utb, "varje vecka ", "").await)
            .await?;
        let replacement = s
            .suggested(s.replace(&s.utb, "alla elever", "varje elev").await)
            .await?;
        let insertion = insertion["id"].as_str().context("id")?.to_owned();

        // Nothing changed: not for a client, not in the export.
        s.until_paragraph_is(PARAGRAPH).await?;
        assert!(s.markdown().await?.contains(PARAGRAPH));

        let (status, rejected) = s
            .post(
                &format!("threads/{replacement}/proposal/reject"),
                json!({"motivation": "Alla ska med."}),
            )
            .await?;
        assert_eq!(status, 200, "{rejected}");
        assert_eq!(rejected["resolution"]["outcome"], "ej_beaktad");

        let (status, accepted) = s
            .post(&format!("threads/{insertion}/proposal/accept"), json!({}))
            .await?;
        assert_eq!(status, 200, "{accepted}");
        assert_eq!(accepted["anchor"]["quote"], " och studiestöd");
        s.until_paragraph_is(
            "Skolorna erbjuder läxhjälp och studiestöd varje vecka till alla elever.",
        )
        .await?;
        let (status, accepted) = s
            .post(&format!("threads/{deletion}/proposal/accept"), json!({}))
            .await?;
        assert_eq!(status, 200, "{accepted}");
        let done = "Skolorna erbjuder läxhjälp och studiestöd till alla elever.";
        s.until_paragraph_is(done).await?;
        assert!(s.markdown().await?.contains(done));

        // The inserted words are the suggesting organisation's, and the trail says so.
        let shares = written_by(&s, 1).await?;
        let utb = shares.iter().find(|(org, _)| org == UTB);
        assert_eq!(
            utb.map(|(_, n)| *n),
            Some(" och studiestöd".chars().count() as u64),
            "{shares:?}"
        );
        let (status, trail) = call(
            &s.draft.app,
            reqwest::Method::GET,
            &format!("/api/documents/{}/audit", s.draft.doc),
            &s.draft.owner,
            None,
        )
        .await?;
        assert_eq!(status, 200, "{trail}");
        let accepted: Vec<&Value> = trail
            .as_array()
            .context("entries")?
            .iter()
            .filter(|e| e["action"] == "proposal_accepted")
            .collect();
        assert_eq!(accepted.len(), 2, "{trail}");
        assert!(accepted.iter().all(|e| e["detail"]["writtenBy"] == UTB));
        assert!(accepted.iter().any(|e| e["detail"]["thread"] == insertion));
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    bulk_accepting_one_organisation_skips_and_lists_a_conflicting_suggestion,
    |backend| async move {
        let s = Scenario::new(backend).await?;
        let word = s
            .suggested(s.replace(&s.utb, "läxhjälp", "läxläsning").await)
            .await?;
        let point = s
            .suggested(s.insert_after(&s.utb, "vecka", " (minst)").await)
            .await?;
        let changed = s
            .suggested(s.replace(&s.utb, "alla elever", "varje elev").await)
            .await?;
        let theirs = s
            .suggested(s.replace(&s.kultur, "Skolorna ", "").await)
            .await?;

        // The owner types over "alla" while the suggestion waits.
        let owner_token = s.draft.owner.clone();
        let mut owner = WsClient::connect(&s.draft.app.ws_url(&s.draft.doc, &owner_token)).await?;
        let plain = PARAGRAPH.to_owned();
        let at = plain[..plain.find("alla").context("alla")?]
            .encode_utf16()
            .count() as u32;
        owner
            .edit(move |txn, frag| {
                if let Some(text) = paragraph_text(txn, frag) {
                    text.remove_range(txn, at, 4);
                    text.insert(txn, at, "samtliga");
                }
            })
            .await?;
        s.until_paragraph_is("Skolorna erbjuder läxhjälp varje vecka till samtliga elever.")
            .await?;
        assert_eq!(s.thread(&changed).await?["anchor"]["state"], "changed");

        let (status, answer) = s
            .post(
                "suggestions/accept",
                json!({"org": UTB, "motivation": "Bra."}),
            )
            .await?;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["decided"], json!([word, point]), "document order");
        let skipped = &answer["skipped"][0];
        assert_eq!(
            answer["skipped"].as_array().map(Vec::len),
            Some(1),
            "{answer}"
        );
        assert_eq!(skipped["thread"], changed.as_str());
        assert_eq!(skipped["error"], "anchor_changed");
        assert_eq!(skipped["quote"], "samtliga elever");
        assert_eq!(skipped["originalQuote"], "alla elever");
        s.until_paragraph_is(
            "Skolorna erbjuder läxläsning varje vecka (minst) till samtliga elever.",
        )
        .await?;
        // Kulturförvaltningen's suggestion was not theirs to decide.
        assert_eq!(s.thread(&theirs).await?["status"], "open");
        assert_eq!(s.thread(&changed).await?["status"], "open");

        let (status, answer) = s.post("suggestions/accept", json!({"all": true})).await?;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["decided"], json!([theirs]));
        assert_eq!(answer["skipped"][0]["thread"], changed.as_str());
        s.until_paragraph_is("erbjuder läxläsning varje vecka (minst) till samtliga elever.")
            .await?;

        let (status, answer) = s.post("suggestions/reject", json!({"all": true})).await?;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["decided"], json!([changed]));
        assert_eq!(
            s.thread(&changed).await?["resolution"]["outcome"],
            "ej_beaktad"
        );
        s.until_paragraph_is("erbjuder läxläsning varje vecka (minst) till samtliga elever.")
            .await?;

        // Only owners decide, and the request must name what to decide.
        for body in [
            json!({}),
            json!({"org": UTB, "all": true}),
            json!({"everything": 1}),
        ] {
            let (status, refused) = s.post("suggestions/accept", body.clone()).await?;
            assert!(status == 422 || status == 400, "{body}: {status} {refused}");
        }
        let (status, _) = call(
            &s.draft.app,
            reqwest::Method::POST,
            &format!("/api/documents/{}/suggestions/accept", s.draft.doc),
            &s.utb,
            Some(json!({"all": true})),
        )
        .await?;
        assert_eq!(status, 403);
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    an_insertion_accepted_twice_at_once_is_inserted_once,
    |backend| async move {
        let s = Scenario::new(backend).await?;
        let point = s
            .suggested(s.insert_after(&s.utb, "vecka", " (minst)").await)
            .await?;
        let path = format!("threads/{point}/proposal/accept");
        let (first, second) = tokio::join!(
            s.post(&path, json!({})),
            s.post("suggestions/accept", json!({"all": true}))
        );
        let (first, second) = (first?, second?);
        let single_won = first.0 == 200;
        let bulk_won = second.1["decided"] == json!([point]);
        assert!(single_won != bulk_won, "{first:?} {second:?}");
        s.until_paragraph_is("Skolorna erbjuder läxhjälp varje vecka (minst) till alla elever.")
            .await?;
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    suggestions_take_collapsed_anchors_and_any_stance_carries_a_proposal,
    |backend| async move {
        let s = Scenario::new(backend).await?;
        let point = point_after(&s.reader, "vecka")?;
        let threads = format!("/api/documents/{}/threads", s.draft.doc);
        let post = |body: Value| {
            call(
                &s.draft.app,
                reqwest::Method::POST,
                &threads,
                &s.utb,
                Some(body),
            )
        };
        // A comment still needs a range, and a suggestion needs a proposal.
        let (status, _) = post(json!({"anchor": point, "body": "Här."})).await?;
        assert_eq!(status, 422);
        let (status, _) = post(json!({"anchor": point, "body": "", "kind": "suggestion"})).await?;
        assert_eq!(status, 422);
        // An insertion of nothing, or a replacement by the same text, changes nothing.
        let (status, _) = s.suggest(&s.utb, point.clone(), "").await?;
        assert_eq!(status, 422);
        let (status, _) = s.replace(&s.utb, "alla", "alla").await?;
        assert_eq!(status, 422);
        // A suggestion may run into the next paragraph (suggestions_across.rs), but its
        // end may not lie before its start.
        let reversed = json!({
            "start": s.reader.anchor_for("Biblioteken")?["start"],
            "end": s.reader.anchor_for("elever")?["end"],
        });
        let (status, refused) = s.suggest(&s.utb, reversed, "x").await?;
        assert_eq!(status, 422, "{refused}");

        let (status, thread) = post(json!({
            "anchor": s.reader.anchor_for("varje vecka")?, "body": "Bra, men oftare.",
            "stance": "tillstyrker", "proposal": "två gånger i veckan"
        }))
        .await?;
        assert_eq!(status, 201, "{thread}");
        assert_eq!(thread["stance"], "tillstyrker");
        assert_eq!(thread["kind"], "comment");
        assert_eq!(thread["proposal"], "två gånger i veckan");
        Ok::<_, anyhow::Error>(())
    }
);
