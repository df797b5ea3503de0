//! `comments`: comment load. Fifty organisations open threads and reply over HTTP, 20
//! comments a second in all, while 200 clients edit the same document over WebSockets
//! and receive every thread change live. How long does opening a thread take, and how
//! long until the change reaches every connected client?
//!
//! Why it is built this way:
//! - **Real organisations.** The document belongs to the harness's organisation, whose
//!   200 editors type into it; each of the 50 other organisations is invited as a
//!   commenter (`PUT /api/documents/{id}/members/{org}`) and comments with a token
//!   minted for a user of its own, as the remiss does. Our server only: the
//!   peers have no comments.
//! - **Open and reply alternate**: an organisation's first comment opens a thread on a
//!   passage of the document, its next replies to that thread, and so on. Opening and
//!   replying are timed apart (HTTP request to response), since opening also resolves
//!   the anchor.
//! - **Live delivery** is timed without reading the server: every comment's body holds
//!   its sequence number, noted with the send instant before the request goes out. The
//!   event a subscribed socket receives carries the whole thread; its newest comment's
//!   number says which send it answers. Every editor subscribes, so each comment is one
//!   receipt per editor; those that did not arrive by the end are counted as missing.
//! - The editors type at a fixed total rate (100 updates/s by default) spread over
//!   them, so the rooms carry document traffic while the comments go through.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use forankra::comments::anchor::anchor_for_quote;
use forankra::ids::DocId;
use hdrhistogram::Histogram;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

use crate::client::YClient;
use crate::report::{
    LatencySummary, Table, latency, latency_histogram, publish, record, thousands,
};
use crate::server::BenchServer;
use crate::typing::Typist;

/// The passage every thread anchors on.
const PASSAGE: &str = "Trygghet i offentliga miljöer";
/// Where each comment's sequence number starts in its body.
const MARKER: &str = "#";
/// How long the editors may take to receive the last events after the comments end.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(15);
/// Longest one comment's request may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an editor may take to stop once told to.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// Error messages kept for the report.
const ERROR_SAMPLES: usize = 5;

