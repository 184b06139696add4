//! The tester panel. For the demo profile it drives the simulator inside the
//! app: break a grant the way the real service does, start or end an
//! outage, advance the clock. Every action is followed by a refresh of the
//! account (or all accounts) so the dashboard shows the reaction at once.

use reconnect_sim::{FaultRequest, UserStatePatch};
use serde::Serialize;
use tauri::{AppHandle, State};

use crate::backend::{AppState, Backend, Failure};
use crate::demo::Demo;

/// One choice in a select.
#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    /// What the command receives.
    pub id: &'static str,
    /// What the select shows.
    pub label: &'static str,
}

/// How a grant can be broken.
pub const BREAK_KINDS: [Choice; 9] = [
    Choice {
        id: "idle",
        label: "Idle expiry (700082)",
    },
    Choice {
        id: "revoked",
        label: "Revoked: password reset (50173)",
    },
    Choice {
        id: "mfa",
        label: "MFA now required (50076)",
    },
    Choice {
        id: "disabled",
        label: "User disabled (50057)",
    },
    Choice {
        id: "spa",
        label: "SPA lifetime ended (700084)",
    },
    Choice {
        id: "sign_in_frequency",
        label: "Sign-in frequency (70043)",
    },
    Choice {
        id: "ca_blocked",
        label: "Blocked by Conditional Access (53003)",
    },
    Choice {
        id: "consent",
        label: "Consent revoked (65001)",
    },
    Choice {
        id: "code",
        label: "Any code…",
    },
];

/// Outages the simulator can stage.
pub const OUTAGE_KINDS: [Choice; 5] = [
    Choice {
        id: "503",
        label: "Service unavailable (503)",
    },
    Choice {
        id: "429",
        label: "Throttled (429)",
    },
    Choice {
        id: "html500",
        label: "Server error page (500)",
    },
    Choice {
        id: "slow",
        label: "Slow answers",
    },
    Choice {
        id: "drop",
        label: "Connections dropped",
    },
];

/// How many requests an "until restored" fault covers.
const UNTIL_RESTORED: u32 = 100_000;

/// One row of the tester's table.
#[derive(Debug, Clone, Serialize)]
pub struct TesterAccount {
    /// The account.
    pub name: String,
    /// Whether it lives in the simulator.
    pub simulated: bool,
    /// Health state name.
    pub health: String,
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
    pub outage: Option<String>,
    /// Outage choices.
    pub outage_kinds: Vec<Choice>,
    /// Break choices.
    pub break_kinds: Vec<Choice>,
    /// The accounts.
    pub accounts: Vec<TesterAccount>,
}

fn outage_in_force(demo: &Demo) -> Option<String> {
    demo.sim().faults().into_iter().find_map(|f| match f.kind {
        reconnect_sim::faults::FaultKind::Outage { outage, .. } => Some(outage.name().to_owned()),
        reconnect_sim::faults::FaultKind::Code { .. } => None,
    })
}

fn demo(backend: &Backend) -> Result<&Demo, Failure> {
    backend.demo.as_ref().ok_or_else(|| {
        Failure::msg("the simulator runs only in the demo profile; switch to it in the header")
    })
}

fn upn(backend: &Backend, name: &str) -> Result<String, Failure> {
    let account = backend.data.store().account(name)?;
    account.identity.upn.ok_or_else(|| {
        Failure::msg(format!(
            "{name} has not signed in yet, so there is no simulator user to break"
        ))
    })
}

/// The tester panel's data.
#[tauri::command]
pub async fn tester_state(state: State<'_, AppState>) -> Result<TesterState, Failure> {
    let backend = state.current().await?;
    let accounts = crate::commands::accounts::cards(&backend)?
        .into_iter()
        .map(|c| TesterAccount {
            fail_next: backend.engine.armed_failure(&c.name),
            simulated: backend.is_demo(),
            name: c.name,
            health: c.health,
        })
        .collect();
    Ok(TesterState {
        simulated: backend.is_demo(),
        clock_offset_seconds: backend
            .demo
            .as_ref()
            .map(|d| d.sim().clock_offset())
            .unwrap_or(0),
        outage: backend.demo.as_ref().and_then(outage_in_force),
        outage_kinds: OUTAGE_KINDS.to_vec(),
        break_kinds: BREAK_KINDS.to_vec(),
        accounts,
    })
}

