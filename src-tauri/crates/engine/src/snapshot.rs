//! Reading an account's state for a decision: the database row, token facts,
//! health and learned lifetimes (a [`Snapshot`]), the token set from the
//! vault when it is really needed, and the gate that refuses to send what
//! policy forbids (stopped accounts, identical requests within 60 s,
//! `Retry-After`, retries not yet due).

use std::sync::Arc;

use reconnect_core::failure::FailureRecord;
use reconnect_core::health::Health;
use reconnect_core::tokens::{TokenSet, UnixTime};
use reconnect_store::{Account, HealthRecord, TokenFacts};

use crate::engine::Engine;
use crate::error::EngineError;
use crate::learned::LearnedLifetimes;
use crate::records;
use crate::refresh::Mode;

/// What the database (and the learned-lifetimes file) say about one
/// account. The keychain is read separately and only when needed: every
/// decision is taken from the token facts, which are written right after
/// each vault write.
pub(crate) struct Snapshot {
    pub account: Account,
    pub facts: Option<TokenFacts>,
    pub health: Option<HealthRecord>,
    pub learned: LearnedLifetimes,
}

impl Engine {
    pub(crate) async fn snapshot(&self, name: &str) -> Result<Snapshot, EngineError> {
        let store = Arc::clone(&self.inner.store);
        let dir = self.inner.home.dir().to_path_buf();
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || {
            let account = match store.find_account(&name)? {
                Some(a) => a,
                None => return Err(EngineError::UnknownAccount { name }),
            };
            let facts = store.token_facts(account.id)?;
            let health = store.health(account.id)?;
            let learned = LearnedLifetimes::load(&dir, &account.name);
            Ok(Snapshot {
                account,
                facts,
                health,
                learned,
            })
        })
        .await?
    }

    /// Every account's snapshot, by name: one query for the database part
    /// and one directory listing for the learned lifetimes (an overview of
    /// thousands of accounts reads no file per account).
    pub(crate) async fn snapshots(&self) -> Result<Vec<Snapshot>, EngineError> {
        let store = Arc::clone(&self.inner.store);
        let dir = self.inner.home.dir().to_path_buf();
        tokio::task::spawn_blocking(move || {
            let mut learned = LearnedLifetimes::load_all(&dir);
            Ok(store
                .account_records()?
                .into_iter()
                .map(|r| Snapshot {
                    learned: learned
                        .remove(&reconnect_store::lock::file_stem(&r.account.name))
                        .unwrap_or_default(),
                    account: r.account,
                    facts: r.facts,
                    health: r.health,
                })
                .collect())
        })
        .await?
    }

    /// Whether this process holds tokens of `name` the keychain refused, as
    /// far as can be seen without waiting for a refresh in flight (whose
    /// outcome the database records anyway).
    pub(crate) fn holds_unsaved(&self, name: &str) -> bool {
        self.slots()
            .get(name)
            .and_then(|slot| slot.state.try_lock().ok().map(|s| s.unsaved.is_some()))
            .unwrap_or(false)
    }

    /// The token set in the vault.
    pub(crate) async fn read_tokens(
        &self,
        account: &Account,
    ) -> Result<Option<TokenSet>, EngineError> {
        let vault = Arc::clone(&self.inner.vault);
        let id = account.id;
        Ok(tokio::task::spawn_blocking(move || vault.get(id)).await??)
    }

    pub(crate) fn health_of(
        &self,
        snap: &Snapshot,
        now: UnixTime,
    ) -> (Health, Option<FailureRecord>) {
        let forecast =
            records::forecast_for(&self.inner.config, snap.facts.as_ref(), &snap.learned, now);
        records::load_health(snap.health.as_ref(), snap.facts.is_some(), &forecast, now)
    }

    /// Refuses to send when policy says not to.
    pub(crate) fn gate(
        &self,
        snap: &Snapshot,
        mode: Mode,
        now: UnixTime,
    ) -> Result<(Health, Option<FailureRecord>), EngineError> {
        let name = &snap.account.name;
        let (health, failure) = self.health_of(snap, now);
        if snap.facts.is_none() {
            return Err(EngineError::NotConnected { name: name.clone() });
        }
        let forced = matches!(mode, Mode::Explicit { force: true });
        if health.is_stopped() && !forced {
            return Err(EngineError::Stopped {
                name: name.clone(),
                health,
                failure: failure.map(Box::new),
            });
        }
        if let Some(f) = &failure {
            let fp = records::fingerprint(&snap.account, snap.facts.as_ref());
            if let Some(until) = records::deferred_until(&self.inner.config, f, &fp, now) {
                return Err(EngineError::Deferred {
                    name: name.clone(),
                    until,
                    failure: Some(Box::new(f.clone())),
                });
            }
        }
        if mode == Mode::Background
            && let Some(next_attempt) = health.next_attempt()
            && next_attempt > now
        {
            return Err(EngineError::Deferred {
                name: name.clone(),
                until: next_attempt,
                failure: failure.map(Box::new),
            });
        }
        Ok((health, failure))
    }
}