/// `forankra-bench comments`.
#[derive(Debug, clap::Args)]
pub struct CommentsArgs {
    /// Commenting organisations.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    orgs: u32,
    /// Editing clients, every one subscribed to thread events.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    editors: u32,
    /// Comments per second in all (threads opened and replies).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    comment_rate: u32,
    /// Document updates per second in all, spread over the editors.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    edit_rate: u32,
    /// Seconds of commenting.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=3600))]
    seconds: u32,
    /// Also write the figures as JSON to this file.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

/// Every figure of the scenario.
#[derive(Debug, Serialize)]
pub struct CommentsFigures {
    pub orgs: u32,
    pub editors: u32,
    pub comment_rate: u32,
    pub edit_rate: u32,
    pub seconds: u32,
    /// `POST …/threads`, request to response.
    pub thread_http: LatencySummary,
    /// `POST …/threads/{id}/comments`, request to response.
    pub reply_http: LatencySummary,
    /// Send of the request to each editor's receipt of the event.
    pub event_delivery: LatencySummary,
    /// Comments made × editors.
    pub events_expected: u64,
    pub events_missing: u64,
    pub edits_sent: u64,
    pub errors: u64,
    pub error_samples: Vec<String>,
}

/// Runs the scenario and prints its table; fails when any request or client failed.
pub async fn run(args: CommentsArgs) -> Result<()> {
    let server = BenchServer::start(|_| {}).await?;
    let figures = measure(&server, &args).await;
    let stopped = server.stop().await;
    let figures = figures?;
    stopped?;
    publish(
        &figures.markdown(),
        &crate::server::limits_report(|_| {}),
        args.json.as_deref(),
        &figures,
    )?;
    if figures.errors > 0 || figures.events_missing > 0 {
        bail!(
            "comments: {} errors and {} missing events (first: {:?})",
            figures.errors,
            figures.events_missing,
            figures.error_samples.first()
        );
    }
    Ok(())
}

/// The send instants of every comment, by sequence number.
type SendTimes = Arc<Mutex<Vec<Option<Instant>>>>;

/// What an editor ends with.
#[derive(Default)]
struct EditorOutcome {
    delivered_us: Vec<u64>,
    received: u64,
    sent: u64,
    error: Option<String>,
}

async fn measure(server: &BenchServer, args: &CommentsArgs) -> Result<CommentsFigures> {
    let owner = server.token("agare", "bench")?;
    let markdown = format!("# Kommentarer\n\n{PASSAGE} är ett mål för staden.\n");
    let doc = server
        .post_json(
            &owner,
            "/api/documents",
            &json!({ "title": "Kommentarslast", "markdown": markdown }),
        )
        .await?;
    let doc = DocId::parse(doc["id"].as_str().context("a document without id")?)?;
    let mut commenters = Vec::new();
    for i in 0..args.orgs {
        let org = format!("remissinstans{i}");
        server
            .put_json(
                &owner,
                &format!("/api/documents/{doc}/members/{org}"),
                &json!({ "role": "commenter" }),
            )
            .await?;
        commenters.push(server.token(&format!("handlaggare{i}"), &org)?);
    }

    let comments = u64::from(args.comment_rate) * u64::from(args.seconds);
    let times: SendTimes = Arc::new(Mutex::new(vec![None; comments as usize]));
    let (stop_tx, stop) = watch::channel(false);
    let (start_tx, start) = watch::channel(None::<tokio::time::Instant>);
    let (made_tx, made) = watch::channel(None::<u64>);
    let edit_period = Duration::from_secs(1) * args.editors / args.edit_rate;
    let mut editors = Vec::new();
    for e in 0..args.editors {
        let mut client = YClient::connect(&server.ws_url(&doc, &owner)).await?;
        client.subscribe_events().await?;
        let plan = EditorPlan {
            period: edit_period,
            phase: Duration::from_secs(1) * e / args.edit_rate,
            times: Arc::clone(&times),
            start: start.clone(),
            made: made.clone(),
            stop: stop.clone(),
        };
        editors.push(tokio::spawn(edit(client, plan)));
    }
    // The anchor, from a client that holds the passage.
    let reader = YClient::connect(&server.ws_url(&doc, &owner)).await?;
    let anchor = anchor_for_quote(reader.doc(), PASSAGE).context("the passage is missing")?;
    let (anchor_start, anchor_end) = anchor.encoded();
    reader.close().await?;

    let first = tokio::time::Instant::now() + Duration::from_millis(300);
    let _ = start_tx.send(Some(first));
    let mut tally = Tally {
        threads: vec![None; args.orgs as usize],
        thread_http: latency_histogram()?,
        reply_http: latency_histogram()?,
        errors: Vec::new(),
    };
    let mut ticker = tokio::time::interval_at(first, Duration::from_secs(1) / args.comment_rate);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // Open loop: each request is its own task, so a slow answer delays no later comment.
    let http = reqwest::Client::builder()
        .timeout(HTTP_TIMEOUT)
        .build()
        .context("building the HTTP client")?;
    let mut requests = tokio::task::JoinSet::new();
    for n in 0..comments {
        ticker.tick().await;
        while let Some(done) = requests.try_join_next() {
            tally.answered(done)?;
        }
        let org = (n % u64::from(args.orgs)) as usize;
        let body = format!("Synpunkt {MARKER}{n} från remissinstans {org}.");
        let (path, request, opening) = match tally.threads[org].take() {
            Some(thread) => (
                format!("/api/documents/{doc}/threads/{thread}/comments"),
                json!({ "body": body }),
                false,
            ),
            None => (
                format!("/api/documents/{doc}/threads"),
                json!({
                    "anchor": { "start": anchor_start, "end": anchor_end },
                    "body": body,
                    "stance": "tillstyrker",
                }),
                true,
            ),
        };
        let sent = Instant::now();
        times.lock().map_err(|_| anyhow!("an editor panicked"))?[n as usize] = Some(sent);
        let (http, token, addr) = (http.clone(), commenters[org].clone(), server.addr());
        requests.spawn(async move {
            let answer = crate::http::post_json(&http, addr, &token, &path, &request).await;
            Answer {
                org,
                opening,
                took: sent.elapsed(),
                answer,
            }
        });
        let _ = made_tx.send(Some(n + 1));
    }
    while let Some(done) = requests.join_next().await {
        tally.answered(done)?;
    }
    let Tally {
        thread_http,
        reply_http,
        mut errors,
        ..
    } = tally;
    let drained = tokio::time::Instant::now() + DRAIN_TIMEOUT;
    let mut delivery = latency_histogram()?;
    let mut received = 0;
    let mut edits_sent = 0;
    let mut outcomes = Vec::new();
    for mut editor in editors {
        let outcome = match tokio::time::timeout_at(drained, &mut editor).await {
            Ok(joined) => joined.context("an editor failed")?,
            Err(_) => {
                // Its drain time is up: every editor stops now and reports what it has.
                let _ = stop_tx.send(true);
                tokio::time::timeout(STOP_TIMEOUT, editor)
                    .await
                    .context("an editor did not stop in time")?
                    .context("an editor failed")?
            }
        };
        outcomes.push(outcome);
    }
    let _ = stop_tx.send(true);
    for outcome in outcomes {
        for us in outcome.delivered_us {
            delivery.saturating_record(us);
        }
        received += outcome.received;
        edits_sent += outcome.sent;
        errors.extend(outcome.error);
    }
    let expected = comments * u64::from(args.editors);
    let error_count = errors.len() as u64;
    errors.truncate(ERROR_SAMPLES);
    Ok(CommentsFigures {
        orgs: args.orgs,
        editors: args.editors,
        comment_rate: args.comment_rate,
        edit_rate: args.edit_rate,
        seconds: args.seconds,
        thread_http: LatencySummary::from(&thread_http),
        reply_http: LatencySummary::from(&reply_http),
        event_delivery: LatencySummary::from(&delivery),
        events_expected: expected,
        events_missing: expected.saturating_sub(received),
        edits_sent,
        errors: error_count,
        error_samples: errors,
    })
}

/// One comment's request, answered.
struct Answer {
    org: usize,
    opening: bool,
    took: Duration,
    answer: Result<Value>,
}

/// What the answered requests came to.
struct Tally {
    /// Each organisation's open thread, where it replies next.
    threads: Vec<Option<String>>,
    thread_http: Histogram<u64>,
    reply_http: Histogram<u64>,
    errors: Vec<String>,
}

impl Tally {
    /// Records an answered request; an opened thread is where the organisation replies
    /// next, and after a reply it opens a new one.
    fn answered(
        &mut self,
        done: std::result::Result<Answer, tokio::task::JoinError>,
    ) -> Result<()> {
        let done = done.context("a comment request failed")?;
        match done.answer {
            Ok(answer) if done.opening => {
                record(&mut self.thread_http, done.took);
                self.threads[done.org] = answer["id"].as_str().map(str::to_owned);
            }
            Ok(_) => record(&mut self.reply_http, done.took),
            Err(error) => self.errors.push(format!("{error:#}")),
        }
        Ok(())
    }
}

/// What one editor needs to know.
struct EditorPlan {
    period: Duration,
    phase: Duration,
    times: SendTimes,
    start: watch::Receiver<Option<tokio::time::Instant>>,
    /// Comments made so far; the editor stops once it has the events of all of them.
    made: watch::Receiver<Option<u64>>,
    stop: watch::Receiver<bool>,
}

/// Types at its share of the rate and times every thread event, until it has received
/// every comment's event after the last was made (or is told to stop).
async fn edit(mut client: YClient, mut plan: EditorPlan) -> EditorOutcome {
    let mut outcome = EditorOutcome::default();
    if let Err(error) = editing(&mut client, &mut plan, &mut outcome).await {
        outcome.error = Some(format!("{error:#}"));
        return outcome;
    }
    if let Err(error) = client.close().await {
        outcome.error = Some(format!("closing: {error:#}"));
    }
    outcome
}

async fn editing(
    client: &mut YClient,
    plan: &mut EditorPlan,
    outcome: &mut EditorOutcome,
) -> Result<()> {
    let first = loop {
        if let Some(first) = *plan.start.borrow_and_update() {
            break first;
        }
        tokio::select! {
            changed = plan.start.changed() => changed.map_err(|_| anyhow!("the run ended before it started"))?,
            frame = client.next_frame() => { client.handle(frame?).await?; }
        }
    };
    let mut typist = Typist::new(client.doc(), true, false);
    let mut ticker = tokio::time::interval_at(first + plan.phase, plan.period);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        let all_made = *plan.made.borrow_and_update();
        let comments_over = plan
            .times
            .lock()
            .map_err(|_| anyhow!("a sender panicked"))?
            .len() as u64;
        if all_made == Some(comments_over) && outcome.received >= comments_over {
            return Ok(());
        }
        if *plan.stop.borrow() {
            return Ok(());
        }
        tokio::select! {
            biased;
            changed = plan.stop.changed() => if changed.is_err() { return Ok(()) },
            changed = plan.made.changed() => if changed.is_err() { return Ok(()) },
            _ = ticker.tick(), if all_made != Some(comments_over) => {
                let (update, _) = typist.type_next(client.doc());
                client.send_update(update).await?;
                outcome.sent += 1;
            }
            frame = client.next_frame() => {
                let receipt = Instant::now();
                client.handle(frame?).await?;
                for event in std::mem::take(&mut client.events) {
                    let n = sequence(&event).context("a thread event without a numbered comment")?;
                    let sent = plan
                        .times
                        .lock()
                        .map_err(|_| anyhow!("a sender panicked"))?
                        .get(n as usize)
                        .copied()
                        .flatten()
                        .with_context(|| format!("an event for comment {n}, never sent"))?;
                    let us = receipt.saturating_duration_since(sent).as_micros();
                    outcome.delivered_us.push(u64::try_from(us).unwrap_or(u64::MAX));
                    outcome.received += 1;
                }
            }
        }
    }
}

