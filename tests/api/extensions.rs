//! Extensions of the svarsdatum per organisation, the daily e-mail digest and English
//! e-mail (issue 17), against the real server and the real SMTP sink
//! (`tests/node/smtp-sink.mjs`); the reminder and digest clocks are set by the test.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use reqwest::Method;
use serde_json::{Value, json};

use crate::both_dbs;
use crate::helpers::*;
use crate::notifications::{
    INVITED, OWNER_ORG, Sink, draft_in_remiss, inbox, mailing_app, org_with_users, text, to,
};
use crate::remiss::{anchor, answer, invitee, put_round, round, utc_date};

const MILJO: &str = "miljo";

async fn extensions(
    app: &TestApp,
    token: &str,
    doc: &str,
    method: Method,
    tail: &str,
    body: Option<Value>,
) -> Result<(u16, Value)> {
    let path = format!("/api/documents/{doc}/remiss/extensions{tail}");
    call(app, method, &path, token, body).await
}

/// The audit entries of `action`, as the owners read them.
async fn audited(app: &TestApp, owner: &str, doc: &str, action: &str) -> Result<Vec<Value>> {
    let path = format!("/api/documents/{doc}/audit");
    let (status, trail) = call(app, Method::GET, &path, owner, None).await?;
    ensure!(status == 200, "GET audit: {status} {trail}");
    Ok(trail
        .as_array()
        .context("entries")?
        .iter()
        .filter(|e| e["action"] == action)
        .cloned()
        .collect())
}

/// Owners of `OWNER_ORG`, and `INVITED` and `MILJO` invited as commenters to a draft
/// in remiss until `deadline`; the invitations are taken from the sink.
async fn two_invitees(app: &TestApp, sink: &mut Sink, deadline: &str) -> Result<(String, String)> {
    org_with_users(app, OWNER_ORG, &[("maria", Some("maria@stad.example"))]).await?;
    org_with_users(app, INVITED, &[("eva", Some("eva@utb.example"))]).await?;
    org_with_users(app, MILJO, &[("mats", Some("mats@miljo.example"))]).await?;
    let owner = app.token("maria", OWNER_ORG);
    let doc = draft_in_remiss(app, &owner, deadline).await?;
    ensure!(app.set_role(&owner, &doc, INVITED, "commenter").await? == 200);
    ensure!(app.set_role(&owner, &doc, MILJO, "commenter").await? == 200);
    sink.take(2).await?;
    Ok((owner, doc))
}

