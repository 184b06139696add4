//! The one way token sets are written and removed.
//!
//! Every write of an account's tokens — a refresh, an interactive sign-in, an
//! import, the demo's seeding, saving tokens kept in memory — and every
//! removal goes through [`Grants`]. Each operation takes the account's write
//! lock (see [`crate::lock`]), re-reads what is stored, and only then touches
//! the keychain and the database:
//!
//! - a **new grant** (sign-in, import, seeding) replaces whatever is stored:
//!   the user just made it, so it is the newest there is;
//! - a **refresh** names the stored set it redeemed (its `write_seq`); if
//!   anything else was stored since, or the account is gone, it writes
//!   nothing and says which ([`Written::Superseded`], [`Written::Removed`]),
//!   so an old refresh-token chain never overwrites a reconnect and a removed
//!   account's tokens never come back.
//!
//! The keychain is written before the metadata that says a token exists, and
//! emptied before the metadata that points to it is removed.

use std::path::PathBuf;
use std::time::Duration;

use reconnect_core::tokens::TokenSet;

use crate::account::Account;
use crate::db::{Store, Tx};
use crate::error::StoreError;
use crate::facts::TokenFacts;
use crate::home::Home;
use crate::lock::{self, AccountLock, LockError};
use crate::vault::{Vault, VaultError};

/// How long a token write waits for another one of the same account. Writes
/// hold the lock for one keychain write and one transaction.
pub const WRITE_LOCK_TIMEOUT: Duration = Duration::from_secs(30);

/// What a token write replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// A new grant from the user: replaces whatever is stored.
    NewGrant,
    /// The result of redeeming the stored set written as `write_seq`:
    /// written only if that set is still the one stored.
    Redeemed {
        /// The `write_seq` of the set the request redeemed.
        write_seq: i64,
    },
}

/// One token write.
pub struct TokenWrite<'a> {
    /// The account, as read before the write.
    pub account: &'a Account,
    /// The new set.
    pub tokens: &'a TokenSet,
    /// Facts about it (`stored_at` and `write_seq` are set by the write).
    pub facts: TokenFacts,
    /// What it replaces.
    pub basis: Basis,
    /// Called between the keychain write and the metadata transaction (the
    /// engine's crash tests pause there); `None` for everyone else.
    pub after_vault: Option<&'a dyn Fn()>,
}

impl std::fmt::Debug for TokenWrite<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenWrite")
            .field("account", &self.account.name)
            .field("facts", &self.facts)
            .field("basis", &self.basis)
            .finish_non_exhaustive()
    }
}

/// What a token write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Stored, as write number `write_seq`.
    Saved {
        /// The new set's `write_seq`.
        write_seq: i64,
    },
    /// Nothing written: a newer set was stored (or the tokens were
    /// disconnected) since the redeemed one.
    Superseded,
    /// Nothing written: the account was removed.
    Removed,
}

/// Why a token write or removal failed. Nothing was changed unless stated.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    /// The account's write lock could not be taken.
    #[error("could not take the account's write lock")]
    Lock(#[from] LockError),
    /// The keychain refused the tokens; the database was not changed.
    #[error("the keychain refused the tokens")]
    Vault(#[source] VaultError),
    /// The database failed before anything was written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The tokens are in the keychain, but the database could not record
    /// them (the next write does).
    #[error("the tokens were saved, but the database could not record them")]
    Metadata(#[source] StoreError),
}

impl GrantError {
    /// The keychain error inside, if the keychain is what failed.
    pub fn keychain(&self) -> Option<&crate::KeychainError> {
        match self {
            Self::Vault(v) => v.keychain(),
            Self::Store(s) | Self::Metadata(s) => s.keychain(),
            Self::Lock(_) => None,
        }
    }
}

/// Token writes and removals of one data directory.
pub struct Grants<'a> {
    store: &'a Store,
    vault: &'a dyn Vault,
    data_dir: PathBuf,
}

impl std::fmt::Debug for Grants<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grants")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl<'a> Grants<'a> {
    /// The writer over `store` and `vault` of the data directory `home`.
    pub fn new(home: &Home, store: &'a Store, vault: &'a dyn Vault) -> Self {
        Self {
            store,
            vault,
            data_dir: home.dir().to_path_buf(),
        }
    }

    fn lock(&self, account: &Account) -> Result<AccountLock, LockError> {
        let path = lock::write_lock_path(&self.data_dir, &account.name);
        lock::acquire(&path, WRITE_LOCK_TIMEOUT)
    }

    /// Writes a token set under the account's write lock: re-reads, checks
    /// the basis, writes the keychain, then, in one transaction, the facts,
    /// a cleared "unsaved" mark and whatever `record` adds (health, identity,
    /// the event). Blocking.
    pub fn write(
        &self,
        write: TokenWrite<'_>,
        record: impl FnOnce(&Tx<'_>) -> Result<(), StoreError>,
    ) -> Result<Written, GrantError> {
        let account = write.account;
        let _held = self.lock(account)?;
        match self.store.account_by_id(account.id) {
            Ok(_) => {}
            Err(StoreError::UnknownAccountId(_)) => return Ok(Written::Removed),
            Err(e) => return Err(e.into()),
        }
        if let Basis::Redeemed { write_seq } = write.basis {
            let stored = self.store.token_facts(account.id)?.map(|f| f.write_seq);
            if stored != Some(write_seq) {
                return Ok(Written::Superseded);
            }
        }
        self.vault
            .put(account.id, write.tokens)
            .map_err(GrantError::Vault)?;
        if let Some(pause) = write.after_vault {
            pause();
        }
        let saved = self.store.write(|tx| {
            let seq = tx.set_token_facts(account.id, &write.facts)?;
            tx.set_unsaved(account.id, None)?;
            record(tx)?;
            Ok(seq)
        });
        match saved {
            Ok(write_seq) => Ok(Written::Saved { write_seq }),
            Err(e) => {
                // The metadata does not point at the new set; it must not
                // outlive a removal (the only way the account can vanish
                // here is a writer that bypassed the lock).
                if matches!(e, StoreError::UnknownAccountId(_)) {
                    self.delete_quietly(account);
                    return Ok(Written::Removed);
                }
                Err(GrantError::Metadata(e))
            }
        }
    }

    /// Deletes an account's tokens (keychain first), keeping the account.
    pub fn forget(&self, account: &Account) -> Result<(), GrantError> {
        let _held = self.lock(account)?;
        self.vault.delete(account.id).map_err(GrantError::Vault)?;
        self.store.write(|tx| tx.clear_token_facts(account.id))?;
        Ok(())
    }

    /// Removes an account: its keychain entries first, then its row (with
    /// facts and health) and whatever `record` adds, in one transaction.
    pub fn remove(
        &self,
        account: &Account,
        record: impl FnOnce(&Tx<'_>) -> Result<(), StoreError>,
    ) -> Result<(), GrantError> {
        let _held = self.lock(account)?;
        self.vault.delete(account.id).map_err(GrantError::Vault)?;
        self.store.write(|tx| {
            tx.delete_account(account.id)?;
            record(tx)
        })?;
        Ok(())
    }

    fn delete_quietly(&self, account: &Account) {
        if let Err(err) = self.vault.delete(account.id) {
            tracing::warn!(account = %account.name, %err, "could not delete the tokens of a removed account");
        }
    }
}
