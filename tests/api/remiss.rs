//! Remiss rounds (docs/REMISS.md): invitees' status follows what their people do, owners
//! run the round, the deadline rule refuses new threads, and the participation report and
//! compilation hold exactly the threads made here, in their groups and order.

use anyhow::{Context, Result, bail};
use reqwest::Method;
use serde_json::{Value, json};

use crate::both_dbs;
use crate::helpers::*;

const DRAFT: &str = "# Trygghetsprogram\n\n\
Förebyggande arbete i skolan är viktigt.\n\n\
Programmet gäller 2020–2023 och ska följas upp årligen.\n";

pub(crate) const UTBILDNING: &str = "utbildningsforvaltningen";
pub(crate) const MILJO: &str = "miljoforvaltningen";

/// Today's date in UTC, moved by `days`. A svarsdatum counts in Stockholm, which is one or
/// two hours ahead: yesterday in UTC is always past there, tomorrow never is.
pub(crate) fn utc_date(days: i64) -> String {
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    today
        .checked_add(jiff::Span::new().days(days))
        .expect("date")
        .to_string()
}

pub(crate) async fn round(app: &TestApp, token: &str, doc: &str) -> Result<Value> {
    let (status, body) = call(
        app,
        Method::GET,
        &format!("/api/documents/{doc}/remiss"),
        token,
        None,
    )
    .await?;
    if status != 200 {
        bail!("GET remiss: {status} {body}");
    }
    Ok(body)
}

pub(crate) fn invitee<'a>(round: &'a Value, org: &str) -> Result<&'a Value> {
    round["invitees"]
        .as_array()
        .context("invitees")?
        .iter()
        .find(|i| i["org"]["id"] == org)
        .with_context(|| format!("{org} is not among the invitees: {round}"))
}

