//! Server-wide settings kept in the database, such as the generated JWT secret.
//!
//! Keeping the secret in the database rather than in a file means that `forankra token`
//! and every node of a PostgreSQL deployment agree on it without extra configuration.

use crate::on_pool;
use crate::storage::{Db, StoreError};

impl Db {
    /// Reads `key`, or stores `make()` under it if it is absent. When two processes race,
    /// both end up with the value that was stored first.
    pub async fn setting_or_insert(
        &self,
        key: &str,
        make: impl FnOnce() -> String,
    ) -> Result<String, StoreError> {
        let value = make();
        on_pool!(self, pool => {
            sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
                .bind(key)
                .bind(&value)
                .execute(pool)
                .await?;
            let stored: (String,) = sqlx::query_as("SELECT value FROM settings WHERE key = $1")
                .bind(key)
                .fetch_one(pool)
                .await?;
            Ok(stored.0)
        })
    }

    /// Stores `value` under `key`, replacing what was there.
    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .bind(key)
                .bind(value)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