both_dbs!(
    a_granted_extension_moves_one_organisations_svarsdatum,
    |backend| async move {
        let mut sink = Sink::start(0).await?;
        let app = mailing_app(backend, &sink, Duration::from_secs(600)).await?;
        let (owner, doc) = two_invitees(&app, &mut sink, &utc_date(1)).await?;
        let eva = app.token("eva", INVITED);
        let mats = app.token("mats", MILJO);

        // Utbildning asks; a second request, an earlier date and an empty reason are refused.
        let asked = utc_date(10);
        let ask = json!({ "date": asked, "reason": "Nämnden sammanträder först om tio dagar." });
        let (status, body) =
            extensions(&app, &eva, &doc, Method::POST, "", Some(ask.clone())).await?;
        ensure!(status == 200, "request: {status} {body}");
        ensure!(body["requests"][0]["decision"].is_null(), "{body}");
        let request = body["requests"][0]["seq"].as_i64().context("seq")?;
        let (status, body) = extensions(&app, &eva, &doc, Method::POST, "", Some(ask)).await?;
        ensure!(status == 409, "a second pending request: {status} {body}");
        let early = json!({ "date": utc_date(1), "reason": "x" });
        let (status, _) = extensions(&app, &mats, &doc, Method::POST, "", Some(early)).await?;
        ensure!(status == 422, "not later than the svarsdatum: {status}");
        let blank = json!({ "date": utc_date(5), "reason": "  " });
        let (status, _) = extensions(&app, &mats, &doc, Method::POST, "", Some(blank)).await?;
        ensure!(status == 422, "no reason: {status}");
        let long = json!({ "date": utc_date(5), "reason": "x".repeat(2001) });
        let (status, _) = extensions(&app, &mats, &doc, Method::POST, "", Some(long)).await?;
        ensure!(status == 422, "too long a reason: {status}");
        // The owners are told; Miljö does not see Utbildning's request.
        let mail = sink.next().await?;
        ensure!(to(&mail) == "maria@stad.example", "{mail}");
        ensure!(
            text(&mail).contains(&asked) && text(&mail).contains("Nämnden sammanträder"),
            "{mail}"
        );
        let (_, seen) = extensions(&app, &mats, &doc, Method::GET, "", None).await?;
        ensure!(
            seen["requests"].as_array().is_some_and(Vec::is_empty),
            "{seen}"
        );

        // Invitees cannot decide; the owners grant a date of their own.
        let granted = utc_date(14);
        let grant = json!({ "org": INVITED, "request": request, "grant": true, "date": granted });
        let (status, _) = extensions(
            &app,
            &eva,
            &doc,
            Method::POST,
            "/decisions",
            Some(grant.clone()),
        )
        .await?;
        ensure!(status == 403, "an invitee grants: {status}");
        let (status, body) = extensions(
            &app,
            &owner,
            &doc,
            Method::POST,
            "/decisions",
            Some(grant.clone()),
        )
        .await?;
        ensure!(status == 200, "grant: {status} {body}");
        ensure!(
            body["requests"][0]["decision"]["date"] == granted.as_str(),
            "{body}"
        );
        let (status, _) =
            extensions(&app, &owner, &doc, Method::POST, "/decisions", Some(grant)).await?;
        ensure!(status == 409, "a request is decided once: {status}");
        let mail = sink.next().await?;
        ensure!(to(&mail) == "eva@utb.example", "{mail}");
        ensure!(text(&mail).contains(&format!("till {granted}")), "{mail}");

        // Both are in the audit trail, as received.
        let requested = audited(&app, &owner, &doc, "extension_requested").await?;
        ensure!(requested.len() == 1, "{requested:?}");
        ensure!(
            requested[0]["detail"]["date"] == asked.as_str(),
            "{requested:?}"
        );
        let decided = audited(&app, &owner, &doc, "extension_granted").await?;
        ensure!(
            decided.len() == 1 && decided[0]["detail"]["date"] == granted.as_str(),
            "{decided:?}"
        );

        // The round's svarsdatum passes: Utbildning still writes, Miljö is refused.
        let yesterday = utc_date(-1);
        let (status, _) = put_round(&app, &owner, &doc, json!({ "deadline": yesterday })).await?;
        ensure!(status == 200);
        sink.take(2).await?; // the changed round, to both invitees
        let on = anchor(&app, &eva, &doc, "Skolan").await?;
        let open = |body: &str| json!({ "anchor": on, "body": body });
        let threads = format!("/api/documents/{doc}/threads");
        let (status, body) =
            call(&app, Method::POST, &threads, &eva, Some(open("Förskolan?"))).await?;
        ensure!(status == 201, "within its own svarsdatum: {status} {body}");
        let (status, body) =
            call(&app, Method::POST, &threads, &mats, Some(open("För sent."))).await?;
        ensure!(
            status == 409 && body["error"] == "remiss_closed",
            "after the round's svarsdatum: {status} {body}"
        );
        let (status, body) = answer(
            &app,
            &eva,
            &doc,
            json!({ "status": "done", "statement": "Vi tillstyrker." }),
        )
        .await?;
        ensure!(
            status == 200,
            "a statement within its own svarsdatum: {status} {body}"
        );
        ensure!(to(&sink.next().await?) == "maria@stad.example"); // statement received

        // Each organisation reads whether it may still write.
        let for_eva = round(&app, &eva, &doc).await?;
        ensure!(for_eva["acceptingThreads"] == true, "{for_eva}");
        let for_mats = round(&app, &mats, &doc).await?;
        ensure!(
            for_mats["acceptingThreads"] == false && for_mats["deadlinePassed"] == true,
            "{for_mats}"
        );
        // The invitee table shows each organisation's svarsdatum.
        let table = round(&app, &owner, &doc).await?;
        let utb = invitee(&table, INVITED)?;
        ensure!(
            utb["deadline"] == granted.as_str() && utb["extended"] == true,
            "{utb}"
        );
        let miljo = invitee(&table, MILJO)?;
        ensure!(
            miljo["deadline"] == yesterday.as_str() && miljo["extended"] == false,
            "{miljo}"
        );
        ensure!(miljo["status"] != "done", "{miljo}");

        // A refusal, with its reason, reaches the asking organisation; nothing moves.
        let ask = json!({ "date": utc_date(3), "reason": "Vi hann inte." });
        let (status, body) = extensions(&app, &mats, &doc, Method::POST, "", Some(ask)).await?;
        ensure!(status == 200, "{status} {body}");
        sink.next().await?; // to the owners
        let seq = body["requests"][0]["seq"].as_i64().context("seq")?;
        let refuse = json!({ "org": MILJO, "request": seq, "grant": false });
        let (status, _) =
            extensions(&app, &owner, &doc, Method::POST, "/decisions", Some(refuse)).await?;
        ensure!(status == 422, "a refusal without a reason: {status}");
        let refuse = json!({ "org": MILJO, "request": seq, "grant": false, "reason": "Andra har svarat i tid." });
        let (status, body) =
            extensions(&app, &owner, &doc, Method::POST, "/decisions", Some(refuse)).await?;
        ensure!(status == 200, "refuse: {status} {body}");
        let mail = sink.next().await?;
        ensure!(
            to(&mail) == "mats@miljo.example" && text(&mail).contains("Andra har svarat i tid."),
            "{mail}"
        );
        ensure!(
            audited(&app, &owner, &doc, "extension_refused")
                .await?
                .len()
                == 1
        );
        let (status, _) = call(&app, Method::POST, &threads, &mats, Some(open("Ändå?"))).await?;
        ensure!(status == 409);

        // The report and the compilation name the extended date; Miljö has not answered.
        let (_, report) = crate::remiss::get_export(
            &app,
            &owner,
            &format!("/api/documents/{doc}/report?format=markdown"),
        )
        .await?;
        let report = String::from_utf8(report)?;
        ensure!(
            report.contains(&format!("**Förlängt svarsdatum:** {granted}")),
            "{report}"
        );
        ensure!(report.contains("**Svar:** Har inte svarat"), "{report}");
        let (_, compilation) = crate::remiss::get_export(
            &app,
            &owner,
            &format!("/api/documents/{doc}/compilation?format=markdown"),
        )
        .await?;
        let compilation = String::from_utf8(compilation)?;
        ensure!(
            compilation.contains(&granted) && compilation.contains("Har inte svarat"),
            "{compilation}"
        );
        let notified = inbox(&app, &eva).await?;
        ensure!(
            notified["items"]
                .as_array()
                .context("items")?
                .iter()
                .any(|i| i["kind"] == "extension_decided"),
            "{notified}"
        );
        ensure!(sink.drain().is_empty());
        Ok(())
    }
);

