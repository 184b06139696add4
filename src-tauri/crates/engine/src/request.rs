//! Sending one refresh request: finding the account's token endpoint
//! (Microsoft by convention, OpenID Connect by discovery) and redeeming the
//! refresh token there, with the request's `claims` and `client-request-id`
//! (and cross-origin for a single-page app's refresh token).
//! What comes back is left to the caller to record.

use reconnect_core::secret::RefreshToken;
use reconnect_oauth::endpoints::{ProviderEndpoints, ProviderMetadata};
use reconnect_oauth::{Redemption, SPA_ORIGIN, TokenError, TokenResponse};
use reconnect_store::{Account, Provider};
use url::Url;

use crate::engine::{Engine, SlotState};
use crate::error::EngineError;
use crate::prepare::Request;

impl Engine {
    /// Sends the refresh request (after finding the token endpoint). The
    /// outer error is a local problem; the inner one is the endpoint's answer.
    pub(crate) async fn send_refresh(
        &self,
        state: &SlotState,
        refresh_token: &RefreshToken,
        request: &Request,
    ) -> Result<Result<TokenResponse, TokenError>, EngineError> {
        let account = &request.snap.account;
        match self.token_endpoint(account).await {
            Ok(endpoint) => {
                // Ask for the account's configured scopes: the granted scope
                // list that comes back often omits `offline_access`, and
                // without it no new refresh token would be issued.
                let scope = match account.scope_string() {
                    s if !s.is_empty() => s,
                    _ => state
                        .tokens
                        .as_ref()
                        .map(|t| t.scope.clone())
                        .unwrap_or_default(),
                };
                // A single-page app's refresh token (an imported one) is
                // redeemed cross-origin, as Entra requires of it.
                let spa = request.snap.facts.as_ref().is_some_and(|f| f.spa);
                let how = Redemption {
                    claims: request.claims.as_deref(),
                    request_id: &request.request_id,
                    origin: spa.then_some(SPA_ORIGIN),
                };
                Ok(self
                    .inner
                    .http
                    .refresh_with(&endpoint, &account.client_id, refresh_token, &scope, &how)
                    .await)
            }
            Err(EngineError::Endpoints {
                source: reconnect_oauth::endpoints::EndpointError::Fetch(fetch),
                ..
            }) => Ok(Err(fetch_as_token_error(fetch))),
            Err(other) => Err(other),
        }
    }

    /// Where the account's token endpoint is.
    async fn token_endpoint(&self, account: &Account) -> Result<Url, EngineError> {
        let bad = |source| EngineError::Endpoints {
            name: account.name.clone(),
            source,
        };
        let base = Url::parse(&account.authority).map_err(|_| {
            bad(reconnect_oauth::endpoints::EndpointError::BadBase(
                account.authority.clone(),
            ))
        })?;
        match account.provider {
            Provider::Microsoft => {
                let tenant = account.tenant.as_deref().unwrap_or("organizations");
                Ok(ProviderEndpoints::microsoft(&base, tenant)
                    .map_err(bad)?
                    .token)
            }
            Provider::Oidc => Ok(ProviderMetadata::discover(&self.inner.http, &base)
                .await
                .map_err(bad)?
                .token_endpoint),
        }
    }
}

/// A failed discovery request counts as a transport failure of the refresh.
fn fetch_as_token_error(fetch: reconnect_oauth::FetchError) -> reconnect_oauth::TokenError {
    match fetch {
        reconnect_oauth::FetchError::Transport { kind, source, .. } => {
            reconnect_oauth::TokenError::Transport { kind, source }
        }
        other => reconnect_oauth::TokenError::InvalidSuccess {
            reason: format!("OpenID discovery failed: {other}"),
        },
    }
}
