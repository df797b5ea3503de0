//! What a server process costs, read from `/proc/PID/{status,stat}`.
//!
//! Read from outside, the same way for every server (ours, node, y-sweet), so the figures
//! compare: resident memory (`VmRSS`, and the kernel's own peak `VmHWM`) and CPU time
//! (user + system, every thread, in clock ticks from `stat`). A sampler polls in the
//! background during a run to catch the peak and the CPU used in a window.
//!
//! `VmRSS` alone cannot say what grows, so its three parts are read too: anonymous
//! memory (the heap: what the program and its allocator hold), file-backed pages (the
//! binary and whatever files are mapped, such as SQLite's `-shm` WAL index) and shared
//! memory (tmpfs and shared anonymous mappings: the `-shm` file lands here when the
//! database is on a tmpfs). A leak shows in the first; a growing mapped file in the
//! others.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often the sampler reads `/proc` while a run goes on.
const SAMPLE_INTERVAL: Duration = Duration::from_millis(200);
/// Clock ticks per second when `getconf CLK_TCK` cannot be asked (Linux's fixed USER_HZ).
const DEFAULT_CLOCK_TICKS: u64 = 100;

/// One reading of a process.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ProcSample {
    /// Resident memory now, KiB.
    pub rss_kib: u64,
    /// The most resident memory the process ever had, KiB.
    pub peak_rss_kib: u64,
    /// Resident anonymous memory (`RssAnon`: heap and stacks), KiB.
    pub rss_anon_kib: u64,
    /// Resident file-backed memory (`RssFile`: the binary, mapped files), KiB.
    pub rss_file_kib: u64,
    /// Resident shared memory (`RssShmem`: tmpfs and shared anonymous mappings), KiB.
    pub rss_shmem_kib: u64,
    /// User plus system CPU time of every thread so far, seconds.
    pub cpu_secs: f64,
}

/// Reads the process once.
pub fn sample(pid: u32, ticks_per_sec: u64) -> Result<ProcSample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    Ok(ProcSample {
        rss_kib: status_kib(&status, "VmRSS:")?,
        peak_rss_kib: status_kib(&status, "VmHWM:")?,
        rss_anon_kib: status_kib(&status, "RssAnon:")?,
        rss_file_kib: status_kib(&status, "RssFile:")?,
        rss_shmem_kib: status_kib(&status, "RssShmem:")?,
        cpu_secs: cpu_ticks(&stat)? as f64 / ticks_per_sec as f64,
    })
}

/// A `Vm…:   1234 kB` line of `/proc/PID/status`.
fn status_kib(status: &str, key: &str) -> Result<u64> {
    let line = status
        .lines()
        .find(|l| l.starts_with(key))
        .with_context(|| format!("no {key} in /proc status"))?;
    line[key.len()..]
        .split_whitespace()
        .next()
        .context("an empty /proc status line")?
        .parse()
        .with_context(|| format!("{key} is not a number"))
}

/// utime + stime (fields 14 and 15) of `/proc/PID/stat`. The command name in field 2
/// may hold spaces and parentheses, so fields are counted from the last ')'.
fn cpu_ticks(stat: &str) -> Result<u64> {
    let Some((_, rest)) = stat.rsplit_once(')') else {
        bail!("/proc stat without a command name");
    };
    // rest starts at field 3 (state): utime is the 12th field after the name, stime the 13th.
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| -> Result<u64> {
        fields
            .get(i)
            .context("a short /proc stat line")?
            .parse()
            .context("a /proc stat field is not a number")
    };
    Ok(field(11)? + field(12)?)
}

/// Clock ticks per second, as `getconf CLK_TCK` says (100 on every Linux we know).
pub fn clock_ticks_per_sec() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(DEFAULT_CLOCK_TICKS)
}

/// What the sampler saw over a window.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ProcWindow {
    pub rss_start_kib: u64,
    pub rss_end_kib: u64,
    /// Highest `VmRSS` seen by the sampler in the window.
    pub rss_max_kib: u64,
    /// CPU seconds the process used in the window.
    pub cpu_secs: f64,
    /// `cpu_secs` over the window's length: 1.0 is one core busy all the time.
    pub cpu_cores: f64,
    pub wall_secs: f64,
}

/// Polls a process in the background until stopped.
pub struct Sampler {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    state: Arc<Mutex<SamplerState>>,
    pid: u32,
    ticks: u64,
}

struct SamplerState {
    first: ProcSample,
    rss_max_kib: u64,
    started: Instant,
}

impl Sampler {
    /// Starts polling `pid`.
    pub fn start(pid: u32) -> Result<Self> {
        let ticks = clock_ticks_per_sec();
        let first = sample(pid, ticks)?;
        let state = Arc::new(Mutex::new(SamplerState {
            first,
            rss_max_kib: first.rss_kib,
            started: Instant::now(),
        }));
        let (stop, mut stopped) = watch::channel(false);
        let shared = Arc::clone(&state);
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(SAMPLE_INTERVAL);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopped.changed() => return,
                }
                // A process that has gone simply stops being sampled.
                let Ok(now) = sample(pid, ticks) else { return };
                if let Ok(mut state) = shared.lock() {
                    state.rss_max_kib = state.rss_max_kib.max(now.rss_kib);
                }
            }
        });
        Ok(Self {
            stop,
            task,
            state,
            pid,
            ticks,
        })
    }

    /// Stops polling and summarises the window from the start until now.
    pub async fn finish(self) -> Result<ProcWindow> {
        let last = sample(self.pid, self.ticks);
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(SAMPLE_INTERVAL * 5, self.task).await;
        let last = last?;
        let state = self
            .state
            .lock()
            .map_err(|_| anyhow::anyhow!("the sampler panicked"))?;
        let wall = state.started.elapsed().as_secs_f64();
        let cpu = last.cpu_secs - state.first.cpu_secs;
        Ok(ProcWindow {
            rss_start_kib: state.first.rss_kib,
            rss_end_kib: last.rss_kib,
            rss_max_kib: state.rss_max_kib.max(last.rss_kib),
            cpu_secs: cpu,
            cpu_cores: cpu / wall.max(f64::EPSILON),
            wall_secs: wall,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_from_the_name() -> Result<()> {
        let stat = "42 (node (x) y) S 1 42 42 0 -1 4194560 1 0 0 0 250 50 0 0 20 0 11 0";
        assert_eq!(cpu_ticks(stat)?, 300);
        Ok(())
    }

    #[test]
    fn this_process_can_be_read() -> Result<()> {
        let s = sample(std::process::id(), clock_ticks_per_sec())?;
        assert!(s.rss_kib > 0 && s.peak_rss_kib >= s.rss_kib);
        assert!(s.rss_anon_kib > 0 && s.rss_file_kib > 0);
        Ok(())
    }

    #[test]
    fn the_parts_of_rss_are_read_by_name() -> Result<()> {
        let status = "Name:\tforankra\nVmRSS:\t   60000 kB\nRssAnon:\t   41000 kB\n\
                      RssFile:\t   12000 kB\nRssShmem:\t    7000 kB\n";
        assert_eq!(status_kib(status, "RssAnon:")?, 41_000);
        assert_eq!(status_kib(status, "RssFile:")?, 12_000);
        assert_eq!(status_kib(status, "RssShmem:")?, 7_000);
        assert!(status_kib(status, "VmHWM:").is_err());
        Ok(())
    }
}
