//! Change proposals against a text that moved (issue 14, finding 1): an editor types over
//! the end of an anchored phrase, then the owner accepts the proposal made on it.
//!
//! The editor's edit is made the way the browser makes it: ProseMirror replaces the
//! selection with the first typed letter, and y-prosemirror turns that into a Yjs delete
//! that keeps the letter the old and new text share ("o" of "orsaksanalys"); the rest of
//! the typing is inserted where the deleted text was, which Yjs places after it.

use anyhow::{Context, Result};
use serde_json::{Value, json};
use yrs::types::xml::XmlOut;
use yrs::{GetString, ReadTxn, Text, Transact, XmlFragment, XmlTextRef};

use crate::both_dbs;
use crate::helpers::*;

const PHRASE: &str = "metodstöd för kartläggning, orsaksanalys och uppföljning";
const TYPED_OVER: &str = "orsaksanalys och uppföljning";
const TYPED: &str = "orsaksanalys, riskbedömning och uppföljning";
const AFTER_EDIT: &str = "metodstöd för kartläggning, orsaksanalys, riskbedömning och uppföljning";
const PROPOSAL: &str = "metodstöd för kartläggning, riskanalys och uppföljning";
const BEFORE: &str = "Stadsdelsförvaltningarna tar fram ";
const AFTER: &str = ", samt följer upp arbetet varje år.";

/// A draft with the phrase in its one paragraph, an editor and a commenter, and a thread
/// on the phrase proposing new wording.
struct Scenario {
    draft: Draft,
    editor: WsClient,
    thread: String,
}

impl Scenario {
    async fn new(backend: Backend) -> Result<Self> {
        let draft = Draft::new(
            backend,
            "Handlingsplan",
            &format!("# Handlingsplan\n\n{BEFORE}{PHRASE}{AFTER}\n"),
            &[
                ("socialforvaltningen", "commenter"),
                ("stadsbyggnadskontoret", "editor"),
            ],
        )
        .await?;
        let editor_token = draft.app.token("erik", "stadsbyggnadskontoret");
        let editor = WsClient::connect(&draft.app.ws_url(&draft.doc, &editor_token)).await?;
        let commenter = draft.app.token("siv", "socialforvaltningen");
        let request = json!({ "anchor": editor.anchor_for(PHRASE)?, "body": "Riskanalys är det gängse ordet.", "proposal": PROPOSAL });
        let (status, thread) = call(
            &draft.app,
            reqwest::Method::POST,
            &format!("/api/documents/{}/threads", draft.doc),
            &commenter,
            Some(request),
        )
        .await?;
        anyhow::ensure!(status == 201, "open thread: {status} {thread}");
        let thread = thread["id"].as_str().context("thread id")?.to_owned();
        Ok(Self {
            draft,
            editor,
            thread,
        })
    }

    /// The editor selects the end of the phrase and types new words over it, as a browser
    /// does; returns once the server has relayed the edit back to another client (so it
    /// is in the room's document).
    async fn type_over_the_end(&mut self) -> Result<()> {
        let at = utf16_index(&self.editor, TYPED_OVER)? + 1;
        let deleted = TYPED_OVER.encode_utf16().count() as u32 - 1;
        self.editor
            .edit(move |txn, frag| {
                if let Some(text) = paragraph_text(txn, frag) {
                    text.remove_range(txn, at, deleted);
                }
            })
            .await?;
        let typed = TYPED[1..].to_owned();
        self.editor
            .edit(move |txn, frag| {
                if let Some(text) = paragraph_text(txn, frag) {
                    text.insert(txn, at, &typed);
                }
            })
            .await?;
        let expected = format!("{BEFORE}{AFTER_EDIT}{AFTER}");
        self.until_paragraph_is(&expected).await
    }

    /// Waits until a fresh client sees the paragraph as `expected`.
    async fn until_paragraph_is(&self, expected: &str) -> Result<()> {
        let app = &self.draft.app;
        let mut watcher =
            WsClient::connect(&app.ws_url(&self.draft.doc, &self.draft.owner)).await?;
        watcher
            .wait_for(|c| c.paragraphs().get(1).map(String::as_str) == Some(expected))
            .await
            .with_context(|| format!("the paragraph never became {expected:?}"))
    }

    async fn thread(&self) -> Result<Value> {
        let (status, thread) = call(
            &self.draft.app,
            reqwest::Method::GET,
            &format!("/api/documents/{}/threads/{}", self.draft.doc, self.thread),
            &self.draft.owner,
            None,
        )
        .await?;
        anyhow::ensure!(status == 200, "get thread: {status} {thread}");
        Ok(thread)
    }

    async fn accept(&self, body: Value) -> Result<(u16, Value)> {
        call(
            &self.draft.app,
            reqwest::Method::POST,
            &format!(
                "/api/documents/{}/threads/{}/proposal/accept",
                self.draft.doc, self.thread
            ),
            &self.draft.owner,
            Some(body),
        )
        .await
    }
}

/// The paragraph's text (the second block, after the heading).
fn paragraph_text<T: ReadTxn>(txn: &T, frag: &yrs::XmlFragmentRef) -> Option<XmlTextRef> {
    match frag.get(txn, 1)? {
        XmlOut::Element(paragraph) => match paragraph.get(txn, 0)? {
            XmlOut::Text(text) => Some(text),
            _ => None,
        },
        _ => None,
    }
}

