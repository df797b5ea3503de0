//! `fanout`, scenario (a): one writer types 50 updates/s into one document read by 1, 49,
//! 199 (and 499) other clients, on ours and on every peer, side by side in one run.
//!
//! Why it is run this way:
//! - Every server gets the same load from the same harness ([`crate::load`]), each on
//!   fresh storage, one at a time, so they never share the machine with each other.
//! - The servers take turns within each client count rather than each running all its
//!   counts at once, so slow drift on the machine (another build, thermal state) spreads
//!   over all of them instead of landing on one.
//! - Two floors are measured in the same run: the loopback WebSocket echo (one round
//!   trip, what a relay can never beat) and the in-process hub (the same fan-out with no
//!   CRDT and no storage: what the harness itself costs at that size). A server's figure
//!   is read against both.
//! - Ratios are ours over each peer at the same percentile and client count: 0.2 means
//!   ours took a fifth of that peer's time.

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::echo;
use crate::load::{self, LoadFigures, LoadSpec, mib};
use crate::report::{LatencySummary, Table, latency, not_measured, publish, thousands};
use crate::target::{Programs, TargetKind};

/// Size of the echo's messages: about one keystroke's update frame.
const ECHO_FRAME_BYTES: usize = 32;
/// At most this many seconds of echo samples.
const ECHO_SECONDS: u32 = 10;

