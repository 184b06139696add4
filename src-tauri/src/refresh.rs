//! Refreshing from the app: "Refresh now", the refresh that follows a tester
//! action, the demo's first round, the shared clock of simulator and engine,
//! and the tester's locally armed failures.

use reconnect_core::decode;
use reconnect_engine::FailureRecord;
use reconnect_store::NewEvent;
use reconnect_store::events::{kind, outcome};
use tauri::{AppHandle, State};

use crate::backend::{AppState, Backend, Failure};

/// Refreshes `name` now (also when it is marked broken) and tells the
/// webview. A failure is recorded by the engine and shown on the card, so it
/// is logged here, not returned.
pub async fn refresh_and_report(app: &AppHandle, backend: &Backend, name: &str) {
    if let Err(err) = refresh(backend, name).await {
        tracing::info!(account = name, "refresh failed: {}", Failure::from(err).0);
    }
    skip_retry_wait(backend).await;
    crate::commands::accounts_changed(app);
}

async fn refresh(backend: &Backend, name: &str) -> Result<(), reconnect_engine::EngineError> {
    if let Some(code) = take_armed(backend, name) {
        record_local_failure(backend, name, code);
        return Ok(());
    }
    backend.engine.refresh(name, true).await.map(|_| ())
}

/// Refreshes every account once (the demo's first round, so broken grants
/// are discovered and decoded right away).
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
    if backend.demo.is_some() && advance_clock(backend, 61).is_ok() {
        tick(backend).await;
    }
}

/// Runs whatever the scheduler has due now (after the clock moved).
pub async fn tick(backend: &Backend) {
    if let Err(err) = backend.engine.tick().await {
        tracing::warn!("scheduler tick failed: {}", Failure::from(err).0);
    }
}

/// Moves the simulator's and the engine's clocks forward together.
pub fn advance_clock(backend: &Backend, seconds: i64) -> Result<i64, Failure> {
    let demo = backend
        .demo
        .as_ref()
        .ok_or_else(|| Failure::msg("only the demo profile has a clock to move"))?;
    let now = demo.sim().advance_clock(seconds)?;
    backend.clock.advance(seconds);
    Ok(now)
}

/// The code armed for `name`, if any.
pub fn armed(backend: &Backend, name: &str) -> Option<u32> {
    backend.armed.lock().ok()?.get(name).copied()
}

/// Arms a local failure: the next refresh of `name` fails with `code`
/// without any request leaving the machine.
pub fn arm(backend: &Backend, name: &str, code: u32) -> Result<(), Failure> {
    if code == 0 {
        return Err(Failure::msg("enter an AADSTS code, e.g. 50173"));
    }
    backend
        .armed
        .lock()
        .map_err(|_| Failure::msg("the tester state is unavailable"))?
        .insert(name.to_owned(), code);
    Ok(())
}

fn take_armed(backend: &Backend, name: &str) -> Option<u32> {
    backend.armed.lock().ok()?.remove(name)
}

/// Records a failure for `code` as if the token endpoint had answered it:
/// the decoder's verdict, the health it leads to, and a failed `refresh`
/// event marked as simulated.
fn record_local_failure(backend: &Backend, name: &str, code: u32) {
    let Ok(account) = backend.data.store().account(name) else {
        return;
    };
    let now = backend.now();
    let verdict = decode::decode_code(code);
    let state = if verdict.is_transient() {
        "retrying"
    } else if verdict.who_acts == decode::WhoActs::Developer {
        "app_misconfigured"
    } else if verdict.who_acts == decode::WhoActs::Admin {
        "needs_admin"
    } else {
        "reconnect_needed"
    };
    let record = FailureRecord::new(&verdict, now, format!("tester-local-{code}"));
    let Ok(stored) = serde_json::to_value(&record) else {
        return;
    };
    let mut event = NewEvent::new(now, Some(&account), kind::REFRESH, outcome::FAILED);
    event.code = Some(format!("AADSTS{code}"));
    event.error = verdict.error.clone();
    event.message = Some(format!(
        "{} (simulated locally by the tester panel)",
        verdict.title
    ));
    let result = backend.data.store().write(|tx| {
        tx.set_health(account.id, state, Some(&stored))?;
        tx.append_event(&event)?;
        Ok(())
    });
    if let Err(err) = result {
        tracing::warn!(
            "could not record the simulated failure: {}",
            Failure::from(err).0
        );
    }
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
