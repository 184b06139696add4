//! Refresh, engine, demo, simulator and profile errors in the app's words.

use reconnect_core::health::Health;
use reconnect_core::policy::FailureClass;
use reconnect_engine::{EngineError, FailureRecord};

use super::storage::{home, lock, store, vault};
use super::{Failure, FailureCode, chain};

/// The code a decoded failure calls for.
fn class_code(class: FailureClass) -> FailureCode {
    match class {
        FailureClass::Transient { .. } => FailureCode::Transient,
        FailureClass::ReconnectNeeded => FailureCode::ReconnectNeeded,
        FailureClass::NeedsAdmin | FailureClass::AppMisconfigured => FailureCode::NeedsAdmin,
    }
}

/// What to do about a decoded failure, as a closing sentence.
fn remedy(code: FailureCode) -> &'static str {
    match code {
        FailureCode::ReconnectNeeded => " Reconnect the account to sign in again.",
        FailureCode::NotConnected => " Reconnect the account to sign in.",
        FailureCode::NeedsAdmin => {
            " An administrator or the app's developer must act before a reconnect helps."
        }
        FailureCode::Transient => " It is retried automatically.",
        _ => "",
    }
}

/// A stopped account: the code its health calls for, and the words for it.
fn stopped(name: &str, health: &Health, failure: Option<&FailureRecord>) -> Failure {
    let code = match health {
        Health::NeverConnected => FailureCode::NotConnected,
        Health::ReconnectNeeded => FailureCode::ReconnectNeeded,
        Health::NeedsAdmin | Health::AppMisconfigured => FailureCode::NeedsAdmin,
        _ => failure.map_or(FailureCode::Internal, |f| class_code(f.class)),
    };
    let state = match code {
        FailureCode::NotConnected => "is not connected yet",
        FailureCode::NeedsAdmin => "waits for an administrator",
        _ => "needs a reconnect",
    };
    let why = failure
        .map(|f| format!(": {}", f.summary()))
        .unwrap_or_default();
    Failure::new(
        code,
        format!("{name} {state}{why}. Nothing was sent.{}", remedy(code)),
    )
}

fn not_connected(name: &str) -> Failure {
    let code = FailureCode::NotConnected;
    Failure::new(
        code,
        format!("{name} is not connected yet.{}", remedy(code)),
    )
}

fn refresh_failed(name: &str, failure: &FailureRecord) -> Failure {
    let code = class_code(failure.class);
    let why = failure.summary();
    Failure::new(
        code,
        format!(
            "Refreshing {name} failed: {}.{}",
            why.trim_end_matches('.'),
            remedy(code)
        ),
    )
}

/// A refresh not sent because the same one failed moments ago. A failure
/// that only waiting cures is `deferred`; one that needs a person keeps the
/// code of what it needs, so the UI offers the fix rather than the wait.
fn deferred(name: &str, until: i64, failure: Option<&FailureRecord>) -> Failure {
    let code = match failure.map(|f| class_code(f.class)) {
        None | Some(FailureCode::Transient) => FailureCode::Deferred,
        Some(other) => other,
    };
    let why = failure
        .map(|f| format!(" {}.", f.summary().trim_end_matches('.')))
        .unwrap_or_default();
    Failure::new(
        code,
        format!(
            "Refreshing {name} failed moments ago, so it is not tried again before {}.{why}{}",
            reconnect_core::decode::date::format_utc(until),
            remedy(code)
        ),
    )
}

