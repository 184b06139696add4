//! Getting the user's attention: OS notifications when accounts need a
//! person (several at once give one notification), and the tray icon, whose
//! picture (and, where the panel shows one, a count beside it) shows whether
//! anything needs attention. Driven by the engine's health-change events and
//! by every change to the list of accounts.

use std::sync::Arc;
use std::time::Duration;

use reconnect_core::health::Notice;
use reconnect_engine::EngineEvent;
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Emitter, Listener, Manager};
use tauri_plugin_notification::NotificationExt;

use crate::backend::{AppState, Backend};

/// How long notices are gathered into one notification.
const GATHER: Duration = Duration::from_millis(1500);

const TRAY_ID: &str = "reconnect";

/// How long the tray waits for a burst of account changes to settle.
const TRAY_SETTLE: Duration = Duration::from_millis(250);

/// How many accounts the tray last showed as needing attention, so an
/// update that changes nothing leaves the icon alone.
static TRAY_SHOWS: std::sync::Mutex<Option<usize>> = std::sync::Mutex::new(None);

/// The app event sent whenever the accounts or their health change
/// (`commands::accounts_changed`), e.g. after an account is removed.
const ACCOUNTS_CHANGED: &str = "accounts-changed";

/// The notification's extra field naming the account to open on a click.
const ACCOUNT_KEY: &str = "account";

/// A click on one of our notifications brings the window to the front on
/// the account it named (the first one, when it named several).
pub fn open_on_click(app: &AppHandle) {
    let handle = app.clone();
    let _ = app.notification().on_action(move |action| {
        if action.action_id() != "tap" {
            return;
        }
        crate::commands::focus_main_window(&handle);
        let account = action
            .notification()
            .and_then(|n| n.extra().get(ACCOUNT_KEY))
            .and_then(serde_json::Value::as_str);
        match account {
            Some(name) => {
                let _ = handle.emit("open-account", serde_json::json!({ "name": name }));
            }
            None => open_on_attention(&handle),
        }
    });
}

/// The accounts that need attention now, by name: the engine's read model,
/// the same the dashboard and `reconnect status` show.
pub async fn needing_attention(backend: &Backend) -> Vec<String> {
    match backend.engine.overview().await {
        Ok(overview) => overview
            .accounts
            .into_iter()
            .filter(|a| a.needs_attention)
            .map(|a| a.name)
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "could not read the accounts' health for the tray");
            Vec::new()
        }
    }
}

/// The text of one notification for `accounts` (at least one).
pub fn notification_text(accounts: &[(String, Notice)]) -> (String, String) {
    match accounts {
        [(name, notice)] => {
            let body = match notice {
                Notice::ReconnectNeeded => {
                    "Sign in again to keep it working. Click to open Reconnect."
                }
                Notice::NeedsAdmin => {
                    "An administrator must act. Click for the details to send them."
                }
                Notice::AppMisconfigured => {
                    "The app registration needs fixing. Click for the details."
                }
                Notice::ExpiringSoon => {
                    "It stops working soon unless you act. Click to open Reconnect."
                }
                Notice::Recovered => "It works again.",
            };
            (format!("{name} needs attention"), body.to_owned())
        }
        many => {
            let names: Vec<&str> = many.iter().map(|(n, _)| n.as_str()).collect();
            (
                format!("{} connections need attention", many.len()),
                format!("{}. Click to open Reconnect.", names.join(", ")),
            )
        }
    }
}

/// Builds the tray icon (menu: open, quit). It follows every change to the
/// accounts, including removals, which change no account's health.
pub fn build_tray(app: &AppHandle) -> tauri::Result<TrayIcon> {
    follow_accounts(app);
    let open = MenuItem::with_id(app, "open", "Open Reconnect", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", "Quit", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &quit])?;
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(Image::from_bytes(include_bytes!("../../icons/tray.png"))?)
        .tooltip("Reconnect: all connections healthy")
        .menu(&menu)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "open" => open_on_attention(app),
            "quit" => app.exit(0),
            _ => {}
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::DoubleClick { .. } = event {
                open_on_attention(tray.app_handle());
            }
        })
        .build(app)
}