fn patch(f: impl FnOnce(&mut UserStatePatch)) -> UserStatePatch {
    let mut p = UserStatePatch::default();
    f(&mut p);
    p
}

/// Breaks a simulator account's grant, then refreshes it.
#[tauri::command]
pub async fn tester_break(
    app: AppHandle,
    state: State<'_, AppState>,
    name: String,
    kind: String,
    code: Option<u32>,
) -> Result<(), Failure> {
    let backend = state.current().await?;
    let demo = demo(&backend)?;
    let upn = upn(&backend, &name)?;
    let sim = demo.sim();
    let code_fault = |code: u32| FaultRequest {
        code: Some(code),
        upn: Some(upn.clone()),
        error: None,
        suberror: None,
        status: None,
        outage: None,
        count: Some(UNTIL_RESTORED),
        retry_after: None,
        delay_ms: None,
    };
    match kind.as_str() {
        "idle" => {
            sim.set_user_state(&upn, &patch(|p| p.idle_limit_seconds = Some(1)))?;
            crate::refresh::advance_clock(&backend, 2)?;
        }
        "revoked" => {
            sim.revoke(&upn)?;
        }
        "mfa" => {
            sim.set_user_state(&upn, &patch(|p| p.mfa_required = Some(true)))?;
        }
        "disabled" => {
            sim.set_user_state(&upn, &patch(|p| p.disabled = Some(true)))?;
        }
        "ca_blocked" => {
            sim.set_user_state(&upn, &patch(|p| p.ca_blocked = Some(true)))?;
        }
        "consent" => {
            sim.set_user_state(&upn, &patch(|p| p.consent_revoked = Some(true)))?;
        }
        "sign_in_frequency" => {
            sim.set_user_state(&upn, &patch(|p| p.sign_in_frequency_seconds = Some(1)))?;
            crate::refresh::advance_clock(&backend, 2)?;
        }
        "spa" => {
            sim.add_fault(code_fault(700_084))?;
        }
        "code" => {
            let code = code
                .filter(|c| *c > 0)
                .ok_or_else(|| Failure::msg("enter an AADSTS code, e.g. 50173"))?;
            sim.add_fault(code_fault(code))?;
        }
        other => {
            return Err(Failure::msg(format!(
                "unknown way to break a grant: {other:?}"
            )));
        }
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
    let demo = demo(&backend)?;
    let upn = upn(&backend, &name)?;
    let defaults = UserStatePatch {
        mfa_required: Some(false),
        disabled: Some(false),
        ca_blocked: Some(false),
        consent_revoked: Some(false),
        sign_in_frequency_seconds: Some(0),
        idle_limit_seconds: Some(reconnect_sim::model::DEFAULT_IDLE_LIMIT_SECONDS),
    };
    demo.sim().set_user_state(&upn, &defaults)?;
    demo.sim().clear_faults();
    // What the engine learned from the tester's break (a 1-second idle
    // limit, say) no longer holds.
    backend
        .engine
        .forget_lifetimes(&name)
        .map_err(|e| Failure::msg(format!("could not reset the learned lifetimes: {e}")))?;
    // The engine never repeats an identical failed request within a minute;
    // the demo's clock simply moves past that.
    crate::refresh::advance_clock(&backend, 61)?;
    crate::refresh::refresh_and_report(&app, &backend, &name).await;
    Ok(())
}

/// Starts an outage (`kind`) or ends it (`None`).
#[tauri::command]
pub async fn tester_outage(
    app: AppHandle,
    state: State<'_, AppState>,
    kind: Option<String>,
) -> Result<(), Failure> {
    let backend = state.current().await?;
    let demo = demo(&backend)?;
    match kind {
        Some(kind) => {
            demo.sim().add_fault(FaultRequest {
                code: None,
                upn: None,
                error: None,
                suberror: None,
                status: None,
                outage: Some(kind),
                count: Some(UNTIL_RESTORED),
                retry_after: None,
                delay_ms: None,
            })?;
        }
        None => demo.sim().clear_faults(),
    }
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
    let now = crate::refresh::advance_clock(&backend, seconds)?;
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
