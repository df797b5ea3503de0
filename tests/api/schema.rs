//! The two migration trees (`migrations/sqlite`, `migrations/postgres`) must build the
//! same schema: the store code runs one SQL text on both, so a column, key or index
//! that exists in one database only is a bug that shows on one backend only.
//!
//! Both trees are applied to fresh databases (through `Db::connect`, as the server does)
//! and each catalogue is read into one text line per fact: a table, a column with its
//! nullability and type family, the primary key, a unique constraint, an index by name
//! with its columns, a trigger by name. The two sets of lines must be equal, but for the
//! dialect differences in [`DIALECT_DIFFERENCES`]. On failure the test prints the lines
//! each side has alone.
//!
//! Normalised on purpose: type names to a family (`BLOB` and `BYTEA` are both `bytes`);
//! primary key columns count as NOT NULL (PostgreSQL makes them so; SQLite reports a
//! nullable `INTEGER PRIMARY KEY` though it is the rowid); unique constraints are
//! compared by columns, since SQLite names their indexes `sqlite_autoindex_*`.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Result, bail};
use forankra::storage::Db;
use sqlx::{PgPool, SqlitePool};

use crate::helpers::{Backend, TestDb, postgres_available};

/// Differences the two dialects force, as (SQLite line, PostgreSQL line) pairs: each is
/// the same intent spelled the only way each database can.
const DIALECT_DIFFERENCES: &[(&str, &str)] = &[
    // An auto-numbered key: SQLite's is the 64-bit rowid, which only a column declared
    // exactly `INTEGER PRIMARY KEY` aliases; PostgreSQL's is BIGSERIAL (a bigint).
    (
        "cluster_messages: column id integer not null",
        "cluster_messages: column id bigint not null",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_migration_trees_build_the_same_schema() -> Result<()> {
    // Both databases are required: under CI=true a missing PostgreSQL fails the test.
    if !postgres_available("schema::both_migration_trees_build_the_same_schema") {
        return Ok(());
    }
    let sqlite_db = TestDb::fresh(Backend::Sqlite).await?;
    let postgres_db = TestDb::fresh(Backend::Postgres).await?;
    let sqlite = match Db::connect(&sqlite_db.url).await? {
        Db::Sqlite(pool) => sqlite_catalogue(&pool).await?,
        Db::Postgres(_) => bail!("{} opened as PostgreSQL", sqlite_db.url),
    };
    let postgres = match Db::connect(&postgres_db.url).await? {
        Db::Postgres(pool) => postgres_catalogue(&pool).await?,
        Db::Sqlite(_) => bail!("{} opened as SQLite", postgres_db.url),
    };
    // Each reader must see every kind of fact, or an empty catalogue would compare equal.
    for kind in [
        ": table",
        ": column ",
        ": primary key (",
        ": unique (",
        ": index ",
        ": trigger ",
    ] {
        for (side, catalogue) in [("SQLite", &sqlite), ("PostgreSQL", &postgres)] {
            assert!(
                catalogue.iter().any(|line| line.contains(kind)),
                "nothing like {kind:?} read from {side}"
            );
        }
    }
    let diff = differences(&sqlite, &postgres);
    if !diff.is_empty() {
        bail!("the migration trees differ:\n{diff}");
    }
    Ok(())
}

#[test]
fn a_difference_outside_the_allow_list_is_reported() {
    let sqlite = lines(&[
        "t: table",
        "t: column a text not null",
        "t: index t_by_a (a)",
    ]);
    let postgres = lines(&["t: table", "t: column a text null"]);
    let diff = differences(&sqlite, &postgres);
    assert!(
        diff.contains("only in SQLite:     t: column a text not null"),
        "{diff}"
    );
    assert!(
        diff.contains("only in PostgreSQL: t: column a text null"),
        "{diff}"
    );
    assert!(
        diff.contains("only in SQLite:     t: index t_by_a (a)"),
        "{diff}"
    );
    let (allowed_sqlite, allowed_postgres) = DIALECT_DIFFERENCES[0];
    assert_eq!(
        differences(&lines(&[allowed_sqlite]), &lines(&[allowed_postgres])),
        ""
    );
}

fn lines(facts: &[&str]) -> BTreeSet<String> {
    facts.iter().map(|f| f.to_string()).collect()
}

/// The lines each side has alone, allowed differences removed; empty when equal.
fn differences(sqlite: &BTreeSet<String>, postgres: &BTreeSet<String>) -> String {
    let allowed_sqlite: BTreeSet<&str> = DIALECT_DIFFERENCES.iter().map(|(s, _)| *s).collect();
    let allowed_postgres: BTreeSet<&str> = DIALECT_DIFFERENCES.iter().map(|(_, p)| *p).collect();
    let mut out = String::new();
    for line in sqlite.difference(postgres) {
        if !allowed_sqlite.contains(line.as_str()) {
            out.push_str(&format!("  only in SQLite:     {line}\n"));
        }
    }
    for line in postgres.difference(sqlite) {
        if !allowed_postgres.contains(line.as_str()) {
            out.push_str(&format!("  only in PostgreSQL: {line}\n"));
        }
    }
    out
}

/// A declared (SQLite) or reported (PostgreSQL) type name's family.
fn family(type_name: &str) -> String {
    let t = type_name.to_ascii_lowercase();
    let family = match t.as_str() {
        "text" | "clob" => "text",
        _ if t.starts_with("varchar") || t.starts_with("character") || t.starts_with("char") => {
            "text"
        }
        "bigint" | "int8" | "bigserial" => "bigint",
        "integer" | "int" | "int4" | "serial" => "integer",
        "smallint" | "int2" => "smallint",
        "blob" | "bytea" => "bytes",
        "boolean" | "bool" => "bool",
        "real" | "float" | "double" | "double precision" | "float8" | "float4" => "float",
        "json" | "jsonb" => "json",
        _ if t.starts_with("timestamp") || t == "datetime" || t == "date" => "timestamp",
        _ => return format!("other({t})"),
    };
    family.to_owned()
}

/// One table's shape, gathered from either catalogue.
#[derive(Default)]
struct Table {
    /// Column name → (type family, not null).
    columns: BTreeMap<String, (String, bool)>,
    primary_key: Vec<String>,
    unique: BTreeSet<Vec<String>>,
    /// Index name → columns, unique, partial (indexes made by CREATE INDEX only).
    indexes: BTreeMap<String, (Vec<String>, bool, bool)>,
    triggers: BTreeSet<String>,
}

/// Every table as lines of text, one per fact.
fn render(tables: &BTreeMap<String, Table>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (name, table) in tables {
        out.insert(format!("{name}: table"));
        for (column, (family, not_null)) in &table.columns {
            let not_null = *not_null || table.primary_key.contains(column);
            let null = if not_null { "not null" } else { "null" };
            out.insert(format!("{name}: column {column} {family} {null}"));
        }
        out.insert(format!(
            "{name}: primary key ({})",
            table.primary_key.join(", ")
        ));
        for columns in &table.unique {
            out.insert(format!("{name}: unique ({})", columns.join(", ")));
        }
        for (index, (columns, unique, partial)) in &table.indexes {
            let unique = if *unique { " unique" } else { "" };
            let partial = if *partial { " partial" } else { "" };
            out.insert(format!(
                "{name}: index {index} ({}){unique}{partial}",
                columns.join(", ")
            ));
        }
        for trigger in &table.triggers {
            out.insert(format!("{name}: trigger {trigger}"));
        }
    }
    out
}

/// Tables the migration tool or the engine keeps, not the schema's.
fn is_bookkeeping(table: &str) -> bool {
    table == "_sqlx_migrations" || table.starts_with("sqlite_")
}

async fn sqlite_catalogue(pool: &SqlitePool) -> Result<BTreeSet<String>> {
    let names: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(pool)
            .await?;
    let mut tables = BTreeMap::new();
    for (name,) in names.into_iter().filter(|(n,)| !is_bookkeeping(n)) {
        let mut table = Table::default();
        let columns: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info($1) ORDER BY cid",
        )
        .bind(&name)
        .fetch_all(pool)
        .await?;
        let mut key: Vec<(i64, String)> = Vec::new();
        for (column, declared, not_null, pk) in columns {
            if pk > 0 {
                key.push((pk, column.clone()));
            }
            table
                .columns
                .insert(column, (family(&declared), not_null != 0));
        }
        key.sort();
        table.primary_key = key.into_iter().map(|(_, c)| c).collect();
        let indexes: Vec<(String, i64, String, i64)> =
            sqlx::query_as("SELECT name, \"unique\", origin, partial FROM pragma_index_list($1)")
                .bind(&name)
                .fetch_all(pool)
                .await?;
        for (index, unique, origin, partial) in indexes {
            let columns: Vec<(Option<String>,)> =
                sqlx::query_as("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                    .bind(&index)
                    .fetch_all(pool)
                    .await?;
            let columns = columns
                .into_iter()
                .map(|(c,)| c.unwrap_or_else(|| "<expr>".into()))
                .collect();
            match origin.as_str() {
                "pk" => {}
                "u" => {
                    table.unique.insert(columns);
                }
                _ => {
                    table
                        .indexes
                        .insert(index, (columns, unique != 0, partial != 0));
                }
            }
        }
        tables.insert(name, table);
    }
    let triggers: Vec<(String, String)> =
        sqlx::query_as("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'")
            .fetch_all(pool)
            .await?;
    for (trigger, table) in triggers {
        tables.entry(table).or_default().triggers.insert(trigger);
    }
    Ok(render(&tables))
}

async fn postgres_catalogue(pool: &PgPool) -> Result<BTreeSet<String>> {
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    let names: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .fetch_all(pool)
    .await?;
    for (name,) in names.into_iter().filter(|(n,)| !is_bookkeeping(n)) {
        tables.insert(name, Table::default());
    }
    let columns: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text \
         FROM information_schema.columns WHERE table_schema = 'public'",
    )
    .fetch_all(pool)
    .await?;
    for (name, column, data_type, nullable) in columns {
        if let Some(table) = tables.get_mut(&name) {
            table
                .columns
                .insert(column, (family(&data_type), nullable == "NO"));
        }
    }
    let constraints: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT tc.table_name::text, tc.constraint_name::text, tc.constraint_type::text, \
                kcu.column_name::text \
         FROM information_schema.table_constraints tc \
         JOIN information_schema.key_column_usage kcu \
           ON kcu.constraint_schema = tc.constraint_schema \
          AND kcu.constraint_name = tc.constraint_name \
          AND kcu.table_name = tc.table_name \
         WHERE tc.table_schema = 'public' AND tc.constraint_type IN ('PRIMARY KEY', 'UNIQUE') \
         ORDER BY tc.table_name, tc.constraint_name, kcu.ordinal_position",
    )
    .fetch_all(pool)
    .await?;
    let mut unique: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (name, constraint, kind, column) in constraints {
        let Some(table) = tables.get_mut(&name) else {
            continue;
        };
        if kind == "PRIMARY KEY" {
            table.primary_key.push(column);
        } else {
            unique.entry((name, constraint)).or_default().push(column);
        }
    }
    for ((name, _), columns) in unique {
        if let Some(table) = tables.get_mut(&name) {
            table.unique.insert(columns);
        }
    }
    // Indexes made by CREATE INDEX: those backing a primary key, unique or exclusion
    // constraint are compared as constraints above.
    let indexes: Vec<(String, String, bool, bool, String)> = sqlx::query_as(
        "SELECT pi.tablename::text, pi.indexname::text, ix.indisunique, \
                ix.indpred IS NOT NULL, COALESCE(a.attname::text, '<expr>') \
         FROM pg_indexes pi \
         JOIN pg_namespace n ON n.nspname = pi.schemaname \
         JOIN pg_class ic ON ic.relname = pi.indexname AND ic.relnamespace = n.oid \
         JOIN pg_index ix ON ix.indexrelid = ic.oid \
         CROSS JOIN LATERAL unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
         LEFT JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum \
         WHERE pi.schemaname = 'public' AND k.ord <= ix.indnkeyatts \
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c \
                           WHERE c.conindid = ix.indexrelid AND c.contype IN ('p', 'u', 'x')) \
         ORDER BY pi.tablename, pi.indexname, k.ord",
    )
    .fetch_all(pool)
    .await?;
    for (name, index, is_unique, partial, column) in indexes {
        if let Some(table) = tables.get_mut(&name) {
            let entry = table
                .indexes
                .entry(index)
                .or_insert_with(|| (Vec::new(), is_unique, partial));
            entry.0.push(column);
        }
    }
    let triggers: Vec<(String, String)> = sqlx::query_as(
        "SELECT t.tgname::text, c.relname::text FROM pg_trigger t \
         JOIN pg_class c ON c.oid = t.tgrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE NOT t.tgisinternal AND n.nspname = 'public'",
    )
    .fetch_all(pool)
    .await?;
    for (trigger, name) in triggers {
        tables.entry(name).or_default().triggers.insert(trigger);
    }
    Ok(render(&tables))
}
