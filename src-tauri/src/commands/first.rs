//! A first connection: an account that knew nothing of its user (so the
//! same-account guard had nothing to compare with) ends its sign-in in
//! `confirming`, with an event that names who signed in; the user's answer
//! ([`first_connection_answer`]) keeps the connection or removes it through
//! [`reconnect_engine::Engine::disconnect`].

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use tauri::{AppHandle, State};

use super::progress::{ProgressEvent, SigninOutcome, emit, step};
use crate::backend::{AppState, Backend, Failure, FailureCode};
use crate::views::SignedInView;

/// Who signed in to `account`, from the identity the sign-in stored.
pub(super) fn signed_in(backend: &Backend, account: &str, described: &str) -> SignedInView {
    match backend.data.store().account(account) {
        Ok(stored) => SignedInView::new(&stored.identity, described),
        Err(_) => SignedInView::new(&reconnect_store::Identity::default(), described),
    }
}

/// The event that asks whether a first connection is the user's own.
pub(super) fn first_connection(account: &str, who: SignedInView) -> ProgressEvent {
    let outcome = SigninOutcome::FirstConnection;
    ProgressEvent {
        outcome: Some(outcome),
        message: Some(format!("Signed in as {}.", who.user)),
        signed_in: Some(who),
        ..step(account, outcome.phase())
    }
}

/// The accounts whose sign-in is a first connection (nothing was known of
/// their user before), from the start of the sign-in until the user keeps
/// or removes the connection.
#[derive(Debug, Default)]
pub struct FirstSignins(Mutex<HashMap<String, FirstState>>);

/// Where a first connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FirstState {
    /// Its sign-in runs.
    SigningIn,
    /// It connected: the user is asked to keep or remove it.
    Asking,
}

impl FirstSignins {
    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<String, FirstState>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A sign-in of `name` starts; `first` when its user is not known yet.
    pub fn started(&self, name: &str, first: bool) {
        let mut table = self.table();
        if first {
            table.insert(name.to_owned(), FirstState::SigningIn);
        } else {
            table.remove(name);
        }
    }

    /// The sign-in of `name` ended: whether to ask about it (a first one
    /// that connected).
    pub fn ended(&self, name: &str, connected: bool) -> bool {
        let mut table = self.table();
        let first = table.get(name) == Some(&FirstState::SigningIn);
        if first && connected {
            table.insert(name.to_owned(), FirstState::Asking);
        } else {
            table.remove(name);
        }
        first && connected
    }

    /// Takes the question about `name`: whether one was waiting.
    pub fn answer(&self, name: &str) -> bool {
        let mut table = self.table();
        if table.get(name) == Some(&FirstState::Asking) {
            table.remove(name);
            true
        } else {
            false
        }
    }

    /// Asks about `name` again (its answer could not be carried out).
    pub fn ask_again(&self, name: &str) {
        self.table().insert(name.to_owned(), FirstState::Asking);
    }
}

/// Drops a question waiting about `name`, whose account was removed, and
/// tells the window, so that an account added again under the name is not
/// asked about someone else's sign-in.
pub fn forget(app: &AppHandle, backend: &Backend, name: &str) {
    if backend.first_signins.answer(name) {
        emit(
            app,
            backend,
            ProgressEvent {
                outcome: Some(SigninOutcome::Cancelled),
                message: Some(format!("{name} was removed.")),
                ..step(name, SigninOutcome::Cancelled.phase())
            },
        );
    }
}

/// The user's answer to a first connection. The serde names are the
/// strings `ui/views/reconnect.js` sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FirstAnswer {
    /// It is the user's account: keep the connection.
    Keep,
    /// It is not: remove the tokens; the account is never connected again.
    Remove,
}

/// Keeps or removes a first connection that waits for the user's answer.
#[tauri::command]
pub async fn first_connection_answer(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
    answer: FirstAnswer,
) -> Result<(), Failure> {
    let backend = state.current().await?;
    if !backend.first_signins.answer(&name) {
        return Err(Failure::new(
            FailureCode::NotRunning,
            format!("No first sign-in of {name} is waiting for an answer."),
        ));
    }
    let who = signed_in(&backend, &name, "an unknown user").user;
    let (outcome, message) = match answer {
        FirstAnswer::Keep => (SigninOutcome::Connected, format!("Connected as {who}.")),
        FirstAnswer::Remove => {
            let why = format!("first sign-in as {who} declined: connection removed");
            if let Err(err) = backend.engine.disconnect(&name, &why).await {
                backend.first_signins.ask_again(&name);
                return Err(Failure::from(err).context("The connection could not be removed"));
            }
            let text = format!(
                "The sign-in as {who} was removed and no tokens were kept: {name} is not connected."
            );
            (SigninOutcome::Declined, text)
        }
    };
    emit(
        &app,
        &backend,
        ProgressEvent {
            outcome: Some(outcome),
            message: Some(message),
            ..step(&name, outcome.phase())
        },
    );
    super::accounts_changed(&app);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::progress::name;

    #[test]
    fn only_a_first_sign_in_that_connected_is_asked_about_once() {
        let first = FirstSignins::default();
        first.started("new", true);
        assert!(
            first.ended("new", true),
            "a first connection is asked about"
        );
        assert!(first.answer("new"), "the answer takes the question");
        assert!(!first.answer("new"), "and only once");

        first.started("known", false);
        assert!(
            !first.ended("known", true),
            "a known user is not asked about"
        );
        assert!(!first.answer("known"));

        first.started("failed", true);
        assert!(
            !first.ended("failed", false),
            "nothing connected, nothing to ask"
        );
        assert!(!first.answer("failed"));

        // A sign-in of a user known by now forgets an unanswered question.
        first.started("again", true);
        assert!(first.ended("again", true));
        first.started("again", false);
        assert!(!first.answer("again"));

        // An answer that could not be carried out is asked again.
        first.started("retry", true);
        assert!(first.ended("retry", true));
        assert!(first.answer("retry"));
        first.ask_again("retry");
        assert!(first.answer("retry"));
    }

    #[test]
    fn a_first_connection_names_who_signed_in() {
        let identity = reconnect_store::Identity {
            upn: Some("alice@contoso.test".into()),
            tid: Some("t-1".into()),
            display_name: Some("Alice".into()),
            ..Default::default()
        };
        let who = SignedInView::new(&identity, "ignored");
        let json = serde_json::to_value(first_connection("lab", who)).unwrap();
        assert_eq!(json["phase"], "confirming");
        assert_eq!(json["outcome"], "first_connection");
        assert_eq!(json["signed_in"]["user"], "alice@contoso.test");
        assert_eq!(json["signed_in"]["tenant"], "t-1");
        assert_eq!(json["signed_in"]["display_name"], "Alice");
        let nameless = SignedInView::new(&Default::default(), "the user with subject s-1");
        assert_eq!(nameless.user, "the user with subject s-1");
        assert_eq!(nameless.tenant, None);
        assert_eq!(name(FirstAnswer::Keep), "keep");
        assert_eq!(name(FirstAnswer::Remove), "remove");
        let ui = include_str!("../../../ui/views/reconnect.js");
        assert!(ui.contains("\"keep\"") && ui.contains("\"remove\""));
    }
}
