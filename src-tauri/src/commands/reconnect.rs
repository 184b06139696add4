//! The Reconnect button: an interactive sign-in (authorization code + PKCE,
//! loopback redirect) run by `reconnect-signin`, reported to the webview as
//! `reconnect-progress` events. The events carry the authorize URL (for
//! "copy link": it holds only the PKCE challenge, never the verifier) and
//! never a token or an authorization code.
//!
//! "Sign in on another device" ([`super::device`]) reports on the same
//! channel with the same phases and endings; both ways share the running
//! sign-ins' table (so `reconnect_cancel` ends either) and the ending.
//!
//! A first connection ends with the question who signed in
//! ([`super::first`]); the events and their phases are [`super::progress`]'s.

use std::sync::{Arc, Mutex, PoisonError};

use reconnect_engine::Engine;
use reconnect_oauth::{TokenClient, TokenClientConfig};
use reconnect_signin::{CancellationToken, Progress, Signin, SigninError, SigninOptions};
use tauri::{AppHandle, State};

use super::error::{chain, signin_message};
use super::first::{first_connection, signed_in};
use super::progress::{Phase, Problem, ProgressEvent, SigninOutcome, emit, step};
use crate::backend::{AppState, Backend, Failure, FailureCode};

/// Environment variable naming a command that receives the sign-in URL
/// instead of the system browser (tests, kiosks).
pub const BROWSER_ENV: &str = "RECONNECT_BROWSER";

/// What the card says when the browser could not be opened.
fn browser_failed_message(reason: &str) -> String {
    format!(
        "The browser could not be opened: {reason}. Copy the link instead and open it in a browser on this computer."
    )
}

/// How a sign-in ended without connecting: its class, the card's words
/// and whether the browser was what failed.
#[derive(Debug)]
pub(super) struct Ended {
    outcome: SigninOutcome,
    message: String,
    problem: Option<Problem>,
}

impl From<SigninError> for Ended {
    fn from(err: SigninError) -> Self {
        Self {
            outcome: err.outcome().into(),
            message: signin_message(&err),
            problem: matches!(err, SigninError::Browser(_)).then_some(Problem::BrowserFailed),
        }
    }
}

/// The event for one step the sign-in reports. `deadline` remembers when
/// the wait for the browser ends, for the steps that follow.
fn progress_event(
    name: &str,
    p: &Progress,
    engine: &Engine,
    deadline: &Mutex<Option<i64>>,
) -> ProgressEvent {
    match p {
        Progress::Listening { .. } => step(name, Phase::Starting),
        Progress::BrowserOpened { url, timeout, .. } => {
            let ends = engine.now() + timeout.as_secs() as i64;
            *deadline.lock().unwrap_or_else(PoisonError::into_inner) = Some(ends);
            ProgressEvent {
                url: Some(url.clone()),
                expires_at: Some(ends),
                ..step(name, Phase::WaitingForBrowser)
            }
        }
        // The wait goes on: the card keeps the link to copy.
        Progress::BrowserFailed { url, reason } => ProgressEvent {
            url: Some(url.clone()),
            expires_at: *deadline.lock().unwrap_or_else(PoisonError::into_inner),
            message: Some(browser_failed_message(reason)),
            problem: Some(Problem::BrowserFailed),
            ..step(name, Phase::WaitingForBrowser)
        },
        Progress::Exchanging => step(name, Phase::Exchanging),
    }
}

/// Runs the sign-in; `Ok` names who signed in.
async fn sign_in(
    app: &AppHandle,
    backend: &Backend,
    account: &str,
    cancel: CancellationToken,
) -> Result<String, Ended> {
    let browser_cmd = std::env::var(BROWSER_ENV).ok();
    let browser = reconnect_signin::browser::choose(browser_cmd.as_deref())
        .map_err(|e| Ended::from(SigninError::from(e)))?;
    let client = token_client(backend)?;
    let deadline = Mutex::new(None::<i64>);
    let progress = |p: &Progress| {
        emit(
            app,
            backend,
            progress_event(account, p, &backend.engine, &deadline),
        );
    };
    let signin = Signin {
        client: &client,
        browser: browser.as_ref(),
        store: &backend.data,
        progress: &progress,
    };
    let options = SigninOptions {
        cancel,
        ..SigninOptions::default()
    };
    let user = signin.run(account, &options).await?;
    Ok(user.describe())
}

/// The token client of a sign-in, on the profile's clock.
pub(super) fn token_client(backend: &Backend) -> Result<TokenClient, Ended> {
    let clock = backend.engine.clone();
    TokenClient::new(TokenClientConfig::default())
        .map(|c| c.with_clock(Arc::new(move || clock.now())))
        .map_err(|e| Ended {
            outcome: SigninOutcome::Other,
            message: format!(
                "The sign-in could not set up its HTTP client: {}.",
                chain(&e)
            ),
            problem: None,
        })
}

/// The last event of a reconnect.
fn ending(account: &str, end: Result<String, Ended>) -> ProgressEvent {
    let (outcome, message, problem) = match end {
        Ok(user) => (
            SigninOutcome::Connected,
            format!("Connected as {user}."),
            None,
        ),
        Err(ended) => (ended.outcome, ended.message, ended.problem),
    };
    ProgressEvent {
        outcome: Some(outcome),
        message: Some(message),
        problem,
        ..step(account, outcome.phase())
    }
}

