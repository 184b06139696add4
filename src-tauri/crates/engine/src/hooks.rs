//! Test hooks, read from the environment once at start-up. They exist so the
//! end-to-end tests can prove crash safety and line processes up with the
//! simulator's virtual clock; they do nothing unless set.
//!
//! - `RECONNECT_TEST_PAUSE_AT=<point>[,<point>…]` with
//!   `RECONNECT_TEST_PAUSE_MS=<ms>` (default 5000): at each named point of a
//!   refresh the process prints `reconnect-test-paused <point>` on stderr and
//!   sleeps, so a test can `kill -9` it right there. Points, in order:
//!   `locked`, `response`, `vault_written`, `metadata_written`.
//! - `RECONNECT_TEST_CLOCK_OFFSET=<seconds>`: the engine's clock runs this far
//!   ahead of the system clock (only read by [`Engine::open`](crate::Engine::open)).
//!
//! Only debug builds (what the tests run) and builds with the `test-hooks`
//! feature (the benchmarks) read them: in a normal release build the reading
//! code is compiled out, so no environment can pause a user's refresh or
//! move their clock.

use std::time::Duration;

/// Environment variable naming the pause points.
pub const PAUSE_AT_ENV: &str = "RECONNECT_TEST_PAUSE_AT";
/// Environment variable with the pause length in milliseconds.
pub const PAUSE_MS_ENV: &str = "RECONNECT_TEST_PAUSE_MS";
/// Environment variable with a clock offset in seconds.
pub const CLOCK_OFFSET_ENV: &str = "RECONNECT_TEST_CLOCK_OFFSET";

/// A point in the refresh where a test may pause the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PausePoint {
    /// The cross-process lock is held; nothing sent yet.
    Locked,
    /// The token endpoint answered; nothing persisted yet.
    Response,
    /// The new token set is in the keychain; metadata not yet updated.
    VaultWritten,
    /// Keychain and metadata are written; the lock is still held.
    MetadataWritten,
}

impl PausePoint {
    /// The name used in the environment variable.
    pub fn name(self) -> &'static str {
        match self {
            Self::Locked => "locked",
            Self::Response => "response",
            Self::VaultWritten => "vault_written",
            Self::MetadataWritten => "metadata_written",
        }
    }
}

/// The configured pauses.
#[derive(Debug, Clone, Default)]
pub struct TestHooks {
    points: Vec<String>,
    pause: Duration,
}

impl TestHooks {
    /// Reads the environment (test builds only; see the module docs).
    pub fn from_env() -> Self {
        #[cfg(not(any(debug_assertions, feature = "test-hooks")))]
        return Self::default();
        #[cfg(any(debug_assertions, feature = "test-hooks"))]
        Self::read_env()
    }

    #[cfg(any(debug_assertions, feature = "test-hooks"))]
    fn read_env() -> Self {
        let points: Vec<String> = std::env::var(PAUSE_AT_ENV)
            .unwrap_or_default()
            .split(',')
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect();
        let ms = std::env::var(PAUSE_MS_ENV)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(5_000);
        Self {
            points,
            pause: Duration::from_millis(ms),
        }
    }

    /// Pauses if `point` was asked for.
    pub async fn at(&self, point: PausePoint) {
        if self.points.iter().any(|p| p == point.name()) {
            eprintln!("reconnect-test-paused {}", point.name());
            tokio::time::sleep(self.pause).await;
        }
    }
}

impl TestHooks {
    /// Pauses if `point` was asked for, from a blocking thread.
    pub fn at_blocking(&self, point: PausePoint) {
        if self.points.iter().any(|p| p == point.name()) {
            eprintln!("reconnect-test-paused {}", point.name());
            std::thread::sleep(self.pause);
        }
    }
}

/// The clock offset from the environment, if any (test builds only).
pub fn clock_offset_from_env() -> Option<i64> {
    #[cfg(not(any(debug_assertions, feature = "test-hooks")))]
    return None;
    #[cfg(any(debug_assertions, feature = "test-hooks"))]
    std::env::var(CLOCK_OFFSET_ENV).ok()?.trim().parse().ok()
}
