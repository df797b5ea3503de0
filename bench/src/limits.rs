//! The server limits a scenario sets, as a small table in its report.
//!
//! A figure measured with the per-address connection cap or the message rate lifted
//! means nothing to an operator who does not know it was lifted: a deployment with the
//! shipped defaults would refuse part of that load. So every scenario prints, beside
//! its figures, exactly what it changed, read from the same place the server gets it:
//! the flags handed to a `forankra serve` process (the kit's
//! [`HARNESS_FLAGS`] plus the scenario's own), or the fields of an in-process
//! server's [`Config`] after [`forankra_testkit::harness::lift_limits`] and the
//! scenario's own changes, each beside the shipped default.

use forankra::Config;
use forankra::limits::{LimitSettings, Quota, Rate};
use forankra_testkit::harness::HARNESS_FLAGS;

use crate::report::Table;

/// How a scenario's server was started, for the heading of its limits table.
const PROCESS_NOTE: &str = "flags given to every `forankra serve` process of this scenario; \
     every other limit keeps its shipped default";

/// The table for servers started as processes: the kit's flags, then `extra` (flag and
/// value pairs, or lone switches), in the order they were given.
pub fn process(extra: &[String]) -> String {
    let mut table = Table::new(&["flag", "value"]);
    let flags = HARNESS_FLAGS.iter().map(|s| (*s).to_owned());
    let all: Vec<String> = flags.chain(extra.iter().cloned()).collect();
    let mut i = 0;
    while i < all.len() {
        let flag = &all[i];
        match all.get(i + 1) {
            Some(value) if !value.starts_with("--") => {
                table.row(&[flag.as_str(), value.as_str()]);
                i += 2;
            }
            _ => {
                table.row(&[flag.as_str(), "(set)"]);
                i += 1;
            }
        }
    }
    format!(
        "\nServer limits set ({PROCESS_NOTE}):\n\n{}",
        table.markdown()
    )
}

/// The table for a server started in this process: every limit the harness or the
/// scenario moved from the shipped default, beside that default.
pub fn in_process(config: &Config) -> String {
    let shipped = Config::for_tests(String::new());
    let mut table = Table::new(&["setting", "value", "shipped default"]);
    let mut moved = 0;
    for (name, value, default) in rows(config, &shipped) {
        if value != default {
            table.row(&[name, &value, &default]);
            moved += 1;
        }
    }
    if moved == 0 {
        return "\nServer limits set: none (the in-process server runs with the shipped defaults).\n"
            .to_owned();
    }
    format!(
        "\nServer limits set (in-process server, `Config` fields; every other limit keeps its \
         shipped default):\n\n{}",
        table.markdown()
    )
}

/// Every limit an in-process scenario may move, as (name, value, default).
fn rows(config: &Config, shipped: &Config) -> Vec<(&'static str, String, String)> {
    let (l, d): (&LimitSettings, &LimitSettings) = (&config.limits, &shipped.limits);
    let rate = |r: &Rate| format!("{} /s, burst {}", r.per_sec, r.burst);
    let quota = |q: &Quota| format!("{} per hour, {} in all (0: none)", q.per_hour, q.total);
    vec![
        (
            "WebSocket messages per connection",
            rate(&l.message_rate),
            rate(&d.message_rate),
        ),
        (
            "WebSocket bytes/s per connection",
            l.byte_rate.to_string(),
            d.byte_rate.to_string(),
        ),
        (
            "WebSocket connections per address",
            l.connections_per_ip.to_string(),
            d.connections_per_ip.to_string(),
        ),
        (
            "HTTP connections per address",
            l.http_connections_per_ip.to_string(),
            d.http_connections_per_ip.to_string(),
        ),
        (
            "connections in all (0: open-files limit)",
            l.max_connections.to_string(),
            d.max_connections.to_string(),
        ),
        (
            "documents per user",
            quota(&l.quotas.documents),
            quota(&d.quotas.documents),
        ),
        (
            "threads per user",
            quota(&l.quotas.threads),
            quota(&d.quotas.threads),
        ),
        (
            "largest WebSocket message, bytes",
            config.max_message_bytes.to_string(),
            shipped.max_message_bytes.to_string(),
        ),
        (
            "largest HTTP body, bytes",
            config.max_body_bytes.to_string(),
            shipped.max_body_bytes.to_string(),
        ),
        (
            "empty room kept for",
            format!("{:?}", config.room_idle_unload),
            format!("{:?}", shipped.room_idle_unload),
        ),
        (
            "log entries before an open room compacts",
            config.compact_after_updates.to_string(),
            shipped.compact_after_updates.to_string(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_table_pairs_flags_with_values() {
        let text = process(&["--room-idle".to_owned(), "50ms".to_owned()]);
        assert!(
            text.contains("| --max-connections-per-ip | 1000000 |"),
            "{text}"
        );
        assert!(text.contains("| --room-idle | 50ms |"), "{text}");
    }

    #[test]
    fn in_process_table_lists_only_what_moved() {
        let mut config = Config::for_tests(String::new());
        assert!(in_process(&config).contains("none"));
        forankra_testkit::harness::lift_limits(&mut config);
        let text = in_process(&config);
        assert!(text.contains("WebSocket connections per address"), "{text}");
        assert!(!text.contains("largest WebSocket message"), "{text}");
    }
}
