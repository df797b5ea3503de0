//! Every token defect is refused, over HTTP (401) and over the WebSocket (close 4401).

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::SecretString;
use serde_json::json;

use crate::both_dbs;
use crate::helpers::*;
use forankra::config::JwtConfig;

const SECRET: &str = "the-servers-own-secret";

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn claims(exp: u64) -> serde_json::Value {
    json!({ "sub": "anna", "name": "Anna", "org": "stadsledningskontoret", "iat": now(), "exp": exp })
}

fn sign(alg: Algorithm, key: &EncodingKey, claims: &serde_json::Value) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, key).expect("sign")
}

fn unsigned(claims: &serde_json::Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    format!("{header}.{body}.")
}

fn tampered(token: &str) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut forged = claims(now() + 600);
    forged["org"] = json!("someone-else");
    parts[1] = URL_SAFE_NO_PAD.encode(forged.to_string());
    parts.join(".")
}

/// Every defect, named, for one server secret.
fn defects() -> Vec<(&'static str, String)> {
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    let good = sign(Algorithm::HS256, &key, &claims(now() + 600));
    let mut missing_org = claims(now() + 600);
    missing_org.as_object_mut().map(|o| o.remove("org"));
    // Signed right and unexpired, but valid only from an hour on (issue 13: `nbf` ignored).
    let mut not_yet = claims(now() + 7200);
    not_yet["nbf"] = json!(now() + 3600);
    vec![
        ("missing", String::new()),
        ("garbage", "not.a.jwt".to_owned()),
        (
            "expired",
            sign(Algorithm::HS256, &key, &claims(now() - 3600)),
        ),
        ("alg none", unsigned(&claims(now() + 600))),
        (
            "wrong algorithm (HS512)",
            sign(Algorithm::HS512, &key, &claims(now() + 600)),
        ),
        ("tampered", tampered(&good)),
        (
            "wrong key",
            sign(
                Algorithm::HS256,
                &EncodingKey::from_secret(b"another secret"),
                &claims(now() + 600),
            ),
        ),
        (
            "missing org claim",
            sign(Algorithm::HS256, &key, &missing_org),
        ),
        (
            "not valid yet (nbf)",
            sign(Algorithm::HS256, &key, &not_yet),
        ),
    ]
}

both_dbs!(every_token_defect_is_refused, |backend| async move {
    let app = TestApp::spawn_with(backend, |c| {
        c.jwt = JwtConfig::Hs256(Some(SecretString::from(SECRET)))
    })
    .await?;
    let good = app.token("anna", "stadsledningskontoret");
    let doc = app
        .create_doc(&good, "Skyddat", Some("Hemligt utkast"))
        .await?;
    for (defect, token) in defects() {
        let response = app
            .http
            .get(app.url("/api/documents"))
            .bearer_auth(&token)
            .send()
            .await?;
        assert_eq!(response.status(), 401, "HTTP with {defect}");
        let body: serde_json::Value = response.json().await?;
        assert_eq!(body["error"], "unauthorized", "{defect}");
        let mut client = WsClient::connect_unsynced(&app.ws_url(&doc, &token)).await?;
        let (code, reason) = client.expect_close().await?;
        assert_eq!(code, 4401, "WebSocket with {defect}: {reason}");
        assert!(client.paragraphs().is_empty(), "{defect} must see nothing");
    }
    // No header at all.
    assert_eq!(
        app.http
            .get(app.url("/api/documents"))
            .send()
            .await?
            .status(),
        401
    );
    // And the good token works, so the refusals above were about the defects.
    let client = WsClient::connect(&app.ws_url(&doc, &good)).await?;
    assert_eq!(client.paragraphs(), vec!["Hemligt utkast"]);
    Ok::<_, anyhow::Error>(())
});

