//! The tester panel. For the demo profile it drives the simulator inside the
//! app: break a grant the way the real service does, start or end an
//! outage, advance the clock. Every action is followed by a refresh of the
//! account (or all accounts) so the dashboard shows the reaction at once.
//!
//! The simulator is reached through its control API on loopback, with the
//! client `reconnect sim` uses ([`reconnect_sim::ControlClient`]); breaks and
//! outages are the simulator's typed kinds ([`BreakKind`], [`Outage`]), whose
//! names are what the webview sends. The clock moves through
//! [`crate::refresh::advance_clock`], which keeps the engine's clock in step.

use reconnect_sim::{BreakKind, ControlClient, FaultRequest, Outage, UNTIL_CLEARED};
use serde::Serialize;
use tauri::{AppHandle, State};

use crate::backend::{AppState, Backend, Failure};
use crate::demo::Demo;

/// One choice in a select.
#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    /// What the command receives (the kind's contract name).
    pub id: &'static str,
    /// What the select shows.
    pub label: &'static str,
}

/// What the break select shows for `kind`.
fn break_label(kind: BreakKind) -> &'static str {
    match kind {
        BreakKind::Idle => "Idle expiry (700082)",
        BreakKind::Revoked => "Revoked: password reset (50173)",
        BreakKind::Mfa => "MFA now required (50076)",
        BreakKind::Disabled => "User disabled (50057)",
        BreakKind::Spa => "SPA lifetime ended (700084)",
        BreakKind::SignInFrequency => "Sign-in frequency (70043)",
        BreakKind::CaBlocked => "Blocked by Conditional Access (53003)",
        BreakKind::Consent => "Consent revoked (65001)",
        BreakKind::Code => "Any code…",
    }
}

/// What the outage select shows for `outage`.
fn outage_label(outage: Outage) -> &'static str {
    match outage {
        Outage::Unavailable => "Service unavailable (503)",
        Outage::Throttled => "Throttled (429)",
        Outage::Html500 => "Server error page (500)",
        Outage::Slow => "Slow answers",
        Outage::Drop => "Connections dropped",
    }
}

/// How a grant can be broken, in menu order.
pub fn break_kinds() -> Vec<Choice> {
    BreakKind::ALL
        .into_iter()
        .map(|k| Choice {
            id: k.name(),
            label: break_label(k),
        })
        .collect()
}

/// Outages the simulator can stage, in menu order.
pub fn outage_kinds() -> Vec<Choice> {
    Outage::ALL
        .into_iter()
        .map(|o| Choice {
            id: o.name(),
            label: outage_label(o),
        })
        .collect()
}

/// One row of the tester's table.
#[derive(Debug, Clone, Serialize)]
pub struct TesterAccount {
    /// The account.
    pub name: String,
    /// Whether it lives in the simulator.
    pub simulated: bool,
    /// Health state name.
    pub health: reconnect_core::health::HealthState,
    /// A locally armed failure code, if any.
    pub fail_next: Option<u32>,
}

/// The tester panel's data.
#[derive(Debug, Clone, Serialize)]
pub struct TesterState {
    /// Whether the simulator is available (demo profile).
    pub simulated: bool,
    /// How far the simulator's clock runs ahead.
    pub clock_offset_seconds: i64,
    /// The outage in force, if any.
    pub outage: Option<Outage>,
    /// Outage choices.
    pub outage_kinds: Vec<Choice>,
    /// Break choices.
    pub break_kinds: Vec<Choice>,
    /// The accounts.
    pub accounts: Vec<TesterAccount>,
}

/// The simulator's clock offset and outage in force (none outside the demo).
async fn sim_state(backend: &Backend) -> Result<(i64, Option<Outage>), Failure> {
    let Some(demo) = &backend.demo else {
        return Ok((0, None));
    };
    let control = demo.control()?;
    let clock = control.clock().await?;
    let faults = control.faults().await?;
    Ok((clock.offset_seconds, faults.outage_in_force()))
}

/// The demo simulator's control client.
fn control(backend: &Backend) -> Result<&ControlClient, Failure> {
    Ok(demo(backend)?.control()?)
}

fn demo(backend: &Backend) -> Result<&Demo, Failure> {
    backend.demo.as_ref().ok_or_else(|| {
        Failure::not_demo(
            "The simulator runs only in the demo profile; switch to it in the header.",
        )
    })
}

fn upn(backend: &Backend, name: &str) -> Result<String, Failure> {
    let account = backend.data.store().account(name)?;
    account.identity.upn.ok_or_else(|| {
        Failure::invalid(format!(
            "{name} has not signed in yet, so there is no simulator user to break."
        ))
    })
}

