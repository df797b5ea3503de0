//! Large frames (a whole document's sync step 2) are written on one thread of their own.
//!
//! Writing a frame costs a copy into tungstenite's write buffer and another into the
//! kernel, in one poll of the connection's write task. In the storm benchmark (8 clients
//! re-syncing an 8 MB document over and over), those two copies took 45 % of the
//! server's samples, on the runtime's worker threads, and a small document's edits
//! waited behind them: p99 9.8 ms, while the loopback relay floor measured beside it
//! stayed at 0.16 ms (docs/BENCHMARKS.md, session 13).
//!
//! So a frame of [`BULK_FROM_BYTES`] or more is sent by a task on a single-threaded
//! runtime on its own OS thread. However many large syncs are under way, together they
//! take at most that one core, and the runtime's workers stay free for everyone's edits.
//! It paces CPU, not sockets: a client that reads slowly only parks its own write there,
//! as it would on the main runtime, and the others' writes go on.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::{Builder, Handle};
use tokio::task::JoinHandle;

/// Frames at least this large go to the bulk thread; smaller ones cost less than the
/// hand-over.
pub const BULK_FROM_BYTES: usize = 1 << 20;

/// The bulk thread's runtime, started on first use; `None` if it could not start (then
/// large frames are written where they are, as before).
static BULK: OnceLock<Option<Handle>> = OnceLock::new();

/// Runs `write` on the bulk thread; hands it back if there is none.
pub fn spawn<F>(write: F) -> Result<JoinHandle<F::Output>, F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match BULK.get_or_init(start) {
        Some(bulk) => Ok(bulk.spawn(write)),
        None => Err(write),
    }
}

fn start() -> Option<Handle> {
    let (tx, rx) = std::sync::mpsc::channel();
    let started = std::thread::Builder::new()
        .name("forankra-bulk".into())
        .spawn(move || match Builder::new_current_thread().enable_all().build() {
            Ok(runtime) => {
                let _ = tx.send(Some(runtime.handle().clone()));
                // Serves spawned writes for the life of the process.
                runtime.block_on(std::future::pending::<()>());
            }
            Err(error) => {
                tracing::error!(%error, "starting the bulk writer's runtime failed; large frames are written inline");
                let _ = tx.send(None);
            }
        });
    match started {
        Ok(_) => rx.recv().ok().flatten(),
        Err(error) => {
            tracing::error!(%error, "starting the bulk writer's thread failed; large frames are written inline");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_write_runs_on_the_bulk_thread() {
        let name = spawn(async { std::thread::current().name().map(str::to_owned) })
            .unwrap_or_else(|_| panic!("the bulk thread did not start"))
            .await
            .expect("the task ends");
        assert_eq!(name.as_deref(), Some("forankra-bulk"));
    }
}
