//! The background scheduler a keeper runs (the desktop app or `reconnect
//! keep`): keep-alive refreshes well before the idle limit, retries when
//! their time comes, "expiring soon" updates from the forecast, and another
//! try at saving tokens the keychain refused. It reads the persisted health on every tick, so work scheduled by
//! any process (the app or a CLI run) is picked up, and a stopped account
//! ("reconnect needed", "needs admin", "app misconfigured") is left alone.
//!
//! Time is the engine's clock, so tests drive a whole 90-day life by moving a
//! virtual clock and calling [`Engine::tick`]. The loop in
//! [`Engine::run_scheduler`] also watches for wall-clock jumps (sleep/wake, a
//! changed system time) and runs overdue work at once when it sees one;
//! [`Engine::keep`] is the same loop with an observer and a bounded stop.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use reconnect_core::health::{self, Health, HealthEvent};
use reconnect_core::tokens::UnixTime;
use serde::Serialize;

use crate::clock::JumpDetector;
use crate::engine::Engine;
use crate::error::EngineError;
use crate::records;
use crate::refresh::Mode;
use crate::snapshot::Snapshot;

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
            self.follow_outside_change(&name, health).await;
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

            let due = self
                .background_due(&snap, current, forecast.keep_alive_at, now)
                .await;
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

    /// Announces a health another process wrote (a sign-in or a forced
    /// refresh that fixed the account, a failure it met) as if this engine
    /// had seen it happen: listeners of a keeper hear "recovered" when the
    /// user reconnects with `reconnect signin` beside it. The first look at
    /// an account only records its health; a refresh of ours under way (its
    /// slot locked) or one in flight elsewhere (`refreshing`) is left alone.
    async fn follow_outside_change(&self, name: &str, health: Health) {
        let slot = self.slot(name);
        let last = {
            let Ok(mut state) = slot.state.try_lock() else {
                return;
            };
            match state.last_health {
                None => {
                    state.last_health = Some(health);
                    return;
                }
                Some(last) => last,
            }
        };
        let refreshing = |h: &Health| matches!(h, Health::Refreshing { .. });
        if last == health || refreshing(&last) || refreshing(&health) {
            return;
        }
        if let Err(e) = self.account_changed(name).await {
            tracing::debug!(error = %e, "could not follow another process's change of {name}");
        }
    }

    /// When the background should refresh an account next, if at all.
    async fn background_due(
        &self,
        snap: &Snapshot,
        current: Health,
        keep_alive_at: Option<UnixTime>,
        now: UnixTime,
    ) -> Option<UnixTime> {
        // Tokens another process got but could not save are lost with it:
        // refresh now, so a set is stored again (or the account is found
        // broken, which is then the truth).
        let orphaned = snap
            .health
            .as_ref()
            .is_some_and(|h| h.unsaved_since.is_some())
            && !self.has_unsaved_credentials(&snap.account.name).await;
        // An imported refresh token has no history: its idle clock is
        // unknown, so no keep-alive could ever be forecast. Refresh it now;
        // from then on the forecast knows.
        let unknown = snap
            .facts
            .as_ref()
            .is_some_and(|f| f.refresh_last_used_at.is_none() && f.refresh_issued_at.is_none());
        match current {
            Health::Retrying { next_attempt, .. } | Health::Unreachable { next_attempt, .. } => {
                Some(next_attempt)
            }
            Health::Healthy | Health::ExpiringSoon { .. } if orphaned || unknown => Some(now),
            Health::Healthy | Health::ExpiringSoon { .. } => keep_alive_at,
            _ => None,
        }
    }

    /// Runs the scheduler until `shutdown` completes: a tick every
    /// `scheduler_poll`, and at once after a wall-clock jump. A tick under
    /// way when `shutdown` completes is finished first.
    pub async fn run_scheduler(&self, shutdown: impl Future<Output = ()>) {
        self.keep(shutdown, None, |_| {}).await;
    }

    /// The scheduler loop of a keeper ([`Engine::run_scheduler`]), telling
    /// `observe` about every round and clock jump. When `shutdown` completes
    /// during a round, the round may finish within `grace` (`None`: however
    /// long it takes); after that it is abandoned, which is as safe as a
    /// crash at that point: a refresh's lock is released and what was stored
    /// before stays the truth.
    pub async fn keep(
        &self,
        shutdown: impl Future<Output = ()>,
        grace: Option<Duration>,
        mut observe: impl FnMut(Round<'_>),
    ) -> Stop {
        tokio::pin!(shutdown);
        let mut detector = JumpDetector::new(self.now(), self.inner.config.jump_tolerance);
        loop {
            let began = self.now();
            if let Some(jump) = detector.check(began) {
                tracing::info!(
                    seconds = jump,
                    "wall clock jumped (sleep/wake or time change); running overdue work now"
                );
                observe(Round::ClockJumped { seconds: jump });
            }
            let tick = self.tick();
            tokio::pin!(tick);
            let (result, stopping) = tokio::select! {
                result = &mut tick => (result, false),
                () = &mut shutdown => match grace {
                    None => (tick.await, true),
                    Some(grace) => match tokio::time::timeout(grace, tick).await {
                        Ok(result) => (result, true),
                        Err(_) => return Stop::Abandoned,
                    },
                },
            };
            self.report_round(began, &result, &mut observe);
            if stopping {
                return Stop::Finished;
            }
            tokio::select! {
                () = tokio::time::sleep(self.inner.config.scheduler_poll) => {}
                () = &mut shutdown => return Stop::Finished,
            }
        }
    }

    fn report_round(
        &self,
        began: UnixTime,
        result: &Result<TickReport, EngineError>,
        observe: &mut impl FnMut(Round<'_>),
    ) {
        match result {
            Ok(report) => observe(Round::Ticked(report)),
            Err(e) => {
                tracing::warn!(error = %e, "scheduler tick failed");
                observe(Round::Failed(e));
            }
        }
        self.inner.hooks.ticked(began);
    }
}

/// What one turn of the scheduler loop saw, for its observer.
#[derive(Debug)]
pub enum Round<'a> {
    /// The wall clock moved this many seconds more than the monotonic clock
    /// (sleep/wake, a changed time); overdue work runs now.
    ClockJumped {
        /// The size of the jump (negative: backwards).
        seconds: i64,
    },
    /// A tick ran.
    Ticked(&'a TickReport),
    /// A tick could not run (the database could not be read).
    Failed(&'a EngineError),
}

/// How the scheduler loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Between rounds, or after the round under way finished.
    Finished,
    /// The round under way did not finish within the grace and was dropped.
    Abandoned,
}
