//! One refresh, done right: exactly one at a time per account across
//! threads (an in-process single-flight) and processes (the account's lock
//! file), re-reading the stored tokens once the lock is held, persisting the
//! new set (vault first, then metadata) before the lock is released and
//! before anyone gets an answer, and recording every attempt.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use reconnect_core::health::{self, Health, HealthAction, HealthEvent};
use reconnect_core::secret::{AccessToken, RefreshToken};
use reconnect_core::tokens::{TokenSet, UnixTime};
use reconnect_store::events::{kind, outcome};
use reconnect_store::{NewEvent, TokenFacts};
use serde::Serialize;

use crate::engine::{Engine, SlotState};
use crate::error::EngineError;
use crate::failure::{FailureRecord, verdict_of};
use crate::hooks::PausePoint;
use crate::lock;
use crate::notify::EngineEvent;
use crate::records;

/// Why a refresh is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Someone needs a valid access token; refresh only if it is (nearly) expired.
    Token,
    /// `reconnect refresh`: refresh now; `force` also tries a stopped account.
    Explicit {
        /// Try even if the account is marked broken.
        force: bool,
    },
    /// The scheduler's keep-alive or retry.
    Background,
}

/// What a call to [`Engine::refresh`] achieved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefreshOutcome {
    /// Whether this call sent the refresh itself. `false` when another
    /// caller or process refreshed while this one waited, or none was needed.
    pub sent: bool,
    /// When the access token now held expires.
    pub access_expires_at: Option<UnixTime>,
    /// Whether the new tokens are only in memory (the keychain refused them).
    pub unsaved_credentials: bool,
}

/// What stands in for the token request of one refresh.
enum Attempt {
    /// A failure a tester armed: nothing is sent, the keychain is not read.
    Armed(u32),
    /// The stored refresh token, sent to the token endpoint.
    Send(RefreshToken),
}

impl Engine {
    /// A valid access token for the account `name`, refreshing first if it
    /// expires within the configured margin.
    pub async fn access_token(&self, name: &str) -> Result<AccessToken, EngineError> {
        let (tokens, _) = self.obtain(name, Mode::Token).await?;
        tokens
            .access_token
            .ok_or_else(|| EngineError::NotConnected {
                name: name.to_owned(),
            })
    }

    /// Refreshes the account now. With `force`, also an account marked
    /// "reconnect needed", "needs admin" or "app misconfigured" is tried
    /// (an identical failing request is still never repeated within 60 s).
    pub async fn refresh(&self, name: &str, force: bool) -> Result<RefreshOutcome, EngineError> {
        Ok(self.obtain(name, Mode::Explicit { force }).await?.1)
    }

