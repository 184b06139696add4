//! Errors of the metadata store and of operations that span the store and
//! the vault. Messages never contain a token.

use std::path::PathBuf;

use crate::home::HomeError;
use crate::vault::{AccountId, VaultError};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `add` with a name that is taken.
    #[error("an account named {0:?} already exists (remove it first, or pick another name)")]
    DuplicateName(String),
    /// No account has this name.
    #[error("no account named {0:?} (see `reconnect accounts`)")]
    UnknownAccount(String),
    /// No account has this id (it was removed meanwhile).
    #[error("account #{0} does not exist (it may have been removed)")]
    UnknownAccountId(AccountId),
    /// Account settings that make no sense.
    #[error("invalid account settings: {0}")]
    InvalidAccount(String),
    /// The database was written by a newer build.
    #[error(
        "the database {path} has schema version {found}, newer than this build knows ({known}); update Reconnect"
    )]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// Its version.
        found: u32,
        /// The newest this build knows.
        known: u32,
    },
    /// A stored value could not be understood.
    #[error("the database holds an unexpected value in {0}")]
    Corrupt(&'static str),
    /// SQLite failed.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The data directory is unusable.
    #[error(transparent)]
    Home(#[from] HomeError),
    /// The vault failed (keychain unreachable, locked, …).
    #[error(transparent)]
    Vault(#[from] VaultError),
}

impl StoreError {
    /// The keychain error inside, if the keychain is what failed.
    pub fn keychain(&self) -> Option<&crate::KeychainError> {
        match self {
            Self::Vault(v) => v.keychain(),
            _ => None,
        }
    }
}
