//! What the engine tells its listeners (the desktop app's notifications and
//! tray, the UI, `reconnect keep`'s log and the `on_event` hooks): health
//! changes, refreshes, spikes, and tokens that could not be saved.

use reconnect_core::health::{Health, HealthAction, Notice};
use reconnect_core::spike::SpikeAlert;
use serde::Serialize;

use crate::engine::Engine;

/// One notification, sent on the engine's broadcast channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EngineEvent {
    /// An account's health changed.
    HealthChanged {
        /// The account.
        account: String,
        /// The state before.
        from: Health,
        /// The state now.
        to: Health,
        /// A user-facing notice, when the change deserves one.
        notice: Option<Notice>,
    },
    /// A refresh by this engine succeeded (sent after the health change it
    /// caused, if any).
    Refreshed {
        /// The account.
        account: String,
    },
    /// Several accounts failed alike: one alert for all of them.
    Spike(SpikeAlert),
    /// A refresh succeeded but the keychain refused the new tokens; they are
    /// kept in memory and the write is retried.
    UnsavedCredentials {
        /// The account.
        account: String,
    },
    /// Tokens that were only in memory are now saved.
    CredentialsSaved {
        /// The account.
        account: String,
    },
}

impl Engine {
    /// Carries out what the core's state machine decided for a transition,
    /// in one place: the notice goes to listeners with the change. The other
    /// actions need nothing here: the scheduler reads the persisted health on
    /// every tick (so scheduling and stopping follow from the state written),
    /// and the failure is cleared by writing the new state without one.
    pub(crate) fn apply(&self, name: &str, from: Health, to: Health, actions: &[HealthAction]) {
        let mut notice = None;
        for action in actions {
            match action {
                HealthAction::Notify(n) => notice = Some(*n),
                HealthAction::ScheduleAttempt(_)
                | HealthAction::ScheduleKeepAlive
                | HealthAction::StopBackground
                | HealthAction::ClearFailure => {}
            }
        }
        if let Ok(mut state) = self.slot(name).state.try_lock() {
            state.last_health = Some(to);
        }
        if from != to || notice.is_some() {
            self.emit(EngineEvent::HealthChanged {
                account: name.to_owned(),
                from,
                to,
                notice,
            });
        }
    }
}
