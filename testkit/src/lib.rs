//! The test kit: one copy of what the integration tests (`tests/`) and the benchmarks
//! (`bench/`) both need to drive the real server from outside.
//!
//! Before this crate each of them had its own server launcher, its own y-websocket
//! client and its own token minting, and the copies had begun to differ (timeouts,
//! framing, how the port is learned). A fix in one never reached the other. Each module
//! here is the single place for one concern; where the benchmarks need other settings
//! than the tests (limits lifted, quiet logs, a log file) the kit takes them as
//! parameters rather than knowing who calls it.
//!
//! - [`token`]: tokens with the claims of DESIGN.md, signed by the server's own keys.
//! - [`database`]: a fresh SQLite file or a fresh PostgreSQL database per run.
//! - [`app`]: the server in this process (`App::build`) on `127.0.0.1:0`.
//! - [`process`]: the `forankra serve` binary (or any server) as a child process.
//! - [`harness`]: the limits a load harness lifts, as flags and as configuration.
//! - [`client`]: a y-websocket client holding a yrs `Doc`.

pub mod app;
pub mod client;
pub mod database;
pub mod harness;
pub mod process;
pub mod token;
