//! How a sign-in ended, in the app's words.

use reconnect_core::decode::Verdict;
use reconnect_signin::browser::BrowserError;
use reconnect_signin::loopback::LoopbackError;
use reconnect_signin::{DeviceError, PasteError, SigninError};

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

/// How signing in on another device ended. Declined and expired codes are
/// cancellations: they start with "Sign-in cancelled".
fn device(err: &DeviceError, unchanged: &str) -> String {
    match err {
        DeviceError::Unsupported => format!(
            "This account's provider does not offer signing in on another device with a \
             code. {unchanged} Reconnect in a browser on this computer instead."
        ),
        DeviceError::Start { verdict, .. } => {
            format!("No sign-in code was issued: {}", verdict_text(verdict))
        }
        DeviceError::Blocked(verdict) => format!(
            "Your organization's Conditional Access policy does not allow signing in on \
             another device with a code ({}). {unchanged} Reconnect in a browser on this \
             computer, or ask an administrator.",
            verdict_text(verdict).trim_end_matches('.')
        ),
        DeviceError::Declined => {
            format!("Sign-in cancelled: it was declined on the other device. {unchanged}")
        }
        DeviceError::Expired(lifetime) => format!(
            "Sign-in cancelled: the code was not used within its {} minutes. {unchanged} \
             Start again for a new code.",
            lifetime.as_secs().div_ceil(60)
        ),
        DeviceError::BadCode => format!(
            "The provider no longer knows this sign-in's code. {unchanged} Start again for a \
             new code."
        ),
    }
}

/// How a pasted answer could not be used (the app pastes none; the words
/// are here for completeness).
fn pasted(err: &PasteError, unchanged: &str) -> String {
    match err {
        PasteError::NotAnAddress => {
            format!("The pasted text is not the address the browser ended on. {unchanged}")
        }
        PasteError::NotTheRedirect(host) => format!(
            "The pasted address goes to {host}, not to this computer's sign-in answer. \
             {unchanged}"
        ),
        PasteError::WrongState => {
            format!("The pasted address belongs to another sign-in. {unchanged}")
        }
        PasteError::NoAnswer => {
            format!("The pasted address carries no answer from the sign-in. {unchanged}")
        }
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
        SigninError::MissingIssuer { expected } => format!(
            "The sign-in answer did not name its issuer, though {expected} always does, so it \
             may not come from there. {unchanged}"
        ),
        SigninError::NoIdToken => format!(
            "The provider sent no ID token, so Reconnect cannot tell who signed in. {unchanged}"
        ),
        SigninError::NoRefreshToken => format!(
            "The provider gave no refresh token, so the connection could not be kept alive. \
             {unchanged} Its administrator must allow refresh tokens (offline access) for this \
             app."
        ),
        SigninError::IdToken(e) => {
            format!(
                "The provider's ID token was refused: {}. {unchanged}",
                chain(e)
            )
        }
        SigninError::Device(e) => device(e, unchanged),
        SigninError::Pasted(e) => pasted(e, unchanged),
        SigninError::WrongAccount { signed_in, owner } => format!(
            "You signed in as {signed_in}, but this connection belongs to {owner}. \
             {unchanged} Reconnect again and pick {owner} in the browser."
        ),
    }
}
