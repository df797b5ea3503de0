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

const UTBILDNING: &str = "utbildningsforvaltningen";
const MILJO: &str = "miljoforvaltningen";

/// Today's date in UTC, moved by `days`. A svarsdatum counts in Stockholm, which is one or
/// two hours ahead: yesterday in UTC is always past there, tomorrow never is.
fn utc_date(days: i64) -> String {
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    today
        .checked_add(jiff::Span::new().days(days))
        .expect("date")
        .to_string()
}

async fn round(app: &TestApp, token: &str, doc: &str) -> Result<Value> {
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

fn invitee<'a>(round: &'a Value, org: &str) -> Result<&'a Value> {
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

async fn put_round(app: &TestApp, token: &str, doc: &str, body: Value) -> Result<(u16, Value)> {
    call(
        app,
        Method::PUT,
        &format!("/api/documents/{doc}/remiss"),
        token,
        Some(body),
    )
    .await
}

async fn answer(app: &TestApp, token: &str, doc: &str, body: Value) -> Result<(u16, Value)> {
    call(
        app,
        Method::POST,
        &format!("/api/documents/{doc}/remiss/response"),
        token,
        Some(body),
    )
    .await
}

async fn reply(
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

/// An anchor on `word`, made by a client that read the document.
async fn anchor(app: &TestApp, token: &str, doc: &str, word: &str) -> Result<Value> {
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
