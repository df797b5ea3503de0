//! Signing in through a real OpenID Provider (npm `oidc-provider`, started by each test
//! on loopback by `tests/node/oidc-provider.mjs`) and the browser session that follows:
//! the HttpOnly cookie, the cross-site rules for writes, and the WebSocket ticket
//! (issue 15).
//!
//! A small cookie-keeping client plays the browser: it follows every redirect itself,
//! fills in the provider's own sign-in page, and keeps what it was given, so a test can
//! also replay what an attacker would have captured.

use std::collections::HashMap;
use std::process::Stdio;

use anyhow::{Context, Result, bail, ensure};
use futures_util::StreamExt;
use reqwest::Url;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use forankra::auth::directory::NewUser;
use forankra::config::{OidcProvider, OidcSettings};
use forankra::ids::{OrgId, UserId};

use crate::both_dbs;
use crate::helpers::{Backend, TestApp, WAIT, WsClient};
use crate::interop::node_dir;

const CLIENT_ID: &str = "forankra";
const CLIENT_SECRET: &str = "en-hemlighet-for-tester";
const ORG: &str = "utbildningsforvaltningen";

/// The provider, running until dropped.
struct Idp {
    issuer: String,
    http: reqwest::Client,
    _process: tokio::process::Child,
}

impl Idp {
    async fn start() -> Result<Self> {
        let dir = node_dir()?;
        ensure!(
            dir.join("node_modules/oidc-provider").exists(),
            "tests/node/node_modules/oidc-provider is missing: run `npm ci` in tests/node"
        );
        let mut process = tokio::process::Command::new("node")
            .arg("oidc-provider.mjs")
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting the OpenID Provider")?;
        let stdout = process.stdout.take().context("stdout")?;
        let mut line = String::new();
        let mut reader = BufReader::new(stdout);
        tokio::time::timeout(WAIT, reader.read_line(&mut line))
            .await
            .context("the provider did not start")??;
        // Whatever it prints later is drained, so it never writes to a closed pipe.
        tokio::spawn(async move { tokio::io::copy(&mut reader, &mut tokio::io::sink()).await });
        let started: Value = serde_json::from_str(&line).context("the provider's first line")?;
        let issuer = started["issuer"].as_str().context("issuer")?.to_owned();
        Ok(Self {
            issuer,
            http: reqwest::Client::new(),
            _process: process,
        })
    }

    /// (Re)builds the provider with our client and these accounts; `rotate` signs with
    /// a new key from now on. Answers the signing key's id.
    async fn configure(&self, server: &str, accounts: Value, rotate: bool) -> Result<String> {
        self.configure_at(server, "/auth/oidc/callback", accounts, rotate)
            .await
    }

    /// As [`Idp::configure`], for a client whose redirect URI is `server` + `callback`.
    async fn configure_at(
        &self,
        server: &str,
        callback: &str,
        accounts: Value,
        rotate: bool,
    ) -> Result<String> {
        let body = json!({
            "clients": [{
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [format!("{server}{callback}")],
                "post_logout_redirect_uris": [format!("{server}/")],
            }],
            "accounts": accounts,
            "rotate": rotate,
        });
        let answer: Value = self
            .post("/_test/configure", body)
            .await
            .context("configuring the provider")?;
        Ok(answer["kid"].as_str().context("kid")?.to_owned())
    }

