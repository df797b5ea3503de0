//! Authorship (issue 16) with real npm Yjs clients: every Yjs client id is bound to the
//! user and organisation that first wrote under it, a second user reusing it is refused
//! with close code 4409, and the attribution read-out says which organisation wrote the
//! text standing in each paragraph and what each deleted, after compaction and a
//! restart too.

use std::process::Stdio;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::both_dbs;
use crate::helpers::*;
use crate::interop::node_dir;

/// Close code for an update under another user's client id (docs/ARCHITECTURE.md).
const FOREIGN_CLIENT_ID: i64 = 4409;

/// Runs tests/node/authorship.mjs as the holder of `token`, optionally under Yjs client
/// id `client_id`, applying `ops`; returns its JSON result whether it succeeded or not.
async fn node_edit(
    app: &TestApp,
    doc: &str,
    token: &str,
    client_id: Option<u64>,
    ops: Value,
) -> anyhow::Result<Value> {
    let mut command = tokio::process::Command::new("node");
    command
        .current_dir(node_dir()?)
        .arg("authorship.mjs")
        .args(["--url", &format!("ws://{}/ws", app.addr), "--doc", doc])
        .args(["--token", token, "--ops", &ops.to_string()]);
    if let Some(id) = client_id {
        command.args(["--client-id", &id.to_string()]);
    }
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("starting node")?;
    let output = tokio::time::timeout(WAIT * 2, child.wait_with_output())
        .await
        .context("node timed out")??;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().with_context(|| {
        format!(
            "node printed nothing: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    })?;
    serde_json::from_str(line).with_context(|| format!("node printed {stdout:?}"))
}

/// Like [`node_edit`], failing unless the client's writes were stored.
pub(crate) async fn node_writes(
    app: &TestApp,
    doc: &str,
    token: &str,
    client_id: Option<u64>,
    ops: Value,
) -> anyhow::Result<Value> {
    let result = node_edit(app, doc, token, client_id, ops).await?;
    if result["ok"] != true {
        bail!("node failed: {result}");
    }
    Ok(result)
}

async fn attribution(app: &TestApp, token: &str, doc: &str) -> anyhow::Result<Value> {
    let path = format!("/api/documents/{doc}/attribution");
    let (status, body) = call(app, reqwest::Method::GET, &path, token, None).await?;
    if status != 200 {
        bail!("attribution: {status} {body}");
    }
    Ok(body)
}

/// An organisation's totals in an attribution: (kept, deleted).
fn totals(attribution: &Value, org: &str) -> Option<(u64, u64)> {
    attribution["organisations"]
        .as_array()?
        .iter()
        .find(|o| o["org"] == org)
        .map(|o| {
            (
                o["kept"].as_u64().unwrap_or(0),
                o["deleted"].as_u64().unwrap_or(0),
            )
        })
}

/// The characters per organisation standing in paragraph `index`.
fn paragraph(attribution: &Value, index: usize) -> Vec<(String, u64)> {
    attribution["paragraphs"][index]["organisations"]
        .as_array()
        .map(|orgs| {
            orgs.iter()
                .map(|o| {
                    let org = o["org"].as_str().unwrap_or_default().to_owned();
                    (org, o["characters"].as_u64().unwrap_or(0))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A draft owned by stadsledningskontoret, which two förvaltningar may edit.
async fn shared_draft(app: &TestApp) -> anyhow::Result<(String, String)> {
    let owner = app.token("anna", "stadsledningskontoret");
    let doc = app.create_doc(&owner, "Skolprogram", None).await?;
    for org in ["utbildning", "miljo"] {
        app.set_role(&owner, &doc, org, "editor").await?;
    }
    Ok((owner, doc))
}

both_dbs!(
    a_second_user_writing_under_a_bound_client_id_is_refused,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let (owner, doc) = shared_draft(&app).await?;
        let eva = app.token("eva", "utbildning");
        let bo = app.token("bo", "miljo");

        let first = node_writes(
            &app,
            &doc,
            &eva,
            Some(4242),
            json!([{"op": "append", "text": "Utbildningens rad."}]),
        )
        .await?;
        assert_eq!(first["clientId"], 4242);

        // Bo takes Eva's client id: his update would be stored as hers.
        let forged = node_edit(
            &app,
            &doc,
            &bo,
            Some(4242),
            json!([{"op": "append", "text": "Förfalskad rad."}]),
        )
        .await?;
        assert_eq!(forged["ok"], false, "{forged}");
        assert_eq!(forged["closeCode"], FOREIGN_CLIENT_ID, "{forged}");
        assert!(
            forged["closeReason"]
                .as_str()
                .unwrap_or_default()
                .contains("4242"),
            "{forged}"
        );
        app.metric_reaches("forankra_updates_refused_foreign_total", 1.0)
            .await?;

        // Nothing of it was stored, and Eva's line is still hers alone.
        let (_, text) = app
            .get_text(&owner, &format!("/api/documents/{doc}/text"))
            .await?;
        assert!(text.contains("Utbildningens rad."), "{text}");
        assert!(!text.contains("Förfalskad"), "{text}");
        let shares = attribution(&app, &owner, &doc).await?;
        assert_eq!(paragraph(&shares, 0), [("utbildning".to_owned(), 18)]);
        assert_eq!(shares["paragraphs"].as_array().map(Vec::len), Some(1));
        assert_eq!(totals(&shares, "miljo"), None);

        // Under a client id of his own, Bo writes as himself.
        node_writes(
            &app,
            &doc,
            &bo,
            None,
            json!([{"op": "append", "text": "Miljöns rad."}]),
        )
        .await?;
        let shares = attribution(&app, &owner, &doc).await?;
        assert_eq!(paragraph(&shares, 1), [("miljo".to_owned(), 12)]);
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    a_paragraph_written_by_two_organisations_is_attributed_to_both,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let (owner, doc) = shared_draft(&app).await?;
        let eva = app.token("eva", "utbildning");
        let bo = app.token("bo", "miljo");
        node_writes(
            &app,
            &doc,
            &eva,
            None,
            json!([{"op": "append", "text": "Skolan är viktig."}]),
        )
        .await?;
        // "Skolan är viktig." → "Skolan är mycket viktig för barnen." (Bo deletes the
        // full stop Eva wrote).
        let edited = node_writes(
            &app,
            &doc,
            &bo,
            None,
            json!([
                {"op": "insert", "paragraph": 0, "at": 10, "text": "mycket "},
                {"op": "delete", "paragraph": 0, "at": 23, "len": 1},
                {"op": "insert", "paragraph": 0, "at": 23, "text": " för barnen."}
            ]),
        )
        .await?;
        assert_eq!(edited["text"], "Skolan är mycket viktig för barnen.");

        let shares = attribution(&app, &owner, &doc).await?;
        assert_eq!(
            paragraph(&shares, 0),
            [("miljo".to_owned(), 19), ("utbildning".to_owned(), 16)]
        );
        assert_eq!(shares["paragraphs"][0]["characters"], 35);
        assert_eq!(shares["characters"], 35);
        assert_eq!(shares["unattributed"], 0);
        assert_eq!(totals(&shares, "miljo"), Some((19, 1)));
        assert_eq!(totals(&shares, "utbildning"), Some((16, 0)));

        // A viewer may read it; someone without a role may not.
        app.set_role(&owner, &doc, "kultur", "viewer").await?;
        attribution(&app, &app.token("kim", "kultur"), &doc).await?;
        let path = format!("/api/documents/{doc}/attribution");
        let (status, _) = call(
            &app,
            reqwest::Method::GET,
            &path,
            &app.token("x", "okand"),
            None,
        )
        .await?;
        assert_eq!(status, 403);

        // The förankringsrapport gives each organisation's share of the text.
        let path = format!("/api/documents/{doc}/report");
        let (status, report) = call(&app, reqwest::Method::GET, &path, &owner, None).await?;
        assert_eq!(status, 200, "{report}");
        let orgs = &report["textShares"]["organisations"];
        assert_eq!(orgs[0]["org"], "miljo");
        assert_eq!(orgs[0]["kept"], 19);
        assert_eq!(report["textShares"]["characters"], 35);
        let (status, markdown) = app
            .get_text(&owner, &format!("{path}?format=markdown"))
            .await?;
        assert_eq!(status, 200);
        assert!(markdown.contains("## Andel av texten"), "{markdown}");
        assert!(
            markdown.contains("19 tecken (54 %), 1 borttaget"),
            "{markdown}"
        );
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    deletions_stay_attributed_after_compaction_and_a_restart,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let (owner, doc) = shared_draft(&app).await?;
        let eva = app.token("eva", "utbildning");
        let bo = app.token("bo", "miljo");
        node_writes(
            &app,
            &doc,
            &eva,
            None,
            json!([{"op": "append", "text": "Första stycket skrivs av utbildning."}]),
        )
        .await?;
        node_writes(
            &app,
            &doc,
            &bo,
            None,
            json!([
                {"op": "delete", "paragraph": 0, "at": 0, "len": 7},
                {"op": "insert", "paragraph": 0, "at": 0, "text": "Ett "}
            ]),
        )
        .await?;
        let before = attribution(&app, &owner, &doc).await?;
        assert_eq!(totals(&before, "miljo"), Some((4, 7)));
        assert_eq!(totals(&before, "utbildning"), Some((29, 0)));

        // Shutting down compacts every open room: the log is folded into a snapshot
        // that no longer holds the deleted text.
        let db = app.stop().await?;
        let app = TestApp::spawn_on(db, |_| {}).await?;
        let (log_rows, deletion_rows) = forankra::on_pool!(&app.state.db, pool => {
            let (log,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM document_updates WHERE doc_id = $1")
                .bind(&doc).fetch_one(pool).await?;
            let (deletions,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM document_deletions WHERE doc_id = $1")
                .bind(&doc).fetch_one(pool).await?;
            Ok::<_, anyhow::Error>((log, deletions))
        })?;
        assert_eq!(log_rows, 0, "the log was compacted");
        assert_eq!(deletion_rows, 1, "Bo's one deleting update");

        let after = attribution(&app, &owner, &doc).await?;
        assert_eq!(after, before);
        assert_eq!(
            paragraph(&after, 0),
            [("utbildning".to_owned(), 29), ("miljo".to_owned(), 4)]
        );
        // And the bindings came back with the document: Bo still cannot write as Eva.
        let eva_id = forankra::on_pool!(&app.state.db, pool => {
            let (id,): (i64,) = sqlx::query_as(
                "SELECT client_id FROM document_authors WHERE doc_id = $1 AND user_id = 'eva'",
            )
            .bind(&doc).fetch_one(pool).await?;
            Ok::<_, anyhow::Error>(id)
        })?;
        let forged = node_edit(
            &app,
            &doc,
            &bo,
            Some(eva_id as u64),
            json!([{"op": "append", "text": "Som Eva."}]),
        )
        .await?;
        assert_eq!(forged["closeCode"], FOREIGN_CLIENT_ID, "{forged}");
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    the_journal_refuses_an_append_binding_another_users_client_id,
    |backend| async move {
        use axum::body::Bytes;
        use forankra::ids::{DocId, OrgId, UserId};
        use forankra::storage::StoreError;
        use forankra::storage::authorship::{self, Authored};

        // What two nodes binding one client id at once come to: the journal, checking
        // under the document's row lock, stores the first and refuses all of the second.
        let app = TestApp::spawn(backend).await?;
        let (_, doc) = shared_draft(&app).await?;
        let doc = DocId::parse(doc)?;
        let by = |user: &str, org: &str, binds: Vec<u64>, deletes: Option<Vec<u8>>| Authored {
            user: UserId::parse(user).expect("user"),
            org: OrgId::parse(org).expect("org"),
            binds,
            deletes,
        };
        let empty = || Bytes::from_static(&[0, 0]);
        let journal = &app.state.journal;
        let head = journal
            .submit_append(
                doc.clone(),
                vec![empty()],
                vec![by("eva", "utbildning", vec![77], None)],
            )
            .await?
            .await??;
        let refused = journal
            .submit_append(
                doc.clone(),
                vec![empty(), empty()],
                vec![
                    by("bo", "miljo", vec![88], None),
                    by("bo", "miljo", vec![77], Some(vec![1, 2, 3])),
                ],
            )
            .await?
            .await?;
        match refused {
            Err(StoreError::ClientIdTaken {
                index,
                client,
                owner,
                owner_org,
            }) => {
                assert_eq!((index, client), (1, 77));
                assert_eq!((owner.as_str(), owner_org.as_str()), ("eva", "utbildning"));
            }
            other => bail!("expected ClientIdTaken, got {other:?}"),
        }
        // Nothing of the refused append was stored: no entry, no position, no deletion.
        let stored = journal.load(&doc).await?.context("the document")?;
        assert_eq!(stored.head_seq, head);
        assert_eq!(stored.updates.len(), 1);
        assert!(authorship::deletions(&app.state.db, &doc).await?.is_empty());
        let owners: Vec<(u64, String)> = stored
            .bindings
            .iter()
            .map(|b| (b.client(), b.user_id.as_str().to_owned()))
            .collect();
        assert_eq!(owners, [(77, "eva".to_owned())]);

        // Under an id of his own, Bo's deleting update is stored with its deletion.
        let head = journal
            .submit_append(
                doc.clone(),
                vec![empty()],
                vec![by("bo", "miljo", vec![88], Some(vec![1, 2, 3]))],
            )
            .await?
            .await??;
        let deletions = authorship::deletions(&app.state.db, &doc).await?;
        assert_eq!(deletions.len(), 1);
        assert_eq!(deletions[0].seq, head);
        assert_eq!(deletions[0].org_id.as_str(), "miljo");
        assert_eq!(deletions[0].delete_set, [1, 2, 3]);
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    the_client_ids_of_a_document_name_their_organisations_a_page_at_a_time,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let (owner, doc) = shared_draft(&app).await?;
        let eva = app.token("eva", "utbildning");
        let bo = app.token("bo", "miljo");
        for (token, client, text) in [
            (&eva, 30, "Utbildningens första rad."),
            (&bo, 20, "Miljöns rad."),
            (&eva, 10, "Utbildningens andra rad."),
        ] {
            node_writes(
                &app,
                &doc,
                token,
                Some(client),
                json!([{"op": "append", "text": text}]),
            )
            .await?;
        }
        let path = format!("/api/documents/{doc}/attribution/clients");
        let (status, all) = call(&app, reqwest::Method::GET, &path, &owner, None).await?;
        assert_eq!(status, 200, "{all}");
        let clients: Vec<(i64, String)> = all["clients"]
            .as_array()
            .context("clients")?
            .iter()
            .map(|c| {
                (
                    c["clientId"].as_i64().unwrap_or(-1),
                    c["org"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            clients,
            [
                (10, "utbildning".to_owned()),
                (20, "miljo".to_owned()),
                (30, "utbildning".to_owned())
            ]
        );
        assert!(all["clients"][0]["orgName"].is_string(), "{all}");
        assert!(all.get("nextAfter").is_none(), "{all}");

        // Two at a time: the second page starts after the first page's last id.
        let (_, first) = call(
            &app,
            reqwest::Method::GET,
            &format!("{path}?limit=2"),
            &owner,
            None,
        )
        .await?;
        assert_eq!(first["clients"].as_array().map(Vec::len), Some(2));
        assert_eq!(first["nextAfter"], 20, "{first}");
        let (_, second) = call(
            &app,
            reqwest::Method::GET,
            &format!("{path}?limit=2&after=20"),
            &owner,
            None,
        )
        .await?;
        assert_eq!(second["clients"][0]["clientId"], 30, "{second}");
        assert!(second.get("nextAfter").is_none(), "{second}");

        // Hostile paging is refused; a viewer may read it, an outsider may not.
        for bad in ["limit=0", "limit=1001", "after=x", "sort=1"] {
            let (status, body) = call(
                &app,
                reqwest::Method::GET,
                &format!("{path}?{bad}"),
                &owner,
                None,
            )
            .await?;
            assert_eq!(status, 400, "{bad}: {body}");
        }
        app.set_role(&owner, &doc, "kultur", "viewer").await?;
        let (status, _) = call(
            &app,
            reqwest::Method::GET,
            &path,
            &app.token("kim", "kultur"),
            None,
        )
        .await?;
        assert_eq!(status, 200);
        let (status, _) = call(
            &app,
            reqwest::Method::GET,
            &path,
            &app.token("x", "okand"),
            None,
        )
        .await?;
        assert_eq!(status, 403);
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    a_group_commit_across_documents_numbers_each_documents_updates_and_deletions,
    |backend| async move {
        use axum::body::Bytes;
        use forankra::ids::{DocId, OrgId, UserId};
        use forankra::storage::StoreError;
        use forankra::storage::authorship::{self, Authored};

        // Appends to two documents and to one that does not exist, queued before any
        // is answered so that they can share one commit: each document's rows follow
        // its own head, each deletion keeps its update's number, and the missing
        // document is refused without taking the others with it.
        let app = TestApp::spawn(backend).await?;
        let (_, first) = shared_draft(&app).await?;
        let (_, second) = shared_draft(&app).await?;
        let (first, second) = (DocId::parse(first)?, DocId::parse(second)?);
        let missing = DocId::parse("no-such-document")?;
        let journal = &app.state.journal;
        let head_of = |doc: DocId| async move {
            let stored = journal.load(&doc).await?.context("the document")?;
            Ok::<_, anyhow::Error>(stored.head_seq)
        };
        let (first_before, second_before) = (
            head_of(first.clone()).await?,
            head_of(second.clone()).await?,
        );
        let by = |deletes: Option<Vec<u8>>| Authored {
            user: UserId::parse("eva").expect("user"),
            org: OrgId::parse("utbildning").expect("org"),
            binds: Vec::new(),
            deletes,
        };
        let empty = || Bytes::from_static(&[0, 0]);
        let to_first = journal
            .submit_append(
                first.clone(),
                vec![empty(), empty(), empty()],
                vec![by(None), by(Some(vec![7])), by(None)],
            )
            .await?;
        let to_missing = journal
            .submit_append(missing, vec![empty()], vec![by(Some(vec![9]))])
            .await?;
        let to_second = journal
            .submit_append(
                second.clone(),
                vec![empty(), empty()],
                vec![by(Some(vec![8])), by(Some(vec![6]))],
            )
            .await?;
        assert_eq!(to_first.await??, first_before + 3);
        assert!(matches!(to_missing.await?, Err(StoreError::NoSuchDocument)));
        assert_eq!(to_second.await??, second_before + 2);

        for (doc, before, appended, expected) in [
            (&first, first_before, 3, vec![(first_before + 2, vec![7])]),
            (
                &second,
                second_before,
                2,
                vec![(second_before + 1, vec![8]), (second_before + 2, vec![6])],
            ),
        ] {
            let stored = journal.load(doc).await?.context("the document")?;
            let seqs: Vec<i64> = stored
                .updates
                .iter()
                .map(|(seq, _)| *seq)
                .filter(|s| *s > before)
                .collect();
            assert_eq!(
                seqs,
                ((before + 1)..=(before + appended)).collect::<Vec<_>>()
            );
            let deletions: Vec<(i64, Vec<u8>)> = authorship::deletions(&app.state.db, doc)
                .await?
                .into_iter()
                .filter(|d| d.seq > before)
                .map(|d| (d.seq, d.delete_set))
                .collect();
            assert_eq!(deletions, expected);
        }
        Ok::<_, anyhow::Error>(())
    }
);
