//! The steps of a refresh before its answer: answering without a request
//! when memory or the keychain already has a valid token, taking the
//! account's refresh lock and re-reading what another process may have
//! stored meanwhile, checking policy, and sending (or standing in for) the
//! token request with its `claims` (the client capabilities Reconnect
//! declares to Microsoft, merged with a resource's challenge if any).

use std::sync::atomic::Ordering;
use std::time::Instant;

use reconnect_core::claims::{self, Challenge};
use reconnect_core::decode::Verdict;
use reconnect_core::health::{self, Health, HealthEvent};
use reconnect_core::policy::Streak;
use reconnect_core::secret::RefreshToken;
use reconnect_core::tokens::{TokenSet, UnixTime};
use reconnect_oauth::{TokenError, TokenResponse};
use reconnect_store::lock::{self, AccountLock};
use reconnect_store::{Account, Provider, TokenFacts};

use crate::engine::{Engine, Slot, SlotState};
use crate::error::EngineError;
use crate::hooks::PausePoint;
use crate::records;
use crate::refresh::{Mode, RefreshOutcome, reuse};
use crate::snapshot::Snapshot;

/// What the steps before the lock found.
pub(crate) enum Ready {
    /// The request is answered without a refresh.
    Done((TokenSet, RefreshOutcome)),
    /// A refresh is needed; this is what the database said.
    Send(Box<Snapshot>),
}

/// What the steps under the lock found.
pub(crate) enum Locked {
    /// Another process refreshed meanwhile; its tokens answer.
    Done((TokenSet, RefreshOutcome)),
    /// The keychain and its facts disagreed: start over.
    Restart,
    /// The lock is held and a refresh is due; the state re-read under it.
    Held(AccountLock, Box<Snapshot>),
}

/// What stands in for the token request of one refresh.
pub(crate) enum Attempt {
    /// A failure a tester armed: nothing is sent, the keychain is not read.
    Armed(u32),
    /// The refresh token, sent to the token endpoint.
    Send(RefreshToken),
}

/// One refresh about to be sent, with everything settling it needs.
pub(crate) struct Request {
    pub snap: Snapshot,
    /// The health before the attempt, and during it.
    pub before: Health,
    pub started: Health,
    pub attempt: Attempt,
    /// The `write_seq` of the stored set this refresh replaces.
    pub basis: i64,
    pub fingerprint: String,
    /// The `client-request-id` sent, kept with the attempt's event so an
    /// admin can find the request in the provider's sign-in logs.
    pub request_id: String,
    /// The `claims` parameter sent.
    pub claims: Option<String>,
    /// The resource's claims challenge this refresh answers, if any.
    pub challenge: Option<Challenge>,
}

impl Request {
    /// The failure code a tester armed, if this attempt stands in for one.
    pub fn armed(&self) -> Option<u32> {
        match self.attempt {
            Attempt::Armed(code) => Some(code),
            Attempt::Send(_) => None,
        }
    }

    /// The decoder's verdict on this refresh's failure. A refusal that
    /// names no claims challenge of its own keeps the resource's, so the
    /// sign-in that fixes the account asks for what the resource wants; its
    /// next steps name the account's own sign-in host.
    pub fn verdict(&self, err: &TokenError, now: UnixTime) -> Verdict {
        let mut verdict = err.verdict(now);
        if verdict.claims_challenge.is_none() {
            verdict.claims_challenge = self.challenge.as_ref().map(Challenge::to_json);
        }
        // Next steps name the host this account signs in at.
        match url::Url::parse(&self.snap.account.authority) {
            Ok(authority) => match authority.host_str() {
                Some(host) => verdict.at_authority(host),
                None => verdict,
            },
            Err(_) => verdict,
        }
    }
}

/// A refused claims challenge earns no "retry once": the automatic retry
/// would not carry the challenge, so its success would only hide (and its
/// record drop) what the resource asked for. Counted as already retried,
/// a failure a reconnect fixes stops at "reconnect needed" straight away.
fn no_retry_for_a_challenge(mode: Mode, started: Health) -> Health {
    match (mode, started) {
        (Mode::Challenge, Health::Refreshing { streak, recovering }) => Health::Refreshing {
            streak: Streak {
                reconnect: streak.reconnect.max(1),
                ..streak
            },
            recovering,
        },
        (_, other) => other,
    }
}

/// The `claims` parameter of a refresh of `account`: the client
/// capabilities for Microsoft (OpenID providers do not know them), merged
/// with `challenge`.
fn claims_for(account: &Account, challenge: Option<&Challenge>) -> Option<String> {
    let capabilities = match account.provider {
        Provider::Microsoft => claims::CLIENT_CAPABILITIES,
        Provider::Oidc => &[],
    };
    claims::claims_parameter(challenge, capabilities)
}

/// The token endpoint's answer and how long it took.
pub(crate) struct Answer {
    pub result: Result<(TokenResponse, RefreshToken), TokenError>,
    pub elapsed_ms: i64,
}

fn stored_valid(facts: Option<&TokenFacts>, margin: i64, now: UnixTime) -> bool {
    facts
        .and_then(|f| f.access_expires_at)
        .is_some_and(|exp| exp - margin > now)
}

