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
//! - `RECONNECT_TEST_CLOCK_FILE=<path>`: like the offset, but read from the
//!   file (a number of seconds) every time the engine asks for "now", so a
//!   test can move a running keeper's clock along with the simulator's. A
//!   missing or half-written file keeps the last offset read. Wins over
//!   `RECONNECT_TEST_CLOCK_OFFSET`.
//! - `RECONNECT_TEST_POLL_MS=<ms>`: the scheduler looks for due work this
//!   often instead of every 30 s, and after each round prints
//!   `reconnect-test-tick <now>` on stderr (`now`: the engine's time when the
//!   round began), so a test knows the keeper has seen a time it set.
//!
//! Only debug builds (what the tests run) and builds with the `test-hooks`
//! feature (the benchmarks) read them: in a normal release build the reading
//! code is compiled out, so no environment can pause a user's refresh or
//! move their clock.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;

/// Environment variable naming the pause points.
pub const PAUSE_AT_ENV: &str = "RECONNECT_TEST_PAUSE_AT";
/// Environment variable with the pause length in milliseconds.
pub const PAUSE_MS_ENV: &str = "RECONNECT_TEST_PAUSE_MS";
/// Environment variable with a clock offset in seconds.
pub const CLOCK_OFFSET_ENV: &str = "RECONNECT_TEST_CLOCK_OFFSET";
/// Environment variable naming a file that holds a clock offset in seconds.
pub const CLOCK_FILE_ENV: &str = "RECONNECT_TEST_CLOCK_FILE";
/// Environment variable with the scheduler's poll interval in milliseconds.
pub const POLL_MS_ENV: &str = "RECONNECT_TEST_POLL_MS";

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

/// The configured pauses and scheduler pace.
#[derive(Debug, Clone, Default)]
pub struct TestHooks {
    points: Vec<String>,
    pause: Duration,
    poll: Option<Duration>,
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
        let poll = std::env::var(POLL_MS_ENV)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .map(Duration::from_millis);
        Self {
            points,
            pause: Duration::from_millis(ms),
            poll,
        }
    }

    /// The scheduler's poll interval a test asked for, if any.
    pub fn poll(&self) -> Option<Duration> {
        self.poll
    }

    /// Tells a test that a scheduler round that began at `now` is over.
    pub fn ticked(&self, now: i64) {
        if self.poll.is_some() {
            eprintln!("reconnect-test-tick {now}");
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

/// The clock a test asked for, if any (test builds only): the file clock,
/// else the fixed offset.
pub fn clock_from_env() -> Option<Arc<dyn Clock>> {
    #[cfg(not(any(debug_assertions, feature = "test-hooks")))]
    return None;
    #[cfg(any(debug_assertions, feature = "test-hooks"))]
    {
        if let Some(path) = std::env::var_os(CLOCK_FILE_ENV) {
            return Some(Arc::new(file_clock::FileClock::new(path.into())));
        }
        let offset = clock_offset_from_env()?;
        Some(Arc::new(crate::clock::OffsetClock::new(offset)))
    }
}

/// The clock offset from the environment, if any (test builds only).
pub fn clock_offset_from_env() -> Option<i64> {
    #[cfg(not(any(debug_assertions, feature = "test-hooks")))]
    return None;
    #[cfg(any(debug_assertions, feature = "test-hooks"))]
    std::env::var(CLOCK_OFFSET_ENV).ok()?.trim().parse().ok()
}

#[cfg(any(debug_assertions, feature = "test-hooks"))]
mod file_clock {
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicI64, Ordering};

    use reconnect_core::tokens::UnixTime;

    use crate::clock::{Clock, SystemClock};

    /// The system clock shifted by the offset a file holds, re-read on every
    /// call (see the module docs).
    #[derive(Debug)]
    pub(super) struct FileClock {
        path: PathBuf,
        last: AtomicI64,
    }

    impl FileClock {
        pub(super) fn new(path: PathBuf) -> Self {
            Self {
                path,
                last: AtomicI64::new(0),
            }
        }
    }

    impl Clock for FileClock {
        fn now(&self) -> UnixTime {
            let read = std::fs::read_to_string(&self.path)
                .ok()
                .and_then(|text| text.trim().parse::<i64>().ok());
            let offset = match read {
                Some(offset) => {
                    self.last.store(offset, Ordering::SeqCst);
                    offset
                }
                None => self.last.load(Ordering::SeqCst),
            };
            SystemClock.now().saturating_add(offset)
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_file_moves_the_clock_and_a_bad_file_keeps_the_last_offset() {
            let dir = tempfile::tempdir().expect("dir");
            let path = dir.path().join("offset");
            let clock = FileClock::new(path.clone());
            let diff = || clock.now() - SystemClock.now();
            assert!((-1..=1).contains(&diff()), "no file: no offset");
            std::fs::write(&path, "86400\n").expect("write");
            assert!((86_399..=86_401).contains(&diff()), "{}", diff());
            std::fs::write(&path, "86").expect("half-written");
            assert!((85..=87).contains(&diff()), "{}", diff());
            std::fs::write(&path, "").expect("empty");
            assert!((85..=87).contains(&diff()), "{}", diff());
        }
    }
}
