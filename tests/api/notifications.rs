//! Notifications (issue 17) against a real SMTP server on loopback (npm `smtp-server`,
//! `tests/node/smtp-sink.mjs`): invitations reach every member, replies reach the
//! thread's writers in the inbox and by mail, batched per thread, unsubscribing stops a
//! kind, a failing server is retried, two nodes send each message once, and reminders go
//! on schedule with the clock set by the test.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, ensure};
use reqwest::Method;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

use forankra::auth::directory::NewUser;
use forankra::ids::{OrgId, UserId};

use crate::both_dbs;
use crate::helpers::*;
use crate::remiss::{anchor, answer, put_round, reply};

pub(crate) const OWNER_ORG: &str = "stadsledningskontoret";
pub(crate) const INVITED: &str = "utbildning";

/// The SMTP server, reading every accepted message as a JSON line.
pub(crate) struct Sink {
    port: u16,
    mails: mpsc::UnboundedReceiver<Value>,
    _child: tokio::process::Child,
}

impl Sink {
    pub(crate) async fn start(fail_first: u32) -> Result<Self> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("node");
        let mut child = tokio::process::Command::new("node")
            .arg(dir.join("smtp-sink.mjs"))
            .args(["--fail-first", &fail_first.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting node smtp-sink.mjs (npm ci in tests/node)")?;
        let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
        let first = tokio::time::timeout(WAIT, lines.next_line())
            .await
            .context("the SMTP sink did not start")??
            .context("the SMTP sink exited")?;
        let port = serde_json::from_str::<Value>(&first)?["listening"]
            .as_u64()
            .context("listening port")? as u16;
        let (tx, mails) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(mail) = serde_json::from_str::<Value>(&line) {
                    let _ = tx.send(mail);
                }
            }
        });
        Ok(Self {
            port,
            mails,
            _child: child,
        })
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The next accepted message.
    pub(crate) async fn next(&mut self) -> Result<Value> {
        tokio::time::timeout(WAIT * 2, self.mails.recv())
            .await
            .context("no mail arrived")?
            .context("the SMTP sink stopped")
    }

    /// The next `n` messages.
    pub(crate) async fn take(&mut self, n: usize) -> Result<Vec<Value>> {
        let mut mails = Vec::new();
        for _ in 0..n {
            mails.push(self.next().await?);
        }
        Ok(mails)
    }

    /// What arrived already, without waiting.
    pub(crate) fn drain(&mut self) -> Vec<Value> {
        let mut mails = Vec::new();
        while let Ok(mail) = self.mails.try_recv() {
            mails.push(mail);
        }
        mails
    }
}

