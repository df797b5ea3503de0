//! "A new thread or reply on a paragraph my organisation commented on" (issue 17), against
//! the real server, a real Yjs client editing the draft between the comments, and a real
//! SMTP server on loopback: each organisation that commented on a paragraph hears of the
//! next thread or reply there in another thread, in the app and by mail as each user
//! chose, once, and still after the paragraph was moved and written in; a thread on
//! another paragraph concerns nobody, a follower of the thread gets the reply itself, not
//! this notice, and whoever unfollowed the thread hears nothing of it. A decision
//! on a proposal (which also resolves the thread) is told once.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use reqwest::Method;
use serde_json::{Value, json};
use yrs::types::xml::{XmlIn, XmlOut};
use yrs::{Text, XmlElementPrelim, XmlFragment, XmlTextPrelim};

use crate::both_dbs;
use crate::helpers::*;
use crate::mentions::{KULTUR, MILJO, four_organisations};
use crate::notifications::{
    INVITED, OWNER_ORG, Sink, inbox, mailing_app, outbox_settled, text, to,
};
use crate::remiss::{anchor, put_round, reply};

const DRAFT: &str = "Skolan ska vara trygg för alla elever.\n\nParken behöver bättre belysning.";

/// Opens a thread on `word`, with `proposal` if any; its id.
async fn open_on(
    app: &TestApp,
    token: &str,
    doc: &str,
    word: &str,
    body: &str,
    proposal: Option<&str>,
) -> Result<String> {
    let anchor = anchor(app, token, doc, word).await?;
    let mut request = json!({ "anchor": anchor, "body": body });
    if let Some(proposal) = proposal {
        request["proposal"] = json!(proposal);
    }
    let path = format!("/api/documents/{doc}/threads");
    let (status, thread) = call(app, Method::POST, &path, token, Some(request)).await?;
    ensure!(status == 201, "open thread: {status} {thread}");
    Ok(thread["id"].as_str().context("thread id")?.to_owned())
}

/// The newest item in a user's inbox and the unread count.
async fn newest(app: &TestApp, token: &str) -> Result<(Value, i64)> {
    let page = inbox(app, token).await?;
    let unread = page["unread"].as_i64().context("unread")?;
    Ok((page["items"][0].clone(), unread))
}

/// Mails of one step, each recipient's, sorted by address.
async fn mails(sink: &mut Sink, n: usize) -> Result<Vec<(String, String)>> {
    let mut mails: Vec<(String, String)> = sink
        .take(n)
        .await?
        .iter()
        .map(|m| (to(m), text(m).to_owned()))
        .collect();
    mails.sort();
    Ok(mails)
}

/// The owner moves the first paragraph down (a new one before it) and writes in it, as an
/// editor would, and waits until the server has stored both.
async fn move_and_write_in_first_paragraph(app: &TestApp, owner: &str, doc: &str) -> Result<()> {
    let mut client = WsClient::connect(&app.ws_url(doc, owner)).await?;
    client
        .edit(|txn, frag| {
            let text = XmlIn::from(XmlTextPrelim::new("Inledning."));
            frag.insert(txn, 0, XmlElementPrelim::new("paragraph", [text]));
        })
        .await?;
    client
        .edit(|txn, frag| {
            if let Some(XmlOut::Element(paragraph)) = frag.get(txn, 1)
                && let Some(XmlOut::Text(words)) = paragraph.get(txn, 0)
            {
                let end = words.len(txn);
                words.insert(txn, end, " Även på kvällen.");
            }
        })
        .await?;
    client.mark_saved(7).await?;
    client.wait_for(|c| c.saved.contains(&7)).await?;
    ensure!(
        client.paragraphs().get(1).map(String::as_str)
            == Some("Skolan ska vara trygg för alla elever. Även på kvällen."),
        "{:?}",
        client.paragraphs()
    );
    client.close().await
}

