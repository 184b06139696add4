//! What the engine tells its listeners (the desktop app's notifications and
//! tray, the UI): health changes, spikes, and tokens that could not be saved.

use reconnect_core::health::{Health, Notice};
use reconnect_core::spike::SpikeAlert;
use serde::Serialize;

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
