//! `storm`: sync-storm isolation. Does one large document being fetched over and over
//! slow down everyone else on the server?
//!
//! - **The storm**: a document of 8 million characters (by default) is built through a
//!   Y client, in large chunks (one update per chunk), and held open by that client so
//!   it stays in the server's memory. Then several clients (8) each loop: connect, full
//!   sync (the server's step 2 holds the whole document), check the client now holds
//!   the builder's last clock, disconnect, again, until the measurement ends.
//! - **The victim**: a small document, one writer typing at a fixed rate and one reader,
//!   driven by [`crate::load`] exactly as in `fanout`. Its latency is measured twice on
//!   the same server: quiet (no storm) and during the storm. The figure that decides is
//!   its p99 during the storm, beside the target.
//! - Ours and every peer get the same load, one at a time, each on fresh storage.
//!   Building the large document through the client is what a user pasting a large
//!   text would do; the server stores it as it stores any update (ours before relaying
//!   it, the peers when their own persistence runs).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use yrs::{ClientID, ReadTxn, Text, Transact, XmlElementPrelim, XmlFragment, XmlTextPrelim};

use crate::client::{YClient, new_doc, new_doc_with_id};
use crate::load::{self, LoadFigures, LoadSpec};
use crate::report::{
    LatencySummary, Table, at_most_ms, figures_or_note, latency, latency_histogram, not_measured,
    publish, record, thousands,
};
use crate::target::{Endpoint, Programs, Target, TargetKind};
use crate::typing::FRAGMENT;

/// The target of the issue: the small document's p99 during the storm.
const TARGET_P99_US: u64 = 5_000;
/// The builder's client id (a reader's state vector shows its clock).
const BUILDER_ID: u64 = 0x7000_0000;
/// What the large document is made of, repeated (ASCII: one byte, one UTF-16 unit).
const FILLER: &str = "Remissen galler ett forslag om andrade regler for tillsyn. ";
/// How long a storm client waits before trying again after a failed round.
const RETRY_PAUSE: Duration = Duration::from_millis(100);
/// How long stopping the storm may take.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);

