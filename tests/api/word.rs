//! Reading a DOCX the way a registrator's tools would, with an independent reader:
//! python-docx (Debian's `python3-docx`, installed by `.ci/run`), not the docx-rs that
//! wrote it. What it reports is what Word's navigation pane, a screen reader and the
//! archive's metadata extraction see: heading styles, tables with header rows, the
//! running header and footer, and the core properties.

use std::process::Command;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// What python-docx found in a .docx.
#[derive(Debug, Deserialize)]
pub struct WordDocument {
    pub title: String,
    pub author: String,
    /// The created date as python-docx parses it (ISO 8601), or "" without one.
    pub created: String,
    pub language: String,
    /// Every heading paragraph in order: (style name, e.g. "Heading 2", text).
    pub headings: Vec<(String, String)>,
    pub tables: Vec<WordTable>,
    /// The text of the first section's header.
    pub header: String,
    /// Whether the first section's footer holds PAGE and NUMPAGES fields.
    pub page_numbers: bool,
}

/// One table: its cells' text by row, and whether its first row is a header row.
#[derive(Debug, Deserialize)]
pub struct WordTable {
    pub rows: Vec<Vec<String>>,
    pub header_row: bool,
}

impl WordDocument {
    /// The first table whose header row starts with these cells.
    pub fn table(&self, header: &[&str]) -> Result<&WordTable> {
        self.tables
            .iter()
            .find(|t| {
                t.rows
                    .first()
                    .is_some_and(|r| r.iter().zip(header).all(|(a, b)| a == b))
            })
            .with_context(|| format!("no table with the header {header:?}: {:#?}", self.tables))
    }
}

impl WordTable {
    /// The row whose first cell is `first`.
    pub fn row(&self, first: &str) -> Result<&Vec<String>> {
        self.rows
            .iter()
            .find(|r| r.first().is_some_and(|c| c == first))
            .with_context(|| format!("no row {first}: {:#?}", self.rows))
    }
}

const READER: &str = r#"
import json, sys
import docx
d = docx.Document(sys.argv[1])
cp = d.core_properties
heads = [(p.style.name, p.text) for p in d.paragraphs if p.style.name.startswith("Heading")]
tables = []
for t in d.tables:
    rows = [[c.text for c in r.cells] for r in t.rows]
    header = len(t.rows) > 0 and "w:tblHeader" in t.rows[0]._tr.xml
    tables.append({"rows": rows, "header_row": header})
section = d.sections[0]
footer = section.footer._element.xml
print(json.dumps({
    "title": cp.title or "",
    "author": cp.author or "",
    "created": cp.created.isoformat() if cp.created else "",
    "language": cp.language or "",
    "headings": heads,
    "tables": tables,
    "header": "\n".join(p.text for p in section.header.paragraphs),
    "page_numbers": "PAGE" in footer and "NUMPAGES" in footer,
}))
"#;

/// Debian's Python, where Debian's python3-docx is installed (a `python3` earlier on the
/// PATH, e.g. pyenv's, does not see Debian's packages).
const PYTHON: &str = "/usr/bin/python3";

/// Opens `bytes` with python-docx.
pub fn read(bytes: &[u8]) -> Result<WordDocument> {
    let file = tempfile::Builder::new().suffix(".docx").tempfile()?;
    std::fs::write(file.path(), bytes)?;
    let output = Command::new(PYTHON)
        .arg("-c")
        .arg(READER)
        .arg(file.path())
        .output()
        .with_context(|| format!("running {PYTHON} (install Debian's python3-docx)"))?;
    if !output.status.success() {
        bail!(
            "python-docx could not read the document (is python3-docx installed?): {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}