/// `forankra-bench fanout`.
#[derive(Debug, clap::Args)]
pub struct FanoutArgs {
    /// Clients in the document, the writer included (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = [2_u32, 50, 200, 500])]
    clients: Vec<u32>,
    /// Updates per second the writer types.
    #[arg(long, default_value_t = 50)]
    rate: u32,
    /// Seconds of typing per run.
    #[arg(long, default_value_t = 20)]
    seconds: u32,
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
pub struct FanoutFigures {
    pub rate: u32,
    pub seconds: u32,
    /// Loopback WebSocket echo round trip, same message size and rate.
    pub echo: LatencySummary,
    pub runs: Vec<FanoutRun>,
}

/// One server at one client count.
#[derive(Debug, Serialize)]
pub struct FanoutRun {
    pub clients: u32,
    pub target: TargetKind,
    /// The figures, or why there are none.
    pub figures: Option<LoadFigures>,
    pub skipped: Option<String>,
}

/// Runs the scenario and prints its tables.
pub async fn run(args: FanoutArgs) -> Result<()> {
    let samples = (args.rate * args.seconds.min(ECHO_SECONDS)) as usize;
    let echo = echo::measure(&vec![ECHO_FRAME_BYTES; samples.max(1)], args.rate)
        .await
        .context("measuring the loopback echo")?;
    let mut runs = Vec::new();
    for &clients in &args.clients {
        for &kind in &args.targets {
            eprintln!("fanout: {} with {clients} clients", kind.label());
            let outcome = one(kind, clients, &args).await;
            let run = match outcome {
                Ok(figures) => FanoutRun {
                    clients,
                    target: kind,
                    figures: Some(figures),
                    skipped: None,
                },
                Err(error) => {
                    eprintln!("fanout: {} with {clients} clients: {error:#}", kind.label());
                    FanoutRun {
                        clients,
                        target: kind,
                        figures: None,
                        skipped: Some(format!("{error:#}")),
                    }
                }
            };
            runs.push(run);
        }
    }
    let figures = FanoutFigures {
        rate: args.rate,
        seconds: args.seconds,
        echo: (&echo).into(),
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
            .with_context(|| format!("fanout with {} clients", run.clients))?;
    }
    Ok(())
}

/// One server, fresh, at one client count.
async fn one(kind: TargetKind, clients: u32, args: &FanoutArgs) -> Result<LoadFigures> {
    let spec = LoadSpec {
        docs: 1,
        clients,
        rate: args.rate,
        seconds: args.seconds,
        connect_concurrency: 64,
        writers: 1,
    };
    load::measure_fresh(kind, &args.programs, &spec).await
}

impl FanoutFigures {
    /// Latency with ratios, cost, and what each server guarantees.
    pub fn markdown(&self) -> String {
        let mut latencies = Table::new(&[
            "clients",
            "server",
            "p50",
            "p99",
            "p99.9",
            "max",
            "ours/this p50",
            "ours/this p99",
            "receipts (missing)",
        ]);
        latencies.row(&[
            "1 (echo)".to_owned(),
            "loopback WebSocket echo, round trip".to_owned(),
            latency(self.echo.p50_us),
            latency(self.echo.p99_us),
            latency(self.echo.p999_us),
            latency(self.echo.max_us),
            String::new(),
            String::new(),
            thousands(self.echo.samples),
        ]);
        let mut cost = Table::new(&[
            "clients",
            "server",
            "connect p99",
            "initial sync p99",
            "updates/s sent",
            "server RSS max",
            "server CPU",
            "harness CPU",
            "errors",
        ]);
        let mut skipped = Vec::new();
        for run in &self.runs {
            let Some(f) = &run.figures else {
                skipped.push(format!(
                    "- {} with {} clients: {}",
                    run.target.label(),
                    run.clients,
                    run.skipped.as_deref().unwrap_or("no figures")
                ));
                continue;
            };
            let ours = self.ours(run.clients);
            let ratio = |pick: fn(&LatencySummary) -> u64| match ours {
                Some(o) if run.target != TargetKind::Forankra && pick(&f.fanout) > 0 => {
                    format!("{:.2}", pick(&o.fanout) as f64 / pick(&f.fanout) as f64)
                }
                _ => String::new(),
            };
            latencies.row(&[
                run.clients.to_string(),
                f.label.to_owned(),
                latency(f.fanout.p50_us),
                latency(f.fanout.p99_us),
                latency(f.fanout.p999_us),
                latency(f.fanout.max_us),
                ratio(|s| s.p50_us),
                ratio(|s| s.p99_us),
                format!(
                    "{} ({})",
                    thousands(f.receipts),
                    thousands(f.missing_receipts)
                ),
            ]);
            let (rss, cpu) = match &f.server {
                Some(s) => (
                    mib(s.typing.rss_max_kib),
                    format!("{:.0} %", s.typing.cpu_cores * 100.0),
                ),
                None => ("(in the harness)".to_owned(), String::new()),
            };
            cost.row(&[
                run.clients.to_string(),
                f.label.to_owned(),
                latency(f.handshake.p99_us),
                latency(f.initial_sync.p99_us),
                format!("{:.1}", f.sent_per_sec),
                rss,
                cpu,
                format!("{:.0} %", f.harness.cpu_cores * 100.0),
                thousands(f.errors),
            ]);
        }
        let mut durability =
            Table::new(&["server", "what it guarantees about an update it relays"]);
        let mut listed = Vec::new();
        for run in &self.runs {
            if !listed.contains(&run.target) {
                listed.push(run.target);
                durability.row(&[run.target.label(), run.target.durability()]);
            }
        }
        let mut out = format!(
            "## fan-out: one writer at {} updates/s for {} s, one document\n\n\
             Latency from the writer's send to each other client's receipt. CPU is the \
             share of one core over the typing window (the machine has {} cores).\n\n{}\n{}\n{}",
            self.rate,
            self.seconds,
            std::thread::available_parallelism().map_or(0, usize::from),
            latencies.markdown(),
            cost.markdown(),
            durability.markdown(),
        );
        out.push_str(&not_measured(&skipped));
        out
    }

    fn ours(&self, clients: u32) -> Option<&LoadFigures> {
        self.runs
            .iter()
            .find(|r| r.clients == clients && r.target == TargetKind::Forankra)
            .and_then(|r| r.figures.as_ref())
    }
}
