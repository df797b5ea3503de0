//! `GET /api/documents/{id}/versions/{vid}/export?format=docx|pdf|html|markdown`: a named
//! version of the draft as the document a nämnd or a remissinstans receives, with the
//! same DOCX metadata, running header and page numbers as the compilation.
//!
//! It lives here, not in `versions`, because it writes through the read-outs' `Writer`
//! (`remiss::render`), which sits above `versions`. The draft's text is written block by
//! block (`documents::markdown::draft_blocks`): headings keep their level, tables are
//! tables with their header row, paragraphs keep their http(s) and mailto links as links,
//! and every other block is a paragraph with its lines (a list's items one a line). Bold,
//! italic and list markers are not carried yet; `…/versions/{vid}/markdown` keeps them.

use axum::extract::State;
use axum::response::Response;
use yrs::{ReadTxn, Transact};

use crate::auth::{AuthUser, Role};
use crate::documents::content::{self, FRAGMENT};
use crate::documents::markdown::{DraftBlock, draft_blocks};
use crate::error::{ApiPath, ApiQuery, ApiResult, AppError, ErrorResponse};
use crate::ids::VersionId;
use crate::remiss::RemissContext;
use crate::remiss::exports::{FormatQuery, docx_meta_for, download, write_binary, write_text};
use crate::remiss::render::{Format, Table, Writer, labels};

/// A named version of the draft in Word, PDF/A-2a, HTML or Markdown (every member).
#[utoipa::path(get, path = "/api/documents/{id}/versions/{vid}/export", tag = "remiss", security(("bearer" = [])),
    params(("id" = String, Path), ("vid" = String, Path), FormatQuery),
    responses((status = 200, description = "DOCX (default), PDF/A-2a, HTML or Markdown",
            content((Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
                (Vec<u8> = "application/pdf"),
                (String = "text/html"), (String = "text/markdown"))),
        (status = 403, body = ErrorResponse), (status = 404, body = ErrorResponse),
        (status = 422, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn version_export(
    State(state): State<RemissContext>,
    AuthUser(who): AuthUser,
    ApiPath((id, vid)): ApiPath<(String, String)>,
    ApiQuery(query): ApiQuery<FormatQuery>,
) -> ApiResult<Response> {
    let format = query.format.unwrap_or(Format::Docx);
    if matches!(format, Format::Json | Format::Csv) {
        return Err(AppError::Unprocessable(format!(
            "a version is not made as {format:?}"
        )));
    }
    let doc = crate::auth::authorize(&state.db, &who, &id, Role::Viewer)
        .await?
        .doc;
    let missing = || AppError::NotFound("no such version".into());
    let vid = VersionId::parse(&vid).map_err(|_| missing())?;
    let version = state.db.version(&doc, &vid).await?.ok_or_else(missing)?;
    let bytes = state
        .db
        .version_state(&doc, &vid)
        .await?
        .ok_or_else(missing)?;
    let row = crate::documents::routes::document_row(&state.db, &doc).await?;
    let round = state.db.remiss_round(&doc).await?;
    let title = format!("{} – {}", row.title, version.name);
    let saved = format!(
        "{} av {}",
        labels::when(version.created_at),
        version.created_by_name
    );
    let file = format!("version-{vid}.{}", extension(format));
    let blocks = tokio::task::spawn_blocking(move || {
        let doc = content::doc_from_parts(None, [bytes.as_slice()]);
        let txn = doc.transact();
        txn.get_xml_fragment(FRAGMENT)
            .map(|f| draft_blocks(&txn, &f))
            .unwrap_or_default()
    })
    .await
    .map_err(anyhow::Error::from)?;
    let name = version.name.clone();
    let diarienummer = round.diarienummer.clone();
    let write = move |out: &mut dyn Writer| {
        out.field("Version", &name);
        out.field("Sparad", &saved);
        if let Some(number) = &diarienummer {
            out.field("Diarienummer", number);
        }
        write_draft(out, &blocks);
    };
    if matches!(format, Format::Docx | Format::Pdf) {
        let meta = docx_meta_for(&title, &row.owner_org_name, round.diarienummer.as_deref());
        if let Some((bytes, content_type)) = write_binary(format, meta, write).await? {
            return Ok(download(bytes, content_type, file));
        }
        return Err(AppError::Unprocessable(format!(
            "a version is not made as {format:?}"
        )));
    }
    let (body, content_type) = write_text(format, &title, write)
        .ok_or_else(|| AppError::Unprocessable(format!("a version is not made as {format:?}")))?;
    Ok(download(body, content_type, file))
}

fn extension(format: Format) -> &'static str {
    match format {
        Format::Html => "html",
        Format::Markdown => "md",
        Format::Pdf => "pdf",
        _ => "docx",
    }
}

/// The draft's blocks: headings at their level, tables (numbered "Tabell N", the first
/// row as the header row), the rest as paragraphs with their links.
fn write_draft(out: &mut dyn Writer, blocks: &[DraftBlock]) {
    let mut tables = 0;
    for block in blocks {
        match block {
            DraftBlock::Heading(level, text) => out.heading(*level, text),
            DraftBlock::Paragraph(pieces) => out.linked_paragraph(pieces),
            DraftBlock::Table { rows, .. } => {
                tables += 1;
                out.table(&draft_table(tables, rows));
            }
        }
    }
}

/// A table of the draft for the writers, whose tables always have a header row: the
/// draft's first row (its header row when it has one), as wide as the widest row.
fn draft_table(number: usize, rows: &[Vec<String>]) -> Table {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut header: Vec<String> = rows.first().cloned().unwrap_or_default();
    header.resize(width, String::new());
    Table {
        caption: format!("Tabell {number}"),
        header,
        rows: rows.iter().skip(1).cloned().collect(),
    }
}
