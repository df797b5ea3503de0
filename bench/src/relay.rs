//! `relay`: one writer types into a document and one reader follows it. How long does an
//! update take from the writer's socket to the reader's, and what does storing it cost?
//!
//! Why it is measured this way:
//! - Nothing is embedded in the document (no timestamps in the text, which would change
//!   what is stored and relayed). The writer notes its own clock after each edit with
//!   the instant it sent the edit; the reader, after applying a frame, takes every noted
//!   clock its state vector now covers. An update that arrives batched with others thus
//!   counts for each edit in it, each against its own send instant.
//! - One character per update at a steady rate, as a person types in Tiptap (one update
//!   per keystroke), into a `paragraph` of the XmlFragment "default" as Tiptap's tree has
//!   it, in Swedish so UTF-16 offsets are exercised.
//! - Writer and reader run as separate tasks, so a receipt is timed when it happens, not
//!   when the writer's next tick lets it be noticed.
//! - Compaction while the room is open is switched off, so "stored before compaction" is
//!   the log as appended; the room's compaction on unload (after `room_idle_unload`)
//!   then shows what the log folds into.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use yrs::types::xml::XmlOut;
use yrs::{ClientID, Doc, GetString, ReadTxn, StateVector, Transact, XmlFragment};

use crate::client::YClient;
use crate::echo;
use crate::report::{
    LatencySummary, StoredBytes, Table, latency, latency_histogram, record, thousands, write_json,
};
use crate::server::BenchServer;
use crate::typing::{FRAGMENT, Typist};

/// The organisation every client of this scenario acts for; it creates, so owns, the
/// document.
const ORG: &str = "bench";
/// How long the emptied room stays loaded: short, so the run need not wait for it.
const ROOM_IDLE_UNLOAD: Duration = Duration::from_millis(200);
/// Longest wait for the room to unload, and then for its snapshot to be written.
const UNLOAD_TIMEOUT: Duration = Duration::from_secs(15);
/// Allowance beyond twice the nominal typing time for the writer and the reader.
const RUN_SLACK: Duration = Duration::from_secs(30);

