//! `reconnect-store` keeps secrets in the OS keychain (the vault) and
//! everything else — accounts, token facts, health, events — in SQLite.
//!
//! - [`Home`]: the data directory (`RECONNECT_HOME` or the platform data dir)
//!   and the keychain service name derived from it.
//! - [`Store`]: the SQLite database (WAL, migrations, transactions via
//!   [`Store::write`]).
//! - [`Vault`]: whole token sets per account; [`KeychainVault`] over the OS
//!   keychain, [`MemoryVault`] over the size-limited, fault-injecting
//!   [`MemoryKeychain`] for tests. Both chunk crash-safely ([`ChunkedVault`]).
//! - [`Grants`]: the one way token sets are written and accounts removed,
//!   under the account's write lock ([`lock`]), never replacing a newer
//!   grant with an older one.
//! - [`ProfileConfig`]: the profile's hand-edited `config.toml`.
//! - [`Profile`]: a store and a vault together, for operations that touch
//!   both in the right order.
//!
//! See README.md for the schema, the chunk format and the failure cases.

pub mod account;
mod attempt;
pub mod chunked;
mod codec;
pub mod config;
pub mod db;
pub mod error;
pub mod events;
pub mod facts;
pub mod grant;
pub mod health;
pub mod home;
pub mod keeper;
pub mod keychain;
pub mod keychain_error;
pub mod listing;
pub mod lock;
pub mod memory;
pub mod profile;
#[cfg(target_os = "linux")]
mod secret_service;
pub mod validate;
pub mod vault;

pub use account::{Account, Identity, NewAccount, Provider, Redirect};
pub use chunked::ChunkedVault;
pub use config::{ConfigError, ProfileConfig};
pub use db::{Store, Tx};
pub use error::StoreError;
pub use events::{CodeCount, Event, EventKind, EventQuery, NewEvent, Outcome, Retention};
pub use facts::TokenFacts;
pub use grant::{Basis, GrantError, Grants, TokenWrite, Written};
pub use health::HealthRecord;
pub use home::{Home, HomeError};
pub use keeper::{Keeper, KeeperError, KeeperKind, KeeperLock};
pub use keychain::{KeychainVault, OsKeychain};
pub use keychain_error::KeychainError;
pub use listing::AccountRecord;
pub use memory::{Fault, MemoryKeychain, MemoryVault};
pub use profile::Profile;
pub use vault::{AccountId, Keychain, Vault, VaultError};
