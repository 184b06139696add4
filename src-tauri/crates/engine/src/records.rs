//! Reading and writing what the engine persists in the store: the health
//! state with its failure record, the token facts, and the forecast inputs.
//!
//! The health row keeps the state ([`HealthState`]) and, as `last_failure`,
//! a [`FailureRecord`]; the details of a `retrying` or `unreachable` state
//! (next attempt, failure streak with its run of network trouble) live in
//! that record.

use reconnect_core::failure::FailureRecord;
use reconnect_core::forecast::{self, Forecast, Lifetimes, RefreshTokenFacts};
use reconnect_core::health::{Health, HealthState};
use reconnect_core::policy::FailureClass;
use reconnect_core::tokens::UnixTime;
use reconnect_store::{Account, HealthRecord, TokenFacts};

use crate::config::EngineConfig;
use crate::learned::LearnedLifetimes;

/// Health as stored, turned back into a state and its failure record.
pub(crate) fn load_health(
    record: Option<&HealthRecord>,
    has_tokens: bool,
    forecast: &Forecast,
    now: UnixTime,
) -> (Health, Option<FailureRecord>) {
    let failure = record.and_then(|r| r.last_failure.clone());
    let fallback = if has_tokens {
        Health::Healthy
    } else {
        Health::NeverConnected
    };
    let Some(record) = record else {
        return (fallback, None);
    };
    let next_attempt = failure.as_ref().and_then(|f| f.next_attempt).unwrap_or(now);
    let streak = failure.as_ref().map(|f| f.streak).unwrap_or_default();
    let health = match record.state {
        HealthState::Retrying => Health::Retrying {
            next_attempt,
            streak,
        },
        HealthState::Unreachable => Health::Unreachable {
            next_attempt,
            streak,
        },
        HealthState::ExpiringSoon => Health::ExpiringSoon {
            deadline: forecast.expiring_deadline.unwrap_or(now),
        },
        HealthState::ReconnectNeeded => Health::ReconnectNeeded,
        HealthState::NeedsAdmin => Health::NeedsAdmin,
        HealthState::AppMisconfigured => Health::AppMisconfigured,
        // "healthy", "never connected", or a "refreshing" left by a process
        // that died mid-refresh: the tokens decide.
        HealthState::Healthy | HealthState::NeverConnected | HealthState::Refreshing => fallback,
    };
    (health, failure)
}

/// The failure record kept with `health`: the retry details of a state
/// that waits for a retry are copied in, other states keep none.
pub(crate) fn stored_failure(health: &Health, failure: &FailureRecord) -> FailureRecord {
    let mut failure = failure.clone();
    failure.next_attempt = health.next_attempt();
    if failure.next_attempt.is_some() {
        failure.streak = health.streak();
    }
    failure
}

/// The forecast inputs from the stored facts.
pub(crate) fn facts_for_forecast(facts: Option<&TokenFacts>) -> RefreshTokenFacts {
    facts
        .map(|f| RefreshTokenFacts {
            first_issued_at: f.refresh_issued_at,
            last_used_at: f.refresh_last_used_at,
            spa: f.spa,
        })
        .unwrap_or_default()
}

/// The lifetimes that apply to an account: the configured defaults with
/// anything learned from its past failures.
pub(crate) fn lifetimes_for(config: &EngineConfig, learned: &LearnedLifetimes) -> Lifetimes {
    config
        .lifetimes
        .with_learned(learned.idle_limit(), learned.sign_in_frequency())
}

/// The forecast for an account.
pub(crate) fn forecast_for(
    config: &EngineConfig,
    facts: Option<&TokenFacts>,
    learned: &LearnedLifetimes,
    now: UnixTime,
) -> Forecast {
    forecast::forecast(
        &facts_for_forecast(facts),
        &lifetimes_for(config, learned),
        &config.forecast,
        now,
    )
}

/// Identifies a refresh request without any secret: the account's client,
/// scope and endpoint, and which refresh token of the chain it redeems
/// (rotation count and when it was stored).
pub(crate) fn fingerprint(account: &Account, facts: Option<&TokenFacts>) -> String {
    let (rotation, stored) = facts.map_or((0, 0), |f| (f.rotation_count, f.stored_at));
    format!(
        "{}|{}|{}|{}|r{rotation}|s{stored}",
        account.authority,
        account.tenant.as_deref().unwrap_or(""),
        account.client_id,
        account.scope_string(),
    )
}

/// When a new attempt may be sent after `failure`, if it is still too soon.
pub(crate) fn deferred_until(
    config: &EngineConfig,
    failure: &FailureRecord,
    fingerprint: &str,
    now: UnixTime,
) -> Option<UnixTime> {
    let guard = reconnect_core::policy::FailedRequest {
        fingerprint: failure.fingerprint.clone(),
        failed_at: failure.failed_at,
    };
    let floor = guard.blocks_until(&config.retry, fingerprint, now);
    let server = match failure.class {
        FailureClass::Transient {
            retry_after: Some(seconds),
        } => {
            let until = failure
                .failed_at
                .saturating_add(seconds.clamp(0, config.retry.max_retry_after));
            (now < until).then_some(until)
        }
        _ => None,
    };
    match (floor, server) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reconnect_core::decode;
    use reconnect_core::policy::Streak;

    fn record(class: FailureClass) -> FailureRecord {
        let mut failure = FailureRecord::new(decode::decode_code(90033), 1000, "fp".into());
        failure.class = class;
        failure
    }

    #[test]
    fn a_retrying_or_unreachable_state_survives_the_round_trip() {
        let failure = record(FailureClass::Transient { retry_after: None });
        let streak = Streak {
            transient: 3,
            ..Streak::default()
        };
        let run = reconnect_core::policy::NetworkRun {
            since: 100,
            last: 4000,
            attempts: 3,
        };
        for health in [
            Health::Retrying {
                next_attempt: 500,
                streak,
            },
            Health::Unreachable {
                next_attempt: 4900,
                streak: Streak {
                    network: Some(run),
                    ..streak
                },
            },
        ] {
            let record = HealthRecord {
                state: health.state(),
                last_failure: Some(stored_failure(&health, &failure)),
                unsaved_since: None,
                updated_at: 0,
            };
            let forecast = forecast::forecast(
                &RefreshTokenFacts::default(),
                &Lifetimes::default(),
                &Default::default(),
                0,
            );
            let (back, f) = load_health(Some(&record), true, &forecast, 0);
            assert_eq!(back, health);
            assert_eq!(f.unwrap().failed_at, 1000);
        }
    }

    #[test]
    fn retry_after_defers_beyond_the_sixty_second_floor() {
        let config = EngineConfig::default();
        let failure = record(FailureClass::Transient {
            retry_after: Some(300),
        });
        assert_eq!(deferred_until(&config, &failure, "fp", 1010), Some(1300));
        assert_eq!(deferred_until(&config, &failure, "other", 1100), Some(1300));
        assert_eq!(deferred_until(&config, &failure, "fp", 1300), None);
    }
}