/// `forankra-bench storm`.
#[derive(Debug, clap::Args)]
pub struct StormArgs {
    /// Characters in the large document.
    #[arg(long, default_value_t = 8_000_000)]
    chars: usize,
    /// Characters per update while building it.
    #[arg(long, default_value_t = 100_000)]
    chunk_chars: usize,
    /// Clients re-syncing the large document over and over.
    #[arg(long, default_value_t = 8)]
    resyncers: u32,
    /// Updates per second the small document's writer types.
    #[arg(long, default_value_t = 50)]
    rate: u32,
    /// Seconds of typing, quiet and again during the storm.
    #[arg(long, default_value_t = 20)]
    seconds: u32,
    /// The servers (comma-separated); those not installed are skipped with a note.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [TargetKind::Forankra, TargetKind::YWebsocket, TargetKind::Hocuspocus, TargetKind::YSweet])]
    targets: Vec<TargetKind>,
    #[command(flatten)]
    programs: Programs,
    /// Also write the figures as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// Every figure of the scenario.
#[derive(Debug, Serialize)]
pub struct StormFigures {
    pub chars: usize,
    pub resyncers: u32,
    pub rate: u32,
    pub seconds: u32,
    pub target_p99_us: u64,
    pub runs: Vec<StormRun>,
}

/// One server.
#[derive(Debug, Serialize)]
pub struct StormRun {
    pub target: TargetKind,
    pub figures: Option<StormResult>,
    pub skipped: Option<String>,
}

/// What one server did.
#[derive(Debug, Serialize)]
pub struct StormResult {
    /// From the first chunk sent to a second client holding all of it.
    pub build_secs: f64,
    /// The small document with no storm.
    pub quiet: LoadFigures,
    /// The small document during the storm.
    pub stormy: LoadFigures,
    /// The same load on the loopback relay floor, while the storm still runs against
    /// this server (ours only): what the machine itself leaves of the target.
    pub floor_during_storm: Option<LoadFigures>,
    /// Full syncs of the large document completed during the storm.
    pub resyncs: u64,
    /// Connect to step 2 applied, per full sync.
    pub resync: LatencySummary,
    /// Rounds that failed (connect, sync, or an incomplete document).
    pub resync_errors: u64,
    pub resync_error_sample: Option<String>,
}

/// Runs the scenario and prints its table; fails when ours did not run cleanly.
pub async fn run(args: StormArgs) -> Result<()> {
    let mut runs = Vec::new();
    for &kind in &args.targets {
        eprintln!("storm: {}", kind.label());
        let (figures, skipped) =
            figures_or_note(one(kind, &args).await, &format!("storm: {}", kind.label()));
        runs.push(StormRun {
            target: kind,
            figures,
            skipped,
        });
    }
    let figures = StormFigures {
        chars: args.chars,
        resyncers: args.resyncers,
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
        let f = run.figures.as_ref();
        load::ours_ran_cleanly(f.map(|f| &f.quiet), run.skipped.as_deref())
            .context("storm, quiet")?;
        load::ours_ran_cleanly(f.map(|f| &f.stormy), None).context("storm, during the storm")?;
        if let Some(f) = f
            && (f.resync_errors > 0 || f.resyncs == 0)
        {
            bail!(
                "storm: Förankra's re-syncs had {} errors in {} rounds (first: {:?})",
                f.resync_errors,
                f.resyncs,
                f.resync_error_sample
            );
        }
    }
    Ok(())
}

/// One server, fresh: build, quiet run, stormy run.
async fn one(kind: TargetKind, args: &StormArgs) -> Result<StormResult> {
    let mut target = Target::start(kind, &args.programs).await?;
    let result = on_target(&mut target, args).await;
    let stopped = target.stop().await;
    let result = result?;
    stopped?;
    Ok(result)
}

async fn on_target(target: &mut Target, args: &StormArgs) -> Result<StormResult> {
    let spec = LoadSpec {
        docs: 1,
        clients: 2,
        rate: args.rate,
        seconds: args.seconds,
        connect_concurrency: 64,
        writers: 1,
    };
    let big = target
        .documents(1)
        .await?
        .pop()
        .context("no large document")?;
    let started = Instant::now();
    let (builder, clock) = build(&big, args).await?;
    let build_secs = started.elapsed().as_secs_f64();
    eprintln!(
        "storm: {} characters stored and synced in {build_secs:.2} s",
        args.chars
    );

    let (stop_tx, stop) = watch::channel(false);
    let holder = tokio::spawn(hold(builder, stop.clone()));
    let quiet = load::measure(target, &spec).await?;
    let storm_runtime = storm_runtime()?;
    let storm: Vec<JoinHandle<Result<Rounds>>> = (0..args.resyncers)
        .map(|_| storm_runtime.spawn(resync_loop(big.clone(), clock, stop.clone())))
        .collect();
    let stormy = load::measure(target, &spec).await;
    let floor = if target.kind() == TargetKind::Forankra {
        Some(floor_during_storm(args, &spec).await)
    } else {
        None
    };
    let _ = stop_tx.send(true);
    let mut histogram = latency_histogram()?;
    let mut resyncs = 0;
    let mut errors = 0;
    let mut sample = None;
    for task in storm {
        let rounds = tokio::time::timeout(STOP_TIMEOUT, task)
            .await
            .context("a re-syncing client did not stop in time")?
            .context("a re-syncing client failed")??;
        histogram
            .add(&rounds.synced)
            .map_err(|e| anyhow::anyhow!("adding histograms: {e:?}"))?;
        resyncs += rounds.synced.len();
        errors += rounds.errors;
        sample = sample.or(rounds.first_error);
    }
    drop(storm_runtime);
    tokio::time::timeout(STOP_TIMEOUT, holder)
        .await
        .context("the large document's holder did not stop in time")?
        .context("the large document's holder failed")??;
    Ok(StormResult {
        build_secs,
        quiet,
        stormy: stormy?,
        floor_during_storm: floor.transpose()?,
        resyncs,
        resync: LatencySummary::from(&histogram),
        resync_errors: errors,
        resync_error_sample: sample,
    })
}

/// The small document's load on the loopback relay floor (no CRDT, no storage, in this
/// process), measured while the storm goes on against the server under test. The 2
/// cores are shared by that server, the re-syncing clients' decoding and the measuring
/// clients, so the floor's p99 here is what the machine alone costs the small document:
/// a target below it cannot be met on this machine by any server.
async fn floor_during_storm(args: &StormArgs, spec: &LoadSpec) -> Result<LoadFigures> {
    let mut floor = Target::start(TargetKind::Hub, &args.programs).await?;
    let figures = load::measure(&mut floor, spec).await;
    floor.stop().await?;
    figures
}

/// The runtime the re-syncing clients run on, on threads of their own. They stand for
/// other machines: each full sync decodes the whole large state, which holds a runtime
/// thread for tens of milliseconds, and on the runtime that times the small document
/// that wait was counted against the server (the measuring clients' frames sat unread
/// behind a decode). Here they only share the cores, through the OS scheduler, as the
/// server's own threads do.
struct StormRuntime(Option<tokio::runtime::Runtime>);

impl StormRuntime {
    fn spawn<F>(&self, task: F) -> JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.0.as_ref().expect("running until dropped").spawn(task)
    }
}

