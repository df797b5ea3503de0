//! The few HTTP calls the scenarios make to a server: a JSON POST or PUT and a
//! `/metrics` read.

use std::net::SocketAddr;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// POSTs a JSON body to `path` with a bearer token; returns the JSON answer (any 2xx).
pub async fn post_json(
    http: &reqwest::Client,
    addr: SocketAddr,
    token: &str,
    path: &str,
    body: &Value,
) -> Result<Value> {
    let request = http.post(format!("http://{addr}{path}"));
    send(request, "POST", token, path, body)
        .await?
        .json()
        .await
        .with_context(|| format!("reading POST {path}"))
}

/// PUTs a JSON body to `path` with a bearer token (any 2xx; the answer is not read).
pub async fn put_json(
    http: &reqwest::Client,
    addr: SocketAddr,
    token: &str,
    path: &str,
    body: &Value,
) -> Result<()> {
    let request = http.put(format!("http://{addr}{path}"));
    send(request, "PUT", token, path, body).await.map(drop)
}

/// Sends a JSON request; an answer other than 2xx is an error carrying its body.
async fn send(
    request: reqwest::RequestBuilder,
    method: &str,
    token: &str,
    path: &str,
    body: &Value,
) -> Result<reqwest::Response> {
    let response = request
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .with_context(|| format!("{method} {path}"))?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        bail!("{method} {path} answered {status}: {body}");
    }
    Ok(response)
}

/// One gauge or counter from the server's `/metrics`.
pub async fn metric(http: &reqwest::Client, addr: SocketAddr, name: &str) -> Result<f64> {
    let text = http
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .context("GET /metrics")?
        .error_for_status()?
        .text()
        .await?;
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let (key, value) = l.split_once(' ')?;
            (key == name).then(|| value.trim().parse::<f64>().ok())?
        })
        .with_context(|| format!("/metrics has no {name}"))
}
