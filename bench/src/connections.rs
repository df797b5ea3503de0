//! `connections`, scenario (b): many connections over many documents on one node (10,000
//! over 1,000 by default), typing going on in every document at a modest total rate.
//!
//! The question is what a connection costs the server when a city's staff all have
//! their drafts open: resident memory with everyone connected (the target is under
//! 1 GiB for 10,000), how long it takes them all to connect and sync, and whether
//! fan-out stays quick while that many sockets are open. The harness raises its own
//! open-file limit (and so the server's, which inherits it) at start; each side needs
//! one descriptor per connection.

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::load::{self, LoadFigures, LoadSpec, mib};
use crate::report::{Table, latency, publish, thousands};
use crate::target::{Programs, TargetKind};

/// `forankra-bench connections`.
#[derive(Debug, clap::Args)]
pub struct ConnectionsArgs {
    /// Documents.
    #[arg(long, default_value_t = 1000)]
    docs: u32,
    /// Clients per document, the writer included.
    #[arg(long, default_value_t = 10)]
    clients: u32,
    /// Updates per second in all, one writer per document.
    #[arg(long, default_value_t = 100)]
    rate: u32,
    /// Seconds of typing once everyone is connected.
    #[arg(long, default_value_t = 20)]
    seconds: u32,
    /// Connections being opened at once.
    #[arg(long, default_value_t = 64)]
    connect_concurrency: u32,
    /// The servers (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [TargetKind::Forankra])]
    targets: Vec<TargetKind>,
    #[command(flatten)]
    programs: Programs,
    /// Also write the figures as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// Every figure of the scenario.
#[derive(Debug, Serialize)]
pub struct ConnectionsFigures {
    pub open_files_limit: u64,
    pub runs: Vec<LoadFigures>,
    pub skipped: Vec<String>,
}

/// Runs the scenario and prints its table.
pub async fn run(args: ConnectionsArgs) -> Result<()> {
    let spec = LoadSpec {
        docs: args.docs,
        clients: args.clients,
        rate: args.rate,
        seconds: args.seconds,
        connect_concurrency: args.connect_concurrency,
        writers: 1,
    };
    let mut runs = Vec::new();
    let mut skipped = Vec::new();
    for &kind in &args.targets {
        eprintln!(
            "connections: {} with {} × {}",
            kind.label(),
            args.docs,
            args.clients
        );
        match load::measure_fresh(kind, &args.programs, &spec).await {
            Ok(figures) => runs.push(figures),
            Err(error) => {
                eprintln!("connections: {}: {error:#}", kind.label());
                skipped.push(format!("{}: {error:#}", kind.label()));
            }
        }
    }
    let figures = ConnectionsFigures {
        open_files_limit: rlimit::getrlimit(rlimit::Resource::NOFILE)
            .map(|(soft, _)| soft)
            .unwrap_or(0),
        runs,
        skipped,
    };
    publish(
        &figures.markdown(&spec),
        &crate::limits::process(&[]),
        args.json.as_deref(),
        &figures,
    )?;
    let ours_skipped = figures
        .skipped
        .iter()
        .find(|s| s.starts_with(TargetKind::Forankra.label()));
    for run in figures
        .runs
        .iter()
        .filter(|r| r.target == TargetKind::Forankra)
    {
        load::ours_ran_cleanly(Some(run), None).context("connections")?;
    }
    load::ours_ran_cleanly(None, ours_skipped.map(String::as_str)).context("connections")?;
    Ok(())
}

impl ConnectionsFigures {
    /// One row per server.
    pub fn markdown(&self, spec: &LoadSpec) -> String {
        let mut table = Table::new(&[
            "server",
            "connections",
            "all synced in",
            "initial sync p50 / p99",
            "RSS idle → connected (max)",
            "RSS per connection",
            "fan-out p50 / p99 / max",
            "server CPU",
            "errors (missing)",
        ]);
        for f in &self.runs {
            let (rss, per_conn, cpu) = match &f.server {
                Some(s) => (
                    format!(
                        "{} → {} ({})",
                        mib(s.idle_rss_kib),
                        mib(s.connected_rss_kib),
                        mib(s.typing.rss_max_kib)
                    ),
                    format!("{:.1} KiB", s.rss_per_connection_kib),
                    format!("{:.0} %", s.typing.cpu_cores * 100.0),
                ),
                None => Default::default(),
            };
            table.row(&[
                f.label.to_owned(),
                thousands(f.connections),
                format!("{:.2} s", f.connect_all_secs),
                format!(
                    "{} / {}",
                    latency(f.initial_sync.p50_us),
                    latency(f.initial_sync.p99_us)
                ),
                rss,
                per_conn,
                format!(
                    "{} / {} / {}",
                    latency(f.fanout.p50_us),
                    latency(f.fanout.p99_us),
                    latency(f.fanout.max_us)
                ),
                cpu,
                format!(
                    "{} ({})",
                    thousands(f.errors),
                    thousands(f.missing_receipts)
                ),
            ]);
        }
        let mut out = format!(
            "## connections: {} documents × {} clients, {} updates/s in all for {} s\n\n\
             Open-file limit (soft, raised by the harness, inherited by the server): {}.\n\n{}",
            thousands(spec.docs),
            spec.clients,
            spec.rate,
            spec.seconds,
            thousands(self.open_files_limit),
            table.markdown()
        );
        for line in &self.skipped {
            out.push_str(&format!("- not measured: {line}\n"));
        }
        out
    }
}
