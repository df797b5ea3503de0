//! The HTTP edge against the real binary (issue 13, finding 5): half-sent requests are
//! timed out, one address cannot hold more than its share of connections, and
//! everyone else keeps being served meanwhile.

use anyhow::{Context, Result};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::both_dbs;
use crate::helpers::*;

const SECRET: &str = "edge-of-the-server";
/// Connections the flooding address may hold.
const CAP: usize = 40;
/// Connections it tries to hold.
const FLOOD: usize = 60;

/// A TCP connection to `server` from `source` (any 127/8 address reaches loopback).
async fn connect_from(source: &str, server: std::net::SocketAddr) -> Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(format!("{source}:0").parse()?)?;
    Ok(socket.connect(server).await?)
}

/// Everything the server sends until it closes the connection.
async fn read_to_eof(mut tcp: TcpStream) -> Result<String> {
    let mut bytes = Vec::new();
    tokio::time::timeout(WAIT, tcp.read_to_end(&mut bytes))
        .await
        .context("the server never closed the connection")??;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

both_dbs!(
    half_open_connections_are_timed_out_and_capped_per_address,
    |backend| async move {
        let db = TestDb::fresh(backend).await?;
        let cap = CAP.to_string();
        let server = ProcessServer::start(
            &db.url,
            SECRET,
            &[
                "--header-read-timeout",
                "5s",
                "--body-read-timeout",
                "5s",
                "--max-http-connections-per-ip",
                &cap,
            ],
        )
        .await?;
        let owner = ProcessServer::token(SECRET, "anna", "stadsledningskontoret");
        let http = reqwest::Client::builder().timeout(WAIT).build()?;
        let created: Value = http
            .post(server.url("/api/documents"))
            .bearer_auth(&owner)
            .json(&json!({"title": "Kanten", "markdown": "Första"}))
            .send()
            .await?
            .json()
            .await?;
        let doc = created["id"].as_str().context("id")?.to_owned();
        let mut writer = WsClient::connect(&server.ws_url(&doc, &owner)).await?;
        let mut reader = WsClient::connect(&server.ws_url(&doc, &owner)).await?;

        // The flood: from 127.0.0.2, half a request head each, never finished.
        let mut flood = Vec::new();
        for _ in 0..FLOOD {
            let mut tcp = connect_from("127.0.0.2", server.addr).await?;
            tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: forankra\r\nX-Slow: ")
                .await?;
            flood.push(tcp);
        }
        // A body that never arrives whole, from 127.0.0.3.
        let mut slow_body = connect_from("127.0.0.3", server.addr).await?;
        slow_body
            .write_all(
                b"POST /api/login HTTP/1.1\r\nHost: forankra\r\ncontent-type: application/json\r\n\
                  content-length: 100\r\n\r\n{\"username\": ",
            )
            .await?;

        // Meanwhile everyone else is served: health checks and live editing.
        let health = http.get(server.url("/healthz")).send().await?;
        assert_eq!(health.status(), 200);
        writer.append_paragraph("Under belägring").await?;
        reader
            .wait_for(|c| c.paragraphs() == ["Första", "Under belägring"])
            .await?;

        // The excess was answered 429 at once; the rest are closed by the server when
        // their head does not arrive in time, without ever being answered.
        let answers =
            futures_util::future::try_join_all(flood.into_iter().map(read_to_eof)).await?;
        let refused = answers
            .iter()
            .filter(|a| a.starts_with("HTTP/1.1 429"))
            .count();
        assert_eq!(refused, FLOOD - CAP, "{answers:?}");
        assert!(
            answers.iter().all(|a| !a.contains(" 200 ")),
            "no half-sent request was served"
        );
        let slow = read_to_eof(slow_body).await?;
        assert!(!slow.contains(" 200 "), "{slow}");

        // The address has its places back, and the server is still well.
        let mut again = connect_from("127.0.0.2", server.addr).await?;
        again
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: forankra\r\nConnection: close\r\n\r\n")
            .await?;
        let answer = read_to_eof(again).await?;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        let metrics = http
            .get(server.url("/metrics"))
            .send()
            .await?
            .text()
            .await?;
        let hits = metric_value(
            &metrics,
            "forankra_limit_hits_total{limit=\"http_connections_per_ip\"}",
        )?;
        assert_eq!(hits, (FLOOD - CAP) as f64);
        writer.append_paragraph("Efteråt").await?;
        reader.wait_for(|c| c.paragraphs().len() == 3).await?;
        server.kill().await
    }
);
