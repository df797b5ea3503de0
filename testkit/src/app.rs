//! The real server started in this process, as `main` starts it (`App::build`, then
//! `run_until` a signal), on the port the configuration names (`127.0.0.1:0` in
//! `Config::for_tests`).
//!
//! In-process rather than a child process so a test or a scenario can reach past HTTP
//! into the server's state (signing tokens, stored sizes, open rooms) without test-only
//! routes; every client still goes through real sockets.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};
use forankra::{App, AppState, Config};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Longest a graceful shutdown may take (it flushes and compacts every open room).
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(20);

/// A server running in this process; dropping it stops the server without waiting.
pub struct RunningApp {
    addr: SocketAddr,
    state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<()>>>,
}

impl RunningApp {
    /// Builds the server from `config` (migrating its database) and starts serving.
    pub async fn start(config: Config) -> Result<Self> {
        let app = App::build(config).await.context("building the server")?;
        let addr = app.local_addr();
        let state = app.state().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until(async move {
            // A dropped sender stops the server too.
            let _ = stopped.await;
        }));
        Ok(Self {
            addr,
            state,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's state (a clone shares everything with the server).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Shuts down gracefully and waits for it, at most [`SHUTDOWN_TIMEOUT`].
    pub async fn stop(mut self) -> Result<()> {
        if let Some(stop) = self.stop.take() {
            // An error means the server already stopped on its own; the join says why.
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(SHUTDOWN_TIMEOUT, task)
                .await
                .context("the server did not stop in time")?
                .context("the server task panicked")?
                .context("the server failed")?;
        }
        Ok(())
    }
}

impl Drop for RunningApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