/// The tester panel's data.
#[tauri::command]
pub async fn tester_state(state: State<'_, AppState>) -> Result<TesterState, Failure> {
    let backend = state.current().await?;
    let accounts = crate::commands::accounts::cards(&backend)
        .await?
        .0
        .into_iter()
        .map(|c| TesterAccount {
            fail_next: backend.engine.armed_failure(&c.name),
            simulated: backend.is_demo(),
            name: c.name,
            health: c.health,
        })
        .collect();
    let (clock_offset_seconds, outage) = sim_state(&backend).await?;
    Ok(TesterState {
        simulated: backend.is_demo(),
        clock_offset_seconds,
        outage,
        outage_kinds: outage_kinds(),
        break_kinds: break_kinds(),
        accounts,
    })
}

/// Breaks a simulator account's grant, then refreshes it.
#[tauri::command]
pub async fn tester_break(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
    kind: BreakKind,
    code: Option<u32>,
) -> Result<(), Failure> {
    let backend = state.current().await?;
    let control = control(&backend)?;
    let upn = upn(&backend, &name)?;
    let broken = control.break_user(&upn, kind, code).await;
    broken?;
    if kind.settle_seconds() > 0 {
        crate::refresh::advance_clock(&backend, kind.settle_seconds()).await?;
    }
    crate::refresh::refresh_and_report(&app, &backend, &name).await;
    Ok(())
}

/// Lifts every policy set on the account's user, clears queued faults and
/// the lifetimes the engine learned from them, then refreshes it. A revoked
/// grant stays revoked: that takes a reconnect.
#[tauri::command]
pub async fn tester_restore(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
) -> Result<(), Failure> {
    let backend = state.current().await?;
    let control = control(&backend)?;
    let upn = upn(&backend, &name)?;
    control.restore_user(&upn).await?;
    // What the engine learned from the tester's break (a 1-second idle
    // limit, say) no longer holds.
    backend
        .engine
        .forget_lifetimes(&name)
        .map_err(|e| Failure::msg(format!("could not reset the learned lifetimes: {e}")))?;
    // The engine never repeats an identical failed request within a minute;
    // the demo's clock simply moves past that.
    crate::refresh::advance_clock(&backend, 61).await?;
    crate::refresh::refresh_and_report(&app, &backend, &name).await;
    Ok(())
}

/// Starts an outage (`kind`) or ends it (`None`).
#[tauri::command]
pub async fn tester_outage(
    app: AppHandle,
    state: State<'_, AppState>,
    kind: Option<Outage>,
) -> Result<(), Failure> {
    let backend = state.current().await?;
    let control = control(&backend)?;
    let done = match kind {
        Some(outage) => {
            let request = FaultRequest {
                count: Some(UNTIL_CLEARED),
                ..FaultRequest::outage(outage)
            };
            control.add_fault(&request).await.map(drop)
        }
        None => control.clear_faults().await,
    };
    done?;
    super::accounts_changed(&app);
    Ok(())
}

/// Advances the simulator's and the engine's clock together.
#[tauri::command]
pub async fn tester_advance_clock(
    app: AppHandle,
    state: State<'_, AppState>,
    seconds: i64,
) -> Result<i64, Failure> {
    let backend = state.current().await?;
    demo(&backend)?;
    if !(1..=5 * 365 * 86_400).contains(&seconds) {
        return Err(Failure::msg("advance the clock by 1 second to 5 years"));
    }
    let now = crate::refresh::advance_clock(&backend, seconds).await?;
    crate::refresh::tick(&backend).await;
    super::accounts_changed(&app);
    Ok(now)
}

/// In the demo, for a simulated account: makes its next refresh fail
/// locally with `code` (the engine handles it as the token endpoint's
/// answer; nothing is sent).
#[tauri::command]
pub async fn tester_fail_next(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
    code: u32,
) -> Result<(), Failure> {
    let backend = state.current().await?;
    demo(&backend)?;
    backend.engine.fail_next(&name, code)?;
    super::accounts_changed(&app);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::error::FailureCode;
    use reconnect_sim::{BreakError, ControlError};

    #[test]
    fn the_selects_offer_the_contract_names_in_order() {
        // The names themselves are pinned by the simulator's own tests.
        let breaks: Vec<&str> = break_kinds().iter().map(|c| c.id).collect();
        let every: Vec<&str> = BreakKind::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(breaks, every);
        let outages: Vec<&str> = outage_kinds().iter().map(|c| c.id).collect();
        assert_eq!(outages, ["503", "429", "html500", "slow", "drop"]);
        // What the webview sends back is read as the typed kinds.
        for id in breaks {
            assert!(
                serde_json::from_value::<BreakKind>(id.into()).is_ok(),
                "{id}"
            );
        }
        for id in outages {
            assert!(serde_json::from_value::<Outage>(id.into()).is_ok(), "{id}");
        }
        assert_eq!(
            serde_json::to_value(Some(Outage::Html500)).ok(),
            Some("html500".into())
        );
    }

    #[test]
    fn a_break_without_its_code_is_the_testers_input_to_fix() {
        let failure = Failure::from(ControlError::Break(BreakError::NoCode));
        assert_eq!(failure.code, FailureCode::InvalidInput);
        assert!(failure.message.contains("50173"), "{}", failure.message);
    }
}
