//! Spike detection: when several accounts fail with the same code (or the
//! same category) within a window, that is one event with one cause — a
//! tenant-wide password reset, a mass revocation, a new Conditional Access
//! policy, an outage — and it deserves one alert, not one per account.
//!
//! [`detect`] is a pure function over recent failures; [`SpikeTracker`] adds
//! the memory that keeps an ongoing spike from being announced twice.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::decode::Category;
use crate::tokens::UnixTime;

/// One failed refresh, reduced to what spike detection needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailureSample {
    /// The account that failed.
    pub account: String,
    /// The primary AADSTS code, when there was one.
    pub code: Option<u32>,
    /// The decoder's category.
    pub category: Category,
    /// When it failed.
    pub at: UnixTime,
}

/// Tunables. Seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpikeConfig {
    /// Failures older than this are not part of a spike.
    pub window: i64,
    /// Distinct accounts needed for a spike.
    pub min_accounts: usize,
}

impl Default for SpikeConfig {
    fn default() -> Self {
        Self {
            window: 60 * 60,
            min_accounts: 3,
        }
    }
}

/// What the accounts in a spike have in common.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "by", content = "value", rename_all = "snake_case")]
pub enum SpikeKey {
    /// The same AADSTS code.
    Code(u32),
    /// Different codes of the same category.
    Category(Category),
}

/// One alert for many failures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpikeAlert {
    /// The shared code or category.
    pub key: SpikeKey,
    /// The accounts involved, sorted.
    pub accounts: Vec<String>,
    /// The first failure in the window.
    pub first_at: UnixTime,
    /// The latest failure in the window.
    pub last_at: UnixTime,
    /// The likely cause, in plain words.
    pub likely_cause: String,
}

/// Finds the spikes among `samples` within the window ending at `now`.
/// A code spike wins over a category spike for the same failures.
pub fn detect(samples: &[FailureSample], config: &SpikeConfig, now: UnixTime) -> Vec<SpikeAlert> {
    let since = now.saturating_sub(config.window);
    let recent: Vec<&FailureSample> = samples
        .iter()
        .filter(|s| s.at > since && s.at <= now)
        .collect();

    let mut alerts = Vec::new();
    let mut by_code: BTreeMap<u32, Vec<&FailureSample>> = BTreeMap::new();
    for s in &recent {
        if let Some(code) = s.code {
            by_code.entry(code).or_default().push(s);
        }
    }
    let mut covered: BTreeSet<(String, UnixTime)> = BTreeSet::new();
    for (code, group) in by_code {
        if let Some(alert) = alert_for(SpikeKey::Code(code), &group, config) {
            covered.extend(group.iter().map(|s| (s.account.clone(), s.at)));
            alerts.push(alert);
        }
    }

    let mut by_category: BTreeMap<Category, Vec<&FailureSample>> = BTreeMap::new();
    for s in &recent {
        // Failures nobody could classify have nothing in common.
        if !covered.contains(&(s.account.clone(), s.at)) && s.category != Category::Unknown {
            by_category.entry(s.category).or_default().push(s);
        }
    }
    for (category, group) in by_category {
        if let Some(alert) = alert_for(SpikeKey::Category(category), &group, config) {
            alerts.push(alert);
        }
    }
    alerts
}

fn alert_for(key: SpikeKey, group: &[&FailureSample], config: &SpikeConfig) -> Option<SpikeAlert> {
    let accounts: BTreeSet<&str> = group.iter().map(|s| s.account.as_str()).collect();
    if accounts.len() < config.min_accounts.max(2) {
        return None;
    }
    let first_at = group.iter().map(|s| s.at).min()?;
    let last_at = group.iter().map(|s| s.at).max()?;
    let category = group.first().map_or(Category::Unknown, |s| s.category);
    Some(SpikeAlert {
        likely_cause: likely_cause(&key, category).to_owned(),
        accounts: accounts.into_iter().map(str::to_owned).collect(),
        key,
        first_at,
        last_at,
    })
}

/// The most likely shared cause for many accounts failing the same way.
pub fn likely_cause(key: &SpikeKey, category: Category) -> &'static str {
    match key {
        SpikeKey::Code(50173) | SpikeKey::Code(50133) | SpikeKey::Code(50089) => {
            "a tenant-wide password reset or an admin revoking sessions"
        }
        SpikeKey::Code(50076 | 50079 | 50158 | 53003 | 70043 | 50072 | 50074 | 53000) => {
            "a new or changed Conditional Access policy"
        }
        SpikeKey::Code(70008 | 700082) => {
            "connections left idle past the refresh-token limit (the app was not running, or an idle policy was shortened)"
        }
        SpikeKey::Code(65001 | 65004) => "consent for the app was revoked for many users",
        SpikeKey::Code(50057 | 50053) => "user accounts were disabled or locked in bulk",
        SpikeKey::Code(700084 | 7000218 | 9002326 | 50011 | 700016 | 7000215) => {
            "the app registration was changed"
        }
        SpikeKey::Code(_) => cause_for_category(category),
        SpikeKey::Category(c) => cause_for_category(*c),
    }
}

fn cause_for_category(category: Category) -> &'static str {
    match category {
        Category::Service | Category::Throttled | Category::Network => {
            "an outage of the sign-in service or of this machine's network"
        }
        Category::Revoked => "a tenant-wide password reset or mass revocation",
        Category::StepUp | Category::Blocked => "a new or changed Conditional Access policy",
        Category::Consent => "consent for the app was revoked for many users",
        Category::AppRegistration | Category::Request => "the app registration was changed",
        Category::Expired => {
            "connections left idle past the refresh-token limit, or a sign-in frequency policy"
        }
        Category::Account => "user accounts were disabled or locked in bulk",
        _ => "one change affecting many accounts at once (a policy change or a mass revocation)",
    }
}

