//! The command line: `forankra serve`, `forankra demo`, `forankra token`,
//! `forankra purge`, and the administration commands `forankra org …` and
//! `forankra user …` (run in [`admin`]).
//!
//! Every setting is a flag with an environment variable behind it (clap's `env`), so the
//! same binary is configured by hand, by systemd units and by docker compose alike.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;

use crate::audit::key::KeySource;
use crate::config::{Config, DEFAULT_MAX_MESSAGE_BYTES, JwtConfig, NotifySettings, OidcSettings};
use crate::limits::{self, LimitSettings, Rate};
use crate::security_headers::HttpSettings;

pub mod admin;
pub mod providers_file;

/// Förankra: real-time collaborative drafting for documents many organisations shape together.
#[derive(Debug, Parser)]
#[command(name = "forankra", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Run the server with the demo data loaded (same as `serve --demo`).
    Demo(ServeArgs),
    /// Print a signed token for a user, creating the user and organisation if needed.
    Token(TokenArgs),
    /// Replace the JWT secret kept in the database; restart every node afterwards.
    /// Every token issued so far stops working. (A secret given with --jwt-secret is
    /// rotated by changing that flag instead.)
    RotateSecret(DatabaseArgs),
    /// Delete an archived document for good: its content, comments and audit trail. A
    /// row in the purge log keeps who did it, when, why and the trail's last hash.
    Purge(PurgeArgs),
    /// Add, list, rename organisations; map an identity provider's claim values to them.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Add, list, disable and enable users; set a password (from standard input); make
    /// an administrator.
    #[command(subcommand)]
    User(UserCommand),
}

