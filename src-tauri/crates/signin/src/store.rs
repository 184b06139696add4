//! What the sign-in needs from storage, as a trait so the flow can run on an
//! in-memory fake in unit tests and on the real profile (SQLite + keychain)
//! everywhere else (see [`crate::profile_store`]).

use reconnect_core::tokens::UnixTime;
use reconnect_oauth::TokenResponse;

use crate::identity::KnownUser;
use crate::loopback::LoopbackConfig;

/// A storage failure, kept with its cause.
pub type StoreFailure = Box<dyn std::error::Error + Send + Sync>;

/// Which kind of provider an account uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    /// Microsoft Entra ID.
    Microsoft,
    /// Any OpenID Connect provider (found by discovery).
    Oidc,
}

/// The settings of one account that a sign-in uses.
#[derive(Debug, Clone)]
pub struct AccountSettings {
    /// The account's name.
    pub name: String,
    /// Provider kind.
    pub provider: ProviderKind,
    /// Microsoft base URL, or the OIDC issuer.
    pub authority: String,
    /// Microsoft tenant.
    pub tenant: Option<String>,
    /// The app's client id.
    pub client_id: String,
    /// Space-separated scopes.
    pub scope: String,
    /// Loopback listener settings.
    pub loopback: LoopbackConfig,
    /// Whom the connection belongs to, as far as known.
    pub owner: KnownUser,
    /// `domain_hint`, when known.
    pub domain_hint: Option<String>,
    /// The claims challenge of the last failure, if any.
    pub claims_challenge: Option<String>,
}

/// A successful sign-in, ready to store.
#[derive(Debug)]
pub struct Connected {
    /// Who signed in.
    pub user: KnownUser,
    /// The tokens and facts returned.
    pub response: TokenResponse,
    /// When the code was exchanged.
    pub at: UnixTime,
    /// How long the whole sign-in took.
    pub duration_ms: i64,
}

/// A sign-in attempt that did not connect, for the history.
#[derive(Debug, Clone, Default)]
pub struct FailedAttempt {
    /// When it ended.
    pub at: UnixTime,
    /// How long it took.
    pub duration_ms: i64,
    /// Cancelled or timed out (rather than failed).
    pub cancelled: bool,
    /// AADSTS code, if any (`AADSTS50076`).
    pub code: Option<String>,
    /// OAuth `error`.
    pub error: Option<String>,
    /// `suberror`.
    pub suberror: Option<String>,
    /// Trace id.
    pub trace_id: Option<String>,
    /// Correlation id.
    pub correlation_id: Option<String>,
    /// One line for the history.
    pub message: String,
}

/// Storage as the sign-in uses it.
pub trait SigninStore: Send + Sync {
    /// The account's settings (an error if there is no such account).
    fn settings(&self, account: &str) -> Result<AccountSettings, StoreFailure>;
    /// Stores a successful sign-in: the token set (vault first), the
    /// identity, token facts, a `signin` event, health `healthy` with the
    /// last failure cleared.
    fn connected(&self, account: &str, connected: &Connected) -> Result<(), StoreFailure>;
    /// Records a failed or cancelled attempt (history only; health stays).
    fn attempt_failed(&self, account: &str, attempt: &FailedAttempt) -> Result<(), StoreFailure>;
}
