//! How a sign-in ended, in the app's words.

use reconnect_core::decode::Verdict;
use reconnect_signin::SigninError;
use reconnect_signin::browser::BrowserError;
use reconnect_signin::loopback::LoopbackError;

use reconnect_store::StoreError;

use super::storage::store;
use super::{causes_or_text, chain};

/// `AADSTS50173 Title. What the user can do.` from the decoder's verdict
/// (its words come from the core's data tables).
pub fn verdict_text(v: &Verdict) -> String {
    let code = v
        .primary_code
        .map(|c| format!("AADSTS{c} "))
        .unwrap_or_default();
    let title = v.title.trim_end_matches('.');
    if v.user_message.is_empty() {
        format!("{code}{title}.")
    } else {
        format!("{code}{title}. {}", v.user_message)
    }
}

fn browser(err: &BrowserError) -> String {
    match err {
        BrowserError::BadCommand(cmd) => format!(
            "The browser command {cmd:?} (set in RECONNECT_BROWSER) cannot be read; fix or \
             unset it."
        ),
        BrowserError::Spawn { program, source } => {
            format!("The browser ({program}) could not be started: {source}.")
        }
    }
}

fn listener(err: &LoopbackError) -> String {
    match err {
        LoopbackError::PortsBusy(range) => format!(
            "No port was free to receive the sign-in's answer ({range}); close what uses \
             those ports and try again."
        ),
        other => format!(
            "The sign-in could not receive the browser's answer: {}.",
            chain(other)
        ),
    }
}

/// What the Reconnect card says when a sign-in ended without connecting.
/// Cancelled endings start with "Sign-in cancelled".
pub fn signin_message(err: &SigninError) -> String {
    let unchanged = "Nothing was changed.";
    match err {
        SigninError::Cancelled => format!("Sign-in cancelled. {unchanged}"),
        SigninError::TimedOut(waited) => format!(
            "Sign-in cancelled: no answer came from the browser within {} s (was the \
             sign-in page closed?). {unchanged}",
            waited.as_secs()
        ),
        SigninError::Refused(v) if v.error_subcode.as_deref() == Some("cancel") => {
            format!("Sign-in cancelled in the browser. {unchanged}")
        }
        SigninError::Refused(v) | SigninError::Exchange { verdict: v, .. } => verdict_text(v),
        SigninError::Store(cause) => match cause.downcast_ref::<StoreError>() {
            Some(e) => store(e).message,
            None => format!(
                "The account could not be read or saved: {}.",
                chain(cause.as_ref())
            ),
        },
        SigninError::Provider(e) => format!(
            "The provider's sign-in endpoints could not be found: {}.",
            chain(e)
        ),
        SigninError::Keys(e) => format!(
            "The provider's signing keys could not be fetched: {}.",
            causes_or_text(e)
        ),
        SigninError::Listener(e) => listener(e),
        SigninError::Browser(e) => browser(e),
        SigninError::WrongIssuer { expected, found } => format!(
            "The sign-in answer came from {found}, not from the account's issuer {expected}. \
             {unchanged}"
        ),
        SigninError::NoIdToken => format!(
            "The provider sent no ID token, so Reconnect cannot tell who signed in. {unchanged}"
        ),
        SigninError::IdToken(e) => {
            format!(
                "The provider's ID token was refused: {}. {unchanged}",
                chain(e)
            )
        }
        SigninError::WrongAccount { signed_in, owner } => format!(
            "You signed in as {signed_in}, but this connection belongs to {owner}. \
             {unchanged} Reconnect again and pick {owner} in the browser."
        ),
    }
}
