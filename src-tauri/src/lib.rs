//! The Reconnect desktop app: a thin Tauri 2 shell.
//!
//! Each command is a few lines that call a library crate and map the result to
//! a webview-safe view type. Nothing secret is ever returned to the webview.

mod commands;

/// Builds and runs the app until its last window closes.
pub fn run() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RECONNECT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .try_init();

    tauri::Builder::default()
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            commands::focus_main_window(app);
        }))
        .invoke_handler(tauri::generate_handler![
            commands::list_accounts,
            commands::app_info
        ])
        .run(tauri::generate_context!())
        .expect("the Reconnect window could not start");
}
