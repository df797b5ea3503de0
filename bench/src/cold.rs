//! `cold`, scenarios (c) and (d): a long-lived document. The B4 trace (259,778 edits of a
//! real paper) is pushed into our server as that many separate updates over one socket;
//! the server is restarted; a new client's first sync is timed; the bytes stored for the
//! document after compaction are read from the SQLite file.
//!
//! Why it is measured this way:
//! - **Accepted durably** means counted by `forankra_updates_stored_total` on `/metrics`,
//!   which the room increments only after the group commit holding the update returned.
//!   The clock runs from the first send to the moment the counter reaches the trace's
//!   length; a second client then syncs and must hold exactly `endContent`.
//! - **Cold** means a new server process on the same database file: the room is loaded
//!   from the snapshot the graceful shutdown wrote. The operating system's page cache
//!   still holds the file, as it would on a server restarted for an upgrade. The time
//!   runs from the client's TCP connect to its sync step 2 applied: the client then
//!   holds the whole document.
//! - **The physical references**, in the same run and process: yrs decoding and applying
//!   the same updates one by one (the ingest floor: no network, no storage), encoding the
//!   final state, and loading it into a fresh document (a cold sync needs at least one
//!   load on the server, one encode and one load on the client).
//! - **Stored bytes** are read from the database file itself after the server stopped,
//!   against yrs's own `encode_state_as_update_v1` (what the snapshot holds) and `_v2`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use yrs::updates::decoder::Decode;
use yrs::{ReadTxn, StateVector, Transact, Update};

use crate::client::{Framing, YClient, new_doc};
use crate::load::mib;
use crate::procstat;
use crate::report::{Table, at_least_per_sec, at_most_ms, thousands, write_json};
use crate::target::{OursServer, Programs};
use crate::trace::{self, Trace};

/// How often `/metrics` is read while the server stores the trace.
const METRICS_POLL: Duration = Duration::from_millis(10);
/// Times each in-process reference is repeated; the median is reported.
const REFERENCE_REPEATS: usize = 5;
/// Tries the checking client gets after the push, each bounded by the I/O timeout.
const CHECK_TRIES: u32 = 12;
/// The target of the issue: stored bytes after compaction.
const TARGET_STORED_BYTES: u64 = 200_000;
/// The target of issue 20: B4 updates stored durably per second on SQLite.
const TARGET_INGEST_PER_SEC: u64 = 250_000;
/// The target of issue 20: a new client holding the document after a restart.
const TARGET_COLD_SYNC_US: u64 = 15_000;

