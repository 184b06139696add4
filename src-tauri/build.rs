//! Declares the app's own commands so that each one needs an explicit
//! `allow-<command>` permission in a capability file (see `capabilities/`).

const COMMANDS: &[&str] = &[
    "app_info",
    "switch_profile",
    "open_doc",
    "list_accounts",
    "add_account",
    "add_account_choices",
    "remove_account",
    "account_detail",
    "failure_chart",
    "decode_text",
    "refresh_now",
    "reconnect_start",
    "reconnect_cancel",
    "first_connection_answer",
    "reconnect_progress",
    "device_signin_start",
    "tester_state",
    "tester_break",
    "tester_restore",
    "tester_outage",
    "tester_advance_clock",
    "tester_fail_next",
    "settings_state",
    "set_start_at_login",
    "quit_app",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("failed to run tauri-build");
}