/// The sequence number in the newest comment of the event's thread.
fn sequence(event: &Value) -> Option<u64> {
    let body = event["thread"]["comments"].as_array()?.last()?["body"].as_str()?;
    let rest = &body[body.find(MARKER)? + MARKER.len()..];
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

impl CommentsFigures {
    /// The HTTP and delivery latencies, and what was sent.
    pub fn markdown(&self) -> String {
        let mut table = Table::new(&["what", "samples", "p50", "p99", "max"]);
        for (name, l) in [
            (
                "open a thread: POST …/threads, request to response",
                &self.thread_http,
            ),
            (
                "reply: POST …/threads/{id}/comments, request to response",
                &self.reply_http,
            ),
            (
                "live event: request sent → thread event on each editor's socket",
                &self.event_delivery,
            ),
        ] {
            table.row(&[
                name.to_owned(),
                thousands(l.samples),
                latency(l.p50_us),
                latency(l.p99_us),
                latency(l.max_us),
            ]);
        }
        let mut out = format!(
            "## comments: {} organisations commenting at {}/s in all while {} clients edit at {} updates/s, {} s (ours only: the peers have no comments)\n\n\
             The issue sets no target for these figures; they are read against the fan-out \
             and HTTP figures of the other scenarios.\n\n{}\n\
             Events: {} expected (comments × editors), {} missing. Edits sent: {}. Errors: {}.\n",
            self.orgs,
            self.comment_rate,
            self.editors,
            self.edit_rate,
            self.seconds,
            table.markdown(),
            thousands(self.events_expected),
            thousands(self.events_missing),
            thousands(self.edits_sent),
            thousands(self.errors),
        );
        for sample in &self.error_samples {
            out.push_str(&format!("- error: {sample}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_comment_says_which_send_it_answers() {
        let event = json!({ "type": "thread", "thread": { "comments": [
            { "body": "Synpunkt #3 från remissinstans 3." },
            { "body": "Synpunkt #53 från remissinstans 3." },
        ] } });
        assert_eq!(sequence(&event), Some(53));
        assert_eq!(sequence(&json!({ "type": "thread" })), None);
    }
}
