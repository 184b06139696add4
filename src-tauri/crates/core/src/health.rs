//! The health of one connection as a pure state machine:
//! `(state, event, now) -> (state, actions)`.
//!
//! The engine feeds it what happened (a refresh started, succeeded, failed
//! with a classified failure, the forecast changed, the machine woke up) and
//! executes the actions it returns (schedule an attempt, stop background
//! refreshes, notify the user). It never decides anything on its own.
//!
//! Network trouble (DNS, connect, TLS, timeout, a proxy answering in the
//! service's place) is retried like any transient failure, but once it has
//! lasted ([`NetworkRun::lasting`]) the account is [`Health::Unreachable`]:
//! it keeps retrying, less often, and needs a person (you or your IT) to
//! look at the network. It is announced once, when entered, and the first
//! success clears it.

use serde::{Deserialize, Serialize};

use crate::decode::Category;
use crate::policy::{
    self, Decision, FailureClass, LONG_BACKOFF_SECONDS, NetworkRun, RetryConfig, Streak,
};
use crate::tokens::UnixTime;

/// Where a connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Health {
    /// No tokens yet: the account was added but never signed in.
    NeverConnected,
    /// Tokens work and nothing is due soon.
    Healthy,
    /// A refresh is in flight. `streak` carries earlier failures so the retry
    /// rules survive the attempt.
    Refreshing {
        /// Failures before this attempt.
        #[serde(default)]
        streak: Streak,
        /// Whether the account needed attention before this attempt (a
        /// success then announces the recovery).
        #[serde(default)]
        recovering: bool,
    },
    /// The last refresh failed in a way that may heal; another attempt is due.
    Retrying {
        /// When the next attempt runs.
        next_attempt: UnixTime,
        /// Failures so far.
        streak: Streak,
    },
    /// The sign-in service has been out of reach for a while (the network,
    /// a proxy or a firewall in the way): attempts go on, less often, and
    /// the user or their IT should look. `streak.network` says since when
    /// and how many attempts failed.
    Unreachable {
        /// When the next attempt runs.
        next_attempt: UnixTime,
        /// Failures so far, with the network run.
        streak: Streak,
    },
    /// Tokens work now, but the connection dies at `deadline` unless someone
    /// acts (a fixed lifetime, or a keep-alive that could not run).
    ExpiringSoon {
        /// When the connection is forecast to die.
        deadline: UnixTime,
    },
    /// The user must sign in again; background refreshes are stopped.
    ReconnectNeeded,
    /// An administrator must act; background refreshes are stopped.
    NeedsAdmin,
    /// The app registration must be fixed; background refreshes are stopped.
    AppMisconfigured,
}

impl Health {
    /// The state without its details.
    pub fn state(&self) -> HealthState {
        match self {
            Health::NeverConnected => HealthState::NeverConnected,
            Health::Healthy => HealthState::Healthy,
            Health::Refreshing { .. } => HealthState::Refreshing,
            Health::Retrying { .. } => HealthState::Retrying,
            Health::Unreachable { .. } => HealthState::Unreachable,
            Health::ExpiringSoon { .. } => HealthState::ExpiringSoon,
            Health::ReconnectNeeded => HealthState::ReconnectNeeded,
            Health::NeedsAdmin => HealthState::NeedsAdmin,
            Health::AppMisconfigured => HealthState::AppMisconfigured,
        }
    }

    /// The state's name as shown in `reconnect status` and stored in the DB.
    pub fn name(&self) -> &'static str {
        self.state().as_str()
    }

    /// Whether the background scheduler should leave this account alone
    /// until a person acts.
    pub fn is_stopped(&self) -> bool {
        matches!(
            self,
            Health::NeverConnected
                | Health::ReconnectNeeded
                | Health::NeedsAdmin
                | Health::AppMisconfigured
        )
    }

    /// The failure streak carried by this state.
    pub fn streak(&self) -> Streak {
        match self {
            Health::Refreshing { streak, .. }
            | Health::Retrying { streak, .. }
            | Health::Unreachable { streak, .. } => *streak,
            // A forced attempt from a stopped state must not earn another
            // "retry once": the one retry was already spent.
            Health::ReconnectNeeded => Streak {
                reconnect: 1,
                ..Streak::default()
            },
            _ => Streak::default(),
        }
    }

    /// When the next automatic retry runs, in a state that waits for one.
    pub fn next_attempt(&self) -> Option<UnixTime> {
        match self {
            Health::Retrying { next_attempt, .. } | Health::Unreachable { next_attempt, .. } => {
                Some(*next_attempt)
            }
            _ => None,
        }
    }

    /// The same state with its next retry at `at` (states without one are
    /// returned as they are).
    fn retry_at(self, at: UnixTime) -> Self {
        match self {
            Health::Retrying { streak, .. } => Health::Retrying {
                next_attempt: at,
                streak,
            },
            Health::Unreachable { streak, .. } => Health::Unreachable {
                next_attempt: at,
                streak,
            },
            other => other,
        }
    }
}

