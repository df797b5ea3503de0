//! `forankra serve --demo`: organisations, users and a draft to try the product with.
//!
//! The draft is a fictional remiss version of "Stockholms stads trygghetsprogram
//! 2020–2023", written from what the two real consultation responses in `shared/seeds`
//! say about it; the organisations and roles mirror that consultation. Loading is
//! idempotent: a second run keeps the document and its edits and only prints fresh
//! passwords (the old ones stop working).

use anyhow::Context;
use rand::Rng;
use serde::Deserialize;

use yrs::updates::encoder::Encode;
use yrs::{ReadTxn, Transact};

use crate::auth::password::hash_password;
use crate::auth::{Identity, Role};
use crate::comments::anchor::{anchor_for_quote, resolve};
use crate::comments::changes::{self, Change};
use crate::comments::model::{Outcome, Stance};
use crate::comments::store::NewThread;
use crate::documents::{self, content};
use crate::ids::{CommentId, DocId, OrgId, ThreadId, UserId};
use crate::storage::Db;
use crate::storage::journal::Journal;

/// The demo draft's id, so its address is stable: `/d/trygghetsprogram-2020-2023`.
pub const DEMO_DOC_ID: &str = "trygghetsprogram-2020-2023";
/// The organisation that owns the demo draft.
pub const OWNER_ORG: &str = "stadsledningskontoret";

const SEED: &str = include_str!("seed.json");
pub(crate) const DRAFT: &str = include_str!("trygghetsprogram.md");
/// Characters of generated passwords: no look-alikes (0/O, 1/l/I).
const PASSWORD_ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const PASSWORD_LEN: usize = 14;

/// The parts of `seed.json` read here.
#[derive(Debug, Deserialize)]
pub struct Seed {
    pub organisations: Vec<SeedOrg>,
    pub users: Vec<SeedUser>,
    pub document: SeedDocument,
    pub members: Vec<SeedMember>,
    #[serde(default)]
    pub threads: Vec<SeedThread>,
}

/// A thread of the demo, quoting the draft's text.
#[derive(Debug, Deserialize)]
pub struct SeedThread {
    pub org: String,
    pub author: String,
    pub quote: String,
    pub stance: Option<Stance>,
    pub body: String,
    pub proposal: Option<String>,
    #[serde(default)]
    pub replies: Vec<SeedReply>,
    pub resolution: Option<SeedResolution>,
}

#[derive(Debug, Deserialize)]
pub struct SeedReply {
    pub author: String,
    pub body: String,
}

#[derive(Debug, Deserialize)]
pub struct SeedResolution {
    pub outcome: Outcome,
    pub motivation: String,
    pub by: String,
}

#[derive(Debug, Deserialize)]
pub struct SeedOrg {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Deserialize)]
pub struct SeedUser {
    pub id: String,
    pub username: String,
    pub name: String,
    pub org: String,
    /// A server-wide administrator (the demo shows the administration page with one).
    #[serde(default)]
    pub admin: bool,
}

#[derive(Debug, Deserialize)]
pub struct SeedDocument {
    pub title: String,
}

#[derive(Debug, Deserialize)]
pub struct SeedMember {
    pub org: String,
    pub role: Role,
}

/// A demo login, as printed.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub username: String,
    pub password: String,
    pub name: String,
    pub org_name: String,
    pub admin: bool,
}

/// The parsed seed.
pub fn seed() -> anyhow::Result<Seed> {
    serde_json::from_str(SEED).context("demo/seed.json")
}

/// Loads the demo and prints the logins.
pub async fn load(db: &Db, _journal: &Journal) -> anyhow::Result<Vec<DemoLogin>> {
    let seed = seed()?;
    for org in &seed.organisations {
        db.upsert_org(&OrgId::parse(org.id.as_str())?, &org.name)
            .await?;
    }
    let mut logins = Vec::with_capacity(seed.users.len());
    for user in &seed.users {
        let id = UserId::parse(user.id.as_str())?;
        db.ensure_user(&id, &user.name, &OrgId::parse(user.org.as_str())?)
            .await?;
        let password = generate_password();
        db.set_login(&id, &user.username, &hash_password(password.clone()).await?)
            .await?;
        let mut tx = db.transaction().await?;
        tx.set_admin(&id, user.admin).await?;
        tx.commit().await?;
        let org_name = seed
            .organisations
            .iter()
            .find(|o| o.id == user.org)
            .map_or(user.org.clone(), |o| o.name.clone());
        logins.push(DemoLogin {
            username: user.username.clone(),
            password,
            name: user.name.clone(),
            org_name,
            admin: user.admin,
        });
    }
    create_document(db, &seed).await?;
    print_logins(&logins);
    Ok(logins)
}