    /// Makes the token endpoint alter the ID token (`tamper`, `audience`, `nonce`).
    async fn mischief(&self, mode: &str) -> Result<()> {
        self.post("/_test/mischief", json!({ "idToken": mode }))
            .await
            .map(drop)
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value> {
        let response = self
            .http
            .post(format!("{}{path}", self.issuer))
            .json(&body)
            .send()
            .await?;
        ensure!(response.status() == 200, "{path}: {}", response.status());
        Ok(response.json().await?)
    }
}

/// One cookie as the browser keeps it.
#[derive(Debug, Clone)]
struct Cookie {
    value: String,
    path: String,
    attributes: String,
}

/// A browser: follows redirects itself and keeps cookies per host and path.
#[derive(Default)]
struct Browser {
    http: reqwest::Client,
    cookies: HashMap<(String, String), Cookie>,
    accept_language: Option<&'static str>,
}

/// What a navigation ended on.
struct Page {
    url: Url,
    status: u16,
    body: String,
}

impl Browser {
    fn new() -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            ..Self::default()
        }
    }

    fn host(url: &Url) -> String {
        format!(
            "{}:{}",
            url.host_str().unwrap_or(""),
            url.port_or_known_default().unwrap_or(0)
        )
    }

    fn cookie_header(&self, url: &Url) -> String {
        let host = Self::host(url);
        self.cookies
            .iter()
            .filter(|((h, _), c)| *h == host && url.path().starts_with(&c.path))
            .map(|((_, name), c)| format!("{name}={}", c.value))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, url: &Url, response: &reqwest::Response) {
        for header in response.headers().get_all(SET_COOKIE) {
            let Ok(text) = header.to_str() else { continue };
            let (pair, attributes) = text.split_once(';').unwrap_or((text, ""));
            let Some((name, value)) = pair.trim().split_once('=') else {
                continue;
            };
            let lower = attributes.to_ascii_lowercase();
            let path = attributes
                .split(';')
                .map(str::trim)
                .find(|a| a.len() > 5 && a[..5].eq_ignore_ascii_case("path="))
                .map_or_else(|| "/".to_owned(), |a| a[5..].to_owned());
            let key = (Self::host(url), name.to_owned());
            if value.is_empty() || lower.contains("max-age=0") {
                self.cookies.remove(&key);
            } else {
                self.cookies.insert(
                    key,
                    Cookie {
                        value: value.to_owned(),
                        path,
                        attributes: attributes.to_owned(),
                    },
                );
            }
        }
    }

    fn cookie(&self, url: &str, name: &str) -> Option<Cookie> {
        let url = Url::parse(url).ok()?;
        self.cookies
            .get(&(Self::host(&url), name.to_owned()))
            .cloned()
    }

    /// One request, cookies sent and kept; no redirect followed.
    async fn request(
        &mut self,
        method: reqwest::Method,
        url: &Url,
        form: Option<&[(&str, &str)]>,
    ) -> Result<reqwest::Response> {
        let mut request = self.http.request(method, url.clone());
        let cookies = self.cookie_header(url);
        if !cookies.is_empty() {
            request = request.header(COOKIE, cookies);
        }
        if let Some(lang) = self.accept_language {
            request = request.header("accept-language", lang);
        }
        if let Some(form) = form {
            request = request.form(form);
        }
        let response = request.send().await?;
        self.keep(url, &response);
        Ok(response)
    }

    /// GET, following redirects until `stop` says so or a page is reached.
    async fn navigate(&mut self, url: &str, stop: impl Fn(&Url) -> bool) -> Result<Page> {
        let mut url = Url::parse(url)?;
        for _ in 0..10 {
            if stop(&url) {
                return Ok(Page {
                    url,
                    status: 0,
                    body: String::new(),
                });
            }
            let response = self.request(reqwest::Method::GET, &url, None).await?;
            let status = response.status().as_u16();
            match response.headers().get(LOCATION) {
                Some(location) if (300..400).contains(&status) => {
                    url = url.join(location.to_str()?)?;
                }
                _ => {
                    let body = response.text().await?;
                    return Ok(Page { url, status, body });
                }
            }
        }
        bail!("too many redirects")
    }

    /// Submits the provider's sign-in form (its own page) and follows on.
    async fn submit_login(
        &mut self,
        page: &Page,
        login: &str,
        stop: impl Fn(&Url) -> bool,
    ) -> Result<Page> {
        ensure!(
            page.status == 200 && page.body.contains("name=\"login\""),
            "no sign-in page at {}: {}",
            page.url,
            page.body
        );
        let action = page
            .body
            .split("action=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .context("the form's action")?;
        let action = page.url.join(action)?;
        let response = self
            .request(
                reqwest::Method::POST,
                &action,
                Some(&[
                    ("prompt", "login"),
                    ("login", login),
                    ("password", "vad-som-helst"),
                ]),
            )
            .await?;
        let location = response
            .headers()
            .get(LOCATION)
            .context("no redirect after sign-in")?;
        let next = action.join(location.to_str()?)?;
        self.navigate(next.as_str(), stop).await
    }
}

