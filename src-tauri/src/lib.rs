//! The Reconnect desktop app: a thin Tauri 2 shell.
//!
//! Each command is a few lines that call a library crate and map the result to
//! a webview-safe view type ([`views`]). Nothing secret is ever returned to
//! the webview or emitted as an event.
//!
//! - [`profile`] / [`backend`]: which data directory is open (the demo
//!   profile runs the simulator inside the app, [`demo`]).
//! - [`commands`]: the commands, one module per view.
//! - [`refresh`]: refreshes started from the UI and the demo's clock.
//! - [`keeper`]: the keeper lock; the scheduler runs only while this app
//!   holds it.
//! - [`attention`] / [`menu`]: OS notifications, the tray icon and its menu.
//! - [`background`] / [`login`]: closing hides the window, the app keeps
//!   running until Quit, and starts at login without its window.

pub mod attention;
pub mod backend;
pub mod background;
pub mod commands;
pub mod demo;
pub mod diagnostics;
pub mod keeper;
pub mod login;
pub mod menu;
pub mod profile;
pub mod qr;
pub mod refresh;
pub mod views;

use std::sync::Arc;

use tauri::{AppHandle, Manager};

use crate::backend::{AppState, Backend, Failure};

/// Makes `backend` the open profile: installs it, keeps it (the keeper lock
/// and the scheduler, [`keeper::keep`]), listens to its events, and for the
/// demo runs the first round of refreshes.
pub fn activate(app: &AppHandle, result: Result<Backend, Failure>) {
    let state = app.state::<AppState>();
    let backend = match result {
        Ok(b) => Arc::new(b),
        Err(err) => {
            tracing::error!("the profile could not be opened: {err}");
            state.set(Err(err));
            return;
        }
    };
    state.set_arc(Arc::clone(&backend));
    keeper::keep(app, &backend);
    attention::listen(app.clone(), Arc::clone(&backend));
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        if backend.is_demo() {
            refresh::refresh_all(&app, &backend).await;
        }
        // Also brings the tray and the start-at-login entry up to date.
        commands::accounts_changed(&app);
    });
}

/// The single-instance key: one window per data directory, so a second
/// launch on the same data focuses the running window, while separate data
/// directories (`RECONNECT_HOME`, e.g. tests or a second user profile root)
/// run side by side.
fn instance_id() -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    reconnect_store::Home::default_path()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default()
        .hash(&mut hasher);
    format!(
        "app.reconnect.desktop.h{:012x}",
        hasher.finish() & 0xffff_ffff_ffff
    )
}

/// Builds and runs the app until Quit.
pub fn run() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RECONNECT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .try_init();

    let mut context = tauri::generate_context!();
    background::prepare(&mut context);
    let app = tauri::Builder::default()
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .callback(|app, argv, _cwd| background::second_launch(app, &argv))
                .dbus_id(instance_id())
                .build(),
        )
        .plugin(tauri_plugin_notification::init())
        .plugin(login::plugin())
        .manage(AppState::default())
        .on_window_event(background::on_window_event)
        .on_page_load(|_, payload| {
            // scripts/bench-startup.sh times the app to this line.
            if payload.event() == tauri::webview::PageLoadEvent::Finished
                && std::env::var_os("RECONNECT_BENCH").is_some()
            {
                eprintln!("reconnect-bench page-loaded");
            }
        })
        .setup(|app| {
            if let Err(err) = attention::build_tray(app.handle()) {
                tracing::warn!("no tray icon: {err}");
            }
            attention::open_on_click(app.handle());
            // The window paints first; the profile (and the demo's
            // simulator) opens in the background while commands wait.
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let opened = Backend::open(&profile::from_env()).await;
                activate(&handle, opened);
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app::app_info,
            commands::app::switch_profile,
            commands::app::open_doc,
            commands::accounts::list_accounts,
            commands::accounts::add_account,
            commands::accounts::add_account_choices,
            commands::accounts::remove_account,
            commands::detail::account_detail,
            commands::failures::failure_chart,
            commands::decode::decode_text,
            commands::tester::tester_state,
            commands::tester::tester_break,
            commands::tester::tester_restore,
            commands::tester::tester_outage,
            commands::tester::tester_advance_clock,
            commands::tester::tester_fail_next,
            commands::reconnect::reconnect_start,
            commands::reconnect::reconnect_cancel,
            commands::first::first_connection_answer,
            commands::progress::reconnect_progress,
            commands::device::device_signin_start,
            commands::settings::settings_state,
            commands::settings::set_start_at_login,
            commands::settings::quit_app,
            refresh::refresh_now,
        ])
        .build(context)
        .expect("the Reconnect window could not start");
    app.run(background::on_run_event);
}
