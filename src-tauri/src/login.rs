//! Start at login. The choice is the profile's (`start_at_login` in its
//! `config.toml`, written by [`ProfileConfig::set_start_at_login`]); until
//! someone chooses, it is on for a real profile once it has an account and
//! off for the demo. The operating system's entry follows it, made by
//! Tauri's autostart plugin (an XDG autostart entry on Linux, a LaunchAgent
//! on macOS, a Run key on Windows) and starting the app with
//! [`crate::background::BACKGROUND_ARG`]: no window, but the tray and the
//! keeper run.
//!
//! The entry starts the app on the profile the login session selects (the
//! default one), so only a choice made in the app and real profiles'
//! defaults touch it; opening the demo leaves it alone.

use reconnect_store::ProfileConfig;
use serde::Serialize;
use tauri::AppHandle;
use tauri_plugin_autostart::ManagerExt;

use crate::backend::{Backend, Failure};

/// A profile's start-at-login setting, as the settings view and the tray
/// show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LoginStart {
    /// Whether the app starts at login.
    pub on: bool,
    /// Whether someone chose (else `on` is the profile's default).
    pub chosen: bool,
}

/// The default for a profile nobody chose for: on once a real profile has
/// an account, off for the demo.
fn default_for(backend: &Backend) -> Result<bool, Failure> {
    Ok(!backend.is_demo() && !backend.data.store().accounts()?.is_empty())
}

/// The open profile's setting.
pub fn setting(backend: &Backend) -> Result<LoginStart, Failure> {
    let chosen = ProfileConfig::load(backend.data.home())?.start_at_login;
    Ok(match chosen {
        Some(on) => LoginStart { on, chosen: true },
        None => LoginStart {
            on: default_for(backend)?,
            chosen: false,
        },
    })
}

/// Records the choice in the profile and makes the entry follow it.
pub fn choose(app: &AppHandle, backend: &Backend, on: bool) -> Result<LoginStart, Failure> {
    ProfileConfig::set_start_at_login(backend.data.home(), on)?;
    apply(app, on)?;
    crate::menu::show_login_start(app, on);
    Ok(LoginStart { on, chosen: true })
}

/// Brings the entry in line with the open real profile's setting (after it
/// opens and when its accounts change: the first account turns the default
/// on). The demo leaves the entry as it is.
pub fn follow(app: &AppHandle, backend: &Backend) {
    let setting = match setting(backend) {
        Ok(setting) => setting,
        Err(err) => {
            tracing::warn!("the start-at-login setting could not be read: {err}");
            return;
        }
    };
    crate::menu::show_login_start(app, setting.on);
    if backend.is_demo() && !setting.chosen {
        return;
    }
    if let Err(err) = apply(app, setting.on) {
        tracing::warn!("{err}");
    }
}

/// Adds or removes the operating system's entry, when it differs.
fn apply(app: &AppHandle, on: bool) -> Result<(), Failure> {
    let manager = app.autolaunch();
    let failed = |e: tauri_plugin_autostart::Error| {
        Failure::new(
            crate::backend::FailureCode::Storage,
            format!("The entry that starts Reconnect at login could not be changed: {e}."),
        )
    };
    if manager.is_enabled().map_err(failed)? == on {
        return Ok(());
    }
    if on {
        manager.enable().map_err(failed)
    } else {
        manager.disable().map_err(failed)
    }
}

/// The autostart plugin, set to start the app in the background.
pub fn plugin() -> tauri::plugin::TauriPlugin<tauri::Wry> {
    tauri_plugin_autostart::Builder::new()
        .arg(crate::background::BACKGROUND_ARG)
        .build()
}
