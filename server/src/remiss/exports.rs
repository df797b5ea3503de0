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
use crate::remiss::render::{Format, Writer};
use crate::remiss::report::{self, ReportResponse};
use crate::storage::now_ms;

/// `?format=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// Report: `json` (default), `markdown`, `html`, `docx`. Compilation: `markdown`
    /// (default), `html`, `docx`, `csv`.
    pub format: Option<Format>,
}

const MARKDOWN: &str = "text/markdown; charset=utf-8";
const HTML: &str = "text/html; charset=utf-8";
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const CSV: &str = "text/csv; charset=utf-8; header=present";

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

/// Writes a DOCX off the async runtime (packing is CPU work).
async fn docx(
    meta: Meta,
    write: impl FnOnce(&mut dyn Writer) + Send + 'static,
) -> ApiResult<Vec<u8>> {
    let bytes = tokio::task::spawn_blocking(move || {
        let mut out = Docx::new(meta);
        write(&mut out);
        out.finish()
    })
    .await
    .map_err(anyhow::Error::from)??;
    Ok(bytes)
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
    responses((status = 200, body = ReportResponse, description = "JSON, or Markdown (text/markdown), HTML (text/html) or DOCX"),
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
    if format == Format::Docx {
        let meta = docx_meta(&gathered, &title);
        let bytes = docx(meta, move |out| report::write(out, &report)).await?;
        let file = file_name("forankringsrapport", &doc, format);
        return Ok(download(bytes, DOCX, file));
    }
    let response = match write_text(format, &title, |out| report::write(out, &report)) {
        Some((body, content_type)) => download(
            body,
            content_type,
            file_name("forankringsrapport", &doc, format),
        ),
        None => ApiJson(report).into_response(),
    };
    Ok(response)
}

/// The compilation (remissammanställning): every thread by paragraph and by organisation,
/// with stances, outcomes and motivations (every member).
#[utoipa::path(get, path = "/api/documents/{id}/compilation", tag = "remiss", security(("bearer" = [])),
    params(("id" = String, Path), FormatQuery),
    responses((status = 200, description = "Markdown (default), HTML, DOCX or CSV (one row per comment)",
            content((String = "text/markdown"), (String = "text/html"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"), (String = "text/csv"))),
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
    if format == Format::Docx {
        let meta = docx_meta(&gathered, &title);
        let bytes = docx(meta, move |out| compilation::write(out, &gathered)).await?;
        return Ok(download(bytes, DOCX, file));
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
    };
    format!("{what}-{doc}.{extension}")
}
