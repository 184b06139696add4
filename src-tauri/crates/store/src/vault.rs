//! The vault: where an account's whole [`TokenSet`] lives, and the flat
//! keychain of named text entries it is built on.
//!
//! [`Vault`] is what the engine and sign-in use. [`Keychain`] is the
//! entry-level store underneath (the OS keychain, or the in-memory test
//! keychain); [`ChunkedVault`](crate::chunked::ChunkedVault) turns any
//! keychain into a vault that stores large token sets crash-safely.

use std::fmt;

use reconnect_core::tokens::TokenSet;

use crate::keychain_error::KeychainError;

/// The database id of an account; vault entries are keyed by it, so a removed
/// and re-added account never meets stale entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(pub i64);

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Why the vault could not read or write a token set.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The keychain is unreachable, locked, refused access or failed.
    #[error(transparent)]
    Keychain(#[from] KeychainError),
    /// The entries for this account are damaged or incomplete.
    #[error(
        "the tokens stored for account #{account} are damaged ({what}); sign in again to replace them"
    )]
    Damaged {
        /// The account.
        account: AccountId,
        /// A fixed description of the damage (never any stored text).
        what: &'static str,
    },
    /// The writer lock file could not be taken.
    #[error("could not lock {path} to write tokens")]
    Lock {
        /// The lock file.
        path: std::path::PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },
}

impl VaultError {
    /// The keychain error inside, if that is what this is.
    pub fn keychain(&self) -> Option<&KeychainError> {
        match self {
            Self::Keychain(k) => Some(k),
            Self::Damaged { .. } | Self::Lock { .. } => None,
        }
    }
}

/// Where token sets live: get, put and delete a whole set per account.
///
/// `put` replaces atomically: after a crash at any point, `get` returns either
/// the previous set or the new one, never a mix.
pub trait Vault: Send + Sync {
    /// The stored set, or `None` if there is none.
    fn get(&self, account: AccountId) -> Result<Option<TokenSet>, VaultError>;
    /// Stores `tokens`, replacing any previous set.
    fn put(&self, account: AccountId, tokens: &TokenSet) -> Result<(), VaultError>;
    /// Deletes the set and every entry belonging to it. Deleting nothing is fine.
    fn delete(&self, account: AccountId) -> Result<(), VaultError>;
}

impl<V: Vault + ?Sized> Vault for Box<V> {
    fn get(&self, account: AccountId) -> Result<Option<TokenSet>, VaultError> {
        (**self).get(account)
    }
    fn put(&self, account: AccountId, tokens: &TokenSet) -> Result<(), VaultError> {
        (**self).put(account, tokens)
    }
    fn delete(&self, account: AccountId) -> Result<(), VaultError> {
        (**self).delete(account)
    }
}

impl<V: Vault + ?Sized> Vault for std::sync::Arc<V> {
    fn get(&self, account: AccountId) -> Result<Option<TokenSet>, VaultError> {
        (**self).get(account)
    }
    fn put(&self, account: AccountId, tokens: &TokenSet) -> Result<(), VaultError> {
        (**self).put(account, tokens)
    }
    fn delete(&self, account: AccountId) -> Result<(), VaultError> {
        (**self).delete(account)
    }
}

/// A flat store of named text entries for one profile (one keychain service).
///
/// Each `write` or `erase` of one entry is atomic; nothing else is assumed.
pub trait Keychain: Send + Sync {
    /// Largest value, in UTF-16 bytes, one entry may hold (`usize::MAX`: no
    /// practical limit, so a token set is one entry). Windows Credential
    /// Manager's 2,560 bytes is the smallest among supported platforms.
    fn entry_limit(&self) -> usize {
        ENTRY_LIMIT_UTF16_BYTES
    }
    /// Checks the keychain is reachable and unlocked, without prompting.
    fn check(&self) -> Result<(), KeychainError> {
        Ok(())
    }
    /// The value of `entry`, or `None` if it does not exist.
    fn read(&self, entry: &str) -> Result<Option<String>, KeychainError>;
    /// Creates or replaces `entry`.
    fn write(&self, entry: &str, value: &str) -> Result<(), KeychainError>;
    /// Removes `entry`; a missing entry is not an error.
    fn erase(&self, entry: &str) -> Result<(), KeychainError>;
    /// The names of every entry, where the platform can list them (`None`
    /// where it cannot). Used to clean up after a manifest that no longer
    /// says which entries it owned.
    fn names(&self) -> Result<Option<Vec<String>>, KeychainError> {
        Ok(None)
    }
}

/// Windows Credential Manager's limit for one credential blob, in bytes
/// (stored as UTF-16, so about 1,280 characters).
pub const ENTRY_LIMIT_UTF16_BYTES: usize = 2_560;

/// Size of `value` as the strictest keychain stores it (UTF-16).
pub fn utf16_bytes(value: &str) -> usize {
    value.encode_utf16().count() * 2
}
