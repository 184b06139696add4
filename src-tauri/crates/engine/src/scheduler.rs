//! The background scheduler the desktop app runs: keep-alive refreshes well
//! before the idle limit, retries when their time comes, "expiring soon"
//! updates from the forecast, and another try at saving tokens the keychain
//! refused. It reads the persisted health on every tick, so work scheduled by
//! any process (the app or a CLI run) is picked up, and a stopped account
//! ("reconnect needed", "needs admin", "app misconfigured") is left alone.
//!
//! Time is the engine's clock, so tests drive a whole 90-day life by moving a
//! virtual clock and calling [`Engine::tick`]. The loop in
//! [`Engine::run_scheduler`] also watches for wall-clock jumps (sleep/wake, a
//! changed system time) and runs overdue work at once when it sees one.

use std::future::Future;
use std::sync::Arc;

use reconnect_core::health::{self, Health, HealthEvent};
use serde::Serialize;

use crate::clock::JumpDetector;
use crate::engine::Engine;
use crate::error::EngineError;
use crate::records;
use crate::refresh::Mode;

/// What one scheduler tick did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TickReport {
    /// Accounts refreshed (keep-alive or retry) successfully.
    pub refreshed: Vec<String>,
    /// Accounts whose background refresh failed, with the reason.
    pub failed: Vec<(String, String)>,
    /// Accounts whose health changed because of the forecast.
    pub forecast_changed: Vec<String>,
    /// Accounts whose in-memory tokens were finally saved.
    pub saved: Vec<String>,
}

impl Engine {
    /// Runs everything that is due at the engine's "now".
    pub async fn tick(&self) -> Result<TickReport, EngineError> {
        let mut report = TickReport {
            saved: self.save_unsaved().await,
            ..TickReport::default()
        };
        let store = Arc::clone(&self.inner.store);
        let accounts = tokio::task::spawn_blocking(move || store.accounts()).await??;
        for account in accounts {
            let name = account.name;
            let now = self.now();
            let Ok(snap) = self.snapshot(&name).await else {
                continue; // removed meanwhile
            };
            let (health, failure) = self.health_of(&snap, now);
            let forecast =
                records::forecast_for(&self.inner.config, snap.facts.as_ref(), &snap.learned, now);

            let mut current = health;
            if matches!(health, Health::Healthy | Health::ExpiringSoon { .. }) {
                let (to, actions) = health::transition(
                    &self.inner.config.retry,
                    health,
                    HealthEvent::ForecastChanged {
                        expiring_deadline: forecast.expiring_deadline,
                    },
                    now,
                );
                if to.state() != health.state() {
                    let store = Arc::clone(&self.inner.store);
                    let id = snap.account.id;
                    let kept = failure.map(|f| records::stored_failure(&to, &f));
                    let state = to.state();
                    tokio::task::spawn_blocking(move || store.set_health(id, state, kept.as_ref()))
                        .await??;
                    self.apply(&name, health, to, &actions);
                    report.forecast_changed.push(name.clone());
                }
                current = to;
            }

            // Tokens another process got but could not save are lost with
            // it: refresh now, so a set is stored again (or the account is
            // found broken, which is then the truth).
            let orphaned = snap
                .health
                .as_ref()
                .is_some_and(|h| h.unsaved_since.is_some())
                && !self.has_unsaved_credentials(&name).await;
            let due = match current {
                Health::Retrying { next_attempt, .. } => Some(next_attempt),
                Health::Healthy | Health::ExpiringSoon { .. } if orphaned => Some(now),
                Health::Healthy | Health::ExpiringSoon { .. } => forecast.keep_alive_at,
                _ => None,
            };
            if due.is_some_and(|at| at <= now) {
                match self.obtain(&name, Mode::Background).await {
                    Ok(_) => report.refreshed.push(name),
                    Err(EngineError::Deferred { .. }) => {}
                    Err(e) => report.failed.push((name, e.to_string())),
                }
            }
        }
        // Failures recorded by other processes (CLI runs) count too.
        self.check_spikes(self.now()).await;
        Ok(report)
    }

    /// Runs the scheduler until `shutdown` completes: a tick every
    /// `scheduler_poll`, and at once after a wall-clock jump.
    pub async fn run_scheduler(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut detector = JumpDetector::new(self.now(), self.inner.config.jump_tolerance);
        loop {
            if let Some(jump) = detector.check(self.now()) {
                tracing::info!(
                    seconds = jump,
                    "wall clock jumped (sleep/wake or time change); running overdue work now"
                );
            }
            if let Err(e) = self.tick().await {
                tracing::warn!(error = %e, "scheduler tick failed");
            }
            tokio::select! {
                () = tokio::time::sleep(self.inner.config.scheduler_poll) => {}
                () = &mut shutdown => break,
            }
        }
    }
}
