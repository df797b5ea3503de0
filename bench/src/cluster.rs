//! `cluster`: two nodes on one PostgreSQL database. How much later does a client on the
//! other node see an update than a client on the writer's own node, and how many
//! updates per second cross from one node to the other?
//!
//! - Latency: one writer on node A types as in `relay`; one reader on node A and one on
//!   node B receive. Both readers are timed against the same send instants, so the
//!   difference is the cost of crossing nodes: NOTIFY, then reading the log.
//! - Throughput: several documents, each with a writer on one node and a reader on the
//!   other, the writers sending as fast as the socket takes it. The figure is updates
//!   per second from the first send until every reader holds every update.
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
use crate::report::{LatencySummary, Table, latency, thousands, write_json};
use crate::server::BenchServer;

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
}

/// Runs the scenario and prints its table.
pub async fn run(args: ClusterArgs) -> Result<()> {
    let name = format!("forankra_bench_{}", std::process::id());
    let url = create_database(&args.database_url, &name).await?;
    let figures = measure(&args, &url).await;
    drop_database(&args.database_url, &name).await?;
    let figures = figures?;
    println!("{}", markdown(&args, &figures));
    print!("{}", crate::server::limits_report(|_| {}));
    if let Some(path) = &args.json {
        write_json(path, &figures)?;
    }
    Ok(())
}

async fn measure(args: &ClusterArgs, url: &str) -> Result<ClusterFigures> {
    let a = BenchServer::start(|c| c.database_url = url.to_owned()).await?;
    let b = BenchServer::start(|c| c.database_url = url.to_owned()).await?;
    let (same_node, cross_node) = latencies(&a, &b, args).await?;
    let (updates, elapsed) = throughput(&a, &b, args).await?;
    a.stop().await?;
    b.stop().await?;
    Ok(ClusterFigures {
        same_node,
        cross_node,
        throughput_updates: updates,
        throughput_seconds: elapsed.as_secs_f64(),
        throughput_per_second: updates as f64 / elapsed.as_secs_f64(),
    })
}

/// One writer on node A; readers on A and on B, timed against the same sends.
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
    let far = YClient::connect(&b.ws_url(&doc, &token)).await?;
    let writer_id = writer.doc().client_id();
    let typing = Duration::from_secs(1) * args.edits / args.rate;
    let deadline = tokio::time::Instant::now() + typing * 2 + Duration::from_secs(60);

    let (notes, mut notes_rx) = mpsc::unbounded_channel::<Sent>();
    let (near_tx, near_rx) = mpsc::unbounded_channel();
    let (far_tx, far_rx) = mpsc::unbounded_channel();
    // Every note reaches both readers before the update it notes can.
    tokio::spawn(async move {
        while let Some(sent) = notes_rx.recv().await {
            let _ = near_tx.send(Sent {
                clock: sent.clock,
                at: sent.at,
            });
            let _ = far_tx.send(sent);
        }
    });
    let near = tokio::spawn(receive(near, writer_id, args.edits, near_rx));
    let far = tokio::spawn(receive(far, writer_id, args.edits, far_rx));
    let writer = tokio::spawn(type_text(writer, args.edits, args.rate, notes));
    let typed = join_by(writer, deadline, "the writer").await?;
    let near = join_by(near, deadline, "the same-node reader").await?;
    let far = join_by(far, deadline, "the cross-node reader").await?;
    typed.client.close().await?;
    near.client.close().await?;
    far.client.close().await?;
    Ok((
        LatencySummary::from(&near.latencies),
        LatencySummary::from(&far.latencies),
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
    let mut table = Table::new(&["path", "samples", "p50", "p99", "p99.9", "max"]);
    for (name, l) in [
        ("same node: writer → node A → reader on A", &f.same_node),
        (
            "cross node: writer → node A → PostgreSQL → node B → reader on B",
            &f.cross_node,
        ),
    ] {
        table.row(&[
            name.to_owned(),
            thousands(l.samples),
            latency(l.p50_us),
            latency(l.p99_us),
            latency(l.p999_us),
            latency(l.max_us),
        ]);
    }
    format!(
        "## cluster: two nodes on one PostgreSQL\n\n{} edits at {}/s\n\n{}\n\nThroughput across nodes: {} updates in {:.2} s over {} documents = **{:.0} updates/s** (writer on one node, reader on the other, all received)\n",
        thousands(args.edits),
        args.rate,
        table.markdown(),
        thousands(f.throughput_updates),
        f.throughput_seconds,
        args.documents,
        f.throughput_per_second
    )
}
