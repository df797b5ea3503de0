//! Read-only holds on every path: a viewer's or commenter's updates are never stored,
//! not on the normal path, not at shutdown (SIGTERM to the real binary), not when an
//! idle room unloads (issue 13, finding 2).

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use yrs::sync::{Message, SyncMessage};
use yrs::updates::encoder::Encode;
use yrs::{Transact, XmlElementPrelim, XmlFragment, XmlTextPrelim};

use crate::both_dbs;
use crate::helpers::*;

const SECRET: &str = "read-only-holds-on-every-path";
/// Rounds of flood-then-SIGTERM: the original finding was a race (3 of 11 attempts).
const ROUNDS: usize = 5;
/// Updates packed into each flood frame, so many wait in the room's queue at once.
const UPDATES_PER_FRAME: usize = 20;
/// The rate limit is not what this test is about: let the flood through it.
const NO_RATE_LIMIT: &[&str] = &[
    "--ws-message-rate",
    "1000000",
    "--ws-message-burst",
    "1000000",
];

async fn create_doc(server: &ProcessServer, owner: &str) -> Result<String> {
    let http = reqwest::Client::new();
    let created: Value = http
        .post(server.url("/api/documents"))
        .bearer_auth(owner)
        .json(&json!({ "title": "Läsrätt", "markdown": long_draft() }))
        .send()
        .await?
        .json()
        .await?;
    let doc = created["id"].as_str().context("id")?.to_owned();
    for (org, role) in [
        ("kulturforvaltningen", "viewer"),
        ("socialforvaltningen", "commenter"),
    ] {
        let status = http
            .put(server.url(&format!("/api/documents/{doc}/members/{org}")))
            .bearer_auth(owner)
            .json(&json!({ "role": role }))
            .send()
            .await?
            .status();
        if status != 200 {
            bail!("inviting {org} as {role}: {status}");
        }
    }
    Ok(doc)
}

/// A draft of a few hundred paragraphs: answering a sync step 1 then costs the room
/// real work, so the updates sent behind one queue up in the room, as in the finding.
fn long_draft() -> String {
    (0..500)
        .map(|i| {
            format!(
                "Stycke {i}: förvaltningen ska i samverkan med stadsdelsnämnderna ta fram en plan."
            )
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Updates each flooder sends before the test acts (SIGTERM, leaving).
const UNDER_WAY: usize = 1_000;

/// Sends frames of [`UPDATES_PER_FRAME`] new paragraphs each (`{label} {n}`) on a raw
/// socket until it fails, reading (and ignoring) what the server sends meanwhile so the
/// flooder is never cut off as a slow client; says so on `under_way` once [`UNDER_WAY`]
/// updates are sent.
async fn flood(url: String, label: String, under_way: oneshot::Sender<()>) -> Result<()> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message as WsMessage;
    let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url)).await??;
    let (mut sink, mut stream) = ws.split();
    let _drain = AbortOnDrop(tokio::spawn(async move {
        while let Some(Ok(_)) = stream.next().await {}
    }));
    let doc = new_doc();
    let frag = doc.get_or_insert_xml_fragment("default");
    let mut under_way = Some(under_way);
    let mut n = 0;
    loop {
        // A sync step 1 asking for the whole document first (a viewer may ask).
        let mut frame =
            Message::Sync(SyncMessage::SyncStep1(yrs::StateVector::default())).encode_v1();
        for _ in 0..UPDATES_PER_FRAME {
            let update = {
                let mut txn = doc.transact_mut();
                let len = frag.len(&txn);
                let text = XmlTextPrelim::new(format!("{label} {n}"));
                frag.insert(
                    &mut txn,
                    len,
                    XmlElementPrelim::new("paragraph", [yrs::types::xml::XmlIn::from(text)]),
                );
                txn.encode_update_v1()
            };
            frame.extend(Message::Sync(SyncMessage::Update(update)).encode_v1());
            n += 1;
        }
        if sink.send(WsMessage::Binary(frame.into())).await.is_err() {
            return Ok(());
        }
        if n >= UNDER_WAY
            && let Some(tell) = under_way.take()
        {
            let _ = tell.send(());
        }
    }
}

