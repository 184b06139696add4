//! How a sign-in can end without connecting, and what that means for the
//! user: the message, the page in the browser, and the outcome class that the
//! CLI turns into an exit code.

use std::time::Duration;

use reconnect_core::decode::{ReconnectFixes, Verdict};
use reconnect_oauth::endpoints::EndpointError;
use reconnect_oauth::{IdTokenError, TokenError};

use crate::browser::BrowserError;
use crate::device::DeviceError;
use crate::loopback::LoopbackError;
use crate::paste::PasteError;
use crate::store::StoreFailure;

/// The class of an ending, shared with `reconnect token`'s exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Still needs an interactive sign-in (exit 2).
    ReconnectNeeded,
    /// An admin or the app's developer must act (exit 3).
    NeedsAdmin,
    /// Try again later (exit 4).
    Transient,
    /// Cancelled or timed out (exit 5).
    Cancelled,
    /// Anything else (exit 1).
    Other,
}

/// Why a sign-in did not connect.
#[derive(Debug, thiserror::Error)]
pub enum SigninError {
    /// Reading or writing the profile failed.
    #[error("{0}")]
    Store(#[source] StoreFailure),
    /// The account's authority or issuer could not be used or discovered.
    #[error("could not find the provider's endpoints")]
    Provider(#[source] EndpointError),
    /// The provider's signing keys could not be fetched.
    #[error("could not fetch the provider's signing keys")]
    Keys(#[source] IdTokenError),
    /// The loopback listener could not start or had to stop.
    #[error(transparent)]
    Listener(#[from] LoopbackError),
    /// The browser could not be started.
    #[error(transparent)]
    Browser(#[from] BrowserError),
    /// Nothing came back in time.
    #[error(
        "no answer from the browser within {} s (was the sign-in page closed?); nothing was changed",
        .0.as_secs()
    )]
    TimedOut(Duration),
    /// Cancelled by the user (the app's button or Ctrl-C).
    #[error("sign-in cancelled; nothing was changed")]
    Cancelled,
    /// The provider sent an error back through the browser.
    #[error("the sign-in was refused: {}", describe(.0))]
    Refused(Box<Verdict>),
    /// The code could not be exchanged for tokens.
    #[error("the code could not be exchanged for tokens: {}", describe(.verdict))]
    Exchange {
        /// The decoder's verdict.
        verdict: Box<Verdict>,
        /// The token client's error.
        #[source]
        source: TokenError,
    },
    /// The answer named another issuer (RFC 9207 `iss`).
    #[error("the sign-in answer came from issuer `{found}`, expected `{expected}`")]
    WrongIssuer {
        /// Expected issuer.
        expected: String,
        /// Issuer in the callback.
        found: String,
    },
    /// The provider says its answers name their issuer (RFC 9207), and this
    /// one did not: it may come from another provider.
    #[error(
        "the sign-in answer did not say which issuer sent it, though `{expected}` always does; \
         it was refused"
    )]
    MissingIssuer {
        /// Expected issuer.
        expected: String,
    },
    /// The token endpoint sent no id_token, so the user cannot be checked.
    #[error("the provider sent no id_token, so Reconnect cannot tell who signed in")]
    NoIdToken,
    /// The sign-in worked but the provider issued no refresh token
    /// although `offline_access` was asked for, so the connection could not
    /// be kept alive; nothing was stored.
    #[error(
        "the provider issued no refresh token although `offline_access` was asked for, so the \
         connection cannot be kept alive: the provider, or this client's registration there, \
         does not allow refresh tokens for it; nothing was stored"
    )]
    NoRefreshToken,
    /// The id_token did not validate.
    #[error("the id_token was refused")]
    IdToken(#[source] IdTokenError),
    /// The device-code way ended without tokens.
    #[error(transparent)]
    Device(#[from] DeviceError),
    /// The pasted address could not be used.
    #[error(transparent)]
    Pasted(#[from] PasteError),
    /// Someone else signed in.
    #[error(
        "signed in as {signed_in}, but this connection belongs to {owner}; nothing was changed. \
         Sign in again as {owner} (use --select-account to pick the account)"
    )]
    WrongAccount {
        /// Who signed in.
        signed_in: String,
        /// Whom the connection belongs to.
        owner: String,
    },
}

/// `AADSTS… Title. User message.` of a verdict, for error messages.
pub(crate) fn describe(v: &Verdict) -> String {
    let code = v
        .primary_code
        .map(|c| format!("AADSTS{c} "))
        .unwrap_or_default();
    if v.user_message.is_empty() {
        format!("{code}{}", v.title)
    } else {
        format!("{code}{}. {}", v.title, v.user_message)
    }
}

/// The outcome class a verdict puts a failed sign-in in.
pub(crate) fn outcome_of(v: &Verdict) -> Outcome {
    if v.is_transient() {
        Outcome::Transient
    } else if v.needs_admin_or_developer() && v.reconnect_fixes != ReconnectFixes::Yes {
        Outcome::NeedsAdmin
    } else if v.needs_reconnect() {
        Outcome::ReconnectNeeded
    } else {
        Outcome::Other
    }
}

impl SigninError {
    /// The class of this ending.
    pub fn outcome(&self) -> Outcome {
        match self {
            Self::Cancelled | Self::TimedOut(_) => Outcome::Cancelled,
            Self::Refused(v) if v.error_subcode.as_deref() == Some("cancel") => Outcome::Cancelled,
            Self::Refused(v) | Self::Exchange { verdict: v, .. } => outcome_of(v),
            Self::Provider(EndpointError::Fetch(_)) | Self::Keys(IdTokenError::Keys(_)) => {
                Outcome::Transient
            }
            Self::WrongAccount { .. } => Outcome::ReconnectNeeded,
            Self::NoRefreshToken => Outcome::NeedsAdmin,
            Self::Device(e) => e.outcome(),
            _ => Outcome::Other,
        }
    }

    /// The decoder's verdict, when the provider said why.
    pub fn verdict(&self) -> Option<&Verdict> {
        match self {
            Self::Refused(v) | Self::Exchange { verdict: v, .. } => Some(v),
            Self::Device(e) => e.verdict(),
            _ => None,
        }
    }

    /// A one-line title for the browser page.
    pub fn title(&self) -> &'static str {
        match self.outcome() {
            Outcome::Cancelled => "Sign-in cancelled",
            _ if matches!(self, Self::WrongAccount { .. }) => "Wrong account",
            _ => "Sign-in failed",
        }
    }

    /// The full message, with the chain of causes.
    pub fn chain(&self) -> String {
        chain_of(self)
    }
}

/// An error's message followed by its causes, each cause left out when the
/// text already says it.
pub(crate) fn chain_of(err: &(dyn std::error::Error + 'static)) -> String {
    reconnect_core::report::chain(err)
}
