//! Headless administration (issue 15): `forankra org …` and `forankra user …` run as the
//! real binary against the database a server uses, and what they change reaches that
//! running server: a password set on the command line logs in, a disabled user's
//! sockets close and their tokens stop working at once.

use std::process::Output;

use anyhow::{Context, Result, bail, ensure};
use reqwest::StatusCode;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::time::{Instant, timeout};

use crate::both_dbs;
use crate::helpers::{Backend, TestApp, TestDb, WAIT, WsClient, binary_path};

/// Runs `forankra ARGS --database-url URL`, writing `stdin` to its standard input.
async fn forankra(db_url: &str, args: &[&str], stdin: &str) -> Result<Output> {
    let mut child = tokio::process::Command::new(binary_path()?)
        .args(args)
        .args(["--database-url", db_url])
        .env_remove("DATABASE_URL")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let mut input = child.stdin.take().context("stdin")?;
    input.write_all(stdin.as_bytes()).await?;
    drop(input);
    Ok(timeout(WAIT, child.wait_with_output()).await??)
}

/// As [`forankra`], failing unless the command succeeds; returns its standard output.
async fn ok(db_url: &str, args: &[&str], stdin: &str) -> Result<String> {
    let output = forankra(db_url, args, stdin).await?;
    ensure!(
        output.status.success(),
        "forankra {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8(output.stdout)?)
}

/// As [`forankra`], failing unless the command is refused; returns its error text.
async fn refused(db_url: &str, args: &[&str], stdin: &str) -> Result<String> {
    let output = forankra(db_url, args, stdin).await?;
    ensure!(!output.status.success(), "forankra {args:?} succeeded");
    Ok(String::from_utf8(output.stderr)?)
}

async fn login(app: &TestApp, username: &str, password: &str) -> Result<reqwest::Response> {
    Ok(app
        .http
        .post(app.url("/api/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await?)
}

/// Waits until `GET /api/me` with `token` answers `expected` (the node rereads ended
/// sign-ins on its recheck interval).
async fn me_answers(app: &TestApp, token: &str, expected: StatusCode) -> Result<()> {
    let deadline = Instant::now() + WAIT;
    loop {
        let status = app
            .http
            .get(app.url("/api/me"))
            .bearer_auth(token)
            .send()
            .await?
            .status();
        if status == expected {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("/api/me still answers {status}, not {expected}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The time from now until the second after the one `at` fell in.
fn until_next_second(at: std::time::SystemTime) -> std::time::Duration {
    let since_epoch = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let next = std::time::UNIX_EPOCH + std::time::Duration::from_secs(since_epoch.as_secs() + 1);
    next.duration_since(std::time::SystemTime::now())
        .unwrap_or_default()
}

const PASSWORD: &str = "en lång lösenfras";

both_dbs!(
    org_and_user_commands_set_up_a_password_login,
    |backend| async move {
        let db = TestDb::fresh(backend).await?;
        let url = db.url.clone();
        let add = [
            "org",
            "add",
            "--org",
            "stadsledningskontoret",
            "--name",
            "SLK",
        ];
        ok(&url, &add, "").await?;
        let again = refused(&url, &add, "").await?;
        assert!(again.contains("already exists"), "{again}");
        ok(
            &url,
            &[
                "org",
                "rename",
                "--org",
                "stadsledningskontoret",
                "--name",
                "Stadsledningskontoret",
            ],
            "",
        )
        .await?;
        let orgs = ok(&url, &["org", "list"], "").await?;
        assert_eq!(orgs, "stadsledningskontoret\tStadsledningskontoret\n");
        let issuer = "https://login.stad.example";
        let map = [
            "org",
            "map",
            "--provider",
            issuer,
            "--value",
            "SLK",
            "--org",
            "stadsledningskontoret",
        ];
        ok(&url, &map, "").await?;
        let mappings = ok(&url, &["org", "mappings"], "").await?;
        assert_eq!(mappings, format!("{issuer}\tSLK\tstadsledningskontoret\n"));
        let unmap = ["org", "unmap", "--provider", issuer, "--value", "SLK"];
        ok(&url, &unmap, "").await?;
        assert_eq!(ok(&url, &["org", "mappings"], "").await?, "");
        let gone = refused(&url, &unmap, "").await?;
        assert!(gone.contains("no mapping"), "{gone}");

        let anna = [
            "user",
            "add",
            "--user",
            "anna",
            "--name",
            "Anna Lind",
            "--org",
            "stadsledningskontoret",
            "--email",
            "anna.lind@stad.example.se",
        ];
        let short = refused(&url, &anna, "kort\n").await?;
        assert!(short.contains("at least 10 characters"), "{short}");
        let mut elsewhere = anna;
        elsewhere[7] = "okand";
        let unknown = refused(&url, &elsewhere, "").await?;
        assert!(unknown.contains("no organisation `okand`"), "{unknown}");
        ok(&url, &anna, &format!("{PASSWORD}\n")).await?;
        ok(&url, &["user", "make-admin", "anna"], "").await?;

        let app = TestApp::spawn_on(db, |_| {}).await?;
        // The commands' changes are in the administration log, by the command line.
        let log = app.state.db.admin_log(100).await?;
        let actions: Vec<&str> = log.iter().rev().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "org.added",
                "org.renamed",
                "mapping.set",
                "mapping.removed",
                "user.added",
                "user.admin_granted"
            ]
        );
        assert!(log.iter().all(|e| e.actor.is_none()));
        assert_eq!(login(&app, "anna", "fel lösenord!").await?.status(), 401);
        let response = login(&app, "anna", PASSWORD).await?;
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await?;
        assert_eq!(body["user"]["orgName"], "Stadsledningskontoret");

        let users = ok(&url, &["user", "list"], "").await?;
        let row: Vec<&str> = users
            .lines()
            .nth(1)
            .context("no user listed")?
            .split('\t')
            .collect();
        assert_eq!(
            row[..6],
            [
                "anna",
                "Anna Lind",
                "anna.lind@stad.example.se",
                "stadsledningskontoret",
                "yes",
                "yes"
            ]
        );
        assert_ne!(row[6], "-", "the sign-in is recorded: {users}");

        // The administrator resets the password: the old one stops working.
        ok(
            &url,
            &["user", "set-password", "anna"],
            "ett helt nytt lösenord\n",
        )
        .await?;
        assert_eq!(login(&app, "anna", PASSWORD).await?.status(), 401);
        assert_eq!(
            login(&app, "anna", "ett helt nytt lösenord")
                .await?
                .status(),
            200
        );
        let missing = refused(&url, &["user", "set-password", "anna"], "").await?;
        assert!(missing.contains("empty"), "{missing}");

        // She changes it herself: the current one is checked, the new one too.
        let body: serde_json::Value = login(&app, "anna", "ett helt nytt lösenord")
            .await?
            .json()
            .await?;
        let token = body["token"].as_str().context("token")?.to_owned();
        let change = |current: &'static str, new: &'static str| {
            app.http
                .put(app.url("/api/me/password"))
                .bearer_auth(&token)
                .json(&json!({"currentPassword": current, "newPassword": new}))
                .send()
        };
        assert_eq!(change("fel", "mitt eget lösenord").await?.status(), 401);
        assert_eq!(
            change("ett helt nytt lösenord", "kort").await?.status(),
            422
        );
        let changed = change("ett helt nytt lösenord", "mitt eget lösenord").await?;
        assert_eq!(changed.status(), 200);
        let fresh: serde_json::Value = changed.json().await?;
        let fresh = fresh["token"].as_str().context("fresh token")?;
        me_answers(&app, fresh, StatusCode::OK).await?;
        assert_eq!(
            login(&app, "anna", "ett helt nytt lösenord")
                .await?
                .status(),
            401
        );
        assert_eq!(
            login(&app, "anna", "mitt eget lösenord").await?.status(),
            200
        );
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    disabling_a_user_ends_their_sign_ins_and_sockets,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let url = app.db.url.clone();
        let anna = app.token("anna", "stadsledningskontoret");
        let issued = std::time::SystemTime::now();
        let bo = app.token("bo", "stadsledningskontoret");
        let doc = app.create_doc(&anna, "Avstängd", Some("Start")).await?;
        let mut annas = WsClient::connect(&app.ws_url(&doc, &anna)).await?;
        let mut bos = WsClient::connect(&app.ws_url(&doc, &bo)).await?;

        // Tokens carry whole seconds (`iat`): one from the second the sign-ins end
        // stays good, so end them in a later second than the token's.
        tokio::time::sleep(until_next_second(issued)).await;
        ok(&url, &["user", "disable", "anna"], "").await?;
        let (code, reason) = annas.expect_close().await?;
        assert_eq!(code, 4403, "{reason}");
        me_answers(&app, &anna, StatusCode::UNAUTHORIZED).await?;
        let mut again = WsClient::connect_unsynced(&app.ws_url(&doc, &anna)).await?;
        let (code, reason) = again.expect_close().await?;
        assert_eq!(code, 4401, "{reason}");
        assert!(reason.contains("disabled"), "{reason}");

        // Her colleague in the same organisation goes on editing.
        bos.append_paragraph("Bo skriver vidare").await?;
        bos.wait_for(|c| c.paragraphs().len() == 2).await?;
        let status = app
            .http
            .get(app.url(&format!("/api/documents/{doc}")))
            .bearer_auth(&bo)
            .send()
            .await?
            .status();
        assert_eq!(status, 200);

        // Enabled again, she signs in anew: the token from before stays ended, a new
        // one works.
        ok(&url, &["user", "enable", "anna"], "").await?;
        let users = ok(&url, &["user", "list"], "").await?;
        assert!(
            users.contains("anna\tanna i stadsledningskontoret\t-\tstadsledningskontoret\tyes\tno"),
            "{users}"
        );
        let fresh = app.token("anna", "stadsledningskontoret");
        me_answers(&app, &fresh, StatusCode::OK).await?;
        me_answers(&app, &anna, StatusCode::UNAUTHORIZED).await?;
        let unknown = refused(&url, &["user", "disable", "nobody"], "").await?;
        assert!(unknown.contains("no user `nobody`"), "{unknown}");
        Ok::<_, anyhow::Error>(())
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_is_never_taken_from_an_argument() -> Result<()> {
    let db = TestDb::fresh(Backend::Sqlite).await?;
    let refused = refused(&db.url, &["user", "set-password", "anna", "hemligt123"], "").await?;
    assert!(refused.contains("unexpected argument"), "{refused}");
    Ok(())
}
