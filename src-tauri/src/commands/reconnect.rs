//! The Reconnect button: an interactive sign-in (authorization code + PKCE,
//! loopback redirect) run by `reconnect-signin`, reported to the webview as
//! `reconnect-progress` events. The events carry the authorize URL (for
//! "copy link": it holds only the PKCE challenge, never the verifier) and
//! never a token or an authorization code.
//!
//! "Sign in on another device" ([`super::device`]) reports on the same
//! channel with the same phases and endings; both ways share the running
//! sign-ins' table (so `reconnect_cancel` ends either) and the ending.

use std::sync::{Arc, Mutex, PoisonError};

use reconnect_engine::Engine;
use reconnect_oauth::{TokenClient, TokenClientConfig};
use reconnect_signin::{CancellationToken, Outcome, Progress, Signin, SigninError, SigninOptions};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Emitter, State};

use super::device::DeviceCodeView;
use super::error::{chain, signin_message};
use crate::backend::{AppState, Backend, Failure, FailureCode};

/// Environment variable naming a command that receives the sign-in URL
/// instead of the system browser (tests, kiosks).
pub const BROWSER_ENV: &str = "RECONNECT_BROWSER";

/// Where a reconnect is. The serde names are the strings
/// `ui/views/reconnect.js` and `ui/app.js` compare `phase` with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The listener is starting and the browser is about to open.
    Starting,
    /// The browser shows the sign-in page; the countdown runs.
    WaitingForBrowser,
    /// Another device's way: a sign-in code is being asked for.
    RequestingCode,
    /// The code is shown; waiting for it to be entered on another device.
    WaitingForDevice,
    /// The browser came back (or the other device approved); the tokens
    /// are being fetched, checked and stored.
    Exchanging,
    /// Connected: the new tokens are stored.
    Succeeded,
    /// Ended without connecting.
    Failed,
    /// Cancelled by the user, in the app or in the browser, or timed out.
    Cancelled,
}

impl Phase {
    /// Every phase, for tests.
    pub const ALL: [Phase; 8] = [
        Self::Starting,
        Self::WaitingForBrowser,
        Self::RequestingCode,
        Self::WaitingForDevice,
        Self::Exchanging,
        Self::Succeeded,
        Self::Failed,
        Self::Cancelled,
    ];
}

/// How a reconnect ended: the sign-in crate's [`Outcome`] (the class the
/// CLI turns into an exit code), plus `connected`. The serde names are the
/// health names the UI already knows (`reconnect_needed`, `needs_admin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SigninOutcome {
    /// Connected.
    Connected,
    /// Still needs an interactive sign-in (another try, another user).
    ReconnectNeeded,
    /// An administrator or the app's developer must act first.
    NeedsAdmin,
    /// The provider or the network is in trouble; try again later.
    Transient,
    /// Cancelled or timed out.
    Cancelled,
    /// Anything else.
    Other,
}

impl SigninOutcome {
    /// Every outcome, for tests.
    pub const ALL: [SigninOutcome; 6] = [
        Self::Connected,
        Self::ReconnectNeeded,
        Self::NeedsAdmin,
        Self::Transient,
        Self::Cancelled,
        Self::Other,
    ];

    /// The phase a reconnect that ended this way ends in.
    pub fn phase(self) -> Phase {
        match self {
            Self::Connected => Phase::Succeeded,
            Self::Cancelled => Phase::Cancelled,
            Self::ReconnectNeeded | Self::NeedsAdmin | Self::Transient | Self::Other => {
                Phase::Failed
            }
        }
    }
}

impl From<Outcome> for SigninOutcome {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::ReconnectNeeded => Self::ReconnectNeeded,
            Outcome::NeedsAdmin => Self::NeedsAdmin,
            Outcome::Transient => Self::Transient,
            Outcome::Cancelled => Self::Cancelled,
            Outcome::Other => Self::Other,
        }
    }
}

/// A problem met on the way that the webview offers a way around: the
/// serde names are the strings `ui/views/reconnect.js` compares `problem`
/// with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// The browser could not be opened (or started): signing in on another
    /// device is offered first.
    BrowserFailed,
}

/// One step of a reconnect, as the webview sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ProgressEvent {
    /// The account.
    pub account: String,
    /// Where the reconnect is.
    pub phase: Phase,
    /// How it ended, once it has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<SigninOutcome>,
    /// The authorize URL, while waiting for the browser.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// When the wait ends (backend clock).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// The ending in words, or a problem met while waiting (the browser
    /// could not be opened).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// A problem the webview offers a way around.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
    /// The code to enter on another device, while waiting for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceCodeView>,
}

