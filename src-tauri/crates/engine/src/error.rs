//! What can go wrong when asking the engine for a token, and how each failure
//! maps onto the CLI's exit codes (reconnect needed, needs admin or
//! developer, transient, anything else).

use reconnect_core::failure::FailureRecord;
use reconnect_core::health::Health;
use reconnect_core::policy::FailureClass;
use reconnect_core::tokens::UnixTime;

/// The family a failure belongs to, as scripts see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// An interactive reconnect is needed.
    ReconnectNeeded,
    /// An administrator or the app's developer must act.
    NeedsAdmin,
    /// Try again later.
    Transient,
    /// Anything else (bad input, local storage problems).
    Other,
}

impl From<FailureClass> for FailureKind {
    fn from(class: FailureClass) -> Self {
        match class {
            FailureClass::Transient { .. } => Self::Transient,
            FailureClass::ReconnectNeeded => Self::ReconnectNeeded,
            FailureClass::NeedsAdmin | FailureClass::AppMisconfigured => Self::NeedsAdmin,
        }
    }
}

/// Why the engine could not produce a token or run a refresh.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// No account has this name.
    #[error("there is no account named {name:?} (see `reconnect accounts`)")]
    UnknownAccount {
        /// The name asked for.
        name: String,
    },
    /// A failure code to arm must be a positive AADSTS number.
    #[error("{code} is not an AADSTS code; enter one such as 50173")]
    InvalidCode {
        /// The code given.
        code: u32,
    },
    /// Failures can be armed only for accounts served by a simulator.
    #[error(
        "{name:?} signs in at {authority}, not at a simulator on this machine: \
         failures can be armed only for simulated accounts"
    )]
    NotSimulated {
        /// The account.
        name: String,
        /// Where it signs in.
        authority: String,
    },
    /// The account has no refresh token yet.
    #[error("account {name:?} is not connected yet: run `reconnect signin {name}`")]
    NotConnected {
        /// The account.
        name: String,
    },
    /// The refresh was sent and failed; `failure` holds the decoded verdict.
    #[error("refreshing {name:?} failed: {}", .failure.summary())]
    Refresh {
        /// The account.
        name: String,
        /// The decoded failure.
        failure: Box<FailureRecord>,
    },
    /// The account is stopped (reconnect needed, needs admin, app
    /// misconfigured); nothing was sent.
    #[error("account {name:?} is {}: {}", .health.name().replace('_', " "), .failure.as_ref().map(|f| f.summary()).unwrap_or_default())]
    Stopped {
        /// The account.
        name: String,
        /// Its health.
        health: Health,
        /// The failure that stopped it, when recorded.
        failure: Option<Box<FailureRecord>>,
    },
    /// The same request failed moments ago (or the server asked us to wait);
    /// it is not sent again before `until`.
    #[error("refreshing {name:?} failed recently and is not retried before {until} (Unix time){}", .failure.as_ref().map(|f| format!(": {}", f.summary())).unwrap_or_default())]
    Deferred {
        /// The account.
        name: String,
        /// When a new attempt may be made.
        until: UnixTime,
        /// The recent failure, when recorded.
        failure: Option<Box<FailureRecord>>,
    },
    /// The account was reconnected (or its tokens replaced) while this
    /// refresh was in flight; its result was discarded.
    #[error(
        "account {name:?} was reconnected while this refresh was in flight; the refresh was discarded and the new sign-in kept"
    )]
    Superseded {
        /// The account.
        name: String,
    },
    /// The provider rotated the refresh token and the keychain refused the
    /// new one, so no token is given (it would be the only copy of the grant).
    #[error(
        "account {name:?} was refreshed, but the new tokens could not be saved: the keychain \
         refused them and the provider replaced the refresh token, so no token is given. The \
         stored refresh token is the old one, which this provider may reject, or treat as \
         reuse and revoke the sign-in: unlock or repair the keychain, run `reconnect refresh \
         {name}`, and sign in again if that fails"
    )]
    Unsaved {
        /// The account.
        name: String,
    },
    /// The account's endpoints are not usable.
    #[error("account {name:?} has an unusable authority or tenant")]
    Endpoints {
        /// The account.
        name: String,
        /// The cause.
        #[source]
        source: reconnect_oauth::endpoints::EndpointError,
    },
    /// The metadata database failed.
    #[error("the Reconnect database failed")]
    Store(#[from] reconnect_store::StoreError),
    /// The keychain could not be read.
    #[error("could not read the tokens from the keychain")]
    Vault(#[from] reconnect_store::VaultError),
    /// A cross-process lock of the account could not be taken.
    #[error("could not take the account's lock")]
    Lock(#[from] reconnect_store::lock::LockError),
    /// The HTTP client could not be set up.
    #[error("could not set up the HTTP client")]
    Http(#[from] reconnect_oauth::FetchError),
    /// The data directory is unusable.
    #[error("the data directory is unusable")]
    Home(#[from] reconnect_store::HomeError),
    /// The async runtime could not start.
    #[error("could not start the async runtime")]
    Runtime(#[source] std::io::Error),
    /// A background task died.
    #[error("an internal task failed")]
    Task(#[from] tokio::task::JoinError),
}

impl EngineError {
    /// The family of this failure, for exit codes and UI badges.
    pub fn kind(&self) -> FailureKind {
        match self {
            Self::NotConnected { .. } => FailureKind::ReconnectNeeded,
            Self::Refresh { failure, .. } => failure.class.into(),
            Self::Deferred { failure, .. } => failure
                .as_ref()
                .map_or(FailureKind::Transient, |f| f.class.into()),
            Self::Stopped {
                health, failure, ..
            } => match health {
                Health::NeedsAdmin | Health::AppMisconfigured => FailureKind::NeedsAdmin,
                Health::ReconnectNeeded | Health::NeverConnected => FailureKind::ReconnectNeeded,
                _ => failure
                    .as_ref()
                    .map_or(FailureKind::Other, |f| f.class.into()),
            },
            Self::Lock(_) | Self::Superseded { .. } | Self::Unsaved { .. } => {
                FailureKind::Transient
            }
            _ => FailureKind::Other,
        }
    }

    /// The decoded failure behind this error, when there is one.
    pub fn failure(&self) -> Option<&FailureRecord> {
        match self {
            Self::Refresh { failure, .. } => Some(failure),
            Self::Stopped { failure, .. } | Self::Deferred { failure, .. } => failure.as_deref(),
            _ => None,
        }
    }
}
