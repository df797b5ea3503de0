//! `GET /api/documents/{id}/report` and `…/compilation`: the read-outs every member may
//! download, in the formats the contract lists.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::audit::{self, Action};
use crate::auth::{AuthUser, Identity, Role};
use crate::error::{ApiJson, ApiPath, ApiQuery, ApiResult, AppError, ErrorResponse};
use crate::ids::DocId;
use crate::remiss::RemissContext;
use crate::remiss::compilation;
use crate::remiss::gather::{Gathered, gather};
use crate::remiss::render::docx::{Docx, Meta};
use crate::remiss::render::html::Html;
use crate::remiss::render::markdown::Markdown;
use crate::remiss::render::pdf::Pdf;
use crate::remiss::render::{Format, Writer};
use crate::remiss::report::{self, ReportResponse};
use crate::storage::now_ms;

/// `?format=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// Report: `json` (default), `markdown`, `html`, `docx`, `pdf`. Compilation:
    /// `markdown` (default), `html`, `docx`, `pdf`, `csv`. Version: `docx` (default),
    /// `pdf`, `html`, `markdown`.
    pub format: Option<Format>,
}

const MARKDOWN: &str = "text/markdown; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const CSV: &str = "text/csv; charset=utf-8; header=present";
const PDF: &str = "application/pdf";

/// How many DOCX or PDF read-outs are packed or laid out at once: each is seconds of
/// CPU, and the rest of the server (the editing rooms) must keep its share of the cores
/// however many downloads are asked for.
const LAYOUTS_AT_ONCE: usize = 2;
static LAYOUTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(LAYOUTS_AT_ONCE);

/// Checks access, records the download in the audit trail, and gathers the remiss.
async fn load(
    state: &RemissContext,
    id: &str,
    who: &Identity,
    kind: &str,
    format: Format,
) -> ApiResult<(DocId, Gathered)> {
    let doc = crate::auth::authorize(&state.db, who, id, Role::Viewer)
        .await?
        .doc;
    let row = crate::documents::routes::document_row(&state.db, &doc).await?;
    let gathered = gather(state, &doc, row).await?;
    let detail = serde_json::json!({ "export": kind, "format": format });
    audit::record(&state.db, &doc, Some(who), Action::ExportMade, detail).await?;
    Ok((doc, gathered))
}

fn unsupported(format: Format, what: &str) -> AppError {
    AppError::Unprocessable(format!("the {what} is not made as {format:?}"))
}

/// A download: the body with its type, and a file name for the browser.
pub(crate) fn download(
    body: impl Into<axum::body::Body>,
    content_type: &str,
    file: String,
) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{file}\""),
            ),
        ],
        body.into(),
    )
        .into_response()
}

/// The DOCX metadata of a read-out of `gathered` titled `title`.
fn docx_meta(gathered: &Gathered, title: &str) -> Meta {
    docx_meta_for(
        title,
        &gathered.owner.name,
        gathered.round.diarienummer.as_deref(),
    )
}

/// DOCX metadata: the owning organisation as author, now as the date, and a running
/// header with the diarienummer, if there is one, and the title.
pub(crate) fn docx_meta_for(title: &str, owner: &str, diarienummer: Option<&str>) -> Meta {
    let created = jiff::Timestamp::from_millisecond(now_ms())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let running_header = match diarienummer {
        Some(number) => format!("{number} · {title}"),
        None => title.to_owned(),
    };
    Meta {
        title: title.to_owned(),
        author: owner.to_owned(),
        created,
        running_header,
    }
}

/// Writes a DOCX or a PDF off the async runtime (packing and layout are CPU work), at
/// most [`LAYOUTS_AT_ONCE`] at a time; `None` for the other formats.
pub(crate) async fn write_binary(
    format: Format,
    meta: Meta,
    write: impl FnOnce(&mut dyn Writer) + Send + 'static,
) -> ApiResult<Option<(Vec<u8>, &'static str)>> {
    if !matches!(format, Format::Docx | Format::Pdf) {
        return Ok(None);
    }
    let _turn = LAYOUTS.acquire().await.map_err(anyhow::Error::from)?;
    let written = tokio::task::spawn_blocking(move || {
        if format == Format::Pdf {
            let mut out = Pdf::new(meta);
            write(&mut out);
            out.finish().map(|bytes| (bytes, PDF))
        } else {
            let mut out = Docx::new(meta);
            write(&mut out);
            out.finish().map(|bytes| (bytes, DOCX))
        }
    })
    .await
    .map_err(anyhow::Error::from)??;
    Ok(Some(written))
}

