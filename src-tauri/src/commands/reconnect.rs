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
//! A first connection (an account that knew nothing of its user, so the
//! same-account guard had nothing to compare with) ends in `confirming`:
//! the event names who signed in, and [`first_connection_answer`] keeps the
//! connection or removes it through [`reconnect_engine::Engine::disconnect`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use reconnect_engine::Engine;
use reconnect_oauth::{TokenClient, TokenClientConfig};
use reconnect_signin::{CancellationToken, Outcome, Progress, Signin, SigninError, SigninOptions};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Emitter, State};

use super::device::DeviceCodeView;
use super::error::{chain, signin_message};
use crate::backend::{AppState, Backend, Failure, FailureCode};
use crate::views::SignedInView;

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
    /// A first connection: the tokens are stored, and the user is asked
    /// whether the user who signed in is the one they meant.
    Confirming,
    /// Connected: the new tokens are stored.
    Succeeded,
    /// Ended without connecting.
    Failed,
    /// Cancelled by the user, in the app or in the browser, or timed out.
    Cancelled,
}

impl Phase {
    /// Every phase, for tests.
    pub const ALL: [Phase; 9] = [
        Self::Starting,
        Self::WaitingForBrowser,
        Self::RequestingCode,
        Self::WaitingForDevice,
        Self::Exchanging,
        Self::Confirming,
        Self::Succeeded,
        Self::Failed,
        Self::Cancelled,
    ];
}

/// How a reconnect ended: the sign-in crate's [`Outcome`] (the class the
/// CLI turns into an exit code), plus `connected`, and the two sides of a
/// first connection (asked about, declined). The serde names are the health
/// names the UI already knows (`reconnect_needed`, `needs_admin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SigninOutcome {
    /// Connected.
    Connected,
    /// Connected for the first time: the event names who signed in, and the
    /// user is asked to keep or remove the connection.
    FirstConnection,
    /// The user said a first connection was not theirs: it was removed.
    Declined,
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
    pub const ALL: [SigninOutcome; 8] = [
        Self::Connected,
        Self::FirstConnection,
        Self::Declined,
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
            Self::FirstConnection => Phase::Confirming,
            Self::Cancelled | Self::Declined => Phase::Cancelled,
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
    /// Who signed in, when a first connection asks to be confirmed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_in: Option<SignedInView>,
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
        signed_in: None,
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
    emit(app, event);
    super::accounts_changed(app);
}

/// Who signed in to `account`, from the identity the sign-in stored.
fn signed_in(backend: &Backend, account: &str, described: &str) -> SignedInView {
    match backend.data.store().account(account) {
        Ok(stored) => SignedInView::new(&stored.identity, described),
        Err(_) => SignedInView::new(&reconnect_store::Identity::default(), described),
    }
}

/// The event that asks whether a first connection is the user's own.
fn first_connection(account: &str, who: SignedInView) -> ProgressEvent {
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
        ProgressEvent {
            outcome: Some(outcome),
            message: Some(message),
            ..step(&name, outcome.phase())
        },
    );
    super::accounts_changed(&app);
    Ok(())
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
                "confirming",
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
                "first_connection",
                "declined",
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
        let ui = include_str!("../../../ui/views/reconnect.js");
        assert!(ui.contains("first_connection") && ui.contains("declined"));
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
        use Phase::{Cancelled, Confirming, Failed, Succeeded};
        assert_eq!(
            phases,
            [
                Succeeded, Confirming, Cancelled, Failed, Failed, Failed, Cancelled, Failed
            ]
        );
    }

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
