//! The administration API (issue 15): `/api/admin/...` for server-wide administrators
//! only, each change visible in the next read and in the administration log, the rule
//! that the last active administrator stays one, and a user moved to another
//! organisation losing their open socket and their old token at once.

use anyhow::{Context, Result, ensure};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use forankra::auth::directory::NewUser;
use forankra::ids::{OrgId, UserId};

use crate::both_dbs;
use crate::helpers::{TestApp, WsClient};

const SLK: &str = "stadsledningskontoret";
const UBF: &str = "utbildningsforvaltningen";

/// Anna (an administrator) and Bo (not one) of the city office, and the education
/// department; answers their tokens.
async fn seeded(app: &TestApp) -> Result<(String, String)> {
    let db = &app.state.db;
    db.add_org(&OrgId::parse(SLK)?, "Stadsledningskontoret")
        .await?;
    db.add_org(&OrgId::parse(UBF)?, "Utbildningsförvaltningen")
        .await?;
    for (id, admin) in [("anna", true), ("bo", false)] {
        db.add_user(&NewUser {
            id: UserId::parse(id)?,
            name: format!("{id} i {SLK}"),
            org: OrgId::parse(SLK)?,
            email: None,
            admin,
            password_hash: None,
        })
        .await?;
    }
    Ok((app.token("anna", SLK), app.token("bo", SLK)))
}

