//! Tauri commands: the only doorway between the webview and the engine.

use serde::Serialize;
use tauri::{AppHandle, Manager};

/// One account as the webview sees it: no tokens, ever.
#[derive(Debug, Clone, Serialize)]
pub struct AccountView {
    /// The account's name (label).
    pub name: String,
}

/// Facts about the running app shown in the header and footer.
#[derive(Debug, Clone, Serialize)]
pub struct AppInfo {
    /// The app's version.
    pub version: String,
}

/// Lists the accounts. Empty until the store is wired in.
#[tauri::command]
pub fn list_accounts() -> Vec<AccountView> {
    Vec::new()
}

/// The app's version and profile.
#[tauri::command]
pub fn app_info(app: AppHandle) -> AppInfo {
    AppInfo {
        version: app.package_info().version.to_string(),
    }
}

/// Brings the main window to the front (used when a second instance starts).
pub fn focus_main_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}
