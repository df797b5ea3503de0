//! `--oidc-providers FILE`: several identity providers, e.g. the city's staff IdP and a
//! federation for external remissinstanser, as a JSON list.
//!
//! ```json
//! [{"id": "stad", "name": "Stadens konto", "issuer": "https://login.stad.se/realms/stad",
//!   "clientId": "forankra", "clientSecretFile": "/run/secrets/stad",
//!   "orgClaim": "department"}]
//! ```
//!
//! `name` (the login page's button), `clientSecretFile`, `nameClaim` (default `name`),
//! `emailClaim` (`email`) and `orgClaim` (`org`) may be left out. A secret is only ever
//! read from a file, never written in this one (which is often kept in a repository).
//! Each provider signs in at `/auth/oidc/{id}/login`, returns to
//! `/auth/oidc/{id}/callback` and has its own organisation mapping (by issuer).

use std::path::Path;

use anyhow::{Context, bail, ensure};
use secrecy::SecretString;
use serde::Deserialize;

use crate::auth::oidc::FLAG_PROVIDER_ID;
use crate::config::{OidcProvider, OidcSettings};

/// Most providers one file may list.
const MAX_PROVIDERS: usize = 20;
/// Largest file read.
const MAX_FILE_BYTES: u64 = 256 * 1024;
/// Longest provider id: it is a URL path segment.
const MAX_ID_CHARS: usize = 32;

/// One entry of the file.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Entry {
    id: String,
    #[serde(default)]
    name: Option<String>,
    issuer: String,
    client_id: String,
    #[serde(default)]
    client_secret_file: Option<std::path::PathBuf>,
    #[serde(default = "default_name_claim")]
    name_claim: String,
    #[serde(default = "default_email_claim")]
    email_claim: String,
    #[serde(default = "default_org_claim")]
    org_claim: String,
}

fn default_name_claim() -> String {
    "name".into()
}
fn default_email_claim() -> String {
    "email".into()
}
fn default_org_claim() -> String {
    "org".into()
}

/// Reads and checks the file; `flag_issuer` is the `--oidc-issuer` given beside it.
pub fn read(path: &Path, flag_issuer: Option<&str>) -> anyhow::Result<Vec<OidcProvider>> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    ensure!(
        size <= MAX_FILE_BYTES,
        "{} is larger than {MAX_FILE_BYTES} bytes",
        path.display()
    );
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse(&text, flag_issuer, &|file| {
        std::fs::read_to_string(file)
            .map(|s| s.trim_end().to_owned())
            .with_context(|| format!("reading the client secret {}", file.display()))
    })
    .with_context(|| format!("in {}", path.display()))
}

/// Parses the file's text, reading secrets with `secret`.
fn parse(
    text: &str,
    flag_issuer: Option<&str>,
    secret: &dyn Fn(&Path) -> anyhow::Result<String>,
) -> anyhow::Result<Vec<OidcProvider>> {
    let entries: Vec<Entry> =
        serde_json::from_str(text).context("expected a JSON list of providers")?;
    ensure!(
        entries.len() <= MAX_PROVIDERS,
        "at most {MAX_PROVIDERS} providers"
    );
    let mut ids = Vec::new();
    let mut issuers: Vec<String> = flag_issuer.map(str::to_owned).into_iter().collect();
    let mut providers = Vec::new();
    for entry in entries {
        check_id(&entry.id)?;
        if ids.contains(&entry.id) {
            bail!("provider id `{}` is listed twice", entry.id);
        }
        // The mapping table is keyed by issuer: two entries for one issuer would share it.
        if issuers.contains(&entry.issuer) {
            bail!("issuer {} is configured twice", entry.issuer);
        }
        url::Url::parse(&entry.issuer)
            .with_context(|| format!("provider `{}`: issuer is not a URL", entry.id))?;
        ensure!(
            !entry.client_id.is_empty(),
            "provider `{}`: clientId is empty",
            entry.id
        );
        let client_secret = entry
            .client_secret_file
            .as_deref()
            .map(secret)
            .transpose()?
            .map(SecretString::from);
        ids.push(entry.id.clone());
        issuers.push(entry.issuer.clone());
        providers.push(OidcProvider {
            id: entry.id,
            display_name: entry.name.filter(|n| !n.trim().is_empty()),
            settings: OidcSettings {
                issuer: entry.issuer,
                client_id: entry.client_id,
                client_secret,
                name_claim: entry.name_claim,
                email_claim: entry.email_claim,
                org_claim: entry.org_claim,
            },
        });
    }
    Ok(providers)
}

/// A provider id: lower-case letters, digits and dashes, and not a word its routes use.
fn check_id(id: &str) -> anyhow::Result<()> {
    let shaped = !id.is_empty()
        && id.len() <= MAX_ID_CHARS
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    ensure!(
        shaped,
        "provider id `{id}`: 1 to {MAX_ID_CHARS} lower-case letters, digits and dashes"
    );
    ensure!(
        !matches!(id, "login" | "callback") && id != FLAG_PROVIDER_ID,
        "provider id `{id}` is reserved"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_secret(_: &Path) -> anyhow::Result<String> {
        Ok("hemligt".into())
    }

    #[test]
    fn a_list_of_providers_is_read_with_defaults() {
        let text = r#"[
            {"id": "stad", "name": "Stadens konto", "issuer": "https://idp.stad.se", "clientId": "f",
             "clientSecretFile": "/s", "orgClaim": "department"},
            {"id": "federation", "issuer": "https://fed.example", "clientId": "g"}
        ]"#;
        let providers = parse(text, Some("https://flag.example"), &no_secret).unwrap();
        assert_eq!(providers.len(), 2);
        assert_eq!(providers[0].display_name.as_deref(), Some("Stadens konto"));
        assert_eq!(providers[0].settings.org_claim, "department");
        assert!(providers[0].settings.client_secret.is_some());
        assert_eq!(providers[1].settings.org_claim, "org");
        assert!(providers[1].settings.client_secret.is_none());
    }

    #[test]
    fn bad_ids_twice_listed_issuers_and_unknown_fields_are_refused() {
        let one = |entry: &str| {
            parse(
                &format!("[{entry}]"),
                Some("https://flag.example"),
                &no_secret,
            )
        };
        for bad in [
            r#"{"id": "Stad", "issuer": "https://a.example", "clientId": "f"}"#,
            r#"{"id": "login", "issuer": "https://a.example", "clientId": "f"}"#,
            r#"{"id": "default", "issuer": "https://a.example", "clientId": "f"}"#,
            r#"{"id": "a", "issuer": "https://flag.example", "clientId": "f"}"#,
            r#"{"id": "a", "issuer": "inte en url", "clientId": "f"}"#,
            r#"{"id": "a", "issuer": "https://a.example", "clientId": "f", "clientSecret": "x"}"#,
        ] {
            assert!(one(bad).is_err(), "{bad}");
        }
        let twice = r#"[{"id": "a", "issuer": "https://a.example", "clientId": "f"},
                        {"id": "a", "issuer": "https://b.example", "clientId": "f"}]"#;
        assert!(parse(twice, None, &no_secret).is_err());
    }
}
