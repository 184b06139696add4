//! The Reconnect button: an interactive sign-in (authorization code + PKCE,
//! loopback redirect) run by `reconnect-signin`, reported to the webview as
//! `reconnect-progress` events. The events carry the authorize URL (for
//! "copy link": it holds only the PKCE challenge, never the verifier) and
//! never a token or an authorization code.

use std::sync::Arc;

use reconnect_oauth::{TokenClient, TokenClientConfig};
use reconnect_signin::{CancellationToken, Outcome, Progress, Signin, SigninOptions};
use serde::Serialize;
use tauri::{AppHandle, Emitter, State};

use crate::backend::{AppState, Backend, Failure};

/// Environment variable naming a command that receives the sign-in URL
/// instead of the system browser (tests, kiosks).
pub const BROWSER_ENV: &str = "RECONNECT_BROWSER";

/// One step of a reconnect, as the webview sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ProgressEvent {
    /// The account.
    pub account: String,
    /// `starting`, `waiting_for_browser`, `exchanging`, `succeeded`,
    /// `failed` or `cancelled`.
    pub phase: &'static str,
    /// The authorize URL, while waiting for the browser.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// When the wait ends (backend clock).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// The outcome in words when it ended, or a problem met while waiting
    /// (the browser could not be opened).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

fn emit(app: &AppHandle, event: ProgressEvent) {
    let _ = app.emit("reconnect-progress", event);
}

fn step(account: &str, phase: &'static str) -> ProgressEvent {
    ProgressEvent {
        account: account.to_owned(),
        phase,
        url: None,
        expires_at: None,
        message: None,
    }
}

/// What the card says when the browser could not be opened.
fn browser_failed_message(reason: &str) -> String {
    format!(
        "The browser could not be opened: {reason}. Copy the link instead and open it in a browser on this computer."
    )
}

async fn run(app: AppHandle, backend: Arc<Backend>, account: String, cancel: CancellationToken) {
    let browser_cmd = std::env::var(BROWSER_ENV).ok();
    let end = match reconnect_signin::browser::choose(browser_cmd.as_deref()) {
        Err(err) => Err(Failure::from(err).0),
        Ok(browser) => {
            let clock = backend.engine.clone();
            let client = TokenClient::new(TokenClientConfig::default())
                .map(|c| c.with_clock(Arc::new(move || clock.now())));
            match client {
                Err(err) => Err(Failure::from(err).0),
                Ok(client) => {
                    let progress_app = app.clone();
                    let name = account.clone();
                    let now = backend.engine.clone();
                    let deadline = std::sync::Mutex::new(None::<i64>);
                    let progress = move |p: &Progress| {
                        let event = match p {
                            Progress::Listening { .. } => step(&name, "starting"),
                            Progress::BrowserOpened { url, timeout, .. } => {
                                let ends = now.now() + timeout.as_secs() as i64;
                                *deadline
                                    .lock()
                                    .unwrap_or_else(std::sync::PoisonError::into_inner) =
                                    Some(ends);
                                ProgressEvent {
                                    url: Some(url.clone()),
                                    expires_at: Some(ends),
                                    ..step(&name, "waiting_for_browser")
                                }
                            }
                            // The wait goes on: the card keeps the link to copy.
                            Progress::BrowserFailed { url, reason } => ProgressEvent {
                                url: Some(url.clone()),
                                expires_at: *deadline
                                    .lock()
                                    .unwrap_or_else(std::sync::PoisonError::into_inner),
                                message: Some(browser_failed_message(reason)),
                                ..step(&name, "waiting_for_browser")
                            },
                            Progress::Exchanging => step(&name, "exchanging"),
                        };
                        emit(&progress_app, event);
                    };
                    let signin = Signin {
                        client: &client,
                        browser: browser.as_ref(),
                        store: &backend.data,
                        progress: &progress,
                    };
                    let options = SigninOptions {
                        cancel: cancel.clone(),
                        ..SigninOptions::default()
                    };
                    signin
                        .run(&account, &options)
                        .await
                        .map(|user| user.describe())
                        .map_err(|e| {
                            let text = e
                                .verdict()
                                .map(|v| v.user_message.clone())
                                .unwrap_or_else(|| e.chain());
                            if e.outcome() == Outcome::Cancelled {
                                format!("cancelled: {text}")
                            } else {
                                text
                            }
                        })
                }
            }
        }
    };
    if let Ok(mut running) = backend.signins.lock() {
        running.remove(&account);
    }
    if end.is_ok()
        && let Err(err) = backend.engine.account_changed(&account).await
    {
        tracing::warn!(
            "the engine did not take the new tokens: {}",
            Failure::from(err).0
        );
    }
    let event = match end {
        Ok(user) => ProgressEvent {
            message: Some(format!("Connected as {user}.")),
            ..step(&account, "succeeded")
        },
        Err(text) if text.starts_with("cancelled: ") => ProgressEvent {
            message: Some(text.trim_start_matches("cancelled: ").to_owned()),
            ..step(&account, "cancelled")
        },
        Err(text) => ProgressEvent {
            message: Some(text),
            ..step(&account, "failed")
        },
    };
    emit(&app, event);
    super::accounts_changed(&app);
}

/// Starts the interactive sign-in for `name`; progress arrives as events.
#[tauri::command]
pub async fn reconnect_start(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
) -> Result<(), Failure> {
    let backend = state.current().await?;
    backend.data.store().account(&name)?;
    let cancel = CancellationToken::new();
    {
        let mut running = backend
            .signins
            .lock()
            .map_err(|_| Failure::msg("the sign-in state is unavailable"))?;
        if running.contains_key(&name) {
            return Err(Failure::msg(format!(
                "a sign-in for {name} is already running"
            )));
        }
        running.insert(name.clone(), cancel.clone());
    }
    emit(&app, step(&name, "starting"));
    tauri::async_runtime::spawn(run(app, backend, name, cancel));
    Ok(())
}

/// Cancels the running sign-in for `name`.
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
        None => Err(Failure::msg(format!("no sign-in for {name} is running"))),
    }
}