/// Writes through one of the text writers (Markdown, HTML); `None` for other formats.
pub(crate) fn write_text(
    format: Format,
    title: &str,
    write: impl FnOnce(&mut dyn Writer),
) -> Option<(String, &'static str)> {
    match format {
        Format::Markdown => {
            let mut out = Markdown::default();
            write(&mut out);
            Some((out.finish(), MARKDOWN))
        }
        Format::Html => {
            let mut out = Html::new(title);
            write(&mut out);
            Some((out.finish(), HTML))
        }
        _ => None,
    }
}

/// The participation report (förankringsrapport): per organisation when it was invited,
/// opened, commented and answered, and per thread where it is, what it said and how it
/// was handled (every member).
#[utoipa::path(get, path = "/api/documents/{id}/report", tag = "remiss", security(("bearer" = [])),
    params(("id" = String, Path), FormatQuery),
    responses((status = 200, body = ReportResponse, description = "JSON, or Markdown (text/markdown), HTML (text/html), DOCX or PDF/A-2a (application/pdf)"),
        (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn participation_report(
    State(state): State<RemissContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<FormatQuery>,
) -> ApiResult<Response> {
    let format = query.format.unwrap_or(Format::Json);
    if format == Format::Csv {
        return Err(unsupported(format, "report"));
    }
    let (doc, gathered) = load(&state, &id, &who, "report", format).await?;
    let shares = crate::documents::attribution::read(&state.db, &state.rooms, &doc).await?;
    let report = report::build(&gathered, shares)?;
    let title = format!("Förankringsrapport: {}", report.document.title);
    let file = file_name("forankringsrapport", &doc, format);
    if matches!(format, Format::Docx | Format::Pdf) {
        let meta = docx_meta(&gathered, &title);
        let (bytes, content_type) =
            write_binary(format, meta, move |out| report::write(out, &report))
                .await?
                .ok_or_else(|| unsupported(format, "report"))?;
        return Ok(download(bytes, content_type, file));
    }
    let response = match write_text(format, &title, |out| report::write(out, &report)) {
        Some((body, content_type)) => download(body, content_type, file),
        None => ApiJson(report).into_response(),
    };
    Ok(response)
}

/// The compilation (remissammanställning): every thread by paragraph and by organisation,
/// with stances, outcomes and motivations (every member).
#[utoipa::path(get, path = "/api/documents/{id}/compilation", tag = "remiss", security(("bearer" = [])),
    params(("id" = String, Path), FormatQuery),
    responses((status = 200, description = "Markdown (default), HTML, DOCX, PDF/A-2a or CSV (one row per comment)",
            content((String = "text/markdown"), (String = "text/html"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
                (Vec<u8> = "application/pdf"), (String = "text/csv"))),
        (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn compilation(
    State(state): State<RemissContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<FormatQuery>,
) -> ApiResult<Response> {
    let format = query.format.unwrap_or(Format::Markdown);
    if format == Format::Json {
        return Err(unsupported(format, "compilation"));
    }
    let (doc, gathered) = load(&state, &id, &who, "compilation", format).await?;
    let file = file_name("remissammanstallning", &doc, format);
    let title = compilation::title(&gathered);
    if let Some((body, content_type)) =
        write_text(format, &title, |out| compilation::write(out, &gathered))
    {
        return Ok(download(body, content_type, file));
    }
    if matches!(format, Format::Docx | Format::Pdf) {
        let meta = docx_meta(&gathered, &title);
        let (bytes, content_type) =
            write_binary(format, meta, move |out| compilation::write(out, &gathered))
                .await?
                .ok_or_else(|| unsupported(format, "compilation"))?;
        return Ok(download(bytes, content_type, file));
    }
    let bytes = tokio::task::spawn_blocking(move || compilation::csv(&gathered))
        .await
        .map_err(anyhow::Error::from)??;
    Ok(download(bytes, CSV, file))
}

fn file_name(what: &str, doc: &DocId, format: Format) -> String {
    let extension = match format {
        Format::Json => "json",
        Format::Markdown => "md",
        Format::Html => "html",
        Format::Docx => "docx",
        Format::Csv => "csv",
        Format::Pdf => "pdf",
    };
    format!("{what}-{doc}.{extension}")
}
