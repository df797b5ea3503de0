//! `soak`: many clients editing and commenting for a long time; does the server hold
//! steady, and does it give everything back when they leave?
//!
//! The real `forankra serve` on a SQLite file, with a short `--room-idle`. Each client
//! works in sessions: it connects to one of the documents, finds its own paragraph (its
//! first session appends it), types into it at a steady rate (deleting the line again
//! once it is long, so the text stays bounded), now and then opens a thread over HTTP on
//! a passage of the document or replies to one (the clients' comments spread evenly over
//! the interval), and after a while leaves and comes back. So the documents stop growing
//! once every client has its paragraph, as a draft does whose sections are being
//! reworked; `--paragraphs per-session` appends a new paragraph every session instead,
//! and the documents (and the rooms holding them) grow for as long as the run lasts.
//!
//! Every sample interval the server's RSS and CPU (`/proc/PID`), open descriptors
//! (`/proc/PID/fd`), open rooms and connections (`/metrics`) and the database's size are
//! recorded. The warm-up ends with every client leaving, and so does the run. Checks:
//! RSS at the end of the load within `--max-rss-growth-pct` of RSS right after the
//! warm-up, open rooms back to 0 once the idle unload has run (after the warm-up and at
//! the end), and no more descriptors open at the end than after the warm-up's clients
//! had left.
//!
//! RSS is recorded in its parts (anonymous, file-backed, shared: see `procstat`) and the
//! database as its main file, WAL and WAL index apart, so a failed check says what grew.
//! The encoded size of every document (as its last client to leave saw it) is recorded
//! too: a room holds its document in memory, so growing documents grow the heap.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use forankra::comments::anchor::anchor_for_quote;
use serde::Serialize;
use serde_json::json;
use tokio::sync::watch;
use tokio::task::JoinSet;
use yrs::{
    GetString, ReadTxn, StateVector, Text, Transact, Xml, XmlElementPrelim, XmlFragment, XmlOut,
    XmlTextPrelim, XmlTextRef,
};

use crate::client::YClient;
use crate::node::{Node, NodeSpec, default_bin, fresh_secret};
use crate::procstat;
use crate::report::{Table, thousands, write_json};

/// Longest a line grows before its typist deletes it again.
const LINE_CHARS: u32 = 60;
/// The passage every document holds for threads to anchor on.
const PASSAGE: &str = "Trygghet i offentliga miljöer";
/// Longest the rooms may take to unload after the last client left, beyond `--room-idle`.
const UNLOAD_MARGIN: Duration = Duration::from_secs(30);

/// `forankra-bench soak`.
#[derive(Debug, clap::Args)]
pub struct SoakArgs {
    #[arg(long, default_value_t = 200)]
    clients: usize,
    #[arg(long, default_value_t = 20)]
    documents: usize,
    /// Length of the load, in seconds.
    #[arg(long, default_value_t = 1800)]
    seconds: u64,
    /// Seconds between samples.
    #[arg(long, default_value_t = 60)]
    sample_seconds: u64,
    /// Samples taken before this many seconds are warm-up: not the RSS baseline.
    #[arg(long, default_value_t = 300)]
    warmup_seconds: u64,
    /// Keystrokes per second of each client.
    #[arg(long, default_value_t = 2.0)]
    rate: f64,
    /// Seconds a client stays connected before leaving for a moment.
    #[arg(long, default_value_t = 60)]
    session_seconds: u64,
    /// Seconds between a client's comments (a new thread, then replies to it).
    #[arg(long, default_value_t = 30)]
    comment_seconds: u64,
    /// Whether a client keeps one paragraph across its sessions (the documents stop
    /// growing once every client has made its own) or appends a new one each session.
    #[arg(long, value_enum, default_value_t = Paragraphs::PerClient)]
    paragraphs: Paragraphs,
    /// The server's `--room-idle`.
    #[arg(long, default_value = "3s", value_parser = humantime::parse_duration)]
    room_idle: Duration,
    /// RSS may grow this much (percent) from the end of warm-up to the end of the load.
    #[arg(long, default_value_t = 5.0)]
    max_rss_growth_pct: f64,
    /// The server binary.
    #[arg(long, default_value_os_t = default_bin())]
    forankra_bin: PathBuf,
    /// Also write the figures as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// Whose paragraph a session types into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
pub enum Paragraphs {
    /// Each client finds the paragraph its first session appended (by its `soak`
    /// attribute) and types there, as a drafter keeps working on their own section.
    PerClient,
    /// Each session appends a new paragraph: the documents grow for as long as the run.
    PerSession,
}

/// One reading of the server.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    pub at_seconds: u64,
    pub rss_kib: u64,
    /// The heap (and stacks): what the server and its allocator hold.
    pub rss_anon_kib: u64,
    /// The binary and other mapped files.
    pub rss_file_kib: u64,
    /// Shared memory (tmpfs, shared anonymous mappings). SQLite's WAL index is a file
    /// mapping, so it counts here only when the database is on a tmpfs; else in `file`.
    pub rss_shmem_kib: u64,
    /// CPU used since the previous sample, as a share of one core.
    pub cpu_pct: f64,
    pub open_fds: u64,
    pub rooms_open: u64,
    pub connections: u64,
    /// The database's main file, WAL and WAL index together.
    pub database_bytes: u64,
    /// The main file alone.
    pub database_file_bytes: u64,
    /// The write-ahead log alone.
    pub wal_bytes: u64,
    /// The WAL index (`-shm`) alone.
    pub shm_bytes: u64,
    /// Every document's encoded state (`encode_state_as_update_v1`), summed.
    pub documents_bytes: u64,
    pub updates: u64,
    pub comments: u64,
}