fn engine(err: &EngineError) -> Failure {
    match err {
        EngineError::NotConnected { name } => not_connected(name),
        EngineError::Refresh { name, failure } => refresh_failed(name, failure),
        EngineError::Stopped {
            name,
            health,
            failure,
        } => stopped(name, health, failure.as_deref()),
        EngineError::Deferred {
            name,
            until,
            failure,
        } => deferred(name, *until, failure.as_deref()),
        EngineError::UnknownAccount { name } => Failure::new(
            FailureCode::UnknownAccount,
            format!("There is no account named {name}; it may have been removed."),
        ),
        EngineError::InvalidCode { code } => Failure::invalid(format!(
            "{code} is not an AADSTS code; enter one such as 50173."
        )),
        EngineError::NotSimulated { name, authority } => Failure::not_demo(format!(
            "{name} signs in at {authority}, not at the demo's simulator: failures can be \
             armed only for simulated accounts."
        )),
        EngineError::Endpoints { name, source } => Failure::invalid(format!(
            "The authority or tenant of {name} cannot be used ({}). Remove the account and \
             add it again with corrected settings.",
            chain(source)
        )),
        EngineError::Superseded { name } => Failure::new(
            FailureCode::Busy,
            format!(
                "{name} was reconnected while a refresh was under way; the refresh was dropped \
                 and the new sign-in kept."
            ),
        ),
        EngineError::Unsaved { name } => Failure::new(
            FailureCode::KeychainUnavailable,
            format!(
                "{name} was refreshed, but the keychain refused the new tokens. Unlock or \
                 repair your keychain; until then they are kept only while Reconnect runs."
            ),
        ),
        EngineError::Store(e) => store(e),
        EngineError::Vault(e) => vault(e),
        EngineError::Lock(e) => lock(e),
        EngineError::Home(e) => home(e),
        EngineError::Http(_) | EngineError::Runtime(_) | EngineError::Task(_) => {
            Failure::msg(format!("Reconnect failed inside: {}.", chain(err)))
        }
    }
}

impl From<EngineError> for Failure {
    fn from(err: EngineError) -> Self {
        engine(&err)
    }
}

impl From<reconnect_core::decode::DecodeError> for Failure {
    fn from(err: reconnect_core::decode::DecodeError) -> Self {
        match err {
            reconnect_core::decode::DecodeError::Empty => {
                Failure::invalid("Nothing to decode: paste an error, a redirect URL or a code.")
            }
        }
    }
}

impl From<reconnect_core::authority::AuthorityError> for Failure {
    fn from(err: reconnect_core::authority::AuthorityError) -> Self {
        use reconnect_core::authority::AuthorityError as A;
        Failure::invalid(match err {
            A::TenantName(name) => format!(
                "\u{201c}{name}\u{201d} is not a tenant name. Enter the part before \
                 .onmicrosoft.com: letters, digits and dashes inside, at most 63."
            ),
            A::PolicyName(policy) => format!(
                "\u{201c}{policy}\u{201d} is not a user flow or policy name. Use letters, \
                 digits, _ and - only."
            ),
            A::PolicyPrefix(policy) => format!(
                "\u{201c}{policy}\u{201d} is not a B2C user flow or policy: user flows start \
                 with B2C_1_, custom policies with B2C_1A_."
            ),
        })
    }
}

impl From<reconnect_sim::SimError> for Failure {
    fn from(err: reconnect_sim::SimError) -> Self {
        use reconnect_sim::SimError as S;
        match &err {
            S::NotFound(what) | S::Conflict(what) | S::Invalid(what) => {
                Failure::invalid(format!("The simulator refused: {what}."))
            }
            S::NotLoopback(_) | S::Bind { .. } | S::Tls(_) | S::Keys(_) => {
                Failure::msg(format!("The demo's simulator failed: {}.", chain(&err)))
            }
        }
    }
}

impl From<crate::profile::ProfileError> for Failure {
    fn from(err: crate::profile::ProfileError) -> Self {
        match err {
            crate::profile::ProfileError::BadName(name) => Failure::invalid(format!(
                "{name:?} is not a profile name: use letters, digits, '-' and '_' only."
            )),
            crate::profile::ProfileError::Home(h) => home(&h),
        }
    }
}

impl From<crate::demo::DemoError> for Failure {
    fn from(err: crate::demo::DemoError) -> Self {
        use crate::demo::DemoError as D;
        match err {
            D::Store(e) => store(&e).context("The demo could not be set up"),
            D::Grant(e) => Failure::from(e).context("The demo could not be set up"),
            D::Sim(e) => Failure::from(e).context("The demo could not be set up"),
            D::Token(e) => Failure::msg(format!(
                "The demo could not be set up: the simulator's token answer was not \
                 understood ({}).",
                chain(&e)
            )),
        }
    }
}

/// The tester's words for a simulator control call that failed.
impl From<reconnect_sim::ControlError> for Failure {
    fn from(err: reconnect_sim::ControlError) -> Self {
        use reconnect_sim::{BreakError, ControlError};
        match &err {
            ControlError::Break(BreakError::NoCode) => {
                Failure::invalid("Enter the AADSTS code to answer with, such as 50173.")
            }
            ControlError::Refused { status, message } if status.is_client_error() => {
                Failure::invalid(format!("The simulator refused: {message}."))
            }
            _ => Failure::msg(format!("The demo's simulator failed: {}.", chain(&err))),
        }
    }
}
