//! Reading and writing what the engine persists in the store: the health
//! state with its failure record, the token facts, and the forecast inputs.
//!
//! The health row keeps the state's name (as `reconnect_core::health` spells
//! it) and, as `last_failure`, a [`FailureRecord`]; the details of a
//! `retrying` state (next attempt, failure streak) live in that record.

use reconnect_core::forecast::{self, Forecast, Lifetimes, RefreshTokenFacts};
use reconnect_core::health::Health;
use reconnect_core::policy::{FailureClass, Streak};
use reconnect_core::tokens::UnixTime;
use reconnect_store::{Account, HealthRecord, TokenFacts};
use serde_json::Value;

use crate::config::EngineConfig;
use crate::failure::FailureRecord;
use crate::learned::LearnedLifetimes;

/// Health as stored, turned back into a state and its failure record.
pub(crate) fn load_health(
    record: Option<&HealthRecord>,
    has_tokens: bool,
    forecast: &Forecast,
    now: UnixTime,
) -> (Health, Option<FailureRecord>) {
    let failure = record
        .and_then(|r| r.last_failure.as_ref())
        .map(FailureRecord::from_stored);
    let Some(record) = record else {
        let health = if has_tokens {
            Health::Healthy
        } else {
            Health::NeverConnected
        };
        return (health, None);
    };
    let health = match record.state.as_str() {
        "never_connected" if !has_tokens => Health::NeverConnected,
        "retrying" => Health::Retrying {
            next_attempt: failure.as_ref().and_then(|f| f.next_attempt).unwrap_or(now),
            streak: failure.as_ref().map(|f| f.streak).unwrap_or_default(),
        },
        "expiring_soon" => Health::ExpiringSoon {
            deadline: forecast.expiring_deadline.unwrap_or(now),
        },
        "reconnect_needed" => Health::ReconnectNeeded,
        "needs_admin" => Health::NeedsAdmin,
        "app_misconfigured" => Health::AppMisconfigured,
        // "healthy", a "refreshing" left by a process that died mid-refresh,
        // or anything unknown: the tokens decide.
        _ if has_tokens => Health::Healthy,
        _ => Health::NeverConnected,
    };
    (health, failure)
}

/// The JSON stored as `last_failure` for `health`.
pub(crate) fn failure_json(health: &Health, failure: Option<&FailureRecord>) -> Option<Value> {
    let mut failure = failure.cloned()?;
    if let Health::Retrying {
        next_attempt,
        streak,
    } = health
    {
        failure.next_attempt = Some(*next_attempt);
        failure.streak = *streak;
    } else {
        failure.next_attempt = None;
    }
    serde_json::to_value(failure).ok()
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

impl FailureRecord {
    /// Reads a stored `last_failure`: a record written by the engine, or a
    /// bare verdict written by someone else (e.g. a failed sign-in).
    pub fn from_stored(value: &Value) -> Self {
        if value.get("verdict").is_some()
            && let Ok(record) = serde_json::from_value::<FailureRecord>(value.clone())
        {
            return record;
        }
        Self {
            verdict: value.clone(),
            class: class_from_json(value),
            failed_at: 0,
            fingerprint: String::new(),
            streak: Streak::default(),
            next_attempt: None,
        }
    }
}

/// The policy class of a verdict given as JSON (the decoder's keys).
pub(crate) fn class_from_json(value: &Value) -> FailureClass {
    let text = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or("");
    if value.get("transient").and_then(Value::as_bool) == Some(true) {
        return FailureClass::Transient {
            retry_after: value.get("retry_after_seconds").and_then(Value::as_i64),
        };
    }
    match (text("who_acts"), text("reconnect_fixes")) {
        ("developer", _) => FailureClass::AppMisconfigured,
        ("admin", fixes) if fixes != "yes" => FailureClass::NeedsAdmin,
        _ => FailureClass::ReconnectNeeded,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_verdict_is_classified_from_its_keys() {
        let v = serde_json::json!({"transient": true, "retry_after_seconds": 30});
        assert_eq!(
            class_from_json(&v),
            FailureClass::Transient {
                retry_after: Some(30)
            }
        );
        let v =
            serde_json::json!({"transient": false, "who_acts": "admin", "reconnect_fixes": "no"});
        assert_eq!(class_from_json(&v), FailureClass::NeedsAdmin);
        let v = serde_json::json!({"transient": false, "who_acts": "developer"});
        assert_eq!(class_from_json(&v), FailureClass::AppMisconfigured);
        let v =
            serde_json::json!({"transient": false, "who_acts": "user", "reconnect_fixes": "yes"});
        assert_eq!(class_from_json(&v), FailureClass::ReconnectNeeded);
    }

    #[test]
    fn a_retrying_state_survives_the_round_trip() {
        let failure = FailureRecord {
            verdict: serde_json::json!({"title": "x"}),
            class: FailureClass::Transient { retry_after: None },
            failed_at: 100,
            fingerprint: "fp".into(),
            streak: Streak::default(),
            next_attempt: None,
        };
        let health = Health::Retrying {
            next_attempt: 500,
            streak: Streak {
                transient: 3,
                reconnect: 0,
            },
        };
        let json = failure_json(&health, Some(&failure)).unwrap();
        let record = HealthRecord {
            state: health.name().into(),
            last_failure: Some(json),
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
        assert_eq!(f.unwrap().failed_at, 100);
    }

    #[test]
    fn retry_after_defers_beyond_the_sixty_second_floor() {
        let config = EngineConfig::default();
        let failure = FailureRecord {
            verdict: Value::Null,
            class: FailureClass::Transient {
                retry_after: Some(300),
            },
            failed_at: 1000,
            fingerprint: "fp".into(),
            streak: Streak::default(),
            next_attempt: None,
        };
        assert_eq!(deferred_until(&config, &failure, "fp", 1010), Some(1300));
        assert_eq!(deferred_until(&config, &failure, "other", 1100), Some(1300));
        assert_eq!(deferred_until(&config, &failure, "fp", 1300), None);
    }
}
