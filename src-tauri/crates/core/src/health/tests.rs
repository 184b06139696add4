//! The health state machine's transitions, one behaviour per test.

use super::*;
use crate::decode::Category;
use crate::policy::{FailureClass, LONG_BACKOFF_SECONDS, NetworkRun, RetryConfig, Streak};
use crate::tokens::UnixTime;
use HealthAction as A;

const NOW: UnixTime = 1_700_000_000;

fn run(state: Health, event: HealthEvent) -> (Health, Vec<HealthAction>) {
    transition(&RetryConfig::default(), state, event, NOW)
}

fn fail(class: FailureClass) -> HealthEvent {
    HealthEvent::RefreshFailed {
        class,
        category: Category::Service,
        jitter_fraction: 0.5,
    }
}

#[test]
fn connecting_makes_an_account_healthy_and_schedules_keep_alive() {
    let (state, actions) = run(Health::NeverConnected, HealthEvent::Connected);
    assert_eq!(state, Health::Healthy);
    assert_eq!(actions, vec![A::ClearFailure, A::ScheduleKeepAlive]);
    let (state, actions) = run(Health::ReconnectNeeded, HealthEvent::Connected);
    assert_eq!(state, Health::Healthy);
    assert!(actions.contains(&A::Notify(Notice::Recovered)));
}

#[test]
fn transient_failure_retries_and_never_breaks_the_account() {
    let mut state = Health::Healthy;
    for n in 1..=20u32 {
        let (s, _) = run(state, HealthEvent::RefreshStarted);
        let (s, actions) = run(s, fail(FailureClass::Transient { retry_after: None }));
        let Health::Retrying {
            next_attempt,
            streak,
        } = s
        else {
            panic!("transient failure left {s:?}");
        };
        assert_eq!(streak.transient, n);
        assert_eq!(actions, vec![A::ScheduleAttempt(next_attempt)]);
        state = s;
    }
}

#[test]
fn retry_after_sets_the_next_attempt() {
    let (s, _) = run(Health::Healthy, HealthEvent::RefreshStarted);
    let (s, _) = run(
        s,
        fail(FailureClass::Transient {
            retry_after: Some(600),
        }),
    );
    assert!(matches!(s, Health::Retrying { next_attempt, .. } if next_attempt == NOW + 600));
}

#[test]
fn reconnect_class_retries_once_then_stops_background_work() {
    let (s, _) = run(Health::Healthy, HealthEvent::RefreshStarted);
    let (s, actions) = run(s, fail(FailureClass::ReconnectNeeded));
    assert!(matches!(s, Health::Retrying { next_attempt, .. } if next_attempt == NOW + 60));
    assert_eq!(actions, vec![A::ScheduleAttempt(NOW + 60)]);
    let (s, _) = run(s, HealthEvent::RefreshStarted);
    let (s, actions) = run(s, fail(FailureClass::ReconnectNeeded));
    assert_eq!(s, Health::ReconnectNeeded);
    assert_eq!(
        actions,
        vec![A::StopBackground, A::Notify(Notice::ReconnectNeeded)]
    );
    assert!(s.is_stopped());
}

#[test]
fn a_heal_on_the_single_retry_recovers() {
    let (s, _) = run(Health::Healthy, HealthEvent::RefreshStarted);
    let (s, _) = run(s, fail(FailureClass::ReconnectNeeded));
    let (s, _) = run(s, HealthEvent::RefreshStarted);
    let (s, actions) = run(s, HealthEvent::RefreshSucceeded);
    assert_eq!(s, Health::Healthy);
    assert!(actions.contains(&A::ClearFailure));
}

#[test]
fn forced_attempt_from_reconnect_needed_gets_no_second_retry() {
    let (started, _) = run(Health::ReconnectNeeded, HealthEvent::RefreshStarted);
    let (s, _) = run(started, fail(FailureClass::ReconnectNeeded));
    assert_eq!(s, Health::ReconnectNeeded);
    // If it works after all (e.g. an admin fixed something), say so.
    let (s, actions) = run(started, HealthEvent::RefreshSucceeded);
    assert_eq!(s, Health::Healthy);
    assert!(actions.contains(&A::Notify(Notice::Recovered)));
}

