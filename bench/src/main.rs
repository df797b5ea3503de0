//! `forankra-bench`: measurements of the real server, one subcommand per scenario.
//!
//! `relay` starts the server in this process (see [`server`]) so it can read the
//! server's state directly. The other scenarios start every server under test as a
//! process of its own (see [`target`]): ours from the release build, and the peers it
//! is compared with (the y-websocket reference server, Hocuspocus, y-sweet) by their
//! start scripts in `bench/peers/`, so every server is measured the same way from
//! outside, over real loopback sockets, its memory and CPU read from `/proc`. Each
//! scenario lives in its own module and prints a Markdown table; `--json` writes the
//! same figures for scripts.

mod cluster;
mod cold;
mod comments;
mod connections;
mod corpus;
mod crash;
mod crowd;
mod echo;
mod fanout;
mod http;
mod limits;
mod load;
mod node;
mod procstat;
mod relay;
mod report;
mod server;
mod soak;
mod storm;
mod target;
mod trace;
mod typing;

use clap::{Parser, Subcommand};
/// The y-websocket client every scenario drives servers with, shared with the tests.
use forankra_testkit::client;
use tracing_subscriber::EnvFilter;

/// Benchmarks of the Förankra server.
#[derive(Debug, Parser)]
#[command(name = "forankra-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

/// The scenarios; each is a module of this crate.
#[derive(Debug, Subcommand)]
enum Scenario {
    /// One writer types into a document, one reader receives: relay latency, storage
    /// before and after compaction, and a loopback echo for reference (in-process server).
    Relay(relay::RelayArgs),
    /// N clients in each of M documents on one server, one writer per document at a
    /// fixed total rate: fan-out latency, connect and sync times, server RSS and CPU.
    Load(load::LoadArgs),
    /// Scenario (a): one writer at 50 updates/s to 2, 50, 200 (and 500) clients in one
    /// document, on ours and on every peer side by side, with the physical floors.
    Fanout(fanout::FanoutArgs),
    /// Scenario (b): many connections over many documents on one node (10,000 over
    /// 1,000 by default): memory per connection, connect time, latency under that load.
    Connections(connections::ConnectionsArgs),
    /// Scenarios (c) and (d): the B4 editing trace pushed update by update, the server
    /// restarted, a new client's first sync timed; stored bytes after compaction.
    Cold(cold::ColdArgs),
    /// One document, 1,000 clients: 1 writer and 999 readers, 20 writers and 980
    /// readers, on ours and every peer: fan-out latency against its target.
    Crowd(crowd::CrowdArgs),
    /// A small document's latency, quiet and while 8 clients re-sync an 8-million-
    /// character document over and over, on ours and every peer.
    Storm(storm::StormArgs),
    /// Two nodes on one PostgreSQL database: same-node against cross-node relay
    /// latency, and updates per second crossing from one node to the other.
    Cluster(cluster::ClusterArgs),
    /// Comment load: 50 organisations open threads and reply at 20/s in all while 200
    /// clients edit: thread-creation HTTP latency and live event delivery (ours only).
    Comments(comments::CommentsArgs),
    /// Records real client traffic (the npm y-websocket clients of tests/node through a
    /// recording proxy) as seed inputs for the fuzz targets in fuzz/corpus.
    Corpus(corpus::CorpusArgs),
    /// The real server killed with SIGKILL at random moments under steady typing,
    /// restarted, and checked: nothing any client had received from it may be missing.
    Crash(crash::CrashArgs),
    /// Many clients editing and commenting for a long time: RSS, CPU, descriptors, rooms
    /// and database size sampled; every room freed and no descriptor kept at the end.
    Soak(soak::SoakArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The in-process server logs through `tracing`; keep it to warnings on stderr so
    // stdout holds only the report (RUST_LOG overrides).
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    // Thousands of client sockets: raise the soft limit on open files to the hard one.
    // The servers started as child processes inherit it.
    if let Err(error) = rlimit::increase_nofile_limit(u64::MAX) {
        eprintln!("warning: could not raise the open-file limit: {error}");
    }
    match cli.scenario {
        Scenario::Relay(args) => relay::run(args).await,
        Scenario::Load(args) => load::run(args).await,
        Scenario::Fanout(args) => fanout::run(args).await,
        Scenario::Connections(args) => connections::run(args).await,
        Scenario::Cold(args) => cold::run(args).await,
        Scenario::Crowd(args) => crowd::run(args).await,
        Scenario::Storm(args) => storm::run(args).await,
        Scenario::Cluster(args) => cluster::run(args).await,
        Scenario::Comments(args) => comments::run(args).await,
        Scenario::Corpus(args) => corpus::run(args).await,
        Scenario::Crash(args) => crash::run(args).await,
        Scenario::Soak(args) => soak::run(args).await,
    }
}
