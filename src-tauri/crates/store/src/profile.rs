//! A profile: one data directory's database and vault together, with the
//! operations that touch both in the right order (the keychain is written
//! before the metadata that says a token exists, and emptied before the
//! metadata that points to it is removed).

use reconnect_core::secret::RefreshToken;
use reconnect_core::tokens::TokenSet;

use crate::account::Account;
use crate::db::{Store, now};
use crate::error::StoreError;
use crate::events::{NewEvent, kind, outcome};
use crate::facts::TokenFacts;
use crate::home::Home;
use crate::keychain::KeychainVault;
use crate::vault::{AccountId, Vault};

/// A data directory's store and vault.
pub struct Profile {
    home: Home,
    store: Store,
    vault: Box<dyn Vault>,
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("home", &self.home)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Profile {
    /// The profile selected by `RECONNECT_HOME` (or the platform data dir),
    /// with the OS keychain.
    pub fn open() -> Result<Self, StoreError> {
        Self::open_at(Home::resolve()?)
    }

    /// The profile in `home`, with the OS keychain.
    pub fn open_at(home: Home) -> Result<Self, StoreError> {
        let vault = KeychainVault::for_home(&home);
        Self::with_vault(home, Box::new(vault))
    }

    /// The profile in `home` with another vault (tests, demo).
    pub fn with_vault(home: Home, vault: Box<dyn Vault>) -> Result<Self, StoreError> {
        let store = Store::open(&home)?;
        Ok(Self { home, store, vault })
    }

    /// The data directory.
    pub fn home(&self) -> &Home {
        &self.home
    }

    /// The metadata store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The vault.
    pub fn vault(&self) -> &dyn Vault {
        self.vault.as_ref()
    }

    /// The stored token set of an account.
    pub fn load_tokens(&self, id: AccountId) -> Result<Option<TokenSet>, StoreError> {
        Ok(self.vault.get(id)?)
    }

    /// Saves a new token set: the vault first, then, in one transaction,
    /// the facts and the event (if any). Call right after every successful
    /// refresh or sign-in — refresh tokens rotate.
    pub fn save_tokens(
        &self,
        id: AccountId,
        tokens: &TokenSet,
        facts: &TokenFacts,
        event: Option<&NewEvent>,
    ) -> Result<(), StoreError> {
        // Refuse early if the account is gone, so no orphan entry is written.
        self.store.account_by_id(id)?;
        self.vault.put(id, tokens)?;
        let recorded = self.store.write(|tx| {
            tx.set_token_facts(id, facts)?;
            if let Some(event) = event {
                tx.append_event(event)?;
            }
            Ok(())
        });
        if let Err(StoreError::UnknownAccountId(_)) = recorded {
            // Removed meanwhile: don't leave its tokens behind.
            if let Err(err) = self.vault.delete(id) {
                tracing::warn!(account = %id, %err, "could not delete tokens of a removed account");
            }
        }
        recorded
    }

    /// Deletes an account's tokens (vault first), keeping the account.
    pub fn forget_tokens(&self, id: AccountId) -> Result<(), StoreError> {
        self.vault.delete(id)?;
        self.store.write(|tx| tx.clear_token_facts(id))
    }

    /// Adopts a refresh token obtained elsewhere (`reconnect import`).
    /// Replaces any stored set; the access token is fetched by the next refresh.
    pub fn import_refresh_token(
        &self,
        name: &str,
        refresh_token: RefreshToken,
    ) -> Result<Account, StoreError> {
        let account = self.store.account(name)?;
        let tokens = TokenSet {
            access_token: None,
            access_expires_at: None,
            refresh_token: Some(refresh_token),
            id_token: None,
            scope: account.scope_string(),
        };
        let mut event = NewEvent::new(now(), Some(&account), kind::IMPORT, outcome::OK);
        event.message = Some("refresh token imported".into());
        self.save_tokens(account.id, &tokens, &TokenFacts::default(), Some(&event))?;
        Ok(account)
    }

    /// Removes an account: its keychain entries first, then its row (with
    /// facts and health) and a `remove` event, in one transaction.
    pub fn remove_account(&self, name: &str) -> Result<Account, StoreError> {
        let account = self.store.account(name)?;
        self.vault.delete(account.id)?;
        self.store.write(|tx| {
            tx.delete_account(account.id)?;
            let mut event = NewEvent::new(now(), None, kind::REMOVE, outcome::OK);
            event.account_name = Some(account.name.clone());
            tx.append_event(&event)?;
            Ok(())
        })?;
        Ok(account)
    }
}
