//! Where each reconnect is, as the webview sees it: the `reconnect-progress`
//! events both ways of signing in send (the browser's, [`super::reconnect`],
//! and another device's, [`super::device`]), and the latest unsettled one
//! per account, kept so that a window loaded again (made anew after it was
//! destroyed, or reloaded) shows a running sign-in and a first connection's
//! question instead of losing them: [`reconnect_progress`].

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use reconnect_signin::Outcome;
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Emitter, State};

use super::device::DeviceCodeView;
use crate::backend::{AppState, Backend, Failure};
use crate::views::SignedInView;

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

    /// Whether a reconnect in this phase has settled: nothing runs for it
    /// and no question waits. A first connection's question has not.
    pub fn is_settled(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
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

/// The latest event of each account whose reconnect has not settled.
#[derive(Debug, Default)]
pub struct Unsettled(Mutex<HashMap<String, ProgressEvent>>);

impl Unsettled {
    /// Keeps `event` while its reconnect is unsettled, forgets the account
    /// once it settles.
    fn record(&self, event: &ProgressEvent) {
        let mut table = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if event.phase.is_settled() {
            table.remove(&event.account);
        } else {
            table.insert(event.account.clone(), event.clone());
        }
    }

    /// The kept events, by account name.
    fn events(&self) -> Vec<ProgressEvent> {
        let table = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let mut events: Vec<ProgressEvent> = table.values().cloned().collect();
        events.sort_by(|a, b| a.account.cmp(&b.account));
        events
    }
}

/// Sends `event` to the webview and keeps it while it is unsettled.
pub(super) fn emit(app: &AppHandle, backend: &Backend, event: ProgressEvent) {
    backend.unsettled.record(&event);
    let _ = app.emit("reconnect-progress", event);
}

/// The latest event of every reconnect of the open profile that still runs
/// or waits for an answer, for a window that loads while they do.
#[tauri::command]
pub async fn reconnect_progress(state: State<'_, AppState>) -> Result<Vec<ProgressEvent>, Failure> {
    Ok(state.current().await?.unsettled.events())
}

/// The string a value serializes to (an enum's wire name), for tests.
#[cfg(test)]
pub(super) fn name<T: Serialize>(value: T) -> String {
    serde_json::to_value(value)
        .unwrap()
        .as_str()
        .expect("a string")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_step_has_no_outcome_yet() {
        let json = serde_json::to_value(step("adele-mail", Phase::WaitingForBrowser)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "account": "adele-mail", "phase": "waiting_for_browser" })
        );
    }

    #[test]
    fn only_unsettled_reconnects_are_kept_the_latest_per_account() {
        let unsettled = Unsettled::default();
        unsettled.record(&step("b", Phase::Starting));
        unsettled.record(&step("a", Phase::WaitingForBrowser));
        unsettled.record(&step("b", Phase::WaitingForDevice));
        let kept: Vec<(String, Phase)> = unsettled
            .events()
            .into_iter()
            .map(|e| (e.account, e.phase))
            .collect();
        assert_eq!(
            kept,
            [
                ("a".to_owned(), Phase::WaitingForBrowser),
                ("b".to_owned(), Phase::WaitingForDevice)
            ]
        );
        // A question waits; an ending forgets the account.
        unsettled.record(&step("a", Phase::Confirming));
        unsettled.record(&step("b", Phase::Cancelled));
        let kept: Vec<Phase> = unsettled.events().into_iter().map(|e| e.phase).collect();
        assert_eq!(kept, [Phase::Confirming]);
        unsettled.record(&step("a", Phase::Succeeded));
        assert!(unsettled.events().is_empty());
        let settled: Vec<Phase> = Phase::ALL.into_iter().filter(|p| p.is_settled()).collect();
        assert_eq!(settled, [Phase::Succeeded, Phase::Failed, Phase::Cancelled]);
    }
}
