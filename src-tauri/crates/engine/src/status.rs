//! The one read model: what `reconnect status`, the app's cards, its
//! dashboard summary and its tray all show. Per account: its health,
//! whether it needs a person (decided once, by the core), forecast, last
//! failure (the decoder's verdict), next attempt, unsaved credentials; across
//! accounts: the counts and the failure spikes. Also the history of attempts.

use std::sync::Arc;

use std::collections::BTreeMap;

use reconnect_core::decode::Verdict;
use reconnect_core::forecast::Forecast;
use reconnect_core::health::{Health, HealthState, Standing};
use reconnect_core::spike::{self, FailureSample, SpikeAlert};
use reconnect_core::tokens::UnixTime;
use reconnect_store::{Event, EventQuery};
use serde::Serialize;

use crate::engine::Engine;
use crate::error::EngineError;
use crate::notify::EngineEvent;
use crate::records;
use crate::snapshot::Snapshot;

/// The state of one account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountStatus {
    /// The account's name.
    pub name: String,
    /// Its health, e.g. `{"state": "retrying", "next_attempt": …}`.
    pub health: Health,
    /// Where it stands: needs attention, retrying or healthy
    /// ([`Standing::of`]).
    pub standing: Standing,
    /// Whether a person has to act (`standing` is `needs_attention`).
    pub needs_attention: bool,
    /// When it dies if untouched, why, and when the keep-alive runs.
    pub forecast: Forecast,
    /// The last failure: the decoder's verdict (as `reconnect decode --json`
    /// prints it).
    pub last_failure: Option<Verdict>,
    /// When the last failure happened.
    pub last_failure_at: Option<UnixTime>,
    /// When the engine tries next on its own (a retry or a keep-alive).
    pub next_attempt: Option<UnixTime>,
    /// When the access token expires.
    pub access_expires_at: Option<UnixTime>,
    /// When the refresh token was last redeemed.
    pub last_refresh: Option<UnixTime>,
    /// When this chain of refresh tokens began.
    pub refresh_issued_at: Option<UnixTime>,
    /// Whether new tokens are held that the keychain refused (by this
    /// process, or recorded by another one until a later save).
    pub unsaved_credentials: bool,
}

/// Every account's status and what they add up to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overview {
    /// The engine's "now".
    pub now: UnixTime,
    /// One status per account, by name.
    pub accounts: Vec<AccountStatus>,
    /// How many accounts need a person (the tray's count).
    pub needs_attention: usize,
    /// How many are retrying (or refreshing) with nothing to do yet.
    pub retrying: usize,
    /// How many work.
    pub healthy: usize,
    /// How many accounts are in each state.
    pub by_state: BTreeMap<HealthState, usize>,
    /// Failure spikes going on now.
    pub spikes: Vec<SpikeAlert>,
}

impl Engine {
    /// The status of one account (`Some(name)`) or all of them.
    pub async fn status(&self, name: Option<&str>) -> Result<Vec<AccountStatus>, EngineError> {
        let snaps = match name {
            Some(n) => vec![self.snapshot(n).await?],
            None => self.snapshots().await?,
        };
        let now = self.now();
        Ok(snaps.iter().map(|s| self.status_of(s, now)).collect())
    }

    /// Every account's status, the counts, and the spikes.
    pub async fn overview(&self) -> Result<Overview, EngineError> {
        self.overview_of(None).await
    }

    /// The overview of one account (`Some(name)`: its counts are its own),
    /// or of all of them.
    pub async fn overview_of(&self, name: Option<&str>) -> Result<Overview, EngineError> {
        let accounts = self.status(name).await?;
        let mut by_state = BTreeMap::new();
        for a in &accounts {
            *by_state.entry(a.health.state()).or_insert(0) += 1;
        }
        let count = |standing| accounts.iter().filter(|a| a.standing == standing).count();
        Ok(Overview {
            now: self.now(),
            needs_attention: count(Standing::NeedsAttention),
            retrying: count(Standing::Retrying),
            healthy: count(Standing::Healthy),
            by_state,
            spikes: self.spikes().await?,
            accounts,
        })
    }

