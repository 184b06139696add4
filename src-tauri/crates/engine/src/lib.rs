//! `reconnect-engine` runs refreshes: one per account at a time across threads
//! and processes, with retries decided by the decoder's verdict, keep-alive
//! refreshes before the idle limit, and a forecast of when each connection
//! dies if left alone.
//!
//! The policy is pure and lives in `reconnect-core` (`health`, `policy`,
//! `forecast`, `spike`); this crate executes it with real IO: the token
//! client (`reconnect-oauth`), the keychain and the database
//! (`reconnect-store`), lock files, and a clock.
//!
//! - [`Engine`]: open it on a data directory; [`Engine::access_token`],
//!   [`Engine::refresh`], [`Engine::status`], [`Engine::events`],
//!   [`Engine::tick`] / [`Engine::run_scheduler`], [`Engine::subscribe`],
//!   [`Engine::fail_next`] (a local failure for testing, see [`armed`]),
//!   [`Engine::disconnect`] (forget a connection, keep the account).
//! - [`clock`]: the injected clock ([`SystemClock`], [`ManualClock`],
//!   [`OffsetClock`]) and wall-clock jump detection.
//! - [`lock`]: the per-account cross-process locks (from the store).
//! - A refresh runs as named steps: `prepare` (answer without a request,
//!   lock and re-read, begin), `settle` (on success, on failure), `persist`
//!   (the guarded write, unsaved credentials).
//! - [`hooks`]: test-only pause points, clocks and scheduler pace, from the
//!   environment.
//! - A keeper (the app or `reconnect keep`) runs [`Engine::keep`], shows
//!   [`notification`]s and runs the profile's [`on_event`] program.

pub mod armed;
pub mod chart;
pub mod clock;
pub mod config;
mod disconnect;
mod engine;
pub mod error;
pub mod hooks;
pub mod learned;
pub mod notification;
pub mod notify;
pub mod on_event;
mod persist;
mod prepare;
mod records;
mod refresh;
mod request;
mod scheduler;
mod settle;
mod snapshot;
mod status;

pub use clock::{Clock, ManualClock, OffsetClock, SystemClock};
pub use config::EngineConfig;
pub use engine::{Engine, EngineBuilder, Jitter};
pub use error::{EngineError, FailureKind};
pub use notify::EngineEvent;
pub use reconnect_core::failure::FailureRecord;
pub use reconnect_store::lock;
pub use refresh::{IssuedToken, RefreshOutcome, TokenRequest};
pub use scheduler::{Round, Stop, TickReport};
pub use status::{AccountStatus, Overview};
