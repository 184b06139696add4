//! Keeping new tokens: the vault write (retried), tokens kept in memory when
//! the keychain refuses them ("unsaved credentials") and saved later, and
//! dropping what this process holds when someone else changed the account.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use reconnect_core::health::Health;
use reconnect_core::tokens::TokenSet;
use reconnect_store::events::{kind, outcome};
use reconnect_store::{Account, NewEvent, TokenFacts};

use crate::engine::Engine;
use crate::error::EngineError;
use crate::lock;
use crate::notify::EngineEvent;

impl Engine {
    /// Writes the token set to the vault, retrying a few times.
    pub(crate) async fn put_tokens(
        &self,
        account: &Account,
        tokens: &TokenSet,
    ) -> Result<(), reconnect_store::VaultError> {
        let attempts = self.inner.config.persist_attempts.max(1);
        let mut last = None;
        for attempt in 0..attempts {
            if attempt > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(50 << attempt.min(6))).await;
            }
            let vault = Arc::clone(&self.inner.vault);
            let id = account.id;
            let set = tokens.clone();
            match tokio::task::spawn_blocking(move || vault.put(id, &set)).await {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(e)) => {
                    tracing::warn!(account = %account.name, attempt, error = %e, "keychain write failed");
                    last = Some(e);
                }
                Err(join) => {
                    tracing::warn!(account = %account.name, error = %join, "keychain write task failed");
                }
            }
        }
        Err(
            last.unwrap_or_else(|| reconnect_store::VaultError::Damaged {
                account: account.id,
                what: "the keychain write task did not finish",
            }),
        )
    }

    /// Retries the keychain write of tokens that are only in memory.
    /// Returns the accounts whose tokens are now saved.
    pub async fn save_unsaved(&self) -> Vec<String> {
        let slots: Vec<(String, Arc<crate::engine::Slot>)> = {
            let slots = self
                .inner
                .slots
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            slots
                .iter()
                .map(|(k, v)| (k.clone(), Arc::clone(v)))
                .collect()
        };
        let mut saved = Vec::new();
        for (name, slot) in slots {
            let mut state = slot.state.lock().await;
            if !state.unsaved {
                continue;
            }
            let Some(tokens) = state.tokens.clone() else {
                continue;
            };
            let path = lock::lock_path(self.inner.home.dir(), &name);
            let timeout = self.inner.config.lock_timeout;
            let Ok(Ok(_lock)) =
                tokio::task::spawn_blocking(move || lock::acquire(&path, timeout)).await
            else {
                continue;
            };
            let Ok(snap) = self.snapshot(&name).await else {
                continue;
            };
            if snap.facts != state.unsaved_base {
                // Newer tokens were stored meanwhile (another process, or a
                // sign-in): they win; ours are dropped.
                tracing::info!(account = %name, "dropping unsaved tokens: newer ones were stored");
                state.unsaved = false;
                state.unsaved_base = None;
                state.tokens = None;
                continue;
            }
            if self.put_tokens(&snap.account, &tokens).await.is_err() {
                continue;
            }
            let now = self.now();
            let old = snap.facts.clone().unwrap_or_default();
            let facts = TokenFacts {
                access_expires_at: tokens.access_expires_at,
                refresh_issued_at: old.refresh_issued_at.or(Some(now)),
                refresh_last_used_at: Some(now),
                rotation_count: old.rotation_count.saturating_add(1),
                spa: old.spa,
                stored_at: now,
            };
            let mut event = NewEvent::new(now, Some(&snap.account), kind::REFRESH, outcome::OK);
            event.message = Some("tokens kept in memory are now saved to the keychain".into());
            let store = Arc::clone(&self.inner.store);
            let id = snap.account.id;
            let _ = tokio::task::spawn_blocking(move || {
                store.write(|tx| {
                    tx.set_token_facts(id, &facts)?;
                    tx.append_event(&event)?;
                    Ok(())
                })
            })
            .await;
            state.unsaved = false;
            state.unsaved_base = None;
            self.emit(EngineEvent::CredentialsSaved {
                account: name.clone(),
            });
            saved.push(name);
        }
        saved
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
            state.unsaved = false;
            state.unsaved_base = None;
            slot.generation.fetch_add(1, Ordering::SeqCst);
            state.last_health
        };
        let snap = self.snapshot(name).await?;
        let (health, _) = self.health_of(&snap, self.now());
        if let Some(from) = previous
            && from != health
        {
            let notice = (from.is_stopped() || matches!(from, Health::ExpiringSoon { .. }))
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
        let slot = self.slot(name);
        let state = slot.state.lock().await;
        state.unsaved
    }
}
