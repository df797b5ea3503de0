//! Creating a document from a Word file (issue 18): a municipal draft written with
//! LibreOffice (Debian's `libreoffice-writer-nogui`, installed by `.ci/run`) from the
//! flat ODF source in `fixtures/`, converted to .docx in the test, imported over HTTP and
//! read back as Markdown; and the hostile files a public upload form gets.

use std::io::Write;
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::both_dbs;
use crate::helpers::*;

const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// The draft: a "Rubrik 1" heading (a localised style name), a Heading 2 with the
/// draft's own section number, bold and italic, a nested bulleted list, a numbered
/// list, a link, a table, an image, a comment and a page header.
const DRAFT_FODT: &str = include_str!("fixtures/municipal_draft.fodt");

/// Converts flat ODF to .docx with LibreOffice headless, in a profile of its own so
/// parallel tests do not share one.
fn docx_from_fodt(fodt: &str) -> Result<Vec<u8>> {
    let dir = tempfile::tempdir()?;
    let source = dir.path().join("utkast.fodt");
    std::fs::write(&source, fodt)?;
    let profile = format!("file://{}", dir.path().join("profile").display());
    let output = Command::new("soffice")
        .arg(format!("-env:UserInstallation={profile}"))
        .args(["--headless", "--convert-to", "docx", "--outdir"])
        .arg(dir.path())
        .arg(&source)
        .output()
        .context("running soffice (install Debian's libreoffice-writer-nogui)")?;
    let docx = dir.path().join("utkast.docx");
    if !output.status.success() || !docx.exists() {
        bail!(
            "LibreOffice did not convert the draft: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(std::fs::read(docx)?)
}

async fn import(
    app: &TestApp,
    token: &str,
    bytes: Vec<u8>,
    title: Option<&str>,
) -> Result<(u16, Value)> {
    let mut request = app
        .http
        .post(app.url("/api/documents/import"))
        .bearer_auth(token)
        .header("content-type", DOCX)
        .body(bytes);
    if let Some(title) = title {
        request = request.query(&[("title", title)]);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await?))
}

/// A .docx-shaped ZIP holding `parts` (name, content), deflated.
fn zip_of(parts: &[(&str, &[u8])]) -> Result<Vec<u8>> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(1));
    for (name, content) in parts {
        out.start_file(*name, options)?;
        out.write_all(content)?;
    }
    Ok(out.finish()?.into_inner())
}

const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main""#;

