//! The authorization-code sign-in over a loopback redirect, shared by the
//! browser on this machine ([`Signin::run`]) and the pasted redirect
//! ([`crate::PasteSignin`]): prepare the attempt (provider, PKCE, listener,
//! authorize URL), wait for the answer (the listener, a pasted address, the
//! timeout or cancel), and redeem it (a decoded error, the RFC 9207 `iss`
//! check, the code exchange with the same `claims` as the authorize request),
//! then hand the tokens to the shared completion.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use reconnect_core::decode::{self, AuthorizeError};
use reconnect_oauth::client::CodeRedemption;
use url::Url;

use crate::browser::Launched;
use crate::error::SigninError;
use crate::flow::{Progress, Provider, Signin, SigninOptions, claims_for};
use crate::identity::KnownUser;
use crate::loopback::{Callback, Loopback};
use crate::page::Page;
use crate::request::{AttemptSecrets, AuthorizeParams, authorize_url};
use crate::store::AccountSettings;
use crate::store::ProviderKind;

/// How long the result page waits for the browser after the outcome.
const PAGE_GRACE: Duration = Duration::from_secs(3);

/// A second source of the answer besides the listener: the address the
/// browser ended on, pasted by the user (`None` once the input closed).
pub(crate) type PastedAnswer<'f> =
    Pin<Box<dyn Future<Output = Option<Result<Callback, SigninError>>> + Send + 'f>>;

/// One prepared redirect sign-in: the listener runs and the URL is known.
#[derive(Debug)]
pub(crate) struct RedirectAttempt {
    pub(crate) settings: AccountSettings,
    pub(crate) provider: Provider,
    pub(crate) secrets: AttemptSecrets,
    pub(crate) listener: Loopback,
    pub(crate) redirect_uri: String,
    pub(crate) url: Url,
    /// The `claims` parameter, sent with the authorize request and again
    /// with the code exchange (Entra wants the client capabilities, and any
    /// challenge, on every token request too).
    pub(crate) claims: Option<String>,
    pub(crate) started: Instant,
}

impl Signin<'_> {
    /// Finds the provider, starts the listener and builds the authorize URL.
    pub(crate) async fn prepare_redirect(
        &self,
        settings: AccountSettings,
        options: &SigninOptions,
        started: Instant,
    ) -> Result<RedirectAttempt, SigninError> {
        let provider = self.provider(&settings, &options.cancel).await?;
        let secrets = AttemptSecrets::generate();
        let mut loopback = settings.loopback.clone();
        if let Some(port) = options.port {
            loopback.ports = Some(port..=port);
        }
        let listener = Loopback::start(&loopback, secrets.state.clone()).await?;
        let redirect_uri = listener.redirect_uri().to_owned();
        (self.progress)(&Progress::Listening {
            redirect_uri: redirect_uri.clone(),
        });
        let claims = claims_for(&settings);
        let params = AuthorizeParams {
            client_id: settings.client_id.clone(),
            scope: settings.scope.clone(),
            redirect_uri: redirect_uri.clone(),
            // Hinting the current user would defeat an explicit account switch.
            login_hint: settings
                .owner
                .upn
                .clone()
                .filter(|_| !options.select_account),
            domain_hint: settings.domain_hint.clone(),
            claims: claims.clone(),
            select_account: options.select_account,
            // Entra issues refresh tokens without it and would show its
            // consent page at every sign-in; OpenID providers need it.
            consent: settings.provider == ProviderKind::Oidc
                && settings
                    .scope
                    .split_whitespace()
                    .any(|s| s.eq_ignore_ascii_case("offline_access")),
        };
        let url = authorize_url(&provider.endpoints.authorize, &params, &secrets);
        Ok(RedirectAttempt {
            settings,
            provider,
            secrets,
            listener,
            redirect_uri,
            url,
            claims,
            started,
        })
    }

    /// The browser way: open the URL, wait, redeem, show the result page.
    pub(crate) async fn browser_attempt(
        &self,
        settings: &AccountSettings,
        options: &SigninOptions,
        started: Instant,
    ) -> Result<KnownUser, SigninError> {
        let mut attempt = self
            .prepare_redirect(settings.clone(), options, started)
            .await?;
        let url = attempt.url.to_string();
        // A browser that cannot be opened does not end the sign-in: the link
        // still works when the user opens it by hand.
        let launched = self.browser.open(&attempt.url);
        (self.progress)(&Progress::BrowserOpened {
            url: url.clone(),
            browser: self.browser.describe(),
            timeout: options.timeout,
            claims_challenge: settings.claims_challenge.is_some(),
        });
        let launched = match launched {
            Ok(launched) => Some(launched),
            Err(err) => {
                (self.progress)(&Progress::BrowserFailed {
                    url: url.clone(),
                    reason: crate::error::chain_of(&err),
                });
                None
            }
        };
        let browser_failed = |status: String| {
            (self.progress)(&Progress::BrowserFailed {
                url: url.clone(),
                reason: format!("{} exited with {status}", self.browser.describe()),
            });
        };
        let callback = wait_for_callback(
            &mut attempt.listener,
            launched,
            None,
            options,
            &browser_failed,
        )
        .await?;
        self.redeem_and_show(attempt, callback).await
    }

    /// Redeems the answer, shows the result on the listener's page and
    /// tears the listener down.
    pub(crate) async fn redeem_and_show(
        &self,
        attempt: RedirectAttempt,
        callback: Callback,
    ) -> Result<KnownUser, SigninError> {
        let result = self.redeem(&attempt, callback).await;
        let page = match &result {
            Ok(user) => Page::signed_in(&user.describe()),
            Err(e) => Page::failed(e.title(), &e.to_string()),
        };
        attempt.listener.finish(page, PAGE_GRACE).await;
        result
    }

    async fn redeem(
        &self,
        attempt: &RedirectAttempt,
        callback: Callback,
    ) -> Result<KnownUser, SigninError> {
        let (code, iss) = match callback {
            Callback::Code { code, iss } => (code, iss),
            Callback::Error {
                error,
                description,
                subcode,
                uri,
            } => {
                let verdict = decode::decode_authorize_error(&AuthorizeError {
                    error: &error,
                    error_description: description.as_deref(),
                    error_subcode: subcode.as_deref(),
                    error_uri: uri.as_deref(),
                });
                return Err(SigninError::Refused(Box::new(verdict)));
            }
        };
        check_iss(attempt.provider.validator.metadata(), iss)?;
        (self.progress)(&Progress::Exchanging);
        let settings = &attempt.settings;
        let redemption = CodeRedemption {
            code: &code,
            verifier: &attempt.secrets.verifier,
            redirect_uri: &attempt.redirect_uri,
        };
        let response = self
            .client
            .exchange_code(
                &attempt.provider.endpoints.token,
                &settings.client_id,
                &redemption,
                &settings.scope,
                attempt.claims.as_deref(),
            )
            .await
            .map_err(|source| SigninError::Exchange {
                verdict: Box::new(source.verdict(self.client.now())),
                source,
            })?;
        self.complete(
            settings,
            &attempt.provider,
            response,
            Some(&attempt.secrets.nonce),
            attempt.started,
        )
        .await
    }
}

