//! Deciding a device-code poll at the token endpoint
//! (`grant_type=urn:ietf:params:oauth:grant-type:device_code`): pending,
//! slow down, declined, expired, blocked, or the tokens of the approved
//! sign-in, once.
//!
//! Order of checks: missing parameters (900144), queued code fault, app
//! (7000218), unknown code (`bad_verification_code`, 70018), other client
//! (70000), already redeemed (70000), expired (`expired_token`, 70019), declined
//! (`authorization_declined`), blocked by policy (53003), polled too soon
//! (`slow_down`), waiting (`authorization_pending`, 70016), then the user's
//! own state as for an authorization code, and the tokens.

use super::{DeviceCode, DeviceStatus, SLOW_DOWN_STEP};
use crate::admission::app_at;
use crate::client_auth;
use crate::failure::Failure;
use crate::grant::{Facts, TokenCall, check_user, missing, param, queued_fault};
use crate::mint::MintInput;
use crate::state::World;

/// The grant type of a device-code poll (RFC 8628 §3.4).
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// A failure with the shape of `code` but the device flow's own `error`.
fn flow_failure(code: u32, error: &str, text: &str) -> Failure {
    let mut failure = Failure::with_text(code, text.to_owned());
    failure.error = error.to_owned();
    failure.suberror = None;
    failure
}

fn pending() -> Failure {
    flow_failure(
        70016,
        "authorization_pending",
        "The device code has not been approved yet: the user still has to enter it and sign in. Keep polling at the interval.",
    )
}

fn slow_down(interval: u32) -> Failure {
    flow_failure(
        70016,
        "slow_down",
        &format!(
            "The device code has not been approved yet, and it was polled sooner than its interval allows. Wait {interval} seconds between polls from now on."
        ),
    )
}

fn declined() -> Failure {
    flow_failure(
        65004,
        "authorization_declined",
        "The user declined the sign-in on the other device. Stop polling.",
    )
}

fn expired(code: &DeviceCode) -> Failure {
    flow_failure(
        70019,
        "expired_token",
        &format!(
            "The device code expired: it was valid for {} seconds and nobody finished signing in with it. Stop polling and request a new code.",
            code.expires_at - code.issued_at
        ),
    )
}

fn blocked() -> Failure {
    Failure::with_text(
        53003,
        "Conditional Access stopped this sign-in: the tenant's authentication flows policy does not allow the device code flow.".into(),
    )
}

fn invalid(text: &str) -> Failure {
    Failure::with_text(
        70000,
        format!("Provided grant is invalid or malformed. {text}"),
    )
}

/// Decides a device-code poll; on success the code is redeemed.
pub fn poll(world: &mut World, call: &TokenCall, facts: &mut Facts) -> Result<MintInput, Failure> {
    let params = &call.params;
    let client_id = param(params, "client_id").ok_or_else(|| missing("client_id"))?;
    let device_code = param(params, "device_code").ok_or_else(|| missing("device_code"))?;
    if let Some(code) = world.device_codes.get(device_code) {
        facts.user_code = Some(code.user_code.clone());
        facts.interval = Some(code.interval);
        facts.user = code.upn.clone();
    }
    queued_fault(world, facts.user.as_deref())?;
    let app = app_at(world, &call.segment, client_id)?;
    client_auth::check_device(&app, call.presented())?;
    let now = world.clock.now();
    let policy_blocks = world.policy.block_device_code;
    let Some(code) = world.device_codes.get_mut(device_code) else {
        return Err(flow_failure(
            70018,
            "bad_verification_code",
            "The device code was not recognized. Send the device_code the devicecode endpoint returned.",
        ));
    };
    if code.client_id != client_id {
        return Err(invalid("The device code was issued to a different client."));
    }
    let status = code.status_at(now);
    let answer = answer_for(code, status, now, policy_blocks);
    facts.interval = Some(code.interval);
    answer?;
    let session_id = code.session_id.clone().unwrap_or_default();
    let scope = code.scope.clone();
    if let Some(session) = world.sessions.get(&session_id) {
        facts.mfa = Some(session.mfa);
        if let Some(user) = world.user(&session.upn) {
            check_user(user, client_id)?;
        }
    }
    if let Some(code) = world.device_codes.get_mut(device_code) {
        code.status = DeviceStatus::Redeemed;
    }
    let client_info = params.get("client_info").is_some_and(|v| v == "1");
    world
        .mint_input(&session_id, &scope, &call.base, None, client_info)
        .ok_or_else(|| invalid("The sign-in behind the device code is gone."))
}

/// The answer for a known code of this client: `Ok` when its tokens may be
/// issued. Counts the poll; a poll of a waiting or approved code sooner than
/// the interval since the previous poll raises the interval (RFC 8628 §3.5).
fn answer_for(
    code: &mut DeviceCode,
    status: DeviceStatus,
    now: i64,
    policy_blocks: bool,
) -> Result<(), Failure> {
    let previous = code.last_poll.replace(now);
    code.polls = code.polls.saturating_add(1);
    match status {
        DeviceStatus::Expired => return Err(expired(code)),
        DeviceStatus::Declined => return Err(declined()),
        DeviceStatus::Blocked => return Err(blocked()),
        DeviceStatus::Redeemed => return Err(invalid("The device code was redeemed already.")),
        DeviceStatus::Pending | DeviceStatus::Approved => {}
    }
    if previous.is_some_and(|at| now - at < i64::from(code.interval)) {
        code.interval = code.interval.saturating_add(SLOW_DOWN_STEP);
        return Err(slow_down(code.interval));
    }
    if status == DeviceStatus::Pending {
        return Err(pending());
    }
    if policy_blocks {
        code.status = DeviceStatus::Blocked;
        return Err(blocked());
    }
    Ok(())
}
