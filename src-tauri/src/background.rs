//! Always on: closing the window hides it, and the engine, the scheduler,
//! notifications and the tray keep running until Quit (in the tray menu or
//! the settings view). The first time a profile's window is closed, one
//! notification says so and how to quit; a marker file in the profile's data
//! directory remembers that it was said.
//!
//! Started with [`BACKGROUND_ARG`] (what the start-at-login entry passes),
//! the app shows no window; the tray, the keeper and notifications run.
//! Launching the app again (a second instance) opens the window, which is
//! how it is reached on desktops without a tray.

use tauri::{AppHandle, Manager, RunEvent, Window, WindowEvent};

use crate::backend::AppState;

/// The argument that starts the app without its window.
pub const BACKGROUND_ARG: &str = "--background";

/// The main window's label (`tauri.conf.json`).
const MAIN: &str = "main";

/// The marker, in the profile's data directory, that the first close was
/// explained.
const TOLD: &str = "background-explained";

/// Whether the arguments ask for a start without the window.
pub fn in_background<S: AsRef<str>>(args: impl IntoIterator<Item = S>) -> bool {
    args.into_iter().any(|a| a.as_ref() == BACKGROUND_ARG)
}

/// Starts the main window hidden when this process was started with
/// [`BACKGROUND_ARG`] (so it is never mapped, not even for a moment).
pub fn prepare(context: &mut tauri::Context<tauri::Wry>) {
    if !in_background(std::env::args()) {
        return;
    }
    for window in &mut context.config_mut().app.windows {
        if window.label == MAIN {
            window.visible = false;
        }
    }
}

/// A close of the main window hides it instead, explaining the first time.
pub fn on_window_event(window: &Window, event: &WindowEvent) {
    if let WindowEvent::CloseRequested { api, .. } = event
        && window.label() == MAIN
    {
        api.prevent_close();
        let _ = window.hide();
        explain_once(window.app_handle());
    }
}

/// The app keeps running when no window is left; only an explicit exit
/// (Quit) ends it.
pub fn on_run_event(_app: &AppHandle, event: RunEvent) {
    if let RunEvent::ExitRequested {
        code: None, api, ..
    } = event
    {
        api.prevent_exit();
    }
}

/// A second launch: opens the window, unless it is a login start.
pub fn second_launch(app: &AppHandle, argv: &[String]) {
    if !in_background(argv) {
        show(app);
    }
}

/// Shows the main window and brings it to the front, making it again if it
/// was destroyed.
pub fn show(app: &AppHandle) {
    let window = match app.get_webview_window(MAIN) {
        Some(window) => window,
        None => match remake(app) {
            Ok(window) => window,
            Err(err) => {
                tracing::warn!("the window could not be opened again: {err}");
                return;
            }
        },
    };
    let _ = window.unminimize();
    let _ = window.show();
    let _ = window.set_focus();
}

fn remake(app: &AppHandle) -> tauri::Result<tauri::WebviewWindow> {
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == MAIN)
        .cloned()
        .ok_or_else(|| tauri::Error::WindowNotFound)?;
    tauri::WebviewWindowBuilder::from_config(app, &config)?.build()
}

/// Quits the app (the tray's and the settings view's Quit).
pub fn quit(app: &AppHandle) {
    app.exit(0);
}

/// The first time a profile's window is closed, one notification says that
/// Reconnect keeps working and how to quit it.
fn explain_once(app: &AppHandle) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let Ok(backend) = app.state::<AppState>().current().await else {
            return;
        };
        let marker = backend.data.home().dir().join(TOLD);
        if marker.exists() {
            return;
        }
        if let Err(err) = std::fs::write(&marker, b"") {
            // Saying it twice beats never saying it.
            tracing::warn!("could not remember {}: {err}", marker.display());
        }
        crate::attention::explain_background(&app);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_argument_starts_without_the_window() {
        assert!(in_background(["reconnect-app", "--background"]));
        assert!(!in_background(["reconnect-app"]));
        assert!(!in_background([
            "reconnect-app",
            "--background=no",
            "background"
        ]));
    }
}
