//! Keeping new tokens: every write goes through the store's guarded path
//! ([`reconnect_store::Grants`]), retried when the keychain refuses it; tokens
//! the keychain keeps refusing stay in memory ("unsaved credentials") and are
//! saved later; a failure is recorded only if no newer grant was stored
//! meanwhile; and what this process holds is dropped when someone else
//! changed the account.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use reconnect_core::failure::FailureRecord;
use reconnect_core::health::{Health, HealthState};
use reconnect_core::tokens::{TokenSet, UnixTime};
use reconnect_store::events::{EventKind, Outcome};
use reconnect_store::lock;
use reconnect_store::{
    Account, Basis, GrantError, Grants, NewEvent, StoreError, TokenFacts, TokenWrite, VaultError,
    Written,
};

use crate::engine::{Engine, Slot};
use crate::error::EngineError;
use crate::hooks::PausePoint;
use crate::notify::EngineEvent;

/// What a refresh records beside its tokens, in the same transaction.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    /// The new health and last failure; `None` leaves them as they are.
    pub health: Option<(HealthState, Option<FailureRecord>)>,
    /// The timeline's line.
    pub event: NewEvent,
}

/// How a write ended.
#[derive(Debug)]
pub(crate) enum Commit {
    /// Written.
    Saved,
    /// A newer grant was stored since the redeemed one: nothing written.
    Superseded,
    /// The account is gone: nothing written.
    Removed,
    /// The keychain kept refusing the tokens: nothing written.
    Refused(VaultError),
}