/// `forankra-bench relay`.
#[derive(Debug, clap::Args)]
pub struct RelayArgs {
    /// Updates the writer sends in all, one character each.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    edits: u32,
    /// Updates per second the writer sends.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    rate: u32,
    /// Also write the figures as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// Runs the scenario and prints its table (and writes the JSON when asked).
pub async fn run(args: RelayArgs) -> Result<()> {
    let figures = measure(&args).await?;
    print!("{}", figures.markdown());
    print!("{}", crate::server::limits_report(configure));
    if let Some(path) = &args.json {
        write_json(path, &figures)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Every figure of one run; the JSON file is this, serialised.
#[derive(Debug, Serialize)]
pub struct RelayFigures {
    pub edits: u32,
    pub target_rate: u32,
    /// Updates per second the writer managed to send (first to last send).
    pub sent_per_sec: f64,
    /// Updates per second end to end: all edits over first send to last receipt.
    pub delivered_per_sec: f64,
    /// Mean size of one update's WebSocket message, in bytes.
    pub mean_frame_bytes: f64,
    /// Writer's send to reader's receipt, through the server.
    pub relay_latency: LatencySummary,
    /// Round trip of a loopback WebSocket echo with the same sizes at the same rate.
    pub echo_latency: LatencySummary,
    pub stored_before_compaction: StoredBytes,
    pub stored_after_compaction: StoredBytes,
    /// From the last client's close until the room had left the registry.
    pub unload_wait_ms: u64,
    /// From then until the snapshot had replaced the log.
    pub compaction_wait_ms: u64,
    /// `encode_state_as_update_v1` of the reader's document: the state in one update.
    pub state_update_bytes: usize,
    /// Characters in the document at the end.
    pub text_chars: usize,
}

impl RelayFigures {
    /// The figures as Markdown: a latency table and a table of the rest.
    pub fn markdown(&self) -> String {
        let mut latencies = Table::new(&["path", "samples", "p50", "p99", "p99.9", "max"]);
        for (path, s) in [
            (
                "Förankra relay: writer → server → reader",
                &self.relay_latency,
            ),
            ("loopback WebSocket echo (reference)", &self.echo_latency),
        ] {
            latencies.row(&[
                path.to_owned(),
                thousands(s.samples),
                latency(s.p50_us),
                latency(s.p99_us),
                latency(s.p999_us),
                latency(s.max_us),
            ]);
        }
        let mut rest = Table::new(&["figure", "value"]);
        rest.row(&[
            format!("updates/s sent (target {})", self.target_rate),
            format!("{:.2}", self.sent_per_sec),
        ])
        .row(&[
            "updates/s delivered, first send to last receipt".to_owned(),
            format!("{:.2}", self.delivered_per_sec),
        ])
        .row(&[
            "mean update message".to_owned(),
            format!("{:.1} B", self.mean_frame_bytes),
        ])
        .row(&[
            "stored before compaction".to_owned(),
            self.stored_before_compaction.describe(),
        ])
        .row(&[
            format!(
                "stored after compaction (unloaded in {} ms, compacted {} ms later)",
                self.unload_wait_ms, self.compaction_wait_ms
            ),
            self.stored_after_compaction.describe(),
        ])
        .row(&[
            "reader's state as one update (`encode_state_as_update_v1`)".to_owned(),
            format!("{} B", thousands(self.state_update_bytes as u64)),
        ]);
        format!(
            "## relay: {} edits at {}/s, {} characters of Swedish\n\n{}\n{}",
            thousands(self.edits),
            self.target_rate,
            thousands(self.text_chars as u64),
            latencies.markdown(),
            rest.markdown()
        )
    }
}

/// What the relay changes on the server beyond the harness's lifted limits.
fn configure(config: &mut forankra::Config) {
    config.room_idle_unload = ROOM_IDLE_UNLOAD;
    // Never while open: see the module comment.
    config.compact_after_updates = i64::MAX;
}

/// Runs the relay against a fresh server, stops it, then the echo reference.
async fn measure(args: &RelayArgs) -> Result<RelayFigures> {
    let server = BenchServer::start(configure).await?;
    let relayed = relay(&server, args).await;
    let stopped = server.stop().await;
    let relayed = relayed?;
    stopped?;
    // After the server has stopped, so the two measurements do not share the CPU.
    let echo = echo::measure(&relayed.frame_sizes, args.rate)
        .await
        .context("measuring the loopback echo")?;
    Ok(relayed.into_figures(args, &echo))
}

/// What the relay part measured.
struct Relayed {
    latencies: Histogram<u64>,
    frame_sizes: Vec<usize>,
    first_send: Instant,
    last_send: Instant,
    last_receipt: Instant,
    stored_before: StoredBytes,
    stored_after: StoredBytes,
    unload_wait: Duration,
    compaction_wait: Duration,
    state_update_bytes: usize,
    text_chars: usize,
}

impl Relayed {
    fn into_figures(self, args: &RelayArgs, echo: &Histogram<u64>) -> RelayFigures {
        let edits = f64::from(args.edits);
        let sending = self.last_send - self.first_send;
        let sent_per_sec = if args.edits > 1 && !sending.is_zero() {
            (edits - 1.0) / sending.as_secs_f64()
        } else {
            f64::from(args.rate)
        };
        let delivering = self.last_receipt - self.first_send;
        let total_bytes: usize = self.frame_sizes.iter().sum();
        #[allow(clippy::cast_precision_loss)] // byte counts far below 2^53
        let mean_frame_bytes = total_bytes as f64 / edits;
        RelayFigures {
            edits: args.edits,
            target_rate: args.rate,
            sent_per_sec,
            delivered_per_sec: edits / delivering.as_secs_f64().max(f64::EPSILON),
            mean_frame_bytes,
            relay_latency: LatencySummary::from(&self.latencies),
            echo_latency: LatencySummary::from(echo),
            stored_before_compaction: self.stored_before,
            stored_after_compaction: self.stored_after,
            unload_wait_ms: millis(self.unload_wait),
            compaction_wait_ms: millis(self.compaction_wait),
            state_update_bytes: self.state_update_bytes,
            text_chars: self.text_chars,
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A note from the writer to the reader: after this edit the writer's clock was `clock`,
/// and the edit was sent at `at`.
pub(crate) struct Sent {
    pub(crate) clock: u32,
    pub(crate) at: Instant,
}

/// Connects the two clients, lets the writer type while the reader measures, checks
/// that both ended with the same text, and measures storage before and after the room's
/// compaction.
async fn relay(server: &BenchServer, args: &RelayArgs) -> Result<Relayed> {
    let token = server.token("bench-user", ORG)?;
    let doc = server
        .create_document(&token, "Förankra relay benchmark")
        .await?;
    let url = server.ws_url(&doc, &token);
    let writer = YClient::connect(&url)
        .await
        .context("connecting the writer")?;
    let reader = YClient::connect(&url)
        .await
        .context("connecting the reader")?;
    let writer_id = writer.doc().client_id();

    let typing = Duration::from_secs(1) * args.edits / args.rate;
    let deadline = tokio::time::Instant::now() + typing * 2 + RUN_SLACK;
    let (notes, notes_rx) = mpsc::unbounded_channel();
    let reader = tokio::spawn(receive(reader, writer_id, args.edits, notes_rx));
    let writer = tokio::spawn(type_text(writer, args.edits, args.rate, notes));
    let typed = match join_by(writer, deadline, "the writer").await {
        Ok(typed) => typed,
        // A writer that stopped because the reader had: the reader says why.
        Err(error) if reader.is_finished() => {
            return Err(join_by(reader, deadline, "the reader")
                .await
                .err()
                .unwrap_or(error));
        }
        Err(error) => {
            reader.abort();
            return Err(error);
        }
    };
    let received = join_by(reader, deadline, "the reader").await?;

    check_same_text(&typed, &received.client)?;
    let stored_before = server.stored_size(&doc).await?.into();
    let state_update_bytes = received
        .client
        .doc()
        .transact()
        .encode_state_as_update_v1(&StateVector::default())
        .len();

    typed.client.close().await.context("closing the writer")?;
    received
        .client
        .close()
        .await
        .context("closing the reader")?;
    let unload_wait = server.wait_until_unloaded(UNLOAD_TIMEOUT).await?;
    let (stored_after, compaction_wait) = server.wait_until_compacted(&doc, UNLOAD_TIMEOUT).await?;

    Ok(Relayed {
        latencies: received.latencies,
        frame_sizes: typed.frame_sizes,
        first_send: typed.first_send,
        last_send: typed.last_send,
        last_receipt: received.last_receipt,
        stored_before,
        stored_after: stored_after.into(),
        unload_wait,
        compaction_wait,
        state_update_bytes,
        text_chars: typed.text.chars().count(),
    })
}

/// Waits for a task until `deadline`, aborting it if it has not finished by then.
pub(crate) async fn join_by<T>(
    task: JoinHandle<Result<T>>,
    deadline: tokio::time::Instant,
    what: &str,
) -> Result<T> {
    let abort = task.abort_handle();
    match tokio::time::timeout_at(deadline, task).await {
        Ok(joined) => joined.map_err(|e| anyhow!("{what} failed: {e}"))?,
        Err(_) => {
            abort.abort();
            bail!("{what} did not finish in time")
        }
    }
}

/// What the writer ends with.
pub(crate) struct Typed {
    pub(crate) client: YClient,
    text: String,
    frame_sizes: Vec<usize>,
    first_send: Instant,
    last_send: Instant,
}

/// Sends `edits` one-character updates at `rate` per second, noting each edit's clock
/// and send instant for the reader, and handles whatever the server sends meanwhile.
pub(crate) async fn type_text(
    mut client: YClient,
    edits: u32,
    rate: u32,
    notes: mpsc::UnboundedSender<Sent>,
) -> Result<Typed> {
    let mut typist = Typist::new(client.doc(), false, true);
    let mut ticker = tokio::time::interval(Duration::from_secs(1) / rate);
    // A late tick pushes the rest back rather than bursting to catch up, as a typist would.
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut frame_sizes = Vec::with_capacity(edits as usize);
    let mut sends: Option<(Instant, Instant)> = None;
    while frame_sizes.len() < edits as usize {
        tokio::select! {
            _ = ticker.tick() => {
                let (update, clock) = typist.type_next(client.doc());
                let at = Instant::now();
                // Noted before sending, so the note is in the channel before the relayed
                // update can reach the reader.
                notes
                    .send(Sent { clock, at })
                    .map_err(|_| anyhow!("the reader stopped early"))?;
                frame_sizes.push(client.send_update(update).await?);
                sends = Some((sends.map_or(at, |(first, _)| first), at));
            }
            frame = client.next_frame() => {
                client.handle(frame?).await?;
            }
        }
    }
    let (first_send, last_send) = sends.context("nothing was sent")?;
    Ok(Typed {
        client,
        text: typist.typed().unwrap_or_default().to_owned(),
        frame_sizes,
        first_send,
        last_send,
    })
}

/// What the reader ends with.
pub(crate) struct Received {
    pub(crate) client: YClient,
    pub(crate) latencies: Histogram<u64>,
    last_receipt: Instant,
}

/// Applies what the server relays until every one of the writer's `edits` has arrived,
/// recording each edit's latency from its send to the receipt of the frame that
/// completed it.
pub(crate) async fn receive(
    mut client: YClient,
    writer: ClientID,
    edits: u32,
    mut notes: mpsc::UnboundedReceiver<Sent>,
) -> Result<Received> {
    let mut waiting: BTreeMap<u32, Instant> = BTreeMap::new();
    let mut latencies = latency_histogram()?;
    let mut last_receipt = None;
    while latencies.len() < u64::from(edits) {
        let frame = client.next_frame().await?;
        let receipt = Instant::now();
        if !client.handle(frame).await? {
            continue;
        }
        // Every note went into the channel before its update was sent, so each edit
        // this frame completed has its note here by now.
        while let Ok(sent) = notes.try_recv() {
            waiting.insert(sent.clock, sent.at);
        }
        let seen = client.doc().transact().state_vector().get(&writer);
        // An edit has arrived once the reader has every clock below the writer's clock
        // after it; the notes with a larger clock keep waiting.
        let still_waiting = waiting.split_off(&seen.saturating_add(1));
        for sent_at in std::mem::replace(&mut waiting, still_waiting).into_values() {
            record(&mut latencies, receipt.saturating_duration_since(sent_at));
            last_receipt = Some(receipt);
        }
    }
    Ok(Received {
        client,
        latencies,
        last_receipt: last_receipt.context("nothing was received")?,
    })
}

/// Checks that the writer's paragraph holds what it typed and that the reader's
/// document is the writer's.
fn check_same_text(typed: &Typed, reader: &YClient) -> Result<()> {
    let written = paragraph_text(typed.client.doc());
    if written.as_deref() != Some(typed.text.as_str()) {
        bail!("the writer's paragraph does not hold what it typed");
    }
    let read = paragraph_text(reader.doc());
    if read != written {
        bail!(
            "the reader's text differs from the writer's: {} characters against {}",
            read.map_or(0, |t| t.chars().count()),
            typed.text.chars().count()
        );
    }
    if fragment_xml(reader.doc()) != fragment_xml(typed.client.doc()) {
        bail!("the reader's document tree differs from the writer's");
    }
    Ok(())
}

/// The plain text of the first paragraph of the fragment, if there is one.
fn paragraph_text(doc: &Doc) -> Option<String> {
    let txn = doc.transact();
    let fragment = txn.get_xml_fragment(FRAGMENT)?;
    let XmlOut::Element(paragraph) = fragment.get(&txn, 0)? else {
        return None;
    };
    let XmlOut::Text(text) = paragraph.get(&txn, 0)? else {
        return None;
    };
    Some(text.get_string(&txn))
}

/// The whole fragment as XML, to compare the two trees.
fn fragment_xml(doc: &Doc) -> Option<String> {
    let txn = doc.transact();
    txn.get_xml_fragment(FRAGMENT)
        .map(|fragment| fragment.get_string(&txn))
}
