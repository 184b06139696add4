//! Refreshing from the app: "Refresh now", the refresh that follows a tester
//! action, the demo's first round, and the shared clock of simulator and
//! engine. (A tester's "fail the next refresh" is armed in the engine, see
//! `Engine::fail_next`, so it takes the engine's normal failure path.)

use tauri::{AppHandle, State};

use crate::backend::{AppState, Backend, Failure};

/// Refreshes `name` now (also when it is marked broken) and tells the
/// webview. A failure is recorded by the engine and shown on the card, so it
/// is logged here, not returned.
pub async fn refresh_and_report(app: &AppHandle, backend: &Backend, name: &str) {
    if let Err(err) = refresh(backend, name).await {
        tracing::info!(account = name, "refresh failed: {}", Failure::from(err));
    }
    skip_retry_wait(backend).await;
    crate::commands::accounts_changed(app);
}

async fn refresh(backend: &Backend, name: &str) -> Result<(), reconnect_engine::EngineError> {
    backend.engine.refresh(name, true).await.map(|_| ())
}

/// Refreshes every account once: the demo's first round (so broken grants
/// are discovered and decoded right away) and the tray's "Refresh all now".
pub async fn refresh_all(app: &AppHandle, backend: &Backend) {
    let names: Vec<String> = match backend.data.store().accounts() {
        Ok(list) => list.into_iter().map(|a| a.name).collect(),
        Err(_) => return,
    };
    for name in names {
        let _ = refresh(backend, &name).await;
        crate::commands::accounts_changed(app);
    }
    skip_retry_wait(backend).await;
}

/// The engine retries a failure that a reconnect would fix once, a minute
/// later, before it asks for a reconnect. In the demo that minute is skipped
/// by moving the virtual clock past it and running the scheduler, so the
/// retry (and its outcome) happens at once; the timeline shows both attempts.
pub async fn skip_retry_wait(backend: &Backend) {
    if backend.demo.is_some() && advance_clock(backend, 61).await.is_ok() {
        tick(backend).await;
    }
}

/// Runs whatever the scheduler has due now (after the demo's clock moved),
/// when this app keeps the profile: where another process keeps it, that
/// process's scheduler does the work, and this app runs none.
pub async fn tick(backend: &Backend) {
    if !backend.keeps() {
        return;
    }
    if let Err(err) = backend.engine.tick().await {
        tracing::warn!("scheduler tick failed: {}", Failure::from(err));
    }
}

/// Moves the simulator's clock (through its control API, like `reconnect
/// sim clock`) and the engine's forward together.
pub async fn advance_clock(backend: &Backend, seconds: i64) -> Result<i64, Failure> {
    let demo = backend.demo.as_ref().ok_or_else(|| {
        Failure::not_demo("Only the demo profile has a clock to move; switch to it in the header.")
    })?;
    let reading = demo.control()?.advance_clock(seconds).await?;
    backend.clock.advance(seconds);
    Ok(reading.now)
}

/// Refreshes one account now.
#[tauri::command]
pub async fn refresh_now(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
) -> Result<(), Failure> {
    let backend = state.current().await?;
    let result = refresh(&backend, &name).await;
    crate::commands::accounts_changed(&app);
    result.map_err(Failure::from)
}
