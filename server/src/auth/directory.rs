//! The directory of organisations and users, as an administrator keeps it.
//!
//! A city sets Förankra up without the web app first: `forankra org add`, `forankra user
//! add`, the organisation mapping of its identity provider (`forankra org map`); later
//! an administrator does the same on the Administration page. These are the stored
//! operations behind both, written on the caller's [`Tx`] so each use case of
//! `admin::changes` stores its change and its log entry together. Disabling a user,
//! moving them to another organisation or resetting a password stamps
//! `sessions_revoked_at`: the running nodes pick that up within one recheck interval
//! ([`crate::auth::revocation`]) and refuse the user's older tokens.

use sqlx::FromRow;

use crate::ids::{OrgId, UserId};
use crate::storage::{Db, StoreError, Tx, now_ms};
use crate::{on_pool, on_tx};

/// Fewest characters of a password set by an administrator or by its user. Long
/// passphrases beat composition rules; the login throttle and Argon2 do the rest.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest e-mail address accepted (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;

/// Why a directory change was refused.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error("organisation `{0}` already exists")]
    OrgExists(String),
    #[error("no organisation `{0}`")]
    NoSuchOrg(String),
    #[error("user `{0}` already exists")]
    UserExists(String),
    #[error("no user `{0}`")]
    NoSuchUser(String),
    #[error("`{0}` is not an e-mail address")]
    BadEmail(String),
    #[error("a password needs at least {MIN_PASSWORD_CHARS} characters")]
    PasswordTooShort,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks an e-mail address's shape: one `@` with text on both sides, a dot in the
/// domain, no spaces or control characters. Delivery is the real check.
pub fn check_email(email: &str) -> Result<String, DirectoryError> {
    let email = email.trim();
    let bad = || DirectoryError::BadEmail(email.to_owned());
    if email.chars().count() > MAX_EMAIL_CHARS
        || email.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(bad());
    }
    let (local, domain) = email.split_once('@').ok_or_else(bad)?;
    if local.is_empty() || domain.contains('@') || !domain.contains('.') || domain.ends_with('.') {
        return Err(bad());
    }
    Ok(email.to_owned())
}

/// Checks a new password's length (whitespace counts: passphrases have spaces).
pub fn check_new_password(password: &str) -> Result<(), DirectoryError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(DirectoryError::PasswordTooShort);
    }
    Ok(())
}

/// A user as an administrator sees them.
#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: String,
    pub name: String,
    pub email: Option<String>,
    pub org_id: String,
    pub org_name: String,
    pub is_admin: i64,
    pub disabled_at: Option<i64>,
    pub last_sign_in_at: Option<i64>,
    /// Whether the user can sign in with a password.
    pub has_password: i64,
}

/// A new user.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: UserId,
    pub name: String,
    pub org: OrgId,
    pub email: Option<String>,
    pub admin: bool,
    /// An Argon2 hash; the login name is then the user id.
    pub password_hash: Option<String>,
}

/// One identity provider's claim value standing for one of our organisations.
#[derive(Debug, Clone, FromRow)]
pub struct OrgMapping {
    pub provider: String,
    pub claim_value: String,
    pub org_id: String,
}

/// Runs one statement inside the transaction and says how many rows it changed.
macro_rules! rows_changed {
    ($tx:expr, $sql:expr $(, $bind:expr)* $(,)?) => {
        on_tx!($tx, conn => {
            sqlx::query($sql)
                $(.bind($bind))*
                .execute(&mut *conn)
                .await
                .map_err(StoreError::from)?
                .rows_affected()
        })
    };
}

/// A change to one user: refused when it changed no row.
fn one_user(changed: u64, id: &UserId) -> Result<(), DirectoryError> {
    if changed == 0 {
        return Err(DirectoryError::NoSuchUser(id.to_string()));
    }
    Ok(())
}

