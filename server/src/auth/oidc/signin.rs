//! From a checked ID token to one of our users, in an organisation the operator mapped.
//!
//! The organisation comes only from `org_mappings` (provider = issuer, the org claim's
//! value): a value nobody mapped is refused, never made into a new organisation, because
//! who speaks for which förvaltning is the record's whole point. The user id is derived
//! from the issuer and the provider's `sub` (`oidc-` and 32 hex digits of their
//! SHA-256), so two providers' subjects never meet and no provider can claim a password
//! user's id; name and e-mail follow the provider at every sign-in.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::auth::Identity;
use crate::auth::directory::check_email;
use crate::auth::jwt::check_name;
use crate::auth::oidc::OidcError;
use crate::config::OidcSettings;
use crate::ids::{OrgId, UserId};
use crate::storage::Db;

/// Most values of the org claim looked at (a `groups` claim can be long).
const MAX_ORG_VALUES: usize = 200;

/// Our user id for a provider's subject.
pub fn user_id_for(issuer: &str, sub: &str) -> UserId {
    let digest = Sha256::digest(format!("{issuer}\n{sub}").as_bytes());
    let id = format!("oidc-{}", &hex::encode(digest)[..32]);
    UserId::parse(id).unwrap_or_else(|_| unreachable!("ASCII letters, digits and a dash"))
}

/// The claim's text values: a string, or the strings of a list.
fn claim_values(claims: &Map<String, Value>, claim: &str) -> Vec<String> {
    match claims.get(claim) {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .take(MAX_ORG_VALUES)
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// The organisation the claims map to, the user created or updated, the sign-in noted.
pub async fn sign_in(
    db: &Db,
    settings: &OidcSettings,
    claims: &Map<String, Value>,
) -> Result<Identity, OidcError> {
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && s.len() <= 255)
        .ok_or_else(|| OidcError::MissingClaim("sub".into()))?;
    let values = claim_values(claims, &settings.org_claim);
    let org = mapped_org(db, settings, values).await?;
    let name = claims
        .get(&settings.name_claim)
        .and_then(Value::as_str)
        .map(|n| check_name(n.to_owned()))
        .transpose()
        .map_err(|_| OidcError::MissingClaim(settings.name_claim.clone()))?
        .ok_or_else(|| OidcError::MissingClaim(settings.name_claim.clone()))?;
    let email = claims
        .get(&settings.email_claim)
        .and_then(Value::as_str)
        .and_then(|e| check_email(e).ok());
    let user = user_id_for(&settings.issuer, sub);
    let disabled = db
        .upsert_signed_in_user(&user, &name, email.as_deref(), &org)
        .await?;
    if disabled {
        return Err(OidcError::Disabled);
    }
    Ok(Identity { user, name, org })
}

/// The one organisation the claim's values are mapped to.
async fn mapped_org(
    db: &Db,
    settings: &OidcSettings,
    values: Vec<String>,
) -> Result<OrgId, OidcError> {
    let mut orgs: Vec<String> = Vec::new();
    for value in &values {
        if let Some(org) = db.mapped_org(&settings.issuer, value).await?
            && !orgs.contains(&org)
        {
            orgs.push(org);
        }
    }
    match orgs.as_slice() {
        [] => Err(OidcError::Unmapped {
            claim: settings.org_claim.clone(),
            values,
        }),
        [org] => OrgId::parse(org.clone())
            .map_err(|e| OidcError::Store(crate::storage::StoreError::Corrupt(e.to_string()))),
        _ => Err(OidcError::Ambiguous { values }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_differ_by_provider_and_never_look_like_a_password_users() {
        let a = user_id_for("https://login.example/a", "anna");
        let b = user_id_for("https://login.example/b", "anna");
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("oidc-") && a.as_str().len() == 37);
        assert_eq!(a, user_id_for("https://login.example/a", "anna"));
    }

    #[test]
    fn the_org_claim_may_be_a_string_or_a_list() {
        let claims: Map<String, Value> =
            serde_json::from_str(r#"{"a": "UBF", "b": ["x", 3, "y"], "c": 7}"#).unwrap();
        assert_eq!(claim_values(&claims, "a"), ["UBF"]);
        assert_eq!(claim_values(&claims, "b"), ["x", "y"]);
        assert!(claim_values(&claims, "c").is_empty());
        assert!(claim_values(&claims, "missing").is_empty());
    }
}