/// Ends the task it holds when dropped (with the flood that is aborted), so the socket
/// half it reads closes too.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts two viewers and two commenters flooding the document; returns their tasks once
/// every flood is well under way.
async fn start_floods(
    server: &ProcessServer,
    doc: &str,
    round: usize,
) -> Result<Vec<tokio::task::JoinHandle<Result<()>>>> {
    let mut tasks = Vec::new();
    let mut under_way = Vec::new();
    for (user, org, label) in [
        ("lars", "kulturforvaltningen", "Läsare"),
        ("helena", "socialforvaltningen", "Kommentator"),
        ("karin", "kulturforvaltningen", "Läsare"),
        ("omar", "socialforvaltningen", "Kommentator"),
    ] {
        let token = ProcessServer::token(SECRET, user, org);
        let (tell, told) = oneshot::channel();
        let url = server.ws_url(doc, &token);
        tasks.push(tokio::spawn(flood(url, format!("{label} {round}"), tell)));
        under_way.push(told);
    }
    for told in under_way {
        tokio::time::timeout(WAIT, told)
            .await
            .context("a flood did not get going")?
            .context("a flood ended early")?;
    }
    Ok(tasks)
}

/// Fails if any paragraph came from a read-only flood.
fn assert_nothing_read_only(paragraphs: &[String]) {
    let leaked: Vec<&String> = paragraphs
        .iter()
        .filter(|p| p.starts_with("Läsare") || p.starts_with("Kommentator"))
        .collect();
    assert!(
        leaked.is_empty(),
        "{} read-only paragraphs were stored, e.g. {:?}",
        leaked.len(),
        leaked.first()
    );
}

both_dbs!(
    read_only_floods_are_not_stored_at_sigterm,
    |backend| async move {
        let db = TestDb::fresh(backend).await?;
        let owner = ProcessServer::token(SECRET, "maria", "stadsledningskontoret");
        let mut doc = None;
        for round in 0..ROUNDS {
            let server = ProcessServer::start(&db.url, SECRET, NO_RATE_LIMIT).await?;
            let doc = match &doc {
                Some(doc) => doc,
                None => doc.insert(create_doc(&server, &owner).await?),
            };
            let mut editor = WsClient::connect(&server.ws_url(doc, &owner)).await?;
            let mut watcher = WsClient::connect(&server.ws_url(doc, &owner)).await?;
            let mine = format!("Ägaren, omgång {round}");
            editor.append_paragraph(&mine).await?;
            // Relayed means stored: it must be there after every restart.
            watcher.wait_for(|c| c.paragraphs().contains(&mine)).await?;
            editor.close().await?;
            watcher.close().await?;
            let floods = start_floods(&server, doc, round).await?;
            // SIGTERM in the middle of the floods.
            server.terminate().await?;
            for task in floods {
                task.await??;
            }
        }
        let server = ProcessServer::start(&db.url, SECRET, &[]).await?;
        let doc = doc.context("a document")?;
        let reader = WsClient::connect(&server.ws_url(&doc, &owner)).await?;
        let paragraphs = reader.paragraphs();
        assert_nothing_read_only(&paragraphs);
        for round in 0..ROUNDS {
            let mine = format!("Ägaren, omgång {round}");
            assert!(paragraphs.contains(&mine), "{mine} is missing");
        }
        server.kill().await?;
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    read_only_floods_are_not_stored_when_the_room_unloads,
    |backend| async move {
        let db = TestDb::fresh(backend).await?;
        let owner = ProcessServer::token(SECRET, "maria", "stadsledningskontoret");
        let mut args = NO_RATE_LIMIT.to_vec();
        args.extend(["--room-idle", "50ms"]);
        let server = ProcessServer::start(&db.url, SECRET, &args).await?;
        let doc = create_doc(&server, &owner).await?;
        let http = reqwest::Client::new();
        for round in 0..ROUNDS {
            let floods = start_floods(&server, &doc, round).await?;
            // Everyone leaves in the middle of the flood; the room unloads when idle.
            for task in &floods {
                task.abort();
            }
            for task in floods {
                let _ = task.await;
            }
            wait_until_unloaded(&http, &server).await?;
            let reader = WsClient::connect(&server.ws_url(&doc, &owner)).await?;
            assert_nothing_read_only(&reader.paragraphs());
            reader.close().await?;
            wait_until_unloaded(&http, &server).await?;
        }
        server.kill().await?;
        Ok::<_, anyhow::Error>(())
    }
);

/// Waits until the server has no room open, so the next connection loads from storage.
async fn wait_until_unloaded(http: &reqwest::Client, server: &ProcessServer) -> Result<()> {
    // Polled: nothing is sent to anyone when a room unloads.
    let mut poll = tokio::time::interval(std::time::Duration::from_millis(50));
    tokio::time::timeout(WAIT, async {
        loop {
            poll.tick().await;
            let text = http
                .get(server.url("/metrics"))
                .send()
                .await?
                .text()
                .await?;
            if metric_value(&text, "forankra_rooms_open")? == 0.0 {
                return Ok::<_, anyhow::Error>(());
            }
        }
    })
    .await
    .context("the room did not unload")?
}