/// The columns of [`UserRow`], from `users u JOIN organisations o`.
macro_rules! user_select {
    ($($rest:literal)*) => {
        concat!(
            "SELECT u.id, u.name, u.email, u.org_id, o.name AS org_name, u.is_admin, \
             u.disabled_at, u.last_sign_in_at, \
             CAST(CASE WHEN u.password_hash IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_password \
             FROM users u JOIN organisations o ON o.id = u.org_id ",
            $($rest),*
        )
    };
}

/// The directory's writes, each inside the caller's transaction: the administration use
/// cases (`admin::changes`) combine one with its entry in the administration log.
impl Tx {
    /// Adds an organisation; refused if the id is taken.
    pub async fn add_org(&mut self, id: &OrgId, name: &str) -> Result<(), DirectoryError> {
        let added = rows_changed!(
            self,
            "INSERT INTO organisations (id, name, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO NOTHING",
            id.as_str(),
            name,
            now_ms(),
        );
        if added == 0 {
            return Err(DirectoryError::OrgExists(id.to_string()));
        }
        Ok(())
    }

    /// Renames an existing organisation.
    pub async fn rename_org(&mut self, id: &OrgId, name: &str) -> Result<(), DirectoryError> {
        let sql = "UPDATE organisations SET name = $2 WHERE id = $1";
        if rows_changed!(self, sql, id.as_str(), name) == 0 {
            return Err(DirectoryError::NoSuchOrg(id.to_string()));
        }
        Ok(())
    }

    /// Refuses an organisation that does not exist.
    async fn require_org(&mut self, id: &OrgId) -> Result<(), DirectoryError> {
        let found: Option<String> = on_tx!(self, conn => {
            sqlx::query_scalar("SELECT id FROM organisations WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(&mut *conn)
                .await
                .map_err(StoreError::from)?
        });
        found
            .map(drop)
            .ok_or_else(|| DirectoryError::NoSuchOrg(id.to_string()))
    }

    /// Adds a user to an existing organisation; refused if the id is taken.
    pub async fn add_user(&mut self, user: &NewUser) -> Result<(), DirectoryError> {
        self.require_org(&user.org).await?;
        let username = user.password_hash.as_ref().map(|_| user.id.as_str());
        let added = rows_changed!(
            self,
            "INSERT INTO users (id, name, org_id, username, password_hash, email, is_admin, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING",
            user.id.as_str(),
            &user.name,
            user.org.as_str(),
            username,
            user.password_hash.as_deref(),
            user.email.as_deref(),
            i64::from(user.admin),
            now_ms(),
        );
        if added == 0 {
            return Err(DirectoryError::UserExists(user.id.to_string()));
        }
        Ok(())
    }

    /// One user as [`Db::users`] lists them, read inside the transaction.
    pub async fn directory_user(&mut self, id: &UserId) -> Result<Option<UserRow>, StoreError> {
        on_tx!(self, conn => {
            Ok(sqlx::query_as::<_, UserRow>(user_select!("WHERE u.id = $1"))
                .bind(id.as_str())
                .fetch_optional(&mut *conn)
                .await?)
        })
    }

    /// How many active administrators there are besides `except`.
    pub async fn other_active_admins(&mut self, except: &UserId) -> Result<i64, StoreError> {
        on_tx!(self, conn => {
            Ok(sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM users WHERE is_admin = 1 AND disabled_at IS NULL AND id <> $1",
            )
            .bind(except.as_str())
            .fetch_one(&mut *conn)
            .await?)
        })
    }

    /// Sets a user's name and e-mail address (`None` removes it).
    pub async fn set_profile(
        &mut self,
        id: &UserId,
        name: &str,
        email: Option<&str>,
    ) -> Result<(), DirectoryError> {
        let sql = "UPDATE users SET name = $2, email = $3 WHERE id = $1";
        one_user(rows_changed!(self, sql, id.as_str(), name, email), id)
    }

