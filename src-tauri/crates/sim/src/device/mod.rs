//! The device authorization grant (RFC 8628) as Entra serves it: device
//! codes waiting for a user on another device, their life on the virtual
//! clock, and the tenant policy that can block the flow.
//!
//! - [`DeviceCodes`] keeps the issued codes (in the world, behind the state
//!   lock); [`issue`] makes one for `POST /{tenant}/oauth2/v2.0/devicecode`.
//! - [`poll`] decides a token request with the device-code grant type.
//! - `control` holds the [`crate::SimState`] methods that approve and decline
//!   codes and set the policy; `page` the human page at `/devicelogin`.

mod control;
pub mod page;
mod poll;

use std::collections::HashMap;

use rand::Rng as _;
use serde::{Deserialize, Serialize};

pub use poll::{GRANT_TYPE, poll};

use crate::state::World;

/// Seconds a device code lives when issued, as on Entra (15 minutes).
pub const EXPIRES_IN: u32 = 900;
/// The polling interval a code is issued with, in seconds.
pub const INTERVAL: u32 = 5;
/// How much each `slow_down` adds to a code's interval (RFC 8628 §3.5).
pub const SLOW_DOWN_STEP: u32 = 5;
/// Codes this long past their expiry are forgotten when a new one is issued.
const FORGET_AFTER_SECONDS: i64 = 86_400;
/// Letters of user codes: no 0/O or 1/I to mistype.
const USER_CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// Length of a user code (Entra's are eight or nine characters).
const USER_CODE_LEN: usize = 9;

/// Where a device code stands. The names are the control API's contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceStatus {
    /// Waiting for the user.
    Pending,
    /// Approved; the next poll (at the interval) gets tokens.
    Approved,
    /// The user declined.
    Declined,
    /// Approval was refused by the tenant's policy (AADSTS53003).
    Blocked,
    /// Its lifetime passed before it was redeemed.
    Expired,
    /// Tokens were issued for it; it cannot be used again.
    Redeemed,
}

impl DeviceStatus {
    /// The contract name (`pending`, `approved`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Declined => "declined",
            Self::Blocked => "blocked",
            Self::Expired => "expired",
            Self::Redeemed => "redeemed",
        }
    }
}

impl std::fmt::Display for DeviceStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One issued device code.
#[derive(Debug, Clone)]
pub struct DeviceCode {
    /// The short code the user types.
    pub user_code: String,
    /// The client it was issued to.
    pub client_id: String,
    /// The tenant path segment of the request.
    pub tenant: String,
    /// Scopes asked for.
    pub scope: String,
    /// Whether the request carried a `claims` challenge.
    pub claims: bool,
    /// When it was issued (virtual Unix seconds).
    pub issued_at: i64,
    /// When it stops working (virtual Unix seconds).
    pub expires_at: i64,
    /// Current polling interval in seconds.
    pub interval: u32,
    /// Polls answered so far (outages do not count).
    pub polls: u32,
    /// Virtual time of the previous poll.
    pub last_poll: Option<i64>,
    /// Where it stands, as stored (expiry is worked out when asked).
    pub status: DeviceStatus,
    /// Who approved it (lower-cased UPN).
    pub upn: Option<String>,
    /// The sign-in session opened on approval.
    pub session_id: Option<String>,
}

impl DeviceCode {
    /// The status at virtual time `now`: a pending or approved code past its
    /// lifetime is expired.
    pub fn status_at(&self, now: i64) -> DeviceStatus {
        match self.status {
            DeviceStatus::Pending | DeviceStatus::Approved if now >= self.expires_at => {
                DeviceStatus::Expired
            }
            other => other,
        }
    }
}

/// The issued device codes, by device code.
#[derive(Debug, Default, Clone)]
pub struct DeviceCodes {
    by_device_code: HashMap<String, DeviceCode>,
}

impl DeviceCodes {
    /// The code a client polls with.
    pub fn get(&self, device_code: &str) -> Option<&DeviceCode> {
        self.by_device_code.get(device_code)
    }

    /// The code a client polls with, to change.
    pub fn get_mut(&mut self, device_code: &str) -> Option<&mut DeviceCode> {
        self.by_device_code.get_mut(device_code)
    }

    /// The code a user typed (case, spaces and dashes ignored).
    pub fn by_user_code_mut(&mut self, typed: &str) -> Option<&mut DeviceCode> {
        let wanted = normalize_user_code(typed);
        if wanted.is_empty() {
            return None;
        }
        self.by_device_code
            .values_mut()
            .find(|c| c.user_code == wanted)
    }

    /// Every code, oldest first.
    pub fn list(&self) -> Vec<&DeviceCode> {
        let mut codes: Vec<&DeviceCode> = self.by_device_code.values().collect();
        codes.sort_by(|a, b| (a.issued_at, &a.user_code).cmp(&(b.issued_at, &b.user_code)));
        codes
    }

    fn insert(&mut self, device_code: String, code: DeviceCode) {
        self.by_device_code.insert(device_code, code);
    }

    fn forget_old(&mut self, now: i64) {
        self.by_device_code
            .retain(|_, c| now - c.expires_at < FORGET_AFTER_SECONDS);
    }

