//! The shape every durable queue in the database is worked with (webhook deliveries,
//! notification e-mail): rows with a due time, leased by one worker at a time, retried
//! with doubling waits. What differs per queue (what a row is, how it is sent) stays in
//! its module; how a worker waits for work and how long a retry waits is here, once.

use std::future::Future;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::storage::{StoreError, now_ms};

/// Rows taken and worked at once.
pub const BATCH: i64 = 16;

/// Longest error text kept for an attempt: enough for a server's answer, bounded because
/// the other side writes it.
const MAX_ERROR_CHARS: usize = 500;

/// One durable queue's worker side: the wake-up that a use case rings after its commit,
/// how long the worker sleeps at most, and how long a retry may wait. A `static`, because
/// rows are queued inside use cases that see only their transaction; in a process running
/// several servers (the tests) a worker woken for another server's row finds nothing due
/// and sleeps again.
pub struct Queue {
    queued: Notify,
    what: &'static str,
    /// Longest sleep: how soon rows queued by another node are noticed.
    poll: Duration,
    /// Longest wait between two attempts.
    max_backoff: Duration,
}

impl Queue {
    /// A queue named `what` in the log, polled every 15 s, retries waiting at most
    /// `max_backoff`.
    pub const fn new(what: &'static str, max_backoff: Duration) -> Self {
        Self {
            queued: Notify::const_new(),
            what,
            poll: Duration::from_secs(15),
            max_backoff,
        }
    }

    /// Tells the workers that rows were queued.
    pub fn wake(&self) {
        self.queued.notify_waiters();
    }

    /// The wait after failed attempt number `attempt` (1-based), from `base`.
    pub fn backoff(&self, base: Duration, attempt: i64) -> Duration {
        backoff(base, attempt, self.max_backoff)
    }

    /// Runs `work_due` until `shutdown` (see [`work`]).
    pub async fn work<F, Fut>(&self, shutdown: &CancellationToken, work_due: F)
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<i64>, StoreError>>,
    {
        work(&self.queued, shutdown, self.poll, self.what, work_due).await;
    }
}

/// An attempt's error as kept in its row: at most [`MAX_ERROR_CHARS`] characters.
pub fn error_text(text: &str) -> String {
    text.chars().take(MAX_ERROR_CHARS).collect()
}

/// The wait after failed attempt number `attempt` (1-based): `base`, doubled after each
/// further failure, at most `max`.
pub fn backoff(base: Duration, attempt: i64, max: Duration) -> Duration {
    let doublings = u32::try_from(attempt.saturating_sub(1).max(0))
        .unwrap_or(u32::MAX)
        .min(20);
    base.saturating_mul(1 << doublings).min(max)
}

/// Runs `work_due` until `shutdown`: at once, then whenever `queued` is notified, when
/// the next row it reports (epoch ms) falls due, and at least every `poll` (another
/// node may have queued a row). `work_due` handles every due row and answers when the
/// next one is due; a storage error is logged and retried after `poll`.
async fn work<F, Fut>(
    queued: &Notify,
    shutdown: &CancellationToken,
    poll: Duration,
    what: &'static str,
    mut work_due: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<i64>, StoreError>>,
{
    loop {
        // Listen before looking, so a row queued while we look still wakes us.
        let notified = queued.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let sleep = tokio::select! {
            result = work_due() => match result {
                Ok(next) => until(next, poll),
                Err(error) => {
                    tracing::error!(%error, queue = what, "working the queue failed; retrying soon");
                    poll
                }
            },
            () = shutdown.cancelled() => return,
        };
        tokio::select! {
            () = &mut notified => {}
            () = tokio::time::sleep(sleep) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// How long to sleep until `next` (epoch ms), at most `poll`.
fn until(next: Option<i64>, poll: Duration) -> Duration {
    next.map_or(poll, |at| {
        Duration::from_millis(u64::try_from(at - now_ms()).unwrap_or(0)).min(poll)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_and_is_capped() {
        let base = Duration::from_secs(30);
        let max = Duration::from_secs(3600);
        assert_eq!(backoff(base, 1, max), base);
        assert_eq!(backoff(base, 3, max), base * 4);
        assert_eq!(backoff(base, 40, max), max);
        assert_eq!(backoff(base, -5, max), base);
    }

    #[test]
    fn a_worker_sleeps_until_the_next_due_row_but_never_past_the_poll() {
        let poll = Duration::from_secs(15);
        assert_eq!(until(None, poll), poll);
        assert_eq!(until(Some(now_ms() - 1_000), poll), Duration::ZERO);
        assert_eq!(until(Some(now_ms() + 3_600_000), poll), poll);
    }

    #[test]
    fn an_error_text_is_cut_at_a_character_not_a_byte() {
        let long = "å".repeat(MAX_ERROR_CHARS + 10);
        assert_eq!(error_text(&long).chars().count(), MAX_ERROR_CHARS);
        assert_eq!(error_text("kort"), "kort");
    }
}