/// `forankra org …`.
#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Add an organisation (refused if the id is taken).
    Add(OrgNameArgs),
    /// List the organisations: id and name, tab-separated.
    List(DatabaseArgs),
    /// Rename an organisation.
    Rename(OrgNameArgs),
    /// Map an identity provider's claim value (the `--oidc-org-claim` claim, e.g. Entra's
    /// `department`) to an organisation; replaces an earlier mapping of the same value.
    Map {
        /// The provider's issuer URL, as given to `--oidc-issuer`.
        #[arg(long)]
        provider: String,
        /// The claim value, exactly as the provider sends it.
        #[arg(long)]
        value: String,
        #[arg(long)]
        org: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Remove a mapping: the claim value no longer signs anyone in.
    Unmap {
        /// The provider's issuer URL.
        #[arg(long)]
        provider: String,
        /// The claim value.
        #[arg(long)]
        value: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List the organisation mappings: provider, claim value, organisation.
    Mappings(DatabaseArgs),
}

/// An organisation and its display name.
#[derive(Debug, Args)]
pub struct OrgNameArgs {
    /// The organisation's id (as in tokens and membership).
    #[arg(long)]
    pub org: String,
    /// Its display name.
    #[arg(long)]
    pub name: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

impl OrgCommand {
    /// The database the command works on.
    pub fn database(&self) -> &DatabaseArgs {
        match self {
            Self::Add(args) | Self::Rename(args) => &args.database,
            Self::List(database) | Self::Mappings(database) => database,
            Self::Map { database, .. } | Self::Unmap { database, .. } => database,
        }
    }
}

impl UserCommand {
    /// The database the command works on.
    pub fn database(&self) -> &DatabaseArgs {
        match self {
            Self::Add { database, .. }
            | Self::Disable { database, .. }
            | Self::Enable { database, .. }
            | Self::SetPassword { database, .. }
            | Self::MakeAdmin { database, .. } => database,
            Self::List(database) => database,
        }
    }
}

/// `forankra user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user. A password, if any, is read from standard input (one line), never
    /// from an argument; the login name is then the user id.
    Add {
        /// The user's id (the tokens' `sub`).
        #[arg(long)]
        user: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// An existing organisation's id.
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: Option<String>,
        /// Make the user a server-wide administrator.
        #[arg(long)]
        admin: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List the users: id, name, e-mail, organisation, active, admin, last sign-in.
    List(DatabaseArgs),
    /// Disable a user: their sign-ins and open connections end within a second.
    Disable {
        user: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Enable a disabled user again (they sign in anew).
    Enable {
        user: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Set a user's password, read from standard input; ends their other sign-ins.
    SetPassword {
        user: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Make a user a server-wide administrator (`--revoke` takes the role away).
    MakeAdmin {
        user: String,
        #[arg(long)]
        revoke: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// `forankra purge`.
#[derive(Debug, Args)]
pub struct PurgeArgs {
    /// The archived document to remove.
    #[arg(long)]
    pub document: String,
    /// Who decided it (name or case officer), kept in the purge log.
    #[arg(long)]
    pub by: String,
    /// Why (e.g. the gallringsbeslut it follows), kept in the purge log.
    #[arg(long)]
    pub reason: String,
    /// Purge even if the document's audit trail does not verify (the verdict is kept in
    /// the purge log). Without it such a purge is refused: the trail is evidence.
    #[arg(long)]
    pub despite_broken_trail: bool,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub audit_key: AuditKeyArgs,
}

/// Where the key that authenticates the audit trail comes from (docs/OPERATIONS.md,
/// "The audit key"). Every node of a PostgreSQL deployment needs the same key.
#[derive(Debug, Args)]
pub struct AuditKeyArgs {
    /// File holding the audit key (at least 32 bytes). Default: `<sqlite file>.audit-key`
    /// beside the database, or `forankra-audit.key` in the working directory on
    /// PostgreSQL. Created with mode 0600 at the first start if absent.
    #[arg(long, env = "FORANKRA_AUDIT_KEY_FILE")]
    pub audit_key_file: Option<PathBuf>,
    /// The audit key itself, instead of a file (at least 32 bytes).
    #[arg(
        long,
        env = "FORANKRA_AUDIT_KEY",
        hide_env_values = true,
        conflicts_with = "audit_key_file"
    )]
    pub audit_key: Option<String>,
}

impl AuditKeyArgs {
    /// The source the flags name.
    pub fn source(&self) -> KeySource {
        match (&self.audit_key, &self.audit_key_file) {
            (Some(key), _) => KeySource::Value(SecretString::from(key.clone())),
            (None, Some(path)) => KeySource::File(path.clone()),
            (None, None) => KeySource::Default,
        }
    }
}

/// Where the data lives.
#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// `postgres://…` selects PostgreSQL; a path or `sqlite://PATH` an embedded SQLite file.
    #[arg(long, env = "DATABASE_URL", default_value = "forankra.db")]
    pub database_url: String,
}

/// How tokens are signed and checked.
#[derive(Debug, Args)]
pub struct JwtArgs {
    /// HS256 secret. Without one the server makes one and keeps it in its database.
    #[arg(long, env = "FORANKRA_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// PEM file with an identity provider's RSA public key: accept only RS256 tokens
    /// signed by it (password login is then off).
    #[arg(long, env = "FORANKRA_JWT_PUBLIC_KEY", conflicts_with = "jwt_secret")]
    pub jwt_public_key: Option<PathBuf>,
    /// PEM file with the matching RSA private key, to sign RS256 tokens too.
    #[arg(long, env = "FORANKRA_JWT_PRIVATE_KEY", requires = "jwt_public_key")]
    pub jwt_private_key: Option<PathBuf>,
}

impl JwtArgs {
    /// Reads the keys named by the flags.
    pub fn resolve(&self) -> anyhow::Result<JwtConfig> {
        match &self.jwt_public_key {
            None => Ok(JwtConfig::Hs256(
                self.jwt_secret.clone().map(SecretString::from),
            )),
            Some(public) => {
                let public_pem = std::fs::read(public)
                    .with_context(|| format!("reading the public key {}", public.display()))?;
                let private_pem = self
                    .jwt_private_key
                    .as_ref()
                    .map(|p| {
                        std::fs::read(p)
                            .with_context(|| format!("reading the private key {}", p.display()))
                    })
                    .transpose()?;
                Ok(JwtConfig::Rs256 {
                    public_pem,
                    private_pem,
                })
            }
        }
    }
}

/// `forankra serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "FORANKRA_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub jwt: JwtArgs,
    #[command(flatten)]
    pub audit_key: AuditKeyArgs,
    /// Load the demo organisations, users (passwords printed) and draft programme.
    #[arg(long, env = "FORANKRA_DEMO")]
    pub demo: bool,
    /// Largest WebSocket message accepted, in bytes.
    #[arg(long, env = "FORANKRA_MAX_MESSAGE_BYTES", default_value_t = DEFAULT_MAX_MESSAGE_BYTES)]
    pub max_message_bytes: usize,
    /// Largest HTTP request body accepted, in bytes.
    #[arg(long, env = "FORANKRA_MAX_BODY_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// How long an empty room stays in memory (e.g. 30s, 5m).
    #[arg(long, env = "FORANKRA_ROOM_IDLE", default_value = "30s", value_parser = humantime::parse_duration)]
    pub room_idle: Duration,
    /// How often each node rereads the roles on its open documents and closes sockets
    /// whose access was revoked or changed, whether or not a notice arrived (e.g. 1s).
    #[arg(long, env = "FORANKRA_MEMBERSHIP_RECHECK", default_value = "1s", value_parser = humantime::parse_duration)]
    pub membership_recheck: Duration,
    /// Fewest log entries after which an open document is compacted into a snapshot (it
    /// also waits until the log holds as many bytes as the last snapshot).
    #[arg(long, env = "FORANKRA_COMPACT_AFTER", default_value_t = 500)]
    pub compact_after: i64,
    /// Folder of a built web app to serve at `/` instead of the one this binary carries.
    #[arg(long, env = "FORANKRA_WEB_DIR")]
    pub web_dir: Option<PathBuf>,
    /// Accept http:// webhook URLs and loopback or private addresses (tests, closed networks).
    #[arg(long, env = "FORANKRA_WEBHOOK_ALLOW_HTTP")]
    pub webhook_allow_http: bool,
    /// Milliseconds before a failed webhook delivery is retried; doubled after each failure.
    #[arg(long, env = "FORANKRA_WEBHOOK_RETRY_BASE_MS", default_value_t = 1000)]
    pub webhook_retry_base_ms: u64,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub notify: NotifyArgs,
    #[command(flatten)]
    pub oidc: OidcArgs,
}

/// Notifications by e-mail (docs/OPERATIONS.md).
#[derive(Debug, Args)]
pub struct NotifyArgs {
    /// The SMTP server for notification e-mail: smtp://host:port (plain),
    /// smtp://host:587?tls=required (STARTTLS), smtps://host:465 (TLS); user and password
    /// in the URL if needed. Without it notifications stay in the app.
    #[arg(long, env = "FORANKRA_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<SecretString>,
    /// The sender of notification e-mail, e.g. "Förankra <forankra@stad.se>".
    #[arg(
        long,
        env = "FORANKRA_MAIL_FROM",
        default_value = "Förankra <forankra@localhost>"
    )]
    pub mail_from: String,
    /// How long a notification e-mail waits for more activities on the same thread
    /// before it is sent (e.g. 10m).
    #[arg(long, env = "FORANKRA_MAIL_BATCH_WINDOW", default_value = "10m", value_parser = humantime::parse_duration)]
    pub mail_batch_window: Duration,
    /// The wait before a failed e-mail is retried (e.g. 30s); doubled after each failure.
    #[arg(long, env = "FORANKRA_MAIL_RETRY_BASE", default_value = "30s", value_parser = humantime::parse_duration)]
    pub mail_retry_base: Duration,
    /// The hour (0–23, Europe/Stockholm time) at which users who chose a daily digest
    /// get their one message of the day.
    #[arg(long, env = "FORANKRA_DIGEST_HOUR", default_value_t = 7, value_parser = clap::value_parser!(i8).range(0..=23))]
    pub digest_hour: i8,
}

impl NotifyArgs {
    fn into_settings(self) -> anyhow::Result<NotifySettings> {
        let mail_from = self.mail_from.parse().map_err(|e| {
            anyhow::anyhow!("--mail-from `{}` is not an address: {e}", self.mail_from)
        })?;
        Ok(NotifySettings {
            smtp_url: self.smtp_url,
            mail_from,
            batch_window: self.mail_batch_window,
            retry_base: self.mail_retry_base,
            digest_hour: self.digest_hour,
        })
    }
}

/// OpenID Connect sign-in (docs/OPERATIONS.md, "Signing in with an identity provider").
#[derive(Debug, Args)]
pub struct OidcArgs {
    /// Where browsers reach this server, e.g. https://forankra.stad.se; the redirect URI
    /// registered at the provider is this followed by /auth/oidc/callback.
    #[arg(long, env = "FORANKRA_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<url::Url>,
    /// The OpenID Provider's issuer URL (its discovery document is read from
    /// ISSUER/.well-known/openid-configuration). Turns OpenID Connect sign-in on.
    #[arg(long, env = "FORANKRA_OIDC_ISSUER", requires_all = ["public_url", "oidc_client_id"])]
    pub oidc_issuer: Option<String>,
    /// The client id registered at the provider.
    #[arg(long, env = "FORANKRA_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,
    /// The client secret (prefer --oidc-client-secret-file: flags show in `ps`).
    #[arg(
        long,
        env = "FORANKRA_OIDC_CLIENT_SECRET",
        hide_env_values = true,
        conflicts_with = "oidc_client_secret_file"
    )]
    pub oidc_client_secret: Option<String>,
    /// A file holding the client secret (trailing white space ignored).
    #[arg(long, env = "FORANKRA_OIDC_CLIENT_SECRET_FILE")]
    pub oidc_client_secret_file: Option<PathBuf>,
    /// The ID token claim with the user's display name.
    #[arg(long, env = "FORANKRA_OIDC_NAME_CLAIM", default_value = "name")]
    pub oidc_name_claim: String,
    /// The ID token claim with the user's e-mail address.
    #[arg(long, env = "FORANKRA_OIDC_EMAIL_CLAIM", default_value = "email")]
    pub oidc_email_claim: String,
    /// The ID token claim that says the user's organisation (a string or a list, e.g.
    /// Entra's `department` or `groups`); mapped with `forankra org map`.
    #[arg(long, env = "FORANKRA_OIDC_ORG_CLAIM", default_value = "org")]
    pub oidc_org_claim: String,
    /// A JSON file listing further identity providers (id, name, issuer, clientId,
    /// clientSecretFile, claims), each with its own login button and routes
    /// (/auth/oidc/ID/login, /auth/oidc/ID/callback); see docs/OPERATIONS.md.
    #[arg(long, env = "FORANKRA_OIDC_PROVIDERS", requires = "public_url")]
    pub oidc_providers: Option<PathBuf>,
}