pub(super) fn emit(app: &AppHandle, event: ProgressEvent) {
    let _ = app.emit("reconnect-progress", event);
}

pub(super) fn step(account: &str, phase: Phase) -> ProgressEvent {
    ProgressEvent {
        account: account.to_owned(),
        phase,
        outcome: None,
        url: None,
        expires_at: None,
        message: None,
        problem: None,
        device: None,
    }
}

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
        emit(app, progress_event(account, p, &backend.engine, &deadline));
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
/// take the new tokens, and sends the last event.
pub(super) async fn finish(
    app: &AppHandle,
    backend: &Backend,
    account: &str,
    end: Result<String, Ended>,
) {
    if let Ok(mut running) = backend.signins.lock() {
        running.remove(account);
    }
    if end.is_ok()
        && let Err(err) = backend.engine.account_changed(account).await
    {
        tracing::warn!(
            "the engine did not take the new tokens: {}",
            Failure::from(err)
        );
    }
    emit(app, ending(account, end));
    super::accounts_changed(app);
}

/// Checks the account exists and that no sign-in for it runs, then marks
/// one running: its cancel handle.
pub(super) fn claim(backend: &Backend, name: &str) -> Result<CancellationToken, Failure> {
    backend.data.store().account(name)?;
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
    emit(&app, step(&name, Phase::Starting));
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

    fn name<T: Serialize>(value: T) -> String {
        serde_json::to_value(value)
            .unwrap()
            .as_str()
            .expect("a string")
            .to_owned()
    }

    #[test]
    fn phases_are_the_strings_the_ui_compares() {
        let names: Vec<String> = Phase::ALL.into_iter().map(name).collect();
        assert_eq!(
            names,
            [
                "starting",
                "waiting_for_browser",
                "requesting_code",
                "waiting_for_device",
                "exchanging",
                "succeeded",
                "failed",
                "cancelled"
            ]
        );
        let ui = include_str!("../../../ui/views/reconnect.js");
        for (phase, text) in Phase::ALL.into_iter().zip(&names) {
            assert!(
                ui.contains(&format!("\"{text}\"")),
                "{text} not in reconnect.js"
            );
            let back: Phase = serde_json::from_value(serde_json::json!(text)).unwrap();
            assert_eq!(back, phase);
        }
        let app = include_str!("../../../ui/app.js");
        assert!(app.contains("\"succeeded\"") && app.contains("\"failed\""));
    }

    #[test]
    fn outcomes_mirror_the_sign_in_crate_and_round_trip() {
        let names: Vec<String> = SigninOutcome::ALL.into_iter().map(name).collect();
        assert_eq!(
            names,
            [
                "connected",
                "reconnect_needed",
                "needs_admin",
                "transient",
                "cancelled",
                "other"
            ]
        );
        for (outcome, text) in SigninOutcome::ALL.into_iter().zip(&names) {
            let back: SigninOutcome = serde_json::from_value(serde_json::json!(text)).unwrap();
            assert_eq!(back, outcome);
        }
        let cases = [
            (Outcome::ReconnectNeeded, SigninOutcome::ReconnectNeeded),
            (Outcome::NeedsAdmin, SigninOutcome::NeedsAdmin),
            (Outcome::Transient, SigninOutcome::Transient),
            (Outcome::Cancelled, SigninOutcome::Cancelled),
            (Outcome::Other, SigninOutcome::Other),
        ];
        for (from, want) in cases {
            assert_eq!(SigninOutcome::from(from), want);
        }
        // The health names the UI knows spell the shared outcomes the same way.
        let words = include_str!("../../../ui/views/words.js");
        assert!(words.contains("reconnect_needed:") && words.contains("needs_admin:"));
    }

    #[test]
    fn each_ending_has_its_phase() {
        let phases: Vec<Phase> = SigninOutcome::ALL.into_iter().map(|o| o.phase()).collect();
        use Phase::{Cancelled, Failed, Succeeded};
        assert_eq!(
            phases,
            [Succeeded, Failed, Failed, Failed, Cancelled, Failed]
        );
    }

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

    #[test]
    fn a_step_has_no_outcome_yet() {
        let json = serde_json::to_value(step("adele-mail", Phase::WaitingForBrowser)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "account": "adele-mail", "phase": "waiting_for_browser" })
        );
    }
}
