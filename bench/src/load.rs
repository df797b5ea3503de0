//! `load`: N clients in each of M documents over real WebSockets, one writer per document
//! (or the first W clients of each, `--writers`) typing at a fixed total rate, every
//! other client reading. The engine of the fan-out, connection, crowd and storm
//! scenarios, and a subcommand of its own for one target.
//!
//! Why it is built this way:
//! - **One task per client, for its whole life.** It connects, then keeps reading its
//!   socket while it waits to start and after it is done, so pings are answered and no
//!   server counts an idle client as dead, however long ten thousand connects take.
//! - **Receipt timing without touching the document** (as `relay`): the writer notes
//!   `(clock after the edit, send instant)` in a per-document table before it sends; a
//!   reader, after applying a frame, reads its state vector's clock for the writer and
//!   takes every noted edit it now covers. An update that arrives batched with others
//!   counts for each edit in it, each against its own send instant. The writer's client
//!   id is chosen up front so readers know whose clock to watch; with several writers
//!   each has its own table and a reader checks every writer's clock after each frame.
//! - **A cheap receive loop**, so hundreds of readers on two cores measure the server,
//!   not the harness: one `next()`, one decode and apply into a small `Doc`, one state
//!   vector read, a read lock on the table, and a `u32` pushed per receipt; histograms
//!   are built once at the end. What this costs is measured, not assumed: the same load
//!   against the in-process [`crate::echo::Hub`] (no CRDT, no storage) is the floor.
//! - **Open-loop typing at a fixed rate**, spread evenly over the documents (document d
//!   starts d/rate seconds in), so the server sees `rate` updates per second in all,
//!   never a burst; a late tick delays the rest rather than bursting to catch up.
//! - **Every wait is bounded**: connects and sends by [`crate::client::IO_TIMEOUT`], typing by twice its
//!   nominal time plus slack, the drain after typing by [`DRAIN_TIMEOUT`], closing by
//!   [`CLOSE_TIMEOUT`]. What did not arrive in time is reported as missing receipts.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use serde::Serialize;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use yrs::{ClientID, ReadTxn, Transact};

use crate::client::{ConnectTimes, YClient, new_doc, new_doc_with_id};
use crate::procstat::{self, ProcWindow, Sampler};
use crate::report::{LatencySummary, Table, latency, latency_histogram, thousands, write_json};
use crate::target::{Endpoint, Programs, Target, TargetKind};
use crate::typing::Typist;

/// How long readers may take to receive the last edits once every writer is done.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);
/// How long closing every connection may take in all.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(30);
/// Allowance beyond twice the nominal typing time.
const RUN_SLACK: Duration = Duration::from_secs(30);
/// Longest the whole connect phase may take, however many clients.
const CONNECT_PHASE_TIMEOUT: Duration = Duration::from_secs(600);
/// Between the start signal and the first edit, so every task has seen the signal.
const START_DELAY: Duration = Duration::from_millis(300);
/// Writers' client ids start here. Within 32 bits, as Yjs draws them: y-sweet's yrs 0.19
/// reads a v1 client id as a u32 and refuses anything wider. Readers never write, so
/// an id of theirs equal to a writer's could not confuse anything.
const WRITER_ID_BASE: u64 = 0x8000_0000;
/// Error messages kept for the report; the rest are only counted.
const ERROR_SAMPLES: usize = 5;

/// `forankra-bench load`: one target, one configuration.
#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// The server under test.
    #[arg(long, value_enum, default_value = "forankra")]
    target: TargetKind,
    #[command(flatten)]
    spec: LoadSpec,
    #[command(flatten)]
    programs: Programs,
    /// Also write the figures as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// The shape of a load.
#[derive(Debug, Clone, clap::Args, Serialize)]
pub struct LoadSpec {
    /// Documents.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub docs: u32,
    /// Clients per document, the writer included.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(2..=100_000))]
    pub clients: u32,
    /// Updates per second in all, shared by the documents' writers.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub rate: u32,
    /// Seconds of typing.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=3600))]
    pub seconds: u32,
    /// Connections being opened at once.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub connect_concurrency: u32,
    /// Writers per document (the first clients of each); the rate is shared by every
    /// writer of every document.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub writers: u32,
}