/// A public URL: http or https, nothing after the path.
fn parse_public_url(raw: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(raw.trim_end_matches('/')).map_err(|e| e.to_string())?;
    if !matches!(url.scheme(), "http" | "https")
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err("expected http(s)://host[:port][/path]".into());
    }
    Ok(url)
}

impl OidcArgs {
    /// The settings, reading the secret file if one is named.
    fn resolve(self) -> anyhow::Result<Option<OidcSettings>> {
        let Some(issuer) = self.oidc_issuer else {
            return Ok(None);
        };
        let client_secret = match (self.oidc_client_secret, self.oidc_client_secret_file) {
            (Some(secret), _) => Some(secret),
            (None, Some(path)) => Some(
                std::fs::read_to_string(&path)
                    .with_context(|| format!("reading the client secret {}", path.display()))?
                    .trim_end()
                    .to_owned(),
            ),
            (None, None) => None,
        };
        Ok(Some(OidcSettings {
            issuer,
            client_id: self
                .oidc_client_id
                .context("--oidc-client-id is required")?,
            client_secret: client_secret.map(SecretString::from),
            name_claim: self.oidc_name_claim,
            email_claim: self.oidc_email_claim,
            org_claim: self.oidc_org_claim,
        }))
    }
}

/// Limits per connection, per client address and per account (docs/SECURITY.md).
#[derive(Debug, Args)]
pub struct LimitArgs {
    /// WebSocket messages a second one connection may keep sending (awareness included);
    /// over it the connection is closed with 1008.
    #[arg(long, env = "FORANKRA_WS_MESSAGE_RATE", default_value_t = limits::DEFAULT_MESSAGE_RATE)]
    pub ws_message_rate: u32,
    /// WebSocket messages one connection may send at once above that rate.
    #[arg(long, env = "FORANKRA_WS_MESSAGE_BURST", default_value_t = limits::DEFAULT_MESSAGE_BURST)]
    pub ws_message_burst: u32,
    /// Bytes a second one WebSocket connection may keep sending; one message up to the
    /// size limit may come at once. Over it the connection is closed with 1008.
    #[arg(long, env = "FORANKRA_WS_BYTE_RATE", default_value_t = limits::DEFAULT_BYTE_RATE)]
    pub ws_byte_rate: u32,
    /// Open WebSocket connections per client address; more are refused with 429.
    #[arg(long, env = "FORANKRA_MAX_CONNECTIONS_PER_IP", default_value_t = limits::DEFAULT_CONNECTIONS_PER_IP)]
    pub max_connections_per_ip: u32,
    /// Open connections per client address that are not WebSockets (requests, idle
    /// keep-alive, half-sent heads); more are answered 429 and closed. Behind a proxy
    /// every connection comes from the proxy: raise it there.
    #[arg(long, env = "FORANKRA_MAX_HTTP_CONNECTIONS_PER_IP", default_value_t = limits::DEFAULT_HTTP_CONNECTIONS_PER_IP)]
    pub max_http_connections_per_ip: u32,
    /// Connections open at once, WebSockets included; more are closed at once. 0 (the
    /// default): the open-files limit, raised to its hard limit, less a tenth (at least
    /// 128) kept for the database and files.
    #[arg(long, env = "FORANKRA_MAX_CONNECTIONS", default_value_t = 0)]
    pub max_connections: usize,
    /// Time a request head may take to arrive whole (e.g. 15s); also how long an idle
    /// keep-alive connection is kept.
    #[arg(long, env = "FORANKRA_HEADER_READ_TIMEOUT", default_value = "15s", value_parser = humantime::parse_duration)]
    pub header_read_timeout: Duration,
    /// Time a request body may take to arrive whole, counted from its head (e.g. 60s).
    #[arg(long, env = "FORANKRA_BODY_READ_TIMEOUT", default_value = "60s", value_parser = humantime::parse_duration)]
    pub body_read_timeout: Duration,
    /// Failed logins on one account from one address before that address must wait
    /// (429 with Retry-After) before its next try on that account.
    #[arg(long, env = "FORANKRA_LOGINS_PER_ACCOUNT", default_value_t = limits::DEFAULT_LOGINS_PER_ACCOUNT)]
    pub logins_per_account: u32,
    /// The first wait after those failures (e.g. 1s); it doubles with each further
    /// failure, up to 15 minutes. Never a lock: the account's owner from another
    /// address is not slowed.
    #[arg(long, env = "FORANKRA_LOGIN_DELAY", default_value = "1s", value_parser = humantime::parse_duration)]
    pub login_delay: Duration,
    /// Failed logins per window per client address; more are refused with 429.
    #[arg(long, env = "FORANKRA_LOGINS_PER_IP", default_value_t = limits::DEFAULT_LOGINS_PER_IP)]
    pub logins_per_ip: u32,
    /// The window the per-address login limit counts over (e.g. 1m, 15m); also how long
    /// an account's failures from an address are remembered after their delay.
    #[arg(long, env = "FORANKRA_LOGIN_WINDOW", default_value = "1m", value_parser = humantime::parse_duration)]
    pub login_window: Duration,
    /// Most (account, address) pairs, and most addresses, the login throttle remembers;
    /// beyond it the stale and then the least recently used half are forgotten.
    #[arg(long, env = "FORANKRA_LOGIN_MAX_TRACKED", default_value_t = limits::login::DEFAULT_MAX_TRACKED)]
    pub login_max_tracked: usize,
    /// Take the client address from the last X-Forwarded-For hop (only behind a proxy
    /// that appends it, like the nginx in deploy/).
    #[arg(long, env = "FORANKRA_TRUST_PROXY_HEADERS")]
    pub trust_proxy_headers: bool,
    /// Documents one user may create in an hour (0: no limit); more get 429.
    #[arg(long, env = "FORANKRA_MAX_DOCUMENTS_PER_USER_HOUR", default_value_t = limits::quota::DEFAULT_DOCUMENTS_PER_HOUR)]
    pub max_documents_per_user_hour: u32,
    /// Documents one user may have created in all (0: no limit); more get 429.
    #[arg(long, env = "FORANKRA_MAX_DOCUMENTS_PER_USER", default_value_t = limits::quota::DEFAULT_DOCUMENTS_TOTAL)]
    pub max_documents_per_user: u32,
    /// Comment threads one user may open in an hour (0: no limit); more get 429.
    #[arg(long, env = "FORANKRA_MAX_THREADS_PER_USER_HOUR", default_value_t = limits::quota::DEFAULT_THREADS_PER_HOUR)]
    pub max_threads_per_user_hour: u32,
    /// Comment threads one user may have opened in all (0: no limit); more get 429.
    #[arg(long, env = "FORANKRA_MAX_THREADS_PER_USER", default_value_t = limits::quota::DEFAULT_THREADS_TOTAL)]
    pub max_threads_per_user: u32,
}