both_dbs!(
    an_identity_providers_rs256_tokens_are_accepted_and_confusion_refused,
    |backend| async move {
        let public_pem = include_bytes!("../fixtures/idp-test-public.pem").to_vec();
        let private_pem = include_bytes!("../fixtures/idp-test-private.pem");
        let app = TestApp::spawn_with(backend, |c| {
            c.jwt = JwtConfig::Rs256 {
                public_pem: public_pem.clone(),
                private_pem: None,
            }
        })
        .await?;
        let rsa = EncodingKey::from_rsa_pem(private_pem)?;
        let token = sign(Algorithm::RS256, &rsa, &claims(now() + 600));
        let me = app
            .http
            .get(app.url("/api/me"))
            .bearer_auth(&token)
            .send()
            .await?;
        assert_eq!(me.status(), 200);
        let doc = app.create_doc(&token, "Från IdP", Some("Text")).await?;
        WsClient::connect(&app.ws_url(&doc, &token)).await?;

        // HS256 signed with the public key as the secret: the classic algorithm confusion.
        let confused = sign(
            Algorithm::HS256,
            &EncodingKey::from_secret(&public_pem),
            &claims(now() + 600),
        );
        let response = app
            .http
            .get(app.url("/api/me"))
            .bearer_auth(&confused)
            .send()
            .await?;
        assert_eq!(response.status(), 401);
        let mut client = WsClient::connect_unsynced(&app.ws_url(&doc, &confused)).await?;
        assert_eq!(client.expect_close().await?.0, 4401);

        // This server signs nothing itself, so password login is off, with a clear message.
        let login = app
            .http
            .post(app.url("/api/login"))
            .json(&json!({"username": "a", "password": "b"}))
            .send()
            .await?;
        assert_eq!(login.status(), 400);
        assert!(login.text().await?.contains("identity provider"));
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(password_login_gives_a_working_token, |backend| async move {
    let app = TestApp::spawn(backend).await?;
    let user = forankra::ids::UserId::parse("leila")?;
    let org = forankra::ids::OrgId::parse("arbetsmarknadsforvaltningen")?;
    app.state
        .db
        .upsert_org(&org, "Arbetsmarknadsförvaltningen")
        .await?;
    app.state
        .db
        .ensure_user(&user, "Leila Haddad", &org)
        .await?;
    let hash = forankra::auth::password::hash_password("Jobbtorg 16–29 år".into()).await?;
    app.state.db.set_login(&user, "leila.haddad", &hash).await?;

    for (username, password) in [("leila.haddad", "fel"), ("ingen", "Jobbtorg 16–29 år")] {
        let response = app
            .http
            .post(app.url("/api/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await?;
        assert_eq!(response.status(), 401, "{username}");
    }
    let response = app
        .http
        .post(app.url("/api/login"))
        .json(&json!({"username": "leila.haddad", "password": "Jobbtorg 16–29 år"}))
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await?;
    assert_eq!(body["user"]["orgName"], "Arbetsmarknadsförvaltningen");
    let token = body["token"].as_str().unwrap_or_default();
    let me: serde_json::Value = app
        .http
        .get(app.url("/api/me"))
        .bearer_auth(token)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(me["name"], "Leila Haddad");
    Ok::<_, anyhow::Error>(())
});

/// Runs the binary's `token` subcommand; returns the last line of its output.
async fn cli_token(db_url: &str, user: &str, org: &str) -> anyhow::Result<String> {
    let output = tokio::process::Command::new(binary_path()?)
        .args([
            "token",
            "--user",
            user,
            "--name",
            "Anna Lind",
            "--org",
            org,
            "--ttl",
            "2h",
        ])
        .args(["--database-url", db_url])
        .env_remove("FORANKRA_JWT_SECRET")
        .output()
        .await?;
    anyhow::ensure!(
        output.status.success(),
        "token failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout)?;
    Ok(stdout.lines().last().unwrap_or_default().trim().to_owned())
}

both_dbs!(
    the_token_command_makes_tokens_the_server_accepts_across_restarts,
    |backend| async move {
        let db = TestDb::fresh(backend).await?;
        let token = cli_token(&db.url, "anna", "utbildningsforvaltningen").await?;
        assert_eq!(token.split('.').count(), 3, "{token}");
        // No --jwt-secret: the server and the command share the secret kept in the database.
        let server = ProcessServer::start_without_secret(&db.url).await?;
        let http = reqwest::Client::new();
        let me: serde_json::Value = http
            .get(server.url("/api/me"))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        assert_eq!(me["org"], "utbildningsforvaltningen");
        server.kill().await?;
        let server = ProcessServer::start_without_secret(&db.url).await?;
        let again = http
            .get(server.url("/api/me"))
            .bearer_auth(&token)
            .send()
            .await?;
        assert_eq!(again.status(), 200, "a token survives a restart");
        server.kill().await?;
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    rotating_the_stored_secret_retires_every_earlier_token,
    |backend| async move {
        let db = TestDb::fresh(backend).await?;
        let old = cli_token(&db.url, "anna", "utbildningsforvaltningen").await?;
        let rotated = tokio::process::Command::new(binary_path()?)
            .args(["rotate-secret", "--database-url", &db.url])
            .output()
            .await?;
        anyhow::ensure!(
            rotated.status.success(),
            "rotate-secret failed: {}",
            String::from_utf8_lossy(&rotated.stderr)
        );
        let new = cli_token(&db.url, "anna", "utbildningsforvaltningen").await?;
        let server = ProcessServer::start_without_secret(&db.url).await?;
        let http = reqwest::Client::new();
        for (token, expected) in [(&old, 401), (&new, 200)] {
            let status = http
                .get(server.url("/api/me"))
                .bearer_auth(token)
                .send()
                .await?
                .status();
            assert_eq!(status, expected);
        }
        server.kill().await?;
        Ok::<_, anyhow::Error>(())
    }
);