/// A server with OpenID Connect on, at a port chosen before it starts (the redirect URI
/// names it), and the provider configured for it.
async fn spawn(backend: Backend, idp: &Idp) -> Result<TestApp> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let public = format!("http://127.0.0.1:{port}");
    let issuer = idp.issuer.clone();
    let app = TestApp::spawn_with(backend, |config| {
        config.listen = ([127, 0, 0, 1], port).into();
        config.public_url = Some(Url::parse(&public).expect("url"));
        config.oidc = Some(OidcSettings {
            issuer,
            client_id: CLIENT_ID.into(),
            client_secret: Some(SecretString::from(CLIENT_SECRET)),
            name_claim: "name".into(),
            email_claim: "email".into(),
            org_claim: "department".into(),
        });
    })
    .await?;
    app.state
        .db
        .add_org(&OrgId::parse(ORG)?, "Utbildningsförvaltningen")
        .await?;
    app.state
        .db
        .map_org(&idp.issuer, "UBF", &OrgId::parse(ORG)?)
        .await?;
    Ok(app)
}

fn accounts() -> Value {
    json!({
        "anna": { "name": "Anna Lind", "email": "anna.lind@stad.example.se", "department": "UBF" },
        "olle": { "name": "Olle Berg", "department": "Okänd förvaltning" },
        "grupp": { "name": "Greta Grupp", "department": ["Alla anställda", "UBF"] },
    })
}

fn is_callback(url: &Url) -> bool {
    url.path() == "/auth/oidc/callback"
}

/// Signs `login` in as far as the callback URL, which is returned unvisited.
async fn to_callback(browser: &mut Browser, app: &TestApp, login: &str) -> Result<Url> {
    let page = browser
        .navigate(&app.url("/auth/oidc/login"), |_| false)
        .await?;
    let at_callback = browser.submit_login(&page, login, is_callback).await?;
    ensure!(
        is_callback(&at_callback.url),
        "ended at {}",
        at_callback.url
    );
    Ok(at_callback.url)
}

/// Visits the callback, answering its status, where it sends the browser and the body.
async fn visit(browser: &mut Browser, url: &Url) -> Result<(u16, Option<String>, String)> {
    let response = browser.request(reqwest::Method::GET, url, None).await?;
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get(LOCATION)
        .map(|l| l.to_str().unwrap_or("").to_owned());
    Ok((status, location, response.text().await?))
}

