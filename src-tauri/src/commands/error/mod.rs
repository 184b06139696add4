//! Errors to the webview. Every command fails with a [`Failure`], which the
//! webview receives as `{ "code": "…", "message": "…" }`: the code is a
//! [`FailureCode`] the UI branches on (`ui/api.js` turns the rejection into
//! an `Error` carrying `.code`), the message is a sentence written for the
//! app.
//!
//! Each library error is mapped here variant by variant, by explicit `From`
//! impls. The messages keep the cause's useful text (a file, a status, the
//! decoder's verdict) but give the app's remedy ("reconnect the account",
//! "unlock your keychain") rather than a CLI command, and never hold a
//! secret: library errors carry none, and the one piece of user input that
//! could (credentials in a URL) is masked. The mappings live by library:
//! `storage` (keychain, vault, database, locks), `engine` (refreshes, the
//! demo, profiles), `signin` (how a sign-in ended).

use std::error::Error as StdError;
use std::fmt::Display;

use serde::{Deserialize, Serialize};

mod config;
mod engine;
mod signin;
mod storage;
#[cfg(test)]
mod tests;

pub use signin::{signin_message, verdict_text};
pub use storage::keychain;

/// What went wrong, as the UI branches on it. The serde names are the
/// contract with `ui/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureCode {
    /// No account has that name (removed meanwhile, or mistyped).
    UnknownAccount,
    /// An account with that name exists already.
    DuplicateName,
    /// The input cannot be used: a form field, a code, a profile name, an
    /// account's settings.
    InvalidInput,
    /// The account has never signed in: Reconnect connects it.
    NotConnected,
    /// The grant is gone (or its tokens are damaged): Reconnect fixes it.
    ReconnectNeeded,
    /// An administrator or the app's developer must act first.
    NeedsAdmin,
    /// The same request failed moments ago; it is retried automatically.
    Deferred,
    /// The service or the network is in trouble; a later attempt may work.
    Transient,
    /// The keychain is locked.
    KeychainLocked,
    /// The keychain refused Reconnect access.
    KeychainDenied,
    /// No keychain can be reached, or it failed.
    KeychainUnavailable,
    /// The data directory or the database failed.
    Storage,
    /// The same thing is running already (a sign-in, another process's
    /// refresh).
    Busy,
    /// Nothing of that kind is running (a sign-in to cancel).
    NotRunning,
    /// Only the demo profile (its simulator) can do this.
    NotDemo,
    /// Anything else: an unexpected failure of the app or the system.
    Internal,
}

impl FailureCode {
    /// Every code, for tests and docs.
    pub const ALL: [FailureCode; 16] = [
        Self::UnknownAccount,
        Self::DuplicateName,
        Self::InvalidInput,
        Self::NotConnected,
        Self::ReconnectNeeded,
        Self::NeedsAdmin,
        Self::Deferred,
        Self::Transient,
        Self::KeychainLocked,
        Self::KeychainDenied,
        Self::KeychainUnavailable,
        Self::Storage,
        Self::Busy,
        Self::NotRunning,
        Self::NotDemo,
        Self::Internal,
    ];
}

/// A command's failure, as the webview sees it: `{ code, message }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    /// What went wrong, for the UI to branch on.
    pub code: FailureCode,
    /// What to tell the user: the cause and the remedy, in the app's words.
    pub message: String,
}

impl Failure {
    /// A failure with this code and message.
    pub fn new(code: FailureCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// An unexpected failure with this message (code `internal`).
    pub fn msg(text: impl Into<String>) -> Self {
        Self::new(FailureCode::Internal, text)
    }

    /// Input the command cannot use (code `invalid_input`).
    pub fn invalid(text: impl Into<String>) -> Self {
        Self::new(FailureCode::InvalidInput, text)
    }

    /// Something only the demo profile can do (code `not_demo`).
    pub fn not_demo(text: impl Into<String>) -> Self {
        Self::new(FailureCode::NotDemo, text)
    }

    /// The same message behind a lead-in, with the same code.
    pub fn context(self, lead: impl Display) -> Self {
        Self::new(self.code, format!("{lead}: {}", self.message))
    }
}

/// An error's text followed by its causes, each left out when the text
/// already says it.
pub fn chain(err: &(dyn StdError + 'static)) -> String {
    reconnect_core::report::chain(err)
}

/// The causes of `err` without its own text (which a caller words
/// itself), or its text when it has no cause.
fn causes_or_text(err: &(dyn StdError + 'static)) -> String {
    err.source().map_or_else(|| err.to_string(), chain)
}

/// `text` with the user-and-password part of any URL in it masked.
fn mask_credentials(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '/' | '"' | '\'' | '?' | '#'))
            .unwrap_or(tail.len());
        match tail[..end].rfind('@') {
            Some(cut) => {
                out.push_str("…@");
                rest = &tail[cut + 1..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}
