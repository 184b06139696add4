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
use crate::model::{AuthCode, Session, User, UserStatePatch};
use crate::registry::AppRegistration;
use crate::signin::Flow;
use crate::{SimConfig, SimError};

/// Everything mutable, behind the state lock.
#[derive(Debug, Default)]
pub struct World {
    /// Virtual clock.
    pub clock: VirtualClock,
    /// Users by lower-cased UPN.
    pub users: BTreeMap<String, User>,
    /// Per-user revocation generation (bumped by revoke).
    pub generations: HashMap<String, u64>,
    /// Refuse what Entra refuses (unregistered apps above all); `false` is `--lenient`.
    pub strict: bool,
    /// App registrations by client id.
    pub apps: HashMap<String, AppRegistration>,
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

    /// The app registration for `client_id`: `None` when nobody registered
    /// it and the simulator is strict; a lenient one makes one up.
    pub fn app(&self, client_id: &str) -> Option<AppRegistration> {
        match self.apps.get(client_id) {
            Some(app) => Some(app.clone()),
            None if self.strict => None,
            None => Some(AppRegistration::lenient(client_id)),
        }
    }

    /// Whether a tenant id exists: the consumers tenant, a tenant some user
    /// belongs to, or an app's home tenant (a lenient simulator knows every tenant).
    pub fn knows_tenant(&self, tid: &str) -> bool {
        !self.strict
            || tid == crate::tenant::CONSUMERS_TENANT_ID
            || self.users.values().any(|u| u.tenant == tid)
            || self
                .apps
                .values()
                .any(|a| crate::tenant::resolve(&a.home_tenant) == tid)
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

    /// Gathers what minting needs for session `sid`; `base` is the
    /// simulator's URL as the client reached it (for `iss`).
    pub fn mint_input(
        &self,
        sid: &str,
        scope: &str,
        base: &str,
        nonce: Option<String>,
        client_info: bool,
    ) -> Option<MintInput> {
        let session = self.sessions.get(sid)?;
        let user = self.user(&session.upn)?;
        Some(MintInput {
            issuer: crate::tenant::issuer(base, &session.tid, session.b2c),
            tid: session.tid.clone(),
            id_key: session.id_key,
            serial: session.serial,
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
            strict: !config.lenient,
            ..World::default()
        };
        for app in &config.apps {
            app.check().map_err(|e| SimError::Invalid(e.to_string()))?;
            world.apps.insert(app.client_id.clone(), app.clone());
        }
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

    /// The JWKS for apps with a custom signing key (`?appid=`).
    pub fn app_jwks(&self) -> serde_json::Value {
        self.shared.keys.app_jwks().clone()
    }

    /// The home tenant id of an account (`tid` in its tokens).
    pub fn tenant_of(&self, upn: &str) -> String {
        crate::tenant::home_tenant(upn)
    }

    /// Whether the simulator refuses what Entra refuses (not `--lenient`).
    pub fn is_strict(&self) -> bool {
        self.world().strict
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

    /// Registers an app, or replaces its registration. Returns whether it was new.
    pub fn register_app(&self, app: AppRegistration) -> Result<bool, SimError> {
        app.check().map_err(|e| SimError::Invalid(e.to_string()))?;
        let id = app.client_id.clone();
        Ok(self.world().apps.insert(id, app).is_none())
    }

    /// Every registered app, by client id.
    pub fn apps(&self) -> Vec<AppRegistration> {
        let mut apps: Vec<_> = self.world().apps.values().cloned().collect();
        apps.sort_by(|a, b| a.client_id.cmp(&b.client_id));
        apps
    }

    /// One registered app (not the lenient stand-in).
    pub fn app(&self, client_id: &str) -> Option<AppRegistration> {
        self.world().apps.get(client_id).cloned()
    }

    /// Deletes an app registration: its tokens stop working (700016).
    pub fn remove_app(&self, client_id: &str) -> Result<(), SimError> {
        self.world()
            .apps
            .remove(client_id)
            .map(|_| ())
            .ok_or_else(|| SimError::NotFound(format!("no app {client_id} is registered")))
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
            let app = world.app(&request.client_id).ok_or_else(|| {
                SimError::NotFound(format!(
                    "no app {} is registered: register it first (POST /_sim/apps), as a tenant would",
                    request.client_id
                ))
            })?;
            if let Some(user) = world.users.get_mut(&upn) {
                user.grant_consent(&request.client_id);
            }
            let mut session =
                Session::new(&upn, &request.client_id, now, request.mfa).for_app(&app);
            session.spa = request.spa;
            let sid = world.open_session(session);
            world
                .mint_input(&sid, &request.scope, base_url, None, true)
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