both_dbs!(
    a_new_thread_or_reply_on_a_paragraph_reaches_the_organisations_that_commented_on_it,
    |backend| async move {
        let mut sink = Sink::start(0).await?;
        let app = mailing_app(backend, &sink, Duration::from_millis(200)).await?;
        four_organisations(&app).await?;
        let owner = app.token("maria", OWNER_ORG);
        let doc = app
            .create_doc(&owner, "Trygghetsprogram", Some(DRAFT))
            .await?;
        let (status, body) = put_round(
            &app,
            &owner,
            &doc,
            json!({ "phase": "remiss", "deadline": "2031-05-20" }),
        )
        .await?;
        ensure!(status == 200, "PUT remiss: {status} {body}");
        for org in [INVITED, MILJO, KULTUR] {
            ensure!(app.set_role(&owner, &doc, org, "commenter").await? == 200);
        }
        sink.take(4).await?; // the invitations
        let (eva, olle) = (app.token("eva", INVITED), app.token("olle", INVITED));
        let (mats, nils) = (app.token("mats", MILJO), app.token("nils", KULTUR));
        // Olle wants these in the app only.
        let (status, body) = call(
            &app,
            Method::PUT,
            "/api/notifications/settings/paragraph_activity",
            &olle,
            Some(json!({ "channel": "in_app" })),
        )
        .await?;
        ensure!(status == 200, "{status} {body}");

        // Eva is the first to comment on the school paragraph: nobody to tell of it.
        let school = open_on(&app, &eva, &doc, "Skolan", "Lägg till fritids.", None).await?;
        // The owner moves the paragraph down and writes in it; it is the same paragraph.
        move_and_write_in_first_paragraph(&app, &owner, &doc).await?;

        // Mats of another organisation opens a thread on it: Utbildningsförvaltningen hears.
        let safe = open_on(&app, &mats, &doc, "trygg", "Trygg för vem?", Some("säker")).await?;
        let mail = sink.next().await?;
        ensure!(to(&mail) == "eva@utb.example", "{mail}");
        ensure!(
            mail["subject"] == "Ny kommentar på ett stycke ni kommenterat i ”Trygghetsprogram”",
            "{mail}"
        );
        ensure!(
            text(&mail).contains(
                "mats i miljo öppnade en ny tråd om ”trygg” på ett stycke som er organisation \
                 har kommenterat i ”Trygghetsprogram”: Trygg för vem?"
            ) && text(&mail).contains(&format!("/d/{doc}?thread={safe}")),
            "{mail}"
        );
        for token in [&eva, &olle] {
            let (item, unread) = newest(&app, token).await?;
            ensure!(
                item["kind"] == "paragraph_activity"
                    && item["threadId"] == safe.as_str()
                    && item["payload"]["reply"] == false
                    && unread == 2,
                "{item} {unread}"
            );
        }

        // A thread on the park paragraph concerns nobody who commented on the school.
        open_on(&app, &nils, &doc, "Parken", "Belysning i parken.", None).await?;
        outbox_settled(&app.state.db).await?;
        ensure!(sink.drain().is_empty(), "a thread elsewhere mailed someone");
        ensure!(newest(&app, &eva).await?.1 == 2, "Eva was told of the park");

        // The owner replies to Mats: Mats hears of the reply in his thread (once, not
        // also as paragraph news), Eva's organisation of a reply on its paragraph.
        let (status, body) = reply(&app, &owner, &doc, &safe, "Alla elever.").await?;
        ensure!(status == 201, "reply: {status} {body}");
        let got = mails(&mut sink, 2).await?;
        ensure!(
            got[0].0 == "eva@utb.example"
                && got[0]
                    .1
                    .contains("maria i stadsledningskontoret svarade i en tråd om ”trygg”")
                && got[1].0 == "mats@miljo.example"
                && got[1].1.contains("svarade i tråden om ”trygg”"),
            "{got:?}"
        );
        let (item, unread) = newest(&app, &mats).await?;
        ensure!(
            item["kind"] == "thread_reply" && unread == 2,
            "{item} {unread}"
        );
        let (item, _) = newest(&app, &olle).await?;
        ensure!(
            item["kind"] == "paragraph_activity" && item["payload"]["reply"] == true,
            "{item}"
        );

        // Eva replies in her own thread: Miljöförvaltningen and the owners commented on
        // the paragraph in another thread and hear of it. Olle, her colleague, does not:
        // his organisation's own thread is his to follow.
        let (status, body) = reply(&app, &eva, &doc, &school, "Och på loven.").await?;
        ensure!(status == 201, "reply: {status} {body}");
        let got = mails(&mut sink, 2).await?;
        ensure!(
            got[0].0 == "maria@stad.example"
                && got[1].0 == "mats@miljo.example"
                && got.iter().all(
                    |(_, text)| text.contains("eva i utbildning svarade i en tråd om ”Skolan”")
                ),
            "{got:?}"
        );
        let (item, unread) = newest(&app, &mats).await?;
        ensure!(
            item["kind"] == "paragraph_activity"
                && item["threadId"] == school.as_str()
                && unread == 3,
            "{item} {unread}"
        );
        ensure!(
            newest(&app, &olle).await?.1 == 3,
            "Olle told of his own organisation's thread"
        );
        ensure!(
            newest(&app, &eva).await?.1 == 3,
            "Eva told of her own reply"
        );
        outbox_settled(&app.state.db).await?;
        ensure!(sink.drain().is_empty(), "one message per person and step");

        // Eva unfollows Mats's thread: its next reply reaches Olle, not her.
        let (status, body) = call(
            &app,
            Method::PUT,
            &format!("/api/documents/{doc}/threads/{safe}/following"),
            &eva,
            Some(json!({ "following": false })),
        )
        .await?;
        ensure!(status == 200, "{status} {body}");
        let (status, body) = reply(&app, &mats, &doc, &safe, "Då skriver vi säker.").await?;
        ensure!(status == 201, "reply: {status} {body}");
        let mail = sink.next().await?;
        ensure!(
            to(&mail) == "maria@stad.example"
                && text(&mail).contains("svarade i tråden om ”trygg”"),
            "{mail}"
        );
        let (item, unread) = newest(&app, &olle).await?;
        ensure!(
            item["kind"] == "paragraph_activity"
                && item["threadId"] == safe.as_str()
                && unread == 4,
            "{item} {unread}"
        );
        ensure!(
            newest(&app, &eva).await?.1 == 3,
            "told after unfollowing the thread"
        );
        let (item, unread) = newest(&app, &nils).await?;
        ensure!(item["kind"] == "remiss_invited" && unread == 1, "{item}");
        outbox_settled(&app.state.db).await?;
        ensure!(sink.drain().is_empty(), "one message per person and step");

        // The owners reject Mats's proposal, which resolves his thread too: one decision,
        // told once (not also as a resolved thread), to him alone.
        let (status, body) = call(
            &app,
            Method::POST,
            &format!("/api/documents/{doc}/threads/{safe}/proposal/reject"),
            &owner,
            Some(json!({ "motivation": "Trygg är det ord programmet använder." })),
        )
        .await?;
        ensure!(status == 200, "reject: {status} {body}");
        let mail = sink.next().await?;
        ensure!(
            to(&mail) == "mats@miljo.example"
                && text(&mail).contains("avslog ändringsförslaget om ”trygg”")
                && text(&mail).contains("Trygg är det ord programmet använder."),
            "{mail}"
        );
        let (item, unread) = newest(&app, &mats).await?;
        ensure!(
            item["kind"] == "proposal_decided" && unread == 4,
            "{item} {unread}"
        );
        outbox_settled(&app.state.db).await?;
        ensure!(
            sink.drain().is_empty(),
            "a decision mailed twice or to others"
        );
        Ok(())
    }
);
