//! Reading a PDF the way an archive's intake and a registrator's tools would, with
//! independent tools (Debian's `qpdf` and `poppler-utils`, installed by `.ci/run`), not
//! the Typst that wrote it: `qpdf --check` for the file's structure, `pdfinfo` for the
//! metadata, tagging and page count, `pdfinfo -meta` for the PDF/A identification in the
//! XMP metadata, `pdfinfo -struct` for the tags, `pdftotext` for the text in reading
//! order.
//!
//! Poppler 22.12 (Debian bookworm) prints a "PDF subtype" line only for a document that
//! names its standard in the document information dictionary (`GTS_PDFA1Version`), which
//! ISO 19005-2 does not ask for; a PDF/A-2 says what it is in its XMP metadata
//! (`pdfaid:part`, `pdfaid:conformance`), which `pdfinfo -meta` prints. And the PDF read-outs checked with them: the demo's compilation, and
//! hostile comment text that must come out as it was written.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use reqwest::Method;
use serde_json::json;

use crate::both_dbs;
use crate::helpers::*;
use crate::remiss::{answer, assert_in_order, get_export, put_round};

/// What the tools found in a PDF.
#[derive(Debug)]
pub struct PdfDocument {
    /// `pdfinfo`'s top-level lines, e.g. "Title", "Author", "Tagged", "Pages",
    /// "PDF subtype".
    pub info: BTreeMap<String, String>,
    /// The XMP metadata (`pdfinfo -meta`).
    pub xmp: String,
    /// The structure tree (`pdfinfo -struct`): one tag a line, indented by depth.
    pub structure: String,
    /// `pdftotext`'s text, pages in order.
    pub text: String,
}

impl PdfDocument {
    /// One of `pdfinfo`'s fields, or "" without it.
    pub fn info(&self, field: &str) -> &str {
        self.info.get(field).map(String::as_str).unwrap_or_default()
    }

    /// The page count.
    pub fn pages(&self) -> Result<usize> {
        self.info("Pages")
            .parse()
            .with_context(|| format!("no page count: {:#?}", self.info))
    }

    /// The text with every run of white space one space, and words hyphenated at a
    /// line's end (a soft hyphen) joined again: how a narrow table cell's text reads.
    pub fn flat_text(&self) -> String {
        self.text
            .replace("\u{ad}\n", "")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The text without any white space or soft hyphen: what a table cell says, however
    /// its lines were broken.
    pub fn text_without_spaces(&self) -> String {
        self.text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '\u{ad}')
            .collect()
    }

    /// How many structure elements of this type (e.g. "H2", "Table", "TH") are tagged.
    pub fn tags(&self, tag: &str) -> usize {
        self.structure
            .lines()
            .filter_map(|line| line.split_whitespace().next())
            .filter(|first| first.trim_end_matches(':') == tag)
            .count()
    }

    /// Asserts what every PDF read-out is: PDF/A-2a, tagged with a first-level heading,
    /// in Swedish, titled, by the owner, dated.
    pub fn assert_archival(&self, title: &str, author: &str) {
        assert_eq!(
            (self.info("Title"), self.info("Author")),
            (title, author),
            "{:#?}",
            self.info
        );
        assert_eq!(self.info("Tagged"), "yes", "{:#?}", self.info);
        for identification in [
            "<pdfaid:part>2</pdfaid:part>",
            "<pdfaid:conformance>A</pdfaid:conformance>",
            "<dc:language><rdf:Bag><rdf:li>sv-SE</rdf:li></rdf:Bag></dc:language>",
        ] {
            assert!(
                self.xmp.contains(identification),
                "{identification}: {}",
                self.xmp
            );
        }
        assert_eq!(self.tags("H1"), 1, "{}", self.structure);
        assert!(
            !self.info("CreationDate").is_empty(),
            "a creation date: {:#?}",
            self.info
        );
    }
}

fn run(tool: &str, args: &[&str]) -> Result<std::process::Output> {
    Command::new(tool)
        .args(args)
        .output()
        .with_context(|| format!("running {tool} (install Debian's qpdf and poppler-utils)"))
}

/// Checks `bytes` with qpdf and reads it with pdfinfo and pdftotext.
pub fn read(bytes: &[u8]) -> Result<PdfDocument> {
    let file = tempfile::Builder::new().suffix(".pdf").tempfile()?;
    std::fs::write(file.path(), bytes)?;
    let path = file.path().to_str().context("a UTF-8 temporary path")?;
    if let Ok(dir) = std::env::var("FORANKRA_TEST_PDF_DIR") {
        // Keeps a copy to look at (the temporary file goes when read returns).
        let name = file.path().file_name().context("a file name")?;
        std::fs::copy(file.path(), std::path::Path::new(&dir).join(name))?;
    }
    let check = run("qpdf", &["--check", path])?;
    if !check.status.success() {
        bail!(
            "qpdf --check failed: {}{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
    }
    let info = run("pdfinfo", &["-enc", "UTF-8", path])?;
    if !info.status.success() {
        bail!("pdfinfo failed: {}", String::from_utf8_lossy(&info.stderr));
    }
    let info = parse_info(&String::from_utf8(info.stdout)?);
    let xmp = run("pdfinfo", &["-meta", path])?;
    let structure = run("pdfinfo", &["-struct", path])?;
    let text = run("pdftotext", &["-enc", "UTF-8", path, "-"])?;
    if !text.status.success() {
        bail!(
            "pdftotext failed: {}",
            String::from_utf8_lossy(&text.stderr)
        );
    }
    Ok(PdfDocument {
        info,
        xmp: String::from_utf8(xmp.stdout)?,
        structure: String::from_utf8_lossy(&structure.stdout).into_owned(),
        text: String::from_utf8(text.stdout)?,
    })
}

/// `pdfinfo`'s "Key: value" lines.
fn parse_info(out: &str) -> BTreeMap<String, String> {
    out.lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(key, value)| (key.trim().to_owned(), value.trim().to_owned()))
        .collect()
}

