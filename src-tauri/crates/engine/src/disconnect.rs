//! Undoing a connection: the account stays, but its tokens (keychain first),
//! its token facts, who signed in and its health are forgotten, so it is
//! "never connected" again and its next sign-in is a first one. The app uses
//! it when the user says a first sign-in was not theirs.

use std::sync::Arc;

use reconnect_core::health::HealthState;
use reconnect_store::events::{EventKind, Outcome};
use reconnect_store::{GrantError, Grants, Identity, NewEvent, StoreError};

use crate::engine::Engine;
use crate::error::EngineError;

impl Engine {
    /// Forgets the connection of account `name`: deletes its tokens from
    /// the keychain, then (in one transaction) clears its token facts'
    /// leftovers, its identity and its health, and records `why` in its
    /// timeline. What this process holds for it in memory is dropped.
    pub async fn disconnect(&self, name: &str, why: &str) -> Result<(), EngineError> {
        let store = Arc::clone(&self.inner.store);
        let vault = Arc::clone(&self.inner.vault);
        let home = self.inner.home.clone();
        let (name_owned, why) = (name.to_owned(), why.to_owned());
        let now = self.now();
        tokio::task::spawn_blocking(move || {
            let account = store.account(&name_owned).map_err(|e| match e {
                StoreError::UnknownAccount(name) => EngineError::UnknownAccount { name },
                other => EngineError::Store(other),
            })?;
            Grants::new(&home, &store, vault.as_ref())
                .forget(&account)
                .map_err(grant_error)?;
            let mut event =
                NewEvent::new(now, Some(&account), EventKind::Signin, Outcome::Cancelled);
            event.message = Some(why);
            store.write(|tx| {
                tx.set_identity(account.id, &Identity::default())?;
                tx.set_health(account.id, HealthState::NeverConnected, None)?;
                tx.append_event(&event).map(|_| ())
            })?;
            Ok::<(), EngineError>(())
        })
        .await??;
        self.account_changed(name).await
    }
}

/// The engine's words for a failed removal of tokens.
fn grant_error(err: GrantError) -> EngineError {
    match err {
        GrantError::Lock(e) => EngineError::Lock(e),
        GrantError::Vault(e) => EngineError::Vault(e),
        GrantError::Store(e) | GrantError::Metadata(e) => EngineError::Store(e),
    }
}