    pub(crate) async fn obtain(
        &self,
        name: &str,
        mode: Mode,
    ) -> Result<(TokenSet, RefreshOutcome), EngineError> {
        let slot = self.slot(name);
        let seen = slot.generation.load(Ordering::SeqCst);
        let mut state = slot.state.lock().await;
        let margin = self.inner.config.refresh_margin;

        // Fast paths: a valid token in memory, or somebody refreshed while we queued.
        if let Some(done) = reuse(
            &state,
            mode,
            margin,
            self.now(),
            seen != slot.generation.load(Ordering::SeqCst),
        ) {
            return Ok(done);
        }

        let snap = self.snapshot(name).await?;
        let stored_valid = |facts: &Option<TokenFacts>, now: UnixTime| {
            facts
                .as_ref()
                .and_then(|f| f.access_expires_at)
                .is_some_and(|exp| exp - margin > now)
        };
        // The stored access token is still good: read it (one keychain read).
        if mode == Mode::Token && !state.unsaved && stored_valid(&snap.facts, self.now()) {
            state.tokens = self.read_tokens(&snap.account).await?;
            if let Some(done) = reuse(&state, mode, margin, self.now(), false) {
                return Ok(done);
            }
        }
        self.gate(&snap, mode, self.now())?;

        // One refresh at a time across processes.
        let path = lock::lock_path(self.inner.home.dir(), name);
        let timeout = self.inner.config.lock_timeout;
        let lock = tokio::task::spawn_blocking(move || lock::acquire(&path, timeout)).await??;
        self.inner.hooks.at(PausePoint::Locked).await;

        // Another process may have refreshed (or failed) while we waited.
        let snap_locked = self.snapshot(name).await?;
        if snap_locked.facts != snap.facts && !state.unsaved {
            let usable = match mode {
                Mode::Token => stored_valid(&snap_locked.facts, self.now()),
                Mode::Explicit { .. } | Mode::Background => true,
            };
            if usable {
                // Its result is in the vault: use it (the lock is not needed to read).
                drop(lock);
                state.tokens = self.read_tokens(&snap_locked.account).await?;
                slot.generation.fetch_add(1, Ordering::SeqCst);
                if let Some(done) = reuse(&state, mode, margin, self.now(), mode != Mode::Token) {
                    return Ok(done);
                }
                // The vault disagrees with its facts: start over (the facts
                // no longer change, so the next pass refreshes under the lock).
                drop(state);
                return Box::pin(self.obtain(name, mode)).await;
            }
        }
        let now = self.now();
        let (health, _) = self.gate(&snap_locked, mode, now)?;
        // A failure armed for testing stands in for the request: nothing is
        // sent and the keychain is not read.
        let attempt = match self.take_armed(name) {
            Some(code) => Attempt::Armed(code),
            None => {
                if !state.unsaved || state.tokens.is_none() {
                    state.tokens = self.read_tokens(&snap_locked.account).await?;
                }
                let Some(token) = state.tokens.as_ref().and_then(|t| t.refresh_token.clone())
                else {
                    return Err(EngineError::NotConnected {
                        name: name.to_owned(),
                    });
                };
                Attempt::Send(token)
            }
        };
        let armed = match attempt {
            Attempt::Armed(code) => Some(code),
            Attempt::Send(_) => None,
        };

        let account = &snap_locked.account;
        let started = health::transition(
            &self.inner.config.retry,
            health,
            HealthEvent::RefreshStarted,
            now,
        )
        .0;
        self.announce(name, health, started, &[]);
        let fingerprint = match armed {
            Some(code) => format!("armed|{code}|{now}"),
            None => records::fingerprint(account, snap_locked.facts.as_ref()),
        };
        let clock = Instant::now();
        let result = match attempt {
            Attempt::Armed(code) => Err(crate::armed::endpoint_answer(code)),
            Attempt::Send(token) => self
                .send_refresh(account, &state, &token)
                .await?
                .map(|response| (response, token)),
        };
        let elapsed = i64::try_from(clock.elapsed().as_millis()).unwrap_or(i64::MAX);
        self.inner.hooks.at(PausePoint::Response).await;
        let now = self.now();

        match result {
            Ok((response, refresh_token)) => {
                let spa = response.refresh_token_expires_in.is_some();
                let mut fresh = response.tokens;
                if fresh.refresh_token.is_none() {
                    fresh.refresh_token = Some(refresh_token.clone());
                }
                if fresh.scope.is_empty() {
                    fresh.scope = state
                        .tokens
                        .as_ref()
                        .map(|t| t.scope.clone())
                        .unwrap_or_default();
                }
                let rotated = fresh.refresh_token.as_ref() != Some(&refresh_token);
                let old = snap_locked.facts.clone().unwrap_or_default();
                let facts = TokenFacts {
                    access_expires_at: fresh.access_expires_at,
                    refresh_issued_at: old.refresh_issued_at.or(Some(now)),
                    refresh_last_used_at: Some(now),
                    rotation_count: old.rotation_count.saturating_add(u32::from(rotated)),
                    spa: old.spa || spa,
                    stored_at: now,
                };
                let saved = self.put_tokens(account, &fresh).await;
                self.inner.hooks.at(PausePoint::VaultWritten).await;

                let (healthy, actions) = health::transition(
                    &self.inner.config.retry,
                    started,
                    HealthEvent::RefreshSucceeded,
                    now,
                );
                let forecast = records::forecast_for(
                    &self.inner.config,
                    Some(&facts),
                    &snap_locked.learned,
                    now,
                );
                let (to, more) = health::transition(
                    &self.inner.config.retry,
                    healthy,
                    HealthEvent::ForecastChanged {
                        expiring_deadline: forecast.expiring_deadline,
                    },
                    now,
                );
                let mut event = NewEvent::new(now, Some(account), kind::REFRESH, outcome::OK);
                event.duration_ms = Some(elapsed);
                event.message = Some(match &saved {
                    Ok(()) if rotated => "refreshed; new refresh token stored".to_owned(),
                    Ok(()) => "refreshed".to_owned(),
                    Err(e) => format!(
                        "refreshed, but the keychain refused the new tokens (kept in memory, unsaved credentials): {e}"
                    ),
                });
                let store = Arc::clone(&self.inner.store);
                let id = account.id;
                let write_facts = saved.is_ok();
                let state_name = to.name();
                let written = tokio::task::spawn_blocking(move || {
                    store.write(|tx| {
                        if write_facts {
                            tx.set_token_facts(id, &facts)?;
                        }
                        tx.set_health(id, state_name, None)?;
                        tx.append_event(&event)?;
                        Ok(())
                    })
                })
                .await?;
                if let Err(e) = written {
                    tracing::warn!(account = name, error = %e, "could not record the refresh in the database");
                }
                self.inner.hooks.at(PausePoint::MetadataWritten).await;

                let access_expires_at = fresh.access_expires_at;
                state.tokens = Some(fresh.clone());
                state.unsaved = saved.is_err();
                state.unsaved_base = if saved.is_err() {
                    snap_locked.facts.clone()
                } else {
                    None
                };
                slot.generation.fetch_add(1, Ordering::SeqCst);
                let mut all = actions;
                // Still expiring soon after a refresh (a fixed lifetime): no
                // second notice for the same deadline.
                let was_expiring = matches!(health, Health::ExpiringSoon { .. });
                all.extend(more.into_iter().filter(|a| {
                    !(was_expiring
                        && *a == HealthAction::Notify(reconnect_core::health::Notice::ExpiringSoon))
                }));
                state.last_health = Some(to);
                self.announce(name, health, to, &all);
                if saved.is_err() {
                    self.emit(EngineEvent::UnsavedCredentials {
                        account: name.to_owned(),
                    });
                }
                Ok((
                    fresh,
                    RefreshOutcome {
                        sent: true,
                        access_expires_at,
                        unsaved_credentials: saved.is_err(),
                    },
                ))
            }
            Err(err) => {
                let verdict = verdict_of(&err, now);
                let mut record = FailureRecord::new(&verdict, now, fingerprint);
                let (to, actions) = health::transition(
                    &self.inner.config.retry,
                    started,
                    HealthEvent::RefreshFailed {
                        class: record.class,
                        jitter_fraction: (self.inner.jitter)(),
                    },
                    now,
                );
                if let Health::Retrying {
                    next_attempt,
                    streak,
                } = to
                {
                    record.next_attempt = Some(next_attempt);
                    record.streak = streak;
                }
                // An armed failure reveals nothing about the real lifetimes.
                if armed.is_none() {
                    self.learn(
                        account,
                        &verdict,
                        snap_locked.facts.as_ref(),
                        snap_locked.learned.clone(),
                        now,
                    );
                }
                let mut event = NewEvent::new(now, Some(account), kind::REFRESH, outcome::FAILED);
                event.duration_ms = Some(elapsed);
                event.code = verdict.primary_code.map(|c| format!("AADSTS{c}"));
                event.error.clone_from(&verdict.error);
                event.suberror.clone_from(&verdict.suberror);
                event.trace_id.clone_from(&verdict.trace_id);
                event.correlation_id.clone_from(&verdict.correlation_id);
                let note = match armed {
                    Some(_) => format!(" ({})", crate::armed::ARMED_NOTE),
                    None => String::new(),
                };
                event.message = Some(format!(
                    "{}{note} [{}]",
                    verdict.title,
                    verdict.category.as_str()
                ));
                let store = Arc::clone(&self.inner.store);
                let id = account.id;
                let failure_json = records::failure_json(&to, Some(&record));
                let state_name = to.name();
                let written = tokio::task::spawn_blocking(move || {
                    store.write(|tx| {
                        tx.set_health(id, state_name, failure_json.as_ref())?;
                        tx.append_event(&event)?;
                        Ok(())
                    })
                })
                .await?;
                if let Err(e) = written {
                    tracing::warn!(account = name, error = %e, "could not record the failed refresh in the database");
                }
                state.last_health = Some(to);
                self.announce(name, health, to, &actions);
                self.check_spikes(now).await;
                Err(EngineError::Refresh {
                    name: name.to_owned(),
                    failure: Box::new(record),
                })
            }
        }
    }
}

/// Returns the tokens held in memory when they already answer the request.
fn reuse(
    state: &SlotState,
    mode: Mode,
    margin: i64,
    now: UnixTime,
    refreshed_meanwhile: bool,
) -> Option<(TokenSet, RefreshOutcome)> {
    let tokens = state.tokens.as_ref()?;
    let usable = match mode {
        Mode::Token => tokens.access_valid_for(now, margin),
        Mode::Explicit { .. } | Mode::Background => {
            refreshed_meanwhile && tokens.access_valid_for(now, 0)
        }
    };
    usable.then(|| {
        (
            tokens.clone(),
            RefreshOutcome {
                sent: false,
                access_expires_at: tokens.access_expires_at,
                unsaved_credentials: state.unsaved,
            },
        )
    })
}
