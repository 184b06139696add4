//! The signals that stop a keeper: SIGINT (Ctrl+C) and SIGTERM (systemd,
//! `kill`). Listening starts before the keeper does any work, so a stop
//! request is never the operating system's default (an abrupt end).

/// Listens for the stop signals.
#[derive(Debug)]
pub struct Stop {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
}

impl Stop {
    /// Starts listening (inside the runtime).
    pub fn listen() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                terminate: signal(SignalKind::terminate())?,
                interrupt: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Completes when a stop signal arrives, saying which.
    pub async fn received(mut self) {
        #[cfg(unix)]
        let name = tokio::select! {
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
        };
        #[cfg(not(unix))]
        let name = match tokio::signal::ctrl_c().await {
            Ok(()) => "Ctrl+C",
            Err(_) => std::future::pending().await,
        };
        tracing::info!("{name} received; stopping");
    }
}