async fn me_with_cookie(app: &TestApp, cookie: &str) -> Result<(u16, Value)> {
    let response = app
        .http
        .get(app.url("/api/me"))
        .header(COOKIE, format!("forankra_session={cookie}"))
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

both_dbs!(the_code_flow_signs_a_mapped_user_in, |backend| async move {
    let idp = Idp::start().await?;
    let app = spawn(backend, &idp).await?;
    idp.configure(&app.url(""), accounts(), false).await?;
    let mut browser = Browser::new();

    let callback = to_callback(&mut browser, &app, "anna").await?;
    let flow = browser
        .cookie(&app.url("/"), "forankra_oidc")
        .context("no flow cookie")?;
    assert!(flow.attributes.contains("HttpOnly") && flow.attributes.contains("SameSite=Lax"));
    let (status, location, page) = visit(&mut browser, &callback).await?;
    assert_eq!((status, location.as_deref()), (303, Some("/")), "{page}");
    let session = browser
        .cookie(&app.url("/"), "forankra_session")
        .context("no session cookie")?;
    assert!(
        session.attributes.contains("HttpOnly"),
        "{}",
        session.attributes
    );
    assert!(
        session.attributes.contains("SameSite=Lax"),
        "{}",
        session.attributes
    );
    assert!(
        !session.attributes.contains("Secure"),
        "http public URL: not Secure"
    );
    assert!(
        browser
            .cookie(&app.url("/auth/oidc/"), "forankra_oidc")
            .is_none(),
        "the flow cookie is removed"
    );

    let (status, me) = me_with_cookie(&app, &session.value).await?;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["name"], "Anna Lind");
    assert_eq!(me["org"], ORG);
    assert_eq!(me["orgName"], "Utbildningsförvaltningen");
    let id = UserId::parse(me["id"].as_str().context("id")?)?;
    let row = app
        .state
        .db
        .user(&id)
        .await?
        .context("the user was not created")?;
    assert_eq!(row.email.as_deref(), Some("anna.lind@stad.example.se"));
    assert!(row.last_sign_in_at.is_some());
    assert_eq!(row.has_password, 0);

    // A list claim maps through whichever value is mapped.
    let mut other = Browser::new();
    let callback = to_callback(&mut other, &app, "grupp").await?;
    assert_eq!(visit(&mut other, &callback).await?.0, 303);

    // The signed-in browser writes with the cookie and the header, and logs out; the
    // answer sends it on to the provider's end-session page.
    let created = app
        .http
        .post(app.url("/api/documents"))
        .header(COOKIE, format!("forankra_session={}", session.value))
        .header("x-forankra-request", "1")
        .json(&json!({ "title": "Via OIDC" }))
        .send()
        .await?;
    assert_eq!(created.status(), 201);
    let logout = browser
        .http
        .post(app.url("/api/logout"))
        .header(COOKIE, format!("forankra_session={}", session.value))
        .send()
        .await?;
    assert_eq!(logout.status(), 200);
    let cleared = logout
        .headers()
        .get(SET_COOKIE)
        .context("no Set-Cookie")?
        .to_str()?
        .to_owned();
    assert!(
        cleared.starts_with("forankra_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    let body: Value = logout.json().await?;
    let redirect = body["redirect"]
        .as_str()
        .context("no end-session redirect")?;
    assert!(
        redirect.starts_with(&format!("{}/session/end?", idp.issuer)),
        "{redirect}"
    );
    assert!(redirect.contains("client_id=forankra"), "{redirect}");
    assert!(
        !redirect.contains("id_token_hint"),
        "no sign-in kept: {redirect}"
    );

    // The browser that kept the logout cookie of its sign-in sends the ID token along
    // as the hint, and both cookies are removed.
    let kept = browser
        .cookie(&app.url("/api/logout"), "forankra_idp")
        .context("no logout cookie")?;
    assert!(kept.path == "/api/logout" && kept.attributes.contains("HttpOnly"));
    let logout = browser
        .http
        .post(app.url("/api/logout"))
        .header(
            COOKIE,
            format!(
                "forankra_session={}; forankra_idp={}",
                session.value, kept.value
            ),
        )
        .send()
        .await?;
    let removed: Vec<&str> = logout
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|c| c.to_str().ok())
        .collect();
    assert!(
        removed.iter().any(|c| c.starts_with("forankra_idp=;")),
        "{removed:?}"
    );
    let body: Value = logout.json().await?;
    let redirect = Url::parse(body["redirect"].as_str().context("redirect")?)?;
    let hint = redirect
        .query_pairs()
        .find(|(k, _)| k == "id_token_hint")
        .context("no id_token_hint")?
        .1
        .into_owned();
    assert_eq!(hint.split('.').count(), 3, "a JWT: {hint}");
    assert!(kept.value.ends_with(&hint));
    // The provider takes it: its end-session page answers (a confirmation form).
    let ended = browser.http.get(redirect.as_str()).send().await?;
    assert_eq!(ended.status(), 200, "{}", ended.text().await?);
    Ok::<_, anyhow::Error>(())
});

both_dbs!(
    an_unmapped_organisation_is_refused_with_a_page,
    |backend| async move {
        let idp = Idp::start().await?;
        let app = spawn(backend, &idp).await?;
        idp.configure(&app.url(""), accounts(), false).await?;
        let mut browser = Browser::new();
        let callback = to_callback(&mut browser, &app, "olle").await?;
        let (status, _, page) = visit(&mut browser, &callback).await?;
        assert_eq!(status, 403);
        assert!(page.contains("<html lang=\"sv\">"), "{page}");
        assert!(page.contains("Din organisation är inte ansluten"), "{page}");
        assert!(page.contains("Okänd förvaltning"), "{page}");
        assert!(browser.cookie(&app.url("/"), "forankra_session").is_none());
        let users = app.state.db.users().await?;
        assert!(
            users.iter().all(|u| u.name != "Olle Berg"),
            "no user was made"
        );
        let orgs = app.state.db.orgs().await?;
        assert_eq!(orgs.len(), 1, "no organisation was made: {orgs:?}");

        // In English when the browser prefers it.
        let mut english = Browser::new();
        english.accept_language = Some("en-GB,en;q=0.9,sv;q=0.5");
        let callback = to_callback(&mut english, &app, "olle").await?;
        let (status, _, page) = visit(&mut english, &callback).await?;
        assert_eq!(status, 403);
        assert!(
            page.contains("Your organisation is not connected"),
            "{page}"
        );
        Ok::<_, anyhow::Error>(())
    }
);

/// Signs `anna` in while the provider alters the ID token; the callback must refuse.
async fn refused_with(backend: Backend, mischief: &str, expected: &str) -> Result<()> {
    let idp = Idp::start().await?;
    let app = spawn(backend, &idp).await?;
    idp.configure(&app.url(""), accounts(), false).await?;
    idp.mischief(mischief).await?;
    let mut browser = Browser::new();
    let callback = to_callback(&mut browser, &app, "anna").await?;
    let (status, _, page) = visit(&mut browser, &callback).await?;
    assert_eq!(status, 400, "{mischief}: {page}");
    assert!(page.contains(expected), "{mischief}: {page}");
    assert!(
        browser.cookie(&app.url("/"), "forankra_session").is_none(),
        "{mischief}"
    );
    assert!(
        app.state.db.users().await?.is_empty(),
        "{mischief}: no user was made"
    );
    Ok(())
}

both_dbs!(a_tampered_id_token_is_refused, |backend| async move {
    refused_with(backend, "tamper", "InvalidSignature").await
});

both_dbs!(
    an_id_token_for_another_client_is_refused,
    |backend| async move { refused_with(backend, "audience", "InvalidAudience").await }
);

both_dbs!(
    an_id_token_of_another_sign_in_is_refused,
    |backend| async move { refused_with(backend, "nonce", "nonce").await }
);

both_dbs!(a_replayed_code_is_refused, |backend| async move {
    let idp = Idp::start().await?;
    let app = spawn(backend, &idp).await?;
    idp.configure(&app.url(""), accounts(), false).await?;
    let mut browser = Browser::new();
    let callback = to_callback(&mut browser, &app, "anna").await?;
    // What an attacker who saw the redirect and the cookie would hold.
    let flow = browser
        .cookie(&app.url("/auth/oidc/"), "forankra_oidc")
        .context("flow")?;
    assert_eq!(visit(&mut browser, &callback).await?.0, 303);

    let mut attacker = Browser::new();
    let response = attacker
        .http
        .get(callback.clone())
        .header(COOKIE, format!("forankra_oidc={}", flow.value))
        .send()
        .await?;
    assert_eq!(response.status(), 400);
    assert!(
        response
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .all(|c| !c.to_str().unwrap_or("").starts_with("forankra_session="))
    );
    let page = response.text().await?;
    assert!(page.contains("invalid_grant"), "{page}");

    // Without the browser's flow cookie the code is refused before it is redeemed.
    let (status, _, page) = visit(&mut attacker, &callback).await?;
    assert_eq!(status, 400);
    assert!(
        page.contains("ingen inloggning") || page.contains("no sign-in"),
        "{page}"
    );
    Ok::<_, anyhow::Error>(())
});

both_dbs!(
    a_provider_that_rotated_its_key_still_signs_in,
    |backend| async move {
        let idp = Idp::start().await?;
        let app = spawn(backend, &idp).await?;
        let first = idp.configure(&app.url(""), accounts(), false).await?;
        let mut browser = Browser::new();
        let callback = to_callback(&mut browser, &app, "anna").await?;
        assert_eq!(visit(&mut browser, &callback).await?.0, 303);

        // The server now holds the first key; the provider signs with a new one.
        let second = idp.configure(&app.url(""), accounts(), true).await?;
        assert_ne!(first, second);
        let mut again = Browser::new();
        let callback = to_callback(&mut again, &app, "anna").await?;
        let (status, _, page) = visit(&mut again, &callback).await?;
        assert_eq!(status, 303, "{page}");
        let session = again
            .cookie(&app.url("/"), "forankra_session")
            .context("session")?;
        assert_eq!(me_with_cookie(&app, &session.value).await?.0, 200);
        Ok::<_, anyhow::Error>(())
    }
);

/// A password user's cookie, from `POST /api/login`.
async fn password_cookie(app: &TestApp) -> Result<String> {
    let hash = forankra::auth::password::hash_password("ett långt lösenord".into()).await?;
    app.state
        .db
        .add_org(
            &OrgId::parse("stadsledningskontoret")?,
            "Stadsledningskontoret",
        )
        .await?;
    app.state
        .db
        .add_user(&NewUser {
            id: UserId::parse("sara")?,
            name: "Sara".into(),
            org: OrgId::parse("stadsledningskontoret")?,
            email: None,
            admin: false,
            password_hash: Some(hash),
        })
        .await?;
    let response = app
        .http
        .post(app.url("/api/login"))
        .json(&json!({ "username": "sara", "password": "ett långt lösenord" }))
        .send()
        .await?;
    ensure!(response.status() == 200, "login: {}", response.status());
    let set = response
        .headers()
        .get(SET_COOKIE)
        .context("no cookie")?
        .to_str()?
        .to_owned();
    ensure!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    let value = set
        .strip_prefix("forankra_session=")
        .and_then(|rest| rest.split(';').next())
        .context("cookie value")?
        .to_owned();
    let body: Value = response.json().await?;
    ensure!(
        body["token"] == value.as_str(),
        "the cookie holds the login's token"
    );
    Ok(value)
}

both_dbs!(
    a_cross_site_post_with_the_cookie_is_refused,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let cookie = format!("forankra_session={}", password_cookie(&app).await?);
        let post = |extra: &[(&'static str, &'static str)]| {
            let mut request = app
                .http
                .post(app.url("/api/documents"))
                .header(COOKIE, &cookie);
            for (k, v) in extra {
                request = request.header(*k, *v);
            }
            request
        };
        // What a form on another site makes the browser send: the cookie, no custom header.
        let form = post(&[
            ("origin", "https://evil.example"),
            ("content-type", "application/x-www-form-urlencoded"),
        ])
        .body("title=Kapad")
        .send()
        .await?;
        assert_eq!(form.status(), 403);
        let body: Value = form.json().await?;
        assert!(
            body["message"]
                .as_str()
                .unwrap_or("")
                .contains("X-Forankra-Request"),
            "{body}"
        );
        // A JSON post without the header, and a cross-site one with it.
        let plain = post(&[]).json(&json!({ "title": "Kapad" })).send().await?;
        assert_eq!(plain.status(), 403);
        let marked = post(&[
            ("x-forankra-request", "1"),
            ("sec-fetch-site", "cross-site"),
        ])
        .json(&json!({ "title": "Kapad" }))
        .send()
        .await?;
        assert_eq!(marked.status(), 403);
        let sara = app.token("sara", "stadsledningskontoret");
        let listed: Value = app
            .http
            .get(app.url("/api/documents"))
            .bearer_auth(&sara)
            .send()
            .await?
            .json()
            .await?;
        assert_eq!(
            listed.as_array().map(Vec::len),
            Some(0),
            "nothing was created: {listed}"
        );

        // The web app's own calls pass; reads need no header; bearer tokens work as before.
        let own = post(&[
            ("x-forankra-request", "1"),
            ("sec-fetch-site", "same-origin"),
        ])
        .json(&json!({ "title": "Egen" }))
        .send()
        .await?;
        assert_eq!(own.status(), 201);
        let read = app
            .http
            .get(app.url("/api/documents"))
            .header(COOKIE, &cookie)
            .send()
            .await?;
        assert_eq!(read.status(), 200);
        let bearer = app
            .http
            .post(app.url("/api/documents"))
            .bearer_auth(&sara)
            .json(&json!({ "title": "API" }))
            .send()
            .await?;
        assert_eq!(bearer.status(), 201);

        // Logging out clears the cookie (with no provider, nowhere to go on to).
        let out = app
            .http
            .post(app.url("/api/logout"))
            .header(COOKIE, &cookie)
            .send()
            .await?;
        assert_eq!(out.status(), 200);
        assert!(
            out.headers()
                .get(SET_COOKIE)
                .context("clear")?
                .to_str()?
                .contains("Max-Age=0")
        );
        assert_eq!(out.json::<Value>().await?["redirect"], Value::Null);
        Ok::<_, anyhow::Error>(())
    }
);

