//! Tables and links in a draft (issue 16): a Markdown import with a GFM table and a link
//! reads back as a table and a link in every read-out (Markdown, HTML, text, a named
//! version's DOCX read by python-docx and PDF read by pdftotext); a `javascript:` link a
//! hostile client stores never reaches an export as a link; a huge table is refused with
//! a clear error; a comment anchored in a table cell lists with its block and quote.

use std::io::Read;

use anyhow::{Context, Result};
use reqwest::Method;
use serde_json::{Value, json};
use yrs::types::Attrs;
use yrs::{Any, Text, XmlElementPrelim, XmlFragment, XmlTextPrelim};

use crate::both_dbs;
use crate::helpers::*;
use crate::remiss::{assert_in_order, get_export};

const DRAFT: &str = "# Budget 2027\n\n\
Se [kommunfullmäktiges beslut](https://example.se/beslut?a=1&b=2) och [skript](javascript:alert(1)).\n\n\
| Förvaltning | Ansvar | Budget (mnkr) |\n\
| --- | --- | --- |\n\
| Stadsledningskontoret | Samordning | 12 |\n\
| Skolförvaltningen | [Skolplan](https://example.se/skola) | 340 |\n";

/// The relationships part of a .docx: where its hyperlinks point.
fn docx_rels(bytes: &[u8]) -> Result<String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))?;
    let mut rels = String::new();
    zip.by_name("word/_rels/document.xml.rels")?
        .read_to_string(&mut rels)?;
    Ok(rels)
}

/// Saves the draft as a named version; its id.
async fn save_version(app: &TestApp, owner: &str, doc: &str) -> Result<String> {
    let (status, version) = call(
        app,
        Method::POST,
        &format!("/api/documents/{doc}/versions"),
        owner,
        Some(json!({ "name": "Remissversion" })),
    )
    .await?;
    assert_eq!(status, 201, "{version}");
    Ok(version["id"].as_str().context("version id")?.to_owned())
}