/// One API call as `token` (none: anonymous); answers the status and the JSON body.
async fn call(
    app: &TestApp,
    token: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Result<(StatusCode, Value)> {
    let mut request = app.http.request(method, app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await?;
    let status = response.status();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

/// As [`call`], failing unless the answer is `expected`; answers the body.
async fn expect(
    app: &TestApp,
    token: &str,
    (method, path): (Method, &str),
    body: Option<Value>,
    expected: u16,
) -> Result<Value> {
    let (status, answer) = call(app, Some(token), method.clone(), path, body).await?;
    ensure!(
        status.as_u16() == expected,
        "{method} {path}: {status}, not {expected}: {answer}"
    );
    Ok(answer)
}

fn user<'a>(users: &'a Value, id: &str) -> Result<&'a Value> {
    users
        .as_array()
        .context("a list")?
        .iter()
        .find(|u| u["id"] == id)
        .with_context(|| format!("{id} not listed: {users}"))
}

/// Every administration route, with a body of the right shape.
fn every_route() -> Vec<(Method, &'static str, Option<Value>)> {
    let name = Some(json!({"name": "Namn"}));
    vec![
        (Method::GET, "/api/admin/organisations", None),
        (
            Method::POST,
            "/api/admin/organisations",
            Some(json!({"id": "ny", "name": "Ny"})),
        ),
        (Method::PUT, "/api/admin/organisations/ny", name.clone()),
        (Method::GET, "/api/admin/users", None),
        (
            Method::POST,
            "/api/admin/users",
            Some(json!({"id": "cia", "name": "Cia", "org": SLK})),
        ),
        (Method::PATCH, "/api/admin/users/bo", name),
        (
            Method::PUT,
            "/api/admin/users/bo/active",
            Some(json!({"active": false})),
        ),
        (
            Method::PUT,
            "/api/admin/users/bo/admin",
            Some(json!({"admin": true})),
        ),
        (
            Method::PUT,
            "/api/admin/users/bo/password",
            Some(json!({"password": "ett långt lösenord"})),
        ),
        (Method::GET, "/api/admin/providers", None),
        (Method::GET, "/api/admin/mappings", None),
        (
            Method::PUT,
            "/api/admin/mappings",
            Some(json!({"provider": "https://idp.example", "claimValue": "UBF", "org": UBF})),
        ),
        (
            Method::DELETE,
            "/api/admin/mappings?provider=https%3A%2F%2Fidp.example&claimValue=UBF",
            None,
        ),
        (Method::GET, "/api/admin/log", None),
    ]
}

both_dbs!(
    only_administrators_reach_the_admin_routes,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let (_, bo) = seeded(&app).await?;
        for (method, path, body) in every_route() {
            let (status, _) = call(&app, None, method.clone(), path, body.clone()).await?;
            assert_eq!(status, 401, "{method} {path} without a token");
            let (status, answer) = call(&app, Some(&bo), method.clone(), path, body).await?;
            assert_eq!(
                status, 403,
                "{method} {path} as a non-administrator: {answer}"
            );
        }
        // Nothing the refused calls asked for happened.
        let users = app.state.db.users().await?;
        assert!(
            users
                .iter()
                .all(|u| u.id != "cia" && u.is_admin == (u.id == "anna") as i64)
        );
        assert!(app.state.db.admin_log(10).await?.is_empty());
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    an_administrator_keeps_organisations_users_and_mappings,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let (anna, _) = seeded(&app).await?;
        let orgs = (Method::GET, "/api/admin/organisations");
        let users = (Method::GET, "/api/admin/users");

        // Organisations: add, refuse a taken id, rename.
        let kultur = json!({"id": "kultur", "name": "Kulturförvaltningen"});
        let added = expect(
            &app,
            &anna,
            (Method::POST, "/api/admin/organisations"),
            Some(kultur.clone()),
            201,
        )
        .await?;
        assert_eq!(added["id"], "kultur");
        expect(
            &app,
            &anna,
            (Method::POST, "/api/admin/organisations"),
            Some(kultur),
            409,
        )
        .await?;
        let rename = (Method::PUT, "/api/admin/organisations/kultur");
        expect(
            &app,
            &anna,
            rename.clone(),
            Some(json!({"name": "Kultur och fritid"})),
            200,
        )
        .await?;
        expect(
            &app,
            &anna,
            (Method::PUT, "/api/admin/organisations/okand"),
            Some(json!({"name": "X"})),
            404,
        )
        .await?;
        let listed = expect(&app, &anna, orgs, None, 200).await?;
        assert!(
            listed
                .as_array()
                .context("list")?
                .contains(&json!({"id": "kultur", "name": "Kultur och fritid"})),
            "{listed}"
        );

        // Users: add one with a password, who then logs in.
        let cia = json!({"id": "cia", "name": "Cia Holm", "org": "kultur",
            "email": "cia.holm@stad.example.se", "password": "ett långt lösenord"});
        let added = expect(
            &app,
            &anna,
            (Method::POST, "/api/admin/users"),
            Some(cia.clone()),
            201,
        )
        .await?;
        assert_eq!(
            (
                added["active"].clone(),
                added["admin"].clone(),
                added["hasPassword"].clone()
            ),
            (json!(true), json!(false), json!(true))
        );
        expect(
            &app,
            &anna,
            (Method::POST, "/api/admin/users"),
            Some(cia),
            409,
        )
        .await?;
        let short = json!({"id": "dan", "name": "Dan", "org": "kultur", "password": "kort"});
        expect(
            &app,
            &anna,
            (Method::POST, "/api/admin/users"),
            Some(short),
            422,
        )
        .await?;
        let nowhere = json!({"id": "dan", "name": "Dan", "org": "okand"});
        expect(
            &app,
            &anna,
            (Method::POST, "/api/admin/users"),
            Some(nowhere),
            404,
        )
        .await?;
        let login = |password: &'static str| {
            app.http
                .post(app.url("/api/login"))
                .json(&json!({"username": "cia", "password": password}))
                .send()
        };
        assert_eq!(login("ett långt lösenord").await?.status(), 200);

        // Edit name and e-mail; a bad address is refused.
        let edit = (Method::PATCH, "/api/admin/users/cia");
        expect(
            &app,
            &anna,
            edit.clone(),
            Some(json!({"name": "Cia Holm-Berg", "email": "cia@stad.example.se"})),
            200,
        )
        .await?;
        expect(
            &app,
            &anna,
            edit.clone(),
            Some(json!({"email": "inte en adress"})),
            422,
        )
        .await?;
        let listed = expect(&app, &anna, users.clone(), None, 200).await?;
        let row = user(&listed, "cia")?;
        assert_eq!(
            (
                row["name"].as_str(),
                row["email"].as_str(),
                row["orgName"].as_str()
            ),
            (
                Some("Cia Holm-Berg"),
                Some("cia@stad.example.se"),
                Some("Kultur och fritid")
            )
        );
        assert!(row["lastSignInAt"].is_i64(), "{row}");

        // Make her an administrator and take it back.
        expect(
            &app,
            &anna,
            (Method::PUT, "/api/admin/users/cia/admin"),
            Some(json!({"admin": true})),
            200,
        )
        .await?;
        assert_eq!(
            user(&expect(&app, &anna, users.clone(), None, 200).await?, "cia")?["admin"],
            true
        );
        expect(
            &app,
            &anna,
            (Method::PUT, "/api/admin/users/cia/admin"),
            Some(json!({"admin": false})),
            200,
        )
        .await?;
        assert_eq!(
            user(&expect(&app, &anna, users.clone(), None, 200).await?, "cia")?["admin"],
            false
        );

        // Disable: she cannot log in; enable: she can.
        let active = (Method::PUT, "/api/admin/users/cia/active");
        expect(
            &app,
            &anna,
            active.clone(),
            Some(json!({"active": false})),
            200,
        )
        .await?;
        assert_eq!(
            user(&expect(&app, &anna, users.clone(), None, 200).await?, "cia")?["active"],
            false
        );
        assert_eq!(login("ett långt lösenord").await?.status(), 401);
        expect(&app, &anna, active, Some(json!({"active": true})), 200).await?;
        assert_eq!(login("ett långt lösenord").await?.status(), 200);
        expect(
            &app,
            &anna,
            (Method::PUT, "/api/admin/users/nobody/active"),
            Some(json!({"active": false})),
            404,
        )
        .await?;

        // Reset her password: the old one stops working, the new one works.
        let reset = (Method::PUT, "/api/admin/users/cia/password");
        expect(
            &app,
            &anna,
            reset.clone(),
            Some(json!({"password": "kort"})),
            422,
        )
        .await?;
        expect(
            &app,
            &anna,
            reset,
            Some(json!({"password": "ett helt nytt lösenord"})),
            200,
        )
        .await?;
        assert_eq!(login("ett långt lösenord").await?.status(), 401);
        assert_eq!(login("ett helt nytt lösenord").await?.status(), 200);

        // The organisation mapping: set, list, replace, remove.
        let mappings = (Method::GET, "/api/admin/mappings");
        let providers = expect(
            &app,
            &anna,
            (Method::GET, "/api/admin/providers"),
            None,
            200,
        )
        .await?;
        assert_eq!(providers, json!([]), "no provider configured");
        let set = (Method::PUT, "/api/admin/mappings");
        let ubf = json!({"provider": "https://idp.example", "claimValue": "UBF", "org": UBF});
        let listed = expect(&app, &anna, set.clone(), Some(ubf), 200).await?;
        assert_eq!(
            listed,
            json!([{"provider": "https://idp.example", "claimValue": "UBF", "org": UBF}])
        );
        let moved =
            json!({"provider": "https://idp.example", "claimValue": "UBF", "org": "kultur"});
        expect(&app, &anna, set.clone(), Some(moved), 200).await?;
        let listed = expect(&app, &anna, mappings.clone(), None, 200).await?;
        assert_eq!(listed[0]["org"], "kultur");
        expect(
            &app,
            &anna,
            set.clone(),
            Some(json!({"provider": "https://idp.example", "claimValue": "X", "org": "okand"})),
            404,
        )
        .await?;
        expect(
            &app,
            &anna,
            set,
            Some(json!({"provider": "https://idp.example", "claimValue": " ", "org": UBF})),
            422,
        )
        .await?;
        let remove = (
            Method::DELETE,
            "/api/admin/mappings?provider=https%3A%2F%2Fidp.example&claimValue=UBF",
        );
        assert_eq!(
            expect(&app, &anna, remove.clone(), None, 200).await?,
            json!([])
        );
        expect(&app, &anna, remove, None, 404).await?;

        // Each change is in the log, by whom, newest first; no password in it.
        let log = expect(&app, &anna, (Method::GET, "/api/admin/log"), None, 200).await?;
        let entries = log.as_array().context("log")?;
        let actions: Vec<&str> = entries
            .iter()
            .rev()
            .filter_map(|e| e["action"].as_str())
            .collect();
        assert_eq!(
            actions,
            [
                "org.added",
                "org.renamed",
                "user.added",
                "user.edited",
                "user.admin_granted",
                "user.admin_revoked",
                "user.disabled",
                "user.enabled",
                "user.password_set",
                "mapping.set",
                "mapping.set",
                "mapping.removed",
            ]
        );
        assert!(entries.iter().all(|e| e["actor"] == "anna"));
        assert!(!log.to_string().contains("lösenord"), "{log}");
        Ok::<_, anyhow::Error>(())
    }
);

