//! `cluster`: two nodes on one PostgreSQL database. How much later does a client on the
//! other node see an update than a client on the writer's own node, and how many
//! updates per second cross from one node to the other?
//!
//! - Latency: one writer on node A types as in `relay`; one reader on node A and 50 (by
//!   default) on node B receive. Every reader is timed against the same send instants,
//!   so the difference is the cost of crossing nodes: NOTIFY, then reading the log, then
//!   node B's own fan-out. The cross-node p99 is judged against its target (5 ms).
//! - Throughput: several documents, each with a writer on one node and a reader on the
//!   other, the writers sending as fast as the socket takes it. The figure is updates
//!   per second from the first send until every reader holds every update.
//! - B4 ingest on PostgreSQL: `cold`'s push (the B4 trace as that many separate
//!   updates over one socket) against node A, timed from the first send until node A's
//!   `forankra_updates_stored_total` has grown by the trace's length: every update in
//!   a committed PostgreSQL transaction. Judged against its target (50,000 updates/s).
//! - Ours only: none of the peers has a cluster mode.
//! - Both nodes run in this process (each a complete server with its own listener,
//!   journal and rooms), on a database made for the run and dropped after it.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;
use tokio::sync::mpsc;
use yrs::{ReadTxn, Text, Transact, XmlFragment, XmlTextPrelim};

use forankra_testkit::database::{create_database, drop_database};

use crate::client::YClient;
use crate::relay::{Sent, join_by, receive, type_text};
use crate::report::{
    LatencySummary, Table, at_least_per_sec, at_most_ms, latency, latency_histogram, thousands,
    write_json,
};
use crate::server::BenchServer;
use crate::trace;

/// The target of the issue: an edit on node A reaching the clients on node B, p99.
const TARGET_CROSS_P99_US: u64 = 5_000;
/// The target of the issue: B4 updates stored per second on PostgreSQL.
const TARGET_INGEST_PER_SEC: u64 = 50_000;
/// How often `/metrics` is read while node A stores the trace.
const METRICS_POLL: Duration = Duration::from_millis(10);