/// Updates the tray after changes to the accounts. A burst of changes (a
/// thousand accounts added in a row, the demo's first round) makes one
/// update per [`TRAY_SETTLE`], not one per change: each update reads every
/// account's health and may redraw the icon on the main thread.
fn follow_accounts(app: &AppHandle) {
    let (changed, mut changes) = tokio::sync::watch::channel(());
    app.listen_any(ACCOUNTS_CHANGED, move |_| {
        let _ = changed.send(());
    });
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        while changes.changed().await.is_ok() {
            tokio::time::sleep(TRAY_SETTLE).await;
            changes.borrow_and_update();
            let state = app.state::<AppState>();
            if let Ok(backend) = state.current().await {
                update_tray(&app, &backend).await;
            }
        }
    });
}

/// Shows the window on the first account that needs attention, if any.
fn open_on_attention(app: &AppHandle) {
    crate::commands::focus_main_window(app);
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let state = app.state::<AppState>();
        if let Ok(backend) = state.current().await
            && let Some(first) = needing_attention(&backend).await.into_iter().next()
        {
            let _ = app.emit("open-account", serde_json::json!({ "name": first }));
        }
    });
}

/// Sets the tray picture, tooltip and label from the accounts' health. The
/// label beside the icon counts the accounts that need attention (panels
/// that show labels, e.g. on Linux and macOS; tooltips are not shown there).
async fn update_tray(app: &AppHandle, backend: &Backend) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let attention = needing_attention(backend).await;
    {
        let mut shows = TRAY_SHOWS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *shows == Some(attention.len()) {
            return;
        }
        *shows = Some(attention.len());
    }
    let (icon, tip, label) = if attention.is_empty() {
        (
            &include_bytes!("../../icons/tray.png")[..],
            "Reconnect: all connections healthy".to_owned(),
            None,
        )
    } else {
        (
            &include_bytes!("../../icons/tray-attention.png")[..],
            format!("Reconnect: {} need attention", attention.len()),
            Some(attention.len().to_string()),
        )
    };
    if let Ok(image) = Image::from_bytes(icon) {
        let _ = tray.set_icon(Some(image));
    }
    let _ = tray.set_tooltip(Some(tip));
    let _ = tray.set_title(label);
}

/// Listens to the engine of `backend` until it closes: refreshes the
/// webview and tray on every health change and gathers notices into one
/// notification.
pub fn listen(app: AppHandle, backend: Arc<Backend>) {
    let mut events = backend.engine.subscribe();
    let closed = backend.closed();
    drop(backend);
    tauri::async_runtime::spawn(async move {
        tokio::pin!(closed);
        let mut pending: Vec<(String, Notice)> = Vec::new();
        loop {
            let wait = async {
                if pending.is_empty() {
                    std::future::pending::<()>().await;
                } else {
                    tokio::time::sleep(GATHER).await;
                }
            };
            tokio::select! {
                () = &mut closed => break,
                () = wait => {
                    notify(&app, std::mem::take(&mut pending));
                }
                event = events.recv() => match event {
                    Ok(EngineEvent::HealthChanged { account, notice, .. }) => {
                        if let Some(notice) = notice.filter(|n| *n != Notice::Recovered)
                            && !pending.iter().any(|(a, _)| *a == account)
                        {
                            pending.push((account, notice));
                        }
                        // Also brings the tray up to date (`follow_accounts`).
                        crate::commands::accounts_changed(&app);
                    }
                    Ok(_) => crate::commands::accounts_changed(&app),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                },
            }
        }
    });
}

fn notify(app: &AppHandle, accounts: Vec<(String, Notice)>) {
    if accounts.is_empty() || std::env::var_os("RECONNECT_NO_NOTIFICATIONS").is_some() {
        return;
    }
    let (title, body) = notification_text(&accounts);
    let shown = app
        .notification()
        .builder()
        .title(title)
        .body(body)
        .extra(ACCOUNT_KEY, &accounts[0].0)
        .show();
    if let Err(err) = shown {
        tracing::info!("no notification shown: {err}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_accounts_make_one_notification_that_names_them_all() {
        let (title, body) = notification_text(&[
            ("mail".into(), Notice::ReconnectNeeded),
            ("crm".into(), Notice::NeedsAdmin),
        ]);
        assert_eq!(title, "2 connections need attention");
        assert!(body.contains("mail") && body.contains("crm"), "{body}");
    }

    #[test]
    fn one_account_says_who_must_act() {
        let (title, body) = notification_text(&[("crm".into(), Notice::NeedsAdmin)]);
        assert_eq!(title, "crm needs attention");
        assert!(body.contains("administrator"), "{body}");
    }
}
