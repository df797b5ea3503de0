//! The record of a remiss (issue 14, docs/REMISS.md "Comments and statements"): comments
//! and statements are kept as received, decided comments are frozen, invitees' changes
//! stop at the svarsdatum, the read-outs show the original wording and the statement used,
//! and each change commits whole or not at all.

use anyhow::{Context, Result, ensure};
use reqwest::Method;
use serde_json::{Value, json};

use crate::both_dbs;
use crate::helpers::*;
use crate::remiss::{
    MILJO, UTBILDNING, anchor, answer, assert_in_order, get_export, put_round, reply, round,
    utc_date,
};

const TEXT: &str = "# Trygghetsprogram\n\n\
Förebyggande arbete i skolan är viktigt.\n\n\
Programmet gäller 2020–2023 och ska följas upp årligen.\n";

fn id(value: &Value) -> Result<String> {
    value["id"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no id in {value}"))
}

fn comment_path(doc: &str, thread: &str, comment: &str) -> String {
    format!("/api/documents/{doc}/threads/{thread}/comments/{comment}")
}

async fn edit(app: &TestApp, token: &str, path: &str, body: &str) -> Result<(u16, Value)> {
    call(
        app,
        Method::PATCH,
        path,
        token,
        Some(json!({ "body": body })),
    )
    .await
}

async fn revisions(app: &TestApp, token: &str, path: &str) -> Result<(u16, Value)> {
    call(app, Method::GET, &format!("{path}/revisions"), token, None).await
}

async fn resolve(app: &TestApp, owner: &str, doc: &str, thread: &str) -> Result<(u16, Value)> {
    let path = format!("/api/documents/{doc}/threads/{thread}/resolve");
    let body = json!({ "outcome": "noterad", "motivation": "Noterat." });
    call(app, Method::POST, &path, owner, Some(body)).await
}

/// The bodies of a revisions list, oldest first.
fn bodies(list: &Value) -> Vec<&str> {
    list.as_array()
        .map(|l| l.iter().filter_map(|r| r["body"].as_str()).collect())
        .unwrap_or_default()
}

/// The body of a successful answer; fails the test with the status and body otherwise.
fn ok((status, body): (u16, Value)) -> Result<Value> {
    ensure!((200..300).contains(&status), "{status}: {body}");
    Ok(body)
}

fn error(reply: &(u16, Value)) -> (u16, Option<&str>) {
    (reply.0, reply.1["error"].as_str())
}

both_dbs!(
    comments_are_append_only_and_frozen_once_decided,
    |backend| async move {
        let Draft { app, owner, doc } = Draft::new(
            backend,
            "Protokoll",
            TEXT,
            &[(UTBILDNING, "commenter"), (MILJO, "commenter")],
        )
        .await?;
        let sara = app.token("sara", UTBILDNING);
        let sven = app.token("sven", UTBILDNING);
        let erik = app.token("erik", MILJO);
        let on_skolan = anchor(&app, &sara, &doc, "skolan").await?;
        let thread = open_thread(&app, &sara, &doc, on_skolan, "Som mottaget.", None).await?;
        let tid = id(&thread)?;
        let first = comment_path(&doc, &tid, &id(&thread["comments"][0])?);

        // An edit adds a revision; the text as received stays first.
        ok(edit(&app, &sara, &first, "Som ändrat.").await?)?;
        let (status, list) = revisions(&app, &erik, &first).await?;
        assert_eq!(
            status, 200,
            "any member reads a live comment's wordings: {list}"
        );
        assert_eq!(bodies(&list), ["Som mottaget.", "Som ändrat."]);
        assert_eq!(list[0]["editedBy"], "sara");
        assert!(list[0]["editedAt"].as_i64() <= list[1]["editedAt"].as_i64());

        // A delete withdraws: others see that it was withdrawn, by whom, without its text;
        // the owners and the author's organisation still read it.
        let body = ok(reply(&app, &sara, &doc, &tid, "Ett förhastat svar.").await?)?;
        let second = comment_path(&doc, &tid, &id(&body["comments"][1])?);
        let body = ok(call(&app, Method::DELETE, &second, &sara, None).await?)?;
        let withdrawn = &body["comments"][1];
        assert_eq!(
            (
                &withdrawn["deleted"],
                &withdrawn["body"],
                &withdrawn["deletedBy"]
            ),
            (&json!(true), &json!(""), &json!("sara")),
            "{withdrawn}"
        );
        assert!(withdrawn["deletedAt"].is_i64(), "{withdrawn}");
        for (who, token) in [("owner", &owner), ("sara's colleague", &sven)] {
            let (status, list) = revisions(&app, token, &second).await?;
            assert_eq!(status, 200, "{who}: {list}");
            assert_eq!(bodies(&list), ["Ett förhastat svar."], "{who}");
        }
        let refused = revisions(&app, &erik, &second).await?;
        assert_eq!(refused.0, 403, "another organisation: {}", refused.1);

        // Resolved: the comments are part of the decision.
        ok(resolve(&app, &owner, &doc, &tid).await?)?;
        let refused = edit(&app, &sara, &first, "Skrivet i efterhand.").await?;
        assert_eq!(
            error(&refused),
            (409, Some("thread_resolved")),
            "{}",
            refused.1
        );
        let refused = call(&app, Method::DELETE, &first, &sara, None).await?;
        assert_eq!(
            error(&refused),
            (409, Some("thread_resolved")),
            "{}",
            refused.1
        );
        let (_, list) = revisions(&app, &owner, &first).await?;
        assert_eq!(bodies(&list), ["Som mottaget.", "Som ändrat."]);

        // Reopened: new replies are open to change, what was decided on is not.
        let path = format!("/api/documents/{doc}/threads/{tid}/reopen");
        ok(call(&app, Method::POST, &path, &owner, None).await?)?;
        let refused = edit(&app, &sara, &first, "Nu då?").await?;
        assert_eq!(
            error(&refused),
            (409, Some("thread_resolved")),
            "{}",
            refused.1
        );
        let body = ok(reply(&app, &sara, &doc, &tid, "Ett nytt svar.").await?)?;
        let third = comment_path(&doc, &tid, &id(&body["comments"][2])?);
        ok(edit(&app, &sara, &third, "Ett nytt svar, rättat.").await?)?;
        let (status, thread) = call(
            &app,
            Method::GET,
            &format!("/api/documents/{doc}/threads/{tid}"),
            &erik,
            None,
        )
        .await?;
        assert_eq!(status, 200);
        let sealed: Vec<&Value> = thread["comments"]
            .as_array()
            .context("comments")?
            .iter()
            .map(|c| &c["sealed"])
            .collect();
        assert_eq!(sealed, [&json!(true), &json!(true), &json!(false)]);

        // The compilation shows the current wording, says it was edited, and that a
        // comment was withdrawn.
        let path = format!("/api/documents/{doc}/compilation");
        let (_, markdown) = get_export(&app, &erik, &path).await?;
        let markdown = String::from_utf8(markdown)?;
        assert_in_order(
            &markdown,
            &[
                "Som ändrat. (redigerad",
                "kommentaren återtogs",
                "Ett nytt svar, rättat. (redigerad",
            ],
        );
        assert!(!markdown.contains("förhastat"), "{markdown}");

        // The API description names the route and the refusal.
        let spec = ok(call(&app, Method::GET, "/api/openapi.json", &erik, None).await?)?;
        let paths = &spec["paths"];
        assert!(
            paths["/api/documents/{id}/threads/{thread_id}/comments/{comment_id}/revisions"]["get"]
                .is_object()
        );
        let conflict = paths["/api/documents/{id}/threads/{thread_id}/comments/{comment_id}"]
            ["patch"]["responses"]["409"]["description"]
            .as_str()
            .unwrap_or_default();
        assert!(
            conflict.contains("thread_resolved") && conflict.contains("remiss_closed"),
            "{conflict}"
        );
        Ok::<_, anyhow::Error>(())
    }
);

/// Every change an invitee might still try once the round is closed; each must answer
/// 409 `remiss_closed`.
async fn invitee_changes_are_refused(
    app: &TestApp,
    sara: &str,
    doc: &str,
    thread: &Value,
) -> Result<()> {
    let tid = id(thread)?;
    let first = comment_path(doc, &tid, &id(&thread["comments"][0])?);
    let on_viktigt = anchor(app, sara, doc, "viktigt").await?;
    let attempts = [
        (
            "edit",
            edit(app, sara, &first, "Ändrat i efterhand.").await?,
        ),
        (
            "delete",
            call(app, Method::DELETE, &first, sara, None).await?,
        ),
        (
            "re-anchor",
            call(
                app,
                Method::PUT,
                &format!("/api/documents/{doc}/threads/{tid}/anchor"),
                sara,
                Some(json!({ "anchor": on_viktigt })),
            )
            .await?,
        ),
        (
            "statement",
            answer(
                app,
                sara,
                doc,
                json!({ "status": "done", "statement": "Ett nytt yttrande." }),
            )
            .await?,
        ),
    ];
    for (what, result) in &attempts {
        assert_eq!(
            error(result),
            (409, Some("remiss_closed")),
            "{what}: {}",
            result.1
        );
    }
    let (_, list) = revisions(app, sara, &first).await?;
    assert_eq!(bodies(&list), ["Som mottaget."]);
    Ok(())
}

both_dbs!(
    invitees_keep_what_they_sent_after_the_svarsdatum_and_once_avslutad,
    |backend| async move {
        let Draft { app, owner, doc } =
            Draft::new(backend, "Svarsdatum", TEXT, &[(UTBILDNING, "commenter")]).await?;
        let sara = app.token("sara", UTBILDNING);
        let on_skolan = anchor(&app, &sara, &doc, "skolan").await?;
        let mut threads = Vec::new();
        for _ in 0..2 {
            threads.push(
                open_thread(&app, &sara, &doc, on_skolan.clone(), "Som mottaget.", None).await?,
            );
        }
        let body = ok(reply(&app, &owner, &doc, &id(&threads[0])?, "Vi återkommer.").await?)?;
        let owners_note = comment_path(&doc, &id(&threads[0])?, &id(&body["comments"][1])?);
        ok(answer(
            &app,
            &sara,
            &doc,
            json!({ "status": "done", "statement": "Vårt yttrande." }),
        )
        .await?)?;

        ok(put_round(
            &app,
            &owner,
            &doc,
            json!({ "phase": "remiss", "deadline": utc_date(-1) }),
        )
        .await?)?;
        invitee_changes_are_refused(&app, &sara, &doc, &threads[0]).await?;
        // The owners still annotate and decide.
        ok(edit(&app, &owner, &owners_note, "Vi återkommer i januari.").await?)?;
        ok(resolve(&app, &owner, &doc, &id(&threads[0])?).await?)?;

        // A later svarsdatum, but the round is avslutad: still closed.
        ok(put_round(
            &app,
            &owner,
            &doc,
            json!({ "phase": "avslutad", "deadline": utc_date(1) }),
        )
        .await?)?;
        invitee_changes_are_refused(&app, &sara, &doc, &threads[1]).await?;
        ok(resolve(&app, &owner, &doc, &id(&threads[1])?).await?)?;

        let round = round(&app, &owner, &doc).await?;
        let kept = &round["invitees"][0]["submissions"];
        assert_eq!(
            kept.as_array().map(Vec::len),
            Some(1),
            "the refused statement was not kept: {round}"
        );
        assert_eq!(kept[0]["statement"], "Vårt yttrande.");
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    the_read_outs_show_the_original_wording_and_the_statement_used,
    |backend| async move {
        let Draft { app, owner, doc } =
            Draft::new(backend, "Lydelser", TEXT, &[(UTBILDNING, "commenter")]).await?;
        let sara = app.token("sara", UTBILDNING);
        let on_skolan = anchor(&app, &sara, &doc, "skolan").await?;
        let thread =
            open_thread(&app, &sara, &doc, on_skolan, "Gäller det förskolan?", None).await?;
        let tid = id(&thread)?;
        // Moved to another range: the quote now differs from the one it was opened on.
        let on_viktigt = anchor(&app, &sara, &doc, "viktigt").await?;
        let path = format!("/api/documents/{doc}/threads/{tid}/anchor");
        let body = ok(call(
            &app,
            Method::PUT,
            &path,
            &sara,
            Some(json!({ "anchor": on_viktigt })),
        )
        .await?)?;
        assert_eq!(
            (
                &body["anchor"]["quote"],
                &body["anchor"]["originalQuote"],
                &body["anchor"]["state"]
            ),
            (&json!("viktigt"), &json!("skolan"), &json!("changed"))
        );

        for text in ["Första yttrandet.", "Andra yttrandet."] {
            ok(answer(
                &app,
                &sara,
                &doc,
                json!({ "status": "done", "statement": text }),
            )
            .await?)?;
        }
        let body = ok(put_round(
            &app,
            &owner,
            &doc,
            json!({ "phase": "remiss", "deadline": utc_date(1) }),
        )
        .await?)?;
        let kept = &body["invitees"][0]["submissions"];
        assert_eq!(
            (kept[0]["statement"].as_str(), kept[1]["statement"].as_str()),
            (Some("Första yttrandet."), Some("Andra yttrandet."))
        );
        assert_eq!(
            (&kept[1]["submittedBy"], &kept[1]["late"]),
            (&json!("sara"), &json!(false))
        );

        let export = |format: &str| format!("/api/documents/{doc}/compilation?format={format}");
        let (_, markdown) = get_export(&app, &sara, &export("markdown")).await?;
        let markdown = String::from_utf8(markdown)?;
        assert_in_order(
            &markdown,
            &[
                "| Nuvarande text: viktigt<br>Ursprunglig text: skolan |",
                "## Yttranden",
                "- **Svar inkommet:**",
                "det sista svaret inkommet senast svarsdatum",
                "- **Ersatta svar:** 1",
                "> Andra yttrandet.",
            ],
        );
        assert!(!markdown.contains("Första yttrandet."), "{markdown}");
        let (_, html) = get_export(&app, &sara, &export("html")).await?;
        let html = String::from_utf8(html)?;
        assert!(
            html.contains("<td>Nuvarande text: viktigt<br>Ursprunglig text: skolan</td>"),
            "{html}"
        );
        let (_, docx) = get_export(&app, &sara, &export("docx")).await?;
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(docx))?;
        let mut xml = String::new();
        std::io::Read::read_to_string(&mut archive.by_name("word/document.xml")?, &mut xml)?;
        assert_in_order(&xml, &["Ursprunglig text", "skolan", "Andra yttrandet."]);
        let (_, csv) = get_export(&app, &sara, &export("csv")).await?;
        let csv = String::from_utf8(csv)?;
        let mut reader = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
        let header = reader.headers()?.clone();
        let column = |name: &str| header.iter().position(|h| h == name).context("column");
        let row = reader.records().next().context("a row")??;
        assert_eq!(
            (
                &row[column("Markerad text")?],
                &row[column("Ursprunglig text")?]
            ),
            ("viktigt", "skolan")
        );
        let (_, report) = get_export(
            &app,
            &sara,
            &format!("/api/documents/{doc}/report?format=markdown"),
        )
        .await?;
        let report = String::from_utf8(report)?;
        assert_in_order(
            &report,
            &[
                "> Andra yttrandet.",
                "> viktigt",
                "- **Ursprunglig text:** skolan",
            ],
        );

        // The svarsdatum moved to before both answers: neither counts, both are shown late.
        let body = ok(put_round(&app, &owner, &doc, json!({ "deadline": utc_date(-1) })).await?)?;
        let kept = &body["invitees"][0]["submissions"];
        assert_eq!(
            (&kept[0]["late"], &kept[1]["late"]),
            (&json!(true), &json!(true))
        );
        let (_, markdown) = get_export(&app, &sara, &export("markdown")).await?;
        let markdown = String::from_utf8(markdown)?;
        assert_in_order(
            &markdown,
            &[
                "Inget yttrande har lämnats.",
                "Inkommet efter svarsdatum",
                "> Första yttrandet.",
                "Inkommet efter svarsdatum",
                "> Andra yttrandet.",
            ],
        );
        Ok::<_, anyhow::Error>(())
    }
);

/// Makes every audit append of `action` fail inside the test's own database, through a
/// trigger named after the action. (A name is never reused: a pooled SQLite connection
/// that has not read the schema since a `DROP TRIGGER` still knows the old trigger, and
/// SQLite's `CREATE TRIGGER` checks its name against that cached schema.)
async fn fail_audit_of(app: &TestApp, action: &str) -> Result<()> {
    let sql = match &app.state.db {
        forankra::storage::Db::Sqlite(_) => format!(
            "CREATE TRIGGER fail_{action} BEFORE INSERT ON audit_log WHEN NEW.action = '{action}' \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        ),
        forankra::storage::Db::Postgres(_) => format!(
            "CREATE FUNCTION fail_{action}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.action = '{action}' THEN RAISE EXCEPTION 'injected failure'; END IF; \
             RETURN NEW; END $$; \
             CREATE TRIGGER fail_{action} BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION fail_{action}();"
        ),
    };
    forankra::on_pool!(&app.state.db, pool => {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(pool).await?;
    });
    Ok(())
}

/// Lets appends of `action` succeed again.
async fn drop_failure(app: &TestApp, action: &str) -> Result<()> {
    let sql = match &app.state.db {
        forankra::storage::Db::Sqlite(_) => format!("DROP TRIGGER fail_{action}"),
        forankra::storage::Db::Postgres(_) => {
            format!("DROP TRIGGER fail_{action} ON audit_log; DROP FUNCTION fail_{action}()")
        }
    };
    forankra::on_pool!(&app.state.db, pool => {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(pool).await?;
    });
    Ok(())
}

/// The document's audit trail, as the owners read it.
async fn audit_trail(app: &TestApp, owner: &str, doc: &str) -> Result<Vec<Value>> {
    let path = format!("/api/documents/{doc}/audit");
    let trail = ok(call(app, Method::GET, &path, owner, None).await?)?;
    trail.as_array().cloned().context("entries")
}

async fn count(app: &TestApp, sql: &'static str) -> Result<i64> {
    Ok(forankra::on_pool!(&app.state.db, pool => {
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(pool).await?;
        n
    }))
}

both_dbs!(
    a_change_and_its_audit_entry_commit_together,
    |backend| async move {
        let Draft { app, owner, doc } =
            Draft::new(backend, "Atomär", TEXT, &[(UTBILDNING, "commenter")]).await?;
        let sara = app.token("sara", UTBILDNING);
        let on_skolan = anchor(&app, &sara, &doc, "skolan").await?;

        // The audit entry cannot be written: no thread, no comment, no first-comment mark,
        // no user row for sara.
        fail_audit_of(&app, "thread_opened").await?;
        let path = format!("/api/documents/{doc}/threads");
        let request = json!({ "anchor": on_skolan, "body": "Blir det kvar?" });
        let (status, body) = call(&app, Method::POST, &path, &sara, Some(request.clone())).await?;
        assert_eq!(
            (status, body["error"].as_str()),
            (500, Some("internal")),
            "{body}"
        );
        let (status, listed) = call(&app, Method::GET, &path, &owner, None).await?;
        assert_eq!((status, listed), (200, json!([])));
        assert_eq!(count(&app, "SELECT COUNT(*) FROM threads").await?, 0);
        assert_eq!(count(&app, "SELECT COUNT(*) FROM comments").await?, 0);
        assert_eq!(
            count(&app, "SELECT COUNT(*) FROM users WHERE id = 'sara'").await?,
            0
        );
        let invitee = &round(&app, &owner, &doc).await?["invitees"][0];
        assert!(invitee["firstCommentAt"].is_null(), "{invitee}");
        drop_failure(&app, "thread_opened").await?;

        // An edit whose audit entry fails leaves the comment and its revisions as they were.
        let thread = open_thread(
            &app,
            &sara,
            &doc,
            request["anchor"].clone(),
            "Som mottaget.",
            None,
        )
        .await?;
        let first = comment_path(&doc, &id(&thread)?, &id(&thread["comments"][0])?);
        fail_audit_of(&app, "comment_edited").await?;
        let (status, body) = edit(&app, &sara, &first, "Ändrat.").await?;
        assert_eq!(status, 500, "{body}");
        let (_, list) = revisions(&app, &sara, &first).await?;
        assert_eq!(bodies(&list), ["Som mottaget."]);
        let (_, thread) = call(
            &app,
            Method::GET,
            &format!("/api/documents/{doc}/threads/{}", id(&thread)?),
            &owner,
            None,
        )
        .await?;
        assert_eq!(
            (
                &thread["comments"][0]["body"],
                &thread["comments"][0]["editedAt"]
            ),
            (&json!("Som mottaget."), &Value::Null)
        );
        drop_failure(&app, "comment_edited").await?;

        // Deciding a proposal writes two entries; if the second cannot be written the
        // thread is not resolved and the first is not kept either. Accepting edits the
        // document in the room first (stored like any edit); its decision (anchor,
        // resolution, both entries) commits whole or not at all, as a rejection does.
        let proposed =
            json!({ "anchor": request["anchor"], "body": "Byt ord.", "proposal": "förskolan" });
        for (decision, first_entry) in [
            ("reject", "proposal_rejected"),
            ("accept", "proposal_accepted"),
        ] {
            let proposal =
                ok(call(&app, Method::POST, &path, &sara, Some(proposed.clone())).await?)?;
            let base = format!("/api/documents/{doc}/threads/{}", id(&proposal)?);
            fail_audit_of(&app, "thread_resolved").await?;
            let (status, body) = call(
                &app,
                Method::POST,
                &format!("{base}/proposal/{decision}"),
                &owner,
                Some(json!({ "motivation": "Motiverat." })),
            )
            .await?;
            assert_eq!(status, 500, "{decision}: {body}");
            let thread = ok(call(&app, Method::GET, &base, &owner, None).await?)?;
            assert_eq!(
                (&thread["status"], &thread["resolution"]),
                (&json!("open"), &Value::Null),
                "{decision}"
            );
            let trail = audit_trail(&app, &owner, &doc).await?;
            let kept = trail.iter().filter(|e| e["action"] == first_entry).count();
            assert_eq!(kept, 0, "{decision}: {trail:?}");
            drop_failure(&app, "thread_resolved").await?;
        }

        // Nor does the round change without its entry.
        fail_audit_of(&app, "remiss_changed").await?;
        let (status, body) = put_round(&app, &owner, &doc, json!({ "phase": "avslutad" })).await?;
        assert_eq!(status, 500, "{body}");
        assert_eq!(round(&app, &owner, &doc).await?["phase"], "beredning");
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    an_edit_racing_a_resolve_never_changes_a_decided_comment,
    |backend| async move {
        let Draft { app, owner, doc } =
            Draft::new(backend, "Kapplöpning", TEXT, &[(UTBILDNING, "commenter")]).await?;
        let sara = app.token("sara", UTBILDNING);
        let on_skolan = anchor(&app, &sara, &doc, "skolan").await?;
        for round in 0..10 {
            let thread =
                open_thread(&app, &sara, &doc, on_skolan.clone(), "Som mottaget.", None).await?;
            let tid = id(&thread)?;
            let first = comment_path(&doc, &tid, &id(&thread["comments"][0])?);
            let (edited, resolved) = tokio::join!(
                edit(&app, &sara, &first, "Ändrat samtidigt."),
                resolve(&app, &owner, &doc, &tid)
            );
            let (edited, resolved) = (edited?, resolved?);
            ensure!(resolved.0 == 200, "round {round}: resolve {resolved:?}");
            let (_, list) = revisions(&app, &owner, &first).await?;
            let trail = audit_trail(&app, &owner, &doc).await?;
            let seq_of = |action: &str| {
                trail
                    .iter()
                    .find(|e| e["action"] == action && e["detail"]["thread"] == tid.as_str())
                    .and_then(|e| e["seq"].as_i64())
            };
            match edited.0 {
                // The edit came first: it is kept, and recorded before the decision.
                200 => {
                    assert_eq!(bodies(&list), ["Som mottaget.", "Ändrat samtidigt."]);
                    let (edit_seq, resolve_seq) =
                        (seq_of("comment_edited"), seq_of("thread_resolved"));
                    assert!(
                        edit_seq.is_some() && edit_seq < resolve_seq,
                        "round {round}: {edit_seq:?} {resolve_seq:?}"
                    );
                }
                // The decision came first: the comment stays as it was decided on.
                _ => {
                    assert_eq!(
                        error(&edited),
                        (409, Some("thread_resolved")),
                        "{}",
                        edited.1
                    );
                    assert_eq!(bodies(&list), ["Som mottaget."]);
                    assert_eq!(seq_of("comment_edited"), None);
                }
            }
        }
        Ok::<_, anyhow::Error>(())
    }
);
