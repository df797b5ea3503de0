//! Figures shared by every scenario: latency histograms and their summaries, stored
//! sizes, Markdown tables and the JSON file.
//!
//! Latencies are recorded in microseconds into an HDR histogram, so percentiles keep
//! three significant digits from tens of microseconds up to a minute without storing
//! every sample, and p99.9 means the same thing in every scenario.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use forankra::storage::journal::StoredSize;
use hdrhistogram::Histogram;
use serde::Serialize;

/// Largest latency a histogram records exactly, in microseconds; longer ones are
/// recorded as this (no wait in the harness lasts that long anyway).
const MAX_LATENCY_US: u64 = 60_000_000;

/// An empty latency histogram, in microseconds, three significant digits.
pub fn latency_histogram() -> Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
        .map_err(|e| anyhow!("creating a histogram: {e:?}"))
}

/// Records one latency.
pub fn record(histogram: &mut Histogram<u64>, latency: Duration) {
    let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
    histogram.saturating_record(micros);
}

/// Percentiles of one latency histogram.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct LatencySummary {
    pub samples: u64,
    pub mean_us: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
}

impl From<&Histogram<u64>> for LatencySummary {
    fn from(h: &Histogram<u64>) -> Self {
        Self {
            samples: h.len(),
            mean_us: h.mean(),
            p50_us: h.value_at_quantile(0.5),
            p99_us: h.value_at_quantile(0.99),
            p999_us: h.value_at_quantile(0.999),
            max_us: h.max(),
        }
    }
}

/// What the database holds for one document, in bytes.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct StoredBytes {
    pub total: i64,
    pub log: i64,
    pub log_rows: i64,
    pub snapshot: i64,
}

impl From<StoredSize> for StoredBytes {
    fn from(s: StoredSize) -> Self {
        Self {
            total: s.log_bytes + s.snapshot_bytes,
            log: s.log_bytes,
            log_rows: s.log_rows,
            snapshot: s.snapshot_bytes,
        }
    }
}

impl StoredBytes {
    /// "12,345 B (1,002 log rows: 12,345 B; snapshot 0 B)".
    pub fn describe(&self) -> String {
        format!(
            "{} B ({} log rows: {} B; snapshot {} B)",
            thousands(self.total),
            thousands(self.log_rows),
            thousands(self.log),
            thousands(self.snapshot)
        )
    }
}

/// A latency in milliseconds with the microseconds beside it: "0.412 ms (412 µs)".
pub fn latency(us: u64) -> String {
    // Exact for any latency a histogram holds (below 2^53 µs).
    #[allow(clippy::cast_precision_loss)]
    let ms = us as f64 / 1000.0;
    format!("{ms:.3} ms ({} µs)", thousands(us))
}

/// A latency target beside the figure it judges: "≤ 5 ms: met" or "≤ 5 ms: not met".
/// No samples at all is never a met target.
pub fn at_most_ms(measured_us: u64, samples: u64, target_us: u64) -> String {
    let met = samples > 0 && measured_us <= target_us;
    #[allow(clippy::cast_precision_loss)]
    let target_ms = target_us as f64 / 1000.0;
    format!("≤ {target_ms} ms: {}", verdict(met))
}

/// A throughput target beside the figure it judges: "≥ 50,000/s: met".
pub fn at_least_per_sec(measured: f64, target: u64) -> String {
    #[allow(clippy::cast_precision_loss)]
    let met = measured >= target as f64;
    format!("≥ {}/s: {}", thousands(target), verdict(met))
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**not met**" }
}

/// An integer with thin groups of three digits: 1234567 → "1,234,567".
pub fn thousands(n: impl Into<i128>) -> String {
    let n: i128 = n.into();
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A Markdown table built row by row.
pub struct Table {
    text: String,
    columns: usize,
}

impl Table {
    /// A table with these column headings.
    pub fn new(headings: &[&str]) -> Self {
        let mut table = Self {
            text: String::new(),
            columns: headings.len(),
        };
        table.push_line(headings.iter().copied());
        table.push_line(std::iter::repeat_n("---", headings.len()));
        table
    }

    /// Appends a row; missing cells stay empty, extra ones are dropped.
    pub fn row<S: AsRef<str>>(&mut self, cells: &[S]) -> &mut Self {
        let cells = cells
            .iter()
            .map(AsRef::as_ref)
            .chain(std::iter::repeat(""))
            .take(self.columns);
        self.push_line(cells);
        self
    }

    fn push_line<'a>(&mut self, cells: impl Iterator<Item = &'a str>) {
        self.text.push('|');
        for cell in cells {
            // A pipe inside a cell would end it early.
            let _ = write!(self.text, " {} |", cell.replace('|', "\\|"));
        }
        self.text.push('\n');
    }

    /// The table as Markdown, ending with a newline.
    pub fn markdown(&self) -> &str {
        &self.text
    }
}

/// Prints a scenario's Markdown and the limits table after it, and writes the figures
/// as JSON when asked: the same ending for every scenario's report.
pub fn publish(
    markdown: &str,
    limits: &str,
    json: Option<&Path>,
    figures: &impl Serialize,
) -> Result<()> {
    print!("{markdown}{limits}");
    if let Some(path) = json {
        write_json(path, figures)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// A run's figures, or the reason it has none (also said on stderr): a server that
/// could not be measured becomes a note in the report, not the end of the scenario.
pub fn figures_or_note<T>(result: Result<T>, what: &str) -> (Option<T>, Option<String>) {
    match result {
        Ok(figures) => (Some(figures), None),
        Err(error) => {
            eprintln!("{what}: {error:#}");
            (None, Some(format!("{error:#}")))
        }
    }
}

/// The "Not measured" list under a side-by-side table (empty when every server ran).
pub fn not_measured(lines: &[String]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let mut out = "\nNot measured:\n".to_owned();
    for line in lines {
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Writes `figures` as pretty JSON to `path`.
pub fn write_json(path: &Path, figures: &impl Serialize) -> Result<()> {
    let json = serde_json::to_string_pretty(figures).context("encoding the figures as JSON")?;
    std::fs::write(path, json + "\n").with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(-1_234_567), "-1,234,567");
    }

    #[test]
    fn targets_say_met_or_not() {
        assert_eq!(at_most_ms(4_000, 10, 5_000), "≤ 5 ms: met");
        assert_eq!(at_most_ms(6_000, 10, 5_000), "≤ 5 ms: **not met**");
        assert_eq!(at_most_ms(0, 0, 5_000), "≤ 5 ms: **not met**");
        assert_eq!(at_least_per_sec(60_000.0, 50_000), "≥ 50,000/s: met");
    }

    #[test]
    fn tables_are_markdown() {
        let mut table = Table::new(&["a", "b"]);
        table.row(&["1", "x|y"]).row(&["2"]);
        assert_eq!(
            table.markdown(),
            "| a | b |\n| --- | --- |\n| 1 | x\\|y |\n| 2 |  |\n"
        );
    }

    #[test]
    fn summaries_read_the_histogram() -> Result<()> {
        let mut h = latency_histogram()?;
        for us in 1..=1000 {
            record(&mut h, Duration::from_micros(us));
        }
        let s = LatencySummary::from(&h);
        assert_eq!(s.samples, 1000);
        assert_eq!(s.p50_us, 500);
        assert_eq!(s.max_us, 1000);
        Ok(())
    }
}