/// What the run measured.
#[derive(Debug, Serialize)]
pub struct SoakFigures {
    pub clients: usize,
    pub documents: usize,
    pub seconds: u64,
    pub samples: Vec<Sample>,
    /// Descriptors open beyond the database's files once the warm-up's clients left.
    pub fds_before: u64,
    /// The same once every client left at the end.
    pub fds_after: u64,
    pub rss_after_warmup_kib: u64,
    pub rss_end_kib: u64,
    pub rss_growth_pct: f64,
    /// The same for `RssAnon` alone (the heap), which a leak would grow.
    pub rss_anon_after_warmup_kib: u64,
    pub rss_anon_end_kib: u64,
    pub rooms_after_idle: u64,
    pub unload_seconds: f64,
    pub updates: u64,
    pub comments: u64,
    pub client_errors: u64,
}

/// Counters the clients share.
struct Counters {
    updates: AtomicU64,
    comments: AtomicU64,
    errors: AtomicU64,
    /// Per document, its encoded size when a client last left it.
    documents_bytes: Vec<AtomicU64>,
}

impl Counters {
    fn new(documents: usize) -> Self {
        Self {
            updates: AtomicU64::new(0),
            comments: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            documents_bytes: (0..documents).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

/// Runs the soak, prints the table, fails a check by returning an error.
pub async fn run(args: SoakArgs) -> Result<()> {
    if !args.forankra_bin.exists() {
        bail!(
            "{} is missing: cargo build --release -p forankra",
            args.forankra_bin.display()
        );
    }
    let dir = tempfile::tempdir().context("creating the run's folder")?;
    let db = dir.path().join("forankra.db");
    let extra: Vec<String> = vec![
        "--room-idle".into(),
        format!("{}ms", args.room_idle.as_millis()),
        // Every client comes from 127.0.0.1, and one that leaves and comes back may
        // open its new socket before the server has let go of the old one: with the
        // default cap (200) that was refused with 429 as a client error. The cap is
        // lifted for every node by `forankra_testkit::harness::HARNESS_FLAGS` (a flag given twice is an
        // error to clap).
    ];
    let limits = crate::limits::process(&extra);
    let node = Node::start(NodeSpec {
        bin: args.forankra_bin.clone(),
        database_url: db.display().to_string(),
        secret: fresh_secret(),
        extra,
        log: dir.path().join("server.log"),
    })
    .await?;
    let figures = soak(&args, &node, &db).await;
    node.stop().await?;
    let figures = figures?;
    println!("{}", markdown(&figures));
    print!("{limits}");
    if let Some(path) = &args.json {
        write_json(path, &figures)?;
    }
    check(&args, &figures)
}

fn check(args: &SoakArgs, f: &SoakFigures) -> Result<()> {
    let mut failures = Vec::new();
    if f.rss_growth_pct > args.max_rss_growth_pct {
        failures.push(format!(
            "RSS grew {:.1}% after warm-up (limit {}%)",
            f.rss_growth_pct, args.max_rss_growth_pct
        ));
    }
    if f.rooms_after_idle != 0 {
        failures.push(format!(
            "{} rooms still open after the idle unload",
            f.rooms_after_idle
        ));
    }
    if f.fds_after > f.fds_before {
        failures.push(format!(
            "{} descriptors open after the run, {} before",
            f.fds_after, f.fds_before
        ));
    }
    if failures.is_empty() {
        Ok(())
    } else {
        bail!("soak failed: {}", failures.join("; "))
    }
}

async fn soak(args: &SoakArgs, node: &Node, db: &Path) -> Result<SoakFigures> {
    let owner = node.token("agare")?;
    let mut docs = Vec::with_capacity(args.documents);
    let markdown = format!("# Soak\n\n{PASSAGE} är ett mål för staden.\n");
    for d in 0..args.documents {
        let body = json!({ "title": format!("Uthållighet {d}"), "markdown": markdown });
        let doc = node.post_json(&owner, "/api/documents", &body).await?;
        docs.push(
            doc["id"]
                .as_str()
                .context("a document without id")?
                .to_owned(),
        );
    }
    let counters = Arc::new(Counters::new(docs.len()));
    let mut sampler = Sampler::new(node, db, Arc::clone(&counters))?;
    // Warm-up: the load runs, every client leaves, the rooms unload. What the server
    // holds open then (its database pool grown to size, say) is the baseline.
    let warmup = Duration::from_secs(args.warmup_seconds.min(args.seconds));
    load(args, node, &docs, &owner, &counters, &mut sampler, warmup).await?;
    let (rooms, _) = wait_unloaded(args, node).await?;
    if rooms > 0 {
        bail!("{rooms} rooms still open after the warm-up's clients left");
    }
    let fds_before = open_fds_beyond(node.pid(), db)?;
    let first_after_warmup = sampler.samples.len();
    let rest = Duration::from_secs(args.seconds).saturating_sub(warmup);
    load(args, node, &docs, &owner, &counters, &mut sampler, rest).await?;
    let (rooms, unload) = wait_unloaded(args, node).await?;
    let fds_after = settled_fds_beyond(node.pid(), db, fds_before).await?;
    let samples = sampler.samples;
    let warm = samples
        .get(first_after_warmup)
        .context("no sample after the warm-up: make --seconds longer")?;
    let end = samples.last().context("no samples")?;
    Ok(SoakFigures {
        clients: args.clients,
        documents: args.documents,
        seconds: args.seconds,
        fds_before,
        fds_after,
        rss_after_warmup_kib: warm.rss_kib,
        rss_end_kib: end.rss_kib,
        rss_growth_pct: 100.0 * (end.rss_kib as f64 - warm.rss_kib as f64) / warm.rss_kib as f64,
        rss_anon_after_warmup_kib: warm.rss_anon_kib,
        rss_anon_end_kib: end.rss_anon_kib,
        rooms_after_idle: rooms,
        unload_seconds: unload.as_secs_f64(),
        updates: counters.updates.load(Relaxed),
        comments: counters.comments.load(Relaxed),
        client_errors: counters.errors.load(Relaxed),
        samples,
    })
}

/// Every client working for `length`, sampled; then every client leaves.
async fn load(
    args: &SoakArgs,
    node: &Node,
    docs: &[String],
    token: &str,
    counters: &Arc<Counters>,
    sampler: &mut Sampler,
    length: Duration,
) -> Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut clients = JoinSet::new();
    for i in 0..args.clients {
        let doc = &docs[i % docs.len()];
        let session = Session {
            url: node.ws_url(doc, token),
            doc: doc.clone(),
            doc_index: i % docs.len(),
            owner: (args.paragraphs == Paragraphs::PerClient).then(|| i.to_string()),
            token: token.to_owned(),
            period: Duration::from_secs_f64(1.0 / args.rate.max(0.01)),
            length: Duration::from_secs(args.session_seconds),
            comment_every: Duration::from_secs(args.comment_seconds),
            // Spread over the interval, so the clients' comments (and the HTTP
            // connections they open) arrive steadily rather than 200 at once.
            first_comment: Duration::from_secs(args.comment_seconds)
                .mul_f64((i + 1) as f64 / args.clients as f64),
            // Spread the arrivals so sessions do not all end together.
            stagger: Duration::from_millis(
                (i as u64 * 997) % (args.session_seconds * 1000).clamp(1, 10_000),
            ),
        };
        clients.spawn(client(
            session,
            node_api(node),
            Arc::clone(counters),
            stop_rx.clone(),
        ));
    }
    let ends = Instant::now() + length;
    while Instant::now() < ends {
        let left = ends.saturating_duration_since(Instant::now());
        tokio::time::sleep(Duration::from_secs(args.sample_seconds).min(left)).await;
        sampler.sample(node).await?;
    }
    let _ = stop_tx.send(true);
    while let Some(joined) = clients.join_next().await {
        joined.context("a client panicked")?;
    }
    Ok(())
}

/// Waits for the idle unload; returns the rooms still open and how long it waited.
async fn wait_unloaded(args: &SoakArgs, node: &Node) -> Result<(u64, Duration)> {
    let left = Instant::now();
    let mut rooms = node.metric("forankra_rooms_open").await? as u64;
    while rooms > 0 && left.elapsed() < args.room_idle + UNLOAD_MARGIN {
        tokio::time::sleep(Duration::from_millis(200)).await;
        rooms = node.metric("forankra_rooms_open").await? as u64;
    }
    Ok((rooms, left.elapsed()))
}

/// Reads the server each sample interval.
struct Sampler {
    started: Instant,
    ticks: u64,
    last_cpu: f64,
    last_at: Instant,
    db: PathBuf,
    counters: Arc<Counters>,
    samples: Vec<Sample>,
}

impl Sampler {
    fn new(node: &Node, db: &Path, counters: Arc<Counters>) -> Result<Self> {
        let ticks = procstat::clock_ticks_per_sec();
        Ok(Self {
            started: Instant::now(),
            ticks,
            last_cpu: procstat::sample(node.pid(), ticks)?.cpu_secs,
            last_at: Instant::now(),
            db: db.to_owned(),
            counters,
            samples: Vec::new(),
        })
    }

    async fn sample(&mut self, node: &Node) -> Result<()> {
        let proc = procstat::sample(node.pid(), self.ticks)?;
        let cpu_pct =
            100.0 * (proc.cpu_secs - self.last_cpu) / self.last_at.elapsed().as_secs_f64();
        (self.last_cpu, self.last_at) = (proc.cpu_secs, Instant::now());
        let files = DatabaseFiles::of(&self.db);
        let sample = Sample {
            at_seconds: self.started.elapsed().as_secs(),
            rss_kib: proc.rss_kib,
            rss_anon_kib: proc.rss_anon_kib,
            rss_file_kib: proc.rss_file_kib,
            rss_shmem_kib: proc.rss_shmem_kib,
            cpu_pct,
            open_fds: open_fds(node.pid())?,
            rooms_open: node.metric("forankra_rooms_open").await? as u64,
            connections: node.metric("forankra_connections").await? as u64,
            database_bytes: files.main + files.wal + files.shm,
            database_file_bytes: files.main,
            wal_bytes: files.wal,
            shm_bytes: files.shm,
            documents_bytes: self
                .counters
                .documents_bytes
                .iter()
                .map(|b| b.load(Relaxed))
                .sum(),
            updates: self.counters.updates.load(Relaxed),
            comments: self.counters.comments.load(Relaxed),
        };
        eprintln!("{sample:?}");
        self.samples.push(sample);
        Ok(())
    }
}

/// What a client needs of the server's HTTP side.
#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
}

fn node_api(node: &Node) -> Api {
    Api {
        http: reqwest::Client::new(),
        base: node.base_url(),
    }
}

/// One client's plan.
struct Session {
    url: String,
    doc: String,
    /// The document's place in [`Counters::documents_bytes`].
    doc_index: usize,
    /// The `soak` attribute of the client's own paragraph; `None`: a new one each session.
    owner: Option<String>,
    token: String,
    period: Duration,
    length: Duration,
    comment_every: Duration,
    /// When in each session the first comment comes.
    first_comment: Duration,
    stagger: Duration,
}

/// Sessions until told to stop; errors are counted, and the client carries on with a
/// new session (a soak measures the server, not one client's luck).
async fn client(plan: Session, api: Api, counters: Arc<Counters>, mut stop: watch::Receiver<bool>) {
    tokio::select! {
        _ = stop.changed() => return,
        () = tokio::time::sleep(plan.stagger) => {}
    }
    let mut thread: Option<String> = None;
    while !*stop.borrow() {
        if let Err(error) = session(&plan, &api, &counters, &mut thread, &mut stop).await {
            counters.errors.fetch_add(1, Relaxed);
            eprintln!("a soak client's session failed: {error:#}");
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

async fn session(
    plan: &Session,
    api: &Api,
    counters: &Counters,
    thread: &mut Option<String>,
    stop: &mut watch::Receiver<bool>,
) -> Result<()> {
    let mut client = YClient::connect(&plan.url).await?;
    let (text, made) = own_line(&client, plan.owner.as_deref())?;
    if let Some(update) = made {
        client.send_update(update).await?;
    }
    let ends = tokio::time::Instant::now() + plan.length;
    let mut keys = tokio::time::interval(plan.period);
    let mut comments = tokio::time::interval_at(
        tokio::time::Instant::now() + plan.first_comment,
        plan.comment_every,
    );
    // A paragraph kept from an earlier session holds what that session typed.
    let mut typed = text.get_string(&client.doc().transact()).chars().count() as u32;
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            () = tokio::time::sleep_until(ends) => break,
            frame = client.next_frame() => {
                client.handle(frame?).await?;
            }
            _ = keys.tick() => {
                let update = type_or_clear(client.doc(), &text, &mut typed);
                client.send_update(update).await?;
                counters.updates.fetch_add(1, Relaxed);
            }
            _ = comments.tick() => {
                comment(plan, api, &client, thread).await?;
                counters.comments.fetch_add(1, Relaxed);
            }
        }
    }
    let size = client
        .doc()
        .transact()
        .encode_state_as_update_v1(&StateVector::default())
        .len();
    counters.documents_bytes[plan.doc_index].store(size as u64, Relaxed);
    client.close().await
}

/// Attribute naming the client whose paragraph it is.
const OWNER_ATTRIBUTE: &str = "soak";

/// The paragraph to type into: the one marked as `owner`'s if there is one, else a new
/// one at the end (marked, when there is an owner). Returns its text and the update
/// that made it, if one was made.
fn own_line(client: &YClient, owner: Option<&str>) -> Result<(XmlTextRef, Option<Vec<u8>>)> {
    let doc = client.doc();
    let fragment = doc.get_or_insert_xml_fragment("default");
    if let Some(owner) = owner {
        let txn = doc.transact();
        for node in fragment.children(&txn) {
            let XmlOut::Element(paragraph) = node else {
                continue;
            };
            let mine = paragraph
                .get_attribute(&txn, OWNER_ATTRIBUTE)
                .is_some_and(|value| value.to_string(&txn) == owner);
            if !mine {
                continue;
            }
            match paragraph.first_child() {
                Some(XmlOut::Text(text)) => return Ok((text, None)),
                _ => bail!("paragraph {owner} has lost its text"),
            }
        }
    }
    let mut txn = doc.transact_mut();
    let paragraph = fragment.push_back(&mut txn, XmlElementPrelim::empty("paragraph"));
    if let Some(owner) = owner {
        paragraph.insert_attribute(&mut txn, OWNER_ATTRIBUTE, owner);
    }
    let text = paragraph.push_back(&mut txn, XmlTextPrelim::new(""));
    Ok((text, Some(txn.encode_update_v1())))
}

/// One keystroke, or, once the line is long, deleting it.
fn type_or_clear(doc: &yrs::Doc, text: &XmlTextRef, typed: &mut u32) -> Vec<u8> {
    let mut txn = doc.transact_mut();
    if *typed >= LINE_CHARS {
        let len = text.len(&txn);
        text.remove_range(&mut txn, 0, len);
        *typed = 0;
    } else {
        let len = text.len(&txn);
        text.insert(&mut txn, len, if *typed % 7 == 6 { " " } else { "ä" });
        *typed += 1;
    }
    txn.encode_update_v1()
}

/// A new thread on the document's passage, or a reply to the client's thread.
async fn comment(
    plan: &Session,
    api: &Api,
    client: &YClient,
    thread: &mut Option<String>,
) -> Result<()> {
    let base = format!("{}/api/documents/{}/threads", api.base, plan.doc);
    let (url, body) = match thread {
        Some(id) => (
            format!("{base}/{id}/comments"),
            json!({ "body": "Ett svar i tråden, med å, ä och ö." }),
        ),
        None => {
            let anchor = anchor_for_quote(client.doc(), PASSAGE).context("the passage is gone")?;
            let (start, end) = anchor.encoded();
            (
                base.clone(),
                json!({ "anchor": { "start": start, "end": end }, "body": "Vi tillstyrker.", "stance": "tillstyrker" }),
            )
        }
    };
    let response = api
        .http
        .post(&url)
        .bearer_auth(&plan.token)
        .json(&body)
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = response.status();
    if !status.is_success() {
        bail!(
            "POST {url} answered {status}: {}",
            response.text().await.unwrap_or_default()
        );
    }
    if thread.is_none() {
        let created: serde_json::Value = response.json().await?;
        *thread = created["id"].as_str().map(str::to_owned);
    }
    Ok(())
}

/// Open file descriptors of a process.
fn open_fds(pid: u32) -> Result<u64> {
    Ok(std::fs::read_dir(format!("/proc/{pid}/fd"))
        .with_context(|| format!("reading /proc/{pid}/fd"))?
        .count() as u64)
}

/// Longest the server may take to close connections its clients have already closed.
const FDS_SETTLE: Duration = Duration::from_secs(5);

/// Open descriptors beyond the database's, once the server has closed what its clients
/// closed. A client's last HTTP keep-alive connection is closed by the client when its
/// session ends; the server closes its end when it reads the EOF, a moment later, and
/// nothing tells us when (a CI run counted 14 against 13 in that moment). So the count
/// is read again until it is down to `baseline` or [`FDS_SETTLE`] has passed; a
/// descriptor still open then is growth.
async fn settled_fds_beyond(pid: u32, db: &Path, baseline: u64) -> Result<u64> {
    let deadline = Instant::now() + FDS_SETTLE;
    loop {
        let open = open_fds_beyond(pid, db)?;
        if open <= baseline || Instant::now() >= deadline {
            return Ok(open);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Open descriptors other than the database's files: those the SQLite pool holds (a
/// file, its log and shared memory per pooled connection, up to the pool's size) come
/// and go with the pool, not with clients.
fn open_fds_beyond(pid: u32, db: &Path) -> Result<u64> {
    let mut count = 0;
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd"))
        .with_context(|| format!("reading /proc/{pid}/fd"))?
    {
        // A descriptor closed while being read is not open.
        let Ok(target) = std::fs::read_link(entry?.path()) else {
            continue;
        };
        if !target.to_string_lossy().starts_with(&*db.to_string_lossy()) {
            count += 1;
        }
    }
    Ok(count)
}

/// The sizes of the database's files; one not there (yet) counts as empty.
struct DatabaseFiles {
    main: u64,
    wal: u64,
    shm: u64,
}

impl DatabaseFiles {
    fn of(db: &Path) -> Self {
        let size = |suffix: &str| {
            std::fs::metadata(format!("{}{suffix}", db.display())).map_or(0, |m| m.len())
        };
        Self {
            main: size(""),
            wal: size("-wal"),
            shm: size("-shm"),
        }
    }
}

fn markdown(f: &SoakFigures) -> String {
    let mib = |kib: u64| format!("{:.1}", kib as f64 / 1024.0);
    let mib_bytes = |bytes: u64| format!("{:.1}", bytes as f64 / 1_048_576.0);
    let mut table = Table::new(&[
        "minute",
        "RSS MiB",
        "anon",
        "file",
        "shmem",
        "CPU %",
        "fds",
        "rooms",
        "connections",
        "db file MiB",
        "WAL MiB",
        "shm MiB",
        "documents KiB",
        "updates",
        "comments",
    ]);
    for s in &f.samples {
        table.row(&[
            format!("{:.1}", s.at_seconds as f64 / 60.0),
            mib(s.rss_kib),
            mib(s.rss_anon_kib),
            mib(s.rss_file_kib),
            mib(s.rss_shmem_kib),
            format!("{:.0}", s.cpu_pct),
            s.open_fds.to_string(),
            s.rooms_open.to_string(),
            s.connections.to_string(),
            mib_bytes(s.database_file_bytes),
            mib_bytes(s.wal_bytes),
            mib_bytes(s.shm_bytes),
            format!("{:.0}", s.documents_bytes as f64 / 1024.0),
            thousands(s.updates),
            thousands(s.comments),
        ]);
    }
    format!(
        "Soak: {} clients over {} documents for {} s.\n\n{}\nRSS after warm-up {} MiB, at the end \
         {} MiB ({:+.1}%); of it anonymous memory {} → {} MiB. After every client left: {} rooms \
         open ({:.1} s later), {} descriptors beyond the database's ({} after the warm-up's \
         clients left). {} updates, {} comments, {} client errors.\n",
        f.clients,
        f.documents,
        f.seconds,
        table.markdown(),
        mib(f.rss_after_warmup_kib),
        mib(f.rss_end_kib),
        f.rss_growth_pct,
        mib(f.rss_anon_after_warmup_kib),
        mib(f.rss_anon_end_kib),
        f.rooms_after_idle,
        f.unload_seconds,
        f.fds_after,
        f.fds_before,
        thousands(f.updates),
        thousands(f.comments),
        f.client_errors
    )
}
