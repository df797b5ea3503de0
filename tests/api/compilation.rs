//! The remissammanställning of a municipal draft with numbered sections, as a
//! registrator would check it: sections named by the draft's own numbers ("3.2
//! Stadsutveckling"), a paragraph with two different rewordings listed first as
//! contested, the answers on the cover, and hostile text that stays text in every table.

use anyhow::{Context, Result};
use reqwest::Method;
use serde_json::{Value, json};

use crate::both_dbs;
use crate::helpers::*;
use crate::remiss::{answer, assert_in_order, get_export, put_round};

const PLAN: &str = "# Program för hållbar stadsutveckling 2026–2030\n\n\
Programmet anger stadens inriktning.\n\n\
## 1 Inledning\n\n\
Staden växer med 2 000 invånare per år.\n\n\
## 3 Samhällsbyggnad\n\n\
### 3.1 Bostäder\n\n\
Staden ska bygga 1 500 bostäder per år.\n\n\
### 3.2 Stadsutveckling\n\n\
Nya stadsdelar planeras med blandad bebyggelse.\n\n\
Grönytor ska bevaras i varje stadsdel.\n";

const STADSBYGGNAD: &str = "stadsbyggnadskontoret";
const MILJO: &str = "miljoforvaltningen";
const SOCIAL: &str = "socialforvaltningen";
/// Text that would break a Markdown table or start markup, if it were not escaped.
const HOSTILE: &str = "Bra | men # räcker det? <b>fet</b>";

async fn thread(
    app: &TestApp,
    token: &str,
    doc: &str,
    anchor: Value,
    body: &str,
    stance: &str,
    proposal: Option<&str>,
) -> Result<String> {
    let mut request = json!({ "anchor": anchor, "body": body, "stance": stance });
    if let Some(proposal) = proposal {
        request["proposal"] = json!(proposal);
    }
    let (status, body) = call(
        app,
        Method::POST,
        &format!("/api/documents/{doc}/threads"),
        token,
        Some(request),
    )
    .await?;
    anyhow::ensure!(status == 201, "opening a thread: {status} {body}");
    body["id"].as_str().map(str::to_owned).context("thread id")
}

