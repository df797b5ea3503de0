//! The `forankra` binary: parse the command line, then hand over to the library.

use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use forankra::auth::Identity;
use forankra::cli::{Cli, Command, PurgeArgs, TokenArgs};
use forankra::ids::{OrgId, UserId};
use forankra::storage::Db;
use forankra::{App, telemetry};

/// jemalloc, not glibc's malloc. Under a steady editing load glibc kept memory that rooms
/// and connections had freed: the 30-minute soak's RSS grew 11 % after warm-up with
/// glibc (mimalloc: 13 %) and 3.7 % with jemalloc, whose background thread returns freed
/// pages to the system after a few seconds (docs/RELIABILITY.md, "The allocator").
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args.into_config(false)?).await,
        Command::Demo(args) => serve(args.into_config(true)?).await,
        Command::Token(args) => token(args).await,
        Command::RotateSecret(args) => rotate_secret(args).await,
        Command::Purge(args) => purge(args).await,
        Command::Org(command) => forankra::cli::admin::org(command).await,
        Command::User(command) => forankra::cli::admin::user(command).await,
    }
}

async fn serve(config: forankra::Config) -> anyhow::Result<()> {
    telemetry::init();
    if config.web_dir.is_none() && !forankra::web::has_embedded_app() {
        tracing::warn!(
            "this binary carries no web app: build web/ before the server, or pass --web-dir"
        );
    }
    let app = App::build(config).await?;
    tracing::info!(address = %app.local_addr(), "Förankra is listening");
    app.run_until(shutdown_signal()).await
}

/// Prints a token valid for the server that uses the same database and key settings.
async fn token(args: TokenArgs) -> anyhow::Result<()> {
    let identity = Identity {
        user: UserId::parse(args.user).context("--user")?,
        name: forankra::auth::jwt::check_name(args.name).context("--name")?,
        org: OrgId::parse(args.org).context("--org")?,
    };
    let db = Db::connect(&args.database.database_url)
        .await
        .context("opening the database")?;
    db.ensure_user(&identity.user, &identity.name, &identity.org)
        .await?;
    let keys = forankra::app::token_keys(&db, &args.jwt.resolve()?).await?;
    let token = keys.issue(&identity, args.ttl)?;
    db.close().await;
    eprintln!(
        "token for {} ({}) valid {}:",
        identity.name,
        identity.org,
        humantime::format_duration(Duration::from_secs(args.ttl.as_secs()))
    );
    println!("{token}");
    Ok(())
}

/// Replaces the secret in the database named by `args`.
async fn rotate_secret(args: forankra::cli::DatabaseArgs) -> anyhow::Result<()> {
    let db = Db::connect(&args.database_url)
        .await
        .context("opening the database")?;
    forankra::app::rotate_secret(&db).await?;
    db.close().await;
    eprintln!(
        "a new JWT secret is stored: restart every node; tokens issued before now no longer work"
    );
    Ok(())
}

/// Deletes an archived document for good, leaving a signed row in the purge log.
async fn purge(args: PurgeArgs) -> anyhow::Result<()> {
    let doc = forankra::ids::DocId::parse(args.document).context("--document")?;
    let url = args.database.database_url;
    let db = Db::connect(&url).await.context("opening the database")?;
    let result = async {
        let key = forankra::audit::key::open(&db, &args.audit_key.source(), &url)
            .await
            .context("setting up the audit key")?;
        let request = forankra::audit::purge::PurgeRequest {
            doc: &doc,
            by: &args.by,
            reason: &args.reason,
            despite_broken_trail: args.despite_broken_trail,
        };
        anyhow::Ok(forankra::audit::purge::purge(&db, &key, request).await?)
    }
    .await;
    db.close().await;
    let record = result?;
    eprintln!(
        "purged {} (\"{}\"); its audit trail had {} entries ending in {} ({}); recorded in purge_log",
        record.doc_id,
        record.title,
        record.audit_entries,
        record.audit_hash,
        record.audit_reason.as_deref().unwrap_or("verified"),
    );
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: storing open documents");
}