/// `forankra-bench cluster`.
#[derive(Debug, clap::Args)]
pub struct ClusterArgs {
    /// A PostgreSQL database the run may create its own database next to.
    #[arg(
        long,
        env = "BENCH_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    database_url: String,
    /// Edits the latency writer sends.
    #[arg(long, default_value_t = 1000)]
    edits: u32,
    /// Edits per second of the latency writer.
    #[arg(long, default_value_t = 50)]
    rate: u32,
    /// Readers on node B in the latency run.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    far_clients: u32,
    /// The editing trace pushed into node A (gzipped JSON).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/automerge-paper.json.gz"))]
    trace: std::path::PathBuf,
    /// Push only the first N patches of the trace.
    #[arg(long)]
    trace_limit: Option<usize>,
    /// Longest node A may take to store the trace, in seconds.
    #[arg(long, default_value_t = 300)]
    store_timeout_secs: u64,
    /// Documents (writer on one node, reader on the other) in the throughput run.
    #[arg(long, default_value_t = 8)]
    documents: u32,
    /// Updates each throughput writer sends.
    #[arg(long, default_value_t = 2000)]
    updates: u32,
    /// Also write the figures as JSON to this file.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

/// What the run measured.
#[derive(Debug, Serialize)]
pub struct ClusterFigures {
    pub same_node: LatencySummary,
    pub cross_node: LatencySummary,
    pub throughput_updates: u64,
    pub throughput_seconds: f64,
    pub throughput_per_second: f64,
    /// Readers on node B.
    pub far_clients: u32,
    pub target_cross_p99_us: u64,
    /// The B4 push into node A.
    pub ingest_updates: u64,
    pub ingest_seconds: f64,
    pub ingest_per_second: f64,
    pub target_ingest_per_second: u64,
}

/// Runs the scenario and prints its table.
pub async fn run(args: ClusterArgs) -> Result<()> {
    // Read before any server starts, so a missing trace fails at once.
    let b4 = b4_updates(&args)?;
    let name = format!("forankra_bench_{}", std::process::id());
    let url = create_database(&args.database_url, &name).await?;
    let figures = measure(&args, &url, &b4).await;
    drop_database(&args.database_url, &name).await?;
    let figures = figures?;
    println!("{}", markdown(&args, &figures));
    print!("{}", crate::server::limits_report(|_| {}));
    if let Some(path) = &args.json {
        write_json(path, &figures)?;
    }
    Ok(())
}

async fn measure(args: &ClusterArgs, url: &str, b4: &[Vec<u8>]) -> Result<ClusterFigures> {
    let a = BenchServer::start(|c| c.database_url = url.to_owned()).await?;
    let b = BenchServer::start(|c| c.database_url = url.to_owned()).await?;
    let runs = async {
        let (same_node, cross_node) = latencies(&a, &b, args).await?;
        let (updates, elapsed) = throughput(&a, &b, args).await?;
        let (ingest_updates, ingest) = ingest(&a, b4, args).await?;
        Ok::<_, anyhow::Error>((
            same_node,
            cross_node,
            updates,
            elapsed,
            ingest_updates,
            ingest,
        ))
    };
    let (same_node, cross_node, updates, elapsed, ingest_updates, ingest) = tokio::select! {
        figures = runs => figures?,
        failed = a.storage_failed("node A") => return Err(failed),
        failed = b.storage_failed("node B") => return Err(failed),
    };
    a.stop().await?;
    b.stop().await?;
    Ok(ClusterFigures {
        same_node,
        cross_node,
        throughput_updates: updates,
        throughput_seconds: elapsed.as_secs_f64(),
        throughput_per_second: updates as f64 / elapsed.as_secs_f64(),
        far_clients: args.far_clients,
        target_cross_p99_us: TARGET_CROSS_P99_US,
        ingest_updates,
        ingest_seconds: ingest.as_secs_f64(),
        ingest_per_second: ingest_updates as f64 / ingest.as_secs_f64().max(f64::EPSILON),
        target_ingest_per_second: TARGET_INGEST_PER_SEC,
    })
}

/// One writer on node A; one reader on A and `far_clients` on B, timed against the same
/// sends.
async fn latencies(
    a: &BenchServer,
    b: &BenchServer,
    args: &ClusterArgs,
) -> Result<(LatencySummary, LatencySummary)> {
    let token = a.token("bench-user", "bench")?;
    let doc = a
        .create_document(&token, "Förankra cluster benchmark")
        .await?;
    let writer = YClient::connect(&a.ws_url(&doc, &token)).await?;
    let near = YClient::connect(&a.ws_url(&doc, &token)).await?;
    let mut far = Vec::new();
    for _ in 0..args.far_clients {
        far.push(YClient::connect(&b.ws_url(&doc, &token)).await?);
    }
    let writer_id = writer.doc().client_id();
    let typing = Duration::from_secs(1) * args.edits / args.rate;
    let deadline = tokio::time::Instant::now() + typing * 2 + Duration::from_secs(60);

    let (notes, mut notes_rx) = mpsc::unbounded_channel::<Sent>();
    let (near_tx, near_rx) = mpsc::unbounded_channel();
    let mut far_txs = Vec::new();
    let mut far_tasks = Vec::new();
    for client in far {
        let (tx, rx) = mpsc::unbounded_channel();
        far_txs.push(tx);
        far_tasks.push(tokio::spawn(receive(client, writer_id, args.edits, rx)));
    }
    // Every note reaches every reader before the update it notes can.
    tokio::spawn(async move {
        while let Some(sent) = notes_rx.recv().await {
            for tx in &far_txs {
                let _ = tx.send(Sent {
                    clock: sent.clock,
                    at: sent.at,
                });
            }
            let _ = near_tx.send(sent);
        }
    });
    let near = tokio::spawn(receive(near, writer_id, args.edits, near_rx));
    let writer = tokio::spawn(type_text(writer, args.edits, args.rate, notes));
    let typed = join_by(writer, deadline, "the writer").await?;
    let near = join_by(near, deadline, "the same-node reader").await?;
    let mut far_latencies = latency_histogram()?;
    for task in far_tasks {
        let far = join_by(task, deadline, "a cross-node reader").await?;
        far_latencies
            .add(&far.latencies)
            .map_err(|e| anyhow::anyhow!("adding histograms: {e:?}"))?;
        far.client.close().await?;
    }
    typed.client.close().await?;
    near.client.close().await?;
    Ok((
        LatencySummary::from(&near.latencies),
        LatencySummary::from(&far_latencies),
    ))
}

/// Writers on one node, readers on the other, as fast as the sockets go.
async fn throughput(
    a: &BenchServer,
    b: &BenchServer,
    args: &ClusterArgs,
) -> Result<(u64, Duration)> {
    let token = a.token("bench-user", "bench")?;
    let mut pairs = Vec::new();
    for i in 0..args.documents {
        let doc = a
            .create_document(&token, &format!("Genomströmning {i}"))
            .await?;
        let (writer_node, reader_node) = if i % 2 == 0 { (a, b) } else { (b, a) };
        let writer = YClient::connect(&writer_node.ws_url(&doc, &token)).await?;
        let reader = YClient::connect(&reader_node.ws_url(&doc, &token)).await?;
        pairs.push((writer, reader));
    }
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    let mut tasks = Vec::new();
    for (writer, reader) in pairs {
        let updates = args.updates;
        let writer_id = writer.doc().client_id();
        tasks.push(tokio::spawn(async move {
            let reading = tokio::spawn(read_until(reader, writer_id, updates));
            let writer = flood(writer, updates).await?;
            reading.await.context("the reader failed")??;
            writer.close().await
        }));
    }
    for task in tasks {
        join_by(task, deadline, "a throughput pair").await?;
    }
    let total = u64::from(args.documents) * u64::from(args.updates);
    Ok((total, started.elapsed()))
}

/// The B4 trace (or its first `--trace-limit` patches) as the updates a client sends.
fn b4_updates(args: &ClusterArgs) -> Result<Vec<Vec<u8>>> {
    let mut b4 = trace::load(&args.trace)?;
    if let Some(n) = args.trace_limit {
        b4.patches.truncate(n);
    }
    // The whole trace is checked against endContent by `cold`; here only the rate counts.
    b4.end_content.clear();
    Ok(trace::replay_unchecked(&b4)?.updates)
}

/// The B4 updates pushed into node A one by one; returns how many and how long until
/// node A had stored them all.
async fn ingest(
    a: &BenchServer,
    updates: &[Vec<u8>],
    args: &ClusterArgs,
) -> Result<(u64, Duration)> {
    let count = updates.len() as u64;
    let token = a.token("bench-user", "bench")?;
    let doc = a.create_document(&token, "B4 på PostgreSQL").await?;
    let mut writer = YClient::connect(&a.ws_url(&doc, &token))
        .await
        .context("connecting the B4 writer")?;
    let before = a.metric("forankra_updates_stored_total").await?;
    let deadline = Instant::now() + Duration::from_secs(args.store_timeout_secs);
    let started = Instant::now();
    let push = async {
        writer.send_updates_pipelined(updates).await?;
        Ok::<_, anyhow::Error>(())
    };
    let stored = async {
        loop {
            let stored = a.metric("forankra_updates_stored_total").await? - before;
            if stored >= count as f64 {
                return Ok::<_, anyhow::Error>(started.elapsed());
            }
            if Instant::now() >= deadline {
                anyhow::bail!(
                    "node A had stored {stored} of {count} B4 updates when the time ran out"
                );
            }
            tokio::time::sleep(METRICS_POLL).await;
        }
    };
    let ((), elapsed) = tokio::try_join!(push, stored)?;
    eprintln!(
        "cluster: {count} B4 updates stored on PostgreSQL in {:.2} s",
        elapsed.as_secs_f64()
    );
    writer.close().await?;
    Ok((count, elapsed))
}

/// Sends `updates` one-character edits without waiting between them.
async fn flood(mut writer: YClient, updates: u32) -> Result<YClient> {
    let fragment = writer.doc().get_or_insert_xml_fragment("default");
    let text = {
        let mut txn = writer.doc().transact_mut();
        let paragraph = fragment.insert(&mut txn, 0, yrs::XmlElementPrelim::empty("paragraph"));
        paragraph.insert(&mut txn, 0, XmlTextPrelim::new(""))
    };
    let first = writer
        .doc()
        .transact()
        .encode_state_as_update_v1(&yrs::StateVector::default());
    writer.send_update(first).await?;
    for i in 1..updates {
        let update = {
            let mut txn = writer.doc().transact_mut();
            let len = text.len(&txn);
            text.insert(&mut txn, len, if i % 7 == 0 { " " } else { "å" });
            txn.encode_update_v1()
        };
        writer.send_update(update).await?;
    }
    Ok(writer)
}

/// Reads until the writer's clock reaches `updates` edits' worth.
async fn read_until(mut reader: YClient, writer: yrs::ClientID, updates: u32) -> Result<()> {
    // The first update holds the paragraph, its text and nothing typed (2 clocks); each
    // later one a single character.
    let target = updates + 1;
    while reader.doc().transact().state_vector().get(&writer) < target {
        let frame = reader.next_frame().await?;
        reader.handle(frame).await?;
    }
    reader.close().await
}

fn markdown(args: &ClusterArgs, f: &ClusterFigures) -> String {
    let mut table = Table::new(&[
        "path",
        "samples",
        "p50",
        "p99",
        "p99 target",
        "p99.9",
        "max",
    ]);
    let far = format!(
        "cross node: writer → node A → PostgreSQL → node B → {} readers on B",
        f.far_clients
    );
    for (name, l, target) in [
        (
            "same node: writer → node A → reader on A".to_owned(),
            &f.same_node,
            String::new(),
        ),
        (
            far,
            &f.cross_node,
            at_most_ms(
                f.cross_node.p99_us,
                f.cross_node.samples,
                f.target_cross_p99_us,
            ),
        ),
    ] {
        table.row(&[
            name,
            thousands(l.samples),
            latency(l.p50_us),
            latency(l.p99_us),
            target,
            latency(l.p999_us),
            latency(l.max_us),
        ]);
    }
    format!(
        "## cluster: two nodes on one PostgreSQL (ours only: no peer has a cluster mode)\n\n{} edits at {}/s\n\n{}\n\nThroughput across nodes: {} updates in {:.2} s over {} documents = **{:.0} updates/s** (writer on one node, reader on the other, all received)\n\nB4 ingest on PostgreSQL: {} updates over one socket into node A, stored (committed) in {:.2} s = **{:.0} updates/s** (target {})\n",
        thousands(args.edits),
        args.rate,
        table.markdown(),
        thousands(f.throughput_updates),
        f.throughput_seconds,
        args.documents,
        f.throughput_per_second,
        thousands(f.ingest_updates),
        f.ingest_seconds,
        f.ingest_per_second,
        at_least_per_sec(f.ingest_per_second, f.target_ingest_per_second)
    )
}
