//! One refresh, done right: exactly one at a time per account across
//! threads (an in-process single-flight) and processes (the account's
//! refresh lock), re-reading the stored tokens once the lock is held,
//! persisting the new set through the one guarded write path before the lock
//! is released and before anyone gets an answer, and recording every attempt.
//!
//! [`Engine::obtain`] reads as the design: answer without a request if
//! possible ([`crate::prepare`]), lock and re-read, attempt, then settle the
//! success or the failure ([`crate::settle`]).
//!
//! A resource's claims challenge ([`Engine::token_for_challenge`]) takes the
//! same path, except that no held token answers it: the refresh is always
//! sent, with the challenge in its `claims` parameter.

use std::sync::atomic::Ordering;

use reconnect_core::claims::Challenge;
use reconnect_core::secret::AccessToken;
use reconnect_core::tokens::{TokenSet, UnixTime};
use serde::Serialize;

use crate::engine::{Engine, SlotState};
use crate::error::EngineError;
use crate::prepare::{Locked, Ready};

/// Why a refresh is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Someone needs an access token valid for at least `margin` more
    /// seconds; refresh only if the held one is not.
    Token {
        /// Seconds the token must still be valid for.
        margin: i64,
    },
    /// `reconnect refresh`: refresh now; `force` also tries a stopped account.
    Explicit {
        /// Try even if the account is marked broken.
        force: bool,
    },
    /// The scheduler's keep-alive or retry.
    Background,
    /// Someone needs an access token that satisfies a resource's claims
    /// challenge: no held token does, so a refresh is always sent.
    Challenge,
}

impl Mode {
    /// Whether someone is waiting for an access token.
    pub(crate) fn wants_token(self) -> bool {
        matches!(self, Self::Token { .. } | Self::Challenge)
    }

    /// Whether a held (or freshly stored) token may answer instead of a
    /// request of this caller's own.
    pub(crate) fn may_reuse(self) -> bool {
        !matches!(self, Self::Challenge)
    }

    /// How long a held access token must stay valid to answer.
    pub(crate) fn margin(self) -> i64 {
        match self {
            Self::Token { margin } => margin,
            Self::Explicit { .. } | Self::Background | Self::Challenge => 0,
        }
    }
}

/// What a caller of [`Engine::token`] asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenRequest {
    /// Refresh first unless the access token stays valid this much longer;
    /// `None` uses the engine's margin (five minutes by default).
    pub min_ttl: Option<std::time::Duration>,
}

/// A valid access token and the facts a consumer needs with it.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The token itself.
    pub access_token: AccessToken,
    /// When it expires, if the provider said.
    pub expires_at: Option<UnixTime>,
    /// The scopes granted, space-separated.
    pub scope: String,
    /// Whether the tokens in use are only in memory (the keychain refused
    /// them); see [`RefreshOutcome::unsaved_credentials`].
    pub unsaved_credentials: bool,
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
    /// Whether those unsaved tokens include a new refresh token and the
    /// stored one may then stop working: every provider but Microsoft Entra
    /// ID (which keeps earlier refresh tokens of a grant valid); providers
    /// with reuse detection revoke the whole grant when an old one comes back.
    pub unsaved_rotation: bool,
}

impl Engine {
    /// A valid access token for the account `name`, refreshing first if it
    /// expires within the configured margin.
    ///
    /// When the provider rotated the refresh token and the keychain refused
    /// the new one, no token is given ([`EngineError::Unsaved`]): using it
    /// would let the only copy of the new grant die with this process. The
    /// exception is Microsoft Entra ID, which keeps earlier refresh tokens of
    /// a grant valid; the caller learns of it from
    /// [`Engine::has_unsaved_credentials`].
    pub async fn access_token(&self, name: &str) -> Result<AccessToken, EngineError> {
        Ok(self
            .token(name, TokenRequest::default())
            .await?
            .access_token)
    }

    /// Like [`Engine::access_token`], with the token's expiry and scopes,
    /// refreshing first unless it stays valid for `request.min_ttl`.
    pub async fn token(
        &self,
        name: &str,
        request: TokenRequest,
    ) -> Result<IssuedToken, EngineError> {
        let margin = request
            .min_ttl
            .map_or(self.inner.config.refresh_margin, |d| {
                i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
            });
        let obtained = self.obtain(name, Mode::Token { margin }).await?;
        issued(name, obtained)
    }

