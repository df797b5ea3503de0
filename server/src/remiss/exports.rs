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
use crate::remiss::render::docx::Docx;
use crate::remiss::render::html::Html;
use crate::remiss::render::markdown::Markdown;
use crate::remiss::render::{Format, Writer};
use crate::remiss::report::{self, ReportResponse};

/// `?format=`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatQuery {
    /// Report: `json` (default), `markdown`, `html`. Compilation: `markdown` (default),
    /// `html`, `docx`, `csv`.
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
fn download(body: impl Into<axum::body::Body>, content_type: &str, file: String) -> Response {
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

/// Writes through one of the text writers.
fn text(
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
    responses((status = 200, body = ReportResponse, description = "JSON, or Markdown (text/markdown) or HTML (text/html)"),
        (status = 403, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn participation_report(
    State(state): State<RemissContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<FormatQuery>,
) -> ApiResult<Response> {
    let format = query.format.unwrap_or(Format::Json);
    if matches!(format, Format::Docx | Format::Csv) {
        return Err(unsupported(format, "report"));
    }
    let (doc, gathered) = load(&state, &id, &who, "report", format).await?;
    let shares = crate::documents::attribution::read(&state.db, &state.rooms, &doc).await?;
    let report = report::build(&gathered, shares)?;
    let title = format!("Förankringsrapport: {}", report.document.title);
    let response = match text(format, &title, |out| report::write(out, &report)) {
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
    let title = format!("Remissammanställning: {}", gathered.title);
    if let Some((body, content_type)) =
        text(format, &title, |out| compilation::write(out, &gathered))
    {
        return Ok(download(body, content_type, file));
    }
    let (bytes, content_type) = tokio::task::spawn_blocking(move || match format {
        Format::Csv => compilation::csv(&gathered).map(|b| (b, CSV)),
        _ => {
            let mut out = Docx::default();
            compilation::write(&mut out, &gathered);
            out.finish().map(|b| (b, DOCX))
        }
    })
    .await
    .map_err(anyhow::Error::from)??;
    Ok(download(bytes, content_type, file))
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
