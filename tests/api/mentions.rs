//! @mentions and following (issue 17) against the real server and a real SMTP server on
//! loopback (`tests/node/smtp-sink.mjs`): a mention of an organisation reaches each of its
//! members once, in the inbox and by mail, never the writer; a mention of a non-member is
//! refused; an edit tells only whom it newly mentions; following and unfollowing a thread
//! or the document change who hears of replies and new threads.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use reqwest::Method;
use serde_json::{Value, json};

use crate::both_dbs;
use crate::helpers::*;
use crate::notifications::{
    INVITED, OWNER_ORG, Sink, draft_in_remiss, inbox, mailing_app, org_with_users, outbox_settled,
    text, to,
};
use crate::remiss::anchor;

pub(crate) const MILJO: &str = "miljo";
pub(crate) const KULTUR: &str = "kultur";

/// The owner `maria` (stadsledningskontoret), `eva` and `olle` (utbildning), `mats`
/// (miljo) and `nils` (kultur), each with an e-mail address.
pub(crate) async fn four_organisations(app: &TestApp) -> Result<()> {
    org_with_users(app, OWNER_ORG, &[("maria", Some("maria@stad.example"))]).await?;
    org_with_users(
        app,
        INVITED,
        &[
            ("eva", Some("eva@utb.example")),
            ("olle", Some("olle@utb.example")),
        ],
    )
    .await?;
    org_with_users(app, MILJO, &[("mats", Some("mats@miljo.example"))]).await?;
    org_with_users(app, KULTUR, &[("nils", Some("nils@kultur.example"))]).await
}

/// A mailing server, its SMTP sink with the invitations taken, and a document in remiss
/// with the owner `maria`, the invited commenters `eva` and `olle` (utbildning) and `mats`
/// (miljo, a commenter when `miljo_invited`), and `nils` in `kultur`, never invited.
struct Cast {
    sink: Sink,
    app: TestApp,
    doc: String,
    owner: String,
    eva: String,
    olle: String,
}

async fn cast(backend: Backend, window: Duration, miljo_invited: bool) -> Result<Cast> {
    let mut sink = Sink::start(0).await?;
    let app = mailing_app(backend, &sink, window).await?;
    four_organisations(&app).await?;
    let owner = app.token("maria", OWNER_ORG);
    let doc = draft_in_remiss(&app, &owner, "2031-05-20").await?;
    ensure!(app.set_role(&owner, &doc, INVITED, "commenter").await? == 200);
    let mut invited = 2;
    if miljo_invited {
        ensure!(app.set_role(&owner, &doc, MILJO, "commenter").await? == 200);
        invited += 1;
    }
    sink.take(invited).await?; // the invitations
    let (eva, olle) = (app.token("eva", INVITED), app.token("olle", INVITED));
    Ok(Cast {
        sink,
        app,
        doc,
        owner,
        eva,
        olle,
    })
}

/// Opens a thread on "Skolan" with `mentions`; the answer's status and body.
async fn open_with(
    app: &TestApp,
    token: &str,
    doc: &str,
    body: &str,
    mentions: Value,
) -> Result<(u16, Value)> {
    let anchor = anchor(app, token, doc, "Skolan").await?;
    call(
        app,
        Method::POST,
        &format!("/api/documents/{doc}/threads"),
        token,
        Some(json!({ "anchor": anchor, "body": body, "mentions": mentions })),
    )
    .await
}

async fn reply_with(
    app: &TestApp,
    token: &str,
    doc: &str,
    thread: &str,
    body: &str,
    mentions: Value,
) -> Result<(u16, Value)> {
    call(
        app,
        Method::POST,
        &format!("/api/documents/{doc}/threads/{thread}/comments"),
        token,
        Some(json!({ "body": body, "mentions": mentions })),
    )
    .await
}

/// The kinds in a user's inbox, newest first.
async fn kinds(app: &TestApp, token: &str) -> Result<Vec<String>> {
    let page = inbox(app, token).await?;
    Ok(page["items"]
        .as_array()
        .context("items")?
        .iter()
        .map(|i| i["kind"].as_str().unwrap_or_default().to_owned())
        .collect())
}

fn id_of(thread: &Value) -> Result<String> {
    Ok(thread["id"].as_str().context("thread id")?.to_owned())
}