/// Remembers which spikes were already announced, so an ongoing spike makes
/// one alert. A key is announced again only after a full quiet window.
#[derive(Debug, Clone, Default)]
pub struct SpikeTracker {
    announced: BTreeMap<SpikeKey, UnixTime>,
}

impl SpikeTracker {
    /// Returns the spikes in `samples` that were not announced yet.
    pub fn observe(
        &mut self,
        samples: &[FailureSample],
        config: &SpikeConfig,
        now: UnixTime,
    ) -> Vec<SpikeAlert> {
        let current = detect(samples, config, now);
        let active: BTreeSet<SpikeKey> = current.iter().map(|a| a.key.clone()).collect();
        // Forget spikes that have been quiet for a whole window.
        self.announced
            .retain(|key, last| active.contains(key) || now.saturating_sub(*last) < config.window);
        let mut fresh = Vec::new();
        for alert in current {
            let seen = self.announced.insert(alert.key.clone(), now).is_some();
            if !seen {
                fresh.push(alert);
            }
        }
        fresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixTime = 1_700_000_000;

    fn sample(account: &str, code: Option<u32>, category: Category, ago: i64) -> FailureSample {
        FailureSample {
            account: account.into(),
            code,
            category,
            at: NOW - ago,
        }
    }

    #[test]
    fn three_revocations_within_an_hour_make_one_alert() {
        let samples = vec![
            sample("a", Some(50173), Category::Revoked, 3000),
            sample("b", Some(50173), Category::Revoked, 1200),
            sample("c", Some(50173), Category::Revoked, 10),
        ];
        let alerts = detect(&samples, &SpikeConfig::default(), NOW);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].key, SpikeKey::Code(50173));
        assert_eq!(alerts[0].accounts, vec!["a", "b", "c"]);
        assert!(alerts[0].likely_cause.contains("password reset"));
        assert_eq!(alerts[0].first_at, NOW - 3000);
        assert_eq!(alerts[0].last_at, NOW - 10);
    }

    #[test]
    fn the_same_account_failing_repeatedly_is_not_a_spike() {
        let samples: Vec<_> = (0..10)
            .map(|i| sample("a", Some(50173), Category::Revoked, i))
            .collect();
        assert!(detect(&samples, &SpikeConfig::default(), NOW).is_empty());
    }

    #[test]
    fn failures_outside_the_window_do_not_count() {
        let samples = vec![
            sample("a", Some(50173), Category::Revoked, 4000),
            sample("b", Some(50173), Category::Revoked, 100),
            sample("c", Some(50173), Category::Revoked, 10),
        ];
        assert!(detect(&samples, &SpikeConfig::default(), NOW).is_empty());
    }

    #[test]
    fn different_codes_of_one_category_spike_by_category() {
        let samples = vec![
            sample("a", Some(50076), Category::StepUp, 30),
            sample("b", Some(50079), Category::StepUp, 20),
            sample("c", Some(50158), Category::StepUp, 10),
        ];
        let alerts = detect(&samples, &SpikeConfig::default(), NOW);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].key, SpikeKey::Category(Category::StepUp));
        assert!(alerts[0].likely_cause.contains("Conditional Access"));
    }

    #[test]
    fn a_code_spike_is_not_announced_again_as_its_category() {
        let samples = vec![
            sample("a", Some(53003), Category::Blocked, 30),
            sample("b", Some(53003), Category::Blocked, 20),
            sample("c", Some(53003), Category::Blocked, 10),
        ];
        let alerts = detect(&samples, &SpikeConfig::default(), NOW);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].key, SpikeKey::Code(53003));
    }

    #[test]
    fn transient_outage_across_accounts_is_named() {
        let samples = vec![
            sample("a", None, Category::Service, 30),
            sample("b", None, Category::Service, 20),
            sample("c", None, Category::Service, 10),
        ];
        let alerts = detect(&samples, &SpikeConfig::default(), NOW);
        assert_eq!(alerts.len(), 1);
        assert!(alerts[0].likely_cause.contains("outage"));
    }

    #[test]
    fn tracker_announces_an_ongoing_spike_once() {
        let cfg = SpikeConfig::default();
        let mut tracker = SpikeTracker::default();
        let mut samples = vec![
            sample("a", Some(50173), Category::Revoked, 30),
            sample("b", Some(50173), Category::Revoked, 20),
        ];
        assert!(tracker.observe(&samples, &cfg, NOW).is_empty());
        samples.push(sample("c", Some(50173), Category::Revoked, 10));
        assert_eq!(tracker.observe(&samples, &cfg, NOW).len(), 1);
        samples.push(sample("d", Some(50173), Category::Revoked, 0));
        assert!(
            tracker.observe(&samples, &cfg, NOW).is_empty(),
            "no second alert"
        );
        // After a quiet window, a new wave is a new alert.
        let later = NOW + 2 * cfg.window;
        assert!(tracker.observe(&samples, &cfg, later).is_empty());
        let wave: Vec<_> = ["x", "y", "z"]
            .iter()
            .map(|a| FailureSample {
                account: (*a).into(),
                code: Some(50173),
                category: Category::Revoked,
                at: later + 5,
            })
            .collect();
        assert_eq!(tracker.observe(&wave, &cfg, later + 5).len(), 1);
    }
}
