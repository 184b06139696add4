//! The simulated directory: users, sign-in sessions and
//! authorization codes, with the per-user policy switches testers flip.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// Default refresh-token idle limit: 90 days.
pub const DEFAULT_IDLE_LIMIT_SECONDS: i64 = 90 * 86_400;
/// Fixed lifetime of refresh tokens issued to single-page apps: 24 hours.
pub const SPA_LIFETIME_SECONDS: i64 = 86_400;

/// A simulated user and the policies that apply to them. The control API
/// shows users as [`crate::wire::UserInfo`] (no password).
#[derive(Debug, Clone)]
pub struct User {
    /// Sign-in name, e.g. `alice@contoso.test`.
    pub upn: String,
    /// Directory object id (stable per user).
    pub oid: String,
    /// The user's home tenant id (see [`crate::tenant::home_tenant`]).
    pub tenant: String,
    /// Display name.
    pub name: String,
    /// When set, the password the sign-in page requires; otherwise any non-empty password works.
    pub password: Option<String>,
    /// A new MFA policy: refresh tokens obtained without MFA fail with 50076.
    pub mfa_required: bool,
    /// Account disabled (50057).
    pub disabled: bool,
    /// Conditional Access blocks every token (53003).
    pub ca_blocked: bool,
    /// Consent revoked (65001) until the user consents again.
    pub consent_revoked: bool,
    /// Conditional Access sign-in frequency, if any (70043).
    pub sign_in_frequency_seconds: Option<i64>,
    /// Refresh-token idle limit (700082).
    pub idle_limit_seconds: i64,
    /// Tokens issued before this Unix time are revoked (50173).
    pub tokens_valid_from: Option<i64>,
    /// Client ids the user has consented to.
    pub consented_clients: BTreeSet<String>,
}

impl User {
    /// A user with default policy.
    pub fn new(upn: &str, password: Option<String>) -> Self {
        let local = upn.split('@').next().unwrap_or(upn);
        let mut name = local.to_owned();
        if let Some(first) = name.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        Self {
            upn: upn.to_owned(),
            oid: uuid::Uuid::new_v4().to_string(),
            tenant: crate::tenant::home_tenant(upn),
            name,
            password,
            mfa_required: false,
            disabled: false,
            ca_blocked: false,
            consent_revoked: false,
            sign_in_frequency_seconds: None,
            idle_limit_seconds: DEFAULT_IDLE_LIMIT_SECONDS,
            tokens_valid_from: None,
            consented_clients: BTreeSet::new(),
        }
    }

    /// Whether `password` opens this account.
    pub fn password_matches(&self, password: &str) -> bool {
        match &self.password {
            Some(expected) => expected == password,
            None => !password.is_empty(),
        }
    }

    /// Whether the user has a valid consent for `client_id`.
    pub fn has_consented(&self, client_id: &str) -> bool {
        !self.consent_revoked && self.consented_clients.contains(client_id)
    }

    /// Records consent for `client_id` (this also lifts a revoked consent).
    pub fn grant_consent(&mut self, client_id: &str) {
        self.consent_revoked = false;
        self.consented_clients.insert(client_id.to_owned());
    }
}

/// Changes to a user's state (`POST /_sim/users/{upn}/state`). Absent fields
/// stay as they are (and stay out of the JSON).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct UserStatePatch {
    /// See [`User::mfa_required`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mfa_required: Option<bool>,
    /// See [`User::disabled`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
    /// See [`User::ca_blocked`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_blocked: Option<bool>,
    /// See [`User::consent_revoked`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consent_revoked: Option<bool>,
    /// See [`User::sign_in_frequency_seconds`]; `0` removes the policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_in_frequency_seconds: Option<i64>,
    /// See [`User::idle_limit_seconds`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_limit_seconds: Option<i64>,
}

