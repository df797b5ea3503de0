//! `crash`: the real server killed with SIGKILL under load; is anything it acknowledged
//! lost?
//!
//! Several clients type steadily, each into its own paragraph of one of a few documents.
//! The server relays an update only after storing it, so whatever a client has received
//! from the server is acknowledged as durable. Each client keeps that apart from its own
//! typing ([`YClient::observe`]). At a random moment the server is killed with SIGKILL,
//! started again on the same database, and a new client reads each document from it.
//! Checks, per client: the restarted server's state vector covers the client's observed
//! state vector, and the text of every paragraph the client observed is a prefix of that
//! paragraph's text on the server. "Acknowledged" counts, per typist, the most
//! keystrokes any other client had received; "lost" those the restarted server lacks.
//!
//! On SQLite one node runs and is killed. On PostgreSQL two nodes share a database made
//! for the run, clients sit on both, and the first node is the one killed (the clients
//! on the second see its updates only through the database, so they too observe what
//! was committed).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use forankra_testkit::database::{create_database, drop_database};
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use yrs::types::xml::XmlOut;
use yrs::updates::decoder::Decode;
use yrs::{
    Doc, GetString, ReadTxn, StateVector, Text, Transact, XmlElementPrelim, XmlFragment,
    XmlTextPrelim, XmlTextRef,
};

use crate::client::YClient;
use crate::node::{Node, NodeSpec, default_bin, fresh_secret};
use crate::report::{Table, thousands, write_json};

/// Longest a client may wait for its paragraph, or a verifier for its document.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(20);
/// What the typists type, Swedish letters included.
const ALPHABET: &[char] = &['a', 'å', 'ä', 'ö', 'e', 'r', 's', 't', ' ', 'Ö'];

/// Which database the nodes share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Database {
    /// One node on a SQLite file.
    Sqlite,
    /// Two nodes on one PostgreSQL database; the first is killed.
    Postgres,
}

