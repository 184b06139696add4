//! The shared simulator state: the directory, sessions, codes (authorization
//! and device), the tenant policy, faults, log and virtual clock behind one lock, plus the keys. [`SimState`] is the handle
//! in-process tests use to drive the simulator without HTTP.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Deserialize;

use crate::clock::VirtualClock;
use crate::device::{DeviceCodes, TenantPolicy};
use crate::faults::{Fault, FaultRequest, Faults};
use crate::keys::Keys;
use crate::log::{LogEntry, RequestLog};
use crate::mint::{MintInput, mint};
use crate::model::{App, AuthCode, Session, User, UserStatePatch};
use crate::signin::Flow;
use crate::{SimConfig, SimError};

/// The tenant id the simulator's directory lives in.
pub const TENANT_ID: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

/// Everything mutable, behind the state lock.
#[derive(Debug, Default)]
pub struct World {
    /// Virtual clock.
    pub clock: VirtualClock,
    /// Users by lower-cased UPN.
    pub users: BTreeMap<String, User>,
    /// Per-user revocation generation (bumped by revoke).
    pub generations: HashMap<String, u64>,
    /// App registrations that differ from the defaults.
    pub apps: HashMap<String, App>,
    /// Sessions by id.
    pub sessions: HashMap<String, Session>,
    /// Authorization codes.
    pub codes: HashMap<String, AuthCode>,
    /// Sign-in pages in progress.
    pub flows: HashMap<String, Flow>,
    /// Queued faults.
    pub faults: Faults,
    /// Request log.
    pub log: RequestLog,
    /// User for whom `/authorize` finishes without a page (and device codes are approved at once).
    pub auto_approve: Option<String>,
    /// Issued device codes.
    pub device_codes: DeviceCodes,
    /// The tenant's policy for the device code flow.
    pub policy: TenantPolicy,
}

impl World {
    /// Looks a user up by UPN, ignoring case.
    pub fn user(&self, upn: &str) -> Option<&User> {
        self.users.get(&upn.to_lowercase())
    }

    /// The app registration for `client_id` (defaults when not configured).
    pub fn app(&self, client_id: &str) -> App {
        self.apps.get(client_id).cloned().unwrap_or_default()
    }

    /// A user's revocation generation.
    pub fn generation(&self, upn: &str) -> u64 {
        self.generations
            .get(&upn.to_lowercase())
            .copied()
            .unwrap_or(0)
    }

    /// Starts a session and returns its id.
    pub fn open_session(&mut self, session: Session) -> String {
        let id = crate::new_uuid().to_string();
        self.sessions.insert(id.clone(), session);
        id
    }

    /// Gathers what minting needs for session `sid`.
    pub fn mint_input(
        &self,
        sid: &str,
        scope: &str,
        issuer: &str,
        nonce: Option<String>,
        client_info: bool,
    ) -> Option<MintInput> {
        let session = self.sessions.get(sid)?;
        let user = self.user(&session.upn)?;
        Some(MintInput {
            issuer: issuer.to_owned(),
            tid: TENANT_ID.to_owned(),
            oid: user.oid.clone(),
            upn: user.upn.clone(),
            name: user.name.clone(),
            client_id: session.client_id.clone(),
            scope: scope.to_owned(),
            sid: sid.to_owned(),
            auth_time: session.auth_time,
            mfa: session.mfa,
            spa: session.spa,
            generation: self.generation(&session.upn),
            nonce,
            client_info,
            now: self.clock.now(),
        })
    }
}

struct Shared {
    world: Mutex<World>,
    keys: Keys,
}

/// A cheap-to-clone handle on one simulator's state.
#[derive(Clone)]
pub struct SimState {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for SimState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimState").finish_non_exhaustive()
    }
}

/// The body of `POST /_sim/grants`: mint tokens without a browser.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    /// The user.
    pub upn: String,
    /// The client.
    pub client_id: String,
    /// Space-separated scopes (add `offline_access` for a refresh token, `openid` for an id_token).
    pub scope: String,
    /// Issue SPA tokens (fixed 24 h refresh lifetime).
    #[serde(default)]
    pub spa: bool,
    /// Count the sign-in as having passed MFA.
    #[serde(default)]
    pub mfa: bool,
}

impl SimState {
    /// A fresh state seeded from `config`.
    pub fn new(config: &SimConfig) -> Result<Self, SimError> {
        let keys = Keys::load()?;
        let mut world = World {
            auto_approve: config.auto_approve.clone().map(|u| u.to_lowercase()),
            ..World::default()
        };
        for upn in config.users.iter().chain(config.auto_approve.iter()) {
            check_upn(upn)?;
        }
        for upn in &config.users {
            let user = User::new(upn, None);
            world.users.insert(upn.to_lowercase(), user);
        }
        if let Some(upn) = &world.auto_approve
            && !world.users.contains_key(upn)
        {
            world.users.insert(upn.clone(), User::new(upn, None));
        }
        Ok(Self {
            shared: Arc::new(Shared {
                world: Mutex::new(world),
                keys,
            }),
        })
    }

    /// Locks the world. A poisoned lock is recovered: the state stays usable.
    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        self.shared.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The signing keys.
    pub(crate) fn keys(&self) -> &Keys {
        &self.shared.keys
    }

    /// The JWKS document.
    pub fn jwks(&self) -> serde_json::Value {
        self.shared.keys.jwks().clone()
    }