#[test]
fn admin_and_developer_failures_stop_at_once() {
    let (s, _) = run(Health::Healthy, HealthEvent::RefreshStarted);
    let (a, actions) = run(s, fail(FailureClass::NeedsAdmin));
    assert_eq!(a, Health::NeedsAdmin);
    assert_eq!(
        actions,
        vec![A::StopBackground, A::Notify(Notice::NeedsAdmin)]
    );
    let (d, _) = run(s, fail(FailureClass::AppMisconfigured));
    assert_eq!(d, Health::AppMisconfigured);
    assert!(d.is_stopped());
}

#[test]
fn forecast_moves_between_healthy_and_expiring_soon() {
    let deadline = NOW + 3600;
    let (s, actions) = run(
        Health::Healthy,
        HealthEvent::ForecastChanged {
            expiring_deadline: Some(deadline),
        },
    );
    assert_eq!(s, Health::ExpiringSoon { deadline });
    assert_eq!(actions, vec![A::Notify(Notice::ExpiringSoon)]);
    let (s, _) = run(
        s,
        HealthEvent::ForecastChanged {
            expiring_deadline: None,
        },
    );
    assert_eq!(s, Health::Healthy);
    // A broken account is not hidden behind "expiring soon".
    let (s, _) = run(
        Health::ReconnectNeeded,
        HealthEvent::ForecastChanged {
            expiring_deadline: Some(deadline),
        },
    );
    assert_eq!(s, Health::ReconnectNeeded);
}

#[test]
fn resuming_runs_overdue_retries_now() {
    let overdue = Health::Retrying {
        next_attempt: NOW - 3600,
        streak: Streak {
            transient: 2,
            ..Streak::default()
        },
    };
    let (s, actions) = run(overdue, HealthEvent::Resumed);
    assert!(matches!(s, Health::Retrying { next_attempt, .. } if next_attempt == NOW));
    assert_eq!(actions, vec![A::ScheduleAttempt(NOW)]);
    let later = Health::Retrying {
        next_attempt: NOW + 10,
        streak: Streak::default(),
    };
    assert_eq!(
        run(later, HealthEvent::Resumed).1,
        vec![A::ScheduleAttempt(NOW + 10)]
    );
    let (s, _) = run(
        Health::Refreshing {
            streak: Streak::default(),
            recovering: false,
        },
        HealthEvent::Resumed,
    );
    assert!(matches!(s, Health::Retrying { .. }));
    assert!(run(Health::NeedsAdmin, HealthEvent::Resumed).1.is_empty());
}

#[test]
fn refreshing_an_expiring_account_is_not_announced_as_a_recovery() {
    let expiring = Health::ExpiringSoon { deadline: NOW + 60 };
    let (s, _) = run(expiring, HealthEvent::RefreshStarted);
    let (s, actions) = run(s, HealthEvent::RefreshSucceeded);
    assert_eq!(s, Health::Healthy);
    assert!(
        !actions.contains(&A::Notify(Notice::Recovered)),
        "{actions:?}"
    );
}

/// One refresh attempt at `at` that fails as `category` (transient).
fn attempt_failing(state: Health, category: Category, at: UnixTime) -> (Health, Vec<HealthAction>) {
    let config = RetryConfig::default();
    let (started, _) = transition(&config, state, HealthEvent::RefreshStarted, at);
    let failed = HealthEvent::RefreshFailed {
        class: FailureClass::Transient { retry_after: None },
        category,
        jitter_fraction: 0.5,
    };
    transition(&config, started, failed, at)
}