/// Where `needle` starts in the paragraph, in UTF-16 units as Yjs counts.
fn utf16_index(client: &WsClient, needle: &str) -> Result<u32> {
    let txn = client.doc.transact();
    let frag = txn.get_xml_fragment("default").context("no content")?;
    let text = paragraph_text(&txn, &frag).context("no paragraph")?;
    let plain = text.get_string(&txn);
    let at = plain.find(needle).context("not in the paragraph")?;
    Ok(plain[..at].encode_utf16().count() as u32)
}

both_dbs!(
    typing_over_the_end_of_an_anchor_keeps_the_new_words_inside_it,
    |backend| async move {
        let mut scenario = Scenario::new(backend).await?;
        assert_eq!(scenario.thread().await?["anchor"]["quote"], PHRASE);

        scenario.type_over_the_end().await?;

        let anchor = &scenario.thread().await?["anchor"];
        // Not "metodstöd för kartläggning, o": the words typed over the end are inside.
        assert_eq!(anchor["quote"], AFTER_EDIT, "{anchor}");
        assert_eq!(anchor["state"], "changed");
        assert_eq!(anchor["originalQuote"], PHRASE);
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    accepting_a_proposal_on_changed_text_needs_the_current_text_confirmed,
    |backend| async move {
        let mut scenario = Scenario::new(backend).await?;
        scenario.type_over_the_end().await?;

        let (status, refused) = scenario
            .accept(json!({ "motivation": "Vi tar förslaget." }))
            .await?;
        assert_eq!(status, 409, "{refused}");
        assert_eq!(refused["error"], "anchor_changed");
        assert_eq!(refused["quote"], AFTER_EDIT);
        assert_eq!(refused["originalQuote"], PHRASE);
        // Nothing was applied and the thread is still open.
        scenario
            .until_paragraph_is(&format!("{BEFORE}{AFTER_EDIT}{AFTER}"))
            .await?;
        assert_eq!(scenario.thread().await?["status"], "open");

        // A confirmation of some other text (the original, or a stale fragment) is refused.
        for stale in [PHRASE, "metodstöd för kartläggning, o"] {
            let (status, refused) = scenario
                .accept(json!({ "motivation": "Vi tar förslaget.", "expectedQuote": stale }))
                .await?;
            assert_eq!(status, 409, "{stale}: {refused}");
            assert_eq!(refused["error"], "anchor_changed");
            assert_eq!(refused["quote"], AFTER_EDIT);
        }

        let (status, done) = scenario
            .accept(json!({ "motivation": "Vi tar förslaget.", "expectedQuote": AFTER_EDIT }))
            .await?;
        assert_eq!(status, 200, "{done}");
        assert_eq!(done["status"], "resolved");
        assert_eq!(done["anchor"]["quote"], PROPOSAL);
        // Exactly the proposal where the current text was: no fragment of either wording.
        scenario
            .until_paragraph_is(&format!("{BEFORE}{PROPOSAL}{AFTER}"))
            .await?;
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    accepting_a_proposal_whose_text_is_gone_is_refused,
    |backend| async move {
        let mut scenario = Scenario::new(backend).await?;
        let at = utf16_index(&scenario.editor, PHRASE)?;
        let len = PHRASE.encode_utf16().count() as u32;
        scenario
            .editor
            .edit(move |txn, frag| {
                if let Some(text) = paragraph_text(txn, frag) {
                    text.remove_range(txn, at, len);
                }
            })
            .await?;
        scenario
            .until_paragraph_is(&format!("{BEFORE}{AFTER}"))
            .await?;

        for body in [
            json!({ "motivation": "Vi tar förslaget." }),
            json!({ "motivation": "Vi tar förslaget.", "expectedQuote": "" }),
        ] {
            let (status, refused) = scenario.accept(body).await?;
            assert_eq!(status, 409, "{refused}");
            assert_eq!(refused["error"], "anchor_orphaned");
            assert_eq!(refused["quote"], "");
            assert_eq!(refused["originalQuote"], PHRASE);
        }
        scenario
            .until_paragraph_is(&format!("{BEFORE}{AFTER}"))
            .await?;
        assert_eq!(scenario.thread().await?["status"], "open");
        Ok::<_, anyhow::Error>(())
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_description_names_expected_quote_and_the_anchor_conflicts() -> Result<()> {
    let app = TestApp::spawn(Backend::Sqlite).await?;
    let spec: Value = app
        .http
        .get(app.url("/api/openapi.json"))
        .send()
        .await?
        .json()
        .await?;
    let schemas = &spec["components"]["schemas"];
    assert!(
        schemas["DecideProposalRequest"]["properties"]["expectedQuote"].is_object(),
        "{}",
        schemas["DecideProposalRequest"]
    );
    let conflict = &spec["paths"]["/api/documents/{id}/threads/{thread_id}/proposal/accept"]["post"]
        ["responses"]["409"];
    assert!(
        conflict["description"]
            .as_str()
            .is_some_and(|d| d.contains("anchor_changed") && d.contains("anchor_orphaned")),
        "{conflict}"
    );
    for field in ["quote", "originalQuote"] {
        assert!(
            schemas["AnchorConflictResponse"]["properties"][field].is_object(),
            "{field}"
        );
    }
    Ok(())
}
