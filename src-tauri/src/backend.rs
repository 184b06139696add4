//! The open profile behind the window: its store and vault, and for the demo
//! the simulator running inside the app. Commands reach it through
//! [`AppState::current`], which waits while a profile is being opened (the
//! window paints first; the demo seeds in the background).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use reconnect_engine::{Engine, OffsetClock};
use serde::Serialize;
use tokio::sync::watch;

use crate::demo::{self, Demo};
use crate::keeper::KeeperSlot;
use crate::profile;

pub use crate::commands::error::{Failure, FailureCode};

/// One open profile.
#[derive(Debug)]
pub struct Backend {
    /// The profile's id (`demo`, `default`, …).
    pub id: String,
    /// Its store and vault.
    pub data: reconnect_store::Profile,
    /// The refresh engine over the same data directory.
    pub engine: Engine,
    /// The engine's clock (moved with the simulator's in the demo).
    pub clock: OffsetClock,
    /// The simulator, for the demo profile.
    pub demo: Option<Demo>,
    /// The profile's keeper lock: whether this app runs its scheduler.
    pub keeper: Arc<KeeperSlot>,
    /// Running sign-ins, per account, with their cancel handles.
    pub signins: Mutex<HashMap<String, reconnect_signin::CancellationToken>>,
    /// First connections: their sign-ins, then the question who signed in.
    pub first_signins: crate::commands::first::FirstSignins,
    /// The latest progress of each reconnect that has not settled, for a
    /// window that loads while it runs.
    pub unsettled: crate::commands::progress::Unsettled,
    /// Dropped with the backend: its background tasks see the channel
    /// close and stop.
    pub shutdown: watch::Sender<()>,
}

impl Backend {
    /// Opens profile `id`; the demo also starts its simulator and seeds.
    pub async fn open(id: &str) -> Result<Self, Failure> {
        let dir = profile::dir(id)?;
        let home = reconnect_store::Home::at(&dir)?;
        let data = reconnect_store::Profile::open_at(home.clone())?;
        let demo = if profile::is_demo(id) {
            let demo = Demo::start().await?;
            demo.seed(&data)?;
            Some(demo)
        } else {
            None
        };
        // In the demo the engine runs on the simulator's virtual clock.
        let offset = demo.as_ref().map(|d| d.sim().clock_offset()).unwrap_or(0);
        let clock = OffsetClock::new(offset);
        let engine = Engine::builder(home)
            .clock(Arc::new(clock.clone()))
            .hooks_from_env()
            .build()?;
        Ok(Self {
            id: id.to_owned(),
            data,
            engine,
            clock,
            demo,
            keeper: Arc::default(),
            signins: Mutex::new(HashMap::new()),
            first_signins: Default::default(),
            unsettled: Default::default(),
            shutdown: watch::channel(()).0,
        })
    }

    /// "Now" for this profile: the simulator's clock in the demo.
    pub fn now(&self) -> i64 {
        self.engine.now()
    }

    /// Completes when this backend is dropped (profile switched or app closing).
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.shutdown.subscribe();
        async move { while rx.changed().await.is_ok() {} }
    }

    /// Whether this app keeps the profile (runs its scheduler).
    pub fn keeps(&self) -> bool {
        self.keeper.keeps()
    }

    /// Whether this is the demo profile.
    pub fn is_demo(&self) -> bool {
        self.demo.is_some()
    }

    /// The data directory.
    pub fn data_dir(&self) -> String {
        self.data.home().dir().display().to_string()
    }

    /// Defaults for the add-account form.
    pub fn add_defaults(&self) -> AddDefaults {
        match &self.demo {
            Some(d) => AddDefaults {
                tenant: d.tenant().to_owned(),
                client_id: demo::CLIENT_ID.to_owned(),
                scopes: "offline_access User.Read".to_owned(),
                // The simulator is an OpenID provider too.
                issuer: Some(format!(
                    "{}/{}/v2.0",
                    d.url().trim_end_matches('/'),
                    d.tenant()
                )),
            },
            None => AddDefaults {
                tenant: reconnect_store::account::DEFAULT_MICROSOFT_TENANT.to_owned(),
                client_id: String::new(),
                scopes: "offline_access User.Read".to_owned(),
                issuer: None,
            },
        }
    }
}

/// Defaults offered by the add-account form.
#[derive(Debug, Clone, Serialize)]
pub struct AddDefaults {
    /// Microsoft tenant.
    pub tenant: String,
    /// Client id (the demo's simulated app; empty for real profiles).
    pub client_id: String,
    /// Scopes besides `openid profile`.
    pub scopes: String,
    /// OpenID Connect issuer.
    pub issuer: Option<String>,
}

type Slot = Option<Result<Arc<Backend>, Failure>>;

/// The app's state: the backend of the current profile, once open.
#[derive(Debug)]
pub struct AppState {
    tx: watch::Sender<Slot>,
    rx: watch::Receiver<Slot>,
}

impl Default for AppState {
    fn default() -> Self {
        let (tx, rx) = watch::channel(None);
        Self { tx, rx }
    }
}

impl AppState {
    /// The open backend, waiting while a profile is being opened.
    pub async fn current(&self) -> Result<Arc<Backend>, Failure> {
        let mut rx = self.rx.clone();
        let slot = rx
            .wait_for(Option::is_some)
            .await
            .map_err(|_| Failure::msg("Reconnect is shutting down."))?;
        match slot.as_ref() {
            Some(Ok(backend)) => Ok(backend.clone()),
            Some(Err(e)) => Err(e.clone().context("The profile could not be opened")),
            None => Err(Failure::msg("No profile is open.")),
        }
    }

    /// Installs the result of opening a profile.
    pub fn set(&self, result: Result<Backend, Failure>) {
        self.tx.send_replace(Some(result.map(Arc::new)));
    }

    /// Installs an opened profile.
    pub fn set_arc(&self, backend: Arc<Backend>) {
        self.tx.send_replace(Some(Ok(backend)));
    }
}
