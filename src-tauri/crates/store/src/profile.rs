//! A profile: one data directory's database and vault together, with the
//! operations that touch both in the right order (the keychain is written
//! before the metadata that says a token exists, and emptied before the
//! metadata that points to it is removed).

use reconnect_core::secret::RefreshToken;
use reconnect_core::tokens::TokenSet;

use crate::account::Account;
use crate::db::{Store, now};
use crate::error::StoreError;
use crate::events::{EventKind, NewEvent, Outcome};
use crate::facts::TokenFacts;
use crate::grant::{Basis, GrantError, Grants, TokenWrite, Written};
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

    /// The one writer of this profile's tokens (see [`crate::grant`]).
    pub fn grants(&self) -> Grants<'_> {
        Grants::new(&self.home, &self.store, self.vault.as_ref())
    }

    /// Stores a new grant (a sign-in made elsewhere, the demo's seeding),
    /// replacing whatever is stored, with `event` in the same transaction.
    pub fn save_grant(
        &self,
        account: &Account,
        tokens: &TokenSet,
        facts: TokenFacts,
        event: &NewEvent,
    ) -> Result<Written, GrantError> {
        let write = TokenWrite {
            account,
            tokens,
            facts,
            basis: Basis::NewGrant,
            after_vault: None,
        };
        self.grants()
            .write(write, |tx| tx.append_event(event).map(|_| ()))
    }

    /// Adopts a refresh token obtained elsewhere (`reconnect import`).
    /// Replaces any stored set; the access token is fetched by the next refresh.
    pub fn import_refresh_token(
        &self,
        name: &str,
        refresh_token: RefreshToken,
    ) -> Result<Account, GrantError> {
        let account = self.store.account(name)?;
        let tokens = TokenSet {
            access_token: None,
            access_expires_at: None,
            refresh_token: Some(refresh_token),
            id_token: None,
            scope: account.scope_string(),
        };
        let mut event = NewEvent::new(now(), Some(&account), EventKind::Import, Outcome::Ok);
        event.message = Some("refresh token imported".into());
        match self.save_grant(&account, &tokens, TokenFacts::default(), &event)? {
            Written::Saved { .. } => Ok(account),
            Written::Removed | Written::Superseded => {
                Err(StoreError::UnknownAccount(name.to_owned()).into())
            }
        }
    }

    /// Removes an account: its keychain entries first, then its row (with
    /// facts and health) and a `remove` event, in one transaction, under the
    /// account's write lock (a refresh in flight then writes nothing).
    pub fn remove_account(&self, name: &str) -> Result<Account, GrantError> {
        let account = self.store.account(name)?;
        self.grants().remove(&account, |tx| {
            let mut event = NewEvent::new(now(), None, EventKind::Remove, Outcome::Ok);
            event.account_name = Some(account.name.clone());
            tx.append_event(&event).map(|_| ())
        })?;
        Ok(account)
    }
}
