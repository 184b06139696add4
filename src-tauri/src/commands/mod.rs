//! Tauri commands: the only doorway between the webview and the engine.
//! Each is a few lines that call a library crate and map the result to a
//! view from [`crate::views`]. None returns or emits a secret.

pub mod accounts;
pub mod app;
pub mod decode;
pub mod detail;
pub mod failures;
pub mod reconnect;
pub mod tester;

use tauri::{AppHandle, Emitter, Manager};

/// Tells the webview that account data changed (it re-reads the list).
pub fn accounts_changed(app: &AppHandle) {
    let _ = app.emit("accounts-changed", ());
}

/// Brings the main window to the front (used when a second instance starts).
pub fn focus_main_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}
