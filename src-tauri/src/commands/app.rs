//! App-level commands: version and profile, switching profiles, opening
//! Microsoft's page for a code.

use serde::Serialize;
use tauri::{AppHandle, State};

use crate::backend::{AddDefaults, AppState, Backend, Failure};
use crate::profile::{self, ProfileChoice};

/// Facts about the running app shown in the header and footer.
#[derive(Debug, Clone, Serialize)]
pub struct AppInfo {
    /// The app's version.
    pub version: String,
    /// The active profile's id.
    pub profile: String,
    /// Whether it is the demo profile.
    pub demo: bool,
    /// The active profile's data directory.
    pub data_dir: String,
    /// The profiles one can switch to.
    pub profiles: Vec<ProfileChoice>,
    /// Defaults for the add-account form.
    pub add_defaults: AddDefaults,
}

fn info(app: &AppHandle, backend: &Backend) -> AppInfo {
    AppInfo {
        version: app.package_info().version.to_string(),
        profile: backend.id.clone(),
        demo: backend.is_demo(),
        data_dir: backend.data_dir(),
        profiles: profile::choices(&backend.id),
        add_defaults: backend.add_defaults(),
    }
}

/// The app's version and profile.
#[tauri::command]
pub async fn app_info(app: AppHandle, state: State<'_, AppState>) -> Result<AppInfo, Failure> {
    Ok(info(&app, &*state.current().await?))
}

/// Switches to another profile (closing the current one, and its simulator).
#[tauri::command]
pub async fn switch_profile(
    app: AppHandle,
    state: State<'_, AppState>,
    profile: String,
) -> Result<AppInfo, Failure> {
    // The current profile stays open until the new one is ready, so a
    // failed switch loses nothing.
    let backend = Backend::open(&profile).await?;
    crate::activate(&app, Ok(backend));
    super::accounts_changed(&app);
    Ok(info(&app, &*state.current().await?))
}

/// Opens Microsoft's documentation page for an AADSTS code in the browser.
/// The webview passes a number, never a URL.
#[tauri::command]
pub fn open_doc(code: u32) -> Result<(), Failure> {
    let url = reconnect_core::decode::doc_url(code);
    open::that_detached(&url).map_err(|e| {
        Failure::msg(format!(
            "The browser could not be started to show {url}: {e}. Copy the link instead."
        ))
    })
}