    /// The tenant id of the simulated directory.
    pub fn tenant_id(&self) -> &'static str {
        TENANT_ID
    }

    /// Virtual now (Unix seconds).
    pub fn now(&self) -> i64 {
        self.world().clock.now()
    }

    /// How far the virtual clock runs ahead of real time.
    pub fn clock_offset(&self) -> i64 {
        self.world().clock.offset_seconds()
    }

    /// Moves the virtual clock forward; returns the new now.
    pub fn advance_clock(&self, seconds: i64) -> Result<i64, SimError> {
        if seconds < 0 {
            return Err(SimError::Invalid("the clock only moves forward".into()));
        }
        let mut world = self.world();
        world.clock.advance(seconds);
        Ok(world.clock.now())
    }

    /// Creates a user. Fails when the UPN is taken or not of the form `name@domain`.
    pub fn add_user(&self, upn: &str, password: Option<String>) -> Result<User, SimError> {
        let upn = upn.trim();
        check_upn(upn)?;
        let mut world = self.world();
        let key = upn.to_lowercase();
        if world.users.contains_key(&key) {
            return Err(SimError::Conflict(format!("user {upn} already exists")));
        }
        let user = User::new(upn, password);
        world.users.insert(key, user.clone());
        Ok(user)
    }

    /// Every user.
    pub fn users(&self) -> Vec<User> {
        self.world().users.values().cloned().collect()
    }

    /// One user.
    pub fn user(&self, upn: &str) -> Option<User> {
        self.world().user(upn).cloned()
    }

    /// Changes a user's state.
    pub fn set_user_state(&self, upn: &str, patch: &UserStatePatch) -> Result<User, SimError> {
        let mut world = self.world();
        let user = world
            .users
            .get_mut(&upn.to_lowercase())
            .ok_or_else(|| SimError::NotFound(format!("no user {upn}")))?;
        patch.apply(user);
        Ok(user.clone())
    }

    /// Password reset / revoke sessions: every token issued so far stops working (50173).
    /// Returns the new TokensValidFrom (virtual Unix seconds).
    pub fn revoke(&self, upn: &str) -> Result<i64, SimError> {
        let mut world = self.world();
        let now = world.clock.now();
        let key = upn.to_lowercase();
        let user = world
            .users
            .get_mut(&key)
            .ok_or_else(|| SimError::NotFound(format!("no user {upn}")))?;
        user.tokens_valid_from = Some(now);
        *world.generations.entry(key).or_insert(0) += 1;
        Ok(now)
    }

    /// Registers or changes an app.
    pub fn set_app(&self, client_id: &str, app: App) {
        self.world().apps.insert(client_id.to_owned(), app);
    }

    /// The app registration for `client_id`.
    pub fn app(&self, client_id: &str) -> App {
        self.world().app(client_id)
    }

    /// Queues a fault.
    pub fn add_fault(&self, request: FaultRequest) -> Result<Fault, SimError> {
        let fault = request
            .into_fault()
            .map_err(|e| SimError::Invalid(e.to_string()))?;
        self.world().faults.push(fault.clone());
        Ok(fault)
    }

    /// The queued faults.
    pub fn faults(&self) -> Vec<Fault> {
        self.world().faults.list().to_vec()
    }

    /// Clears every fault.
    pub fn clear_faults(&self) {
        self.world().faults.clear();
    }

    /// The request log, oldest first.
    pub fn log(&self) -> Vec<LogEntry> {
        self.world().log.entries()
    }

    /// Empties the request log.
    pub fn clear_log(&self) {
        self.world().log.clear();
    }

    /// Sets (or clears) the user for whom `/authorize` finishes without a
    /// page; device codes issued while it is set are approved for them at once.
    pub fn set_auto_approve(&self, upn: Option<&str>) {
        self.world().auto_approve = upn.map(str::to_lowercase);
    }

    /// Mints tokens for a user without a browser, as `POST /_sim/grants` does.
    /// `base_url` is the simulator's own URL (for `iss`).
    pub fn mint_grant(
        &self,
        request: &GrantRequest,
        base_url: &str,
    ) -> Result<serde_json::Value, SimError> {
        let input = {
            let mut world = self.world();
            let now = world.clock.now();
            let upn = request.upn.to_lowercase();
            if world.user(&upn).is_none() {
                return Err(SimError::NotFound(format!("no user {}", request.upn)));
            }
            let app = world.app(&request.client_id);
            if let Some(user) = world.users.get_mut(&upn) {
                user.grant_consent(&request.client_id);
            }
            let sid = world.open_session(Session {
                upn: upn.clone(),
                client_id: request.client_id.clone(),
                auth_time: now,
                mfa: request.mfa,
                spa: request.spa || app.spa,
            });
            let issuer = issuer(base_url);
            world
                .mint_input(&sid, &request.scope, &issuer, None, true)
                .ok_or_else(|| SimError::NotFound(format!("no user {}", request.upn)))?
        };
        mint(self.keys(), &input)
    }
}

/// Checks that `upn` looks like `name@domain` and is safe to show and route.
pub fn check_upn(upn: &str) -> Result<(), SimError> {
    let valid = upn
        .split_once('@')
        .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
        && !upn
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>\"'&/?#%".contains(c));
    if valid {
        Ok(())
    } else {
        Err(SimError::Invalid(format!(
            "`{upn}` is not a user principal name (name@domain)"
        )))
    }
}

/// The issuer for a base URL: `{base}/{tid}/v2.0`.
pub fn issuer(base_url: &str) -> String {
    format!("{}/{TENANT_ID}/v2.0", base_url.trim_end_matches('/'))
}