    fn user_code_taken(&self, user_code: &str) -> bool {
        self.by_device_code
            .values()
            .any(|c| c.user_code == user_code)
    }
}

/// A typed user code as stored: upper case, without spaces or dashes.
pub fn normalize_user_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// The tenant's policy for the device code flow (a Conditional Access
/// "authentication flows" policy). One per simulator: every tenant segment
/// reaches the same directory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantPolicy {
    /// Block the device code flow: approvals fail, polls answer AADSTS53003.
    pub block_device_code: bool,
}

/// The success body of `POST /{tenant}/oauth2/v2.0/devicecode`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceAuthorization {
    /// The opaque code the client polls with.
    pub device_code: String,
    /// The short code the user types at `verification_uri`.
    pub user_code: String,
    /// Where the user goes: `{base}/devicelogin`.
    pub verification_uri: String,
    /// Seconds until both codes expire.
    pub expires_in: u32,
    /// Seconds the client waits between polls.
    pub interval: u32,
    /// What to tell the user.
    pub message: String,
}

/// What a device authorization request asked for.
#[derive(Debug, Clone)]
pub struct DeviceRequest {
    /// The client.
    pub client_id: String,
    /// Scopes asked for.
    pub scope: String,
    /// The tenant path segment.
    pub tenant: String,
    /// Whether a `claims` challenge came with it.
    pub claims: bool,
}

/// Issues a device code for `request` at the world's now. With an
/// auto-approve user set, the code is approved for them at once (or blocked,
/// when the tenant's policy blocks the flow).
pub fn issue(world: &mut World, request: DeviceRequest, base_url: &str) -> DeviceAuthorization {
    let now = world.clock.now();
    world.device_codes.forget_old(now);
    let device_code = new_device_code();
    let user_code = loop {
        let candidate = new_user_code();
        if !world.device_codes.user_code_taken(&candidate) {
            break candidate;
        }
    };
    let code = DeviceCode {
        user_code: user_code.clone(),
        client_id: request.client_id,
        tenant: request.tenant,
        scope: request.scope,
        claims: request.claims,
        issued_at: now,
        expires_at: now + i64::from(EXPIRES_IN),
        interval: INTERVAL,
        polls: 0,
        last_poll: None,
        status: DeviceStatus::Pending,
        upn: None,
        session_id: None,
    };
    world.device_codes.insert(device_code.clone(), code);
    if let Some(upn) = world.auto_approve.clone() {
        // The user exists (auto-approve is checked when set); the outcome is the code's status.
        let _ = control::approve_in(world, &user_code, &upn, Some(true));
    }
    let verification_uri = format!("{}/devicelogin", base_url.trim_end_matches('/'));
    DeviceAuthorization {
        message: format!(
            "To sign in, go to {verification_uri} in a web browser on any device and type the code {user_code}."
        ),
        device_code,
        user_code,
        verification_uri,
        expires_in: EXPIRES_IN,
        interval: INTERVAL,
    }
}

/// A long, opaque, random device code (64 random bytes, base64url).
fn new_device_code() -> String {
    use base64::Engine as _;
    let bytes: [u8; 64] = rand::rng().random();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A short code a person can type: nine letters and digits that cannot be mistaken for each other.
fn new_user_code() -> String {
    let mut rng = rand::rng();
    (0..USER_CODE_LEN)
        .map(|_| {
            let i = rng.random_range(0..USER_CODE_ALPHABET.len());
            char::from(USER_CODE_ALPHABET[i])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_short_and_unambiguous() {
        for _ in 0..100 {
            let code = new_user_code();
            assert_eq!(code.len(), USER_CODE_LEN);
            assert!(!code.contains(['0', 'O', '1', 'I']), "{code}");
        }
        assert!(new_device_code().len() > 80);
    }

    #[test]
    fn typed_codes_ignore_case_spaces_and_dashes() {
        assert_eq!(normalize_user_code(" abc-def 2 "), "ABCDEF2");
        assert_eq!(normalize_user_code("--"), "");
    }

    #[test]
    fn statuses_have_contract_names_and_expire_on_the_clock() {
        for status in [
            DeviceStatus::Pending,
            DeviceStatus::Approved,
            DeviceStatus::Declined,
            DeviceStatus::Blocked,
            DeviceStatus::Expired,
            DeviceStatus::Redeemed,
        ] {
            assert_eq!(
                serde_json::to_value(status).ok(),
                Some(status.name().into())
            );
        }
        let mut world = World::default();
        let request = DeviceRequest {
            client_id: "c".into(),
            scope: "openid".into(),
            tenant: "common".into(),
            claims: false,
        };
        let issued = issue(&mut world, request, "http://127.0.0.1:9/");
        assert_eq!(issued.verification_uri, "http://127.0.0.1:9/devicelogin");
        assert!(issued.message.contains(&issued.user_code));
        let code = world.device_codes.get(&issued.device_code).expect("kept");
        assert_eq!(code.status_at(code.issued_at), DeviceStatus::Pending);
        assert_eq!(code.status_at(code.expires_at), DeviceStatus::Expired);
    }
}
