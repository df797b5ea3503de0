//! Counters for `/metrics`, in the Prometheus text format.
//!
//! A handful of atomics and one fixed-bucket histogram cover what an operator watches
//! (connections, rooms, relay volume and latency, refusals); that is not worth a metrics
//! framework and its global registry.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds of the relay latency buckets, in seconds.
const LATENCY_BUCKETS_SECS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// A cumulative histogram with fixed buckets.
#[derive(Debug, Default)]
pub struct Histogram {
    buckets: [AtomicU64; LATENCY_BUCKETS_SECS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, value: Duration) {
        let secs = value.as_secs_f64();
        if let Some(i) = LATENCY_BUCKETS_SECS.iter().position(|&b| secs <= b) {
            self.buckets[i].fetch_add(1, Relaxed);
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_micros.fetch_add(value.as_micros() as u64, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, bucket) in LATENCY_BUCKETS_SECS.iter().zip(&self.buckets) {
            cumulative += bucket.load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

/// Which limit was hit, one counter each, reported as one labelled metric.
#[derive(Debug, Default)]
pub struct LimitHits {
    /// A WebSocket connection sent messages faster than its rate allows.
    pub message_rate: AtomicU64,
    /// A WebSocket message over the size limit.
    pub message_size: AtomicU64,
    /// A WebSocket upgrade refused: the address holds too many connections.
    pub connections_per_ip: AtomicU64,
    /// A login refused: too many failures for the account.
    pub login_account: AtomicU64,
    /// A login refused: too many failures from the address.
    pub login_ip: AtomicU64,
    /// A request body over the size limit.
    pub body_size: AtomicU64,
    /// A connection refused: the address holds too many that are not WebSockets.
    pub http_connections_per_ip: AtomicU64,
    /// A connection refused: the server holds as many as its file descriptors allow.
    pub open_connections: AtomicU64,
}

impl LimitHits {
    fn render(&self, out: &mut String) {
        let name = "forankra_limit_hits_total";
        let _ = writeln!(
            out,
            "# HELP {name} Requests, messages and connections refused by a limit.\n# TYPE {name} counter"
        );
        for (limit, value) in [
            ("message_rate", &self.message_rate),
            ("message_size", &self.message_size),
            ("connections_per_ip", &self.connections_per_ip),
            ("login_account", &self.login_account),
            ("login_ip", &self.login_ip),
            ("body_size", &self.body_size),
            ("http_connections_per_ip", &self.http_connections_per_ip),
            ("open_connections", &self.open_connections),
        ] {
            let _ = writeln!(out, "{name}{{limit=\"{limit}\"}} {}", value.load(Relaxed));
        }
    }
}

/// Everything `/metrics` reports.
#[derive(Debug, Default)]
pub struct Metrics {
    pub connections: AtomicI64,
    pub rooms_open: AtomicI64,
    pub updates_stored: AtomicU64,
    pub updates_relayed: AtomicU64,
    pub update_bytes: AtomicU64,
    pub updates_dropped_read_only: AtomicU64,
    /// Updates written under a client id bound to another user (`sync::authorship`).
    pub updates_refused_foreign: AtomicU64,
    pub slow_clients_disconnected: AtomicU64,
    pub connections_refused: AtomicU64,
    pub malformed_messages: AtomicU64,
    pub storage_failures: AtomicU64,
    pub compactions: AtomicU64,
    /// Times applying updates panicked inside yrs and a room rebuilt its document.
    pub apply_panics: AtomicU64,
    /// Stored updates moved out of the log because applying them panicked.
    pub updates_quarantined: AtomicU64,
    /// Requests and connections refused by a limit (see `limits`).
    pub limit_hits: LimitHits,
    /// From receiving an update to handing it to the other clients' outboxes, which
    /// includes the durable commit.
    pub relay_latency: Histogram,
    /// How long one group commit of the update log takes, from taking its batch to the
    /// database's commit: the share of [`Self::relay_latency`] the database owns, so an
    /// operator can tell a slow disk from a busy server.
    pub commit_latency: Histogram,
}

impl Metrics {
    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let gauges = [
            (
                "forankra_connections",
                "Open WebSocket connections.",
                self.connections.load(Relaxed),
            ),
            (
                "forankra_rooms_open",
                "Documents loaded in memory.",
                self.rooms_open.load(Relaxed),
            ),
        ];
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        let counters = [
            (
                "forankra_updates_stored_total",
                "Document updates made durable.",
                &self.updates_stored,
            ),
            (
                "forankra_updates_relayed_total",
                "Document updates relayed to other clients (one per recipient).",
                &self.updates_relayed,
            ),
            (
                "forankra_update_bytes_total",
                "Bytes of document updates stored.",
                &self.update_bytes,
            ),
            (
                "forankra_updates_dropped_read_only_total",
                "Updates from viewers and commenters, dropped.",
                &self.updates_dropped_read_only,
            ),
            (
                "forankra_updates_refused_foreign_total",
                "Updates written under another user's Yjs client id, refused.",
                &self.updates_refused_foreign,
            ),
            (
                "forankra_slow_clients_disconnected_total",
                "Clients disconnected because their outbox was full.",
                &self.slow_clients_disconnected,
            ),
            (
                "forankra_connections_refused_total",
                "WebSocket connections closed at admission (token, access, document).",
                &self.connections_refused,
            ),
            (
                "forankra_malformed_messages_total",
                "Connections closed for a malformed or oversized message.",
                &self.malformed_messages,
            ),
            (
                "forankra_storage_failures_total",
                "Group commits that failed.",
                &self.storage_failures,
            ),
            (
                "forankra_compactions_total",
                "Update logs compacted into a snapshot.",
                &self.compactions,
            ),
            (
                "forankra_apply_panics_total",
                "Times applying updates panicked inside yrs and a room rebuilt its document.",
                &self.apply_panics,
            ),
            (
                "forankra_updates_quarantined_total",
                "Stored updates moved to quarantined_updates because applying them panicked.",
                &self.updates_quarantined,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                value.load(Relaxed)
            );
        }
        self.limit_hits.render(&mut out);
        self.relay_latency.render(
            &mut out,
            "forankra_relay_latency_seconds",
            "Time from receiving an update to relaying it, durable commit included.",
        );
        self.commit_latency.render(
            &mut out,
            "forankra_commit_seconds",
            "Time one group commit of the update log takes, from taking its batch to the commit.",
        );
        out
    }
}
