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
//! lasted ([`crate::policy::NetworkRun::lasting`]) the account is
//! [`Health::Unreachable`]: it keeps retrying, less often, and needs a
//! person (you or your IT) to look at the network. It is announced once,
//! when entered, and the first success clears it.
//!
//! The states are here; the events, the actions and [`transition`] are in
//! `transition.rs`.

use serde::{Deserialize, Serialize};

use crate::policy::Streak;
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

mod transition;

pub use transition::{HealthAction, HealthEvent, Notice, transition};

#[cfg(test)]
mod tests;
