//! The steps of a refresh after its answer: on success, the new set goes
//! through the guarded write path (or stays in memory as "unsaved
//! credentials" when the keychain refuses it); on failure, the decoder's
//! verdict becomes the health and the recorded failure. Either way, a refresh
//! that lost its account to a reconnect or a removal while the request was in
//! flight writes nothing but a line in the timeline saying so.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use reconnect_core::failure::FailureRecord;
use reconnect_core::health::{self, Health, HealthAction, HealthEvent, Notice};
use reconnect_core::secret::RefreshToken;
use reconnect_core::tokens::{TokenSet, UnixTime};
use reconnect_oauth::{TokenError, TokenResponse};
use reconnect_store::events::{EventKind, Outcome};
use reconnect_store::{Account, NewEvent, TokenFacts};

use crate::engine::{Engine, Slot, SlotState, Unsaved};
use crate::error::EngineError;
use crate::hooks::PausePoint;
use crate::notify::EngineEvent;
use crate::persist::{Commit, Recorded};
use crate::prepare::Request;
use crate::records;
use crate::refresh::RefreshOutcome;

/// The new token set of a successful refresh, with its facts.
struct Renewed {
    tokens: TokenSet,
    facts: TokenFacts,
    rotated: bool,
}

/// Completes the provider's answer into a full set: a missing refresh token
/// means the redeemed one stays valid, a missing scope means the old scope.
fn renewed(
    response: TokenResponse,
    redeemed: RefreshToken,
    held: Option<&TokenSet>,
    old: Option<&TokenFacts>,
    now: UnixTime,
) -> Renewed {
    let spa = response.refresh_token_expires_in.is_some();
    let mut tokens = response.tokens;
    let rotated = tokens
        .refresh_token
        .as_ref()
        .is_some_and(|t| *t != redeemed);
    tokens.refresh_token.get_or_insert(redeemed);
    if tokens.scope.is_empty() {
        tokens.scope = held.map(|t| t.scope.clone()).unwrap_or_default();
    }
    let old = old.cloned().unwrap_or_default();
    let facts = TokenFacts {
        access_expires_at: tokens.access_expires_at,
        refresh_issued_at: old.refresh_issued_at.or(Some(now)),
        refresh_last_used_at: Some(now),
        rotation_count: old.rotation_count.saturating_add(u32::from(rotated)),
        spa: old.spa || spa,
        ..TokenFacts::default()
    };
    Renewed {
        tokens,
        facts,
        rotated,
    }
}

impl Engine {
    /// Persists and announces a successful refresh.
    pub(crate) async fn on_success(
        &self,
        slot: &Slot,
        state: &mut SlotState,
        request: &Request,
        answer: (TokenResponse, RefreshToken),
        elapsed_ms: i64,
    ) -> Result<(TokenSet, RefreshOutcome), EngineError> {
        let now = self.now();
        let account = &request.snap.account;
        let new = renewed(
            answer.0,
            answer.1,
            state.tokens.as_ref(),
            request.snap.facts.as_ref(),
            now,
        );
        let (to, actions) = self.health_after_success(request, &new.facts, now);
        let mut event = NewEvent::new(now, Some(account), EventKind::Refresh, Outcome::Ok);
        event.duration_ms = Some(elapsed_ms);
        event.correlation_id = Some(request.request_id.clone());
        event.message = Some(
            if new.rotated {
                "refreshed; new refresh token stored"
            } else {
                "refreshed"
            }
            .to_owned(),
        );
        let recorded = Recorded {
            health: Some((to.state(), None)),
            event,
        };
        let commit = self
            .commit(account, &new.tokens, &new.facts, request.basis, &recorded)
            .await?;
        self.inner.hooks.at(PausePoint::MetadataWritten).await;
        slot.generation.fetch_add(1, Ordering::SeqCst);
        match commit {
            Commit::Saved => state.unsaved = None,
            Commit::Refused(err) => {
                self.keep_unsaved(state, request, &new, &recorded, &err, now)
                    .await;
            }
            Commit::Superseded | Commit::Removed => {
                return Err(self.discard(state, account, commit, now).await);
            }
        }
        state.tokens = Some(new.tokens.clone());
        state.last_health = Some(to);
        self.apply(&account.name, request.before, to, &actions);
        self.emit(EngineEvent::Refreshed {
            account: account.name.clone(),
        });
        let unsaved = state.unsaved.as_ref();
        Ok((
            new.tokens,
            RefreshOutcome {
                sent: true,
                access_expires_at: state.tokens.as_ref().and_then(|t| t.access_expires_at),
                unsaved_credentials: unsaved.is_some(),
                unsaved_rotation: unsaved.is_some_and(|u| u.old_may_fail),
            },
        ))
    }

    /// Healthy, then the forecast's say (still expiring soon after a refresh
    /// of a fixed lifetime gives no second notice for the same deadline).
    fn health_after_success(
        &self,
        request: &Request,
        facts: &TokenFacts,
        now: UnixTime,
    ) -> (Health, Vec<HealthAction>) {
        let retry = &self.inner.config.retry;
        let (healthy, mut actions) =
            health::transition(retry, request.started, HealthEvent::RefreshSucceeded, now);
        let forecast =
            records::forecast_for(&self.inner.config, Some(facts), &request.snap.learned, now);
        let event = HealthEvent::ForecastChanged {
            expiring_deadline: forecast.expiring_deadline,
        };
        let (to, more) = health::transition(retry, healthy, event, now);
        let was_expiring = matches!(request.before, Health::ExpiringSoon { .. });
        actions.extend(
            more.into_iter()
                .filter(|a| !(was_expiring && *a == HealthAction::Notify(Notice::ExpiringSoon))),
        );
        (to, actions)
    }