both_dbs!(
    a_mention_of_an_organisation_reaches_each_member_once_and_not_the_writer,
    |backend| async move {
        let Cast {
            mut sink,
            app,
            doc,
            owner,
            eva,
            olle,
        } = cast(backend, Duration::from_millis(1500), false).await?;

        // Eva mentions her own organisation and the owner by name.
        let mentions = json!([{"kind": "org", "id": INVITED}, {"kind": "user", "id": "maria"}]);
        let body = "@utbildning och @maria i stadsledningskontoret: se över skrivningen.";
        let (status, thread) = open_with(&app, &eva, &doc, body, mentions).await?;
        ensure!(status == 201, "open: {status} {thread}");
        let thread_id = id_of(&thread)?;
        let shown = &thread["comments"][0]["mentions"];
        ensure!(
            *shown
                == json!([{"kind": "org", "id": INVITED, "name": INVITED},
                    {"kind": "user", "id": "maria", "name": "maria i stadsledningskontoret"}]),
            "{thread}"
        );
        ensure!(
            thread["comments"][0]["body"] == body,
            "the body is kept as text"
        );

        let mut mails = sink.take(2).await?;
        mails.sort_by_key(to);
        ensure!(
            to(&mails[0]) == "maria@stad.example" && to(&mails[1]) == "olle@utb.example",
            "{mails:?}"
        );
        for mail in &mails {
            ensure!(
                mail["subject"] == "Du har nämnts i ”Trygghetsprogram”",
                "{mail}"
            );
            ensure!(
                text(mail).contains(&format!("/d/{doc}?thread={thread_id}")),
                "{mail}"
            );
        }
        ensure!(
            text(&mails[1]).contains("nämnde utbildning i en kommentar"),
            "{}",
            mails[1]
        );
        ensure!(
            text(&mails[0]).contains("nämnde dig i en kommentar"),
            "{}",
            mails[0]
        );
        let page = inbox(&app, &olle).await?;
        let item = &page["items"][0];
        ensure!(
            item["kind"] == "mentioned" && item["threadId"] == thread_id.as_str(),
            "{page}"
        );
        ensure!(item["payload"]["mentioned"]["kind"] == "org", "{page}");
        ensure!(item["payload"]["by"] == "eva i utbildning", "{page}");
        ensure!(
            !kinds(&app, &eva).await?.contains(&"mentioned".to_owned()),
            "the writer is not told of their own mention"
        );

        // The owner answers mentioning the organisation: eva wrote in the thread (a
        // follower) and is mentioned; she is told once, of the mention.
        let mentions = json!([{"kind": "org", "id": INVITED}]);
        let (status, body) = reply_with(
            &app,
            &owner,
            &doc,
            &thread_id,
            "Tack @utbildning, vi ändrar.",
            mentions,
        )
        .await?;
        ensure!(status == 201, "reply: {status} {body}");
        let mut mails = sink.take(2).await?;
        mails.sort_by_key(to);
        ensure!(
            to(&mails[0]) == "eva@utb.example" && to(&mails[1]) == "olle@utb.example",
            "{mails:?}"
        );
        outbox_settled(&app.state.db).await?;
        ensure!(sink.drain().is_empty(), "nobody gets a second message");
        ensure!(
            kinds(&app, &eva).await? == ["mentioned", "remiss_invited"],
            "one notification for eva"
        );
        ensure!(
            kinds(&app, &olle).await? == ["mentioned", "mentioned", "remiss_invited"],
            "olle"
        );
        ensure!(kinds(&app, &owner).await? == ["mentioned"], "the owner");
        Ok(())
    }
);