    fn status_of(&self, snap: &Snapshot, now: UnixTime) -> AccountStatus {
        let forecast =
            records::forecast_for(&self.inner.config, snap.facts.as_ref(), &snap.learned, now);
        let (health, failure) = self.health_of(snap, now);
        let next_attempt = match health {
            Health::Retrying { next_attempt, .. } | Health::Unreachable { next_attempt, .. } => {
                Some(next_attempt)
            }
            Health::Healthy | Health::ExpiringSoon { .. } => forecast.keep_alive_at,
            _ => None,
        };
        let name = &snap.account.name;
        let unsaved_credentials = self.holds_unsaved(name)
            || snap
                .health
                .as_ref()
                .is_some_and(|h| h.unsaved_since.is_some());
        let standing = Standing::of(health.state(), unsaved_credentials);
        AccountStatus {
            name: name.clone(),
            standing,
            needs_attention: standing == Standing::NeedsAttention,
            health,
            forecast,
            last_failure: failure.as_ref().map(|f| f.verdict.clone()),
            last_failure_at: failure.as_ref().and_then(|f| f.failed_at()),
            next_attempt,
            access_expires_at: snap.facts.as_ref().and_then(|f| f.access_expires_at),
            last_refresh: snap.facts.as_ref().and_then(|f| f.refresh_last_used_at),
            refresh_issued_at: snap.facts.as_ref().and_then(|f| f.refresh_issued_at),
            unsaved_credentials,
        }
    }

    /// Recorded attempts, newest first: of one account or all, since a time.
    pub async fn events(
        &self,
        name: Option<&str>,
        since: Option<UnixTime>,
        limit: u32,
    ) -> Result<Vec<Event>, EngineError> {
        let store = Arc::clone(&self.inner.store);
        let name = name.map(str::to_owned);
        tokio::task::spawn_blocking(move || {
            let account = match name {
                Some(n) => Some(
                    store
                        .find_account(&n)?
                        .ok_or(EngineError::UnknownAccount { name: n })?
                        .id,
                ),
                None => None,
            };
            Ok(store.events(&EventQuery {
                account,
                since,
                failures_only: false,
                limit: Some(limit),
            })?)
        })
        .await?
    }

    /// Recent refresh failures across all accounts, for spike detection.
    async fn recent_failures(&self, now: UnixTime) -> Result<Vec<FailureSample>, EngineError> {
        let store = Arc::clone(&self.inner.store);
        let since = now.saturating_sub(self.inner.config.spike.window);
        let events = tokio::task::spawn_blocking(move || {
            store.events(&EventQuery {
                account: None,
                since: Some(since),
                failures_only: true,
                limit: Some(5_000),
            })
        })
        .await??;
        Ok(events
            .into_iter()
            .filter(|e| e.event.kind == reconnect_store::events::EventKind::Refresh)
            .filter_map(|e| {
                let account = e.event.account_name.clone()?;
                let code = e
                    .event
                    .code
                    .as_deref()
                    .and_then(|c| c.trim_start_matches("AADSTS").parse::<u32>().ok());
                Some(FailureSample {
                    account,
                    code,
                    category: e.event.category.unwrap_or_default(),
                    at: e.event.at,
                })
            })
            .collect())
    }

    /// The spikes going on now (for the admin view and `reconnect status`).
    pub async fn spikes(&self) -> Result<Vec<SpikeAlert>, EngineError> {
        let now = self.now();
        let samples = self.recent_failures(now).await?;
        Ok(spike::detect(&samples, &self.inner.config.spike, now))
    }

    /// Announces spikes not announced yet by this engine.
    pub(crate) async fn check_spikes(&self, now: UnixTime) {
        let samples = match self.recent_failures(now).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "could not read recent failures for spike detection");
                return;
            }
        };
        let fresh = {
            let mut tracker = self
                .inner
                .spikes
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            tracker.observe(&samples, &self.inner.config.spike, now)
        };
        for alert in fresh {
            tracing::warn!(cause = %alert.likely_cause, accounts = alert.accounts.len(), "failure spike");
            self.emit(EngineEvent::Spike(alert));
        }
    }
}
