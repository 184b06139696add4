//! What testers (and the `/devicelogin` page) do to device codes: list,
//! approve for a user, decline; and the tenant policy that blocks the flow.
//! Each is a [`SimState`] method, as every control endpoint is.

use super::{DeviceStatus, TenantPolicy};
use crate::SimError;
use crate::model::Session;
use crate::state::{SimState, World};
use crate::wire::DeviceCodeInfo;

/// Approves the code `user_code` for `upn` inside the world. Under a policy
/// that blocks the flow, the code becomes `blocked` and the approval fails.
pub(crate) fn approve_in(
    world: &mut World,
    user_code: &str,
    upn: &str,
    mfa: Option<bool>,
) -> Result<DeviceCodeInfo, SimError> {
    let now = world.clock.now();
    let user = world
        .user(upn)
        .cloned()
        .ok_or_else(|| SimError::NotFound(format!("no user {upn}")))?;
    let key = user.upn.to_lowercase();
    let blocked = world.policy.block_device_code;
    let code = pending_code(world, user_code)?;
    if blocked {
        code.status = DeviceStatus::Blocked;
        code.upn = Some(key);
        return Err(SimError::Conflict(format!(
            "the tenant's policy blocks the device code flow: code {} is now blocked and its polls answer AADSTS53003",
            code.user_code
        )));
    }
    let (client_id, claims) = (code.client_id.clone(), code.claims);
    let segment = crate::tenant::Segment::parse(&code.tenant, None);
    let app = world
        .app(&client_id)
        .ok_or_else(|| SimError::NotFound(format!("no app {client_id} is registered")))?;
    if let Some(segment) = &segment {
        match crate::admission::account_at(&app, segment, &user.upn) {
            Ok(None) => {}
            Ok(Some(note)) => return Err(SimError::Invalid(note)),
            Err(refusal) => {
                return Err(SimError::Invalid(format!(
                    "AADSTS{}: {}",
                    refusal.code, refusal.text
                )));
            }
        }
    }
    if let Some(stored) = world.users.get_mut(&key) {
        stored.grant_consent(&client_id);
    }
    let mfa = mfa.unwrap_or(user.mfa_required || claims);
    let session = Session::new(&key, &client_id, now, mfa).for_app(&app);
    let session_id = world.open_session(session);
    let code = pending_code(world, user_code)?;
    code.status = DeviceStatus::Approved;
    code.upn = Some(key);
    code.session_id = Some(session_id);
    Ok(DeviceCodeInfo::new(code, now))
}

/// Declines the code `user_code` inside the world.
pub(crate) fn decline_in(world: &mut World, user_code: &str) -> Result<DeviceCodeInfo, SimError> {
    let now = world.clock.now();
    let code = pending_code(world, user_code)?;
    code.status = DeviceStatus::Declined;
    Ok(DeviceCodeInfo::new(code, now))
}

/// The code a user typed, if it is still waiting: 404 when unknown, 409 when
/// approved, declined, blocked, expired or redeemed already.
fn pending_code<'w>(
    world: &'w mut World,
    user_code: &str,
) -> Result<&'w mut super::DeviceCode, SimError> {
    let now = world.clock.now();
    let code = world
        .device_codes
        .by_user_code_mut(user_code)
        .ok_or_else(|| SimError::NotFound(format!("no device code {user_code}")))?;
    match code.status_at(now) {
        DeviceStatus::Pending => Ok(code),
        other => Err(SimError::Conflict(format!(
            "device code {} is {other}, not pending",
            code.user_code
        ))),
    }
}

/// Checks that `tenant` names a tenant of the simulator's directory (an id
/// or a domain), or `common` or `organizations`, for the policy routes. One
/// policy holds for every tenant.
pub fn check_tenant(world: &World, tenant: &str) -> Result<(), SimError> {
    use crate::tenant::Segment;
    let known = match Segment::parse(tenant, None) {
        Some(Segment::Common | Segment::Organizations) => true,
        Some(Segment::Tenant(id)) => world.knows_tenant(&id),
        _ => false,
    };
    if known {
        Ok(())
    } else {
        Err(SimError::NotFound(format!(
            "no tenant {tenant}: use a tenant id or domain of the directory, common or organizations"
        )))
    }
}

impl SimState {
    /// Every device code, oldest first (`GET /_sim/devicecodes`).
    pub fn device_codes(&self) -> Vec<DeviceCodeInfo> {
        let world = self.world();
        let now = world.clock.now();
        world
            .device_codes
            .list()
            .into_iter()
            .map(|c| DeviceCodeInfo::new(c, now))
            .collect()
    }

    /// Approves a pending device code for `upn`, as the user would on the
    /// other device. `mfa` defaults to whether the user requires MFA or the
    /// request carried a claims challenge. Unknown code or user: `NotFound`;
    /// a code no longer pending, or a policy that blocks the flow (the code
    /// is then `blocked`): `Conflict`.
    pub fn approve_device_code(
        &self,
        user_code: &str,
        upn: &str,
        mfa: Option<bool>,
    ) -> Result<DeviceCodeInfo, SimError> {
        approve_in(&mut self.world(), user_code, upn, mfa)
    }

    /// Declines a pending device code: its polls answer `authorization_declined`.
    pub fn decline_device_code(&self, user_code: &str) -> Result<DeviceCodeInfo, SimError> {
        decline_in(&mut self.world(), user_code)
    }

    /// The device-code policy of `tenant` (see [`check_tenant`]).
    pub fn tenant_policy(&self, tenant: &str) -> Result<TenantPolicy, SimError> {
        let world = self.world();
        check_tenant(&world, tenant)?;
        Ok(world.policy)
    }

    /// Sets the device-code policy of `tenant` (see [`check_tenant`]).
    pub fn set_tenant_policy(
        &self,
        tenant: &str,
        policy: TenantPolicy,
    ) -> Result<TenantPolicy, SimError> {
        let mut world = self.world();
        check_tenant(&world, tenant)?;
        world.policy = policy;
        Ok(policy)
    }
}
