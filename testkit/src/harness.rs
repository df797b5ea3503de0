//! The caps meant for people that a load harness lifts, in both forms a server takes
//! settings: flags for a `forankra serve` process and fields of an in-process `Config`.
//! Kept side by side so the two cannot drift apart.
//!
//! Every client of a scenario comes from 127.0.0.1, one connection may push a whole
//! editing trace (the B4 push sends 259,778 updates as fast as the server takes them),
//! and one user creates every document and thread (thousands of each), so the
//! per-connection message and byte rates, the per-address connection caps and the
//! per-user creation quotas would refuse the load being measured.

use forankra::Config;
use forankra::limits::{Quota, QuotaSettings, Rate};

/// The lifted caps as `serve` flags. A caller's own extra flags must not repeat these
/// (clap refuses a flag given twice).
pub const HARNESS_FLAGS: &[&str] = &[
    "--ws-message-rate",
    "1000000000",
    "--ws-message-burst",
    "1000000000",
    "--ws-byte-rate",
    "4000000000",
    "--max-connections-per-ip",
    "1000000",
    "--max-http-connections-per-ip",
    "1000000",
    "--max-documents-per-user-hour",
    "0",
    "--max-documents-per-user",
    "0",
    "--max-threads-per-user-hour",
    "0",
    "--max-threads-per-user",
    "0",
];

/// The lifted caps applied to an in-process server's configuration.
pub fn lift_limits(config: &mut Config) {
    config.limits.message_rate = Rate {
        per_sec: 1e9,
        burst: u32::MAX,
    };
    config.limits.byte_rate = u32::MAX;
    config.limits.connections_per_ip = u32::MAX;
    config.limits.http_connections_per_ip = u32::MAX;
    let unlimited = Quota {
        per_hour: 0,
        total: 0,
    };
    config.limits.quotas = QuotaSettings {
        documents: unlimited,
        threads: unlimited,
    };
}
