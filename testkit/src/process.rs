//! A server as a child process: the `forankra serve` binary as operators run it (for
//! SIGKILL trials, several nodes on one database, `/proc` sampling), or any other
//! server a benchmark compares with.
//!
//! Two ways to know it is up: [`ServerProcess::announced`] starts `serve` on
//! `127.0.0.1:0` and reads the address from its "listening" log line (no port race; the
//! rest of its log goes to our stderr, which the test harness shows on failure), and
//! [`ServerProcess::probed`] gives the server a free port chosen beforehand and connects
//! until it accepts (for servers that log nothing, or log to a file, as a benchmark keeps
//! them quiet).

use std::ffi::OsString;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// Longest a server may take to start listening.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest a server may take to exit after SIGTERM (ours stores and compacts first).
pub const STOP_TIMEOUT: Duration = Duration::from_secs(60);
/// How often the port is tried while a probed server starts.
const START_POLL: Duration = Duration::from_millis(25);

/// How to run `forankra serve`: the binary, its database, and every further argument
/// and environment setting a caller needs (a test's secret, a harness's lifted limits).
#[derive(Debug, Clone)]
pub struct Serve {
    pub bin: PathBuf,
    pub database_url: String,
    /// Further arguments after `--listen` and `--database-url`.
    pub args: Vec<String>,
    /// Variables set (`Some`) or removed (`None`) in the child's environment.
    pub env: Vec<(String, Option<String>)>,
}

impl Serve {
    /// `serve` from `bin` on `database_url`, with no further settings.
    pub fn new(bin: impl Into<PathBuf>, database_url: impl Into<String>) -> Self {
        Self {
            bin: bin.into(),
            database_url: database_url.into(),
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// Appends arguments.
    pub fn args<S: AsRef<str>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.push((key.to_owned(), Some(value.into())));
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove(mut self, key: &str) -> Self {
        self.env.push((key.to_owned(), None));
        self
    }

    /// The command, listening on `listen`.
    pub fn command(&self, listen: SocketAddr) -> Command {
        let mut command = Command::new(&self.bin);
        command
            .arg("serve")
            .arg("--listen")
            .arg(listen.to_string())
            .arg("--database-url")
            .arg(&self.database_url)
            .args(self.args.iter().map(OsString::from));
        for (key, value) in &self.env {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        command
    }
}

/// A server running as a child process; killed if dropped while running.
pub struct ServerProcess {
    child: Child,
    pid: u32,
    addr: SocketAddr,
    /// Where its output goes, if to a file (for error messages).
    log: Option<PathBuf>,
    stopped: bool,
}

impl ServerProcess {
    /// Starts `serve` on `127.0.0.1:0` and waits for the line that names its address.
    /// The log level must let that `info` line through (`RUST_LOG=info`, the default).
    pub async fn announced(serve: &Serve) -> Result<Self> {
        let mut child = serve
            .command(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting the server")?;
        let pid = child.id().context("the server exited at once")?;
        let stderr = child.stderr.take().context("stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let addr = tokio::time::timeout(START_TIMEOUT, async {
            while let Some(line) = lines.next_line().await? {
                if let Some(rest) = line.split("address=").nth(1) {
                    let addr: SocketAddr =
                        rest.split_whitespace().next().unwrap_or_default().parse()?;
                    return Ok(addr);
                }
            }
            bail!("the server exited before listening")
        })
        .await
        .context("server start timed out")??;
        // Keep draining stderr so the child never blocks on a full pipe; the lines go to
        // our output, which the test harness shows when the test fails.
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("[{addr}] {line}");
            }
        });
        Ok(Self {
            child,
            pid,
            addr,
            log: None,
            stopped: false,
        })
    }

