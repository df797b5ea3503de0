//! `crowd`: one document, 1,000 clients. One writer and 999 readers, then 20 writers
//! and 980 readers, on ours and on every peer that takes that many connections.
//!
//! Why it is run this way:
//! - The load is [`crate::load`]'s, as in `fanout`, so the figures read the same way:
//!   latency from a writer's send to each reader's receipt, every edit timed against
//!   its own writer's send instant however many writers there are.
//! - The rate is the document's in all (50 updates/s by default), shared by the
//!   writers: 20 writers type 2.5 updates/s each. What grows is who sends, so what is
//!   measured is the cost of interleaving many writers' updates into one fan-out, not of
//!   more traffic.
//! - Every client comes from 127.0.0.1, so our per-address connection cap (200 by
//!   default) and per-connection message rate would refuse the load being measured:
//!   the harness lifts them (the flags are printed under the report). A deployment
//!   behind one proxy address needs the same.
//! - The servers take turns within each writer count, one at a time, each on fresh
//!   storage, as in `fanout`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::load::{self, LoadFigures, LoadSpec, mib};
use crate::report::{
    Table, at_most_ms, figures_or_note, latency, not_measured, publish, thousands,
};
use crate::target::{Programs, TargetKind};

/// The target of the issue: fan-out p99 with 1,000 clients in one document.
const TARGET_P99_US: u64 = 10_000;

/// `forankra-bench crowd`.
#[derive(Debug, clap::Args)]
pub struct CrowdArgs {
    /// Clients in the document, writers included.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(2..=100_000))]
    clients: u32,
    /// Writers among them, one run per count (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = [1_u32, 20])]
    writers: Vec<u32>,
    /// Updates per second in all, shared by the writers.
    #[arg(long, default_value_t = 50)]
    rate: u32,
    /// Seconds of typing per run.
    #[arg(long, default_value_t = 20)]
    seconds: u32,
    /// Connections being opened at once.
    #[arg(long, default_value_t = 64)]
    connect_concurrency: u32,
    /// The servers (comma-separated); those not installed are skipped with a note.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = TargetKind::ALL)]
    targets: Vec<TargetKind>,
    #[command(flatten)]
    programs: Programs,
    /// Also write the figures as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// Every figure of the scenario.
#[derive(Debug, Serialize)]
pub struct CrowdFigures {
    pub clients: u32,
    pub rate: u32,
    pub seconds: u32,
    pub target_p99_us: u64,
    pub runs: Vec<CrowdRun>,
}

/// One server at one writer count.
#[derive(Debug, Serialize)]
pub struct CrowdRun {
    pub writers: u32,
    pub target: TargetKind,
    pub figures: Option<LoadFigures>,
    pub skipped: Option<String>,
}

/// Runs the scenario and prints its table; fails when ours did not run cleanly.
pub async fn run(args: CrowdArgs) -> Result<()> {
    let mut runs = Vec::new();
    for &writers in &args.writers {
        for &kind in &args.targets {
            eprintln!(
                "crowd: {} with {} clients, {writers} writing",
                kind.label(),
                args.clients
            );
            let spec = LoadSpec {
                docs: 1,
                clients: args.clients,
                rate: args.rate,
                seconds: args.seconds,
                connect_concurrency: args.connect_concurrency,
                writers,
            };
            let (figures, skipped) = figures_or_note(
                load::measure_fresh(kind, &args.programs, &spec).await,
                &format!("crowd: {}", kind.label()),
            );
            runs.push(CrowdRun {
                writers,
                target: kind,
                figures,
                skipped,
            });
        }
    }
    let figures = CrowdFigures {
        clients: args.clients,
        rate: args.rate,
        seconds: args.seconds,
        target_p99_us: TARGET_P99_US,
        runs,
    };
    publish(
        &figures.markdown(),
        &crate::limits::process(&[]),
        args.json.as_deref(),
        &figures,
    )?;
    for run in figures
        .runs
        .iter()
        .filter(|r| r.target == TargetKind::Forankra)
    {
        load::ours_ran_cleanly(run.figures.as_ref(), run.skipped.as_deref())
            .with_context(|| format!("crowd with {} writers", run.writers))?;
    }
    Ok(())
}

impl CrowdFigures {
    /// One row per server and writer count, the target beside ours.
    pub fn markdown(&self) -> String {
        let mut table = Table::new(&[
            "writers + readers",
            "server",
            "fan-out p50",
            "p99",
            "p99 target",
            "max",
            "receipts (missing)",
            "all synced in",
            "server RSS max / CPU",
            "errors",
        ]);
        let mut skipped = Vec::new();
        for run in &self.runs {
            let shape = format!(
                "{} + {}",
                run.writers,
                thousands(self.clients.saturating_sub(run.writers))
            );
            let Some(f) = &run.figures else {
                skipped.push(format!(
                    "- {} with {shape}: {}",
                    run.target.label(),
                    run.skipped.as_deref().unwrap_or("no figures")
                ));
                continue;
            };
            let cost = f.server.as_ref().map_or_else(
                || "(in the harness)".to_owned(),
                |s| {
                    format!(
                        "{} / {:.0} %",
                        mib(s.typing.rss_max_kib),
                        s.typing.cpu_cores * 100.0
                    )
                },
            );
            table.row(&[
                shape,
                f.label.to_owned(),
                latency(f.fanout.p50_us),
                latency(f.fanout.p99_us),
                if run.target == TargetKind::Forankra {
                    at_most_ms(f.fanout.p99_us, f.fanout.samples, self.target_p99_us)
                } else {
                    String::new()
                },
                latency(f.fanout.max_us),
                format!(
                    "{} ({})",
                    thousands(f.receipts),
                    thousands(f.missing_receipts)
                ),
                format!("{:.2} s", f.connect_all_secs),
                cost,
                thousands(f.errors),
            ]);
        }
        let mut out = format!(
            "## crowd: one document, {} clients, {} updates/s in all for {} s\n\n\
             Latency from a writer's send to each reader's receipt; the writers share the \
             rate. CPU is the share of one core over the typing window.\n\n{}",
            thousands(self.clients),
            self.rate,
            self.seconds,
            table.markdown()
        );
        out.push_str(&not_measured(&skipped));
        out
    }
}
