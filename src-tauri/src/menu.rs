//! The tray's menu: Open Reconnect, Refresh all now, Start at login (a check
//! item that shows and changes the open profile's setting, [`crate::login`])
//! and Quit. Every entry works with the window hidden or gone.

use tauri::menu::{CheckMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::{AppHandle, Manager, Wry};

use crate::backend::AppState;

/// The menu entries' ids, as the menu events name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    Open,
    RefreshAll,
    StartAtLogin,
    Quit,
}

impl Entry {
    const ALL: [Entry; 4] = [Self::Open, Self::RefreshAll, Self::StartAtLogin, Self::Quit];

    fn id(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::RefreshAll => "refresh-all",
            Self::StartAtLogin => "start-at-login",
            Self::Quit => "quit",
        }
    }

    fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.id() == id)
    }
}

/// The check item, kept to show the open profile's setting.
struct LoginItem(CheckMenuItem<Wry>);

/// Builds the menu.
pub fn build(app: &AppHandle) -> tauri::Result<Menu<Wry>> {
    let item =
        |entry: Entry, label: &str| MenuItem::with_id(app, entry.id(), label, true, None::<&str>);
    let login = CheckMenuItem::with_id(
        app,
        Entry::StartAtLogin.id(),
        "Start at login",
        true,
        false,
        None::<&str>,
    )?;
    app.manage(LoginItem(login.clone()));
    Menu::with_items(
        app,
        &[
            &item(Entry::Open, "Open Reconnect")?,
            &item(Entry::RefreshAll, "Refresh all now")?,
            &PredefinedMenuItem::separator(app)?,
            &login,
            &PredefinedMenuItem::separator(app)?,
            &item(Entry::Quit, "Quit")?,
        ],
    )
}

/// Shows whether the app starts at login (the check item).
pub fn show_login_start(app: &AppHandle, on: bool) {
    if let Some(item) = app.try_state::<LoginItem>()
        && item.0.is_checked().ok() != Some(on)
    {
        let _ = item.0.set_checked(on);
    }
}

/// Carries out a click on an entry.
pub fn on_event(app: &AppHandle, event: MenuEvent) {
    match Entry::from_id(event.id().as_ref()) {
        Some(Entry::Open) => crate::attention::open_on_attention(app),
        Some(Entry::RefreshAll) => refresh_all(app),
        Some(Entry::StartAtLogin) => toggle_login_start(app),
        Some(Entry::Quit) => crate::background::quit(app),
        None => {}
    }
}

/// Refreshes every account of the open profile now (on demand, like the
/// window's "Refresh now": this works where another process keeps the
/// profile too).
fn refresh_all(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        if let Ok(backend) = app.state::<AppState>().current().await {
            crate::refresh::refresh_all(&app, &backend).await;
        }
    });
}

/// The check item was clicked: the panel toggled it, so its new state is
/// the choice. A failed change puts the check back and says why.
fn toggle_login_start(app: &AppHandle) {
    let Some(on) = app
        .try_state::<LoginItem>()
        .and_then(|item| item.0.is_checked().ok())
    else {
        return;
    };
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let Ok(backend) = app.state::<AppState>().current().await else {
            return;
        };
        match crate::login::choose(&app, &backend, on) {
            Ok(_) => crate::commands::settings_changed(&app),
            Err(err) => {
                tracing::warn!("start at login not changed: {err}");
                show_login_start(&app, !on);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_found_by_its_id() {
        for entry in Entry::ALL {
            assert_eq!(Entry::from_id(entry.id()), Some(entry));
        }
        assert_eq!(Entry::from_id("settings"), None);
    }
}