both_dbs!(
    a_municipal_draft_from_libreoffice_keeps_its_structure,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let docx = docx_from_fodt(DRAFT_FODT)?;
        let (status, body) = import(&app, &owner, docx, None).await?;
        assert_eq!(status, 201, "{body}");
        let doc = &body["document"];
        assert_eq!(
            doc["title"], "Program för hållbar stadsutveckling",
            "the title property is the default title"
        );
        assert_eq!(doc["role"], "owner");
        let not_carried: Vec<(String, u64)> = body["notCarried"]
            .as_array()
            .context("notCarried")?
            .iter()
            .map(|n| {
                (
                    n["kind"].as_str().unwrap_or("").to_owned(),
                    n["count"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        assert_eq!(
            not_carried,
            [
                ("image".to_owned(), 1),
                ("comment".to_owned(), 1),
                ("header_footer".to_owned(), 1)
            ],
            "{body}"
        );
        let id = doc["id"].as_str().context("id")?;
        let (status, markdown) = app
            .get_text(&owner, &format!("/api/documents/{id}/markdown"))
            .await?;
        assert_eq!(status, 200);
        assert_eq!(
            markdown,
            "# 1 Inledning\n\n\
             Programmet gäller **hela staden** och *alla förvaltningar*.\n\n\
             - Bostäder\n  - Hyresrätter\n- Skolor\n\n\
             ## 3.2 Stadsutveckling\n\n\
             Läs mer på [stadens webbplats](https://www.stockholm.se/).\n\n\
             1. Först planera\n2. Sedan bygga\n\n\
             | Mål | År |\n| --- | --- |\n| Nya bostäder | 2030 |\n\n\
             Karta:\n"
        );
        // The table is a real table with a header row, in every read-out.
        let (status, html) = app
            .get_text(&owner, &format!("/api/documents/{id}/html"))
            .await?;
        assert_eq!(status, 200);
        assert!(
            html.contains(
                "<table><thead><tr><th scope=\"col\"><p>Mål</p></th><th scope=\"col\"><p>År</p></th></tr></thead>\
                 <tbody><tr><td><p>Nya bostäder</p></td><td><p>2030</p></td></tr></tbody></table>"
            ),
            "{html}"
        );
        // The creation is in the audit trail like any other.
        let (status, audit) = app
            .get_text(&owner, &format!("/api/documents/{id}/audit"))
            .await?;
        assert_eq!(status, 200);
        assert!(audit.contains("document_created"), "{audit}");
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    a_given_title_wins_and_a_missing_one_is_asked_for,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let document = format!(
            r#"<w:document {W}><w:body><w:p><w:r><w:t>Bara text.</w:t></w:r></w:p></w:body></w:document>"#
        );
        let docx = zip_of(&[("word/document.xml", document.as_bytes())])?;
        let (status, body) = import(&app, &owner, docx.clone(), None).await?;
        assert_eq!(status, 422, "{body}");
        assert!(
            body["message"].as_str().unwrap_or("").contains("title"),
            "{body}"
        );
        let (status, body) = import(&app, &owner, docx, Some("Eget namn")).await?;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["document"]["title"], "Eget namn");
        assert_eq!(body["notCarried"], serde_json::json!([]));
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    hostile_files_get_clear_refusals_and_create_nothing,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("anna", "stadsledningskontoret");
        let title = Some("Fientlig");

        let (status, body) = import(&app, &owner, b"%PDF-1.7 not a zip".to_vec(), title).await?;
        assert_eq!(status, 422, "{body}");
        assert!(
            body["message"].as_str().unwrap_or("").contains("not a ZIP"),
            "{body}"
        );

        let no_document = zip_of(&[("word/styles.xml", b"<w:styles/>")])?;
        let (status, body) = import(&app, &owner, no_document, title).await?;
        assert_eq!(status, 422, "{body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap_or("")
                .contains("word/document.xml"),
            "{body}"
        );

        let odt = zip_of(&[
            ("mimetype", b"application/vnd.oasis.opendocument.text"),
            ("content.xml", b"<office:document-content/>"),
        ])?;
        let (status, body) = import(&app, &owner, odt, title).await?;
        assert_eq!(status, 422, "{body}");
        assert!(
            body["message"].as_str().unwrap_or("").contains(".odt"),
            "{body}"
        );

        // A zip bomb: 64 MiB of one repeated byte packs into some 64 KB; the main part may
        // unpack to 48 MiB.
        let bomb = vec![b' '; 64 * 1024 * 1024];
        let bomb = zip_of(&[("word/document.xml", &bomb)])?;
        assert!(bomb.len() < 1024 * 1024, "{} bytes", bomb.len());
        let (status, body) = import(&app, &owner, bomb, title).await?;
        assert_eq!(status, 422, "{body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap_or("")
                .contains("unpacks to more than"),
            "{body}"
        );

        // Elements nested 100,000 deep.
        let deep = format!(
            "<w:document {W}><w:body>{}{}</w:body></w:document>",
            "<w:sdt><w:sdtContent>".repeat(50_000),
            "</w:sdtContent></w:sdt>".repeat(50_000)
        );
        let deep = zip_of(&[("word/document.xml", deep.as_bytes())])?;
        let (status, body) = import(&app, &owner, deep, title).await?;
        assert_eq!(status, 422, "{body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap_or("")
                .contains("deeper than"),
            "{body}"
        );

        // Broken XML inside a real package.
        let broken = zip_of(&[("word/document.xml", b"<w:document><w:body><w:p>")])?;
        let (status, body) = import(&app, &owner, broken, title).await?;
        assert_eq!(status, 422, "{body}");
        assert!(
            body["message"].as_str().unwrap_or("").contains("damaged"),
            "{body}"
        );

        // Over the body limit: 413 before anything is unpacked.
        let huge = vec![0u8; 5 * 1024 * 1024];
        let (status, body) = import(&app, &owner, huge, title).await?;
        assert_eq!(status, 413, "{body}");

        let listed: Value = app
            .http
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