impl Engine {
    /// Answers from memory or from a still-valid stored token, or says that
    /// a refresh is needed (after checking policy allows one).
    pub(crate) async fn without_request(
        &self,
        name: &str,
        slot: &Slot,
        state: &mut SlotState,
        mode: Mode,
        seen: u64,
    ) -> Result<Ready, EngineError> {
        let margin = mode.margin();
        let refreshed_meanwhile = seen != slot.generation.load(Ordering::SeqCst);
        if let Some(done) = reuse(state, mode, self.now(), refreshed_meanwhile) {
            return Ok(Ready::Done(done));
        }
        let snap = self.snapshot(name).await?;
        let valid = stored_valid(snap.facts.as_ref(), margin, self.now());
        if mode.wants_token() && mode.may_reuse() && state.unsaved.is_none() && valid {
            state.tokens = self.read_tokens(&snap.account).await?;
            if let Some(done) = reuse(state, mode, self.now(), false) {
                return Ok(Ready::Done(done));
            }
        }
        self.gate(&snap, mode, self.now())?;
        Ok(Ready::Send(Box::new(snap)))
    }

    /// Takes the account's refresh lock and re-reads: another process may
    /// have refreshed (or failed) while this one waited.
    pub(crate) async fn lock_and_reread(
        &self,
        slot: &Slot,
        state: &mut SlotState,
        mode: Mode,
        before: Box<Snapshot>,
    ) -> Result<Locked, EngineError> {
        let name = before.account.name.clone();
        let path = lock::lock_path(self.inner.home.dir(), &name);
        let timeout = self.inner.config.lock_timeout;
        let held = tokio::task::spawn_blocking(move || lock::acquire(&path, timeout)).await??;
        self.inner.hooks.at(PausePoint::Locked).await;
        let snap = self.snapshot(&name).await?;
        if snap.facts == before.facts || state.unsaved.is_some() {
            return Ok(Locked::Held(held, Box::new(snap)));
        }
        let usable = match mode {
            Mode::Token { margin } => stored_valid(snap.facts.as_ref(), margin, self.now()),
            Mode::Explicit { .. } | Mode::Background => true,
            // Another process's token was not asked with this challenge.
            Mode::Challenge => false,
        };
        if !usable {
            return Ok(Locked::Held(held, Box::new(snap)));
        }
        // Its result is in the keychain: use it (the lock is not needed to read).
        drop(held);
        state.tokens = self.read_tokens(&snap.account).await?;
        slot.generation.fetch_add(1, Ordering::SeqCst);
        match reuse(state, mode, self.now(), !mode.wants_token()) {
            Some(done) => Ok(Locked::Done(done)),
            // The facts no longer change, so the next pass refreshes under the lock.
            None => Ok(Locked::Restart),
        }
    }

    /// Checks policy under the lock, picks what is sent, and marks the
    /// account as refreshing.
    pub(crate) async fn begin(
        &self,
        state: &mut SlotState,
        snap: Snapshot,
        mode: Mode,
        challenge: Option<&Challenge>,
    ) -> Result<Request, EngineError> {
        let now = self.now();
        let (before, _) = self.gate(&snap, mode, now)?;
        let armed = self.take_armed(&snap.account.name);
        let attempt = match armed {
            Some(code) => Attempt::Armed(code),
            None => Attempt::Send(self.refresh_token(state, &snap).await?),
        };
        let started = health::transition(
            &self.inner.config.retry,
            before,
            HealthEvent::RefreshStarted,
            now,
        )
        .0;
        let started = no_retry_for_a_challenge(mode, started);
        self.apply(&snap.account.name, before, started, &[]);
        let fingerprint = match armed {
            Some(code) => format!("armed|{code}|{now}"),
            None => records::fingerprint(&snap.account, snap.facts.as_ref()),
        };
        let stored_seq = snap.facts.as_ref().map_or(0, |f| f.write_seq);
        let basis = state.unsaved.as_ref().map_or(stored_seq, |u| u.base);
        Ok(Request {
            claims: claims_for(&snap.account, challenge),
            challenge: challenge.cloned(),
            snap,
            before,
            started,
            attempt,
            basis,
            fingerprint,
            request_id: reconnect_oauth::client::new_request_id(),
        })
    }

    /// The refresh token to redeem: the unsaved one held in memory, else the
    /// stored one (one keychain read).
    async fn refresh_token(
        &self,
        state: &mut SlotState,
        snap: &Snapshot,
    ) -> Result<RefreshToken, EngineError> {
        if state.unsaved.is_none() || state.tokens.is_none() {
            state.tokens = self.read_tokens(&snap.account).await?;
        }
        state
            .tokens
            .as_ref()
            .and_then(|t| t.refresh_token.clone())
            .ok_or_else(|| EngineError::NotConnected {
                name: snap.account.name.clone(),
            })
    }

    /// Sends the request (or answers for an armed failure) and times it.
    pub(crate) async fn send(
        &self,
        state: &SlotState,
        request: &Request,
    ) -> Result<Answer, EngineError> {
        let clock = Instant::now();
        let result = match &request.attempt {
            Attempt::Armed(code) => Err(crate::armed::endpoint_answer(*code)),
            Attempt::Send(token) => self
                .send_refresh(state, token, request)
                .await?
                .map(|response| (response, token.clone())),
        };
        let elapsed_ms = i64::try_from(clock.elapsed().as_millis()).unwrap_or(i64::MAX);
        self.inner.hooks.at(PausePoint::Response).await;
        Ok(Answer { result, elapsed_ms })
    }
}