async fn run(app: AppHandle, backend: Arc<Backend>, account: String, cancel: CancellationToken) {
    let end = sign_in(&app, &backend, &account, cancel).await;
    finish(&app, &backend, &account, end).await;
}

/// Ends a sign-in of either way: frees the account's slot, has the engine
/// take the new tokens, and sends the last event (for a first connection,
/// the question who signed in).
pub(super) async fn finish(
    app: &AppHandle,
    backend: &Backend,
    account: &str,
    end: Result<String, Ended>,
) {
    if let Ok(mut running) = backend.signins.lock() {
        running.remove(account);
    }
    let ask = backend.first_signins.ended(account, end.is_ok());
    if end.is_ok()
        && let Err(err) = backend.engine.account_changed(account).await
    {
        tracing::warn!(
            "the engine did not take the new tokens: {}",
            Failure::from(err)
        );
    }
    let event = match end {
        Ok(user) if ask => first_connection(account, signed_in(backend, account, &user)),
        end => ending(account, end),
    };
    emit(app, backend, event);
    super::accounts_changed(app);
}

/// Checks the account exists and that no sign-in for it runs, then marks
/// one running: its cancel handle.
pub(super) fn claim(backend: &Backend, name: &str) -> Result<CancellationToken, Failure> {
    let account = backend.data.store().account(name)?;
    let cancel = CancellationToken::new();
    let mut running = backend
        .signins
        .lock()
        .map_err(|_| Failure::msg("The sign-in state is unavailable."))?;
    if running.contains_key(name) {
        return Err(Failure::new(
            FailureCode::Busy,
            format!("A sign-in for {name} is running already; finish or cancel it first."),
        ));
    }
    running.insert(name.to_owned(), cancel.clone());
    // Nothing known of its user: the one who signs in is asked about.
    backend
        .first_signins
        .started(name, account.identity.is_empty());
    Ok(cancel)
}

/// Starts the interactive sign-in for `name`; progress arrives as events.
#[tauri::command]
pub async fn reconnect_start(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
) -> Result<(), Failure> {
    let backend = state.current().await?;
    let cancel = claim(&backend, &name)?;
    emit(&app, &backend, step(&name, Phase::Starting));
    tauri::async_runtime::spawn(run(app, backend, name, cancel));
    Ok(())
}

/// Cancels the running sign-in for `name`, whichever way it goes.
#[tauri::command]
pub async fn reconnect_cancel(state: State<'_, AppState>, name: String) -> Result<(), Failure> {
    let backend = state.current().await?;
    let token = backend
        .signins
        .lock()
        .ok()
        .and_then(|r| r.get(&name).cloned());
    match token {
        Some(t) => {
            t.cancel();
            Ok(())
        }
        None => Err(Failure::new(
            FailureCode::NotRunning,
            format!("No sign-in for {name} is running; it has ended already."),
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use reconnect_core::decode::decode_code;
    use reconnect_signin::browser::BrowserError;

    use super::*;
    use crate::commands::progress::name;

    #[test]
    fn the_last_event_says_how_it_ended() {
        let ok =
            serde_json::to_value(ending("carlos-crm", Ok("carlos@contoso.test".into()))).unwrap();
        assert_eq!(ok["phase"], "succeeded");
        assert_eq!(ok["outcome"], "connected");
        assert_eq!(ok["message"], "Connected as carlos@contoso.test.");

        let cancelled = ending(
            "carlos-crm",
            Err(Ended::from(SigninError::TimedOut(Duration::from_secs(300)))),
        );
        assert_eq!(cancelled.phase, Phase::Cancelled);
        assert!(
            cancelled
                .message
                .as_deref()
                .is_some_and(|m| m.starts_with("Sign-in cancelled")),
            "{cancelled:?}"
        );

        let refused = ending(
            "carlos-crm",
            Err(Ended::from(SigninError::Refused(Box::new(decode_code(
                50173,
            ))))),
        );
        let json = serde_json::to_value(&refused).unwrap();
        assert_eq!(json["phase"], "failed");
        assert_eq!(json["outcome"], "reconnect_needed");
        assert!(
            json["message"]
                .as_str()
                .unwrap()
                .starts_with("AADSTS50173 ")
        );
        assert!(
            json.get("url").is_none(),
            "unset fields are left out: {json}"
        );
    }

    #[test]
    fn a_browser_that_failed_offers_the_other_device() {
        assert_eq!(name(Problem::BrowserFailed), "browser_failed");
        let ui = include_str!("../../../ui/views/reconnect.js");
        assert!(
            ui.contains("\"browser_failed\""),
            "reconnect.js compares problem"
        );
        let bad = BrowserError::BadCommand("'unbalanced".into());
        let ended = serde_json::to_value(ending(
            "carlos-crm",
            Err(Ended::from(SigninError::from(bad))),
        ))
        .unwrap();
        assert_eq!(ended["phase"], "failed");
        assert_eq!(ended["problem"], "browser_failed");
        let refused = ending(
            "carlos-crm",
            Err(Ended::from(SigninError::Refused(Box::new(decode_code(
                50173,
            ))))),
        );
        assert_eq!(refused.problem, None);
    }
}