/// The names of the health states: what is stored in the database, shown
/// by `reconnect status` and sent to the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    /// See [`Health::NeverConnected`].
    NeverConnected,
    /// See [`Health::Healthy`].
    Healthy,
    /// See [`Health::Refreshing`].
    Refreshing,
    /// See [`Health::Retrying`].
    Retrying,
    /// See [`Health::Unreachable`].
    Unreachable,
    /// See [`Health::ExpiringSoon`].
    ExpiringSoon,
    /// See [`Health::ReconnectNeeded`].
    ReconnectNeeded,
    /// See [`Health::NeedsAdmin`].
    NeedsAdmin,
    /// See [`Health::AppMisconfigured`].
    AppMisconfigured,
}

impl HealthState {
    /// Every state, in a stable order.
    pub const ALL: [HealthState; 9] = [
        Self::NeverConnected,
        Self::Healthy,
        Self::Refreshing,
        Self::Retrying,
        Self::Unreachable,
        Self::ExpiringSoon,
        Self::ReconnectNeeded,
        Self::NeedsAdmin,
        Self::AppMisconfigured,
    ];

    /// The snake_case name (the serde name).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NeverConnected => "never_connected",
            Self::Healthy => "healthy",
            Self::Refreshing => "refreshing",
            Self::Retrying => "retrying",
            Self::Unreachable => "unreachable",
            Self::ExpiringSoon => "expiring_soon",
            Self::ReconnectNeeded => "reconnect_needed",
            Self::NeedsAdmin => "needs_admin",
            Self::AppMisconfigured => "app_misconfigured",
        }
    }

    /// Reads a name written by [`HealthState::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether a person has to do something: sign in for the first time or
    /// again, ask an admin, fix the app, look at a network that has kept the
    /// sign-in service out of reach, or act before a fixed deadline.
    /// Retrying and refreshing accounts heal on their own.
    pub fn needs_attention(self) -> bool {
        matches!(
            self,
            Self::NeverConnected
                | Self::Unreachable
                | Self::ExpiringSoon
                | Self::ReconnectNeeded
                | Self::NeedsAdmin
                | Self::AppMisconfigured
        )
    }
}

/// Where an account stands in a list of them: the one grouping the tray,
/// the dashboard's summary and `reconnect status` share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// A person has to act (see [`needs_attention`]).
    NeedsAttention,
    /// Nothing to do yet: a refresh is running or a retry is scheduled.
    Retrying,
    /// Working.
    Healthy,
}

impl Standing {
    /// The standing of an account in `state`, holding `unsaved_credentials`.
    pub fn of(state: HealthState, unsaved_credentials: bool) -> Self {
        if unsaved_credentials || state.needs_attention() {
            Self::NeedsAttention
        } else if matches!(state, HealthState::Retrying | HealthState::Refreshing) {
            Self::Retrying
        } else {
            Self::Healthy
        }
    }
}

/// Whether an account needs a person: by its state, or because new tokens
/// are held only in memory (the keychain refused them), which a person must
/// fix (unlock the keychain) before they are lost. The one definition the
/// tray, the dashboard and `reconnect status` use.
pub fn needs_attention(state: HealthState, unsaved_credentials: bool) -> bool {
    Standing::of(state, unsaved_credentials) == Standing::NeedsAttention
}

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

#[cfg(test)]
mod tests {
    use super::*;
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
    fn attempt_failing(
        state: Health,
        category: Category,
        at: UnixTime,
    ) -> (Health, Vec<HealthAction>) {
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
}