both_dbs!(
    a_mention_of_a_non_member_is_refused_and_the_autocomplete_lists_only_members,
    |backend| async move {
        // The sink is kept (not `..`) so the server's mail keeps its SMTP peer.
        let Cast {
            sink: _sink,
            app,
            doc,
            eva,
            ..
        } = cast(backend, Duration::from_millis(1500), false).await?;
        for (mentions, names) in [
            (json!([{"kind": "user", "id": "mats"}]), "user `mats`"),
            (
                json!([{"kind": "org", "id": MILJO}]),
                "organisation `miljo`",
            ),
            (json!([{"kind": "user", "id": "nobody"}]), "user `nobody`"),
        ] {
            let (status, body) = open_with(&app, &eva, &doc, "@Någon titta.", mentions).await?;
            ensure!(status == 422, "{status} {body}");
            ensure!(
                body["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(names) && m.contains("not a member")),
                "{body}"
            );
        }
        let many: Vec<Value> = (0..21)
            .map(|i| json!({"kind": "user", "id": format!("u{i}")}))
            .collect();
        let (status, body) = open_with(&app, &eva, &doc, "@alla", json!(many)).await?;
        ensure!(status == 422, "{status} {body}");
        let (status, body) =
            open_with(&app, &eva, &doc, "@x", json!([{"kind": "team", "id": "x"}])).await?;
        ensure!(status == 422, "an unknown kind: {status} {body}");
        let (status, threads) = call(
            &app,
            Method::GET,
            &format!("/api/documents/{doc}/threads"),
            &eva,
            None,
        )
        .await?;
        ensure!(
            status == 200 && threads == json!([]),
            "nothing was stored: {threads}"
        );

        // The autocomplete: members only, organisations first, by a prefix of any word.
        let list = |q: &str| {
            let path = format!("/api/documents/{doc}/mentionable?q={q}");
            let eva = eva.clone();
            let app = &app;
            async move { call(app, Method::GET, &path, &eva, None).await }
        };
        let (status, found) = list("").await?;
        ensure!(status == 200, "{status} {found}");
        let ids: Vec<&str> = found
            .as_array()
            .context("list")?
            .iter()
            .filter_map(|m| m["id"].as_str())
            .collect();
        ensure!(
            ids == [
                "stadsledningskontoret",
                "utbildning",
                "eva",
                "maria",
                "olle"
            ],
            "{found}"
        );
        let (_, found) = list("UTB").await?;
        ensure!(
            found
                == json!([{"kind": "org", "id": "utbildning", "name": "utbildning", "orgName": null},
                {"kind": "user", "id": "eva", "name": "eva i utbildning", "orgName": "utbildning"},
                {"kind": "user", "id": "olle", "name": "olle i utbildning", "orgName": "utbildning"}]),
            "{found}"
        );
        let (_, found) = list("mats").await?;
        ensure!(found == json!([]), "{found}");
        let nils = app.token("nils", "kultur");
        let (status, _) = list_as(&app, &nils, &doc).await?;
        ensure!(
            status == 403,
            "a non-member may not list the members: {status}"
        );
        Ok(())
    }
);

async fn list_as(app: &TestApp, token: &str, doc: &str) -> Result<(u16, Value)> {
    call(
        app,
        Method::GET,
        &format!("/api/documents/{doc}/mentionable?q=a"),
        token,
        None,
    )
    .await
}

both_dbs!(
    an_edit_tells_only_whom_it_newly_mentions,
    |backend| async move {
        let Cast {
            mut sink,
            app,
            doc,
            owner,
            eva,
            olle,
        } = cast(backend, Duration::from_millis(1500), false).await?;
        let maria = json!({"kind": "user", "id": "maria"});
        let olle_m = json!({"kind": "user", "id": "olle"});
        let (status, thread) = open_with(
            &app,
            &eva,
            &doc,
            "@maria i stadsledningskontoret?",
            json!([maria]),
        )
        .await?;
        ensure!(status == 201, "{status} {thread}");
        let thread_id = id_of(&thread)?;
        let comment = thread["comments"][0]["id"].as_str().context("comment")?;
        ensure!(to(&sink.next().await?) == "maria@stad.example");

        let edit = |body: &'static str, mentions: Value| {
            let path = format!("/api/documents/{doc}/threads/{thread_id}/comments/{comment}");
            let eva = eva.clone();
            let app = &app;
            async move {
                call(
                    app,
                    Method::PATCH,
                    &path,
                    &eva,
                    Some(json!({"body": body, "mentions": mentions})),
                )
                .await
            }
        };
        let (status, thread) = edit(
            "@maria i stadsledningskontoret och @olle i utbildning?",
            json!([maria, olle_m]),
        )
        .await?;
        ensure!(status == 200, "{status} {thread}");
        ensure!(
            thread["comments"][0]["mentions"].as_array().map(Vec::len) == Some(2),
            "{thread}"
        );
        ensure!(to(&sink.next().await?) == "olle@utb.example");
        // Taking olle out and putting him back tells nobody again.
        let (status, thread) = edit("@maria i stadsledningskontoret.", json!([maria])).await?;
        ensure!(status == 200, "{status} {thread}");
        ensure!(
            thread["comments"][0]["mentions"]
                == json!([{"kind": "user", "id": "maria",
                "name": "maria i stadsledningskontoret"}]),
            "{thread}"
        );
        let (status, _) = edit("@olle i utbildning!", json!([olle_m])).await?;
        ensure!(status == 200);
        // An edit without `mentions` (an older client) keeps working and mentions nobody.
        let (status, body) = call(
            &app,
            Method::PATCH,
            &format!("/api/documents/{doc}/threads/{thread_id}/comments/{comment}"),
            &eva,
            Some(json!({"body": "Inget omnämnande."})),
        )
        .await?;
        ensure!(
            status == 200 && body["comments"][0]["mentions"] == json!([]),
            "{body}"
        );
        outbox_settled(&app.state.db).await?;
        ensure!(sink.drain().is_empty(), "no mail for a mention made before");
        ensure!(kinds(&app, &owner).await? == ["mentioned"]);
        ensure!(kinds(&app, &olle).await? == ["mentioned", "remiss_invited"]);
        Ok(())
    }
);