/// Network failures at each of `times`; the state and every notice.
fn network_failures(state: Health, times: &[UnixTime]) -> (Health, Vec<Notice>) {
    let mut notices = Vec::new();
    let mut state = state;
    for &at in times {
        let (next, actions) = attempt_failing(state, Category::Network, at);
        notices.extend(actions.iter().filter_map(|a| match a {
            A::Notify(n) => Some(*n),
            _ => None,
        }));
        state = next;
    }
    (state, notices)
}

#[test]
fn network_trouble_is_named_once_it_has_lasted_an_hour_over_three_attempts() {
    // Three attempts within minutes: still quietly retrying.
    let (early, notices) = network_failures(Health::Healthy, &[NOW, NOW + 60, NOW + 180]);
    assert_eq!(early.state(), HealthState::Retrying, "{early:?}");
    assert!(notices.is_empty(), "{notices:?}");
    assert!(!early.state().needs_attention());
    // Two attempts two hours apart: long, but too few attempts.
    let (sparse, _) = network_failures(Health::Healthy, &[NOW, NOW + 7200]);
    assert_eq!(sparse.state(), HealthState::Retrying, "{sparse:?}");
    // The third attempt an hour after the first: named, and said once.
    let (state, notices) = network_failures(Health::Healthy, &[NOW, NOW + 600, NOW + 3600]);
    let Health::Unreachable {
        next_attempt,
        streak,
    } = state
    else {
        panic!("lasting network trouble left {state:?}");
    };
    assert_eq!(notices, vec![Notice::Unreachable]);
    assert!(state.state().needs_attention());
    assert!(!state.is_stopped(), "attempts go on");
    let run = streak.network.expect("the run is kept");
    assert_eq!((run.since, run.attempts), (NOW, 3));
    assert!(
        next_attempt >= NOW + 3600 + LONG_BACKOFF_SECONDS,
        "waits at least the long backoff: {next_attempt}"
    );
}

#[test]
fn staying_unreachable_says_nothing_more_and_the_first_success_clears_it() {
    let (state, _) = network_failures(Health::Healthy, &[NOW, NOW + 600, NOW + 3600]);
    let (state, notices) = network_failures(state, &[NOW + 5400, NOW + 9000, NOW + 12_600]);
    assert_eq!(state.state(), HealthState::Unreachable);
    assert!(notices.is_empty(), "one notice only: {notices:?}");
    let later = NOW + 20_000;
    let (started, _) = transition(
        &RetryConfig::default(),
        state,
        HealthEvent::RefreshStarted,
        later,
    );
    let (healthy, actions) = transition(
        &RetryConfig::default(),
        started,
        HealthEvent::RefreshSucceeded,
        later,
    );
    assert_eq!(healthy, Health::Healthy);
    assert!(
        actions.contains(&A::Notify(Notice::Recovered)),
        "{actions:?}"
    );
    assert!(actions.contains(&A::ClearFailure), "{actions:?}");
    assert_eq!(healthy.streak(), Streak::default());
}

#[test]
fn another_kind_of_failure_ends_the_run_of_network_trouble() {
    let (state, _) = network_failures(Health::Healthy, &[NOW, NOW + 600]);
    // The service answers 503 in between: the network is fine after all.
    let (state, actions) = attempt_failing(state, Category::Service, NOW + 1800);
    assert_eq!(state.state(), HealthState::Retrying);
    assert_eq!(state.streak().network, None);
    assert!(!actions.iter().any(|a| matches!(a, A::Notify(_))));
    // Network trouble again: a new run, not named an hour after the old one began.
    let (state, notices) = network_failures(state, &[NOW + 3600, NOW + 4000]);
    assert_eq!(state.state(), HealthState::Retrying, "{state:?}");
    assert!(notices.is_empty());
    assert_eq!(state.streak().network.map(|r| r.since), Some(NOW + 3600));
    // Leaving "unreachable" through another failure follows the usual rules.
    let (unreachable, _) = network_failures(Health::Healthy, &[NOW, NOW + 600, NOW + 3600]);
    let (state, _) = attempt_failing(unreachable, Category::Service, NOW + 6000);
    assert_eq!(state.state(), HealthState::Retrying);
    let (started, _) = run(unreachable, HealthEvent::RefreshStarted);
    let (admin, _) = run(started, fail(FailureClass::NeedsAdmin));
    assert_eq!(admin, Health::NeedsAdmin);
}

