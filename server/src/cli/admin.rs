//! `forankra org …` and `forankra user …`: headless administration.
//!
//! A city's IT department sets up organisations, users and the identity provider's
//! organisation mapping before anyone opens the web app, often from a provisioning
//! script. So every command takes the database settings `serve` takes, prints plain
//! tab-separated lines a script can read, exits non-zero with one sentence when refused,
//! and reads passwords from standard input only: an argument would end up in the shell
//! history and in `ps` for every local user to see.

use std::io::{IsTerminal, Read};

use anyhow::Context;

use crate::admin::changes;
use crate::auth::directory::{NewUser, check_email, check_new_password};
use crate::auth::jwt::check_name;
use crate::auth::password::hash_password;
use crate::cli::{DatabaseArgs, OrgCommand, UserCommand};
use crate::ids::{OrgId, UserId};
use crate::storage::Db;

/// Longest password read from standard input, in bytes (as the login's limit).
const MAX_PASSWORD_BYTES: u64 = 1024;

/// Runs `forankra org …`.
pub async fn org(command: OrgCommand) -> anyhow::Result<()> {
    let db = open(command.database()).await?;
    let result = org_on(&db, command).await;
    db.close().await;
    result
}

/// Runs `forankra user …`.
pub async fn user(command: UserCommand) -> anyhow::Result<()> {
    let db = open(command.database()).await?;
    let result = user_on(&db, command).await;
    db.close().await;
    result
}

/// Runs one administration use case (`tx` bound to a fresh transaction) and commits it.
macro_rules! in_tx {
    ($db:expr, $tx:ident => $call:expr) => {{
        let mut $tx = $db.transaction().await?;
        let done = $call.await?;
        $tx.commit().await?;
        done
    }};
}

async fn open(database: &DatabaseArgs) -> anyhow::Result<Db> {
    Db::connect(&database.database_url)
        .await
        .context("opening the database")
}

async fn org_on(db: &Db, command: OrgCommand) -> anyhow::Result<()> {
    match command {
        OrgCommand::Add(args) => {
            let org = OrgId::parse(args.org).context("--org")?;
            let name = check_name(args.name).context("--name")?;
            in_tx!(db, tx => changes::add_org(&mut tx, None, &org, &name));
            eprintln!("organisation {org} added");
        }
        OrgCommand::Rename(args) => {
            let org = OrgId::parse(args.org).context("--org")?;
            let name = check_name(args.name).context("--name")?;
            in_tx!(db, tx => changes::rename_org(&mut tx, None, &org, &name));
            eprintln!("organisation {org} renamed");
        }
        OrgCommand::List(_) => {
            for org in db.orgs().await? {
                println!("{}\t{}", org.id, org.name);
            }
        }
        OrgCommand::Map {
            provider,
            value,
            org,
            database: _,
        } => {
            let org = OrgId::parse(org).context("--org")?;
            anyhow::ensure!(
                !value.trim().is_empty(),
                "--value: the claim value is empty"
            );
            in_tx!(db, tx => changes::map_org(&mut tx, None, &provider, &value, &org));
            eprintln!("{provider}: `{value}` now signs in as {org}");
        }
        OrgCommand::Unmap {
            provider,
            value,
            database: _,
        } => {
            in_tx!(db, tx => changes::unmap_org(&mut tx, None, &provider, &value));
            eprintln!("{provider}: `{value}` no longer signs anyone in");
        }
        OrgCommand::Mappings(_) => {
            for m in db.org_mappings().await? {
                println!("{}\t{}\t{}", m.provider, m.claim_value, m.org_id);
            }
        }
    }
    Ok(())
}

async fn user_on(db: &Db, command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            user,
            name,
            org,
            email,
            admin,
            database: _,
        } => {
            let new = NewUser {
                id: UserId::parse(user).context("--user")?,
                name: check_name(name).context("--name")?,
                org: OrgId::parse(org).context("--org")?,
                email: email.as_deref().map(check_email).transpose()?,
                admin,
                password_hash: match password_from_stdin(false)? {
                    Some(password) => Some(hash_password(password).await?),
                    None => None,
                },
            };
            in_tx!(db, tx => changes::add_user(&mut tx, None, &new));
            let login = if new.password_hash.is_some() {
                "with a password"
            } else {
                "without a password (identity provider or token sign-in only)"
            };
            eprintln!("user {} added to {}, {login}", new.id, new.org);
        }
        UserCommand::List(_) => {
            println!("id\tname\temail\torg\tactive\tadmin\tlast_sign_in");
            for u in db.users().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    u.id,
                    u.name,
                    u.email.as_deref().unwrap_or("-"),
                    u.org_id,
                    yes_no(u.disabled_at.is_none()),
                    yes_no(u.is_admin != 0),
                    u.last_sign_in_at.map_or_else(|| "-".to_owned(), format_ms),
                );
            }
        }
        UserCommand::Disable { user, .. } => {
            let user = UserId::parse(user).context("user")?;
            in_tx!(db, tx => changes::set_disabled(&mut tx, None, &user, true));
            eprintln!("user {user} disabled: their sign-ins and connections end within a second");
        }
        UserCommand::Enable { user, .. } => {
            let user = UserId::parse(user).context("user")?;
            in_tx!(db, tx => changes::set_disabled(&mut tx, None, &user, false));
            eprintln!("user {user} enabled");
        }
        UserCommand::SetPassword { user, .. } => {
            let user = UserId::parse(user).context("user")?;
            let password = password_from_stdin(true)?.context("no password on standard input")?;
            let hash = hash_password(password).await?;
            in_tx!(db, tx => changes::set_password(&mut tx, None, &user, &hash));
            eprintln!("password of {user} set (login name: {user}); their other sign-ins ended");
        }
        UserCommand::MakeAdmin { user, revoke, .. } => {
            let user = UserId::parse(user).context("user")?;
            in_tx!(db, tx => changes::set_admin(&mut tx, None, &user, !revoke));
            let now = if revoke { "no longer" } else { "now" };
            eprintln!("user {user} is {now} an administrator");
        }
    }
    Ok(())
}

/// The password piped on standard input: its first line, without the line end. `None`
/// when nothing was piped; on a terminal, a refusal if `required` (the password would
/// echo there), else `None`.
fn password_from_stdin(required: bool) -> anyhow::Result<Option<String>> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        anyhow::ensure!(
            !required,
            "pipe the password on standard input, e.g. `printf '%s' \"$PASSWORD\" | forankra user set-password ID`"
        );
        return Ok(None);
    }
    let mut raw = String::new();
    stdin
        .lock()
        .take(MAX_PASSWORD_BYTES + 1)
        .read_to_string(&mut raw)
        .context("reading the password from standard input")?;
    anyhow::ensure!(
        raw.len() as u64 <= MAX_PASSWORD_BYTES,
        "the password is longer than {MAX_PASSWORD_BYTES} bytes"
    );
    let password = raw.lines().next().unwrap_or_default().to_owned();
    if password.is_empty() {
        anyhow::ensure!(!required, "the password on standard input is empty");
        return Ok(None);
    }
    check_new_password(&password)?;
    Ok(Some(password))
}

fn yes_no(flag: bool) -> &'static str {
    if flag { "yes" } else { "no" }
}

/// Epoch milliseconds as an RFC 3339 time in UTC, to the second.
fn format_ms(ms: i64) -> String {
    let at =
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime::format_rfc3339_seconds(at).to_string()
}