both_dbs!(
    a_table_and_a_link_reach_every_read_out,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let doc = app.create_doc(&owner, "Budget", Some(DRAFT)).await?;
        let get = |format: &'static str| {
            let path = format!("/api/documents/{doc}/{format}");
            let app = &app;
            let owner = &owner;
            async move {
                let (status, body) = app.get_text(owner, &path).await?;
                assert_eq!(status, 200, "{format}: {body}");
                Ok::<_, anyhow::Error>(body)
            }
        };

        let markdown = get("markdown").await?;
        assert!(
            markdown.contains(
                "Se [kommunfullmäktiges beslut](https://example.se/beslut?a=1&b=2) och skript.\n\n\
                 | Förvaltning | Ansvar | Budget (mnkr) |\n\
                 | --- | --- | --- |\n\
                 | Stadsledningskontoret | Samordning | 12 |\n\
                 | Skolförvaltningen | [Skolplan](https://example.se/skola) | 340 |\n"
            ),
            "{markdown}"
        );
        let html = get("html").await?;
        assert_in_order(
            &html,
            &[
                "<a href=\"https://example.se/beslut?a=1&amp;b=2\">kommunfullmäktiges beslut</a> och skript.",
                "<table><thead><tr><th scope=\"col\"><p>Förvaltning</p></th>",
                "<th scope=\"col\"><p>Budget (mnkr)</p></th></tr></thead><tbody>",
                "<td><p><a href=\"https://example.se/skola\">Skolplan</a></p></td><td><p>340</p></td>",
                "</tbody></table>",
            ],
        );
        assert!(!html.contains("javascript"), "{html}");
        let text = get("text").await?;
        assert!(
            text.contains(
                "Se kommunfullmäktiges beslut (https://example.se/beslut?a=1&b=2) och skript.\n\n\
                 Förvaltning\tAnsvar\tBudget (mnkr)\n\
                 Stadsledningskontoret\tSamordning\t12\n\
                 Skolförvaltningen\tSkolplan (https://example.se/skola)\t340\n"
            ),
            "{text}"
        );

        // A named version, as the nämnd receives it.
        let vid = save_version(&app, &owner, &doc).await?;
        let path =
            |format: &str| format!("/api/documents/{doc}/versions/{vid}/export?format={format}");

        let (_, docx) = get_export(&app, &owner, &path("docx")).await?;
        let word = crate::word::read(&docx)?;
        let table = word.table(&["Förvaltning", "Ansvar", "Budget (mnkr)"])?;
        assert!(table.header_row, "{table:?}");
        assert_eq!(
            table.row("Skolförvaltningen")?,
            &[
                "Skolförvaltningen",
                "Skolplan (https://example.se/skola)",
                "340"
            ]
        );
        let rels = docx_rels(&docx)?;
        assert!(
            rels.contains("Target=\"https://example.se/beslut?a=1&amp;b=2\"")
                && rels.contains("TargetMode=\"External\""),
            "{rels}"
        );
        assert!(!rels.contains("javascript"), "{rels}");

        let (_, pdf) = get_export(&app, &owner, &path("pdf")).await?;
        let pdf = crate::pdf::read(&pdf)?;
        assert_in_order(
            &pdf.flat_text(),
            &[
                "Budget 2027",
                "kommunfullmäktiges beslut",
                "Förvaltning",
                "Budget (mnkr)",
                "Skolförvaltningen",
                "Skolplan (https://example.se/skola)",
                "340",
            ],
        );

        let (_, html) = get_export(&app, &owner, &path("html")).await?;
        let html = String::from_utf8(html)?;
        assert_in_order(
            &html,
            &[
                "<a href=\"https://example.se/beslut?a=1&amp;b=2\">kommunfullmäktiges beslut</a>",
                "<th scope=\"col\">Förvaltning</th>",
            ],
        );
        let (_, markdown) = get_export(&app, &owner, &path("markdown")).await?;
        let markdown = String::from_utf8(markdown)?;
        assert!(
            markdown.contains("[kommunfullmäktiges beslut](<https://example.se/beslut?a=1&b=2>)")
                && markdown.contains("| Stadsledningskontoret | Samordning | 12 |"),
            "{markdown}"
        );
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    a_script_link_from_a_client_never_becomes_a_link,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let doc = app.create_doc(&owner, "Länkar", None).await?;
        let mut client = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        // What a hostile client can store: a link mark with any href, inside a table cell.
        client
            .edit(|txn, frag| {
                let table = frag.push_back(txn, XmlElementPrelim::empty("table"));
                let row = table.push_back(txn, XmlElementPrelim::empty("tableRow"));
                let cell = row.push_back(txn, XmlElementPrelim::empty("tableCell"));
                let paragraph = cell.push_back(txn, XmlElementPrelim::empty("paragraph"));
                let text = paragraph.push_back(txn, XmlTextPrelim::new(""));
                for (i, href) in [
                    "javascript:alert(1)",
                    " java\tscript:alert(2)",
                    "data:text/html,x",
                ]
                .into_iter()
                .enumerate()
                {
                    let mut link = std::collections::HashMap::new();
                    link.insert("href".to_owned(), Any::from(href));
                    let mut attrs = Attrs::new();
                    attrs.insert("link".into(), Any::from(link));
                    let at = text.len(txn);
                    text.insert_with_attributes(txn, at, &format!("farlig{i} "), attrs);
                }
            })
            .await?;
        let mut other = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        other.wait_for(|c| !c.paragraphs().is_empty()).await?;
        for format in ["html", "markdown", "text"] {
            let (status, body) = app
                .get_text(&owner, &format!("/api/documents/{doc}/{format}"))
                .await?;
            assert_eq!(status, 200);
            assert!(body.contains("farlig0 farlig1 farlig2"), "{format}: {body}");
            assert!(
                !body.contains("script:") && !body.contains("data:"),
                "{format}: {body}"
            );
        }
        let vid = save_version(&app, &owner, &doc).await?;
        let (_, docx) = get_export(
            &app,
            &owner,
            &format!("/api/documents/{doc}/versions/{vid}/export?format=docx"),
        )
        .await?;
        let rels = docx_rels(&docx)?;
        assert!(
            !rels.contains("script") && !rels.contains("data:"),
            "{rels}"
        );
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    a_huge_table_is_refused_with_a_clear_error,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        // 1,000 columns by 150 rows of one cell each (the parser fills in the rest): 4 KB
        // of Markdown, 150,000 cells.
        let markdown =
            "|a".repeat(1000) + "|\n" + &"|-".repeat(1000) + "|\n" + &"|x|\n".repeat(150);
        let (status, body) = call(
            &app,
            Method::POST,
            "/api/documents",
            &owner,
            Some(json!({ "title": "Stor tabell", "markdown": markdown })),
        )
        .await?;
        assert_eq!(status, 422, "{body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains("100000"), "{body}");
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    a_comment_in_a_table_cell_lists_with_its_block_and_quote,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let doc = app.create_doc(&owner, "Budget", Some(DRAFT)).await?;
        let made = crate::threads::node_anchor(&app, &doc, &owner, "Samordning").await?;
        assert_eq!(made["paragraph"], 2, "{made}");
        let anchor = json!({ "start": made["start"], "end": made["end"] });
        let thread = open_thread(&app, &owner, &doc, anchor, "Vem samordnar?", None).await?;
        assert_eq!(thread["anchor"]["quote"], "Samordning");
        assert_eq!(thread["anchor"]["paragraph"], 2);
        let (status, listed) = call(
            &app,
            Method::GET,
            &format!("/api/documents/{doc}/threads"),
            &owner,
            None,
        )
        .await?;
        assert_eq!(status, 200);
        let listed: &Value = listed
            .as_array()
            .and_then(|threads| threads.first())
            .context("one thread")?;
        assert_eq!(listed["anchor"]["quote"], "Samordning");
        assert_eq!(listed["anchor"]["paragraph"], 2);
        assert_eq!(listed["anchor"]["state"], "attached");
        Ok::<_, anyhow::Error>(())
    }
);
