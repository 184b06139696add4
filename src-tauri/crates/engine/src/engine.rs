//! The [`Engine`]: the one object the desktop app and the CLI hold. It owns
//! the store, the vault, the HTTP client, the clock and the per-account
//! in-process state, and exposes the small API they call.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use reconnect_core::spike::SpikeTracker;
use reconnect_core::tokens::TokenSet;
use reconnect_oauth::{TokenClient, TokenClientConfig};
use reconnect_store::{Home, KeychainVault, Store, Vault};
use tokio::sync::broadcast;

use crate::armed::ArmedCodes;
use crate::clock::{Clock, SystemClock};
use crate::config::EngineConfig;
use crate::error::EngineError;
use crate::hooks::{TestHooks, clock_from_env};
use crate::notify::EngineEvent;

/// A source of jitter fractions in `[0, 1)`.
pub type Jitter = Arc<dyn Fn() -> f64 + Send + Sync>;

/// The refresh engine. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("home", &self.inner.home)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Inner {
    pub home: Home,
    pub store: Arc<Store>,
    pub vault: Arc<dyn Vault>,
    pub http: TokenClient,
    pub clock: Arc<dyn Clock>,
    pub config: EngineConfig,
    pub slots: Mutex<HashMap<String, Arc<Slot>>>,
    pub events: broadcast::Sender<EngineEvent>,
    pub spikes: Mutex<SpikeTracker>,
    pub jitter: Jitter,
    pub hooks: TestHooks,
    /// Failures armed for the next refresh (see [`crate::armed`]).
    pub armed: ArmedCodes,
}

/// In-process state of one account: the single-flight gate and the tokens
/// this process holds.
#[derive(Default)]
pub(crate) struct Slot {
    /// Bumped after every change of `tokens`, so waiters can tell that
    /// somebody else refreshed while they queued.
    pub generation: AtomicU64,
    pub state: tokio::sync::Mutex<SlotState>,
}

#[derive(Default)]
pub(crate) struct SlotState {
    /// The newest token set this process knows.
    pub tokens: Option<TokenSet>,
    /// Set while `tokens` could not be written to the keychain.
    pub unsaved: Option<Unsaved>,
    /// The health last announced for this account by this engine.
    pub last_health: Option<reconnect_core::health::Health>,
}

/// Tokens held only in memory because the keychain refused them.
#[derive(Debug, Clone)]
pub(crate) struct Unsaved {
    /// The `write_seq` of the stored set they replace: if another set was
    /// stored since, that one is newer and ours must not win.
    pub base: i64,
    /// Their facts, written when they are finally saved.
    pub facts: reconnect_store::TokenFacts,
    /// Whether they hold a new refresh token while the stored one may stop
    /// working (the provider rotated it and is not known to keep old ones).
    pub old_may_fail: bool,
}

/// Builds an [`Engine`] with injected parts (tests, the demo profile).
pub struct EngineBuilder {
    home: Home,
    vault: Option<Arc<dyn Vault>>,
    clock: Option<Arc<dyn Clock>>,
    config: EngineConfig,
    client: TokenClientConfig,
    jitter: Option<Jitter>,
    hooks: TestHooks,
}

impl std::fmt::Debug for EngineBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineBuilder")
            .field("home", &self.home)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl EngineBuilder {
    /// Uses another vault instead of the OS keychain.
    pub fn vault(mut self, vault: Arc<dyn Vault>) -> Self {
        self.vault = Some(vault);
        self
    }

    /// Uses another clock instead of the system clock.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Replaces the tunables.
    pub fn config(mut self, config: EngineConfig) -> Self {
        self.config = config;
        self
    }

    /// Replaces the HTTP client settings (timeouts, an extra root CA).
    pub fn client_config(mut self, client: TokenClientConfig) -> Self {
        self.client = client;
        self
    }

    /// Replaces the jitter source (tests pin it).
    pub fn jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = Some(jitter);
        self
    }

    /// Reads the test hooks from the environment (see [`crate::hooks`]).
    pub fn hooks_from_env(mut self) -> Self {
        self.hooks = TestHooks::from_env();
        if self.clock.is_none() {
            self.clock = clock_from_env();
        }
        self
    }

    /// Opens the store and assembles the engine.
    pub fn build(mut self) -> Result<Engine, EngineError> {
        if let Some(poll) = self.hooks.poll() {
            self.config.scheduler_poll = poll;
        }
        let store = Arc::new(Store::open(&self.home)?);
        let vault = match self.vault {
            Some(v) => v,
            None => Arc::new(KeychainVault::for_home(&self.home)),
        };
        let clock: Arc<dyn Clock> = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let http_clock = Arc::clone(&clock);
        let http = TokenClient::new(self.client)?.with_clock(Arc::new(move || http_clock.now()));
        let (events, _) = broadcast::channel(256);
        Ok(Engine {
            inner: Arc::new(Inner {
                home: self.home,
                store,
                vault,
                http,
                clock,
                config: self.config,
                slots: Mutex::new(HashMap::new()),
                events,
                spikes: Mutex::new(SpikeTracker::default()),
                jitter: self.jitter.unwrap_or_else(|| Arc::new(rand::random::<f64>)),
                hooks: self.hooks,
                armed: ArmedCodes::default(),
            }),
        })
    }
}

impl Engine {
    /// The engine for the data directory `home` with the OS keychain, the
    /// system clock and the default tunables (plus test hooks, if set).
    pub fn open(home: Home) -> Result<Self, EngineError> {
        Self::builder(home).hooks_from_env().build()
    }

    /// A builder for injecting a vault, a clock or tunables.
    pub fn builder(home: Home) -> EngineBuilder {
        EngineBuilder {
            home,
            vault: None,
            clock: None,
            config: EngineConfig::default(),
            client: TokenClientConfig::default(),
            jitter: None,
            hooks: TestHooks::default(),
        }
    }

    /// The data directory.
    pub fn home(&self) -> &Home {
        &self.inner.home
    }

    /// The metadata store (read-only uses: the app's account list, charts).
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// "Now" by the engine's clock.
    pub fn now(&self) -> i64 {
        self.inner.clock.now()
    }

    /// Health changes, spikes and unsaved-credential notices, for the UI.
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.inner.events.subscribe()
    }

    /// The in-process state of every account this engine has touched.
    pub(crate) fn slots(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Slot>>> {
        self.inner
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn slot(&self, name: &str) -> Arc<Slot> {
        Arc::clone(self.slots().entry(name.to_owned()).or_default())
    }

    pub(crate) fn emit(&self, event: EngineEvent) {
        // No listener is fine: the CLI never subscribes.
        let _ = self.inner.events.send(event);
    }
}