both_dbs!(
    reminders_follow_an_organisations_extended_svarsdatum,
    |backend| async move {
        use forankra::remiss::reminders::sweep;
        let mut sink = Sink::start(0).await?;
        let app = mailing_app(backend, &sink, Duration::from_secs(600)).await?;
        let (owner, doc) = two_invitees(&app, &mut sink, "2031-05-20").await?;
        // Granted unasked.
        let grant = json!({ "org": INVITED, "grant": true, "date": "2031-06-03" });
        let (status, body) =
            extensions(&app, &owner, &doc, Method::POST, "/decisions", Some(grant)).await?;
        ensure!(status == 200, "grant: {status} {body}");
        ensure!(to(&sink.next().await?) == "eva@utb.example");
        let db = &app.state.db;
        let day = |d: &str| -> Result<jiff::civil::Date> { Ok(d.parse()?) };
        ensure!(
            sweep(db, day("2031-05-13")?).await? == 1,
            "7 days before the round's"
        );
        let mail = sink.next().await?;
        ensure!(to(&mail) == "mats@miljo.example", "only Miljö: {mail}");
        ensure!(
            sweep(db, day("2031-05-27")?).await? == 1,
            "7 days before Utbildning's"
        );
        let mail = sink.next().await?;
        ensure!(to(&mail) == "eva@utb.example", "{mail}");
        ensure!(text(&mail).contains("är 2031-06-03, om 7 dagar"), "{mail}");
        ensure!(
            sweep(db, day("2031-06-04")?).await? == 1,
            "the day after Utbildning's"
        );
        ensure!(text(&sink.next().await?).contains("var 2031-06-03"));
        ensure!(sink.drain().is_empty());
        Ok(())
    }
);

/// A mailing server, the owner Maria (no address) and Eva and Olle of `INVITED`, each
/// with an address; returns the server and Maria's and Eva's tokens.
async fn eva_and_olle(backend: Backend, sink: &Sink) -> Result<(TestApp, String, String)> {
    let app = mailing_app(backend, sink, Duration::from_secs(600)).await?;
    org_with_users(&app, OWNER_ORG, &[("maria", None)]).await?;
    let users = [
        ("eva", Some("eva@utb.example")),
        ("olle", Some("olle@utb.example")),
    ];
    org_with_users(&app, INVITED, &users).await?;
    let (owner, eva) = (app.token("maria", OWNER_ORG), app.token("eva", INVITED));
    Ok((app, owner, eva))
}

/// The moment the digest of `date` goes: `hour`:00 in Stockholm.
fn digest_moment(date: jiff::civil::Date, hour: i8) -> Result<jiff::Timestamp> {
    let zone = jiff::tz::TimeZone::get("Europe/Stockholm")?;
    Ok(date.at(hour, 0, 0, 0).to_zoned_datetime(zone)?.timestamp())
}