impl Engine {
    /// Writes a refreshed set that replaces the stored set `basis`, with
    /// `recorded`, retrying a few times while the keychain refuses it.
    pub(crate) async fn commit(
        &self,
        account: &Account,
        tokens: &TokenSet,
        facts: &TokenFacts,
        basis: i64,
        recorded: &Recorded,
    ) -> Result<Commit, EngineError> {
        let attempts = self.inner.config.persist_attempts.max(1);
        let mut refused = None;
        for attempt in 0..attempts {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(50 << attempt.min(6))).await;
            }
            match self
                .write_once(account, tokens, facts, basis, recorded)
                .await?
            {
                Ok(Written::Saved { .. }) => return Ok(Commit::Saved),
                Ok(Written::Superseded) => return Ok(Commit::Superseded),
                Ok(Written::Removed) => return Ok(Commit::Removed),
                Err(GrantError::Vault(e)) => {
                    tracing::warn!(account = %account.name, attempt, error = %e, "keychain write failed");
                    refused = Some(e);
                }
                Err(GrantError::Metadata(e)) => {
                    // The tokens are in the keychain, which is what matters;
                    // the next write records their facts.
                    tracing::warn!(account = %account.name, error = %e, "could not record the refresh in the database");
                    return Ok(Commit::Saved);
                }
                Err(GrantError::Store(e)) => return Err(e.into()),
                Err(GrantError::Lock(e)) => return Err(e.into()),
            }
        }
        Ok(Commit::Refused(refused.unwrap_or(VaultError::Damaged {
            account: account.id,
            what: "the keychain write was not attempted",
        })))
    }

    async fn write_once(
        &self,
        account: &Account,
        tokens: &TokenSet,
        facts: &TokenFacts,
        basis: i64,
        recorded: &Recorded,
    ) -> Result<Result<Written, GrantError>, EngineError> {
        let (store, vault) = (Arc::clone(&self.inner.store), Arc::clone(&self.inner.vault));
        let home = self.inner.home.clone();
        let hooks = self.inner.hooks.clone();
        let (account, tokens, facts) = (account.clone(), tokens.clone(), facts.clone());
        let recorded = recorded.clone();
        Ok(tokio::task::spawn_blocking(move || {
            let pause = || hooks.at_blocking(PausePoint::VaultWritten);
            let write = TokenWrite {
                account: &account,
                tokens: &tokens,
                facts,
                basis: Basis::Redeemed { write_seq: basis },
                after_vault: Some(&pause),
            };
            Grants::new(&home, &store, vault.as_ref()).write(write, |tx| {
                if let Some((state, failure)) = &recorded.health {
                    tx.set_health(account.id, *state, failure.as_ref())?;
                }
                tx.append_event(&recorded.event).map(|_| ())
            })
        })
        .await?)
    }

    /// Records health and the event of a refresh whose tokens the keychain
    /// refused, and marks the account "unsaved credentials".
    pub(crate) async fn record_unsaved(
        &self,
        account: &Account,
        recorded: Recorded,
        now: UnixTime,
    ) {
        let store = Arc::clone(&self.inner.store);
        let id = account.id;
        let written = tokio::task::spawn_blocking(move || {
            store.write(|tx| {
                if let Some((state, failure)) = &recorded.health {
                    tx.set_health(id, *state, failure.as_ref())?;
                }
                tx.set_unsaved(id, Some(now))?;
                tx.append_event(&recorded.event).map(|_| ())
            })
        })
        .await;
        if !matches!(written, Ok(Ok(()))) {
            tracing::warn!(account = %account.name, "could not record the unsaved refresh in the database");
        }
    }

    /// Records a failed refresh of the stored set `basis`, unless a newer
    /// grant was stored since (or the account is gone): a late failure of
    /// the old chain must not mark a fresh reconnect as broken.
    pub(crate) async fn record_failure(
        &self,
        account: &Account,
        basis: i64,
        recorded: Recorded,
    ) -> Commit {
        let store = Arc::clone(&self.inner.store);
        let id = account.id;
        let written = tokio::task::spawn_blocking(move || {
            store.write(|tx| {
                let stored = tx.token_facts(id)?.map(|f| f.write_seq);
                if stored != Some(basis) {
                    return Ok(Commit::Superseded);
                }
                if let Some((state, failure)) = &recorded.health {
                    tx.set_health(id, *state, failure.as_ref())?;
                }
                tx.append_event(&recorded.event)?;
                Ok(Commit::Saved)
            })
        })
        .await;
        match written {
            Ok(Ok(commit)) => commit,
            Ok(Err(StoreError::UnknownAccountId(_))) => Commit::Removed,
            _ => {
                tracing::warn!(account = %account.name, "could not record the failed refresh in the database");
                Commit::Saved
            }
        }
    }

    /// Retries the keychain write of tokens that are only in memory.
    /// Returns the accounts whose tokens are now saved.
    pub async fn save_unsaved(&self) -> Vec<String> {
        let slots: Vec<(String, Arc<Slot>)> = self
            .slots()
            .iter()
            .map(|(k, v)| (k.clone(), Arc::clone(v)))
            .collect();
        let mut saved = Vec::new();
        for (name, slot) in slots {
            if self.save_one(&name, &slot).await {
                saved.push(name);
            }
        }
        saved
    }

    /// Saves one account's unsaved tokens under its refresh lock.
    async fn save_one(&self, name: &str, slot: &Slot) -> bool {
        let mut state = slot.state.lock().await;
        let (Some(unsaved), Some(tokens)) = (state.unsaved.clone(), state.tokens.clone()) else {
            return false;
        };
        let path = lock::lock_path(self.inner.home.dir(), name);
        let timeout = self.inner.config.lock_timeout;
        let Ok(Ok(_held)) =
            tokio::task::spawn_blocking(move || lock::acquire(&path, timeout)).await
        else {
            return false;
        };
        let Ok(snap) = self.snapshot(name).await else {
            return false;
        };
        let mut event = NewEvent::new(
            self.now(),
            Some(&snap.account),
            EventKind::Refresh,
            Outcome::Ok,
        );
        event.message = Some("tokens kept in memory are now saved to the keychain".into());
        let recorded = Recorded {
            health: None,
            event,
        };
        let commit = self
            .commit(
                &snap.account,
                &tokens,
                &unsaved.facts,
                unsaved.base,
                &recorded,
            )
            .await;
        match commit {
            Ok(Commit::Saved) => {
                state.unsaved = None;
                self.emit(EngineEvent::CredentialsSaved {
                    account: name.to_owned(),
                });
                true
            }
            Ok(Commit::Superseded | Commit::Removed) => {
                // Newer tokens were stored meanwhile (a sign-in, another
                // process): they win; ours are dropped.
                tracing::info!(account = %name, "dropping unsaved tokens: newer ones were stored");
                state.unsaved = None;
                state.tokens = None;
                slot.generation.fetch_add(1, Ordering::SeqCst);
                false
            }
            Ok(Commit::Refused(_)) | Err(_) => false,
        }
    }

    /// Tells the engine that someone else (an interactive sign-in, an import,
    /// a removal) changed the account's stored tokens or health: the tokens
    /// held in memory are dropped, waiters re-read, and the new health is
    /// announced to subscribers (e.g. "recovered" after a reconnect).
    pub async fn account_changed(&self, name: &str) -> Result<(), EngineError> {
        let slot = self.slot(name);
        let previous = {
            let mut state = slot.state.lock().await;
            state.tokens = None;
            state.unsaved = None;
            slot.generation.fetch_add(1, Ordering::SeqCst);
            state.last_health
        };
        let snap = self.snapshot(name).await?;
        let (health, _) = self.health_of(&snap, self.now());
        if let Some(from) = previous
            && from != health
        {
            let told = matches!(
                from,
                Health::ExpiringSoon { .. } | Health::Unreachable { .. }
            );
            let notice = (from.is_stopped() || told)
                .then_some(reconnect_core::health::Notice::Recovered)
                .filter(|_| matches!(health, Health::Healthy));
            self.emit(EngineEvent::HealthChanged {
                account: name.to_owned(),
                from,
                to: health,
                notice,
            });
        }
        slot.state.lock().await.last_health = Some(health);
        Ok(())
    }

    /// Whether this process holds tokens the keychain has not accepted yet.
    pub async fn has_unsaved_credentials(&self, name: &str) -> bool {
        self.slot(name).state.lock().await.unsaved.is_some()
    }
}
