//! Suggestions across paragraphs (issue 16): a commenter's deletion or replacement of a
//! range running from one paragraph into a later one. Accepting it joins the paragraphs
//! exactly as suggested (the rest of the last paragraph, with its marks, follows the
//! proposal; those between go), for every client, credited to the suggesting
//! organisation; a range over a table, too long a range or reversed ends are refused;
//! an edit inside the range after suggesting makes accepting answer 409 with both texts.

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use yrs::types::xml::XmlOut;
use yrs::{GetString, ReadTxn, Text, Transact, XmlFragment};

use crate::both_dbs;
use crate::helpers::*;

const DRAFT: &str = "# Plan\n\n\
Skolorna erbjuder läxhjälp varje vecka.\n\n\
Biblioteken har öppet på kvällarna.\n\n\
Parkerna sköts av *stadsmiljöförvaltningen* varje år.\n\n\
Idrottshallerna rustas.\n\n\
Badhuset byggs om.\n\n\
| Förvaltning | Ansvar |\n\
| --- | --- |\n\
| Kultur | Bibliotek |\n\n\
Efter tabellen kommer ett stycke.\n";
const UTB: &str = "utbildningsforvaltningen";
const KULTUR: &str = "kulturforvaltningen";

struct Scenario {
    draft: Draft,
    reader: WsClient,
    utb: String,
    kultur: String,
}