both_dbs!(
    sections_keep_the_drafts_numbers_and_conflicting_proposals_come_first,
    |backend| async move {
        let Draft { app, owner, doc } = Draft::new(
            backend,
            "Program för hållbar stadsutveckling",
            PLAN,
            &[
                (STADSBYGGNAD, "commenter"),
                (MILJO, "commenter"),
                (SOCIAL, "commenter"),
            ],
        )
        .await?;
        let (status, body) = put_round(
            &app,
            &owner,
            &doc,
            json!({ "diarienummer": "KS 2026/0412", "phase": "remiss" }),
        )
        .await?;
        assert_eq!(status, 200, "{body}");
        let (sbk, miljo, social) = (
            app.token("anna", STADSBYGGNAD),
            app.token("erik", MILJO),
            app.token("olle", SOCIAL),
        );
        let watcher = WsClient::connect(&app.ws_url(&doc, &sbk)).await?;
        thread(
            &app,
            &sbk,
            &doc,
            watcher.anchor_for("blandad")?,
            "Skriv tät.",
            "andringsforslag",
            Some("blandad och tät"),
        )
        .await?;
        thread(
            &app,
            &miljo,
            &doc,
            watcher.anchor_for("blandad")?,
            "Skriv gles.",
            "andringsforslag",
            Some("gles"),
        )
        .await?;
        let bostader = thread(
            &app,
            &social,
            &doc,
            watcher.anchor_for("1 500 bostäder")?,
            HOSTILE,
            "tillstyrker",
            None,
        )
        .await?;
        thread(
            &app,
            &miljo,
            &doc,
            watcher.anchor_for("Grönytor")?,
            "Bra.",
            "ingen_erinran",
            None,
        )
        .await?;
        let (status, body) = call(
            &app,
            Method::POST,
            &format!("/api/documents/{doc}/threads/{bostader}/resolve"),
            &owner,
            Some(json!({ "outcome": "beaktad", "motivation": "Står kvar." })),
        )
        .await?;
        assert_eq!(status, 200, "{body}");
        let done = json!({ "status": "done", "statement": "Stadsbyggnadskontoret tillstyrker." });
        assert_eq!(answer(&app, &sbk, &doc, done).await?.0, 200);
        let declined = json!({ "status": "declined" });
        assert_eq!(answer(&app, &miljo, &doc, declined).await?.0, 200);
        watcher.close().await?;

        let path = |format: &str| format!("/api/documents/{doc}/compilation?format={format}");
        let (_, markdown) = get_export(&app, &sbk, &path("markdown")).await?;
        let markdown = String::from_utf8(markdown)?;
        assert_in_order(
            &markdown,
            &[
                "| stadsbyggnadskontoret | Svarat | ",
                "| miljoforvaltningen | Avstått | ",
                "| socialforvaltningen | Har inte svarat | – |",
                "## Samsynsmatris",
                "| Stycke | stadsbyggnadskontoret | miljoforvaltningen | socialforvaltningen |",
                "| 3.2 Stadsutveckling, stycke 1 (omstritt) | Ändringsförslag – Ej avgjord | Ändringsförslag – Ej avgjord | – |",
                "| 3.1 Bostäder, stycke 1 | – | – | Tillstyrker – Beaktad |",
                "| 3.2 Stadsutveckling, stycke 2 | – | Ingen erinran – Ej avgjord | – |",
                "## Synpunkter per avsnitt",
                "### 3.1 Bostäder",
                "Bra \\| men # räcker det? \\<b>fet\\</b>",
                "### 3.2 Stadsutveckling",
                "| blandad och tät |",
                "| gles |",
            ],
        );
        // No block counters, and the tag stays escaped ("\<b>", never a bare "<b>").
        assert!(
            !markdown.contains("Stycke 1") && !markdown.contains("det? <b>"),
            "{markdown}"
        );

        let (_, docx) = get_export(&app, &sbk, &path("docx")).await?;
        let word = crate::word::read(&docx)?;
        assert_eq!(
            (word.title.as_str(), word.author.as_str()),
            (
                "Remissammanställning: Program för hållbar stadsutveckling",
                "stadsledningskontoret"
            )
        );
        assert_eq!(
            word.header,
            "KS 2026/0412 · Remissammanställning: Program för hållbar stadsutveckling"
        );
        let sections: Vec<&str> = word
            .headings
            .iter()
            .filter(|(style, _)| style == "Heading 3")
            .map(|(_, text)| text.as_str())
            .take(2)
            .collect();
        assert_eq!(sections, ["3.1 Bostäder", "3.2 Stadsutveckling"]);
        let matrix = word.table(&["Stycke", STADSBYGGNAD])?;
        let rows: Vec<&str> = matrix.rows.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(
            rows,
            [
                "Stycke",
                "3.2 Stadsutveckling, stycke 1 (omstritt)",
                "3.1 Bostäder, stycke 1",
                "3.2 Stadsutveckling, stycke 2",
            ]
        );
        let points = word.table(&["Stycke", "Organisation", "Ställningstagande"])?;
        assert!(
            points.rows[1][4].ends_with(HOSTILE),
            "Word keeps the text as written: {:?}",
            points.rows[1]
        );
        let stances = word.table(&["Organisation", "Tillstyrker"])?;
        assert_eq!(stances.row(MILJO)?, &[MILJO, "0", "0", "1", "1", "0", "2"]);

        // As PDF/A: the cover, the summary, the matrix and the points in reading order,
        // åäö intact, each table tagged with header cells.
        let (kind, pdf) = get_export(&app, &sbk, &path("pdf")).await?;
        assert_eq!(kind, "application/pdf");
        let pdf = crate::pdf::read(&pdf)?;
        pdf.assert_archival(
            "Remissammanställning: Program för hållbar stadsutveckling",
            "stadsledningskontoret",
        );
        assert!(pdf.pages()? > 1, "{:#?}", pdf.info);
        assert!(
            pdf.tags("Table") >= 6 && pdf.tags("TH") > 20,
            "{}",
            pdf.structure
        );
        assert!(
            pdf.text.starts_with(
                "KS 2026/0412 · Remissammanställning: Program för hållbar stadsutveckling"
            ),
            "the running header: {}",
            pdf.text
        );
        assert_in_order(
            &pdf.flat_text(),
            &[
                "Diarienummer: KS 2026/0412",
                "Ägare: stadsledningskontoret",
                "Remissinstanser och deras svar",
                "Sammanfattning per organisation",
                "Synpunkter per ställningstagande",
                "Samsynsmatris",
                "3.2 Stadsutveckling, stycke 1 (omstritt)",
                "Synpunkter per avsnitt",
                "3.1 Bostäder",
                "Bra | men # räcker det?",
                "3.2 Stadsutveckling",
                "Skriv tät.",
                "Skriv gles.",
                "Yttranden",
                "Stadsbyggnadskontoret tillstyrker.",
            ],
        );
        // A cell's lines may be broken anywhere Unicode allows ("</" | "b>"); without
        // the breaks the hostile comment is there as written.
        assert!(
            pdf.text_without_spaces()
                .contains(&HOSTILE.replace(' ', "")),
            "{}",
            pdf.text
        );

        let (_, html) = get_export(&app, &sbk, &path("html")).await?;
        let html = String::from_utf8(html)?;
        assert!(
            html.contains("<th scope=\"row\">3.2 Stadsutveckling, stycke 1 (omstritt)</th>")
                && html.contains("&lt;b&gt;fet&lt;/b&gt;")
                && !html.contains("<b>"),
            "{html}"
        );

        // The same matrix as data for the web app's Remiss tab, each point with its thread.
        let (status, matrix) = call(
            &app,
            Method::GET,
            &format!("/api/documents/{doc}/remiss/matrix"),
            &sbk,
            None,
        )
        .await?;
        assert_eq!(status, 200, "{matrix}");
        let columns: Vec<&str> = matrix["organisations"]
            .as_array()
            .context("organisations")?
            .iter()
            .filter_map(|o| o["id"].as_str())
            .collect();
        assert_eq!(columns, [STADSBYGGNAD, MILJO, SOCIAL]);
        let rows = matrix["rows"].as_array().context("rows")?;
        let labels: Vec<(String, Value, bool)> = rows
            .iter()
            .map(|r| {
                let section = r["section"].as_str().unwrap_or("").to_owned();
                (
                    section,
                    r["paragraphInSection"].clone(),
                    r["contested"] == true,
                )
            })
            .collect();
        assert_eq!(
            labels,
            [
                ("3.2 Stadsutveckling".to_owned(), json!(1), true),
                ("3.1 Bostäder".to_owned(), json!(1), false),
                ("3.2 Stadsutveckling".to_owned(), json!(2), false),
            ]
        );
        assert_eq!(rows[0]["cells"][0][0]["stance"], "andringsforslag");
        assert_eq!(rows[0]["cells"][0][0]["outcome"], Value::Null);
        assert_eq!(rows[0]["cells"][2], json!([]));
        assert_eq!(
            rows[1]["cells"][2],
            json!([{ "thread": bostader, "stance": "tillstyrker", "outcome": "beaktad" }])
        );
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    a_named_version_downloads_as_word_html_and_markdown,
    |backend| async move {
        let Draft { app, owner, doc } = Draft::new(
            backend,
            "Program för hållbar stadsutveckling",
            PLAN,
            &[(SOCIAL, "viewer")],
        )
        .await?;
        let (status, body) = put_round(
            &app,
            &owner,
            &doc,
            json!({ "diarienummer": "KS 2026/0412" }),
        )
        .await?;
        assert_eq!(status, 200, "{body}");
        let (status, version) = call(
            &app,
            Method::POST,
            &format!("/api/documents/{doc}/versions"),
            &owner,
            Some(json!({ "name": "Remissversion <1>" })),
        )
        .await?;
        assert_eq!(status, 201, "{version}");
        let vid = version["id"].as_str().context("version id")?;
        let reader = app.token("olle", SOCIAL);
        let path =
            |format: &str| format!("/api/documents/{doc}/versions/{vid}/export?format={format}");

        let (kind, docx) = get_export(&app, &reader, &path("docx")).await?;
        assert!(kind.starts_with("application/vnd.openxmlformats"), "{kind}");
        let word = crate::word::read(&docx)?;
        assert_eq!(
            word.title,
            "Program för hållbar stadsutveckling – Remissversion <1>"
        );
        assert_eq!(word.author, "stadsledningskontoret");
        assert!(word.header.starts_with("KS 2026/0412 · ") && word.page_numbers);
        let headings: Vec<(&str, &str)> = word
            .headings
            .iter()
            .map(|(s, t)| (s.as_str(), t.as_str()))
            .collect();
        assert_eq!(
            headings,
            [
                ("Heading 1", "Program för hållbar stadsutveckling 2026–2030"),
                ("Heading 2", "1 Inledning"),
                ("Heading 2", "3 Samhällsbyggnad"),
                ("Heading 3", "3.1 Bostäder"),
                ("Heading 3", "3.2 Stadsutveckling"),
            ]
        );

        let (_, html) = get_export(&app, &reader, &path("html")).await?;
        let html = String::from_utf8(html)?;
        assert_in_order(
            &html,
            &[
                "<html lang=\"sv\">",
                "Remissversion &lt;1&gt;",
                "<h3>3.2 Stadsutveckling</h3>",
                "<p>Grönytor ska bevaras i varje stadsdel.</p>",
            ],
        );
        let (_, markdown) = get_export(&app, &reader, &path("markdown")).await?;
        assert!(String::from_utf8(markdown)?.contains("### 3.1 Bostäder"));

        let (kind, pdf) = get_export(&app, &reader, &path("pdf")).await?;
        assert_eq!(kind, "application/pdf");
        let pdf = crate::pdf::read(&pdf)?;
        pdf.assert_archival(
            "Program för hållbar stadsutveckling – Remissversion <1>",
            "stadsledningskontoret",
        );
        assert_in_order(
            &pdf.text,
            &[
                "KS 2026/0412 · Program för hållbar stadsutveckling – Remissversion <1>",
                "Version: Remissversion <1>",
                "Program för hållbar stadsutveckling 2026–2030",
                "3.2 Stadsutveckling",
                "Grönytor ska bevaras i varje stadsdel.",
                "Sida 1 av 1",
            ],
        );

        for (format, want) in [("csv", 422), ("json", 422), ("pdfa", 400)] {
            let (status, _) = call(&app, Method::GET, &path(format), &reader, None).await?;
            assert_eq!(status, want, "{format}");
        }
        let missing = format!("/api/documents/{doc}/versions/nope/export");
        let (status, _) = call(&app, Method::GET, &missing, &reader, None).await?;
        assert_eq!(status, 404);
        let stranger = app.token("eva", "kulturforvaltningen");
        let (status, _) = call(&app, Method::GET, &path("docx"), &stranger, None).await?;
        assert_eq!(status, 403);
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    suggestions_read_as_tracked_changes_with_their_decision,
    |backend| async move {
        const UTB: &str = "utbildningsforvaltningen";
        let Draft { app, owner, doc } = Draft::new(
            backend,
            "Plan",
            "# Plan\n\nSkolorna erbjuder läxhjälp varje vecka till alla elever.\n",
            &[(UTB, "commenter")],
        )
        .await?;
        let ulla = app.token("ulla", UTB);
        let client = WsClient::connect(&app.ws_url(&doc, &ulla)).await?;
        let suggest = |anchor: Value, proposal: &'static str| {
            let (app, ulla, doc) = (&app, &ulla, &doc);
            async move {
                let request = json!({ "anchor": anchor, "body": "", "proposal": proposal, "kind": "suggestion" });
                let (status, body) = call(
                    app,
                    Method::POST,
                    &format!("/api/documents/{doc}/threads"),
                    ulla,
                    Some(request),
                )
                .await?;
                anyhow::ensure!(status == 201, "suggesting: {status} {body}");
                body["id"].as_str().map(str::to_owned).context("id")
            }
        };
        let after = client.anchor_for("läxhjälp")?;
        let point = json!({ "start": after["end"], "end": after["end"] });
        let insert = suggest(point, " och studiestöd").await?;
        let strike = suggest(client.anchor_for("varje vecka ")?, "").await?;
        suggest(client.anchor_for("alla elever")?, "varje elev").await?;
        let decide = |thread: String, verb: &'static str| {
            let (app, owner, doc) = (&app, &owner, &doc);
            async move {
                let (status, body) = call(
                    app,
                    Method::POST,
                    &format!("/api/documents/{doc}/threads/{thread}/proposal/{verb}"),
                    owner,
                    Some(json!({ "motivation": "Beslutat." })),
                )
                .await?;
                anyhow::ensure!(status == 200, "{verb}: {status} {body}");
                Ok::<_, anyhow::Error>(())
            }
        };
        decide(insert, "accept").await?;
        decide(strike, "reject").await?;

        let path = |format: &str| format!("/api/documents/{doc}/compilation?format={format}");
        let (_, markdown) = get_export(&app, &owner, &path("markdown")).await?;
        let markdown = String::from_utf8(markdown)?;
        assert!(markdown.contains("Infoga ” och studiestöd”"), "{markdown}");
        assert!(
            markdown.contains("Godkänd och införd av maria"),
            "{markdown}"
        );
        assert!(markdown.contains("Stryk ”varje vecka ”"), "{markdown}");
        assert!(markdown.contains("Avvisad av maria"), "{markdown}");
        assert!(
            markdown.contains("Ersätt ”alla elever” med ”varje elev”"),
            "{markdown}"
        );
        assert!(markdown.contains("Öppen (inte avgjord)"), "{markdown}");

        let (_, docx) = get_export(&app, &owner, &path("docx")).await?;
        let word = crate::word::read(&docx)?;
        let counts = word.table(&["Organisation", "Godkända och införda"])?;
        assert_eq!(counts.rows.len(), 2, "{:?}", counts.rows);
        assert_eq!(
            counts.rows[0][2..],
            ["Avvisade", "Avgjorda på annat sätt", "Öppna", "Totalt"]
        );
        assert_eq!(
            counts.rows[1][1..],
            ["1", "1", "0", "1", "3"],
            "{:?}",
            counts.rows
        );
        let points = word.table(&["Stycke", "Organisation", "Ställningstagande"])?;
        let decided: Vec<(&str, &str)> = points
            .rows
            .iter()
            .skip(1)
            .map(|r| (r[5].as_str(), r[6].as_str()))
            .collect();
        assert!(
            decided
                .iter()
                .any(|(change, decision)| *change == "Infoga ” och studiestöd”"
                    && decision.starts_with("Godkänd och införd av ")),
            "{decided:?}"
        );
        assert!(
            decided
                .iter()
                .any(|(change, decision)| *change == "Stryk ”varje vecka ”"
                    && decision.starts_with("Avvisad av ")),
            "{decided:?}"
        );
        assert!(
            decided.iter().any(|(change, decision)| *change
                == "Ersätt ”alla elever” med ”varje elev”"
                && *decision == "Öppen (inte avgjord)"),
            "{decided:?}"
        );
        Ok::<_, anyhow::Error>(())
    }
);