impl Drop for StormRuntime {
    /// A runtime may not be dropped (which blocks) inside another's task; an early return
    /// from the measurement lands here too.
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

fn storm_runtime() -> Result<StormRuntime> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("storm-client")
        .enable_all()
        .build()
        .context("starting the storm clients' runtime")?;
    Ok(StormRuntime(Some(runtime)))
}

/// Builds the large document in chunks, then waits until a second client's full sync
/// holds all of it; returns the builder (still connected) and its final clock.
async fn build(big: &Endpoint, args: &StormArgs) -> Result<(YClient, u32)> {
    let (mut builder, _) =
        YClient::connect_with(&big.url, big.framing.clone(), new_doc_with_id(BUILDER_ID)).await?;
    let chunk: String = FILLER
        .chars()
        .cycle()
        .take(args.chunk_chars.clamp(1, args.chars.max(1)))
        .collect();
    let mut updates = Vec::new();
    {
        let doc = builder.doc();
        let fragment = doc.get_or_insert_xml_fragment(FRAGMENT);
        let mut left = args.chars;
        let mut text = None;
        while left > 0 {
            let piece: String = chunk.chars().take(left).collect();
            left -= piece.chars().count();
            let mut txn = doc.transact_mut();
            match &text {
                None => {
                    let paragraph =
                        fragment.insert(&mut txn, 0, XmlElementPrelim::empty("paragraph"));
                    text = Some(paragraph.insert(&mut txn, 0, XmlTextPrelim::new(piece.as_str())));
                }
                Some(text) => {
                    let len = text.len(&txn);
                    text.insert(&mut txn, len, &piece);
                }
            }
            updates.push(txn.encode_update_v1());
        }
    }
    builder.send_updates_pipelined(&updates).await?;
    let clock = builder
        .doc()
        .transact()
        .state_vector()
        .get(&ClientID::new(BUILDER_ID));
    let (mut checker, _) = YClient::connect_with(&big.url, big.framing.clone(), new_doc()).await?;
    checker
        .wait_for(|c| {
            c.doc()
                .transact()
                .state_vector()
                .get(&ClientID::new(BUILDER_ID))
                >= clock
        })
        .await
        .context("a second client never held the whole large document")?;
    let held = crate::trace::paragraph_text(checker.doc()).map_or(0, |t| t.chars().count());
    if held != args.chars {
        bail!(
            "the large document holds {held} characters, not {}",
            args.chars
        );
    }
    checker.close().await?;
    Ok((builder, clock))
}