impl From<LimitArgs> for LimitSettings {
    fn from(args: LimitArgs) -> Self {
        Self {
            message_rate: Rate {
                per_sec: f64::from(args.ws_message_rate),
                burst: args.ws_message_burst,
            },
            byte_rate: args.ws_byte_rate,
            connections_per_ip: args.max_connections_per_ip,
            http_connections_per_ip: args.max_http_connections_per_ip,
            max_connections: args.max_connections,
            header_read_timeout: args.header_read_timeout,
            body_read_timeout: args.body_read_timeout,
            logins_per_account: args.logins_per_account,
            login_delay: args.login_delay,
            logins_per_ip: args.logins_per_ip,
            login_window: args.login_window,
            login_max_tracked: args.login_max_tracked,
            trust_proxy_headers: args.trust_proxy_headers,
            quotas: limits::QuotaSettings {
                documents: limits::Quota {
                    per_hour: args.max_documents_per_user_hour,
                    total: args.max_documents_per_user,
                },
                threads: limits::Quota {
                    per_hour: args.max_threads_per_user_hour,
                    total: args.max_threads_per_user,
                },
            },
        }
    }
}

/// Browser-facing HTTP settings.
#[derive(Debug, Args)]
pub struct HttpArgs {
    /// An origin (e.g. https://app.example.se) allowed to call the API cross-site;
    /// repeat or comma-separate for more. None by default: CORS stays closed.
    #[arg(long, env = "FORANKRA_CORS_ORIGIN", value_delimiter = ',',
        value_parser = crate::security_headers::parse_origin)]
    pub cors_origin: Vec<String>,
    /// Send Strict-Transport-Security: set it when clients reach the server over HTTPS.
    #[arg(long, env = "FORANKRA_HSTS")]
    pub hsts: bool,
}