/// Reads the round until `org` has `status`. A first open is recorded off the join's
/// path, so the test asks until it shows (bounded by `WAIT`).
async fn await_status(
    app: &TestApp,
    token: &str,
    doc: &str,
    org: &str,
    status: &str,
) -> Result<Value> {
    tokio::time::timeout(WAIT, async {
        loop {
            let round = round(app, token, doc).await?;
            if invitee(&round, org)?["status"] == status {
                return Ok(invitee(&round, org)?.clone());
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    })
    .await
    .with_context(|| format!("{org} never became {status}"))?
}

pub(crate) async fn put_round(
    app: &TestApp,
    token: &str,
    doc: &str,
    body: Value,
) -> Result<(u16, Value)> {
    call(
        app,
        Method::PUT,
        &format!("/api/documents/{doc}/remiss"),
        token,
        Some(body),
    )
    .await
}

pub(crate) async fn answer(
    app: &TestApp,
    token: &str,
    doc: &str,
    body: Value,
) -> Result<(u16, Value)> {
    call(
        app,
        Method::POST,
        &format!("/api/documents/{doc}/remiss/response"),
        token,
        Some(body),
    )
    .await
}

pub(crate) async fn reply(
    app: &TestApp,
    token: &str,
    doc: &str,
    thread: &str,
    body: &str,
) -> Result<(u16, Value)> {
    call(
        app,
        Method::POST,
        &format!("/api/documents/{doc}/threads/{thread}/comments"),
        token,
        Some(json!({ "body": body })),
    )
    .await
}

/// The audit trail's entries of one action, as the owners read them.
async fn audited(app: &TestApp, owner: &str, doc: &str, action: &str) -> Result<Vec<Value>> {
    let path = format!("/api/documents/{doc}/audit");
    let (status, trail) = call(app, Method::GET, &path, owner, None).await?;
    if status != 200 {
        bail!("GET audit: {status} {trail}");
    }
    let entries = trail.as_array().context("entries")?;
    Ok(entries
        .iter()
        .filter(|e| e["action"] == action)
        .cloned()
        .collect())
}

/// An anchor on `word`, made by a client that read the document.
pub(crate) async fn anchor(app: &TestApp, token: &str, doc: &str, word: &str) -> Result<Value> {
    let client = WsClient::connect(&app.ws_url(doc, token)).await?;
    let anchor = client.anchor_for(word)?;
    client.close().await?;
    Ok(anchor)
}

both_dbs!(
    an_invitees_status_follows_what_its_people_do,
    |backend| async move {
        let Draft { app, owner, doc } = Draft::new(
            backend,
            "Status",
            DRAFT,
            &[(UTBILDNING, "commenter"), (MILJO, "viewer")],
        )
        .await?;
        let sara = app.token("sara", UTBILDNING);
        let erik = app.token("erik", MILJO);

        let start = round(&app, &erik, &doc).await?;
        assert_eq!(start["phase"], "beredning");
        assert_eq!(start["diarienummer"], Value::Null);
        assert_eq!(start["acceptingThreads"], true);
        assert_eq!(
            start["invitees"].as_array().map(Vec::len),
            Some(2),
            "the owner is no invitee: {start}"
        );
        let first = invitee(&start, UTBILDNING)?;
        assert_eq!(first["status"], "invited");
        assert_eq!(first["role"], "commenter");
        assert!(first["invitedAt"].as_i64().is_some_and(|t| t > 0));
        assert_eq!(first["openedAt"], Value::Null);

        // Someone of it connects: opened.
        let client = WsClient::connect(&app.ws_url(&doc, &sara)).await?;
        let opened = await_status(&app, &owner, &doc, UTBILDNING, "opened").await?;
        assert!(opened["openedAt"].as_i64() >= first["invitedAt"].as_i64());
        assert_eq!(
            invitee(&round(&app, &owner, &doc).await?, MILJO)?["status"],
            "invited"
        );

        // The first open is audited once, however often its people come back.
        tokio::time::timeout(WAIT, async {
            while audited(&app, &owner, &doc, "first_open").await?.is_empty() {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            Ok::<_, anyhow::Error>(())
        })
        .await
        .context("no first_open in the audit trail")??;
        let again = WsClient::connect(&app.ws_url(&doc, &sara)).await?;
        assert_eq!(
            app.get_text(&sara, &format!("/api/documents/{doc}"))
                .await?
                .0,
            200
        );
        again.close().await?;
        // It opens a thread: commenting.
        let anchor = client.anchor_for("skolan")?;
        client.close().await?;
        open_thread(
            &app,
            &sara,
            &doc,
            anchor,
            "Nämn förskolan också.",
            Some("andringsforslag"),
        )
        .await?;
        let now = invitee(&round(&app, &owner, &doc).await?, UTBILDNING)?.clone();
        assert_eq!(now["status"], "commenting");
        let first_opens = audited(&app, &owner, &doc, "first_open").await?;
        assert_eq!(first_opens.len(), 1, "{first_opens:?}");
        assert_eq!(first_opens[0]["org"], UTBILDNING);
        assert_eq!(now["threads"], 1);
        assert!(now["firstCommentAt"].as_i64() >= opened["openedAt"].as_i64());

        // Done needs its statement; then done.
        let (status, body) = answer(&app, &sara, &doc, json!({ "status": "done" })).await?;
        assert_eq!(
            (status, body["error"].as_str()),
            (422, Some("unprocessable")),
            "{body}"
        );
        let (status, body) = answer(
            &app,
            &sara,
            &doc,
            json!({ "status": "done", "statement": "Utbildningsförvaltningen tillstyrker med ändringar." }),
        )
        .await?;
        assert_eq!(status, 200, "{body}");
        let done = invitee(&body, UTBILDNING)?;
        assert_eq!(done["status"], "done");
        assert_eq!(
            done["statement"],
            "Utbildningsförvaltningen tillstyrker med ändringar."
        );
        assert!(done["doneAt"].as_i64().is_some());

        // A viewer organisation declines, without a statement.
        let (status, body) = answer(&app, &erik, &doc, json!({ "status": "declined" })).await?;
        assert_eq!(status, 200, "{body}");
        let declined = invitee(&body, MILJO)?;
        assert_eq!(
            (declined["status"].as_str(), &declined["statement"]),
            (Some("declined"), &Value::Null)
        );
        assert!(declined["declinedAt"].as_i64().is_some());

        // Answering again replaces the answer.
        let (status, body) = answer(
            &app,
            &erik,
            &doc,
            json!({ "status": "done", "statement": "Vi svarar ändå." }),
        )
        .await?;
        assert_eq!(status, 200, "{body}");
        let changed = invitee(&body, MILJO)?;
        assert_eq!(
            (changed["status"].as_str(), &changed["declinedAt"]),
            (Some("done"), &Value::Null)
        );

        // The owner organisation and strangers answer nothing.
        let (status, _) = answer(&app, &owner, &doc, json!({ "status": "declined" })).await?;
        assert_eq!(status, 403);
        let stranger = app.token("olle", "kulturforvaltningen");
        let (status, _) = answer(&app, &stranger, &doc, json!({ "status": "declined" })).await?;
        assert_eq!(status, 403);
        let (status, _) = answer(&app, &sara, &doc, json!({ "status": "maybe" })).await?;
        assert_eq!(status, 422);

        // Removed: gone from the list; invited again: first invitation and history kept.
        let removed = call(
            &app,
            Method::DELETE,
            &format!("/api/documents/{doc}/members/{MILJO}"),
            &owner,
            None,
        )
        .await?;
        assert_eq!(removed.0, 200);
        assert!(invitee(&round(&app, &owner, &doc).await?, MILJO).is_err());
        assert_eq!(app.set_role(&owner, &doc, MILJO, "commenter").await?, 200);
        let back = invitee(&round(&app, &owner, &doc).await?, MILJO)?.clone();
        assert_eq!(back["invitedAt"], declined["invitedAt"]);
        assert_eq!(
            (back["status"].as_str(), back["role"].as_str()),
            (Some("done"), Some("commenter"))
        );
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(owners_run_the_round, |backend| async move {
    let Draft { app, owner, doc } =
        Draft::new(backend, "Runda", DRAFT, &[(UTBILDNING, "editor")]).await?;
    let sara = app.token("sara", UTBILDNING);
    let tomorrow = utc_date(1);

    let (status, body) = put_round(
        &app,
        &owner,
        &doc,
        json!({ "diarienummer": "KS 2019/1939", "phase": "remiss", "deadline": tomorrow }),
    )
    .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["diarienummer"], "KS 2019/1939");
    assert_eq!(body["phase"], "remiss");
    assert_eq!(body["deadline"], tomorrow.as_str());
    assert_eq!(
        (
            body["deadlinePassed"].as_bool(),
            body["acceptingThreads"].as_bool()
        ),
        (Some(false), Some(true))
    );
    assert_eq!(
        round(&app, &sara, &doc).await?["diarienummer"],
        "KS 2019/1939"
    );

    // Absent fields stay, null clears.
    let (status, body) = put_round(&app, &owner, &doc, json!({ "diarienummer": null })).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&body["diarienummer"], body["phase"].as_str()),
        (&Value::Null, Some("remiss"))
    );
    assert_eq!(body["deadline"], tomorrow.as_str());

    // Only owners; hostile values are refused by name.
    let (status, body) = put_round(&app, &sara, &doc, json!({ "phase": "avslutad" })).await?;
    assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")));
    for bad in [
        json!({ "deadline": "2020-02-30" }),
        json!({ "deadline": "30/11/2020" }),
        json!({ "phase": "klar" }),
        json!({ "diarienummer": "KS\u{0}1" }),
        json!({ "diarienummer": "x".repeat(101) }),
        json!({ "owner": "me" }),
    ] {
        let (status, body) = put_round(&app, &owner, &doc, bad.clone()).await?;
        assert_eq!(status, 422, "{bad}: {body}");
    }
    assert_eq!(round(&app, &owner, &doc).await?["phase"], "remiss");
    Ok::<_, anyhow::Error>(())
});

both_dbs!(
    no_new_threads_after_the_svarsdatum_or_once_closed,
    |backend| async move {
        let Draft { app, owner, doc } =
            Draft::new(backend, "Svarsdatum", DRAFT, &[(UTBILDNING, "commenter")]).await?;
        let sara = app.token("sara", UTBILDNING);
        let on_skolan = anchor(&app, &sara, &doc, "skolan").await?;
        let thread = open_thread(&app, &sara, &doc, on_skolan.clone(), "Förskolan?", None).await?;
        let thread = thread["id"].as_str().context("id")?.to_owned();

        let yesterday = utc_date(-1);
        let (status, body) = put_round(
            &app,
            &owner,
            &doc,
            json!({ "phase": "remiss", "deadline": yesterday }),
        )
        .await?;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            (
                body["deadlinePassed"].as_bool(),
                body["acceptingThreads"].as_bool()
            ),
            (Some(true), Some(false))
        );

        let open = json!({ "anchor": on_skolan, "body": "För sent." });
        let threads = format!("/api/documents/{doc}/threads");
        for who in [&sara, &owner] {
            let (status, body) =
                call(&app, Method::POST, &threads, who, Some(open.clone())).await?;
            assert_eq!(
                (status, body["error"].as_str()),
                (409, Some("remiss_closed")),
                "{body}"
            );
            let message = body["message"].as_str().unwrap_or_default();
            assert!(
                message.contains(&yesterday),
                "the message names the date: {message}"
            );
        }
        let (status, body) = reply(&app, &sara, &doc, &thread, "Ett tillägg.").await?;
        assert_eq!(
            (status, body["error"].as_str()),
            (409, Some("remiss_closed")),
            "{body}"
        );
        let (status, body) = reply(&app, &owner, &doc, &thread, "Vi beaktar det.").await?;
        assert_eq!(status, 201, "owners still reply: {body}");

        // The svarsdatum moved to tomorrow: open again; then avslutad closes it.
        let (status, _) = put_round(&app, &owner, &doc, json!({ "deadline": utc_date(1) })).await?;
        assert_eq!(status, 200);
        let (status, body) = call(&app, Method::POST, &threads, &sara, Some(open.clone())).await?;
        assert_eq!(status, 201, "{body}");
        let (status, body) = put_round(&app, &owner, &doc, json!({ "phase": "avslutad" })).await?;
        assert_eq!(
            (
                status,
                body["deadlinePassed"].as_bool(),
                body["acceptingThreads"].as_bool()
            ),
            (200, Some(false), Some(false))
        );
        let (status, body) = call(&app, Method::POST, &threads, &sara, Some(open)).await?;
        assert_eq!(
            (status, body["error"].as_str()),
            (409, Some("remiss_closed")),
            "{body}"
        );
        assert!(
            body["message"]
                .as_str()
                .unwrap_or_default()
                .contains("avslutad"),
            "{body}"
        );
        let (status, body) = reply(&app, &sara, &doc, &thread, "Och en sak till.").await?;
        assert_eq!(status, 409, "{body}");
        let (status, body) = reply(&app, &owner, &doc, &thread, "Tack.").await?;
        assert_eq!(status, 201, "{body}");
        Ok::<_, anyhow::Error>(())
    }
);

const PROGRAMME: &str = "# Trygghetsprogram\n\n\
Förebyggande arbete i skolan är viktigt.\n\n\
Programmet gäller 2020–2023 och ska följas upp årligen.\n\n\
Kameror ska sättas upp vid stationerna.\n";

const KULTUR: &str = "kulturforvaltningen";

/// What the test said, to find again in every read-out.
const ON_SKOLAN: &str = "Nämn förskolan också.";
const ON_UPPFOLJNING: &str = "Uppföljningen behöver resurser.";
const ON_ARLIGEN: &str = "Bra med årlig uppföljning <script>alert(1)</script>";
const ON_KAMEROR: &str = "Ingen erinran mot kamerorna.";
const OWNER_REPLY: &str = "Vi ser över resurserna.";
const SARA_REPLY: &str = "Gärna även fritidshemmen.";
const STATEMENT: &str = "Utbildningsförvaltningen tillstyrker i huvudsak.";
const DECLINED: &str = "Vi avstår.";
const WHY_NOT: &str = "Resurser finns i budgeten.";
const WHY_PARTLY: &str = "Förskolan läggs till.";

/// A draft whose round has four threads (one orphaned), replies, resolutions and
/// answers, and the thread ids in document order.
async fn a_full_round(backend: Backend) -> Result<(Draft, Vec<String>)> {
    let draft = Draft::new(
        backend,
        "Trygghetsprogram",
        PROGRAMME,
        &[
            (UTBILDNING, "commenter"),
            (MILJO, "commenter"),
            (KULTUR, "viewer"),
        ],
    )
    .await?;
    let (app, owner, doc) = (&draft.app, draft.owner.as_str(), draft.doc.as_str());
    let sara = app.token("sara", UTBILDNING);
    let erik = app.token("erik", MILJO);
    let kim = app.token("kim", KULTUR);
    let (status, body) = put_round(
        app,
        owner,
        doc,
        json!({ "diarienummer": "KS 2019/1939", "phase": "remiss", "deadline": utc_date(1) }),
    )
    .await?;
    assert_eq!(status, 200, "{body}");

    let watcher = WsClient::connect(&app.ws_url(doc, &sara)).await?;
    let id = |t: Value| t["id"].as_str().map(str::to_owned).context("thread id");
    // Opened out of document order, to see the read-outs sort them.
    let arligen = id(open_thread(
        app,
        &sara,
        doc,
        watcher.anchor_for("årligen")?,
        ON_ARLIGEN,
        Some("tillstyrker"),
    )
    .await?)?;
    let kameror = id(open_thread(
        app,
        &erik,
        doc,
        watcher.anchor_for("Kameror")?,
        ON_KAMEROR,
        Some("ingen_erinran"),
    )
    .await?)?;
    let mut proposal = json!({ "anchor": watcher.anchor_for("skolan")?, "body": ON_SKOLAN, "proposal": "skolan och förskolan" });
    proposal["stance"] = json!("andringsforslag");
    let (status, body) = call(
        app,
        Method::POST,
        &format!("/api/documents/{doc}/threads"),
        &sara,
        Some(proposal),
    )
    .await?;
    assert_eq!(status, 201, "{body}");
    let skolan = id(body)?;
    let uppfoljning = id(open_thread(
        app,
        &erik,
        doc,
        watcher.anchor_for("följas upp")?,
        ON_UPPFOLJNING,
        Some("avstyrker"),
    )
    .await?)?;

    assert_eq!(
        reply(app, owner, doc, &uppfoljning, OWNER_REPLY).await?.0,
        201
    );
    assert_eq!(reply(app, &sara, doc, &skolan, SARA_REPLY).await?.0, 201);
    for (thread, outcome, motivation) in [
        (&uppfoljning, "ej_beaktad", WHY_NOT),
        (&skolan, "delvis_beaktad", WHY_PARTLY),
        (&arligen, "noterad", ""),
    ] {
        let (status, body) = call(
            app,
            Method::POST,
            &format!("/api/documents/{doc}/threads/{thread}/resolve"),
            owner,
            Some(json!({ "outcome": outcome, "motivation": motivation })),
        )
        .await?;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(
        answer(
            app,
            &sara,
            doc,
            json!({ "status": "done", "statement": STATEMENT })
        )
        .await?
        .0,
        200
    );
    assert_eq!(
        answer(
            app,
            &kim,
            doc,
            json!({ "status": "declined", "statement": DECLINED })
        )
        .await?
        .0,
        200
    );

    // The owners delete the paragraph about cameras: that thread is orphaned.
    let mut editor = WsClient::connect(&app.ws_url(doc, owner)).await?;
    editor
        .edit(|txn, fragment| yrs::XmlFragment::remove_range(fragment, txn, 3, 1))
        .await?;
    let mut watcher = watcher;
    watcher
        .wait_for(|c| !c.paragraphs().iter().any(|p| p.contains("Kameror")))
        .await?;
    editor.close().await?;
    watcher.close().await?;
    Ok((draft, vec![skolan, uppfoljning, arligen, kameror]))
}

pub(crate) async fn get_export(
    app: &TestApp,
    token: &str,
    path: &str,
) -> Result<(String, Vec<u8>)> {
    let response = app
        .http
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await?;
    if response.status() != 200 {
        bail!("{path}: {} {}", response.status(), response.text().await?);
    }
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    Ok((content_type, response.bytes().await?.to_vec()))
}

/// Asserts that `needles` occur in `text` in this order.
pub(crate) fn assert_in_order(text: &str, needles: &[&str]) {
    let mut from = 0;
    for needle in needles {
        match text[from..].find(needle) {
            Some(at) => from += at + needle.len(),
            None => panic!("`{needle}` is missing or out of order after byte {from} in:\n{text}"),
        }
    }
}

both_dbs!(
    the_report_holds_exactly_the_threads_made,
    |backend| async move {
        let (Draft { app, owner, doc }, ids) = a_full_round(backend).await?;
        let erik = app.token("erik", MILJO);
        let (status, report) = call(
            &app,
            Method::GET,
            &format!("/api/documents/{doc}/report"),
            &erik,
            None,
        )
        .await?;
        assert_eq!(status, 200, "{report}");
        assert_eq!(report["document"]["title"], "Trygghetsprogram");
        assert_eq!(
            (report["diarienummer"].as_str(), report["phase"].as_str()),
            (Some("KS 2019/1939"), Some("remiss"))
        );

        // Organisations: the invitees as the round lists them, then the owners.
        let orgs = report["organisations"]
            .as_array()
            .context("organisations")?;
        let invited: Vec<Value> = round(&app, &owner, &doc).await?["invitees"]
            .as_array()
            .context("invitees")?
            .iter()
            .map(|i| i["org"]["id"].clone())
            .collect();
        let listed: Vec<Value> = orgs.iter().map(|o| o["org"]["id"].clone()).collect();
        assert_eq!(listed[..3], invited[..], "{report}");
        assert_eq!(
            (listed.len(), listed[3].as_str(), orgs[3]["owner"].as_bool()),
            (4, Some("stadsledningskontoret"), Some(true))
        );
        let org = |id: &str| {
            orgs.iter()
                .find(|o| o["org"]["id"] == id)
                .cloned()
                .context("org")
        };
        let utbildning = org(UTBILDNING)?;
        assert_eq!(
            (
                utbildning["status"].as_str(),
                utbildning["statement"].as_str()
            ),
            (Some("done"), Some(STATEMENT))
        );
        assert_eq!(
            utbildning["threads"],
            json!({ "total": 2, "tillstyrker": 1, "avstyrker": 0, "andringsforslag": 1, "ingenErinran": 0, "withoutStance": 0 })
        );
        assert_eq!(utbildning["replies"], 1);
        assert!(
            utbildning["openedAt"].as_i64().is_some() && utbildning["doneAt"].as_i64().is_some()
        );
        let miljo = org(MILJO)?;
        assert_eq!(
            (miljo["status"].as_str(), miljo["replies"].as_i64()),
            (Some("commenting"), Some(0))
        );
        assert_eq!(
            miljo["threads"],
            json!({ "total": 2, "tillstyrker": 0, "avstyrker": 1, "andringsforslag": 0, "ingenErinran": 1, "withoutStance": 0 })
        );
        let kultur = org(KULTUR)?;
        assert_eq!(
            (
                kultur["status"].as_str(),
                kultur["statement"].as_str(),
                kultur["threads"]["total"].as_i64()
            ),
            (Some("declined"), Some(DECLINED), Some(0))
        );
        let owners = org("stadsledningskontoret")?;
        assert_eq!(
            (
                &owners["status"],
                owners["replies"].as_i64(),
                owners["threads"]["total"].as_i64()
            ),
            (&Value::Null, Some(1), Some(0))
        );

        // Threads: exactly the four, in document order, with what was said and decided.
        let threads = report["threads"].as_array().context("threads")?;
        let field = |key: &str| threads.iter().map(|t| t[key].clone()).collect::<Vec<_>>();
        assert_eq!(
            field("id"),
            ids.iter().map(|i| json!(i)).collect::<Vec<_>>()
        );
        assert_eq!(
            field("paragraph"),
            vec![json!(1), json!(2), json!(2), Value::Null]
        );
        assert_eq!(
            field("quote"),
            vec![
                json!("skolan"),
                json!("följas upp"),
                json!("årligen"),
                json!("")
            ]
        );
        assert_eq!(
            field("anchorState"),
            vec![
                json!("attached"),
                json!("attached"),
                json!("attached"),
                json!("orphaned")
            ]
        );
        assert_eq!(threads[3]["originalQuote"], "Kameror");
        assert_eq!(
            field("stance"),
            vec![
                json!("andringsforslag"),
                json!("avstyrker"),
                json!("tillstyrker"),
                json!("ingen_erinran")
            ]
        );
        assert_eq!(
            field("outcome"),
            vec![
                json!("delvis_beaktad"),
                json!("ej_beaktad"),
                json!("noterad"),
                Value::Null
            ]
        );
        assert_eq!(
            field("motivation"),
            vec![json!(WHY_PARTLY), json!(WHY_NOT), Value::Null, Value::Null]
        );
        assert_eq!(
            field("status"),
            vec![
                json!("resolved"),
                json!("resolved"),
                json!("resolved"),
                json!("open")
            ]
        );
        assert_eq!(
            field("replies"),
            vec![json!(1), json!(1), json!(0), json!(0)]
        );

        // Markdown and HTML say the same, in Swedish, user text inert.
        let (kind, markdown) = get_export(
            &app,
            &erik,
            &format!("/api/documents/{doc}/report?format=markdown"),
        )
        .await?;
        assert!(kind.starts_with("text/markdown"), "{kind}");
        let markdown = String::from_utf8(markdown)?;
        assert_in_order(
            &markdown,
            &[
                "# Förankringsrapport: Trygghetsprogram",
                "- **Diarienummer:** KS 2019/1939",
                "## Deltagande per organisation",
                "### stadsledningskontoret (ägare)",
                "## Synpunkter",
                "### Stycke 2 – utbildningsforvaltningen",
                "- **Ställningstagande:** Ändringsförslag",
                "- **Utfall:** Delvis beaktad",
                WHY_PARTLY,
                "### Stycke 3 – miljoforvaltningen",
                "- **Ställningstagande:** Avstyrker",
                "- **Utfall:** Ej beaktad",
                WHY_NOT,
                "### Stycke 3 – utbildningsforvaltningen",
                "- **Utfall:** Noterad",
                "### Borttagen text – miljoforvaltningen",
                "> Kameror",
                "- **Ställningstagande:** Ingen erinran",
                "- **Utfall:** –",
            ],
        );
        assert_in_order(
            &markdown,
            &[
                "### utbildningsforvaltningen",
                "- **Status:** Yttrande lämnat",
                STATEMENT,
            ],
        );
        assert_in_order(
            &markdown,
            &["### kulturforvaltningen", "- **Status:** Avstår", DECLINED],
        );
        let (kind, html) = get_export(
            &app,
            &erik,
            &format!("/api/documents/{doc}/report?format=html"),
        )
        .await?;
        assert!(kind.starts_with("text/html"), "{kind}");
        let html = String::from_utf8(html)?;
        assert_in_order(
            &html,
            &[
                "<html lang=\"sv\">",
                "<h1>Förankringsrapport: Trygghetsprogram</h1>",
                "Delvis beaktad",
                "Ej beaktad",
                "Noterad",
            ],
        );
        assert!(!html.contains("<script>"));

        // The report in Word, read by python-docx: headings, running header, page
        // numbers and metadata.
        let (_, docx) = get_export(
            &app,
            &erik,
            &format!("/api/documents/{doc}/report?format=docx"),
        )
        .await?;
        let word = crate::word::read(&docx)?;
        assert_eq!(word.title, "Förankringsrapport: Trygghetsprogram");
        assert_eq!(word.author, "stadsledningskontoret");
        assert!(word.page_numbers && word.header.starts_with("KS 2019/1939 · "));
        assert_eq!(
            word.headings.first().map(|h| h.0.as_str()),
            Some("Heading 1")
        );
        // And as PDF/A, read by qpdf and poppler.
        let (_, pdf) = get_export(
            &app,
            &erik,
            &format!("/api/documents/{doc}/report?format=pdf"),
        )
        .await?;
        let pdf = crate::pdf::read(&pdf)?;
        pdf.assert_archival(
            "Förankringsrapport: Trygghetsprogram",
            "stadsledningskontoret",
        );
        assert!(pdf.pages()? > 1, "{:#?}", pdf.info);
        assert_in_order(
            &pdf.text,
            &[
                "KS 2019/1939 · Förankringsrapport: Trygghetsprogram",
                "Förankringsrapport: Trygghetsprogram",
                "Diarienummer: KS 2019/1939",
                "Deltagande per organisation",
                "Stycke 2 – utbildningsforvaltningen",
                "Utfall: Delvis beaktad",
                WHY_PARTLY,
                "Stycke 3 – miljoforvaltningen",
                "Utfall: Ej beaktad",
            ],
        );
        let (status, body) = call(
            &app,
            Method::GET,
            &format!("/api/documents/{doc}/report?format=csv"),
            &erik,
            None,
        )
        .await?;
        assert_eq!(status, 422, "{body}");
        // The round's changes, the answers and each download are in the audit trail.
        let trail = |action: &'static str| audited(&app, &owner, &doc, action);
        let changed = trail("remiss_changed").await?;
        assert_eq!(changed.len(), 1);
        assert_eq!(changed[0]["detail"]["to"]["diarienummer"], "KS 2019/1939");
        let given = trail("response_given").await?;
        assert_eq!(
            (given.len(), given[0]["detail"]["statement"].as_str()),
            (1, Some(STATEMENT))
        );
        assert_eq!(trail("response_declined").await?[0]["org"], KULTUR);
        let exports: Vec<Value> = trail("export_made")
            .await?
            .iter()
            .map(|e| e["detail"]["format"].clone())
            .collect();
        assert_eq!(
            exports,
            vec![
                json!("json"),
                json!("markdown"),
                json!("html"),
                json!("docx"),
                json!("pdf")
            ]
        );
        let stranger = app.token("olle", "socialforvaltningen");
        let (status, _) = call(
            &app,
            Method::GET,
            &format!("/api/documents/{doc}/report"),
            &stranger,
            None,
        )
        .await?;
        assert_eq!(status, 403);
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    the_compilation_is_a_cover_a_summary_a_matrix_points_per_section_and_statements,
    |backend| async move {
        let (Draft { app, doc, .. }, ids) = a_full_round(backend).await?;
        let kim = app.token("kim", KULTUR);
        let path = |format: &str| format!("/api/documents/{doc}/compilation?format={format}");

        let (kind, markdown) =
            get_export(&app, &kim, &format!("/api/documents/{doc}/compilation")).await?;
        assert!(kind.starts_with("text/markdown"), "{kind}");
        let markdown = String::from_utf8(markdown)?;
        let escaped_script = "Bra med årlig uppföljning \\<script>alert(1)\\</script>";
        assert_in_order(
            &markdown,
            &[
                "# Remissammanställning: Trygghetsprogram",
                "- **Diarienummer:** KS 2019/1939",
                "- **Ägare:** stadsledningskontoret",
                "- **Datum:** ",
                &format!("- **Svarsdatum:** {}", utc_date(1)),
                "**Remissinstanser och deras svar**",
                "| Organisation | Svar | Inkommet |",
                "| utbildningsforvaltningen | Svarat | ",
                "| miljoforvaltningen | Har inte svarat | – |",
                "| kulturforvaltningen | Avstått | ",
                "## Sammanfattning per organisation",
                "| Organisation | Tillstyrker | Avstyrker | Ändringsförslag | Ingen erinran | Utan ställningstagande | Totalt |",
                "| utbildningsforvaltningen | 1 | 0 | 1 | 0 | 0 | 2 |",
                "| miljoforvaltningen | 0 | 1 | 0 | 1 | 0 | 2 |",
                "| kulturforvaltningen | 0 | 0 | 0 | 0 | 0 | 0 |",
                "| Organisation | Beaktad | Delvis beaktad | Ej beaktad | Noterad | Ej avgjord |",
                "| utbildningsforvaltningen | 0 | 1 | 0 | 1 | 0 |",
                "| miljoforvaltningen | 0 | 0 | 1 | 0 | 1 |",
                "## Samsynsmatris",
                "| Stycke | utbildningsforvaltningen | miljoforvaltningen | kulturforvaltningen |",
                // Contested first (miljö advises against it), then document order.
                "| Trygghetsprogram, stycke 2 (omstritt) | Tillstyrker – Noterad | Avstyrker – Ej beaktad | – |",
                "| Trygghetsprogram, stycke 1 | Ändringsförslag – Delvis beaktad | – | – |",
                "| Borttagen text | – | Ingen erinran – Ej avgjord | – |",
                "## Synpunkter per avsnitt",
                "### Trygghetsprogram",
                "| Stycke | Organisation | Ställningstagande | Markerad text | Synpunkt | Förslag | Utfall | Motivering |",
                "| Trygghetsprogram, stycke 1 | utbildningsforvaltningen | Ändringsförslag | skolan | ",
                ON_SKOLAN,
                SARA_REPLY,
                "| skolan och förskolan | Delvis beaktad | Förskolan läggs till. |",
                "| Trygghetsprogram, stycke 2 | miljoforvaltningen | Avstyrker | följas upp | ",
                ON_UPPFOLJNING,
                OWNER_REPLY,
                "| Ej beaktad | Resurser finns i budgeten. |",
                "| Trygghetsprogram, stycke 2 | utbildningsforvaltningen | Tillstyrker | årligen | ",
                escaped_script,
                "| Noterad |",
                "### Synpunkter på borttagen text",
                "| Borttagen text | miljoforvaltningen | Ingen erinran | Ursprunglig text: Kameror | ",
                ON_KAMEROR,
                "| Ej avgjord |",
                "## Yttranden",
                "### utbildningsforvaltningen",
                "- **Status:** Yttrande lämnat",
                "- **Synpunkter i texten:** 2",
                STATEMENT,
                "### miljoforvaltningen",
                "- **Synpunkter i texten:** 2",
                "Inget yttrande har lämnats.",
                "### kulturforvaltningen",
                "- **Status:** Avstår",
                DECLINED,
            ],
        );
        // Each thread is once in the matrix and once in a section's table.
        assert_eq!(markdown.matches(ON_UPPFOLJNING).count(), 1, "{markdown}");
        // The owners commented too (a reply), but opened no thread: no column of theirs.
        assert!(!markdown.contains("(ägare)"), "{markdown}");

        let (kind, html) = get_export(&app, &kim, &path("html")).await?;
        assert!(kind.starts_with("text/html"), "{kind}");
        let html = String::from_utf8(html)?;
        assert_in_order(
            &html,
            &[
                "<html lang=\"sv\">",
                "<style>",
                "<h1>Remissammanställning: Trygghetsprogram</h1>",
                "<caption>Remissinstanser och deras svar</caption>",
                "<th scope=\"col\">Organisation</th>",
                "<h2>Samsynsmatris</h2>",
                "<th scope=\"row\">Trygghetsprogram, stycke 2 (omstritt)</th>",
                "<h2>Synpunkter per avsnitt</h2>",
                "<h3>Trygghetsprogram</h3>",
                "<h2>Yttranden</h2>",
            ],
        );
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !html.contains("<script>")
        );

        // CSV: kept as it was, one row per comment, threads in document order.
        let (kind, csv) = get_export(&app, &kim, &path("csv")).await?;
        assert!(kind.starts_with("text/csv"), "{kind}");
        let csv = String::from_utf8(csv)?;
        let csv = csv.strip_prefix('\u{feff}').context("a byte-order mark")?;
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let header: Vec<String> = reader.headers()?.iter().map(str::to_owned).collect();
        let column = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .with_context(|| format!("column {name}"))
        };
        let (thread, body, outcome, paragraph) = (
            column("Tråd")?,
            column("Kommentar")?,
            column("Utfall")?,
            column("Stycke")?,
        );
        let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>()?;
        let got: Vec<(&str, &str, &str, &str)> = rows
            .iter()
            .map(|r| (&r[thread], &r[body], &r[outcome], &r[paragraph]))
            .collect();
        assert_eq!(
            got,
            vec![
                (ids[0].as_str(), ON_SKOLAN, "Delvis beaktad", "2"),
                (ids[0].as_str(), SARA_REPLY, "Delvis beaktad", "2"),
                (ids[1].as_str(), ON_UPPFOLJNING, "Ej beaktad", "3"),
                (ids[1].as_str(), OWNER_REPLY, "Ej beaktad", "3"),
                (ids[2].as_str(), ON_ARLIGEN, "Noterad", "3"),
                (ids[3].as_str(), ON_KAMEROR, "", ""),
            ]
        );
        assert_eq!(
            &rows[0][column("Styckets text")?],
            "Förebyggande arbete i skolan är viktigt."
        );
        assert_eq!(&rows[5][column("Markerad text")?], "Kameror");

        // DOCX, read by python-docx: what Word's navigation pane, a screen reader and the
        // archive's metadata extraction would find.
        let (kind, docx) = get_export(&app, &kim, &path("docx")).await?;
        assert!(
            kind.starts_with(
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            ),
            "{kind}"
        );
        let word = crate::word::read(&docx)?;
        assert_eq!(word.title, "Remissammanställning: Trygghetsprogram");
        assert_eq!(word.author, "stadsledningskontoret");
        assert_eq!(word.language, "sv-SE");
        let today = jiff::Timestamp::now().to_string();
        assert_eq!(word.created.get(..10), today.get(..10), "{}", word.created);
        assert_eq!(
            word.header,
            "KS 2019/1939 · Remissammanställning: Trygghetsprogram"
        );
        assert!(word.page_numbers);
        let headings: Vec<(&str, &str)> = word
            .headings
            .iter()
            .map(|(s, t)| (s.as_str(), t.as_str()))
            .collect();
        assert_eq!(
            headings,
            vec![
                ("Heading 1", "Remissammanställning: Trygghetsprogram"),
                ("Heading 2", "Sammanfattning per organisation"),
                ("Heading 2", "Samsynsmatris"),
                ("Heading 2", "Synpunkter per avsnitt"),
                ("Heading 3", "Trygghetsprogram"),
                ("Heading 3", "Synpunkter på borttagen text"),
                ("Heading 2", "Yttranden"),
                ("Heading 3", "utbildningsforvaltningen"),
                ("Heading 3", "miljoforvaltningen"),
                ("Heading 3", "kulturforvaltningen"),
            ]
        );
        assert_eq!(word.tables.len(), 6, "{:#?}", word.tables);
        assert!(word.tables.iter().all(|t| t.header_row));
        let answers = word.table(&["Organisation", "Svar", "Inkommet"])?;
        assert_eq!(answers.row("miljoforvaltningen")?[1], "Har inte svarat");
        assert_eq!(answers.row("kulturforvaltningen")?[1], "Avstått");
        let stances = word.table(&["Organisation", "Tillstyrker", "Avstyrker"])?;
        assert_eq!(
            stances.row("miljoforvaltningen")?,
            &["miljoforvaltningen", "0", "1", "0", "1", "0", "2"]
        );
        let outcomes = word.table(&["Organisation", "Beaktad"])?;
        assert_eq!(
            outcomes.row("utbildningsforvaltningen")?,
            &["utbildningsforvaltningen", "0", "1", "0", "1", "0"]
        );
        let matrix = word.table(&["Stycke", "utbildningsforvaltningen"])?;
        assert_eq!(
            matrix.rows[1],
            [
                "Trygghetsprogram, stycke 2 (omstritt)",
                "Tillstyrker – Noterad",
                "Avstyrker – Ej beaktad",
                "–"
            ]
        );
        let points = word.table(&["Stycke", "Organisation", "Ställningstagande"])?;
        assert_eq!(points.rows.len(), 4, "a header and three points");
        assert!(
            points.rows[3][4].contains(ON_ARLIGEN),
            "{:?}",
            points.rows[3]
        );

        let (status, _) = call(&app, Method::GET, &path("json"), &kim, None).await?;
        assert_eq!(status, 422);
        // PDF is made (tests/api/pdf.rs reads it through); an unknown format is refused.
        let (kind, bytes) = get_export(&app, &kim, &path("pdf")).await?;
        assert_eq!(kind, "application/pdf");
        assert!(crate::pdf::read(&bytes)?.tags("Table") > 0);
        let (status, _) = call(&app, Method::GET, &path("pdfa"), &kim, None).await?;
        assert_eq!(status, 400);
        Ok::<_, anyhow::Error>(())
    }
);