both_dbs!(
    the_demo_compilation_is_an_archival_pdf,
    |backend| async move {
        let app = TestApp::spawn_with(backend, |c| c.demo = true).await?;
        let owner = app.token("maria-holmberg", "stadsledningskontoret");
        let doc = forankra::demo::DEMO_DOC_ID;
        let path = format!("/api/documents/{doc}/compilation?format=pdf");
        let started = Instant::now();
        let (kind, bytes) = get_export(&app, &owner, &path).await?;
        // A figure for the record (this is a debug build), never asserted.
        println!(
            "the demo compilation as PDF: {} ms, {} bytes",
            started.elapsed().as_millis(),
            bytes.len()
        );
        assert_eq!(kind, "application/pdf");
        let pdf = read(&bytes)?;
        pdf.assert_archival(
            "Remissammanställning: Stockholms stads trygghetsprogram 2020–2023",
            "Stadsledningskontoret",
        );
        assert!(pdf.pages()? > 1, "{:#?}", pdf.info);
        // Every table the writer made is a table with header cells, every heading a
        // heading: 12 tables and 17 headings, as in the DOCX.
        assert_eq!(pdf.tags("Table"), 12, "{}", pdf.structure);
        assert!(
            pdf.tags("TH") >= 12 && pdf.tags("TD") > 0,
            "{}",
            pdf.structure
        );
        assert_eq!(
            (pdf.tags("H1"), pdf.tags("H2"), pdf.tags("H3")),
            (1, 4, 12),
            "{}",
            pdf.structure
        );
        assert_in_order(
            &pdf.text,
            &[
                "Remissammanställning: Stockholms stads trygghetsprogram 2020–2023",
                "Ägare: Stadsledningskontoret",
                "Remissinstanser och deras svar",
                "Sammanfattning per organisation",
                "Samsynsmatris",
                "Sida 1 av",
                "Synpunkter per avsnitt",
                "Yttranden",
            ],
        );
        Ok::<_, anyhow::Error>(())
    }
);

/// A comment written as Typst code and markup, with every character the typesetter
/// treats specially.
const TYPST_CODE: &str =
    r#"#eval("1 + 1") *fet* _kursiv_ $x^2$ ] [ \ \\n #set page(width: 1cm) @ref <label> // slut"#;

both_dbs!(
    typst_syntax_in_a_comment_prints_as_written,
    |backend| async move {
        let Draft { app, owner, doc } = Draft::new(
            backend,
            "Översiktsplan för Årsta",
            "# Översiktsplan för Årsta\n\nGröna stråk ska bevaras.\n",
            &[("miljoforvaltningen", "commenter")],
        )
        .await?;
        let erik = app.token("erik", "miljoforvaltningen");
        let watcher = WsClient::connect(&app.ws_url(&doc, &erik)).await?;
        let request = json!({
            "anchor": watcher.anchor_for("stråk")?,
            "body": TYPST_CODE,
            "stance": "avstyrker",
        });
        let (status, body) = call(
            &app,
            Method::POST,
            &format!("/api/documents/{doc}/threads"),
            &erik,
            Some(request),
        )
        .await?;
        assert_eq!(status, 201, "{body}");
        watcher.close().await?;
        let (status, body) = put_round(&app, &owner, &doc, json!({ "phase": "remiss" })).await?;
        assert_eq!(status, 200, "{body}");
        let statement = json!({ "status": "done", "statement": TYPST_CODE });
        assert_eq!(answer(&app, &erik, &doc, statement).await?.0, 200);

        let path = format!("/api/documents/{doc}/compilation?format=pdf");
        let (_, bytes) = get_export(&app, &owner, &path).await?;
        let pdf = read(&bytes)?;
        pdf.assert_archival(
            "Remissammanställning: Översiktsplan för Årsta",
            "stadsledningskontoret",
        );
        // The statement, a paragraph, reads back exactly. In the table of points the
        // comment is broken over lines (and hyphenated) in its narrow cell; without the
        // breaks it is the comment exactly. Nothing of it ran as code (which would have
        // printed "2" for the `#eval` and narrowed the page).
        assert!(pdf.text.contains(TYPST_CODE), "{}", pdf.text);
        let code: String = TYPST_CODE.split_whitespace().collect();
        assert_eq!(
            pdf.text_without_spaces().matches(&code).count(),
            2,
            "{}",
            pdf.text
        );
        assert!(
            pdf.flat_text().contains("Översiktsplan för Årsta"),
            "{}",
            pdf.text
        );
        // A4, turned sideways for the eight columns of the points (and not narrowed
        // by a `#set page` in the comment).
        assert_eq!(pdf.info("Page size"), "841.89 x 595.276 pts (A4)");
        Ok::<_, anyhow::Error>(())
    }
);
