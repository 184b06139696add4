//! Tauri commands: the only doorway between the webview and the engine.
//! Each is a few lines that call a library crate and map the result to a
//! view from [`crate::views`]. None returns or emits a secret. Each fails
//! with an [`error::Failure`], `{ code, message }` to the webview.

pub mod accounts;
pub mod app;
pub mod decode;
pub mod detail;
pub mod device;
pub mod error;
pub mod failures;
pub mod first;
pub mod progress;
pub mod reconnect;
pub mod settings;
pub mod tester;

use tauri::{AppHandle, Emitter};

/// Tells the webview that account data changed (it re-reads the list).
pub fn accounts_changed(app: &AppHandle) {
    let _ = app.emit("accounts-changed", ());
}

/// Tells the webview that the settings changed (e.g. from the tray).
pub fn settings_changed(app: &AppHandle) {
    let _ = app.emit("settings-changed", ());
}

/// Brings the main window to the front, shown again if it was closed.
pub fn focus_main_window(app: &AppHandle) {
    crate::background::show(app);
}

#[cfg(test)]
mod tests {
    //! The app's commands are named in three places that must agree: the
    //! build script (each needs a permission), the capability file (which
    //! grants it to the window) and the handler list (which runs it).

    use std::collections::BTreeSet;

    fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
        let from = text.find(start).expect("start marker") + start.len();
        let len = text[from..].find(end).expect("end marker");
        &text[from..from + len]
    }

    fn declared() -> BTreeSet<String> {
        let build = include_str!("../../build.rs");
        between(build, "const COMMANDS: &[&str] = &[", "];")
            .split(',')
            .map(|s| s.trim().trim_matches('"').to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    }

    fn granted() -> BTreeSet<String> {
        let caps: serde_json::Value =
            serde_json::from_str(include_str!("../../capabilities/default.json"))
                .expect("the capability file is JSON");
        caps["permissions"]
            .as_array()
            .expect("a permission list")
            .iter()
            .filter_map(|p| p.as_str()?.strip_prefix("allow-"))
            .map(|p| p.replace('-', "_"))
            .collect()
    }

    fn registered() -> BTreeSet<String> {
        let lib = include_str!("../lib.rs");
        between(lib, "generate_handler![", "]")
            .split(',')
            .filter_map(|path| path.trim().rsplit("::").next())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn declared_granted_and_registered_commands_are_one_set() {
        let declared = declared();
        assert!(declared.len() > 10, "{declared:?}");
        assert_eq!(declared, granted(), "build.rs vs capabilities/default.json");
        assert_eq!(
            declared,
            registered(),
            "build.rs vs the handler list in lib.rs"
        );
    }
}