both_dbs!(
    following_and_unfollowing_change_who_hears_of_replies_and_threads,
    |backend| async move {
        let Cast {
            mut sink,
            app,
            doc,
            owner,
            eva,
            olle,
        } = cast(backend, Duration::from_millis(300), true).await?;
        let mats = app.token("mats", MILJO);
        let put = |token: &str, path: String, following: bool| {
            let token = token.to_owned();
            let app = &app;
            async move {
                call(
                    app,
                    Method::PUT,
                    &path,
                    &token,
                    Some(json!({ "following": following })),
                )
                .await
            }
        };
        let doc_path = format!("/api/documents/{doc}/following");
        let (status, state) = put(&mats, doc_path.clone(), true).await?;
        ensure!(
            status == 200 && state["document"] == true,
            "{status} {state}"
        );

        // A new thread reaches the document's follower (mats), nobody else.
        let (status, thread) = open_with(&app, &eva, &doc, "Lägg till fritids.", json!([])).await?;
        ensure!(status == 201, "{status} {thread}");
        let thread_id = id_of(&thread)?;
        ensure!(kinds(&app, &mats).await?[0] == "thread_opened");
        ensure!(to(&sink.next().await?) == "mats@miljo.example");
        // Olle opens it in the web app: he follows it from now on.
        let (status, state) = call(
            &app,
            Method::POST,
            &format!("/api/documents/{doc}/threads/{thread_id}/opened"),
            &olle,
            None,
        )
        .await?;
        ensure!(
            status == 200 && state["threads"] == json!([thread_id]),
            "{status} {state}"
        );

        // A reply reaches the writer, the one who opened it and the document's follower.
        let (status, body) =
            reply_with(&app, &owner, &doc, &thread_id, "Svar ett.", json!([])).await?;
        ensure!(status == 201, "{status} {body}");
        for token in [&eva, &olle, &mats] {
            ensure!(kinds(&app, token).await?[0] == "thread_reply");
        }
        let mut mails = sink.take(3).await?;
        mails.sort_by_key(to);
        let to_all: Vec<String> = mails.iter().map(to).collect();
        ensure!(
            to_all == ["eva@utb.example", "mats@miljo.example", "olle@utb.example"],
            "{to_all:?}"
        );

        // Each unfollows: eva (who wrote in it) and olle the thread, mats the document.
        let thread_path = format!("/api/documents/{doc}/threads/{thread_id}/following");
        for token in [&eva, &olle] {
            let (status, state) = put(token, thread_path.clone(), false).await?;
            ensure!(
                status == 200 && state["threads"] == json!([]),
                "{status} {state}"
            );
        }
        let (status, state) = put(&mats, doc_path.clone(), false).await?;
        ensure!(
            status == 200 && state == json!({"document": false, "threads": []}),
            "{state}"
        );
        // Opening it again does not undo a choice.
        call(
            &app,
            Method::POST,
            &format!("/api/documents/{doc}/threads/{thread_id}/opened"),
            &olle,
            None,
        )
        .await?;
        let (status, body) =
            reply_with(&app, &owner, &doc, &thread_id, "Svar två.", json!([])).await?;
        ensure!(status == 201, "{status} {body}");
        for (token, count) in [(&eva, 2), (&olle, 2), (&mats, 3)] {
            ensure!(
                kinds(&app, token).await?.len() == count,
                "nobody is told after unfollowing: {:?}",
                kinds(&app, token).await?
            );
        }
        // Eva follows again and hears of the next reply.
        let (_, state) = put(&eva, thread_path.clone(), true).await?;
        ensure!(state["threads"] == json!([thread_id]), "{state}");
        let (_, _) = reply_with(&app, &owner, &doc, &thread_id, "Svar tre.", json!([])).await?;
        ensure!(kinds(&app, &eva).await?[0] == "thread_reply");
        ensure!(to(&sink.next().await?) == "eva@utb.example");
        // A new thread on the same paragraph: no follower of the document is left, so it
        // reaches only Eva's organisation, which commented on the paragraph, as such.
        let (status, _) = open_with(&app, &owner, &doc, "En till.", json!([])).await?;
        ensure!(status == 201);
        let mut mails = sink.take(2).await?;
        mails.sort_by_key(to);
        let to_all: Vec<String> = mails.iter().map(to).collect();
        ensure!(
            to_all == ["eva@utb.example", "olle@utb.example"],
            "{to_all:?}"
        );
        ensure!(kinds(&app, &olle).await?[0] == "paragraph_activity");
        outbox_settled(&app.state.db).await?;
        ensure!(sink.drain().is_empty(), "no follower, no more mail");
        ensure!(kinds(&app, &mats).await?.len() == 3);
        // Following an unknown thread is 404; a non-member may not follow.
        let (status, _) = put(
            &eva,
            format!("/api/documents/{doc}/threads/nothread/following"),
            true,
        )
        .await?;
        ensure!(status == 404, "{status}");
        let (status, _) = put(&app.token("nils", "kultur"), doc_path, true).await?;
        ensure!(status == 403, "{status}");
        Ok(())
    }
);
