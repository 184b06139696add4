//! The interactive sign-in, start to finish: resolve the provider, start the
//! loopback listener, open the browser, wait (bounded by a timeout and a
//! cancel handle), exchange the code, validate the id_token, check it is the
//! same user, and store the result. Every path tears the listener down.

use std::time::{Duration, Instant};

use reconnect_core::decode::{self, AuthorizeError};
use reconnect_oauth::endpoints::{EndpointError, ProviderEndpoints};
use reconnect_oauth::{IdTokenError, IdTokenValidator, ProviderMetadata, TokenClient};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::browser::{Browser, Launched};
use crate::claims;
use crate::error::{Outcome, SigninError};
use crate::identity::{KnownUser, same_user};
use crate::loopback::{Callback, Loopback};
use crate::page::Page;
use crate::request::{AttemptSecrets, AuthorizeParams, authorize_url};
use crate::store::{AccountSettings, Connected, FailedAttempt, ProviderKind, SigninStore};

/// The default time to wait for the browser.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

/// How long the result page waits for the browser after the outcome.
const PAGE_GRACE: Duration = Duration::from_secs(3);

/// What one sign-in should do.
#[derive(Debug, Clone)]
pub struct SigninOptions {
    /// Give up after this long without an answer.
    pub timeout: Duration,
    /// Ask the provider to show its account picker.
    pub select_account: bool,
    /// Cancels the sign-in (the app's button, Ctrl-C).
    pub cancel: CancellationToken,
}

impl Default for SigninOptions {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            select_account: false,
            cancel: CancellationToken::new(),
        }
    }
}

/// Progress reported while signing in.
#[derive(Debug, Clone)]
pub enum Progress {
    /// Listening for the redirect.
    Listening {
        /// The redirect URI.
        redirect_uri: String,
    },
    /// The browser was asked to open this URL.
    BrowserOpened {
        /// The authorize URL (no secret in it: PKCE sends only the challenge).
        url: String,
        /// Which browser.
        browser: String,
        /// How long Reconnect waits.
        timeout: Duration,
        /// Whether a claims challenge is being passed.
        claims_challenge: bool,
    },
    /// The browser could not be opened (it failed to start, or its command
    /// ended with a failure). The sign-in keeps waiting: the user can open
    /// `url` in a browser themselves.
    BrowserFailed {
        /// The authorize URL to open by hand.
        url: String,
        /// What went wrong, in words.
        reason: String,
    },
    /// The browser came back; tokens are being fetched.
    Exchanging,
}

/// The collaborators of a sign-in, injectable for tests.
pub struct Signin<'a> {
    /// The token client.
    pub client: &'a TokenClient,
    /// How the URL reaches the user.
    pub browser: &'a dyn Browser,
    /// Where settings come from and results go.
    pub store: &'a dyn SigninStore,
    /// Progress sink.
    pub progress: &'a (dyn Fn(&Progress) + Send + Sync),
}

impl std::fmt::Debug for Signin<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signin")
            .field("browser", &self.browser.describe())
            .finish_non_exhaustive()
    }
}

struct Provider {
    endpoints: ProviderEndpoints,
    validator: IdTokenValidator,
}