    /// Moves a user to another existing organisation and ends their sign-ins: their
    /// tokens name the old organisation, and their open sockets close at the next
    /// membership recheck (the `moved` entries of `auth::authorize`).
    pub async fn move_user(&mut self, id: &UserId, org: &OrgId) -> Result<(), DirectoryError> {
        self.require_org(org).await?;
        let sql = "UPDATE users SET org_id = $2, sessions_revoked_at = $3 WHERE id = $1";
        one_user(
            rows_changed!(self, sql, id.as_str(), org.as_str(), now_ms()),
            id,
        )
    }

    /// Disables a user and ends their sign-ins, or enables them again (earlier tokens
    /// stay ended: they sign in anew).
    pub async fn set_disabled(
        &mut self,
        id: &UserId,
        disabled: bool,
    ) -> Result<(), DirectoryError> {
        let changed = if disabled {
            rows_changed!(
                self,
                "UPDATE users SET disabled_at = COALESCE(disabled_at, $2), \
                 sessions_revoked_at = $2 WHERE id = $1",
                id.as_str(),
                now_ms(),
            )
        } else {
            let sql = "UPDATE users SET disabled_at = NULL WHERE id = $1";
            rows_changed!(self, sql, id.as_str())
        };
        one_user(changed, id)
    }

    /// Sets a user's password (login name: their id, unless they had one) and ends the
    /// sign-ins made with the old one.
    pub async fn set_password(&mut self, id: &UserId, hash: &str) -> Result<(), DirectoryError> {
        let changed = rows_changed!(
            self,
            "UPDATE users SET password_hash = $2, username = COALESCE(username, id), \
             sessions_revoked_at = $3 WHERE id = $1",
            id.as_str(),
            hash,
            now_ms(),
        );
        one_user(changed, id)
    }

    /// Gives or takes the server-wide administrator role.
    pub async fn set_admin(&mut self, id: &UserId, admin: bool) -> Result<(), DirectoryError> {
        let sql = "UPDATE users SET is_admin = $2 WHERE id = $1";
        one_user(rows_changed!(self, sql, id.as_str(), i64::from(admin)), id)
    }

    /// Maps a provider's claim value to an existing organisation, replacing an earlier
    /// mapping of the same value.
    pub async fn map_org(
        &mut self,
        provider: &str,
        claim_value: &str,
        org: &OrgId,
    ) -> Result<(), DirectoryError> {
        self.require_org(org).await?;
        rows_changed!(
            self,
            "INSERT INTO org_mappings (provider, claim_value, org_id, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (provider, claim_value) DO UPDATE SET org_id = excluded.org_id",
            provider,
            claim_value,
            org.as_str(),
            now_ms(),
        );
        Ok(())
    }

    /// Removes a mapping; says whether there was one.
    pub async fn unmap_org(
        &mut self,
        provider: &str,
        claim_value: &str,
    ) -> Result<bool, StoreError> {
        let removed = on_tx!(self, conn => {
            sqlx::query("DELETE FROM org_mappings WHERE provider = $1 AND claim_value = $2")
                .bind(provider)
                .bind(claim_value)
                .execute(&mut *conn)
                .await?
                .rows_affected()
        });
        Ok(removed > 0)
    }
}

/// Seeding without the administration log: tests and fixtures set up a directory with
/// these, each in a transaction of its own. An administrator's changes go through
/// `admin::changes`, which logs them.
impl Db {
    /// [`Tx::add_org`], committed.
    pub async fn add_org(&self, id: &OrgId, name: &str) -> Result<(), DirectoryError> {
        let mut tx = self.transaction().await?;
        tx.add_org(id, name).await?;
        Ok(tx.commit().await?)
    }

    /// [`Tx::add_user`], committed.
    pub async fn add_user(&self, user: &NewUser) -> Result<(), DirectoryError> {
        let mut tx = self.transaction().await?;
        tx.add_user(user).await?;
        Ok(tx.commit().await?)
    }

    /// [`Tx::set_disabled`], committed.
    pub async fn set_disabled(&self, id: &UserId, disabled: bool) -> Result<(), DirectoryError> {
        let mut tx = self.transaction().await?;
        tx.set_disabled(id, disabled).await?;
        Ok(tx.commit().await?)
    }

