//! Logging: one line per event through `tracing`, filtered by `RUST_LOG`.
//!
//! Nothing logs a token or a password: the HTTP span records the path without its query
//! string (which carries the WebSocket token), and credentials are never fields.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; a second call (as in tests) is a no-op.
pub fn init() {
    let filter = filter();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .compact()
        .try_init();
}

/// Like [`init`], but writing through the test harness, which shows a test's log only
/// when that test fails.
pub fn init_for_tests() {
    let filter = filter();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_test_writer()
        .try_init();
}

/// `RUST_LOG`, or info with the chatty HTTP and SQL layers at warn.
fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn,sqlx=warn"))
}