both_dbs!(
    the_last_active_administrator_stays_one,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let (anna, bo) = seeded(&app).await?;
        let (status, answer) = call(
            &app,
            Some(&anna),
            Method::PUT,
            "/api/admin/users/anna/active",
            Some(json!({"active": false})),
        )
        .await?;
        assert_eq!(status, 409, "{answer}");
        assert!(
            answer["message"]
                .as_str()
                .unwrap_or("")
                .contains("last active administrator"),
            "{answer}"
        );
        let (status, _) = call(
            &app,
            Some(&anna),
            Method::PUT,
            "/api/admin/users/anna/admin",
            Some(json!({"admin": false})),
        )
        .await?;
        assert_eq!(status, 409);
        let me = expect(&app, &anna, (Method::GET, "/api/me"), None, 200).await?;
        assert_eq!(me["admin"], true, "{me}");

        // With a second administrator she may step down, and he then may not.
        expect(
            &app,
            &anna,
            (Method::PUT, "/api/admin/users/bo/admin"),
            Some(json!({"admin": true})),
            200,
        )
        .await?;
        expect(
            &app,
            &anna,
            (Method::PUT, "/api/admin/users/anna/admin"),
            Some(json!({"admin": false})),
            200,
        )
        .await?;
        expect(&app, &anna, (Method::GET, "/api/admin/users"), None, 403).await?;
        expect(
            &app,
            &bo,
            (Method::PUT, "/api/admin/users/bo/active"),
            Some(json!({"active": false})),
            409,
        )
        .await?;
        expect(
            &app,
            &bo,
            (Method::PUT, "/api/admin/users/bo/admin"),
            Some(json!({"admin": false})),
            409,
        )
        .await?;
        Ok::<_, anyhow::Error>(())
    }
);

