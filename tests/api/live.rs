//! Live state (issue 17): the bell's event stream (`GET /api/me/events`) hears a
//! notification raised by someone else and a mark-read on another connection, on one node
//! and across two nodes on PostgreSQL, ends for a disabled user and is capped per user;
//! the remiss round's events reach the document's sockets.

use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use reqwest::Method;
use serde_json::{Value, json};

use forankra::auth::directory::NewUser;
use forankra::ids::{OrgId, UserId};

use crate::both_dbs;
use crate::helpers::*;
use crate::notifications::{INVITED, OWNER_ORG, draft_in_remiss, org_with_users};
use crate::remiss::{anchor, answer, put_round, reply};

/// One Server-Sent Events response, read event by event.
struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

/// One event: its name and its JSON data.
#[derive(Debug)]
struct Sse {
    event: String,
    data: Value,
}

impl EventStream {
    async fn open(http: &reqwest::Client, url: String, token: &str) -> Result<Self> {
        let response = http.get(url).bearer_auth(token).send().await?;
        let status = response.status();
        if status != 200 {
            bail!("GET /api/me/events: {status} {}", response.text().await?);
        }
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        ensure!(kind.starts_with("text/event-stream"), "content type {kind}");
        Ok(Self {
            response,
            buffer: String::new(),
        })
    }

    /// The next event (keep-alive comments skipped), or `None` when the server ended
    /// the stream.
    async fn next(&mut self) -> Result<Option<Sse>> {
        tokio::time::timeout(WAIT, async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let block: String = self.buffer.drain(..end + 2).collect();
                    if let Some(event) = parse(&block)? {
                        return Ok(Some(event));
                    }
                    continue;
                }
                match self.response.chunk().await? {
                    Some(bytes) => self.buffer.push_str(std::str::from_utf8(&bytes)?),
                    None => return Ok(None),
                }
            }
        })
        .await
        .context("no event within the wait")?
    }

    /// The next event, which must be a `bell`; its data.
    async fn bell(&mut self) -> Result<Value> {
        match self.next().await? {
            Some(Sse { event, data }) if event == "bell" => Ok(data),
            other => bail!("expected a bell event, got {other:?}"),
        }
    }
}

fn parse(block: &str) -> Result<Option<Sse>> {
    let mut event = String::from("message");
    let mut data = String::new();
    for line in block.lines() {
        if let Some(name) = line.strip_prefix("event:") {
            event = name.trim().to_owned();
        } else if let Some(text) = line.strip_prefix("data:") {
            data.push_str(text.trim_start());
        }
    }
    if data.is_empty() {
        return Ok(None);
    }
    Ok(Some(Sse {
        event,
        data: serde_json::from_str(&data).context("event data is not JSON")?,
    }))
}

/// Maria of the owners and Eva of the invited organisation on a draft in remiss.
async fn invited_draft(app: &TestApp) -> Result<(String, String, String)> {
    org_with_users(app, OWNER_ORG, &[("maria", None)]).await?;
    org_with_users(app, INVITED, &[("eva", None)]).await?;
    let owner = app.token("maria", OWNER_ORG);
    let eva = app.token("eva", INVITED);
    let doc = draft_in_remiss(app, &owner, "2031-05-20").await?;
    ensure!(app.set_role(&owner, &doc, INVITED, "commenter").await? == 200);
    Ok((doc, owner, eva))
}

both_dbs!(
    the_bell_rings_for_a_reply_and_falls_for_a_read_elsewhere,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let (doc, owner, eva) = invited_draft(&app).await?;
        let mut stream = EventStream::open(&app.http, app.url("/api/me/events"), &eva).await?;
        let first = stream.bell().await?;
        ensure!(first["unread"] == 1, "the invitation: {first}");
        ensure!(first["latest"]["kind"] == "remiss_invited", "{first}");

        let thread = open_thread(
            &app,
            &eva,
            &doc,
            anchor(&app, &eva, &doc, "Skolan").await?,
            "Lägg till fritids.",
            None,
        )
        .await?;
        let thread = thread["id"].as_str().context("thread id")?.to_owned();
        let (status, body) = reply(&app, &owner, &doc, &thread, "Vi tar med det.").await?;
        ensure!(status == 201, "reply: {status} {body}");
        let rung = stream.bell().await?;
        ensure!(rung["unread"] == 2, "{rung}");
        ensure!(rung["latest"]["kind"] == "thread_reply", "{rung}");
        ensure!(rung["latest"]["threadId"] == thread.as_str(), "{rung}");
        ensure!(
            rung["latest"]["payload"]["excerpt"] == "Vi tar med det.",
            "{rung}"
        );

        // Read on another connection (another tab): this stream's count falls.
        let newest = rung["latest"]["id"].as_str().context("id")?;
        let path = format!("/api/notifications/{newest}/read");
        let (status, _) = call(&app, Method::POST, &path, &eva, None).await?;
        ensure!(status == 200);
        let read_one = stream.bell().await?;
        ensure!(read_one["unread"] == 1, "{read_one}");
        ensure!(read_one["latest"]["readAt"].is_i64(), "{read_one}");
        let path = "/api/notifications/read-all";
        let (status, _) = call(&app, Method::POST, path, &eva, None).await?;
        ensure!(status == 200);
        ensure!(stream.bell().await?["unread"] == 0);
        Ok(())
    }
);

