//! What the engine tells its listeners (the desktop app's notifications and
//! tray, the UI): health changes, spikes, and tokens that could not be saved.

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
    /// Broadcasts a health change and its notice.
    pub(crate) fn announce(&self, name: &str, from: Health, to: Health, actions: &[HealthAction]) {
        let notice = actions.iter().find_map(|a| match a {
            HealthAction::Notify(n) => Some(*n),
            _ => None,
        });
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
