//! Users and organisations as stored rows.
//!
//! Users and organisations can come from two places: our own password accounts, and the
//! claims of tokens from an identity provider. Either way a row is made the first time
//! they act (`ensure_*`), so documents, memberships and reports can name them.

use sqlx::FromRow;

use crate::ids::{OrgId, UserId};
use crate::storage::{Db, StoreError, Tx, now_ms};
use crate::{on_pool, on_tx};

/// Makes an organisation exist, keeping an existing name.
const ENSURE_ORG: &str = "INSERT INTO organisations (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING";

impl Tx {
    /// Makes the user and its organisation exist (the organisation named by its id until
    /// someone names it), keeping the user's name current: part of the first thing a
    /// user does, so that thing and its author are stored together.
    pub async fn ensure_user(
        &mut self,
        id: &UserId,
        name: &str,
        org: &OrgId,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        on_tx!(self, conn => {
            sqlx::query(ENSURE_ORG)
                .bind(org.as_str())
                .bind(org.as_str())
                .bind(now)
                .execute(&mut *conn)
                .await?;
            sqlx::query(
                "INSERT INTO users (id, name, org_id, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, org_id = excluded.org_id",
            )
            .bind(id.as_str())
            .bind(name)
            .bind(org.as_str())
            .bind(now)
            .execute(&mut *conn)
            .await?;
        });
        Ok(())
    }

    /// Makes the organisation exist inside the caller's transaction; an existing name is
    /// kept.
    pub async fn ensure_org(&mut self, id: &OrgId, name: &str) -> Result<(), StoreError> {
        on_tx!(self, conn => {
            sqlx::query(ENSURE_ORG)
                .bind(id.as_str())
                .bind(name)
                .bind(now_ms())
                .execute(&mut *conn)
                .await?;
        });
        Ok(())
    }
}

/// A user who can log in with a password.
#[derive(Debug, Clone, FromRow)]
pub struct LoginRow {
    pub id: String,
    pub name: String,
    pub org_id: String,
    pub password_hash: Option<String>,
    /// Set when an administrator disabled the account: no sign-in then.
    pub disabled_at: Option<i64>,
}

/// An organisation with its display name.
#[derive(Debug, Clone, FromRow)]
pub struct OrgRow {
    pub id: String,
    pub name: String,
}

impl Db {
    /// Makes the organisation exist; an existing name is kept.
    pub async fn ensure_org(&self, id: &OrgId, name: &str) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query(ENSURE_ORG)
                .bind(id.as_str())
                .bind(name)
                .bind(now_ms())
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Sets an organisation's display name, creating it if needed.
    pub async fn upsert_org(&self, id: &OrgId, name: &str) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("INSERT INTO organisations (id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET name = excluded.name")
                .bind(id.as_str())
                .bind(name)
                .bind(now_ms())
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Makes the user (and its organisation) exist, keeping the user's name current, in a
    /// transaction of its own (see [`Tx::ensure_user`]).
    pub async fn ensure_user(
        &self,
        id: &UserId,
        name: &str,
        org: &OrgId,
    ) -> Result<(), StoreError> {
        let mut tx = self.transaction().await?;
        tx.ensure_user(id, name, org).await?;
        tx.commit().await
    }

    /// Gives a user a login name and password hash.
    pub async fn set_login(
        &self,
        id: &UserId,
        username: &str,
        password_hash: &str,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("UPDATE users SET username = $2, password_hash = $3 WHERE id = $1")
                .bind(id.as_str())
                .bind(username)
                .bind(password_hash)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Finds a password account by login name.
    pub async fn find_login(&self, username: &str) -> Result<Option<LoginRow>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, LoginRow>(
                "SELECT id, name, org_id, password_hash, disabled_at FROM users WHERE username = $1",
            )
            .bind(username)
            .fetch_optional(pool)
            .await?)
        })
    }

    /// An organisation's display name, if it exists.
    pub async fn org(&self, id: &OrgId) -> Result<Option<OrgRow>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, OrgRow>("SELECT id, name FROM organisations WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(pool)
                .await?)
        })
    }

    /// Every organisation, by name: for inviting one to a document.
    pub async fn orgs(&self) -> Result<Vec<OrgRow>, StoreError> {
        on_pool!(self, pool => {
            Ok(sqlx::query_as::<_, OrgRow>("SELECT id, name FROM organisations ORDER BY name")
                .fetch_all(pool)
                .await?)
        })
    }
}