    /// [`Tx::map_org`], committed.
    pub async fn map_org(
        &self,
        provider: &str,
        claim_value: &str,
        org: &OrgId,
    ) -> Result<(), DirectoryError> {
        let mut tx = self.transaction().await?;
        tx.map_org(provider, claim_value, org).await?;
        Ok(tx.commit().await?)
    }
}

impl Db {
    /// Every user with their organisation's name, by organisation and name.
    pub async fn users(&self) -> Result<Vec<UserRow>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, UserRow>(user_select!("ORDER BY o.name, u.name, u.id"))
                .fetch_all(pool)
                .await?)
        })
    }

    /// One user as [`Db::users`] lists them.
    pub async fn user(&self, id: &UserId) -> Result<Option<UserRow>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, UserRow>(user_select!("WHERE u.id = $1"))
                .bind(id.as_str())
                .fetch_optional(pool)
                .await?)
        })
    }

    /// A user's password hash, if they have one: for changing their own password.
    pub async fn password_hash(&self, id: &UserId) -> Result<Option<String>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_scalar::<_, Option<String>>(
                "SELECT password_hash FROM users WHERE id = $1",
            )
            .bind(id.as_str())
            .fetch_optional(pool)
            .await?
            .flatten())
        })
    }

    /// Notes a successful sign-in, for the administrator's list.
    pub async fn record_sign_in(&self, id: &UserId) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE users SET last_sign_in_at = $2 WHERE id = $1")
                .bind(id.as_str())
                .bind(now_ms())
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Creates or updates a user signed in by an identity provider (name, e-mail,
    /// organisation as the provider now says, the sign-in time) and says whether the
    /// user is disabled. An e-mail the provider does not send keeps the one on record.
    pub async fn upsert_signed_in_user(
        &self,
        id: &UserId,
        name: &str,
        email: Option<&str>,
        org: &OrgId,
    ) -> Result<bool, StoreError> {
        let disabled_at = on_pool!(self, pool => {
            sqlx::query_scalar::<_, Option<i64>>(
                "INSERT INTO users (id, name, org_id, email, created_at, last_sign_in_at) \
                 VALUES ($1, $2, $3, $4, $5, $5) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, org_id = excluded.org_id, \
                 email = COALESCE(excluded.email, users.email), \
                 last_sign_in_at = excluded.last_sign_in_at \
                 RETURNING disabled_at",
            )
            .bind(id.as_str())
            .bind(name)
            .bind(org.as_str())
            .bind(email)
            .bind(now_ms())
            .fetch_one(pool)
            .await?
        });
        Ok(disabled_at.is_some())
    }

    /// Every organisation mapping, by provider and value.
    pub async fn org_mappings(&self) -> Result<Vec<OrgMapping>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, OrgMapping>(
                "SELECT provider, claim_value, org_id FROM org_mappings ORDER BY provider, claim_value",
            )
            .fetch_all(pool)
            .await?)
        })
    }

    /// The organisation a provider's claim value stands for, if it is mapped.
    pub async fn mapped_org(
        &self,
        provider: &str,
        claim_value: &str,
    ) -> Result<Option<String>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_scalar::<_, String>(
                "SELECT org_id FROM org_mappings WHERE provider = $1 AND claim_value = $2",
            )
            .bind(provider)
            .bind(claim_value)
            .fetch_optional(pool)
            .await?)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e_mail_addresses_are_checked_for_shape_only() {
        assert_eq!(
            check_email(" anna.lind@stad.example.se ").unwrap(),
            "anna.lind@stad.example.se"
        );
        for bad in [
            "anna",
            "@stad.se",
            "anna@stad",
            "a b@stad.se",
            "a@b@stad.se",
            "a@stad.",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_new_password("kort").is_err());
        assert!(check_new_password("tio tecken").is_ok());
    }
}
