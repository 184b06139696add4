//! Logging for the CLI: human diagnostics on stderr, filtered by
//! `RECONNECT_LOG` (e.g. `RECONNECT_LOG=debug`). stdout stays clean for
//! machine-readable output such as `reconnect token`.

/// Installs the stderr subscriber. Safe to call once at start-up.
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RECONNECT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
