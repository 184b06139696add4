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
    #[error("database error: {}", sqlite_message(.0))]
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

/// Says in plain words what a SQLite failure means for the user, keeping
/// SQLite's own text in parentheses for whoever debugs it.
fn sqlite_message(err: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode;
    let plain = match err.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => {
            "the disk holding the data directory is full; free some space and try again \
             (nothing already stored was lost)"
        }
        Some(ErrorCode::ReadOnly) => {
            "the data directory is read-only; make it writable (or point RECONNECT_HOME \
             elsewhere) and try again (nothing already stored was lost)"
        }
        Some(ErrorCode::SystemIoFailure) => {
            "the data directory could not be written; the disk may be full, read-only or \
             failing (nothing already stored was lost)"
        }
        Some(ErrorCode::CannotOpen) => {
            "the database file could not be opened; check that the data directory exists \
             and is writable"
        }
        _ => return err.to_string(),
    };
    format!("{plain} ({err})")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(code: i32) -> StoreError {
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(code),
            None,
        ))
    }

    #[test]
    fn disk_trouble_is_explained_in_plain_words() {
        let full = sqlite(rusqlite::ffi::SQLITE_FULL).to_string();
        assert!(
            full.contains("disk holding the data directory is full"),
            "{full}"
        );
        let read_only = sqlite(rusqlite::ffi::SQLITE_READONLY).to_string();
        assert!(read_only.contains("read-only"), "{read_only}");
        let io = sqlite(rusqlite::ffi::SQLITE_IOERR).to_string();
        assert!(io.contains("may be full, read-only or failing"), "{io}");
        assert!(io.contains("nothing already stored was lost"), "{io}");
    }
}
