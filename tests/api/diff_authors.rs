//! Who made each change of a version diff (issue 16): two organisations co-edit the
//! owners' draft with real npm Yjs clients between two named versions, and the diff
//! names, for every inserted and deleted run and every added and removed paragraph, the
//! organisation that wrote or deleted it, the same after compaction and a restart.

use anyhow::{Context, Result, bail};
use forankra::ids::OrgId;
use reqwest::Method;
use serde_json::{Value, json};

use crate::authorship::node_writes;
use crate::both_dbs;
use crate::helpers::*;

async fn save_version(app: &TestApp, token: &str, doc: &str, name: &str) -> Result<String> {
    let path = format!("/api/documents/{doc}/versions");
    let (status, version) = call(
        app,
        Method::POST,
        &path,
        token,
        Some(json!({ "name": name })),
    )
    .await?;
    if status != 201 {
        bail!("save version: {status} {version}");
    }
    version["id"]
        .as_str()
        .map(str::to_owned)
        .context("a version id")
}

async fn diff(app: &TestApp, token: &str, doc: &str, from: &str, to: &str) -> Result<Value> {
    let path = format!("/api/documents/{doc}/versions/diff?from={from}&to={to}");
    let (status, diff) = call(app, Method::GET, &path, token, None).await?;
    if status != 200 {
        bail!("diff: {status} {diff}");
    }
    Ok(diff)
}