/// Runs one load against a fresh target and prints its table.
pub async fn run(args: LoadArgs) -> Result<()> {
    let mut target = Target::start(args.target, &args.programs).await?;
    let figures = measure(&mut target, &args.spec).await;
    let stopped = target.stop().await;
    let figures = figures?;
    stopped?;
    print!("{}", figures.markdown());
    if args.target == TargetKind::Forankra {
        print!("{}", crate::limits::process(&[]));
    }
    if let Some(path) = &args.json {
        write_json(path, &figures)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Runs `spec` against a fresh `kind`, then stops it: one row of a side-by-side
/// scenario.
pub async fn measure_fresh(
    kind: TargetKind,
    programs: &Programs,
    spec: &LoadSpec,
) -> Result<LoadFigures> {
    let mut target = Target::start(kind, programs).await?;
    let figures = measure(&mut target, spec).await;
    let stopped = target.stop().await;
    let figures = figures?;
    stopped?;
    Ok(figures)
}

/// Fails when our server's run did not complete cleanly: a scenario that our own limits
/// or a regression break must fail the run (and CI's quick form), not turn into a row
/// of "not measured" or a count of errors nobody reads. Peers that are not installed
/// stay a note in the report.
pub fn ours_ran_cleanly(figures: Option<&LoadFigures>, skipped: Option<&str>) -> Result<()> {
    if let Some(why) = skipped {
        anyhow::bail!("Förankra could not be measured: {why}");
    }
    if let Some(f) = figures
        && (f.errors > 0 || f.missing_receipts > 0)
    {
        anyhow::bail!(
            "Förankra's run had {} errors and {} missing receipts (first: {:?})",
            f.errors,
            f.missing_receipts,
            f.error_samples.first()
        );
    }
    Ok(())
}

/// Every figure of one load run.
#[derive(Debug, Serialize)]
pub struct LoadFigures {
    pub target: TargetKind,
    pub label: &'static str,
    pub durability: &'static str,
    pub spec: LoadSpec,
    /// Connections that synced.
    pub connections: u64,
    pub updates_sent: u64,
    /// Updates per second the writers managed in all (first to last send).
    pub sent_per_sec: f64,
    /// Receipts counted: one per update per reader of its document.
    pub receipts: u64,
    /// Receipts that did not arrive before the drain timeout.
    pub missing_receipts: u64,
    /// Receipts per second over the typing window.
    pub receipts_per_sec: f64,
    /// Mean size of one update's WebSocket message, in bytes.
    pub mean_update_bytes: f64,
    /// Writer's send to each reader's receipt.
    pub fanout: LatencySummary,
    /// TCP connect and WebSocket upgrade, per connection.
    pub handshake: LatencySummary,
    /// Connect to the server's sync step 2 applied, per connection.
    pub initial_sync: LatencySummary,
    /// From the first connect to the last connection synced.
    pub connect_all_secs: f64,
    /// Failed connects, and connections that failed or were closed during the run.
    pub errors: u64,
    pub error_samples: Vec<String>,
    /// The server's process (none for the in-process floor).
    pub server: Option<ServerCost>,
    /// The harness's own process over the typing window.
    pub harness: ProcWindow,
}

/// What the server process cost.
#[derive(Debug, Serialize)]
pub struct ServerCost {
    /// Before any client connected, KiB.
    pub idle_rss_kib: u64,
    /// Once every client had synced, KiB.
    pub connected_rss_kib: u64,
    /// (connected − idle) / connections, KiB.
    pub rss_per_connection_kib: f64,
    /// Over the typing window (and the drain after it).
    pub typing: ProcWindow,
}

impl LoadFigures {
    /// The figures as a two-column Markdown table.
    pub fn markdown(&self) -> String {
        let mut table = Table::new(&["figure", "value"]);
        let s = &self.fanout;
        table
            .row(&[
                "fan-out latency p50 / p99 / p99.9 / max".to_owned(),
                format!(
                    "{} / {} / {} / {}",
                    latency(s.p50_us),
                    latency(s.p99_us),
                    latency(s.p999_us),
                    latency(s.max_us)
                ),
            ])
            .row(&[
                "receipts (missing)".to_owned(),
                format!(
                    "{} ({})",
                    thousands(self.receipts),
                    thousands(self.missing_receipts)
                ),
            ])
            .row(&[
                format!("updates/s sent (target {})", self.spec.rate),
                format!("{:.1}", self.sent_per_sec),
            ])
            .row(&[
                "receipts/s".to_owned(),
                format!("{:.0}", self.receipts_per_sec),
            ])
            .row(&[
                "mean update message".to_owned(),
                format!("{:.1} B", self.mean_update_bytes),
            ])
            .row(&[
                "connect p50 / p99 (handshake)".to_owned(),
                format!(
                    "{} / {}",
                    latency(self.handshake.p50_us),
                    latency(self.handshake.p99_us)
                ),
            ])
            .row(&[
                "initial sync p50 / p99".to_owned(),
                format!(
                    "{} / {}",
                    latency(self.initial_sync.p50_us),
                    latency(self.initial_sync.p99_us)
                ),
            ])
            .row(&[
                format!("all {} connections synced in", thousands(self.connections)),
                format!("{:.2} s", self.connect_all_secs),
            ])
            .row(&["errors".to_owned(), thousands(self.errors)]);
        if let Some(server) = &self.server {
            table
                .row(&[
                    "server RSS idle / connected / max while typing".to_owned(),
                    format!(
                        "{} / {} / {}",
                        mib(server.idle_rss_kib),
                        mib(server.connected_rss_kib),
                        mib(server.typing.rss_max_kib)
                    ),
                ])
                .row(&[
                    "server RSS per connection".to_owned(),
                    format!("{:.1} KiB", server.rss_per_connection_kib),
                ])
                .row(&[
                    "server CPU while typing".to_owned(),
                    format!(
                        "{:.2} s ({:.0} % of a core)",
                        server.typing.cpu_secs,
                        server.typing.cpu_cores * 100.0
                    ),
                ]);
        }
        table.row(&[
            "harness CPU while typing".to_owned(),
            format!(
                "{:.2} s ({:.0} % of a core)",
                self.harness.cpu_secs,
                self.harness.cpu_cores * 100.0
            ),
        ]);
        let mut out = format!(
            "## load: {}, {} document(s) × {} clients ({} writing in each), {} updates/s for {} s\n\n{}\n",
            self.label,
            self.spec.docs,
            self.spec.clients,
            self.spec.writers,
            self.spec.rate,
            self.spec.seconds,
            table.markdown()
        );
        for sample in &self.error_samples {
            out.push_str(&format!("- error: {sample}\n"));
        }
        out
    }
}

/// "12.3 MiB".
pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// One writer's notes: after each edit, its clock and when the edit was sent.
///
/// Several writers of one document each keep their own, so every receipt is timed
/// against the send instant of the edit it holds, whoever wrote it.
struct SendLog {
    writer: ClientID,
    sent: RwLock<Vec<Sent>>,
}

#[derive(Debug, Clone, Copy)]
struct Sent {
    clock: u32,
    at: Instant,
}

/// What a client does once started.
#[derive(Debug, Clone, Copy)]
enum Role {
    Writer {
        edits: u64,
        period: Duration,
        phase: Duration,
    },
    Reader,
}

/// The signals every client task follows.
#[derive(Clone)]
struct Signals {
    /// When typing starts (the first writer's first tick).
    start: watch::Receiver<Option<tokio::time::Instant>>,
    /// Readers stop waiting for missing edits.
    stop: watch::Receiver<bool>,
    /// Close the connection.
    close: watch::Receiver<bool>,
}

/// What a client task reports as it goes.
enum Progress {
    /// Connected and synced (`Some`), or failed to.
    Connected(Option<ConnectTimes>),
    /// Done with its role.
    Finished,
}

/// What a client task ends with.
#[derive(Default)]
struct Outcome {
    latencies_us: Vec<u32>,
    missing: u64,
    sent: u64,
    sent_bytes: u64,
    first_send: Option<Instant>,
    last_send: Option<Instant>,
    error: Option<String>,
}

/// Runs `spec` against a started target.
pub async fn measure(target: &mut Target, spec: &LoadSpec) -> Result<LoadFigures> {
    let endpoints = target.documents(spec.docs as usize).await?;
    let ticks = procstat::clock_ticks_per_sec();
    let pid = target.pid();
    let idle = pid.map(|p| procstat::sample(p, ticks)).transpose()?;

    let (start_tx, start) = watch::channel(None);
    let (stop_tx, stop) = watch::channel(false);
    let (close_tx, close) = watch::channel(false);
    let signals = Signals { start, stop, close };
    let (progress_tx, mut progress) = mpsc::unbounded_channel();
    let gate = Arc::new(Semaphore::new(spec.connect_concurrency as usize));
    let total_edits = u64::from(spec.rate) * u64::from(spec.seconds);
    let writers = spec.writers.min(spec.clients);
    // Every writer of every document, in the order their ticks are spread.
    let all_writers = spec.docs * writers;
    let period = Duration::from_secs(1) * all_writers / spec.rate;

    // Client-major order: every document's writers first, so rooms load side by side.
    let mut tasks: Vec<JoinHandle<Outcome>> = Vec::new();
    let mut done_senders = Vec::with_capacity(endpoints.len());
    let mut done_receivers = Vec::with_capacity(endpoints.len());
    let mut logs = Vec::with_capacity(endpoints.len());
    for d in 0..endpoints.len() {
        let (tx, rx) = watch::channel(vec![None::<u32>; writers as usize]);
        done_senders.push(Arc::new(tx));
        done_receivers.push(rx);
        let doc_logs: Vec<Arc<SendLog>> = (0..writers)
            .map(|w| {
                Arc::new(SendLog {
                    writer: ClientID::new(
                        WRITER_ID_BASE + (d as u64) * u64::from(writers) + u64::from(w),
                    ),
                    sent: RwLock::new(Vec::new()),
                })
            })
            .collect();
        logs.push(Arc::new(doc_logs));
    }
    let connect_started = Instant::now();
    for c in 0..spec.clients {
        for (d, endpoint) in endpoints.iter().enumerate() {
            let (role, own) = if c < writers {
                // Writer w of document d is the (d × writers + w)-th of all writers.
                let n = d as u64 * u64::from(writers) + u64::from(c);
                let edits = total_edits / u64::from(all_writers)
                    + u64::from(n < total_edits % u64::from(all_writers));
                let role = Role::Writer {
                    edits,
                    period,
                    phase: Duration::from_secs(1) * n as u32 / spec.rate,
                };
                (role, Some(c as usize))
            } else {
                (Role::Reader, None)
            };
            let task = ClientTask {
                endpoint: endpoint.clone(),
                role,
                logs: Arc::clone(&logs[d]),
                own,
                done_tx: own.map(|_| Arc::clone(&done_senders[d])),
                done: done_receivers[d].clone(),
                signals: signals.clone(),
                progress: progress_tx.clone(),
                gate: Arc::clone(&gate),
            };
            tasks.push(tokio::spawn(task.run()));
        }
    }
    drop(progress_tx);

    // Wait for every connect to succeed or fail.
    let mut handshakes = latency_histogram()?;
    let mut syncs = latency_histogram()?;
    let mut connected = 0_u64;
    let mut finished_expected = 0_u64;
    let attempts = tasks.len();
    let connect_deadline = tokio::time::Instant::now() + CONNECT_PHASE_TIMEOUT;
    let mut seen = 0;
    let mut finished_early = 0_u64;
    while seen < attempts {
        match tokio::time::timeout_at(connect_deadline, progress.recv()).await {
            Ok(Some(Progress::Connected(times))) => {
                seen += 1;
                if let Some(times) = times {
                    connected += 1;
                    finished_expected += 1;
                    crate::report::record(&mut handshakes, times.handshake);
                    crate::report::record(&mut syncs, times.synced);
                }
            }
            // A client that dropped out between its connect and the start.
            Ok(Some(Progress::Finished)) => finished_early += 1,
            Ok(None) => break,
            Err(_) => {
                abort_all(&tasks);
                bail!("connecting {attempts} clients took longer than {CONNECT_PHASE_TIMEOUT:?}");
            }
        }
    }
    let connect_all = connect_started.elapsed();
    let connected_sample = pid.map(|p| procstat::sample(p, ticks)).transpose()?;

    // Type.
    let server_sampler = pid.map(Sampler::start).transpose()?;
    let harness_sampler = Sampler::start(std::process::id())?;
    let typing = Duration::from_secs(u64::from(spec.seconds));
    let _ = start_tx.send(Some(tokio::time::Instant::now() + START_DELAY));
    let deadline = tokio::time::Instant::now() + START_DELAY + typing * 2 + RUN_SLACK;
    let mut finished = finished_early;
    let mut drain_deadline: Option<tokio::time::Instant> = None;
    while finished < finished_expected {
        // Once the writers are all done (they finish first), readers get a short drain.
        let limit = drain_deadline.unwrap_or(deadline).min(deadline);
        match tokio::time::timeout_at(limit, progress.recv()).await {
            Ok(Some(Progress::Finished)) => finished += 1,
            Ok(Some(Progress::Connected(_))) => {}
            Ok(None) | Err(_) => break,
        }
        if drain_deadline.is_none()
            && done_receivers
                .iter()
                .all(|rx| rx.borrow().iter().all(Option::is_some))
        {
            drain_deadline = Some(tokio::time::Instant::now() + DRAIN_TIMEOUT);
        }
    }
    let _ = stop_tx.send(true);
    let server_window = match server_sampler {
        Some(sampler) => Some(sampler.finish().await?),
        None => None,
    };
    let harness_window = harness_sampler.finish().await?;

    // Close and collect.
    let _ = close_tx.send(true);
    let mut outcomes = Vec::with_capacity(tasks.len());
    let close_deadline = tokio::time::Instant::now() + CLOSE_TIMEOUT;
    for task in tasks {
        let abort = task.abort_handle();
        match tokio::time::timeout_at(close_deadline, task).await {
            Ok(Ok(outcome)) => outcomes.push(outcome),
            Ok(Err(join)) => outcomes.push(Outcome {
                error: Some(format!("a client task failed: {join}")),
                ..Outcome::default()
            }),
            Err(_) => {
                abort.abort();
                outcomes.push(Outcome {
                    error: Some("a client did not close in time".to_owned()),
                    ..Outcome::default()
                });
            }
        }
    }

    let mut fanout = latency_histogram()?;
    let mut figures = Totals::default();
    for outcome in &outcomes {
        for &us in &outcome.latencies_us {
            fanout.saturating_record(u64::from(us));
        }
        figures.add(outcome);
    }
    let sending = match (figures.first_send, figures.last_send) {
        (Some(first), Some(last)) if last > first => (last - first).as_secs_f64(),
        _ => typing.as_secs_f64(),
    };
    let server = match (idle, connected_sample, server_window) {
        (Some(idle), Some(connected_sample), Some(typing)) => Some(ServerCost {
            idle_rss_kib: idle.rss_kib,
            connected_rss_kib: connected_sample.rss_kib,
            rss_per_connection_kib: connected_sample.rss_kib.saturating_sub(idle.rss_kib) as f64
                / connected.max(1) as f64,
            typing,
        }),
        _ => None,
    };
    let receipts = fanout.len();
    Ok(LoadFigures {
        target: target.kind(),
        label: target.kind().label(),
        durability: target.kind().durability(),
        spec: spec.clone(),
        connections: connected,
        updates_sent: figures.sent,
        sent_per_sec: figures.sent.saturating_sub(1) as f64 / sending,
        receipts,
        missing_receipts: figures.missing,
        receipts_per_sec: receipts as f64 / harness_window.wall_secs.max(f64::EPSILON),
        mean_update_bytes: figures.sent_bytes as f64 / figures.sent.max(1) as f64,
        fanout: LatencySummary::from(&fanout),
        handshake: LatencySummary::from(&handshakes),
        initial_sync: LatencySummary::from(&syncs),
        connect_all_secs: connect_all.as_secs_f64(),
        errors: (attempts as u64 - connected) + figures.errors,
        error_samples: figures.error_samples,
        server,
        harness: harness_window,
    })
}

fn abort_all(tasks: &[JoinHandle<Outcome>]) {
    for task in tasks {
        task.abort();
    }
}

/// Sums over every client's outcome.
#[derive(Default)]
struct Totals {
    sent: u64,
    sent_bytes: u64,
    missing: u64,
    first_send: Option<Instant>,
    last_send: Option<Instant>,
    errors: u64,
    error_samples: Vec<String>,
}

impl Totals {
    fn add(&mut self, outcome: &Outcome) {
        self.sent += outcome.sent;
        self.sent_bytes += outcome.sent_bytes;
        self.missing += outcome.missing;
        self.first_send = min_opt(self.first_send, outcome.first_send);
        self.last_send = self.last_send.max(outcome.last_send);
        if let Some(error) = &outcome.error {
            self.errors += 1;
            if self.error_samples.len() < ERROR_SAMPLES {
                self.error_samples.push(error.clone());
            }
        }
    }
}

fn min_opt(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Everything one client task needs.
struct ClientTask {
    endpoint: Endpoint,
    role: Role,
    /// The notes of every writer of the document.
    logs: Arc<Vec<Arc<SendLog>>>,
    /// A writer's index in `logs`.
    own: Option<usize>,
    /// A writer's: says its final clock (at its index) once it has typed everything.
    done_tx: Option<Arc<watch::Sender<Vec<Option<u32>>>>>,
    /// Each of the document's writers' final clock, once known.
    done: watch::Receiver<Vec<Option<u32>>>,
    signals: Signals,
    progress: mpsc::UnboundedSender<Progress>,
    gate: Arc<Semaphore>,
}

impl ClientTask {
    /// Connects, waits for the start, plays its role, waits to be told to close.
    async fn run(mut self) -> Outcome {
        let connected = {
            // A closed semaphore cannot happen (it is never closed); treat it as a failure.
            let Ok(_permit) = self.gate.acquire().await else {
                return self.fail("the connect gate closed".to_owned());
            };
            let doc = match self.own {
                Some(own) => new_doc_with_id(self.logs[own].writer.get()),
                None => new_doc(),
            };
            YClient::connect_with(&self.endpoint.url, self.endpoint.framing.clone(), doc).await
        };
        let mut client = match connected {
            Ok((client, times)) => {
                let _ = self.progress.send(Progress::Connected(Some(times)));
                client
            }
            Err(error) => return self.fail(format!("connecting: {error:#}")),
        };
        let mut outcome = Outcome::default();
        let started = self.idle_until_start(&mut client).await;
        let result = match (started, self.role) {
            (Err(error), _) => Err(error),
            (
                Ok(start),
                Role::Writer {
                    edits,
                    period,
                    phase,
                },
            ) => {
                self.write(&mut client, &mut outcome, start + phase, edits, period)
                    .await
            }
            (Ok(_), Role::Reader) => self.read(&mut client, &mut outcome).await,
        };
        if let (Some(done), Some(own)) = (self.done_tx.take(), self.own) {
            // Also on failure, so readers stop waiting for a writer that is gone.
            let last = self.logs[own]
                .sent
                .read()
                .ok()
                .and_then(|s| s.last().map(|s| s.clock));
            done.send_modify(|all| all[own] = Some(last.unwrap_or(0)));
        }
        let _ = self.progress.send(Progress::Finished);
        match result {
            Ok(()) => {
                self.idle_until_close(&mut client).await;
                // The server may already have gone; a failed close changes no figure.
                let _ = client.close().await;
            }
            Err(error) => outcome.error = Some(format!("{error:#}")),
        }
        outcome
    }

    fn fail(&mut self, error: String) -> Outcome {
        let _ = self.progress.send(Progress::Connected(None));
        if let (Some(done), Some(own)) = (self.done_tx.take(), self.own) {
            done.send_modify(|all| all[own] = Some(0));
        }
        Outcome {
            error: Some(error),
            ..Outcome::default()
        }
    }

    /// Keeps reading (so pings are answered) until the start signal; returns the start.
    async fn idle_until_start(&mut self, client: &mut YClient) -> Result<tokio::time::Instant> {
        loop {
            if let Some(start) = *self.signals.start.borrow_and_update() {
                return Ok(start);
            }
            tokio::select! {
                changed = self.signals.start.changed() => {
                    changed.map_err(|_| anyhow!("the run ended before it started"))?;
                }
                frame = client.next_frame() => {
                    client.handle(frame?).await?;
                }
            }
        }
    }

    /// Keeps reading until told to close.
    async fn idle_until_close(&mut self, client: &mut YClient) {
        loop {
            if *self.signals.close.borrow_and_update() {
                return;
            }
            tokio::select! {
                changed = self.signals.close.changed() => if changed.is_err() { return },
                frame = client.next_frame() => {
                    let handled = match frame {
                        Ok(frame) => client.handle(frame).await,
                        Err(error) => Err(error),
                    };
                    if handled.is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// Types `edits` characters every `period` from `first`, noting each before sending.
    async fn write(
        &mut self,
        client: &mut YClient,
        outcome: &mut Outcome,
        first: tokio::time::Instant,
        edits: u64,
        period: Duration,
    ) -> Result<()> {
        let log = Arc::clone(&self.logs[self.own.context("a writer without notes")?]);
        let mut typist = Typist::new(client.doc(), true, false);
        let mut ticker = tokio::time::interval_at(first, period);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut stop_open = true;
        while outcome.sent < edits {
            tokio::select! {
                biased;
                changed = self.signals.stop.changed(), if stop_open => {
                    if changed.is_err() {
                        stop_open = false;
                    } else if *self.signals.stop.borrow() {
                        bail!("the writer was stopped after {} of {edits} edits", outcome.sent);
                    }
                }
                _ = ticker.tick() => {
                    let (update, clock) = typist.type_next(client.doc());
                    let at = Instant::now();
                    // Noted before sending, so the note is there before any reader can
                    // receive the edit.
                    log
                        .sent
                        .write()
                        .map_err(|_| anyhow!("a reader panicked"))?
                        .push(Sent { clock, at });
                    outcome.sent_bytes += client.send_update(update).await? as u64;
                    outcome.sent += 1;
                    outcome.first_send.get_or_insert(at);
                    outcome.last_send = Some(at);
                }
                frame = client.next_frame() => {
                    client.handle(frame?).await?;
                }
            }
        }
        Ok(())
    }

    /// Applies what the server relays until the writer's last edit is in, recording the
    /// latency of each edit at the frame that completed it.
    async fn read(&mut self, client: &mut YClient, outcome: &mut Outcome) -> Result<()> {
        let logs = Arc::clone(&self.logs);
        // Per writer: the next note not yet received, and the clock seen so far.
        let mut next = vec![0_usize; logs.len()];
        let mut seen = vec![0_u32; logs.len()];
        let mut done_open = true;
        let mut stop_open = true;
        let result = loop {
            let all_in = self
                .done
                .borrow_and_update()
                .iter()
                .zip(&seen)
                .all(|(last, seen)| last.is_some_and(|last| *seen >= last));
            if all_in || *self.signals.stop.borrow() {
                break Ok(());
            }
            tokio::select! {
                biased;
                changed = self.signals.stop.changed(), if stop_open => {
                    stop_open = changed.is_ok();
                }
                changed = self.done.changed(), if done_open => {
                    done_open = changed.is_ok();
                }
                frame = client.next_frame() => {
                    let receipt = Instant::now();
                    let content = match frame {
                        Ok(frame) => client.handle(frame).await,
                        Err(error) => Err(error),
                    };
                    match content {
                        Ok(true) => {
                            let state = client.doc().transact().state_vector();
                            for (w, log) in logs.iter().enumerate() {
                                seen[w] = state.get(&log.writer);
                                let sent = log.sent.read().map_err(|_| anyhow!("a writer panicked"))?;
                                while let Some(s) = sent.get(next[w])
                                    && s.clock <= seen[w]
                                {
                                    let us = receipt.saturating_duration_since(s.at).as_micros();
                                    outcome.latencies_us.push(u32::try_from(us).unwrap_or(u32::MAX));
                                    next[w] += 1;
                                }
                            }
                        }
                        Ok(false) => {}
                        Err(error) => break Err(error),
                    }
                }
            }
        };
        for (log, next) in logs.iter().zip(next) {
            let sent = log
                .sent
                .read()
                .map_err(|_| anyhow!("a writer panicked"))?
                .len();
            outcome.missing += sent.saturating_sub(next) as u64;
        }
        result
    }
}
