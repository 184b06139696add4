//! The engine's tunables, with the defaults the product ships.

use std::time::Duration;

use reconnect_core::forecast::{ForecastConfig, Lifetimes};
use reconnect_core::policy::RetryConfig;
use reconnect_core::spike::SpikeConfig;

/// Everything an [`Engine`](crate::Engine) can be tuned with.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Refresh when the access token expires within this many seconds.
    pub refresh_margin: i64,
    /// Backoff and retry rules.
    pub retry: RetryConfig,
    /// Keep-alive and "expiring soon" rules.
    pub forecast: ForecastConfig,
    /// Lifetimes assumed until learned otherwise (90-day idle, 24 h SPA).
    pub lifetimes: Lifetimes,
    /// When several accounts failing alike is a spike.
    pub spike: SpikeConfig,
    /// How long to wait for another process's refresh lock.
    pub lock_timeout: Duration,
    /// How often the background scheduler wakes up at most.
    pub scheduler_poll: Duration,
    /// A wall-clock move this much beyond the monotonic clock counts as a
    /// sleep/wake or a clock change.
    pub jump_tolerance: Duration,
    /// How many times a failed keychain write is retried before the new
    /// tokens are kept in memory only ("unsaved credentials").
    pub persist_attempts: u32,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            refresh_margin: 5 * 60,
            retry: RetryConfig::default(),
            forecast: ForecastConfig::default(),
            lifetimes: Lifetimes::default(),
            spike: SpikeConfig::default(),
            lock_timeout: Duration::from_secs(90),
            scheduler_poll: Duration::from_secs(30),
            jump_tolerance: Duration::from_secs(60),
            persist_attempts: 3,
        }
    }
}