impl Scenario {
    async fn new(backend: Backend, markdown: &str) -> Result<Self> {
        let draft = Draft::new(
            backend,
            "Plan",
            markdown,
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

    /// Suggests replacing the range from the start of `from` (in block `first`) to the
    /// end of `to` (in block `last`) with `proposal`.
    async fn suggest(
        &self,
        token: &str,
        (first, from): (u32, &str),
        (last, to): (u32, &str),
        proposal: &str,
    ) -> Result<(u16, Value)> {
        let start = position(&self.reader, first, from, false)?;
        let end = position(&self.reader, last, to, true)?;
        self.open(token, json!({ "start": start, "end": end }), proposal)
            .await
    }

    async fn open(&self, token: &str, anchor: Value, proposal: &str) -> Result<(u16, Value)> {
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

    async fn accept(&self, thread: &str, body: Value) -> Result<(u16, Value)> {
        call(
            &self.draft.app,
            reqwest::Method::POST,
            &format!(
                "/api/documents/{}/threads/{thread}/proposal/accept",
                self.draft.doc
            ),
            &self.draft.owner,
            Some(body),
        )
        .await
    }

    /// Waits until a fresh client of the owner sees exactly these blocks.
    async fn until_blocks_are(&self, expected: &[&str]) -> Result<()> {
        let mut watcher =
            WsClient::connect(&self.draft.app.ws_url(&self.draft.doc, &self.draft.owner)).await?;
        watcher
            .wait_for(|c| blocks(c) == expected)
            .await
            .with_context(|| {
                format!(
                    "the blocks never became {expected:?}: {:?}",
                    blocks(&watcher)
                )
            })
    }

    async fn markdown(&self) -> Result<String> {
        let path = format!("/api/documents/{}/markdown", self.draft.doc);
        let (status, text) = self.draft.app.get_text(&self.draft.owner, &path).await?;
        anyhow::ensure!(status == 200, "markdown: {status}");
        Ok(text)
    }

    /// The characters per organisation standing in block `index`.
    async fn written_by(&self, index: usize) -> Result<Vec<(String, u64)>> {
        let path = format!("/api/documents/{}/attribution", self.draft.doc);
        let (status, body) = call(
            &self.draft.app,
            reqwest::Method::GET,
            &path,
            &self.draft.owner,
            None,
        )
        .await?;
        anyhow::ensure!(status == 200, "attribution: {status} {body}");
        let orgs = body["paragraphs"][index]["organisations"]
            .as_array()
            .context("organisations")?;
        Ok(orgs
            .iter()
            .map(|o| {
                let org = o["org"].as_str().unwrap_or_default().to_owned();
                (org, o["characters"].as_u64().unwrap_or(0))
            })
            .collect())
    }
}

/// A base64 relative position in block `block`'s text: before the first occurrence of
/// `word`, or after it (`after`).
fn position(client: &WsClient, block: u32, word: &str, after: bool) -> Result<String> {
    use base64::Engine;
    use yrs::updates::encoder::Encode;
    use yrs::{Assoc, IndexedSequence};
    let txn = client.doc.transact();
    let frag = txn.get_xml_fragment("default").context("no content")?;
    let Some(XmlOut::Element(element)) = frag.get(&txn, block) else {
        bail!("no block {block}");
    };
    let Some(XmlOut::Text(text)) = element.get(&txn, 0) else {
        bail!("block {block} has no text");
    };
    let plain = plain_text(&text, &txn);
    let at = plain
        .find(word)
        .with_context(|| format!("{word} not in {plain}"))?;
    let at = if after { at + word.len() } else { at };
    let index = plain[..at].encode_utf16().count() as u32;
    let sticky = text
        .sticky_index(&txn, index, Assoc::After)
        .or_else(|| {
            (index == text.len(&txn)).then(|| {
                yrs::StickyIndex::new(
                    yrs::IndexScope::from_branch(yrs::branch::BranchPtr::from(AsRef::<
                        yrs::branch::Branch,
                    >::as_ref(
                        &text
                    ))),
                    Assoc::After,
                )
            })
        })
        .context("position")?;
    Ok(base64::engine::general_purpose::STANDARD.encode(sticky.encode_v1()))
}

/// A block's text without the mark tags `XmlText::get_string` puts in.
fn plain_text<T: ReadTxn>(text: &yrs::XmlTextRef, txn: &T) -> String {
    let branch = yrs::branch::BranchPtr::from(AsRef::<yrs::branch::Branch>::as_ref(text));
    yrs::TextRef::from(branch).get_string(txn)
}

/// The plain text of each top-level block, as a reader sees it.
fn blocks(client: &WsClient) -> Vec<String> {
    let txn = client.doc.transact();
    let Some(frag) = txn.get_xml_fragment("default") else {
        return Vec::new();
    };
    frag.children(&txn)
        .map(|child| match child {
            XmlOut::Element(el) => el
                .children(&txn)
                .filter_map(|c| match c {
                    XmlOut::Text(t) => Some(plain_text(&t, &txn)),
                    _ => None,
                })
                .collect::<String>(),
            _ => String::new(),
        })
        .collect()
}

fn units(text: &str) -> u64 {
    text.encode_utf16().count() as u64
}

both_dbs!(
    a_deletion_and_a_replacement_across_paragraphs_join_them_when_accepted,
    |backend| async move {
        let s = Scenario::new(backend, DRAFT).await?;
        let (status, replacement) = s
            .suggest(
                &s.utb,
                (2, " på kvällarna."),
                (3, "Parkerna sköts av "),
                " varje dag, och parkerna sköts av ",
            )
            .await?;
        assert_eq!(status, 201, "{replacement}");
        assert_eq!(
            replacement["anchor"]["originalQuote"],
            " på kvällarna.\nParkerna sköts av "
        );
        assert_eq!(replacement["anchor"]["paragraph"], 2);
        assert_eq!(replacement["anchor"]["state"], "attached");
        let (status, deletion) = s
            .suggest(&s.kultur, (4, " rustas."), (5, "Badhuset"), "")
            .await?;
        assert_eq!(status, 201, "{deletion}");
        assert_eq!(deletion["anchor"]["originalQuote"], " rustas.\nBadhuset");

        // Nothing changes before an owner decides.
        let before = [
            "Plan",
            "Skolorna erbjuder läxhjälp varje vecka.",
            "Biblioteken har öppet på kvällarna.",
            "Parkerna sköts av stadsmiljöförvaltningen varje år.",
            "Idrottshallerna rustas.",
            "Badhuset byggs om.",
            "",
            "Efter tabellen kommer ett stycke.",
        ];
        s.until_blocks_are(&before).await?;

        for thread in [&replacement, &deletion] {
            let id = thread["id"].as_str().context("id")?;
            let (status, accepted) = s.accept(id, json!({})).await?;
            assert_eq!(status, 200, "{accepted}");
            assert_eq!(accepted["resolution"]["outcome"], "beaktad");
        }
        let joined = "Biblioteken har öppet varje dag, och parkerna sköts av stadsmiljöförvaltningen varje år.";
        s.until_blocks_are(&[
            "Plan",
            "Skolorna erbjuder läxhjälp varje vecka.",
            joined,
            "Idrottshallerna byggs om.",
            "",
            "Efter tabellen kommer ett stycke.",
        ])
        .await?;
        // The last paragraph's rest keeps its marks; the table is untouched.
        let markdown = s.markdown().await?;
        assert!(
            markdown.contains("och parkerna sköts av *stadsmiljöförvaltningen* varje år."),
            "{markdown}"
        );
        assert!(markdown.contains("| Kultur | Bibliotek |"), "{markdown}");

        // The joined text is the suggesting organisation's: the proposal and the rest it
        // carried over from the last paragraph (a join re-inserts it).
        let shares = s.written_by(2).await?;
        let utb = shares.iter().find(|(org, _)| org == UTB).map(|(_, n)| *n);
        assert_eq!(
            utb,
            Some(
                units(" varje dag, och parkerna sköts av ")
                    + units("stadsmiljöförvaltningen varje år.")
            ),
            "{shares:?}"
        );
        let shares = s.written_by(3).await?;
        let kultur = shares
            .iter()
            .find(|(org, _)| org == KULTUR)
            .map(|(_, n)| *n);
        assert_eq!(kultur, Some(units(" byggs om.")), "{shares:?}");
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    a_range_over_a_table_too_long_a_range_or_reversed_ends_are_refused,
    |backend| async move {
        let long = "lång ".repeat(1_100);
        let many: String = (1..=11).map(|n| format!("Stycke {n}.\n\n")).collect();
        let markdown = format!("{DRAFT}\n{many}{long}slut.\n\nSista stycket.\n");
        let s = Scenario::new(backend, &markdown).await?;
        let refused = |made: (u16, Value), needle: &str| {
            assert_eq!(made.0, 422, "{}", made.1);
            let message = made.1["message"].as_str().unwrap_or_default().to_owned();
            assert!(message.contains(needle), "{message}");
        };
        // Block 5 "Badhuset…", 6 the table, 7 "Efter tabellen…".
        refused(
            s.suggest(&s.utb, (5, "byggs"), (7, "Efter"), "").await?,
            "table",
        );
        // Blocks 8..=18 are "Stycke 1." … "Stycke 11.": eleven paragraphs.
        refused(
            s.suggest(&s.utb, (8, "1."), (18, "Stycke"), "").await?,
            "at most 10 paragraphs",
        );
        // Block 19 is 5,500 characters long.
        refused(
            s.suggest(&s.utb, (19, "lång"), (20, "Sista"), "").await?,
            "at most 5000 characters",
        );
        // Start after end.
        let start = position(&s.reader, 3, "varje år", false)?;
        let end = position(&s.reader, 1, "Skolorna", true)?;
        refused(
            s.open(&s.utb, json!({ "start": start, "end": end }), "")
                .await?,
            "before its start",
        );
        // Nothing was opened.
        let (status, threads) = call(
            &s.draft.app,
            reqwest::Method::GET,
            &format!("/api/documents/{}/threads", s.draft.doc),
            &s.draft.owner,
            None,
        )
        .await?;
        assert_eq!(status, 200);
        assert_eq!(threads.as_array().map(Vec::len), Some(0), "{threads}");
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    an_edit_inside_a_range_across_paragraphs_makes_accepting_it_a_conflict,
    |backend| async move {
        let s = Scenario::new(backend, DRAFT).await?;
        let (status, made) = s
            .suggest(&s.utb, (1, " varje vecka."), (2, "Biblioteken"), "")
            .await?;
        assert_eq!(status, 201, "{made}");
        let id = made["id"].as_str().context("id")?.to_owned();

        // The owner writes inside the second paragraph's part of the range.
        let mut owner =
            WsClient::connect(&s.draft.app.ws_url(&s.draft.doc, &s.draft.owner)).await?;
        owner
            .edit(|txn, frag| {
                if let Some(XmlOut::Element(block)) = frag.get(txn, 2)
                    && let Some(XmlOut::Text(text)) = block.get(txn, 0)
                {
                    text.insert(txn, 0, "Stads");
                }
            })
            .await?;
        let changed = " varje vecka.\nStadsBiblioteken";
        s.until_blocks_are(&[
            "Plan",
            "Skolorna erbjuder läxhjälp varje vecka.",
            "StadsBiblioteken har öppet på kvällarna.",
            "Parkerna sköts av stadsmiljöförvaltningen varje år.",
            "Idrottshallerna rustas.",
            "Badhuset byggs om.",
            "",
            "Efter tabellen kommer ett stycke.",
        ])
        .await?;

        let (status, conflict) = s.accept(&id, json!({})).await?;
        assert_eq!(status, 409, "{conflict}");
        assert_eq!(conflict["error"], "anchor_changed");
        assert_eq!(conflict["quote"], changed);
        assert_eq!(conflict["originalQuote"], " varje vecka.\nBiblioteken");
        let (status, listed) = call(
            &s.draft.app,
            reqwest::Method::GET,
            &format!("/api/documents/{}/threads/{id}", s.draft.doc),
            &s.draft.owner,
            None,
        )
        .await?;
        assert_eq!(status, 200);
        assert_eq!(listed["anchor"]["state"], "changed", "{listed}");
        assert_eq!(listed["status"], "open");

        // Confirmed against the text as it stands, it is applied to exactly that.
        let (status, accepted) = s.accept(&id, json!({ "expectedQuote": changed })).await?;
        assert_eq!(status, 200, "{accepted}");
        s.until_blocks_are(&[
            "Plan",
            "Skolorna erbjuder läxhjälp har öppet på kvällarna.",
            "Parkerna sköts av stadsmiljöförvaltningen varje år.",
            "Idrottshallerna rustas.",
            "Badhuset byggs om.",
            "",
            "Efter tabellen kommer ett stycke.",
        ])
        .await?;
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    a_proposal_with_paragraph_breaks_splits_the_paragraph_when_accepted,
    |backend| async move {
        let s = Scenario::new(backend, DRAFT).await?;
        // Within one paragraph: the text after the range moves to the new paragraph.
        let (status, within) = s
            .suggest(
                &s.utb,
                (1, " varje vecka."),
                (1, " varje vecka."),
                ".\nDen ges varje vecka.",
            )
            .await?;
        assert_eq!(status, 201, "{within}");
        // Across two paragraphs, ending with a break of its own.
        let (status, across) = s
            .suggest(
                &s.kultur,
                (4, " rustas."),
                (5, "Badhuset"),
                " rustas.\nSimhallen",
            )
            .await?;
        assert_eq!(status, 201, "{across}");
        // Too many breaks for one suggestion.
        let (status, refused) = s
            .suggest(&s.utb, (2, "öppet"), (2, "öppet"), &"stängt\n".repeat(10))
            .await?;
        assert_eq!(status, 422, "{refused}");
        assert!(
            refused["message"]
                .as_str()
                .is_some_and(|m| m.contains("at most 9 paragraph breaks")),
            "{refused}"
        );
        for thread in [&within, &across] {
            let id = thread["id"].as_str().context("id")?;
            let (status, accepted) = s.accept(id, json!({})).await?;
            assert_eq!(status, 200, "{accepted}");
        }
        s.until_blocks_are(&[
            "Plan",
            "Skolorna erbjuder läxhjälp.",
            "Den ges varje vecka.",
            "Biblioteken har öppet på kvällarna.",
            "Parkerna sköts av stadsmiljöförvaltningen varje år.",
            "Idrottshallerna rustas.",
            "Simhallen byggs om.",
            "",
            "Efter tabellen kommer ett stycke.",
        ])
        .await?;
        Ok::<_, anyhow::Error>(())
    }
);