/// Opens `/ws/{doc}` with only these headers and answers the close code.
async fn close_code(app: &TestApp, doc: &str, cookie: Option<&str>) -> Result<u16> {
    let mut request = format!("ws://{}/ws/{doc}", app.addr).into_client_request()?;
    if let Some(cookie) = cookie {
        request
            .headers_mut()
            .insert(COOKIE.as_str(), cookie.parse()?);
    }
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    let frame = tokio::time::timeout(WAIT, async {
        while let Some(message) = socket.next().await {
            if let Message::Close(frame) = message? {
                return Ok::<_, anyhow::Error>(frame);
            }
        }
        Ok(None)
    })
    .await??;
    Ok(frame.map_or(1005, |f| u16::from(f.code)))
}

both_dbs!(
    the_socket_takes_a_ticket_never_the_cookie,
    |backend| async move {
        let app = TestApp::spawn(backend).await?;
        let cookie = format!("forankra_session={}", password_cookie(&app).await?);
        let sara = app.token("sara", "stadsledningskontoret");
        let doc = app.create_doc(&sara, "Uttalande", Some("Start")).await?;

        assert_eq!(
            close_code(&app, &doc, None).await?,
            4401,
            "no ticket, no cookie"
        );
        assert_eq!(
            close_code(&app, &doc, Some(&cookie)).await?,
            4401,
            "the cookie alone"
        );

        // The page asks for a ticket with its cookie (and the header) and opens the socket.
        let refused = app
            .http
            .post(app.url("/api/ws-ticket"))
            .header(COOKIE, &cookie)
            .send()
            .await?;
        assert_eq!(
            refused.status(),
            403,
            "a ticket is a write: the header is needed"
        );
        let ticket: Value = app
            .http
            .post(app.url("/api/ws-ticket"))
            .header(COOKIE, &cookie)
            .header("x-forankra-request", "1")
            .send()
            .await?
            .json()
            .await?;
        let ticket = ticket["ticket"].as_str().context("ticket")?;
        let mut client = WsClient::connect(&app.ws_url(&doc, ticket)).await?;
        client.append_paragraph("Med kaka och biljett").await?;
        Ok::<_, anyhow::Error>(())
    }
);