    /// Spawns `command` (stdout and stderr appended to `log`) and waits until `addr`
    /// accepts; the command must make the server listen on `addr`.
    pub async fn probed(mut command: Command, addr: SocketAddr, log: &Path) -> Result<Self> {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("opening {}", log.display()))?;
        let err = out.try_clone()?;
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .kill_on_drop(true)
            .spawn()
            .context("starting the server")?;
        let pid = child.id().context("the server exited at once")?;
        // For attaching a profiler: `perf record -p PID`.
        eprintln!(
            "started {} (pid {pid}) on {addr}",
            command.as_std().get_program().to_string_lossy()
        );
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                break;
            }
            if let Some(status) = child.try_wait()? {
                bail!(
                    "the server exited with {status} before listening{}",
                    log_tail(log)
                );
            }
            if Instant::now() >= deadline {
                bail!(
                    "the server did not listen on {addr} within {START_TIMEOUT:?}{}",
                    log_tail(log)
                );
            }
            tokio::time::sleep(START_POLL).await;
        }
        Ok(Self {
            child,
            pid,
            addr,
            log: Some(log.to_owned()),
            stopped: false,
        })
    }

    /// The process id, for `/proc`.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The y-websocket URL of a document on this server.
    pub fn ws_url(&self, doc: &str, token: &str) -> String {
        format!("ws://{}/ws/{doc}?token={token}", self.addr)
    }

    /// Sends SIGTERM (a graceful shutdown, as an orchestrator stops a node) and waits,
    /// at most [`STOP_TIMEOUT`] (then SIGKILL and an error), for the exit. Returns the
    /// exit status and how long the shutdown took.
    pub async fn terminate(&mut self) -> Result<(ExitStatus, Duration)> {
        if self.stopped {
            bail!("the server was already stopped");
        }
        let started = Instant::now();
        // std has no SIGTERM and the workspace forbids `unsafe`: ask kill(1).
        let sent = tokio::process::Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status()
            .await
            .context("running kill -TERM")?;
        if !sent.success() {
            bail!("kill -TERM {} failed", self.pid);
        }
        match tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await {
            Ok(status) => {
                let status = status.context("waiting for the server")?;
                self.stopped = true;
                Ok((status, started.elapsed()))
            }
            Err(_) => {
                self.child.start_kill()?;
                let _ = tokio::time::timeout(STOP_TIMEOUT, self.child.wait()).await;
                self.stopped = true;
                bail!(
                    "the server did not exit within {STOP_TIMEOUT:?} of SIGTERM{}",
                    self.log.as_deref().map(log_tail).unwrap_or_default()
                )
            }
        }
    }

    /// Stops it gracefully unless it has stopped already; returns how long that took.
    pub async fn shut_down(&mut self) -> Result<Duration> {
        if self.stopped {
            return Ok(Duration::ZERO);
        }
        Ok(self.terminate().await?.1)
    }

    /// Whether the process has exited, by any cause (a crash included).
    pub fn has_exited(&mut self) -> Result<bool> {
        Ok(self.child.try_wait()?.is_some())
    }

    /// Whether it has been stopped or killed through this handle.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Kills the server with SIGKILL, as a crash or `kill -9` would, and reaps it.
    pub async fn kill(&mut self) -> Result<()> {
        if self.stopped {
            return Ok(());
        }
        self.child.start_kill().context("sending SIGKILL")?;
        self.child
            .wait()
            .await
            .context("waiting for the killed server")?;
        self.stopped = true;
        Ok(())
    }
}

/// A loopback address with a port free right now. The port is released before the
/// server binds it; on a machine running only this benchmark nothing takes it between.
pub fn free_addr() -> Result<SocketAddr> {
    let listener =
        std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("finding a free port")?;
    Ok(listener.local_addr()?)
}

/// The `forankra` binary cargo built next to the running test binary
/// (`target/<profile>/deps/<test>` → `target/<profile>/forankra`).
pub fn binary_beside_tests() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .context("target dir")?;
    let bin = dir.join(format!("forankra{}", std::env::consts::EXE_SUFFIX));
    if !bin.exists() {
        bail!(
            "{} not found: build it first with `cargo build --bins` (scripts/test does)",
            bin.display()
        );
    }
    Ok(bin)
}

/// The last lines of a server's log, for an error message.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(10)..].join("\n");
    format!(": log {}:\n{tail}", log.display())
}
