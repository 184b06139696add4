//! The control API's JSON bodies that have no home in the model: new users,
//! the user view, revocations, lists, the clock, the log page, auto-approve
//! and the error body. The server's handlers (`routes::control`) write these
//! types and [`crate::ControlClient`] reads them, so the two cannot drift.
//! The other bodies live with what they describe: [`crate::UserStatePatch`]
//! and [`crate::App`] in the model, [`crate::FaultRequest`] and
//! [`crate::Fault`] with the faults, [`crate::LogEntry`] in the log.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::clock::rfc3339;
use crate::device::{DeviceCode, DeviceStatus};
use crate::faults::{Fault, Outage};
use crate::log::LogEntry;
use crate::model::User;

/// `POST /_sim/users`: a user to create.
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// The user principal name (`name@domain`).
    pub upn: String,
    /// The password the sign-in page will require (default: any non-empty one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("upn", &self.upn)
            .field("password", &self.password.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// A user as the control API shows it: every policy, never the password.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct UserInfo {
    /// Sign-in name.
    pub upn: String,
    /// Directory object id.
    pub oid: String,
    /// See [`User::tenant`]: the `tid` in the user's tokens.
    pub tenant_id: String,
    /// Display name.
    pub name: String,
    /// See [`User::mfa_required`].
    pub mfa_required: bool,
    /// See [`User::disabled`].
    pub disabled: bool,
    /// See [`User::ca_blocked`].
    pub ca_blocked: bool,
    /// See [`User::consent_revoked`].
    pub consent_revoked: bool,
    /// See [`User::sign_in_frequency_seconds`].
    pub sign_in_frequency_seconds: Option<i64>,
    /// See [`User::idle_limit_seconds`].
    pub idle_limit_seconds: i64,
    /// See [`User::tokens_valid_from`].
    pub tokens_valid_from: Option<i64>,
    /// See [`User::consented_clients`].
    pub consented_clients: BTreeSet<String>,
    /// Whether the sign-in page requires a particular password.
    pub has_password: bool,
}

impl From<&User> for UserInfo {
    fn from(user: &User) -> Self {
        Self {
            upn: user.upn.clone(),
            oid: user.oid.clone(),
            tenant_id: user.tenant.clone(),
            name: user.name.clone(),
            mfa_required: user.mfa_required,
            disabled: user.disabled,
            ca_blocked: user.ca_blocked,
            consent_revoked: user.consent_revoked,
            sign_in_frequency_seconds: user.sign_in_frequency_seconds,
            idle_limit_seconds: user.idle_limit_seconds,
            tokens_valid_from: user.tokens_valid_from,
            consented_clients: user.consented_clients.clone(),
            has_password: user.password.is_some(),
        }
    }
}

/// `GET /_sim/users`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct UserList {
    /// Every user, by lower-cased UPN.
    pub users: Vec<UserInfo>,
}

/// `POST /_sim/users/{upn}/revoke`: when the user's tokens stopped counting.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Revocation {
    /// The user, as the request named them.
    pub upn: String,
    /// Tokens issued before this virtual instant fail (RFC 3339).
    pub tokens_valid_from: String,
    /// The same instant in Unix seconds.
    pub tokens_valid_from_unix: i64,
}

impl Revocation {
    /// The answer for `upn` revoked at virtual Unix time `at`.
    pub fn new(upn: &str, at: i64) -> Self {
        Self {
            upn: upn.to_owned(),
            tokens_valid_from: rfc3339(at),
            tokens_valid_from_unix: at,
        }
    }
}

/// `GET /_sim/faults`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct FaultList {
    /// The queue, oldest (served first) first.
    pub faults: Vec<Fault>,
}

impl FaultList {
    /// The first queued outage: the one the next token request meets.
    pub fn outage_in_force(&self) -> Option<Outage> {
        self.faults.iter().find_map(Fault::outage)
    }
}

/// `POST /_sim/clock`: how far to move the virtual clock (forward only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ClockAdvance {
    /// Seconds; negative values are refused.
    pub advance_seconds: i64,
}