both_dbs!(
    a_daily_digest_collects_the_days_mail_into_one_message_at_its_hour,
    |backend| async move {
        use forankra::notifications::digest;
        let mut sink = Sink::start(0).await?;
        let (app, owner, eva) = eva_and_olle(backend, &sink).await?;
        let (status, body) = call(
            &app,
            Method::PUT,
            "/api/me/preferences",
            &eva,
            Some(json!({ "emailDigest": "daily" })),
        )
        .await?;
        ensure!(
            status == 200 && body["emailDigest"] == "daily" && body["language"] == "sv",
            "{status} {body}"
        );
        let (status, _) = call(
            &app,
            Method::PUT,
            "/api/me/preferences",
            &eva,
            Some(json!({ "emailDigest": "weekly" })),
        )
        .await?;
        ensure!(
            status == 422 || status == 400,
            "an unknown digest: {status}"
        );

        let doc = draft_in_remiss(&app, &owner, "2031-05-20").await?;
        ensure!(app.set_role(&owner, &doc, INVITED, "commenter").await? == 200);
        let (status, _) =
            put_round(&app, &owner, &doc, json!({ "deadline": "2031-06-01" })).await?;
        ensure!(status == 200);
        // Olle, immediate, gets two messages at once; Eva none.
        let mails = sink.take(2).await?;
        ensure!(
            mails.iter().all(|m| to(m) == "olle@utb.example"),
            "{mails:?}"
        );
        let slot = digest::slot_date(forankra::storage::now_ms(), digest::DEFAULT_HOUR);
        let at = digest_moment(slot, digest::DEFAULT_HOUR)?;
        let db = &app.state.db;
        let just_before = at.checked_sub(jiff::SignedDuration::from_secs(1))?;
        ensure!(
            digest::sweep(db, just_before, digest::DEFAULT_HOUR).await? == 0,
            "before the hour: none"
        );
        ensure!(sink.drain().is_empty(), "nothing for Eva before her digest");
        ensure!(
            digest::sweep(db, at, digest::DEFAULT_HOUR).await? == 1,
            "at the hour"
        );
        ensure!(
            digest::sweep(db, at, digest::DEFAULT_HOUR).await? == 0,
            "once"
        );
        let mail = sink.next().await?;
        ensure!(to(&mail) == "eva@utb.example", "{mail}");
        ensure!(
            mail["subject"] == "2 nya händelser i ”Trygghetsprogram”",
            "{mail}"
        );
        ensure!(
            text(&mail).contains("har bjudit in er")
                && text(&mail).contains("svarsdatum 2031-06-01"),
            "{mail}"
        );
        ensure!(sink.drain().is_empty());
        Ok(())
    }
);

both_dbs!(
    a_user_who_chose_english_gets_english_mail,
    |backend| async move {
        let mut sink = Sink::start(0).await?;
        let (app, owner, eva) = eva_and_olle(backend, &sink).await?;
        let (status, body) = call(
            &app,
            Method::PUT,
            "/api/me/preferences",
            &eva,
            Some(json!({ "language": "en" })),
        )
        .await?;
        ensure!(
            status == 200 && body["language"] == "en" && body["emailDigest"] == "immediate",
            "{status} {body}"
        );
        let (_, body) = call(&app, Method::GET, "/api/me/preferences", &eva, None).await?;
        ensure!(body["language"] == "en", "{body}");
        let doc = draft_in_remiss(&app, &owner, "2031-05-20").await?;
        ensure!(app.set_role(&owner, &doc, INVITED, "commenter").await? == 200);
        let mut mails = sink.take(2).await?;
        mails.sort_by_key(to);
        let (english, swedish) = (&mails[0], &mails[1]);
        ensure!(to(english) == "eva@utb.example", "{english}");
        ensure!(
            english["subject"] == "Invitation to a consultation: Trygghetsprogram",
            "{english}"
        );
        ensure!(
            text(english).contains("Response date: 2031-05-20."),
            "{english}"
        );
        let html = english["html"].as_str().unwrap_or_default();
        ensure!(
            html.contains("lang=\"en\"") && html.contains("Stop e-mail about invitations"),
            "{english}"
        );
        ensure!(
            swedish["subject"] == "Inbjudan till remiss: Trygghetsprogram",
            "{swedish}"
        );
        // The unsubscribe page answers in English too.
        let link = text(english)
            .lines()
            .find_map(|l| l.split(": ").nth(1).filter(|u| u.contains("unsubscribe")))
            .context("an unsubscribe link")?
            .to_owned();
        let page = app.http.get(&link).send().await?.text().await?;
        ensure!(
            page.contains("You no longer get e-mail about invitations"),
            "{page}"
        );
        Ok(())
    }
);