/// The time from now until the second after the one `at` fell in (tokens carry whole
/// seconds: one from the second the sign-ins end stays good).
fn until_next_second(at: std::time::SystemTime) -> std::time::Duration {
    let since_epoch = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let next = std::time::UNIX_EPOCH + std::time::Duration::from_secs(since_epoch.as_secs() + 1);
    next.duration_since(std::time::SystemTime::now())
        .unwrap_or_default()
}

both_dbs!(
    moving_a_user_to_another_organisation_ends_their_socket_and_token,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let (anna, _) = seeded(&app).await?;
        app.state
            .db
            .add_user(&NewUser {
                id: UserId::parse("eva")?,
                name: "Eva Ek".into(),
                org: OrgId::parse(UBF)?,
                email: None,
                admin: false,
                password_hash: None,
            })
            .await?;
        let issued = std::time::SystemTime::now();
        let eva = app.token("eva", UBF);
        let colleague = app.token("frida", UBF);
        let doc = app.create_doc(&eva, "Skolplan", Some("Start")).await?;
        let mut evas = WsClient::connect(&app.ws_url(&doc, &eva)).await?;
        let mut fridas = WsClient::connect(&app.ws_url(&doc, &colleague)).await?;

        tokio::time::sleep(until_next_second(issued)).await;
        let moved = expect(
            &app,
            &anna,
            (Method::PATCH, "/api/admin/users/eva"),
            Some(json!({"org": SLK})),
            200,
        )
        .await?;
        assert_eq!(moved["org"], SLK);
        let (code, reason) = evas.expect_close().await?;
        assert_eq!(code, 4403, "{reason}");
        let (status, _) = call(&app, Some(&eva), Method::GET, "/api/me", None).await?;
        assert_eq!(status, 401, "her old token is refused");
        // Signed in anew she speaks for her new organisation, which has no role here.
        let fresh = app.token("eva", SLK);
        assert_eq!(
            call(&app, Some(&fresh), Method::GET, "/api/me", None)
                .await?
                .0,
            200
        );
        let (status, _) = call(
            &app,
            Some(&fresh),
            Method::GET,
            &format!("/api/documents/{doc}"),
            None,
        )
        .await?;
        assert_eq!(status, 403);

        // Her former colleague goes on editing.
        fridas.append_paragraph("Frida skriver vidare").await?;
        fridas.wait_for(|c| c.paragraphs().len() == 2).await?;
        let log = expect(&app, &anna, (Method::GET, "/api/admin/log"), None, 200).await?;
        assert_eq!(log[0]["action"], "user.moved");
        assert!(
            log[0]["detail"].as_str().unwrap_or("").contains(UBF),
            "{log}"
        );
        Ok::<_, anyhow::Error>(())
    }
);