    /// A new access token that answers a resource's claims challenge (the
    /// `claims` of its `WWW-Authenticate: … error="insufficient_claims"`):
    /// the held token is skipped and the account refreshed with the
    /// challenge merged into the request's `claims`.
    ///
    /// When the provider refuses (say the challenge asks for MFA the grant
    /// lacks), the failure is recorded like any other (an account that needs
    /// a reconnect becomes "reconnect needed") and keeps the challenge, the
    /// provider's own when it sent one, else this one, so the next sign-in
    /// carries it.
    pub async fn token_for_challenge(
        &self,
        name: &str,
        challenge: &Challenge,
    ) -> Result<IssuedToken, EngineError> {
        let obtained = self
            .obtain_with(name, Mode::Challenge, Some(challenge))
            .await?;
        issued(name, obtained)
    }

    /// Refreshes the account now. With `force`, also an account marked
    /// "reconnect needed", "needs admin" or "app misconfigured" is tried
    /// (an identical failing request is still never repeated within 60 s).
    pub async fn refresh(&self, name: &str, force: bool) -> Result<RefreshOutcome, EngineError> {
        Ok(self.obtain(name, Mode::Explicit { force }).await?.1)
    }

    /// Gets a token set for `mode`: from memory or the keychain when that
    /// answers, else by one refresh under the account's lock.
    pub(crate) async fn obtain(
        &self,
        name: &str,
        mode: Mode,
    ) -> Result<(TokenSet, RefreshOutcome), EngineError> {
        self.obtain_with(name, mode, None).await
    }

    /// [`Engine::obtain`], passing a resource's claims `challenge` (if any)
    /// with the refresh.
    pub(crate) async fn obtain_with(
        &self,
        name: &str,
        mode: Mode,
        challenge: Option<&Challenge>,
    ) -> Result<(TokenSet, RefreshOutcome), EngineError> {
        let slot = self.slot(name);
        let seen = slot.generation.load(Ordering::SeqCst);
        let mut state = slot.state.lock().await;
        let snap = match self
            .without_request(name, &slot, &mut state, mode, seen)
            .await?
        {
            Ready::Done(done) => return Ok(done),
            Ready::Send(snap) => snap,
        };
        let (lock, snap) = match self.lock_and_reread(&slot, &mut state, mode, snap).await? {
            Locked::Done(done) => return Ok(done),
            Locked::Restart => {
                drop(state);
                return Box::pin(self.obtain_with(name, mode, challenge)).await;
            }
            Locked::Held(lock, snap) => (lock, snap),
        };
        let request = self.begin(&mut state, *snap, mode, challenge).await?;
        let answer = self.send(&state, &request).await;
        let settled = match answer {
            Ok(answer) => match answer.result {
                Ok(response) => {
                    let elapsed = answer.elapsed_ms;
                    self.on_success(&slot, &mut state, &request, response, elapsed)
                        .await
                }
                Err(err) => Err(self
                    .on_failure(&mut state, &request, &err, answer.elapsed_ms)
                    .await),
            },
            Err(err) => Err(err),
        };
        drop(lock);
        match settled {
            // A reconnect replaced the grant while our request was in
            // flight: whoever wants a token gets one from the new grant.
            Err(EngineError::Superseded { .. }) if mode.wants_token() => {
                drop(state);
                Box::pin(self.obtain_with(name, mode, challenge)).await
            }
            other => other,
        }
    }
}

/// What [`Engine::token`] gives for an obtained set: its access token and
/// facts, unless the new tokens exist only in memory and the stored refresh
/// token may already be dead.
fn issued(
    name: &str,
    (tokens, outcome): (TokenSet, RefreshOutcome),
) -> Result<IssuedToken, EngineError> {
    if outcome.unsaved_rotation {
        return Err(EngineError::Unsaved {
            name: name.to_owned(),
        });
    }
    let access_token = tokens
        .access_token
        .ok_or_else(|| EngineError::NotConnected {
            name: name.to_owned(),
        })?;
    Ok(IssuedToken {
        access_token,
        expires_at: tokens.access_expires_at,
        scope: tokens.scope,
        unsaved_credentials: outcome.unsaved_credentials,
    })
}

/// Returns the tokens held in memory when they already answer the request.
pub(crate) fn reuse(
    state: &SlotState,
    mode: Mode,
    now: UnixTime,
    refreshed_meanwhile: bool,
) -> Option<(TokenSet, RefreshOutcome)> {
    let tokens = state.tokens.as_ref()?;
    let usable = match mode {
        Mode::Token { margin } => tokens.access_valid_for(now, margin),
        Mode::Explicit { .. } | Mode::Background => {
            refreshed_meanwhile && tokens.access_valid_for(now, 0)
        }
        Mode::Challenge => false,
    };
    usable.then(|| {
        (
            tokens.clone(),
            RefreshOutcome {
                sent: false,
                access_expires_at: tokens.access_expires_at,
                unsaved_credentials: state.unsaved.is_some(),
                unsaved_rotation: state.unsaved.as_ref().is_some_and(|u| u.old_may_fail),
            },
        )
    })
}