both_dbs!(
    a_disabled_users_stream_ends_and_streams_are_capped,
    |backend| async move {
        let app = TestApp::spawn_with(backend, |c| {
            c.membership_recheck = Duration::from_millis(200);
        })
        .await?;
        let (_doc, _owner, eva) = invited_draft(&app).await?;
        let cap = forankra::notifications::live::MAX_STREAMS_PER_USER;
        let mut streams = Vec::new();
        for _ in 0..cap {
            let mut stream = EventStream::open(&app.http, app.url("/api/me/events"), &eva).await?;
            stream.bell().await?;
            streams.push(stream);
        }
        let (status, body) = call(&app, Method::GET, "/api/me/events", &eva, None).await?;
        ensure!(
            status == 429 && body["error"] == "too_many_requests",
            "{status} {body}"
        );

        app.state
            .db
            .set_disabled(&UserId::parse("eva")?, true)
            .await?;
        for stream in &mut streams {
            match stream.next().await? {
                Some(Sse { event, data }) if event == "end" => {
                    ensure!(
                        data["reason"]
                            .as_str()
                            .is_some_and(|r| r.contains("disabled")),
                        "{data}"
                    );
                }
                other => bail!("expected the end event, got {other:?}"),
            }
            ensure!(
                stream.next().await?.is_none(),
                "the stream closes after `end`"
            );
        }
        Ok(())
    }
);

both_dbs!(
    the_round_reaches_the_documents_sockets_live,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let (doc, owner, eva) = invited_draft(&app).await?;
        let mut watcher = WsClient::connect(&app.ws_url(&doc, &eva)).await?;
        watcher.subscribe_round_events().await?;
        watcher.subscribe_events().await?;

        let (status, body) = answer(&app, &eva, &doc, json!({ "status": "declined" })).await?;
        ensure!(status == 200, "answer: {status} {body}");
        watcher
            .wait_for(|c| c.events.iter().any(|e| e["type"] == "round"))
            .await?;
        let declined = &watcher.events[0]["round"];
        ensure!(
            declined["invitees"][0]["status"] == "declined",
            "{declined}"
        );
        ensure!(declined["closesAt"].is_i64(), "{declined}");

        let (status, body) = put_round(&app, &owner, &doc, json!({ "phase": "avslutad" })).await?;
        ensure!(status == 200, "{status} {body}");
        watcher.wait_for(|c| c.events.len() >= 2).await?;
        let closed = &watcher.events[1];
        ensure!(closed["type"] == "round", "{closed}");
        ensure!(closed["round"]["phase"] == "avslutad", "{closed}");
        ensure!(closed["round"]["acceptingThreads"] == false, "{closed}");
        watcher.close().await?;
        Ok(())
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raised_on_one_node_the_bell_and_round_ring_on_the_other() -> Result<()> {
    if !postgres_available("live::raised_on_one_node_the_bell_and_round_ring_on_the_other") {
        return Ok(());
    }
    const SECRET: &str = "one-secret-for-both-nodes";
    let test_db = TestDb::fresh(Backend::Postgres).await?;
    let a = ProcessServer::start(&test_db.url, SECRET, &[]).await?;
    let b = ProcessServer::start(&test_db.url, SECRET, &[]).await?;
    let db = forankra::storage::Db::connect(&test_db.url).await?;
    for (org, user) in [(OWNER_ORG, "maria"), (INVITED, "eva")] {
        db.add_org(&OrgId::parse(org)?, org).await?;
        db.add_user(&NewUser {
            id: UserId::parse(user)?,
            name: user.into(),
            org: OrgId::parse(org)?,
            email: None,
            admin: false,
            password_hash: None,
        })
        .await?;
    }
    let owner = ProcessServer::token(SECRET, "maria", OWNER_ORG);
    let eva = ProcessServer::token(SECRET, "eva", INVITED);
    let http = reqwest::Client::new();
    let created: Value = http
        .post(a.url("/api/documents"))
        .bearer_auth(&owner)
        .json(&json!({ "title": "Kluster", "markdown": "Skolan ska vara trygg." }))
        .send()
        .await?
        .json()
        .await?;
    let doc = created["id"].as_str().context("id")?.to_owned();

    // Eva's page is served by node B; the invitation is raised on node A.
    let mut stream = EventStream::open(&http, b.url("/api/me/events"), &eva).await?;
    ensure!(stream.bell().await?["unread"] == 0);
    let mut watcher = WsClient::connect(&b.ws_url(&doc, &owner)).await?;
    watcher.subscribe_round_events().await?;
    let invited = http
        .put(a.url(&format!("/api/documents/{doc}/members/{INVITED}")))
        .bearer_auth(&owner)
        .json(&json!({ "role": "commenter" }))
        .send()
        .await?;
    ensure!(invited.status() == 200);
    let rung = stream.bell().await?;
    ensure!(rung["unread"] == 1, "{rung}");
    ensure!(rung["latest"]["kind"] == "remiss_invited", "{rung}");

    // Read through node A: node B's stream falls.
    let read = http
        .post(a.url("/api/notifications/read-all"))
        .bearer_auth(&eva)
        .send()
        .await?;
    ensure!(read.status() == 200);
    ensure!(stream.bell().await?["unread"] == 0);

    // The round changed on node A reaches the socket on node B.
    let changed = http
        .put(a.url(&format!("/api/documents/{doc}/remiss")))
        .bearer_auth(&owner)
        .json(&json!({ "phase": "remiss", "deadline": "2031-05-20" }))
        .send()
        .await?;
    ensure!(changed.status() == 200);
    watcher
        .wait_for(|c| c.events.iter().any(|e| e["type"] == "round"))
        .await?;
    let round = &watcher.events[0]["round"];
    ensure!(
        round["phase"] == "remiss" && round["deadline"] == "2031-05-20",
        "{round}"
    );
    ensure!(round["invitees"][0]["org"]["id"] == INVITED, "{round}");
    watcher.close().await?;
    drop(stream);
    a.kill().await?;
    b.kill().await?;
    drop(test_db);
    Ok(())
}
