//! How an event moves a connection's health, and what the engine must do
//! about it: [`transition`].

use serde::{Deserialize, Serialize};

use super::Health;
use crate::decode::Category;
use crate::policy::{
    self, Decision, FailureClass, LONG_BACKOFF_SECONDS, NetworkRun, RetryConfig, Streak,
};
use crate::tokens::UnixTime;

/// Something that happened to a connection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HealthEvent {
    /// An interactive sign-in or an import stored a fresh token set.
    Connected,
    /// The tokens were removed (account disconnected).
    Disconnected,
    /// A refresh request is about to be sent.
    RefreshStarted,
    /// A refresh returned a new token set, now persisted.
    RefreshSucceeded,
    /// A refresh failed; the decoder's verdict was reduced to `class`.
    RefreshFailed {
        /// The classified failure.
        class: FailureClass,
        /// The verdict's category ([`Category::Network`] continues a run
        /// of network trouble; anything else ends it).
        category: Category,
        /// A random number in `[0, 1)` for the backoff jitter.
        jitter_fraction: f64,
    },
    /// The forecast was recomputed. `expiring_deadline` is set when the
    /// connection dies soon and a keep-alive cannot prevent it.
    ForecastChanged {
        /// The deadline if the connection is expiring soon.
        expiring_deadline: Option<UnixTime>,
    },
    /// The machine came back from sleep, or the network came back, or the
    /// wall clock jumped: overdue work should run now.
    Resumed,
}

/// What the engine must do after a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthAction {
    /// Run a refresh attempt at this time (replaces any earlier schedule).
    ScheduleAttempt(UnixTime),
    /// Schedule the next keep-alive from the forecast.
    ScheduleKeepAlive,
    /// Drop every background attempt for this account.
    StopBackground,
    /// Forget the last recorded failure (the account recovered).
    ClearFailure,
    /// Tell the user: the account changed to a state that needs attention,
    /// or recovered from one.
    Notify(Notice),
}

/// User-facing notices the engine broadcasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    /// Sign in again.
    ReconnectNeeded,
    /// Ask an administrator.
    NeedsAdmin,
    /// The app's registration is wrong.
    AppMisconfigured,
    /// The connection will die soon.
    ExpiringSoon,
    /// The sign-in service has been out of reach for a while: you or your
    /// IT should look at the network, proxy or firewall.
    Unreachable,
    /// A broken or expiring connection works again.
    Recovered,
}

/// Applies `event` to `state` at `now`.
pub fn transition(
    config: &RetryConfig,
    state: Health,
    event: HealthEvent,
    now: UnixTime,
) -> (Health, Vec<HealthAction>) {
    use HealthAction as A;
    match event {
        HealthEvent::Connected => {
            let mut actions = vec![A::ClearFailure, A::ScheduleKeepAlive];
            if was_announced(&state) {
                actions.push(A::Notify(Notice::Recovered));
            }
            (Health::Healthy, actions)
        }
        HealthEvent::Disconnected => (Health::NeverConnected, vec![A::StopBackground]),
        HealthEvent::RefreshStarted => (
            Health::Refreshing {
                streak: state.streak(),
                recovering: is_broken(&state)
                    || matches!(
                        state,
                        Health::Refreshing {
                            recovering: true,
                            ..
                        }
                    ),
            },
            vec![],
        ),
        HealthEvent::RefreshSucceeded => {
            let mut actions = vec![A::ClearFailure, A::ScheduleKeepAlive];
            if is_broken(&state)
                || matches!(
                    state,
                    Health::Refreshing {
                        recovering: true,
                        ..
                    }
                )
            {
                actions.push(A::Notify(Notice::Recovered));
            }
            (Health::Healthy, actions)
        }
        HealthEvent::RefreshFailed {
            class,
            category,
            jitter_fraction,
        } => match policy::decide(config, class, state.streak(), now, jitter_fraction) {
            Decision::RetryAt { at, streak, .. } => retry(config, streak, category, at, now),
            Decision::ReconnectNeeded => stop(Health::ReconnectNeeded, Notice::ReconnectNeeded),
            Decision::NeedsAdmin => stop(Health::NeedsAdmin, Notice::NeedsAdmin),
            Decision::AppMisconfigured => stop(Health::AppMisconfigured, Notice::AppMisconfigured),
        },
        HealthEvent::ForecastChanged { expiring_deadline } => match (state, expiring_deadline) {
            (Health::Healthy, Some(deadline)) => (
                Health::ExpiringSoon { deadline },
                vec![A::Notify(Notice::ExpiringSoon)],
            ),
            (Health::ExpiringSoon { .. }, Some(deadline)) => {
                (Health::ExpiringSoon { deadline }, vec![])
            }
            (Health::ExpiringSoon { .. }, None) => (Health::Healthy, vec![]),
            (other, _) => (other, vec![]),
        },
        HealthEvent::Resumed => match state {
            Health::Retrying { next_attempt, .. } | Health::Unreachable { next_attempt, .. } => {
                let at = next_attempt.max(now);
                (state.retry_at(at), vec![A::ScheduleAttempt(at)])
            }
            // A refresh that was in flight when the machine slept is gone;
            // try again at once.
            Health::Refreshing { streak, .. } => (
                Health::Retrying {
                    next_attempt: now,
                    streak,
                },
                vec![A::ScheduleAttempt(now)],
            ),
            Health::Healthy | Health::ExpiringSoon { .. } => (state, vec![A::ScheduleKeepAlive]),
            stopped => (stopped, vec![]),
        },
    }
}

/// The state after a failure the policy retries at `at`: retrying, or
/// unreachable once network trouble has lasted. Entering "unreachable" is
/// announced once; staying in it is not. While unreachable, attempts wait
/// at least the long backoff.
fn retry(
    config: &RetryConfig,
    streak: Streak,
    category: Category,
    at: UnixTime,
    now: UnixTime,
) -> (Health, Vec<HealthAction>) {
    let was_lasting = streak.network.is_some_and(|run| run.lasting(config));
    let network = NetworkRun::after(streak.network, category, now);
    let streak = Streak { network, ..streak };
    if !network.is_some_and(|run| run.lasting(config)) {
        let next = Health::Retrying {
            next_attempt: at,
            streak,
        };
        return (next, vec![HealthAction::ScheduleAttempt(at)]);
    }
    let at = at.max(now.saturating_add(LONG_BACKOFF_SECONDS));
    let mut actions = vec![HealthAction::ScheduleAttempt(at)];
    if !was_lasting {
        actions.push(HealthAction::Notify(Notice::Unreachable));
    }
    let next = Health::Unreachable {
        next_attempt: at,
        streak,
    };
    (next, actions)
}

/// A state a refresh alone does not get out of: a success from it is news.
fn is_broken(state: &Health) -> bool {
    matches!(
        state,
        Health::ReconnectNeeded
            | Health::NeedsAdmin
            | Health::AppMisconfigured
            | Health::Unreachable { .. }
    )
}

/// A state the user was told about: leaving it is announced as a recovery.
fn was_announced(state: &Health) -> bool {
    is_broken(state) || matches!(state, Health::ExpiringSoon { .. })
}

fn stop(next: Health, notice: Notice) -> (Health, Vec<HealthAction>) {
    (
        next,
        vec![HealthAction::StopBackground, HealthAction::Notify(notice)],
    )
}
