//! Support code the integration tests share that needs sqlx (kept out of the test
//! binary's own modules so they need no database driver imports).

use anyhow::Result;
use sqlx::Connection;

/// A single PostgreSQL connection, for creating and dropping test databases.
pub type PgConnection = sqlx::PgConnection;

/// Connects to PostgreSQL.
pub async fn pg_connect(url: &str) -> Result<PgConnection> {
    Ok(PgConnection::connect(url).await?)
}

/// Runs one statement that cannot be prepared (CREATE/DROP DATABASE).
pub async fn pg_execute(conn: &mut PgConnection, sql: &str) -> Result<()> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(conn)
        .await?;
    Ok(())
}