/// The organisations in an `insertedBy`/`deletedBy` list (`"?"` for unknown).
fn orgs(authors: &Value) -> Vec<String> {
    authors
        .as_array()
        .map(|list| {
            list.iter()
                .map(|a| a["org"].as_str().unwrap_or("?").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The one word run of `paragraph` with operation `op` whose text contains `text`.
fn run<'a>(paragraph: &'a Value, op: &str, text: &str) -> Result<&'a Value> {
    paragraph["words"]
        .as_array()
        .and_then(|runs| {
            runs.iter()
                .find(|r| r["op"] == op && r["text"].as_str().is_some_and(|t| t.contains(text)))
        })
        .with_context(|| format!("no {op} run with {text:?} in {paragraph}"))
}

both_dbs!(
    the_diff_names_who_inserted_and_deleted_each_change,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        for (org, name) in [
            ("stadsledningskontoret", "Stadsledningskontoret"),
            ("utbildning", "Utbildningsförvaltningen"),
            ("miljo", "Miljöförvaltningen"),
        ] {
            app.state.db.upsert_org(&OrgId::parse(org)?, name).await?;
        }
        let owner = app.token("anna", "stadsledningskontoret");
        let doc = app.create_doc(&owner, "Skolprogram", None).await?;
        for org in ["utbildning", "miljo"] {
            app.set_role(&owner, &doc, org, "editor").await?;
        }
        let eva = app.token("eva", "utbildning");
        let bo = app.token("bo", "miljo");

        node_writes(
            &app,
            &doc,
            &owner,
            None,
            json!([
                {"op": "append", "text": "Skolan är viktig."},
                {"op": "append", "text": "Ett stycke om parker."},
                {"op": "append", "text": "Stycket som stryks."}
            ]),
        )
        .await?;
        let v1 = save_version(&app, &owner, &doc, "Remissversion").await?;

        // Utbildning strikes the third paragraph, adds words to the first and a
        // paragraph of its own.
        let edited = node_writes(
            &app,
            &doc,
            &eva,
            None,
            json!([
                {"op": "delete", "paragraph": 2, "at": 0, "len": 19},
                {"op": "insert", "paragraph": 0, "at": 7, "text": "och förskolan "},
                {"op": "append", "text": "Utbildningens nya stycke."}
            ]),
        )
        .await?;
        assert_eq!(
            edited["text"]
                .as_str()
                .map(|t| t.starts_with("Skolan och förskolan är viktig.")),
            Some(true),
            "{edited}"
        );
        // Miljö replaces "viktig" by "central" and "parker" by "torg".
        node_writes(
            &app,
            &doc,
            &bo,
            None,
            json!([
                {"op": "delete", "paragraph": 0, "at": 24, "len": 6},
                {"op": "insert", "paragraph": 0, "at": 24, "text": "central"},
                {"op": "delete", "paragraph": 1, "at": 14, "len": 6},
                {"op": "insert", "paragraph": 1, "at": 14, "text": "torg"}
            ]),
        )
        .await?;
        // And the owners add a line of their own.
        node_writes(
            &app,
            &doc,
            &owner,
            None,
            json!([{"op": "append", "text": "Ägarnas tillägg."}]),
        )
        .await?;
        let v2 = save_version(&app, &owner, &doc, "Efter beredningen").await?;

        let between = diff(&app, &owner, &doc, &v1, &v2).await?;
        let paragraphs = between["paragraphs"].as_array().context("paragraphs")?;
        let changes: Vec<&str> = paragraphs
            .iter()
            .map(|p| p["change"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(
            changes,
            ["changed", "changed", "removed", "added", "added"],
            "{between}"
        );
        let first = &paragraphs[0];
        assert_eq!(first["after"], "Skolan och förskolan är central.");
        let added = run(first, "insert", "förskolan")?;
        assert_eq!(orgs(&added["insertedBy"]), ["utbildning"], "{first}");
        assert_eq!(
            added["insertedBy"][0]["orgName"],
            "Utbildningsförvaltningen"
        );
        assert_eq!(added["insertedBy"][0]["users"][0]["id"], "eva");
        assert_eq!(added["deletedBy"], Value::Null);
        let struck = run(first, "delete", "viktig")?;
        assert_eq!(orgs(&struck["deletedBy"]), ["miljo"], "{first}");
        assert_eq!(struck["deletedBy"][0]["orgName"], "Miljöförvaltningen");
        assert_eq!(struck["insertedBy"], Value::Null);
        assert_eq!(
            orgs(&run(first, "insert", "central")?["insertedBy"]),
            ["miljo"]
        );
        for equal in first["words"].as_array().into_iter().flatten() {
            if equal["op"] == "equal" {
                assert_eq!(
                    (&equal["insertedBy"], &equal["deletedBy"]),
                    (&Value::Null, &Value::Null)
                );
            }
        }
        let second = &paragraphs[1];
        assert_eq!(
            orgs(&run(second, "delete", "parker")?["deletedBy"]),
            ["miljo"]
        );
        assert_eq!(
            orgs(&run(second, "insert", "torg")?["insertedBy"]),
            ["miljo"]
        );
        assert_eq!(paragraphs[2]["before"], "Stycket som stryks.");
        assert_eq!(orgs(&paragraphs[2]["deletedBy"]), ["utbildning"]);
        assert_eq!(paragraphs[3]["after"], "Utbildningens nya stycke.");
        assert_eq!(orgs(&paragraphs[3]["insertedBy"]), ["utbildning"]);
        assert_eq!(paragraphs[4]["after"], "Ägarnas tillägg.");
        assert_eq!(
            orgs(&paragraphs[4]["insertedBy"]),
            ["stadsledningskontoret"]
        );

        // The live text says the same, for anyone who may read the draft.
        app.set_role(&owner, &doc, "kultur", "viewer").await?;
        let live = diff(&app, &app.token("kim", "kultur"), &doc, &v1, "current").await?;
        assert_eq!(live["paragraphs"], between["paragraphs"]);

        // Shutting down compacts the log; bindings and delete sets survive it.
        let db = app.stop().await?;
        let app = TestApp::spawn_on(db, |_| {}).await?;
        let log_rows = forankra::on_pool!(&app.state.db, pool => {
            let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM document_updates WHERE doc_id = $1")
                .bind(&doc).fetch_one(pool).await?;
            Ok::<_, anyhow::Error>(n)
        })?;
        assert_eq!(log_rows, 0, "the log was compacted");
        let after_restart = diff(&app, &owner, &doc, &v1, "current").await?;
        assert_eq!(after_restart["paragraphs"], between["paragraphs"]);
        Ok::<_, anyhow::Error>(())
    }
);