/// Keeps the builder connected (answering pings) until told to stop, so the large
/// document stays open on servers that unload an empty one.
async fn hold(mut builder: YClient, mut stop: watch::Receiver<bool>) -> Result<()> {
    loop {
        if *stop.borrow_and_update() {
            break;
        }
        tokio::select! {
            changed = stop.changed() => if changed.is_err() { break },
            frame = builder.next_frame() => { builder.handle(frame?).await?; }
        }
    }
    builder.close().await
}

/// What one re-syncing client did.
struct Rounds {
    synced: Histogram<u64>,
    errors: u64,
    first_error: Option<String>,
}

/// Connect, full sync, check, disconnect, until told to stop.
async fn resync_loop(big: Endpoint, clock: u32, stop: watch::Receiver<bool>) -> Result<Rounds> {
    let mut rounds = Rounds {
        synced: latency_histogram()?,
        errors: 0,
        first_error: None,
    };
    while !*stop.borrow() {
        match resync_once(&big, clock).await {
            Ok(synced) => record(&mut rounds.synced, synced),
            Err(error) => {
                rounds.errors += 1;
                rounds.first_error.get_or_insert(format!("{error:#}"));
                tokio::time::sleep(RETRY_PAUSE).await;
            }
        }
    }
    Ok(rounds)
}

async fn resync_once(big: &Endpoint, clock: u32) -> Result<Duration> {
    let (client, times) = YClient::connect_with(&big.url, big.framing.clone(), new_doc()).await?;
    let held = client
        .doc()
        .transact()
        .state_vector()
        .get(&ClientID::new(BUILDER_ID));
    if held < clock {
        bail!("a full sync held clock {held} of the builder's {clock}");
    }
    client.close().await?;
    Ok(times.synced)
}

impl StormFigures {
    /// One row per server.
    pub fn markdown(&self) -> String {
        let mut table = Table::new(&[
            "server",
            "small doc quiet p50 / p99",
            "small doc during storm p50 / p99",
            "p99 target",
            "full syncs of the large doc (errors)",
            "full sync p50 / p99",
            "large doc built in",
        ]);
        let mut skipped = Vec::new();
        for run in &self.runs {
            let Some(f) = &run.figures else {
                skipped.push(format!(
                    "- {}: {}",
                    run.target.label(),
                    run.skipped.as_deref().unwrap_or("no figures")
                ));
                continue;
            };
            let pair =
                |s: &LatencySummary| format!("{} / {}", latency(s.p50_us), latency(s.p99_us));
            table.row(&[
                run.target.label().to_owned(),
                pair(&f.quiet.fanout),
                pair(&f.stormy.fanout),
                if run.target == TargetKind::Forankra {
                    at_most_ms(
                        f.stormy.fanout.p99_us,
                        f.stormy.fanout.samples,
                        self.target_p99_us,
                    )
                } else {
                    String::new()
                },
                format!("{} ({})", thousands(f.resyncs), thousands(f.resync_errors)),
                pair(&f.resync),
                format!("{:.2} s", f.build_secs),
            ]);
        }
        let mut out = format!(
            "## storm: a small document while {} clients re-sync a {}-character one\n\n\
             The small document: one writer at {} updates/s for {} s, one reader; latency \
             from the writer's send to the reader's receipt, first with no storm, then \
             during it.\n\n{}",
            self.resyncers,
            thousands(self.chars as u64),
            self.rate,
            self.seconds,
            table.markdown()
        );
        for (run, floor) in self.runs.iter().filter_map(|r| {
            let floor = r.figures.as_ref()?.floor_during_storm.as_ref()?;
            Some((r, floor))
        }) {
            out.push_str(&format!(
                "\nThe same small document on the {} (in the harness's process), during {}'s \
                 storm: p50 / p99 {} / {}.\n",
                TargetKind::Hub.label(),
                run.target.label(),
                latency(floor.fanout.p50_us),
                latency(floor.fanout.p99_us),
            ));
        }
        out.push_str(&not_measured(&skipped));
        out
    }
}