impl Signin<'_> {
    /// Runs the sign-in for `account`. On success the tokens are stored and
    /// the account is healthy; on failure nothing of the connection changes
    /// and the attempt is recorded.
    pub async fn run(
        &self,
        account: &str,
        options: &SigninOptions,
    ) -> Result<KnownUser, SigninError> {
        let started = Instant::now();
        let settings = self.store.settings(account).map_err(SigninError::Store)?;
        let result = self.attempt(&settings, options, started).await;
        if let Err(err) = &result {
            let attempt = self.failed_attempt(err, started);
            if let Err(e) = self.store.attempt_failed(account, &attempt) {
                tracing::warn!("could not record the failed sign-in: {e}");
            }
        }
        result
    }

    fn failed_attempt(&self, err: &SigninError, started: Instant) -> FailedAttempt {
        let verdict = err.verdict();
        FailedAttempt {
            at: self.client.now(),
            duration_ms: elapsed_ms(started),
            cancelled: err.outcome() == Outcome::Cancelled,
            code: verdict
                .and_then(|v| v.primary_code)
                .map(|c| format!("AADSTS{c}")),
            error: verdict.and_then(|v| v.error.clone()),
            suberror: verdict.and_then(|v| v.suberror.clone()),
            trace_id: verdict.and_then(|v| v.trace_id.clone()),
            correlation_id: verdict.and_then(|v| v.correlation_id.clone()),
            message: err.chain(),
        }
    }

    async fn provider(&self, settings: &AccountSettings) -> Result<Provider, SigninError> {
        let base = Url::parse(&settings.authority).map_err(|_| {
            SigninError::Provider(EndpointError::BadBase(settings.authority.clone()))
        })?;
        let (endpoints, meta) = match settings.provider {
            ProviderKind::Microsoft => {
                let tenant = settings.tenant.as_deref().unwrap_or("organizations");
                let endpoints =
                    ProviderEndpoints::microsoft(&base, tenant).map_err(SigninError::Provider)?;
                let meta = ProviderMetadata::fetch(self.client, &endpoints.discovery, None)
                    .await
                    .map_err(SigninError::Provider)?;
                (endpoints, meta)
            }
            ProviderKind::Oidc => {
                let meta = ProviderMetadata::discover(self.client, &base)
                    .await
                    .map_err(SigninError::Provider)?;
                let discovery =
                    ProviderEndpoints::oidc_discovery_url(&base).map_err(SigninError::Provider)?;
                (meta.endpoints(discovery), meta)
            }
        };
        let validator = IdTokenValidator::fetch(self.client, meta)
            .await
            .map_err(SigninError::Keys)?;
        Ok(Provider {
            endpoints,
            validator,
        })
    }

    async fn attempt(
        &self,
        settings: &AccountSettings,
        options: &SigninOptions,
        started: Instant,
    ) -> Result<KnownUser, SigninError> {
        let provider = tokio::select! {
            p = self.provider(settings) => p?,
            () = options.cancel.cancelled() => return Err(SigninError::Cancelled),
        };
        let secrets = AttemptSecrets::generate();
        let mut listener = Loopback::start(&settings.loopback, secrets.state.clone()).await?;
        let redirect_uri = listener.redirect_uri().to_owned();
        (self.progress)(&Progress::Listening {
            redirect_uri: redirect_uri.clone(),
        });

        let capabilities: &[&str] = if settings.provider == ProviderKind::Microsoft {
            claims::CLIENT_CAPABILITIES
        } else {
            &[]
        };
        let claims = match claims::merge(settings.claims_challenge.as_deref(), capabilities) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("ignoring the stored claims challenge: {e}");
                claims::merge(None, capabilities).unwrap_or(None)
            }
        };
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
            claims,
            select_account: options.select_account,
        };
        let url = authorize_url(&provider.endpoints.authorize, &params, &secrets);
        // A browser that cannot be opened does not end the sign-in: the link
        // still works when the user opens it by hand.
        let launched = self.browser.open(&url);
        (self.progress)(&Progress::BrowserOpened {
            url: url.to_string(),
            browser: self.browser.describe(),
            timeout: options.timeout,
            claims_challenge: settings.claims_challenge.is_some(),
        });
        let launched = match launched {
            Ok(launched) => Some(launched),
            Err(err) => {
                (self.progress)(&Progress::BrowserFailed {
                    url: url.to_string(),
                    reason: crate::error::chain_of(&err),
                });
                None
            }
        };

        let callback = wait_for_callback(&mut listener, launched, options, &|status: String| {
            (self.progress)(&Progress::BrowserFailed {
                url: url.to_string(),
                reason: format!("{} exited with {status}", self.browser.describe()),
            });
        })
        .await?;
        let result = self
            .complete(
                settings,
                &provider,
                &secrets,
                &redirect_uri,
                callback,
                started,
            )
            .await;
        let page = match &result {
            Ok(user) => Page::signed_in(&user.describe()),
            Err(e) => Page::failed(e.title(), &e.to_string()),
        };
        listener.finish(page, PAGE_GRACE).await;
        result
    }

    async fn complete(
        &self,
        settings: &AccountSettings,
        provider: &Provider,
        secrets: &AttemptSecrets,
        redirect_uri: &str,
        callback: Callback,
        started: Instant,
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
        if let Some(found) = iss {
            let meta = provider.validator.metadata();
            let ok = meta.issuer.contains("{tenantid}")
                || found.trim_end_matches('/') == meta.issuer.trim_end_matches('/');
            if !ok {
                return Err(SigninError::WrongIssuer {
                    expected: meta.issuer.clone(),
                    found,
                });
            }
        }
        (self.progress)(&Progress::Exchanging);
        let response = self
            .client
            .exchange_code(
                &provider.endpoints.token,
                &settings.client_id,
                &code,
                &secrets.verifier,
                redirect_uri,
                &settings.scope,
            )
            .await
            .map_err(|source| SigninError::Exchange {
                verdict: Box::new(source.verdict(self.client.now())),
                source,
            })?;
        let id_token = response.id_token().ok_or(SigninError::NoIdToken)?;
        let now = self.client.now();
        let claims =
            match provider
                .validator
                .validate(id_token, &settings.client_id, &secrets.nonce, now)
            {
                Err(IdTokenError::UnknownKey(_)) => {
                    // Keys rotate: fetch them once more before refusing.
                    let fresh =
                        IdTokenValidator::fetch(self.client, provider.validator.metadata().clone())
                            .await
                            .map_err(SigninError::Keys)?;
                    fresh.validate(id_token, &settings.client_id, &secrets.nonce, now)
                }
                other => other,
            }
            .map_err(SigninError::IdToken)?;
        let user = KnownUser::from_claims(&claims);
        if !same_user(
            &settings.owner,
            &user,
            settings.provider == ProviderKind::Microsoft,
        ) {
            return Err(SigninError::WrongAccount {
                signed_in: user.describe(),
                owner: settings.owner.describe(),
            });
        }
        let connected = Connected {
            user: user.clone(),
            response,
            at: now,
            duration_ms: elapsed_ms(started),
        };
        self.store
            .connected(&settings.name, &connected)
            .map_err(SigninError::Store)?;
        Ok(user)
    }
}

fn elapsed_ms(started: Instant) -> i64 {
    i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX)
}

/// Waits for the redirect. A watched browser command that ends with a
/// failure is reported through `browser_failed` and the wait goes on (the
/// link can still be opened by hand).
async fn wait_for_callback(
    listener: &mut Loopback,
    launched: Option<Launched>,
    options: &SigninOptions,
    browser_failed: &(dyn Fn(String) + Sync),
) -> Result<Callback, SigninError> {
    let deadline = tokio::time::sleep(options.timeout);
    tokio::pin!(deadline);
    let mut browser_exit = match launched {
        Some(Launched::Watched(rx)) => Some(rx),
        Some(Launched::Detached) | None => None,
    };
    loop {
        tokio::select! {
            cb = listener.callback() => return Ok(cb?),
            () = options.cancel.cancelled() => return Err(SigninError::Cancelled),
            () = &mut deadline => return Err(SigninError::TimedOut(options.timeout)),
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