/// Waits until every queued message is recorded sent (the worker records after the SMTP
/// server's 250, which the sink answers after printing).
async fn outbox_settled(db: &forankra::storage::Db) -> Result<()> {
    tokio::time::timeout(WAIT * 2, async {
        loop {
            let unsent: i64 = forankra::on_pool!(db, pool => {
                sqlx::query_scalar("SELECT COUNT(*) FROM email_outbox WHERE sent_at IS NULL").fetch_one(pool).await?
            });
            if unsent == 0 {
                return Ok::<(), anyhow::Error>(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .context("the outbox never emptied")?
}

pub(crate) fn to(mail: &Value) -> String {
    mail["to"][0].as_str().unwrap_or_default().to_owned()
}

pub(crate) fn text(mail: &Value) -> &str {
    mail["text"].as_str().unwrap_or_default()
}

/// Adds an organisation with users `(id, e-mail)`.
pub(crate) async fn org_with_users(
    app: &TestApp,
    org: &str,
    users: &[(&str, Option<&str>)],
) -> Result<()> {
    let db = &app.state.db;
    let org_id = OrgId::parse(org)?;
    db.add_org(&org_id, org).await?;
    for (user, email) in users {
        db.add_user(&NewUser {
            id: UserId::parse(*user)?,
            name: format!("{user} i {org}"),
            org: org_id.clone(),
            email: email.map(str::to_owned),
            admin: false,
            password_hash: None,
        })
        .await?;
    }
    Ok(())
}

/// A server mailing to `sink` with a batching window and retry base for tests.
pub(crate) async fn mailing_app(
    backend: Backend,
    sink: &Sink,
    window: Duration,
) -> Result<TestApp> {
    let url = sink.url();
    TestApp::spawn_with(backend, move |config| {
        config.notify.smtp_url = Some(url.into());
        config.notify.batch_window = window;
        config.notify.retry_base = Duration::from_millis(100);
    })
    .await
}

pub(crate) async fn inbox(app: &TestApp, token: &str) -> Result<Value> {
    let (status, body) = call(app, Method::GET, "/api/notifications", token, None).await?;
    ensure!(status == 200, "GET /api/notifications: {status} {body}");
    Ok(body)
}

/// A document of the owner's with a round in `remiss` and its svarsdatum.
pub(crate) async fn draft_in_remiss(app: &TestApp, owner: &str, deadline: &str) -> Result<String> {
    let doc = app
        .create_doc(
            owner,
            "Trygghetsprogram",
            Some("Skolan ska vara trygg för alla elever."),
        )
        .await?;
    let (status, body) = put_round(
        app,
        owner,
        &doc,
        json!({ "phase": "remiss", "deadline": deadline }),
    )
    .await?;
    ensure!(status == 200, "PUT remiss: {status} {body}");
    Ok(doc)
}

both_dbs!(
    an_invitation_reaches_every_member_of_the_organisation_once,
    |backend| async move {
        let mut sink = Sink::start(0).await?;
        let app = mailing_app(backend, &sink, Duration::from_secs(600)).await?;
        org_with_users(&app, OWNER_ORG, &[("maria", Some("maria@stad.example"))]).await?;
        org_with_users(
            &app,
            INVITED,
            &[
                ("eva", Some("eva@utb.example")),
                ("olle", Some("olle@utb.example")),
                ("nils", None),
                ("gone", Some("gone@utb.example")),
            ],
        )
        .await?;
        app.state
            .db
            .set_disabled(&UserId::parse("gone")?, true)
            .await?;
        let owner = app.token("maria", OWNER_ORG);
        let doc = draft_in_remiss(&app, &owner, "2031-05-20").await?;
        ensure!(app.set_role(&owner, &doc, INVITED, "commenter").await? == 200);

        let mut mails = sink.take(2).await?;
        mails.sort_by_key(to);
        ensure!(
            to(&mails[0]) == "eva@utb.example" && to(&mails[1]) == "olle@utb.example",
            "{mails:?}"
        );
        for mail in &mails {
            ensure!(
                mail["subject"] == "Inbjudan till remiss: Trygghetsprogram",
                "{mail}"
            );
            ensure!(text(mail).contains("Svarsdatum: 2031-05-20."), "{mail}");
            ensure!(
                text(mail).contains(&format!("{}/d/{doc}", app.url(""))),
                "{mail}"
            );
            ensure!(
                text(mail).contains("/api/notifications/unsubscribe?token="),
                "{mail}"
            );
            ensure!(
                mail["html"]
                    .as_str()
                    .is_some_and(|h| h.contains("<a href=")),
                "{mail}"
            );
        }
        // Each member without an address still sees it in the app; nobody else does.
        for user in ["eva", "olle", "nils"] {
            let inbox = inbox(&app, &app.token(user, INVITED)).await?;
            ensure!(inbox["unread"] == 1, "{user}: {inbox}");
            ensure!(inbox["items"][0]["kind"] == "remiss_invited", "{inbox}");
            ensure!(
                inbox["items"][0]["payload"]["deadline"] == "2031-05-20",
                "{inbox}"
            );
            ensure!(inbox["items"][0]["link"] == format!("/d/{doc}"), "{inbox}");
        }
        let to_gone: i64 = forankra::on_pool!(&app.state.db, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE recipient_id = 'gone'").fetch_one(pool).await?
        });
        ensure!(to_gone == 0, "a disabled user is not notified");
        ensure!(
            inbox(&app, &owner).await?["unread"] == 0,
            "the owner who invited is not told"
        );
        // Changing the role is no new invitation.
        ensure!(app.set_role(&owner, &doc, INVITED, "editor").await? == 200);
        ensure!(inbox(&app, &app.token("eva", INVITED)).await?["unread"] == 1);
        Ok(())
    }
);

both_dbs!(
    replies_reach_the_writers_in_the_inbox_and_in_one_batched_mail,
    |backend| async move {
        let mut sink = Sink::start(0).await?;
        let app = mailing_app(backend, &sink, Duration::from_millis(1500)).await?;
        org_with_users(&app, OWNER_ORG, &[("maria", Some("maria@stad.example"))]).await?;
        org_with_users(&app, INVITED, &[("eva", Some("eva@utb.example"))]).await?;
        org_with_users(&app, "miljo", &[("mats", Some("mats@miljo.example"))]).await?;
        let owner = app.token("maria", OWNER_ORG);
        let eva = app.token("eva", INVITED);
        let doc = draft_in_remiss(&app, &owner, "2031-05-20").await?;
        ensure!(app.set_role(&owner, &doc, INVITED, "commenter").await? == 200);
        ensure!(app.set_role(&owner, &doc, "miljo", "commenter").await? == 200);
        sink.take(2).await?; // the invitations
        let anchor = anchor(&app, &eva, &doc, "Skolan").await?;
        let thread = open_thread(
            &app,
            &eva,
            &doc,
            anchor,
            "Lägg till fritids.",
            Some("andringsforslag"),
        )
        .await?;
        let thread = thread["id"].as_str().context("thread id")?.to_owned();
        // Two replies by the owners within the window: one message, both in it.
        for body in [
            "Bra förslag, vi tittar på det.",
            "<b>Nu</b> är det med i texten.",
        ] {
            let (status, body) = reply(&app, &owner, &doc, &thread, body).await?;
            ensure!(status == 201, "reply: {status} {body}");
        }
        let mail = sink.next().await?;
        ensure!(to(&mail) == "eva@utb.example", "{mail}");
        ensure!(
            mail["subject"] == "2 nya händelser i ”Trygghetsprogram”",
            "{mail}"
        );
        ensure!(
            text(&mail).contains("Bra förslag") && text(&mail).contains("<b>Nu</b> är det med"),
            "{mail}"
        );
        let html = mail["html"].as_str().context("html part")?;
        ensure!(
            html.contains("&lt;b&gt;Nu&lt;/b&gt;") && !html.contains("<b>Nu"),
            "{html}"
        );
        ensure!(
            text(&mail).contains(&format!("/d/{doc}?thread={thread}")),
            "{mail}"
        );
        // The inbox has both, newest first; reading one, then all.
        let page = inbox(&app, &eva).await?;
        ensure!(page["unread"] == 3, "{page}"); // the invitation and two replies
        let items = page["items"].as_array().context("items")?;
        ensure!(
            items[0]["kind"] == "thread_reply" && items[0]["threadId"] == thread.as_str(),
            "{page}"
        );
        ensure!(
            items[0]["payload"]["excerpt"] == "<b>Nu</b> är det med i texten.",
            "{page}"
        );
        let first = items[0]["id"].as_str().context("id")?;
        let (status, body) = call(
            &app,
            Method::POST,
            &format!("/api/notifications/{first}/read"),
            &eva,
            None,
        )
        .await?;
        ensure!(status == 200 && body["unread"] == 2, "{status} {body}");
        // Someone else's notification is not found for me.
        let mats = app.token("mats", "miljo");
        let (status, _) = call(
            &app,
            Method::POST,
            &format!("/api/notifications/{first}/read"),
            &mats,
            None,
        )
        .await?;
        ensure!(status == 404, "marking another's notification: {status}");
        let (status, body) = call(
            &app,
            Method::POST,
            "/api/notifications/read-all",
            &eva,
            None,
        )
        .await?;
        ensure!(status == 200 && body["unread"] == 0, "{status} {body}");
        // Paging: one at a time, older pages follow.
        let (_, one) = call(&app, Method::GET, "/api/notifications?limit=1", &eva, None).await?;
        let before = one["nextBefore"].as_str().context("nextBefore")?;
        let (_, two) = call(
            &app,
            Method::GET,
            &format!("/api/notifications?limit=1&before={before}"),
            &eva,
            None,
        )
        .await?;
        ensure!(
            two["items"][0]["id"] != one["items"][0]["id"],
            "{one} {two}"
        );
        let (status, _) = call(
            &app,
            Method::GET,
            "/api/notifications?limit=100000",
            &eva,
            None,
        )
        .await?;
        ensure!(status == 400);
        // Mats of another organisation never wrote in the thread: nothing about it.
        ensure!(
            inbox(&app, &mats).await?["unread"] == 1,
            "only his invitation"
        );
        // The owners resolve: Eva's organisation is told with the outcome, by mail too.
        let (status, body) = call(
            &app,
            Method::POST,
            &format!("/api/documents/{doc}/threads/{thread}/resolve"),
            &owner,
            Some(json!({ "outcome": "beaktad", "motivation": "Infört i avsnitt 2." })),
        )
        .await?;
        ensure!(status == 200, "resolve: {status} {body}");
        let mail = sink.next().await?;
        ensure!(
            to(&mail) == "eva@utb.example"
                && text(&mail).contains("beaktad")
                && text(&mail).contains("Infört i avsnitt 2."),
            "{mail}"
        );
        ensure!(sink.drain().is_empty(), "nobody else was mailed");
        Ok(())
    }
);

both_dbs!(
    an_unsubscribe_link_stops_that_kind_of_mail_and_nothing_else,
    |backend| async move {
        let mut sink = Sink::start(0).await?;
        let app = mailing_app(backend, &sink, Duration::from_millis(300)).await?;
        org_with_users(&app, OWNER_ORG, &[("maria", Some("maria@stad.example"))]).await?;
        org_with_users(&app, INVITED, &[("eva", Some("eva@utb.example"))]).await?;
        let owner = app.token("maria", OWNER_ORG);
        let eva = app.token("eva", INVITED);
        let doc = draft_in_remiss(&app, &owner, "2031-05-20").await?;
        ensure!(app.set_role(&owner, &doc, INVITED, "commenter").await? == 200);
        sink.next().await?;
        let anchor = anchor(&app, &eva, &doc, "Skolan").await?;
        let thread = open_thread(&app, &eva, &doc, anchor, "Fråga.", None).await?;
        let thread = thread["id"].as_str().context("thread id")?.to_owned();
        reply(&app, &owner, &doc, &thread, "Svar ett.").await?;
        let mail = sink.next().await?;
        let link = text(&mail)
            .lines()
            .find_map(|l| {
                l.split_once("svar i trådar du skrivit i: ")
                    .map(|(_, url)| url.trim().to_owned())
            })
            .with_context(|| format!("no unsubscribe link for replies: {mail}"))?;
        // A tampered link is refused and changes nothing.
        let tampered = format!(
            "{}x",
            link.trim_end_matches(|c: char| c.is_ascii_hexdigit())
        );
        let page = app.http.get(&tampered).send().await?;
        ensure!(page.status() == 400, "tampered link: {}", page.status());
        let page = app.http.get(&link).send().await?;
        ensure!(page.status() == 200, "unsubscribe: {}", page.status());
        ensure!(
            page.text()
                .await?
                .contains("Du får inte längre e-post om svar i trådar")
        );
        let (_, settings) =
            call(&app, Method::GET, "/api/notifications/settings", &eva, None).await?;
        let reply_setting = settings
            .as_array()
            .context("settings")?
            .iter()
            .find(|s| s["kind"] == "thread_reply")
            .context("thread_reply")?;
        ensure!(reply_setting["channel"] == "in_app", "{settings}");
        // Another reply reaches the inbox only; the resolution still comes by mail.
        reply(&app, &owner, &doc, &thread, "Svar två.").await?;
        let (status, _) = call(
            &app,
            Method::POST,
            &format!("/api/documents/{doc}/threads/{thread}/resolve"),
            &owner,
            Some(json!({ "outcome": "noterad" })),
        )
        .await?;
        ensure!(status == 200);
        let mail = sink.next().await?;
        ensure!(
            mail["subject"] == "En tråd har avgjorts i ”Trygghetsprogram”",
            "the reply was mailed: {mail}"
        );
        ensure!(!text(&mail).contains("Svar två"), "{mail}");
        let items = inbox(&app, &eva).await?;
        ensure!(
            items["items"]
                .as_array()
                .context("items")?
                .iter()
                .any(|i| i["payload"]["excerpt"] == "Svar två."),
            "{items}"
        );
        // Choosing `none` for a kind silences it in the app too.
        let (status, _) = call(
            &app,
            Method::PUT,
            "/api/notifications/settings/thread_resolved",
            &eva,
            Some(json!({ "channel": "none" })),
        )
        .await?;
        ensure!(status == 200);
        let (status, _) = call(
            &app,
            Method::PUT,
            "/api/notifications/settings/no_such_kind",
            &eva,
            Some(json!({ "channel": "none" })),
        )
        .await?;
        ensure!(status == 404);
        let (status, _) = call(
            &app,
            Method::PUT,
            "/api/notifications/settings/thread_reply",
            &eva,
            Some(json!({ "channel": "loud" })),
        )
        .await?;
        ensure!(
            status == 422 || status == 400,
            "an unknown channel: {status}"
        );
        Ok(())
    }
);

both_dbs!(
    a_failing_smtp_server_is_retried_until_it_takes_the_message,
    |backend| async move {
        let mut sink = Sink::start(2).await?;
        let app = mailing_app(backend, &sink, Duration::from_secs(600)).await?;
        org_with_users(&app, OWNER_ORG, &[("maria", None)]).await?;
        org_with_users(&app, INVITED, &[("eva", Some("eva@utb.example"))]).await?;
        let owner = app.token("maria", OWNER_ORG);
        let doc = draft_in_remiss(&app, &owner, "2031-05-20").await?;
        ensure!(app.set_role(&owner, &doc, INVITED, "commenter").await? == 200);
        let mail = sink.next().await?;
        ensure!(to(&mail) == "eva@utb.example");
        // The sink prints a message before it answers 250; the worker records it after.
        outbox_settled(&app.state.db).await?;
        let (attempts, sent, error): (i64, Option<i64>, Option<String>) = forankra::on_pool!(&app.state.db, pool => {
            sqlx::query_as("SELECT attempts, sent_at, last_error FROM email_outbox").fetch_one(pool).await?
        });
        ensure!(
            attempts == 3 && sent.is_some(),
            "attempts {attempts}, sent {sent:?}"
        );
        ensure!(
            error.as_deref().is_some_and(|e| e.contains("451")),
            "{error:?}"
        );
        ensure!(sink.drain().is_empty(), "sent once");
        Ok(())
    }
);

// Mail queued while the server is down goes out when one is back: the queue is rows.
both_dbs!(
    mail_queued_before_a_restart_is_sent_after_it,
    |backend| async move {
        let mut sink = Sink::start(0).await?;
        let app = TestApp::spawn(backend).await?; // no SMTP: nothing is queued
        org_with_users(&app, OWNER_ORG, &[("maria", None)]).await?;
        org_with_users(&app, INVITED, &[("eva", Some("eva@utb.example"))]).await?;
        let owner = app.token("maria", OWNER_ORG);
        let doc = draft_in_remiss(&app, &owner, "2031-05-20").await?;
        ensure!(app.set_role(&owner, &doc, INVITED, "commenter").await? == 200);
        let db = app.stop().await?;
        // Started with mail on, with a long window: a reply waits in the outbox.
        let url = sink.url();
        let app = TestApp::spawn_on(db, {
            let url = url.clone();
            move |c| {
                c.notify.smtp_url = Some(url.into());
                c.notify.batch_window = Duration::from_secs(3);
            }
        })
        .await?;
        let eva = app.token("eva", INVITED);
        let anchor = anchor(&app, &eva, &doc, "Skolan").await?;
        let thread = open_thread(&app, &eva, &doc, anchor, "Fråga.", None).await?;
        let thread = thread["id"].as_str().context("thread id")?.to_owned();
        reply(&app, &owner, &doc, &thread, "Svar före omstarten.").await?;
        let db = app.stop().await?;
        let app = TestApp::spawn_on(db, move |c| c.notify.smtp_url = Some(url.into())).await?;
        let mail = sink.next().await?;
        ensure!(text(&mail).contains("Svar före omstarten."), "{mail}");
        ensure!(sink.drain().is_empty());
        drop(app);
        Ok(())
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_postgres_send_each_message_once() -> Result<()> {
    if !postgres_available("notifications::two_nodes_on_postgres_send_each_message_once") {
        return Ok(());
    }
    const SECRET: &str = "one-secret-for-both-nodes";
    const MEMBERS: usize = 24;
    let mut sink = Sink::start(0).await?;
    let test_db = TestDb::fresh(Backend::Postgres).await?;
    let url = sink.url();
    let args = ["--smtp-url", url.as_str(), "--mail-retry-base", "100ms"];
    let a = ProcessServer::start(&test_db.url, SECRET, &args).await?;
    let b = ProcessServer::start(&test_db.url, SECRET, &args).await?;
    let db = forankra::storage::Db::connect(&test_db.url).await?;
    let emails: Vec<(String, String)> = (0..MEMBERS)
        .map(|i| (format!("u{i}"), format!("u{i}@utb.example")))
        .collect();
    let owner_org = OrgId::parse(OWNER_ORG)?;
    db.add_org(&owner_org, "Stadsledningskontoret").await?;
    db.add_org(&OrgId::parse(INVITED)?, "Utbildning").await?;
    db.add_org(&OrgId::parse("miljo")?, "Miljö").await?;
    for (user, email) in &emails {
        db.add_user(&NewUser {
            id: UserId::parse(user.clone())?,
            name: user.clone(),
            org: OrgId::parse(INVITED)?,
            email: Some(email.clone()),
            admin: false,
            password_hash: None,
        })
        .await?;
    }
    db.add_user(&NewUser {
        id: UserId::parse("mats")?,
        name: "Mats".into(),
        org: OrgId::parse("miljo")?,
        email: Some("mats@miljo.example".into()),
        admin: false,
        password_hash: None,
    })
    .await?;
    let owner = ProcessServer::token(SECRET, "maria", OWNER_ORG);
    let http = reqwest::Client::new();
    let created: Value = http
        .post(a.url("/api/documents"))
        .bearer_auth(&owner)
        .json(&json!({ "title": "Kluster" }))
        .send()
        .await?
        .json()
        .await?;
    let doc = created["id"].as_str().context("id")?.to_owned();
    let status = http
        .put(b.url(&format!("/api/documents/{doc}/members/{INVITED}")))
        .bearer_auth(&owner)
        .json(&json!({ "role": "viewer" }))
        .send()
        .await?
        .status();
    ensure!(status == 200, "invite: {status}");
    let mut got = sink.take(MEMBERS).await?;
    // Once every row is recorded sent, a duplicate would have been printed already; a
    // last marker message, queued after that, flushes the pipe.
    outbox_settled(&db).await?;
    let status = http
        .put(a.url(&format!("/api/documents/{doc}/members/miljo")))
        .bearer_auth(&owner)
        .json(&json!({ "role": "viewer" }))
        .send()
        .await?
        .status();
    ensure!(status == 200);
    loop {
        let mail = sink.next().await?;
        if to(&mail) == "mats@miljo.example" {
            break;
        }
        got.push(mail);
    }
    let mut ids: Vec<String> = got
        .iter()
        .map(|m| m["messageId"].as_str().unwrap_or_default().to_owned())
        .collect();
    ids.sort();
    ids.dedup();
    ensure!(
        got.len() == MEMBERS && ids.len() == MEMBERS,
        "{} messages, {} distinct ids",
        got.len(),
        ids.len()
    );
    let mut recipients: Vec<String> = got.iter().map(to).collect();
    recipients.sort();
    let mut expected: Vec<String> = emails.iter().map(|(_, e)| e.clone()).collect();
    expected.sort();
    ensure!(recipients == expected, "{recipients:?}");
    drop((a, b));
    Ok(())
}

both_dbs!(
    reminders_go_on_schedule_to_invitees_that_have_not_answered,
    |backend| async move {
        use forankra::remiss::reminders::sweep;
        let mut sink = Sink::start(0).await?;
        let app = mailing_app(backend, &sink, Duration::from_secs(600)).await?;
        org_with_users(&app, OWNER_ORG, &[("maria", None)]).await?;
        org_with_users(
            &app,
            INVITED,
            &[
                ("eva", Some("eva@utb.example")),
                ("olle", Some("olle@utb.example")),
            ],
        )
        .await?;
        org_with_users(&app, "miljo", &[("mats", Some("mats@miljo.example"))]).await?;
        let owner = app.token("maria", OWNER_ORG);
        let doc = draft_in_remiss(&app, &owner, "2031-05-20").await?;
        ensure!(app.set_role(&owner, &doc, INVITED, "commenter").await? == 200);
        ensure!(app.set_role(&owner, &doc, "miljo", "commenter").await? == 200);
        sink.take(3).await?; // the invitations
        // Miljö answers; only Utbildning is reminded.
        let (status, body) = answer(
            &app,
            &app.token("mats", "miljo"),
            &doc,
            json!({ "status": "done", "statement": "Vi tillstyrker." }),
        )
        .await?;
        ensure!(status == 200 || status == 201, "answer: {status} {body}");
        let db = &app.state.db;
        let day = |d: &str| -> Result<jiff::civil::Date> { Ok(d.parse()?) };
        ensure!(
            sweep(db, day("2031-05-12")?).await? == 0,
            "8 days before: none"
        );
        ensure!(sweep(db, day("2031-05-13")?).await? == 1, "7 days before");
        let mut mails = sink.take(2).await?;
        mails.sort_by_key(to);
        ensure!(to(&mails[0]) == "eva@utb.example" && to(&mails[1]) == "olle@utb.example");
        ensure!(
            text(&mails[0]).contains("är 2031-05-20, om 7 dagar"),
            "{}",
            mails[0]
        );
        ensure!(
            sweep(db, day("2031-05-13")?).await? == 0,
            "the same day again: none"
        );
        ensure!(
            sweep(db, day("2031-05-16")?).await? == 0,
            "between stages: none"
        );
        ensure!(sweep(db, day("2031-05-18")?).await? == 1, "2 days before");
        ensure!(text(&sink.next().await?).contains("om 2 dagar"));
        sink.next().await?;
        ensure!(sweep(db, day("2031-05-21")?).await? == 1, "the day after");
        let mail = sink.next().await?;
        ensure!(text(&mail).contains("var 2031-05-20"), "{mail}");
        sink.next().await?;
        ensure!(
            sweep(db, day("2031-05-28")?).await? == 0,
            "a week after: none"
        );
        let eva = inbox(&app, &app.token("eva", INVITED)).await?;
        let reminders = eva["items"]
            .as_array()
            .context("items")?
            .iter()
            .filter(|i| i["kind"] == "deadline_reminder")
            .count();
        ensure!(reminders == 3, "{eva}");
        // The owners were told of Miljö's statement.
        let owners = inbox(&app, &owner).await?;
        ensure!(
            owners["items"][0]["kind"] == "statement_received"
                && owners["items"][0]["payload"]["org"] == "miljo",
            "{owners}"
        );
        // A moved svarsdatum starts a new series.
        let (status, _) =
            put_round(&app, &owner, &doc, json!({ "deadline": "2031-06-10" })).await?;
        ensure!(status == 200);
        ensure!(sweep(db, day("2031-06-03")?).await? == 1);
        sink.take(2).await?;
        ensure!(sink.drain().is_empty());
        Ok(())
    }
);

both_dbs!(
    a_new_svarsdatum_or_phase_reaches_the_invitees_and_a_new_diarienummer_nobody,
    |backend| async move {
        let mut sink = Sink::start(0).await?;
        let app = mailing_app(backend, &sink, Duration::from_secs(600)).await?;
        org_with_users(&app, OWNER_ORG, &[("maria", Some("maria@stad.example"))]).await?;
        org_with_users(&app, INVITED, &[("eva", Some("eva@utb.example"))]).await?;
        let owner = app.token("maria", OWNER_ORG);
        let eva = app.token("eva", INVITED);
        let doc = draft_in_remiss(&app, &owner, "2031-05-20").await?;
        ensure!(app.set_role(&owner, &doc, INVITED, "commenter").await? == 200);
        sink.take(1).await?; // the invitation
        let (status, body) = call(
            &app,
            Method::POST,
            "/api/notifications/read-all",
            &eva,
            None,
        )
        .await?;
        ensure!(status == 200, "{status} {body}");

        let (status, body) =
            put_round(&app, &owner, &doc, json!({ "diarienummer": "KS 2031/17" })).await?;
        ensure!(status == 200, "PUT remiss: {status} {body}");
        let (status, body) =
            put_round(&app, &owner, &doc, json!({ "deadline": "2031-06-10" })).await?;
        ensure!(status == 200, "PUT remiss: {status} {body}");

        let mail = sink.take(1).await?.remove(0);
        ensure!(to(&mail) == "eva@utb.example", "{mail}");
        ensure!(
            mail["subject"] == "Remissen av ”Trygghetsprogram” har ändrats",
            "{mail}"
        );
        ensure!(
            text(&mail).contains("den är nu ute på remiss, med svarsdatum 2031-06-10."),
            "{mail}"
        );
        let items = inbox(&app, &eva).await?;
        ensure!(
            items["unread"] == 1,
            "only the new svarsdatum, not the diarienummer: {items}"
        );
        let item = &items["items"][0];
        ensure!(item["kind"] == "round_changed", "{item}");
        ensure!(item["payload"]["deadline"] == "2031-06-10", "{item}");
        ensure!(item["payload"]["fromDeadline"] == "2031-05-20", "{item}");
        ensure!(
            inbox(&app, &owner).await?["unread"] == 0,
            "the owners made the change and are not told"
        );
        Ok(())
    }
);