/// Creates the draft and gives the seed's organisations their roles through the same use
/// cases as the API (`documents::changes`), in one transaction, so the demo's trail
/// begins as any document's does: its creation, then each invitation.
async fn create_document(db: &Db, seed: &Seed) -> anyhow::Result<()> {
    let id = DocId::parse(DEMO_DOC_ID)?;
    if db.document(&id).await?.is_some() {
        return Ok(());
    }
    let creator = seed
        .users
        .iter()
        .find(|u| u.org == OWNER_ORG)
        .context("the seed has no owner user")?;
    let (creator, _) = writer(seed, &creator.id)?;
    let initial_update = content::update_from_markdown(DRAFT)?;
    let doc = content::doc_from_parts(None, [initial_update.as_slice()]);
    let mut tx = db.transaction_for(&id).await?;
    let title = &seed.document.title;
    documents::changes::create(&mut tx, &id, &creator, title, Some(initial_update)).await?;
    for member in &seed.members {
        let org = OrgId::parse(member.org.as_str())?;
        documents::changes::set_org_role(&mut tx, (&id, OWNER_ORG), &creator, &org, member.role)
            .await?;
    }
    tx.commit().await?;
    for member in seed.members.iter().filter(|m| m.org != OWNER_ORG) {
        db.record_invited(&id, &OrgId::parse(member.org.as_str())?)
            .await?;
    }
    for thread in &seed.threads {
        create_thread(db, seed, &id, &doc, thread).await?;
    }
    Ok(())
}

/// Who wrote something in the seed, with their organisation's role on the draft.
fn writer(seed: &Seed, user_id: &str) -> anyhow::Result<(Identity, Role)> {
    let user = seed
        .users
        .iter()
        .find(|u| u.id == user_id)
        .with_context(|| format!("no demo user {user_id}"))?;
    let role = if user.org == OWNER_ORG {
        Role::Owner
    } else {
        seed.members
            .iter()
            .find(|m| m.org == user.org)
            .map(|m| m.role)
            .with_context(|| format!("demo user {user_id}'s organisation has no role"))?
    };
    let who = Identity {
        user: UserId::parse(user.id.as_str())?,
        name: user.name.clone(),
        org: OrgId::parse(user.org.as_str())?,
    };
    Ok((who, role))
}

/// Opens one demo thread with its replies and resolution through the same use cases as
/// the API (`comments::changes`), in one transaction: rows, audit entries and the
/// invitees' first comments together.
async fn create_thread(
    db: &Db,
    seed: &Seed,
    id: &DocId,
    doc: &yrs::Doc,
    thread: &SeedThread,
) -> anyhow::Result<()> {
    let anchor = anchor_for_quote(doc, &thread.quote)
        .with_context(|| format!("quote not in the draft: {}", thread.quote))?;
    let resolved = resolve(doc, &anchor);
    let thread_id = ThreadId::generate();
    let version = doc.transact().state_vector().encode_v1();
    let (author, role) = writer(seed, &thread.author)?;
    let mut tx = db.transaction_for(id).await?;
    let new = NewThread {
        id: &thread_id,
        comment_id: &CommentId::generate(),
        doc: id,
        anchor_start: &anchor.start,
        anchor_end: &anchor.end,
        quote: &resolved.quote,
        paragraph: resolved.paragraph,
        block: resolved.block.as_deref(),
        doc_version: &version,
        author: changes::author(&author),
        stance: thread.stance,
        proposal: thread.proposal.as_deref(),
        kind: crate::comments::model::ThreadKind::Comment,
        body: &thread.body,
    };
    changes::open_thread(&mut tx, &author, role, &new, &[]).await?;
    for reply in &thread.replies {
        let (who, role) = writer(seed, &reply.author)?;
        let on = Change::new(id, &who, role, &thread_id);
        changes::reply(&mut tx, on, &CommentId::generate(), &reply.body, &[]).await?;
    }
    if let Some(resolution) = &thread.resolution {
        let (by, role) = writer(seed, &resolution.by)?;
        let on = Change::new(id, &by, role, &thread_id);
        changes::resolve_thread(&mut tx, on, resolution.outcome, &resolution.motivation).await?;
    }
    tx.commit().await?;
    Ok(())
}

fn generate_password() -> String {
    let mut rng = rand::rng();
    (0..PASSWORD_LEN)
        .map(|_| PASSWORD_ALPHABET[rng.random_range(0..PASSWORD_ALPHABET.len())] as char)
        .collect()
}

fn print_logins(logins: &[DemoLogin]) {
    for admin in logins.iter().filter(|l| l.admin) {
        println!(
            "Förankra demo: {} ({}) is a server administrator: \"Administration\" in the header.",
            admin.name, admin.username
        );
    }
    println!(
        "Förankra demo: the draft \"{DEMO_DOC_ID}\" and these logins (new passwords on every start):"
    );
    println!(
        "  {:<22} {:<16} {:<20} organisation",
        "username", "password", "name"
    );
    for login in logins {
        println!(
            "  {:<22} {:<16} {:<20} {}",
            login.username, login.password, login.name, login.org_name
        );
    }
}