impl From<HttpArgs> for HttpSettings {
    fn from(args: HttpArgs) -> Self {
        Self {
            cors_origins: args.cors_origin,
            hsts: args.hsts,
        }
    }
}

impl ServeArgs {
    /// The server's settings; `demo` forces the demo data on.
    pub fn into_config(self, demo: bool) -> anyhow::Result<Config> {
        let web_dir = self.web_dir;
        Ok(Config {
            listen: self.listen,
            database_url: self.database.database_url,
            jwt: self.jwt.resolve()?,
            audit_key: self.audit_key.source(),
            max_message_bytes: self.max_message_bytes,
            max_body_bytes: self.max_body_bytes,
            room_idle_unload: self.room_idle,
            membership_recheck: self.membership_recheck,
            compact_after_updates: self.compact_after,
            web_dir,
            demo: demo || self.demo,
            webhook_allow_http: self.webhook_allow_http,
            webhook_retry_base: Duration::from_millis(self.webhook_retry_base_ms),
            limits: self.limits.into(),
            http: self.http.into(),
            notify: self.notify.into_settings()?,
            public_url: self.oidc.public_url.clone(),
            oidc_providers: match &self.oidc.oidc_providers {
                Some(path) => providers_file::read(path, self.oidc.oidc_issuer.as_deref())?,
                None => Vec::new(),
            },
            oidc: self.oidc.resolve()?,
        })
    }
}

/// `forankra token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The user id (the token's `sub`).
    #[arg(long)]
    pub user: String,
    /// The user's display name.
    #[arg(long)]
    pub name: String,
    /// The organisation id the user acts for.
    #[arg(long)]
    pub org: String,
    /// How long the token is valid (e.g. 1h, 30m, 7d).
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    pub ttl: Duration,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub jwt: JwtArgs,
}