impl UserStatePatch {
    /// Every policy back to what a new user has: no MFA requirement, enabled,
    /// not blocked, consent kept, no sign-in frequency, the default idle limit.
    pub fn defaults() -> Self {
        Self {
            mfa_required: Some(false),
            disabled: Some(false),
            ca_blocked: Some(false),
            consent_revoked: Some(false),
            sign_in_frequency_seconds: Some(0),
            idle_limit_seconds: Some(DEFAULT_IDLE_LIMIT_SECONDS),
        }
    }

    /// Whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Applies the patch.
    pub fn apply(&self, user: &mut User) {
        if let Some(v) = self.mfa_required {
            user.mfa_required = v;
        }
        if let Some(v) = self.disabled {
            user.disabled = v;
        }
        if let Some(v) = self.ca_blocked {
            user.ca_blocked = v;
        }
        if let Some(v) = self.consent_revoked {
            user.consent_revoked = v;
            if v {
                user.consented_clients.clear();
            }
        }
        if let Some(v) = self.sign_in_frequency_seconds {
            user.sign_in_frequency_seconds = (v > 0).then_some(v);
        }
        if let Some(v) = self.idle_limit_seconds {
            user.idle_limit_seconds = v.max(1);
        }
    }
}

/// One sign-in (interactive or minted): the root every refresh token of a chain points at.
#[derive(Debug, Clone)]
pub struct Session {
    /// Lower-cased UPN of the user.
    pub upn: String,
    /// The client the session belongs to.
    pub client_id: String,
    /// When the user authenticated.
    pub auth_time: i64,
    /// Whether MFA was performed.
    pub mfa: bool,
    /// Whether the tokens are SPA tokens.
    pub spa: bool,
    /// The tenant the tokens are issued in (`tid`, and the issuer's id).
    pub tid: String,
    /// Whether the session came through an Azure AD B2C user flow.
    pub b2c: bool,
    /// Which key signs the session's id_tokens.
    pub id_key: crate::keys::IdTokenKey,
    /// Whether the grant was redeemed by a confidential client (a `web`
    /// redirect with its secret): its refresh tokens need the secret too.
    pub confidential: bool,
    /// Strict rotation: the serial of the one refresh token that still works.
    pub strict_rotation: bool,
    /// The serial of the newest refresh token issued.
    pub serial: u64,
    /// Set when the grant was revoked (a used refresh token came back under strict rotation).
    pub revoked: bool,
}

impl Session {
    /// A session for `upn` with `client_id`, in the user's home tenant,
    /// signed with the tenant's key, public, Entra's rotation.
    pub fn new(upn: &str, client_id: &str, auth_time: i64, mfa: bool) -> Self {
        Self {
            upn: upn.to_lowercase(),
            client_id: client_id.to_owned(),
            auth_time,
            mfa,
            spa: false,
            tid: crate::tenant::home_tenant(upn),
            b2c: false,
            id_key: crate::keys::IdTokenKey::Tenant,
            confidential: false,
            strict_rotation: false,
            serial: 0,
            revoked: false,
        }
    }

    /// Applies what the app registration says about its tokens.
    pub fn for_app(mut self, app: &crate::registry::AppRegistration) -> Self {
        if app.custom_signing_key {
            self.id_key = crate::keys::IdTokenKey::App;
        }
        self.strict_rotation = app.rotation == crate::registry::Rotation::Strict;
        self
    }
}

/// An issued authorization code, waiting for redemption.
#[derive(Debug, Clone)]
pub struct AuthCode {
    /// Session the code belongs to.
    pub session_id: String,
    /// Client it was issued to.
    pub client_id: String,
    /// Redirect URI from the authorize request.
    pub redirect_uri: String,
    /// The platform of the registered redirect URI it matched.
    pub platform: crate::registry::Platform,
    /// Scopes asked for.
    pub scope: String,
    /// Nonce from the authorize request.
    pub nonce: Option<String>,
    /// PKCE challenge and method.
    pub challenge: Option<(String, String)>,
    /// When it was issued.
    pub issued_at: i64,
    /// Set once redeemed.
    pub redeemed: bool,
}

/// Authorization codes expire after ten minutes, as on Entra.
pub const CODE_LIFETIME_SECONDS: i64 = 600;
