//! Runtime settings of a server, resolved from flags and environment by `cli`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use crate::limits::LimitSettings;
use crate::security_headers::HttpSettings;

/// Default limit on one WebSocket message: a whole large document fits in a sync step 2.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// The audit key of [`Config::for_tests`]: every server in a test process signs with it,
/// since the key in use is process-wide (`audit::key`).
pub const TEST_AUDIT_KEY: &str = "forankra-test-audit-key-0123456789abcdef";

/// How often each node rereads the members of its open documents (`sync::membership`).
pub const DEFAULT_MEMBERSHIP_RECHECK: Duration = Duration::from_secs(1);

/// Where the key comes from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// The key itself (`FORANKRA_AUDIT_KEY`), at least [`crate::audit::key::MIN_KEY_BYTES`] bytes.
    Value(SecretString),
    /// A file holding it; created (mode 0600) at the first start if absent.
    File(PathBuf),
    /// [`crate::audit::key::default_key_path`] for the database in use.
    Default,
}

/// Where JWTs are checked against.
#[derive(Debug, Clone)]
pub enum JwtConfig {
    /// HS256 with this secret; `None` means the secret kept in the database.
    Hs256(Option<SecretString>),
    /// RS256 with an identity provider's public key (PEM), and optionally a private key
    /// so this server can sign too.
    Rs256 {
        public_pem: Vec<u8>,
        private_pem: Option<Vec<u8>>,
    },
}

/// Signing in through an OpenID Provider (issue 15): the authorization code flow with
/// PKCE, this server as a confidential client.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// The provider's issuer URL, exactly as its discovery document states it; also the
    /// `provider` of its rows in `org_mappings`.
    pub issuer: String,
    pub client_id: String,
    /// `None`: a public client (PKCE alone).
    pub client_secret: Option<SecretString>,
    /// The ID token claim with the display name.
    pub name_claim: String,
    /// The ID token claim with the e-mail address.
    pub email_claim: String,
    /// The ID token claim whose value (or one of whose values) `org_mappings` maps to an
    /// organisation.
    pub org_claim: String,
}

/// One identity provider with its id on this server (its sign-in routes) and the name
/// on the login page's button.
#[derive(Debug, Clone)]
pub struct OidcProvider {
    pub id: String,
    pub display_name: Option<String>,
    pub settings: OidcSettings,
}

/// Everything a running server needs to know.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen; port 0 picks a free one.
    pub listen: SocketAddr,
    /// `postgres://…`, `sqlite://…` or a SQLite file path.
    pub database_url: String,
    pub jwt: JwtConfig,
    /// Where the key that authenticates the audit trail comes from.
    pub audit_key: KeySource,
    /// Largest WebSocket message accepted, in bytes.
    pub max_message_bytes: usize,
    /// Largest HTTP request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long an empty room stays in memory.
    pub room_idle_unload: Duration,
    /// How often each node rereads the membership of its open documents
    /// (`sync::membership`).
    pub membership_recheck: Duration,
    /// Log entries after which an open room compacts.
    pub compact_after_updates: i64,
    /// A built web app to serve at `/` instead of the embedded one.
    pub web_dir: Option<PathBuf>,
    /// Load the demo organisations, users and draft at start.
    pub demo: bool,
    /// Accept `http://` (and loopback or private) webhook URLs: for tests and closed networks.
    pub webhook_allow_http: bool,
    /// The wait after a webhook delivery's first failed attempt; doubled after each further one.
    pub webhook_retry_base: Duration,
    /// Message rate, connections per address, login throttle.
    pub limits: LimitSettings,
    /// CORS origins and HSTS.
    pub http: HttpSettings,
    /// Notification e-mail.
    pub notify: NotifySettings,
    /// Where browsers reach this server (`https://forankra.stad.se`): the OpenID
    /// redirect URI is made from it, and an `https` one marks the cookies `Secure`.
    pub public_url: Option<url::Url>,
    /// OpenID Connect sign-in through the provider of the `--oidc-*` flags, when given.
    pub oidc: Option<OidcSettings>,
    /// Further providers (`--oidc-providers FILE`): the city's staff IdP beside a
    /// federation for external remissinstanser, say.
    pub oidc_providers: Vec<OidcProvider>,
}

impl Config {
    /// Whether cookies must carry `Secure`: the server is reached over HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_ref()
            .is_some_and(|url| url.scheme() == "https")
    }
}

/// How notifications reach people by e-mail (`--smtp-url`, `--mail-from`, …).
#[derive(Debug, Clone)]
pub struct NotifySettings {
    /// The SMTP server; `None` keeps notifications in the app.
    pub smtp_url: Option<SecretString>,
    /// The sender.
    pub mail_from: lettre::message::Mailbox,
    /// How long a batched e-mail waits for more activities on its thread.
    pub batch_window: Duration,
    /// The wait after a first failed attempt; doubled after each further one.
    pub retry_base: Duration,
    /// The hour (0–23, Europe/Stockholm) at which daily digests go.
    pub digest_hour: i8,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            smtp_url: None,
            mail_from: lettre::message::Mailbox::new(
                Some("Förankra".into()),
                lettre::Address::new("forankra", "localhost").expect("a valid address"),
            ),
            batch_window: Duration::from_secs(10 * 60),
            retry_base: Duration::from_secs(30),
            // `notifications::digest::DEFAULT_HOUR` (config sits below notifications).
            digest_hour: 7,
        }
    }
}

impl Config {
    /// Settings for tests and embedding: an ephemeral port and the given database.
    pub fn for_tests(database_url: impl Into<String>) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            database_url: database_url.into(),
            jwt: JwtConfig::Hs256(None),
            audit_key: KeySource::Value(SecretString::from(TEST_AUDIT_KEY)),
            max_message_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            max_body_bytes: 4 * 1024 * 1024,
            room_idle_unload: Duration::from_secs(30),
            membership_recheck: DEFAULT_MEMBERSHIP_RECHECK,
            compact_after_updates: 500,
            web_dir: None,
            demo: false,
            webhook_allow_http: false,
            webhook_retry_base: Duration::from_millis(1000),
            limits: LimitSettings::default(),
            http: HttpSettings::default(),
            notify: NotifySettings::default(),
            public_url: None,
            oidc: None,
            oidc_providers: Vec::new(),
        }
    }
}
