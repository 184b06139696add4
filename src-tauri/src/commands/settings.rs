//! The settings view: start at login, who keeps the profile, and Quit.

use serde::Serialize;
use tauri::{AppHandle, State};

use crate::backend::{AppState, Backend, Failure};
use crate::login::{self, LoginStart};
use crate::views::KeeperView;

/// The settings view's data.
#[derive(Debug, Clone, Serialize)]
pub struct SettingsView {
    /// Whether the app starts at login (this profile's setting).
    pub start_at_login: LoginStart,
    /// Who keeps the profile.
    pub keeper: KeeperView,
    /// Whether this is the demo profile.
    pub demo: bool,
}

fn view(backend: &Backend) -> Result<SettingsView, Failure> {
    Ok(SettingsView {
        start_at_login: login::setting(backend)?,
        keeper: backend.keeper.keeping().into(),
        demo: backend.is_demo(),
    })
}

/// The settings of the open profile.
#[tauri::command]
pub async fn settings_state(state: State<'_, AppState>) -> Result<SettingsView, Failure> {
    view(&*state.current().await?)
}

/// Turns starting at login on or off (the profile's setting and the
/// operating system's entry).
#[tauri::command]
pub async fn set_start_at_login(
    app: AppHandle,
    state: State<'_, AppState>,
    on: bool,
) -> Result<SettingsView, Failure> {
    let backend = state.current().await?;
    login::choose(&app, &backend, on)?;
    super::settings_changed(&app);
    view(&backend)
}

/// Quits Reconnect: the window, the tray and the background refreshes.
#[tauri::command]
pub fn quit_app(app: AppHandle) {
    crate::background::quit(&app);
}