#[test]
fn waking_up_retries_an_unreachable_account_without_a_new_notice() {
    let (state, _) = network_failures(Health::Healthy, &[NOW - 7200, NOW - 6000, NOW - 3600]);
    let (woken, actions) = run(state, HealthEvent::Resumed);
    assert_eq!(woken.state(), HealthState::Unreachable);
    assert_eq!(woken.next_attempt(), Some(NOW));
    assert_eq!(actions, vec![A::ScheduleAttempt(NOW)]);
    let (signed_in, actions) = run(woken, HealthEvent::Connected);
    assert_eq!(signed_in, Health::Healthy);
    assert!(actions.contains(&A::Notify(Notice::Recovered)));
}

#[test]
fn disconnect_stops_everything() {
    let (s, actions) = run(Health::Healthy, HealthEvent::Disconnected);
    assert_eq!(s, Health::NeverConnected);
    assert_eq!(actions, vec![A::StopBackground]);
}

#[test]
fn health_round_trips_through_json() {
    for state in [
        Health::NeverConnected,
        Health::Healthy,
        Health::Refreshing {
            streak: Streak::default(),
            recovering: true,
        },
        Health::Retrying {
            next_attempt: NOW,
            streak: Streak {
                transient: 1,
                reconnect: 1,
                network: None,
            },
        },
        Health::Unreachable {
            next_attempt: NOW,
            streak: Streak {
                transient: 4,
                reconnect: 0,
                network: Some(NetworkRun {
                    since: NOW - 3600,
                    last: NOW,
                    attempts: 4,
                }),
            },
        },
        Health::ExpiringSoon { deadline: NOW },
        Health::ReconnectNeeded,
        Health::NeedsAdmin,
        Health::AppMisconfigured,
    ] {
        let json = serde_json::to_string(&state).unwrap();
        assert!(json.contains(state.name()), "{json}");
        assert_eq!(serde_json::from_str::<Health>(&json).unwrap(), state);
    }
}

#[test]
fn state_names_are_one_spelling_everywhere() {
    for state in HealthState::ALL {
        let json = serde_json::to_value(state).unwrap();
        assert_eq!(json, state.as_str());
        assert_eq!(HealthState::parse(state.as_str()), Some(state));
        assert_eq!(serde_json::from_value::<HealthState>(json).unwrap(), state);
    }
    let retrying = Health::Retrying {
        next_attempt: 1,
        streak: Streak::default(),
    };
    let tagged = serde_json::to_value(retrying).unwrap();
    assert_eq!(tagged["state"], retrying.state().as_str());
    assert_eq!(HealthState::parse("sleeping"), None);
}

#[test]
fn attention_is_needed_for_what_only_a_person_fixes() {
    use HealthState as S;
    let wanted: Vec<_> = S::ALL
        .into_iter()
        .filter(|s| needs_attention(*s, false))
        .collect();
    assert_eq!(
        wanted,
        [
            S::NeverConnected,
            S::Unreachable,
            S::ExpiringSoon,
            S::ReconnectNeeded,
            S::NeedsAdmin,
            S::AppMisconfigured
        ]
    );
    assert!(
        needs_attention(S::Healthy, true),
        "unsaved credentials need a person"
    );
    assert_eq!(Standing::of(S::Refreshing, false), Standing::Retrying);
    assert_eq!(Standing::of(S::Retrying, false), Standing::Retrying);
    assert_eq!(Standing::of(S::Retrying, true), Standing::NeedsAttention);
    assert_eq!(Standing::of(S::Healthy, false), Standing::Healthy);
}