/// `GET` and `POST /_sim/clock`: the virtual clock.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ClockReading {
    /// Virtual now, Unix seconds.
    pub now: i64,
    /// Virtual now, RFC 3339.
    pub time: String,
    /// How far the clock runs ahead of real time.
    pub offset_seconds: i64,
}

impl ClockReading {
    /// The reading for virtual `now` and `offset_seconds`.
    pub fn new(now: i64, offset_seconds: i64) -> Self {
        Self {
            now,
            time: rfc3339(now),
            offset_seconds,
        }
    }
}

/// `GET /_sim/log`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct LogPage {
    /// Logged requests, oldest first.
    pub requests: Vec<LogEntry>,
    /// Entries let go for space since the last clear.
    pub dropped: u64,
}

/// `POST /_sim/auto-approve`, asked and answered: the user for whom
/// `/authorize` finishes without a page, or `null` for nobody.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AutoApprove {
    /// The user, or `None`.
    pub upn: Option<String>,
}

/// A device code as the control API shows it (`GET /_sim/devicecodes`, and
/// the answer to approve and decline): never the device code itself.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct DeviceCodeInfo {
    /// The short code the user types.
    pub user_code: String,
    /// The client it was issued to.
    pub client_id: String,
    /// The tenant path segment the client used.
    pub tenant: String,
    /// Scopes asked for.
    pub scope: String,
    /// Where it stands.
    pub status: DeviceStatus,
    /// Current polling interval in seconds (5, plus 5 per `slow_down`).
    pub interval: u32,
    /// Polls answered so far.
    pub polls: u32,
    /// When it expires, virtual Unix seconds.
    pub expires_at: i64,
    /// Who approved (or tried to), when someone did.
    pub upn: Option<String>,
}

impl DeviceCodeInfo {
    /// The view of `code` at virtual time `now`.
    pub fn new(code: &DeviceCode, now: i64) -> Self {
        Self {
            user_code: code.user_code.clone(),
            client_id: code.client_id.clone(),
            tenant: code.tenant.clone(),
            scope: code.scope.clone(),
            status: code.status_at(now),
            interval: code.interval,
            polls: code.polls,
            expires_at: code.expires_at,
            upn: code.upn.clone(),
        }
    }
}

/// `GET /_sim/devicecodes`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct DeviceCodeList {
    /// Every device code, oldest first.
    pub device_codes: Vec<DeviceCodeInfo>,
}

/// `POST /_sim/devicecodes/{user_code}/approve`: who approves.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceApproval {
    /// The user signing in on the other device.
    pub upn: String,
    /// Whether the sign-in counts as MFA (default: when the user requires
    /// MFA or the request carried a claims challenge, as the sign-in page does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa: Option<bool>,
}

/// `GET /_sim/apps`: the registered apps, and whether the simulator is
/// strict (unregistered apps refused) or lenient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppList {
    /// The registrations, by client id.
    pub apps: Vec<crate::registry::AppRegistration>,
    /// `false` under `--lenient`.
    pub strict: bool,
}

/// Every control-API refusal: `{"error": "…"}` with status 400, 404 or 409.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct ControlRefusal {
    /// What was wrong, in words.
    pub error: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_shown_without_their_password() {
        let user = User::new("carol@contoso.test", Some("P@ss".into()));
        let json = serde_json::to_value(UserInfo::from(&user)).expect("serialise");
        assert_eq!(json["has_password"], true);
        assert!(json.get("password").is_none());
        assert!(!format!("{:?}", UserInfo::from(&user)).contains("P@ss"));
        let new = NewUser {
            upn: user.upn,
            password: user.password,
        };
        assert!(!format!("{new:?}").contains("P@ss"));
    }

    #[test]
    fn the_outage_in_force_is_the_first_queued_one() {
        let faults = [
            crate::FaultRequest::code(50057),
            crate::FaultRequest::outage(Outage::Drop),
            crate::FaultRequest::outage(Outage::Slow),
        ]
        .into_iter()
        .map(|r| r.into_fault().expect("valid"))
        .collect();
        let list = FaultList { faults };
        assert_eq!(list.outage_in_force(), Some(Outage::Drop));
        assert_eq!(FaultList { faults: vec![] }.outage_in_force(), None);
    }
}