fn settings(issuer: &str, org_claim: &str) -> OidcSettings {
    OidcSettings {
        issuer: issuer.to_owned(),
        client_id: CLIENT_ID.into(),
        client_secret: Some(SecretString::from(CLIENT_SECRET)),
        name_claim: "name".into(),
        email_claim: "email".into(),
        org_claim: org_claim.into(),
    }
}

/// Signs `login` in at the provider behind `login_path`, visits the callback and
/// answers the session cookie's value (or the refusal's status and page).
async fn sign_in_at(
    app: &TestApp,
    login_path: &str,
    callback_path: &'static str,
    login: &str,
) -> Result<std::result::Result<String, (u16, String)>> {
    let mut browser = Browser::new();
    let page = browser.navigate(&app.url(login_path), |_| false).await?;
    let at = browser
        .submit_login(&page, login, |u| u.path() == callback_path)
        .await?;
    ensure!(at.url.path() == callback_path, "ended at {}", at.url);
    let (status, _, body) = visit(&mut browser, &at.url).await?;
    if status != 303 {
        return Ok(Err((status, body)));
    }
    let session = browser
        .cookie(&app.url("/"), "forankra_session")
        .context("no session cookie")?;
    Ok(Ok(session.value))
}

both_dbs!(
    two_providers_sign_two_users_in_to_two_organisations,
    |backend| async move {
        let staff = Idp::start().await?;
        let federation = Idp::start().await?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let public = format!("http://127.0.0.1:{port}");
        let (staff_issuer, federation_issuer) = (staff.issuer.clone(), federation.issuer.clone());
        let app = TestApp::spawn_with(backend, |config| {
            config.listen = ([127, 0, 0, 1], port).into();
            config.public_url = Some(Url::parse(&public).expect("url"));
            config.oidc = Some(settings(&staff_issuer, "department"));
            config.oidc_providers = vec![OidcProvider {
                id: "federation".into(),
                display_name: Some("Remissinstanser".into()),
                settings: settings(&federation_issuer, "org"),
            }];
        })
        .await?;
        let db = &app.state.db;
        db.add_org(&OrgId::parse(ORG)?, "Utbildningsförvaltningen")
            .await?;
        db.add_org(&OrgId::parse("lansstyrelsen")?, "Länsstyrelsen")
            .await?;
        db.map_org(&staff.issuer, "UBF", &OrgId::parse(ORG)?)
            .await?;
        db.map_org(&federation.issuer, "LST", &OrgId::parse("lansstyrelsen")?)
            .await?;
        staff.configure(&app.url(""), accounts(), false).await?;
        let external = json!({
            "karin": { "name": "Karin Lund", "org": "LST" },
            "anna": { "name": "Inte Anna", "org": "UBF" },
        });
        federation
            .configure_at(
                &app.url(""),
                "/auth/oidc/federation/callback",
                external,
                false,
            )
            .await?;

        // The login page offers one button per provider.
        let methods: Value = app
            .http
            .get(app.url("/api/auth/methods"))
            .send()
            .await?
            .json()
            .await?;
        assert_eq!(
            methods["providers"],
            json!([
                {"id": "default", "name": null, "loginUrl": "/auth/oidc/login"},
                {"id": "federation", "name": "Remissinstanser", "loginUrl": "/auth/oidc/federation/login"},
            ])
        );

        // Each provider signs its user in to the organisation its own mapping names.
        let anna = sign_in_at(&app, "/auth/oidc/login", "/auth/oidc/callback", "anna")
            .await?
            .map_err(|(s, p)| anyhow::anyhow!("{s}: {p}"))?;
        let karin = sign_in_at(
            &app,
            "/auth/oidc/federation/login",
            "/auth/oidc/federation/callback",
            "karin",
        )
        .await?
        .map_err(|(s, p)| anyhow::anyhow!("{s}: {p}"))?;
        let (status, anna_me) = me_with_cookie(&app, &anna).await?;
        assert_eq!(
            (status, anna_me["org"].as_str()),
            (200, Some(ORG)),
            "{anna_me}"
        );
        let (status, karin_me) = me_with_cookie(&app, &karin).await?;
        assert_eq!(
            (status, karin_me["org"].as_str()),
            (200, Some("lansstyrelsen")),
            "{karin_me}"
        );
        assert_eq!(karin_me["name"], "Karin Lund");

        // A value mapped at one provider means nothing at the other: the federation's
        // "UBF" is refused, and its "anna" is not the staff IdP's Anna.
        let refused = sign_in_at(
            &app,
            "/auth/oidc/federation/login",
            "/auth/oidc/federation/callback",
            "anna",
        )
        .await?;
        let (status, page) = refused.err().context("the federation's UBF signed in")?;
        assert_eq!(status, 403, "{page}");
        assert_ne!(anna_me["id"], karin_me["id"]);

        // A sign-in begun at the federation cannot be finished at the staff callback.
        let mut browser = Browser::new();
        let page = browser
            .navigate(&app.url("/auth/oidc/federation/login"), |_| false)
            .await?;
        let at = browser
            .submit_login(&page, "karin", |u| {
                u.path() == "/auth/oidc/federation/callback"
            })
            .await?;
        let mut elsewhere = at.url.clone();
        elsewhere.set_path("/auth/oidc/callback");
        let (status, _, page) = visit(&mut browser, &elsewhere).await?;
        assert_eq!(status, 400, "{page}");

        // An unknown provider id is a page, not a sign-in.
        let (status, _, _) = visit(
            &mut Browser::new(),
            &Url::parse(&app.url("/auth/oidc/okand/login"))?,
        )
        .await?;
        assert_eq!(status, 404);
        Ok::<_, anyhow::Error>(())
    }
);
