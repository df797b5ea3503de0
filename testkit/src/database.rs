//! A fresh database per run: a SQLite file in a temporary folder, or a PostgreSQL
//! database created next to the one `TEST_DATABASE_URL` (or a benchmark's `--postgres-url`)
//! names, so runs never see each other's rows and need no clean-up between them.

use anyhow::{Context, Result};
use sqlx::Connection;

/// The environment variable naming the PostgreSQL server tests create databases on.
pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

/// Which database a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Whether PostgreSQL tests can run; says loudly when one is skipped, and fails (panics,
/// as a test failure should) under `CI=true`, where PostgreSQL must be there.
pub fn postgres_available(test: &str) -> bool {
    if std::env::var(TEST_DATABASE_URL).is_ok() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("{test}: CI=true but TEST_DATABASE_URL is not set; PostgreSQL tests must run in CI");
    }
    eprintln!(
        "SKIPPED {test}: set TEST_DATABASE_URL=postgres://USER@HOST/DB to run it on PostgreSQL"
    );
    false
}

/// A fresh, empty database that is removed when dropped.
pub struct TestDb {
    pub url: String,
    backend: Backend,
    _dir: Option<tempfile::TempDir>,
    /// The admin URL and the database's name, for dropping it.
    pg_admin: Option<(String, String)>,
}

impl TestDb {
    /// A new database on `backend`; PostgreSQL's goes next to `TEST_DATABASE_URL`.
    pub async fn fresh(backend: Backend) -> Result<Self> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir()?;
                let url = dir.path().join("forankra.db").display().to_string();
                Ok(Self {
                    url,
                    backend,
                    _dir: Some(dir),
                    pg_admin: None,
                })
            }
            Backend::Postgres => {
                let admin = std::env::var(TEST_DATABASE_URL).context(TEST_DATABASE_URL)?;
                let name = format!("forankra_test_{}", unique_suffix());
                execute(&admin, &format!("CREATE DATABASE {name}")).await?;
                let url = with_database(&admin, &name);
                Ok(Self {
                    url,
                    backend,
                    _dir: None,
                    pg_admin: Some((admin, name)),
                })
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Moves the database out, leaving an empty stand-in that removes nothing when
    /// dropped: how a stopped server hands its database to the next one.
    pub fn take(&mut self) -> TestDb {
        let placeholder = TestDb {
            url: String::new(),
            backend: self.backend,
            _dir: None,
            pg_admin: None,
        };
        std::mem::replace(self, placeholder)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg_admin.take() {
            // Drop runs outside async; a short-lived runtime on its own thread does the SQL.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                rt.block_on(drop_database(&admin, &name))
            })
            .join();
        }
    }
}

/// A single PostgreSQL connection, for statements outside the server's pool.
pub type PgConnection = sqlx::PgConnection;

/// Connects to PostgreSQL.
pub async fn pg_connect(url: &str) -> Result<PgConnection> {
    PgConnection::connect(url)
        .await
        .context("connecting to PostgreSQL")
}

/// Runs one statement that cannot be prepared (CREATE/DROP DATABASE) on a connection.
pub async fn pg_execute(conn: &mut PgConnection, sql: &str) -> Result<()> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(conn)
        .await?;
    Ok(())
}

/// Runs one statement on a connection of its own.
pub async fn execute(url: &str, sql: &str) -> Result<()> {
    let mut conn = pg_connect(url).await?;
    pg_execute(&mut conn, sql).await
}

/// A database named `name` next to `admin_url`, created now (any earlier one of that
/// name dropped first) and dropped by [`drop_database`]. Returns its URL.
pub async fn create_database(admin_url: &str, name: &str) -> Result<String> {
    drop_database(admin_url, name).await?;
    execute(admin_url, &format!("CREATE DATABASE {name}")).await?;
    Ok(with_database(admin_url, name))
}

/// Drops a database, closing its connections first.
pub async fn drop_database(admin_url: &str, name: &str) -> Result<()> {
    execute(
        admin_url,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await
}

/// `url` with its database name replaced by `name`, query parameters kept.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let prefix = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

/// Unique enough for a database name: the clock and this process.
fn unique_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}{:x}", nanos, std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_is_replaced_and_the_query_kept() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/test?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
