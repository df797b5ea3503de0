//! Webhooks: a receiver on loopback gets signed deliveries, retried after a failure, and
//! every attempt shows in the delivery list and the audit trail.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::mpsc;

use crate::both_dbs;
use crate::helpers::*;

const DRAFT: &str = "# Trygghetsprogram\n\nFörebyggande arbete i skolan är viktigt.\n";

/// One request the receiver got.
struct Received {
    headers: HeaderMap,
    body: String,
}

/// A webhook receiver on 127.0.0.1:0 that answers 500 to its first request and 200 to
/// the rest, and hands every request to the test.
async fn receiver() -> Result<(String, mpsc::UnboundedReceiver<Received>)> {
    let (tx, rx) = mpsc::unbounded_channel();
    let seen = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let (tx, seen) = (tx.clone(), Arc::clone(&seen));
            async move {
                let failing = seen.fetch_add(1, Ordering::SeqCst) == 0;
                let _ = tx.send(Received { headers, body });
                if failing {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((url, rx))
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Received>) -> Result<Received> {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .context("no delivery arrived")?
        .context("the receiver stopped")
}

fn header<'a>(r: &'a Received, name: &str) -> &'a str {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// Checks `X-Forankra-Signature` independently of the server's code.
fn signature_verifies(r: &Received, secret: &str) -> bool {
    let Some(hex_sig) = header(r, "x-forankra-signature").strip_prefix("sha256=") else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(format!("{}.{}", header(r, "x-forankra-timestamp"), r.body).as_bytes());
    mac.verify_slice(&sig).is_ok()
}

/// Re-reads `path` until `done` holds. The server records an attempt after the receiver
/// has answered and announces it nowhere, so this is the one wait that must look again.
async fn eventually(
    app: &TestApp,
    token: &str,
    path: &str,
    done: impl Fn(&Value) -> bool,
) -> Result<Value> {
    tokio::time::timeout(WAIT, async {
        loop {
            let (status, body) = call(app, Method::GET, path, token, None).await?;
            if status == 200 && done(&body) {
                return Ok(body);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .with_context(|| format!("{path} never got there"))?
}

/// A server accepting http:// webhooks, a document owned by `maria`, and a webhook on it
/// pointing at a [`receiver`].
struct Hooked {
    app: TestApp,
    owner: String,
    doc: String,
    rx: mpsc::UnboundedReceiver<Received>,
    /// The answer to registering, secret included.
    hook: Value,
}

impl Hooked {
    fn configure(c: &mut forankra::Config, retry_base_ms: u64) {
        c.webhook_allow_http = true;
        c.webhook_retry_base = Duration::from_millis(retry_base_ms);
    }

    async fn start(backend: Backend, retry_base_ms: u64, events: Value) -> Result<Self> {
        let app = TestApp::spawn_with(backend, |c| Self::configure(c, retry_base_ms)).await?;
        let owner = app.token("maria", "stadsledningskontoret");
        let doc = app.create_doc(&owner, "Webhooks", Some(DRAFT)).await?;
        let (url, rx) = receiver().await?;
        let (status, hook) = call(
            &app,
            Method::POST,
            &format!("/api/documents/{doc}/webhooks"),
            &owner,
            Some(json!({ "url": url, "events": events })),
        )
        .await?;
        anyhow::ensure!(status == 201, "register: {status} {hook}");
        Ok(Self {
            app,
            owner,
            doc,
            rx,
            hook,
        })
    }
}

both_dbs!(
    a_receiver_gets_a_signed_delivery_again_after_it_failed,
    |backend| async move {
        let hooked = Hooked::start(backend, 50, json!(["thread.opened", "thread.opened"])).await?;
        let Hooked {
            app,
            owner,
            doc,
            mut rx,
            hook,
        } = hooked;
        app.set_role(&owner, &doc, "utbildningsforvaltningen", "commenter")
            .await?;
        assert_eq!(hook["events"], json!(["thread.opened"]), "listed once");
        let secret = hook["secret"].as_str().context("secret")?.to_owned();
        let wid = hook["id"].as_str().context("id")?.to_owned();

        let sara = app.token("sara", "utbildningsforvaltningen");
        let reader = WsClient::connect(&app.ws_url(&doc, &sara)).await?;
        let anchor = reader.anchor_for("skolan")?;
        let thread = open_thread(&app, &sara, &doc, anchor, "Förskolan?", None).await?;

        let first = next(&mut rx).await?;
        let second = next(&mut rx).await?;
        for r in [&first, &second] {
            assert_eq!(header(r, "x-forankra-event"), "thread.opened");
            assert!(signature_verifies(r, &secret), "the signature verifies");
            assert!(!signature_verifies(r, "another secret"));
        }
        assert_eq!(first.body, second.body, "a retry sends the same body");
        let delivery = header(&first, "x-forankra-delivery").to_owned();
        assert_eq!(header(&second, "x-forankra-delivery"), delivery);
        let body: Value = serde_json::from_str(&second.body)?;
        assert_eq!(body["id"], delivery.as_str());
        assert_eq!(body["event"], "thread.opened");
        assert_eq!(body["documentId"], doc.as_str());
        assert!(body["at"].as_i64().is_some());
        assert_eq!(body["data"]["thread"], thread["id"]);
        assert_eq!(body["data"]["actor"]["id"], "sara");
        assert_eq!(body["data"]["actor"]["org"], "utbildningsforvaltningen");

        let deliveries = eventually(
            &app,
            &owner,
            &format!("/api/documents/{doc}/webhooks/{wid}/deliveries"),
            |d| d[0]["status"] == "delivered",
        )
        .await?;
        assert_eq!(deliveries.as_array().map(Vec::len), Some(1), "{deliveries}");
        let attempts = &deliveries[0]["attempts"];
        assert_eq!(attempts[0]["attempt"], 1);
        assert_eq!(attempts[0]["httpStatus"], 500);
        assert!(attempts[0]["error"].is_string());
        assert_eq!(attempts[1]["attempt"], 2);
        assert_eq!(attempts[1]["httpStatus"], 200);
        assert_eq!(attempts[1]["error"], Value::Null);
        assert_eq!(deliveries[0]["id"], delivery.as_str());
        assert_eq!(deliveries[0]["nextAttemptAt"], Value::Null);

        let trail = eventually(&app, &owner, &format!("/api/documents/{doc}/audit"), |t| {
            t.as_array()
                .is_some_and(|es| es.iter().any(|e| e["action"] == "webhook_delivered"))
        })
        .await?;
        let webhook_entries: Vec<&Value> = trail
            .as_array()
            .map(|es| {
                es.iter()
                    .filter(|e| {
                        e["action"]
                            .as_str()
                            .is_some_and(|a| a.starts_with("webhook_"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let actions: Vec<&str> = webhook_entries
            .iter()
            .filter_map(|e| e["action"].as_str())
            .collect();
        assert_eq!(
            actions,
            ["webhook_registered", "webhook_failed", "webhook_delivered"]
        );
        assert_eq!(webhook_entries[1]["detail"]["attempt"], 1);
        assert_eq!(webhook_entries[1]["detail"]["willRetry"], true);
        assert_eq!(webhook_entries[1]["actor"], Value::Null, "the server acted");
        assert_eq!(webhook_entries[2]["detail"]["delivery"], delivery.as_str());
        let (_, verified) = call(
            &app,
            Method::GET,
            &format!("/api/documents/{doc}/audit/verify"),
            &owner,
            None,
        )
        .await?;
        assert_eq!(verified["valid"], true);
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    only_owners_register_https_urls_and_secrets_stay_hidden,
    |backend| async move {
        let Draft { app, owner, doc } = Draft::new(
            backend,
            "Webhooks",
            DRAFT,
            &[("utbildningsforvaltningen", "editor")],
        )
        .await?;
        let path = format!("/api/documents/{doc}/webhooks");
        let register = |token: String, body: Value| {
            let (app, path) = (&app, path.clone());
            async move { call(app, Method::POST, &path, &token, Some(body)).await }
        };
        let editor = app.token("sara", "utbildningsforvaltningen");
        let good =
            json!({ "url": "https://hooks.example.se/forankra", "events": ["comment.added"] });
        let (status, _) = register(editor.clone(), good.clone()).await?;
        assert_eq!(status, 403);
        for (url, events) in [
            ("http://hooks.example.se/forankra", json!(["thread.opened"])),
            ("https://127.0.0.1:9/hook", json!(["thread.opened"])),
            (
                "https://user:pw@hooks.example.se/",
                json!(["thread.opened"]),
            ),
            ("hooks.example.se", json!(["thread.opened"])),
            ("https://hooks.example.se/", json!([])),
            ("https://hooks.example.se/", json!(["document.deleted"])),
        ] {
            let (status, body) =
                register(owner.clone(), json!({ "url": url, "events": events })).await?;
            assert_eq!(status, 422, "{url} {events}: {body}");
        }
        let (status, created) = register(owner.clone(), good).await?;
        assert_eq!(status, 201, "{created}");
        assert!(created["secret"].as_str().is_some_and(|s| s.len() >= 43));

        let (status, list) = call(&app, Method::GET, &path, &owner, None).await?;
        assert_eq!(status, 200);
        assert_eq!(list[0]["id"], created["id"]);
        assert_eq!(list[0]["url"], "https://hooks.example.se/forankra");
        assert!(
            list[0].get("secret").is_none(),
            "the secret is shown only once"
        );
        let (status, _) = call(&app, Method::GET, &path, &editor, None).await?;
        assert_eq!(status, 403);

        let wid = created["id"].as_str().unwrap_or_default();
        let one = format!("{path}/{wid}");
        let (status, _) = call(&app, Method::DELETE, &one, &editor, None).await?;
        assert_eq!(status, 403);
        let (status, _) = call(&app, Method::DELETE, &one, &owner, None).await?;
        assert_eq!(status, 204);
        let (status, _) = call(
            &app,
            Method::GET,
            &format!("{one}/deliveries"),
            &owner,
            None,
        )
        .await?;
        assert_eq!(status, 404);
        // Text that cannot be a webhook id names no webhook either.
        let too_long = "w".repeat(129);
        for bad in ["a%20b", too_long.as_str()] {
            for (method, url) in [
                (Method::DELETE, format!("{path}/{bad}")),
                (Method::GET, format!("{path}/{bad}/deliveries")),
            ] {
                let (status, _) = call(&app, method, &url, &owner, None).await?;
                assert_eq!(status, 404, "{url}");
            }
        }
        let (_, list) = call(&app, Method::GET, &path, &owner, None).await?;
        assert_eq!(list, json!([]));
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(a_queued_delivery_survives_a_restart, |backend| async move {
    // Retries 2 s apart: long enough that the retry falls after the restart.
    let hooked = Hooked::start(backend, 2000, json!(["thread.opened", "comment.added"])).await?;
    let Hooked {
        app,
        owner,
        doc,
        mut rx,
        hook,
    } = hooked;
    let wid = hook["id"].as_str().context("id")?.to_owned();
    let reader = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
    open_thread(
        &app,
        &owner,
        &doc,
        reader.anchor_for("skolan")?,
        "Förskolan?",
        None,
    )
    .await?;
    reader.close().await?;

    let failed = next(&mut rx).await?;
    let deliveries = format!("/api/documents/{doc}/webhooks/{wid}/deliveries");
    eventually(&app, &owner, &deliveries, |d| {
        d[0]["attempts"][0]["httpStatus"] == 500
    })
    .await?;
    let db = app.stop().await?;

    let app = TestApp::spawn_on(db, |c| Hooked::configure(c, 2000)).await?;
    let retried = next(&mut rx).await?;
    assert_eq!(
        header(&retried, "x-forankra-delivery"),
        header(&failed, "x-forankra-delivery"),
        "the restarted server sends the queued delivery"
    );
    let owner = app.token("maria", "stadsledningskontoret");
    let list = eventually(&app, &owner, &deliveries, |d| d[0]["status"] == "delivered").await?;
    assert_eq!(list[0]["attempts"].as_array().map(Vec::len), Some(2));
    Ok::<_, anyhow::Error>(())
});

/// Whether `host` resolves here to loopback addresses only (`vm` and `runsc` do on the
/// machines issue 13 was found on; elsewhere those cases are skipped).
async fn resolves_to_loopback(host: &str) -> bool {
    tokio::net::lookup_host((host, 443))
        .await
        .map(|addrs| addrs.collect::<Vec<_>>())
        .is_ok_and(|addrs| !addrs.is_empty() && addrs.iter().all(|a| a.ip().is_loopback()))
}

both_dbs!(
    targets_inside_this_machine_or_its_networks_are_refused,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let owner = app.token("maria", "stadsledningskontoret");
        let doc = app.create_doc(&owner, "Webhooks", Some(DRAFT)).await?;
        let path = format!("/api/documents/{doc}/webhooks");
        let mut internal = vec![
            "https://localhost/".to_owned(),
            "https://127.0.0.1/".to_owned(),
            "https://[::127.0.0.1]/".to_owned(),
            "https://[::ffff:127.0.0.1]/".to_owned(),
            "https://[::1]:8443/".to_owned(),
            "https://10.0.0.1/".to_owned(),
            "https://192.168.0.10/".to_owned(),
            "https://100.64.1.1/".to_owned(),
            "https://169.254.169.254/latest/meta-data".to_owned(),
            "https://[fe80::1]/".to_owned(),
            "https://[fd00::1]/".to_owned(),
            "https://0.0.0.0/".to_owned(),
            "https://[::]/".to_owned(),
            "https://255.255.255.255/".to_owned(),
            "https://224.0.0.1/".to_owned(),
            "https://[64:ff9b::7f00:1]/".to_owned(),
        ];
        for name in ["vm", "runsc"] {
            if resolves_to_loopback(name).await {
                internal.push(format!("https://{name}/"));
                internal.push(format!("https://{name}.:8443/hook"));
            }
        }
        for url in &internal {
            let (status, body) = call(
                &app,
                Method::POST,
                &path,
                &owner,
                Some(json!({ "url": url, "events": ["thread.opened"] })),
            )
            .await?;
            assert_eq!(status, 422, "{url}: {body}");
            assert_eq!(body["error"], "webhook_internal_address", "{url}: {body}");
        }
        let (status, body) = call(
            &app,
            Method::POST,
            &path,
            &owner,
            Some(json!({ "url": "http://vm/", "events": ["thread.opened"] })),
        )
        .await?;
        assert_eq!((status, &body["error"]), (422, &json!("webhook_bad_url")));
        let (_, list) = call(&app, Method::GET, &path, &owner, None).await?;
        assert_eq!(list, json!([]), "nothing was registered");
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    a_stored_internal_target_is_refused_at_delivery,
    |backend| async move {
        // Registered while the server allowed it (as a webhook stored before this check
        // would be), then delivered by a server that does not.
        let hooked = Hooked::start(backend, 50, json!(["thread.opened"])).await?;
        let Hooked {
            app,
            doc,
            mut rx,
            hook,
            ..
        } = hooked;
        let wid = hook["id"].as_str().context("id")?.to_owned();
        let db = app.stop().await?;
        let app =
            TestApp::spawn_on(db, |c| c.webhook_retry_base = Duration::from_secs(3600)).await?;
        let owner = app.token("maria", "stadsledningskontoret");
        let reader = WsClient::connect(&app.ws_url(&doc, &owner)).await?;
        let anchor = reader.anchor_for("skolan")?;
        open_thread(&app, &owner, &doc, anchor, "Förskolan?", None).await?;
        let deliveries = format!("/api/documents/{doc}/webhooks/{wid}/deliveries");
        let list = eventually(&app, &owner, &deliveries, |d| {
            d[0]["attempts"][0]["error"].is_string()
        })
        .await?;
        let attempt = &list[0]["attempts"][0];
        assert_eq!(attempt["httpStatus"], Value::Null, "{list}");
        assert!(
            attempt["error"]
                .as_str()
                .is_some_and(|e| e.contains("refused")),
            "{list}"
        );
        assert!(rx.try_recv().is_err(), "the receiver was never reached");
        Ok::<_, anyhow::Error>(())
    }
);