/// Waits for the answer: the listener's callback, or a pasted one. A
/// watched browser command that ends with a failure is reported through
/// `browser_failed` and the wait goes on (the link can still be opened by
/// hand); a pasted source that closes leaves the listener waiting.
pub(crate) async fn wait_for_callback(
    listener: &mut Loopback,
    launched: Option<Launched>,
    pasted: Option<PastedAnswer<'_>>,
    options: &SigninOptions,
    browser_failed: &(dyn Fn(String) + Sync),
) -> Result<Callback, SigninError> {
    let deadline = tokio::time::sleep(options.timeout);
    tokio::pin!(deadline);
    let mut browser_exit = match launched {
        Some(Launched::Watched(rx)) => Some(rx),
        Some(Launched::Detached) | None => None,
    };
    let mut pasted = pasted;
    loop {
        tokio::select! {
            cb = listener.callback() => return Ok(cb?),
            () = options.cancel.cancelled() => return Err(SigninError::Cancelled),
            () = &mut deadline => return Err(SigninError::TimedOut(options.timeout)),
            answer = async { pasted.as_mut().expect("guarded").await }, if pasted.is_some() => {
                match answer {
                    Some(answer) => return answer,
                    None => pasted = None,
                }
            }
            exit = async { browser_exit.as_mut().expect("guarded").await }, if browser_exit.is_some() => {
                browser_exit = None;
                match exit {
                    Ok(Ok(status)) if status.success() => {
                        tracing::debug!("the browser command finished; still waiting for the redirect");
                    }
                    Ok(Ok(status)) => browser_failed(status.to_string()),
                    Ok(Err(e)) => browser_failed(e.to_string()),
                    Err(_) => {}
                }
            }
        }
    }
}

/// RFC 9207: an authorization response's `iss` must name the account's
/// issuer (a multi-tenant template filled with one tenant), and a provider
/// that says it sends `iss` must have sent it (a mix-up otherwise).
pub(crate) fn check_iss(
    meta: &reconnect_oauth::ProviderMetadata,
    iss: Option<String>,
) -> Result<(), SigninError> {
    match iss {
        Some(found) if !meta.names_issuer(&found) => Err(SigninError::WrongIssuer {
            expected: meta.issuer.clone(),
            found,
        }),
        None if meta.authorization_response_iss_parameter_supported => {
            Err(SigninError::MissingIssuer {
                expected: meta.issuer.clone(),
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(issuer: &str, says_it_sends_iss: bool) -> reconnect_oauth::ProviderMetadata {
        serde_json::from_value(serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": "https://idp.test/authorize",
            "token_endpoint": "https://idp.test/token",
            "jwks_uri": "https://idp.test/keys",
            "authorization_response_iss_parameter_supported": says_it_sends_iss,
        }))
        .expect("metadata")
    }

    #[test]
    fn the_answers_iss_is_checked_and_required_where_promised() {
        let entra = meta("https://login.test/{tenantid}/v2.0", false);
        let tenant = "https://login.test/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0";
        assert!(check_iss(&entra, Some(tenant.into())).is_ok());
        assert!(check_iss(&entra, None).is_ok(), "Entra sends no iss");
        assert!(matches!(
            check_iss(&entra, Some("https://evil.test/x/v2.0".into())),
            Err(SigninError::WrongIssuer { .. })
        ));
        let peer = meta("https://idp.test", true);
        assert!(check_iss(&peer, Some("https://idp.test".into())).is_ok());
        assert!(matches!(
            check_iss(&peer, None),
            Err(SigninError::MissingIssuer { .. })
        ));
    }
}