    /// The keychain refused the new set: keep it in memory, mark the account
    /// "unsaved credentials" in the database, and tell listeners.
    async fn keep_unsaved(
        &self,
        state: &mut SlotState,
        request: &Request,
        new: &Renewed,
        recorded: &Recorded,
        err: &reconnect_store::VaultError,
        now: UnixTime,
    ) {
        let account = &request.snap.account;
        let mut event = recorded.event.clone();
        event.message = Some(format!(
            "refreshed, but the keychain refused the new tokens (kept in memory, unsaved credentials): {err}"
        ));
        let unsaved = Recorded {
            health: recorded.health.clone(),
            event,
        };
        self.record_unsaved(account, unsaved, now).await;
        // Microsoft Entra ID keeps earlier refresh tokens of a grant valid.
        let keeps_old = account.provider == reconnect_store::Provider::Microsoft;
        let old_may_fail =
            !keeps_old && (new.rotated || state.unsaved.as_ref().is_some_and(|u| u.old_may_fail));
        state.unsaved = Some(Unsaved {
            base: request.basis,
            facts: new.facts.clone(),
            old_may_fail,
        });
        self.emit(EngineEvent::UnsavedCredentials {
            account: account.name.clone(),
        });
    }

    /// Records and announces a failed refresh; returns the error to give.
    pub(crate) async fn on_failure(
        &self,
        state: &mut SlotState,
        request: &Request,
        err: &TokenError,
        elapsed_ms: i64,
    ) -> EngineError {
        let now = self.now();
        let account = &request.snap.account;
        let verdict = request.verdict(err, now);
        let mut record = FailureRecord::new(verdict, now, request.fingerprint.clone());
        let failed = HealthEvent::RefreshFailed {
            class: record.class,
            category: record.verdict.category,
            jitter_fraction: (self.inner.jitter)(),
        };
        let (to, actions) =
            health::transition(&self.inner.config.retry, request.started, failed, now);
        if let Some(next_attempt) = to.next_attempt() {
            record.next_attempt = Some(next_attempt);
            record.streak = to.streak();
        }
        // An armed failure reveals nothing about the real lifetimes.
        if request.armed().is_none() {
            let snap = &request.snap;
            let learned = snap.learned.clone();
            self.learn(account, &record.verdict, snap.facts.as_ref(), learned, now);
        }
        let recorded = Recorded {
            health: Some((to.state(), Some(records::stored_failure(&to, &record)))),
            event: failure_event(account, &record, request, elapsed_ms, now),
        };
        match self.record_failure(account, request.basis, recorded).await {
            Commit::Saved | Commit::Refused(_) => {}
            other => return self.discard(state, account, other, now).await,
        }
        state.last_health = Some(to);
        self.apply(&account.name, request.before, to, &actions);
        self.check_spikes(now).await;
        EngineError::Refresh {
            name: account.name.clone(),
            failure: Box::new(record),
        }
    }

    /// The account was reconnected or removed while the request was in
    /// flight: nothing of this refresh is kept; the timeline says so.
    async fn discard(
        &self,
        state: &mut SlotState,
        account: &Account,
        commit: Commit,
        now: UnixTime,
    ) -> EngineError {
        state.tokens = None;
        state.unsaved = None;
        let removed = matches!(commit, Commit::Removed);
        let mut event = NewEvent::new(now, None, EventKind::Refresh, Outcome::Discarded);
        event.account_name = Some(account.name.clone());
        if !removed {
            event.account_id = Some(account.id);
        }
        event.message = Some(
            if removed {
                "the account was removed while this refresh was in flight; its result was discarded"
            } else {
                "the account was reconnected while this refresh was in flight; its result was discarded and the new sign-in kept"
            }
            .to_owned(),
        );
        let store = Arc::clone(&self.inner.store);
        let written = tokio::task::spawn_blocking(move || store.append_event(&event)).await;
        if !matches!(written, Ok(Ok(_))) {
            tracing::warn!(account = %account.name, "could not record a discarded refresh");
        }
        if removed {
            EngineError::UnknownAccount {
                name: account.name.clone(),
            }
        } else {
            EngineError::Superseded {
                name: account.name.clone(),
            }
        }
    }
}

/// The timeline's line for a failed refresh.
fn failure_event(
    account: &Account,
    record: &FailureRecord,
    request: &Request,
    elapsed_ms: i64,
    now: UnixTime,
) -> NewEvent {
    let armed = request.armed();
    let verdict = &record.verdict;
    let mut event = NewEvent::new(now, Some(account), EventKind::Refresh, Outcome::Failed);
    event.duration_ms = Some(elapsed_ms);
    event.code = verdict.primary_code.map(|c| format!("AADSTS{c}"));
    event.error.clone_from(&verdict.error);
    event.suberror.clone_from(&verdict.suberror);
    event.trace_id.clone_from(&verdict.trace_id);
    // The provider's echo when it answered; else the id that was sent.
    event.correlation_id = verdict
        .correlation_id
        .clone()
        .or_else(|| armed.is_none().then(|| request.request_id.clone()));
    event.category = Some(verdict.category);
    let note = match armed {
        Some(_) => format!(" ({})", crate::armed::ARMED_NOTE),
        None => String::new(),
    };
    event.message = Some(format!("{}{note}", verdict.title));
    event
}
