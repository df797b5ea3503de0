//! The unsubscribe link of each e-mail: a token naming a user and a kind, signed with a
//! key kept in the database (`settings`, made at first use), so every node checks it and
//! no sign-in is needed to stop a kind of mail (the link is followed from a mail client).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::ids::UserId;
use crate::notifications::model::Kind;
use crate::storage::{Db, StoreError};

/// Where the signing key is kept.
const KEY_SETTING: &str = "notifications.unsubscribe_key";

/// A token that does not check out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the unsubscribe link is not valid (it may have been cut short by the mail program)")]
pub struct BadToken;

/// The signing key, made and stored on first use.
pub async fn key(db: &Db) -> Result<String, StoreError> {
    db.setting_or_insert(KEY_SETTING, || hex::encode(rand::random::<[u8; 32]>()))
        .await
}

fn mac(key: &str, message: &str) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(message.as_bytes());
    mac
}

/// The token for `user` and `kind`: `base64url(user \n kind) . hex(HMAC)`.
pub fn sign(key: &str, user: &UserId, kind: Kind) -> String {
    let message = format!("{user}\n{}", kind.as_str());
    let tag = hex::encode(mac(key, &message).finalize().into_bytes());
    format!("{}.{tag}", URL_SAFE_NO_PAD.encode(message))
}

/// The user and kind a token names, if its signature checks (in constant time).
pub fn verify(key: &str, token: &str) -> Result<(UserId, Kind), BadToken> {
    let (body, tag) = token.split_once('.').ok_or(BadToken)?;
    let message = URL_SAFE_NO_PAD.decode(body).map_err(|_| BadToken)?;
    let message = String::from_utf8(message).map_err(|_| BadToken)?;
    let tag = hex::decode(tag).map_err(|_| BadToken)?;
    mac(key, &message)
        .verify_slice(&tag)
        .map_err(|_| BadToken)?;
    let (user, kind) = message.split_once('\n').ok_or(BadToken)?;
    let user = UserId::parse(user).map_err(|_| BadToken)?;
    let kind = kind.parse::<Kind>().map_err(|_| BadToken)?;
    Ok((user, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_user_and_kind_and_refuses_any_change() {
        let user = UserId::parse("anna").unwrap();
        let token = sign("k", &user, Kind::ThreadReply);
        assert_eq!(verify("k", &token), Ok((user.clone(), Kind::ThreadReply)));
        assert_eq!(verify("other key", &token), Err(BadToken));
        let other = sign("k", &user, Kind::RemissInvited);
        let (body, _) = other.split_once('.').unwrap();
        let (_, tag) = token.split_once('.').unwrap();
        assert_eq!(verify("k", &format!("{body}.{tag}")), Err(BadToken));
        assert_eq!(verify("k", &token[..token.len() - 2]), Err(BadToken));
        assert_eq!(verify("k", "no-dot"), Err(BadToken));
    }
}
