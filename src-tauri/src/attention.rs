//! Getting the user's attention: OS notifications when accounts need a
//! person (several at once give one notification), the one notification
//! that explains the first close of the window, and the tray icon, whose
//! picture (and, where the panel shows one, a count beside it) shows whether
//! anything needs attention, and whose tooltip names the process that keeps
//! the profile when it is not this app. Driven by the engine's health-change
//! events and by every change to the list of accounts.

use std::sync::Arc;
use std::time::Duration;

use reconnect_core::health::Notice;
use reconnect_engine::EngineEvent;
use reconnect_engine::notification::{GATHER, Gathering, notification_text};
use tauri::image::Image;
use tauri::tray::{TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Emitter, Listener, Manager};
use tauri_plugin_notification::NotificationExt;

use crate::backend::{AppState, Backend};
use crate::keeper::Keeping;

const TRAY_ID: &str = "reconnect";

/// How long the tray waits for a burst of account changes to settle.
const TRAY_SETTLE: Duration = Duration::from_millis(250);

/// How many accounts the tray last showed as needing attention, so an
/// update that changes nothing leaves the icon alone.
static TRAY_SHOWS: std::sync::Mutex<Option<TrayShows>> = std::sync::Mutex::new(None);

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

/// Builds the tray icon with its menu ([`crate::menu`]). It follows every
/// change to the accounts, including removals, which change no account's
/// health.
pub fn build_tray(app: &AppHandle) -> tauri::Result<TrayIcon> {
    follow_accounts(app);
    TrayIconBuilder::with_id(TRAY_ID)
        .icon(Image::from_bytes(include_bytes!("../../icons/tray.png"))?)
        .tooltip("Reconnect: all connections healthy")
        .menu(&crate::menu::build(app)?)
        .on_menu_event(crate::menu::on_event)
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
                crate::login::follow(&app, &backend);
            }
        }
    });
}

/// Shows the window on the first account that needs attention, if any.
pub fn open_on_attention(app: &AppHandle) {
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

/// What the tray last showed: how many accounts need attention, and who
/// keeps the profile.
type TrayShows = (usize, Keeping);

/// Sets the tray picture, tooltip and label from the accounts' health and
/// who keeps the profile. The label beside the icon counts the accounts
/// that need attention (panels that show labels, e.g. on Linux and macOS;
/// tooltips are not shown there).
async fn update_tray(app: &AppHandle, backend: &Backend) {
    let Some(tray) = app.tray_by_id(TRAY_ID) else {
        return;
    };
    let attention = needing_attention(backend).await;
    let shows: TrayShows = (attention.len(), backend.keeper.keeping());
    {
        let mut last = TRAY_SHOWS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *last == Some(shows) {
            return;
        }
        *last = Some(shows);
    }
    let (icon, label) = if attention.is_empty() {
        (&include_bytes!("../../icons/tray.png")[..], None)
    } else {
        (
            &include_bytes!("../../icons/tray-attention.png")[..],
            Some(attention.len().to_string()),
        )
    };
    if let Ok(image) = Image::from_bytes(icon) {
        let _ = tray.set_icon(Some(image));
    }
    let _ = tray.set_tooltip(Some(tray_tooltip(attention.len(), shows.1)));
    let _ = tray.set_title(label);
}

/// The tray's tooltip: the accounts' health, and who keeps the profile when
/// it is not this app.
pub fn tray_tooltip(needing_attention: usize, keeping: Keeping) -> String {
    let health = match needing_attention {
        0 => "Reconnect: all connections healthy".to_owned(),
        n => format!("Reconnect: {n} need attention"),
    };
    match crate::keeper::note(keeping) {
        Some(note) => format!("{health}\n{note}"),
        None => health,
    }
}

/// The one notification that says, the first time the window is closed,
/// that Reconnect keeps working and how to quit it.
pub fn explain_background(app: &AppHandle) {
    if std::env::var_os("RECONNECT_NO_NOTIFICATIONS").is_some() {
        return;
    }
    let shown = app
        .notification()
        .builder()
        .title("Reconnect keeps running")
        .body(
            "Your connections stay alive while the window is closed. To stop Reconnect, \
             choose Quit in its tray menu or in Settings; opening it again brings the \
             window back.",
        )
        .show();
    if let Err(err) = shown {
        tracing::info!("no notification shown: {err}");
    }
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
        let mut pending = Gathering::default();
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
                    notify(&app, pending.take());
                }
                event = events.recv() => match event {
                    Ok(EngineEvent::HealthChanged { account, notice, .. }) => {
                        if let Some(notice) = notice {
                            pending.add(&account, notice);
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
