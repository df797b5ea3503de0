//! `forankra-bench`: measurements of the real server, one subcommand per scenario.
//!
//! Every scenario starts the server in this process (see [`server`]) and talks to it
//! over real loopback sockets, so the figures include the whole network path a browser
//! would take while the harness can still read the server's state (stored bytes, open
//! rooms) directly. Each scenario lives in its own module and prints a Markdown table;
//! `--json` writes the same figures for scripts.

mod client;
mod echo;
mod relay;
mod report;
mod server;

use clap::{Parser, Subcommand};
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
    /// before and after compaction, and a loopback echo for reference.
    Relay(relay::RelayArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The server logs through `tracing`; keep it to warnings on stderr so stdout holds
    // only the report (RUST_LOG overrides).
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli.scenario {
        Scenario::Relay(args) => relay::run(args).await,
    }
}