/// `forankra-bench crash`.
#[derive(Debug, clap::Args)]
pub struct CrashArgs {
    #[arg(long, value_enum, default_value = "sqlite")]
    database: Database,
    /// Kill-and-restart trials.
    #[arg(long, default_value_t = 20)]
    trials: u32,
    /// Documents the clients type into.
    #[arg(long, default_value_t = 2)]
    documents: usize,
    /// Typists per document, each in its own paragraph.
    #[arg(long, default_value_t = 3)]
    clients_per_document: usize,
    /// Keystrokes per second of each typist.
    #[arg(long, default_value_t = 40)]
    rate: u32,
    /// The kill comes at a random moment between this many seconds of load…
    #[arg(long, default_value_t = 0.2)]
    min_seconds: f64,
    /// …and this many.
    #[arg(long, default_value_t = 3.0)]
    max_seconds: f64,
    /// Seed of the random kill moments (default: from the clock; printed).
    #[arg(long)]
    seed: Option<u64>,
    /// The PostgreSQL server (a database is made next to this one and dropped after).
    #[arg(
        long,
        env = "BENCH_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    postgres_url: String,
    /// The server binary.
    #[arg(long, default_value_os_t = default_bin())]
    forankra_bin: PathBuf,
    /// Also write the figures as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// One trial's outcome.
#[derive(Debug, Serialize)]
pub struct Trial {
    pub killed_after_ms: u64,
    pub acknowledged: u64,
    pub lost: u64,
    /// Paragraphs whose observed text is not a prefix of the server's.
    pub content_mismatches: u64,
}

/// What the run measured.
#[derive(Debug, Serialize)]
pub struct CrashFigures {
    pub database: Database,
    pub nodes: usize,
    pub clients: usize,
    pub documents: usize,
    pub rate_per_client: u32,
    pub seed: u64,
    pub trials: Vec<Trial>,
    pub acknowledged: u64,
    pub lost: u64,
    pub content_mismatches: u64,
}

/// Runs the trials, prints the table, fails if anything acknowledged was lost.
pub async fn run(args: CrashArgs) -> Result<()> {
    if !args.forankra_bin.exists() {
        bail!(
            "{} is missing: cargo build --release -p forankra",
            args.forankra_bin.display()
        );
    }
    let seed = args.seed.unwrap_or_else(clock_seed);
    eprintln!("crash trials on {:?}, seed {seed}", args.database);
    let dir = tempfile::tempdir().context("creating the run's folder")?;
    let db_name = format!("forankra_crash_{}", std::process::id());
    let database_url = match args.database {
        Database::Sqlite => dir.path().join("forankra.db").display().to_string(),
        Database::Postgres => create_database(&args.postgres_url, &db_name).await?,
    };
    let result = trials(&args, seed, &database_url, dir.path()).await;
    if args.database == Database::Postgres {
        drop_database(&args.postgres_url, &db_name).await?;
    }
    let figures = result?;
    println!("{}", markdown(&figures));
    print!("{}", crate::limits::process(&[]));
    if let Some(path) = &args.json {
        write_json(path, &figures)?;
    }
    if figures.lost > 0 || figures.content_mismatches > 0 {
        bail!(
            "{} acknowledged updates lost, {} paragraphs differ (server log in the run's folder)",
            figures.lost,
            figures.content_mismatches
        );
    }
    Ok(())
}

async fn trials(
    args: &CrashArgs,
    seed: u64,
    database_url: &str,
    dir: &std::path::Path,
) -> Result<CrashFigures> {
    let node_count = match args.database {
        Database::Sqlite => 1,
        Database::Postgres => 2,
    };
    let secret = fresh_secret();
    let mut nodes = Vec::with_capacity(node_count);
    for i in 0..node_count {
        nodes.push(
            Node::start(NodeSpec {
                bin: args.forankra_bin.clone(),
                database_url: database_url.to_owned(),
                secret: secret.clone(),
                extra: Vec::new(),
                log: dir.join(format!("node-{i}.log")),
            })
            .await?,
        );
    }
    let token = nodes[0].token("skribent")?;
    let mut docs = Vec::with_capacity(args.documents);
    for d in 0..args.documents {
        docs.push(
            nodes[0]
                .create_document(&token, &format!("Krasch {d}"))
                .await?,
        );
    }
    let mut random = SplitMix(seed);
    let mut results = Vec::new();
    for trial in 0..args.trials {
        let span = (args.max_seconds - args.min_seconds).max(0.0);
        let load = Duration::from_secs_f64(args.min_seconds + span * random.unit());
        let outcome = one_trial(args, &mut nodes, &docs, &token, load).await;
        let outcome = outcome.with_context(|| format!("trial {}", trial + 1))?;
        eprintln!(
            "trial {}: killed after {} ms, {} acknowledged, {} lost",
            trial + 1,
            outcome.killed_after_ms,
            outcome.acknowledged,
            outcome.lost
        );
        results.push(outcome);
    }
    for node in nodes {
        node.stop().await?;
    }
    Ok(CrashFigures {
        database: args.database,
        nodes: node_count,
        clients: args.documents * args.clients_per_document,
        documents: args.documents,
        rate_per_client: args.rate,
        seed,
        acknowledged: results.iter().map(|t| t.acknowledged).sum(),
        lost: results.iter().map(|t| t.lost).sum(),
        content_mismatches: results.iter().map(|t| t.content_mismatches).sum(),
        trials: results,
    })
}

/// What one typist saw of the server by the time the server died.
struct Observation {
    doc: usize,
    client_id: u64,
    /// The observed document, encoded.
    state: Vec<u8>,
}

async fn one_trial(
    args: &CrashArgs,
    nodes: &mut [Node],
    docs: &[String],
    token: &str,
    load: Duration,
) -> Result<Trial> {
    // Fresh paragraphs for this trial's typists, stored before anyone types.
    let mut first_paragraph = Vec::with_capacity(docs.len());
    for doc in docs {
        first_paragraph
            .push(add_paragraphs(&nodes[0], doc, token, args.clients_per_document).await?);
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let (ready_tx, mut ready_rx) = mpsc::channel::<()>(1);
    let mut typists = JoinSet::new();
    let period = Duration::from_secs(1) / args.rate.max(1);
    for (d, doc) in docs.iter().enumerate() {
        for k in 0..args.clients_per_document {
            let node = &nodes[k % nodes.len()];
            let url = node.ws_url(doc, token);
            let paragraph = first_paragraph[d] + k as u32;
            let stop = stop_rx.clone();
            let ready = ready_tx.clone();
            typists.spawn(type_until_stopped(url, d, paragraph, period, ready, stop));
        }
    }
    drop(ready_tx);
    // Every typist connected and found its paragraph (or failed: the join reports it).
    while ready_rx.recv().await.is_some() {}
    tokio::time::sleep(load).await;
    nodes[0].kill().await?;
    let _ = stop_tx.send(true);
    let mut observations = Vec::new();
    while let Some(joined) = typists.join_next().await {
        observations.push(joined.context("a typist panicked")??);
    }
    nodes[0].restart().await?;
    let mut trial = Trial {
        killed_after_ms: load.as_millis() as u64,
        acknowledged: 0,
        lost: 0,
        content_mismatches: 0,
    };
    for (d, doc) in docs.iter().enumerate() {
        let verifier = YClient::connect(&nodes[0].ws_url(doc, token)).await?;
        let seen: Vec<&Observation> = observations.iter().filter(|o| o.doc == d).collect();
        compare(verifier.doc(), &seen, &mut trial)?;
        verifier.close().await?;
    }
    Ok(trial)
}

/// Appends `count` empty paragraphs to the document; returns the index of the first.
/// Waits until another connection sees them, so they are stored.
async fn add_paragraphs(node: &Node, doc: &str, token: &str, count: usize) -> Result<u32> {
    let mut writer = YClient::connect(&node.ws_url(doc, token)).await?;
    let (first, update) = {
        let fragment = writer.doc().get_or_insert_xml_fragment("default");
        let mut txn = writer.doc().transact_mut();
        let first = fragment.len(&txn);
        for _ in 0..count {
            let paragraph = fragment.push_back(&mut txn, XmlElementPrelim::empty("paragraph"));
            paragraph.push_back(&mut txn, XmlTextPrelim::new(""));
        }
        (first, txn.encode_update_v1())
    };
    writer.send_update(update).await?;
    let wanted = first + count as u32;
    tokio::time::timeout(SETTLE_TIMEOUT, async {
        loop {
            let reader = YClient::connect(&node.ws_url(doc, token)).await?;
            let len = reader
                .doc()
                .get_or_insert_xml_fragment("default")
                .len(&reader.doc().transact());
            reader.close().await?;
            if len >= wanted {
                return Ok::<_, anyhow::Error>(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .context("the new paragraphs were not stored in time")??;
    writer.close().await?;
    Ok(first)
}

/// One typist: connects, waits for its paragraph, types until told to stop or the
/// server goes away, and returns what it observed of the server.
async fn type_until_stopped(
    url: String,
    doc: usize,
    paragraph: u32,
    period: Duration,
    ready: mpsc::Sender<()>,
    mut stop: watch::Receiver<bool>,
) -> Result<Observation> {
    let mut client = YClient::connect(&url).await?;
    tokio::time::timeout(SETTLE_TIMEOUT, async {
        while text_of(client.doc(), paragraph).is_none() {
            let frame = client.next_frame().await?;
            client.handle(frame).await?;
        }
        Ok::<_, anyhow::Error>(())
    })
    .await
    .context("the typist's paragraph did not arrive")??;
    client.observe()?;
    drop(ready);
    let mut tick = tokio::time::interval(period);
    let mut typed = 0usize;
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            frame = client.next_frame() => {
                let Ok(frame) = frame else { break };
                if client.handle(frame).await.is_err() {
                    break;
                }
            }
            _ = tick.tick() => {
                let update = type_one(client.doc(), paragraph, ALPHABET[typed % ALPHABET.len()])?;
                typed += 1;
                if client.send_update(update).await.is_err() {
                    break;
                }
            }
        }
    }
    let observed = client.observed().context("not observing")?;
    Ok(Observation {
        doc,
        client_id: client.doc().client_id().get(),
        state: observed
            .transact()
            .encode_state_as_update_v1(&StateVector::default()),
    })
}

/// Appends one character to paragraph `index`; returns the update.
fn type_one(doc: &Doc, index: u32, c: char) -> Result<Vec<u8>> {
    let text = xml_text(doc, index).context("the paragraph is gone")?;
    let mut txn = doc.transact_mut();
    let len = text.len(&txn);
    text.insert(&mut txn, len, &c.to_string());
    Ok(txn.encode_update_v1())
}

/// The text of paragraph `index`, if the document has it.
fn xml_text(doc: &Doc, index: u32) -> Option<XmlTextRef> {
    let fragment = doc.get_or_insert_xml_fragment("default");
    let txn = doc.transact();
    match fragment.get(&txn, index)? {
        XmlOut::Element(paragraph) => match paragraph.get(&txn, 0)? {
            XmlOut::Text(text) => Some(text),
            _ => None,
        },
        _ => None,
    }
}

fn text_of(doc: &Doc, index: u32) -> Option<String> {
    let text = xml_text(doc, index)?;
    let txn = doc.transact();
    // The plain string: XmlText's own `get_string` would wrap formatted runs in tags.
    let plain: &yrs::TextRef = text.as_ref();
    Some(plain.get_string(&txn))
}

/// Checks the restarted server's document against every observation of it.
fn compare(server: &Doc, seen: &[&Observation], trial: &mut Trial) -> Result<()> {
    let server_sv = server.transact().state_vector();
    let typists: Vec<u64> = seen.iter().map(|o| o.client_id).collect();
    let observed: Vec<Doc> = seen
        .iter()
        .map(|o| {
            let doc = crate::client::new_doc();
            doc.transact_mut()
                .apply_update(yrs::Update::decode_v1(&o.state)?)?;
            Ok::<_, anyhow::Error>(doc)
        })
        .collect::<Result<_>>()?;
    for typist in typists {
        let id = yrs::ClientID::new(typist);
        let acked = observed
            .iter()
            .map(|d| d.transact().state_vector().get(&id))
            .max()
            .unwrap_or(0);
        trial.acknowledged += u64::from(acked);
        trial.lost += u64::from(acked.saturating_sub(server_sv.get(&id)));
    }
    for doc in &observed {
        let len = doc
            .get_or_insert_xml_fragment("default")
            .len(&doc.transact());
        for index in 0..len {
            let (Some(mine), theirs) = (text_of(doc, index), text_of(server, index)) else {
                continue;
            };
            if !theirs.is_some_and(|t| t.starts_with(&mine)) {
                trial.content_mismatches += 1;
            }
        }
    }
    Ok(())
}

fn markdown(f: &CrashFigures) -> String {
    let mut table = Table::new(&["trial", "killed after", "acknowledged", "lost"]);
    for (i, t) in f.trials.iter().enumerate() {
        table.row(&[
            (i + 1).to_string(),
            format!("{} ms", t.killed_after_ms),
            thousands(t.acknowledged),
            thousands(t.lost),
        ]);
    }
    format!(
        "Crash trials, {:?}: {} node(s), {} typists in {} documents at {}/s each, SIGKILL at a \
         random moment (seed {}).\n\n{}\n**{} trials, {} updates acknowledged, {} lost, {} \
         paragraphs differing.**\n",
        f.database,
        f.nodes,
        f.clients,
        f.documents,
        f.rate_per_client,
        f.seed,
        table.markdown(),
        f.trials.len(),
        thousands(f.acknowledged),
        thousands(f.lost),
        f.content_mismatches
    )
}

fn clock_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
}

/// SplitMix64: enough randomness for kill moments, reproducible from its seed.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(doc: &Doc, text: &str) -> Result<()> {
        for c in text.chars() {
            type_one(doc, 0, c)?;
        }
        Ok(())
    }

    fn with_paragraph(client_id: u64) -> Doc {
        let doc = crate::client::new_doc_with_id(client_id);
        let fragment = doc.get_or_insert_xml_fragment("default");
        let mut txn = doc.transact_mut();
        let paragraph = fragment.push_back(&mut txn, XmlElementPrelim::empty("paragraph"));
        paragraph.push_back(&mut txn, XmlTextPrelim::new(""));
        drop(txn);
        doc
    }

    fn observation(doc: &Doc) -> Observation {
        Observation {
            doc: 0,
            client_id: 1,
            state: doc
                .transact()
                .encode_state_as_update_v1(&StateVector::default()),
        }
    }

    #[test]
    fn a_server_missing_observed_keystrokes_is_caught() -> Result<()> {
        let observed = with_paragraph(1);
        typed(&observed, "åäö")?;
        let empty = trial_counts(&crate::client::new_doc(), &observed)?;
        assert_eq!((empty.acknowledged, empty.lost), (5, 5));
        // The paragraph and its text are two updates, the keystrokes three more. A server
        // that lost the last keystroke misses one, and the paragraph differs.
        let behind = with_paragraph(1);
        typed(&behind, "åä")?;
        let lost = trial_counts(&behind, &observed)?;
        assert_eq!((lost.acknowledged, lost.lost), (5, 1));
        assert_eq!(lost.content_mismatches, 1);
        let whole = trial_counts(&observed, &observed)?;
        assert_eq!((whole.lost, whole.content_mismatches), (0, 0));
        Ok(())
    }

    fn trial_counts(server: &Doc, observed: &Doc) -> Result<Trial> {
        let mut trial = Trial {
            killed_after_ms: 0,
            acknowledged: 0,
            lost: 0,
            content_mismatches: 0,
        };
        compare(server, &[&observation(observed)], &mut trial)?;
        Ok(trial)
    }
}