/// `forankra-bench cold`.
#[derive(Debug, clap::Args)]
pub struct ColdArgs {
    /// The editing trace (gzipped JSON).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/automerge-paper.json.gz"))]
    trace: PathBuf,
    /// Use only the first N patches (a short run; the endContent check is then skipped).
    #[arg(long)]
    limit: Option<usize>,
    /// Restarts, each followed by one new client's first sync.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    restarts: u32,
    /// Longest the server may take to store the whole trace, in seconds.
    #[arg(long, default_value_t = 300)]
    store_timeout_secs: u64,
    #[command(flatten)]
    programs: Programs,
    /// Also write the figures as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// Every figure of the scenario.
#[derive(Debug, Serialize)]
pub struct ColdFigures {
    pub updates: u64,
    /// Sum of the updates' sizes (what crossed the socket, less framing).
    pub update_bytes: u64,
    pub text_chars: usize,
    /// Whether the whole trace was replayed and matched `endContent`.
    pub full_trace_checked: bool,
    pub reference: Reference,
    pub ingest: Ingest,
    /// Graceful shutdown after the push (it writes the final snapshot).
    pub shutdown_secs: f64,
    pub stored: Stored,
    pub cold_syncs: Vec<ColdSync>,
    /// The server's resident memory after the last cold sync, KiB.
    pub server_rss_after_cold_kib: u64,
}

/// yrs in this process: what the work costs with no network and no storage.
#[derive(Debug, Serialize)]
pub struct Reference {
    /// Decoding and applying every update, one transaction each.
    pub apply_all_secs: f64,
    pub apply_per_sec: f64,
    pub state_v1_bytes: usize,
    pub state_v2_bytes: usize,
    /// Median time to encode the final state as one v1 update.
    pub encode_v1_ms: f64,
    /// Median time to decode and apply that update into a fresh document.
    pub load_v1_ms: f64,
}

/// Our server taking the trace.
#[derive(Debug, Serialize)]
pub struct Ingest {
    /// First send to last send.
    pub sent_secs: f64,
    /// First send to the last update committed.
    pub stored_secs: f64,
    pub stored_per_sec: f64,
    /// A second client's first sync once the counter says all is stored, the room
    /// loaded (first connect to step 2 applied, over every try).
    pub warm_sync_ms: f64,
    /// Connects it took (each bounded by the client's I/O timeout).
    pub warm_sync_tries: u32,
}

/// What the SQLite file holds for the document after the server stopped.
#[derive(Debug, Serialize)]
pub struct Stored {
    pub snapshot_bytes: u64,
    pub snapshot_rows: u64,
    pub log_bytes: u64,
    pub log_rows: u64,
    /// The database file and its write-ahead log, whole (every table, free pages).
    pub db_file_bytes: u64,
    pub wal_file_bytes: u64,
}

/// One restart and the first sync after it.
#[derive(Debug, Serialize)]
pub struct ColdSync {
    /// SIGTERM to the exit of the previous process.
    pub shutdown_ms: f64,
    /// Starting the process until it accepted connections.
    pub start_ms: f64,
    pub handshake_ms: f64,
    /// Connect to sync step 2 applied: the client holds the full document.
    pub synced_ms: f64,
}

/// Runs the scenario and prints its table.
pub async fn run(args: ColdArgs) -> Result<()> {
    if let Some(why) = args.programs.missing(crate::target::TargetKind::Forankra) {
        bail!("{why}");
    }
    let trace = trace::load(&args.trace)?;
    let figures = measure(&args, trace).await?;
    print!("{}", figures.markdown());
    print!("{}", crate::limits::process(&[]));
    if let Some(path) = &args.json {
        write_json(path, &figures)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

async fn measure(args: &ColdArgs, mut trace: Trace) -> Result<ColdFigures> {
    let full = args.limit.is_none_or(|n| n >= trace.patches.len());
    if let Some(n) = args.limit {
        trace.patches.truncate(n);
    }
    let replayed = if full {
        trace::replay(&trace)?
    } else {
        // A prefix cannot be checked against endContent; its own replay is the truth.
        trace.end_content.clear();
        let replayed = trace::replay_unchecked(&trace)?;
        trace.end_content = trace::paragraph_text(&replayed.doc).unwrap_or_default();
        replayed
    };
    let expected = trace.end_content.clone();
    let updates = replayed.updates;
    eprintln!("cold: {} updates replayed", updates.len());
    let reference = reference(&updates, &expected)?;

    let mut ours = OursServer::start(&args.programs.forankra_bin).await?;
    let result = on_server(&mut ours, &updates, &expected, args).await;
    let stopped = ours.stop().await;
    let (ingest, shutdown, stored, cold_syncs, rss) = result?;
    stopped?;
    Ok(ColdFigures {
        updates: updates.len() as u64,
        update_bytes: updates.iter().map(|u| u.len() as u64).sum(),
        text_chars: expected.chars().count(),
        full_trace_checked: full,
        reference,
        ingest,
        shutdown_secs: shutdown.as_secs_f64(),
        stored,
        cold_syncs,
        server_rss_after_cold_kib: rss,
    })
}

/// The in-process floors.
fn reference(updates: &[Vec<u8>], expected: &str) -> Result<Reference> {
    let doc = new_doc();
    let started = Instant::now();
    for update in updates {
        let update = Update::decode_v1(update).context("a trace update does not decode")?;
        doc.transact_mut()
            .apply_update(update)
            .context("a trace update does not apply")?;
    }
    let apply_all = started.elapsed();
    trace::check(&doc, expected).context("the in-process apply")?;

    let mut encodes = Vec::with_capacity(REFERENCE_REPEATS);
    let mut state = Vec::new();
    for _ in 0..REFERENCE_REPEATS {
        let started = Instant::now();
        state = doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        encodes.push(started.elapsed());
    }
    let state_v2_bytes = doc
        .transact()
        .encode_state_as_update_v2(&StateVector::default())
        .len();
    let mut loads = Vec::with_capacity(REFERENCE_REPEATS);
    for _ in 0..REFERENCE_REPEATS {
        let fresh = new_doc();
        let started = Instant::now();
        let update = Update::decode_v1(&state).context("the state does not decode")?;
        fresh
            .transact_mut()
            .apply_update(update)
            .context("the state does not apply")?;
        loads.push(started.elapsed());
        trace::check(&fresh, expected).context("loading the encoded state")?;
    }
    Ok(Reference {
        apply_all_secs: apply_all.as_secs_f64(),
        apply_per_sec: updates.len() as f64 / apply_all.as_secs_f64().max(f64::EPSILON),
        state_v1_bytes: state.len(),
        state_v2_bytes,
        encode_v1_ms: median_ms(&mut encodes),
        load_v1_ms: median_ms(&mut loads),
    })
}

fn median_ms(times: &mut [Duration]) -> f64 {
    times.sort();
    times
        .get(times.len() / 2)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// Push, verify, stop, read the file, restart and sync, as many times as asked.
async fn on_server(
    ours: &mut OursServer,
    updates: &[Vec<u8>],
    expected: &str,
    args: &ColdArgs,
) -> Result<(Ingest, Duration, Stored, Vec<ColdSync>, u64)> {
    let doc = ours.create_document("B4: automerge-paper").await?;
    let mut writer = YClient::connect(&ours.ws_url(&doc))
        .await
        .context("connecting the writer")?;
    let count = updates.len() as u64;
    let store_limit = Duration::from_secs(args.store_timeout_secs);
    let started = Instant::now();
    let push = async {
        writer.send_updates_pipelined(updates).await?;
        Ok::<_, anyhow::Error>(Instant::now())
    };
    let stored = wait_stored(ours, count, started + store_limit);
    let (sent_at, stored_at) = tokio::try_join!(push, stored)?;
    let stored_secs = (stored_at - started).as_secs_f64();
    eprintln!("cold: {count} updates stored in {stored_secs:.2} s");

    // The counter moves before the room has finished relaying its last batch, and a
    // join waits behind that: retry (each try bounded) and time the whole wait.
    let asked = Instant::now();
    let mut tries = 0;
    let reader = loop {
        tries += 1;
        match YClient::connect_with(&ours.ws_url(&doc), Framing::YWebsocket, new_doc()).await {
            Ok((reader, _)) => break reader,
            Err(error) if tries >= CHECK_TRIES => {
                return Err(error.context(format!("connecting the checking client, {tries} tries")));
            }
            Err(error) => eprintln!("cold: checking client, try {tries}: {error:#}"),
        }
    };
    let warm_sync = asked.elapsed();
    trace::check(reader.doc(), expected).context("the second client's sync")?;
    let _ = reader.close().await;
    let _ = writer.close().await;
    let ingest = Ingest {
        sent_secs: (sent_at - started).as_secs_f64(),
        stored_secs,
        stored_per_sec: count as f64 / stored_secs.max(f64::EPSILON),
        warm_sync_ms: warm_sync.as_secs_f64() * 1000.0,
        warm_sync_tries: tries,
    };

    let shutdown = ours.shut_down().await?;
    let stored = stored_bytes(&ours.db_path(), &doc).await?;
    let mut cold_syncs = Vec::new();
    let mut previous_shutdown = shutdown;
    let mut rss = 0;
    for _ in 0..args.restarts {
        let starting = Instant::now();
        ours.start_again().await?;
        let start = starting.elapsed();
        let (client, times) =
            YClient::connect_with(&ours.ws_url(&doc), Framing::YWebsocket, new_doc())
                .await
                .context("connecting after the restart")?;
        trace::check(client.doc(), expected).context("the first sync after a restart")?;
        rss = procstat::sample(ours.pid(), procstat::clock_ticks_per_sec())?.rss_kib;
        let _ = client.close().await;
        cold_syncs.push(ColdSync {
            shutdown_ms: previous_shutdown.as_secs_f64() * 1000.0,
            start_ms: start.as_secs_f64() * 1000.0,
            handshake_ms: times.handshake.as_secs_f64() * 1000.0,
            synced_ms: times.synced.as_secs_f64() * 1000.0,
        });
        previous_shutdown = ours.shut_down().await?;
    }
    ours.start_again().await?;
    Ok((ingest, shutdown, stored, cold_syncs, rss))
}

/// Polls `/metrics` until `count` updates are stored or `deadline` passes.
async fn wait_stored(ours: &OursServer, count: u64, deadline: Instant) -> Result<Instant> {
    loop {
        let stored = ours.metric("forankra_updates_stored_total").await?;
        if stored >= count {
            return Ok(Instant::now());
        }
        if Instant::now() >= deadline {
            bail!("the server had stored {stored} of {count} updates when the time ran out");
        }
        tokio::time::sleep(METRICS_POLL).await;
    }
}

/// Reads the document's rows from the (stopped) server's SQLite file.
async fn stored_bytes(db: &Path, doc: &str) -> Result<Stored> {
    let options = SqliteConnectOptions::new().filename(db);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .with_context(|| format!("opening {}", db.display()))?;
    let (snapshot_bytes, snapshot_rows): (i64, i64) = sqlx::query_as(
        "SELECT COALESCE(SUM(LENGTH(data)), 0), COUNT(*) FROM document_snapshots WHERE doc_id = $1",
    )
    .bind(doc)
    .fetch_one(&mut conn)
    .await?;
    let (log_bytes, log_rows): (i64, i64) = sqlx::query_as(
        "SELECT COALESCE(SUM(LENGTH(data)), 0), COUNT(*) FROM document_updates WHERE doc_id = $1",
    )
    .bind(doc)
    .fetch_one(&mut conn)
    .await?;
    conn.close().await?;
    let size = |p: PathBuf| std::fs::metadata(p).map_or(0, |m| m.len());
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    Ok(Stored {
        snapshot_bytes: u64::try_from(snapshot_bytes)?,
        snapshot_rows: u64::try_from(snapshot_rows)?,
        log_bytes: u64::try_from(log_bytes)?,
        log_rows: u64::try_from(log_rows)?,
        db_file_bytes: size(db.to_owned()),
        wal_file_bytes: size(PathBuf::from(wal)),
    })
}

impl ColdFigures {
    /// Ingest, cold load and storage, each against its reference and target.
    pub fn markdown(&self) -> String {
        let r = &self.reference;
        let mut ingest = Table::new(&["figure", "Förankra", "yrs in-process floor", "target"]);
        ingest
            .row(&[
                format!(
                    "{} updates accepted durably, per second",
                    thousands(self.updates)
                ),
                format!(
                    "{} /s ({:.2} s)",
                    thousands(self.ingest.stored_per_sec as u64),
                    self.ingest.stored_secs
                ),
                format!(
                    "{} /s ({:.2} s, decode + apply only)",
                    thousands(r.apply_per_sec as u64),
                    r.apply_all_secs
                ),
                at_least_per_sec(self.ingest.stored_per_sec, TARGET_INGEST_PER_SEC),
            ])
            .row(&[
                "client finished sending after".to_owned(),
                format!("{:.2} s", self.ingest.sent_secs),
                String::new(),
                String::new(),
            ])
            .row(&[
                "second client's first sync right after, room loaded".to_owned(),
                format!(
                    "{:.1} ms ({} connect{})",
                    self.ingest.warm_sync_ms,
                    self.ingest.warm_sync_tries,
                    if self.ingest.warm_sync_tries == 1 {
                        ""
                    } else {
                        "s"
                    }
                ),
                format!("{:.1} ms (encode + load)", r.encode_v1_ms + r.load_v1_ms),
                String::new(),
            ]);
        let floor = 2.0 * r.load_v1_ms + r.encode_v1_ms;
        for (i, c) in self.cold_syncs.iter().enumerate() {
            ingest.row(&[
                format!("restart {}: new client holds the document after", i + 1),
                format!(
                    "{:.1} ms (handshake {:.1} ms; process up in {:.0} ms)",
                    c.synced_ms, c.handshake_ms, c.start_ms
                ),
                format!("{floor:.1} ms (load + encode + load)"),
                at_most_ms((c.synced_ms * 1000.0) as u64, 1, TARGET_COLD_SYNC_US),
            ]);
        }
        ingest
            .row(&[
                "graceful shutdown after the push (final snapshot)".to_owned(),
                format!("{:.2} s", self.shutdown_secs),
                String::new(),
                String::new(),
            ])
            .row(&[
                "server RSS with the document loaded".to_owned(),
                mib(self.server_rss_after_cold_kib),
                String::new(),
                String::new(),
            ]);
        let s = &self.stored;
        let mut storage = Table::new(&["stored for the document", "bytes", "target"]);
        storage
            .row(&[
                format!(
                    "Förankra after compaction: snapshot ({} row) + log ({} rows)",
                    s.snapshot_rows, s.log_rows
                ),
                thousands(s.snapshot_bytes + s.log_bytes),
                format!("≤ {}", thousands(TARGET_STORED_BYTES)),
            ])
            .row(&[
                "yrs `encode_state_as_update_v1`".to_owned(),
                thousands(r.state_v1_bytes as u64),
                String::new(),
            ])
            .row(&[
                "yrs `encode_state_as_update_v2` (reference)".to_owned(),
                thousands(r.state_v2_bytes as u64),
                String::new(),
            ])
            .row(&[
                "the updates as sent, summed".to_owned(),
                thousands(self.update_bytes),
                String::new(),
            ])
            .row(&[
                "the SQLite file (+ WAL), whole".to_owned(),
                format!(
                    "{} (+ {})",
                    thousands(s.db_file_bytes),
                    thousands(s.wal_file_bytes)
                ),
                String::new(),
            ]);
        format!(
            "## cold load: the B4 trace, {} updates, {} characters{}\n\n{}\n{}",
            thousands(self.updates),
            thousands(self.text_chars as u64),
            if self.full_trace_checked {
                ", every client checked against endContent"
            } else {
                " (a prefix of the trace)"
            },
            ingest.markdown(),
            storage.markdown()
        )
    }
}
